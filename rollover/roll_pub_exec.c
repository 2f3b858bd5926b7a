/*
 * roll_pub_exec.c: the exec publisher: a program the operator names
 * (dns.exec, an argv run by execve, no shell) that changes the zone
 * however its DNS provider wants, spoken to by a line protocol on its
 * stdin and stdout (tlsa-rollover.yaml(5), EXEC PROTOCOL):
 *
 *	read OWNER			-> ok SET | error TEXT
 *	replace OWNER EXPECTED NEW	-> ok | conflict CURRENT | error TEXT
 *
 * A SET is "-" (no records) or records "U:S:M:HEX" joined by ",".  The
 * program is started once per open and its stdin closed at close; each
 * answer must come within dns.exec_timeout seconds, else the program
 * (with its process group) is killed.  Its answers are peer input:
 * bounded in length, parsed strictly, and any text it gives is
 * sanitised before it reaches a message.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"
#include "roll_pub.h"
#include "sbuf.h"

/* Longest answer line, newline included. */
#define EXEC_MAXLINE	65536
/* What of the program's stderr is kept for messages (its tail). */
#define EXEC_ERRKEEP	512
/* Most records in one set of an answer. */
#define EXEC_MAXRECS	256

struct prog {
	pid_t		 pid;
	int		 in, out, errfd;	/* our ends */
	char		*buf;			/* stdout not yet consumed */
	size_t		 len;
	char		 errtail[EXEC_ERRKEEP + 1];
	size_t		 errlen;
	int		 dead;			/* reaped, or stdout closed */
	int		 status, reaped;
	struct sigaction oldpipe, oldchld;
};

/* ---- the protocol's text forms (pure; unit-tested) ---------------------- */

char *
roll_pub_set_format(const struct zone_rrset *set)
{
	struct sbuf b = { 0 };
	char *hex, *out;
	size_t i;

	if (set->n == 0)
		return strdup("-");
	for (i = 0; i < set->n; i++) {
		if ((hex = tlsa_hex(set->v[i].data, set->v[i].len)) == NULL) {
			sbuf_free(&b);
			return NULL;
		}
		sbuf_printf(&b, "%s%u:%u:%u:%s", i > 0 ? "," : "",
		    set->v[i].spec.usage, set->v[i].spec.selector,
		    set->v[i].spec.mtype, hex);
		free(hex);
	}
	if (b.failed || b.s == NULL) {
		sbuf_free(&b);
		return NULL;
	}
	out = b.s;
	return out;
}

/* A decimal 0-255 of 1-3 digits at *p, ending at ':'; advances. */
static int
field(const char **p, const char *end, uint8_t *v)
{
	unsigned n = 0;
	int d = 0;

	while (*p < end && isdigit((unsigned char)**p) && d < 3) {
		n = n * 10 + (unsigned)(**p - '0');
		(*p)++;
		d++;
	}
	if (d == 0 || n > 255 || *p >= end || **p != ':')
		return -1;
	(*p)++;
	*v = (uint8_t)n;
	return 0;
}

