/*
 * fileio.c: reading input files with a size bound and type checks.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"

int
read_file_bounded(const char *path, size_t maxlen, unsigned char **bufp,
    size_t *lenp, char *err, size_t errlen)
{
	struct stat st;
	unsigned char *buf = NULL, *nbuf;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd = -1, rc = -1, is_stdin = strcmp(path, "-") == 0;

	*bufp = NULL;
	*lenp = 0;
	if (is_stdin)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK)) == -1) {
		errfmt(err, errlen, "%s", strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		errfmt(err, errlen, "%s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		errfmt(err, errlen, "is a directory");
		goto out;
	}
	if (!is_stdin && !S_ISREG(st.st_mode)) {
		errfmt(err, errlen, "not a regular file");
		goto out;
	}
	if (S_ISREG(st.st_mode) && (size_t)st.st_size > maxlen) {
		errfmt(err, errlen, "file too large (%lld bytes, limit %zu)",
		    (long long)st.st_size, maxlen);
		goto out;
	}
	if (!is_stdin) {
		/* Regular file: blocking reads from here on. */
		int fl = fcntl(fd, F_GETFL);
		if (fl != -1)
			(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	}
	for (;;) {
		if (len == cap) {
			if (cap > maxlen) {
				errfmt(err, errlen,
				    "file too large (limit %zu bytes)", maxlen);
				goto out;
			}
			cap = cap == 0 ? 8192 : cap * 2;
			if (cap > maxlen + 1)
				cap = maxlen + 1;
			if ((nbuf = realloc(buf, cap + 1)) == NULL) {
				errfmt(err, errlen, "out of memory");
				goto out;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			errfmt(err, errlen, "%s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > maxlen) {
			errfmt(err, errlen, "file too large (limit %zu bytes)",
			    maxlen);
			goto out;
		}
	}
	if (buf == NULL && (buf = malloc(1)) == NULL) {
		errfmt(err, errlen, "out of memory");
		goto out;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	buf = NULL;
	rc = 0;
out:
	if (fd != -1 && !is_stdin)
		close(fd);
	free(buf);
	return rc;
}

int
dir_is_ours(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int e;

	if (lstat(dir, &st) == -1) {
		e = errno;
		errfmt(err, errlen, "%s: %s", dir, strerror(e));
		errno = e;
		return -1;
	}
	errno = 0;
	if (!S_ISDIR(st.st_mode)) {
		errfmt(err, errlen, "%s: not a directory (a symlink is refused: "
		    "give the real path)", dir);
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
		errfmt(err, errlen, "%s: must be owned by uid %ld and not "
		    "writable by group or others", dir, (long)geteuid());
		return -1;
	}
	return 0;
}
