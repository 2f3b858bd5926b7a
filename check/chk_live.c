/*
 * chk_live.c: probing the MX addresses of a service (the VERIFY and
 * RETIRE steps), with the live check's concurrent probes, in a child
 * process that has dropped root: the code that parses what strangers
 * send never runs with the right to read the private keys.  What to
 * probe comes in a struct chk_live, so that this knows nothing of the
 * rollover's configuration (rollover/roll_live.c builds it).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chk_live.h"
#include "chk_probe.h"
#include "log.h"
#include "privsep.h"
#include "tlsa_dane.h"
#include "tlsa_parse.h"
#include "zone_net.h"

#define LIVE_MAX_REPLY	(4 * 1024 * 1024)

/*
 * Add to out the records of recs that chain matches on its own, each
 * tested alone with OpenSSL's DANE code for host.  The number of them
 * (added or there already), or -1 with err.
 */
static int
matching(STACK_OF(X509) *chain, const char *host,
    const struct zone_rrset *recs, struct zone_rrset *out, char *err,
    size_t errlen)
{
	struct tlsa_match m;
	size_t i;
	int r, n = 0;

	for (i = 0; i < recs->n; i++) {
		if ((r = tlsa_dane_verify(chain, NULL, host, &recs->v[i], 1,
		    &m, err, errlen)) == -1)
			return -1;
		if (r == 0)
			continue;
		n++;
		if (!zone_rrset_has(out, &recs->v[i]) &&
		    zone_rrset_push_copy(out, &recs->v[i]) == -1) {
			errfmt(err, errlen, "out of memory");
			return -1;
		}
	}
	return n;
}

/*
 * match_each 0: served gets the records the service would publish for
 * each served chain; a chain that does not validate against recs is a
 * failure.  match_each 1: served gets the records of recs that some
 * served chain matches, and only an address not seen in full is one.
 */
static int
probe(const struct chk_live *l, const struct zone_rrset *recs,
    int match_each, struct zone_rrset *served, struct sbuf *report,
    char *err, size_t errlen)
{
	struct chk_run r;
	char lerr[ERRBUF_LEN];
	size_t h, a, f;
	int k, bad = 0, addrs = 0;

	memset(&r, 0, sizeof(r));
	chk_opts_default(&r.o);
	r.o.port = l->port;
	r.o.timeout_ms = 10000;
	r.o.hygiene = 0;
	r.o.jobs = 64;
	/*
	 * Addresses as sending MTAs find them: A and AAAA through the
	 * service's validating resolver (or resolv.conf's first server,
	 * asked over DNS), never /etc/hosts, where a stock Debian host maps
	 * its own name to 127.0.1.1.  addresses: in the config overrides
	 * DNS for a host (split horizons).
	 */
	if (l->resolver != NULL) {
		if (zone_server_parse(l->resolver, &r.o.resolver, lerr,
		    sizeof(lerr)) == -1) {
			errfmt(err, errlen, "dns.resolver: %s", lerr);
			return -1;
		}
	} else if (zone_server_system(&r.o.resolver, lerr,
	    sizeof(lerr)) == -1) {
		for (h = 0; h < l->nhosts; h++)
			if (l->hosts[h].fixed == NULL)
				break;
		if (h < l->nhosts) {
			errfmt(err, errlen, "service %s: no resolver to look "
			    "up the addresses of %s: %s", l->name,
			    l->hosts[h].name, lerr);
			return -1;
		}
	}
	r.o.have_resolver = 1;
	for (h = 0; h < l->nhosts; h++) {
		if (chk_add_host_at(&r, l->hosts[h].name, recs,
		    l->hosts[h].fixed, l->hosts[h].nfixed) == -1) {
			errfmt(err, errlen, "out of memory");
			chk_run_free(&r);
			return -1;
		}
	}
	(void)chk_execute(&r);
	for (h = 0; h < r.nd; h++) {
		const struct chk_host *ch = &r.d[h].hosts[0];

		/* Notes are reported; what makes a probe moot fails it. */
		for (f = 0; f < ch->f.n; f++) {
			sbuf_printf(report, "  %s\n", ch->f.v[f].text);
			if (ch->f.v[f].status == CHK_CRITICAL ||
			    ch->f.v[f].status == CHK_UNKNOWN)
				bad++;
		}
		for (a = 0; a < ch->naddrs; a++) {
			const struct chk_addr *ad = &ch->addrs[a];

			addrs++;
			if (ad->nchains == 0) {
				sbuf_printf(report, "  %s %s: FAILED: %s\n",
				    ch->name, ad->addr, ad->f.n > 0 ?
				    ad->f.v[0].text : "no certificate");
				bad++;
			} else if (ad->probe_failed) {
				/* What that probe would have seen is unknown:
				 * nothing may be retired on its account. */
				for (f = 0; f < ad->f.n; f++)
					if (ad->f.v[f].status != CHK_OK)
						sbuf_printf(report, "  %s\n",
						    ad->f.v[f].text);
				bad++;
			}
			for (k = 0; k < ad->nchains; k++) {
				const struct chk_chain *c = &ad->chains[k];

				if (match_each) {
					int nm = matching(c->s->chain,
					    ch->name, recs, served, lerr,
					    sizeof(lerr));

					if (nm == -1) {
						sbuf_printf(report, "  %s %s: "
						    "%s\n", ch->name, ad->addr,
						    lerr);
						bad++;
					} else
						sbuf_printf(report, "  %s %s "
						    "(%s): serves a chain that "
						    "%d of those records "
						    "match\n", ch->name,
						    ad->addr, c->kind, nm);
					continue;
				}
				if (c->dane == 1 && c->match >= 0)
					sbuf_printf(report, "  %s %s (%s): "
					    "DANE OK, record %u %u %u at depth "
					    "%d\n", ch->name, ad->addr, c->kind,
					    recs->v[c->match].spec.usage,
					    recs->v[c->match].spec.selector,
					    recs->v[c->match].spec.mtype,
					    c->depth);
				else if (c->dane == 1)
					sbuf_printf(report, "  %s %s (%s): "
					    "DANE OK at depth %d\n", ch->name,
					    ad->addr, c->kind, c->depth);
				else {
					sbuf_printf(report, "  %s %s (%s): "
					    "DANE FAILED: %s\n", ch->name,
					    ad->addr, c->kind, c->dane == 0 ?
					    c->reason : "no records");
					bad++;
				}
				if (served != NULL && l->records(l->arg,
				    c->s->chain, served, lerr,
				    sizeof(lerr)) == -1) {
					sbuf_printf(report, "  %s %s: %s\n",
					    ch->name, ad->addr, lerr);
					bad++;
				}
			}
		}
	}
	chk_run_free(&r);
	if (addrs == 0) {
		errfmt(err, errlen, "service %s: no MX address could be found",
		    l->name);
		return -1;
	}
	return bad;
}

