/*
 * zone_check.c: visibility on authoritative servers, validated lookups.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "fileio.h"
#include "log.h"
#include "zone_check.h"

const char *
zone_sec_name(int sec)
{
	switch (sec) {
	case ZONE_SEC_SECURE: return "secure";
	case ZONE_SEC_INSECURE: return "insecure";
	case ZONE_SEC_BOGUS: return "bogus";
	default: return "error";
	}
}

void
zone_vis_free(struct zone_vis *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		zone_rrset_free(&v[i].rrset);
	free(v);
}

static int
push_addr(struct zone_vis **v, size_t *n, const ldns_rr *rr, unsigned port,
    const char *nsname)
{
	struct sockaddr_storage ss;
	struct zone_vis *nv;
	socklen_t len;
	const ldns_rdf *a = ldns_rr_rd_count(rr) > 0 ? ldns_rr_rdf(rr, 0) :
	    NULL;

	if (a == NULL)
		return 0;	/* an address record without an address */
	memset(&ss, 0, sizeof(ss));
	if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_A && ldns_rdf_size(a) == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		memcpy(&s4->sin_addr, ldns_rdf_data(a), 4);
		len = sizeof(*s4);
	} else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_AAAA &&
	    ldns_rdf_size(a) == 16) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		memcpy(&s6->sin6_addr, ldns_rdf_data(a), 16);
		len = sizeof(*s6);
	} else
		return 0;
	if ((nv = reallocarray(*v, *n + 1, sizeof(*nv))) == NULL)
		return -1;
	*v = nv;
	nv = &nv[*n];
	memset(nv, 0, sizeof(*nv));
	zone_server_from_sa((struct sockaddr *)&ss, len, &nv->srv);
	nv->role = "ns";
	snprintf(nv->nsname, sizeof(nv->nsname), "%s", nsname);
	(*n)++;
	return 0;
}

