/*
 * fileio.h: bounded, careful reading of input files.
 */
#ifndef COMMON_FILEIO_H
#define COMMON_FILEIO_H

#include <sys/types.h>
#include <sys/stat.h>

#include <stddef.h>

/*
 * Read the whole of path (or standard input for "-") into a new buffer,
 * refusing anything that is not a regular file (directories, devices,
 * FIFOs other than stdin) and anything larger than maxlen bytes.  The
 * buffer gets a NUL byte after the data (not counted in *lenp).
 * Returns 0 and sets *bufp (caller frees) and *lenp, or -1 with a
 * one-line reason in err (without the file name).
 */
int fileio_read_bounded(const char *path, size_t maxlen, unsigned char **bufp,
    size_t *lenp, char *err, size_t errlen);

/*
 * Is dir a real directory (not a symlink someone could plant), owned
 * by this process's effective uid and not writable by group or others?
 * 0, or -1 with a reason naming dir (errno ENOENT kept for a caller that
 * creates it).
 */
int fileio_dir_is_ours(const char *dir, char *err, size_t errlen);

/* Is st owned by root or by this process's effective uid? */
int fileio_owner_ok(const struct stat *st);

/* "uid N (name)" or "uid N" into buf, for messages; returns buf. */
const char *fileio_owner_name(uid_t uid, char *buf, size_t len);

/*
 * path (symlinks followed) is owned by root or the effective uid: a
 * secret (what: "TSIG key file", "private key file") that another user
 * owns is that user's to change or swap.  0, or -1 with "PATH: WHAT is
 * owned by uid N (name), not root or uid E".
 */
int fileio_owner_check(const char *path, const char *what, char *err,
    size_t errlen);

/*
 * Could anyone but root and us change what path names?  The policy
 * (like Postfix safe_open, kept strict): path is resolved (symlinks
 * followed; a part that does not exist yet is dropped, it is to be
 * made under the rest), and every directory above it up to / must be
 * owned by root or the effective uid and have no group or other write
 * bit, except a sticky directory (/tmp), where others may add entries
 * but not rename or remove ours.  0, or -1 with a one-line reason that
 * names the directory, its owner or mode, and path.
 */
int fileio_parents_trusted(const char *path, char *err, size_t errlen);

/*
 * path (what: "configuration file", ...) is owned by root or the
 * effective uid, not writable by group or others, and its parents pass
 * fileio_parents_trusted.  0, or -1 with a one-line reason naming path.
 */
int fileio_file_trusted(const char *path, const char *what, char *err,
    size_t errlen);

#endif
