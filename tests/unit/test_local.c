/*
 * test_local.c: defences against local attackers and a hostile
 * environment (issue 12): the reload command's process group and
 * signals; deployment that never follows a planted symlink; the
 * unprivileged child (privsep_child_run): its descriptors and its
 * deadline.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "privsep.h"
#include "roll_config.h"
#include "roll_deploy.h"
#include "roll_state.h"
#include "sbuf.h"

static char tmpdir[512];
static char err[ERRBUF_LEN];

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/tlsa-local.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A service whose reload is /bin/sh -c SCRIPT. */
static int
reload_sh(const char *script, int timeout)
{
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	struct roll_service s;

	memset(&s, 0, sizeof(s));
	s.reload = argv;
	s.nreload = 3;
	return roll_reload(&s, timeout, err, sizeof(err));
}

static pid_t
read_pid(const char *path)
{
	FILE *f;
	long v = 0;
	int i;

	/* The script writes it first thing: wait at most 2 s. */
	for (i = 0; i < 40; i++) {
		if ((f = fopen(path, "r")) != NULL) {
			if (fscanf(f, "%ld", &v) == 1 && v > 1) {
				fclose(f);
				return (pid_t)v;
			}
			fclose(f);
		}
		nanosleep(&(struct timespec){ 0, 50000000L }, NULL);
	}
	return -1;
}

/* A process is gone when kill(0) says so, or it is a zombie of init's. */
static int
gone(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	int i;

	for (i = 0; i < 40; i++) {	/* init may take a moment to reap */
		if (kill(pid, 0) == -1 && errno == ESRCH)
			return 1;
		snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
		if ((f = fopen(path, "r")) != NULL) {
			p = fgets(buf, sizeof(buf), f);
			fclose(f);
			if (p != NULL && (p = strrchr(buf, ')')) != NULL &&
			    p[1] == ' ' && p[2] == 'Z')
				return 1;
		}
		nanosleep(&(struct timespec){ 0, 50000000L }, NULL);
	}
	return 0;
}

/*
 * A reload that forks a grandchild (which even ignores TERM) and sleeps
 * past the timeout: the whole process group goes, not only the child.
 */
static void
test_reload_timeout_kills_group(void **state)
{
	char pidfile[1024], script[4096];
	pid_t gc;

	(void)state;
	snprintf(pidfile, sizeof(pidfile), "%s/grandchild.pid", tmpdir);
	snprintf(script, sizeof(script),
	    "sh -c 'trap \"\" TERM; exec sleep 30' & echo $! > '%s'; "
	    "exec sleep 30", pidfile);
	assert_int_equal(reload_sh(script, 1), -1);
	assert_non_null(strstr(err, "did not finish within 1 s"));
	gc = read_pid(pidfile);
	assert_true(gc > 1);
	if (!gone(gc)) {
		(void)kill(gc, SIGKILL);
		fail_msg("the reload's grandchild %ld outlived the timeout",
		    (long)gc);
	}
}

/* SIGCHLD ignored by whoever started us: the reload still succeeds. */
static void
test_reload_sigchld_ignored(void **state)
{
	struct sigaction ign, old, now;

	(void)state;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	assert_int_equal(sigaction(SIGCHLD, &ign, &old), 0);
	assert_int_equal(reload_sh("exit 0", 10), 0);
	assert_int_equal(reload_sh("exit 3", 10), -1);
	assert_non_null(strstr(err, "exited with status 3"));
	/* and the caller's disposition is given back */
	assert_int_equal(sigaction(SIGCHLD, &old, &now), 0);
	assert_true(now.sa_handler == SIG_IGN);
}

/*
 * The reload starts with default signals, an empty mask and umask 022,
 * whatever this process has.
 */
