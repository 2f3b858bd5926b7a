/*
 * fileio.c: reading input files with a size bound and type checks.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"

int
fileio_read_bounded(const char *path, size_t maxlen, unsigned char **bufp,
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
fileio_dir_is_ours(const char *dir, char *err, size_t errlen)
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

int
fileio_owner_ok(const struct stat *st)
{
	return st->st_uid == 0 || st->st_uid == geteuid();
}

const char *
fileio_owner_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL && pw->pw_name != NULL)
		snprintf(buf, len, "uid %ld (%s)", (long)uid, pw->pw_name);
	else
		snprintf(buf, len, "uid %ld", (long)uid);
	return buf;
}

int
fileio_owner_check(const char *path, const char *what, char *err,
    size_t errlen)
{
	struct stat st;
	char who[64];

	if (stat(path, &st) == -1) {
		errfmt(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!fileio_owner_ok(&st)) {
		errfmt(err, errlen, "%s: %s is owned by %s, not root or uid %ld",
		    path, what, fileio_owner_name(st.st_uid, who, sizeof(who)),
		    (long)geteuid());
		return -1;
	}
	return 0;
}

/* One directory above what we trust: ours or root's, and only we may
 * change its entries (no group/other write unless sticky). */
static int
parent_ok(const char *dir, const char *what, char *err, size_t errlen)
{
	struct stat st;
	char who[64];

	if (stat(dir, &st) == -1) {
		errfmt(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		errfmt(err, errlen, "%s: not a directory", dir);
		return -1;
	}
	if (!fileio_owner_ok(&st)) {
		errfmt(err, errlen, "%s: directory above %s is owned by %s, "
		    "not root or uid %ld", dir, what, fileio_owner_name(
		    st.st_uid, who, sizeof(who)), (long)geteuid());
		return -1;
	}
	if ((st.st_mode & 022) != 0 && (st.st_mode & S_ISVTX) == 0) {
		errfmt(err, errlen, "%s: directory above %s is writable by "
		    "group or others (mode %04o), who could replace it",
		    dir, what, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/*
 * Every directory that the absolute path names on its way (each proper
 * prefix that exists) passes parent_ok(), and every symlink among its
 * components is owned by root or us.
 */
static int
lexical_ok(const char *path, char *err, size_t errlen)
{
	char pre[PATH_MAX], who[64];
	struct stat st;
	size_t i, n = strlen(path);

	if (n >= sizeof(pre)) {
		errfmt(err, errlen, "%s: not a usable path", path);
		return -1;
	}
	if (parent_ok("/", path, err, errlen) == -1)
		return -1;
	for (i = 1; i <= n; i++) {
		if (i < n && path[i] != '/')
			continue;
		memcpy(pre, path, i);
		pre[i] = '\0';
		if (lstat(pre, &st) == -1)
			return 0;	/* the rest is still to be made */
		if (S_ISLNK(st.st_mode)) {
			if (!fileio_owner_ok(&st)) {
				errfmt(err, errlen, "%s: symlink on the way to "
				    "%s is owned by %s, not root or uid %ld",
				    pre, path, fileio_owner_name(st.st_uid,
				    who, sizeof(who)), (long)geteuid());
				return -1;
			}
			continue;
		}
		if (i < n && S_ISDIR(st.st_mode) && parent_ok(pre, path, err,
		    errlen) == -1)
			return -1;
	}
	return 0;
}

int
fileio_parents_trusted(const char *path, char *err, size_t errlen)
{
	char buf[PATH_MAX], real[PATH_MAX], *slash;
	size_t n;
	int missing = 0;

	/*
	 * The nearest part of path that exists, with every symlink
	 * resolved: what a later open by name will reach (a directory
	 * that is still to be made is made under it).
	 */
	if ((n = strlen(path)) == 0 || n >= sizeof(buf)) {
		errfmt(err, errlen, "%s: not a usable path", path);
		return -1;
	}
	memcpy(buf, path, n + 1);
	while (realpath(buf, real) == NULL) {
		if (errno != ENOENT || (slash = strrchr(buf, '/')) == NULL) {
			errfmt(err, errlen, "%s: %s", buf, strerror(errno));
			return -1;
		}
		if (slash == buf)
			slash[1] = '\0';
		else
			*slash = '\0';
		missing = 1;
	}
	/* What is missing will be made in real: it is a parent too. */
	if (missing && parent_ok(real, path, err, errlen) == -1)
		return -1;
	/*
	 * The path as given, too: a directory that holds a symlink on the
	 * way is not on the resolved path, yet whoever may write it can
	 * point the link elsewhere; and the link's owner can replace it.
	 */
	if (path[0] == '/' && lexical_ok(path, err, errlen) == -1)
		return -1;
	/* Every directory above it, up to and including /. */
	for (;;) {
		if ((slash = strrchr(real, '/')) == NULL)
			break;
		if (slash == real) {
			if (real[1] == '\0')
				break;		/* "/" itself: done below */
			real[1] = '\0';
		} else
			*slash = '\0';
		if (parent_ok(real, path, err, errlen) == -1)
			return -1;
		if (strcmp(real, "/") == 0)
			break;
	}
	return 0;
}

int
fileio_file_trusted(const char *path, const char *what, char *err,
    size_t errlen)
{
	struct stat st;

	if (fileio_owner_check(path, what, err, errlen) == -1)
		return -1;
	if (stat(path, &st) == -1) {
		errfmt(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((st.st_mode & 022) != 0) {
		errfmt(err, errlen, "%s: %s is writable by group or others "
		    "(mode %04o); chmod go-w it", path, what,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return fileio_parents_trusted(path, err, errlen);
}
