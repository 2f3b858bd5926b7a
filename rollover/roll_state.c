/*
 * roll_state.c: state files and the run lock.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "crashpoint.h"
#include "fileio.h"
#include "log.h"
#include "roll_state.h"
#include "sbuf.h"
#include "tlsa_parse.h"

static const char *const phase_names[] = {
	"steady", "publish", "visible", "hold", "switch", "verify", "retire"
};

const char *
roll_phase_name(int phase)
{
	if (phase < 0 || phase > ROLL_RETIRE)
		return "?";
	return phase_names[phase];
}

struct roll_slot *
roll_state_slot(struct roll_state *st, const char *name)
{
	int i;

	for (i = 0; i < st->nslots; i++)
		if (strcmp(st->slot[i].name, name) == 0)
			return &st->slot[i];
	if (st->nslots == ROLL_MAX_SLOTS || strlen(name) >= 8)
		return NULL;
	memset(&st->slot[st->nslots], 0, sizeof(st->slot[0]));
	snprintf(st->slot[st->nslots].name, sizeof(st->slot[0].name), "%s",
	    name);
	return &st->slot[st->nslots++];
}

struct roll_node_state *
roll_state_node(struct roll_state *st, const char *name)
{
	int i;

	for (i = 0; i < st->nnodes; i++)
		if (strcmp(st->node[i].name, name) == 0)
			return &st->node[i];
	if (st->nnodes == ROLL_MAX_NODES_STATE ||
	    strlen(name) >= sizeof(st->node[0].name))
		return NULL;
	memset(&st->node[st->nnodes], 0, sizeof(st->node[0]));
	snprintf(st->node[st->nnodes].name, sizeof(st->node[0].name), "%s",
	    name);
	return &st->node[st->nnodes++];
}

int
roll_state_pending(const struct roll_state *st)
{
	int i;

	for (i = 0; i < st->nslots; i++)
		if (st->slot[i].pending[0] != '\0')
			return 1;
	return 0;
}

void
roll_state_free(struct roll_state *st)
{
	zone_rrset_free(&st->published);
	memset(st, 0, sizeof(*st));
}

static int
valid_id(const char *s)
{
	size_t n = strlen(s);

	return n == 0 || (n == ROLL_ID_LEN &&
	    strspn(s, "0123456789abcdef") == n);
}

static int
parse_time(const char *s, time_t *t)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	/*
	 * Up to the year 9999: the run adds hold times to these, which
	 * must not overflow whatever a damaged file says.
	 */
	if (errno != 0 || *end != '\0' || *s == '\0' || v < 0 ||
	    v > 253402300799LL)
		return -1;
	*t = (time_t)v;
	return 0;
}

