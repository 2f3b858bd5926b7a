/*
 * zone_publish.h: publish or withdraw a list of TLSA records on a primary
 * server by RFC 2136, one atomic update for all owners, each RRset
 * guarded by a prerequisite on its exact current content.
 */
#ifndef ZONE_PUBLISH_H
#define ZONE_PUBLISH_H

#include "sbuf.h"
#include "zone_net.h"
#include "zone_rr.h"
#include "zone_update.h"

enum zone_publish_mode {
	ZONE_PUB_ADD,		/* add the records, keep the others */
	ZONE_PUB_REPLACE,	/* the RRset becomes exactly the records */
	ZONE_PUB_DELETE		/* remove the records, keep the others */
};

struct zone_publish_opts {
	int			 mode;
	const char		*zone;		/* NULL: ask the server */
	const struct zone_tsig	*key;
	struct zone_xfer_opts	 xfer;
	int			 dry_run;
	uint32_t		 ttl;		/* of added records */
	/*
	 * The RRsets the caller expects now (its owners' RRsets, empty
	 * ones included via expect_owners), or NULL to read them from the
	 * server first.
	 */
	const struct zone_rrlist *expect;
};

/*
 * Apply recs to srv.  A line per owner goes to report: what changed (or
 * would, with dry_run), or that it was already so.  Returns 0 when the
 * server confirmed (or nothing needed changing), -1 with a reason.
 * Changes go in as few messages as fit in 64 KiB each; every message is
 * applied by the server all or nothing, and a failure names the owners
 * that earlier messages had already changed (none, in the usual case of
 * a single message).
 */
int zone_publish(const struct zone_server *srv, const struct zone_rrlist *recs,
    const struct zone_publish_opts *po, struct sbuf *report, char *err,
    size_t errlen);

/* Reads an owner's RRset into out (cleared first): 0, or -1 with a reason. */
typedef int (*zone_reader)(void *arg, const char *owner,
    struct zone_rrset *out, char *err, size_t errlen);

/*
 * Read owner's RRset back with read until it equals want (a server that
 * signs inline, or an API in front of a database, may serve a change a
 * moment after it confirmed it): at most tries reads, gap_ms apart.
 * 1 equal, 0 not (now holds the last read), -1 with the reader's reason.
 */
int zone_read_back(zone_reader read, void *arg, const char *owner,
    const struct zone_rrset *want, int tries, long gap_ms,
    struct zone_rrset *now, char *err, size_t errlen);

#endif
