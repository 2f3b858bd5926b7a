/*
 * roll_plan.h: the steps ahead of a service, worked out from its state
 * and the store alone (no DNS, no network): what will be published,
 * how long the waits last and until when, which certificate is
 * switched in, what is verified and what is retired.  For run -n and
 * status; the state machine itself never reads it.
 */
#ifndef ROLL_PLAN_H
#define ROLL_PLAN_H

#include <jansson.h>

#include "roll_run.h"
#include "roll_state.h"
#include "sbuf.h"

/*
 * The plan as a JSON array, one object per step ahead, in order:
 *   "step"    publish | visible | hold | switch | verify | retire | steady
 *   "text"    what it does, for people
 *   "at"      when it can happen at the earliest (Unix time), if known
 *   "exact"   true when "at" is when it happens (the hold ends then),
 *             false when it is a lower bound (it waits for DNS)
 *   "add", "remove"  records ("U S M HEX") a publish or retire changes
 * x->c, x->s and x->now must be set.  NULL with err on failure (a store
 * entry that cannot be read, out of memory).  The caller frees it.
 */
json_t *roll_plan(struct roll_ctx *x, const struct roll_state *st,
    char *err, size_t errlen);

/*
 * The plan as lines ("plan 1. publish: ..."), appended to out.  Times
 * are UTC.
 */
void roll_plan_text(const json_t *plan, time_t now, struct sbuf *out);

/* The first step of the plan (borrowed), or NULL when it is empty. */
const json_t *roll_plan_next(const json_t *plan);

/* t as "YYYY-MM-DD HH:MM:SS UTC" in buf. */
void roll_plan_time(time_t t, char *buf, size_t len);

#endif