int
roll_pub_set_parse(const char *s, size_t len, struct zone_rrset *out,
    char *err, size_t errlen)
{
	const char *p = s, *end = s + len, *h;
	struct tlsa_rec r;
	size_t n, i, k = 0;

	memset(out, 0, sizeof(*out));
	if (len == 1 && s[0] == '-')
		return 0;
	if (len == 0) {
		errfmt(err, errlen, "empty set (write \"-\" for no records)");
		return -1;
	}
	while (p < end) {
		k++;
		memset(&r, 0, sizeof(r));
		if (k > EXEC_MAXRECS) {
			errfmt(err, errlen, "more than %d records in a set",
			    EXEC_MAXRECS);
			goto bad;
		}
		if (field(&p, end, &r.spec.usage) == -1 ||
		    field(&p, end, &r.spec.selector) == -1 ||
		    field(&p, end, &r.spec.mtype) == -1) {
			errfmt(err, errlen, "record %zu: want U:S:M:HEX with "
			    "U, S, M decimal 0-255", k);
			goto bad;
		}
		for (h = p; h < end && *h != ','; h++)
			if (tlsa_hexdigit((unsigned char)*h) == -1) {
				errfmt(err, errlen, "record %zu: not a hex "
				    "digit in its data", k);
				goto bad;
			}
		n = (size_t)(h - p);
		if (n == 0 || n % 2 != 0) {
			errfmt(err, errlen, "record %zu: %s", k, n == 0 ?
			    "no data" : "an odd number of hex digits");
			goto bad;
		}
		if ((r.data = malloc(n / 2)) == NULL) {
			errfmt(err, errlen, "out of memory");
			goto bad;
		}
		for (i = 0; i < n / 2; i++)
			r.data[i] = (unsigned char)(tlsa_hexdigit((unsigned char)p[2 *
			    i]) * 16 + tlsa_hexdigit((unsigned char)p[2 * i + 1]));
		r.len = n / 2;
		if (!zone_rrset_has(out, &r) && zone_rrset_push_copy(out,
		    &r) == -1) {
			free(r.data);
			errfmt(err, errlen, "out of memory");
			goto bad;
		}
		free(r.data);
		p = h;
		if (p < end) {		/* a ',' */
			p++;
			if (p == end) {
				errfmt(err, errlen, "a ',' at the end");
				goto bad;
			}
		}
	}
	return 0;
bad:
	zone_rrset_free(out);
	return -1;
}

int
roll_pub_answer_parse(const char *line, int want_set, struct zone_rrset *set,
    char *text, size_t textlen, char *err, size_t errlen)
{
	char e[ERRBUF_LEN];
	size_t n = strlen(line);

	memset(set, 0, sizeof(*set));
	if (text != NULL && textlen > 0)
		text[0] = '\0';
	if (strcmp(line, "ok") == 0 && !want_set)
		return ROLL_PUB_OK;
	if (strncmp(line, "ok ", 3) == 0 && want_set) {
		if (roll_pub_set_parse(line + 3, n - 3, set, e,
		    sizeof(e)) == -1) {
			errfmt(err, errlen, "answer \"ok SET\": %s", e);
			return -1;
		}
		return ROLL_PUB_OK;
	}
	if (strncmp(line, "conflict ", 9) == 0 && !want_set) {
		if (roll_pub_set_parse(line + 9, n - 9, set, e,
		    sizeof(e)) == -1) {
			errfmt(err, errlen, "answer \"conflict SET\": %s", e);
			return -1;
		}
		return ROLL_PUB_CONFLICT;
	}
	if (strncmp(line, "error", 5) == 0 && (line[5] == '\0' ||
	    line[5] == ' ')) {
		if (text != NULL && textlen > 0)
			str_vis(text, textlen, line[5] != '\0' ? line + 6 :
			    "(no text)", line[5] != '\0' ? n - 6 : 9);
		return ROLL_PUB_ERROR;
	}
	str_vis(e, 64, line, n);
	errfmt(err, errlen, "not an answer %s: \"%s\"%s", want_set ?
	    "to read (ok SET, error TEXT)" : "to replace (ok, conflict SET, "
	    "error TEXT)", e, n > 60 ? " ..." : "");
	return -1;
}

/* ---- the program --------------------------------------------------------- */

static time_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child: never returns. */
static void
child(const struct roll_service *s, int in, int out, int errfd)
{
	char zone[300], ttl[40], svc[300];
	char *env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C",
	    zone, ttl, svc, NULL };
	privsep_child_reset(077);
	if (dup2(in, STDIN_FILENO) == -1 || dup2(out, STDOUT_FILENO) == -1 ||
	    dup2(errfd, STDERR_FILENO) == -1)
		_exit(127);
	closefrom(3);
	snprintf(zone, sizeof(zone), "TLSA_ROLLOVER_ZONE=%s", s->dns.zone);
	snprintf(ttl, sizeof(ttl), "TLSA_ROLLOVER_TTL=%u", s->dns.ttl);
	snprintf(svc, sizeof(svc), "TLSA_ROLLOVER_SERVICE=%s", s->name);
	execve(s->dns.exec[0], s->dns.exec, env);
	{
		char msg[600];
		int n = snprintf(msg, sizeof(msg), "%s: %s\n", s->dns.exec[0],
		    strerror(errno));

		if (n > 0)
			(void)!write(STDERR_FILENO, msg, (size_t)n <
			    sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
	}
	_exit(127);
}

