/*
 * roll_pub.h: where tlsa-rollover writes TLSA RRsets, behind one small
 * interface: open, read an owner's RRset, replace RRsets under a
 * compare-and-swap guard, close.  dns.backend selects the
 * implementation: rfc2136 (roll_pub_rfc2136.c: an update with TSIG and
 * prerequisites to dns.primary), exec (roll_pub_exec.c: a program the
 * operator names, a line protocol on its stdin/stdout) or pdns-api
 * (roll_pub_pdns.c: the PowerDNS Authoritative HTTP API).
 *
 * A backend's word is never taken for what the world sees: visibility,
 * the hold, verify and retire still ask the authoritative servers and
 * the resolver.  This module only writes, and reads back what it wrote.
 */
#ifndef ROLL_PUB_H
#define ROLL_PUB_H

#include <stddef.h>
#include <stdint.h>

#include "roll_config.h"
#include "sbuf.h"
#include "zone_rr.h"
#include "zone_update.h"

struct roll_pub;

/* What a backend provides (see roll_pub.c for the shared parts). */
struct roll_pub_ops {
	const char *name;	/* "rfc2136", "exec", "pdns-api" */
	int	(*open)(struct roll_pub *, char *, size_t);
	/* owner's RRset into out (empty: none).  0 or -1. */
	int	(*read)(struct roll_pub *, const char *owner,
		    struct zone_rrset *out, char *, size_t);
	/*
	 * One owner: make it hold want if it holds exactly expect.  0
	 * replaced, 1 refused because it holds something else (that goes
	 * to *now), -1 error.  NULL for a backend with its own publish.
	 */
	int	(*replace)(struct roll_pub *, const char *owner,
		    const struct zone_rrset *expect,
		    const struct zone_rrset *want, struct zone_rrset *now,
		    char *, size_t);
	/* The whole list at once (rfc2136: one atomic update), or NULL. */
	int	(*publish)(struct roll_pub *, const struct zone_rrlist *want,
		    const struct zone_rrlist *expect, int dry_run,
		    struct sbuf *report, char *, size_t);
	void	(*close)(struct roll_pub *);
};

struct roll_pub {
	const struct roll_pub_ops	*ops;
	const struct roll_service	*s;
	char				 name[160]; /* for messages */
	void				*impl;
};

/* dns.backend values. */
#define ROLL_BACKEND_RFC2136	"rfc2136"
#define ROLL_BACKEND_EXEC	"exec"
#define ROLL_BACKEND_PDNS	"pdns-api"

/* Is the service's backend RFC 2136 (the default)? */
int roll_pub_is_rfc2136(const struct roll_service *s);

/*
 * Open s's backend (parse the primary and load the TSIG key, start the
 * program, or load the API key).  0, or -1 with a reason naming the
 * backend; then p needs no close.
 */
int roll_pub_open(const struct roll_service *s, struct roll_pub *p,
    char *err, size_t errlen);

/* Owner's RRset as the backend holds it now (out: caller frees). */
int roll_pub_read(struct roll_pub *p, const char *owner,
    struct zone_rrset *out, char *err, size_t errlen);

/*
 * Make the RRset of every owner in want exactly its records there
 * (TTL s->dns.ttl), each guarded by a compare on the owner's RRset in
 * expect (an owner absent from expect must hold nothing), or, with
 * expect NULL, on what the backend holds when read first.  An owner
 * that holds want already is left alone.  Every replaced owner is read
 * back until it holds want.  One line per owner to report.  0, or -1
 * with a reason naming the owner (and, when some owners were changed
 * before the failure, which).  Owners must be inside dns.zone (when
 * set).
 */
int roll_pub_replace(struct roll_pub *p, const struct zone_rrlist *want,
    const struct zone_rrlist *expect, int dry_run, struct sbuf *report,
    char *err, size_t errlen);

void roll_pub_close(struct roll_pub *p);

/* For backends with their own publish: the records of the owner of group
 * k of l into s (copies; k (size_t)-1: none).  0 or -1 (memory). */
int roll_pub_group_set(const struct zone_rrlist *l,
    const struct zone_groups *g, size_t k, struct zone_rrset *s);

/*
 * Group k of want: its owner, checked to be inside zone (when not
 * NULL), and its records into w (copies).  The owner, or NULL with err.
 */
const char *roll_pub_group(const struct zone_rrlist *want,
    const struct zone_groups *g, size_t k, const char *zone,
    struct zone_rrset *w, char *err, size_t errlen);

/*
 * Where s publishes, in words ("the primary 192.0.2.53", "exec
 * /usr/libexec/..", "the PowerDNS API http://..") into buf.
 */
const char *roll_pub_where(const struct roll_service *s, char *buf,
    size_t len);

/* The backends, for roll_pub.c. */
extern const struct roll_pub_ops roll_pub_rfc2136_ops;
extern const struct roll_pub_ops roll_pub_exec_ops;
extern const struct roll_pub_ops roll_pub_pdns_ops;

/*
 * The exec protocol's text forms, shared with the unit tests.  A set
 * is "-" (empty) or records "U:S:M:HEX" joined by ","; U, S, M decimal
 * 0-255, HEX an even number of hex digits (written in lower case).
 */
char *roll_pub_set_format(const struct zone_rrset *set);
int roll_pub_set_parse(const char *s, size_t len, struct zone_rrset *out,
    char *err, size_t errlen);

enum { ROLL_PUB_OK, ROLL_PUB_CONFLICT, ROLL_PUB_ERROR };

/*
 * One answer line (no newline): "ok", "ok SET" (want_set: a read),
 * "conflict SET" or "error TEXT".  Returns ROLL_PUB_OK with *set
 * filled (want_set), ROLL_PUB_CONFLICT with *set, ROLL_PUB_ERROR with
 * the program's text (sanitised) in text; -1 with a reason for a line
 * that is none of these.
 */
int roll_pub_answer_parse(const char *line, int want_set,
    struct zone_rrset *set, char *text, size_t textlen, char *err,
    size_t errlen);

#endif
