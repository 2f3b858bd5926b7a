/*
 * Unit tests of the rollover state machine (roll_run.c) against a
 * scripted world (roll_world.h), after unbound's testbound replays:
 * simulated time, an in-memory zone behind the publisher interface
 * (with the compare and swap of replace), authoritative servers that
 * serve what the zone held some seconds ago, a resolver, a deploy
 * directory and an MTA that are a few fields, and a live check that
 * validates what the MTA serves against the records it is given.
 *
 * The real configuration loader, store and state files are used, in a
 * temporary directory, with the fixture certificates p256 (A) and p384
 * (B), both for mx.example.net and smtp.example.net.
 *
 * The invariant of DESIGN.md is checked by the world itself after
 * every change it sees and after every run: every certificate the MTA
 * serves matches every RRset any server has served at any owner in the
 * last 2 x TTL.  It lives in shared memory, with the zone and the clock,
 * so that a forked child stopped at a crash point (as by SIGKILL: no
 * cleanup) leaves its effects for the parent, which then carries on
 * from the state on disk, as the next cron run would.
 *
 * The lab tests (tests/integration) remain the proof against real
 * BIND, Unbound and Postfix; this is the fast, exhaustive layer.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "crashpoint.h"
#include "log.h"
#include "roll_config.h"
#include "roll_pub.h"
#include "roll_run.h"
#include "roll_state.h"
#include "roll_store.h"
#include "roll_vis.h"
#include "roll_world.h"
#include "sbuf.h"
#include "tlsa_dane.h"
#include "zone_check.h"

#define TTL		300
#define MARGIN		60
#define HOLD		(2 * TTL + MARGIN)
#define STEP		60		/* seconds between two runs */
#define MAXRUNS		200		/* runs in one drive */
#define T0		1700000000

#define MAXREC		8
#define MAXVER		48
#define NOWN		2
#define NSRV		2

/* ---- the world, in shared memory ------------------------------------ */

struct srec {
	unsigned char	 u, s, m;
	unsigned char	 len;
	unsigned char	 d[64];
};

struct sset {
	int		 n;
	struct srec	 r[MAXREC];
};

struct version {
	time_t		 at;
	struct sset	 set;
};

struct owner {
	char		 name[128];
	int		 nver;
	struct version	 ver[MAXVER];
};

struct world {
	time_t		 now;		/* the true clock */
	time_t		 skew;		/* the machine runs ahead */
	struct owner	 own[NOWN];
	int		 nown;
	char		 deployed[ROLL_ID_LEN + 1];	/* the files */
	char		 served[ROLL_ID_LEN + 1];	/* by the MTA */
	/* A node that never reloads: serves stale from the live check
	 * number stale_from on. */
	char		 stale[ROLL_ID_LEN + 1];
	int		 stale_from;
	int		 nlive, ndeploy, nreload;
	/* Live checks made before the last deploy, the last replace. */
	int		 nlive_deploy, nlive_replace;
	/* Faults, scripted. */
	time_t		 delay[NSRV];	/* < 0: the server is down */
	int		 differs;	/* server 2 serves another RRset */
	int		 res_sec;	/* the resolver's verdict */
	time_t		 res_delay;
	int		 pub_error;	/* replace fails */
	int		 deploy_fail;	/* the next N deploys fail */
	int		 reload_fail;	/* the next N reloads fail */
	int		 live_fail;	/* the live check finds nothing */
	/* The invariant. */
	int		 violations;
	char		 why[512];
	/* The scenario: actions done so far (see scenario()). */
	int		 action;
};

static struct world *W;
static int in_child;	/* a forked run: no cmocka there */
static char tmpdir[PATH_MAX], statedir[PATH_MAX], cfgpath[PATH_MAX];
static struct roll_config cfg;
static char err[ERRBUF_LEN];
static char idA[ROLL_ID_LEN + 1], idB[ROLL_ID_LEN + 1];

static const char *hosts[NOWN] = { "mx.example.net", "smtp.example.net" };

static void
world_reset(void)
{
	memset(W, 0, sizeof(*W));
	W->now = T0;
	W->delay[0] = 0;
	W->delay[1] = 120;	/* a secondary two minutes behind */
	W->res_sec = ZONE_SEC_SECURE;
	W->res_delay = 30;
}

static void
violation(const char *fmt, ...)
{
	va_list ap;

	if (W->violations++ > 0)
		return;		/* the first one says it */
	va_start(ap, fmt);
	vsnprintf(W->why, sizeof(W->why), fmt, ap);
	va_end(ap);
}

/*
 * A check in code that also runs in a forked child, where a cmocka
 * failure would go on with the rest of the suite: there it is recorded
 * as a violation and the child exits 99.
 */
