/*
 * zone_out.h: TLSA RR lists as text: zone presentation lines, RFC 3597
 * generic lines, JSON, and nsupdate(1) scripts.
 */
#ifndef ZONE_OUT_H
#define ZONE_OUT_H

#include "sbuf.h"
#include "zone_rr.h"

enum zone_format {
	ZONE_FMT_ZONE, ZONE_FMT_GENERIC, ZONE_FMT_JSON, ZONE_FMT_NSUPDATE,
	ZONE_FMT_FRAGMENT, ZONE_FMT_SIGNED
};

struct zone_out_opts {
	int		 format;	/* enum zone_format */
	const char	*zone;		/* nsupdate "zone" line, or NULL */
	const char	*server;	/* nsupdate "server" host, or NULL */
	unsigned	 server_port;	/* 0: nsupdate default */
	int		 replace;	/* nsupdate: delete each RRset first */
	uint32_t	 default_ttl;	/* nsupdate/json when a record has none */
	int		 has_expect;	/* nsupdate: prerequisites from expect */
	const struct zone_rrlist *expect; /* records expected now (any owner) */
};

/* Parse "zone", "generic", "json", "nsupdate", "fragment", "signed";
 * -1 if unknown. */
int zone_format_parse(const char *s);

/*
 * Render l into out in the chosen format.  Returns 0, or -1 with a
 * reason (memory).
 */
int zone_out_render(const struct zone_rrlist *l,
    const struct zone_out_opts *o, struct sbuf *out, char *err,
    size_t errlen);

/*
 * Owner relative to zone ("_25._tcp.mx" for zone "example.net."; "@" for
 * the apex) into a new string, or NULL when owner is not in zone.
 */
char *zone_relative(const char *owner, const char *zone);

#endif
