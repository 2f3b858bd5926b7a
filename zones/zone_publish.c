/*
 * zone_publish.c: from a list of records to one compare-and-swap update.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "zone_publish.h"
#include "zone_update.h"

/* Copy the records of group k of l into s (data duplicated). */
static int
collect(const struct zone_rrlist *l, const struct zone_groups *g, size_t k,
    struct zone_rrset *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	if ((s->v = calloc(g->start[k + 1] - g->start[k] + 1,
	    sizeof(*s->v))) == NULL)
		return -1;
	for (i = g->start[k]; i < g->start[k + 1]; i++) {
		if (tlsa_rec_copy(&s->v[s->n], &l->v[g->order[i]].rec) == -1)
			return -1;
		s->n++;
	}
	return 0;
}

/* The group of l with this owner copied into s; empty when none. */
static int
collect_owner(const struct zone_rrlist *l, const struct zone_groups *g,
    const char *owner, struct zone_rrset *s)
{
	size_t k = zone_groups_find(l, g, owner);

	memset(s, 0, sizeof(*s));
	return k == (size_t)-1 ? 0 : collect(l, g, k, s);
}

/* dst = records of a that are (want_in 1) or are not (0) in b. */
static int
filter(const struct zone_rrset *a, const struct zone_rrset *b, int want_in,
    struct zone_rrset *dst)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	for (i = 0; i < a->n; i++) {
		if (zone_rrset_has(b, &a->v[i]) == want_in &&
		    zone_rrset_push_copy(dst, &a->v[i]) == -1)
			return -1;
	}
	return 0;
}

/* Reads of an updated RRset before it must be what the update made. */
#define ZONE_READBACK_TRIES	5
#define ZONE_READBACK_GAP_MS	100

int
zone_read_back(zone_reader read, void *arg, const char *owner,
    const struct zone_rrset *want, int tries, long gap_ms,
    struct zone_rrset *now, char *err, size_t errlen)
{
	struct timespec gap = { gap_ms / 1000, (gap_ms % 1000) * 1000000L };
	int t;

	for (t = 0; t < tries; t++) {
		if (t > 0) {
			zone_rrset_free(now);
			(void)nanosleep(&gap, NULL);
		}
		if (read(arg, owner, now, err, errlen) == -1)
			return -1;
		if (zone_rrset_equal(now, want))
			return 1;
	}
	return 0;
}

/* zone_read_rrset as a zone_reader: arg is the server and options. */
struct primary_reader {
	const struct zone_server	*srv;
	const struct zone_publish_opts	*po;
};

static int
read_primary(void *arg, const char *owner, struct zone_rrset *out,
    char *err, size_t errlen)
{
	const struct primary_reader *pr = arg;

	return zone_read_rrset(pr->srv, owner, pr->po->key, &pr->po->xfer,
	    out, err, errlen);
}

/*
 * Read owner's RRset back from the primary until it equals want (an
 * inline-signing server may serve the change a moment later), at most
 * ZONE_READBACK_TRIES times.  Returns 1 equal, 0 not (now holds the
 * last read), -1 with a reason.
 */
static int
read_back(const struct zone_server *srv, const char *owner,
    const struct zone_publish_opts *po, const struct zone_rrset *want,
    struct zone_rrset *now, char *err, size_t errlen)
{
	struct primary_reader pr = { srv, po };

	return zone_read_back(read_primary, &pr, owner, want,
	    ZONE_READBACK_TRIES, ZONE_READBACK_GAP_MS, now, err, errlen);
}

/* A read-back that failed: the update itself was applied; say so. */
static void
applied(char *err, size_t errlen)
{
	size_t used = strlen(err);

	snprintf(err + used, errlen - used, " (reading the RRset back after "
	    "the server confirmed the update)");
}

/*
 * After the server said NOERROR: is each changed RRset what the update
 * should have made of it?  Some servers answer a delete of one record
 * NOERROR and delete nothing: PowerDNS matches the record's text, and a
 * record loaded from a zone file in upper-case hex does not match the
 * canonical text an update carries.  Then the whole RRset is replaced
 * (deleted and written anew) under a prerequisite on what it holds now,
 * and read back once more.  Anything else amiss is an error.
 */
static int
verify_changes(const struct zone_server *srv, const char *zone,
    const struct zone_publish_opts *po, struct zone_change *ch, size_t nch,
    struct sbuf *report, char *err, size_t errlen)
{
	struct zone_rrset want = { 0 }, now = { 0 }, keep = { 0 };
	struct zone_change fix;
	char *d1 = NULL, *d2 = NULL;
	size_t c, i, stuck, foreign;
	int rc = -1, r;

