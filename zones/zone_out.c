/*
 * zone_out.c: rendering TLSA RR lists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <ldns/ldns.h>

#include "log.h"
#include "zone_out.h"

/* Records per nsupdate message when no prerequisite ties them together. */
#define ZONE_NSUPDATE_BATCH 400

int
zone_format_parse(const char *s)
{
	if (strcmp(s, "zone") == 0)
		return ZONE_FMT_ZONE;
	if (strcmp(s, "generic") == 0)
		return ZONE_FMT_GENERIC;
	if (strcmp(s, "json") == 0)
		return ZONE_FMT_JSON;
	if (strcmp(s, "nsupdate") == 0)
		return ZONE_FMT_NSUPDATE;
	if (strcmp(s, "fragment") == 0)
		return ZONE_FMT_FRAGMENT;
	if (strcmp(s, "signed") == 0)
		return ZONE_FMT_SIGNED;
	return -1;
}

static const char *
class_name(uint16_t c)
{
	static char buf[16];
	ldns_lookup_table *t;

	t = ldns_lookup_by_id(ldns_rr_classes, c);
	if (t != NULL)
		return t->name;
	snprintf(buf, sizeof(buf), "CLASS%u", c);
	return buf;
}

/* "OWNER [TTL] CLASS " */
static void
rr_head(struct sbuf *out, const struct zone_rr *rr, int force_ttl,
    uint32_t default_ttl)
{
	if (rr->has_ttl || force_ttl)
		sbuf_printf(out, "%s %u %s ", rr->owner,
		    rr->has_ttl ? rr->ttl : default_ttl,
		    class_name(rr->rrclass));
	else
		sbuf_printf(out, "%s %s ", rr->owner, class_name(rr->rrclass));
}

static int
rr_rdata(struct sbuf *out, const struct zone_rr *rr)
{
	char *hex;

	if ((hex = tlsa_hex(rr->rec.data, rr->rec.len)) == NULL)
		return -1;
	sbuf_printf(out, "%u %u %u %s", rr->rec.spec.usage,
	    rr->rec.spec.selector, rr->rec.spec.mtype, hex);
	free(hex);
	return 0;
}

static int
render_json(const struct zone_rrlist *l, const struct zone_out_opts *o,
    struct sbuf *out)
{
	json_t *root, *arr, *obj;
	char *hex, *text;
	size_t i;
	int rc = -1;

	(void)o;
	if ((root = json_object()) == NULL || (arr = json_array()) == NULL ||
	    json_object_set_new(root, "records", arr) == -1)
		goto out;
	for (i = 0; i < l->n; i++) {
		const struct zone_rr *rr = &l->v[i];

		if ((hex = tlsa_hex(rr->rec.data, rr->rec.len)) == NULL)
			goto out;
		obj = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:s}",
		    "owner", rr->owner, "class", class_name(rr->rrclass),
		    "type", "TLSA", "usage", rr->rec.spec.usage,
		    "selector", rr->rec.spec.selector,
		    "matching_type", rr->rec.spec.mtype, "data", hex);
		free(hex);
		if (obj == NULL)
			goto out;
		if (rr->has_ttl)
			json_object_set_new(obj, "ttl",
			    json_integer(rr->ttl));
		if (rr->source != NULL)
			json_object_set_new(obj, "source",
			    json_string(rr->source));
		if (json_array_append_new(arr, obj) == -1)
			goto out;
	}
	if ((text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER))
	    == NULL)
		goto out;
	sbuf_add(out, text, strlen(text));
	sbuf_add(out, "\n", 1);
	free(text);
	rc = 0;
out:
	json_decref(root);
	return rc;
}

char *
zone_relative(const char *owner, const char *zone)
{
	size_t ol = strlen(owner), zl = strlen(zone);
	char *r;

	if (strcmp(zone, ".") == 0)
		return strndup(owner, ol > 1 ? ol - 1 : ol);
	if (strcasecmp(owner, zone) == 0)
		return strdup("@");
	if (ol <= zl + 1 || owner[ol - zl - 1] != '.' ||
	    strcasecmp(owner + ol - zl, zone) != 0)
		return NULL;
	if ((r = strndup(owner, ol - zl - 1)) == NULL)
		return NULL;
	return r;
}

/* Owners of l in first-seen order, each once: indexes into l->v. */
static size_t *
owner_order(const struct zone_rrlist *l, size_t *nowners)
{
	size_t *first, i, j, n = 0;

	*nowners = 0;
	if ((first = calloc(l->n + 1, sizeof(*first))) == NULL)
		return NULL;
	for (i = 0; i < l->n; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(l->v[first[j]].owner, l->v[i].owner) == 0)
				break;
		if (j == n)
			first[n++] = i;
	}
	*nowners = n;
	return first;
}

/* $INCLUDE-able lines, grouped by owner, relative to the zone. */
static int
render_fragment(const struct zone_rrlist *l, const struct zone_out_opts *o,
    struct sbuf *out, char *err, size_t errlen)
{
	size_t *first, nown, k, i;
	char *rel;

