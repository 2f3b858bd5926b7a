/*
 * roll_fleet.c: SWITCH, VERIFY and retries for a service with nodes.
 *
 * Each node is handled through a view of the service: a copy whose
 * deploy_dir, reload and addresses are the node's, so that roll_deploy,
 * roll_reload and roll_live_check work on one node unchanged.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "roll_deploy.h"
#include "roll_fleet.h"
#include "roll_live.h"
#include "roll_store.h"
#include "roll_world.h"
#include "tlsa_dane.h"

#define say(x, ...) sbuf_printf((x)->out, __VA_ARGS__)
/* Everything outside: see roll_world.h. */
#define world(x) roll_world_of(x)

typedef char roll_ids[ROLL_MAX_SLOTS][ROLL_ID_LEN + 1];

/* A node as a service: its deploy_dir, reload and addresses. */
struct nview {
	struct roll_service	 s;	/* deploy and reload */
	struct roll_service	 push;	/* push argv as the "reload" */
	struct roll_hostaddrs	*ha;
};

static int
view_open(const struct roll_service *s, const struct roll_node *nd,
    struct nview *v, char *err, size_t errlen)
{
	size_t h;

	memset(v, 0, sizeof(*v));
	if ((v->ha = calloc(s->nhosts, sizeof(*v->ha))) == NULL) {
		errfmt(err, errlen, "out of memory");
		return -1;
	}
	/* Every host name of the service, at the node's addresses. */
	for (h = 0; h < s->nhosts; h++) {
		v->ha[h].host = s->hosts[h];
		v->ha[h].addrs = nd->addrs;
		v->ha[h].naddrs = nd->naddrs;
	}
	v->s = *s;
	v->s.deploy_dir = nd->deploy_dir;
	v->s.reload = nd->reload;
	v->s.nreload = nd->nreload;
	v->s.haddrs = v->ha;
	v->s.nhaddrs = s->nhosts;
	v->s.nodes = NULL;
	v->s.nnodes = 0;
	v->push = v->s;
	v->push.reload = nd->push;
	v->push.nreload = nd->npush;
	v->push.reload_timeout = nd->push_timeout;
	return 0;
}

static void
view_close(struct nview *v)
{
	free(v->ha);
	memset(v, 0, sizeof(*v));
}

/* The state of a node, made if new (NULL: too many; err says). */
static struct roll_node_state *
node_state(struct roll_ctx *x, struct roll_state *st, size_t i, char *err,
    size_t errlen)
{
	struct roll_node_state *ns;

	if ((ns = roll_state_node(st, x->s->nodes[i].name)) == NULL)
		errfmt(err, errlen, "service %s: too many nodes in the state",
		    x->s->name);
	return ns;
}

static const struct roll_node_state *
node_find(const struct roll_state *st, const char *name)
{
	int i;

	for (i = 0; i < st->nnodes; i++)
		if (strcmp(st->node[i].name, name) == 0)
			return &st->node[i];
	return NULL;
}

/* Does the node serve ids in every slot that has one? */
static int
on_ids(const struct roll_state *st, const struct roll_node_state *ns,
    roll_ids ids)
{
	int k;

	for (k = 0; k < st->nslots; k++)
		if (ids[k][0] != '\0' && strcmp(ids[k], ns->current[k]) != 0)
			return 0;
	return 1;
}

/* Each slot's pending certificate, or its current one. */
static void
target_ids(const struct roll_state *st, int pending, roll_ids ids)
{
	int k;

	memset(ids, 0, sizeof(roll_ids));
	for (k = 0; k < st->nslots; k++)
		snprintf(ids[k], ROLL_ID_LEN + 1, "%s", pending &&
		    st->slot[k].pending[0] ? st->slot[k].pending :
		    st->slot[k].current);
}

/*
 * Do the certificates ids validate, offline, against the published
 * RRset for every host?  1 yes (or no ids), 0 no (why in err), -1.
 */
