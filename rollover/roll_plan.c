/*
 * roll_plan.c: the steps ahead of a service, from its state and the
 * store (see roll_plan.h).  It mirrors the decisions of step() in
 * roll_run.c without acting or asking DNS, so its times are what the
 * rules allow at the earliest: a wait for DNS may last longer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "log.h"
#include "roll_deploy.h"
#include "roll_plan.h"
#include "roll_pub.h"
#include "roll_store.h"
#include "zone_check.h"
#include "zone_rr.h"

/* What a record is there for: a certificate or key the state knows. */
struct source {
	char			 label[64];
	struct zone_rrset	 recs;
};

struct plan {
	struct roll_ctx		*x;
	const struct roll_state	*st;
	struct source		 src[3 * ROLL_MAX_SLOTS + 1];
	int			 nsrc;
	json_t			*steps;
};

void
roll_plan_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

/* "U S M HEX" (the whole digest), or NULL when out of memory. */
static char *
rec_full(const struct tlsa_rec *r)
{
	char *hex = tlsa_hex(r->data, r->len), *s = NULL;

	if (hex != NULL && asprintf(&s, "%u %u %u %s", r->spec.usage,
	    r->spec.selector, r->spec.mtype, hex) == -1)
		s = NULL;
	free(hex);
	return s;
}

/* The records of one store entry: a certificate's chain, or a key. */
static int
entry_records(struct plan *p, const char *id, int is_key,
    struct zone_rrset *out, char *err, size_t errlen)
{
	struct roll_cert c;
	int r;

	memset(out, 0, sizeof(*out));
	if (roll_store_load(p->x->c->state_dir, p->x->s->name, id, is_key, &c,
	    err, errlen) == -1)
		return -1;
	r = is_key ? roll_records_key(p->x->s, c.key, out, err, errlen) :
	    roll_records_chain(p->x->s, c.chain, out, err, errlen);
	roll_cert_free(&c);
	return r;
}

static int
add_source(struct plan *p, const char *what, const char *slot,
    const char *id, int is_key, int must, char *err, size_t errlen)
{
	struct source *s;
	char e[ERRBUF_LEN];

	if (id[0] == '\0' || p->nsrc == (int)(sizeof(p->src) /
	    sizeof(p->src[0])))
		return 0;
	s = &p->src[p->nsrc];
	if (entry_records(p, id, is_key, &s->recs, e, sizeof(e)) == -1) {
		if (!must)
			return 0;	/* only for naming records */
		errfmt(err, errlen, "%s", e);
		return -1;
	}
	snprintf(s->label, sizeof(s->label), "%s%s%s %.8s", what,
	    slot[0] ? " " : "", slot, id);
	p->nsrc++;
	return 0;
}

/* What a record is for, in a few words. */
static void
label_of(const struct plan *p, const struct tlsa_rec *r, char *buf,
    size_t len)
{
	int i;

	for (i = 0; i < p->nsrc; i++)
		if (zone_rrset_has(&p->src[i].recs, r)) {
			snprintf(buf, len, "%s%s", r->spec.usage == 2 ?
			    "issuer of " : "", p->src[i].label);
			return;
		}
	snprintf(buf, len, "nothing the state knows");
}

/*
 * Records as text ("3 1 1 0123456789abcdef... (pending 58d4560f)",
 * joined) into out, and as "U S M HEX" strings into the array arr.
 */
static void
describe_set(const struct plan *p, const struct zone_rrset *set,
    struct sbuf *out, json_t *arr)
{
	char label[96], *full;
	size_t i;

	for (i = 0; i < set->n; i++) {
		const struct tlsa_rec *r = &set->v[i];
		char *hex = tlsa_hex(r->data, r->len);

		label_of(p, r, label, sizeof(label));
		sbuf_printf(out, "%s%u %u %u %.16s... (%s)", i ? "; " : "",
		    r->spec.usage, r->spec.selector, r->spec.mtype,
		    hex != NULL ? hex : "?", label);
		free(hex);
		if ((full = rec_full(r)) != NULL)
			json_array_append_new(arr, json_string(full));
		free(full);
	}
}

/* Append a step; text is taken from b (reset).  at 0: not known. */
static json_t *
step_add(struct plan *p, const char *name, struct sbuf *b, time_t at,
    int exact)
{
	const char *t = b->s != NULL && !b->failed ? b->s : "";
	json_t *o = json_object(), *text;

	json_object_set_new(o, "step", json_string(name));
	/* A path or name that is not UTF-8: JSON gets it escaped. */
	if ((text = json_string(t)) == NULL) {
		size_t len = 4 * strlen(t) + 1;
		char *vis = malloc(len);

		if (vis != NULL)
			text = json_string(str_vis(vis, len, t, strlen(t)));
		free(vis);
	}
	json_object_set_new(o, "text", text != NULL ? text : json_string(""));
	if (at != 0) {
		json_object_set_new(o, "at", json_integer((json_int_t)at));
		json_object_set_new(o, "exact", json_boolean(exact));
	}
	json_array_append_new(p->steps, o);
	sbuf_free(b);
	memset(b, 0, sizeof(*b));
	return o;
}

