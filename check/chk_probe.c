/*
 * chk_probe.c: the live MX check: targets, DNS, concurrent probes and
 * the verdicts.  Output is in chk_out.c, the command line in
 * rollover/roll_check_cmd.c.
 *
 * DANE applicability follows RFC 7672 section 2.2: an insecure MX RRset
 * is a warning (senders may still use DANE for secure MX hosts); MX
 * host address records must be secure for senders to look for TLSA
 * records; a CNAME-expanded MX host name is tried first when the whole
 * chain is secure, then the original name; the first secure TLSA RRset
 * decides; only usages 2 and 3 count for SMTP.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "chk_probe.h"
#include "tlsa_dane.h"
#include "tlsa_rec.h"
#include "zone_rr.h"

#define CHK_MAX_MX	32	/* MX hosts per domain we look at */
#define CHK_MAX_ADDRS	32	/* addresses per host */
#define CHK_STACK	(512 * 1024)

static pthread_mutex_t dead_mu = PTHREAD_MUTEX_INITIALIZER;

const char *
chk_status_name(int st)
{
	switch (st) {
	case CHK_OK: return "OK";
	case CHK_WARNING: return "WARNING";
	case CHK_CRITICAL: return "CRITICAL";
	default: return "UNKNOWN";
	}
}

static int
rank(int st)
{
	switch (st) {
	case CHK_OK: return 0;
	case CHK_WARNING: return 1;
	case CHK_UNKNOWN: return 2;
	default: return 3;
	}
}

int
chk_worse(int a, int b)
{
	return rank(a) >= rank(b) ? a : b;
}

static void __attribute__((format(printf, 3, 4)))
note(struct chk_findings *f, int status, const char *fmt, ...)
{
	struct chk_finding *nv;
	char buf[1024], vis[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* Peers choose some of this text: no control bytes in reports. */
	str_vis(vis, sizeof(vis), buf, strlen(buf));
	f->status = chk_worse(f->status, status);
	if ((nv = reallocarray(f->v, f->n + 1, sizeof(*nv))) == NULL)
		return;
	f->v = nv;
	nv[f->n].status = status;
	if ((nv[f->n].text = strdup(vis)) != NULL)
		f->n++;
}

static void
findings_free(struct chk_findings *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->v[i].text);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

/* A host finding that also makes every chain served there fail. */
static void __attribute__((format(printf, 3, 4)))
no_dane(struct chk_host *h, int status, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	note(&h->f, status, "%s", buf);
	if (h->no_dane[0] == '\0') {
		snprintf(h->no_dane, sizeof(h->no_dane), "%s", buf);
		h->no_dane_status = status;
	}
}

void
chk_opts_default(struct chk_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->port = 25;
	o->starttls = -1;
	o->timeout_ms = 15000;
	o->deadline_ms = 120000;
	o->jobs = 512;
	o->warn_days = 14;
	o->hygiene = 2;
	o->lvl_legacy = CHK_OK;
	o->lvl_weak = CHK_WARNING;
	o->lvl_krsa = CHK_OK;
	o->lvl_nopfs = CHK_WARNING;
	if (gethostname(o->helo, sizeof(o->helo)) == -1 ||
	    o->helo[0] == '\0' || strchr(o->helo, '.') == NULL)
		snprintf(o->helo, sizeof(o->helo), "localhost.localdomain");
	o->helo[sizeof(o->helo) - 1] = '\0';
}

int
chk_hygiene_levels(struct chk_opts *o, const char *spec, char *err,
    size_t errlen)
{
	char buf[256], *item, *save = NULL, *eq;
	int *dst, lvl;

	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf)) {
		errfmt(err, errlen, "\"%s\": too long", spec);
		return -1;
	}
	for (item = strtok_r(buf, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(item, '=')) == NULL)
			goto bad;
		*eq++ = '\0';
		if (strcmp(item, "legacy") == 0)
			dst = &o->lvl_legacy;
		else if (strcmp(item, "weak") == 0)
			dst = &o->lvl_weak;
		else if (strcmp(item, "krsa") == 0)
			dst = &o->lvl_krsa;
		else if (strcmp(item, "nopfs") == 0)
			dst = &o->lvl_nopfs;
		else
			goto bad;
		if (strcmp(eq, "ok") == 0)
			lvl = CHK_OK;
		else if (strcmp(eq, "warning") == 0)
			lvl = CHK_WARNING;
		else if (strcmp(eq, "critical") == 0)
			lvl = CHK_CRITICAL;
		else
			goto bad;
		*dst = lvl;
	}
	return 0;
bad:
	errfmt(err, errlen, "\"%s\": want KIND=LEVEL[,...], KIND legacy, "
	    "weak, krsa or nopfs, LEVEL ok, warning or critical", spec);
	return -1;
}

static void
name_copy(char *dst, size_t len, const char *src)
{
	size_t n;

	snprintf(dst, len, "%s", src);
	n = strlen(dst);
	if (n > 1 && dst[n - 1] == '.')
		dst[n - 1] = '\0';
	for (; *dst != '\0'; dst++)
		if (*dst >= 'A' && *dst <= 'Z')
			*dst = (char)(*dst - 'A' + 'a');
}

static struct chk_domain *
new_domain(struct chk_run *r, const char *name)
{
	struct chk_domain *nv, *d;

	if ((nv = reallocarray(r->d, r->nd + 1, sizeof(*nv))) == NULL)
		return NULL;
	r->d = nv;
	d = &nv[r->nd++];
	memset(d, 0, sizeof(*d));
	name_copy(d->name, sizeof(d->name), name);
	d->mx_sec = -1;
	return d;
}

static struct chk_host *
new_host(struct chk_run *r, struct chk_domain *d, const char *name,
    unsigned pref)
{
	struct chk_host *nv, *h;
	size_t i;
	char n[256];

	name_copy(n, sizeof(n), name);
	for (i = 0; i < d->nhosts; i++)
		if (strcmp(d->hosts[i].name, n) == 0)
			return &d->hosts[i];	/* same host twice */
	if ((nv = reallocarray(d->hosts, d->nhosts + 1, sizeof(*nv))) == NULL)
		return NULL;
	d->hosts = nv;
	h = &nv[d->nhosts++];
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", n);
	h->pref = pref;
	h->port = r->o.port;
	h->resolver = r->o.have_resolver ? &r->o.resolver : NULL;
	h->addr_sec = -1;
	h->tlsa_sec = -1;
	return h;
}

