/*
 * zone_sign.c: signing TLSA RRsets with ldns.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#include <ldns/ldns.h>

#include "log.h"
#include "zone_sign.h"

int
zone_parse_duration(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;
	unsigned long mult = 1;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case '\0': case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	case 'w': mult = 604800; break;
	default: return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	/* Check before multiplying: v * mult must not wrap. */
	if (v > (0xffffffffULL / 2) / mult)
		return -1;
	*out = (uint32_t)(v * mult);
	return 0;
}

int
zone_parse_time(const char *s, uint32_t *out)
{
	struct tm tm;
	uint32_t d;
	time_t t;
	char *end;
	unsigned long long v;

	if (strncmp(s, "now", 3) == 0) {
		t = time(NULL);
		if (s[3] == '\0') {
			*out = (uint32_t)t;
			return 0;
		}
		if ((s[3] != '+' && s[3] != '-') ||
		    zone_parse_duration(s + 4, &d) == -1)
			return -1;
		*out = (uint32_t)(s[3] == '+' ? t + d : t - d);
		return 0;
	}
	if (strlen(s) == 14 && strspn(s, "0123456789") == 14) {
		memset(&tm, 0, sizeof(tm));
		if (sscanf(s, "%4d%2d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon,
		    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
			return -1;
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		if ((t = timegm(&tm)) == (time_t)-1)
			return -1;
		*out = (uint32_t)t;
		return 0;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || *s == '\0' || v > 0xffffffffULL)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* Read K*.private and the DNSKEY in K*.key beside it. */
static ldns_key *
load_key(const char *path, const char *zone, char *err, size_t errlen)
{
	char priv[4096], pub[4096], *dot;
	struct stat st;
	FILE *f = NULL;
	ldns_key *k = NULL;
	ldns_rr *dnskey = NULL;
	ldns_rdf *zr = NULL;
	ldns_status s;
	int line = 0;

	snprintf(priv, sizeof(priv), "%s", path);
	if ((dot = strrchr(priv, '.')) != NULL && strcmp(dot, ".key") == 0)
		strcpy(dot, ".private");
	if ((dot = strrchr(priv, '.')) == NULL || strcmp(dot, ".private")) {
		errfmt(err, errlen, "%s: want a K*.private key file", path);
		return NULL;
	}
	snprintf(pub, sizeof(pub), "%.*s.key", (int)(dot - priv), priv);
	if (stat(priv, &st) == -1) {
		errfmt(err, errlen, "%s: %s", priv, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		errfmt(err, errlen, "%s: not a regular file", priv);
		return NULL;
	}
	if ((st.st_mode & 077) != 0) {
		errfmt(err, errlen, "%s: private key file is accessible by "
		    "group or others (mode %04o); chmod 600 it", priv,
		    (unsigned)(st.st_mode & 07777));
		return NULL;
	}
	if ((f = fopen(priv, "r")) == NULL) {
		errfmt(err, errlen, "%s: %s", priv, strerror(errno));
		return NULL;
	}
	s = ldns_key_new_frm_fp_l(&k, f, &line);
	fclose(f);
	if (s != LDNS_STATUS_OK) {
		errfmt(err, errlen, "%s: line %d: not a usable private key: %s",
		    priv, line, ldns_get_errorstr_by_id(s));
		return NULL;
	}
	if ((f = fopen(pub, "r")) == NULL) {
		errfmt(err, errlen, "%s: %s (the DNSKEY beside %s)", pub,
		    strerror(errno), priv);
		goto fail;
	}
	/* Skip comment lines BIND writes before the DNSKEY. */
	for (;;) {
		char buf[8192];

		if (fgets(buf, sizeof(buf), f) == NULL) {
			errfmt(err, errlen, "%s: no DNSKEY record", pub);
			fclose(f);
			goto fail;
		}
		if (buf[0] == ';' || buf[0] == '\n' || buf[0] == '$')
			continue;
		s = ldns_rr_new_frm_str(&dnskey, buf, 0, NULL, NULL);
		break;
	}
	fclose(f);
	if (s != LDNS_STATUS_OK || dnskey == NULL ||
	    ldns_rr_get_type(dnskey) != LDNS_RR_TYPE_DNSKEY) {
		errfmt(err, errlen, "%s: not a DNSKEY record", pub);
		goto fail;
	}
	if (ldns_str2rdf_dname(&zr, zone) != LDNS_STATUS_OK ||
	    ldns_dname_compare(zr, ldns_rr_owner(dnskey)) != 0) {
		char *o = ldns_rdf2str(ldns_rr_owner(dnskey));

		errfmt(err, errlen, "%s: key is for %s, not zone %s", pub,
		    o != NULL ? o : "?", zone);
		free(o);
		goto fail;
	}
	if (ldns_rdf2native_int8(ldns_rr_rdf(dnskey, 2)) !=
	    (uint8_t)ldns_key_algorithm(k)) {
		errfmt(err, errlen, "%s: algorithm differs from %s", pub,
		    priv);
		goto fail;
	}
	ldns_key_set_flags(k, ldns_rdf2native_int16(ldns_rr_rdf(dnskey, 0)));
	ldns_key_set_pubkey_owner(k, zr);
	zr = NULL;
	ldns_key_set_keytag(k, ldns_calc_keytag(dnskey));
	/* The private key must belong to this DNSKEY. */
	{
		ldns_rr *mine = ldns_key2rr(k);
		int same = mine != NULL &&
		    ldns_rdf_compare(ldns_rr_rdf(mine, 3),
		    ldns_rr_rdf(dnskey, 3)) == 0;

		ldns_rr_free(mine);
		if (!same) {
			errfmt(err, errlen, "%s: private key does not belong to "
			    "the DNSKEY in %s", priv, pub);
			goto fail;
		}
	}
	ldns_rr_free(dnskey);
	return k;
fail:
	ldns_rdf_deep_free(zr);
	ldns_rr_free(dnskey);
	ldns_key_deep_free(k);
	return NULL;
}

/* The zone's RRs sorted by owner, for binary search. */
struct zindex {
	const ldns_rr	**v;
	size_t		  n;
	const ldns_rr	 *nsec3;	/* any NSEC3 (for hash parameters) */
	const ldns_rr	 *apex_soa;
};

static int
rr_owner_cmp(const void *a, const void *b)
{
	return ldns_dname_compare(ldns_rr_owner(*(const ldns_rr *const *)a),
	    ldns_rr_owner(*(const ldns_rr *const *)b));
}

static int
zindex_build(const ldns_zone *z, struct zindex *ix)
{
	const ldns_rr_list *rrs = ldns_zone_rrs(z);
	size_t i;

	memset(ix, 0, sizeof(*ix));
	ix->n = ldns_rr_list_rr_count(rrs);
	if ((ix->v = calloc(ix->n + 1, sizeof(*ix->v))) == NULL)
		return -1;
	for (i = 0; i < ix->n; i++) {
		ix->v[i] = ldns_rr_list_rr(rrs, i);
		if (ldns_rr_get_type(ix->v[i]) == LDNS_RR_TYPE_NSEC3 &&
		    ix->nsec3 == NULL)
			ix->nsec3 = ix->v[i];
	}
	ix->apex_soa = ldns_zone_soa(z);
	qsort(ix->v, ix->n, sizeof(*ix->v), rr_owner_cmp);
	return 0;
}

/* Index of the first RR owned by name, or -1. */
static long
zindex_find(const struct zindex *ix, const ldns_rdf *name)
{
	size_t lo = 0, hi = ix->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = ldns_dname_compare(ldns_rr_owner(ix->v[mid]), name);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ix->n && ldns_dname_compare(ldns_rr_owner(ix->v[lo]),
	    name) == 0)
		return (long)lo;
	return -1;
}

/* Does owner exist in the zone with TLSA covered by its denial records? */
static int
check_owner(const struct zindex *ix, const char *owner, char *err,
    size_t errlen)
{
	ldns_rdf *o = NULL, *hashed = NULL, *full = NULL;
	const ldns_rr *rr;
	long at;
	size_t i;
	int has_nsec = 0, covered = 0, has_nsec3 = 0, rc = -1;

	if (ldns_str2rdf_dname(&o, owner) != LDNS_STATUS_OK)
		return -1;
	if ((at = zindex_find(ix, o)) == -1) {
		errfmt(err, errlen, "%s does not exist in the zone file: a "
		    "signed fragment cannot add a name (the NSEC/NSEC3 chain "
		    "would be wrong); add it to the zone and re-sign", owner);
		goto out;
	}
	for (i = (size_t)at; i < ix->n &&
	    ldns_dname_compare(ldns_rr_owner(ix->v[i]), o) == 0; i++)
		if (ldns_rr_get_type(ix->v[i]) == LDNS_RR_TYPE_NSEC) {
			has_nsec = 1;
			covered = ldns_nsec_bitmap_covers_type(
			    ldns_rr_rdf(ix->v[i], 1), LDNS_RR_TYPE_TLSA);
		}
	if (!has_nsec && ix->nsec3 != NULL && ix->apex_soa != NULL) {
		/* The NSEC3 record at hash(owner).apex. */
		if ((hashed = ldns_nsec3_hash_name_frm_nsec3(ix->nsec3, o)) ==
		    NULL || (full = ldns_dname_cat_clone(hashed,
		    ldns_rr_owner(ix->apex_soa))) == NULL)
			goto nsec3_missing;
		if ((at = zindex_find(ix, full)) != -1)
			for (i = (size_t)at; i < ix->n && ldns_dname_compare(
			    ldns_rr_owner(ix->v[i]), full) == 0; i++) {
				rr = ix->v[i];
				if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NSEC3)
					continue;
				has_nsec3 = 1;
				covered = ldns_nsec_bitmap_covers_type(
				    ldns_rr_rdf(rr, 5), LDNS_RR_TYPE_TLSA);
			}
nsec3_missing:
		if (!has_nsec3) {
			errfmt(err, errlen, "%s: no NSEC3 record for it in the "
			    "zone file", owner);
			goto out;
		}
	}
	if ((has_nsec || has_nsec3) && !covered) {
		errfmt(err, errlen, "%s has no TLSA in its %s type bitmap: "
		    "re-sign the zone with a TLSA RRset there", owner,
		    has_nsec ? "NSEC" : "NSEC3");
		goto out;
	}
	rc = 0;
out:
	ldns_rdf_deep_free(o);
	ldns_rdf_deep_free(hashed);
	ldns_rdf_deep_free(full);
	return rc;
}

static ldns_rr *
tlsa_rr(const struct zone_rr *zr, uint32_t ttl)
{
	ldns_rr *rr;
	ldns_rdf *o = NULL;
	uint8_t v;

	if ((rr = ldns_rr_new()) == NULL)
		return NULL;
	if (ldns_str2rdf_dname(&o, zr->owner) != LDNS_STATUS_OK) {
		ldns_rr_free(rr);
		return NULL;
	}
	ldns_rr_set_owner(rr, o);
	ldns_rr_set_type(rr, LDNS_RR_TYPE_TLSA);
	ldns_rr_set_class(rr, zr->rrclass);
	ldns_rr_set_ttl(rr, ttl);
	v = zr->rec.spec.usage;
	ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT8, 1, &v));
	v = zr->rec.spec.selector;
	ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT8, 1, &v));
	v = zr->rec.spec.mtype;
	ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT8, 1, &v));
	ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_HEX,
	    zr->rec.len, zr->rec.data));
	return rr;
}

