/*
 * chk_out.c: what the live MX check prints (Nagios status line
 * with perfdata, then one line per host/address/certificate, then the
 * details; or JSON).  Its command line is rollover/roll_check_cmd.c.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <ldns/ldns.h>
#include <openssl/x509.h>

#include "chk_out.h"
#include "chk_probe.h"
#include "log.h"
#include "tlsa_rec.h"

struct counts {
	size_t	 hosts, addrs, chains, st[4];
	long	 min_days;
	int	 have_days;
};

static void
count(const struct chk_run *r, struct counts *c)
{
	size_t di, hi, ai;
	int k;

	memset(c, 0, sizeof(*c));
	for (di = 0; di < r->nd; di++) {
		/* A domain or host with nothing to connect to counts too. */
		if (r->d[di].nhosts == 0)
			c->st[r->d[di].status]++;
		for (hi = 0; hi < r->d[di].nhosts; hi++) {
			const struct chk_host *h = &r->d[di].hosts[hi];

			c->hosts++;
			if (h->naddrs == 0)
				c->st[h->status]++;
			for (ai = 0; ai < h->naddrs; ai++) {
				const struct chk_addr *a = &h->addrs[ai];

				c->addrs++;
				c->st[a->status]++;
				for (k = 0; k < a->nchains; k++) {
					c->chains++;
					if (!c->have_days ||
					    a->chains[k].days_left <
					    c->min_days)
						c->min_days =
						    a->chains[k].days_left;
					c->have_days = 1;
				}
			}
		}
	}
}

static const char *
sec_name(int sec)
{
	return sec < 0 ? "not looked up" : zone_sec_name(sec);
}

/* Call f for every finding, worst first. */
static void
each_finding(const struct chk_run *r, void (*f)(const struct chk_finding *,
    void *), void *arg)
{
	static const int order[] = { CHK_CRITICAL, CHK_UNKNOWN, CHK_WARNING,
	    CHK_OK };
	const struct chk_findings *all[4096];
	size_t n = 0, di, hi, ai, i, k;

	all[n++] = &r->f;
	for (di = 0; di < r->nd && n < 4096; di++) {
		all[n++] = &r->d[di].f;
		for (hi = 0; hi < r->d[di].nhosts && n < 4096; hi++) {
			all[n++] = &r->d[di].hosts[hi].f;
			for (ai = 0; ai < r->d[di].hosts[hi].naddrs &&
			    n < 4096; ai++)
				all[n++] = &r->d[di].hosts[hi].addrs[ai].f;
		}
	}
	for (k = 0; k < 4; k++)
		for (i = 0; i < n; i++) {
			size_t j;

			for (j = 0; j < all[i]->n; j++)
				if (all[i]->v[j].status == order[k])
					f(&all[i]->v[j], arg);
		}
}

struct summary {
	char	 text[600];
	int	 shown, more;
};

static void
summarise(const struct chk_finding *fi, void *arg)
{
	struct summary *s = arg;
	size_t len = strlen(s->text);

	if (fi->status == CHK_OK)
		return;
	if (s->shown >= 2) {
		s->more++;
		return;
	}
	snprintf(s->text + len, sizeof(s->text) - len, "%s%s",
	    s->shown ? "; " : "", fi->text);
	s->shown++;
}

static void
print_finding(const struct chk_finding *fi, void *arg)
{
	FILE *f = arg;

	fprintf(f, "  %s: %s\n", fi->status == CHK_OK ? "note" :
	    chk_status_name(fi->status), fi->text);
}

static void
expiry(const struct chk_chain *c, char *buf, size_t len)
{
	struct tm tm;
	char d[32] = "?";

	if (c->not_after != 0 && gmtime_r(&c->not_after, &tm) != NULL)
		strftime(d, sizeof(d), "%Y-%m-%d", &tm);
	if (c->days_left < 0)
		snprintf(buf, len, "expired %s (%ld days ago)", d,
		    -c->days_left);
	else
		snprintf(buf, len, "expires %s (%ld days)", d, c->days_left);
}

static void
records(const struct zone_rrset *s, char *buf, size_t len)
{
	size_t i, off = 0;
	char *h;

	buf[0] = '\0';
	for (i = 0; i < s->n && off < len; i++) {
		h = tlsa_hex(s->v[i].data, s->v[i].len);
		off += (size_t)snprintf(buf + off, len - off, "%s%u %u %u "
		    "%.16s%s", i ? ", " : "", s->v[i].spec.usage,
		    s->v[i].spec.selector, s->v[i].spec.mtype,
		    h != NULL ? h : "", h != NULL && strlen(h) > 16 ? "..." :
		    "");
		free(h);
	}
}