/* The owners, "_25._tcp.mx1.example.net., ..." */
static void
owners_text(const struct roll_service *s, struct sbuf *b)
{
	char e[ERRBUF_LEN], *o;
	size_t h;

	for (h = 0; h < s->nhosts; h++) {
		o = zone_tlsa_owner(s->port, "tcp", s->hosts[h], e, sizeof(e));
		sbuf_printf(b, "%s%s", h ? ", " : "", o != NULL ? o :
		    s->hosts[h]);
		free(o);
	}
}

/* Who must serve the RRset before the hold starts. */
static void
servers_text(const struct roll_service *s, struct sbuf *b)
{
	size_t i;
	int any = 0;

	if (s->dns.ncheck_servers > 0)
		for (i = 0; i < s->dns.ncheck_servers; i++)
			sbuf_printf(b, "%sserver %s", any++ ? ", " : "",
			    s->dns.check_servers[i]);
	else if (s->dns.resolver != NULL)
		sbuf_printf(b, "%severy name server of %s (its NS set)",
		    any++ ? ", " : "", s->dns.zone != NULL ? s->dns.zone :
		    "the zone");
	/* Other backends than rfc2136 ask a primary only if one is given. */
	if (s->dns.primary != NULL)
		sbuf_printf(b, "%sthe primary %s", any++ ? " and " : "",
		    s->dns.primary);
	sbuf_printf(b, " serve the new RRset");
	if (s->dns.resolver != NULL)
		sbuf_printf(b, ", and the resolver %s returns it with AD",
		    s->dns.resolver);
	if (s->dns.trust_anchor_file != NULL)
		sbuf_printf(b, ", and it validates against %s",
		    s->dns.trust_anchor_file);
}

/* "ID (SUBJECT, expires DATE)" of a stored certificate. */
static void
cert_text(struct plan *p, const char *id, struct sbuf *b)
{
	struct roll_cert c;
	char e[ERRBUF_LEN], sub[256], exp[64];
	const ASN1_TIME *na;
	struct tm tm;
	X509 *leaf;

	sbuf_printf(b, "%s", id);
	if (roll_store_load(p->x->c->state_dir, p->x->s->name, id, 0, &c, e,
	    sizeof(e)) == -1)
		return;
	leaf = sk_X509_value(c.chain, 0);
	X509_NAME_oneline(X509_get_subject_name(leaf), sub, sizeof(sub));
	exp[0] = '\0';
	na = X509_get0_notAfter(leaf);
	if (ASN1_TIME_to_tm(na, &tm))
		strftime(exp, sizeof(exp), "%Y-%m-%d %H:%M:%S UTC", &tm);
	sbuf_printf(b, " (%s, expires %s)", sub, exp);
	roll_cert_free(&c);
}

/* The state after the switch: each pending certificate is current. */
static void
after_switch(const struct roll_state *st, struct roll_state *after)
{
	int k;

	memset(after, 0, sizeof(*after));
	after->nslots = st->nslots;
	memcpy(after->staged, st->staged, sizeof(after->staged));
	for (k = 0; k < st->nslots; k++) {
		after->slot[k] = st->slot[k];
		if (st->slot[k].pending[0] != '\0') {
			memcpy(after->slot[k].previous, st->slot[k].current,
			    sizeof(after->slot[k].previous));
			memcpy(after->slot[k].current, st->slot[k].pending,
			    sizeof(after->slot[k].current));
			after->slot[k].pending[0] = '\0';
		}
	}
}

