/*
 * zone_update.c: compare-and-swap updates of a TLSA RRset.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sbuf.h"
#include "zone_update.h"

void
zone_rrset_free(struct zone_rrset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		tlsa_rec_clear(&s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

int
zone_rrset_push_copy(struct zone_rrset *s, const struct tlsa_rec *r)
{
	struct tlsa_rec *nv;

	if ((nv = reallocarray(s->v, s->n + 1, sizeof(*nv))) == NULL)
		return -1;
	s->v = nv;
	if (tlsa_rec_copy(&s->v[s->n], r) == -1)
		return -1;
	s->n++;
	return 0;
}

static int
rec_eq(const struct tlsa_rec *a, const struct tlsa_rec *b)
{
	return a->spec.usage == b->spec.usage &&
	    a->spec.selector == b->spec.selector &&
	    a->spec.mtype == b->spec.mtype && a->len == b->len &&
	    memcmp(a->data, b->data, a->len) == 0;
}

int
zone_rrset_has(const struct zone_rrset *s, const struct tlsa_rec *r)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (rec_eq(&s->v[i], r))
			return 1;
	return 0;
}

int
zone_rrset_subset(const struct zone_rrset *a, const struct zone_rrset *b)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (!zone_rrset_has(b, &a->v[i]))
			return 0;
	return 1;
}

int
zone_rrset_union(struct zone_rrset *a, const struct zone_rrset *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (!zone_rrset_has(a, &b->v[i]) &&
		    zone_rrset_push_copy(a, &b->v[i]) == -1)
			return -1;
	return 0;
}

/* Keep the records of a that are (keep 1) or are not (0) in b. */
static void
rrset_filter(struct zone_rrset *a, const struct zone_rrset *b, int keep)
{
	size_t i, o = 0;

	for (i = 0; i < a->n; i++) {
		if (zone_rrset_has(b, &a->v[i]) == keep)
			a->v[o++] = a->v[i];
		else
			tlsa_rec_clear(&a->v[i]);
	}
	a->n = o;
}

void
zone_rrset_minus(struct zone_rrset *a, const struct zone_rrset *b)
{
	rrset_filter(a, b, 0);
}

void
zone_rrset_intersect(struct zone_rrset *a, const struct zone_rrset *b)
{
	rrset_filter(a, b, 1);
}

int
zone_rrset_equal(const struct zone_rrset *a, const struct zone_rrset *b)
{
	size_t i;

	/* RRsets hold no duplicates, so mutual inclusion is equality. */
	for (i = 0; i < a->n; i++)
		if (!zone_rrset_has(b, &a->v[i]))
			return 0;
	for (i = 0; i < b->n; i++)
		if (!zone_rrset_has(a, &b->v[i]))
			return 0;
	return 1;
}

char *
zone_rrset_describe(const struct zone_rrset *s)
{
	struct sbuf b = { 0 };
	size_t i;
	char *hex;

	if (s->n == 0)
		sbuf_printf(&b, "(no records)");
	for (i = 0; i < s->n; i++) {
		hex = tlsa_hex(s->v[i].data, s->v[i].len > 8 ? 8 : s->v[i].len);
		sbuf_printf(&b, "%s%u %u %u %s%s", i > 0 ? "; " : "",
		    s->v[i].spec.usage, s->v[i].spec.selector,
		    s->v[i].spec.mtype, hex != NULL ? hex : "",
		    s->v[i].len > 8 ? ".." : "");
		free(hex);
	}
	return b.failed ? NULL : b.s;
}

/* TLSA rdata (usage, selector, mtype, data) of rr into r. */
static int
rec_from_rr(const ldns_rr *rr, struct tlsa_rec *r)
{
	const ldns_rdf *f[4];
	int i;

	memset(r, 0, sizeof(*r));
	if (ldns_rr_rd_count(rr) != 4)
		return -1;
	for (i = 0; i < 4; i++)
		if ((f[i] = ldns_rr_rdf(rr, (size_t)i)) == NULL)
			return -1;
	if (ldns_rdf_size(f[0]) != 1 || ldns_rdf_size(f[1]) != 1 ||
	    ldns_rdf_size(f[2]) != 1 || ldns_rdf_size(f[3]) == 0)
		return -1;
	r->spec.usage = ldns_rdf_data(f[0])[0];
	r->spec.selector = ldns_rdf_data(f[1])[0];
	r->spec.mtype = ldns_rdf_data(f[2])[0];
	r->len = ldns_rdf_size(f[3]);
	if ((r->data = malloc(r->len)) == NULL)
		return -1;
	memcpy(r->data, ldns_rdf_data(f[3]), r->len);
	return 0;
}