#define CHECK(c) do {							\
	if (!(c)) {							\
		if (in_child) {						\
			violation("%s:%d: %s", __FILE__, __LINE__, #c);	\
			_exit(99);					\
		}							\
		fail_msg("%s:%d: %s (%s)", __FILE__, __LINE__, #c, err); \
	}								\
} while (0)

static struct owner *
owner_find(const char *name)
{
	int i;

	for (i = 0; i < W->nown; i++)
		if (strcmp(W->own[i].name, name) == 0)
			return &W->own[i];
	if (W->nown == NOWN) {
		violation("more owners than hosts: %s", name);
		return NULL;
	}
	snprintf(W->own[W->nown].name, sizeof(W->own[0].name), "%s", name);
	return &W->own[W->nown++];
}

/* What the owner held at time t (the empty set before anything). */
static const struct sset *
set_at(const struct owner *o, time_t t)
{
	static const struct sset none;
	int i;

	for (i = o->nver - 1; i >= 0; i--)
		if (o->ver[i].at <= t)
			return &o->ver[i].set;
	return &none;
}

static void
to_sset(const struct zone_rrset *in, struct sset *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < in->n && i < MAXREC; i++) {
		out->r[i].u = in->v[i].spec.usage;
		out->r[i].s = in->v[i].spec.selector;
		out->r[i].m = in->v[i].spec.mtype;
		out->r[i].len = (unsigned char)in->v[i].len;
		memcpy(out->r[i].d, in->v[i].data, in->v[i].len);
	}
	out->n = (int)i;
	if (in->n > MAXREC)
		violation("an RRset of %zu records", in->n);
}

static void
to_rrset(const struct sset *in, struct zone_rrset *out)
{
	struct tlsa_rec r;
	int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < in->n; i++) {
		memset(&r, 0, sizeof(r));
		r.spec.usage = in->r[i].u;
		r.spec.selector = in->r[i].s;
		r.spec.mtype = in->r[i].m;
		r.data = (unsigned char *)in->r[i].d;
		r.len = in->r[i].len;
		CHECK(zone_rrset_push_copy(out, &r) == 0);
	}
	out->ttl = TTL;
}

static void
set_now(struct owner *o, const struct zone_rrset *want)
{
	if (o->nver == MAXVER) {
		violation("%s: too many versions", o->name);
		return;
	}
	o->ver[o->nver].at = W->now;
	to_sset(want, &o->ver[o->nver].set);
	o->nver++;
}

/*
 * The chain of the stored certificate id, loaded once (an id names its
 * contents, so the copy never goes stale), or NULL.
 */
static struct roll_cert cache[4];

static STACK_OF(X509) *
chain_of(const char *id)
{
	char e[ERRBUF_LEN];
	size_t i;

	for (i = 0; i < 4 && cache[i].chain != NULL; i++)
		if (strcmp(cache[i].id, id) == 0)
			return cache[i].chain;
	if (i == 4) {
		violation("more than 4 certificates");
		return NULL;
	}
	if (roll_store_load(statedir, "mx", id, 0, &cache[i], e,
	    sizeof(e)) == -1) {
		violation("%s: %s", id, e);
		return NULL;
	}
	return cache[i].chain;
}

static void
cache_free(void)
{
	size_t i;

	for (i = 0; i < 4; i++)
		roll_cert_free(&cache[i]);
	memset(cache, 0, sizeof(cache));
}

/* Does the stored certificate id validate against set for host? */
static int
cert_matches(const char *id, const struct zone_rrset *set, const char *host)
{
	STACK_OF(X509) *chain;
	struct tlsa_match m;
	char e[ERRBUF_LEN];

	if ((chain = chain_of(id)) == NULL || set->n == 0)
		return 0;
	return tlsa_dane_verify(chain, NULL, host, set->v, set->n, &m, e,
	    sizeof(e)) == 1;
}

/*
 * The invariant: every certificate served (the MTA's, and a stale
 * node's) matches every RRset that any server served at any owner in
 * the last 2 x TTL (the slowest server shows each version delay s
 * late).
 */
static void
invariant(const char *where)
{
	const char *ids[2] = { W->served, W->stale };
	struct zone_rrset rs;
	time_t slow = 0, end;
	int h, v, k;

	for (k = 0; k < NSRV; k++)
		if (W->delay[k] > slow)
			slow = W->delay[k];
	for (k = 0; k < 2; k++) {
		if (ids[k][0] == '\0')
			continue;
		for (h = 0; h < W->nown; h++) {
			const struct owner *o = &W->own[h];
			const char *host = strchr(o->name, '.') + 1;
			char hn[128];

			/* _25._tcp.HOST. */
			host = strchr(host, '.') + 1;
			snprintf(hn, sizeof(hn), "%s", host);
			hn[strlen(hn) - 1] = '\0';
			for (v = 0; v < o->nver; v++) {
				if (o->ver[v].at > W->now)
					continue;
				end = v + 1 < o->nver ? o->ver[v + 1].at +
				    slow : W->now + 1;
				if (end <= W->now - 2 * TTL)
					continue;
				to_rrset(&o->ver[v].set, &rs);
				if (!cert_matches(ids[k], &rs, hn))
					violation("%s at %lld: %s is served "
					    "but %s served an RRset without "
					    "its records at %lld (version %d)",
					    where, (long long)(W->now - T0),
					    ids[k], o->name, (long long)
					    (o->ver[v].at - T0), v);
				zone_rrset_free(&rs);
			}
		}
	}
	if (W->nown == 0 && W->served[0] != '\0')
		violation("%s: %s served with no records at all", where,
		    W->served);
}

/* ---- the world's functions ------------------------------------------- */

static time_t
w_now(void *arg)
{
	(void)arg;
	return W->now;
}

static int
mem_open(struct roll_pub *p, char *e, size_t elen)
{
	(void)p;
	(void)e;
	(void)elen;
	return 0;
}