	for (c = 0; c < nch; c++) {
		zone_rrset_free(&want);
		zone_rrset_free(&now);
		zone_rrset_free(&keep);
		/* want = (expect - del) + add */
		if (filter(ch[c].expect, ch[c].del, 0, &keep) == -1)
			goto nomem;
		for (i = 0; i < keep.n; i++)
			if (zone_rrset_push_copy(&want, &keep.v[i]) == -1)
				goto nomem;
		for (i = 0; ch[c].add != NULL && i < ch[c].add->n; i++)
			if (!zone_rrset_has(&want, &ch[c].add->v[i]) &&
			    zone_rrset_push_copy(&want, &ch[c].add->v[i]) == -1)
				goto nomem;
		if ((r = read_back(srv, ch[c].owner, po, &want, &now, err,
		    errlen)) == -1) {
			applied(err, errlen);
			goto out;
		}
		if (r == 1)
			continue;
		for (i = 0, stuck = 0; ch[c].del != NULL && i < ch[c].del->n;
		    i++)
			stuck += zone_rrset_has(&now, &ch[c].del->v[i]);
		/*
		 * Repair only when all that is wrong is our own deletions
		 * kept: a record someone else added meanwhile is not ours
		 * to remove.
		 */
		for (i = 0, foreign = 0; i < now.n; i++)
			if (!zone_rrset_has(&want, &now.v[i]) &&
			    (ch[c].del == NULL ||
			    !zone_rrset_has(ch[c].del, &now.v[i])))
				foreign++;
		for (i = 0; i < want.n; i++)
			if (!zone_rrset_has(&now, &want.v[i]))
				foreign++;
		if (stuck > 0 && foreign == 0 && want.n > 0) {
			memset(&fix, 0, sizeof(fix));
			fix.owner = ch[c].owner;
			fix.expect = &now;
			fix.del_all = 1;
			fix.add = &want;
			fix.ttl = ch[c].ttl;
			if (zone_update_apply(srv, zone, po->key, &po->xfer,
			    &fix, 1, err, errlen) == -1)
				goto out;
			zone_rrset_free(&keep);
			if ((r = read_back(srv, ch[c].owner, po, &want, &keep,
			    err, errlen)) == -1) {
				applied(err, errlen);
				goto out;
			}
			if (r == 1) {
				sbuf_printf(report, "%s: the server answered "
				    "the delete of %zu record%s but kept %s "
				    "(it matches record text, not data): "
				    "replaced the whole RRset\n", ch[c].owner,
				    stuck, stuck == 1 ? "" : "s", stuck == 1 ?
				    "it" : "them");
				continue;
			}
			zone_rrset_free(&now);
			now = keep;
			memset(&keep, 0, sizeof(keep));
		}
		d1 = zone_rrset_describe(&now);
		d2 = zone_rrset_describe(&want);
		errfmt(err, errlen, "%s: %s: the server confirmed the update "
		    "but serves %s, not %s", srv->name, ch[c].owner,
		    d1 != NULL && *d1 != '\0' ? d1 : "no records",
		    d2 != NULL && *d2 != '\0' ? d2 : "no records");
		goto out;
	}
	rc = 0;
	goto out;
nomem:
	errfmt(err, errlen, "out of memory");
out:
	free(d1);
	free(d2);
	zone_rrset_free(&want);
	zone_rrset_free(&now);
	zone_rrset_free(&keep);
	return rc;
}

/* Room for changes in one update message, bytes. */
#define ZONE_MSG_BUDGET 60000

/* Upper bound of the wire size of one change's RRs. */
static size_t
change_size(const struct zone_change *c)
{
	size_t per = strlen(c->owner) + 2 + 10 + 3, n = 0, i;

	for (i = 0; i < c->expect->n; i++)
		n += per + c->expect->v[i].len;
	for (i = 0; c->del != NULL && i < c->del->n; i++)
		n += per + c->del->v[i].len;
	for (i = 0; c->add != NULL && i < c->add->n; i++)
		n += per + c->add->v[i].len;
	return n + per;
}

struct owner_work {
	const char		*owner;
	struct zone_rrset	 want, cur, add, del;
};

