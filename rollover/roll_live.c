/*
 * roll_live.c: the live check of a configured service (check/chk_live.c)
 * for the VERIFY and RETIRE steps: its hosts, port, resolver and
 * addresses: overrides, and the records its TLSA specs give a chain.
 */
#include <stdlib.h>

#include "chk_live.h"
#include "log.h"
#include "roll_live.h"
#include "roll_store.h"

static int
records(const void *arg, STACK_OF(X509) *chain, struct zone_rrset *out,
    char *err, size_t errlen)
{
	return roll_records_chain(arg, chain, out, err, errlen);
}

static int
live(const struct roll_service *s, const struct zone_rrset *recs,
    int match_each, struct zone_rrset *out, struct sbuf *report,
    char *err, size_t errlen)
{
	struct chk_live l = { 0 };
	struct chk_live_host *h;
	size_t i;
	int rc;

	if ((h = calloc(s->nhosts + 1, sizeof(*h))) == NULL) {
		errfmt(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < s->nhosts; i++) {
		h[i].name = s->hosts[i];
		h[i].fixed = roll_service_addrs(s, s->hosts[i], &h[i].nfixed);
	}
	l.name = s->name;
	l.hosts = h;
	l.nhosts = s->nhosts;
	l.port = s->port;
	l.resolver = s->dns.resolver;
	l.records = records;
	l.arg = s;
	if (match_each)
		rc = chk_live_matching(&l, recs, out, report, err, errlen);
	else
		rc = chk_live_check(&l, recs, out, report, err, errlen);
	free(h);
	return rc;
}

int
roll_live_check(const struct roll_service *s, const struct zone_rrset *recs,
    struct zone_rrset *served, struct sbuf *report, char *err, size_t errlen)
{
	return live(s, recs, 0, served, report, err, errlen);
}

int
roll_live_matching(const struct roll_service *s,
    const struct zone_rrset *cand, struct zone_rrset *matched,
    struct sbuf *report, char *err, size_t errlen)
{
	return live(s, cand, 1, matched, report, err, errlen);
}