/* Keep the tail of what the program writes to stderr. */
static void
drain_err(struct prog *g)
{
	char b[1024];
	ssize_t n;

	while (g->errfd != -1) {
		n = read(g->errfd, b, sizeof(b));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || errno != EAGAIN) {
				close(g->errfd);
				g->errfd = -1;
			}
			return;
		}
		if ((size_t)n >= EXEC_ERRKEEP) {
			memcpy(g->errtail, b + n - EXEC_ERRKEEP, EXEC_ERRKEEP);
			g->errlen = EXEC_ERRKEEP;
		} else {
			if (g->errlen + (size_t)n > EXEC_ERRKEEP) {
				size_t drop = g->errlen + (size_t)n -
				    EXEC_ERRKEEP;

				memmove(g->errtail, g->errtail + drop,
				    g->errlen - drop);
				g->errlen -= drop;
			}
			memcpy(g->errtail + g->errlen, b, (size_t)n);
			g->errlen += (size_t)n;
		}
	}
}

/* Add " (stderr: LAST LINE)" to err when the program said anything. */
static void
add_stderr(struct prog *g, char *err, size_t errlen)
{
	char vis[256];
	size_t end, start, used;

	drain_err(g);
	end = g->errlen;
	while (end > 0 && (g->errtail[end - 1] == '\n' ||
	    g->errtail[end - 1] == '\r'))
		end--;
	if (end == 0)
		return;
	for (start = end; start > 0 && g->errtail[start - 1] != '\n'; start--)
		;
	str_vis(vis, sizeof(vis), g->errtail + start, end - start);
	used = strlen(err);
	snprintf(err + used, errlen - used, " (stderr: %s)", vis);
}

static void
kill_group(struct prog *g)
{
	struct timespec ts = { 0, 50 * 1000000L };
	int i;

	(void)kill(-g->pid, SIGTERM);
	for (i = 0; i < 40; i++) {
		if (!g->reaped && waitpid(g->pid, &g->status, WNOHANG) ==
		    g->pid)
			g->reaped = 1;
		if (g->reaped && kill(-g->pid, 0) == -1 && errno == ESRCH)
			return;
		nanosleep(&ts, NULL);
	}
	(void)kill(-g->pid, SIGKILL);
	while (!g->reaped && waitpid(g->pid, &g->status, 0) == -1 &&
	    errno == EINTR)
		;
	g->reaped = 1;
}

static void
exit_text(const struct prog *g, char *buf, size_t len)
{
	if (!g->reaped)
		snprintf(buf, len, "closed its standard output");
	else if (WIFEXITED(g->status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(g->status));
	else
		snprintf(buf, len, "died of signal %d", WTERMSIG(g->status));
}

static int
e_open(struct roll_pub *p, char *err, size_t errlen)
{
	const struct roll_service *s = p->s;
	struct sigaction ign;
	struct prog *g;
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };

	snprintf(p->name, sizeof(p->name), "exec %s", s->dns.exec[0]);
	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (g->buf = malloc(EXEC_MAXLINE)) == NULL) {
		if (g != NULL)
			free(g);
		errfmt(err, errlen, "out of memory");
		return -1;
	}
	g->in = g->out = g->errfd = -1;
	if (pipe2(pin, O_CLOEXEC) == -1 || pipe2(pout, O_CLOEXEC) == -1 ||
	    pipe2(perr, O_CLOEXEC) == -1) {
		errfmt(err, errlen, "%s: pipe: %s", p->name, strerror(errno));
		goto fail;
	}
	/* A program that dies must not take us with it on our next write. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	(void)sigaction(SIGPIPE, &ign, &g->oldpipe);
	/*
	 * And a SIGCHLD ignored by whoever started us would have the kernel
	 * reap it before waitpid could tell how it ended.
	 */
	ign.sa_handler = SIG_DFL;
	(void)sigaction(SIGCHLD, &ign, &g->oldchld);
	if ((g->pid = fork()) == -1) {
		errfmt(err, errlen, "%s: fork: %s", p->name, strerror(errno));
		(void)sigaction(SIGPIPE, &g->oldpipe, NULL);
		(void)sigaction(SIGCHLD, &g->oldchld, NULL);
		goto fail;
	}
	if (g->pid == 0)
		child(s, pin[0], pout[1], perr[1]);
	(void)setpgid(g->pid, g->pid);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	g->in = pin[1];
	g->out = pout[0];
	g->errfd = perr[0];
	(void)fcntl(g->out, F_SETFL, O_NONBLOCK);
	(void)fcntl(g->errfd, F_SETFL, O_NONBLOCK);
	(void)fcntl(g->in, F_SETFL, O_NONBLOCK);
	p->impl = g;
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (pin[i] != -1)
			close(pin[i]);
		if (pout[i] != -1)
			close(pout[i]);
		if (perr[i] != -1)
			close(perr[i]);
	}
	free(g->buf);
	free(g);
	return -1;
}

