/*
 * roll_run.h: the rollover state machine (RFC 7671 section 8.1).
 *
 *   STEADY -> PUBLISH -> VISIBLE -> HOLD -> SWITCH -> VERIFY -> RETIRE
 *
 * Invariant: every certificate any MX address serves matches a TLSA
 * RRset that every authoritative server has served for at least
 * 2 x TTL, or an alert is raised.  Each step acts only after checking
 * the world, records in the state only what was confirmed, and so can
 * be repeated after a crash at any point.
 */
#ifndef ROLL_RUN_H
#define ROLL_RUN_H

#include <time.h>

#include "roll_config.h"
#include "roll_state.h"
#include "sbuf.h"

/*
 * A line in roll_ctx.out may start with a priority in the form of
 * sd-daemon(3): ROLL_INFO marks the progress of a wait (shown with -v,
 * on a terminal or in the journal, kept out of cron's mail); a line
 * without one is a notice.
 */
#define ROLL_INFO "<6>"

struct roll_world;

struct roll_ctx {
	const struct roll_config	*c;
	const struct roll_service	*s;
	int				 dry_run;
	struct sbuf			*out;	/* what happened, for people */
	time_t				 now;
	char				 warn[512]; /* an alert a step */
						    /* raised but went on */
	/* During a first publish: per host, the RRset adoption read. */
	const struct zone_rrset		*adopted;
	unsigned			 resting; /* nodes (bits, by */
						  /* index) resting */
	/* What the steps ask and change outside (roll_world.h); NULL:
	 * the real world. */
	const struct roll_world		*w;
};

/*
 * Advance the service as far as the rules allow now, saving the state
 * after every confirmed step.  Returns 0 (whether or not anything moved;
 * *moved says), -1 when a step failed (the reason, also recorded as the
 * state's alert, in err).
 */
int roll_advance(struct roll_ctx *x, struct roll_state *st, int *moved,
    char *err, size_t errlen);

/*
 * A slot that has a current certificate but whose link in the deploy
 * directory is gone (the directory was removed, say): deploy the current
 * certificate again (its records are published) and reload.  Returns 0
 * when nothing was missing, 1 when something was deployed again (err
 * says what, for an alert), -1 when that failed (err says why).  A dry
 * run only says what it would do.
 */
int roll_repair_deploy(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen);

/*
 * import: take a new certificate and key (and chain) for the service.
 * A chain without the leaf's issuer is completed from the service's
 * issuers: when it publishes trust-anchor records (else refused).  The
 * current or pending certificate again with another chain updates the
 * stored chain; the current one's is checked against the published
 * records, deployed and the MTA reloaded.
 */
int roll_import(struct roll_ctx *x, struct roll_state *st, const char *cert,
    const char *key, const char *chain, char *err, size_t errlen);

/*
 * stage: make a standby next key (keyfile NULL), or take a copy of the
 * key in keyfile (an ACME client's next key), and queue its 3 1 x
 * records.  The same key again changes nothing.  A different key
 * replaces the staged one, except while the staged key is the key of a
 * pending certificate: then it waits in STATE_DIR/SERVICE/next-staged
 * and roll_advance stages it once that certificate is live (so that
 * its switch needs no new wait).
 */
int roll_stage(struct roll_ctx *x, struct roll_state *st, const char *keyfile,
    char *err, size_t errlen);

/*
 * abort: forget the pending certificate and withdraw the records only it
 * needed; refused once it is live.
 */
int roll_abort(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen);

/*
 * unstage: forget the staged key (and a next key queued behind it) and,
 * with a compare-and-swap update, withdraw its records unless a current
 * or pending certificate or a chain an MX serves still needs them (the
 * RRset is never emptied).  Refused while the staged key is the key of
 * a certificate being switched in (phases switch, verify, retire).
 * Nothing staged: nothing to do, 0.
 */
int roll_unstage(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen);

/*
 * One named step (publish, switch, retire) for operators: refused, with
 * the reason, unless the state is ready for it.
 */
int roll_manual(struct roll_ctx *x, struct roll_state *st, int phase,
    char *err, size_t errlen);

/*
 * A TTL from a DNS answer as the hold uses it: 0 when its top bit is
 * set (RFC 2181 section 8), at most the service's max_ttl (or its ttl,
 * when larger).
 */
uint32_t roll_ttl_clamp(const struct roll_service *s, uint32_t ttl);

/*
 * How long the hold lasts once the RRset is visible, for this TTL:
 * 2 x TTL + hold_margin, at least min_hold (seconds).
 */
long roll_hold_need(const struct roll_service *s, uint32_t ttl);

/*
 * The records the service needs now: every slot's current certificate
 * (and its pending one, with with_pending) and the staged key, in out
 * (caller frees).  0, or -1 (a store entry that cannot be read).
 */
int roll_wanted(struct roll_ctx *x, const struct roll_state *st,
    int with_pending, struct zone_rrset *out, char *err, size_t errlen);

/* Was the recorded RRset put at every host the service has now? */
int roll_all_hosts_published(const struct roll_service *s,
    const struct roll_state *st);

/*
 * Save the service's state, stamped with the world's clock (nothing in
 * a dry run).  0 or -1 with a reason.
 */
int roll_save(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen);

/* Seconds left in HOLD (0 when over or not holding). */
long roll_hold_left(const struct roll_service *s, const struct roll_state *st,
    time_t now);

#endif