int
chk_add_domain(struct chk_run *r, const char *name, int as_host)
{
	struct chk_domain *d;

	if ((d = new_domain(r, name)) == NULL)
		return -1;
	if (as_host || r->o.hosts_only)
		return new_host(r, d, name, 0) == NULL ? -1 : 0;
	d->mx_sec = ZONE_SEC_ERROR;	/* looked up in chk_execute */
	return 0;
}

int
chk_add_host_at(struct chk_run *r, const char *name,
    const struct zone_rrset *given, char * const *addrs, size_t naddrs)
{
	struct chk_domain *d;
	struct chk_host *h;

	if ((d = new_domain(r, name)) == NULL || (h = new_host(r, d, name,
	    0)) == NULL)
		return -1;
	h->given = given;
	h->fixed = addrs;
	h->nfixed = naddrs;
	return 0;
}

int
chk_add_host(struct chk_run *r, const char *name,
    const struct zone_rrset *given)
{
	return chk_add_host_at(r, name, given, NULL, 0);
}

int
chk_add_service(struct chk_run *r, const char *label, char **hosts,
    size_t nhosts, unsigned port, const struct zone_server *resolver)
{
	struct chk_domain *d;
	struct chk_host *h;
	size_t i;

	if ((d = new_domain(r, label)) == NULL)
		return -1;
	snprintf(d->name, sizeof(d->name), "%s", label);
	for (i = 0; i < nhosts; i++) {
		if ((h = new_host(r, d, hosts[i], 0)) == NULL)
			return -1;
		h->port = port;
		if (resolver != NULL)
			h->resolver = resolver;
	}
	return 0;
}

static struct zone_xfer_opts
dns_opts(const struct chk_run *r)
{
	struct zone_xfer_opts x;
	long long left = r->deadline - tlsa_now_ms();

	memset(&x, 0, sizeof(x));
	x.timeout_ms = r->o.timeout_ms < 5000 ? r->o.timeout_ms : 5000;
	if (left / 2 < x.timeout_ms)
		x.timeout_ms = left / 2 > 1 ? (int)(left / 2) : 1;
	x.tries = 2;
	return x;
}

/*
 * A validated lookup, unless the time is up or the resolver has already
 * failed to answer once in this run (then a->error says so, a->rcode is
 * -1 and a->pkt NULL: an UNKNOWN for the caller).
 */
static int
lookup(struct chk_run *r, const struct zone_server *res, const char *name,
    ldns_rr_type type, struct zone_answer *a)
{
	struct zone_xfer_opts xo = dns_opts(r);
	int i, dead = 0;

	pthread_mutex_lock(&dead_mu);
	for (i = 0; i < r->ndead; i++)
		if (strcmp(r->dead[i], res->name) == 0)
			dead = 1;
	pthread_mutex_unlock(&dead_mu);
	if (dead || tlsa_now_ms() >= r->deadline) {
		memset(a, 0, sizeof(*a));
		a->sec = ZONE_SEC_ERROR;
		a->rcode = -1;
		snprintf(a->name, sizeof(a->name), "%s", name);
		errfmt(a->error, sizeof(a->error), dead ? "%s: not asked: "
		    "the resolver did not answer before" : "%s: not asked: "
		    "the overall time limit was reached", dead ? res->name :
		    name);
		return a->sec;
	}
	(void)zone_lookup(res, name, type, &xo, a);
	if (a->pkt == NULL && a->rcode == -1) {
		pthread_mutex_lock(&dead_mu);
		if (r->ndead < 16)
			snprintf(r->dead[r->ndead++], sizeof(r->dead[0]), "%s",
			    res->name);
		pthread_mutex_unlock(&dead_mu);
	}
	return a->sec;
}

/* MX lookup for d: fills d->hosts (sorted by preference). */
static void
resolve_mx(struct chk_run *r, struct chk_domain *d)
{
	struct zone_answer a;
	ldns_rr_list *mx;
	size_t i, j, n, nnull = 0;
	unsigned prefs[CHK_MAX_MX];
	char *names[CHK_MAX_MX];

	d->mx_sec = lookup(r, &r->o.resolver, d->name, LDNS_RR_TYPE_MX, &a);
	if (a.pkt == NULL) {
		note(&d->f, a.rcode == -1 ? CHK_UNKNOWN : CHK_CRITICAL,
		    "MX lookup failed: %s", a.error);
		zone_answer_free(&a);
		return;
	}
	if (d->mx_sec == ZONE_SEC_BOGUS)
		note(&d->f, CHK_CRITICAL, "MX RRset of %s is bogus: DNSSEC "
		    "validation fails, senders defer mail (%s)", d->name,
		    a.error);
	else if (d->mx_sec == ZONE_SEC_INSECURE)
		note(&d->f, CHK_WARNING, "MX RRset of %s is insecure (no "
		    "DNSSEC): a forged answer can send mail elsewhere "
		    "(RFC 7672 section 2.2.1)", d->name);
	if (a.rcode == LDNS_RCODE_NXDOMAIN) {
		note(&d->f, CHK_CRITICAL, "%s does not exist (NXDOMAIN)",
		    d->name);
		zone_answer_free(&a);
		return;
	}
	if (a.cnames > 0)
		note(&d->f, CHK_OK, "%s is an alias of %s", d->name, a.name);
	mx = zone_answer_rrs(&a, LDNS_RR_TYPE_MX);
	n = 0;
	for (i = 0; mx != NULL && i < ldns_rr_list_rr_count(mx); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(mx, i);
		char *t;

		if (ldns_rr_rd_count(rr) < 2)
			continue;
		if ((t = ldns_rdf2str(ldns_rr_rdf(rr, 1))) == NULL)
			continue;
		if (strcmp(t, ".") == 0) {
			nnull++;
			free(t);
			continue;
		}
		if (n == CHK_MAX_MX) {
			free(t);
			note(&d->f, CHK_WARNING, "more than %d MX hosts: only "
			    "the first %d are checked", CHK_MAX_MX, CHK_MAX_MX);
			break;
		}
		prefs[n] = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		names[n++] = t;
	}
	ldns_rr_list_deep_free(mx);
	/* Insertion sort by preference: a handful of entries. */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && prefs[j] < prefs[j - 1]; j--) {
			unsigned tp = prefs[j];
			char *tn = names[j];

			prefs[j] = prefs[j - 1];
			names[j] = names[j - 1];
			prefs[j - 1] = tp;
			names[j - 1] = tn;
		}
	if (nnull > 0 && n == 0)
		note(&d->f, CHK_CRITICAL, "null MX (RFC 7505): %s accepts no "
		    "mail", d->name);
	else if (nnull > 0)
		note(&d->f, CHK_CRITICAL, "null MX mixed with other MX "
		    "records: RFC 7505 section 3 forbids it");
	if (n == 0 && nnull == 0) {
		note(&d->f, CHK_OK, "no MX records: %s itself is the mail "
		    "host (RFC 5321 section 5.1)", d->name);
		d->implicit = 1;
		(void)new_host(r, d, d->name, 0);
	}
	for (i = 0; i < n; i++) {
		(void)new_host(r, d, names[i], prefs[i]);
		free(names[i]);
	}
	zone_answer_free(&a);
}

