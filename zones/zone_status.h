/*
 * zone_status.h: one report on a TLSA RRset as the world sees it: every
 * authoritative server (the NS set, or a given list, plus a hidden
 * primary), the validating resolver, and local validation.
 */
#ifndef ZONE_STATUS_H
#define ZONE_STATUS_H

#include "sbuf.h"
#include "zone_check.h"

struct zone_status_opts {
	const char		*zone;		/* NULL: ask the resolver */
	const struct zone_server *resolver;	/* NULL: none */
	const struct zone_server *servers;	/* NULL: the NS set */
	size_t			 nservers;
	const struct zone_server *primary;	/* hidden primary, or NULL */
	const char		*trust_anchor;	/* NULL: no local validation */
	struct zone_xfer_opts	 xfer;
};

/*
 * Check owner against expect (NULL: all answers must agree).  Appends a
 * readable report to out.  Returns 0 when every server serves the
 * expected RRset with AA and every validation says secure with the same
 * records, 1 when anything differs, -1 with err when the check could not
 * be made (no resolver to find the zone or NS set, bad trust anchor).
 */
int zone_status(const struct zone_status_opts *so, const char *owner,
    const struct zone_rrset *expect, struct sbuf *out, char *err,
    size_t errlen);

#endif
