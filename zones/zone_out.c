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

/* Records (with prerequisites and deletes) per nsupdate message. */
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

/* $INCLUDE-able lines, grouped by owner, relative to the zone. */
static int
render_fragment(const struct zone_rrlist *l, const struct zone_out_opts *o,
    struct sbuf *out, char *err, size_t errlen)
{
	struct zone_groups g;
	size_t k, i;
	char *rel;

	if (zone_rrlist_group(l, &g) == -1) {
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
	for (k = 0; k < g.ngroups; k++) {
		const char *owner = l->v[g.order[g.start[k]]].owner;

		rel = o->zone != NULL ? zone_relative(owner, o->zone) :
		    strdup(owner);
		if (rel == NULL) {
			errfmt(err, errlen, "%s is not in zone %s", owner,
			    o->zone);
			zone_groups_free(&g);
			return -1;
		}
		for (i = g.start[k]; i < g.start[k + 1]; i++) {
			const struct zone_rr *rr = &l->v[g.order[i]];

			sbuf_printf(out, "%s %s TLSA ", rel,
			    class_name(rr->rrclass));
			if (rr_rdata(out, rr) == -1) {
				free(rel);
				zone_groups_free(&g);
				errfmt(err, errlen, "out of memory");
				return -1;
			}
			sbuf_add(out, "\n", 1);
		}
		free(rel);
	}
	zone_groups_free(&g);
	return 0;
}

/*
 * An nsupdate script, in messages ("send") of at most about
 * ZONE_NSUPDATE_BATCH records so that each stays well under 64 KiB; each
 * owner's prerequisites (from o->expect: its exact RRset, value
 * dependent, or nxrrset when it expects none), delete and adds go in the
 * same message, so each owner's change stays atomic.
 */
static int
render_nsupdate(const struct zone_rrlist *l, const struct zone_out_opts *o,
    struct sbuf *out)
{
	struct zone_groups g, eg = { 0 };
	size_t k, i, inmsg = 0, need;
	int rc = -1, any;

	if (zone_rrlist_group(l, &g) == -1)
		return -1;
	if (o->has_expect && o->expect != NULL &&
	    zone_rrlist_group(o->expect, &eg) == -1)
		goto out;
	if (o->server != NULL) {
		if (o->server_port != 0)
			sbuf_printf(out, "server %s %u\n", o->server,
			    o->server_port);
		else
			sbuf_printf(out, "server %s\n", o->server);
	}
	if (o->zone != NULL)
		sbuf_printf(out, "zone %s\n", o->zone);
	for (k = 0; k < g.ngroups; k++) {
		const struct zone_rr *rr0 = &l->v[g.order[g.start[k]]];
		size_t eg_k = eg.ngroups;

		if (o->has_expect && o->expect != NULL &&
		    (eg_k = zone_groups_find(o->expect, &eg, rr0->owner)) ==
		    (size_t)-1)
			eg_k = eg.ngroups;
		/* Lines this owner adds: adds, delete, prerequisites. */
		need = (g.start[k + 1] - g.start[k]) + (o->replace ? 1 : 0) +
		    (!o->has_expect ? 0 : eg_k < eg.ngroups ?
		    eg.start[eg_k + 1] - eg.start[eg_k] : 1);
		if (inmsg > 0 && inmsg + need > ZONE_NSUPDATE_BATCH) {
			sbuf_add(out, "send\n", 5);
			inmsg = 0;
		}
		inmsg += need;
		if (o->has_expect) {
			any = 0;
			for (i = eg_k < eg.ngroups ? eg.start[eg_k] : 0;
			    eg_k < eg.ngroups && i < eg.start[eg_k + 1]; i++) {
				const struct zone_rr *x =
				    &o->expect->v[eg.order[i]];

				sbuf_printf(out, "prereq yxrrset %s %s TLSA ",
				    x->owner, class_name(x->rrclass));
				if (rr_rdata(out, x) == -1)
					goto out;
				sbuf_add(out, "\n", 1);
				any = 1;
			}
			if (!any)
				sbuf_printf(out, "prereq nxrrset %s %s TLSA\n",
				    rr0->owner, class_name(rr0->rrclass));
		}
		if (o->replace)
			sbuf_printf(out, "update delete %s %s TLSA\n",
			    rr0->owner, class_name(rr0->rrclass));
		for (i = g.start[k]; i < g.start[k + 1]; i++) {
			sbuf_add(out, "update add ", 11);
			rr_head(out, &l->v[g.order[i]], 1, o->default_ttl);
			sbuf_add(out, "TLSA ", 5);
			if (rr_rdata(out, &l->v[g.order[i]]) == -1)
				goto out;
			sbuf_add(out, "\n", 1);
		}
	}
	sbuf_add(out, "send\n", 5);
	rc = 0;
out:
	zone_groups_free(&g);
	zone_groups_free(&eg);
	return rc;
}

int
zone_out_render(const struct zone_rrlist *l, const struct zone_out_opts *o,
    struct sbuf *out, char *err, size_t errlen)
{
	const struct zone_rr *rr;
	size_t i;

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
		if (render_nsupdate(l, o, out) == -1)
			goto nomem;
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