int
zone_ns_servers(const struct zone_server *resolver, const char *zone,
    unsigned port, const struct zone_xfer_opts *o, struct zone_vis **out,
    size_t *n, char *err, size_t errlen)
{
	ldns_pkt *r = NULL, *ar = NULL;
	const ldns_rr_list *an;
	char *nsname = NULL;
	size_t i, j, t;
	int rc = -1;
	static const ldns_rr_type types[2] = {
		LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA
	};

	*out = NULL;
	*n = 0;
	if (zone_query(resolver, zone, LDNS_RR_TYPE_NS, 1, 1, 0, o, &r, err,
	    errlen) == -1)
		return -1;
	if (ldns_pkt_get_rcode(r) != LDNS_RCODE_NOERROR) {
		errfmt(err, errlen, "%s: NS %s: %s", resolver->name, zone,
		    zone_rcode_name(ldns_pkt_get_rcode(r)));
		goto out;
	}
	an = ldns_pkt_answer(r);
	for (i = 0; i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *ns = ldns_rr_list_rr(an, i);

		if (ldns_rr_get_type(ns) != LDNS_RR_TYPE_NS)
			continue;
		free(nsname);
		if ((nsname = ldns_rdf2str(ldns_rr_rdf(ns, 0))) == NULL)
			goto nomem;
		for (t = 0; t < 2; t++) {
			if (zone_query(resolver, nsname, types[t], 1, 0, 0, o,
			    &ar, err, errlen) == -1)
				goto out;
			for (j = 0; j < ldns_rr_list_rr_count(
			    ldns_pkt_answer(ar)); j++)
				if (push_addr(out, n, ldns_rr_list_rr(
				    ldns_pkt_answer(ar), j), port, nsname) ==
				    -1)
					goto nomem;
			ldns_pkt_free(ar);
			ar = NULL;
		}
	}
	if (*n == 0) {
		errfmt(err, errlen, "%s: no name server addresses for %s",
		    resolver->name, zone);
		goto out;
	}
	rc = 0;
	goto out;
nomem:
	errfmt(err, errlen, "out of memory");
out:
	free(nsname);
	ldns_pkt_free(r);
	ldns_pkt_free(ar);
	if (rc != 0) {
		zone_vis_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

uint32_t
zone_ttl_rfc2181(uint32_t ttl)
{
	return (ttl & 0x80000000u) != 0 ? 0 : ttl;
}

/* SOA serial and negative TTL from any section of p. */
static void
soa_of(const ldns_pkt *p, struct zone_vis *v)
{
	const ldns_rr_list *sec[2] = { ldns_pkt_answer(p),
	    ldns_pkt_authority(p) };
	size_t s, i;

	for (s = 0; s < 2; s++)
		for (i = 0; i < ldns_rr_list_rr_count(sec[s]); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(sec[s], i);
			uint32_t min;

			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA ||
			    ldns_rr_rd_count(rr) < 7)
				continue;
			v->has_serial = 1;
			v->serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
			min = zone_ttl_rfc2181(ldns_rdf2native_int32(
			    ldns_rr_rdf(rr, 6)));
			v->neg_ttl = min < zone_ttl_rfc2181(ldns_rr_ttl(rr)) ?
			    min : zone_ttl_rfc2181(ldns_rr_ttl(rr));
			return;
		}
}

size_t
zone_visibility(struct zone_vis *v, size_t n, const char *zone,
    const char *owner, const struct zone_rrset *expect,
    const struct zone_xfer_opts *o)
{
	const struct zone_rrset *want = expect;
	ldns_pkt *r = NULL;
	size_t i, bad = 0;

	for (i = 0; i < n; i++) {
		struct zone_vis *x = &v[i];

		zone_rrset_free(&x->rrset);
		x->error[0] = '\0';
		x->has_serial = 0;
		if (zone_query_key(&x->srv, zone, LDNS_RR_TYPE_SOA, 0, 0, 0,
		    x->key, o, &r, x->error, sizeof(x->error)) == 0) {
			if (ldns_pkt_aa(r))
				soa_of(r, x);
			ldns_pkt_free(r);
			r = NULL;
		}
		if (zone_query_key(&x->srv, owner, LDNS_RR_TYPE_TLSA, 0, 0, 0,
		    x->key, o, &r, x->error, sizeof(x->error)) == -1) {
			x->state = ZONE_VIS_ERROR;
			bad++;
			continue;
		}
		x->aa = ldns_pkt_aa(r);
		x->rcode = ldns_pkt_get_rcode(r);
		if (x->rcode != LDNS_RCODE_NOERROR &&
		    x->rcode != LDNS_RCODE_NXDOMAIN) {
			x->state = ZONE_VIS_NOT_AUTH;
			errfmt(x->error, sizeof(x->error), "%s",
			    zone_rcode_name(x->rcode));
		} else if (!x->aa) {
			x->state = ZONE_VIS_NOT_AUTH;
			errfmt(x->error, sizeof(x->error), "answer without AA");
		} else {
			zone_rrset_from_pkt(r, owner, &x->rrset);
			if (x->rrset.n == 0)
				soa_of(r, x);
			x->ttl = zone_ttl_rfc2181(x->rrset.ttl);
			if (want == NULL)
				want = &x->rrset;
			x->state = zone_rrset_equal(&x->rrset, want) ?
			    ZONE_VIS_MATCH : ZONE_VIS_DIFFERS;
		}
		if (x->state != ZONE_VIS_MATCH)
			bad++;
		ldns_pkt_free(r);
		r = NULL;
	}
	return bad;
}

void
zone_answer_free(struct zone_answer *a)
{
	ldns_pkt_free(a->pkt);
	a->pkt = NULL;
}

/* Follow the CNAME chain from a->name in the answer (bounded). */
static void
follow_cnames(struct zone_answer *a)
{
	const ldns_rr_list *an = ldns_pkt_answer(a->pkt);
	ldns_rdf *cur = NULL;
	char *t;
	size_t i;
	int hop, found;

	if (ldns_str2rdf_dname(&cur, a->name) != LDNS_STATUS_OK)
		return;
	for (i = 0; i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);

		uint32_t rt = zone_ttl_rfc2181(ldns_rr_ttl(rr));

		if (a->ttl == 0 || rt < a->ttl)
			a->ttl = rt;
	}
	for (hop = 0; hop < 16; hop++) {
		found = 0;
		for (i = 0; i < ldns_rr_list_rr_count(an); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, i);

			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME ||
			    ldns_rr_rd_count(rr) < 1 ||
			    ldns_dname_compare(ldns_rr_owner(rr), cur) != 0)
				continue;
			ldns_rdf_deep_free(cur);
			cur = ldns_rdf_clone(ldns_rr_rdf(rr, 0));
			found = 1;
			break;
		}
		if (!found || cur == NULL)
			break;
		a->cnames++;
	}
	if (cur != NULL && a->cnames > 0 && (t = ldns_rdf2str(cur)) != NULL) {
		snprintf(a->name, sizeof(a->name), "%s", t);
		free(t);
	}
	ldns_rdf_deep_free(cur);
}

