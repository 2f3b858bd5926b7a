/*
 * zone_rr.c: the TLSA RR list.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "log.h"
#include "zone_rr.h"

char *
zone_name_canon(const char *name, char *err, size_t errlen)
{
	ldns_rdf *d = NULL;
	char *s = NULL, *p, vis[300];
	size_t len = strlen(name);

	if (len == 0 || len > 254 || (len > 1 && strstr(name, "..") != NULL)) {
		errfmt(err, errlen, "\"%s\": not a valid DNS name",
		    str_vis(vis, sizeof(vis), name, len));
		return NULL;
	}
	if (ldns_str2rdf_dname(&d, name) != LDNS_STATUS_OK) {
		errfmt(err, errlen, "\"%s\": not a valid DNS name",
		    str_vis(vis, sizeof(vis), name, len));
		goto out;
	}
	/*
	 * ldns checked it.  Without escapes the presentation form is the
	 * name itself, lower-cased, with the final dot: skip ldns_rdf2str,
	 * which formats label by label (slow when loading many hosts).
	 */
	if (strchr(name, '\\') == NULL && strcmp(name, ".") != 0) {
		if ((s = malloc(len + 2)) == NULL)
			goto out;
		memcpy(s, name, len + 1);
		if (s[len - 1] != '.') {
			s[len] = '.';
			s[len + 1] = '\0';
		}
	} else if ((s = ldns_rdf2str(d)) == NULL) {
		errfmt(err, errlen, "\"%s\": not a valid DNS name",
		    str_vis(vis, sizeof(vis), name, len));
		goto out;
	}
	for (p = s; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
out:
	ldns_rdf_deep_free(d);
	return s;
}

char *
zone_tlsa_owner(unsigned port, const char *proto, const char *host,
    char *err, size_t errlen)
{
	unsigned char a[sizeof(struct in6_addr)];
	char buf[300], vis[300], *owner;
	const char *h = host;

	if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 &&
	    strcmp(proto, "sctp") != 0) {
		errfmt(err, errlen, "protocol \"%s\": want tcp, udp or sctp",
		    str_vis(vis, sizeof(vis), proto, strlen(proto)));
		return NULL;
	}
	if (port == 0 || port > 65535) {
		errfmt(err, errlen, "port %u out of range", port);
		return NULL;
	}
	if (inet_pton(AF_INET, h, a) == 1 || inet_pton(AF_INET6, h, a) == 1) {
		errfmt(err, errlen, "\"%s\" is an address; TLSA records are "
		    "named after the host name (give it with -H)", h);
		return NULL;
	}
	if (strcmp(h, ".") == 0 || *h == '\0') {
		errfmt(err, errlen, "empty host name");
		return NULL;
	}
	if ((size_t)snprintf(buf, sizeof(buf), "_%u._%s.%s", port, proto, h) >=
	    sizeof(buf)) {
		errfmt(err, errlen, "host name too long");
		return NULL;
	}
	owner = zone_name_canon(buf, err, errlen);
	if (owner == NULL)
		errfmt(err, errlen, "\"%s\": not a valid host name",
		    str_vis(vis, sizeof(vis), h, strlen(h)));
	return owner;
}

static size_t
rr_hash(const char *owner, const struct tlsa_rec *r)
{
	size_t h = 1469598103934665603ULL, i;

	for (; *owner != '\0'; owner++)
		h = (h ^ (unsigned char)*owner) * 1099511628211ULL;
	h = (h ^ r->spec.usage) * 1099511628211ULL;
	h = (h ^ r->spec.selector) * 1099511628211ULL;
	h = (h ^ r->spec.mtype) * 1099511628211ULL;
	for (i = 0; i < r->len; i++)
		h = (h ^ r->data[i]) * 1099511628211ULL;
	return h;
}

static int
rr_same(const struct zone_rr *a, const char *owner, uint16_t rrclass,
    const struct tlsa_rec *r)
{
	return a->rrclass == rrclass && strcmp(a->owner, owner) == 0 &&
	    a->rec.spec.usage == r->spec.usage &&
	    a->rec.spec.selector == r->spec.selector &&
	    a->rec.spec.mtype == r->spec.mtype && a->rec.len == r->len &&
	    memcmp(a->rec.data, r->data, r->len) == 0;
}

static int
rehash(struct zone_rrlist *l)
{
	size_t ncap = l->hcap == 0 ? 64 : l->hcap * 2, i, j;
	size_t *nh;

	if ((nh = calloc(ncap, sizeof(*nh))) == NULL)
		return -1;
	for (i = 0; i < l->n; i++) {
		j = rr_hash(l->v[i].owner, &l->v[i].rec) & (ncap - 1);
		while (nh[j] != 0)
			j = (j + 1) & (ncap - 1);
		nh[j] = i + 1;
	}
	free(l->hash);
	l->hash = nh;
	l->hcap = ncap;
	return 0;
}

