/*
 * roll_world.h: everything outside the process that the state machine
 * (roll_run.c, roll_fleet.c) asks or changes, behind one table of
 * functions: the clock, what the DNS shows (roll_vis) and where the zone
 * starts (zone_find_apex), the publisher,
 * the deploy directory, the MTA's reload and the live check.
 *
 * The real program leaves roll_ctx.w NULL and gets roll_world_real,
 * whose entries are the real functions themselves.  A test installs
 * its own table (tests/unit/test_machine.c: scripted servers, an
 * in-memory zone, simulated time) and drives every phase, fault and
 * crash point of the machine in milliseconds; the lab tests
 * (tests/integration) stay the proof against real daemons.
 *
 * Every entry but now has exactly the signature, contract and return
 * values of the function it stands for (named beside it).
 */
#ifndef ROLL_WORLD_H
#define ROLL_WORLD_H

#include <stddef.h>
#include <time.h>

#include "roll_config.h"
#include "roll_pub.h"
#include "roll_vis.h"
#include "sbuf.h"
#include "zone_update.h"

struct roll_ctx;

struct roll_world {
	void	*arg;		/* the implementation's; now gets it */
	/* The wall clock, for what is stamped at a write (the state's
	 * updated_at); the steps themselves use x->now. */
	time_t	(*now)(void *arg);
	/* roll_vis_run */
	int	(*vis)(const struct roll_vis_job *job,
		    struct roll_vis_result *out, char *err,
		    size_t errlen);
	/* zone_find_apex: the zone of an owner, asked of the primary
	 * (with its key) when dns.zone is not set. */
	char	*(*apex)(const struct zone_server *srv, const char *owner,
		    int recursive, const struct zone_tsig *key,
		    const struct zone_xfer_opts *o, char *err,
		    size_t errlen);
	/* roll_pub_open: a test may set p->ops to a backend of its own. */
	int	(*pub_open)(const struct roll_service *s,
		    struct roll_pub *p, char *err, size_t errlen);
	/* roll_deploy, roll_deploy_fresh, roll_deploy_link_gone */
	int	(*deploy)(const char *state_dir,
		    const struct roll_service *s, const char *slot,
		    const char *id, char *err, size_t errlen);
	int	(*deploy_fresh)(const char *state_dir,
		    const struct roll_service *s, const char *id);
	int	(*link_gone)(const char *deploy_dir, const char *slot);
	/* roll_reload (also a fleet node's push, run the same way) */
	int	(*reload)(const struct roll_service *s, int timeout,
		    char *err, size_t errlen);
	/* roll_live_check, roll_live_matching */
	int	(*live_check)(const struct roll_service *s,
		    const struct zone_rrset *recs, struct zone_rrset *served,
		    struct sbuf *report, char *err, size_t errlen);
	int	(*live_matching)(const struct roll_service *s,
		    const struct zone_rrset *cand, struct zone_rrset *matched,
		    struct sbuf *report, char *err, size_t errlen);
};

/* The real world: time(2), the DNS, the deploy directory, the MTA. */
extern const struct roll_world roll_world_real;

/* x->w, or roll_world_real when that is NULL. */
const struct roll_world *roll_world_of(const struct roll_ctx *x);

/* The world's clock now. */
time_t roll_world_now(const struct roll_ctx *x);

#endif