static int
push_addr(struct chk_host *h, const char *addr)
{
	struct chk_addr *nv;
	size_t i;

	for (i = 0; i < h->naddrs; i++)
		if (strcmp(h->addrs[i].addr, addr) == 0)
			return 0;
	if (h->naddrs == CHK_MAX_ADDRS)
		return 0;
	if ((nv = reallocarray(h->addrs, h->naddrs + 1, sizeof(*nv))) == NULL)
		return -1;
	h->addrs = nv;
	memset(&nv[h->naddrs], 0, sizeof(*nv));
	snprintf(nv[h->naddrs].addr, sizeof(nv->addr), "%s", addr);
	h->naddrs++;
	return 0;
}

/* IPv4 before IPv6, each in numeric order: reports that do not change
 * with the order a server happens to answer in. */
static int
addr_cmp(const void *va, const void *vb)
{
	const struct chk_addr *a = va, *b = vb;
	unsigned char x[16], y[16];
	int fa = strchr(a->addr, ':') != NULL, fb = strchr(b->addr, ':') !=
	    NULL;

	if (fa != fb)
		return fa - fb;
	if (inet_pton(fa ? AF_INET6 : AF_INET, a->addr, x) != 1 ||
	    inet_pton(fb ? AF_INET6 : AF_INET, b->addr, y) != 1)
		return strcmp(a->addr, b->addr);
	return memcmp(x, y, fa ? 16 : 4);
}

static void
sort_addrs(struct chk_host *h)
{
	if (h->naddrs > 1)
		qsort(h->addrs, h->naddrs, sizeof(h->addrs[0]), addr_cmp);
}

/* Without a resolver: the system's, and no DNSSEC verdict. */
static void
resolve_addrs_system(struct chk_run *r, struct chk_host *h)
{
	struct addrinfo hints, *res, *ai;
	char addr[NI_MAXHOST];
	int e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = r->o.family == 4 ? AF_INET : r->o.family == 6 ?
	    AF_INET6 : AF_UNSPEC;
	if ((e = getaddrinfo(h->name, NULL, &hints, &res)) != 0) {
		note(&h->f, CHK_CRITICAL, "%s: no address: %s", h->name,
		    gai_strerror(e));
		return;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr,
		    sizeof(addr), NULL, 0, NI_NUMERICHOST) == 0)
			(void)push_addr(h, addr);
	freeaddrinfo(res);
}

/* A and AAAA through the resolver, and what DNSSEC says of them. */
static void
resolve_addrs(struct chk_run *r, struct chk_host *h)
{
	static const ldns_rr_type types[2] = { LDNS_RR_TYPE_A,
	    LDNS_RR_TYPE_AAAA };
	struct zone_answer a[2], c;
	ldns_rr_list *l;
	size_t i;
	int t, sec = ZONE_SEC_SECURE, answered = 0, nx = 0, unknown = 0;
	char *s;

	memset(a, 0, sizeof(a));
	for (t = 0; t < 2; t++) {
		if ((t == 0 && r->o.family == 6) || (t == 1 && r->o.family == 4))
			continue;
		(void)lookup(r, h->resolver, h->name, types[t], &a[t]);
		if (a[t].pkt == NULL) {
			note(&h->f, a[t].rcode == -1 ? CHK_UNKNOWN :
			    CHK_CRITICAL, "%s: address lookup failed: %s",
			    h->name, a[t].error);
			unknown = 1;
			continue;
		}
		answered++;
		if (a[t].rcode == LDNS_RCODE_NXDOMAIN)
			nx++;
		if (a[t].sec == ZONE_SEC_BOGUS)
			sec = ZONE_SEC_BOGUS;
		else if (a[t].sec == ZONE_SEC_INSECURE &&
		    sec != ZONE_SEC_BOGUS)
			sec = ZONE_SEC_INSECURE;
		if (a[t].cnames > 0 && h->target[0] == '\0')
			name_copy(h->target, sizeof(h->target), a[t].name);
		l = zone_answer_rrs(&a[t], types[t]);
		for (i = 0; l != NULL && i < ldns_rr_list_rr_count(l); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(l, i);

			if (ldns_rr_rd_count(rr) < 1 ||
			    ldns_rdf_size(ldns_rr_rdf(rr, 0)) != (t == 0 ? 4 :
			    16))
				continue;	/* not an address */
			if ((s = ldns_rdf2str(ldns_rr_rdf(rr, 0))) != NULL) {
				(void)push_addr(h, s);
				free(s);
			}
		}
		ldns_rr_list_deep_free(l);
	}
	h->addr_sec = answered > 0 ? sec : ZONE_SEC_ERROR;
	if (h->target[0] != '\0') {
		note(&h->f, CHK_WARNING, "MX host %s is an alias (CNAME) of "
		    "%s: RFC 2181 section 10.3 says MX must not point to an "
		    "alias", h->name, h->target);
		/*
		 * An insecure answer through a chain: DANE still applies
		 * when the first link, the alias itself, is signed.
		 */
		memset(&c, 0, sizeof(c));
		if (h->addr_sec == ZONE_SEC_SECURE)
			h->target_secure = 1;
		else if (h->addr_sec == ZONE_SEC_INSECURE &&
		    lookup(r, h->resolver, h->name, LDNS_RR_TYPE_CNAME, &c) ==
		    ZONE_SEC_SECURE)
			h->addr_sec = ZONE_SEC_SECURE;	/* first link */
		zone_answer_free(&c);
	}
	if (answered > 0 && nx == answered)
		note(&h->f, CHK_CRITICAL, "%s does not exist (NXDOMAIN)",
		    h->name);
	else if (answered > 0 && h->naddrs == 0 && !unknown)
		note(&h->f, CHK_CRITICAL, "%s has no A or AAAA records",
		    h->name);
	if (h->addr_sec == ZONE_SEC_BOGUS)
		no_dane(h, CHK_CRITICAL, "address records of %s are bogus: "
		    "DNSSEC validation fails, senders cannot reach it",
		    h->name);
	else if (h->addr_sec == ZONE_SEC_INSECURE && h->given == NULL)
		no_dane(h, CHK_CRITICAL, "address records of %s are insecure "
		    "(no DNSSEC): senders do not look for TLSA records "
		    "(RFC 7672 section 2.2.2)", h->name);
	else if (h->addr_sec == ZONE_SEC_INSECURE)
		/* VERIFY: the addresses are still where senders connect. */
		note(&h->f, CHK_WARNING, "address records of %s are insecure "
		    "(no AD bit from %s): senders do not look for its TLSA "
		    "records (RFC 7672 section 2.2.2)", h->name,
		    h->resolver->name);
	for (t = 0; t < 2; t++)
		zone_answer_free(&a[t]);
}