/*
 * Send req (a line, newline included) and read one answer line (without
 * its newline) into *line (the caller frees).  0, or -1 with a reason
 * naming the program.
 */
static int
exchange(struct roll_pub *p, const char *req, char **line, char *err,
    size_t errlen)
{
	struct prog *g = p->impl;
	struct pollfd pf[2];
	struct timespec ts = { 0, 20 * 1000000L };
	size_t off = 0, reqlen = strlen(req);
	time_t deadline = mono_ms() + (time_t)p->s->dns.exec_timeout * 1000;
	time_t until;
	ssize_t n;
	char *nl, how[64];
	int left;

	if (g->dead) {
		errfmt(err, errlen, "%s: is not running any more", p->name);
		return -1;
	}
	if (g->len > 0) {
		errfmt(err, errlen, "%s: wrote more than one answer line to "
		    "a request", p->name);
		return -1;
	}
	for (;;) {
		if ((nl = memchr(g->buf, '\n', g->len)) != NULL)
			break;
		if (g->len >= EXEC_MAXLINE) {
			errfmt(err, errlen, "%s: an answer longer than %d "
			    "bytes", p->name, EXEC_MAXLINE);
			goto kill;
		}
		if ((left = (int)(deadline - mono_ms())) <= 0) {
			errfmt(err, errlen, "%s: no answer within %u s; killed "
			    "(with its process group)", p->name,
			    p->s->dns.exec_timeout);
			goto kill;
		}
		pf[0].fd = off < reqlen ? g->in : g->out;
		pf[0].events = off < reqlen ? POLLOUT : POLLIN;
		pf[1].fd = g->errfd;
		pf[1].events = POLLIN;
		if (poll(pf, 2, left) == -1) {
			if (errno == EINTR)
				continue;
			errfmt(err, errlen, "%s: poll: %s", p->name,
			    strerror(errno));
			goto kill;
		}
		if (pf[1].revents != 0)
			drain_err(g);
		if (pf[0].revents == 0)
			continue;
		if (off < reqlen) {
			n = write(g->in, req + off, reqlen - off);
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n == -1)
				goto dead;	/* EPIPE: it is gone */
			off += (size_t)n;
			continue;
		}
		n = read(g->out, g->buf + g->len, EXEC_MAXLINE - g->len);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			goto dead;
		g->len += (size_t)n;
	}
	*nl = '\0';
	if (memchr(g->buf, '\0', (size_t)(nl - g->buf)) != NULL) {
		errfmt(err, errlen, "%s: a NUL byte in its answer", p->name);
		goto kill;
	}
	if (nl > g->buf && nl[-1] == '\r')
		nl[-1] = '\0';
	if ((*line = strdup(g->buf)) == NULL) {
		errfmt(err, errlen, "out of memory");
		return -1;
	}
	/* What follows the line stays for the check at the next request. */
	g->len -= (size_t)(nl + 1 - g->buf);
	memmove(g->buf, nl + 1, g->len);
	return 0;
dead:
	/* Its stdout is closed: it exited (or will soon); say how. */
	g->dead = 1;
	until = mono_ms() + 2000;
	while (!g->reaped && mono_ms() < until) {
		if (waitpid(g->pid, &g->status, WNOHANG) == g->pid)
			g->reaped = 1;
		else
			nanosleep(&ts, NULL);
	}
	exit_text(g, how, sizeof(how));
	errfmt(err, errlen, "%s: %s without answering", p->name, how);
	add_stderr(g, err, errlen);
	return -1;
