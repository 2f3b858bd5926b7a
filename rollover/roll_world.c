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
#include "roll_world.h"
#include "zone_check.h"

static const struct zone_xfer_opts xfer = { 3000, 3, 0 };
/*
 * Asking each authoritative server whether it serves the RRset: a lost
 * answer only means "not yet" (the next run asks again), so a server
 * that is down costs 3 s per question here, not 9.
 */
static const struct zone_xfer_opts vis_xfer = { 1500, 2, 0 };

static time_t
real_now(void *arg)
{
	(void)arg;
	return time(NULL);
}

/*
 * The servers to ask whether they serve the RRset: the job's
 * check_servers, else the NS set of the zone (asked of the resolver),
 * and the primary last (when there is one), asked with the key when it
 * has one (it may answer only us).  *vp and *np are what is built so
 * far, also on failure (the caller frees them).  0 or -1 (err empty
 * when out of memory).
 */
static int
vis_servers(const struct roll_vis_job *job,
    const struct zone_server *resolver, struct zone_vis **vp, size_t *np,
    char *err, size_t errlen)
{
	struct zone_vis *v = NULL, *nv;
	size_t n = 0, i;
	int rc = -1;

	if (job->ncheck_servers > 0) {
		if ((v = calloc(job->ncheck_servers + 1, sizeof(*v))) == NULL)
			goto out;
		for (i = 0; i < job->ncheck_servers; i++) {
			if (zone_server_parse(job->check_servers[i],
			    &v[i].srv, err, errlen) == -1)
				goto out;
			v[i].role = "server";
		}
		n = job->ncheck_servers;
	} else if (job->resolver != NULL) {
		if (zone_ns_servers(resolver, job->zone, 53, &xfer, &v, &n,
		    err, errlen) == -1)
			goto out;
		if ((nv = reallocarray(v, n + 1, sizeof(*v))) == NULL)
			goto out;	/* v and n stay the caller's */
		v = nv;
	} else if ((v = calloc(1, sizeof(*v))) == NULL)
		goto out;
	if (job->primary != NULL) {
		memset(&v[n], 0, sizeof(v[n]));
		v[n].srv = *job->primary;
		v[n].role = "primary";
		v[n].key = job->key != NULL && job->key->name != NULL ?
		    job->key : NULL;
		n++;
	}
	rc = 0;
out:
	*vp = v;
	*np = n;
	return rc;
}

/*
 * The real visibility, asked from this process: what
 * roll_vis_run (rollover/roll_vis.c) asks from an unprivileged child,
 * with the same questions in the same order.
 */
static int
vis_inproc(const struct roll_vis_job *job, struct roll_vis_result *out,
    char *err, size_t errlen)
{
	static const struct zone_server none;
	struct zone_server resolver;
	const struct zone_server *via;
	struct roll_vis_owner *o;
	struct zone_vis *v = NULL;
	char why[ERRBUF_LEN];
	size_t n = 0, h, i;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	why[0] = '\0';
	if (job->resolver != NULL && zone_server_parse(job->resolver,
	    &resolver, err, errlen) == -1)
		goto out;
	if (vis_servers(job, &resolver, &v, &n, err, errlen) == -1)
		goto out;
	if ((out->o = calloc(job->nowners, sizeof(*out->o))) == NULL)
		goto out;
	out->n = job->nowners;
	for (h = 0; h < job->nowners; h++) {
		o = &out->o[h];
		if ((o->v = calloc(n + 1, sizeof(*o->v))) == NULL)
			goto out;
		o->n = n;
		for (i = 0; i < n; i++) {
			o->v[i].srv = v[i].srv;
			o->v[i].role = v[i].role;
			o->v[i].key = v[i].key;
			memcpy(o->v[i].nsname, v[i].nsname,
			    sizeof(o->v[i].nsname));
		}
		(void)zone_visibility(o->v, n, job->zone, job->owners[h],
		    job->expect, &vis_xfer);
		if (job->resolver != NULL) {
			o->res_asked = 1;
			o->res_sec = zone_resolve_validated(&resolver,
			    job->owners[h], &xfer, &o->res_rrset, why,
			    sizeof(why));
			snprintf(o->res_why, sizeof(o->res_why), "%s", why);
		}
		if (job->ta_file != NULL) {
			via = job->resolver != NULL ? &resolver :
			    job->primary != NULL ? job->primary : &none;
			o->local_asked = 1;
			o->local_sec = zone_validate_local(via, job->ta_file,
			    job->owners[h], &xfer, &o->local_rrset, why,
			    sizeof(why));
			snprintf(o->local_why, sizeof(o->local_why), "%s",
			    why);
		}
	}
	rc = 0;
out:
	if (rc == -1 && err[0] == '\0')
		errfmt(err, errlen, "out of memory");
	zone_vis_free(v, n);
	return rc;
}

void
roll_vis_result_free(struct roll_vis_result *r)
{
	size_t h;

	for (h = 0; r->o != NULL && h < r->n; h++) {
		zone_vis_free(r->o[h].v, r->o[h].n);
		zone_rrset_free(&r->o[h].res_rrset);
		zone_rrset_free(&r->o[h].local_rrset);
	}
	free(r->o);
	memset(r, 0, sizeof(*r));
}

const struct roll_world roll_world_real = {
	.arg = NULL,
	.now = real_now,
	.vis = vis_inproc,
	.pub_open = roll_pub_open,
	.deploy = roll_deploy,
	.deploy_fresh = roll_deploy_fresh,
	.deployed = roll_deployed,
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
