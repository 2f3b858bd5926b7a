/*
 * atomic.h: replace a file so that a reader sees the old contents or the
 * new, never a mix, and a crash leaves one of the two: a temporary file
 * in the same directory, fchmod, write, fsync, rename, fsync of the
 * directory.
 */
#ifndef COMMON_ATOMIC_H
#define COMMON_ATOMIC_H

#include <sys/types.h>

#include <stddef.h>

/*
 * Write buf to path atomically with the given mode.  The path itself is
 * replaced, never followed: a symlink planted at path is replaced too.
 * Returns 0 or -1 with a reason naming path.
 */
int atomic_write(const char *path, const void *buf, size_t len, mode_t mode,
    char *err, size_t errlen);

/*
 * The same for the entry name (no slash) in the directory open at dfd:
 * the temporary file is made there with O_EXCL | O_NOFOLLOW, renamed
 * with renameat, and dfd is fsynced; nothing is looked up by a path
 * that someone could change meanwhile.  shown names the file in err.
 */
int atomic_write_at(int dfd, const char *name, const char *shown,
    const void *buf, size_t len, mode_t mode, char *err, size_t errlen);

/* fsync the directory holding path (after a rename into it). */
int atomic_fsync_parent(const char *path);

#endif