static int
mem_read(struct roll_pub *p, const char *owner, struct zone_rrset *out,
    char *e, size_t elen)
{
	struct owner *o;

	(void)p;
	if ((o = owner_find(owner)) == NULL) {
		errfmt(e, elen, "memzone: no room for %s", owner);
		return -1;
	}
	to_rrset(set_at(o, W->now), out);
	return 0;
}

static int
mem_replace(struct roll_pub *p, const char *owner,
    const struct zone_rrset *expect, const struct zone_rrset *want,
    struct zone_rrset *now, char *e, size_t elen)
{
	struct zone_rrset cur;
	struct owner *o;

	(void)p;
	if (W->pub_error) {
		errfmt(e, elen, "memzone: %s: SERVFAIL", owner);
		return -1;
	}
	if ((o = owner_find(owner)) == NULL) {
		errfmt(e, elen, "memzone: no room for %s", owner);
		return -1;
	}
	to_rrset(set_at(o, W->now), &cur);
	if (!zone_rrset_equal(&cur, expect)) {
		*now = cur;	/* refused: it holds something else */
		return 1;
	}
	zone_rrset_free(&cur);
	W->nlive_replace = W->nlive;
	set_now(o, want);
	invariant("replace");
	return 0;
}

static void
mem_close(struct roll_pub *p)
{
	(void)p;
}

static const struct roll_pub_ops mem_ops = {
	"memzone", mem_open, mem_read, mem_replace, NULL, mem_close
};

static int
w_pub_open(const struct roll_service *s, struct roll_pub *p, char *e,
    size_t elen)
{
	memset(p, 0, sizeof(*p));
	p->s = s;
	p->ops = &mem_ops;
	snprintf(p->name, sizeof(p->name), "memzone");
	return p->ops->open(p, e, elen);
}

static const struct sset *
foreign(void)
{
	static struct sset f;

	f.n = 1;
	f.r[0].u = 3;
	f.r[0].s = 1;
	f.r[0].m = 1;
	f.r[0].len = 32;
	memset(f.r[0].d, 0xee, 32);
	return &f;
}

/* One server's view of one owner; delay < 0: down. */
static void
view(struct zone_vis *v, const struct owner *o, time_t delay,
    const struct sset *instead, const struct zone_rrset *expect)
{
	if (delay < 0) {
		v->state = ZONE_VIS_ERROR;
		snprintf(v->error, sizeof(v->error), "timed out");
		return;
	}
	to_rrset(instead != NULL ? instead : set_at(o, W->now - delay),
	    &v->rrset);
	v->aa = 1;
	v->has_serial = 1;
	v->ttl = TTL;
	v->neg_ttl = 60;
	v->state = zone_rrset_equal(&v->rrset, expect) ? ZONE_VIS_MATCH :
	    ZONE_VIS_DIFFERS;
}

static int
w_vis(const struct roll_vis_job *job, struct roll_vis_result *out,
    char *e, size_t elen)
{
	struct roll_vis_owner *vo;
	struct owner *o;
	size_t h, i, n;

	memset(out, 0, sizeof(*out));
	invariant("vis");
	CHECK(job->ncheck_servers == NSRV);
	CHECK(job->primary != NULL);
	if ((out->o = calloc(job->nowners, sizeof(*out->o))) == NULL)
		return -1;
	out->n = job->nowners;
	n = job->ncheck_servers + 1;
	for (h = 0; h < job->nowners; h++) {
		vo = &out->o[h];
		if ((o = owner_find(job->owners[h])) == NULL) {
			errfmt(e, elen, "vis: no room for %s", job->owners[h]);
			return -1;
		}
		vo->v = calloc(n, sizeof(*vo->v));
		CHECK(vo->v != NULL);
		vo->n = n;
		for (i = 0; i < n; i++) {
			if (i < job->ncheck_servers) {
				CHECK(zone_server_parse(
				    job->check_servers[i], &vo->v[i].srv, e,
				    elen) == 0);
				vo->v[i].role = "server";
				view(&vo->v[i], o, W->delay[i], W->differs &&
				    i == 1 ? foreign() : NULL, job->expect);
			} else {
				vo->v[i].srv = *job->primary;
				vo->v[i].role = "primary";
				view(&vo->v[i], o, 0, NULL, job->expect);
			}
		}
		if (job->resolver != NULL) {
			vo->res_asked = 1;
			vo->res_sec = W->res_sec;
			if (W->res_sec == ZONE_SEC_SECURE)
				to_rrset(set_at(o, W->now - W->res_delay),
				    &vo->res_rrset);
			else
				snprintf(vo->res_why, sizeof(vo->res_why),
				    "scripted");
		}
	}
	return 0;
}

static int
w_deploy(const char *sd, const struct roll_service *s, const char *slot,
    const char *id, char *e, size_t elen)
{
	(void)sd;
	(void)s;
	(void)slot;
	if (W->deploy_fail > 0) {
		W->deploy_fail--;
		errfmt(e, elen, "deploy: %s: No space left on device", id);
		return -1;
	}
	snprintf(W->deployed, sizeof(W->deployed), "%s", id);
	W->ndeploy++;
	W->nlive_deploy = W->nlive;
	/* As roll_deploy: the link is switched, nothing reloaded yet. */
	crashpoint("deploy:linked");
	return 0;
}