json_t *
roll_plan(struct roll_ctx *x, const struct roll_state *st, char *err,
    size_t errlen)
{
	const struct roll_service *s = x->s;
	struct zone_rrset pub = { 0 }, want = { 0 }, add = { 0 },
	    total = { 0 }, keep = { 0 };
	struct roll_state after;
	struct plan p;
	struct sbuf b = { 0 };
	json_t *o, *arr;
	char when[64], lname[32], where[200];
	time_t t = x->now, hold_end = 0;
	uint32_t ttl;
	long need;
	int k, ph = st->phase, pending = roll_state_pending(st), rc = -1;
	int have_cur = 0, held = 0, exact = 0, new_hosts;

	memset(&p, 0, sizeof(p));
	p.x = x;
	p.st = st;
	if ((p.steps = json_array()) == NULL)
		goto nomem;
	for (k = 0; k < st->nslots; k++) {
		const struct roll_slot *sl = &st->slot[k];

		if (sl->current[0])
			have_cur = 1;
		if (add_source(&p, "current", sl->name, sl->current, 0, 1,
		    err, errlen) == -1 ||
		    add_source(&p, "pending", sl->name, sl->pending, 0, 1,
		    err, errlen) == -1 ||
		    add_source(&p, "previous", sl->name, sl->previous, 0, 0,
		    err, errlen) == -1)
			goto out;
	}
	if (add_source(&p, "staged key", "", st->staged, 1, 1, err,
	    errlen) == -1)
		goto out;
	if (st->have_published && zone_rrset_union(&pub, &st->published) ==
	    -1)
		goto nomem;
	if (roll_wanted(x, st, 1, &want, err, errlen) == -1)
		goto out;
	if (zone_rrset_union(&add, &want) == -1)
		goto nomem;
	zone_rrset_minus(&add, &pub);

	new_hosts = st->have_published && !roll_all_hosts_published(s, st);
	if (ph == ROLL_STEADY && !pending && !new_hosts &&
	    (st->staged[0] == '\0' || (st->have_published && add.n == 0))) {
		sbuf_printf(&b, have_cur ? "nothing to do: every certificate "
		    "is live and its records are published" : "nothing "
		    "imported yet: import a certificate (or stage a key) "
		    "to begin");
		step_add(&p, "steady", &b, 0, 0);
		rc = 0;
		goto out;
	}
	ttl = s->dns.ttl;
	if (ph >= ROLL_HOLD && st->hold_ttl > ttl)
		ttl = st->hold_ttl;
	need = roll_hold_need(s, ttl);

	if (ph <= ROLL_PUBLISH) {
		if (st->have_published && add.n == 0 && st->visible_at != 0 &&
		    !new_hosts) {
			/* As step(): covered by records visible already. */
			hold_end = st->visible_at + need;
			if (hold_end < t)
				hold_end = t;
			roll_plan_time(st->visible_at, when, sizeof(when));
			sbuf_printf(&b, "no update: the records are published "
			    "already, visible since %s", when);
			step_add(&p, "publish", &b, t, 0);
			held = 1;
		} else {
			arr = json_array();
			sbuf_printf(&b, "at ");
			owners_text(s, &b);
			sbuf_printf(&b, ": add ");
			if (add.n == 0)
				sbuf_printf(&b, "nothing (the hosts new to the "
				    "service get the RRset)");
			describe_set(&p, &add, &b, arr);
			if (pub.n > 0)
				sbuf_printf(&b, "; keep the %zu record(s) "
				    "published", pub.n);
			if (!st->have_published)
				sbuf_printf(&b, "; first publish: of the "
				    "records the zone holds there now, those "
				    "that a known certificate or key or a "
				    "chain an MX address serves matches are "
				    "kept, the others dropped");
			if (roll_pub_is_rfc2136(s))
				sbuf_printf(&b, "; one RFC 2136 update to %s, "
				    "with a prerequisite on what it holds",
				    s->dns.primary);
			else
				sbuf_printf(&b, "; through %s, each host's "
				    "RRset replaced only if it holds what it "
				    "is expected to", roll_pub_where(s, where,
				    sizeof(where)));
			o = step_add(&p, "publish", &b, t, 0);
			json_object_set_new(o, "add", arr);
		}
	}
	if (ph <= ROLL_VISIBLE && !held) {
		sbuf_printf(&b, "wait until ");
		servers_text(s, &b);
		if (ph == ROLL_VISIBLE && st->checked_at != 0) {
			roll_plan_time(st->checked_at, when, sizeof(when));
			sbuf_printf(&b, "; at the last check (%s) %s", when,
			    st->behind[0] ? "behind: " : "every server "
			    "served it");
			sbuf_printf(&b, "%s", st->behind);
		}
		if (st->published_at != 0 && ph == ROLL_VISIBLE) {
			roll_plan_time(st->published_at +
			    (time_t)s->dns.visible_timeout, when, sizeof(when));
			sbuf_printf(&b, "; an alert if it is not everywhere "
			    "by %s (visible_timeout)", when);
		}
		step_add(&p, "visible", &b, t, 0);
	}
	if (ph <= ROLL_HOLD) {
		exact = ph == ROLL_HOLD || held;

		if (ph == ROLL_HOLD)
			hold_end = st->visible_at + need;
		else if (!held)
			hold_end = t + need;
		if (hold_end < t)
			hold_end = t;
		roll_plan_time(hold_end, when, sizeof(when));
		sbuf_printf(&b, "hold %ld s (2 x TTL %u + margin %u, at least "
		    "min_hold %u) after the RRset is visible everywhere: until "
		    "%s%s, then check once more that every server serves it",
		    need, ttl, s->dns.hold_margin, s->dns.min_hold,
		    exact ? "" : "at the earliest ", when);
		step_add(&p, "hold", &b, hold_end, exact);
		t = hold_end;
	}
	if (ph <= ROLL_SWITCH) {
		if (!pending && st->staged[0] == '\0')
			sbuf_printf(&b, "nothing to switch: the hosts new to "
			    "the service have the RRset");
		else if (!pending) {
			sbuf_printf(&b, "nothing to switch: the staged key "
			    "%s has its records held; a certificate for it "
			    "switches in the first run after its import",
			    st->staged);
		} else {
			for (k = 0; k < st->nslots; k++) {
				const struct roll_slot *sl = &st->slot[k];

				if (sl->pending[0] == '\0')
					continue;
				roll_deploy_link(sl->name, lname,
				    sizeof(lname));
				sbuf_printf(&b, "%sdeploy ", b.len ? "; " : "");
				cert_text(&p, sl->pending, &b);
				if (s->nnodes > 0)
					sbuf_printf(&b, " as %s on %zu node(s)",
					    lname, s->nnodes);
				else
					sbuf_printf(&b, " as %s/%s",
					    s->deploy_dir, lname);
				if (sl->current[0])
					sbuf_printf(&b, " (replacing %s)",
					    sl->current);
			}
			if (s->nnodes > 0)
				sbuf_printf(&b, "; reload each node");
			else if (s->nreload > 0) {
				size_t i;

				sbuf_printf(&b, "; reload:");
				for (i = 0; i < s->nreload; i++)
					sbuf_printf(&b, " %s", s->reload[i]);
			} else
				sbuf_printf(&b, "; no reload command");
		}
		step_add(&p, "switch", &b, t, exact);
	}
	if (ph <= ROLL_VERIFY && (pending || ph == ROLL_VERIFY)) {
		size_t h;

		sbuf_printf(&b, "connect to every address of ");
		for (h = 0; h < s->nhosts; h++)
			sbuf_printf(&b, "%s%s", h ? ", " : "", s->hosts[h]);
		sbuf_printf(&b, " on port %u%s: each chain must validate "
		    "against the published RRset (DANE, as a sending MTA "
		    "does); if one does not, switch back", s->port,
		    s->port == 25 || s->port == 587 ? " (STARTTLS)" : "");
		step_add(&p, "verify", &b, t, exact);
	}
	/* Retire: what nothing needs once the pending certificates live. */
	after_switch(st, &after);
	if (roll_wanted(x, &after, 1, &keep, err, errlen) == -1)
		goto out;
	if (zone_rrset_union(&total, &pub) == -1 || (ph <= ROLL_PUBLISH &&
	    zone_rrset_union(&total, &add) == -1))
		goto nomem;
	zone_rrset_minus(&total, &keep);
	arr = json_array();
	if (total.n == 0)
		sbuf_printf(&b, "nothing to retire");
	else {
		sbuf_printf(&b, "remove ");
		describe_set(&p, &total, &b, arr);
		sbuf_printf(&b, ", unless an MX address still serves a chain "
		    "that one matches");
	}
	o = step_add(&p, "retire", &b, t, exact);
	json_object_set_new(o, "remove", arr);
	sbuf_printf(&b, "steady");
	step_add(&p, "steady", &b, 0, 0);
	rc = 0;
	goto out;
nomem:
	errfmt(err, errlen, "out of memory");
out:
	for (k = 0; k < p.nsrc; k++)
		zone_rrset_free(&p.src[k].recs);
	zone_rrset_free(&pub);
	zone_rrset_free(&want);
	zone_rrset_free(&add);
	zone_rrset_free(&total);
	zone_rrset_free(&keep);
		sbuf_free(&b);
	if (rc == -1) {
		json_decref(p.steps);
		return NULL;
	}
	return p.steps;
}

const json_t *
roll_plan_next(const json_t *plan)
{
	return json_array_size(plan) > 0 ? json_array_get(plan, 0) : NULL;
}

void
roll_plan_text(const json_t *plan, time_t now, struct sbuf *out)
{
	const json_t *o;
	char when[64];
	size_t i;
	json_int_t at;

	json_array_foreach(plan, i, o) {
		const char *step = json_string_value(json_object_get(o,
		    "step")), *text = json_string_value(json_object_get(o,
		    "text"));

		sbuf_printf(out, "plan %zu. %s: %s", i + 1, step != NULL ?
		    step : "?", text != NULL ? text : "?");
		if (json_object_get(o, "at") != NULL) {
			at = json_integer_value(json_object_get(o, "at"));
			roll_plan_time((time_t)at, when, sizeof(when));
			if (at <= (json_int_t)now)
				sbuf_printf(out, " [next run]");
			else
				sbuf_printf(out, " [%s%s, in %lld s]",
				    json_is_true(json_object_get(o, "exact")) ?
				    "at " : "not before ", when,
				    (long long)(at - (json_int_t)now));
		}
		sbuf_printf(out, "\n");
	}
}
