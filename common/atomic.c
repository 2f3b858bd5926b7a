/*
 * atomic.c: atomic file replacement.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "crashpoint.h"
#include "log.h"

int
atomic_fsync_parent(const char *path)
{
	char dir[PATH_MAX], *slash;
	int fd, rc;

	if ((size_t)snprintf(dir, sizeof(dir), "%s", path) >= sizeof(dir))
		return -1;
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
atomic_write_at(int dfd, const char *name, const char *shown,
    const void *buf, size_t len, mode_t mode, char *err, size_t errlen)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[8];
	char tmp[NAME_MAX + 1], point[64];
	const char *p = buf;
	size_t off = 0, n0;
	ssize_t n;
	int fd = -1, i, j;

	if ((n0 = strlen(name)) == 0 || n0 + 1 + sizeof(rnd) > NAME_MAX ||
	    strchr(name, '/') != NULL) {
		errfmt(err, errlen, "%s: not a usable file name", shown);
		return -1;
	}
	/* mkstemp in dfd: O_EXCL and O_NOFOLLOW, so nothing planted is
	 * opened, and a random name nobody can guess ahead. */
	for (i = 0; i < 100 && fd == -1; i++) {
		if (getentropy(rnd, sizeof(rnd)) == -1) {
			errfmt(err, errlen, "%s: getentropy: %s", shown,
			    strerror(errno));
			return -1;
		}
		memcpy(tmp, name, n0);
		tmp[n0] = '.';
		for (j = 0; j < (int)sizeof(rnd); j++)
			tmp[n0 + 1 + j] = abc[rnd[j] % (sizeof(abc) - 1)];
		tmp[n0 + 1 + sizeof(rnd)] = '\0';
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd == -1 && errno != EEXIST) {
			errfmt(err, errlen, "%s: %s", shown, strerror(errno));
			return -1;
		}
	}
	if (fd == -1) {
		errfmt(err, errlen, "%s: no free temporary name", shown);
		return -1;
	}
	errno = 0;
	if (fchmod(fd, mode) == -1)
		goto fail;
	while (off < len) {
		n = write(fd, p + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	/* Written in full, not yet in place. */
	snprintf(point, sizeof(point), "atomic:%s", name);
	crashpoint(point);
	if (renameat(dfd, tmp, dfd, name) == -1)
		goto fail;
	(void)fsync(dfd);
	return 0;
fail:
	errfmt(err, errlen, "%s: %s", shown, strerror(errno != 0 ? errno :
	    EIO));
	if (fd != -1)
		close(fd);
	(void)unlinkat(dfd, tmp, 0);
	return -1;
}

int
atomic_write(const char *path, const void *buf, size_t len, mode_t mode,
    char *err, size_t errlen)
{
	char dir[PATH_MAX], *slash;
	const char *base;
	int dfd, rc;

	if ((size_t)snprintf(dir, sizeof(dir), "%s", path) >= sizeof(dir)) {
		errfmt(err, errlen, "%s: path too long", path);
		return -1;
	}
	if ((slash = strrchr(dir, '/')) == NULL) {
		snprintf(dir, sizeof(dir), ".");
		base = path;
	} else {
		base = path + (slash - dir) + 1;
		if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		errfmt(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = atomic_write_at(dfd, base, path, buf, len, mode, err, errlen);
	close(dfd);
	return rc;
}