	if ((first = owner_order(l, &nown)) == NULL) {
		errfmt(err, errlen, "out of memory");
		return -1;
	}
	sbuf_printf(out, "; TLSA records made by tlsagen%s%s\n",
	    o->zone != NULL ? " for zone " : "", o->zone != NULL ? o->zone :
	    "");
	if (o->zone != NULL)
		sbuf_printf(out, "$ORIGIN %s\n", o->zone);
	if (l->n > 0 && l->v[0].has_ttl)
		sbuf_printf(out, "$TTL %u\n", l->v[0].ttl);
	for (k = 0; k < nown; k++) {
		const char *owner = l->v[first[k]].owner;

		rel = o->zone != NULL ? zone_relative(owner, o->zone) :
		    strdup(owner);
		if (rel == NULL) {
			errfmt(err, errlen, "%s is not in zone %s", owner,
			    o->zone);
			free(first);
			return -1;
		}
		for (i = first[k]; i < l->n; i++) {
			if (strcmp(l->v[i].owner, owner) != 0)
				continue;
			sbuf_printf(out, "%s %s TLSA ", rel,
			    class_name(l->v[i].rrclass));
			if (rr_rdata(out, &l->v[i]) == -1) {
				free(rel);
				free(first);
				errfmt(err, errlen, "out of memory");
				return -1;
			}
			sbuf_add(out, "\n", 1);
		}
		free(rel);
	}
	free(first);
	return 0;
}

/*
 * nsupdate prerequisites: for every owner in l, the exact RRset in
 * o->expect (value-dependent yxrrset per record), or nxrrset when it
 * expects none there.
 */
static int
render_prereqs(const struct zone_rrlist *l, const struct zone_out_opts *o,
    struct sbuf *out)
{
	size_t *first, nown, k, i;
	int any;

	if ((first = owner_order(l, &nown)) == NULL)
		return -1;
	for (k = 0; k < nown; k++) {
		const struct zone_rr *rr0 = &l->v[first[k]];

		any = 0;
		for (i = 0; o->expect != NULL && i < o->expect->n; i++) {
			const struct zone_rr *e = &o->expect->v[i];

			if (strcmp(e->owner, rr0->owner) != 0)
				continue;
			sbuf_printf(out, "prereq yxrrset %s %s TLSA ",
			    e->owner, class_name(e->rrclass));
			if (rr_rdata(out, e) == -1) {
				free(first);
				return -1;
			}
			sbuf_add(out, "\n", 1);
			any = 1;
		}
		if (!any)
			sbuf_printf(out, "prereq nxrrset %s %s TLSA\n",
			    rr0->owner, class_name(rr0->rrclass));
	}
	free(first);
	return 0;
}

int
zone_out_render(const struct zone_rrlist *l, const struct zone_out_opts *o,
    struct sbuf *out, char *err, size_t errlen)
{
	const struct zone_rr *rr;
	size_t i, j;

	switch (o->format) {
	case ZONE_FMT_JSON:
		if (render_json(l, o, out) == -1)
			goto nomem;
		break;
	case ZONE_FMT_ZONE:
		for (i = 0; i < l->n; i++) {
			rr = &l->v[i];
			rr_head(out, rr, 0, 0);
			sbuf_add(out, "TLSA ", 5);
			if (rr_rdata(out, rr) == -1)
				goto nomem;
			sbuf_add(out, "\n", 1);
		}
		break;
	case ZONE_FMT_GENERIC:
		/* RFC 3597 section 5: TYPE52 and \# rdata. */
		for (i = 0; i < l->n; i++) {
			char *hex;

			rr = &l->v[i];
			rr_head(out, rr, 0, 0);
			if ((hex = tlsa_hex(rr->rec.data, rr->rec.len)) ==
			    NULL)
				goto nomem;
			sbuf_printf(out, "TYPE52 \\# %zu %02x%02x%02x%s\n",
			    rr->rec.len + 3, rr->rec.spec.usage,
			    rr->rec.spec.selector, rr->rec.spec.mtype, hex);
			free(hex);
		}
		break;
	case ZONE_FMT_FRAGMENT:
		if (render_fragment(l, o, out, err, errlen) == -1)
			return -1;
		break;
	case ZONE_FMT_NSUPDATE:
		if (o->server != NULL) {
			if (o->server_port != 0)
				sbuf_printf(out, "server %s %u\n", o->server,
				    o->server_port);
			else
				sbuf_printf(out, "server %s\n", o->server);
		}
		if (o->zone != NULL)
			sbuf_printf(out, "zone %s\n", o->zone);
		if (o->has_expect && render_prereqs(l, o, out) == -1)
			goto nomem;
		if (o->replace) {
			/* Once per owner, before any add for it. */
			for (i = 0; i < l->n; i++) {
				for (j = 0; j < i; j++)
					if (strcmp(l->v[j].owner,
					    l->v[i].owner) == 0)
						break;
				if (j == i)
					sbuf_printf(out, "update delete %s "
					    "%s TLSA\n", l->v[i].owner,
					    class_name(l->v[i].rrclass));
			}
		}
		for (i = 0; i < l->n; i++) {
			/* Keep each message well under 64 KiB. */
			if (i > 0 && i % ZONE_NSUPDATE_BATCH == 0 &&
			    !o->has_expect && !o->replace)
				sbuf_add(out, "send\n", 5);
			sbuf_add(out, "update add ", 11);
			rr_head(out, &l->v[i], 1, o->default_ttl);
			sbuf_add(out, "TLSA ", 5);
			if (rr_rdata(out, &l->v[i]) == -1)
				goto nomem;
			sbuf_add(out, "\n", 1);
		}
		sbuf_add(out, "send\n", 5);
		break;
	default:
		errfmt(err, errlen, "unknown output format");
		return -1;
	}
	if (out->failed)
		goto nomem;
	return 0;
nomem:
	errfmt(err, errlen, "out of memory");
	return -1;
}
