/*
 * zone_out.c: rendering TLSA RR lists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <ldns/ldns.h>

#include "log.h"
#include "zone_out.h"

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