static int
w_deploy_fresh(const char *sd, const struct roll_service *s, const char *id)
{
	(void)sd;
	(void)s;
	(void)id;
	return 1;
}

static int
w_deployed(const struct roll_service *s, const char *slot, char *id,
    size_t idlen)
{
	(void)s;
	(void)slot;
	snprintf(id, idlen, "%s", W->deployed);
	return 0;
}

static int
w_reload(const struct roll_service *s, int timeout, char *e, size_t elen)
{
	(void)s;
	(void)timeout;
	W->nreload++;
	if (W->reload_fail > 0) {
		W->reload_fail--;
		errfmt(e, elen, "reload: /usr/sbin/postfix exited 1");
		return -1;
	}
	snprintf(W->served, sizeof(W->served), "%s", W->deployed);
	invariant("reload");
	return 0;
}

/* The certificates the MX addresses serve now. */
static int
serving(const char **ids)
{
	int n = 0;

	if (W->served[0] != '\0')
		ids[n++] = W->served;
	if (W->stale[0] != '\0' && W->nlive >= W->stale_from)
		ids[n++] = W->stale;
	return n;
}

static int
w_live_check(const struct roll_service *s, const struct zone_rrset *recs,
    struct zone_rrset *served, struct sbuf *report, char *e, size_t elen)
{
	const char *ids[2];
	size_t h;
	int n, k, bad = 0;

	W->nlive++;
	if (W->live_fail || (n = serving(ids)) == 0) {
		errfmt(e, elen, "service %s: no MX address found", s->name);
		return -1;
	}
	for (k = 0; k < n; k++) {
		for (h = 0; h < s->nhosts; h++)
			if (!cert_matches(ids[k], recs, hosts[h])) {
				sbuf_printf(report, "  %s: %s does not "
				    "validate\n", hosts[h], ids[k]);
				bad++;
			}
		CHECK(chain_of(ids[k]) != NULL);
		if (served != NULL)
			CHECK(roll_records_chain(s, chain_of(ids[k]), served,
			    e, elen) == 0);
	}
	return bad;
}

static int
w_live_matching(const struct roll_service *s, const struct zone_rrset *cand,
    struct zone_rrset *matched, struct sbuf *report, char *e, size_t elen)
{
	struct zone_rrset one;
	const char *ids[2];
	size_t i, h;
	int n, k;

	(void)report;
	if ((n = serving(ids)) == 0) {
		errfmt(e, elen, "service %s: no MX address found", s->name);
		return -1;
	}
	for (k = 0; k < n; k++)
		for (i = 0; i < cand->n; i++)
			for (h = 0; h < s->nhosts; h++) {
				one.v = &cand->v[i];
				one.n = 1;
				if (cert_matches(ids[k], &one, hosts[h]) &&
				    !zone_rrset_has(matched, &cand->v[i]))
					CHECK(zone_rrset_push_copy(
					    matched, &cand->v[i]) == 0);
			}
	return 0;
}

static const struct roll_world test_world = {
	.arg = NULL,
	.now = w_now,
	.vis = w_vis,
	.pub_open = w_pub_open,
	.deploy = w_deploy,
	.deploy_fresh = w_deploy_fresh,
	.deployed = w_deployed,
	.reload = w_reload,
	.live_check = w_live_check,
	.live_matching = w_live_matching,
};

/* ---- driving the machine ---------------------------------------------- */

struct run {
	struct roll_state	 st;
	int			 rc, moved;
	char			 out[4096];	/* what it said */
	char			 err[ERRBUF_LEN];
};

static void
ctx_init(struct roll_ctx *x, struct sbuf *out)
{
	memset(x, 0, sizeof(*x));
	x->c = &cfg;
	x->s = &cfg.services[0];
	x->out = out;
	x->now = W->now + W->skew;
	x->w = &test_world;
}

static void
run_done(struct run *r, struct sbuf *out)
{
	snprintf(r->out, sizeof(r->out), "%s", out->s != NULL ? out->s : "");
	sbuf_free(out);
}

/* One cron run: load the state, advance, leave the state in r. */
static void
advance(struct run *r)
{
	struct roll_ctx x;
	struct sbuf out = { 0 };

	ctx_init(&x, &out);
	CHECK(roll_state_load(statedir, "mx", &r->st, r->err,
	    sizeof(r->err)) == 0);
	r->err[0] = '\0';
	r->rc = roll_advance(&x, &r->st, &r->moved, r->err, sizeof(r->err));
	run_done(r, &out);
	invariant("after a run");
}

static int
import(const char *set, char *id)
{
	struct roll_state st;
	struct roll_ctx x;
	struct sbuf out = { 0 };
	char cert[PATH_MAX], key[PATH_MAX];
	int rc;

	snprintf(cert, sizeof(cert), "%s/%s/fullchain.pem", FIXTURES, set);
	snprintf(key, sizeof(key), "%s/%s/leaf.key.pem", FIXTURES, set);
	ctx_init(&x, &out);
	CHECK(roll_state_load(statedir, "mx", &st, err,
	    sizeof(err)) == 0);
	rc = roll_import(&x, &st, cert, key, NULL, err, sizeof(err));
	if (id != NULL && rc == 0 && roll_state_pending(&st))
		snprintf(id, ROLL_ID_LEN + 1, "%s", st.slot[0].pending);
	roll_state_free(&st);
	sbuf_free(&out);
	return rc;
}