size_t
zone_rrset_from_pkt(const ldns_pkt *p, const char *owner,
    struct zone_rrset *out)
{
	const ldns_rr_list *an = ldns_pkt_answer(p);
	ldns_rdf *o = NULL;
	struct tlsa_rec r;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (ldns_str2rdf_dname(&o, owner) != LDNS_STATUS_OK)
		return 0;
	for (i = 0; i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		struct tlsa_rec *nv;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TLSA ||
		    ldns_dname_compare(ldns_rr_owner(rr), o) != 0 ||
		    rec_from_rr(rr, &r) == -1)
			continue;
		if (zone_rrset_has(out, &r)) {
			tlsa_rec_clear(&r);
			continue;
		}
		if ((nv = reallocarray(out->v, out->n + 1, sizeof(*nv))) ==
		    NULL) {
			tlsa_rec_clear(&r);
			break;
		}
		out->v = nv;
		out->v[out->n++] = r;
		out->ttl = ldns_rr_ttl(rr);
	}
	ldns_rdf_deep_free(o);
	return out->n;
}

int
zone_read_rrset(const struct zone_server *srv, const char *owner,
    const struct zone_tsig *key, const struct zone_xfer_opts *o,
    struct zone_rrset *out, char *err, size_t errlen)
{
	struct zone_xfer_opts to = *o;
	ldns_pkt *q = NULL, *r = NULL;
	ldns_rdf *d = NULL;
	int rc = -1, rcode;

	memset(out, 0, sizeof(*out));
	/* UDP first: zone_exchange retries over TCP when truncated. */
	to.tcp = 0;
	if (ldns_str2rdf_dname(&d, owner) != LDNS_STATUS_OK ||
	    (q = ldns_pkt_query_new(d, LDNS_RR_TYPE_TLSA, LDNS_RR_CLASS_IN,
	    0)) == NULL) {
		ldns_rdf_deep_free(d);
		errfmt(err, errlen, "%s: cannot build a query", owner);
		return -1;
	}
	if (zone_exchange(srv, q, key, &to, &r, err, errlen) == -1)
		goto out;
	rcode = ldns_pkt_get_rcode(r);
	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
		errfmt(err, errlen, "%s: %s for %s TLSA", srv->name,
		    zone_rcode_name(rcode), owner);
		goto out;
	}
	if (!ldns_pkt_aa(r)) {
		errfmt(err, errlen, "%s: answer for %s TLSA is not "
		    "authoritative (no AA bit)", srv->name, owner);
		goto out;
	}
	zone_rrset_from_pkt(r, owner, out);
	rc = 0;
out:
	ldns_pkt_free(q);
	ldns_pkt_free(r);
	return rc;
}

/* A TLSA RR for the update message; rec NULL gives an empty rdata. */
static ldns_rr *
make_rr(const char *owner, ldns_rr_class cls, uint32_t ttl,
    const struct tlsa_rec *rec)
{
	ldns_rdf *o = NULL;
	ldns_rr *rr;
	uint8_t v;

	if ((rr = ldns_rr_new()) == NULL)
		return NULL;
	if (ldns_str2rdf_dname(&o, owner) != LDNS_STATUS_OK) {
		ldns_rr_free(rr);
		return NULL;
	}
	ldns_rr_set_owner(rr, o);
	ldns_rr_set_type(rr, LDNS_RR_TYPE_TLSA);
	ldns_rr_set_class(rr, cls);
	ldns_rr_set_ttl(rr, ttl);
	if (rec != NULL) {
		v = rec->spec.usage;
		ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT8,
		    1, &v));
		v = rec->spec.selector;
		ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT8,
		    1, &v));
		v = rec->spec.mtype;
		ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT8,
		    1, &v));
		ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_HEX,
		    rec->len, rec->data));
		if (ldns_rr_rd_count(rr) != 4 || ldns_rr_rdf(rr, 3) == NULL) {
			ldns_rr_free(rr);
			return NULL;
		}
	}
	return rr;
}

/*
 * Why an update was refused (rcode, and the TSIG error if any), in err.
 * With a key, a signed SOA read tells a key the server does not know
 * (the read fails too) from an update policy that does not let this key
 * change these names or TLSA records (the read works): BIND answers the
 * latter REFUSED, Knot NOTAUTH with TSIG BADKEY.
 */
