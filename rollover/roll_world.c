/*
 * roll_world.c: the real world of the state machine (roll_world.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "roll_deploy.h"
#include "roll_live.h"
#include "roll_run.h"
#include "roll_vis.h"
#include "roll_world.h"

static time_t
real_now(void *arg)
{
	(void)arg;
	return time(NULL);
}

const struct roll_world roll_world_real = {
	.arg = NULL,
	.now = real_now,
	.vis = roll_vis_run,
	.apex = zone_find_apex,
	.pub_open = roll_pub_open,
	.deploy = roll_deploy,
	.deploy_fresh = roll_deploy_fresh,
	.link_gone = roll_deploy_link_gone,
	.reload = roll_reload,
	.live_check = roll_live_check,
	.live_matching = roll_live_matching,
};

const struct roll_world *
roll_world_of(const struct roll_ctx *x)
{
	return x->w != NULL ? x->w : &roll_world_real;
}

time_t
roll_world_now(const struct roll_ctx *x)
{
	const struct roll_world *w = roll_world_of(x);

	return w->now(w->arg);
}
