/*
 * privsep.c: dropping root for the network-facing work.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"

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
