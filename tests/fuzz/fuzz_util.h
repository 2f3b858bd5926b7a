/*
 * fuzz_util.h: helpers shared by the libFuzzer targets under tests/fuzz.
 *
 * Targets that read a path (the YAML config, the state file, the TSIG
 * key file) get their input written to a file in one private temporary
 * directory, made once per process and removed at exit.  Nothing is
 * written anywhere else.
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* The private temporary directory (mkdtemp under $TMPDIR or /tmp). */
const char *fuzz_tmpdir(void);

/*
 * Write data to fuzz_tmpdir()/name (replacing it), mode 0600.  Returns
 * the full path (static buffer, valid until the next call); aborts on
 * failure, which is a fault of the harness, not of the code under test.
 */
const char *fuzz_write(const char *name, const uint8_t *data, size_t len);

/* A NUL-terminated copy of data (caller frees). */
char *fuzz_strndup(const uint8_t *data, size_t len);

#endif