int
zone_sign_fragment(const struct zone_rrlist *recs,
    const struct zone_sign_opts *so, struct sbuf *out, char *err,
    size_t errlen)
{
	ldns_key_list *keys = NULL, *use = NULL;
	ldns_rr_list *set = NULL, *sigs = NULL;
	ldns_zone *z = NULL;
	ldns_rdf *origin = NULL;
	ldns_key *k;
	struct zone_groups g = { 0 };
	struct zindex zi = { 0 };
	size_t i, j, nk;
	char *s;
	int zsk = 0, rc = -1, line = 0;
	uint32_t jit = 0;
	FILE *f;

	if ((keys = ldns_key_list_new()) == NULL)
		goto nomem;
	for (i = 0; i < (size_t)so->nkeys; i++) {
		if ((k = load_key(so->keyfiles[i], so->zone, err, errlen)) ==
		    NULL)
			goto out;
		if ((ldns_key_flags(k) & LDNS_KEY_SEP_KEY) == 0)
			zsk = 1;
		ldns_key_list_push_key(keys, k);
	}
	if (ldns_key_list_key_count(keys) == 0) {
		errfmt(err, errlen, "no zone key given (-k K*.private)");
		goto out;
	}
	if (so->zonefile != NULL) {
		if ((f = fopen(so->zonefile, "r")) == NULL) {
			errfmt(err, errlen, "%s: %s", so->zonefile,
			    strerror(errno));
			goto out;
		}
		if (ldns_str2rdf_dname(&origin, so->zone) != LDNS_STATUS_OK) {
			fclose(f);
			goto nomem;
		}
		if (ldns_zone_new_frm_fp_l(&z, f, origin, 3600,
		    LDNS_RR_CLASS_IN, &line) != LDNS_STATUS_OK) {
			errfmt(err, errlen, "%s: line %d: cannot parse the zone "
			    "file", so->zonefile, line);
			fclose(f);
			goto out;
		}
		fclose(f);
		if (zindex_build(z, &zi) == -1)
			goto nomem;
	}
	/* With ZSKs present the TLSA RRsets are theirs; else the CSK's. */
	if ((use = ldns_key_list_new()) == NULL)
		goto nomem;
	nk = ldns_key_list_key_count(keys);
	if (RAND_bytes((unsigned char *)&jit, sizeof(jit)) != 1)
		jit = (uint32_t)rand();
	jit = so->jitter > 0 ? jit % (so->jitter + 1) : 0;
	for (i = 0; i < nk; i++) {
		k = ldns_key_list_key(keys, i);
		if (zsk && (ldns_key_flags(k) & LDNS_KEY_SEP_KEY) != 0)
			continue;
		ldns_key_set_inception(k, so->inception);
		ldns_key_set_expiration(k, so->expiration - jit);
		ldns_key_list_push_key(use, k);
	}
	if (zone_rrlist_group(recs, &g) == -1)
		goto nomem;
	sbuf_printf(out, "; TLSA records for zone %s made by tlsagen, "
	    "signed by key tag", so->zone);
	for (i = 0; i < ldns_key_list_key_count(use); i++)
		sbuf_printf(out, " %u", ldns_key_keytag(
		    ldns_key_list_key(use, i)));
	sbuf_printf(out, "\n");
	for (j = 0; j < g.ngroups; j++) {
		const char *owner = recs->v[g.order[g.start[j]]].owner;

		if (z != NULL && check_owner(&zi, owner, err, errlen) == -1)
			goto out;
		if ((set = ldns_rr_list_new()) == NULL)
			goto nomem;
		for (i = g.start[j]; i < g.start[j + 1]; i++) {
			ldns_rr *rr;

			if ((rr = tlsa_rr(&recs->v[g.order[i]], so->ttl)) ==
			    NULL || !ldns_rr_list_push_rr(set, rr))
				goto nomem;
		}
		if ((sigs = ldns_sign_public(set, use)) == NULL ||
		    ldns_rr_list_rr_count(sigs) == 0) {
			errfmt(err, errlen, "%s: signing failed", owner);
			goto out;
		}
		for (i = 0; i < ldns_rr_list_rr_count(set); i++) {
			if ((s = ldns_rr2str(ldns_rr_list_rr(set, i))) == NULL)
				goto nomem;
			sbuf_add(out, s, strlen(s));
			free(s);
		}
		for (i = 0; i < ldns_rr_list_rr_count(sigs); i++) {
			if ((s = ldns_rr2str(ldns_rr_list_rr(sigs, i))) == NULL)
				goto nomem;
			sbuf_add(out, s, strlen(s));
			free(s);
		}
		ldns_rr_list_deep_free(set);
		ldns_rr_list_deep_free(sigs);
		set = sigs = NULL;
	}
	if (out->failed)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	errfmt(err, errlen, "out of memory");
out:
	zone_groups_free(&g);
	free(zi.v);
	ldns_rr_list_deep_free(set);
	ldns_rr_list_deep_free(sigs);
	if (use != NULL) {
		/* Shares the keys of "keys". */
		ldns_key_list_set_key_count(use, 0);
		ldns_key_list_free(use);
	}
	if (keys != NULL)
		ldns_key_list_free(keys);
	if (z != NULL)
		ldns_zone_deep_free(z);
	ldns_rdf_deep_free(origin);
	return rc;
}
