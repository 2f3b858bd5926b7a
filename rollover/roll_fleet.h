/*
 * roll_fleet.h: a service served by several nodes (nodes: in the
 * config), each with its own deploy directory (or a push command), its
 * own reload and the addresses it serves.  SWITCH deploys to every
 * node, VERIFY checks every node's addresses, and a node that fails is
 * switched back alone, while the others keep the new certificate,
 * only when the certificates of both are published.  A failed node
 * rests a run and is tried again, at most node_retries times; then it
 * is stopped (an alert naming it) until tlsa-rollover retry.
 *
 * Services without nodes never come here.
 */
#ifndef ROLL_FLEET_H
#define ROLL_FLEET_H

#include "roll_run.h"

/*
 * SWITCH, after the offline check: give every node that is neither
 * stopped nor resting the pending certificates (deploy, push, reload;
 * a node that fails is switched back alone).  0: at least one node
 * serves them (the caller commits the switch), 1: no node was tried
 * (all rest; said), -1: failed (err; every node serves what it served).
 */
int roll_fleet_switch(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen);

/*
 * VERIFY: probe each node on the new certificates at its addresses; a
 * node that does not validate is switched back alone.  1 moved (RETIRE,
 * or STEADY when no node kept the new certificates: then -1), -1 with
 * err.  A dry run only probes.
 */
int roll_fleet_verify(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen);

/*
 * Add to out the records of every certificate a node of the service
 * was given (a node switched back serves its old one).  0 or -1.
 */
int roll_fleet_wanted(struct roll_ctx *x, const struct roll_state *st,
    struct zone_rrset *out, char *err, size_t errlen);

/*
 * Start of a run: nodes that rest after a failure count one run down
 * (they are not tried in this run); a local node whose deploy link is
 * gone is behind again.  Then nodes behind the current certificates
 * (failed before, new, or repaired) are brought in, one try each, when
 * the phase is before SWITCH; one that catches up may leave records to
 * retire (phase RETIRE).  0 or -1 (the state could not be saved).
 */
int roll_fleet_start(struct roll_ctx *x, struct roll_state *st, char *err,
    size_t errlen);

/*
 * End of a run: while a node is failed or stopped and no other alert
 * stands, the alert names it (and says how to retry).
 */
void roll_fleet_alert(struct roll_ctx *x, struct roll_state *st);

/*
 * retry SERVICE [NODE]: forget the failures of the node (or of every
 * failed node), so that the run that follows (the caller's) tries it
 * at once.  0 or -1 (no such node, or nothing failed).
 */
int roll_fleet_retry(struct roll_ctx *x, struct roll_state *st,
    const char *node, char *err, size_t errlen);

/*
 * The chain of certificate id (current in slot) changed: deploy it
 * again to every node that serves it, and reload them.  0 or -1.
 */
int roll_fleet_redeploy(struct roll_ctx *x, struct roll_state *st,
    const char *slot, const char *id, char *err, size_t errlen);

#endif
