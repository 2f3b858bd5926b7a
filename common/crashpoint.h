/*
 * crashpoint.h: named points where tlsa-rollover changes DNS, state or
 * deployed files, for the crash tests (tests/integration/9x-crash*.t).
 *
 * Test-only switches, read from the environment, and only in the test
 * build (compiled with -DTLSA_TEST_HOOKS: $(B)/test/ in the Makefile):
 *   TLSA_ROLLOVER_CRASH_AT=NAME    SIGKILL this process at point NAME
 *   TLSA_ROLLOVER_CRASH_TRACE=FILE append every point reached to FILE
 * In the release build (make, make install) a point does nothing: the
 * installed binary, running as root, must not let its environment kill
 * it mid-step or append to any file it names.
 */
#ifndef CRASHPOINT_H
#define CRASHPOINT_H

void crashpoint(const char *name);

/*
 * For the unit tests, in both builds: fn (NULL: none) is called with
 * the name at every point reached, before the switches above.  Only
 * code can set it, never the environment, so the release build stays
 * as safe as it was: tests/unit/test_machine.c records the points and
 * stops a forked child at each one, as a SIGKILL would.
 */
void crashpoint_set_hook(void (*fn)(const char *name));

#endif
