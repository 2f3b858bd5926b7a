/*
 * roll_vis.h: what the DNS shows of a service's TLSA RRsets, for the
 * VISIBLE and HOLD steps.
 *
 * The answers of strangers (the NS set found through the resolver, the
 * servers named in check_servers, the resolver itself, the chain of
 * trust fetched for local validation) are asked for and parsed in an
 * unprivileged child (privsep_drop), which holds no private key and no
 * TSIG secret, and which sends back typed, length-checked messages.
 * The hidden primary is asked by the parent, with the TSIG key that
 * stays there (it may answer only us).
 *
 * The job is built by the caller; the child inherits it by fork(), so
 * only results travel, and only from the child to the parent.
 */
#ifndef ROLL_VIS_H
#define ROLL_VIS_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "zone_check.h"
#include "zone_net.h"
#include "zone_update.h"

struct roll_vis_job {
	const char		 *zone;		/* the zone's apex */
	const char *const	 *owners;	/* _25._tcp.HOST., ... */
	size_t			  nowners;
	const struct zone_rrset	 *expect;	/* the published RRset */
	/* The authoritative servers: these (host[@port] strings as in
	 * dns.check_servers), or, when ncheck_servers is 0 and resolver
	 * is set, the NS set of zone found through the resolver. */
	const char *const	 *check_servers;
	size_t			  ncheck_servers;
	const char		 *resolver;	/* dns.resolver, or NULL */
	const char		 *ta_file;	/* dns.trust_anchor_file, or NULL */
	/* The hidden primary (asked by the parent, signed with key when
	 * key->name is set), or NULL; also the server local validation
	 * fetches through when there is no resolver. */
	const struct zone_server *primary;
	const struct zone_tsig	 *key;
};

/* The view of one owner. */
struct roll_vis_owner {
	/* Every authoritative server, the primary last (when there is
	 * one): zone_visibility()'s view, with expect as expected. */
	struct zone_vis		*v;
	size_t			 n;
	/* Through the resolver (res_asked 0: no resolver configured). */
	int			 res_asked;
	int			 res_sec;	/* enum zone_sec */
	struct zone_rrset	 res_rrset;
	char			 res_why[ERRBUF_LEN];
	/* Local validation against ta_file (local_asked 0: no file). */
	int			 local_asked;
	int			 local_sec;	/* enum zone_sec */
	struct zone_rrset	 local_rrset;
	char			 local_why[ERRBUF_LEN];
};

struct roll_vis_result {
	struct roll_vis_owner	*o;		/* nowners entries, in order */
	size_t			 n;
};

/*
 * Ask everything the job names, the strangers from a child that has
 * dropped its privileges (none is started when the job names only the
 * primary).  0 with every owner's view in *out (a server
 * that does not answer is a view, ZONE_VIS_ERROR, not a failure), or
 * -1 with a reason (the child could not run, died, timed out, or sent
 * something malformed: nothing of it is used).  out is the caller's to
 * free with roll_vis_result_free, also after -1.
 */
int roll_vis_run(const struct roll_vis_job *job, struct roll_vis_result *out,
    char *err, size_t errlen);

void roll_vis_result_free(struct roll_vis_result *r);

#endif
