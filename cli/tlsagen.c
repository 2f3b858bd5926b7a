/*
 * tlsagen: TLSA records from certificates, keys, chains or a live server.
 *
 * main() parses options and dispatches; loading, computation,
 * verification and output live in their modules.  Output is built in
 * full and written only when every input succeeded.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <ldns/ldns.h>

#include "atomic.h"
#include "fileio.h"
#include "log.h"
#include "privsep.h"
#include "sbuf.h"
#include "tlsa_dane.h"
#include "tlsa_load.h"
#include "tlsa_net.h"
#include "tlsa_parse.h"
#include "tlsa_rec.h"
#include "zone_out.h"
#include "zone_publish.h"
#include "zone_sign.h"
#include "zone_status.h"
#include "zone_tsig.h"
#include "zone_rr.h"

#ifndef VERSION
#define VERSION "0.1"
#endif

#define MAX_SPECS	32
#define MAX_CONNECT	64
#define MAX_HOSTS	64

struct opts {
	char		*hosts[MAX_HOSTS]; /* -H, A-labels, allocated */
	int		 nhosts;
	char		*nexthop;	/* --nexthop, A-labels, allocated */
	unsigned	 port;		/* -p */
	const char	*proto;		/* -P */
	struct tlsa_spec specs[MAX_SPECS];
	int		 nspecs;
	const char	**issuers;	/* -i */
	int		 nissuers;
	uint32_t	 ttl;
	int		 has_ttl;
	uint16_t	 rrclass;
	int		 format;
	const char	*zone;
	const char	*server;
	unsigned	 server_port;
	int		 replace;
	const char	*connect[MAX_CONNECT];
	int		 nconnect;
	int		 starttls;	/* -1: by port */
	const char	*sni;
	const char	*helo;
	int		 timeout_ms;
	const char	**verify;
	int		 nverify;
	int		 keep_going;
	int		 force;
	const char	*outfile;
	const char	*update;	/* --update server */
	const char	*tsig;		/* --tsig-key file */
	int		 del;		/* --delete */
	int		 dry_run;
	const char	**expect;	/* --expect */
	int		 nexpect;
	const char	**zonekeys;	/* -k */
	int		 nzonekeys;
	const char	*zonefile;
	uint32_t	 sig_inception, sig_validity, sig_jitter;
	int		 dns_status;	/* --dns-status */
	const char	*resolver;
	const char	**ns;		/* --ns */
	int		 nns;
	const char	*primary;
	const char	*trust_anchor;
};

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f,
"usage: tlsagen [options] [file ...]\n"
"Print TLSA records for certificates, chains, keys or a live server.\n"
"\n"
"Inputs (any number; PEM or DER; \"-\" is standard input):\n"
"  file                     certificate, chain (leaf first), private key,\n"
"                           public key (SPKI), a key with its certificate,\n"
"                           or a PKCS#7 certificate bundle (.p7b, .p7c)\n"
"  -c, --connect HOST[:PORT] fetch the chains a live server presents: one\n"
"                           handshake offering only ECDSA, one only RSA\n"
"                           (PORT defaults to -p; [v6addr]:PORT for IPv6)\n"
"  -i, --issuer FILE        an issuer (trust anchor) certificate or key that\n"
"                           gets the usage 0/2 records; repeatable\n"
"\n"
"Records:\n"
"  -H, --host NAME          host of the owner _PORT._PROTO.NAME. (default: the\n"
"                           --connect host, else the leaf's first DNS name);\n"
"                           repeatable: records at every owner.  IDN names\n"
"                           become A-labels (xn--)\n"
"  -p, --port N             port of the owner (default 25)\n"
"  -P, --proto P            tcp (default), udp or sctp\n"
"  -r, --record U,S,M       record type, numbers or RFC 7218 names, e.g. 3,1,1\n"
"                           or dane-ee,spki,sha2-256; repeatable. Default: 3 1 1\n"
"                           for the leaf (or lone key), 2 1 1 for its issuer\n"
"  --force                  allow usages 0 and 1 for SMTP ports (RFC 7672\n"
"                           says clients ignore them)\n"
"\n"
"Output:\n"
"  -f, --format F           zone (default), generic (RFC 3597), json, nsupdate,\n"
"                           fragment ($INCLUDE-able), signed (with RRSIGs)\n"
"  -t, --ttl N              TTL of the records (nsupdate default 3600)\n"
"  -C, --class C            class (default IN)\n"
"  -z, --zone Z             nsupdate: zone line\n"
"  -s, --server H[@PORT]    nsupdate: server line\n"
"  --replace                nsupdate: delete each RRset before adding\n"
"  -k, --zone-key FILE      signed: a zone key, K*.private (BIND or ldns) with\n"
"                           its K*.key beside it; repeatable (ZSKs sign, else\n"
"                           the CSK/KSK)\n"
"  --zonefile FILE          signed: refuse owners that the zone file lacks or\n"
"                           whose NSEC/NSEC3 bitmap lacks TLSA\n"
"  --sig-inception TIME     signed: UNIX time, YYYYMMDDHHMMSS or now[+-]DUR\n"
"                           (default now-1h)\n"
"  --sig-validity DUR       signed: expiration after inception (default 14d)\n"
"  --sig-jitter DUR         signed: expiration earlier by a random amount up\n"
"                           to this (default 1d)\n"
"  -o, --output FILE        write atomically to FILE instead of stdout\n"
"  --keep-going             skip bad inputs with a warning (exit 1 still)\n"
"  --expect RECORDS         the RRsets as they must be now (file, record, or\n"
"                           \"none\"): nsupdate prerequisites, and the\n"
"                           compare-and-swap guard of --update\n"
"\n"
"Direct update (RFC 2136), one atomic message with prerequisites:\n"
"  --update SERVER[@PORT]   send the records to this primary (numeric address)\n"
"  --tsig-key FILE          BIND key file (hmac-sha256/384/512), mode 0600\n"
"  --replace                each RRset becomes exactly the records\n"
"  --delete                 remove the records instead of adding them\n"
"  -n, --dry-run            say what would change, change nothing\n"
"  (without --expect, the current RRsets are read from the server first;\n"
"   -z names the zone, else the server's SOA answer does)\n"
"\n"
"Live servers:\n"
"  --starttls smtp|none     default smtp for ports 25 and 587, else none\n"
"  --sni NAME               server name to send (default: the host name)\n"
"  --helo NAME              EHLO name (default: this host's name)\n"
"  --timeout SECONDS        per connection (default 10)\n"
"\n"
"DNS status (--dns-status): is the RRset served everywhere and secure?\n"
"  --dns-status             ask every authoritative server (no recursion) for\n"
"                           the RRset, compare with the inputs' records (or\n"
"                           --expect, or each other), check AA and SOA\n"
"                           serials, then validate. Exit 0 all good, 2 not\n"
"  --resolver ADDR[@PORT]   validating resolver (AD required); also finds the\n"
"                           zone and its NS set (default: resolv.conf's first)\n"
"  --ns ADDR[@PORT]         ask these servers instead of the NS set; repeatable\n"
"  --primary ADDR[@PORT]    a hidden primary to ask as well\n"
"  --trust-anchor FILE      validate locally too, against DS/DNSKEY lines\n"
"\n"
"Verification:\n"
"  --verify RECORDS         check the inputs against records: a file of zone\n"
"                           or generic lines, or one record (\"3 1 1 HEX\");\n"
"                           repeatable. Exit 0 if every input matches, 2 if not.\n"
"                           As a DANE MTA (RFC 7672): on ports 25 and 587\n"
"                           usages 0 and 1 are ignored; 2 x x checks the leaf's\n"
"                           names against -H (or the -c host) and --nexthop,\n"
"                           never against names from the leaf itself\n"
"  --nexthop DOMAIN         the mail domain whose MX named the host: a name\n"
"                           that 2 x x records accept too (as Postfix does)\n"
"\n"
"  -h, --help               this text\n"
"  -V, --version            version\n"
"\n"
"Exit status: 0 success, 1 error, 2 --verify found no match (or no usable\n"
"record).\n");
	exit(status);
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s == '\0' || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
is_addr(const char *h)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, h, a) == 1 || inet_pton(AF_INET6, h, a) == 1;
}

