/*
 * privsep.c: dropping root for the network-facing work.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"
#include "sbuf.h"

int
privsep_drop(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;
	const char *u;

	if (geteuid() != 0 && getuid() != 0)
		return 0;
	u = user != NULL ? user : "nobody";
#ifdef TLSA_TEST_HOOKS
	/* Test build only: the release binary ignores its environment. */
	{
		const char *t = getenv("TLSA_PRIVSEP_USER");

		if (t != NULL && *t != '\0')
			u = t;
	}
#endif
	errno = 0;
	if ((pw = getpwnam(u)) == NULL) {
		errfmt(err, errlen, "cannot drop privileges: no user \"%s\"%s%s",
		    u, errno ? ": " : "", errno ? strerror(errno) : "");
		return -1;
	}
	if (pw->pw_uid == 0) {
		errfmt(err, errlen, "cannot drop privileges: user \"%s\" is "
		    "root", u);
		return -1;
	}
	if (setgroups(0, NULL) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		errfmt(err, errlen, "cannot drop privileges to %s: %s", u,
		    strerror(errno));
		return -1;
	}
	/* Prove it: root must not come back. */
	if (setuid(0) != -1 || geteuid() == 0 || getuid() == 0) {
		errfmt(err, errlen, "cannot drop privileges to %s: root could "
		    "be regained", u);
		return -1;
	}
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}

void
privsep_nocore(void)
{
	struct rlimit rl = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

void
privsep_child_reset(mode_t mask)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	(void)setpgid(0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);	/* EINVAL: RT */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)umask(mask);
}

/*
 * Close every descriptor from 4 up where close_range(2) is missing
 * (kernels before 5.9, or a seccomp filter that refuses it): those
 * /proc/self/fd lists, else all below the descriptor limit.
 */
static void
close_from_4(void)
{
	struct rlimit rl;
	struct dirent *de;
	DIR *d;
	long fd, max = 65536, i;
	char *end;

	if ((d = opendir("/proc/self/fd")) != NULL) {
		while ((de = readdir(d)) != NULL) {
			fd = strtol(de->d_name, &end, 10);
			if (*end == '\0' && end != de->d_name && fd >= 4 &&
			    fd != dirfd(d))
				(void)close((int)fd);
		}
		closedir(d);
		return;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		max = rl.rlim_cur < (rlim_t)INT_MAX ? (long)rl.rlim_cur :
		    INT_MAX;
	for (i = 4; i < max; i++)
		(void)close((int)i);
}

/*
 * In the child: descriptor 3 is fd, 0 and 1 (and 2, but in the test
 * build) are /dev/null, and nothing else is open (the lock, key files,
 * the parent's sockets).  A child that is taken over writes nowhere but
 * into the pipe the parent reads with bounds: not into our standard
 * output (a report, --json) nor our log.  The test build keeps standard
 * error, where a sanitizer reports what it found in the child.  0, or -1
 * when that cannot be made so.
 */
static int
child_fds(int fd)
{
	int null, i, n = 3;

#ifdef TLSA_TEST_HOOKS
	n = 2;
#endif
	if (fd != 3 && dup2(fd, 3) == -1)
		return -1;
	if ((null = open("/dev/null", O_RDWR)) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (null != i && dup2(null, i) == -1)
			return -1;
	if (close_range(4, ~0U, 0) == -1)
		close_from_4();
	if (null > 3)
		(void)close(null);	/* close_range may not have run */
	return 0;
}

/* Milliseconds since some fixed point, not moved by clock changes. */
static long long
mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
privsep_child_run(void (*fn)(void *arg, int fd), void *arg,
    const char *what, unsigned timeout, size_t maxlen, struct sbuf *out,
    char *err, size_t errlen)
{
	struct pollfd pfd;
	char buf[8192];
	long long end = mono_ms() + (long long)timeout * 1000, now;
	pid_t pid, w;
	ssize_t n;
	size_t got = 0;
	int fds[2], st = 0, rc = -1;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		errfmt(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	/* What stdio holds would otherwise be written twice. */
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		errfmt(err, errlen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		if (child_fds(fds[1]) == -1)
			_exit(1);
		fn(arg, 3);
		_exit(0);
	}
	close(fds[1]);
	/* Bounded in size and time: the child's own deadline is shorter. */
	for (;;) {
		pfd.fd = fds[0];
		pfd.events = POLLIN;
		pfd.revents = 0;
		if ((now = mono_ms()) >= end)
			goto late;
		if (poll(&pfd, 1, end - now > 1000 ? 1000 : (int)(end - now))
		    == -1) {
			if (errno == EINTR)
				continue;
			errfmt(err, errlen, "poll: %s", strerror(errno));
			kill(pid, SIGKILL);
			goto reap;
		}
		if (!(pfd.revents & (POLLIN | POLLHUP)))
			continue;
		if ((n = read(fds[0], buf, sizeof(buf))) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (got + (size_t)n > maxlen) {
			errfmt(err, errlen, "the %s said too much", what);
			kill(pid, SIGKILL);
			goto reap;
		}
		got += (size_t)n;
		sbuf_add(out, buf, (size_t)n);
	}
	/*
	 * The pipe is closed, but the child may go on: it must still end
	 * by the same deadline.  (Polled: SIGCHLD is the caller's.)
	 */
	for (;;) {
		if ((w = waitpid(pid, &st, WNOHANG)) == pid)
			break;
		if (w == -1 && errno != EINTR) {
			errfmt(err, errlen, "waitpid: %s", strerror(errno));
			close(fds[0]);
			return -1;
		}
		if (mono_ms() >= end)
			goto late;
		(void)poll(NULL, 0, 20);
	}
	close(fds[0]);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		errfmt(err, errlen, "the %s died (%s %d)", what,
		    WIFSIGNALED(st) ? "signal" : "status", WIFSIGNALED(st) ?
		    WTERMSIG(st) : WEXITSTATUS(st));
		return -1;
	}
	return 0;
late:
	errfmt(err, errlen, "the %s did not finish in %u s", what, timeout);
	kill(pid, SIGKILL);
reap:
	close(fds[0]);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	return rc;
}