static void
refused(const struct zone_server *srv, const char *zone,
    const struct zone_tsig *key, const struct zone_xfer_opts *o,
    const struct zone_change *ch, size_t nch, int rcode,
    const char *tsig_err, char *err, size_t errlen)
{
	ldns_pkt *q = NULL, *r = NULL;
	ldns_rdf *z = NULL;
	char what[64], lerr[ERRBUF_LEN];
	int policy = 0;

	snprintf(what, sizeof(what), "%s%s%s", zone_rcode_name(rcode),
	    tsig_err != NULL ? ", " : "", tsig_err != NULL ? tsig_err : "");
	if (key == NULL) {
		errfmt(err, errlen, "%s: update of zone %s refused: %s%s",
		    srv->name, zone, what, rcode == LDNS_RCODE_REFUSED ||
		    rcode == LDNS_RCODE_NOTAUTH ? " (no TSIG key was given)" :
		    "");
		return;
	}
	if (rcode == LDNS_RCODE_REFUSED || rcode == LDNS_RCODE_NOTAUTH) {
		if (ldns_str2rdf_dname(&z, zone) == LDNS_STATUS_OK &&
		    (q = ldns_pkt_query_new(z, LDNS_RR_TYPE_SOA,
		    LDNS_RR_CLASS_IN, 0)) != NULL) {
			z = NULL;
			policy = zone_exchange(srv, q, key, o, &r, lerr,
			    sizeof(lerr)) == 0 &&
			    ldns_pkt_get_rcode(r) == LDNS_RCODE_NOERROR;
		}
	}
	if (policy)
		errfmt(err, errlen, "%s: update of zone %s refused (%s): the "
		    "server accepts key %s for reading, so its update policy "
		    "does not let this key change TLSA records at %s%s (BIND: "
		    "update-policy or allow-update; Knot: the acl's "
		    "update-type and update-owner)", srv->name, zone, what,
		    key->name, ch[0].owner, nch > 1 ? " and the other owners" :
		    "");
	else
		errfmt(err, errlen, "%s: update of zone %s refused: %s with "
		    "key %s", srv->name, zone, what, key->name);
	ldns_rdf_deep_free(z);
	ldns_pkt_free(q);
	ldns_pkt_free(r);
}

int
zone_update_apply(const struct zone_server *srv, const char *zone,
    const struct zone_tsig *key, const struct zone_xfer_opts *o,
    const struct zone_change *ch, size_t nch, char *err, size_t errlen)
{
	ldns_rr_list *pr = NULL, *up = NULL;
	ldns_pkt *q = NULL, *r = NULL;
	ldns_rdf *z = NULL;
	ldns_rr *rr;
	struct zone_rrset now;
	struct sbuf b = { 0 };
	char *desc, lerr[ERRBUF_LEN];
	size_t i, c;
	int rc = -1, rcode;

	if ((pr = ldns_rr_list_new()) == NULL ||
	    (up = ldns_rr_list_new()) == NULL ||
	    ldns_str2rdf_dname(&z, zone) != LDNS_STATUS_OK)
		goto nomem;
	for (c = 0; c < nch; c++) {
		const struct zone_change *x = &ch[c];

		/* RFC 2136 2.4.3 value-dependent exists, 2.4.5 not exists */
		if (x->expect->n == 0 &&
		    ((rr = make_rr(x->owner, LDNS_RR_CLASS_NONE, 0, NULL)) ==
		    NULL || !ldns_rr_list_push_rr(pr, rr)))
			goto nomem;
		for (i = 0; i < x->expect->n; i++)
			if ((rr = make_rr(x->owner, LDNS_RR_CLASS_IN, 0,
			    &x->expect->v[i])) == NULL ||
			    !ldns_rr_list_push_rr(pr, rr))
				goto nomem;
		/* RFC 2136 2.5.2 delete an RRset, 2.5.4 delete an RR */
		if (x->del_all) {
			if ((rr = make_rr(x->owner, LDNS_RR_CLASS_ANY, 0,
			    NULL)) == NULL || !ldns_rr_list_push_rr(up, rr))
				goto nomem;
		} else
			for (i = 0; x->del != NULL && i < x->del->n; i++)
				if ((rr = make_rr(x->owner,
				    LDNS_RR_CLASS_NONE, 0, &x->del->v[i])) ==
				    NULL || !ldns_rr_list_push_rr(up, rr))
					goto nomem;
		for (i = 0; x->add != NULL && i < x->add->n; i++)
			if ((rr = make_rr(x->owner, LDNS_RR_CLASS_IN, x->ttl,
			    &x->add->v[i])) == NULL ||
			    !ldns_rr_list_push_rr(up, rr))
				goto nomem;
	}
	if ((q = ldns_update_pkt_new(z, LDNS_RR_CLASS_IN, pr, up, NULL)) ==
	    NULL)
		goto nomem;
	z = NULL;	/* owned by q */
	ldns_pkt_set_rd(q, 0);
	if (zone_exchange(srv, q, key, o, &r, err, errlen) == -1) {
		/*
		 * TSIG BADKEY on an update from a key that the server knows
		 * (Knot answers an ACL refusal so): see refused().
		 */
		if (key != NULL && strstr(err, "TSIG BADKEY") != NULL)
			refused(srv, zone, key, o, ch, nch,
			    LDNS_RCODE_NOTAUTH, "TSIG BADKEY", err, errlen);
		goto out;
	}
	rcode = ldns_pkt_get_rcode(r);
	if (rcode == LDNS_RCODE_NOERROR) {
		rc = 0;
		goto out;
	}
	if (rcode == LDNS_RCODE_YXRRSET || rcode == LDNS_RCODE_NXRRSET) {
		const char *same = NULL;

		for (c = 0; c < nch; c++) {
			desc = NULL;
			if (zone_read_rrset(srv, ch[c].owner, key, o, &now,
			    lerr, sizeof(lerr)) == 0) {
				if (zone_rrset_equal(&now, ch[c].expect)) {
					zone_rrset_free(&now);
					if (same == NULL)
						same = ch[c].owner;
					continue;
				}
				desc = zone_rrset_describe(&now);
				zone_rrset_free(&now);
			}
			sbuf_printf(&b, "%s%s now holds %s", b.len ? ", " : "",
			    ch[c].owner, desc != NULL ? desc :
			    "(could not read it back)");
			free(desc);
		}
		if (b.s == NULL && same != NULL)
			/*
			 * The data is what we expected, yet the server says
			 * it is not: it compares the records' text (PowerDNS
			 * compares the content column), and the text it keeps
			 * is not the canonical form an update carries.
			 */
			errfmt(err, errlen, "%s: update refused by its "
			    "prerequisite (%s), though the server holds "
			    "exactly the expected records at %s: it compares "
			    "record text, not data, and its stored text is "
			    "not canonical (hex split by blanks or in upper "
			    "case, as a zone file may give it); rewrite the "
			    "RRset in canonical form, with PowerDNS: pdnsutil "
			    "replace-rrset %s %s TLSA TTL \"U S M hex\"...",
			    srv->name, zone_rcode_name(rcode), same, zone,
			    same);
		else
			errfmt(err, errlen, "%s: update refused by its "
			    "prerequisite (%s): the RRset changed under us: "
			    "%s", srv->name, zone_rcode_name(rcode), b.s !=
			    NULL ? b.s : "no difference seen now");
		goto out;
	}
	refused(srv, zone, key, o, ch, nch, rcode, NULL, err, errlen);
	goto out;
nomem:
	errfmt(err, errlen, "cannot build the update for zone %s", zone);
out:
	/* ldns_update_pkt_new copied the lists' RRs into q. */
	sbuf_free(&b);
	ldns_rr_list_deep_free(pr);
	ldns_rr_list_deep_free(up);
	ldns_rdf_deep_free(z);
	ldns_pkt_free(q);
	ldns_pkt_free(r);
	return rc;
}

