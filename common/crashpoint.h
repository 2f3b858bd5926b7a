/*
 * crashpoint.h: named points where tlsa-rollover changes DNS, state or
 * deployed files, for the crash tests (tests/integration/9x-crash*.t).
 *
 * Test-only switches, read from the environment:
 *   TLSA_ROLLOVER_CRASH_AT=NAME    SIGKILL this process at point NAME
 *   TLSA_ROLLOVER_CRASH_TRACE=FILE append every point reached to FILE
 * Without them a point costs one getenv.
 */
#ifndef CRASHPOINT_H
#define CRASHPOINT_H

void crashpoint(const char *name);

#endif
