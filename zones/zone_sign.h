/*
 * zone_sign.h: DNSSEC-signed TLSA fragments, for zones that are signed
 * offline: RRSIGs made with the zone's own keys (BIND or ldns K*.private
 * files with their K*.key beside them), with a chosen validity and
 * jitter on the expiration, and a check against the zone file that every
 * owner already exists there with TLSA in its NSEC/NSEC3 type bitmap (a
 * fragment cannot fix the denial-of-existence chain).
 */
#ifndef ZONE_SIGN_H
#define ZONE_SIGN_H

#include <stdint.h>

#include "sbuf.h"
#include "zone_rr.h"

struct zone_sign_opts {
	const char	*zone;		/* absolute */
	const char	**keyfiles;	/* K*.private (or the .key beside) */
	int		 nkeys;
	const char	*zonefile;	/* NULL: no existence check */
	uint32_t	 inception;	/* absolute UNIX time */
	uint32_t	 expiration;	/* before jitter */
	uint32_t	 jitter;	/* expiration minus up to this */
	uint32_t	 ttl;		/* of the records and RRSIGs */
};

/*
 * Sign every RRset of recs and append the records with their RRSIGs to
 * out.  Returns 0 or -1 with a one-line reason naming the key file, zone
 * file or owner.
 */
int zone_sign_fragment(const struct zone_rrlist *recs,
    const struct zone_sign_opts *so, struct sbuf *out, char *err,
    size_t errlen);

/*
 * Parse a duration: N, Ns, Nm, Nh, Nd, Nw.  Returns 0 or -1.
 */
int zone_parse_duration(const char *s, uint32_t *out);

/*
 * Parse a time: UNIX seconds, or YYYYMMDDHHMMSS (UTC, as in RRSIG), or
 * "now", "now+DURATION", "now-DURATION".  Returns 0 or -1.
 */
int zone_parse_time(const char *s, uint32_t *out);

#endif