char *
zone_find_apex(const struct zone_server *srv, const char *owner,
    int recursive, const struct zone_tsig *key,
    const struct zone_xfer_opts *o, char *err, size_t errlen)
{
	struct zone_xfer_opts to = *o;
	const ldns_rr_list *sec[2];
	ldns_pkt *q = NULL, *r = NULL;
	ldns_rdf *d = NULL;
	char *apex = NULL, *p;
	size_t i, s;

	to.tcp = 1;
	if (ldns_str2rdf_dname(&d, owner) != LDNS_STATUS_OK ||
	    (q = ldns_pkt_query_new(d, LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN,
	    recursive ? LDNS_RD : 0)) == NULL) {
		ldns_rdf_deep_free(d);
		errfmt(err, errlen, "%s: cannot build a query", owner);
		return NULL;
	}
	if (zone_exchange(srv, q, key, &to, &r, err, errlen) == -1)
		goto out;
	if ((!recursive && !ldns_pkt_aa(r)) || (ldns_pkt_get_rcode(r) != LDNS_RCODE_NOERROR &&
	    ldns_pkt_get_rcode(r) != LDNS_RCODE_NXDOMAIN)) {
		errfmt(err, errlen, "%s: not authoritative for %s (%s%s); "
		    "give the zone with -z", srv->name, owner,
		    zone_rcode_name(ldns_pkt_get_rcode(r)),
		    ldns_pkt_aa(r) ? "" : ", no AA bit");
		goto out;
	}
	sec[0] = ldns_pkt_answer(r);
	sec[1] = ldns_pkt_authority(r);
	for (s = 0; s < 2 && apex == NULL; s++)
		for (i = 0; i < ldns_rr_list_rr_count(sec[s]); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(sec[s], i);

			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA)
				continue;
			apex = ldns_rdf2str(ldns_rr_owner(rr));
			break;
		}
	if (apex == NULL)
		errfmt(err, errlen, "%s: no SOA for %s; give the zone with -z",
		    srv->name, owner);
	else
		for (p = apex; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
out:
	ldns_pkt_free(q);
	ldns_pkt_free(r);
	return apex;
}
