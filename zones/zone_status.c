/*
 * zone_status.c: the visibility report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "zone_status.h"

static const char *
vis_name(int st)
{
	switch (st) {
	case ZONE_VIS_MATCH: return "match";
	case ZONE_VIS_DIFFERS: return "DIFFERS";
	case ZONE_VIS_NOT_AUTH: return "NOT AUTHORITATIVE";
	default: return "ERROR";
	}
}

static void
report_set(struct sbuf *out, const struct zone_rrset *s)
{
	char *d = zone_rrset_describe(s);

	sbuf_printf(out, "%s", d != NULL ? d : "?");
	free(d);
}

int
zone_status(const struct zone_status_opts *so, const char *owner,
    const struct zone_rrset *expect, struct sbuf *out, char *err,
    size_t errlen)
{
	struct zone_vis *v = NULL;
	struct zone_rrset got;
	const struct zone_rrset *want = expect;
	char *zone = NULL, why[ERRBUF_LEN];
	size_t n = 0, i, bad;
	int sec, rc = -1, problems = 0;

	memset(&got, 0, sizeof(got));
	if (so->zone != NULL)
		zone = strdup(so->zone);
	else if (so->resolver != NULL)
		zone = zone_find_apex(so->resolver, owner, 1, NULL, &so->xfer,
		    err, errlen);
	else if (so->primary != NULL)
		zone = zone_find_apex(so->primary, owner, 0, NULL, &so->xfer,
		    err, errlen);
	else
		errfmt(err, errlen, "no zone: give -z, --resolver or "
		    "--primary");
	if (zone == NULL)
		goto out;
	if (so->servers != NULL) {
		if ((v = calloc(so->nservers + 1, sizeof(*v))) == NULL)
			goto nomem;
		for (i = 0; i < so->nservers; i++) {
			v[i].srv = so->servers[i];
			v[i].role = "server";
		}
		n = so->nservers;
	} else if (so->resolver != NULL) {
		if (zone_ns_servers(so->resolver, zone, 53, &so->xfer, &v, &n,
		    err, errlen) == -1)
			goto out;
	} else if (so->primary == NULL) {
		errfmt(err, errlen, "no servers to ask: give --ns, --resolver "
		    "or --primary");
		goto out;
	}
	if (so->primary != NULL) {
		struct zone_vis *nv;

		if ((nv = reallocarray(v, n + 1, sizeof(*nv))) == NULL)
			goto nomem;
		v = nv;
		memset(&v[n], 0, sizeof(v[n]));
		v[n].srv = *so->primary;
		v[n].role = "primary";
		n++;
	}
	sbuf_printf(out, "%s (zone %s)", owner, zone);
	if (want != NULL) {
		sbuf_printf(out, ", expecting: ");
		report_set(out, want);
	}
	sbuf_printf(out, "\n");
	bad = zone_visibility(v, n, zone, owner, want, &so->xfer);
	if (want == NULL) {
		for (i = 0; i < n; i++)
			if (v[i].state == ZONE_VIS_MATCH) {
				want = &v[i].rrset;
				break;
			}
	}
	for (i = 0; i < n; i++) {
		sbuf_printf(out, "  %s %s%s%s: %s", v[i].role, v[i].srv.name,
		    v[i].nsname[0] ? " " : "", v[i].nsname,
		    vis_name(v[i].state));
		if (v[i].state == ZONE_VIS_MATCH ||
		    v[i].state == ZONE_VIS_DIFFERS) {
			sbuf_printf(out, ", AA");
			if (v[i].has_serial)
				sbuf_printf(out, ", serial %u", v[i].serial);
			if (v[i].rrset.n > 0)
				sbuf_printf(out, ", TTL %u", v[i].ttl);
			else if (v[i].has_serial)
				sbuf_printf(out, ", negative TTL %u",
				    v[i].neg_ttl);
			sbuf_printf(out, ": ");
			report_set(out, &v[i].rrset);
		} else
			sbuf_printf(out, ": %s", v[i].error);
		sbuf_printf(out, "\n");
	}
	problems += bad > 0;
	if (so->resolver != NULL) {
		why[0] = '\0';
		sec = zone_resolve_validated(so->resolver, owner, &so->xfer,
		    &got, why, sizeof(why));
		sbuf_printf(out, "  resolver %s: %s", so->resolver->name,
		    zone_sec_name(sec));
		if (sec == ZONE_SEC_SECURE || sec == ZONE_SEC_INSECURE) {
			int same = want != NULL && zone_rrset_equal(&got, want);

			sbuf_printf(out, ", %s: ", same ? "match" : "DIFFERS");
			report_set(out, &got);
			problems += !same;
		}
		if (sec != ZONE_SEC_SECURE) {
			sbuf_printf(out, " (%s)", why);
			problems++;
		}
		sbuf_printf(out, "\n");
		zone_rrset_free(&got);
	}
	if (so->trust_anchor != NULL) {
		const struct zone_server *via = so->resolver != NULL ?
		    so->resolver : n > 0 ? &v[0].srv : NULL;

		if (via == NULL) {
			errfmt(err, errlen, "local validation needs a server "
			    "to fetch through (--resolver or --ns)");
			rc = -1;
			goto out;
		}
		why[0] = '\0';
		sec = zone_validate_local(via, so->trust_anchor, owner,
		    &so->xfer, &got, why, sizeof(why));
		sbuf_printf(out, "  local validation (%s, via %s): %s",
		    so->trust_anchor, via->name, zone_sec_name(sec));
		if (sec == ZONE_SEC_SECURE) {
			int same = want != NULL && zone_rrset_equal(&got, want);

			sbuf_printf(out, ", %s: ", same ? "match" : "DIFFERS");
			report_set(out, &got);
			problems += !same;
		} else {
			sbuf_printf(out, " (%s)", why);
			problems++;
		}
		sbuf_printf(out, "\n");
		zone_rrset_free(&got);
	}
	rc = problems > 0;
	goto out;
nomem:
	errfmt(err, errlen, "out of memory");
out:
	zone_vis_free(v, n);
	free(zone);
	return rc;
}