static int
usable(const struct tlsa_rec *rec)
{
	return (rec->spec.usage == TLSA_USAGE_DANE_TA ||
	    rec->spec.usage == TLSA_USAGE_DANE_EE) &&
	    rec->spec.selector <= TLSA_SEL_SPKI &&
	    rec->spec.mtype <= TLSA_MT_SHA512;
}

static void
take_usable(struct chk_host *h)
{
	size_t i;

	for (i = 0; i < h->tlsa.n; i++)
		if (usable(&h->tlsa.v[i]))
			(void)zone_rrset_push_copy(&h->usable, &h->tlsa.v[i]);
}

/* The TLSA RRset that senders use (RFC 7672 section 2.2.2). */
static void
resolve_tlsa(struct chk_run *r, struct chk_host *h)
{
	struct zone_answer a;
	const char *cand[2];
	char err[ERRBUF_LEN], *owner;
	int nc = 0, k;

	if (h->target_secure && h->target[0] != '\0')
		cand[nc++] = h->target;
	cand[nc++] = h->name;
	for (k = 0; k < nc; k++) {
		if ((owner = zone_tlsa_owner(h->port, "tcp", cand[k], err,
		    sizeof(err))) == NULL) {
			note(&h->f, CHK_CRITICAL, "%s", err);
			return;
		}
		name_copy(h->owner, sizeof(h->owner), owner);
		free(owner);
		snprintf(h->base, sizeof(h->base), "%s", cand[k]);
		h->tlsa_sec = lookup(r, h->resolver, h->owner,
		    LDNS_RR_TYPE_TLSA, &a);
		zone_rrset_free(&h->tlsa);
		if (a.pkt != NULL)
			zone_rrset_from_pkt(a.pkt, a.name, &h->tlsa);
		if (a.pkt == NULL) {
			no_dane(h, a.rcode == -1 ? CHK_UNKNOWN : CHK_CRITICAL,
			    "TLSA lookup for %s failed, DANE senders defer "
			    "mail: %s", h->name, a.error);
		} else if (h->tlsa_sec == ZONE_SEC_BOGUS) {
			no_dane(h, CHK_CRITICAL, "TLSA RRset at %s is bogus: "
			    "DANE senders defer mail (%s)", h->owner, a.error);
			take_usable(h);
		} else if (h->tlsa_sec == ZONE_SEC_INSECURE) {
			if (h->tlsa.n > 0)
				no_dane(h, CHK_CRITICAL, "TLSA RRset at %s is "
				    "insecure (no DNSSEC): senders ignore it",
				    h->owner);
			else
				no_dane(h, CHK_CRITICAL, "no TLSA records at "
				    "%s, and the zone is not signed", h->owner);
		} else if (h->tlsa.n == 0 && k + 1 < nc) {
			zone_answer_free(&a);
			continue;	/* the original name next */
		} else if (h->tlsa.n == 0) {
			no_dane(h, CHK_CRITICAL, "no TLSA records at %s: "
			    "DANE is not in effect", h->owner);
		} else {
			take_usable(h);
			if (h->usable.n == 0)
				no_dane(h, CHK_CRITICAL, "no usable TLSA "
				    "records at %s (SMTP uses only usages 2 "
				    "and 3, RFC 7672 section 3.1.3)",
				    h->owner);
			else if (h->usable.n < h->tlsa.n)
				note(&h->f, CHK_WARNING, "%zu of %zu TLSA "
				    "records at %s are not usable for SMTP",
				    h->tlsa.n - h->usable.n, h->tlsa.n,
				    h->owner);
		}
		zone_answer_free(&a);
		return;
	}
}

/* ---- probes ------------------------------------------------------- */

struct job {
	struct chk_addr	*a;
	int		 kind;
};

struct pool {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct job	*q;
	size_t		 nq, cap, next;
	int		 running;
	long long	 deadline;
	const struct chk_opts *o;
	int		 failed;	/* out of memory queueing */
};

static int
enqueue(struct pool *p, struct chk_addr *a, int kind)
{
	struct job *nv;

	if (a->p[kind].queued)
		return 0;
	if (p->nq == p->cap) {
		size_t cap = p->cap == 0 ? 64 : p->cap * 2;

		if ((nv = reallocarray(p->q, cap, sizeof(*nv))) == NULL) {
			p->failed = 1;
			return -1;
		}
		p->q = nv;
		p->cap = cap;
	}
	p->q[p->nq].a = a;
	p->q[p->nq].kind = kind;
	p->nq++;
	a->p[kind].queued = 1;
	return 0;
}

static void
probe_setup(const struct pool *p, const struct chk_addr *a, int kind,
    struct tlsa_fetch *f)
{
	const struct chk_host *h = a->host;

