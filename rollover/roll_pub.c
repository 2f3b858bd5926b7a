/*
 * roll_pub.c: the publisher interface (roll_pub.h): picks the backend
 * and, for the backends that change one owner at a time (exec,
 * pdns-api), runs the compare, the replace and the read-back per owner.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "roll_pub.h"
#include "zone_publish.h"

int
roll_pub_is_rfc2136(const struct roll_service *s)
{
	return s->dns.backend == NULL ||
	    strcmp(s->dns.backend, ROLL_BACKEND_RFC2136) == 0;
}

const char *
roll_pub_where(const struct roll_service *s, char *buf, size_t len)
{
	if (roll_pub_is_rfc2136(s))
		snprintf(buf, len, "the primary %s", s->dns.primary != NULL ?
		    s->dns.primary : "?");
	else if (strcmp(s->dns.backend, ROLL_BACKEND_EXEC) == 0)
		snprintf(buf, len, "the program %s", s->dns.nexec > 0 ?
		    s->dns.exec[0] : "?");
	else
		snprintf(buf, len, "the PowerDNS API %s", s->dns.api_url !=
		    NULL ? s->dns.api_url : "?");
	return buf;
}

int
roll_pub_open(const struct roll_service *s, struct roll_pub *p, char *err,
    size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->s = s;
	if (roll_pub_is_rfc2136(s))
		p->ops = &roll_pub_rfc2136_ops;
	else if (strcmp(s->dns.backend, ROLL_BACKEND_EXEC) == 0)
		p->ops = &roll_pub_exec_ops;
	else if (strcmp(s->dns.backend, ROLL_BACKEND_PDNS) == 0)
		p->ops = &roll_pub_pdns_ops;
	else {
		errfmt(err, errlen, "service %s: unknown dns.backend %s",
		    s->name, s->dns.backend);
		return -1;
	}
	if (p->ops->open(p, err, errlen) == -1) {
		p->ops = NULL;
		return -1;
	}
	return 0;
}

int
roll_pub_read(struct roll_pub *p, const char *owner, struct zone_rrset *out,
    char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	return p->ops->read(p, owner, out, err, errlen);
}

void
roll_pub_close(struct roll_pub *p)
{
	if (p->ops != NULL)
		p->ops->close(p);
	p->ops = NULL;
	p->impl = NULL;
}

int
roll_pub_group_set(const struct zone_rrlist *l, const struct zone_groups *g,
    size_t k, struct zone_rrset *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	if (k == (size_t)-1)
		return 0;
	for (i = g->start[k]; i < g->start[k + 1]; i++)
		if (zone_rrset_push_copy(s, &l->v[g->order[i]].rec) == -1)
			return -1;
	return 0;
}

static int
roll_pub_in_zone(const char *owner, const char *zone)
{
	size_t ol = strlen(owner), zl = strlen(zone);

	if (strcmp(zone, ".") == 0)
		return 1;
	return ol > zl && strcasecmp(owner + ol - zl, zone) == 0 &&
	    owner[ol - zl - 1] == '.';
}

const char *
roll_pub_group(const struct zone_rrlist *want, const struct zone_groups *g,
    size_t k, const char *zone, struct zone_rrset *w, char *err,
    size_t errlen)
{
	const char *owner = want->v[g->order[g->start[k]]].owner;

	if (zone != NULL && !roll_pub_in_zone(owner, zone)) {
		errfmt(err, errlen, "%s is not in zone %s", owner, zone);
		return NULL;
	}
	if (roll_pub_group_set(want, g, k, w) == -1) {
		errfmt(err, errlen, "out of memory");
		return NULL;
	}
	return owner;
}

/* Reads of a replaced RRset before it must be what we wrote. */
#define PUB_READBACK_TRIES	5
#define PUB_READBACK_GAP_MS	200

static int
read_pub(void *arg, const char *owner, struct zone_rrset *out, char *err,
    size_t errlen)
{
	return roll_pub_read(arg, owner, out, err, errlen);
}

/* Read owner back until it holds want: 1 yes, 0 no (*now), -1 error. */
static int
read_back(struct roll_pub *p, const char *owner,
    const struct zone_rrset *want, struct zone_rrset *now, char *err,
    size_t errlen)
{
	return zone_read_back(read_pub, p, owner, want, PUB_READBACK_TRIES,
	    PUB_READBACK_GAP_MS, now, err, errlen);
}