static int
steady(const struct run *r)
{
	return r->st.phase == ROLL_STEADY && !roll_state_pending(&r->st);
}

/* When cron runs next: STEP s, or, in a hold, when it is over. */
static time_t
next_run(const struct run *r)
{
	long left = roll_hold_left(&cfg.services[0], &r->st, W->now + W->skew);

	return r->st.phase == ROLL_HOLD && left > STEP ? left : STEP;
}

/* Runs every STEP s until STEADY with nothing pending; the runs made. */
static int
drive(void)
{
	struct run r;
	int i;

	for (i = 0; i < MAXRUNS; i++) {
		advance(&r);
		if (steady(&r)) {
			roll_state_free(&r.st);
			return i + 1;
		}
		W->now += next_run(&r);
		roll_state_free(&r.st);
	}
	CHECK(!"STEADY within MAXRUNS runs");
	return -1;
}

/* The scenario, resumable: W->action says how far it got. */
static void
scenario(void)
{
	for (;;) {
		switch (W->action) {
		case 0:
			CHECK(import("p256", NULL) == 0);
			break;
		case 1:
		case 3:
			(void)drive();
			break;
		case 2:
			CHECK(import("p384", NULL) == 0);
			break;
		default:
			return;
		}
		W->action++;
	}
}

static void
zone_is(const char *id)
{
	struct roll_cert c;
	struct zone_rrset want = { 0 }, got;
	int h;

	CHECK(roll_store_load(statedir, "mx", id, 0, &c, err,
	    sizeof(err)) == 0);
	CHECK(roll_records_chain(&cfg.services[0], c.chain, &want,
	    err, sizeof(err)) == 0);
	roll_cert_free(&c);
	assert_int_equal(W->nown, NOWN);
	for (h = 0; h < W->nown; h++) {
		to_rrset(set_at(&W->own[h], W->now), &got);
		if (!zone_rrset_equal(&got, &want))
			fail_msg("%s holds %zu record(s), not exactly those "
			    "of %s", W->own[h].name, got.n, id);
		zone_rrset_free(&got);
	}
	zone_rrset_free(&want);
}

static int
has_records_of(const char *id, int owner)
{
	struct zone_rrset got;
	int r;

	to_rrset(set_at(&W->own[owner], W->now), &got);
	r = cert_matches(id, &got, hosts[owner]);
	zone_rrset_free(&got);
	return r;
}

static void
no_violation(void)
{
	if (W->violations > 0)
		fail_msg("invariant broken %d time(s); first: %s",
		    W->violations, W->why);
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p);
}

