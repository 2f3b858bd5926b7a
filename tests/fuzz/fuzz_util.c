/*
 * fuzz_util.c: temporary files for the fuzz targets.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"

static char tmpdir[PATH_MAX];

/* Remove the directory tree under path (regular files and directories). */
static void
rm_tree(const char *path)
{
	char sub[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
				rm_tree(sub);
			else
				unlink(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

static void
cleanup(void)
{
	if (tmpdir[0] != '\0')
		rm_tree(tmpdir);
}

const char *
fuzz_tmpdir(void)
{
	const char *t;

	if (tmpdir[0] != '\0')
		return tmpdir;
	if ((t = getenv("TMPDIR")) == NULL || *t == '\0')
		t = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/tlsa-fuzz.XXXXXX", t);
	if (mkdtemp(tmpdir) == NULL) {
		perror("fuzz: mkdtemp");
		abort();
	}
	atexit(cleanup);
	return tmpdir;
}

const char *
fuzz_write(const char *name, const uint8_t *data, size_t len)
{
	static char path[PATH_MAX];
	size_t off = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", fuzz_tmpdir(), name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		perror(path);
		abort();
	}
	while (off < len) {
		if ((n = write(fd, data + off, len - off)) <= 0) {
			perror(path);
			abort();
		}
		off += (size_t)n;
	}
	close(fd);
	return path;
}

char *
fuzz_strndup(const uint8_t *data, size_t len)
{
	char *s;

	if ((s = malloc(len + 1)) == NULL)
		abort();
	memcpy(s, data, len);
	s[len] = '\0';
	return s;
}
