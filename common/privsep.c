/*
 * privsep.c: dropping root for the network-facing work.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
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

int
privsep_child_run(void (*fn)(void *arg, int fd), void *arg,
    const char *what, unsigned timeout, size_t maxlen, struct sbuf *out,
    char *err, size_t errlen)
{
	struct pollfd pfd;
	char buf[8192];
	time_t end = time(NULL) + (time_t)timeout;
	pid_t pid;
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
		/* Nothing of the parent's: no lock, no key file. */
		if (fds[1] != 3 && dup2(fds[1], 3) == -1)
			_exit(1);
		(void)close_range(4, ~0U, 0);
		fn(arg, 3);
		_exit(0);
	}
	close(fds[1]);
	/* Bounded in size and time: the child's own deadline is shorter. */
	for (;;) {
		pfd.fd = fds[0];
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (time(NULL) >= end) {
			errfmt(err, errlen, "the %s did not finish in %u s",
			    what, timeout);
			kill(pid, SIGKILL);
			goto reap;
		}
		if (poll(&pfd, 1, 1000) == -1) {
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
	rc = 0;
reap:
	close(fds[0]);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (rc == 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
		errfmt(err, errlen, "the %s died (%s %d)", what,
		    WIFSIGNALED(st) ? "signal" : "status", WIFSIGNALED(st) ?
		    WTERMSIG(st) : WEXITSTATUS(st));
		rc = -1;
	}
	return rc;
}
