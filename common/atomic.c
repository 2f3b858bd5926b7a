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
fsync_parent(const char *path)
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
atomic_write(const char *path, const void *buf, size_t len, mode_t mode,
    char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	const char *p = buf;
	size_t off = 0;
	ssize_t n;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    sizeof(tmp)) {
		errfmt(err, errlen, "%s: path too long", path);
		return -1;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		errfmt(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
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
	{
		const char *base = strrchr(path, '/');
		char point[64];

		/* Written in full, not yet in place. */
		snprintf(point, sizeof(point), "atomic:%s",
		    base != NULL ? base + 1 : path);
		crashpoint(point);
	}
	if (rename(tmp, path) == -1)
		goto fail;
	(void)fsync_parent(path);
	return 0;
fail:
	errfmt(err, errlen, "%s: %s", path, strerror(errno != 0 ? errno : EIO));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return -1;
}
