/*
 * zone_update.h: change one TLSA RRset by RFC 2136 dynamic update, always
 * with a prerequisite on the exact RRset the caller expects (compare and
 * swap), so that two writers cannot silently overwrite each other.
 */
#ifndef ZONE_UPDATE_H
#define ZONE_UPDATE_H

#include "zone_net.h"
#include "zone_rr.h"

/* A TLSA RRset as plain data (no owner: the caller knows it). */
struct zone_rrset {
	struct tlsa_rec	*v;
	size_t		 n;
	uint32_t	 ttl;
};

void zone_rrset_free(struct zone_rrset *s);

/* Are a and b the same set of records (order ignored)? */
int zone_rrset_equal(const struct zone_rrset *a, const struct zone_rrset *b);

/* Append a copy of r to s.  0, or -1 (memory; s unchanged). */
int zone_rrset_push_copy(struct zone_rrset *s, const struct tlsa_rec *r);

/* Is r in s? */
int zone_rrset_has(const struct zone_rrset *s, const struct tlsa_rec *r);

/* Is every record of a in b? */
int zone_rrset_subset(const struct zone_rrset *a, const struct zone_rrset *b);

/* a = a u b (copies; no duplicates).  0, or -1 (memory: a partly grown). */
int zone_rrset_union(struct zone_rrset *a, const struct zone_rrset *b);

/* a = a - b, in place. */
void zone_rrset_minus(struct zone_rrset *a, const struct zone_rrset *b);

/* a = a n b, in place. */
void zone_rrset_intersect(struct zone_rrset *a, const struct zone_rrset *b);

/*
 * Extract the TLSA RRset at owner from the answer section of a reply
 * into out (records copied).  Returns the number of records.
 */
size_t zone_rrset_from_pkt(const ldns_pkt *p, const char *owner,
    struct zone_rrset *out);

/*
 * Read the RRset at owner from srv directly (no recursion; UDP, and TCP
 * when truncated).  The
 * answer must be authoritative (AA) and NOERROR or NXDOMAIN.  With key,
 * the query is signed.  Returns 0 or -1 with a reason.
 */
int zone_read_rrset(const struct zone_server *srv, const char *owner,
    const struct zone_tsig *key, const struct zone_xfer_opts *o,
    struct zone_rrset *out, char *err, size_t errlen);

/* The change of one RRset within an update. */
struct zone_change {
	const char		*owner;
	const struct zone_rrset	*expect;	/* exact RRset now (n 0: none) */
	const struct zone_rrset	*del;		/* records to delete, or NULL */
	int			 del_all;	/* delete the whole RRset */
	const struct zone_rrset	*add;		/* records to add, or NULL */
	uint32_t		 ttl;		/* of the added records */
};

/*
 * Send one update message to zone with every change in it (applied
 * atomically by the server): for each, the prerequisite that its RRset
 * is exactly *expect (empty: does not exist), then the deletions (del, or
 * the whole RRset with del_all), then the additions.  On YXRRSET/NXRRSET
 * the RRsets now in place are read back and named in err.  Returns 0
 * when the server confirmed (NOERROR), -1 otherwise.
 */
int zone_update_apply(const struct zone_server *srv, const char *zone,
    const struct zone_tsig *key, const struct zone_xfer_opts *o,
    const struct zone_change *ch, size_t nch, char *err, size_t errlen);

/*
 * The zone that owner is in, as srv sees it (from the SOA in the answer
 * or authority section of a SOA query): srv must be authoritative (AA)
 * unless recursive, when it is a resolver asked with RD.  A new absolute
 * name, or NULL with a reason.
 */
char *zone_find_apex(const struct zone_server *srv, const char *owner,
    int recursive, const struct zone_tsig *key,
    const struct zone_xfer_opts *o, char *err, size_t errlen);

/* "3 1 1 ab..; 2 1 1 cd.." (short hex) for messages; caller frees. */
char *zone_rrset_describe(const struct zone_rrset *s);

#endif