/* Split HOST[:PORT] / [V6]:PORT / V6 into host and port (static buffers). */
static int
split_hostport(const char *s, char *host, size_t hlen, char *port,
    size_t plen, unsigned defport)
{
	const char *colon;
	size_t n;

	snprintf(port, plen, "%u", defport);
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || (rb[1] != '\0' && rb[1] != ':'))
			return -1;
		n = (size_t)(rb - s - 1);
		if (n == 0 || n >= hlen)
			return -1;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		if (rb[1] == ':')
			snprintf(port, plen, "%s", rb + 2);
	} else if ((colon = strchr(s, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		n = (size_t)(colon - s);
		if (n == 0 || n >= hlen)
			return -1;
		memcpy(host, s, n);
		host[n] = '\0';
		snprintf(port, plen, "%s", colon + 1);
	} else {
		if (strlen(s) >= hlen || *s == '\0')
			return -1;
		snprintf(host, hlen, "%s", s);
	}
	{
		unsigned long p;

		if (parse_uint(port, 65535, &p) == -1 || p == 0)
			return -1;
	}
	return 0;
}

/*
 * The host name for the owner when -H was not given: the first DNS name
 * of the leaf that is not a wildcard, else a CN that looks like one.
 */
static char *
leaf_hostname(X509 *leaf)
{
	GENERAL_NAMES *gens;
	GENERAL_NAME *g;
	X509_NAME_ENTRY *e;
	ASN1_STRING *cn;
	char *name = NULL;
	int i, idx;

	gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS)
			continue;
		if (ASN1_STRING_length(g->d.dNSName) <= 0 ||
		    memchr(ASN1_STRING_get0_data(g->d.dNSName), '\0',
		    (size_t)ASN1_STRING_length(g->d.dNSName)) != NULL ||
		    ASN1_STRING_get0_data(g->d.dNSName)[0] == '*')
			continue;
		name = strndup((const char *)ASN1_STRING_get0_data(
		    g->d.dNSName), (size_t)ASN1_STRING_length(g->d.dNSName));
		break;
	}
	GENERAL_NAMES_free(gens);
	if (name != NULL)
		return name;
	idx = X509_NAME_get_index_by_NID(X509_get_subject_name(leaf),
	    NID_commonName, -1);
	if (idx < 0)
		return NULL;
	e = X509_NAME_get_entry(X509_get_subject_name(leaf), idx);
	cn = X509_NAME_ENTRY_get_data(e);
	if (ASN1_STRING_length(cn) <= 0 || strchr("*", (char)
	    ASN1_STRING_get0_data(cn)[0]) != NULL ||
	    memchr(ASN1_STRING_get0_data(cn), '.',
	    (size_t)ASN1_STRING_length(cn)) == NULL ||
	    memchr(ASN1_STRING_get0_data(cn), ' ',
	    (size_t)ASN1_STRING_length(cn)) != NULL)
		return NULL;
	return strndup((const char *)ASN1_STRING_get0_data(cn),
	    (size_t)ASN1_STRING_length(cn));
}

/*
 * The number of owners an input has: one per -H name, else one (the
 * --connect host or the leaf's name).
 */
static int
owner_count(const struct opts *o)
{
	return o->nhosts > 0 ? o->nhosts : 1;
}

/*
 * The host name of owner k that a name check may use (RFC 7672 section
 * 3.2.3: the TLSA base domain): the -H name, else the --connect host
 * name.  Never a name taken from the leaf itself, which would match any
 * leaf.  NULL when there is none.
 */
static const char *
owner_refname(const struct opts *o, int k, const char *fallback)
{
	if (o->nhosts > 0)
		return o->hosts[k];
	if (fallback != NULL && !is_addr(fallback))
		return fallback;
	return NULL;
}

/*
 * Does the certificate say it is a CA (basicConstraints)?  Read from the
 * extension itself: a lone certificate is decoded without its public
 * key, and X509_check_ca() would not cache its extensions then.
 */
static int
is_ca(X509 *x)
{
	BASIC_CONSTRAINTS *bc;
	int ca;

	if ((bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL,
	    NULL)) == NULL)
		return 0;
	ca = bc->ca != 0;
	BASIC_CONSTRAINTS_free(bc);
	return ca;
}

/* Owner k (0 <= k < owner_count()) of an input; NULL with err. */
static char *
input_owner(const struct opts *o, int k, const char *fallback, X509 *leaf,
    char *err, size_t errlen)
{
	char *h = NULL, *owner;

	if (o->nhosts > 0)
		return zone_tlsa_owner(o->port, o->proto, o->hosts[k], err,
		    errlen);
	if (fallback != NULL && !is_addr(fallback))
		return zone_tlsa_owner(o->port, o->proto, fallback, err,
		    errlen);
	if (leaf != NULL && (h = leaf_hostname(leaf)) != NULL) {
		owner = zone_tlsa_owner(o->port, o->proto, h, err, errlen);
		free(h);
		return owner;
	}
	if (leaf != NULL && is_ca(leaf))
		/* "cert.pem chain.pem": the chain is not a second leaf. */
		errfmt(err, errlen, "a CA certificate, not a server's: give "
		    "issuers with -i (for 2 x x records) and the owner with "
		    "-H");
	else
		errfmt(err, errlen, "no host name for the owner: give -H");
	return NULL;
}