	memset(f, 0, sizeof(*f));
	f->host = a->addr;
	f->port = NULL;		/* set by the caller */
	f->sni = h->base[0] != '\0' ? h->base : h->name;
	f->helo = p->o->helo;
	/* As tlsa-rollover.yaml(5) says: STARTTLS on 25 and 587 only. */
	f->starttls = p->o->starttls != -1 ? p->o->starttls :
	    h->port == 25 || h->port == 587 ? TLSA_STARTTLS_SMTP :
	    TLSA_STARTTLS_NONE;
	f->timeout_ms = p->o->timeout_ms;
	f->deadline = p->deadline;
	switch (kind) {
	case CHK_P_ECDSA:
		f->sigalgs = "ecdsa_secp256r1_sha256:ecdsa_secp384r1_sha384:"
		    "ecdsa_secp521r1_sha512";
		f->ciphers = "aECDSA:@SECLEVEL=0";
		break;
	case CHK_P_RSA:
		/* rsa_pss_pss_*: a certificate with an RSA-PSS key. */
		f->sigalgs = "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:"
		    "rsa_pss_rsae_sha512:rsa_pss_pss_sha256:"
		    "rsa_pss_pss_sha384:rsa_pss_pss_sha512:rsa_pkcs1_sha256:"
		    "rsa_pkcs1_sha384:rsa_pkcs1_sha512:rsa_pkcs1_sha1";
		f->ciphers = "aRSA:@SECLEVEL=0";
		break;
	case CHK_P_LEGACY:
		f->max_proto = TLS1_1_VERSION;
		f->ciphers = "ALL:@SECLEVEL=0";
		break;
	case CHK_P_TLS10:
		f->max_proto = TLS1_VERSION;
		f->ciphers = "ALL:@SECLEVEL=0";
		break;
	case CHK_P_WEAK:
		f->max_proto = TLS1_2_VERSION;
		f->ciphers = "eNULL:3DES:RC4:DES:EXP:@SECLEVEL=0";
		break;
	case CHK_P_KRSA:
		f->max_proto = TLS1_2_VERSION;
		f->ciphers = "kRSA:@SECLEVEL=0";
		break;
	default:
		break;
	}
}

/* Follow-up probes once the first ones are in (lock held). */
static void
follow_up(struct pool *p, struct chk_addr *a, int kind)
{
	struct chk_probe_res *e = &a->p[CHK_P_ECDSA], *r = &a->p[CHK_P_RSA];

	if ((kind == CHK_P_ECDSA || kind == CHK_P_RSA) && e->done &&
	    r->done && !e->ok && !r->ok && e->s.refused && r->s.refused)
		(void)enqueue(p, a, CHK_P_DEFAULT);
	if (kind == CHK_P_LEGACY && a->p[CHK_P_LEGACY].ok &&
	    strcmp(a->p[CHK_P_LEGACY].s.version, "TLSv1") != 0)
		(void)enqueue(p, a, CHK_P_TLS10);
}

static void *
worker(void *arg)
{
	struct pool *p = arg;
	struct tlsa_fetch f;
	struct chk_probe_res *pr;
	struct job j;
	char port[16];

	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (p->next == p->nq) {
			if (p->running == 0)
				break;
			pthread_cond_wait(&p->cv, &p->mu);
			continue;
		}
		j = p->q[p->next++];
		p->running++;
		pthread_mutex_unlock(&p->mu);

		pr = &j.a->p[j.kind];
		if (tlsa_now_ms() >= p->deadline) {
			errfmt(pr->error, sizeof(pr->error), "not probed: the "
			    "overall time limit was reached");
		} else {
			probe_setup(p, j.a, j.kind, &f);
			snprintf(port, sizeof(port), "%u", j.a->host->port);
			f.port = port;
			pr->ok = tlsa_probe(&f, &pr->s, pr->error,
			    sizeof(pr->error)) == 0;
		}

		pthread_mutex_lock(&p->mu);
		pr->done = 1;
		p->running--;
		follow_up(p, j.a, j.kind);
		pthread_cond_broadcast(&p->cv);
	}
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static int
run_probes(struct chk_run *r)
{
	struct pool p;
	pthread_attr_t attr;
	pthread_t *tids;
	size_t di, hi, ai, nt, i, started = 0;
	static const int hyg[] = { CHK_P_LEGACY, CHK_P_WEAK, CHK_P_KRSA };

	memset(&p, 0, sizeof(p));
	p.o = &r->o;
	p.deadline = r->deadline;
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	/* The certificate probes of every address first, then hygiene. */
	for (di = 0; di < r->nd; di++)
		for (hi = 0; hi < r->d[di].nhosts; hi++)
			for (ai = 0; ai < r->d[di].hosts[hi].naddrs; ai++) {
				struct chk_addr *a = &r->d[di].hosts[hi].addrs[ai];

				a->host = &r->d[di].hosts[hi];
				(void)enqueue(&p, a, CHK_P_ECDSA);
				(void)enqueue(&p, a, CHK_P_RSA);
			}
	for (di = 0; r->o.hygiene && di < r->nd; di++)
		for (hi = 0; hi < r->d[di].nhosts; hi++)
			for (ai = 0; ai < r->d[di].hosts[hi].naddrs; ai++)
				for (i = 0; i < sizeof(hyg) / sizeof(hyg[0]);
				    i++)
					(void)enqueue(&p,
					    &r->d[di].hosts[hi].addrs[ai],
					    hyg[i]);
	if (p.failed) {
		free(p.q);
		return -1;
	}
	nt = p.nq < (size_t)r->o.jobs ? p.nq : (size_t)r->o.jobs;
	if (nt == 0) {
		free(p.q);
		return 0;
	}
	if ((tids = calloc(nt, sizeof(*tids))) == NULL) {
		free(p.q);
		return -1;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, CHK_STACK);
	for (i = 0; i < nt; i++) {
		if (pthread_create(&tids[i], &attr, worker, &p) != 0)
			break;
		started++;
	}
	pthread_attr_destroy(&attr);
	if (started == 0)
		worker(&p);	/* no threads at all: do it here */
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	free(p.q);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.cv);
	return p.failed ? -1 : 0;
}

/* ---- verdicts ----------------------------------------------------- */

static long
days_until(const ASN1_TIME *t, time_t *when)
{
	struct tm tm;
	int days = 0, secs = 0;

	*when = 0;
	if (ASN1_TIME_to_tm(t, &tm) == 1)
		*when = timegm(&tm);
	if (!ASN1_TIME_diff(&days, &secs, NULL, t))
		return 0;
	/* Whole days left, rounded towards the past. */
	return secs < 0 && days <= 0 ? days - 1 : days;
}