static int
valid_node(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && s[0] != '.' && s[0] != '-' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* "NAME SLOT CURRENT [PREVIOUS]" (SLOT and IDs "-" when empty). */
static int
parse_node(struct roll_state *st, char *val)
{
	char *f[4], *sv = NULL, *t;
	struct roll_node_state *nd;
	struct roll_slot *sl;
	int n = 0, k;

	for (t = strtok_r(val, " ", &sv); t != NULL;
	    t = strtok_r(NULL, " ", &sv)) {
		if (n == 4)
			return -1;
		f[n++] = t;
	}
	if (n < 3 || !valid_node(f[0]))
		return -1;
	if (strcmp(f[1], "-") != 0 && strcmp(f[1], "ecdsa") &&
	    strcmp(f[1], "rsa") && strcmp(f[1], "eddsa"))
		return -1;
	if ((sl = roll_state_slot(st, strcmp(f[1], "-") == 0 ? "" : f[1])) ==
	    NULL || (nd = roll_state_node(st, f[0])) == NULL)
		return -1;
	k = (int)(sl - st->slot);
	if (nd->current[k][0] != '\0' || nd->previous[k][0] != '\0')
		return -1;	/* once per node and slot */
	if (strcmp(f[2], "-") != 0) {
		if (!valid_id(f[2]) || f[2][0] == '\0')
			return -1;
		snprintf(nd->current[k], ROLL_ID_LEN + 1, "%s", f[2]);
	}
	if (n == 4) {
		if (!valid_id(f[3]) || f[3][0] == '\0')
			return -1;
		snprintf(nd->previous[k], ROLL_ID_LEN + 1, "%s", f[3]);
	}
	return nd->current[k][0] != '\0' || nd->previous[k][0] != '\0' ? 0 :
	    -1;
}

/* "NAME FAILURES WAIT|stopped REASON" */
static int
parse_node_failed(struct roll_state *st, char *val)
{
	struct roll_node_state *nd;
	char *name = val, *num, *w, *why, *end;
	unsigned long v;

	if ((num = strchr(name, ' ')) == NULL)
		return -1;
	*num++ = '\0';
	if ((w = strchr(num, ' ')) == NULL)
		return -1;
	*w++ = '\0';
	if ((why = strchr(w, ' ')) == NULL)
		return -1;
	*why++ = '\0';
	if (!valid_node(name) || (nd = roll_state_node(st, name)) == NULL ||
	    nd->failures != 0 || *why == '\0')
		return -1;
	errno = 0;
	v = strtoul(num, &end, 10);
	if (!isdigit((unsigned char)*num) || *end != '\0' || errno != 0 ||
	    v == 0 || v > 1000)
		return -1;
	nd->failures = (unsigned)v;
	if (strcmp(w, "stopped") == 0)
		nd->stopped = 1;
	else if (strcmp(w, "0") == 0 || strcmp(w, "1") == 0)
		nd->wait = w[0] - '0';
	else
		return -1;
	snprintf(nd->error, sizeof(nd->error), "%s", why);
	return 0;
}

/*
 * Parse the state text buf (len bytes, NUL-terminated after them; it is
 * cut up in place) into st; errors name path.  0 or -1.
 */
static int
parse_state(const char *path, unsigned char *buf, size_t len,
    struct roll_state *st, char *err, size_t errlen)
{
	char lerr[ERRBUF_LEN], *line, *next, *val;
	struct tlsa_reclist rl = { 0 };
	size_t lineno = 0, i;
	int rc = -1, have_phase = 0;
	char seen[16][32];
	size_t nseen = 0, k;

	memset(st, 0, sizeof(*st));
	if (len == 0) {
		errfmt(err, errlen, "%s: empty: the state file is damaged "
		    "(restore it from state.prev: see RECOVERY in "
		    "tlsa-rollover(8))", path);
		goto out;
	}
	if ((val = memchr(buf, '\0', len)) != NULL) {
		for (line = (char *)buf, lineno = 1; line < val; line++)
			if (*line == '\n')
				lineno++;
		errfmt(err, errlen, "%s: line %zu: binary data: the state file "
		    "is damaged (restore it from state.prev: see RECOVERY "
		    "in tlsa-rollover(8))", path, lineno);
		goto out;
	}
	for (line = (char *)buf; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else {
			errfmt(err, errlen, "%s: line %zu: truncated (no "
			    "newline): the state file is damaged (restore it "
			    "from state.prev: see RECOVERY in "
			    "tlsa-rollover(8))", path, lineno);
			goto out;
		}
		if (*line == '#' || *line == '\0')
			continue;
		if ((val = strstr(line, ": ")) == NULL)
			goto bad;
		*val = '\0';
		val += 2;
		/* Each key once, but for the ones that are lists. */
		if (strcmp(line, "published") != 0 && strcmp(line, "current") &&
		    strcmp(line, "previous") && strcmp(line, "pending") &&
		    strcmp(line, "node") && strcmp(line, "node_failed")) {
			for (k = 0; k < nseen; k++)
				if (strcmp(seen[k], line) == 0)
					goto bad;
			if (nseen < 16 && strlen(line) < 32)
				snprintf(seen[nseen++], 32, "%s", line);
		}
		if (strcmp(line, "phase") == 0) {
			have_phase = 1;
			for (i = 0; i <= ROLL_RETIRE; i++)
				if (strcmp(val, phase_names[i]) == 0)
					break;
			if (i > ROLL_RETIRE)
				goto bad;
			st->phase = (int)i;
		} else if (strcmp(line, "current") == 0 ||
		    strcmp(line, "previous") == 0 ||
		    strcmp(line, "pending") == 0) {
			/* "ID" for the one slot, "SLOT ID" with several */
			struct roll_slot *sl;
			char *sp = strchr(val, ' '), *dst;

			if (sp != NULL)
				*sp++ = '\0';
			if ((sl = roll_state_slot(st, sp != NULL ? val : "")) ==
			    NULL)
				goto bad;
			if (sp != NULL && strcmp(val, "ecdsa") &&
			    strcmp(val, "rsa") && strcmp(val, "eddsa"))
				goto bad;
			val = sp != NULL ? sp : val;
			dst = line[0] == 'c' ? sl->current : line[1] == 'r' ?
			    sl->previous : sl->pending;
			/* once per slot; never empty (save leaves those out) */
			if (val[0] == '\0' || !valid_id(val) || dst[0] != '\0')
				goto bad;
			snprintf(dst, ROLL_ID_LEN + 1, "%s", val);
		} else if (strcmp(line, "staged") == 0) {
			if (val[0] == '\0' || !valid_id(val))
				goto bad;
			snprintf(st->staged, ROLL_ID_LEN + 1, "%s", val);
		} else if (strcmp(line, "published") == 0) {
			st->have_published = 1;
			if (strcmp(val, "none") != 0 &&
			    tlsa_parse_line(&rl, val, lerr, sizeof(lerr)) == -1)
				goto bad;
		} else if (strcmp(line, "published_at") == 0) {
			if (parse_time(val, &st->published_at) == -1)
				goto bad;
		} else if (strcmp(line, "visible_at") == 0) {
			if (parse_time(val, &st->visible_at) == -1)
				goto bad;
		} else if (strcmp(line, "switched_at") == 0) {
			if (parse_time(val, &st->switched_at) == -1)
				goto bad;
		} else if (strcmp(line, "updated_at") == 0) {
			if (parse_time(val, &st->updated_at) == -1)
				goto bad;
		} else if (strcmp(line, "hold_ttl") == 0) {
			time_t t;

			if (parse_time(val, &t) == -1 || t > 0x7fffffff)
				goto bad;
			st->hold_ttl = (uint32_t)t;
		} else if (strcmp(line, "alert") == 0) {
			snprintf(st->alert, sizeof(st->alert), "%s", val);
		} else if (strcmp(line, "behind") == 0) {
			snprintf(st->behind, sizeof(st->behind), "%s", val);
		} else if (strcmp(line, "checked_at") == 0) {
			if (parse_time(val, &st->checked_at) == -1)
				goto bad;
		} else if (strcmp(line, "node") == 0) {
			if (parse_node(st, val) == -1)
				goto bad;
		} else if (strcmp(line, "node_failed") == 0) {
			if (parse_node_failed(st, val) == -1)
				goto bad;
		} else if (strcmp(line, "published_hosts") == 0) {
			snprintf(st->published_hosts,
			    sizeof(st->published_hosts), "%s", val);
		} else
			goto bad;
	}
	if (!have_phase) {
		errfmt(err, errlen, "%s: no phase line: the state file is "
		    "damaged (restore it from state.prev: see RECOVERY in "
		    "tlsa-rollover(8))", path);
		goto out;
	}
	/* The records move into st->published. */
	if (rl.n > 0) {
		if ((st->published.v = calloc(rl.n, sizeof(*st->published.v)))
		    == NULL) {
			errfmt(err, errlen, "out of memory");
			goto out;
		}
		for (i = 0; i < rl.n; i++) {
			st->published.v[i] = rl.v[i];
			memset(&rl.v[i], 0, sizeof(rl.v[i]));
		}
		st->published.n = rl.n;
	}
	rc = 0;
	goto out;
bad:
	errfmt(err, errlen, "%s: line %zu: not a state line: the state file "
	    "is damaged (restore it from state.prev: see RECOVERY in "
	    "tlsa-rollover(8))", path, lineno);
out:
	tlsa_reclist_free(&rl);
	if (rc != 0)
		roll_state_free(st);
	return rc;
}

int
roll_state_load(const char *state_dir, const char *service,
    struct roll_state *st, char *err, size_t errlen)
{
	char path[PATH_MAX], lerr[ERRBUF_LEN];
	unsigned char *buf;
	size_t len;
	int rc;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "%s/%s/state", state_dir, service);
	if (access(path, F_OK) == -1 && errno == ENOENT)
		return 0;
	if (fileio_read_bounded(path, 1024 * 1024, &buf, &len, lerr,
	    sizeof(lerr)) == -1) {
		errfmt(err, errlen, "%s: %s", path, lerr);
		return -1;
	}
	rc = parse_state(path, buf, len, st, err, errlen);
	free(buf);
	return rc;
}