/*
 * Ask resolver for (name, type) with RD and DO and, on SERVFAIL, again
 * with CD: a validating resolver that fails the data but has it is
 * saying "bogus", not "down".  -1 when the first question had no reply
 * (why in err); else SECURE (AD), INSECURE (NOERROR or NXDOMAIN without
 * AD), BOGUS (SERVFAIL, but NOERROR or NXDOMAIN with CD) or ERROR, with
 * the reply that decided it in *rp (NULL for ERROR without one; caller
 * frees) and the rcode of the first reply in *rcode1.
 */
static int
query_validated(const struct zone_server *resolver, const char *name,
    ldns_rr_type type, const struct zone_xfer_opts *o, ldns_pkt **rp,
    int *rcode1, char *err, size_t errlen)
{
	char lerr[ERRBUF_LEN];
	ldns_pkt *r = NULL;
	int rcode;

	*rp = NULL;
	if (zone_query(resolver, name, type, 1, 1, 0, o, &r, err,
	    errlen) == -1)
		return -1;
	*rcode1 = rcode = ldns_pkt_get_rcode(r);
	if (rcode == LDNS_RCODE_NOERROR || rcode == LDNS_RCODE_NXDOMAIN) {
		*rp = r;
		return ldns_pkt_ad(r) ? ZONE_SEC_SECURE : ZONE_SEC_INSECURE;
	}
	if (rcode == LDNS_RCODE_SERVFAIL) {
		ldns_pkt_free(r);
		r = NULL;
		if (zone_query(resolver, name, type, 1, 1, 1, o, &r, lerr,
		    sizeof(lerr)) == 0 &&
		    (ldns_pkt_get_rcode(r) == LDNS_RCODE_NOERROR ||
		    ldns_pkt_get_rcode(r) == LDNS_RCODE_NXDOMAIN)) {
			*rp = r;
			return ZONE_SEC_BOGUS;
		}
	}
	*rp = r;
	return ZONE_SEC_ERROR;
}

int
zone_lookup(const struct zone_server *resolver, const char *name,
    ldns_rr_type type, const struct zone_xfer_opts *o, struct zone_answer *a)
{
	char tname[16], lerr[ERRBUF_LEN];
	ldns_pkt *r = NULL;
	char *ts;
	int sec;

	memset(a, 0, sizeof(*a));
	a->sec = ZONE_SEC_ERROR;
	a->rcode = -1;
	snprintf(a->name, sizeof(a->name), "%s", name);
	ts = ldns_rr_type2str(type);
	snprintf(tname, sizeof(tname), "%s", ts != NULL ? ts : "?");
	free(ts);
	if ((sec = query_validated(resolver, name, type, o, &r, &a->rcode,
	    lerr, sizeof(lerr))) == -1) {
		errfmt(a->error, sizeof(a->error), "%s", lerr);
		return a->sec;
	}
	if (sec != ZONE_SEC_ERROR) {
		a->pkt = r;
		a->sec = sec;
		follow_cnames(a);
		if (sec == ZONE_SEC_BOGUS)
			errfmt(a->error, sizeof(a->error), "%s: %s %s fails "
			    "DNSSEC validation (SERVFAIL, but answered with "
			    "checking disabled)", resolver->name, name, tname);
		return a->sec;
	}
	/* SERVFAIL (also with CD) or another rcode. */
	errfmt(a->error, sizeof(a->error), "%s: %s %s: %s", resolver->name,
	    name, tname, r != NULL ? zone_rcode_name(ldns_pkt_get_rcode(r)) :
	    "no answer");
	ldns_pkt_free(r);
	return a->sec;
}

ldns_rr_list *
zone_answer_rrs(const struct zone_answer *a, ldns_rr_type type)
{
	ldns_rdf *d = NULL;
	ldns_rr_list *l;

	if (a->pkt == NULL || ldns_str2rdf_dname(&d, a->name) !=
	    LDNS_STATUS_OK)
		return NULL;
	l = ldns_pkt_rr_list_by_name_and_type(a->pkt, d, type,
	    LDNS_SECTION_ANSWER);
	ldns_rdf_deep_free(d);
	return l;
}

