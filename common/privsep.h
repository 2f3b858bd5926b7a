/*
 * privsep.h: the parts that talk to the network (SMTP probes, DNS
 * answers from strangers) run without the right to read private keys.
 */
#ifndef PRIVSEP_H
#define PRIVSEP_H

#include <sys/types.h>

#include <stddef.h>

/*
 * When running as root, become user (default "nobody"): supplementary
 * groups cleared, then the group and the user, real, effective and
 * saved; PR_SET_NO_NEW_PRIVS set.  Refused (-1) if the switch cannot be
 * proven (root regained).  A no-op (0) when not root: the caller then
 * has only its own rights anyway.  The environment variable
 * TLSA_PRIVSEP_USER overrides user in the test build only
 * (-DTLSA_TEST_HOOKS, see crashpoint.h); the release build ignores it.
 */
int privsep_drop(const char *user, char *err, size_t errlen);

/*
 * No core dump, and no ptrace by other processes of the same user: a
 * process that holds private keys or a TSIG secret in memory leaves no
 * copy of them behind when it crashes.
 */
void privsep_nocore(void);

/*
 * In a child about to execve a command the configuration names (a
 * reload, a push, an exec publisher): a process group of its own (so
 * that a timeout can reach everything it starts), every signal back to
 * its default disposition and none blocked (what cron or our caller
 * left ignored or masked is not inherited), and umask mask.
 */
void privsep_child_reset(mode_t mask);

struct sbuf;

/*
 * Run fn(arg, 3) in a child process whose only descriptors are 3, the
 * write end of a pipe, and 0 to 2 on /dev/null (the test build keeps 2,
 * for the sanitizers' reports), and collect what it
 * writes there into out (appended; not NUL-terminated), at most maxlen
 * bytes, the child ended within timeout seconds (monotonic clock; also
 * after it closed the pipe).  fn is called right after fork(): it
 * drops its privileges itself (it may first have to wipe what it must
 * not keep); the child exits 0 when fn returns.  0 when the child ended
 * with status 0, or -1 with a reason naming what ("probe process": "the
 * probe process died (signal 9)"); a child that says too much or takes
 * too long is killed.  out is the caller's to free, also after -1.
 */
int privsep_child_run(void (*fn)(void *arg, int fd), void *arg,
    const char *what, unsigned timeout, size_t maxlen, struct sbuf *out,
    char *err, size_t errlen);

#endif
