/*
 * chk_live.h: what every MX address of a service serves, and whether it
 * DANE-validates against an RRset (the rollover's VERIFY and RETIRE
 * steps), probed in a child process that has dropped root.  Network
 * only; no private keys.
 */
#ifndef CHK_LIVE_H
#define CHK_LIVE_H

#include <stddef.h>

#include <openssl/x509.h>

#include "sbuf.h"
#include "zone_update.h"

/* A host to probe, and where (all borrowed). */
struct chk_live_host {
	const char	*name;		/* MX host name, no final dot */
	char * const	*fixed;		/* addresses to use instead of A and */
	size_t		 nfixed;	/* AAAA (split horizons); NULL, 0: DNS */
};

/* What to probe (all borrowed; read in the child). */
struct chk_live {
	const char		*name;		/* the service, in messages */
	const struct chk_live_host *hosts;
	size_t			 nhosts;
	unsigned		 port;
	const char		*resolver;	/* "ADDR[@PORT]"; NULL: */
						/* resolv.conf's first server */
	/*
	 * Add to out the records the service would publish for a served
	 * chain (leaf first).  0, or -1 with err.  Called in the child,
	 * without root; needed only when chk_live_check is given served.
	 */
	int	(*records)(const void *arg, STACK_OF(X509) *chain,
		    struct zone_rrset *out, char *err, size_t errlen);
	const void		*arg;
};

/*
 * For every host x address x chain the server presents (one per key
 * type): fetch it with SNI = host and verify it with OpenSSL's DANE code
 * against recs.  A line per chain goes to report.  The records l would
 * publish for every served chain (l->records) are added to served (if
 * not NULL), so that nothing a live chain matches is retired.  Returns
 * the number of addresses or chains that failed (0: all validate), or
 * -1 when no address could be found at all.
 */
int chk_live_check(const struct chk_live *l, const struct zone_rrset *recs,
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
int chk_live_matching(const struct chk_live *l,
    const struct zone_rrset *cand, struct zone_rrset *matched,
    struct sbuf *report, char *err, size_t errlen);

#endif