int
zone_resolve_validated(const struct zone_server *resolver,
    const char *owner, const struct zone_xfer_opts *o,
    struct zone_rrset *out, char *err, size_t errlen)
{
	ldns_pkt *r = NULL;
	int sec, rcode;

	memset(out, 0, sizeof(*out));
	if ((sec = query_validated(resolver, owner, LDNS_RR_TYPE_TLSA, o, &r,
	    &rcode, err, errlen)) == -1)
		return ZONE_SEC_ERROR;
	if (sec != ZONE_SEC_ERROR)
		zone_rrset_from_pkt(r, owner, out);
	if (sec == ZONE_SEC_INSECURE)
		errfmt(err, errlen, "%s: answer for %s TLSA has no AD bit "
		    "(unsigned zone, or the resolver does not validate)",
		    resolver->name, owner);
	else if (sec == ZONE_SEC_BOGUS)
		errfmt(err, errlen, "%s: %s TLSA fails validation (SERVFAIL, "
		    "but answered with checking disabled)", resolver->name,
		    owner);
	else if (sec == ZONE_SEC_ERROR)
		errfmt(err, errlen, "%s: %s TLSA: %s", resolver->name, owner,
		    r != NULL ? zone_rcode_name(ldns_pkt_get_rcode(r)) :
		    "no answer");
	ldns_pkt_free(r);
	return sec;
}

ldns_rr_list *
zone_load_anchors(const char *path, char *err, size_t errlen)
{
	ldns_rr_list *l;
	unsigned char *buf;
	char *line, *next, lerr[ERRBUF_LEN];
	size_t len, lineno = 0;
	ldns_rr *rr;

	if (fileio_read_bounded(path, 1024 * 1024, &buf, &len, lerr,
	    sizeof(lerr)) == -1) {
		errfmt(err, errlen, "%s: %s", path, lerr);
		return NULL;
	}
	if ((l = ldns_rr_list_new()) == NULL) {
		free(buf);
		return NULL;
	}
	for (line = (char *)buf; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line += strspn(line, " \t\r");
		if (*line == '\0' || *line == ';' || *line == '$')
			continue;
		rr = NULL;
		if (ldns_rr_new_frm_str(&rr, line, 3600, NULL, NULL) !=
		    LDNS_STATUS_OK || (ldns_rr_get_type(rr) !=
		    LDNS_RR_TYPE_DS && ldns_rr_get_type(rr) !=
		    LDNS_RR_TYPE_DNSKEY)) {
			ldns_rr_free(rr);
			errfmt(err, errlen, "%s: line %zu: not a DS or DNSKEY "
			    "record", path, lineno);
			ldns_rr_list_deep_free(l);
			free(buf);
			return NULL;
		}
		ldns_rr_list_push_rr(l, rr);
	}
	free(buf);
	if (ldns_rr_list_rr_count(l) == 0) {
		errfmt(err, errlen, "%s: no DS or DNSKEY records", path);
		ldns_rr_list_deep_free(l);
		return NULL;
	}
	return l;
}

int
zone_validate_local(const struct zone_server *via, const char *ta_file,
    const char *owner, const struct zone_xfer_opts *o,
    struct zone_rrset *out, char *err, size_t errlen)
{
	ldns_rr_list *anchors;
	int sec;

	memset(out, 0, sizeof(*out));
	if ((anchors = zone_load_anchors(ta_file, err, errlen)) == NULL)
		return ZONE_SEC_ERROR;
	sec = zone_validate_local_anchors(via, anchors, ta_file, owner, o, out,
	    err, errlen);
	ldns_rr_list_deep_free(anchors);
	return sec;
}