/* A fresh state directory and world, A live and STEADY (with_a). */
static void
fresh(int with_a)
{
	(void)nftw(statedir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	CHECK(mkdir(statedir, 0700) == 0);
	world_reset();
	crashpoint_set_hook(NULL);
	if (with_a) {
		W->action = 0;
		CHECK(import("p256", idA) == 0);
		(void)drive();
		W->action = 2;
		no_violation();
		assert_string_equal(W->served, idA);
	}
}

/* ---- setup ------------------------------------------------------------ */

static int
global_setup(void **state)
{
	char yaml[4096], key[PATH_MAX];
	FILE *f;
	static const char tsig[] = "key \"k\" { algorithm hmac-sha256; "
	    "secret \"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTIzNA==\"; };\n";

	(void)state;
	W = mmap(NULL, sizeof(*W), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (W == MAP_FAILED)
		return -1;
	/* Every state save fsyncs: memory, when there is some, keeps
	 * the test fast (the crash test saves a few thousand times). */
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_machine.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") :
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(statedir, sizeof(statedir), "%s/state", tmpdir);
	snprintf(key, sizeof(key), "%s/tsig.key", tmpdir);
	if ((f = fopen(key, "w")) == NULL)
		return -1;
	fputs(tsig, f);
	fclose(f);
	if (chmod(key, 0600) == -1)
		return -1;
	snprintf(yaml, sizeof(yaml),
	    "state_dir: %s\n"
	    "dns:\n"
	    "  zone: example.net.\n"
	    "  primary: 192.0.2.53\n"
	    "  tsig_key_file: %s\n"
	    "  check_servers: [192.0.2.1, 192.0.2.2]\n"
	    "  resolver: 127.0.0.1\n"
	    "  ttl: %d\n"
	    "  min_hold: 60s\n"
	    "  hold_margin: %ds\n"
	    "  visible_timeout: 30m\n"
	    "services:\n"
	    "  - name: mx\n"
	    "    hosts: [mx.example.net, smtp.example.net]\n"
	    "    deploy_dir: %s/deploy\n"
	    "    reload: [/bin/true]\n",
	    statedir, key, TTL, MARGIN, tmpdir);
	snprintf(cfgpath, sizeof(cfgpath), "%s/tlsa-rollover.yaml", tmpdir);
	if ((f = fopen(cfgpath, "w")) == NULL)
		return -1;
	fputs(yaml, f);
	fclose(f);
	if (roll_config_load(cfgpath, &cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "# %s\n", err);
		return -1;
	}
	return 0;
}

static int
global_teardown(void **state)
{
	(void)state;
	roll_config_free(&cfg);
	cache_free();
	if (getenv("KEEP_TMP") != NULL) {
		fprintf(stderr, "# kept %s\n", tmpdir);
		return 0;
	}
	(void)nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	munmap(W, sizeof(*W));
	return 0;
}

/* ---- (a) a full rollover --------------------------------------------- */

/* Does out hold the moves in moves, in this order? */
static void
moves_in_order(const char *out, const char *const *moves, size_t n)
{
	const char *p = out;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((p = strstr(p, moves[i])) == NULL)
			fail_msg("no \"%s\" (in order) in:\n%s", moves[i], out);
		p += strlen(moves[i]);
	}
}

static void
test_full_rollover(void **state)
{
	static const char *const moves[] = {
		"mx: publish -> visible", "mx: visible -> hold",
		"mx: hold -> switch", "mx: switch -> verify",
		"mx: verify -> retire", "mx: retire -> steady",
	};
	struct sbuf all = { 0 };
	struct run r;
	time_t published = 0, visible = 0, deployed = 0, retired = 0;
	int i, nlive = 0;

	(void)state;
	fresh(1);
	assert_true(has_records_of(idA, 0) && has_records_of(idA, 1));
	assert_int_equal(import("p384", idB), 0);
	for (i = 0; i < MAXRUNS; i++) {
		advance(&r);
		assert_int_equal(r.rc, 0);
		sbuf_printf(&all, "%s", r.out);
		if (published == 0 && W->own[0].nver > 0 &&
		    has_records_of(idB, 0))
			published = W->now;
		if (visible == 0 && r.st.visible_at != 0)
			visible = r.st.visible_at;
		if (deployed == 0 && strcmp(W->deployed, idB) == 0) {
			deployed = W->now;
			nlive = W->nlive_deploy;
		}
		if (retired == 0 && !has_records_of(idA, 0)) {
			retired = W->now;
			/* Only after the live check of VERIFY (and the
			 * one of RETIRE) that followed the deploy. */
			assert_true(deployed != 0);
			assert_true(W->nlive_replace >= nlive + 2);
			assert_string_equal(W->served, idB);
		}
		if (steady(&r)) {
			roll_state_free(&r.st);
			break;
		}
		W->now += next_run(&r);
		roll_state_free(&r.st);
	}
	assert_true(i < MAXRUNS);
	moves_in_order(all.s, moves, sizeof(moves) / sizeof(moves[0]));
	sbuf_free(&all);
	/* Visible only once the slowest server serves it... */
	assert_true(published != 0 && visible >= published + W->delay[1]);
	/* ... and nothing deployed before 2 x TTL + margin after that. */
	assert_true(deployed >= visible + HOLD);
	assert_true(retired >= deployed);
	zone_is(idB);
	assert_string_equal(W->served, idB);
	no_violation();
}

/* The invariant check can fire: a machine whose clock runs an hour
 * ahead of the world's leaves the hold at once. */
static void
test_invariant_can_fire(void **state)
{
	(void)state;
	fresh(1);
	assert_int_equal(import("p384", idB), 0);
	W->skew = 0;
	{
		struct run r;
		int i;

		for (i = 0; i < MAXRUNS; i++) {
			advance(&r);
			/* Once visible, the machine's clock jumps. */
			if (r.st.phase == ROLL_HOLD)
				W->skew = 3600;
			if (steady(&r)) {
				roll_state_free(&r.st);
				break;
			}
			roll_state_free(&r.st);
			W->now += STEP;
		}
	}
	assert_true(W->violations > 0);
	assert_non_null(strstr(W->why, "is served but"));
}

/* ---- (b) faults -------------------------------------------------------- */

/* n runs STEP s apart; the last one in r (caller frees r->st). */
static void
runs(struct run *r, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (i > 0) {
			roll_state_free(&r->st);
			W->now += STEP;
		}
		advance(r);
	}
}

/* B is imported onto A live; nothing of B may be deployed yet. */
static void
start_b(void)
{
	fresh(1);
	assert_int_equal(import("p384", idB), 0);
}

static void
finish_b(void)
{
	(void)drive();
	zone_is(idB);
	assert_string_equal(W->served, idB);
	no_violation();
}

static void
test_fault_lagging(void **state)
{
	struct run r;
	int n0;

	(void)state;
	start_b();
	n0 = W->ndeploy;
	W->delay[1] = -1;	/* the second server answers nothing */
	runs(&r, 3);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.st.phase, ROLL_VISIBLE);
	assert_non_null(strstr(r.out, "server 192.0.2.2@53: not yet: timed "
	    "out"));
	assert_non_null(strstr(r.st.behind, "192.0.2.2"));
	roll_state_free(&r.st);
	/* visible_timeout (30 min) later: an alert, still waiting. */
	W->now += 1800;
	advance(&r);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "is not visible everywhere yet"));
	assert_non_null(strstr(r.err, "behind: server 192.0.2.2@53"));
	assert_int_equal(r.st.phase, ROLL_VISIBLE);
	assert_non_null(strstr(r.st.alert, "not visible everywhere"));
	roll_state_free(&r.st);
	assert_int_equal(W->ndeploy, n0);
	W->delay[1] = 120;
	finish_b();
}