static int
ids_published(struct roll_ctx *x, const struct roll_state *st, roll_ids ids,
    char *err, size_t errlen)
{
	struct roll_cert c = { 0 };
	struct tlsa_match m;
	char host[256];
	size_t h;
	int k, r = 1;

	for (k = 0; k < st->nslots && r == 1; k++) {
		if (ids[k][0] == '\0')
			continue;
		if (!st->have_published || st->published.n == 0) {
			errfmt(err, errlen, "nothing is published");
			return 0;
		}
		if (roll_store_load(x->c->state_dir, x->s->name, ids[k], 0, &c,
		    err, errlen) == -1)
			return -1;
		for (h = 0; h < x->s->nhosts && r == 1; h++) {
			snprintf(host, sizeof(host), "%s", x->s->hosts[h]);
			if (host[0] && host[strlen(host) - 1] == '.')
				host[strlen(host) - 1] = '\0';
			r = tlsa_dane_verify(c.chain, NULL, host,
			    st->published.v, st->published.n, &m, err, errlen);
			if (r == 0)
				errfmt(err, errlen, "certificate %s does not "
				    "match the published records for %s: %s",
				    ids[k], host, m.reason);
		}
		roll_cert_free(&c);
	}
	return r;
}

/* Add the records of the certificates ids to out.  0 or -1. */
static int
ids_records(struct roll_ctx *x, const struct roll_state *st, roll_ids ids,
    struct zone_rrset *out, char *err, size_t errlen)
{
	struct roll_cert c = { 0 };
	int k, r;

	for (k = 0; k < st->nslots; k++) {
		if (ids[k][0] == '\0')
			continue;
		if (roll_store_load(x->c->state_dir, x->s->name, ids[k], 0, &c,
		    err, errlen) == -1)
			return -1;
		r = roll_records_chain(x->s, c.chain, out, err, errlen);
		roll_cert_free(&c);
		if (r == -1)
			return -1;
	}
	return 0;
}

/* Push (when the node has a push command), then reload.  0 or -1. */
static int
push_reload(struct roll_ctx *x, const struct roll_node *nd,
    const struct nview *v, char *err, size_t errlen)
{
	char e[ERRBUF_LEN];

	if (nd->npush > 0 && world(x)->reload(&v->push,
	    (int)nd->push_timeout, e, sizeof(e)) == -1) {
		/* roll_reload says "reload:": this was the push. */
		errfmt(err, errlen, "push: %s", strncmp(e, "reload: ", 8) ==
		    0 ? e + 8 : e);
		return -1;
	}
	if (world(x)->reload(&v->s, (int)x->s->reload_timeout, err,
	    errlen) == -1)
		return -1;
	return 0;
}

/*
 * STATE_DIR/SERVICE/push, where push nodes' files are staged (0700: it
 * holds private keys; roll_deploy makes each node's directory in it).
 */