int
zone_validate_local_anchors(const struct zone_server *via,
    const ldns_rr_list *anchors, const char *ta_file, const char *owner,
    const struct zone_xfer_opts *o, struct zone_rrset *out, char *err,
    size_t errlen)
{
	ldns_resolver *res = NULL;
	ldns_rr_list *rrset = NULL, *sigs = NULL;
	ldns_rr_list *valid = NULL;
	ldns_pkt *r = NULL;
	ldns_rdf *ns = NULL, *on = NULL;
	struct timeval tv;
	char addr[INET6_ADDRSTRLEN];
	uint16_t port;
	size_t i;
	ldns_status st;
	long long left;
	unsigned tmo;
	int sec = ZONE_SEC_ERROR, tries;

	memset(out, 0, sizeof(*out));
	if (via->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)&via->ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
		port = ntohs(s6->sin6_port);
		ns = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_AAAA, addr);
	} else {
		const struct sockaddr_in *s4 = (const void *)&via->ss;

		inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
		port = ntohs(s4->sin_port);
		ns = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, addr);
	}
	if (ns == NULL || (res = ldns_resolver_new()) == NULL ||
	    ldns_resolver_push_nameserver(res, ns) != LDNS_STATUS_OK) {
		errfmt(err, errlen, "cannot set up a resolver for %s",
		    via->name);
		goto out;
	}
	ldns_resolver_set_port(res, port);
	ldns_resolver_set_recursive(res, true);
	ldns_resolver_set_dnssec(res, true);
	ldns_resolver_set_dnssec_cd(res, true);
	ldns_resolver_set_edns_udp_size(res, 4096);
	/*
	 * ldns asks here with its own resolver, not through our
	 * exchanges, so the run's DNS deadline does not end its questions
	 * by itself: none once that time is up, and each one no longer
	 * than what is left (one try when the tries would not fit).  The
	 * chain of trust may still ask a few questions more, each so
	 * bounded.
	 */
	tries = o->tries > 0 ? o->tries : 1;
	tmo = o->timeout_ms;
	if ((left = zone_net_run_left_ms()) == 0) {
		errfmt(err, errlen, "%s: %s TLSA: not asked, the run's time "
		    "for DNS is up", via->name, owner);
		goto out;
	}
	if (left > 0 && (long long)tmo * tries > left) {
		tries = 1;
		if (tmo > left)
			tmo = (unsigned)left;
	}
	ldns_resolver_set_retry(res, (uint8_t)tries);
	tv.tv_sec = tmo / 1000;
	tv.tv_usec = (tmo % 1000) * 1000;
	ldns_resolver_set_timeout(res, tv);
	for (i = 0; i < ldns_rr_list_rr_count(anchors); i++)
		ldns_resolver_push_dnssec_anchor(res,
		    ldns_rr_list_rr(anchors, i));
	if ((on = ldns_dname_new_frm_str(owner)) == NULL)
		goto out;
	st = ldns_resolver_query_status(&r, res, on, LDNS_RR_TYPE_TLSA,
	    LDNS_RR_CLASS_IN, LDNS_RD);
	if (st != LDNS_STATUS_OK || r == NULL) {
		errfmt(err, errlen, "%s: no answer for %s TLSA (%s)",
		    via->name, owner, ldns_get_errorstr_by_id(st));
		goto out;
	}
	rrset = ldns_pkt_rr_list_by_name_and_type(r, on, LDNS_RR_TYPE_TLSA,
	    LDNS_SECTION_ANSWER);
	sigs = ldns_pkt_rr_list_by_name_and_type(r, on, LDNS_RR_TYPE_RRSIG,
	    LDNS_SECTION_ANSWER);
	zone_rrset_from_pkt(r, owner, out);
	if (rrset == NULL || ldns_rr_list_rr_count(rrset) == 0) {
		errfmt(err, errlen, "%s: no TLSA records at %s (%s)",
		    via->name, owner,
		    zone_rcode_name(ldns_pkt_get_rcode(r)));
		goto out;
	}
	if (sigs == NULL || ldns_rr_list_rr_count(sigs) == 0) {
		errfmt(err, errlen, "%s TLSA has no RRSIG (from %s) although "
		    "%s covers it", owner, via->name, ta_file);
		sec = ZONE_SEC_BOGUS;
		goto out;
	}
	valid = ldns_rr_list_new();
	st = ldns_verify_trusted(res, rrset, sigs, valid);
	if (st == LDNS_STATUS_OK)
		sec = ZONE_SEC_SECURE;
	else {
		errfmt(err, errlen, "%s TLSA does not validate against %s: %s",
		    owner, ta_file, ldns_get_errorstr_by_id(st));
		sec = ZONE_SEC_BOGUS;
	}
out:
	ldns_rr_list_deep_free(valid);	/* ldns_verify_trusted clones into it */
	ldns_rr_list_deep_free(rrset);
	ldns_rr_list_deep_free(sigs);
	ldns_rdf_deep_free(on);
	ldns_pkt_free(r);
	if (res != NULL)
		ldns_resolver_deep_free(res);	/* with its anchor copies */
	ldns_rdf_deep_free(ns);
	return sec;
}
