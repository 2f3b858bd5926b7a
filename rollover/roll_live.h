/*
 * roll_live.h: what every MX address of a service serves, and whether it
 * DANE-validates against an RRset.  Network only; no private keys.
 */
#ifndef ROLL_LIVE_H
#define ROLL_LIVE_H

#include "roll_config.h"
#include "sbuf.h"
#include "zone_update.h"

/*
 * For every host x address x chain the server presents (one per key
 * type): fetch it with SNI = host and verify it with OpenSSL's DANE code
 * against recs.  A line per chain goes to report.  The records the
 * service would publish for every served chain are added to served (if
 * not NULL), so that nothing a live chain matches is retired.  Returns
 * the number of addresses or chains that failed (0: all validate), or
 * -1 when no address could be found at all.
 */
int roll_live_check(const struct roll_service *s, const struct zone_rrset *recs,
    struct zone_rrset *served, struct sbuf *report, char *err, size_t errlen);

/*
 * Probe the same addresses and add to matched the records of cand that
 * some served chain matches on its own (each record tested alone, with
 * OpenSSL's DANE code, for the host that serves the chain).  Returns
 * the number of addresses or chains that could not be seen in full (a
 * chain that matches none of cand is no failure here; but what an
 * address not seen would match is unknown), or -1 when no address
 * could be found at all.
 */
int roll_live_matching(const struct roll_service *s,
    const struct zone_rrset *cand, struct zone_rrset *matched,
    struct sbuf *report, char *err, size_t errlen);

#endif