int
zone_rrlist_add(struct zone_rrlist *l, const char *owner, uint32_t ttl,
    int has_ttl, uint16_t rrclass, struct tlsa_rec *rec, const char *source)
{
	struct zone_rr *nv, *rr;
	size_t j;

	if ((l->n + 1) * 2 > l->hcap && rehash(l) == -1)
		return -1;
	j = rr_hash(owner, rec) & (l->hcap - 1);
	for (; l->hash[j] != 0; j = (j + 1) & (l->hcap - 1))
		if (rr_same(&l->v[l->hash[j] - 1], owner, rrclass, rec)) {
			tlsa_rec_clear(rec);
			return 0;
		}
	if (l->n == l->cap) {
		size_t ncap = l->cap == 0 ? 16 : l->cap * 2;

		if ((nv = reallocarray(l->v, ncap, sizeof(*nv))) == NULL)
			return -1;
		l->v = nv;
		l->cap = ncap;
	}
	rr = &l->v[l->n];
	memset(rr, 0, sizeof(*rr));
	if ((rr->owner = strdup(owner)) == NULL ||
	    (source != NULL && (rr->source = strdup(source)) == NULL)) {
		free(rr->owner);
		return -1;
	}
	rr->ttl = ttl;
	rr->has_ttl = has_ttl;
	rr->rrclass = rrclass;
	rr->rec = *rec;
	memset(rec, 0, sizeof(*rec));
	l->hash[j] = ++l->n;
	return 1;
}

void
zone_rrlist_free(struct zone_rrlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].owner);
		free(l->v[i].source);
		tlsa_rec_clear(&l->v[i].rec);
	}
	free(l->v);
	free(l->hash);
	memset(l, 0, sizeof(*l));
}

static size_t
str_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

int
zone_rrlist_group(const struct zone_rrlist *l, struct zone_groups *g)
{
	size_t *slot = NULL, *gid = NULL, *count = NULL, cap = 16, i, j, k;
	size_t *first = NULL;
	int rc = -1;

	memset(g, 0, sizeof(*g));
	while (cap < 2 * l->n + 2)
		cap *= 2;
	if ((g->slot = slot = calloc(cap, sizeof(*slot))) == NULL ||
	    (gid = calloc(l->n + 1, sizeof(*gid))) == NULL ||
	    (first = calloc(l->n + 1, sizeof(*first))) == NULL ||
	    (g->order = calloc(l->n + 1, sizeof(*g->order))) == NULL)
		goto out;
	/* slot[] holds 1 + the group id; first[k] a record of group k. */
	for (i = 0; i < l->n; i++) {
		j = str_hash(l->v[i].owner) & (cap - 1);
		while (slot[j] != 0 &&
		    strcmp(l->v[first[slot[j] - 1]].owner, l->v[i].owner) != 0)
			j = (j + 1) & (cap - 1);
		if (slot[j] == 0) {
			first[g->ngroups] = i;
			slot[j] = ++g->ngroups;
		}
		gid[i] = slot[j] - 1;
	}
	if ((g->start = calloc(g->ngroups + 1, sizeof(*g->start))) == NULL ||
	    (count = calloc(g->ngroups + 1, sizeof(*count))) == NULL)
		goto out;
	for (i = 0; i < l->n; i++)
		g->start[gid[i] + 1]++;
	for (k = 0; k < g->ngroups; k++)
		g->start[k + 1] += g->start[k];
	for (i = 0; i < l->n; i++)
		g->order[g->start[gid[i]] + count[gid[i]]++] = i;
	g->cap = cap;
	rc = 0;
out:
	free(gid);
	free(first);
	free(count);
	if (rc != 0)
		zone_groups_free(g);
	return rc;
}

size_t
zone_groups_find(const struct zone_rrlist *l, const struct zone_groups *g,
    const char *owner)
{
	size_t j;

	if (g->cap == 0)
		return (size_t)-1;
	for (j = str_hash(owner) & (g->cap - 1); g->slot[j] != 0;
	    j = (j + 1) & (g->cap - 1)) {
		size_t k = g->slot[j] - 1;

		if (strcmp(l->v[g->order[g->start[k]]].owner, owner) == 0)
			return k;
	}
	return (size_t)-1;
}

void
zone_groups_free(struct zone_groups *g)
{
	free(g->order);
	free(g->start);
	free(g->slot);
	memset(g, 0, sizeof(*g));
}