/* Add " (owners A .. B were changed before)" to err. */
static void
changed_before(char *err, size_t errlen, const char *first,
    const char *last, size_t n)
{
	size_t used = strlen(err);

	if (n == 0)
		return;
	snprintf(err + used, errlen - used, " (%s%s%s %s changed before)",
	    first, n > 1 ? " .. " : "", n > 1 ? last : "", n > 1 ? "were" :
	    "was");
}

int
roll_pub_replace(struct roll_pub *p, const struct zone_rrlist *want,
    const struct zone_rrlist *expect, int dry_run, struct sbuf *report,
    char *err, size_t errlen)
{
	struct zone_groups g = { 0 }, eg = { 0 };
	struct zone_rrset w = { 0 }, cur = { 0 }, now = { 0 };
	const char *owner, *zone = p->s->dns.zone, *first = NULL, *last = NULL;
	char *d1 = NULL, *d2 = NULL;
	size_t k, nchanged = 0;
	int rc = -1, r;

	if (p->ops->publish != NULL)
		return p->ops->publish(p, want, expect, dry_run, report, err,
		    errlen);
	if (zone_rrlist_group(want, &g) == -1 ||
	    (expect != NULL && zone_rrlist_group(expect, &eg) == -1))
		goto nomem;
	for (k = 0; k < g.ngroups; k++) {
		zone_rrset_free(&w);
		zone_rrset_free(&cur);
		zone_rrset_free(&now);
		if ((owner = roll_pub_group(want, &g, k, zone, &w, err,
		    errlen)) == NULL)
			goto out;
		w.ttl = p->s->dns.ttl;
		if (expect != NULL) {
			if (roll_pub_group_set(expect, &eg, zone_groups_find(expect,
			    &eg, owner), &cur) == -1)
				goto nomem;
		} else if (roll_pub_read(p, owner, &cur, err, errlen) == -1)
			goto out;
		if (zone_rrset_equal(&cur, &w)) {
			sbuf_printf(report, "%s: unchanged (published "
			    "already)\n", owner);
			continue;
		}
		d1 = zone_rrset_describe(&cur);
		if (dry_run) {
			sbuf_printf(report, "%s: would be replaced (was: %s) "
			    "through %s\n", owner, d1 != NULL ? d1 : "?",
			    p->name);
			free(d1);
			d1 = NULL;
			continue;
		}
		r = p->ops->replace(p, owner, &cur, &w, &now, err, errlen);
		if (r == -1) {
			changed_before(err, errlen, first, last, nchanged);
			goto out;
		}
		if (r == 1) {
			/*
			 * It holds something else.  Exactly what we want: an
			 * earlier run wrote it and was stopped before it could
			 * record it; nothing to do.  Else someone else changed
			 * it: never overwrite that.
			 */
			if (zone_rrset_equal(&now, &w)) {
				sbuf_printf(report, "%s: unchanged (holds the "
				    "new RRset already)\n", owner);
				free(d1);
				d1 = NULL;
				continue;
			}
			d2 = zone_rrset_describe(&now);
			errfmt(err, errlen, "%s: %s: refused to replace the "
			    "RRset: it holds %s, not the expected %s (changed "
			    "by someone else?)", p->name, owner, d2 != NULL &&
			    *d2 ? d2 : "no records", d1 != NULL && *d1 ? d1 :
			    "no records");
			changed_before(err, errlen, first, last, nchanged);
			goto out;
		}
		if (first == NULL)
			first = owner;
		last = owner;
		nchanged++;
		zone_rrset_free(&now);
		if ((r = read_back(p, owner, &w, &now, err, errlen)) != 1) {
			if (r == 0) {
				d2 = zone_rrset_describe(&now);
				errfmt(err, errlen, "%s: %s: the replace was "
				    "confirmed but a read back gives %s",
				    p->name, owner, d2 != NULL && *d2 ? d2 :
				    "no records");
			} else {
				size_t used = strlen(err);

				snprintf(err + used, errlen - used, " (reading "
				    "the RRset back after the replace)");
			}
			goto out;
		}
		sbuf_printf(report, "%s: replaced: %zu record(s) (was: %s) "
		    "through %s, zone %s\n", owner, w.n, d1 != NULL ? d1 :
		    "?", p->name, zone != NULL ? zone : "?");
		free(d1);
		d1 = NULL;
	}
	rc = 0;
	goto out;
nomem:
	errfmt(err, errlen, "out of memory");
out:
	free(d1);
	free(d2);
	zone_rrset_free(&w);
	zone_rrset_free(&cur);
	zone_rrset_free(&now);
	zone_groups_free(&g);
	zone_groups_free(&eg);
	return rc;
}