static void
test_fault_differs(void **state)
{
	struct run r;
	int n0;

	(void)state;
	start_b();
	n0 = W->ndeploy;
	W->differs = 1;
	runs(&r, 20);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.st.phase, ROLL_VISIBLE);
	assert_non_null(strstr(r.out, "server 192.0.2.2@53: not yet: serves "
	    "3 1 1 eeee"));
	roll_state_free(&r.st);
	assert_int_equal(W->ndeploy, n0);
	W->differs = 0;
	finish_b();
}

static void
test_fault_bogus(void **state)
{
	struct run r;
	int n0;

	(void)state;
	start_b();
	n0 = W->ndeploy;
	W->res_sec = ZONE_SEC_BOGUS;
	runs(&r, 20);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.st.phase, ROLL_VISIBLE);
	assert_non_null(strstr(r.out, "resolver 127.0.0.1@53: not yet: "
	    "bogus"));
	roll_state_free(&r.st);
	assert_int_equal(W->ndeploy, n0);
	W->res_sec = ZONE_SEC_SECURE;
	finish_b();
}

static void
test_fault_cas_refused(void **state)
{
	struct zone_rrset cur, extra;
	struct run r;
	int n0, nver;

	(void)state;
	start_b();
	n0 = W->ndeploy;
	/* Someone else adds a record at the first host. */
	to_rrset(set_at(&W->own[0], W->now), &cur);
	to_rrset(foreign(), &extra);
	assert_int_equal(zone_rrset_union(&cur, &extra), 0);
	set_now(&W->own[0], &cur);
	zone_rrset_free(&cur);
	zone_rrset_free(&extra);
	nver = W->own[0].nver;
	W->now += STEP;
	advance(&r);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "refused to replace the RRset"));
	assert_int_equal(r.st.phase, ROLL_PUBLISH);
	assert_non_null(strstr(r.st.alert, "refused to replace"));
	roll_state_free(&r.st);
	/* Never overwritten: the foreign record stays. */
	assert_int_equal(W->own[0].nver, nver);
	assert_int_equal(W->ndeploy, n0);
	no_violation();
}

static void
test_fault_publish_error(void **state)
{
	struct run r;
	int n0, nver;

	(void)state;
	start_b();
	n0 = W->ndeploy;
	nver = W->own[0].nver + W->own[1].nver;
	W->pub_error = 1;
	advance(&r);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "SERVFAIL"));
	assert_int_equal(r.st.phase, ROLL_PUBLISH);
	roll_state_free(&r.st);
	assert_int_equal(W->own[0].nver + W->own[1].nver, nver);
	assert_int_equal(W->ndeploy, n0);
	W->pub_error = 0;
	W->now += STEP;
	finish_b();
}

/* Runs until the phase is phase (at most MAXRUNS). */
static void
until_phase(struct run *r, int phase)
{
	int i;

	for (i = 0; i < MAXRUNS; i++) {
		advance(r);
		if (r->st.phase == phase)
			return;
		W->now += next_run(r);
		roll_state_free(&r->st);
	}
	fail_msg("never in phase %s", roll_phase_name(phase));
}

static void
test_fault_deploy_error(void **state)
{
	struct run r;
	int i;

	(void)state;
	start_b();
	W->deploy_fail = 1;
	for (i = 0; i < MAXRUNS; i++) {
		advance(&r);
		if (r.rc == -1)
			break;
		W->now += next_run(&r);
		roll_state_free(&r.st);
	}
	assert_true(i < MAXRUNS);
	assert_non_null(strstr(r.err, "No space left on device"));
	assert_int_equal(r.st.phase, ROLL_SWITCH);
	assert_string_equal(r.st.slot[0].current, idA);
	assert_string_equal(r.st.slot[0].pending, idB);
	roll_state_free(&r.st);
	/* The old certificate stays live. */
	assert_string_equal(W->deployed, idA);
	assert_string_equal(W->served, idA);
	W->now += STEP;
	finish_b();
}

static void
test_fault_reload(void **state)
{
	struct run r;
	int i;

	(void)state;
	start_b();
	W->reload_fail = 1;
	for (i = 0; i < MAXRUNS; i++) {
		advance(&r);
		if (r.rc == -1)
			break;
		W->now += next_run(&r);
		roll_state_free(&r.st);
	}
	assert_true(i < MAXRUNS);
	assert_non_null(strstr(r.err, "postfix exited 1"));
	assert_non_null(strstr(r.out, "switched back to"));
	assert_int_equal(r.st.phase, ROLL_SWITCH);
	assert_non_null(strstr(r.st.alert, "postfix exited 1"));
	roll_state_free(&r.st);
	/* Switched back and reloaded. */
	assert_string_equal(W->deployed, idA);
	assert_string_equal(W->served, idA);
	W->now += STEP;
	finish_b();
}

static void
test_fault_live_mismatch(void **state)
{
	struct run r;

	(void)state;
	start_b();
	/* A node that never reloads keeps serving A. */
	snprintf(W->stale, sizeof(W->stale), "%s", idA);
	until_phase(&r, ROLL_STEADY);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "not the deployed one"));
	assert_non_null(strstr(r.st.alert, "a node that did not reload"));
	assert_string_equal(r.st.slot[0].current, idA);
	assert_string_equal(r.st.slot[0].pending, idB);
	roll_state_free(&r.st);
	assert_string_equal(W->served, idA);
	/* A's records were not retired. */
	assert_true(has_records_of(idA, 0) && has_records_of(idA, 1));
	no_violation();
	W->stale[0] = '\0';
	W->now += STEP;
	finish_b();
}