/*
 * "key: text" when text is not empty, on one line: control bytes become
 * spaces.  Not str_vis, whose escapes would double on every load and
 * save.
 */
static void
put_line(struct sbuf *b, const char *key, const char *text)
{
	char one[512], *c;

	if (text[0] == '\0')
		return;
	snprintf(one, sizeof(one), "%s", text);
	for (c = one; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	sbuf_printf(b, "%s: %s\n", key, one);
}

int
roll_state_serialise(const char *service, const struct roll_state *st,
    struct sbuf *b, char *err, size_t errlen)
{
	struct roll_state back;
	unsigned char *copy;
	char lerr[ERRBUF_LEN], what[PATH_MAX], *hex;
	size_t i;
	int rc;

	sbuf_printf(b, "# tlsa-rollover state of service %s; written by "
	    "tlsa-rollover, do not edit\n", service);
	sbuf_printf(b, "phase: %s\n", roll_phase_name(st->phase));
	for (i = 0; i < (size_t)st->nslots; i++) {
		const struct roll_slot *sl = &st->slot[i];
		const char *sp = sl->name[0] ? " " : "";

		if (sl->current[0])
			sbuf_printf(b, "current: %s%s%s\n", sl->name, sp,
			    sl->current);
		if (sl->previous[0])
			sbuf_printf(b, "previous: %s%s%s\n", sl->name, sp,
			    sl->previous);
		if (sl->pending[0])
			sbuf_printf(b, "pending: %s%s%s\n", sl->name, sp,
			    sl->pending);
	}
	if (st->staged[0])
		sbuf_printf(b, "staged: %s\n", st->staged);
	for (i = 0; i < (size_t)st->nnodes; i++) {
		const struct roll_node_state *nd = &st->node[i];
		int k;

		for (k = 0; k < st->nslots; k++)
			if (nd->current[k][0] || nd->previous[k][0])
				sbuf_printf(b, "node: %s %s %s%s%s\n", nd->name,
				    st->slot[k].name[0] ? st->slot[k].name :
				    "-", nd->current[k][0] ? nd->current[k] :
				    "-", nd->previous[k][0] ? " " : "",
				    nd->previous[k]);
		if (nd->failures > 0) {
			char one[sizeof(nd->error)], *c;

			snprintf(one, sizeof(one), "%s", nd->error[0] ?
			    nd->error : "?");
			for (c = one; *c != '\0'; c++)
				if ((unsigned char)*c < 0x20 || *c == 0x7f)
					*c = ' ';
			sbuf_printf(b, "node_failed: %s %u %s %s\n", nd->name,
			    nd->failures, nd->stopped ? "stopped" :
			    nd->wait > 0 ? "1" : "0", one);
		}
	}
	if (st->have_published && st->published.n == 0)
		sbuf_printf(b, "published: none\n");
	for (i = 0; i < st->published.n; i++) {
		hex = tlsa_hex(st->published.v[i].data,
		    st->published.v[i].len);
		sbuf_printf(b, "published: %u %u %u %s\n",
		    st->published.v[i].spec.usage,
		    st->published.v[i].spec.selector,
		    st->published.v[i].spec.mtype, hex != NULL ? hex : "");
		free(hex);
	}
	if (st->published_hosts[0])
		sbuf_printf(b, "published_hosts: %s\n", st->published_hosts);
	if (st->published_at)
		sbuf_printf(b, "published_at: %lld\n",
		    (long long)st->published_at);
	if (st->visible_at)
		sbuf_printf(b, "visible_at: %lld\n",
		    (long long)st->visible_at);
	if (st->hold_ttl)
		sbuf_printf(b, "hold_ttl: %u\n", st->hold_ttl);
	if (st->switched_at)
		sbuf_printf(b, "switched_at: %lld\n",
		    (long long)st->switched_at);
	sbuf_printf(b, "updated_at: %lld\n", (long long)st->updated_at);
	if (st->checked_at)
		sbuf_printf(b, "checked_at: %lld\n",
		    (long long)st->checked_at);
	put_line(b, "behind", st->behind);
	put_line(b, "alert", st->alert);
	if (b->failed) {
		errfmt(err, errlen, "out of memory");
		return -1;
	}
	/*
	 * Never write what the loader would refuse (a TTL or time out of
	 * its range, say): that would stop every later command.
	 */
	if ((copy = malloc(b->len + 1)) == NULL) {
		errfmt(err, errlen, "out of memory");
		return -1;
	}
	memcpy(copy, b->s, b->len);
	copy[b->len] = '\0';
	snprintf(what, sizeof(what), "service %s: new state", service);
	rc = parse_state(what, copy, b->len, &back, lerr, sizeof(lerr));
	free(copy);
	if (rc == -1) {
		char *cut;

		/* Nothing is damaged: the advice on recovery does not apply. */
		if ((cut = strstr(lerr, ": the state file is damaged")) != NULL)
			*cut = '\0';
		errfmt(err, errlen, "service %s: refusing to save a state the "
		    "loader would not read back (%s)", service, lerr);
		return -1;
	}
	roll_state_free(&back);
	return 0;
}

int
roll_state_save(const char *state_dir, const char *service,
    struct roll_state *st, char *err, size_t errlen)
{
	return roll_state_save_at(state_dir, service, st, time(NULL), err,
	    errlen);
}

int
roll_state_save_at(const char *state_dir, const char *service,
    struct roll_state *st, time_t now, char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX], prev[PATH_MAX], ptmp[PATH_MAX];
	struct sbuf b = { 0 };
	int rc;

	st->updated_at = now;
	if (roll_state_serialise(service, st, &b, err, errlen) == -1) {
		sbuf_free(&b);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/%s", state_dir, service);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		errfmt(err, errlen, "%s: %s", dir, strerror(errno));
		sbuf_free(&b);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/state", dir);
	{
		char point[64];

		/* The step is done; its phase is not on disk yet. */
		snprintf(point, sizeof(point), "state:%s",
		    roll_phase_name(st->phase));
		crashpoint(point);
	}
	/*
	 * Keep the state before this change as state.prev (a hard link,
	 * swapped in by rename): a damaged state file can be replaced by
	 * it, which is the same as a crash just before this save.
	 */
	snprintf(prev, sizeof(prev), "%s/state.prev", dir);
	snprintf(ptmp, sizeof(ptmp), "%s/.state.prev.tmp", dir);
	(void)unlink(ptmp);
	if (link(path, ptmp) == 0) {
		(void)rename(ptmp, prev);
		/* Gone, unless prev was path already (a save that failed):
		 * then rename did nothing. */
		(void)unlink(ptmp);
	}
	rc = atomic_write(path, b.s, b.len, 0600, err, errlen);
	sbuf_free(&b);
	return rc;
}

int
roll_lock(const char *state_dir, char *err, size_t errlen)
{
	char path[PATH_MAX], pid[32];
	ssize_t n;
	int fd;

	if (mkdir(state_dir, 0700) == -1 && errno != EEXIST) {
		errfmt(err, errlen, "%s: %s", state_dir, strerror(errno));
		return -1;
	}
	/* Keys live below: no symlink someone else planted, no writers. */
	if (fileio_dir_is_ours(state_dir, err, errlen) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/lock", state_dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1) {
		errfmt(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (strspn(pid, "0123456789") != strlen(pid))
			pid[0] = '\0';
		errfmt(err, errlen, "%s: another tlsa-rollover (pid %s) is "
		    "running; this one stops here", path,
		    pid[0] ? pid : "?");
		close(fd);
		return -1;
	}
	/*
	 * The pid, and when the lock was taken (for roll_lock_age).
	 * Overwrite, then cut: on a full disk the file keeps its block.
	 */
	snprintf(pid, sizeof(pid), "%ld\n%lld\n", (long)getpid(),
	    (long long)time(NULL));
	if (pwrite(fd, pid, strlen(pid), 0) != (ssize_t)strlen(pid) ||
	    ftruncate(fd, (off_t)strlen(pid)) == -1) {
		errfmt(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

long long
roll_lock_age(const char *state_dir, time_t now)
{
	char path[PATH_MAX], buf[64], *t, *end;
	long long since;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/lock", state_dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if ((t = strchr(buf, '\n')) == NULL)
		return -1;
	t++;
	errno = 0;
	since = strtoll(t, &end, 10);
	if (errno != 0 || end == t || *end != '\n' || since <= 0 ||
	    since > (long long)now)
		return -1;
	return (long long)now - since;
}
