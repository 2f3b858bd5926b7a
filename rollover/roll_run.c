/*
 * roll_run.c: the rollover state machine.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "crashpoint.h"
#include "log.h"
#include "roll_deploy.h"
#include "roll_fleet.h"
#include "roll_pub.h"
#include "roll_run.h"
#include "roll_store.h"
#include "roll_vis.h"
#include "roll_world.h"
#include "tlsa_dane.h"
#include "zone_check.h"
#include "zone_publish.h"
#include "zone_rr.h"

#define say(x, ...) sbuf_printf((x)->out, __VA_ARGS__)
/* Everything outside: see roll_world.h. */
#define world(x) roll_world_of(x)

static const struct zone_xfer_opts xfer = { 3000, 3, 0 };

/* Records for every slot's current (and pending) certificate and the
 * staged key. */
static int
wanted(struct roll_ctx *x, const struct roll_state *st, int with_pending,
    struct zone_rrset *out, char *err, size_t errlen)
{
	struct roll_cert c;
	const char *id;
	int i, k;

	memset(out, 0, sizeof(*out));
	for (k = 0; k < st->nslots; k++)
		for (i = 0; i < 2; i++) {
			id = i == 0 ? st->slot[k].current : with_pending ?
			    st->slot[k].pending : "";
			if (id[0] == '\0')
				continue;
			if (roll_store_load(x->c->state_dir, x->s->name, id, 0,
			    &c, err, errlen) == -1)
				return -1;
			if (roll_records_chain(x->s, c.chain, out, err,
			    errlen) == -1) {
				roll_cert_free(&c);
				return -1;
			}
			roll_cert_free(&c);
		}
	if (st->staged[0] != '\0') {
		if (roll_store_load(x->c->state_dir, x->s->name, st->staged,
		    1, &c, err, errlen) == -1)
			return -1;
		if (roll_records_key(x->s, c.key, out, err, errlen) == -1) {
			roll_cert_free(&c);
			return -1;
		}
		roll_cert_free(&c);
	}
	/* A node switched back alone serves its old certificate. */
	if (x->s->nnodes > 0 && roll_fleet_wanted(x, st, out, err,
	    errlen) == -1)
		return -1;
	return 0;
}

/* The owner names of the service: one RRset per MX host. */
static char *
owner_of(const struct roll_service *s, size_t h, char *err, size_t errlen)
{
	return zone_tlsa_owner(s->port, "tcp", s->hosts[h], err, errlen);
}

/*
 * The service's primary and its TSIG key (free the key after use), for
 * asking it directly.  Other backends than rfc2136: the primary only
 * when one is configured (asked without a key).  1 there is one, 0
 * none, -1 error.
 */
static int
primary_open(struct roll_ctx *x, struct zone_server *srv,
    struct zone_tsig *key, char *err, size_t errlen)
{
	if (!roll_pub_is_rfc2136(x->s) && x->s->dns.primary == NULL)
		return 0;
	if (zone_server_parse(x->s->dns.primary, srv, err, errlen) == -1 ||
	    (roll_pub_is_rfc2136(x->s) && zone_tsig_load(
	    x->s->dns.tsig_key_file, key, err, errlen) == -1))
		return -1;
	return 1;
}