static void
hex8(const struct tlsa_rec *rec, char *buf, size_t len)
{
	char *h = tlsa_hex(rec->data, rec->len);

	snprintf(buf, len, "%.*s%s", 8, h != NULL ? h : "",
	    h != NULL && strlen(h) > 8 ? "..." : "");
	free(h);
}

/* Is the chain linked (each cert issued by the next)?  -1 when not. */
static int
chain_linked(STACK_OF(X509) *chain)
{
	int i, n = sk_X509_num(chain);

	for (i = 0; i + 1 < n; i++)
		if (X509_check_issued(sk_X509_value(chain, i + 1),
		    sk_X509_value(chain, i)) != X509_V_OK)
			return i + 1;
	return 0;
}

/* Does a 2 x x record match any certificate above the leaf? */
static int
ta_in_chain(const struct tlsa_rec *rec, STACK_OF(X509) *chain)
{
	struct tlsa_rec t;
	char err[ERRBUF_LEN];
	int i, hit = 0;

	for (i = 1; i < sk_X509_num(chain) && !hit; i++) {
		if (tlsa_compute(&rec->spec, sk_X509_value(chain, i), NULL, &t,
		    err, sizeof(err)) == -1)
			continue;
		hit = t.len == rec->len && memcmp(t.data, rec->data, t.len) ==
		    0;
		tlsa_rec_clear(&t);
	}
	return hit;
}

/* The domain whose MX RRset named h, or NULL (hosts given directly). */
static const struct chk_domain *
host_nexthop(const struct chk_run *r, const struct chk_host *h)
{
	size_t i;

	for (i = 0; i < r->nd; i++)
		if (r->d[i].nhosts > 0 && h >= r->d[i].hosts &&
		    h < r->d[i].hosts + r->d[i].nhosts)
			return r->d[i].mx_sec != -1 ? &r->d[i] : NULL;
	return NULL;
}

/*
 * The reference identifiers for DANE-TA name checks (RFC 7672 section
 * 3.2.3): the TLSA base domain first, then the MX host name it was
 * CNAME-expanded from, then the next-hop domain, which a sending
 * Postfix accepts too.  Returns the count.
 */
static size_t
ref_names(const struct chk_run *r, const struct chk_host *h,
    const char **names)
{
	const struct chk_domain *d = host_nexthop(r, h);
	const char *cand[3];
	size_t i, j, n = 0;

	cand[0] = h->base[0] != '\0' ? h->base : h->name;
	cand[1] = h->name;
	cand[2] = d != NULL ? d->name : "";
	for (i = 0; i < 3; i++) {
		if (cand[i][0] == '\0')
			continue;
		for (j = 0; j < n && strcmp(names[j], cand[i]) != 0; j++)
			;
		if (j == n)
			names[n++] = cand[i];
	}
	return n;
}

static void
judge_chain(struct chk_run *r, struct chk_addr *a, struct chk_chain *c)
{
	const char *names[3];
	struct chk_host *h = a->host;
	STACK_OF(X509) *chain = c->s->chain;
	X509 *leaf = sk_X509_value(chain, 0);
	struct tlsa_match m;
	char err[ERRBUF_LEN], rec[32], where[400];
	const struct zone_rrset *recs = h->given != NULL ? h->given :
	    &h->usable;
	int at_ee, bad;
	size_t i;

	snprintf(where, sizeof(where), "%s %s %s", h->name, a->addr, c->kind);
	c->status = CHK_OK;
	c->dane = -1;
	c->match = -1;
	if (recs->n > 0) {
		int vr = tlsa_dane_verify_names(chain, NULL, names,
		    ref_names(r, h, names), recs->v, recs->n, &m, err,
		    sizeof(err));

		if (vr == 1) {
			c->dane = 1;
			c->match = m.index;
			c->depth = m.depth;
			snprintf(c->name, sizeof(c->name), "%s", m.name);
		} else {
			c->dane = 0;
			snprintf(c->reason, sizeof(c->reason), "%s",
			    vr == 0 ? m.reason : err);
			note(&a->f, CHK_CRITICAL, "%s: DANE verification "
			    "failed: %s", where, c->reason);
			c->status = CHK_CRITICAL;
		}
	}
	/* Expiry: DANE-EE ignores it (RFC 7672 3.1.1); nobody else does. */
	c->days_left = days_until(X509_get0_notAfter(leaf), &c->not_after);
	at_ee = c->dane == 1 && c->match >= 0 &&
	    recs->v[c->match].spec.usage == TLSA_USAGE_DANE_EE;
	if (c->days_left < 0) {
		bad = at_ee ? CHK_WARNING : CHK_CRITICAL;
		note(&a->f, bad, "%s: certificate expired %ld day%s ago%s",
		    where, -c->days_left, c->days_left == -1 ? "" : "s",
		    at_ee ? " (DANE-EE senders accept it, RFC 7672 section "
		    "3.1.1; others do not)" : "");
		c->status = chk_worse(c->status, bad);
	} else if (c->days_left < r->o.warn_days) {
		note(&a->f, CHK_WARNING, "%s: certificate expires in %ld "
		    "day%s", where, c->days_left, c->days_left == 1 ? "" :
		    "s");
		c->status = chk_worse(c->status, CHK_WARNING);
	}
	if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0) {
		bad = at_ee ? CHK_WARNING : CHK_CRITICAL;
		note(&a->f, bad, "%s: certificate is not valid yet", where);
		c->status = chk_worse(c->status, bad);
	}
	/* Chain completeness. */
	if ((i = (size_t)chain_linked(chain)) != 0) {
		note(&a->f, CHK_WARNING, "%s: chain out of order: the "
		    "certificate at depth %zu did not issue the one below it",
		    where, i);
		c->status = chk_worse(c->status, CHK_WARNING);
	} else if (sk_X509_num(chain) == 1 &&
	    X509_check_issued(leaf, leaf) != X509_V_OK) {
		note(&a->f, CHK_WARNING, "%s: chain incomplete: the issuer of "
		    "the certificate is not sent", where);
		c->status = chk_worse(c->status, CHK_WARNING);
	}
	/* 2 x x records whose trust anchor is not served. */
	for (i = 0; i < recs->n; i++) {
		if (recs->v[i].spec.usage != TLSA_USAGE_DANE_TA ||
		    ta_in_chain(&recs->v[i], chain))
			continue;
		hex8(&recs->v[i], rec, sizeof(rec));
		note(&a->f, CHK_OK, "%s: record 2 %u %u %s: its trust anchor "
		    "is not in the served chain", where,
		    recs->v[i].spec.selector, recs->v[i].spec.mtype, rec);
	}
	if (!c->s->pfs && r->o.hygiene) {
		bad = r->o.hygiene == 2 ? r->o.lvl_nopfs : CHK_OK;
		note(&a->f, bad, "%s: negotiated %s without forward secrecy",
		    where, c->s->cipher);
		c->status = chk_worse(c->status, bad);
	}
	if (h->given == NULL && h->no_dane[0] != '\0') {
		/* Whatever it matches, senders cannot use it. */
		c->status = chk_worse(c->status, h->no_dane_status);
		if (c->dane == 1 && c->match >= 0) {
			hex8(&recs->v[c->match], rec, sizeof(rec));
			snprintf(c->summary, sizeof(c->summary), "matches %u "
			    "%u %u %s, but: %s", recs->v[c->match].spec.usage,
			    recs->v[c->match].spec.selector,
			    recs->v[c->match].spec.mtype, rec, h->no_dane);
		} else
			snprintf(c->summary, sizeof(c->summary), "no DANE: %s",
			    h->no_dane);
	} else if (c->dane == 1 && c->match >= 0) {
		hex8(&recs->v[c->match], rec, sizeof(rec));
		snprintf(c->summary, sizeof(c->summary), "DANE match %u %u %u "
		    "%s at depth %d%s%s", recs->v[c->match].spec.usage,
		    recs->v[c->match].spec.selector,
		    recs->v[c->match].spec.mtype, rec, c->depth,
		    c->name[0] != '\0' ? ", name " : "", c->name);
	} else if (c->dane == 0)
		snprintf(c->summary, sizeof(c->summary), "DANE FAILED: %s",
		    c->reason);
	else
		snprintf(c->summary, sizeof(c->summary), "no DANE check (no "
		    "usable TLSA records)");
}

