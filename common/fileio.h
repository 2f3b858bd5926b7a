/*
 * fileio.h: bounded, careful reading of input files.
 */
#ifndef COMMON_FILEIO_H
#define COMMON_FILEIO_H

#include <stddef.h>

/*
 * Read the whole of path (or standard input for "-") into a new buffer,
 * refusing anything that is not a regular file (directories, devices,
 * FIFOs other than stdin) and anything larger than maxlen bytes.  The
 * buffer gets a NUL byte after the data (not counted in *lenp).
 * Returns 0 and sets *bufp (caller frees) and *lenp, or -1 with a
 * one-line reason in err (without the file name).
 */
int read_file_bounded(const char *path, size_t maxlen, unsigned char **bufp,
    size_t *lenp, char *err, size_t errlen);

#endif