static int
staging_dir(struct roll_ctx *x, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	int i;

	for (i = 0; i < 2; i++) {
		snprintf(dir, sizeof(dir), i == 0 ? "%s/%s" : "%s/%s/push",
		    x->c->state_dir, x->s->name);
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			errfmt(err, errlen, "%s: %s", dir, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * Give node i the certificates ids (a slot with "" keeps its own):
 * deploy, push, reload; the node's state says so once that is done.
 * When a step fails, the node gets back what it had (deploy, push,
 * reload again; said, best effort) and its state is not changed.
 * 0 or -1 (err).
 */
static int
node_put(struct roll_ctx *x, struct roll_state *st, size_t i, roll_ids ids,
    char *err, size_t errlen)
{
	const struct roll_node *nd = &x->s->nodes[i];
	struct roll_node_state *ns;
	struct nview v;
	char e[ERRBUF_LEN];
	int changed[ROLL_MAX_SLOTS] = { 0 }, k, any = 0, rc = -1;

	if ((ns = node_state(x, st, i, err, errlen)) == NULL)
		return -1;
	if (nd->npush > 0 && staging_dir(x, err, errlen) == -1)
		return -1;
	if (view_open(x->s, nd, &v, err, errlen) == -1)
		return -1;
	for (k = 0; k < st->nslots; k++) {
		if (ids[k][0] == '\0' || strcmp(ids[k], ns->current[k]) == 0)
			continue;
		if (world(x)->deploy(x->c->state_dir, &v.s,
		    st->slot[k].name, ids[k], err, errlen) == -1)
			goto undo;
		changed[k] = any = 1;
	}
	if (!any) {
		rc = 0;		/* it has them, and was reloaded */
		goto out;
	}
	if (push_reload(x, nd, &v, err, errlen) == -1)
		goto undo;
	for (k = 0; k < st->nslots; k++)
		if (changed[k]) {
			memcpy(ns->previous[k], ns->current[k],
			    sizeof(ns->previous[k]));
			memcpy(ns->current[k], ids[k], sizeof(ns->current[k]));
		}
	rc = 0;
	goto out;
undo:
	say(x, "  node %s: %s; switching it back\n", nd->name, err);
	for (k = 0, any = 0; k < st->nslots; k++) {
		if (!changed[k])
			continue;
		if (ns->current[k][0] == '\0') {
			say(x, "  node %s: no previous certificate to switch "
			    "back to\n", nd->name);
			continue;
		}
		if (world(x)->deploy(x->c->state_dir, &v.s,
		    st->slot[k].name, ns->current[k], e, sizeof(e)) == -1)
			say(x, "  node %s: switching back to %s FAILED: %s\n",
			    nd->name, ns->current[k], e);
		else {
			say(x, "  node %s: switched back to %s\n", nd->name,
			    ns->current[k]);
			any = 1;
		}
	}
	if (any && push_reload(x, nd, &v, e, sizeof(e)) == -1)
		say(x, "  node %s: after switching back: %s\n", nd->name, e);
out:
	view_close(&v);
	return rc;
}

/*
 * A try of node ns failed (why): count it; it rests a run, or, out of
 * retries, it is stopped.  The alert (x->warn, the first) names it.
 */
static void
node_failed(struct roll_ctx *x, struct roll_node_state *ns, const char *why)
{
	char w[sizeof(x->warn)];

	ns->failures++;
	snprintf(ns->error, sizeof(ns->error), "%s", why);
	if (ns->failures > x->s->node_retries) {
		ns->stopped = 1;
		ns->wait = 0;
		errfmt(w, sizeof(w), "service %s: node %s failed %u times "
		    "(last: %s); it is not tried again until tlsa-rollover "
		    "retry %s %s", x->s->name, ns->name, ns->failures, why,
		    x->s->name, ns->name);
	} else {
		ns->wait = 1;
		errfmt(w, sizeof(w), "service %s: node %s failed (%s) and "
		    "serves its previous certificate; tried again after a "
		    "run (%u of %u retries left)", x->s->name, ns->name, why,
		    x->s->node_retries - ns->failures + 1,
		    x->s->node_retries);
	}
	say(x, "  %s\n", w);
	if (x->warn[0] == '\0')
		snprintf(x->warn, sizeof(x->warn), "%s", w);
}

static void
node_ok(struct roll_node_state *ns)
{
	ns->failures = 0;
	ns->wait = 0;
	ns->stopped = 0;
	ns->error[0] = '\0';
}

/*
 * Probe node i at its addresses: everything it serves must validate
 * against the published RRset and be what it was given (not a chain
 * left over from before a reload that did not take).  1 ok, 0 not (why
 * in err).
 */
static int
node_check(struct roll_ctx *x, struct roll_state *st, size_t i,
    char *err, size_t errlen)
{
	const struct roll_node *nd = &x->s->nodes[i];
	const struct roll_node_state *ns = node_find(st, nd->name);
	struct zone_rrset served = { 0 }, given = { 0 };
	struct nview v;
	roll_ids ids;
	size_t j;
	int r, ok = 0;

	if (ns == NULL) {
		errfmt(err, errlen, "not deployed");
		return 0;
	}
	if (view_open(x->s, nd, &v, err, errlen) == -1)
		return 0;
	say(x, "  node %s:\n", nd->name);
	r = world(x)->live_check(&v.s, &st->published, &served, x->out,
	    err, errlen);
	memcpy(ids, ns->current, sizeof(ids));
	if (r > 0)
		errfmt(err, errlen, "%d of its addresses do not validate", r);
	else if (r == 0 && ids_records(x, st, ids, &given, err,
	    errlen) == 0) {
		for (j = 0; j < served.n; j++)
			if (!zone_rrset_has(&given, &served.v[j]))
				break;
		if (j == served.n)
			ok = 1;
		else
			errfmt(err, errlen, "it still serves a certificate "
			    "that is not the one deployed (did the reload "
			    "take?)");
	}
	zone_rrset_free(&served);
	zone_rrset_free(&given);
	view_close(&v);
	return ok;
}

/* Is node i stopped or resting (said)? */
static int
node_skipped(struct roll_ctx *x, const struct roll_node_state *ns, size_t i)
{
	if (ns->stopped) {
		say(x, "  node %s is stopped after %u failed tries; "
		    "tlsa-rollover retry %s %s tries it again\n", ns->name,
		    ns->failures, x->s->name, ns->name);
		return 1;
	}
	if (i < 32 && (x->resting & (1U << i))) {
		say(x, "  node %s rests this run after a failure\n",
		    ns->name);
		return 1;
	}
	return 0;
}

int
roll_fleet_switch(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen)
{
	struct roll_node_state *ns;
	roll_ids want, old;
	char e[ERRBUF_LEN], failed[256];
	size_t i;
	int nok = 0, nfail = 0, nstopped = 0, r;

	failed[0] = '\0';
	target_ids(st, 1, want);
	for (i = 0; i < x->s->nnodes; i++) {
		if ((ns = node_state(x, st, i, err, errlen)) == NULL)
			return -1;
		if (on_ids(st, ns, want)) {
			nok++;		/* a run stopped after it had them */
			continue;
		}
		if (node_skipped(x, ns, i)) {
			nstopped += ns->stopped;
			continue;
		}
		if (node_put(x, st, i, want, e, sizeof(e)) == 0) {
			say(x, "  node %s: deployed and reloaded\n", ns->name);
			node_ok(ns);
			nok++;
		} else {
			node_failed(x, ns, e);
			nfail++;
			snprintf(failed + strlen(failed), sizeof(failed) -
			    strlen(failed), "%s%s", failed[0] ? ", " : "",
			    ns->name);
		}
		if (roll_save(x, st, err, errlen) == -1)
			return -1;
	}
	if (nok == 0 && nfail == 0) {
		if (nstopped == (int)x->s->nnodes) {
			errfmt(err, errlen, "service %s: every node is stopped "
			    "after failed tries; nothing is switched until "
			    "tlsa-rollover retry %s", x->s->name, x->s->name);
			return -1;
		}
		say(x, ROLL_INFO "  waiting: the nodes rest after a failure\n");
		return 1;
	}
	if (nok == 0) {
		errfmt(err, errlen, "service %s: no node took the new "
		    "certificate (failed: %s)", x->s->name, failed);
		return -1;
	}
	if (nok == (int)x->s->nnodes)
		return 0;
	/*
	 * Some nodes keep what they served: the others may keep the new
	 * certificates only while the old ones are published as well (so
	 * that every chain any node serves matches a published record).
	 */
	for (i = 0; i < x->s->nnodes; i++) {
		ns = node_state(x, st, i, err, errlen);
		if (ns == NULL)
			return -1;
		if (on_ids(st, ns, want))
			continue;
		memcpy(old, ns->current, sizeof(old));
		if ((r = ids_published(x, st, old, e, sizeof(e))) != 1)
			break;
	}
	if (i == x->s->nnodes)
		return 0;
	errfmt(err, errlen, "service %s: node %s keeps a certificate that is "
	    "not published (%s): every node is switched back", x->s->name,
	    x->s->nodes[i].name, e);
	for (i = 0; i < x->s->nnodes; i++) {
		ns = node_state(x, st, i, e, sizeof(e));
		if (ns == NULL || !on_ids(st, ns, want))
			continue;
		memcpy(old, ns->previous, sizeof(old));
		if (node_put(x, st, i, old, e, sizeof(e)) == -1)
			say(x, "  node %s: switching back FAILED: %s\n",
			    ns->name, e);
	}
	(void)roll_save(x, st, e, sizeof(e));
	return -1;
}

int
roll_fleet_verify(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen)
{
	struct roll_node_state *ns;
	roll_ids cur, old;
	char e[ERRBUF_LEN], failed[256];
	size_t i;
	int nnew = 0, nbad = 0, k;

	failed[0] = '\0';
	target_ids(st, 0, cur);
	for (i = 0; i < x->s->nnodes; i++) {
		if ((ns = node_state(x, st, i, err, errlen)) == NULL)
			return -1;
		if (!on_ids(st, ns, cur))
			continue;	/* switched back at SWITCH */
		if (node_check(x, st, i, e, sizeof(e))) {
			nnew++;
			continue;
		}
		say(x, "  node %s: %s\n", ns->name, e);
		if (x->dry_run) {
			nbad++;
			continue;
		}
		nbad++;
		snprintf(failed + strlen(failed), sizeof(failed) -
		    strlen(failed), "%s%s", failed[0] ? ", " : "", ns->name);
		/* Its old certificates are published until RETIRE. */
		memcpy(old, ns->previous, sizeof(old));
		if (ids_published(x, st, old, err, errlen) == 1 &&
		    node_put(x, st, i, old, err, errlen) == 0)
			say(x, "  node %s switched back alone\n", ns->name);
		else
			say(x, "  node %s: cannot be switched back: %s\n",
			    ns->name, err);
		node_failed(x, ns, e);
		if (roll_save(x, st, err, errlen) == -1)
			return -1;
	}
	if (x->dry_run) {
		if (nbad > 0)
			errfmt(err, errlen, "service %s: %d node(s) do not "
			    "validate", x->s->name, nbad);
		return nbad > 0 ? -1 : 0;
	}
	if (nnew == 0) {
		/* Nobody serves the new certificates: as before SWITCH. */
		for (k = 0; k < st->nslots; k++) {
			struct roll_slot *sl = &st->slot[k];

			if (sl->previous[0] == '\0')
				continue;
			memcpy(sl->pending, sl->current, sizeof(sl->pending));
			memcpy(sl->current, sl->previous, sizeof(sl->current));
			sl->previous[0] = '\0';
		}
		st->phase = ROLL_STEADY;
		errfmt(err, errlen, "service %s: no node validates after the "
		    "switch (failed: %s); back to the previous certificate",
		    x->s->name, failed[0] ? failed : "?");
		return -1;
	}
	st->phase = ROLL_RETIRE;
	return 1;
}

int
roll_fleet_wanted(struct roll_ctx *x, const struct roll_state *st,
    struct zone_rrset *out, char *err, size_t errlen)
{
	const struct roll_node_state *ns;
	roll_ids ids;
	size_t i;

	for (i = 0; i < x->s->nnodes; i++) {
		if ((ns = node_find(st, x->s->nodes[i].name)) == NULL)
			continue;
		memcpy(ids, ns->current, sizeof(ids));
		if (ids_records(x, st, ids, out, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/* Is the deploy link of slot k gone from local node i? */
static int
link_gone(struct roll_ctx *x, const struct roll_state *st, size_t i, int k)
{
	if (x->s->nodes[i].npush > 0)
		return 0;
	return world(x)->link_gone(x->s->nodes[i].deploy_dir,
	    st->slot[k].name);
}

int
roll_fleet_start(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen)
{
	struct roll_node_state *ns;
	struct zone_rrset want = { 0 };
	roll_ids cur, old;
	char e[ERRBUF_LEN];
	size_t i;
	int k, dirty = 0, caught = 0, r;

	if (x->dry_run)
		return 0;
	target_ids(st, 0, cur);
	for (i = 0; i < x->s->nnodes; i++) {
		if ((ns = node_state(x, st, i, err, errlen)) == NULL)
			return -1;
		if (ns->wait > 0) {
			ns->wait--;
			if (i < 32)
				x->resting |= 1U << i;
			dirty = 1;
		}
		for (k = 0; k < st->nslots; k++)
			if (ns->current[k][0] && link_gone(x, st, i, k)) {
				say(x, "  node %s: its deploy link for %s is "
				    "gone; deploying it again\n", ns->name,
				    ns->current[k]);
				ns->current[k][0] = '\0';
				dirty = 1;
			}
	}
	/* SWITCH and VERIFY move the current certificates themselves. */
	if (st->phase == ROLL_SWITCH || st->phase == ROLL_VERIFY)
		goto out;
	for (i = 0; i < x->s->nnodes; i++) {
		if ((ns = node_state(x, st, i, err, errlen)) == NULL)
			return -1;
		if (on_ids(st, ns, cur) || node_skipped(x, ns, i))
			continue;
		/* The current certificates: published, as they are live. */
		if ((r = ids_published(x, st, cur, e, sizeof(e))) != 1) {
			say(x, "  node %s is behind, but the current "
			    "certificates are not published: %s\n", ns->name,
			    r == 0 ? e : "?");
			continue;
		}
		dirty = 1;
		say(x, "%s: node %s: deploying the current certificate\n",
		    x->s->name, ns->name);
		if (node_put(x, st, i, cur, e, sizeof(e)) == 0) {
			if (node_check(x, st, i, e, sizeof(e))) {
				say(x, "  node %s serves the current "
				    "certificate\n", ns->name);
				node_ok(ns);
				caught++;
				continue;
			}
			say(x, "  node %s: %s\n", ns->name, e);
			memcpy(old, ns->previous, sizeof(old));
			if (ids_published(x, st, old, err, errlen) != 1 ||
			    node_put(x, st, i, old, err, errlen) == -1)
				say(x, "  node %s: cannot be switched back\n",
				    ns->name);
		}
		node_failed(x, ns, e);
		snprintf(st->alert, sizeof(st->alert), "%s", x->warn);
	}
	/* Records only a node behind needed may go now. */
	if (caught > 0 && st->phase == ROLL_STEADY && st->have_published) {
		if (roll_wanted(x, st, 1, &want, err, errlen) == -1)
			return -1;
		if (!zone_rrset_subset(&st->published, &want)) {
			say(x, "%s: steady -> retire (records only a node "
			    "behind needed)\n", x->s->name);
			st->phase = ROLL_RETIRE;
		}
		zone_rrset_free(&want);
	}
	if (caught > 0 && x->warn[0] == '\0' && strstr(st->alert, "node ") !=
	    NULL)
		st->alert[0] = '\0';
out:
	if (dirty && roll_save(x, st, err, errlen) == -1)
		return -1;
	return 0;
}

void
roll_fleet_alert(struct roll_ctx *x, struct roll_state *st)
{
	const struct roll_node_state *ns;
	char e[ERRBUF_LEN];
	size_t i;

	if (x->dry_run || st->alert[0] != '\0')
		return;
	for (i = 0; i < x->s->nnodes; i++) {
		if ((ns = node_find(st, x->s->nodes[i].name)) == NULL ||
		    ns->failures == 0)
			continue;
		if (ns->stopped)
			errfmt(st->alert, sizeof(st->alert), "service %s: node "
			    "%s failed %u times (last: %s); it is not tried "
			    "again until tlsa-rollover retry %s %s",
			    x->s->name, ns->name, ns->failures, ns->error,
			    x->s->name, ns->name);
		else
			errfmt(st->alert, sizeof(st->alert), "service %s: node "
			    "%s failed (%s) and serves its previous "
			    "certificate; tried again after a run", x->s->name,
			    ns->name, ns->error);
		(void)roll_save(x, st, e, sizeof(e));
		return;
	}
}

int
roll_fleet_retry(struct roll_ctx *x, struct roll_state *st, const char *node,
    char *err, size_t errlen)
{
	struct roll_node_state *ns;
	size_t i;
	int n = 0;

	if (x->s->nnodes == 0) {
		errfmt(err, errlen, "service %s has no nodes", x->s->name);
		return -1;
	}
	for (i = 0; i < x->s->nnodes; i++) {
		if (node != NULL && strcmp(node, x->s->nodes[i].name) != 0)
			continue;
		if ((ns = node_state(x, st, i, err, errlen)) == NULL)
			return -1;
		if (ns->failures > 0 || node != NULL) {
			say(x, "%s: node %s: %s\n", x->s->name, ns->name,
			    ns->failures > 0 ? "failures forgotten; trying it "
			    "now" : "trying it now");
			node_ok(ns);
			n++;
		}
	}
	if (node != NULL && n == 0) {
		errfmt(err, errlen, "service %s has no node \"%s\"", x->s->name,
		    node);
		return -1;
	}
	if (n == 0)
		say(x, "%s: no node has failed\n", x->s->name);
	if (strstr(st->alert, "node ") != NULL)
		st->alert[0] = '\0';
	return roll_save(x, st, err, errlen);
}

int
roll_fleet_redeploy(struct roll_ctx *x, struct roll_state *st,
    const char *slot, const char *id, char *err, size_t errlen)
{
	const struct roll_node_state *ns;
	struct nview v;
	size_t i;
	int k, rc = 0;

	for (k = 0; k < st->nslots; k++)
		if (strcmp(st->slot[k].name, slot) == 0)
			break;
	for (i = 0; k < st->nslots && i < x->s->nnodes && rc == 0; i++) {
		ns = node_find(st, x->s->nodes[i].name);
		if (ns == NULL || strcmp(ns->current[k], id) != 0)
			continue;
		if (view_open(x->s, &x->s->nodes[i], &v, err, errlen) == -1)
			return -1;
		if (world(x)->deploy(x->c->state_dir, &v.s, slot, id, err,
		    errlen) == -1 || push_reload(x, &x->s->nodes[i], &v, err,
		    errlen) == -1)
			rc = -1;
		else
			say(x, "  node %s: deployed and reloaded\n",
			    x->s->nodes[i].name);
		view_close(&v);
	}
	return rc;
}