static int
usage_is_ta(uint8_t u)
{
	return u == TLSA_USAGE_PKIX_TA || u == TLSA_USAGE_DANE_TA;
}

/* Records of every TA spec for one certificate or key. */
static int
add_ta_records(const struct opts *o, struct zone_rrlist *l, const char *owner,
    X509 *cert, EVP_PKEY *key, const char *source, int *added, char *err,
    size_t errlen)
{
	struct tlsa_rec r;
	int i;

	for (i = 0; i < o->nspecs; i++) {
		if (!usage_is_ta(o->specs[i].usage))
			continue;
		if (tlsa_compute(&o->specs[i], cert, key, &r, err, errlen) ==
		    -1)
			return -1;
		if (zone_rrlist_add(l, owner, o->ttl, o->has_ttl, o->rrclass,
		    &r, source) == -1) {
			tlsa_rec_clear(&r);
			errfmt(err, errlen, "out of memory");
			return -1;
		}
		(*added)++;
	}
	return 0;
}

/* The issuers given with -i, loaded once. */
struct issuers {
	struct tlsa_input *v;
	const char	**name;
	int		 n;
};

static int
load_issuers(const struct opts *o, struct issuers *is)
{
	char err[ERRBUF_LEN];
	int i;

	is->n = 0;
	if (o->nissuers == 0)
		return 0;
	is->v = calloc((size_t)o->nissuers, sizeof(*is->v));
	is->name = calloc((size_t)o->nissuers, sizeof(*is->name));
	if (is->v == NULL || is->name == NULL) {
		log_error("out of memory");
		return -1;
	}
	for (i = 0; i < o->nissuers; i++) {
		if (tlsa_load_file(o->issuers[i], 0, &is->v[i], err,
		    sizeof(err)) == -1) {
			log_error("%s: %s", o->issuers[i], err);
			return -1;
		}
		if (is->v[i].key_private) {
			log_error("%s: an issuer is given by its certificate "
			    "or public key, not a private key",
			    o->issuers[i]);
			tlsa_input_clear(&is->v[i]);
			return -1;
		}
		is->name[i] = o->issuers[i];
		is->n++;
	}
	return 0;
}

static void
free_issuers(struct issuers *is)
{
	int i;

	for (i = 0; i < is->n; i++)
		tlsa_input_clear(&is->v[i]);
	free(is->v);
	free(is->name);
}

static int
add_issuer_records(const struct opts *o, const struct issuers *is,
    struct zone_rrlist *l, const char *owner, int *added, char *err,
    size_t errlen)
{
	char lerr[ERRBUF_LEN];
	int i, j;

	for (i = 0; i < is->n; i++) {
		const struct tlsa_input *in = &is->v[i];

		if (in->certs == NULL || sk_X509_num(in->certs) == 0) {
			if (add_ta_records(o, l, owner, NULL, in->key,
			    is->name[i], added, lerr, sizeof(lerr)) == -1)
				goto fail;
			continue;
		}
		for (j = 0; j < sk_X509_num(in->certs); j++)
			if (add_ta_records(o, l, owner,
			    sk_X509_value(in->certs, j), NULL, is->name[i],
			    added, lerr, sizeof(lerr)) == -1)
				goto fail;
	}
	return 0;
fail:
	errfmt(err, errlen, "%s: %s", is->name[i], lerr);
	return -1;
}

static int owner_records(const struct opts *, int, struct tlsa_input *,
    const char *, const char *, struct zone_rrlist *, const struct issuers *,
    char *, size_t);

/*
 * Records for one loaded input: EE specs for the leaf (or lone key), TA
 * specs for the leaf's issuer in the input, at every owner (one per -H).
 * err is without the name.
 */
static int
input_records(const struct opts *o, struct tlsa_input *in,
    const char *fallback_host, const char *source, struct zone_rrlist *l,
    const struct issuers *is, char *err, size_t errlen)
{
	int k;

	for (k = 0; k < owner_count(o); k++)
		if (owner_records(o, k, in, fallback_host, source, l, is, err,
		    errlen) == -1)
			return -1;
	return 0;
}

/* input_records() for owner k. */
static int
owner_records(const struct opts *o, int k, struct tlsa_input *in,
    const char *fallback_host, const char *source, struct zone_rrlist *l,
    const struct issuers *is, char *err, size_t errlen)
{
	struct tlsa_rec r;
	X509 *leaf = NULL, *issuer;
	char *owner;
	int i, added = 0, rc = -1;

	if (in->certs != NULL && sk_X509_num(in->certs) > 0)
		leaf = sk_X509_value(in->certs, 0);
	if ((owner = input_owner(o, k, fallback_host, leaf, err, errlen)) ==
	    NULL)
		return -1;
	for (i = 0; i < o->nspecs; i++) {
		if (usage_is_ta(o->specs[i].usage))
			continue;
		if (tlsa_compute(&o->specs[i], leaf, in->key, &r, err,
		    errlen) == -1)
			goto out;
		if (zone_rrlist_add(l, owner, o->ttl, o->has_ttl, o->rrclass,
		    &r, source) == -1) {
			tlsa_rec_clear(&r);
			errfmt(err, errlen, "out of memory");
			goto out;
		}
		added++;
	}
	if (leaf != NULL && (issuer = tlsa_input_issuer(in)) != NULL &&
	    add_ta_records(o, l, owner, issuer, NULL, source, &added, err,
	    errlen) == -1)
		goto out;
	{
		int before = added;
		char ierr[ERRBUF_LEN];

		if (add_issuer_records(o, is, l, owner, &added, ierr,
		    sizeof(ierr)) == -1) {
			errfmt(err, errlen, "%s", ierr);
			goto out;
		}
		(void)before;
	}
	if (added == 0) {
		errfmt(err, errlen, "no record applies (usage 0/2 records "
		    "need the issuer: in the chain or with -i)");
		goto out;
	}
	rc = 0;
out:
	free(owner);
	return rc;
}

/*
 * Fetch every chain one -c argument's server presents (one per key
 * algorithm it has).  Returns the count (>= 1) with *served, or -1.
 * *smtp (if not NULL) tells whether the port is an SMTP one (25, 587).
 */
