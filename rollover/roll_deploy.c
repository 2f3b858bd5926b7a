/*
 * roll_deploy.c: atomic deployment and the reload command.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "fileio.h"
#include "crashpoint.h"
#include "log.h"
#include "privsep.h"
#include "roll_deploy.h"
#include "roll_state.h"

/*
 * Open name in the directory pfd (or the absolute path name with
 * AT_FDCWD) as a directory, never through a symlink in its last part,
 * making it with mode if it is missing.  It must be ours and not
 * writable by group or others.  The fd, or -1 with a reason naming
 * shown.
 */
static int
open_dir_at(int pfd, const char *name, const char *shown, mode_t mode,
    char *err, size_t errlen)
{
	struct stat st;
	int fd, made = 0;

	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1 && errno == ENOENT) {
		if (mkdirat(pfd, name, mode) == 0)
			made = 1;	/* ours: only then its mode is set */
		else if (errno != EEXIST) {
			errfmt(err, errlen, "%s: %s", shown, strerror(errno));
			return -1;
		}
		fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	}
	if (fd == -1) {
		if (errno == ELOOP || errno == ENOTDIR)
			errfmt(err, errlen, "%s: not a directory (a symlink "
			    "is refused: give the real path)", shown);
		else
			errfmt(err, errlen, "%s: %s", shown, strerror(errno));
		return -1;
	}
	/* mode whatever the umask: the MTA may read as another user */
	if (made && fchmod(fd, mode) == -1) {
		errfmt(err, errlen, "%s: %s", shown, strerror(errno));
		close(fd);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		errfmt(err, errlen, "%s: %s", shown, strerror(errno));
		close(fd);
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
		errfmt(err, errlen, "%s: must be owned by uid %ld and not "
		    "writable by group or others", shown, (long)geteuid());
		close(fd);
		return -1;
	}
	return fd;
}

/* Copy one file from the store into dfd as name, with mode. */
static int
copy_file(const char *from, int dfd, const char *name, const char *shown,
    mode_t mode, char *err, size_t errlen)
{
	unsigned char *buf;
	size_t len;
	char lerr[ERRBUF_LEN];
	int rc;

	/* The stored key is ours: refuse one that someone swapped in. */
	if (mode == 0600 && fileio_owner_check(from, "private key file",
	    err, errlen) == -1)
		return -1;
	if (fileio_read_bounded(from, 4 * 1024 * 1024, &buf, &len, lerr,
	    sizeof(lerr)) == -1) {
		errfmt(err, errlen, "%s: %s", from, lerr);
		return -1;
	}
	rc = atomic_write_at(dfd, name, shown, buf, len, mode, err, errlen);
	memset(buf, 0, len);
	free(buf);
	return rc;
}

/*
 * Make versions/ID from the store, through versions/ID.tmp.  With
 * exchange, versions/ID exists already (holding another chain): the new
 * directory takes its place in one renameat2(RENAME_EXCHANGE), so that
 * a reader of versions/ID sees the old pair or the new one, and the old
 * one, now at ID.tmp, is removed.
 */