static void
judge_hygiene(struct chk_run *r, struct chk_addr *a)
{
	const char *where = a->addr;
	int warn = r->o.hygiene == 2;
	struct chk_probe_res *l = &a->p[CHK_P_LEGACY], *t0 = &a->p[CHK_P_TLS10];
	struct chk_probe_res *w = &a->p[CHK_P_WEAK], *k = &a->p[CHK_P_KRSA];
	char host[300];

	snprintf(host, sizeof(host), "%s %s", a->host->name, where);
	if (!r->o.hygiene)
		return;
	if (l->done && l->ok)
		note(&a->f, warn ? r->o.lvl_legacy : CHK_OK, "%s: accepts "
		    "%s%s", host, l->s.version,
		    t0->done && t0->ok ? " and TLSv1" : "");
	else if (l->done && !l->s.tls_failed)
		note(&a->f, CHK_OK, "%s: TLS < 1.2 not tested: %s", host,
		    l->error);
	if (w->done && w->ok)
		note(&a->f, warn ? r->o.lvl_weak : CHK_OK, "%s: accepts the "
		    "weak cipher %s", host, w->s.cipher);
	else if (w->done && !w->s.tls_failed)
		note(&a->f, CHK_OK, "%s: weak ciphers not tested: %s", host,
		    w->error);
	if (k->done && k->ok)
		note(&a->f, warn ? r->o.lvl_krsa : CHK_OK, "%s: accepts %s, a "
		    "key exchange without forward secrecy", host, k->s.cipher);
	else if (k->done && !k->s.tls_failed)
		note(&a->f, CHK_OK, "%s: RSA key exchange not tested: %s",
		    host, k->error);
}

static void
judge_addr(struct chk_run *r, struct chk_addr *a)
{
	static const int certs[] = { CHK_P_ECDSA, CHK_P_RSA, CHK_P_DEFAULT };
	static const char *kinds[] = { "ECDSA", "RSA", "default" };
	struct chk_probe_res *pr;
	const char *first_err = NULL;
	size_t i;
	int j, dup;

	for (i = 0; i < 3; i++) {
		pr = &a->p[certs[i]];
		if (!pr->done)
			continue;
		if (!pr->ok) {
			if (!(pr->s.refused && i < 2) && first_err == NULL)
				first_err = pr->error;
			continue;
		}
		for (j = 0, dup = 0; j < a->nchains; j++)
			if (X509_cmp(sk_X509_value(a->chains[j].s->chain, 0),
			    sk_X509_value(pr->s.chain, 0)) == 0)
				dup = 1;
		if (dup)
			continue;
		a->chains[a->nchains].kind = kinds[i];
		a->chains[a->nchains].s = &pr->s;
		a->nchains++;
	}
	if (a->nchains == 0) {
		pr = &a->p[CHK_P_ECDSA];
		/* The errors name the address and port already. */
		note(&a->f, CHK_CRITICAL, "%s %s", a->host->name,
		    first_err != NULL ? first_err : pr->error[0] ? pr->error :
		    "no certificate could be fetched");
	} else if (first_err != NULL) {
		/* Another certificate may be served there that we did not
		 * see: never "nothing else is served". */
		a->probe_failed = 1;
		note(&a->f, CHK_WARNING, "%s: a probe failed: %s",
		    a->host->name, first_err);
	}
	for (j = 0; j < a->nchains; j++)
		judge_chain(r, a, &a->chains[j]);
	if (a->nchains > 0)
		judge_hygiene(r, a);
	a->status = a->f.status;
	for (j = 0; j < a->nchains; j++)
		a->status = chk_worse(a->status, a->chains[j].status);
}

static void
weak_classes(struct chk_run *r)
{
	static const char *cls[] = { "eNULL", "3DES", "RC4", "DES", "EXP" };
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());
	size_t i, off = 0;

	r->weak_tested[0] = '\0';
	for (i = 0; c != NULL && i < sizeof(cls) / sizeof(cls[0]); i++) {
		char spec[32];

		snprintf(spec, sizeof(spec), "%s:@SECLEVEL=0", cls[i]);
		if (SSL_CTX_set_cipher_list(c, spec) == 1 && off <
		    sizeof(r->weak_tested))
			off += (size_t)snprintf(r->weak_tested + off,
			    sizeof(r->weak_tested) - off, "%s%s",
			    off ? "," : "", cls[i]);
	}
	ERR_clear_error();
	SSL_CTX_free(c);
}

