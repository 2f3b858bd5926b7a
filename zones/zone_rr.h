/*
 * zone_rr.h: a list of TLSA resource records with owner, TTL and class,
 * duplicates dropped, in insertion order.  Owner names are checked with
 * ldns and kept in lower case with a trailing dot.
 */
#ifndef ZONE_RR_H
#define ZONE_RR_H

#include <stddef.h>
#include <stdint.h>

#include "tlsa_rec.h"

struct zone_rr {
	char		*owner;		/* "_25._tcp.mx.example.net." */
	uint32_t	 ttl;
	int		 has_ttl;
	uint16_t	 rrclass;	/* LDNS_RR_CLASS_IN ... */
	struct tlsa_rec	 rec;
	char		*source;	/* what it was computed from, or NULL */
};

struct zone_rrlist {
	struct zone_rr	*v;
	size_t		 n, cap;
	size_t		*hash;		/* open addressing, index + 1 */
	size_t		 hcap;
};

/*
 * Build the owner "_PORT._PROTO.HOST." into a new string.  proto is
 * "tcp", "udp" or "sctp"; host a DNS name (trailing dot optional), not
 * an address literal.  Returns NULL with a reason.
 */
char *zone_tlsa_owner(unsigned port, const char *proto, const char *host,
    char *err, size_t errlen);

/*
 * Check a DNS name with ldns and return it lower-cased, absolute, in a
 * new string; NULL with a reason.
 */
char *zone_name_canon(const char *name, char *err, size_t errlen);

/*
 * Append a record; rec's data is moved into the list (rec is cleared).
 * source is copied.  Returns 1 if added, 0 if it was a duplicate, -1 on
 * memory failure.
 */
int zone_rrlist_add(struct zone_rrlist *l, const char *owner, uint32_t ttl,
    int has_ttl, uint16_t rrclass, struct tlsa_rec *rec, const char *source);

void zone_rrlist_free(struct zone_rrlist *l);

/*
 * The records of l grouped by owner, in linear time: owners in the order
 * they first appear, each owner's records in list order.  g->order holds
 * record indexes; group k is g->order[g->start[k] .. g->start[k + 1] - 1].
 * Returns 0 or -1 (memory).  Free with zone_groups_free.
 */
struct zone_groups {
	size_t	*order;
	size_t	*start;		/* ngroups + 1 entries */
	size_t	 ngroups;
	size_t	*slot;		/* owner hash: 1 + group, 0 empty */
	size_t	 cap;
};

int zone_rrlist_group(const struct zone_rrlist *l, struct zone_groups *g);
void zone_groups_free(struct zone_groups *g);

/* The group of l (grouped as g) with this owner, or (size_t)-1. */
size_t zone_groups_find(const struct zone_rrlist *l,
    const struct zone_groups *g, const char *owner);

#endif
