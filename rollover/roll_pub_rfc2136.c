/*
 * roll_pub_rfc2136.c: the rfc2136 publisher: dynamic updates signed
 * with the TSIG key to dns.primary, every RRset guarded by a
 * prerequisite on its exact content (zones/zone_publish.c), all owners
 * in one atomic update.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "roll_pub.h"
#include "zone_publish.h"
#include "zone_tsig.h"

struct rfc2136 {
	struct zone_server	 srv;
	struct zone_tsig	 key;
};

static const struct zone_xfer_opts xfer = { 3000, 3, 0 };

static int
r_open(struct roll_pub *p, char *err, size_t errlen)
{
	struct rfc2136 *r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		errfmt(err, errlen, "out of memory");
		return -1;
	}
	if (zone_server_parse(p->s->dns.primary, &r->srv, err, errlen) == -1 ||
	    zone_tsig_load(p->s->dns.tsig_key_file, &r->key, err,
	    errlen) == -1) {
		zone_tsig_free(&r->key);
		free(r);
		return -1;
	}
	snprintf(p->name, sizeof(p->name), "%s", r->srv.name);
	p->impl = r;
	return 0;
}

static int
r_read(struct roll_pub *p, const char *owner, struct zone_rrset *out,
    char *err, size_t errlen)
{
	struct rfc2136 *r = p->impl;

	return zone_read_rrset(&r->srv, owner, &r->key, &xfer, out, err,
	    errlen);
}

static int
r_publish(struct roll_pub *p, const struct zone_rrlist *want,
    const struct zone_rrlist *expect, int dry_run, struct sbuf *report,
    char *err, size_t errlen)
{
	struct rfc2136 *r = p->impl;
	struct zone_publish_opts po;

	memset(&po, 0, sizeof(po));
	po.mode = ZONE_PUB_REPLACE;
	po.zone = p->s->dns.zone;
	po.key = &r->key;
	po.xfer = xfer;
	po.dry_run = dry_run;
	po.ttl = p->s->dns.ttl;
	po.expect = expect;
	return zone_publish(&r->srv, want, &po, report, err, errlen);
}

static void
r_close(struct roll_pub *p)
{
	struct rfc2136 *r = p->impl;

	if (r == NULL)
		return;
	zone_tsig_free(&r->key);
	free(r);
}

const struct roll_pub_ops roll_pub_rfc2136_ops = {
	"rfc2136", r_open, r_read, NULL, r_publish, r_close
};

