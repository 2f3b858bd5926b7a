/*
 * roll_state.h: the state of one service's rollover, one small text file
 * per service (STATE_DIR/SERVICE/state), written atomically, read
 * strictly; and the lock that keeps two runs apart (STATE_DIR/lock).
 *
 * Every step of the rollover writes the state only after what it
 * changed in the world was confirmed, and every step checks the world
 * before acting, so a run killed at any instant continues correctly.
 */
#ifndef ROLL_STATE_H
#define ROLL_STATE_H

#include <stdint.h>
#include <time.h>

#include "zone_update.h"

enum roll_phase {
	ROLL_STEADY,		/* current cert live, records settled */
	ROLL_PUBLISH,		/* records for pending/staged to publish */
	ROLL_VISIBLE,		/* published; waiting for every server */
	ROLL_HOLD,		/* visible; waiting 2 x TTL + margin */
	ROLL_SWITCH,		/* deploy pending */
	ROLL_VERIFY,		/* check every MX address */
	ROLL_RETIRE,		/* remove records nothing matches */
	ROLL_NPHASES		/* how many; not a phase */
};

#define ROLL_ID_LEN 16		/* hex digits of a certificate's id */
#define ROLL_MAX_SLOTS 3	/* "" (any key), or ecdsa, rsa, eddsa */

/*
 * One certificate slot: a service serves one certificate per slot (an
 * RSA and an ECDSA one side by side, say), each rolled on its own, all
 * sharing the service's TLSA RRset.
 */
struct roll_slot {
	char		 name[8];			/* "" or key family */
	char		 current[ROLL_ID_LEN + 1];	/* deployed, or "" */
	char		 previous[ROLL_ID_LEN + 1];	/* before current */
	char		 pending[ROLL_ID_LEN + 1];	/* imported, not live */
};

/*
 * One node of a fleet (a service with nodes:): what it was given per
 * slot (indexed as roll_state.slot), and how its last tries went.  A
 * node whose deploy, reload or check failed serves its previous
 * certificate (switched back alone); it rests a run, then is tried
 * again, at most node_retries times; then it is stopped: not tried
 * again until the operator says so (tlsa-rollover retry).
 */
#define ROLL_MAX_NODES_STATE 16
struct roll_node_state {
	char		 name[65];
	char		 current[ROLL_MAX_SLOTS][ROLL_ID_LEN + 1];
	char		 previous[ROLL_MAX_SLOTS][ROLL_ID_LEN + 1];
	unsigned	 failures;	/* failed tries since the last success */
	int		 wait;		/* runs to rest before the next try */
	int		 stopped;	/* out of retries */
	char		 error[256];	/* why the last try failed */
};

struct roll_state {
	int		 phase;
	struct roll_slot slot[ROLL_MAX_SLOTS];
	int		 nslots;
	char		 staged[ROLL_ID_LEN + 1];	/* standby key, or "" */
	struct zone_rrset published;	/* the RRset we put in DNS */
	int		 have_published; /* published is known */
	char		 published_hosts[1024];	/* owners it is at, " "-joined */
	time_t		 published_at, visible_at, switched_at, updated_at;
	uint32_t	 hold_ttl;	/* the TTL the hold was computed from */
	char		 alert[512];	/* last problem, or "" */
	/*
	 * While waiting for visibility: the servers that did not serve the
	 * RRset at the last check ("ROLE NAME, ..."; "" when none), and
	 * when that check was (0: never).  For status; never acted on.
	 */
	char		 behind[512];
	time_t		 checked_at;
	struct roll_node_state node[ROLL_MAX_NODES_STATE];
	int		 nnodes;
};

/* The node called name, created if absent (NULL when all are in use). */
struct roll_node_state *roll_state_node(struct roll_state *st,
    const char *name);

const char *roll_phase_name(int phase);

/* The slot called name, created if absent (NULL when all are in use). */
struct roll_slot *roll_state_slot(struct roll_state *st, const char *name);

/* Is a certificate waiting in any slot? */
int roll_state_pending(const struct roll_state *st);

/*
 * Read STATE_DIR/SERVICE/state.  A missing file is a fresh state (0); a
 * file that does not parse is an error naming the line (-1), never a
 * silent reset.
 */
int roll_state_load(const char *state_dir, const char *service,
    struct roll_state *st, char *err, size_t errlen);

/*
 * The state as text, appended to b (caller frees), and parsed back: a
 * state the loader would refuse (a hold_ttl or time out of its range)
 * is an error here, so that it is never written.  0 or -1.
 */
struct sbuf;
int roll_state_serialise(const char *service, const struct roll_state *st,
    struct sbuf *b, char *err, size_t errlen);

/*
 * Write it atomically (0600), creating the service directory; refused
 * (nothing written) when roll_state_serialise refuses it.  updated_at
 * becomes time(NULL), or now with roll_state_save_at (the state
 * machine's clock: see roll_world.h).
 */
int roll_state_save(const char *state_dir, const char *service,
    struct roll_state *st, char *err, size_t errlen);
int roll_state_save_at(const char *state_dir, const char *service,
    struct roll_state *st, time_t now, char *err, size_t errlen);

void roll_state_free(struct roll_state *st);

/*
 * Take STATE_DIR/lock (creating STATE_DIR 0700).  Returns the lock fd,
 * or -1 with a reason; when another process holds it, the reason names
 * its pid.  Released at exit.
 */
int roll_lock(const char *state_dir, char *err, size_t errlen);

/*
 * How long (seconds) the holder of STATE_DIR/lock has held it, from the
 * time roll_lock wrote beside its pid; -1 when that is not known (no
 * file, an older tlsa-rollover, another program holding it).  Only
 * meaningful while roll_lock says the lock is taken.
 */
long long roll_lock_age(const char *state_dir, time_t now);

#endif
