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

/*
 * Is dir a real directory (not a symlink someone could plant), owned
 * by this process's effective uid and not writable by group or others?
 * 0, or -1 with a reason naming dir (errno ENOENT kept for a caller that
 * creates it).
 */
int dir_is_ours(const char *dir, char *err, size_t errlen);

#endif
