/*
 * zone_check.h: what the world sees of a TLSA RRset.
 *
 * Authoritative visibility: the zone's NS set (or a configured server
 * list) plus a hidden primary, each asked directly without recursion:
 * exact RRset, AA bit, SOA serial.  Validated lookups: through a
 * validating resolver requiring AD, and locally with ldns against a
 * trust anchor, so the verdict need not trust the path to the resolver.
 * Bogus and insecure are distinct results.
 */
#ifndef ZONE_CHECK_H
#define ZONE_CHECK_H

#include <stdint.h>

#include "zone_net.h"
#include "zone_update.h"

/*
 * A TTL as RFC 2181 section 8 has it: one with the top bit set counts
 * as 0.  Every TTL taken from an answer goes through this.
 */
uint32_t zone_ttl_rfc2181(uint32_t ttl);

enum zone_vis_state {
	ZONE_VIS_MATCH,		/* exactly the expected RRset, with AA */
	ZONE_VIS_DIFFERS,	/* another RRset (or none) */
	ZONE_VIS_NOT_AUTH,	/* answer without AA, or REFUSED etc. */
	ZONE_VIS_ERROR		/* no answer, malformed */
};

struct zone_vis {
	struct zone_server	 srv;
	const char		*role;		/* "ns", "primary" */
	const struct zone_tsig	*key;		/* sign the queries, or NULL */
	char			 nsname[256];	/* NS host name, if known */
	int			 state;		/* enum zone_vis_state */
	int			 aa, rcode;
	int			 has_serial;
	uint32_t		 serial;
	uint32_t		 ttl;		/* of the TLSA RRset (RFC 2181) */
	uint32_t		 neg_ttl;	/* SOA minimum / negative TTL */
	struct zone_rrset	 rrset;
	char			 error[256];
};

/*
 * Find the name servers of zone through the resolver: NS set, then the
 * A and AAAA of each name.  *out gets a new array of n entries (caller
 * frees; the rrsets are empty), port as given.  Returns 0 or -1.
 */
int zone_ns_servers(const struct zone_server *resolver, const char *zone,
    unsigned port, const struct zone_xfer_opts *o, struct zone_vis **out,
    size_t *n, char *err, size_t errlen);

/*
 * Ask every server in v[0..n-1] for owner's TLSA RRset and the zone's
 * SOA (signed with the entry's key, if any); compare with expect (NULL:
 * compare with each other, the first answer counting as expected).  Fills in each entry.  Returns the
 * number of servers whose state is not MATCH.
 */
size_t zone_visibility(struct zone_vis *v, size_t n, const char *zone,
    const char *owner, const struct zone_rrset *expect,
    const struct zone_xfer_opts *o);

void zone_vis_free(struct zone_vis *v, size_t n);

enum zone_sec {
	ZONE_SEC_SECURE, ZONE_SEC_INSECURE, ZONE_SEC_BOGUS, ZONE_SEC_ERROR
};

const char *zone_sec_name(int sec);

/* A validated lookup of any type, CNAMEs followed. */
struct zone_answer {
	int		 sec;		/* enum zone_sec */
	int		 rcode;
	ldns_pkt	*pkt;		/* the reply (NOERROR/NXDOMAIN), or NULL */
	char		 name[256];	/* where the records are: the name asked */
					/* for, or the end of its CNAME chain */
	int		 cnames;	/* CNAME links followed */
	uint32_t	 ttl;		/* smallest TTL on the path (0: none) */
	char		 error[256];	/* why, for BOGUS and ERROR */
};

/*
 * Ask resolver for (name, type) with RD and DO: SECURE when the answer
 * has AD, INSECURE for NOERROR or NXDOMAIN without it, BOGUS when it
 * answers SERVFAIL but gives data with checking disabled, else ERROR.
 * The records of type at a->name are then ldns_pkt_rr_list_by_name_and_type
 * of a->pkt (zone_answer_rrs).  Returns a->sec.
 */
int zone_lookup(const struct zone_server *resolver, const char *name,
    ldns_rr_type type, const struct zone_xfer_opts *o, struct zone_answer *a);

/* The records of the asked type at a->name (caller frees), or NULL. */
ldns_rr_list *zone_answer_rrs(const struct zone_answer *a, ldns_rr_type type);

void zone_answer_free(struct zone_answer *a);

/*
 * Look owner TLSA up through a validating resolver (RD, DO): SECURE when
 * the answer has AD, INSECURE when NOERROR/NXDOMAIN without AD, BOGUS
 * when SERVFAIL without CD but data with CD.  The RRset (may be empty)
 * goes to out.  Returns the state; why (for BOGUS/ERROR) in err.
 */
int zone_resolve_validated(const struct zone_server *resolver,
    const char *owner, const struct zone_xfer_opts *o,
    struct zone_rrset *out, char *err, size_t errlen);

/*
 * The trust anchors in path: DS or DNSKEY lines in zone file syntax
 * (lines starting with ';' or '$' skipped), at least one.  A new list
 * (caller frees with ldns_rr_list_deep_free), or NULL with a reason
 * naming the file and the line.
 */
ldns_rr_list *zone_load_anchors(const char *path, char *err, size_t errlen);

/*
 * Validate owner's TLSA RRset ourselves with ldns against the trust
 * anchors in ta_file (DS or DNSKEY lines), fetching data with CD through
 * via (a resolver or an authoritative server).  SECURE, BOGUS (with the
 * reason) or ERROR; an absent RRset gives ERROR "no records".
 */
int zone_validate_local(const struct zone_server *via, const char *ta_file,
    const char *owner, const struct zone_xfer_opts *o,
    struct zone_rrset *out, char *err, size_t errlen);

/*
 * zone_validate_local with the anchors already loaded from ta_file
 * (zone_load_anchors; ta_file only names them in messages), for a
 * process that may no longer read the file.  anchors stays the
 * caller's.
 */
int zone_validate_local_anchors(const struct zone_server *via,
    const ldns_rr_list *anchors, const char *ta_file, const char *owner,
    const struct zone_xfer_opts *o, struct zone_rrset *out, char *err,
    size_t errlen);

#endif