/* Is host one of the owners the published RRset was put at? */
static int
was_published_at(const struct roll_state *st, const char *host)
{
	const char *p = st->published_hosts;
	size_t n = strlen(host);

	/* A state from before hosts were recorded: every host. */
	if (*p == '\0')
		return st->have_published;
	while ((p = strstr(p, host)) != NULL) {
		if ((p == st->published_hosts || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

static void
record_hosts(const struct roll_service *s, struct roll_state *st)
{
	size_t h, used = 0;
	int n;

	st->published_hosts[0] = '\0';
	for (h = 0; h < s->nhosts; h++) {
		n = snprintf(st->published_hosts + used,
		    sizeof(st->published_hosts) - used, "%s%s",
		    used > 0 ? " " : "", s->hosts[h]);
		if (n < 0 || (size_t)n >= sizeof(st->published_hosts) - used)
			break;
		used += (size_t)n;
	}
}

/*
 * Make the RRset of every owner exactly set (compare and swap): owners
 * the recorded RRset was put at are expected to hold it; an owner new
 * to the service is expected to hold nothing yet.  The first time (no
 * state yet) what the primary holds is read and kept (adopt it: set
 * already includes it, see adopt()).
 */
/* Does every owner of the service hold exactly set on srv? */
static int
already_there(struct roll_ctx *x, struct roll_pub *pub,
    const struct zone_rrset *set)
{
	struct zone_rrset cur;
	char *owner, e[ERRBUF_LEN];
	size_t h;
	int same = 1;

	for (h = 0; h < x->s->nhosts && same; h++) {
		if ((owner = owner_of(x->s, h, e, sizeof(e))) == NULL)
			return 0;
		if (roll_pub_read(pub, owner, &cur, e, sizeof(e)) == -1)
			same = 0;
		else {
			same = zone_rrset_equal(&cur, set);
			zone_rrset_free(&cur);
		}
		free(owner);
	}
	return same;
}

static int
publish_set(struct roll_ctx *x, struct roll_state *st,
    const struct zone_rrset *set, char *err, size_t errlen)
{
	struct zone_rrlist want = { 0 }, expect = { 0 };
	struct roll_pub pub;
	struct tlsa_rec r;
	char *owner;
	size_t h, i;
	int rc = -1;

	if (world(x)->pub_open(x->s, &pub, err, errlen) == -1)
		return -1;
	for (h = 0; h < x->s->nhosts; h++) {
		if ((owner = owner_of(x->s, h, err, errlen)) == NULL)
			goto out;
		for (i = 0; i < set->n; i++) {
			if (tlsa_rec_copy(&r, &set->v[i]) == -1)
				goto nomem_owner;
			if (zone_rrlist_add(&want, owner, x->s->dns.ttl, 1,
			    1, &r, NULL) == -1)
				goto nomem_owner;
		}
		for (i = 0; st->have_published &&
		    was_published_at(st, x->s->hosts[h]) &&
		    i < st->published.n; i++) {
			if (tlsa_rec_copy(&r, &st->published.v[i]) == -1)
				goto nomem_owner;
			if (zone_rrlist_add(&expect, owner, 0, 0, 1, &r,
			    NULL) == -1)
				goto nomem_owner;
		}
		/* A first publish: what adoption read and decided on. */
		for (i = 0; !st->have_published && x->adopted != NULL &&
		    i < x->adopted[h].n; i++) {
			if (tlsa_rec_copy(&r, &x->adopted[h].v[i]) == -1)
				goto nomem_owner;
			if (zone_rrlist_add(&expect, owner, 0, 0, 1, &r,
			    NULL) == -1)
				goto nomem_owner;
		}
		free(owner);
		continue;
nomem_owner:
		free(owner);
		errfmt(err, errlen, "out of memory");
		goto out;
	}
	if (want.n == 0) {
		errfmt(err, errlen, "service %s: refusing to publish an empty "
		    "RRset", x->s->name);
		goto out;
	}
	/*
	 * Without a recorded RRset (first run), what adoption read is
	 * expected (a record added since makes the update fail, not go
	 * unseen); without that either, read what DNS holds.
	 */
	rc = roll_pub_replace(&pub, &want, st->have_published ||
	    x->adopted != NULL ? &expect : NULL, x->dry_run, x->out, err,
	    errlen);
	/*
	 * Refused because the zone is not what the state says: when it
	 * holds exactly what we want, an earlier run was stopped after its
	 * update and before it could record it.  Anything else stays an
	 * error: someone else changed the RRset.
	 */
	if (rc == -1 && !x->dry_run && st->have_published &&
	    already_there(x, &pub, set)) {
		say(x, "  the zone holds the new RRset already (an earlier run "
		    "was stopped after its update)\n");
		rc = 0;
	}
	if (rc == 0 && !x->dry_run)
		record_hosts(x->s, st);
out:
	zone_rrlist_free(&want);
	zone_rrlist_free(&expect);
	roll_pub_close(&pub);
	return rc;
}

/*
 * Publish *set and, once the server confirmed it, make it the recorded
 * RRset (taking set's records; set is left empty).  1 recorded, 0 dry
 * run (nothing recorded), -1 failed.
 */
static int
publish_record(struct roll_ctx *x, struct roll_state *st,
    struct zone_rrset *set, char *err, size_t errlen)
{
	if (publish_set(x, st, set, err, errlen) == -1)
		return -1;
	if (x->dry_run)
		return 0;
	/* The zone changed; the state does not know yet. */
	crashpoint(st->phase == ROLL_RETIRE ? "retire:dns-updated" :
	    "publish:dns-updated");
	zone_rrset_free(&st->published);
	st->published = *set;
	memset(set, 0, sizeof(*set));
	st->have_published = 1;
	st->published_at = x->now;
	return 1;
}

/* Was the recorded RRset put at every host the service has now? */
static int
all_hosts_published(const struct roll_service *s,
    const struct roll_state *st)
{
	size_t h;

	for (h = 0; h < s->nhosts; h++)
		if (!was_published_at(st, s->hosts[h]))
			return 0;
	return 1;
}

/* A host name without its trailing dot, as certificates name it. */
static void
host_nodot(const char *h, char *buf, size_t len)
{
	snprintf(buf, len, "%s", h);
	if (buf[0] != '\0' && buf[strlen(buf) - 1] == '.')
		buf[strlen(buf) - 1] = '\0';
}

/*
 * Add to keep the records of cand that a certificate or key the state
 * knows (every slot's current and pending certificate, the staged key)
 * matches on its own, for any host of the service.  0 or -1.
 */
static int
match_known(struct roll_ctx *x, const struct roll_state *st,
    const struct zone_rrset *cand, struct zone_rrset *keep, char *err,
    size_t errlen)
{
	struct roll_cert c = { 0 };
	struct tlsa_match m;
	const char *id;
	char host[256];
	size_t i, h;
	int k, r, rc = -1;

	for (k = 0; k <= st->nslots * 2; k++) {
		id = k == st->nslots * 2 ? st->staged : k % 2 == 0 ?
		    st->slot[k / 2].current : st->slot[k / 2].pending;
		if (id[0] == '\0')
			continue;
		if (roll_store_load(x->c->state_dir, x->s->name, id,
		    k == st->nslots * 2, &c, err, errlen) == -1)
			goto out;
		for (i = 0; i < cand->n; i++)
			for (h = 0; h < x->s->nhosts &&
			    !zone_rrset_has(keep, &cand->v[i]); h++) {
				host_nodot(x->s->hosts[h], host, sizeof(host));
				/* A staged key has no chain: its 3 1 x. */
				r = tlsa_dane_verify(k == st->nslots * 2 ?
				    NULL : c.chain, k == st->nslots * 2 ?
				    c.key : NULL, host, &cand->v[i], 1, &m,
				    err, errlen);
				if (r == -1)
					goto out;
				if (r == 1 && zone_rrset_push_copy(keep,
				    &cand->v[i]) == -1) {
					errfmt(err, errlen, "out of memory");
					goto out;
				}
			}
		roll_cert_free(&c);
	}
	rc = 0;
out:
	roll_cert_free(&c);
	return rc;
}

/*
 * Before the first publish (no recorded RRset): decide what of the
 * records the primary holds at the service's owners to keep.  set
 * comes in as the wanted records and leaves as the one RRset every
 * owner gets: wanted, plus every record found at any owner that
 * something present matches on its own (a certificate or key the state
 * knows, or a chain that some MX address serves right now; the live
 * probe tests each record alone).  A record nothing present matches is
 * dropped: no owner gets it (so junk at one host is never copied to the
 * others), and the owner that held it loses it with this update, as
 * RETIRE would have removed it; no live chain needs it, so the
 * invariant holds.  That is decided only when the probe saw every
 * address in full: otherwise an address not seen may serve a chain
 * that needs it, and it may be neither dropped nor copied, so the
 * adoption waits (error; the next run tries again) and DNS is not
 * touched.  *same is set when every owner holds exactly set already:
 * then no update is needed.  0 or -1.
 */
static int
adopt(struct roll_ctx *x, const struct roll_state *st, struct zone_rrset *set,
    int *same, struct zone_rrset **found, char *err, size_t errlen)
{
	struct roll_pub pub;
	struct zone_rrset *cur = NULL, cand = { 0 }, keep = { 0 }, left = { 0 };
	char *owner;
	size_t h, i, nkeep, ndrop;
	int rc = -1, r;

	*same = 0;
	*found = NULL;
	if (world(x)->pub_open(x->s, &pub, err, errlen) == -1)
		return -1;
	if ((cur = calloc(x->s->nhosts, sizeof(*cur))) == NULL)
		goto nomem;
	for (h = 0; h < x->s->nhosts; h++) {
		if ((owner = owner_of(x->s, h, err, errlen)) == NULL)
			goto out;
		r = roll_pub_read(&pub, owner, &cur[h], err, errlen);
		free(owner);
		if (r == -1)
			goto out;
		if (zone_rrset_union(&cand, &cur[h]) == -1)
			goto nomem;
	}
	zone_rrset_minus(&cand, set);
	if (cand.n > 0 && match_known(x, st, &cand, &keep, err, errlen) == -1)
		goto out;
	if (zone_rrset_union(&left, &cand) == -1)
		goto nomem;
	zone_rrset_minus(&left, &keep);
	if (left.n > 0) {
		say(x, "  %zu record(s) found that no certificate or key known "
		    "here matches; asking the MX addresses what they serve\n",
		    left.n);
		r = world(x)->live_matching(x->s, &left, &keep, x->out, err,
		    errlen);
		if (r != 0) {
			if (r > 0)
				errfmt(err, errlen, "service %s: %d MX "
				    "address(es) could not be checked in full "
				    "(see the lines above): the %zu record(s) "
				    "found that nothing known matches are "
				    "neither dropped nor copied to other hosts; "
				    "nothing is published until every address "
				    "can be checked", x->s->name, r, left.n);
			goto out;
		}
	}
	for (h = 0; h < x->s->nhosts; h++) {
		for (i = 0, nkeep = 0, ndrop = 0; i < cur[h].n; i++) {
			if (zone_rrset_has(set, &cur[h].v[i]) ||
			    zone_rrset_has(&keep, &cur[h].v[i]))
				nkeep++;
			else
				ndrop++;
		}
		if (nkeep > 0)
			say(x, "  keeping %zu record(s) found at %s\n", nkeep,
			    x->s->hosts[h]);
		if (ndrop > 0)
			say(x, "  dropping %zu record(s) found at %s that "
			    "nothing deployed, staged or served matches\n",
			    ndrop, x->s->hosts[h]);
	}
	if (zone_rrset_union(set, &keep) == -1)
		goto nomem;
	*same = 1;
	for (h = 0; h < x->s->nhosts; h++)
		if (!zone_rrset_equal(&cur[h], set))
			*same = 0;
	/* What was read is what the update must find (compare and swap). */
	*found = cur;
	cur = NULL;
	rc = 0;
	goto out;
nomem:
	errfmt(err, errlen, "out of memory");
out:
	for (h = 0; cur != NULL && h < x->s->nhosts; h++)
		zone_rrset_free(&cur[h]);
	free(cur);
	zone_rrset_free(&cand);
	zone_rrset_free(&keep);
	zone_rrset_free(&left);
	roll_pub_close(&pub);
	return rc;
}

/* Add "ROLE NAME" to the comma-separated list in buf (truncated). */
static void
append_behind(char *buf, size_t len, const char *role, const char *name)
{
	size_t used = strlen(buf);

	if (used + 1 < len)
		snprintf(buf + used, len - used, "%s%s%s%s", used ? ", " : "",
		    role, name[0] ? " " : "", name);
}

uint32_t
roll_ttl_clamp(const struct roll_service *s, uint32_t ttl)
{
	uint32_t bound = s->dns.max_ttl > s->dns.ttl ? s->dns.max_ttl :
	    s->dns.ttl;

	ttl = zone_ttl_rfc2181(ttl);
	return ttl > bound ? bound : ttl;
}

/*
 * A TTL a server gave, as the hold may use it: capped by roll_ttl_clamp;
 * a TTL over the bound becomes the run's alert (x->warn, the first
 * one), naming the server.
 */
static uint32_t
roll_ttl_bound(struct roll_ctx *x, const struct zone_vis *v,
    const char *what, uint32_t ttl)
{
	uint32_t c = roll_ttl_clamp(x->s, ttl);

	if (c < ttl && x->warn[0] == '\0')	/* the first one says it */
		errfmt(x->warn, sizeof(x->warn), "service %s: %s %s gives "
		    "%s %u, above max_ttl %u: the hold uses %u", x->s->name,
		    v->role, v->srv.name, what, ttl, c, c);
	return c;
}

/*
 * Does every server in v (one owner's view) serve the published RRset
 * with AA?  1 yes, 0 not yet (each one behind said, and added to
 * behind).  *ttl grows to the largest TTL or negative TTL seen
 * (bounded).
 */
static int
owner_served(struct roll_ctx *x, const struct zone_vis *v, size_t n,
    uint32_t *ttl, char *behind, size_t behindlen)
{
	size_t i, bad = 0;

	for (i = 0; i < n; i++) {
		if (v[i].state != ZONE_VIS_MATCH) {
			char *d = zone_rrset_describe(&v[i].rrset);

			bad++;
			say(x, ROLL_INFO "  %s %s: not yet: %s%s%s\n",
			    v[i].role,
			    v[i].srv.name, v[i].error[0] ?
			    v[i].error : "serves ", v[i].error[0] ?
			    "" : d != NULL ? d : "?", "");
			free(d);
			if (strstr(behind, v[i].srv.name) == NULL)
				append_behind(behind, behindlen,
				    v[i].role, v[i].srv.name);
			continue;
		}
		if (v[i].ttl > *ttl)
			*ttl = roll_ttl_bound(x, &v[i], "TLSA TTL",
			    v[i].ttl);
		/* A resolver may cache "no such RRset" that long. */
		if (v[i].has_serial && v[i].neg_ttl > *ttl)
			*ttl = roll_ttl_bound(x, &v[i], "negative TTL",
			    v[i].neg_ttl);
	}
	return bad == 0;
}

/*
 * Does the published RRset at one owner validate: the configured
 * resolver returned it with AD, and local validation against the trust
 * anchor file (when there is one) agrees?  1 yes, 0 not yet (said, and
 * added to behind).
 */
static int
owner_validated(struct roll_ctx *x, const struct roll_state *st,
    const struct zone_server *resolver, const struct roll_vis_owner *o,
    char *behind, size_t behindlen)
{
	int ok = 1;

	if (o->res_asked && (o->res_sec != ZONE_SEC_SECURE ||
	    !zone_rrset_equal(&o->res_rrset, &st->published))) {
		say(x, ROLL_INFO "  resolver %s: not yet: %s%s\n",
		    resolver->name, zone_sec_name(o->res_sec),
		    o->res_sec == ZONE_SEC_SECURE ?
		    ", another RRset (cached?)" : "");
		if (strstr(behind, resolver->name) == NULL)
			append_behind(behind, behindlen, "resolver",
			    resolver->name);
		ok = 0;
	}
	if (o->local_asked && (o->local_sec != ZONE_SEC_SECURE ||
	    !zone_rrset_equal(&o->local_rrset, &st->published))) {
		say(x, ROLL_INFO "  local validation: not yet: %s\n",
		    o->local_sec == ZONE_SEC_SECURE ? "secure, but "
		    "another RRset" : o->local_why);
		if (strstr(behind, "local validation") == NULL)
			append_behind(behind, behindlen, "local validation",
			    "");
		ok = 0;
	}
	return ok;
}

/*
 * Is the published RRset served by every authoritative server (the
 * configured check_servers, else the NS set) and the primary, and does
 * it validate?  The world asks (roll_vis_run); this reads its answers.
 * 1 yes, 0 not yet (why in x->out), -1 error.  *ttl gets the largest
 * TTL or negative TTL seen.
 */
static int
visible(struct roll_ctx *x, const struct roll_state *st, uint32_t *ttl,
    char *behind, size_t behindlen, char *err, size_t errlen)
{
	struct roll_vis_job job;
	struct roll_vis_result res = { 0 };
	struct zone_server resolver, primary;
	struct zone_tsig key = { 0 };
	char **owners = NULL, *zone = NULL;
	size_t h;
	int rc = -1, ok = 1, has_primary;

	behind[0] = '\0';
	*ttl = x->s->dns.ttl;
	memset(&primary, 0, sizeof(primary));
	memset(&resolver, 0, sizeof(resolver));
	/* The primary is asked with our key: it may answer only us. */
	if ((has_primary = primary_open(x, &primary, &key, err, errlen)) == -1)
		goto out;
	if (x->s->dns.resolver != NULL && zone_server_parse(x->s->dns.resolver,
	    &resolver, err, errlen) == -1)
		goto out;
	if ((owners = calloc(x->s->nhosts, sizeof(*owners))) == NULL)
		goto out;
	for (h = 0; h < x->s->nhosts; h++)
		if ((owners[h] = owner_of(x->s, h, err, errlen)) == NULL)
			goto out;
	if (x->s->nhosts > 0) {
		zone = x->s->dns.zone != NULL ? strdup(x->s->dns.zone) :
		    world(x)->apex(&primary, owners[0], 0, &key, &xfer, err,
		    errlen);
		if (zone == NULL)
			goto out;
	}
	memset(&job, 0, sizeof(job));
	job.zone = zone;
	job.owners = (const char *const *)owners;
	job.nowners = x->s->nhosts;
	job.expect = &st->published;
	job.check_servers = (const char *const *)x->s->dns.check_servers;
	job.ncheck_servers = x->s->dns.ncheck_servers;
	job.resolver = x->s->dns.resolver;
	job.ta_file = x->s->dns.trust_anchor_file;
	job.primary = has_primary ? &primary : NULL;
	job.key = &key;
	if (x->s->nhosts > 0 && world(x)->vis(&job, &res, err, errlen) == -1)
		goto out;
	if (res.n != x->s->nhosts) {
		errfmt(err, errlen, "service %s: the visibility check gave "
		    "%zu answer(s) for %zu host(s)", x->s->name, res.n,
		    x->s->nhosts);
		goto out;
	}
	for (h = 0; h < x->s->nhosts; h++) {
		if (!owner_served(x, res.o[h].v, res.o[h].n, ttl, behind,
		    behindlen))
			ok = 0;
		if (!owner_validated(x, st, &resolver, &res.o[h], behind,
		    behindlen))
			ok = 0;
	}
	rc = ok;
out:
	if (rc == -1 && err[0] == '\0')
		errfmt(err, errlen, "out of memory");
	roll_vis_result_free(&res);
	zone_tsig_free(&key);
	for (h = 0; owners != NULL && h < x->s->nhosts; h++)
		free(owners[h]);
	free(owners);
	free(zone);
	return rc;
}

long
roll_hold_need(const struct roll_service *s, uint32_t ttl)
{
	long need;

	/* RFC 7671 8.1: 2 x TTL (the largest of the configured TTL, the
	 * RRset's TTL and the zone's negative TTL seen on the servers)
	 * after every server serves it, plus a margin. */
	need = 2L * (long)ttl + (long)s->dns.hold_margin;
	if (need < (long)s->dns.min_hold)
		need = (long)s->dns.min_hold;
	return need;
}

int
roll_all_hosts_published(const struct roll_service *s,
    const struct roll_state *st)
{
	return all_hosts_published(s, st);
}

int
roll_wanted(struct roll_ctx *x, const struct roll_state *st,
    int with_pending, struct zone_rrset *out, char *err, size_t errlen)
{
	return wanted(x, st, with_pending, out, err, errlen);
}

long
roll_hold_left(const struct roll_service *s, const struct roll_state *st,
    time_t now)
{
	long until;

	if (st->visible_at == 0)
		return 0;
	until = (long)st->visible_at + roll_hold_need(s, st->hold_ttl);
	return until > (long)now ? until - (long)now : 0;
}

int
roll_save(struct roll_ctx *x, struct roll_state *st, char *err, size_t errlen)
{
	if (x->dry_run)
		return 0;
	return roll_state_save_at(x->c->state_dir, x->s->name, st,
	    roll_world_now(x), err, errlen);
}

/* Put back what was live before in a slot (no reload). */
static int
switch_back(struct roll_ctx *x, const char *slot, const char *id)
{
	char e[ERRBUF_LEN];

	if (id[0] == '\0') {
		say(x, "  no previous certificate to switch back to\n");
		return -1;
	}
	if (world(x)->deploy(x->c->state_dir, x->s, slot, id, e, sizeof(e)) ==
	    -1) {
		say(x, "  switching back to %s FAILED: %s\n", id, e);
		return -1;
	}
	say(x, "  switched back to %s\n", id);
	return 0;
}

static void
reload_after_switch_back(struct roll_ctx *x)
{
	char e[ERRBUF_LEN];

	if (world(x)->reload(x->s, (int)x->s->reload_timeout, e,
	    sizeof(e)) == -1)
		say(x, "  reload after switching back FAILED: %s\n", e);
}

/* Put back the current certificate in the first n slots that have a
 * pending one (no reload). */
static void
switch_back_pending(struct roll_ctx *x, const struct roll_state *st, int n)
{
	int k;

	for (k = 0; k < n; k++)
		if (st->slot[k].pending[0] != '\0')
			(void)switch_back(x, st->slot[k].name,
			    st->slot[k].current);
}

/*
 * The phases, one function each, as step() dispatches them.  Each: 1
 * moved (st->phase is the next phase), 0 waiting, -1 failed (err).
 */

/* STEADY: a certificate or key waiting, or a host added to the service
 * since the RRset was published, starts a PUBLISH. */
static int
phase_steady(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen)
{
	struct zone_rrset want = { 0 };
	int rc = -1;

	if (!roll_state_pending(st) && st->staged[0] == '\0' &&
	    (!st->have_published || all_hosts_published(x->s, st)))
		return 0;
	if (wanted(x, st, 1, &want, err, errlen) == -1)
		goto out;
	if (!roll_state_pending(st) && st->have_published &&
	    zone_rrset_subset(&want, &st->published) &&
	    all_hosts_published(x->s, st)) {
		rc = 0;		/* staged key published already */
		goto out;
	}
	st->phase = ROLL_PUBLISH;
	rc = 1;
out:
	zone_rrset_free(&want);
	return rc;
}

/* PUBLISH: add the records wanted to the RRset at every owner (adopting
 * what DNS holds the first time); then wait for VISIBLE. */
static int
phase_publish(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen)
{
	struct zone_rrset want = { 0 }, *found = NULL;
	size_t h;
	int rc = -1, r, same = 0;

	if (wanted(x, st, 1, &want, err, errlen) == -1)
		goto out;
	if (st->have_published && zone_rrset_subset(&want, &st->published) &&
	    st->visible_at != 0 && all_hosts_published(x->s, st)) {
		/* Covered by records visible since visible_at. */
		say(x, "  the records are published already\n");
		st->phase = ROLL_HOLD;
		rc = 1;
		goto out;
	}
	/* Add, never remove, while publishing. */
	if (st->have_published && zone_rrset_union(&want, &st->published) ==
	    -1) {
		errfmt(err, errlen, "out of memory");
		goto out;
	}
	if (!st->have_published) {
		if (adopt(x, st, &want, &same, &found, err, errlen) == -1)
			goto out;
		/*
		 * Every owner holds these records already: no update.
		 * DNS cannot tell how long they have been there, so
		 * the hold counts from the first run that sees them
		 * on every server (VISIBLE, next).
		 */
		if (same)
			say(x, "  every host holds these records "
			    "already: no update; the hold counts from "
			    "the first run that sees them on every "
			    "server\n");
	}
	x->adopted = found;
	r = publish_record(x, st, &want, err, errlen);
	x->adopted = NULL;
	if (r != 1) {
		rc = r;		/* -1 failed, 0 dry run */
		goto out;
	}
	st->visible_at = 0;
	st->behind[0] = '\0';
	st->checked_at = 0;
	st->phase = ROLL_VISIBLE;
	rc = 1;
out:
	for (h = 0; found != NULL && h < x->s->nhosts; h++)
		zone_rrset_free(&found[h]);
	free(found);
	zone_rrset_free(&want);
	return rc;
}

/* visible(), with who is behind and when it was asked kept for status.
 * 1, 0 or -1 as visible(); on -1 the state is not touched. */
static int
check_visible(struct roll_ctx *x, struct roll_state *st, uint32_t *ttl,
    char *err, size_t errlen)
{
	char behind[sizeof(st->behind)];
	int r;

	if ((r = visible(x, st, ttl, behind, sizeof(behind), err,
	    errlen)) == -1)
		return -1;
	st->checked_at = x->now;
	snprintf(st->behind, sizeof(st->behind), "%s", behind);
	return r;
}

/* VISIBLE: wait until every server serves the RRset and it validates;
 * then HOLD, counted from now. */
static int
phase_visible(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen)
{
	uint32_t ttl;
	int r;

	if ((r = check_visible(x, st, &ttl, err, errlen)) == -1)
		return -1;
	if (r == 0) {
		say(x, ROLL_INFO "  waiting until every server serves "
		    "the new RRset\n");
		/*
		 * Keep waiting (nothing is deployed before it is
		 * visible), but say so loudly once it takes longer
		 * than it should: a server down or lagging.
		 */
		if (st->published_at != 0 && x->now -
		    st->published_at >= (time_t)x->s->dns.visible_timeout) {
			errfmt(err, errlen, "service %s: the RRset "
			    "published %lld s ago is not visible "
			    "everywhere yet (visible_timeout %u s); "
			    "behind: %s", x->s->name,
			    (long long)(x->now - st->published_at),
			    x->s->dns.visible_timeout, st->behind[0] ?
			    st->behind : "?");
			return -1;
		}
		return 0;
	}
	st->visible_at = x->now;
	st->hold_ttl = ttl;
	say(x, "  visible on every server and validated; holding "
	    "%ld s (2 x TTL %u + margin)\n",
	    roll_hold_left(x->s, st, x->now), ttl);
	st->phase = ROLL_HOLD;
	return 1;
}

/* HOLD: wait out 2 x TTL + margin, see that nothing moved, then SWITCH
 * (or RETIRE when no certificate waits). */
static int
phase_hold(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen)
{
	uint32_t ttl;
	long left;
	int r;

	if ((left = roll_hold_left(x->s, st, x->now)) > 0) {
		say(x, ROLL_INFO "  holding: %ld s left\n", left);
		return 0;
	}
	/* Before leaving, see that nothing moved. */
	if ((r = check_visible(x, st, &ttl, err, errlen)) == -1)
		return -1;
	if (r == 0 || ttl > st->hold_ttl) {
		say(x, "  the RRset is no longer everywhere (or its "
		    "TTL grew): back to waiting\n");
		st->visible_at = 0;
		st->phase = ROLL_VISIBLE;
		return 1;
	}
	st->phase = roll_state_pending(st) ? ROLL_SWITCH : ROLL_RETIRE;
	return 1;
}

/* Every new chain must match what resolvers hold, offline: each pending
 * certificate validates against the published RRset for every host.
 * 0 or -1. */
static int
switch_check(struct roll_ctx *x, const struct roll_state *st, char *err,
    size_t errlen)
{
	struct roll_cert pc = { 0 };
	struct tlsa_match m;
	char host[256];
	size_t h;
	int k, r, rc = -1;

	for (k = 0; k < st->nslots; k++) {
		const struct roll_slot *sl = &st->slot[k];

		if (sl->pending[0] == '\0')
			continue;
		if (roll_store_load(x->c->state_dir, x->s->name,
		    sl->pending, 0, &pc, err, errlen) == -1)
			goto out;
		for (h = 0; h < x->s->nhosts; h++) {
			host_nodot(x->s->hosts[h], host, sizeof(host));
			r = tlsa_dane_verify(pc.chain, NULL, host,
			    st->published.v, st->published.n, &m, err,
			    errlen);
			if (r != 1) {
				if (r == 0)
					errfmt(err, errlen, "service "
					    "%s: certificate %s does "
					    "not match the published "
					    "records for %s: %s",
					    x->s->name, sl->pending,
					    host, m.reason);
				goto out;
			}
		}
		roll_cert_free(&pc);
	}
	rc = 0;
out:
	roll_cert_free(&pc);
	return rc;
}

/*
 * Deploy every slot's pending certificate, then reload.  A slot that
 * cannot be deployed undoes the slots deployed before it; a reload that
 * fails switches every slot back and reloads again.  0 or -1 (the old
 * certificates back, as far as that went).
 */
static int
switch_deploy(struct roll_ctx *x, const struct roll_state *st, char *err,
    size_t errlen)
{
	int k;

	for (k = 0; k < st->nslots; k++) {
		const struct roll_slot *sl = &st->slot[k];

		if (sl->pending[0] == '\0')
			continue;
		if (world(x)->deploy(x->c->state_dir, x->s, sl->name,
		    sl->pending, err, errlen) == -1) {
			/* Undo the slots switched before this one. */
			switch_back_pending(x, st, k);
			return -1;
		}
	}
	if (world(x)->reload(x->s, (int)x->s->reload_timeout, err,
	    errlen) == -1) {
		say(x, "  %s; switching back\n", err);
		switch_back_pending(x, st, st->nslots);
		reload_after_switch_back(x);
		return -1;
	}
	return 0;
}

/*
 * The pending certificates are live: each becomes its slot's current
 * one (the one before, previous); a staged key that went live is
 * staged no more.  Then VERIFY.
 */
static void
switch_commit(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen)
{
	struct roll_cert pc = { 0 }, sk;
	int k;

	for (k = 0; k < st->nslots; k++) {
		struct roll_slot *sl = &st->slot[k];

		if (sl->pending[0] == '\0') {
			sl->previous[0] = '\0';
			continue;
		}
		/* A staged key, now deployed, is staged no more. */
		if (st->staged[0] != '\0' &&
		    roll_store_load(x->c->state_dir, x->s->name,
		    sl->pending, 0, &pc, err, errlen) == 0) {
			if (roll_store_load(x->c->state_dir,
			    x->s->name, st->staged, 1, &sk, err,
			    errlen) == 0) {
				if (roll_key_matches(sk.key, pc.chain))
					st->staged[0] = '\0';
				roll_cert_free(&sk);
			}
			roll_cert_free(&pc);
		}
		say(x, "  deployed %s%s%s\n", sl->pending,
		    sl->name[0] ? " as " : "", sl->name);
		memcpy(sl->previous, sl->current, sizeof(sl->previous));
		memcpy(sl->current, sl->pending, sizeof(sl->current));
		sl->pending[0] = '\0';
	}
	say(x, "  reloaded\n");
	crashpoint("switch:reloaded");
	st->switched_at = x->now;
	st->phase = ROLL_VERIFY;
	roll_cert_free(&pc);
}

/* SWITCH: check offline, deploy every pending certificate and reload,
 * then VERIFY (RETIRE when nothing is pending). */
static int
phase_switch(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen)
{
	int r;

	if (!roll_state_pending(st)) {
		st->phase = ROLL_RETIRE;
		return 1;
	}
	if (switch_check(x, st, err, errlen) == -1)
		return -1;
	if (x->dry_run) {
		if (x->s->nnodes > 0)
			say(x, "  would deploy the pending certificate(s) to "
			    "%zu node(s) and reload each\n", x->s->nnodes);
		else
			say(x, "  would deploy the pending certificate(s) into "
			    "%s and reload\n", x->s->deploy_dir);
		return 0;
	}
	if (x->s->nnodes > 0) {
		/* 1: every node rests after a failure; wait. */
		if ((r = roll_fleet_switch(x, st, err, errlen)) != 0)
			return r == 1 ? 0 : -1;
	} else if (switch_deploy(x, st, err, errlen) == -1)
		return -1;
	switch_commit(x, st, err, errlen);
	return 1;
}

/*
 * VERIFY: every MX address must serve a deployed chain that validates;
 * then RETIRE.  Else switch back the slots that switched (the old
 * certificates' records are still published) and go back to STEADY.
 */
static int
phase_verify(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen)
{
	struct zone_rrset want = { 0 }, served = { 0 };
	size_t h;
	int rc = -1, r, k, j;

	if (x->s->nnodes > 0)
		return roll_fleet_verify(x, st, err, errlen);
	r = world(x)->live_check(x->s, &st->published, &served, x->out, err,
	    errlen);
	if (r == 0) {
		/*
		 * Everything validates, but an address may still
		 * serve the old certificate (its records are still
		 * published): a node the reload did not reach.
		 * That is no switch: treat it as a failure.
		 */
		if (wanted(x, st, 1, &want, err, errlen) == -1)
			goto out;
		for (h = 0; h < served.n; h++)
			if (!zone_rrset_has(&want, &served.v[h]))
				break;
		if (h == served.n) {
			st->phase = ROLL_RETIRE;
			rc = 1;
			goto out;
		}
		{
			char *hex = tlsa_hex(served.v[h].data,
			    served.v[h].len);

			errfmt(err, errlen, "service %s: an MX address "
			    "still serves a certificate that is not "
			    "the deployed one (it matches %u %u %u "
			    "%.16s..., see the lines above): a node "
			    "that did not reload?", x->s->name,
			    served.v[h].spec.usage,
			    served.v[h].spec.selector,
			    served.v[h].spec.mtype, hex != NULL ? hex :
			    "?");
			free(hex);
		}
	} else if (r > 0)
		errfmt(err, errlen, "service %s: %d MX address(es) do "
		    "not validate after the switch", x->s->name, r);
	if (x->dry_run)
		goto out;
	/* Switch back the slots that switched: the old
	 * certificates' records are still published. */
	for (k = 0, j = 0; k < st->nslots; k++) {
		struct roll_slot *sl = &st->slot[k];

		if (sl->previous[0] == '\0' ||
		    switch_back(x, sl->name, sl->previous) == -1)
			continue;
		memcpy(sl->pending, sl->current, sizeof(sl->pending));
		memcpy(sl->current, sl->previous, sizeof(sl->current));
		sl->previous[0] = '\0';
		j++;
	}
	if (j > 0)
		reload_after_switch_back(x);
	st->phase = ROLL_STEADY;
out:
	zone_rrset_free(&want);
	zone_rrset_free(&served);
	return rc;
}

/*
 * RETIRE: remove, never add: keep the published records that what is
 * deployed or staged needs, or that any live chain still matches (a
 * node that kept the old certificate).  Records wanted but not yet
 * published wait for their own PUBLISH.  Then STEADY.
 */
static int
phase_retire(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen)
{
	struct zone_rrset want = { 0 }, served = { 0 }, keep = { 0 };
	int rc = -1, r;

	if (wanted(x, st, 1, &want, err, errlen) == -1)
		goto out;
	r = world(x)->live_check(x->s, &st->published, &served, x->out,
	    err, errlen);
	if (r == -1)
		goto out;
	if (r > 0) {
		/* An address not seen in full may serve a chain that
		 * needs a record: retire nothing until it is seen. */
		errfmt(err, errlen, "service %s: %d MX address(es) "
		    "could not be checked in full (see the lines "
		    "above): nothing is retired until they can",
		    x->s->name, r);
		goto out;
	}
	if (zone_rrset_union(&want, &served) == -1)
		goto nomem;
	if (st->have_published && zone_rrset_subset(&st->published, &want)) {
		say(x, "  nothing to retire\n");
		st->phase = ROLL_STEADY;
		rc = 1;
		goto out;
	}
	if (zone_rrset_union(&keep, &st->published) == -1)
		goto nomem;
	zone_rrset_intersect(&keep, &want);
	if ((r = publish_record(x, st, &keep, err, errlen)) != 1) {
		rc = r;		/* -1 failed, 0 dry run */
		goto out;
	}
	/* What remains was visible before: no new wait needed. */
	st->phase = ROLL_STEADY;
	rc = 1;
	goto out;
nomem:
	errfmt(err, errlen, "out of memory");
out:
	zone_rrset_free(&want);
	zone_rrset_free(&served);
	zone_rrset_free(&keep);
	return rc;
}

typedef int (*roll_phase_fn)(struct roll_ctx *, struct roll_state *, char *,
    size_t);

/* Indexed by enum roll_phase. */
static const roll_phase_fn phase_fn[] = {
	[ROLL_STEADY] = phase_steady,
	[ROLL_PUBLISH] = phase_publish,
	[ROLL_VISIBLE] = phase_visible,
	[ROLL_HOLD] = phase_hold,
	[ROLL_SWITCH] = phase_switch,
	[ROLL_VERIFY] = phase_verify,
	[ROLL_RETIRE] = phase_retire,
};

_Static_assert(sizeof(phase_fn) / sizeof(phase_fn[0]) == ROLL_NPHASES,
    "phase_fn must have a function for every enum roll_phase");

/* One step: the function of the phase st is in.  1 moved, 0 waiting,
 * -1 failed. */
static int
step(struct roll_ctx *x, struct roll_state *st, char *err, size_t errlen)
{
	if (st->phase < 0 || st->phase >= ROLL_NPHASES ||
	    phase_fn[st->phase] == NULL) {
		errfmt(err, errlen, "service %s: no such phase %d", x->s->name,
		    st->phase);
		return -1;
	}
	return phase_fn[st->phase](x, st, err, errlen);
}

/* A step failed: its reason becomes the alert, saved as far as that
 * goes (the failure is what the caller reports).  -1. */
static int
fail_and_save(struct roll_ctx *x, struct roll_state *st, const char *err)
{
	char e2[ERRBUF_LEN];

	snprintf(st->alert, sizeof(st->alert), "%s", err);
	(void)roll_save(x, st, e2, sizeof(e2));
	return -1;
}

/* A step moved from phase from: the alert is what it went on despite
 * (x->warn, "" when nothing), and the move is said. */
static void
note_move(struct roll_ctx *x, struct roll_state *st, int from)
{
	snprintf(st->alert, sizeof(st->alert), "%s", x->warn);
	say(x, "%s: %s -> %s\n", x->s->name, roll_phase_name(from),
	    roll_phase_name(st->phase));
}

static int promote_next(struct roll_ctx *, struct roll_state *, char *,
    size_t);

/*
 * STATE_DIR/SERVICE/reload-pending: a new chain of the current
 * certificate is being deployed and its reload is not confirmed yet
 * (written before the store changes, removed after the reload).
 */
static void
reload_pending_path(struct roll_ctx *x, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/reload-pending", x->c->state_dir,
	    x->s->name);
}

static int
reload_pending(struct roll_ctx *x)
{
	char path[PATH_MAX];
	struct stat sb;

	reload_pending_path(x, path, sizeof(path));
	return lstat(path, &sb) == 0;
}

/*
 * A chain update whose reload was never confirmed (a failed reload, a
 * crash): deploy what the store holds for the current certificate if
 * the deployed copy differs, reload, and forget the marker.  0 nothing
 * to do, 1 done (err says so, for an alert), -1 failed.
 */
static int
repair_chain_reload(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen)
{
	char path[PATH_MAX];
	int k;

	if (!reload_pending(x) || x->s->nnodes > 0)
		return 0;	/* fleets catch their nodes up themselves */
	reload_pending_path(x, path, sizeof(path));
	if (x->dry_run) {
		say(x, "  %s: a chain update was not confirmed reloaded: would "
		    "deploy the current chain and reload\n", path);
		return 0;
	}
	for (k = 0; k < st->nslots; k++) {
		struct roll_slot *sl = &st->slot[k];

		if (sl->current[0] != '\0' && !world(x)->deploy_fresh(
		    x->c->state_dir, x->s, sl->current) && world(x)->deploy(
		    x->c->state_dir, x->s, sl->name, sl->current, err,
		    errlen) == -1)
			return -1;
	}
	if (world(x)->reload(x->s, (int)x->s->reload_timeout, err,
	    errlen) == -1)
		return -1;
	if (unlink(path) == -1 && errno != ENOENT) {
		errfmt(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	errfmt(err, errlen, "service %s: a chain update of the current "
	    "certificate was not confirmed reloaded (a reload that failed, "
	    "or a stop); deployed the current chain and reloaded", x->s->name);
	return 1;
}

int
roll_repair_deploy(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen)
{
	char link[PATH_MAX], lname[32], what[PATH_MAX];
	int k, n = 0, r;

	if ((r = repair_chain_reload(x, st, err, errlen)) != 0)
		return r;
	what[0] = '\0';
	/* Nodes: a missing link puts the node behind (roll_fleet_start). */
	if (x->s->nnodes > 0)
		return 0;
	for (k = 0; k < st->nslots; k++) {
		struct roll_slot *sl = &st->slot[k];

		if (sl->current[0] == '\0')
			continue;
		if (!world(x)->link_gone(x->s->deploy_dir, sl->name))
			continue;
		roll_deploy_link(sl->name, lname, sizeof(lname));
		snprintf(link, sizeof(link), "%s/%s", x->s->deploy_dir, lname);
		if (x->dry_run) {
			say(x, "  %s is missing: would deploy %s again and "
			    "reload\n", link, sl->current);
			continue;
		}
		/* Its records are published: it is the current one. */
		if (world(x)->deploy(x->c->state_dir, x->s, sl->name,
		    sl->current, err, errlen) == -1)
			return -1;
		say(x, "  %s was missing: deployed %s again\n", link,
		    sl->current);
		if (n++ == 0)
			snprintf(what, sizeof(what), "%s", link);
	}
	if (n == 0)
		return 0;
	if (world(x)->reload(x->s, (int)x->s->reload_timeout, err,
	    errlen) == -1)
		return -1;
	errfmt(err, errlen, "service %s: %s was missing (deploy directory "
	    "removed?); deployed the current certificate again and reloaded",
	    x->s->name, what);
	return 1;
}

int
roll_advance(struct roll_ctx *x, struct roll_state *st, int *moved,
    char *err, size_t errlen)
{
	int i, r, from;

	*moved = 0;
	if (promote_next(x, st, err, errlen) == -1)
		return -1;
	if (x->s->nnodes > 0 && roll_fleet_start(x, st, err, errlen) == -1)
		return -1;
	for (i = 0; i < 12; i++) {
		from = st->phase;
		r = step(x, st, err, errlen);
		if (r == -1)
			return fail_and_save(x, st, err);
		if (r == 0) {
			/* A wait that asked the servers: keep who is behind,
			 * for status. */
			if (st->phase == ROLL_VISIBLE && roll_save(x, st, err,
			    errlen) == -1)
				return -1;
			break;
		}
		*moved = 1;
		/* A step that went on despite something odd says so. */
		note_move(x, st, from);
		if (roll_save(x, st, err, errlen) == -1)
			return -1;
	}
	/* A node that failed stays an alert until it serves again. */
	if (x->s->nnodes > 0)
		roll_fleet_alert(x, st);
	return 0;
}

/*
 * The slot a certificate with a key of this family goes to: the single
 * slot when the service has no "certificates" list, else the slot named
 * after the family.
 */
static struct roll_slot *
slot_for(struct roll_ctx *x, struct roll_state *st, const char *family,
    char *err, size_t errlen)
{
	struct roll_slot *sl;
	int i;

	if (x->s->nslots == 0)
		sl = roll_state_slot(st, "");
	else {
		for (i = 0; i < x->s->nslots; i++)
			if (strcmp(x->s->slots[i], family) == 0)
				break;
		if (i == x->s->nslots) {
			errfmt(err, errlen, "service %s takes no %s "
			    "certificate (its certificates: list)",
			    x->s->name, family);
			return NULL;
		}
		sl = roll_state_slot(st, family);
	}
	if (sl == NULL)
		errfmt(err, errlen, "service %s: too many certificate slots",
		    x->s->name);
	return sl;
}

/*
 * May chain be served now?  It must DANE-validate, offline, against the
 * published records for every host, and when trust-anchor records
 * (usage 0 or 2) are published, a certificate of the chain above the
 * leaf must match one of them (RFC 7671 section 5.2.2).  0 yes, -1 with
 * a reason naming what (the file given).
 */
static int
chain_fits_published(struct roll_ctx *x, const struct roll_state *st,
    STACK_OF(X509) *chain, const char *what, char *err, size_t errlen)
{
	struct tlsa_match m;
	struct tlsa_rec r;
	const struct tlsa_rec *p;
	char host[256];
	size_t h, i;
	int c, ta = 0, hit = 0, v;

	if (!st->have_published || st->published.n == 0) {
		errfmt(err, errlen, "%s: service %s has no published records "
		    "to check the new chain against", what, x->s->name);
		return -1;
	}
	for (h = 0; h < x->s->nhosts; h++) {
		host_nodot(x->s->hosts[h], host, sizeof(host));
		v = tlsa_dane_verify(chain, NULL, host, st->published.v,
		    st->published.n, &m, err, errlen);
		if (v == -1)
			return -1;
		if (v == 0) {
			errfmt(err, errlen, "%s: the chain does not match the "
			    "published records for %s: %s", what, host,
			    m.reason);
			return -1;
		}
	}
	for (i = 0; i < st->published.n && !hit; i++) {
		p = &st->published.v[i];
		if (p->spec.usage != TLSA_USAGE_DANE_TA &&
		    p->spec.usage != TLSA_USAGE_PKIX_TA)
			continue;
		ta = 1;
		for (c = 1; c < sk_X509_num(chain) && !hit; c++) {
			if (tlsa_compute(&p->spec, sk_X509_value(chain, c),
			    NULL, &r, err, errlen) == -1)
				return -1;
			hit = r.len == p->len && memcmp(r.data, p->data,
			    r.len) == 0;
			tlsa_rec_clear(&r);
		}
	}
	if (ta && !hit) {
		errfmt(err, errlen, "%s: no certificate of the chain matches "
		    "the published trust-anchor (usage 2) records", what);
		return -1;
	}
	return 0;
}

/*
 * Put the new chain c of the current certificate in the store, deploy
 * it and reload, with the reload-pending marker around it (see
 * repair_chain_reload).  When the deploy or the reload fails, the
 * previous chain (old) goes back the same way.  0 or -1.
 */
static int
chain_update_live(struct roll_ctx *x, const struct roll_slot *sl,
    const struct roll_cert *c, const struct roll_cert *old, char *err,
    size_t errlen)
{
	char path[PATH_MAX], e2[ERRBUF_LEN];
	int changed;

	reload_pending_path(x, path, sizeof(path));
	if (atomic_write(path, c->id, strlen(c->id), 0600, err, errlen) == -1)
		return -1;
	if (roll_store_put(x->c->state_dir, x->s, c, &changed, err,
	    errlen) == -1)
		goto back;
	if (world(x)->deploy(x->c->state_dir, x->s, sl->name, c->id, err,
	    errlen) == -1)
		goto back;
	say(x, "%s: deployed the new chain (%d certificates) of the current "
	    "certificate %s\n", x->s->name, sk_X509_num(c->chain), c->id);
	if (world(x)->reload(x->s, (int)x->s->reload_timeout, err,
	    errlen) == -1)
		goto back;
	say(x, "  reloaded\n");
	if (unlink(path) == -1 && errno != ENOENT) {
		errfmt(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
back:
	/* The chain that was live goes back; the marker stays until a
	 * reload of it is confirmed (the next run retries). */
	if (roll_store_put(x->c->state_dir, x->s, old, &changed, e2,
	    sizeof(e2)) == -1 || world(x)->deploy(x->c->state_dir, x->s,
	    sl->name, old->id, e2, sizeof(e2)) == -1)
		say(x, "  %s; putting the previous chain back FAILED: %s (the "
		    "next run retries)\n", err, e2);
	else if (world(x)->reload(x->s, (int)x->s->reload_timeout, e2,
	    sizeof(e2)) == -1)
		say(x, "  %s; the previous chain is deployed again, but its "
		    "reload failed too: %s (the next run reloads)\n", err, e2);
	else {
		say(x, "  %s; the previous chain is deployed again and "
		    "reloaded\n", err);
		(void)unlink(path);
	}
	return -1;
}

/*
 * The same certificate and key again, with chain c: update the stored
 * chain (and, for the current certificate, the deployed one, then
 * reload) when it differs.  0 or -1.
 */
static int
import_again(struct roll_ctx *x, struct roll_state *st, struct roll_slot *sl,
    const struct roll_cert *c, const char *cert, char *err, size_t errlen)
{
	struct roll_cert old = { 0 };
	struct zone_rrset recs = { 0 };
	int current = strcmp(c->id, sl->current) == 0, changed, rc = -1;

	if (roll_store_load(x->c->state_dir, x->s->name, c->id, 0, &old, err,
	    errlen) == -1)
		goto out;
	if (roll_chain_equal(old.chain, c->chain) && (!current ||
	    (world(x)->deploy_fresh(x->c->state_dir, x->s, c->id) &&
	    !reload_pending(x)))) {
		say(x, current ? "%s: %s is deployed already; nothing to do\n" :
		    "%s: %s was imported before; nothing to do\n", x->s->name,
		    c->id);
		rc = 0;
		goto out;
	}
	/* Deployed at once: it must match what resolvers hold now. */
	if (current && chain_fits_published(x, st, c->chain, cert, err,
	    errlen) == -1)
		goto out;
	if (x->dry_run) {
		say(x, "%s: %s: would update the chain of the %s certificate "
		    "%s (nothing changed)\n", x->s->name, cert, current ?
		    "current" : "pending", c->id);
		rc = 0;
		goto out;
	}
	if (current && x->s->nnodes > 0) {
		/* A fleet: every node gets it, each on its own. */
		if (roll_store_put(x->c->state_dir, x->s, c, &changed, err,
		    errlen) == -1)
			goto out;
		rc = roll_fleet_redeploy(x, st, sl->name, c->id, err, errlen);
		goto out;
	}
	if (current) {
		rc = chain_update_live(x, sl, c, &old, err, errlen);
		goto out;
	}
	if (roll_store_put(x->c->state_dir, x->s, c, &changed, err,
	    errlen) == -1)
		goto out;
	say(x, "%s: updated the chain (%d certificates) of the pending "
	    "certificate %s\n", x->s->name, sk_X509_num(c->chain), c->id);
	/* Records the new chain needs that are not out yet: publish. */
	if (roll_records_chain(x->s, c->chain, &recs, err, errlen) == -1)
		goto out;
	if (st->phase <= ROLL_SWITCH && (!st->have_published ||
	    !zone_rrset_subset(&recs, &st->published))) {
		st->phase = ROLL_PUBLISH;
		say(x, "  the next run publishes its records\n");
	}
	rc = roll_save(x, st, err, errlen);
out:
	zone_rrset_free(&recs);
	roll_cert_free(&old);
	return rc;
}

int
roll_import(struct roll_ctx *x, struct roll_state *st, const char *cert,
    const char *key, const char *chain, char *err, size_t errlen)
{
	struct roll_cert c = { 0 };
	const char *completed;
	char family[8];
	struct roll_slot *sl;
	int changed, rc = -1;

	if (roll_store_check(x->s, cert, key, chain, &c, family, &completed,
	    err, errlen) == -1)
		return -1;
	if ((sl = slot_for(x, st, family, err, errlen)) == NULL)
		goto out;
	if (completed != NULL)
		say(x, "%s: %s: completed the chain with %s\n", x->s->name,
		    cert, completed);
	if (strcmp(c.id, sl->current) == 0 || strcmp(c.id, sl->pending) == 0) {
		rc = import_again(x, st, sl, &c, cert, err, errlen);
		goto out;
	}
	if (x->dry_run) {
		say(x, "%s: %s is acceptable; would import it (nothing "
		    "changed)\n", x->s->name, c.id);
		rc = 0;
		goto out;
	}
	if (roll_store_put(x->c->state_dir, x->s, &c, &changed, err,
	    errlen) == -1)
		goto out;
	if (sl->pending[0] != '\0')
		say(x, "%s: %s replaces the pending %s\n", x->s->name, c.id,
		    sl->pending);
	memcpy(sl->pending, c.id, sizeof(sl->pending));
	/* Until it is live, the next run publishes for it first. */
	if (st->phase <= ROLL_SWITCH)
		st->phase = ROLL_PUBLISH;
	say(x, "%s: imported %s; the next run publishes its records\n",
	    x->s->name, c.id);
	rc = roll_save(x, st, err, errlen);
out:
	roll_cert_free(&c);
	return rc;
}

/* STATE_DIR/SERVICE/next-staged: a next key waiting for the staged one. */
static void
next_staged_path(struct roll_ctx *x, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/next-staged", x->c->state_dir, x->s->name);
}

/*
 * Is the staged key staged_id the key of a slot's pending certificate
 * (or, with_current, of its current one)?  1 yes (its id in cert_id, if
 * not NULL), 0 no (or the entry cannot be read: then it is not known to
 * be in use).
 */
static int
key_cert(struct roll_ctx *x, const struct roll_state *st,
    const char *staged_id, int with_current, char *cert_id)
{
	struct roll_cert sk, pc;
	char e[ERRBUF_LEN];
	const char *id;
	int k, i, r = 0;

	if (roll_store_load(x->c->state_dir, x->s->name, staged_id, 1, &sk, e,
	    sizeof(e)) == -1)
		return 0;
	for (k = 0; k < st->nslots && !r; k++)
		for (i = 0; i < 2 && !r; i++) {
			id = i == 0 ? st->slot[k].pending : with_current ?
			    st->slot[k].current : "";
			if (id[0] == '\0' || roll_store_load(x->c->state_dir,
			    x->s->name, id, 0, &pc, e, sizeof(e)) == -1)
				continue;
			if ((r = roll_key_matches(sk.key, pc.chain)) &&
			    cert_id != NULL)
				snprintf(cert_id, ROLL_ID_LEN + 1, "%s", id);
			roll_cert_free(&pc);
		}
	roll_cert_free(&sk);
	return r;
}

static int
key_pending(struct roll_ctx *x, const struct roll_state *st,
    const char *staged_id)
{
	return key_cert(x, st, staged_id, 0, NULL);
}

/*
 * A next key queued behind the staged one (see roll_stage) becomes the
 * staged key once the staged one has gone live.  Best effort: a queue
 * that cannot be read stays for the next run.
 */
static int
promote_next(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen)
{
	char path[PATH_MAX], buf[64];
	FILE *f;
	size_t n;

	if (x->dry_run)
		return 0;
	next_staged_path(x, path, sizeof(path));
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (strlen(buf) != ROLL_ID_LEN ||
	    strspn(buf, "0123456789abcdef") != ROLL_ID_LEN) {
		errfmt(err, errlen, "%s: not a key id", path);
		return -1;
	}
	if (st->staged[0] != '\0' && strcmp(st->staged, buf) != 0)
		return 0;	/* the staged key is not live yet */
	if (st->staged[0] == '\0') {
		memcpy(st->staged, buf, sizeof(st->staged));
		if (st->phase == ROLL_STEADY)
			st->phase = ROLL_PUBLISH;
		say(x, "%s: staged the next key %s\n", x->s->name, buf);
		if (roll_save(x, st, err, errlen) == -1)
			return -1;
	}
	(void)unlink(path);
	return 0;
}

int
roll_stage(struct roll_ctx *x, struct roll_state *st, const char *keyfile,
    char *err, size_t errlen)
{
	char id[ROLL_ID_LEN + 1], family[8], path[PATH_MAX];
	int i;

	if (keyfile == NULL && st->staged[0] != '\0') {
		say(x, "%s: key %s is staged already\n", x->s->name,
		    st->staged);
		return 0;
	}
	if (keyfile == NULL && x->dry_run) {
		say(x, "%s: would make a %s key and publish its records\n",
		    x->s->name, x->s->key_type != NULL ? x->s->key_type :
		    "ec256");
		return 0;
	}
	if (keyfile == NULL) {
		if (roll_store_new_key(x->c->state_dir, x->s, id, err,
		    errlen) == -1)
			return -1;
	} else {
		/* Check everything before storing anything. */
		if (roll_store_stage_key(x->c->state_dir, x->s, keyfile, 1, id,
		    family, err, errlen) == -1)
			return -1;
		for (i = 0; i < x->s->nslots; i++)
			if (strcmp(x->s->slots[i], family) == 0)
				break;
		if (x->s->nslots > 0 && i == x->s->nslots) {
			errfmt(err, errlen, "%s: service %s takes no %s "
			    "certificate (its certificates: list)", keyfile,
			    x->s->name, family);
			return -1;
		}
		if (strcmp(id, st->staged) == 0) {
			say(x, "%s: key %s is staged already\n", x->s->name,
			    id);
			return 0;
		}
		if (x->dry_run) {
			say(x, "%s: %s is acceptable; would stage it as key %s "
			    "(nothing changed)\n", x->s->name, keyfile, id);
			return 0;
		}
		if (roll_store_stage_key(x->c->state_dir, x->s, keyfile, 0, id,
		    family, err, errlen) == -1)
			return -1;
		if (st->staged[0] != '\0' && key_pending(x, st, st->staged)) {
			/*
			 * The staged key is the key of the certificate
			 * being rolled in: it switches without a new wait
			 * only while nothing new is added to the records.
			 * Queue this one until that switch is done.
			 */
			next_staged_path(x, path, sizeof(path));
			if (atomic_write(path, id, strlen(id), 0600, err,
			    errlen) == -1)
				return -1;
			say(x, "%s: key %s is queued; it is staged once the "
			    "certificate for staged key %s is live\n",
			    x->s->name, id, st->staged);
			return 0;
		}
		if (st->staged[0] != '\0')
			say(x, "%s: key %s replaces the staged key %s\n",
			    x->s->name, id, st->staged);
	}
	memcpy(st->staged, id, sizeof(st->staged));
	if (st->phase == ROLL_STEADY)
		st->phase = ROLL_PUBLISH;
	say(x, "%s: staged key %s (%s/%s/staged/%s/privkey.pem); the next "
	    "run publishes its records\n", x->s->name, id, x->c->state_dir,
	    x->s->name, id);
	return roll_save(x, st, err, errlen);
}

int
roll_abort(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen)
{
	struct zone_rrset want = { 0 };
	int rc = -1, k;

	if (st->phase == ROLL_VERIFY || st->phase == ROLL_RETIRE) {
		errfmt(err, errlen, "service %s: the new certificate is live "
		    "(phase %s); aborting now would leave it without records",
		    x->s->name, roll_phase_name(st->phase));
		return -1;
	}
	if (!roll_state_pending(st)) {
		if (st->staged[0] != '\0')
			errfmt(err, errlen, "service %s: no pending "
			    "certificate to abort; the staged key %s is kept "
			    "(tlsa-rollover unstage %s forgets it)",
			    x->s->name, st->staged, x->s->name);
		else
			errfmt(err, errlen, "service %s: nothing to abort",
			    x->s->name);
		return -1;
	}
	for (k = 0; k < st->nslots; k++)
		st->slot[k].pending[0] = '\0';
	if (wanted(x, st, 0, &want, err, errlen) == -1)
		goto out;
	if (want.n > 0 && st->have_published &&
	    !zone_rrset_subset(&st->published, &want)) {
		if (publish_record(x, st, &want, err, errlen) == -1)
			goto out;
	}
	st->phase = ROLL_STEADY;
	say(x, x->dry_run ? "%s: would abort and forget the pending "
	    "certificate (nothing changed)\n" : "%s: aborted; the pending "
	    "certificate is forgotten\n", x->s->name);
	rc = roll_save(x, st, err, errlen);
out:
	zone_rrset_free(&want);
	return rc;
}

int
roll_unstage(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen)
{
	struct zone_rrset want = { 0 };
	char path[PATH_MAX], id[ROLL_ID_LEN + 1], cid[ROLL_ID_LEN + 1];
	struct stat sb;
	size_t before;
	int queued, moved, retire = 0, rc = -1;

	next_staged_path(x, path, sizeof(path));
	queued = lstat(path, &sb) == 0;
	if (st->staged[0] == '\0' && !queued) {
		say(x, "%s: no key is staged; nothing to do\n", x->s->name);
		return 0;
	}
	/* Its certificate is going live: its record must stay. */
	if (st->staged[0] != '\0' && st->phase >= ROLL_SWITCH &&
	    key_cert(x, st, st->staged, 1, cid)) {
		errfmt(err, errlen, "service %s: the staged key %s is the key "
		    "of certificate %s, which is being switched in (phase %s); "
		    "it stops being staged once that certificate is live",
		    x->s->name, st->staged, cid, roll_phase_name(st->phase));
		return -1;
	}
	memcpy(id, st->staged, sizeof(id));
	st->staged[0] = '\0';
	/*
	 * Its records go by the ordinary RETIRE step, recorded in the state
	 * before DNS changes: a run stopped at any point retires them (or
	 * finds them retired) as after any crash in RETIRE, and what a
	 * current or pending certificate, or a chain an MX serves, matches
	 * stays.  While a certificate is pending, its own RETIRE does it.
	 */
	if (id[0] != '\0' && st->have_published && !roll_state_pending(st) &&
	    st->phase <= ROLL_HOLD) {
		if (wanted(x, st, 1, &want, err, errlen) == -1)
			goto out;
		if (want.n == 0) {
			say(x, "  its records stay published: withdrawing "
			    "them would leave the RRset empty\n");
			st->phase = ROLL_STEADY;
		} else if (!zone_rrset_subset(&st->published, &want))
			retire = 1;
		else
			st->phase = ROLL_STEADY;
	} else if (!roll_state_pending(st) && st->phase <= ROLL_HOLD)
		st->phase = ROLL_STEADY;	/* the wait was only for it */
	if (retire)
		st->phase = ROLL_RETIRE;
	if (id[0] != '\0')
		say(x, x->dry_run ? "%s: would forget the staged key %s "
		    "(nothing changed)\n" : "%s: forgot the staged key %s\n",
		    x->s->name, id);
	if (queued)
		say(x, x->dry_run ? "%s: would forget the queued next key "
		    "(%s)\n" : "%s: forgot the queued next key (%s)\n",
		    x->s->name, path);
	if (x->dry_run) {
		if (retire)
			say(x, "  would withdraw its records in RETIRE\n");
		rc = 0;
		goto out;
	}
	if (roll_save(x, st, err, errlen) == -1)
		goto out;
	if (queued && unlink(path) == -1 && errno != ENOENT) {
		errfmt(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
	if (retire) {
		before = st->published.n;
		if ((rc = roll_advance(x, st, &moved, err, errlen)) == 0 &&
		    st->phase == ROLL_STEADY && before > st->published.n)
			say(x, "  withdrew %zu record(s)\n",
			    before - st->published.n);
	}
out:
	zone_rrset_free(&want);
	return rc;
}

int
roll_manual(struct roll_ctx *x, struct roll_state *st, int phase, char *err,
    size_t errlen)
{
	int r, from = st->phase;

	if (phase == ROLL_PUBLISH && st->phase == ROLL_STEADY &&
	    (roll_state_pending(st) || st->staged[0] != '\0'))
		st->phase = ROLL_PUBLISH;
	if (st->phase != phase) {
		errfmt(err, errlen, "service %s is in phase %s, not %s%s",
		    x->s->name, roll_phase_name(st->phase),
		    roll_phase_name(phase), phase == ROLL_SWITCH &&
		    st->phase == ROLL_HOLD ? " (the hold is not over)" :
		    phase == ROLL_SWITCH && st->phase < ROLL_HOLD ?
		    " (the new records are not visible everywhere yet)" : "");
		st->phase = from;
		return -1;
	}
	r = step(x, st, err, errlen);
	if (r == -1)
		return fail_and_save(x, st, err);
	if (r == 1)
		note_move(x, st, from);
	return roll_save(x, st, err, errlen);
}