static int
fetch_input(const struct opts *o, const char *arg, struct tlsa_served **served,
    char *host, size_t hostlen, int *smtp, char *err, size_t errlen)
{
	struct tlsa_fetch f;
	char port[16], hname[256];
	unsigned long pnum;
	int n, i;

	*served = NULL;
	if (split_hostport(arg, host, hostlen, port, sizeof(port),
	    o->port) == -1) {
		errfmt(err, errlen, "%s: bad host[:port]", arg);
		return -1;
	}
	/* An IDN host goes out (DNS, SNI, owner) in A-labels. */
	if (!is_addr(host)) {
		char *a;

		if ((a = tlsa_host_ascii(host, err, errlen)) == NULL) {
			err_prefix(err, errlen, "-c");
			return -1;
		}
		if (strlen(a) >= hostlen) {
			errfmt(err, errlen, "-c %s: host name too long", a);
			free(a);
			return -1;
		}
		snprintf(host, hostlen, "%s", a);
		free(a);
	}
	(void)parse_uint(port, 65535, &pnum);
	if (smtp != NULL)
		*smtp = pnum == 25 || pnum == 587;
	memset(&f, 0, sizeof(f));
	f.host = host;
	f.port = port;
	/* Several -H: the first is the TLSA base domain sent as SNI. */
	f.sni = o->sni != NULL ? o->sni : o->nhosts > 0 ? o->hosts[0] :
	    is_addr(host) ? NULL : host;
	if (o->helo != NULL)
		f.helo = o->helo;
	else {
		if (gethostname(hname, sizeof(hname)) == -1 ||
		    hname[0] == '\0' || strchr(hname, ' ') != NULL)
			snprintf(hname, sizeof(hname), "localhost");
		hname[sizeof(hname) - 1] = '\0';
		f.helo = hname;
	}
	f.starttls = o->starttls != -1 ? o->starttls :
	    (pnum == 25 || pnum == 587) ? TLSA_STARTTLS_SMTP :
	    TLSA_STARTTLS_NONE;
	f.timeout_ms = o->timeout_ms;
	if ((n = tlsa_fetch_all(&f, served, err, errlen)) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (!tlsa_spki_supported(X509_get_X509_PUBKEY(sk_X509_value(
		    (*served)[i].chain, 0)), err, errlen)) {
			err_prefix(err, errlen, (*served)[i].peer);
			tlsa_served_free(*served, n);
			*served = NULL;
			return -1;
		}
	return n;
}

/* Print "u s m HEX" of a record into buf. */
static int
rec_text(const struct tlsa_rec *r, char *buf, size_t len)
{
	char *hex;

	if ((hex = tlsa_hex(r->data, r->len)) == NULL)
		return -1;
	snprintf(buf, len, "%u %u %u %s", r->spec.usage, r->spec.selector,
	    r->spec.mtype, hex);
	free(hex);
	return 0;
}

/*
 * Verify one input against the records that apply to its owner k, the
 * way a sending MTA would: on SMTP ports (smtp set) usages 0 and 1 are
 * not used (RFC 7672 section 3.1.3); the DANE-TA name check takes the
 * owner's host name (never the leaf's own) and the --nexthop domain.
 * Returns 1 match, 0 no match (a line in out says why), -1 error.
 */
static int
verify_owner(const struct opts *o, int k, struct tlsa_input *in,
    const char *name, const char *fallback_host, int smtp,
    const struct tlsa_reclist *rl, struct sbuf *out)
{
	struct tlsa_rec *sel = NULL;
	struct tlsa_match m;
	X509 *leaf = NULL;
	char err[ERRBUF_LEN], *owner = NULL, label[700], rtext[300];
	const char *names[2], *ref;
	size_t i, n = 0, nnames = 0, ignored = 0;
	int r, rc = -1;

	if (in->certs != NULL && sk_X509_num(in->certs) > 0)
		leaf = sk_X509_value(in->certs, 0);
	owner = input_owner(o, k, fallback_host, leaf, err, sizeof(err));
	ERR_clear_error();
	if (owner_count(o) > 1)
		snprintf(label, sizeof(label), "%s at %s", name, owner);
	else
		snprintf(label, sizeof(label), "%s", name);
	if ((sel = calloc(rl->n + 1, sizeof(*sel))) == NULL) {
		log_error("out of memory");
		goto out;
	}
	for (i = 0; i < rl->n; i++) {
		if (owner != NULL && rl->owner[i] != NULL &&
		    strcmp(owner, rl->owner[i]) != 0)
			continue;
		if (smtp && rl->v[i].spec.usage <= TLSA_USAGE_PKIX_EE) {
			if (rec_text(&rl->v[i], rtext, sizeof(rtext)) == -1) {
				log_error("out of memory");
				goto out;
			}
			sbuf_printf(out, "%s: ignoring %s: usages 0 and 1 are "
			    "not used for SMTP (RFC 7672 section 3.1.3)\n",
			    label, rtext);
			ignored++;
			continue;
		}
		sel[n++] = rl->v[i];	/* shallow: not freed here */
	}
	if ((ref = owner_refname(o, k, fallback_host)) != NULL)
		names[nnames++] = ref;
	if (o->nexthop != NULL && (ref == NULL || strcasecmp(ref,
	    o->nexthop) != 0))
		names[nnames++] = o->nexthop;
	if (n == 0) {
		if (ignored > 0)
			sbuf_printf(out, "%s: no match: no usable record for "
			    "%s (SMTP clients treat it as having no TLSA "
			    "records)\n", label, owner != NULL ? owner :
			    "the input");
		else
			sbuf_printf(out, "%s: no match: no record for %s\n",
			    label, owner);
		rc = 0;
		goto out;
	}
	r = tlsa_dane_verify_names(in->certs, in->key, names, nnames, sel, n,
	    &m, err, sizeof(err));
	if (r == -1) {
		log_error("%s: %s", label, err);
		goto out;
	}
	if (r == 0) {
		sbuf_printf(out, "%s: no match: %s\n", label, m.reason);
		rc = 0;
		goto out;
	}
	if (m.index < 0) {
		sbuf_printf(out, "%s: match at depth %d\n", label, m.depth);
	} else {
		if (rec_text(&sel[m.index], rtext, sizeof(rtext)) == -1) {
			log_error("out of memory");
			goto out;
		}
		if (sel[m.index].spec.usage != TLSA_USAGE_DANE_TA)
			sbuf_printf(out, "%s: match: %s at depth %d\n", label,
			    rtext, m.depth);
		else if (nnames == 0)
			sbuf_printf(out, "%s: match: %s at depth %d, no name "
			    "check done (give -H or --nexthop)\n", label,
			    rtext, m.depth);
		else
			sbuf_printf(out, "%s: match: %s at depth %d, name %s\n",
			    label, rtext, m.depth, m.name[0] != '\0' ? m.name :
			    names[0]);
	}
	rc = 1;
out:
	free(sel);
	free(owner);
	return rc;
}

/* Verify one input at every owner; 1 all match, 0 not, -1 error. */
static int
verify_input(const struct opts *o, struct tlsa_input *in, const char *name,
    const char *fallback_host, int smtp, const struct tlsa_reclist *rl,
    struct sbuf *out)
{
	int k, r, rc = 1;

	for (k = 0; k < owner_count(o); k++) {
		if ((r = verify_owner(o, k, in, name, fallback_host, smtp, rl,
		    out)) == -1)
			return -1;
		if (r == 0)
			rc = 0;
	}
	return rc;
}

/*
 * --expect: the records the RRsets hold now.  Zone lines carry their
 * owner; bare records get the -H owner.  "none": every RRset is empty.
 */
static int
load_expect(const struct opts *o, struct zone_rrlist *ex)
{
	struct tlsa_reclist rl = { 0 };
	char err[ERRBUF_LEN], *owner = NULL;
	size_t i;
	int j, rc = -1;

	for (j = 0; j < o->nexpect; j++) {
		if (strcmp(o->expect[j], "none") == 0)
			continue;
		if (tlsa_parse_arg(&rl, o->expect[j], err, sizeof(err)) ==
		    -1) {
			log_error("--expect %s", err);
			goto out;
		}
	}
	for (i = 0; i < rl.n; i++) {
		const char *ow = rl.owner[i];
		int k;

		if (ow != NULL) {
			if (zone_rrlist_add(ex, ow, 0, 0, o->rrclass,
			    &rl.v[i], NULL) == -1) {
				log_error("out of memory");
				goto out;
			}
			continue;
		}
		/* A bare record is expected at every -H owner. */
		if (o->nhosts == 0) {
			log_error("--expect: a record without an owner needs "
			    "-H (no host name for the owner)");
			goto out;
		}
		for (k = 0; k < o->nhosts; k++) {
			struct tlsa_rec copy;

			free(owner);
			if ((owner = input_owner(o, k, NULL, NULL, err,
			    sizeof(err))) == NULL) {
				log_error("--expect: %s", err);
				goto out;
			}
			/* zone_rrlist_add() takes the record: one each. */
			if (tlsa_rec_copy(&copy, &rl.v[i]) == -1 ||
			    zone_rrlist_add(ex, owner, 0, 0, o->rrclass,
			    &copy, NULL) == -1) {
				tlsa_rec_clear(&copy);
				log_error("out of memory");
				goto out;
			}
		}
	}
	rc = 0;
out:
	free(owner);
	tlsa_reclist_free(&rl);
	return rc;
}

/* --update: one compare-and-swap update with every owner in it. */
static int
do_update(const struct opts *o, const struct zone_rrlist *l,
    const struct zone_rrlist *expect, struct sbuf *report)
{
	struct zone_publish_opts po;
	struct zone_server srv;
	struct zone_tsig key = { 0 };
	char err[ERRBUF_LEN];
	int rc = -1;

	if (zone_server_parse(o->update, &srv, err, sizeof(err)) == -1) {
		log_error("--update %s", err);
		return -1;
	}
	if (o->tsig != NULL && zone_tsig_load(o->tsig, &key, err,
	    sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	memset(&po, 0, sizeof(po));
	po.mode = o->del ? ZONE_PUB_DELETE : o->replace ? ZONE_PUB_REPLACE :
	    ZONE_PUB_ADD;
	po.zone = o->zone;
	po.key = o->tsig != NULL ? &key : NULL;
	po.xfer.timeout_ms = o->timeout_ms < 5000 ? o->timeout_ms : 5000;
	po.xfer.tries = 3;
	po.dry_run = o->dry_run;
	po.ttl = o->has_ttl ? o->ttl : 3600;
	po.expect = expect;
	if (zone_publish(&srv, l, &po, report, err, sizeof(err)) == -1)
		log_error("%s", err);
	else
		rc = 0;
	zone_tsig_free(&key);
	return rc;
}

/*
 * --dns-status: for each owner of the inputs (or the -H owner), report
 * what every server and the resolver serve.  Returns 0 all good, 2 when
 * something differs, -1 on error.
 */
static int
do_dns_status(const struct opts *o, const struct zone_rrlist *l,
    const struct zone_rrlist *expect, int have_inputs, struct sbuf *out)
{
	struct zone_status_opts so;
	struct zone_server resolver, primary, *servers = NULL;
	struct zone_groups g = { 0 };
	const struct zone_rrlist *src;
	struct zone_rrset want;
	char err[ERRBUF_LEN], *owner = NULL;
	size_t i, k;
	int r, rc = -1, bad = 0;

	memset(&so, 0, sizeof(so));
	so.zone = o->zone;
	so.trust_anchor = o->trust_anchor;
	so.xfer.timeout_ms = o->timeout_ms < 3000 ? o->timeout_ms : 3000;
	so.xfer.tries = 2;
	if (o->resolver != NULL) {
		if (zone_server_parse(o->resolver, &resolver, err,
		    sizeof(err)) == -1) {
			log_error("--resolver %s", err);
			goto out;
		}
		so.resolver = &resolver;
	} else if (o->nns == 0 && zone_server_system(&resolver, err,
	    sizeof(err)) == 0)
		so.resolver = &resolver;
	if (o->primary != NULL) {
		if (zone_server_parse(o->primary, &primary, err,
		    sizeof(err)) == -1) {
			log_error("--primary %s", err);
			goto out;
		}
		so.primary = &primary;
	}
	if (o->nns > 0) {
		if ((servers = calloc((size_t)o->nns, sizeof(*servers))) ==
		    NULL) {
			log_error("out of memory");
			goto out;
		}
		for (i = 0; i < (size_t)o->nns; i++)
			if (zone_server_parse(o->ns[i], &servers[i], err,
			    sizeof(err)) == -1) {
				log_error("--ns %s", err);
				goto out;
			}
		so.servers = servers;
		so.nservers = (size_t)o->nns;
	}
	/* What to expect: --expect, else the inputs' records, else agree. */
	src = expect != NULL ? expect : have_inputs ? l : NULL;
	if (src == NULL || src->n == 0) {
		/* Every -H owner (nothing: the servers must agree). */
		for (k = 0; k < (size_t)owner_count(o); k++) {
			free(owner);
			if ((owner = input_owner(o, (int)k, NULL, NULL, err,
			    sizeof(err))) == NULL) {
				log_error("%s", err);
				goto out;
			}
			memset(&want, 0, sizeof(want));
			r = zone_status(&so, owner, expect != NULL ? &want :
			    NULL, out, err, sizeof(err));
			if (r == -1) {
				log_error("%s", err);
				goto out;
			}
			bad += r;
		}
		rc = bad ? 2 : 0;
		goto out;
	}
	if (zone_rrlist_group(src, &g) == -1) {
		log_error("out of memory");
		goto out;
	}
	for (i = 0; i < g.ngroups; i++) {
		memset(&want, 0, sizeof(want));
		if ((want.v = calloc(g.start[i + 1] - g.start[i],
		    sizeof(*want.v))) == NULL) {
			log_error("out of memory");
			goto out;
		}
		for (k = g.start[i]; k < g.start[i + 1]; k++)
			want.v[want.n++] = src->v[g.order[k]].rec; /* shallow */
		r = zone_status(&so, src->v[g.order[g.start[i]]].owner, &want,
		    out, err, sizeof(err));
		free(want.v);
		if (r == -1) {
			log_error("%s", err);
			goto out;
		}
		bad += r;
	}
	rc = bad ? 2 : 0;
out:
	free(owner);
	free(servers);
	zone_groups_free(&g);
	return rc;
}

enum {
	OPT_STARTTLS = 256, OPT_SNI, OPT_HELO, OPT_TIMEOUT, OPT_VERIFY,
	OPT_KEEP_GOING, OPT_FORCE, OPT_REPLACE, OPT_UPDATE, OPT_TSIG,
	OPT_DELETE, OPT_EXPECT, OPT_ZONEFILE, OPT_SIG_INCEPTION,
	OPT_SIG_VALIDITY, OPT_SIG_JITTER, OPT_DNS_STATUS, OPT_RESOLVER, OPT_NS,
	OPT_PRIMARY, OPT_TRUST_ANCHOR, OPT_NEXTHOP
};

static const struct option longopts[] = {
	{ "host",	required_argument, NULL, 'H' },
	{ "nexthop",	required_argument, NULL, OPT_NEXTHOP },
	{ "port",	required_argument, NULL, 'p' },
	{ "proto",	required_argument, NULL, 'P' },
	{ "record",	required_argument, NULL, 'r' },
	{ "issuer",	required_argument, NULL, 'i' },
	{ "ttl",	required_argument, NULL, 't' },
	{ "class",	required_argument, NULL, 'C' },
	{ "format",	required_argument, NULL, 'f' },
	{ "zone",	required_argument, NULL, 'z' },
	{ "server",	required_argument, NULL, 's' },
	{ "output",	required_argument, NULL, 'o' },
	{ "connect",	required_argument, NULL, 'c' },
	{ "starttls",	required_argument, NULL, OPT_STARTTLS },
	{ "sni",	required_argument, NULL, OPT_SNI },
	{ "helo",	required_argument, NULL, OPT_HELO },
	{ "timeout",	required_argument, NULL, OPT_TIMEOUT },
	{ "verify",	required_argument, NULL, OPT_VERIFY },
	{ "keep-going",	no_argument,	   NULL, OPT_KEEP_GOING },
	{ "force",	no_argument,	   NULL, OPT_FORCE },
	{ "replace",	no_argument,	   NULL, OPT_REPLACE },
	{ "update",	required_argument, NULL, OPT_UPDATE },
	{ "tsig-key",	required_argument, NULL, OPT_TSIG },
	{ "delete",	no_argument,	   NULL, OPT_DELETE },
	{ "dry-run",	no_argument,	   NULL, 'n' },
	{ "expect",	required_argument, NULL, OPT_EXPECT },
	{ "zone-key",	required_argument, NULL, 'k' },
	{ "zonefile",	required_argument, NULL, OPT_ZONEFILE },
	{ "sig-inception", required_argument, NULL, OPT_SIG_INCEPTION },
	{ "sig-validity", required_argument, NULL, OPT_SIG_VALIDITY },
	{ "sig-jitter",	required_argument, NULL, OPT_SIG_JITTER },
	{ "dns-status",	no_argument,	   NULL, OPT_DNS_STATUS },
	{ "resolver",	required_argument, NULL, OPT_RESOLVER },
	{ "ns",		required_argument, NULL, OPT_NS },
	{ "primary",	required_argument, NULL, OPT_PRIMARY },
	{ "trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR },
	{ "help",	no_argument,	   NULL, 'h' },
	{ "version",	no_argument,	   NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	char err[ERRBUF_LEN], *at;
	unsigned long v;
	int ch;
	ldns_rr_class cls;

	memset(o, 0, sizeof(*o));
	o->port = 25;
	o->proto = "tcp";
	o->rrclass = LDNS_RR_CLASS_IN;
	o->format = ZONE_FMT_ZONE;
	o->starttls = -1;
	o->timeout_ms = 10000;
	o->sig_inception = (uint32_t)time(NULL) - 3600;
	o->sig_validity = 14 * 86400;
	o->sig_jitter = 86400;
	if ((o->issuers = calloc((size_t)argc, sizeof(char *))) == NULL ||
	    (o->verify = calloc((size_t)argc, sizeof(char *))) == NULL ||
	    (o->expect = calloc((size_t)argc, sizeof(char *))) == NULL ||
	    (o->zonekeys = calloc((size_t)argc, sizeof(char *))) == NULL ||
	    (o->ns = calloc((size_t)argc, sizeof(char *))) == NULL) {
		log_error("out of memory");
		exit(1);
	}
	while ((ch = getopt_long(argc, argv, "H:p:P:r:i:t:C:f:z:s:o:c:k:nhV",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'H':
			if (o->nhosts == MAX_HOSTS) {
				log_error("-H: at most %d host names",
				    MAX_HOSTS);
				exit(1);
			}
			if ((o->hosts[o->nhosts] = tlsa_host_ascii(optarg, err,
			    sizeof(err))) == NULL) {
				log_error("-H %s", err);
				exit(1);
			}
			o->nhosts++;
			break;
		case OPT_NEXTHOP:
			if (o->nexthop != NULL) {
				log_error("--nexthop: given twice");
				exit(1);
			}
			if ((o->nexthop = tlsa_host_ascii(optarg, err,
			    sizeof(err))) == NULL) {
				log_error("--nexthop %s", err);
				exit(1);
			}
			break;
		case 'p':
			if (parse_uint(optarg, 65535, &v) == -1 || v == 0) {
				log_error("-p %s: want a port 1-65535", optarg);
				exit(1);
			}
			o->port = (unsigned)v;
			break;
		case 'P':
			if (strcmp(optarg, "tcp") && strcmp(optarg, "udp") &&
			    strcmp(optarg, "sctp")) {
				log_error("-P %s: want tcp, udp or sctp",
				    optarg);
				exit(1);
			}
			o->proto = optarg;
			break;
		case 'r':
			if (o->nspecs == MAX_SPECS) {
				log_error("-r: at most %d record types",
				    MAX_SPECS);
				exit(1);
			}
			if (tlsa_spec_parse(optarg, &o->specs[o->nspecs], err,
			    sizeof(err)) == -1) {
				log_error("-r %s", err);
				exit(1);
			}
			o->nspecs++;
			break;
		case 'i':
			o->issuers[o->nissuers++] = optarg;
			break;
		case 't':
			if (parse_uint(optarg, 2147483647UL, &v) == -1) {
				log_error("-t %s: want a TTL 0-2147483647",
				    optarg);
				exit(1);
			}
			o->ttl = (uint32_t)v;
			o->has_ttl = 1;
			break;
		case 'C':
			cls = ldns_get_rr_class_by_name(optarg);
			if (cls == 0) {
				log_error("-C %s: unknown class", optarg);
				exit(1);
			}
			o->rrclass = (uint16_t)cls;
			break;
		case 'f':
			if ((o->format = zone_format_parse(optarg)) == -1) {
				log_error("-f %s: want zone, generic, json, "
				    "nsupdate, fragment or signed", optarg);
				exit(1);
			}
			break;
		case 'z':
			o->zone = optarg;
			break;
		case 's':
			o->server = optarg;
			if ((at = strchr(optarg, '@')) != NULL) {
				*at = '\0';
				if (parse_uint(at + 1, 65535, &v) == -1 ||
				    v == 0) {
					log_error("-s: bad port \"%s\"",
					    at + 1);
					exit(1);
				}
				o->server_port = (unsigned)v;
			}
			break;
		case 'o':
			o->outfile = optarg;
			break;
		case 'c':
			if (o->nconnect == MAX_CONNECT) {
				log_error("-c: at most %d servers",
				    MAX_CONNECT);
				exit(1);
			}
			o->connect[o->nconnect++] = optarg;
			break;
		case OPT_STARTTLS:
			if (strcmp(optarg, "smtp") == 0)
				o->starttls = TLSA_STARTTLS_SMTP;
			else if (strcmp(optarg, "none") == 0)
				o->starttls = TLSA_STARTTLS_NONE;
			else {
				log_error("--starttls %s: want smtp or none",
				    optarg);
				exit(1);
			}
			break;
		case OPT_SNI:
			o->sni = optarg;
			break;
		case OPT_HELO:
			if (strpbrk(optarg, " \t\r\n") != NULL ||
			    strlen(optarg) > 255 || *optarg == '\0') {
				log_error("--helo: not a host name");
				exit(1);
			}
			o->helo = optarg;
			break;
		case OPT_TIMEOUT:
			if (parse_uint(optarg, 3600, &v) == -1 || v == 0) {
				log_error("--timeout %s: want 1-3600 seconds",
				    optarg);
				exit(1);
			}
			o->timeout_ms = (int)v * 1000;
			break;
		case OPT_VERIFY:
			o->verify[o->nverify++] = optarg;
			break;
		case OPT_KEEP_GOING:
			o->keep_going = 1;
			break;
		case OPT_FORCE:
			o->force = 1;
			break;
		case OPT_REPLACE:
			o->replace = 1;
			break;
		case OPT_UPDATE:
			o->update = optarg;
			break;
		case OPT_TSIG:
			o->tsig = optarg;
			break;
		case OPT_DELETE:
			o->del = 1;
			break;
		case 'n':
			o->dry_run = 1;
			break;
		case OPT_EXPECT:
			o->expect[o->nexpect++] = optarg;
			break;
		case 'k':
			o->zonekeys[o->nzonekeys++] = optarg;
			break;
		case OPT_ZONEFILE:
			o->zonefile = optarg;
			break;
		case OPT_DNS_STATUS:
			o->dns_status = 1;
			break;
		case OPT_RESOLVER:
			o->resolver = optarg;
			break;
		case OPT_NS:
			o->ns[o->nns++] = optarg;
			break;
		case OPT_PRIMARY:
			o->primary = optarg;
			break;
		case OPT_TRUST_ANCHOR:
			o->trust_anchor = optarg;
			break;
		case OPT_SIG_INCEPTION:
			if (zone_parse_time(optarg, &o->sig_inception) == -1) {
				log_error("--sig-inception %s: want UNIX time, "
				    "YYYYMMDDHHMMSS or now[+-]DURATION",
				    optarg);
				exit(1);
			}
			break;
		case OPT_SIG_VALIDITY:
		case OPT_SIG_JITTER:
			if (zone_parse_duration(optarg, ch == OPT_SIG_VALIDITY ?
			    &o->sig_validity : &o->sig_jitter) == -1) {
				log_error("--%s %s: want a duration like 3600, "
				    "90m, 36h, 14d or 2w", ch == OPT_SIG_VALIDITY ?
				    "sig-validity" : "sig-jitter", optarg);
				exit(1);
			}
			break;
		case 'h':
			usage(0);
		case 'V':
			printf("tlsagen %s\n", VERSION);
			exit(0);
		default:
			usage(1);
		}
	}
	if (o->format == ZONE_FMT_SIGNED) {
		if (o->zone == NULL || o->nzonekeys == 0) {
			log_error("-f signed needs the zone (-z) and its key "
			    "(-k)");
			exit(1);
		}
		if (o->sig_jitter >= o->sig_validity) {
			log_error("--sig-jitter must be shorter than "
			    "--sig-validity");
			exit(1);
		}
	}
	if (o->del && o->replace) {
		log_error("--delete and --replace exclude each other");
		exit(1);
	}
	if (o->zone != NULL) {
		char *z = zone_name_canon(o->zone, err, sizeof(err));

		if (z == NULL) {
			log_error("-z %s", err);
			exit(1);
		}
		o->zone = z;	/* freed at exit */
	}
	if (o->nspecs == 0) {
		o->specs[0] = (struct tlsa_spec){ 3, 1, 1 };
		o->specs[1] = (struct tlsa_spec){ 2, 1, 1 };
		o->nspecs = 2;
	}
}

/* RFC 7672 section 3.1.3: SMTP clients treat usages 0 and 1 as unusable. */
static void
check_specs(const struct opts *o)
{
	char err[ERRBUF_LEN];
	int i;

	for (i = 0; i < o->nspecs; i++) {
		if (!tlsa_spec_computable(&o->specs[i], err, sizeof(err))) {
			log_error("-r %u,%u,%u: %s", o->specs[i].usage,
			    o->specs[i].selector, o->specs[i].mtype, err);
			exit(1);
		}
		if (o->specs[i].usage <= TLSA_USAGE_PKIX_EE && !o->force &&
		    (o->port == 25 || o->port == 465 || o->port == 587)) {
			log_error("-r %u,%u,%u: usage %u (%s) is ignored by "
			    "SMTP clients (RFC 7672 section 3.1.3); use 2 or "
			    "3, or --force", o->specs[i].usage,
			    o->specs[i].selector, o->specs[i].mtype,
			    o->specs[i].usage,
			    tlsa_field_name(0, o->specs[i].usage));
			exit(1);
		}
	}
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct issuers is = { NULL, NULL, 0 };
	struct zone_rrlist l = { 0 }, expect = { 0 };
	struct tlsa_reclist rl = { 0 };
	struct zone_out_opts zo;
	struct tlsa_input in;
	struct sbuf out = { 0 };
	char err[ERRBUF_LEN], host[256], name[600];
	int i, nfiles, failed = 0, nomatch = 0, r, status = 1;

	log_init("tlsagen");
	privsep_nocore();
	/*
	 * A peer that closes mid-handshake makes OpenSSL's alert write()
	 * raise SIGPIPE; we want the EPIPE and a one-line error instead.
	 */
	signal(SIGPIPE, SIG_IGN);
	parse_opts(argc, argv, &o);
	nfiles = argc - optind;
	if (nfiles == 0 && o.nconnect == 0 && !o.dns_status &&
	    (o.nissuers == 0 || o.nverify > 0)) {
		log_error("no input: give files, -c HOST or -i ISSUER "
		    "(see --help)");
		return 1;
	}
	if (o.nverify == 0)
		check_specs(&o);
	if (o.nverify > 0) {
		for (i = 0; i < o.nverify; i++)
			if (tlsa_parse_arg(&rl, o.verify[i], err,
			    sizeof(err)) == -1) {
				log_error("%s", err);
				goto out;
			}
	} else if (load_issuers(&o, &is) == -1)
		goto out;

	for (i = 0; i < nfiles + o.nconnect; i++) {
		struct tlsa_served *served = NULL;
		const char *fallback = NULL;
		int nserved = 1, k, smtp = o.port == 25 || o.port == 587;

		err[0] = '\0';
		if (i < nfiles) {
			snprintf(name, sizeof(name), "%s", argv[optind + i]);
			r = tlsa_load_file(argv[optind + i], o.nverify > 0,
			    &in, err, sizeof(err));
		} else {
			/* The error names the server and address itself. */
			nserved = fetch_input(&o, o.connect[i - nfiles],
			    &served, host, sizeof(host), &smtp, err,
			    sizeof(err));
			fallback = host;
			name[0] = '\0';
			r = nserved == -1 ? -1 : 0;
		}
		for (k = 0; r == 0 && k < nserved; k++) {
			if (served != NULL) {
				memset(&in, 0, sizeof(in));
				in.certs = served[k].chain;
				served[k].chain = NULL;
				snprintf(name, sizeof(name), "%s (%s%s%s)", host,
				    served[k].peer, nserved > 1 ? ", " : "",
				    nserved > 1 ? served[k].kind : "");
			}
			if (o.nverify > 0) {
				r = verify_input(&o, &in, name, fallback, smtp,
				    &rl, &out);
				if (r == 0)
					nomatch++;
				r = r == -1 ? -1 : 0;
				err[0] = '\0';
			} else
				r = input_records(&o, &in, fallback, name, &l,
				    &is, err, sizeof(err));
			tlsa_input_clear(&in);
		}
		tlsa_served_free(served, nserved);
		if (r == -1) {
			if (err[0] != '\0') {
				if (o.keep_going)
					log_warn("%s%s%s (skipped)", name,
					    name[0] ? ": " : "", err);
				else
					log_error("%s%s%s", name,
					    name[0] ? ": " : "", err);
			}
			failed++;
			if (!o.keep_going)
				goto out;
		}
	}
	if (o.nverify == 0 && nfiles == 0 && o.nconnect == 0 &&
	    (o.nissuers > 0 || !o.dns_status)) {
		/* Only issuers: they need an owner from -H (each). */
		char *owner;
		int added = 0, k;

		for (k = 0; k < owner_count(&o); k++) {
			if ((owner = input_owner(&o, k, NULL, NULL, err,
			    sizeof(err))) == NULL) {
				log_error("%s", err);
				goto out;
			}
			r = add_issuer_records(&o, &is, &l, owner, &added, err,
			    sizeof(err));
			free(owner);
			if (r == -1) {
				log_error("%s", err);
				goto out;
			}
		}
		if (added == 0) {
			log_error("no record applies: -i issuers get only "
			    "usage 0/2 records");
			goto out;
		}
	}
	if (o.nexpect > 0 && load_expect(&o, &expect) == -1)
		goto out;
	if (o.dns_status) {
		r = do_dns_status(&o, &l, o.nexpect > 0 ? &expect : NULL,
		    nfiles + o.nconnect > 0, &out);
		if (r == -1)
			goto out;
		nomatch = r;
	} else if (o.nverify == 0 && o.update != NULL) {
		if (l.n == 0) {
			log_error("no records: every input failed");
			goto out;
		}
		if (do_update(&o, &l, o.nexpect > 0 ? &expect : NULL, &out) ==
		    -1)
			goto out;
	} else if (o.nverify == 0) {
		if (l.n == 0) {
			log_error("no records: every input failed");
			goto out;
		}
		memset(&zo, 0, sizeof(zo));
		zo.has_expect = o.nexpect > 0;
		zo.expect = &expect;
		zo.format = o.format;
		zo.zone = o.zone;
		zo.server = o.server;
		zo.server_port = o.server_port;
		zo.replace = o.replace;
		zo.default_ttl = 3600;
		if (o.format == ZONE_FMT_SIGNED) {
			struct zone_sign_opts so;

			memset(&so, 0, sizeof(so));
			so.zone = o.zone;
			so.keyfiles = o.zonekeys;
			so.nkeys = o.nzonekeys;
			so.zonefile = o.zonefile;
			so.inception = o.sig_inception;
			so.expiration = o.sig_inception + o.sig_validity;
			so.jitter = o.sig_jitter;
			so.ttl = o.has_ttl ? o.ttl : 3600;
			if (zone_sign_fragment(&l, &so, &out, err,
			    sizeof(err)) == -1) {
				log_error("%s", err);
				goto out;
			}
		} else if (zone_out_render(&l, &zo, &out, err, sizeof(err)) == -1) {
			log_error("%s", err);
			goto out;
		}
	} else if (out.failed) {
		log_error("out of memory");
		goto out;
	}
	if (o.outfile != NULL) {
		if (atomic_write(o.outfile, out.s != NULL ? out.s : "",
		    out.len, 0644, err, sizeof(err)) == -1) {
			log_error("%s", err);
			goto out;
		}
	} else if (sbuf_write(&out, STDOUT_FILENO) == -1) {
		log_error("standard output: %s", strerror(errno));
		goto out;
	}
	status = failed ? 1 : nomatch ? 2 : 0;
out:
	sbuf_free(&out);
	zone_rrlist_free(&l);
	zone_rrlist_free(&expect);
	tlsa_reclist_free(&rl);
	free((char *)o.zone);
	free(o.expect);
	free(o.zonekeys);
	free(o.ns);
	free_issuers(&is);
	free(o.issuers);
	free(o.verify);
	for (i = 0; i < o.nhosts; i++)
		free(o.hosts[i]);
	free(o.nexthop);
	tlsa_rec_cleanup();
	tlsa_dane_cleanup();
	tlsa_net_cleanup();
	tlsa_load_cleanup();
	return status;
}