void
chk_print_text(const struct chk_run *r, FILE *f, int verbose)
{
	struct counts c;
	struct summary s;
	size_t di, hi, ai;
	char rec[2048], exp[64];
	int k;

	(void)verbose;
	count(r, &c);
	memset(&s, 0, sizeof(s));
	each_finding(r, summarise, &s);
	if (s.shown == 0)
		snprintf(s.text, sizeof(s.text), "%zu MX host%s, %zu "
		    "address%s, %zu certificate%s: every one matches its "
		    "TLSA records", c.hosts, c.hosts == 1 ? "" : "s", c.addrs,
		    c.addrs == 1 ? "" : "es", c.chains, c.chains == 1 ? "" :
		    "s");
	fprintf(f, "DANE %s - %s", chk_status_name(r->status), s.text);
	if (s.more > 0)
		fprintf(f, " (and %d more)", s.more);
	fprintf(f, " | hosts=%zu addresses=%zu certificates=%zu ok=%zu "
	    "warning=%zu critical=%zu unknown=%zu", c.hosts, c.addrs,
	    c.chains, c.st[CHK_OK], c.st[CHK_WARNING], c.st[CHK_CRITICAL],
	    c.st[CHK_UNKNOWN]);
	if (c.have_days)
		fprintf(f, " days_left=%ld;%d:;0:", c.min_days,
		    r->o.warn_days);
	fprintf(f, " time=%.3fs\n", r->elapsed);

	for (di = 0; di < r->nd; di++) {
		const struct chk_domain *d = &r->d[di];

		if (d->mx_sec != -1) {
			fprintf(f, "%s: MX %s:", d->name, sec_name(d->mx_sec));
			for (hi = 0; hi < d->nhosts; hi++)
				fprintf(f, " %u %s", d->hosts[hi].pref,
				    d->hosts[hi].name);
			fprintf(f, "%s\n", d->nhosts == 0 ? " none" :
			    d->implicit ? " (implicit)" : "");
		}
		for (hi = 0; hi < d->nhosts; hi++) {
			const struct chk_host *h = &d->hosts[hi];

			if (h->given != NULL) {
				records(h->given, rec, sizeof(rec));
				fprintf(f, "%s: checked against %s\n",
				    h->name, rec);
			} else if (h->owner[0] != '\0') {
				records(&h->tlsa, rec, sizeof(rec));
				fprintf(f, "%s: TLSA %s %s: %s\n", h->name,
				    h->owner, sec_name(h->tlsa_sec),
				    h->tlsa.n ? rec : "no records");
			}
			if (h->naddrs == 0)
				fprintf(f, "%s: %s: no address\n", h->name,
				    chk_status_name(h->status));
			for (ai = 0; ai < h->naddrs; ai++) {
				const struct chk_addr *a = &h->addrs[ai];

				if (a->nchains == 0)
					fprintf(f, "%s %s: %s: no certificate\n",
					    h->name, a->addr,
					    chk_status_name(a->status));
				for (k = 0; k < a->nchains; k++) {
					const struct chk_chain *ch =
					    &a->chains[k];

					expiry(ch, exp, sizeof(exp));
					fprintf(f, "%s %s %s: %s: %s; %s %s%s%s;"
					    " %s\n", h->name, a->addr, ch->kind,
					    chk_status_name(ch->status),
					    ch->summary, ch->s->version,
					    ch->s->cipher, ch->s->kx[0] ? " " :
					    "", ch->s->kx, exp);
				}
			}
		}
	}
	fprintf(f, "details:\n");
	each_finding(r, print_finding, f);
}

static json_t *
rrset_json(const struct zone_rrset *s)
{
	json_t *arr = json_array();
	size_t i;
	char *h;

	for (i = 0; i < s->n; i++) {
		h = tlsa_hex(s->v[i].data, s->v[i].len);
		json_array_append_new(arr, json_sprintf("%u %u %u %s",
		    s->v[i].spec.usage, s->v[i].spec.selector,
		    s->v[i].spec.mtype, h != NULL ? h : ""));
		free(h);
	}
	return arr;
}

static json_t *
findings_json(const struct chk_findings *f)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < f->n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s}", "status",
		    chk_status_name(f->v[i].status), "text", f->v[i].text));
	return arr;
}

static json_t *
probe_json(const struct chk_probe_res *p)
{
	if (!p->queued)
		return json_null();
	if (!p->done)
		return json_pack("{s:s}", "result", "not run");
	if (p->ok)
		return json_pack("{s:s, s:s, s:s}", "result", "accepted",
		    "version", p->s.version, "cipher", p->s.cipher);
	return json_pack("{s:s, s:s}", "result", p->s.tls_failed ?
	    "refused" : "not tested", "error", p->error);
}

