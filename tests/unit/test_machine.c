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
 * (B), both for mx.example.net and smtp.example.net, for three
 * services: mx (one certificate, one deploy directory), dual (an ECDSA
 * and an RSA slot, A and B being p256 + rsa2048 and p384 + rsa4096)
 * and fleet (nodes n1, with a deploy directory, and n2, with a push).
 * The world tells the machines of a fleet apart by the deploy_dir of
 * the view of the service roll_fleet.c hands it, and a push from a
 * reload by the argv it is given (the node's push).
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
#include "roll_deploy.h"
#include "roll_fleet.h"
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

#define MAXREC		12
#define MAXVER		48
#define NOWN		2
#define NSRV		2
#define NSLOT		2	/* certificate slots of a service */
#define NNODE		2	/* machines serving it */
#define NCERT		8	/* certificates the world knows */
#define IDLEN		(ROLL_ID_LEN + 1)

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

/*
 * A machine with an MTA: the service's own (node 0 of a service without
 * nodes) or a fleet's node.  Per slot, by the index of the slot in the
 * service's certificates: list (0 for the single slot).
 */
struct node {
	char		 staged[NSLOT][IDLEN];	/* a push node's staging */
	char		 files[NSLOT][IDLEN];	/* what its MTA reads */
	char		 served[NSLOT][IDLEN];	/* what its MTA serves */
	int		 npush, nreload;	/* tried, failed or not */
	int		 reload_fail;	/* the next N reloads fail; < 0: all */
	int		 push_fail;	/* the next N pushes fail; < 0: all */
	int		 misplace;	/* a push "succeeds" into elsewhere */
};

struct world {
	time_t		 now;		/* the true clock */
	time_t		 skew;		/* the machine runs ahead */
	struct owner	 own[NOWN];
	int		 nown;
	struct node	 node[NNODE];
	/* A node that never reloads: serves stale from the live check
	 * number stale_from on. */
	char		 stale[IDLEN];
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
	int		 deploy_fail;	/* the next N deploys fail... */
	char		 deploy_slot[8]; /* ... of this slot ("": any) */
	int		 live_fail;	/* the live check finds nothing */
	/* The invariant. */
	int		 violations;
	char		 why[512];
	/* The scenario: actions done so far (see scenario()). */
	int		 action;
};

/*
 * What a test rolls: a service of the config, the fixture sets live
 * first (A, one per slot) and their successors (B).
 */
struct scenario {
	const char	*service;
	const char	*a[NSLOT + 1];	/* NULL-ended */
	const char	*b[NSLOT + 1];
};

static const struct scenario single = {
	"mx", { "p256", NULL }, { "p384", NULL }
};
static const struct scenario dual = {
	"dual", { "p256", "rsa2048", NULL }, { "p384", "rsa4096", NULL }
};
static const struct scenario fleet = {
	"fleet", { "p256", NULL }, { "p384", NULL }
};

static struct world *W;
static int in_child;	/* a forked run: no cmocka there */
static char tmpdir[PATH_MAX], statedir[PATH_MAX], cfgpath[PATH_MAX];
static char deploydir[PATH_MAX];
static struct roll_config cfg;
static char err[ERRBUF_LEN];
/* The scenario under test, its service, and the ids of A and B by
 * slot. */
static const struct scenario *sc = &single;
static const struct roll_service *svc;
static char idA[NSLOT][IDLEN], idB[NSLOT][IDLEN];

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
static struct roll_cert cache[NCERT];

static STACK_OF(X509) *
chain_of(const char *id)
{
	char e[ERRBUF_LEN];
	size_t i;

	for (i = 0; i < NCERT && cache[i].chain != NULL; i++)
		if (strcmp(cache[i].id, id) == 0)
			return cache[i].chain;
	if (i == NCERT) {
		violation("more than %d certificates", NCERT);
		return NULL;
	}
	if (roll_store_load(statedir, svc->name, id, 0, &cache[i], e,
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

	for (i = 0; i < NCERT; i++)
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
 * The certificates node n serves in any slot (n < 0: every node), and
 * the stale node's (from the live check stale_from on, or always with
 * all_stale), each once, into ids (NNODE * NSLOT + 1); how many.
 */
static int
serving(int n, int all_stale, const char **ids)
{
	const char *id;
	int i, k, j, c = 0;

	for (i = 0; i <= NNODE; i++) {
		if (i < NNODE && n >= 0 && i != n)
			continue;
		for (k = 0; k < (i < NNODE ? NSLOT : 1); k++) {
			id = i < NNODE ? W->node[i].served[k] : W->stale;
			if (id[0] == '\0' || (i == NNODE && !all_stale &&
			    W->nlive < W->stale_from))
				continue;
			for (j = 0; j < c && strcmp(ids[j], id) != 0; j++)
				;
			if (j == c)
				ids[c++] = id;
		}
	}
	return c;
}

/*
 * The invariant: every certificate served (by any node's MTA, and a
 * stale node's) matches every RRset that any server served at any
 * owner in the last 2 x TTL (the slowest server shows each version
 * delay s late).
 */
static void
invariant(const char *where)
{
	const char *ids[NNODE * NSLOT + 1];
	struct zone_rrset rs;
	time_t slow = 0, end;
	int h, v, k, n;

	for (k = 0; k < NSRV; k++)
		if (W->delay[k] > slow)
			slow = W->delay[k];
	n = serving(-1, 1, ids);
	for (k = 0; k < n; k++) {
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
	if (W->nown == 0 && n > 0)
		violation("%s: %s served with no records at all", where,
		    ids[0]);
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

/* The index of slot in the service's certificates: list (0: ""). */
static int
slot_index(const char *slot)
{
	int k;

	if (slot[0] == '\0' && svc->nslots == 0)
		return 0;
	for (k = 0; k < svc->nslots && k < NSLOT; k++)
		if (strcmp(svc->slots[k], slot) == 0)
			return k;
	CHECK(!"a slot the service does not have");
	return 0;
}

/* The slots of the service (1 for the single one). */
static int
nslots(void)
{
	return svc->nslots > 0 ? svc->nslots : 1;
}

/*
 * The node s stands for: the service's only machine (0), a node of a
 * fleet by the deploy_dir of the view roll_fleet.c made of it, or -1:
 * the fleet as a whole (the service itself, which has no deploy_dir).
 */
static int
node_of(const struct roll_service *s)
{
	size_t i;

	if (svc->nnodes == 0) {
		CHECK(s->deploy_dir != NULL &&
		    strcmp(s->deploy_dir, svc->deploy_dir) == 0);
		return 0;
	}
	if (s->deploy_dir == NULL)
		return -1;
	for (i = 0; i < svc->nnodes && i < NNODE; i++)
		if (strcmp(s->deploy_dir, svc->nodes[i].deploy_dir) == 0)
			return (int)i;
	CHECK(!"a deploy_dir of no node");
	return -1;
}

/* Is node n a push node? */
static int
is_push(int n)
{
	return svc->nnodes > 0 && svc->nodes[n].npush > 0;
}

/*
 * The link of slot in dir, on disk too (as roll_deploy makes it), where
 * w_link_gone looks for it: a missing one would be taken for a removed
 * deploy directory.
 */
static void
link_put(const char *dir, const char *slot, const char *id)
{
	char lname[32], link[PATH_MAX], tmp[PATH_MAX], target[64];

	roll_deploy_link(slot, lname, sizeof(lname));
	snprintf(link, sizeof(link), "%s/%s", dir, lname);
	snprintf(tmp, sizeof(tmp), "%s.tmp", link);
	snprintf(target, sizeof(target), "versions/%s", id);
	CHECK(mkdir(dir, 0755) == 0 || errno == EEXIST);
	(void)unlink(tmp);
	CHECK(symlink(target, tmp) == 0);
	CHECK(rename(tmp, link) == 0);
}

static int
w_deploy(const char *sd, const struct roll_service *s, const char *slot,
    const char *id, char *e, size_t elen)
{
	char lname[32];
	int n = node_of(s), k = slot_index(slot);

	(void)sd;
	CHECK(n >= 0);
	if (W->deploy_fail > 0 && (W->deploy_slot[0] == '\0' ||
	    strcmp(W->deploy_slot, slot) == 0)) {
		W->deploy_fail--;
		roll_deploy_link(slot, lname, sizeof(lname));
		errfmt(e, elen, "deploy: %s/%s: %s: No space left on device",
		    s->deploy_dir, lname, id);
		return -1;
	}
	snprintf(is_push(n) ? W->node[n].staged[k] : W->node[n].files[k],
	    IDLEN, "%s", id);
	link_put(s->deploy_dir, slot, id);
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

/*
 * The link on disk (link_put keeps it as roll_deploy would): a test may
 * also remove it there, as an operator's rm -r would.
 */
static int
w_link_gone(const char *dir, const char *slot)
{
	return roll_deploy_link_gone(dir, slot);
}

/* Does this try fail, the next *n failing (< 0: every one)? */
static int
fails(int *n)
{
	if (*n == 0)
		return 0;
	if (*n > 0)
		(*n)--;
	return 1;
}

/* A reload, or, given a node's push argv, its push. */
static int
w_reload(const struct roll_service *s, int timeout, char *e, size_t elen)
{
	struct node *nd;
	int n = node_of(s);

	(void)timeout;
	CHECK(n >= 0);
	nd = &W->node[n];
	if (is_push(n) && s->reload == svc->nodes[n].push) {
		nd->npush++;
		/* As roll_reload says it: push_reload renames it. */
		if (fails(&nd->push_fail)) {
			errfmt(e, elen, "reload: %s exited with status 255",
			    s->reload[0]);
			return -1;
		}
		/* The staged files are on the node, not reloaded yet;
		 * misplaced, they are where its MTA does not read. */
		if (!nd->misplace)
			memcpy(nd->files, nd->staged, sizeof(nd->files));
		crashpoint("push:copied");
		return 0;
	}
	W->nreload++;
	nd->nreload++;
	if (fails(&nd->reload_fail)) {
		errfmt(e, elen, "reload: /usr/sbin/postfix exited 1");
		return -1;
	}
	memcpy(nd->served, nd->files, sizeof(nd->served));
	invariant("reload");
	return 0;
}

/*
 * What the MTAs s stands for really serve (one node's, or every node's
 * for the fleet as a whole), not what their state or files say: a node
 * whose push went elsewhere still serves its old certificate.
 */
static int
w_live_check(const struct roll_service *s, const struct zone_rrset *recs,
    struct zone_rrset *served, struct sbuf *report, char *e, size_t elen)
{
	const char *ids[NNODE * NSLOT + 1];
	size_t h;
	int n, k, bad = 0;

	W->nlive++;
	if (W->live_fail || (n = serving(node_of(s), 0, ids)) == 0) {
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
	const char *ids[NNODE * NSLOT + 1];
	size_t i, h;
	int n, k;

	(void)report;
	if ((n = serving(node_of(s), 0, ids)) == 0) {
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

/* The zone (the config names it, so the machine never asks here). */
static char *
w_apex(const struct zone_server *srv, const char *owner, int recursive,
    const struct zone_tsig *key, const struct zone_xfer_opts *o, char *e,
    size_t elen)
{
	(void)srv;
	(void)owner;
	(void)recursive;
	(void)key;
	(void)o;
	errfmt(e, elen, "memzone: no apex lookups in this world");
	return NULL;
}

static const struct roll_world test_world = {
	.arg = NULL,
	.now = w_now,
	.vis = w_vis,
	.apex = w_apex,
	.pub_open = w_pub_open,
	.deploy = w_deploy,
	.deploy_fresh = w_deploy_fresh,
	.link_gone = w_link_gone,
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
	x->s = svc;
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

/*
 * One cron run: load the state, advance, leave the state in r.  With
 * node, the run of tlsa-rollover retry SERVICE NODE: its failures are
 * forgotten first.
 */
static void
run_retry(struct run *r, const char *node)
{
	struct roll_ctx x;
	struct sbuf out = { 0 };

	ctx_init(&x, &out);
	CHECK(roll_state_load(statedir, svc->name, &r->st, r->err,
	    sizeof(r->err)) == 0);
	r->err[0] = '\0';
	r->rc = 0;
	if (node != NULL)
		r->rc = roll_fleet_retry(&x, &r->st, node, r->err,
		    sizeof(r->err));
	if (r->rc == 0)
		r->rc = roll_advance(&x, &r->st, &r->moved, r->err,
		    sizeof(r->err));
	run_done(r, &out);
	invariant("after a run");
}

static void
advance(struct run *r)
{
	run_retry(r, NULL);
}

/*
 * Import the fixture set; its id goes to ids[its slot] (ids may be
 * NULL).  0 or -1 (err).
 */
static int
import(const char *set, char (*ids)[IDLEN])
{
	struct roll_state st;
	struct roll_ctx x;
	struct sbuf out = { 0 };
	char cert[PATH_MAX], key[PATH_MAX], was[ROLL_MAX_SLOTS][IDLEN];
	int k, rc;

	snprintf(cert, sizeof(cert), "%s/%s/fullchain.pem", FIXTURES, set);
	snprintf(key, sizeof(key), "%s/%s/leaf.key.pem", FIXTURES, set);
	ctx_init(&x, &out);
	CHECK(roll_state_load(statedir, svc->name, &st, err,
	    sizeof(err)) == 0);
	memset(was, 0, sizeof(was));
	for (k = 0; k < st.nslots; k++)
		memcpy(was[k], st.slot[k].pending, IDLEN);
	rc = roll_import(&x, &st, cert, key, NULL, err, sizeof(err));
	/* The slot it went to is the one whose pending changed. */
	for (k = 0; ids != NULL && rc == 0 && k < st.nslots; k++)
		if (strcmp(st.slot[k].pending, was[k]) != 0)
			snprintf(ids[slot_index(st.slot[k].name)], IDLEN,
			    "%s", st.slot[k].pending);
	roll_state_free(&st);
	sbuf_free(&out);
	return rc;
}

/* Import every set of the NULL-ended sets (ids as import). */
static void
import_all(const char *const *sets, char (*ids)[IDLEN])
{
	for (; *sets != NULL; sets++)
		CHECK(import(*sets, ids) == 0);
}

static int
nsets(const char *const *sets)
{
	int n = 0;

	while (sets[n] != NULL)
		n++;
	return n;
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
	long left = roll_hold_left(svc, &r->st, W->now + W->skew);

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

/*
 * The scenario sc, resumable: W->action says how far it got.  The
 * imports of A, a drive, the imports of B, a drive; then W->action is
 * scenario_end().
 */
static int
scenario_end(void)
{
	return nsets(sc->a) + 1 + nsets(sc->b) + 1;
}

static void
scenario(void)
{
	int na = nsets(sc->a), a;

	while ((a = W->action) < scenario_end()) {
		if (a < na)
			CHECK(import(sc->a[a], NULL) == 0);
		else if (a == na || a == scenario_end() - 1)
			(void)drive();
		else
			CHECK(import(sc->b[a - na - 1], NULL) == 0);
		W->action++;
	}
}

/* Add the records of the certificate id to out. */
static void
records_of(const char *id, struct zone_rrset *out)
{
	struct roll_cert c;

	CHECK(roll_store_load(statedir, svc->name, id, 0, &c, err,
	    sizeof(err)) == 0);
	CHECK(roll_records_chain(svc, c.chain, out, err, sizeof(err)) == 0);
	roll_cert_free(&c);
}

/* Every owner holds exactly the records of ids (one per slot). */
static void
zone_is(char (*ids)[IDLEN])
{
	struct zone_rrset want = { 0 }, got;
	int h, k;

	for (k = 0; k < nslots(); k++)
		records_of(ids[k], &want);
	assert_int_equal(W->nown, NOWN);
	for (h = 0; h < W->nown; h++) {
		to_rrset(set_at(&W->own[h], W->now), &got);
		if (!zone_rrset_equal(&got, &want))
			fail_msg("%s holds %zu record(s), not exactly those "
			    "of %s", W->own[h].name, got.n, ids[0]);
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

/* Are records of any of ids (one per slot) at every owner? */
static int
published_any(char (*ids)[IDLEN])
{
	int k, h, n;

	for (k = 0; k < nslots(); k++) {
		for (h = n = 0; h < NOWN; h++)
			n += has_records_of(ids[k], h);
		if (n > 0)
			return 1;
	}
	return 0;
}

/* Are the records of every one of ids at every owner? */
static int
published_all(char (*ids)[IDLEN])
{
	int k, h;

	for (k = 0; k < nslots(); k++)
		for (h = 0; h < NOWN; h++)
			if (!has_records_of(ids[k], h))
				return 0;
	return 1;
}

/*
 * Node n (< 0: every node) has ids (one per slot) in its files and its
 * MTA serves them: 1, else 0.
 */
static int
node_on(int n, char (*ids)[IDLEN])
{
	int i, k;

	for (i = 0; i < (svc->nnodes > 0 ? (int)svc->nnodes : 1); i++)
		for (k = 0; k < nslots(); k++)
			if ((n < 0 || i == n) &&
			    (strcmp(W->node[i].files[k], ids[k]) != 0 ||
			    strcmp(W->node[i].served[k], ids[k]) != 0))
				return 0;
	return 1;
}

/* The state's slot k of the service (by its certificates: list). */
static const struct roll_slot *
slot_of(const struct roll_state *st, int k)
{
	const char *name = svc->nslots > 0 ? svc->slots[k] : "";
	int i;

	for (i = 0; i < st->nslots; i++)
		if (strcmp(st->slot[i].name, name) == 0)
			return &st->slot[i];
	fail_msg("no slot \"%s\" in the state", name);
	return NULL;
}

/* Is every slot's current certificate in cur, its pending one in pend? */
static void
slots_are(const struct roll_state *st, char (*cur)[IDLEN],
    char (*pend)[IDLEN])
{
	int k;

	for (k = 0; k < nslots(); k++) {
		assert_string_equal(slot_of(st, k)->current, cur[k]);
		assert_string_equal(slot_of(st, k)->pending,
		    pend != NULL ? pend[k] : "");
	}
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

/*
 * A fresh state directory, deploy directories and world for s, and,
 * with_a, A live everywhere and STEADY.
 */
static void
fresh(const struct scenario *s, int with_a)
{
	sc = s;
	svc = roll_config_service(&cfg, s->service);
	CHECK(svc != NULL);
	(void)nftw(statedir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	CHECK(mkdir(statedir, 0700) == 0);
	(void)nftw(deploydir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	CHECK(mkdir(deploydir, 0755) == 0);
	world_reset();
	crashpoint_set_hook(NULL);
	memset(idA, 0, sizeof(idA));
	memset(idB, 0, sizeof(idB));
	if (with_a) {
		W->action = 0;
		import_all(s->a, idA);
		(void)drive();
		W->action = nsets(s->a) + 1;
		no_violation();
		assert_true(node_on(-1, idA));
		zone_is(idA);
	}
}

/* ---- setup ------------------------------------------------------------ */

static pid_t tmp_owner;

/*
 * The temporary directory goes also when a setup step fails or a test
 * aborts on an assertion (no teardown then): in /dev/shm it would
 * otherwise stay in memory.  Only in the process that made it: the
 * crash children end with _exit and never get here.
 */
static void
tmp_remove(void)
{
	if (getpid() != tmp_owner || tmpdir[0] == '\0' ||
	    getenv("KEEP_TMP") != NULL)
		return;
	(void)nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
}

static int
global_setup(void **state)
{
	char yaml[8192], key[PATH_MAX];
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
	if (mkdtemp(tmpdir) == NULL) {
		tmpdir[0] = '\0';
		return -1;
	}
	tmp_owner = getpid();
	(void)atexit(tmp_remove);
	snprintf(statedir, sizeof(statedir), "%s/state", tmpdir);
	snprintf(deploydir, sizeof(deploydir), "%s/deploy", tmpdir);
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
	    "    deploy_dir: %s/mx\n"
	    "    reload: [/bin/true]\n"
	    "  - name: dual\n"
	    "    hosts: [mx.example.net, smtp.example.net]\n"
	    "    certificates: [ecdsa, rsa]\n"
	    "    deploy_dir: %s/dual\n"
	    "    reload: [/bin/true]\n"
	    "  - name: fleet\n"
	    "    hosts: [mx.example.net, smtp.example.net]\n"
	    "    node_retries: 3\n"
	    "    nodes:\n"
	    "      - name: n1\n"
	    "        deploy_dir: %s/n1\n"
	    "        reload: [/bin/true]\n"
	    "        addresses: [192.0.2.25]\n"
	    "      - name: n2\n"
	    "        push: [/bin/true, push]\n"
	    "        reload: [/bin/true, n2]\n"
	    "        addresses: [192.0.2.26]\n",
	    statedir, key, TTL, MARGIN, deploydir, deploydir, deploydir);
	snprintf(cfgpath, sizeof(cfgpath), "%s/tlsa-rollover.yaml", tmpdir);
	if ((f = fopen(cfgpath, "w")) == NULL)
		return -1;
	fputs(yaml, f);
	fclose(f);
	if (roll_config_load(cfgpath, &cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "# %s\n", err);
		return -1;
	}
	svc = roll_config_service(&cfg, "mx");
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
	tmp_remove();
	munmap(W, sizeof(*W));
	return 0;
}

/* ---- (a) a full rollover --------------------------------------------- */

/* Does out hold the moves of the service, in this order? */
static void
moves_in_order(const char *out)
{
	static const char *const moves[] = {
		"publish -> visible", "visible -> hold", "hold -> switch",
		"switch -> verify", "verify -> retire", "retire -> steady",
	};
	const char *p = out;
	char m[64];
	size_t i;

	for (i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
		snprintf(m, sizeof(m), "%s: %s", svc->name, moves[i]);
		if ((p = strstr(p, m)) == NULL)
			fail_msg("no \"%s\" (in order) in:\n%s", m, out);
		p += strlen(m);
	}
}

/*
 * A full rollover of s from A to B: B is published, visible only once
 * the slowest server serves it, deployed (every slot, every node) no
 * sooner than the hold after that, with one reload per machine, and
 * A's records are retired only after the live checks that followed.
 */
static void
full_rollover(const struct scenario *s)
{
	struct sbuf all = { 0 };
	struct run r;
	time_t published = 0, visible = 0, deployed = 0, retired = 0;
	int i, n, nlive = 0, reloads[NNODE];

	fresh(s, 1);
	assert_true(published_all(idA));
	for (n = 0; n < NNODE; n++)
		reloads[n] = W->node[n].nreload;
	import_all(s->b, idB);
	for (i = 0; i < MAXRUNS; i++) {
		advance(&r);
		assert_int_equal(r.rc, 0);
		sbuf_printf(&all, "%s", r.out);
		if (published == 0 && W->own[0].nver > 0 &&
		    published_all(idB))
			published = W->now;
		if (visible == 0 && r.st.visible_at != 0)
			visible = r.st.visible_at;
		if (deployed == 0 && node_on(-1, idB)) {
			deployed = W->now;
			nlive = W->nlive_deploy;
		}
		if (retired == 0 && !published_any(idA)) {
			retired = W->now;
			/* Only after the live check of VERIFY (and the
			 * one of RETIRE) that followed the deploy. */
			assert_true(deployed != 0);
			assert_true(W->nlive_replace >= nlive + 2);
			assert_true(node_on(-1, idB));
		}
		if (steady(&r)) {
			roll_state_free(&r.st);
			break;
		}
		W->now += next_run(&r);
		roll_state_free(&r.st);
	}
	assert_true(i < MAXRUNS);
	moves_in_order(all.s);
	sbuf_free(&all);
	/* Visible only once the slowest server serves it... */
	assert_true(published != 0 && visible >= published + W->delay[1]);
	/* ... and nothing deployed before 2 x TTL + margin after that. */
	assert_true(deployed >= visible + HOLD);
	assert_true(retired >= deployed);
	/* Every slot switched with one reload of each machine. */
	for (n = 0; n < (svc->nnodes > 0 ? (int)svc->nnodes : 1); n++)
		assert_int_equal(W->node[n].nreload, reloads[n] + 1);
	zone_is(idB);
	assert_true(node_on(-1, idB));
	no_violation();
}

static void
test_full_rollover(void **state)
{
	(void)state;
	full_rollover(&single);
}

/* Both slots at once: the ECDSA and the RSA certificate. */
static void
test_dual_rollover(void **state)
{
	struct roll_state st;

	(void)state;
	full_rollover(&dual);
	assert_int_equal(roll_state_load(statedir, svc->name, &st, err,
	    sizeof(err)), 0);
	assert_int_equal(st.nslots, 2);
	slots_are(&st, idB, NULL);
	roll_state_free(&st);
	/* Two certificates of two key types, each in its own slot. */
	assert_string_not_equal(idB[0], idB[1]);
	assert_string_not_equal(idA[0], idA[1]);
}

/* Both nodes: n1 by its deploy_dir, n2 by a push into its staging. */
static void
test_fleet_rollover(void **state)
{
	struct roll_state st;
	int n;

	(void)state;
	full_rollover(&fleet);
	assert_int_equal(roll_state_load(statedir, svc->name, &st, err,
	    sizeof(err)), 0);
	slots_are(&st, idB, NULL);
	assert_int_equal(st.nnodes, 2);
	for (n = 0; n < 2; n++) {
		assert_string_equal(st.node[n].current[0], idB[0]);
		assert_int_equal(st.node[n].failures, 0);
	}
	roll_state_free(&st);
	/* n2 got its files by a push (for A, then B), n1 never. */
	assert_int_equal(W->node[0].npush, 0);
	assert_int_equal(W->node[1].npush, 2);
	assert_string_equal(W->node[1].staged[0], idB[0]);
	assert_string_equal(W->node[0].staged[0], "");
}

/* The invariant check can fire: a machine whose clock runs an hour
 * ahead of the world's leaves the hold at once. */
static void
test_invariant_can_fire(void **state)
{
	(void)state;
	fresh(&single, 1);
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
start(const struct scenario *s)
{
	fresh(s, 1);
	import_all(s->b, idB);
}

static void
start_b(void)
{
	start(&single);
}

/* The rollover to B goes on, to the end, as if nothing happened. */
static void
finish_b(void)
{
	(void)drive();
	zone_is(idB);
	assert_true(node_on(-1, idB));
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

/* Runs until one fails (at most MAXRUNS); it is left in r. */
static void
until_error(struct run *r)
{
	int i;

	for (i = 0; i < MAXRUNS; i++) {
		advance(r);
		if (r->rc == -1)
			return;
		W->now += next_run(r);
		roll_state_free(&r->st);
	}
	fail_msg("no run failed");
}

static void
test_fault_deploy_error(void **state)
{
	struct run r;

	(void)state;
	start_b();
	W->deploy_fail = 1;
	until_error(&r);
	assert_non_null(strstr(r.err, "No space left on device"));
	assert_int_equal(r.st.phase, ROLL_SWITCH);
	slots_are(&r.st, idA, idB);
	roll_state_free(&r.st);
	/* The old certificate stays live. */
	assert_true(node_on(0, idA));
	W->now += STEP;
	finish_b();
}

/*
 * The second slot's deploy fails: the first slot, deployed already, is
 * switched back (no reload: the MTA never saw it), and both serve A.
 */
static void
test_dual_deploy_error(void **state)
{
	struct roll_state st;
	struct run r;
	const char *first, *second;
	char lname[32], back[128];
	int k2;

	(void)state;
	start(&dual);
	/* The machine deploys the slots in the state's order. */
	assert_int_equal(roll_state_load(statedir, svc->name, &st, err,
	    sizeof(err)), 0);
	assert_int_equal(st.nslots, 2);
	first = st.slot[0].name;
	second = st.slot[1].name;
	k2 = slot_index(second);
	snprintf(W->deploy_slot, sizeof(W->deploy_slot), "%s", second);
	roll_deploy_link(second, lname, sizeof(lname));
	snprintf(back, sizeof(back), "switched back to %s",
	    idA[slot_index(first)]);
	roll_state_free(&st);
	W->deploy_fail = 1;
	until_error(&r);
	/* The alert names the failing deploy: its link and certificate. */
	assert_non_null(strstr(r.err, "No space left on device"));
	assert_non_null(strstr(r.st.alert, lname));
	assert_non_null(strstr(r.st.alert, idB[k2]));
	assert_non_null(strstr(r.out, back));
	assert_int_equal(r.st.phase, ROLL_SWITCH);
	slots_are(&r.st, idA, idB);
	roll_state_free(&r.st);
	/* Both slots: A in the files and served; B published with A. */
	assert_true(node_on(0, idA));
	assert_true(published_all(idA) && published_all(idB));
	no_violation();
	W->now += STEP;
	finish_b();
}

static void
test_fault_reload(void **state)
{
	struct run r;

	(void)state;
	start_b();
	W->node[0].reload_fail = 1;
	until_error(&r);
	assert_non_null(strstr(r.err, "postfix exited 1"));
	assert_non_null(strstr(r.out, "switched back to"));
	assert_int_equal(r.st.phase, ROLL_SWITCH);
	assert_non_null(strstr(r.st.alert, "postfix exited 1"));
	roll_state_free(&r.st);
	/* Switched back and reloaded. */
	assert_true(node_on(0, idA));
	W->now += STEP;
	finish_b();
}

/* The state of node name (it must be there). */
static const struct roll_node_state *
node_state(const struct roll_state *st, const char *name)
{
	int i;

	for (i = 0; i < st->nnodes; i++)
		if (strcmp(st->node[i].name, name) == 0)
			return &st->node[i];
	fail_msg("no node %s in the state", name);
	return NULL;
}

/*
 * How n2 fails in fleet_n2_fails: its reload, its push, or a push that
 * exits 0 but puts the files where its MTA does not read them (the
 * faults of the lab's tests/integration/79-fleet.t).
 */
enum n2fault { N2_RELOAD, N2_PUSH, N2_MISPLACE };

static const struct {
	const char	*said;	/* what the first failure says */
	const char	*then;	/* and after it */
	const char	*why;	/* the alert's reason */
} n2said[] = {
	[N2_RELOAD] = { "node n2: reload: /usr/sbin/postfix exited 1; "
	    "switching it back", "node n2: switched back to ",
	    "postfix exited 1" },
	[N2_PUSH] = { "node n2: push: /bin/true exited with status 255; "
	    "switching it back", "node n2: after switching back: push: ",
	    "push: /bin/true exited with status 255" },
	/* Found by VERIFY's live check of n2, not by the switch. */
	[N2_MISPLACE] = { "node n2: it still serves a certificate that is "
	    "not the one deployed", "node n2 switched back alone",
	    "not the one deployed" },
};

static void
n2_break(enum n2fault f, int on)
{
	struct node *nd = &W->node[1];

	switch (f) {
	case N2_RELOAD:
		nd->reload_fail = on ? -1 : 0;
		break;
	case N2_PUSH:
		nd->push_fail = on ? -1 : 0;
		break;
	case N2_MISPLACE:
		nd->misplace = on;
		break;
	}
}

/*
 * After every run while n2 is broken: it serves A (files and MTA), A's
 * records stay published for it, and the invariant holds.
 */
static void
n2_behind(void)
{
	assert_true(node_on(1, idA));
	assert_true(published_all(idA));
	no_violation();
}

/*
 * n2 fails as f says: n2 is switched back alone, n1 keeps B (reloaded
 * once), both records stay published, the alert names n2; after
 * node_retries more tries (each a push and a reload to try, the same
 * to switch back; no reload after a failed push) it is stopped and no
 * longer pushed or reloaded.  Then the fault is fixed and retry brings
 * n2 in, and A's records are retired.
 */
static void
fleet_n2_fails(enum n2fault f)
{
	struct sbuf all = { 0 };
	const struct roll_node_state *ns = NULL;
	struct run r;
	const char *p;
	int i, reloads, pushes, n1reloads, tries = 0;

	start(&fleet);
	n2_break(f, 1);
	reloads = W->node[1].nreload;
	pushes = W->node[1].npush;
	n1reloads = W->node[0].nreload;
	for (i = 0; i < MAXRUNS; i++) {
		advance(&r);
		sbuf_printf(&all, "%s", r.out);
		n2_behind();
		if (steady(&r))
			break;
		W->now += next_run(&r);
		roll_state_free(&r.st);
	}
	assert_true(i < MAXRUNS);
	if ((p = strstr(all.s, n2said[f].said)) == NULL ||
	    strstr(p, n2said[f].then) == NULL)
		fail_msg("no \"%s\", then \"%s\" in:\n%s", n2said[f].said,
		    n2said[f].then, all.s);
	sbuf_free(&all);
	/* n1 keeps B; n2 serves A again, its staged link on A too. */
	assert_true(node_on(0, idB));
	assert_int_equal(W->node[0].nreload, n1reloads + 1);
	assert_string_equal(W->node[1].staged[0], idA[0]);
	slots_are(&r.st, idB, NULL);
	assert_string_equal(node_state(&r.st, "n1")->current[0], idB[0]);
	assert_string_equal(node_state(&r.st, "n2")->current[0], idA[0]);
	assert_int_equal(node_state(&r.st, "n2")->failures, 1);
	assert_non_null(strstr(r.st.alert, "node n2 failed"));
	assert_non_null(strstr(r.st.alert, n2said[f].why));
	roll_state_free(&r.st);
	assert_true(published_all(idA) && published_all(idB));
	/* Two pushes and reloads a try (the try, the switch back) until
	 * stopped. */
	for (i = 0; i < 4 * (int)svc->node_retries; i++) {
		W->now += STEP;
		advance(&r);
		n2_behind();
		ns = node_state(&r.st, "n2");
		tries = (int)ns->failures;
		if (ns->stopped)
			break;
		roll_state_free(&r.st);
	}
	assert_true(ns != NULL && ns->stopped);
	assert_int_equal(tries, svc->node_retries + 1);
	assert_int_equal(W->node[1].npush - pushes, 2 * tries);
	assert_int_equal(W->node[1].nreload - reloads,
	    f == N2_PUSH ? 0 : 2 * tries);
	roll_state_free(&r.st);
	reloads = W->node[1].nreload;
	pushes = W->node[1].npush;
	for (i = 0; i < 4; i++) {
		W->now += STEP;
		advance(&r);
		n2_behind();
		if (i < 3)
			roll_state_free(&r.st);
	}
	assert_int_equal(W->node[1].nreload, reloads);
	assert_int_equal(W->node[1].npush, pushes);
	assert_non_null(strstr(r.st.alert, "node n2 failed 4 times"));
	assert_non_null(strstr(r.st.alert, "tlsa-rollover retry fleet n2"));
	roll_state_free(&r.st);
	assert_true(published_all(idA) && published_all(idB));
	assert_true(node_on(0, idB));
	assert_int_equal(W->node[0].nreload, n1reloads + 1);

	/* Fixed; the operator retries n2. */
	n2_break(f, 0);
	W->now += STEP;
	run_retry(&r, "n2");
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "node n2 serves the current "
	    "certificate"));
	ns = node_state(&r.st, "n2");
	assert_int_equal(ns->failures, 0);
	assert_false(ns->stopped);
	assert_string_equal(r.st.alert, "");
	roll_state_free(&r.st);
	assert_true(node_on(-1, idB));
	/* What only n2 needed goes. */
	W->now += STEP;
	finish_b();
}

static void
test_fleet_reload_fails(void **state)
{
	struct run r;

	(void)state;
	fleet_n2_fails(N2_RELOAD);
	/* retry of a node that is not there is refused. */
	run_retry(&r, "nosuch");
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "no node \"nosuch\""));
	roll_state_free(&r.st);
}

static void
test_fleet_push_fails(void **state)
{
	(void)state;
	fleet_n2_fails(N2_PUSH);
}

static void
test_fleet_push_misplaced(void **state)
{
	(void)state;
	fleet_n2_fails(N2_MISPLACE);
}

/*
 * An operator removes n1's deploy directory (rm -r): the next run puts
 * n1 behind and deploys A to it again, with one reload of n1 and
 * nothing done to n2 or the zone; the run after does nothing more, and
 * a rollover to B then goes as ever.
 */
static void
test_fleet_link_gone(void **state)
{
	char link[PATH_MAX], lname[32], target[PATH_MAX], said[128];
	struct run r;
	ssize_t n;
	int deploys, reloads[NNODE], pushes;

	(void)state;
	fresh(&fleet, 1);
	roll_deploy_link("", lname, sizeof(lname));
	snprintf(link, sizeof(link), "%s/%s", svc->nodes[0].deploy_dir,
	    lname);
	assert_int_equal(nftw(svc->nodes[0].deploy_dir, rm_one, 16,
	    FTW_DEPTH | FTW_PHYS), 0);
	/* Its MTA finds nothing there now (it serves A until reloaded). */
	memset(W->node[0].files, 0, sizeof(W->node[0].files));
	deploys = W->ndeploy;
	reloads[0] = W->node[0].nreload;
	reloads[1] = W->node[1].nreload;
	pushes = W->node[1].npush;
	W->now += STEP;
	advance(&r);
	assert_int_equal(r.rc, 0);
	snprintf(said, sizeof(said), "node n1: its deploy link for %s is "
	    "gone; deploying it again", idA[0]);
	assert_non_null(strstr(r.out, said));
	assert_non_null(strstr(r.out, "node n1 serves the current "
	    "certificate"));
	assert_int_equal(r.st.phase, ROLL_STEADY);
	assert_string_equal(node_state(&r.st, "n1")->current[0], idA[0]);
	assert_int_equal(node_state(&r.st, "n1")->failures, 0);
	assert_string_equal(node_state(&r.st, "n2")->current[0], idA[0]);
	assert_string_equal(r.st.alert, "");
	roll_state_free(&r.st);
	/* Back on disk, n1 alone deployed and reloaded once. */
	n = readlink(link, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	snprintf(said, sizeof(said), "versions/%s", idA[0]);
	assert_string_equal(target, said);
	assert_int_equal(W->ndeploy, deploys + 1);
	assert_int_equal(W->node[0].nreload, reloads[0] + 1);
	assert_int_equal(W->node[1].nreload, reloads[1]);
	assert_int_equal(W->node[1].npush, pushes);
	assert_true(node_on(-1, idA));
	zone_is(idA);
	no_violation();
	/* Once is enough. */
	W->now += STEP;
	advance(&r);
	assert_int_equal(r.rc, 0);
	roll_state_free(&r.st);
	assert_int_equal(W->ndeploy, deploys + 1);
	assert_int_equal(W->node[0].nreload, reloads[0] + 1);
	import_all(fleet.b, idB);
	finish_b();
}

static void
test_fault_live_mismatch(void **state)
{
	struct run r;

	(void)state;
	start_b();
	/* A node that never reloads keeps serving A. */
	snprintf(W->stale, sizeof(W->stale), "%s", idA[0]);
	until_phase(&r, ROLL_STEADY);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "not the deployed one"));
	assert_non_null(strstr(r.st.alert, "a node that did not reload"));
	slots_are(&r.st, idA, idB);
	roll_state_free(&r.st);
	assert_true(node_on(0, idA));
	/* A's records were not retired. */
	assert_true(published_all(idA));
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
	snprintf(W->stale, sizeof(W->stale), "%s", idA[0]);
	W->stale_from = W->nlive + 2;
	(void)drive();
	assert_true(node_on(0, idB));
	/* Kept: a live chain matches them. */
	assert_true(published_all(idA) && published_all(idB));
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
	assert_string_equal(slot_of(&r.st, 0)->current, idA[0]);
	roll_state_free(&r.st);
	assert_true(node_on(0, idA));
	assert_true(published_all(idA));
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

/* B is live in every slot on every node, and only its records are up. */
static void
final_state(void)
{
	struct roll_state st;
	int i;

	assert_int_equal(roll_state_load(statedir, svc->name, &st, err,
	    sizeof(err)), 0);
	assert_int_equal(st.phase, ROLL_STEADY);
	assert_false(roll_state_pending(&st));
	slots_are(&st, idB, NULL);
	for (i = 0; i < st.nnodes; i++) {
		assert_string_equal(st.node[i].current[0], idB[0]);
		assert_int_equal(st.node[i].failures, 0);
	}
	roll_state_free(&st);
	zone_is(idB);
	assert_true(node_on(-1, idB));
	no_violation();
}

/*
 * A copy of the state and deploy directories and of the world, taken
 * once A is live, so that a sweep of B's rollover need not roll A out
 * again before every crash.
 */
static struct world snap;
static const char *copy_from, *copy_to;

static int
copy_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	char to[PATH_MAX], buf[8192];
	ssize_t n;
	FILE *in, *out;

	(void)f;
	snprintf(to, sizeof(to), "%s%s", copy_to, p + strlen(copy_from));
	switch (flag) {
	case FTW_D:
		if (mkdir(to, 0700) == -1 && errno != EEXIST)
			return -1;
		break;
	case FTW_SL:
		if ((n = readlink(p, buf, sizeof(buf) - 1)) == -1)
			return -1;
		buf[n] = '\0';
		return symlink(buf, to);
	case FTW_F:
		if ((in = fopen(p, "r")) == NULL)
			return -1;
		if ((out = fopen(to, "w")) == NULL) {
			fclose(in);
			return -1;
		}
		while ((n = (ssize_t)fread(buf, 1, sizeof(buf), in)) > 0)
			fwrite(buf, 1, (size_t)n, out);
		fclose(in);
		if (fclose(out) != 0)
			return -1;
		break;
	default:
		return -1;
	}
	return chmod(to, sb->st_mode & 07777);
}

/* to becomes a copy of the tree from. */
static void
tree_copy(const char *from, const char *to)
{
	(void)nftw(to, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	copy_from = from;
	copy_to = to;
	CHECK(nftw(from, copy_one, 16, FTW_PHYS) == 0);
}

static void
snapshot(int save)
{
	char st[PATH_MAX], dep[PATH_MAX];

	snprintf(st, sizeof(st), "%s/snap-state", tmpdir);
	snprintf(dep, sizeof(dep), "%s/snap-deploy", tmpdir);
	if (save) {
		tree_copy(statedir, st);
		tree_copy(deploydir, dep);
		snap = *W;
	} else {
		tree_copy(st, statedir);
		tree_copy(dep, deploydir);
		*W = snap;
	}
}

/*
 * The scenario of s (A imported and rolled out, then B) once, recording
 * every crash point it reaches; then once per point, in a child killed
 * there, and finished by the parent from what is on disk.  With
 * from_a, only B's rollover, from A live.
 */
static void
crash_sweep(const struct scenario *s, int from_a)
{
	struct roll_state st;
	char b[NSLOT][IDLEN];
	pid_t pid;
	int i, k, status, named = 0;

	fresh(s, from_a);
	if (from_a)
		snapshot(1);
	npts = 0;
	crashpoint_set_hook(record_hook);
	scenario();
	crashpoint_set_hook(NULL);
	assert_int_equal(roll_state_load(statedir, svc->name, &st, err,
	    sizeof(err)), 0);
	for (k = 0; k < st.nslots; k++)
		snprintf(idB[slot_index(st.slot[k].name)], IDLEN, "%s",
		    st.slot[k].current);
	roll_state_free(&st);
	memcpy(b, idB, sizeof(b));
	final_state();
	assert_true(npts > (from_a ? 5 : 10) && npts < MAXPTS);
	for (i = 0; i < npts; i++)
		if (strcmp(pts[i].name, "publish:dns-updated") == 0 ||
		    strcmp(pts[i].name, "retire:dns-updated") == 0 ||
		    strcmp(pts[i].name, "switch:reloaded") == 0 ||
		    strcmp(pts[i].name, "deploy:linked") == 0)
			named++;
	assert_true(named >= (from_a ? 4 : 5));
	print_message("%s: %d crash points reached\n", svc->name, npts);

	for (i = 0; i < npts; i++) {
		if (from_a)
			snapshot(0);
		else
			fresh(s, 0);
		memcpy(idB, b, sizeof(idB));
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
		if (W->violations > 0 || W->action != scenario_end())
			fail_msg("after a crash at %s #%d: %s", pts[i].name,
			    pts[i].occ, W->why);
		final_state();
	}
}

static void
test_crash_points(void **state)
{
	(void)state;
	crash_sweep(&single, 0);
}

static void
test_crash_points_dual(void **state)
{
	(void)state;
	crash_sweep(&dual, 1);
}

static void
test_crash_points_fleet(void **state)
{
	(void)state;
	crash_sweep(&fleet, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_rollover),
		cmocka_unit_test(test_dual_rollover),
		cmocka_unit_test(test_fleet_rollover),
		cmocka_unit_test(test_invariant_can_fire),
		cmocka_unit_test(test_fault_lagging),
		cmocka_unit_test(test_fault_differs),
		cmocka_unit_test(test_fault_bogus),
		cmocka_unit_test(test_fault_cas_refused),
		cmocka_unit_test(test_fault_publish_error),
		cmocka_unit_test(test_fault_deploy_error),
		cmocka_unit_test(test_dual_deploy_error),
		cmocka_unit_test(test_fault_reload),
		cmocka_unit_test(test_fleet_reload_fails),
		cmocka_unit_test(test_fleet_push_fails),
		cmocka_unit_test(test_fleet_push_misplaced),
		cmocka_unit_test(test_fleet_link_gone),
		cmocka_unit_test(test_fault_live_mismatch),
		cmocka_unit_test(test_fault_retire_keeps_live),
		cmocka_unit_test(test_fault_live_fails),
		cmocka_unit_test(test_crash_points),
		cmocka_unit_test(test_crash_points_dual),
		cmocka_unit_test(test_crash_points_fleet),
	};

	return cmocka_run_group_tests(tests, global_setup, global_teardown);
}