int
zone_publish(const struct zone_server *srv, const struct zone_rrlist *recs,
    const struct zone_publish_opts *po, struct sbuf *report, char *err,
    size_t errlen)
{
	struct owner_work *w = NULL;
	struct zone_change *ch = NULL;
	struct zone_groups g = { 0 }, eg = { 0 };
	char *zone = NULL, *desc;
	size_t nw = 0, nch = 0, i, j;
	int rc = -1;

	if ((w = calloc(recs->n + 1, sizeof(*w))) == NULL ||
	    (ch = calloc(recs->n + 1, sizeof(*ch))) == NULL) {
		errfmt(err, errlen, "out of memory");
		goto out;
	}
	if (zone_rrlist_group(recs, &g) == -1 ||
	    (po->expect != NULL && zone_rrlist_group(po->expect, &eg) == -1)) {
		errfmt(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < g.ngroups; i++)
		w[nw++].owner = recs->v[g.order[g.start[i]]].owner;
	if (po->zone != NULL)
		zone = strdup(po->zone);
	else
		zone = zone_find_apex(srv, w[0].owner, 0, po->key, &po->xfer, err,
		    errlen);
	if (zone == NULL)
		goto out;
	for (j = 0; j < nw; j++) {
		size_t zl = strlen(zone), ol = strlen(w[j].owner);

		if (strcmp(zone, ".") != 0 && (ol <= zl ||
		    strcmp(w[j].owner + ol - zl, zone) != 0 ||
		    w[j].owner[ol - zl - 1] != '.')) {
			errfmt(err, errlen, "%s is not in zone %s", w[j].owner,
			    zone);
			goto out;
		}
		if (collect(recs, &g, j, &w[j].want) == -1)
			goto nomem;
		if (po->expect != NULL) {
			if (collect_owner(po->expect, &eg, w[j].owner,
			    &w[j].cur) == -1)
				goto nomem;
		} else if (zone_read_rrset(srv, w[j].owner, po->key, &po->xfer,
		    &w[j].cur, err, errlen) == -1)
			goto out;
		switch (po->mode) {
		case ZONE_PUB_ADD:
			if (filter(&w[j].want, &w[j].cur, 0, &w[j].add) == -1)
				goto nomem;
			break;
		case ZONE_PUB_REPLACE:
			if (!zone_rrset_equal(&w[j].want, &w[j].cur) &&
			    (filter(&w[j].want, &w[j].cur, 0, &w[j].add) ==
			    -1 || filter(&w[j].cur, &w[j].want, 0,
			    &w[j].del) == -1))
				goto nomem;
			break;
		case ZONE_PUB_DELETE:
			if (filter(&w[j].want, &w[j].cur, 1, &w[j].del) == -1)
				goto nomem;
			break;
		}
		if (w[j].add.n == 0 && w[j].del.n == 0) {
			sbuf_printf(report, "%s: unchanged (%s already)\n",
			    w[j].owner, po->mode == ZONE_PUB_DELETE ?
			    "absent" : "published");
			continue;
		}
		ch[nch].owner = w[j].owner;
		ch[nch].expect = &w[j].cur;
		ch[nch].del = &w[j].del;
		ch[nch].add = &w[j].add;
		ch[nch].ttl = po->ttl;
		nch++;
	}
	/*
	 * One message per batch that fits in a DNS message (64 KiB over
	 * TCP, with room for the TSIG): each batch is atomic on the server.
	 */
	for (i = 0; i < nch && !po->dry_run; i = j) {
		size_t size = 512, add;

		for (j = i; j < nch; j++) {
			add = change_size(&ch[j]);
			if (j > i && size + add > ZONE_MSG_BUDGET)
				break;
			size += add;
		}
		if (zone_update_apply(srv, zone, po->key, &po->xfer, ch + i,
		    j - i, err, errlen) == -1) {
			if (i > 0) {
				size_t used = strlen(err);

				snprintf(err + used, errlen - used, " (owners "
				    "%s .. %s were updated before, in earlier "
				    "messages)", ch[0].owner, ch[i - 1].owner);
			}
			goto out;
		}
		if (verify_changes(srv, zone, po, ch + i, j - i, report, err,
		    errlen) == -1)
			goto out;
	}
	for (i = 0; i < nch; i++) {
		struct owner_work *x = NULL;

		for (j = 0; j < nw; j++)
			if (w[j].owner == ch[i].owner)
				x = &w[j];
		desc = zone_rrset_describe(&x->cur);
		sbuf_printf(report, "%s: %s%zu added, %zu removed (was: %s) "
		    "at %s, zone %s\n", x->owner, po->dry_run ?
		    "would be updated: " : "updated: ", x->add.n, x->del.n,
		    desc != NULL ? desc : "?", srv->name, zone);
		free(desc);
	}
	rc = 0;
	goto out;
nomem:
	errfmt(err, errlen, "out of memory");
out:
	for (j = 0; w != NULL && j < nw; j++) {
		zone_rrset_free(&w[j].want);
		zone_rrset_free(&w[j].cur);
		zone_rrset_free(&w[j].add);
		zone_rrset_free(&w[j].del);
	}
	free(w);
	free(ch);
	free(zone);
	zone_groups_free(&g);
	zone_groups_free(&eg);
	return rc;
}