static json_t *
chain_json(const struct chk_host *h, const struct chk_chain *c)
{
	const struct zone_rrset *recs = h->given != NULL ? h->given :
	    &h->usable;
	json_t *o, *certs = json_array();
	char buf[512], *hex;
	int i;

	for (i = 0; i < sk_X509_num(c->s->chain); i++) {
		X509 *x = sk_X509_value(c->s->chain, i);
		json_t *co = json_object();

		X509_NAME_oneline(X509_get_subject_name(x), buf, sizeof(buf));
		json_object_set_new(co, "subject", json_string(buf));
		X509_NAME_oneline(X509_get_issuer_name(x), buf, sizeof(buf));
		json_object_set_new(co, "issuer", json_string(buf));
		json_array_append_new(certs, co);
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:o}",
	    "kind", c->kind, "status", chk_status_name(c->status),
	    "version", c->s->version, "cipher", c->s->cipher, "kx", c->s->kx,
	    "forward_secrecy", c->s->pfs, "days_left", (json_int_t)c->days_left,
	    "chain", certs);
	if (c->not_after != 0) {
		struct tm tm;

		gmtime_r(&c->not_after, &tm);
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_object_set_new(o, "not_after", json_string(buf));
	}
	if (c->dane == -1)
		json_object_set_new(o, "dane", json_null());
	else if (c->dane == 1 && c->match >= 0) {
		json_t *dj;

		hex = tlsa_hex(recs->v[c->match].data,
		    recs->v[c->match].len);
		dj = json_pack("{s:b, s:o, s:i}",
		    "match", 1, "record", json_sprintf("%u %u %u %s",
		    recs->v[c->match].spec.usage,
		    recs->v[c->match].spec.selector,
		    recs->v[c->match].spec.mtype, hex != NULL ? hex : ""),
		    "depth", c->depth);

		/* DANE-TA: the reference identifier the leaf matched. */
		if (dj != NULL && c->name[0] != '\0')
			json_object_set_new(dj, "name", json_string(c->name));
		json_object_set_new(o, "dane", dj);
		free(hex);
	} else
		json_object_set_new(o, "dane", json_pack("{s:b, s:s}",
		    "match", 0, "reason", c->reason));
	return o;
}

int
chk_print_json(const struct chk_run *r, FILE *f)
{
	json_t *root, *doms = json_array();
	struct counts c;
	size_t di, hi, ai;
	int k;
	char *t;

	count(r, &c);
	for (di = 0; di < r->nd; di++) {
		const struct chk_domain *d = &r->d[di];
		json_t *dj, *hosts = json_array();

		for (hi = 0; hi < d->nhosts; hi++) {
			const struct chk_host *h = &d->hosts[hi];
			json_t *hj, *addrs = json_array();

			for (ai = 0; ai < h->naddrs; ai++) {
				const struct chk_addr *a = &h->addrs[ai];
				json_t *chains = json_array();

				for (k = 0; k < a->nchains; k++)
					json_array_append_new(chains,
					    chain_json(h, &a->chains[k]));
				json_array_append_new(addrs, json_pack(
				    "{s:s, s:s, s:o, s:{s:o, s:o, s:o, s:o},"
				    " s:o}",
				    "address", a->addr,
				    "status", chk_status_name(a->status),
				    "certificates", chains,
				    "hygiene",
				    "legacy_tls", probe_json(
				    &a->p[CHK_P_LEGACY]),
				    "tls1_0", probe_json(&a->p[CHK_P_TLS10]),
				    "weak_ciphers", probe_json(
				    &a->p[CHK_P_WEAK]),
				    "rsa_key_exchange", probe_json(
				    &a->p[CHK_P_KRSA]),
				    "findings", findings_json(&a->f)));
			}
			hj = json_pack("{s:s, s:i, s:i, s:s, s:s, s:o, s:o,"
			    " s:o}", "host", h->name, "preference",
			    (int)h->pref, "port", (int)h->port,
			    "status", chk_status_name(h->status),
			    "address_dnssec", sec_name(h->addr_sec),
			    "addresses", addrs,
			    "tlsa", rrset_json(h->given != NULL ? h->given :
			    &h->tlsa),
			    "findings", findings_json(&h->f));
			if (h->target[0] != '\0')
				json_object_set_new(hj, "cname",
				    json_string(h->target));
			if (h->given == NULL) {
				json_object_set_new(hj, "tlsa_owner",
				    json_string(h->owner));
				json_object_set_new(hj, "tlsa_dnssec",
				    json_string(sec_name(h->tlsa_sec)));
			}
			json_array_append_new(hosts, hj);
		}
		dj = json_pack("{s:s, s:s, s:o, s:o}", "name", d->name,
		    "status", chk_status_name(d->status), "mx", hosts,
		    "findings", findings_json(&d->f));
		if (d->mx_sec != -1) {
			json_object_set_new(dj, "mx_dnssec",
			    json_string(sec_name(d->mx_sec)));
			json_object_set_new(dj, "implicit_mx",
			    json_boolean(d->implicit));
		}
		json_array_append_new(doms, dj);
	}
	root = json_pack("{s:s, s:i, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I},"
	    " s:f, s:s, s:o, s:o}",
	    "status", chk_status_name(r->status), "exit", r->status,
	    "counts", "hosts", (json_int_t)c.hosts,
	    "addresses", (json_int_t)c.addrs,
	    "certificates", (json_int_t)c.chains,
	    "ok", (json_int_t)c.st[CHK_OK],
	    "warning", (json_int_t)c.st[CHK_WARNING],
	    "critical", (json_int_t)c.st[CHK_CRITICAL],
	    "unknown", (json_int_t)c.st[CHK_UNKNOWN],
	    "seconds", r->elapsed, "weak_ciphers_tested", r->weak_tested,
	    "domains", doms, "findings", findings_json(&r->f));
	if (root == NULL)
		return -1;
	t = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	if (t == NULL)
		return -1;
	fprintf(f, "%s\n", t);
	free(t);
	return 0;
}