static void
test_reload_clean_signals_umask(void **state)
{
	char out[1024], script[4096], line[256];
	struct sigaction ign, oldint;
	sigset_t set, oldset;
	mode_t oldmask;
	FILE *f;
	int have_mask = 0, have_umask = 0, have_ign = 0;

	(void)state;
	snprintf(out, sizeof(out), "%s/status", tmpdir);
	snprintf(script, sizeof(script), "grep -E '^(SigBlk|SigIgn):' "
	    "/proc/self/status > '%s'; umask >> '%s'", out, out);
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	assert_int_equal(sigaction(SIGINT, &ign, &oldint), 0);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	assert_int_equal(sigprocmask(SIG_BLOCK, &set, &oldset), 0);
	oldmask = umask(077);
	assert_int_equal(reload_sh(script, 10), 0);
	(void)umask(oldmask);
	(void)sigprocmask(SIG_SETMASK, &oldset, NULL);
	(void)sigaction(SIGINT, &oldint, NULL);
	assert_non_null(f = fopen(out, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "SigBlk:", 7) == 0)
			have_mask = strspn(line + 7, "\t 0") ==
			    strlen(line + 7) - 1;
		else if (strncmp(line, "SigIgn:", 7) == 0)
			/* 1-31; 32 and up are glibc's (sigaction refuses) */
			have_ign = (strtoull(line + 7, NULL, 16) &
			    0x7fffffffULL) == 0;
		else if (strcmp(line, "0022\n") == 0)
			have_umask = 1;
	}
	fclose(f);
	assert_true(have_mask);		/* nothing blocked */
	assert_true(have_ign);		/* no standard signal ignored */
	assert_true(have_umask);
}

/* ---- deploy: symlinks planted where we expect our own directories ---- */

static char state_dir[600], deploy_dir[600], victim[600];