static void
test_fault_retire_keeps_live(void **state)
{
	(void)state;
	start_b();
	/* VERIFY sees every address on B; by RETIRE a node serves A. */
	snprintf(W->stale, sizeof(W->stale), "%s", idA);
	W->stale_from = W->nlive + 2;
	(void)drive();
	assert_string_equal(W->served, idB);
	/* Kept: a live chain matches them. */
	assert_true(has_records_of(idA, 0) && has_records_of(idA, 1));
	assert_true(has_records_of(idB, 0) && has_records_of(idB, 1));
	no_violation();
}

static void
test_fault_live_fails(void **state)
{
	struct run r;

	(void)state;
	start_b();
	W->live_fail = 1;
	until_phase(&r, ROLL_STEADY);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "no MX address found"));
	assert_string_equal(r.st.slot[0].current, idA);
	roll_state_free(&r.st);
	assert_string_equal(W->served, idA);
	assert_true(has_records_of(idA, 0) && has_records_of(idA, 1));
	no_violation();
	W->live_fail = 0;
	W->now += STEP;
	finish_b();
}

/* ---- (c) every crash point --------------------------------------------- */

#define MAXPTS 512

struct point {
	char	name[64];
	int	occ;		/* 1: the first time it is reached */
};

static struct point pts[MAXPTS];
static int npts;
static const char *crash_name;
static int crash_occ, crash_seen;

static void
record_hook(const char *name)
{
	int i, occ = 1;

	for (i = 0; i < npts; i++)
		if (strcmp(pts[i].name, name) == 0)
			occ++;
	if (npts < MAXPTS) {
		snprintf(pts[npts].name, sizeof(pts[npts].name), "%s", name);
		pts[npts++].occ = occ;
	}
}

static void
crash_hook(const char *name)
{
	/* As SIGKILL: no cleanup, no atexit, no flush. */
	if (strcmp(name, crash_name) == 0 && ++crash_seen == crash_occ)
		_exit(77);
}

static void
final_state(void)
{
	struct roll_state st;

	assert_int_equal(roll_state_load(statedir, "mx", &st, err,
	    sizeof(err)), 0);
	assert_int_equal(st.phase, ROLL_STEADY);
	assert_false(roll_state_pending(&st));
	assert_string_equal(st.slot[0].current, idB);
	roll_state_free(&st);
	zone_is(idB);
	assert_string_equal(W->served, idB);
	no_violation();
}

static void
test_crash_points(void **state)
{
	struct roll_state st;
	pid_t pid;
	int i, status, named = 0;

	(void)state;
	fresh(0);
	npts = 0;
	crashpoint_set_hook(record_hook);
	scenario();
	crashpoint_set_hook(NULL);
	assert_int_equal(roll_state_load(statedir, "mx", &st, err,
	    sizeof(err)), 0);
	snprintf(idB, sizeof(idB), "%s", st.slot[0].current);
	roll_state_free(&st);
	final_state();
	assert_true(npts > 10 && npts < MAXPTS);
	for (i = 0; i < npts; i++)
		if (strcmp(pts[i].name, "publish:dns-updated") == 0 ||
		    strcmp(pts[i].name, "retire:dns-updated") == 0 ||
		    strcmp(pts[i].name, "switch:reloaded") == 0 ||
		    strcmp(pts[i].name, "deploy:linked") == 0)
			named++;
	assert_true(named >= 5);
	print_message("%d crash points reached\n", npts);

	for (i = 0; i < npts; i++) {
		fresh(0);
		fflush(NULL);
		if ((pid = fork()) == -1)
			fail_msg("fork: %s", strerror(errno));
		if (pid == 0) {
			in_child = 1;
			crash_name = pts[i].name;
			crash_occ = pts[i].occ;
			crash_seen = 0;
			crashpoint_set_hook(crash_hook);
			scenario();
			_exit(0);	/* the point was not reached */
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 77)
			fail_msg("%s #%d: the child did not stop there (status "
			    "%d): %s", pts[i].name, pts[i].occ, status,
			    W->why);
		/* The next cron run, from what is on disk. */
		scenario();
		if (W->violations > 0 || W->action != 4)
			fail_msg("after a crash at %s #%d: %s", pts[i].name,
			    pts[i].occ, W->why);
		final_state();
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_rollover),
		cmocka_unit_test(test_invariant_can_fire),
		cmocka_unit_test(test_fault_lagging),
		cmocka_unit_test(test_fault_differs),
		cmocka_unit_test(test_fault_bogus),
		cmocka_unit_test(test_fault_cas_refused),
		cmocka_unit_test(test_fault_publish_error),
		cmocka_unit_test(test_fault_deploy_error),
		cmocka_unit_test(test_fault_reload),
		cmocka_unit_test(test_fault_live_mismatch),
		cmocka_unit_test(test_fault_retire_keeps_live),
		cmocka_unit_test(test_fault_live_fails),
		cmocka_unit_test(test_crash_points),
	};

	return cmocka_run_group_tests(tests, global_setup, global_teardown);
}