static int
make_version(int vfd, const char *state_dir, const struct roll_service *s,
    const char *id, const char *ver, int exchange, char *err, size_t errlen)
{
	char tname[ROLL_ID_LEN + 8], tmp[PATH_MAX], from[PATH_MAX],
	    shown[PATH_MAX];
	int tfd, rc = -1;

	snprintf(tname, sizeof(tname), "%s.tmp", id);
	snprintf(tmp, sizeof(tmp), "%s.tmp", ver);
	/*
	 * A leftover of ours (a crash) is reused; a symlink, or a
	 * directory someone else owns or may write, is refused.
	 */
	if ((tfd = open_dir_at(vfd, tname, tmp, 0755, err, errlen)) == -1)
		return -1;
	if (fchmod(tfd, 0755) == -1) {
		errfmt(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	snprintf(from, sizeof(from), "%s/%s/certs/%s/fullchain.pem",
	    state_dir, s->name, id);
	snprintf(shown, sizeof(shown), "%s/fullchain.pem", tmp);
	if (copy_file(from, tfd, "fullchain.pem", shown, 0644, err,
	    errlen) == -1)
		goto out;
	snprintf(from, sizeof(from), "%s/%s/certs/%s/privkey.pem",
	    state_dir, s->name, id);
	snprintf(shown, sizeof(shown), "%s/privkey.pem", tmp);
	if (copy_file(from, tfd, "privkey.pem", shown, 0600, err,
	    errlen) == -1)
		goto out;
	crashpoint("deploy:version-copied");
	if ((exchange ? renameat2(vfd, tname, vfd, id, RENAME_EXCHANGE) :
	    renameat(vfd, tname, vfd, id)) == -1) {
		errfmt(err, errlen, "%s: %s", ver, strerror(errno));
		goto out;
	}
	(void)fsync(vfd);
	if (exchange) {
		/* ID.tmp names the old version now: empty it, remove it. */
		close(tfd);
		if ((tfd = openat(vfd, tname, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) != -1) {
			(void)unlinkat(tfd, "fullchain.pem", 0);
			(void)unlinkat(tfd, "privkey.pem", 0);
			(void)unlinkat(vfd, tname, AT_REMOVEDIR);
		}
	}
	rc = 0;
out:
	if (tfd != -1)
		close(tfd);
	return rc;
}

/*
 * Does versions/ID hold the chain the store holds for ID?  1 yes, 0 no
 * (a chain updated in the store since), -1 when either cannot be read.
 */
static int
version_current(const char *state_dir, const struct roll_service *s,
    const char *id, const char *ver, char *err, size_t errlen)
{
	unsigned char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	char path[PATH_MAX], lerr[ERRBUF_LEN];
	int rc = -1;

	snprintf(path, sizeof(path), "%s/%s/certs/%s/fullchain.pem",
	    state_dir, s->name, id);
	if (fileio_read_bounded(path, 4 * 1024 * 1024, &a, &alen, lerr,
	    sizeof(lerr)) == -1) {
		errfmt(err, errlen, "%s: %s", path, lerr);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/fullchain.pem", ver);
	if (fileio_read_bounded(path, 4 * 1024 * 1024, &b, &blen, lerr,
	    sizeof(lerr)) == -1) {
		rc = 0;		/* missing or unreadable: make it again */
		goto out;
	}
	rc = alen == blen && memcmp(a, b, alen) == 0;
out:
	free(a);
	free(b);
	return rc;
}

int
roll_deploy_fresh(const char *state_dir, const struct roll_service *s,
    const char *id)
{
	char ver[PATH_MAX], e[ERRBUF_LEN];
	struct stat st;

	snprintf(ver, sizeof(ver), "%s/versions/%s", s->deploy_dir, id);
	if (lstat(ver, &st) == -1 || !S_ISDIR(st.st_mode))
		return 1;
	return version_current(state_dir, s, id, ver, e, sizeof(e)) != 0;
}

void
roll_deploy_link(const char *slot, char *buf, size_t len)
{
	snprintf(buf, len, "current%s%s", slot[0] ? "-" : "", slot);
}

int
roll_deploy(const char *state_dir, const struct roll_service *s,
    const char *slot, const char *id, char *err, size_t errlen)
{
	char lname[32], tname[40], versions[PATH_MAX], ver[PATH_MAX],
	    link[PATH_MAX], target[64];
	struct stat st;
	int dfd = -1, vfd = -1, rc = -1, r;

	/*
	 * Everything below works from directory descriptors opened without
	 * following a symlink, so that a name swapped after a check is
	 * never followed; and whoever could swap them is refused first.
	 */
	if (fileio_parents_trusted(s->deploy_dir, err, errlen) == -1)
		return -1;
	if ((dfd = open_dir_at(AT_FDCWD, s->deploy_dir, s->deploy_dir, 0755,
	    err, errlen)) == -1)
		return -1;
	snprintf(versions, sizeof(versions), "%s/versions", s->deploy_dir);
	if ((vfd = open_dir_at(dfd, "versions", versions, 0755, err,
	    errlen)) == -1)
		goto out;
	snprintf(ver, sizeof(ver), "%s/%s", versions, id);
	if (fstatat(vfd, id, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno != ENOENT) {
			errfmt(err, errlen, "%s: %s", ver, strerror(errno));
			goto out;
		}
		if (make_version(vfd, state_dir, s, id, ver, 0, err,
		    errlen) == -1)
			goto out;
	} else if (!S_ISDIR(st.st_mode)) {
		errfmt(err, errlen, "%s: not a directory%s", ver,
		    S_ISLNK(st.st_mode) ? " (a symlink is refused)" : "");
		goto out;
	} else if (st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
		errfmt(err, errlen, "%s: must be owned by uid %ld and not "
		    "writable by group or others", ver, (long)geteuid());
		goto out;
	} else {
		/* Deployed before: with the chain the store has now? */
		if ((r = version_current(state_dir, s, id, ver, err,
		    errlen)) == -1)
			goto out;
		if (r == 0 && make_version(vfd, state_dir, s, id, ver, 1, err,
		    errlen) == -1)
			goto out;
	}
	/* current -> versions/ID, by rename of a fresh symlink. */
	snprintf(target, sizeof(target), "versions/%s", id);
	roll_deploy_link(slot, lname, sizeof(lname));
	snprintf(tname, sizeof(tname), ".%s.tmp", lname);
	snprintf(link, sizeof(link), "%s/%s", s->deploy_dir, lname);
	(void)unlinkat(dfd, tname, 0);
	if (symlinkat(target, dfd, tname) == -1 ||
	    renameat(dfd, tname, dfd, lname) == -1) {
		errfmt(err, errlen, "%s: %s", link, strerror(errno));
		(void)unlinkat(dfd, tname, 0);
		goto out;
	}
	(void)fsync(dfd);
	crashpoint("deploy:linked");
	rc = 0;
out:
	if (vfd != -1)
		close(vfd);
	if (dfd != -1)
		close(dfd);
	return rc;
}

int
roll_deploy_link_gone(const char *deploy_dir, const char *slot)
{
	char link[PATH_MAX], lname[32];
	struct stat sb;

	roll_deploy_link(slot, lname, sizeof(lname));
	snprintf(link, sizeof(link), "%s/%s", deploy_dir, lname);
	return lstat(link, &sb) == -1 && errno == ENOENT;
}

int
roll_deployed(const struct roll_service *s, const char *slot, char *id,
    size_t idlen)
{
	char link[PATH_MAX], t[PATH_MAX], lname[32];
	ssize_t n;

	id[0] = '\0';
	roll_deploy_link(slot, lname, sizeof(lname));
	snprintf(link, sizeof(link), "%s/%s", s->deploy_dir, lname);
	if ((n = readlink(link, t, sizeof(t) - 1)) <= 0)
		return -1;
	t[n] = '\0';
	if (strncmp(t, "versions/", 9) != 0 ||
	    strlen(t + 9) != ROLL_ID_LEN)
		return -1;
	snprintf(id, idlen, "%s", t + 9);
	return 0;
}

/*
 * In the child, before execve: a process group of its own (so that a
 * timeout reaches everything it started), every signal back to its
 * default and none blocked (whatever cron or our caller left ignored or
 * masked is not inherited by the MTA's reload), a fixed umask, stdin
 * from /dev/null.  Never returns.
 */
static void
reload_child(const struct roll_service *s, char *const env[])
{
	int devnull;

	privsep_child_reset(022);
	if ((devnull = open("/dev/null", O_RDONLY)) != -1) {
		dup2(devnull, STDIN_FILENO);
		close(devnull);
	}
	execve(s->reload[0], s->reload, env);
	fprintf(stderr, "tlsa-rollover: reload: %s: %s\n", s->reload[0],
	    strerror(errno));
	_exit(127);
}

/*
 * Kill the reload's process group: TERM, up to RELOAD_GRACE_MS for the
 * group to empty, then KILL.  The leader (pid) is reaped into *status
 * unless *reaped says it was already.
 */
#define RELOAD_GRACE_MS	2000
static void
reload_kill_group(pid_t pid, int *status, int *reaped)
{
	struct timespec ts = { 0, 50 * 1000000L };
	int i;

	(void)kill(-pid, SIGTERM);
	for (i = 0; i < RELOAD_GRACE_MS / 50; i++) {
		if (!*reaped && waitpid(pid, status, WNOHANG) == pid)
			*reaped = 1;
		/* ESRCH: nobody left in the group (the leader reaped). */
		if (*reaped && kill(-pid, 0) == -1 && errno == ESRCH)
			return;
		nanosleep(&ts, NULL);
	}
	(void)kill(-pid, SIGKILL);
	while (!*reaped && waitpid(pid, status, 0) == -1 && errno == EINTR)
		;
	*reaped = 1;
}

/* Seconds on the monotonic clock: a clock step must not kill a reload. */
static time_t
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

int
roll_reload(const struct roll_service *s, int timeout, char *err,
    size_t errlen)
{
	static char *const env[] = {
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", NULL
	};
	struct timespec ts = { 0, 50 * 1000000L };
	struct sigaction dfl, old;
	time_t deadline;
	pid_t pid, w;
	int status = 0, reaped = 0, rc = -1;

	if (s->reload == NULL || s->nreload == 0)
		return 0;
	/*
	 * SIGCHLD ignored (inherited from cron or a parent that set
	 * SIG_IGN) makes the kernel reap the child itself and waitpid fail
	 * with ECHILD: wait with the default, and put the old one back.
	 */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	if (sigaction(SIGCHLD, &dfl, &old) == -1) {
		errfmt(err, errlen, "reload: SIGCHLD: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		errfmt(err, errlen, "reload: fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		reload_child(s, env);
	/* Both sides set the group, so that it exists before any kill. */
	(void)setpgid(pid, pid);
	deadline = mono_s() + timeout;
	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			reaped = 1;
			break;
		}
		if (w == -1 && errno != EINTR) {
			errfmt(err, errlen, "reload: waitpid: %s",
			    strerror(errno));
			reload_kill_group(pid, &status, &reaped);
			goto out;
		}
		if (mono_s() >= deadline) {
			reload_kill_group(pid, &status, &reaped);
			errfmt(err, errlen, "reload: %s did not finish within "
			    "%d s and was killed (with its process group)",
			    s->reload[0], timeout);
			goto out;
		}
		nanosleep(&ts, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		rc = 0;
	else if (WIFEXITED(status))
		errfmt(err, errlen, "reload: %s exited with status %d",
		    s->reload[0], WEXITSTATUS(status));
	else
		errfmt(err, errlen, "reload: %s died of signal %d",
		    s->reload[0], WTERMSIG(status));
out:
	(void)sigaction(SIGCHLD, &old, NULL);
	return rc;
}