kill:
	g->dead = 1;
	kill_group(g);
	add_stderr(g, err, errlen);
	return -1;
}

/*
 * Send a request and parse its answer.  ROLL_PUB_OK or
 * ROLL_PUB_CONFLICT (with *set), or -1 (an "error" answer included).
 */
static int
answer(struct roll_pub *p, const char *owner, const char *req, int want_set,
    struct zone_rrset *set, char *err, size_t errlen)
{
	char *line = NULL, text[300], e[ERRBUF_LEN];
	int k;

	memset(set, 0, sizeof(*set));
	if (exchange(p, req, &line, err, errlen) == -1)
		return -1;
	k = roll_pub_answer_parse(line, want_set, set, text, sizeof(text), e,
	    sizeof(e));
	free(line);
	if (k == -1) {
		errfmt(err, errlen, "%s: %s: %s", p->name, owner, e);
		return -1;
	}
	if (k == ROLL_PUB_ERROR) {
		errfmt(err, errlen, "%s: %s: error: %s", p->name, owner, text);
		return -1;
	}
	return k;
}

static int
e_read(struct roll_pub *p, const char *owner, struct zone_rrset *out,
    char *err, size_t errlen)
{
	char *req;
	int k;

	if (asprintf(&req, "read %s\n", owner) == -1) {
		errfmt(err, errlen, "out of memory");
		return -1;
	}
	k = answer(p, owner, req, 1, out, err, errlen);
	free(req);
	return k == -1 ? -1 : 0;
}

static int
e_replace(struct roll_pub *p, const char *owner,
    const struct zone_rrset *expect, const struct zone_rrset *want,
    struct zone_rrset *now, char *err, size_t errlen)
{
	char *req = NULL, *a = NULL, *b = NULL;
	int k = -1;

	if ((a = roll_pub_set_format(expect)) == NULL ||
	    (b = roll_pub_set_format(want)) == NULL ||
	    asprintf(&req, "replace %s %s %s\n", owner, a, b) == -1) {
		req = NULL;
		errfmt(err, errlen, "out of memory");
		goto out;
	}
	k = answer(p, owner, req, 0, now, err, errlen);
out:
	free(a);
	free(b);
	free(req);
	return k == ROLL_PUB_CONFLICT ? 1 : k;
}

static void
e_close(struct roll_pub *p)
{
	struct prog *g = p->impl;
	struct timespec ts = { 0, 20 * 1000000L };
	time_t deadline;
	char how[64], b[4096];

	if (g == NULL)
		return;
	close(g->in);
	deadline = mono_ms() + (time_t)p->s->dns.exec_timeout * 1000;
	while (!g->reaped) {
		if (waitpid(g->pid, &g->status, WNOHANG) == g->pid) {
			g->reaped = 1;
			break;
		}
		if (mono_ms() >= deadline) {
			kill_group(g);
			log_warn("%s: still running %u s after its input was "
			    "closed; killed (with its process group)", p->name,
			    p->s->dns.exec_timeout);
			break;
		}
		/* Keep its pipes from filling while it finishes. */
		while (g->out != -1 && read(g->out, b, sizeof(b)) > 0)
			;
		drain_err(g);
		nanosleep(&ts, NULL);
	}
	if (!g->dead && !(WIFEXITED(g->status) &&
	    WEXITSTATUS(g->status) == 0)) {
		char e[ERRBUF_LEN] = "";

		exit_text(g, how, sizeof(how));
		add_stderr(g, e, sizeof(e));
		log_warn("%s: %s at the end of the session%s", p->name, how, e);
	}
	close(g->out);
	if (g->errfd != -1)
		close(g->errfd);
	(void)sigaction(SIGPIPE, &g->oldpipe, NULL);
	(void)sigaction(SIGCHLD, &g->oldchld, NULL);
	free(g->buf);
	free(g);
}

const struct roll_pub_ops roll_pub_exec_ops = {
	"exec", e_open, e_read, e_replace, NULL, e_close
};