static void
put(const char *path, const char *text, mode_t mode)
{
	FILE *f;

	(void)unlink(path);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* An id of the right form, made from c, with its store entry. */
static void
stored(char c, char *id)
{
	char d[1024], f[1100];

	memset(id, c, ROLL_ID_LEN);
	id[ROLL_ID_LEN] = '\0';
	snprintf(d, sizeof(d), "%s/mx/certs/%s", state_dir, id);
	snprintf(f, sizeof(f), "mkdir -p '%s'", d);
	assert_int_equal(system(f), 0);
	snprintf(f, sizeof(f), "%s/fullchain.pem", d);
	put(f, "chain\n", 0644);
	snprintf(f, sizeof(f), "%s/privkey.pem", d);
	put(f, "key\n", 0600);
}

static int
deploy(const char *id)
{
	struct roll_service s;

	memset(&s, 0, sizeof(s));
	s.name = "mx";
	s.deploy_dir = deploy_dir;
	return roll_deploy(state_dir, &s, "", id, err, sizeof(err));
}

static int
setup_deploy(void **state)
{
	setup(state);
	snprintf(state_dir, sizeof(state_dir), "%s/state", tmpdir);
	snprintf(deploy_dir, sizeof(deploy_dir), "%s/deploy", tmpdir);
	snprintf(victim, sizeof(victim), "%s/victim", tmpdir);
	assert_int_equal(mkdir(state_dir, 0700), 0);
	put(victim, "precious\n", 0600);
	return 0;
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void
test_deploy_plain(void **state)
{
	char id[ROLL_ID_LEN + 1], got[ROLL_ID_LEN + 1], f[1100];
	struct roll_service s;

	(void)state;
	stored('a', id);
	assert_int_equal(deploy(id), 0);
	memset(&s, 0, sizeof(s));
	s.deploy_dir = deploy_dir;
	assert_int_equal(roll_deployed(&s, "", got, sizeof(got)), 0);
	assert_string_equal(got, id);
	snprintf(f, sizeof(f), "%s/current/privkey.pem", deploy_dir);
	assert_int_equal(mode_of(f), 0600);
	snprintf(f, sizeof(f), "%s/versions/%s", deploy_dir, id);
	assert_int_equal(mode_of(f), 0755);
}

/* The reproduced attack: versions/ID.tmp -> a file root must not chmod. */
static void
test_deploy_tmp_symlink(void **state)
{
	char id[ROLL_ID_LEN + 1], f[1100], first[ROLL_ID_LEN + 1];

	(void)state;
	stored('a', first);
	assert_int_equal(deploy(first), 0);	/* makes versions/ */
	stored('b', id);
	snprintf(f, sizeof(f), "%s/versions/%s.tmp", deploy_dir, id);
	assert_int_equal(symlink(victim, f), 0);
	assert_int_equal(deploy(id), -1);
	assert_int_equal(mode_of(victim), 0600);	/* was made 0755 */
	assert_non_null(strstr(err, f));
	assert_non_null(strstr(err, "symlink is refused"));
	/* a symlink to a directory: nothing written through it */
	assert_int_equal(unlink(f), 0);
	assert_int_equal(symlink(tmpdir, f), 0);
	assert_int_equal(deploy(id), -1);
	assert_int_equal(mode_of(tmpdir), 0700);
	snprintf(f, sizeof(f), "%s/privkey.pem", tmpdir);
	assert_int_equal(access(f, F_OK), -1);
}

/* versions/ID (the version itself) or versions/ planted as a symlink. */
static void
test_deploy_version_symlink(void **state)
{
	char id[ROLL_ID_LEN + 1], f[2100], first[ROLL_ID_LEN + 1];

	(void)state;
	stored('a', first);
	assert_int_equal(deploy(first), 0);
	stored('c', id);
	snprintf(f, sizeof(f), "%s/versions/%s", deploy_dir, id);
	assert_int_equal(symlink(tmpdir, f), 0);
	assert_int_equal(deploy(id), -1);
	assert_non_null(strstr(err, "symlink is refused"));
	assert_int_equal(unlink(f), 0);
	snprintf(f, sizeof(f), "rm -rf '%s/versions' && ln -s '%s' "
	    "'%s/versions'", deploy_dir, tmpdir, deploy_dir);
	assert_int_equal(system(f), 0);
	assert_int_equal(deploy(id), -1);
	assert_non_null(strstr(err, "/versions: not a directory"));
	assert_int_equal(mode_of(tmpdir), 0700);
}

/* A leftover ID.tmp that another user owns (or may write) is refused. */
static void
test_deploy_tmp_not_ours(void **state)
{
	char id[ROLL_ID_LEN + 1], f[1100], first[ROLL_ID_LEN + 1];

	(void)state;
	if (geteuid() != 0)
		skip();
	stored('a', first);
	assert_int_equal(deploy(first), 0);
	stored('d', id);
	snprintf(f, sizeof(f), "%s/versions/%s.tmp", deploy_dir, id);
	assert_int_equal(mkdir(f, 0755), 0);
	assert_int_equal(chown(f, 65534, 65534), 0);
	assert_int_equal(deploy(id), -1);
	assert_non_null(strstr(err, f));
	assert_non_null(strstr(err, "must be owned by uid 0"));
	assert_int_equal(chown(f, 0, 0), 0);
	assert_int_equal(chmod(f, 0777), 0);
	assert_int_equal(deploy(id), -1);
	/* ours and only ours: a crash's leftover is reused */
	assert_int_equal(chmod(f, 0700), 0);
	assert_int_equal(deploy(id), 0);
}

/* A deploy_dir whose parent another user may write is refused. */
static void
test_deploy_parent_writable(void **state)
{
	char id[ROLL_ID_LEN + 1];

	(void)state;
	stored('e', id);
	assert_int_equal(chmod(tmpdir, 0777), 0);
	assert_int_equal(deploy(id), -1);
	assert_non_null(strstr(err, tmpdir));
	assert_non_null(strstr(err, "writable by group or others (mode "
	    "0777)"));
	assert_int_equal(chmod(tmpdir, 01777), 0);	/* sticky: fine */
	assert_int_equal(deploy(id), 0);
	assert_int_equal(chmod(tmpdir, 0700), 0);
}

/* ---- privsep_child_run ----------------------------------------------------- */

/* The child's view: which of 0-63 are open, and what 0-2 are. */
static void
child_fds(void *arg, int fd)
{
	struct stat sb, null;
	char line[64];
	int i, n;

	(void)arg;
	if (stat("/dev/null", &null) == -1)
		return;
	for (i = 0; i < 64; i++) {
		if (fcntl(i, F_GETFD) == -1)
			continue;
		n = snprintf(line, sizeof(line), "%d%s\n", i, i <= 2 &&
		    fstat(i, &sb) == 0 && sb.st_rdev == null.st_rdev &&
		    S_ISCHR(sb.st_mode) ? " null" : "");
		if (write(fd, line, (size_t)n) != n)
			return;
	}
	/* Would reach our output if 1 were still ours. */
	if (write(1, "LEAK\n", 5) != 5)
		return;
}

static void
test_child_only_pipe(void **state)
{
	struct sbuf out = { 0 };
	int extra;

	(void)state;
	/* A descriptor of the parent's (a lock, a key file) at 5. */
	assert_true((extra = open("/dev/zero", O_RDONLY)) >= 0);
	if (extra != 5) {
		assert_int_equal(dup2(extra, 5), 5);
		close(extra);
	}
	assert_int_equal(privsep_child_run(child_fds, NULL, "test child", 10,
	    4096, &out, err, sizeof(err)), 0);
	sbuf_add(&out, "", 1);
	assert_string_equal(out.s, "0 null\n1 null\n2 null\n3\n");
	close(5);
	sbuf_free(&out);
}

/* Closes the pipe, then lingers: the deadline still holds. */
static void
child_lingers(void *arg, int fd)
{
	(void)arg;
	if (write(fd, "x", 1) != 1)
		return;
	close(fd);
	sleep(30);
}

static void
test_child_deadline_after_eof(void **state)
{
	struct sbuf out = { 0 };
	struct timespec a, b;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(privsep_child_run(child_lingers, NULL, "test child",
	    2, 4096, &out, err, sizeof(err)), -1);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_string_equal(err, "the test child did not finish in 2 s");
	/* It had said its byte and closed the pipe: the wait after EOF. */
	assert_int_equal(out.len, 1);
	/* Killed at its deadline (2 s), not before, not after its 30 s. */
	assert_true((b.tv_sec - a.tv_sec) * 1000 +
	    (b.tv_nsec - a.tv_nsec) / 1000000 >= 1900);
	assert_true(b.tv_sec - a.tv_sec < 15);
	sbuf_free(&out);
}

/* Says more than the bound. */
static void
child_talks(void *arg, int fd)
{
	char buf[1024];
	int i;

	(void)arg;
	memset(buf, 'a', sizeof(buf));
	for (i = 0; i < 64; i++)
		if (write(fd, buf, sizeof(buf)) == -1)
			break;
}

static void
test_child_says_too_much(void **state)
{
	struct sbuf out = { 0 };

	(void)state;
	assert_int_equal(privsep_child_run(child_talks, NULL, "test child",
	    10, 4096, &out, err, sizeof(err)), -1);
	assert_string_equal(err, "the test child said too much");
	assert_true(out.len <= 4096);
	sbuf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reload_timeout_kills_group,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_sigchld_ignored,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_clean_signals_umask,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_deploy_plain,
		    setup_deploy, teardown),
		cmocka_unit_test_setup_teardown(test_deploy_tmp_symlink,
		    setup_deploy, teardown),
		cmocka_unit_test_setup_teardown(test_deploy_version_symlink,
		    setup_deploy, teardown),
		cmocka_unit_test_setup_teardown(test_deploy_tmp_not_ours,
		    setup_deploy, teardown),
		cmocka_unit_test_setup_teardown(test_deploy_parent_writable,
		    setup_deploy, teardown),
		cmocka_unit_test(test_child_only_pipe),
		cmocka_unit_test(test_child_deadline_after_eof),
		cmocka_unit_test(test_child_says_too_much),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