/*
 * The child's report to the parent, one item per line:
 *   R text       a report line
 *   T u s m hex  a record some served chain would get
 *   B n          the number of failures (last line)
 *   E text       an error instead
 */
static void __attribute__((noreturn))
child(const struct chk_live *l, const struct zone_rrset *recs,
    int want_served, int match_each, int fd)
{
	struct zone_rrset served = { 0 };
	struct sbuf rep = { 0 }, out = { 0 };
	char err[ERRBUF_LEN], *line, *nl, *h;
	size_t i;
	int bad;

	if (privsep_drop(NULL, err, sizeof(err)) == -1)
		bad = -1;
	else
		bad = probe(l, recs, match_each, want_served ? &served : NULL,
		    &rep, err, sizeof(err));
	if (bad == -1)
		sbuf_printf(&out, "E %s\n", err);
	else {
		sbuf_add(&rep, "", 1);
		for (line = rep.s; line != NULL && *line != '\0'; line = nl) {
			if ((nl = strchr(line, '\n')) != NULL)
				*nl++ = '\0';
			sbuf_printf(&out, "R %s\n", line);
		}
		for (i = 0; i < served.n; i++) {
			h = tlsa_hex(served.v[i].data, served.v[i].len);
			sbuf_printf(&out, "T %u %u %u %s\n",
			    served.v[i].spec.usage, served.v[i].spec.selector,
			    served.v[i].spec.mtype, h != NULL ? h : "");
			free(h);
		}
		sbuf_printf(&out, "B %d\n", bad);
	}
	(void)sbuf_write(&out, fd);
	_exit(0);
}

static int
parse_reply(char *buf, struct zone_rrset *served, struct sbuf *report,
    char *err, size_t errlen)
{
	struct tlsa_reclist l = { 0 };
	char *line, *nl, lerr[ERRBUF_LEN];
	size_t i;
	int bad = -2;

	for (line = buf; line != NULL && *line != '\0'; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		if (strncmp(line, "R ", 2) == 0)
			sbuf_printf(report, "%s\n", line + 2);
		else if (strncmp(line, "T ", 2) == 0 && served != NULL) {
			if (tlsa_parse_line(&l, line + 2, lerr,
			    sizeof(lerr)) == -1) {
				errfmt(err, errlen, "probe process: %s", lerr);
				tlsa_reclist_free(&l);
				return -1;
			}
		} else if (strncmp(line, "B ", 2) == 0)
			bad = atoi(line + 2);
		else if (strncmp(line, "E ", 2) == 0) {
			errfmt(err, errlen, "%s", line + 2);
			tlsa_reclist_free(&l);
			return -1;
		}
	}
	for (i = 0; served != NULL && i < l.n; i++)
		if (!zone_rrset_has(served, &l.v[i]) &&
		    zone_rrset_push_copy(served, &l.v[i]) == -1) {
			errfmt(err, errlen, "out of memory");
			bad = -1;
		}
	tlsa_reclist_free(&l);
	if (bad == -2) {
		errfmt(err, errlen, "the probe process gave no result");
		return -1;
	}
	return bad;
}

struct live_job {
	const struct chk_live		*l;
	const struct zone_rrset		*recs;
	int				 want_served, match_each;
};

static void
live_child(void *arg, int fd)
{
	const struct live_job *j = arg;

	child(j->l, j->recs, j->want_served, j->match_each, fd);
}

static int
live_run(const struct chk_live *l, const struct zone_rrset *recs,
    int match_each, struct zone_rrset *served, struct sbuf *report,
    char *err, size_t errlen)
{
	struct live_job j = { l, recs, served != NULL, match_each };
	struct sbuf in = { 0 };
	int rc;

	rc = privsep_child_run(live_child, &j, "probe process", 300,
	    LIVE_MAX_REPLY, &in, err, errlen);
	sbuf_add(&in, "", 1);
	if (rc == 0)
		rc = parse_reply(in.s, served, report, err, errlen);
	sbuf_free(&in);
	return rc;
}

int
chk_live_check(const struct chk_live *l, const struct zone_rrset *recs,
    struct zone_rrset *served, struct sbuf *report, char *err, size_t errlen)
{
	return live_run(l, recs, 0, served, report, err, errlen);
}

int
chk_live_matching(const struct chk_live *l,
    const struct zone_rrset *cand, struct zone_rrset *matched,
    struct sbuf *report, char *err, size_t errlen)
{
	return live_run(l, cand, 1, matched, report, err, errlen);
}