/* ---- the DNS phase, in parallel too ------------------------------- */

struct par {
	pthread_mutex_t	 mu;
	size_t		 next, n;
	void		(*fn)(struct chk_run *, void *);
	void		**items;
	struct chk_run	*r;
};

static void *
par_worker(void *arg)
{
	struct par *p = arg;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		i = p->next < p->n ? p->next++ : p->n;
		pthread_mutex_unlock(&p->mu);
		if (i == p->n)
			return NULL;
		p->fn(p->r, p->items[i]);
	}
}

/* fn(r, items[i]) for every i, on up to r->o.jobs threads. */
static void
par_for(struct chk_run *r, void **items, size_t n,
    void (*fn)(struct chk_run *, void *))
{
	struct par p;
	pthread_attr_t attr;
	pthread_t *tids;
	size_t nt, i, started = 0;

	if (n == 0)
		return;
	memset(&p, 0, sizeof(p));
	pthread_mutex_init(&p.mu, NULL);
	p.n = n;
	p.fn = fn;
	p.items = items;
	p.r = r;
	nt = n < (size_t)r->o.jobs ? n : (size_t)r->o.jobs;
	if (nt > 64)
		nt = 64;	/* lookups are quick: a few threads will do */
	if ((tids = calloc(nt, sizeof(*tids))) != NULL) {
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, CHK_STACK);
		for (i = 0; i < nt; i++) {
			if (pthread_create(&tids[i], &attr, par_worker, &p) !=
			    0)
				break;
			started++;
		}
		pthread_attr_destroy(&attr);
	}
	if (started == 0)
		par_worker(&p);
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	pthread_mutex_destroy(&p.mu);
}

static void
do_mx(struct chk_run *r, void *item)
{
	struct chk_domain *d = item;

	if (!r->o.have_resolver)
		note(&d->f, CHK_UNKNOWN, "%s: no resolver to look up its MX "
		    "records", d->name);
	else
		resolve_mx(r, d);
}

static void
do_host(struct chk_run *r, void *item)
{
	struct chk_host *h = item;
	size_t i;

	if (h->nfixed > 0) {
		for (i = 0; i < h->nfixed; i++)
			if (push_addr(h, h->fixed[i]) == -1)
				note(&h->f, CHK_UNKNOWN, "out of memory");
		sort_addrs(h);
		note(&h->f, CHK_OK, "%s: addresses from the configuration, "
		    "not from DNS", h->name);
		return;
	}
	if (h->resolver == NULL) {
		resolve_addrs_system(r, h);
		sort_addrs(h);
		if (h->given == NULL)
			no_dane(h, CHK_UNKNOWN, "no resolver: the TLSA records "
			    "of %s cannot be looked up", h->name);
		return;
	}
	resolve_addrs(r, h);
	sort_addrs(h);
	if (h->given == NULL && h->naddrs > 0)
		resolve_tlsa(r, h);
}

static int
resolve_all(struct chk_run *r)
{
	void **items = NULL, **nv;
	size_t di, hi, n = 0;

	for (di = 0; di < r->nd; di++)
		if (r->d[di].mx_sec == ZONE_SEC_ERROR && r->d[di].nhosts == 0) {
			if ((nv = reallocarray(items, n + 1, sizeof(*nv))) ==
			    NULL)
				goto nomem;
			items = nv;
			items[n++] = &r->d[di];
		}
	par_for(r, items, n, do_mx);
	n = 0;
	for (di = 0; di < r->nd; di++)
		for (hi = 0; hi < r->d[di].nhosts; hi++) {
			if ((nv = reallocarray(items, n + 1, sizeof(*nv))) ==
			    NULL)
				goto nomem;
			items = nv;
			items[n++] = &r->d[di].hosts[hi];
		}
	par_for(r, items, n, do_host);
	free(items);
	return 0;
nomem:
	free(items);
	return -1;
}

int
chk_execute(struct chk_run *r)
{
	struct timespec t0, t1;
	size_t di, hi, ai;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (tlsa_net_init() == -1) {
		note(&r->f, CHK_UNKNOWN, "cannot set up TLS");
		r->status = CHK_UNKNOWN;
		return r->status;
	}
	weak_classes(r);
	r->deadline = tlsa_now_ms() + r->o.deadline_ms;
	if (resolve_all(r) == -1)
		note(&r->f, CHK_UNKNOWN, "out of memory");
	if (run_probes(r) == -1)
		note(&r->f, CHK_UNKNOWN, "out of memory");
	r->status = r->f.status;
	for (di = 0; di < r->nd; di++) {
		struct chk_domain *d = &r->d[di];

		d->status = d->f.status;
		for (hi = 0; hi < d->nhosts; hi++) {
			struct chk_host *h = &d->hosts[hi];

			for (ai = 0; ai < h->naddrs; ai++)
				judge_addr(r, &h->addrs[ai]);
			h->status = h->f.status;
			for (ai = 0; ai < h->naddrs; ai++)
				h->status = chk_worse(h->status,
				    h->addrs[ai].status);
			d->status = chk_worse(d->status, h->status);
		}
		r->status = chk_worse(r->status, d->status);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->elapsed = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return r->status;
}

void
chk_run_free(struct chk_run *r)
{
	size_t di, hi, ai;
	int k;

	for (di = 0; di < r->nd; di++) {
		struct chk_domain *d = &r->d[di];

		for (hi = 0; hi < d->nhosts; hi++) {
			struct chk_host *h = &d->hosts[hi];

			for (ai = 0; ai < h->naddrs; ai++) {
				for (k = 0; k < CHK_NPROBES; k++)
					sk_X509_pop_free(h->addrs[ai].p[k].s.chain,
					    X509_free);
				findings_free(&h->addrs[ai].f);
			}
			free(h->addrs);
			zone_rrset_free(&h->tlsa);
			zone_rrset_free(&h->usable);
			findings_free(&h->f);
		}
		free(d->hosts);
		findings_free(&d->f);
	}
	free(r->d);
	findings_free(&r->f);
	r->d = NULL;
	r->nd = 0;
}
