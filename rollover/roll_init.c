/*
 * roll_init.c: tlsa-rollover init.  Every value is checked as the
 * configuration loader checks it (names canonicalised, addresses parsed,
 * paths absolute) and written double-quoted, so that what is written is
 * what was given; the file is then loaded and validated from a temporary
 * name in the same directory, and linked into place only when both pass
 * (never over an existing file unless --force, then renamed).  Values
 * not given as flags can be asked for, a line each on stderr with the
 * answer read from stdin (a terminal, or anything with --interactive);
 * an answer is checked when it comes and asked again when wrong.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "log.h"
#include "roll_config.h"
#include "roll_init.h"
#include "roll_validate.h"
#include "sbuf.h"
#include "tlsa_parse.h"
#include "zone_check.h"
#include "zone_net.h"
#include "zone_rr.h"
#include "zone_sign.h"

#define INIT_MAX_HOSTS	16
#define INIT_TRIES	3	/* answers to one question before giving up */
#define INIT_LINE	1024	/* longest answer */

struct init_opts {
	const char	*zone, *primary, *key, *resolver, *deploy, *state;
	const char	*service, *mta, *ttl;
	const char	*hosts[INIT_MAX_HOSTS];
	int		 nhosts, force;
	int		 interactive;	/* 1 --interactive, 0 --no-, -1 tty */
	uint32_t	 ttl_s;		/* --ttl in seconds (default 3600) */
};

static void
init_usage(FILE *f)
{
	fprintf(f,
"usage: tlsa-rollover [-f config] init --zone ZONE --primary ADDR[@PORT]\n"
"           --tsig-key FILE --host HOST [--host HOST...] --deploy-dir DIR\n"
"           [--resolver ADDR[@PORT]] [--mta postfix|exim|none] [--service NAME]\n"
"           [--state-dir DIR] [--ttl DURATION] [--force]\n"
"           [--interactive | --no-interactive]\n"
"Write a commented configuration for one service to the -f file (default\n"
"/etc/tlsa-rollover/tlsa-rollover.yaml), checked as every command checks it;\n"
"an existing file is kept unless --force.  When a required flag is missing\n"
"and standard input is a terminal (or with --interactive), ask on standard\n"
"error for every value not given as a flag, one line each, the default in\n"
"brackets; a wrong answer is asked again, at most 3 times.  --no-interactive:\n"
"never ask (a missing flag is a usage error).\n");
}

/* A YAML double-quoted scalar of s (printable ASCII, checked before). */
static void
quoted(struct sbuf *b, const char *s)
{
	sbuf_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			sbuf_add(b, "\\", 1);
		sbuf_add(b, s, 1);
	}
	sbuf_add(b, "\"", 1);
}

static int
printable(const char *what, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e) {
			log_error("init: %s: control or non-ASCII bytes", what);
			return 0;
		}
	return 1;
}

static int
absolute(const char *what, const char *s)
{
	if (s[0] != '/' || strlen(s) > ROLL_MAX_PATH) {
		log_error("init: %s %s: want an absolute path of at most %d "
		    "bytes", what, s, ROLL_MAX_PATH);
		return 0;
	}
	return printable(what, s);
}

/*
 * The checks of one value each: what names it in the message ("--zone"
 * for a flag, "zone" for an answer).  0, or -1 after one error line.
 */

/* A host or zone name, canonical (absolute, A-labels) into *canon. */
static int
check_name(const char *what, const char *v, char **canon)
{
	char err[ERRBUF_LEN], *a;

	if ((a = tlsa_host_ascii(v, err, sizeof(err))) == NULL ||
	    (*canon = zone_name_canon(a, err, sizeof(err))) == NULL) {
		free(a);
		log_error("init: %s %s", what, err);
		return -1;
	}
	free(a);
	return 0;
}

static int
check_server(const char *what, const char *v)
{
	struct zone_server srv;
	char err[ERRBUF_LEN];

	if (zone_server_parse(v, &srv, err, sizeof(err)) == -1) {
		log_error("init: %s %s", what, err);
		return -1;
	}
	return 0;
}

static int
check_ttl(const char *what, const char *v, uint32_t *ttl)
{
	if (zone_parse_duration(v, ttl) == -1 || *ttl == 0 ||
	    *ttl > 604800) {
		log_error("init: %s %s: want a duration from 1s to 7d", what,
		    v);
		return -1;
	}
	return 0;
}

static int
check_service(const char *what, const char *v)
{
	if (strlen(v) > 64 || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
	    "KLMNOPQRSTUVWXYZ0123456789-_.") != strlen(v) || v[0] == '.' ||
	    v[0] == '-' || v[0] == '\0') {
		log_error("init: %s %s: letters, digits, '-', '_' and '.' only",
		    what, v);
		return -1;
	}
	return 0;
}

static int
check_mta(const char *what, const char *v)
{
	if (strcmp(v, "postfix") != 0 && strcmp(v, "exim") != 0 &&
	    strcmp(v, "none") != 0) {
		log_error("init: %s %s: want postfix, exim or none", what, v);
		return -1;
	}
	return 0;
}

/* The first required value not given, as its flag, or NULL. */
static const char *
missing(const struct init_opts *o)
{
	return o->zone == NULL ? "--zone ZONE" : o->primary == NULL ?
	    "--primary ADDR" : o->key == NULL ? "--tsig-key FILE" :
	    o->nhosts == 0 ? "--host HOST" : o->deploy == NULL ?
	    "--deploy-dir DIR" : NULL;
}

/* Check the values given as flags; canonical names into zone and hosts. */
static int
check_flags(struct init_opts *o, char **zone, char **hosts)
{
	int i;

	if (o->zone != NULL && check_name("--zone", o->zone, zone) == -1)
		return -1;
	for (i = 0; i < o->nhosts; i++)
		if (check_name("--host", o->hosts[i], &hosts[i]) == -1)
			return -1;
	if ((o->primary != NULL && check_server("--primary", o->primary) ==
	    -1) || (o->resolver != NULL && check_server("--resolver",
	    o->resolver) == -1))
		return -1;
	if ((o->key != NULL && !absolute("--tsig-key", o->key)) ||
	    (o->deploy != NULL && !absolute("--deploy-dir", o->deploy)) ||
	    (o->state != NULL && !absolute("--state-dir", o->state)))
		return -1;
	o->ttl_s = 3600;
	if (o->ttl != NULL && check_ttl("--ttl", o->ttl, &o->ttl_s) == -1)
		return -1;
	if (o->service != NULL && check_service("--service", o->service) == -1)
		return -1;
	if (o->mta != NULL && check_mta("--mta", o->mta) == -1)
		return -1;
	return 0;
}

/*
 * Asking.  Answers are kept in struct asked (freed by asked_free); each
 * is checked as its flag is, and more: the TSIG key file must load, the
 * hosts be in the zone, the deploy directory's parent exist.
 */
struct asked {
	char	*ans[9];	/* the answers, owned */
	int	 nans;
	char	 hostbuf[INIT_LINE];	/* the host answer, split in place */
	int	 tty;		/* standard input is a terminal */
};

static void
asked_free(struct asked *k)
{
	int i;

	for (i = 0; i < k->nans; i++)
		free(k->ans[i]);
	k->nans = 0;
}

/*
 * Print q (and [def]) on stderr and read one line from stdin into buf,
 * trimmed; an empty answer is def when there is one.  1 an answer, 0 end
 * of input, -1 a line too long (read to its end).
 */
static int
ask_line(const struct asked *k, const char *q, const char *def, char *buf,
    size_t len)
{
	size_t n;
	char *p;
	int c;

	if (def != NULL)
		fprintf(stderr, "%s [%s]: ", q, def);
	else
		fprintf(stderr, "%s: ", q);
	fflush(stderr);
	p = fgets(buf, (int)len, stdin);
	if (!k->tty)	/* the answer was not echoed: end the line */
		fputc('\n', stderr);
	if (p == NULL)
		return 0;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] != '\n' && !feof(stdin)) {
		while ((c = getchar()) != EOF && c != '\n')
			;
		return -1;
	}
	while (n > 0 && strchr(" \t\r\n", buf[n - 1]) != NULL)
		buf[--n] = '\0';
	p = buf + strspn(buf, " \t");
	memmove(buf, p, strlen(p) + 1);
	if (buf[0] == '\0' && def != NULL)
		snprintf(buf, len, "%s", def);
	return 1;
}

struct ask_ctx {
	struct init_opts	*o;
	struct asked		*k;
	char			**zone, **hosts;
};

typedef int (*ask_check)(struct ask_ctx *, const char *);

/*
 * Ask what (q the question, def the default or NULL) until an answer
 * passes check, at most INIT_TRIES times.  The answer is kept in k and
 * put in *out.  0, or -1 after one error line (end of input, no answer
 * that passed).
 */
static int
ask(struct ask_ctx *x, const char *what, const char *q, const char *def,
    ask_check check, const char **out)
{
	char buf[INIT_LINE];
	int r, t;

	for (t = 0; t < INIT_TRIES; t++) {
		if ((r = ask_line(x->k, q, def, buf, sizeof(buf))) == 0) {
			log_error("init: end of input before an answer for "
			    "the %s; nothing written", what);
			return -1;
		}
		if (r == -1) {
			log_error("init: %s: answer longer than %d bytes",
			    what, INIT_LINE - 1);
			continue;
		}
		if (buf[0] == '\0') {
			log_error("init: %s: an answer is needed", what);
			continue;
		}
		if (!printable(what, buf) || check(x, buf) == -1)
			continue;
		if ((x->k->ans[x->k->nans] = strdup(buf)) == NULL) {
			log_error("init: out of memory");
			return -1;
		}
		*out = x->k->ans[x->k->nans++];
		return 0;
	}
	log_error("init: no usable %s in %d answers; nothing written", what,
	    INIT_TRIES);
	return -1;
}

static int
ask_zone(struct ask_ctx *x, const char *v)
{
	return check_name("zone", v, x->zone);
}

static int
ask_primary(struct ask_ctx *x, const char *v)
{
	(void)x;
	return check_server("primary", v);
}

static int
ask_resolver(struct ask_ctx *x, const char *v)
{
	(void)x;
	return check_server("resolver", v);
}

/* The key file must load as every command loads it (secret not shown). */
static int
ask_key(struct ask_ctx *x, const char *v)
{
	struct zone_tsig k;
	char err[ERRBUF_LEN];

	(void)x;
	if (!absolute("TSIG key file", v))
		return -1;
	memset(&k, 0, sizeof(k));
	if (zone_tsig_load(v, &k, err, sizeof(err)) == -1) {
		log_error("init: TSIG key file %s", err);
		return -1;
	}
	zone_tsig_free(&k);
	return 0;
}

/* Is name (canonical) zone or below it?  ldns compares the labels. */
static int
in_zone(const char *name, const char *zone)
{
	ldns_rdf *n = NULL, *z = NULL;
	int r = 0;

	if (ldns_str2rdf_dname(&n, name) != LDNS_STATUS_OK ||
	    ldns_str2rdf_dname(&z, zone) != LDNS_STATUS_OK)
		goto out;
	r = ldns_dname_compare(n, z) == 0 || ldns_dname_is_subdomain(n, z);
out:
	ldns_rdf_deep_free(n);
	ldns_rdf_deep_free(z);
	return r;
}

/* Host names separated by spaces or commas, each in the zone. */
static int
ask_hosts(struct ask_ctx *x, const char *v)
{
	struct init_opts *o = x->o;
	char *p, *save = NULL;
	int i, n = 0;

	snprintf(x->k->hostbuf, sizeof(x->k->hostbuf), "%s", v);
	for (p = strtok_r(x->k->hostbuf, " \t,", &save); p != NULL;
	    p = strtok_r(NULL, " \t,", &save)) {
		if (n == INIT_MAX_HOSTS) {
			log_error("init: hosts: at most %d", INIT_MAX_HOSTS);
			goto bad;
		}
		o->hosts[n] = p;
		if (check_name("host", p, &x->hosts[n]) == -1)
			goto bad;
		n++;
		if (!in_zone(x->hosts[n - 1], *x->zone)) {
			log_error("init: host %s is not in zone %s",
			    x->hosts[n - 1], *x->zone);
			goto bad;
		}
	}
	if (n == 0) {
		log_error("init: hosts: an answer is needed");
		goto bad;
	}
	o->nhosts = n;
	return 0;
bad:
	for (i = 0; i < n; i++) {
		free(x->hosts[i]);
		x->hosts[i] = NULL;
	}
	return -1;
}

/* Absolute, and its parent is a directory (init makes no directories). */
static int
ask_deploy(struct ask_ctx *x, const char *v)
{
	struct stat sb;
	char parent[PATH_MAX], *s;
	size_t n;

	(void)x;
	if (!absolute("deploy dir", v))
		return -1;
	snprintf(parent, sizeof(parent), "%s", v);
	for (n = strlen(parent); n > 1 && parent[n - 1] == '/'; n--)
		parent[n - 1] = '\0';
	s = strrchr(parent, '/');
	s[s == parent ? 1 : 0] = '\0';
	if (stat(parent, &sb) == -1) {
		log_error("init: deploy dir %s: %s: %s", v, parent,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		log_error("init: deploy dir %s: %s is not a directory", v,
		    parent);
		return -1;
	}
	return 0;
}

static int
ask_service(struct ask_ctx *x, const char *v)
{
	(void)x;
	return check_service("service", v);
}

static int
ask_ttl(struct ask_ctx *x, const char *v)
{
	return check_ttl("TTL", v, &x->o->ttl_s);
}

static int
ask_mta(struct ask_ctx *x, const char *v)
{
	(void)x;
	return check_mta("MTA", v);
}

struct mx_pref {
	unsigned	 pref;
	char		*name;
};

static int
mx_cmp(const void *a, const void *b)
{
	const struct mx_pref *x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * The zone's MX hosts inside the zone, from resolver, as a default for
 * the hosts question ("mx1.example.net mx2.example.net", by preference);
 * best effort with one short try, empty when there is no answer.
 */
static void
propose_mx(const char *resolver, const char *zone, char *buf, size_t len)
{
	static const struct zone_xfer_opts xo = { 1500, 1, 0 };
	struct zone_server srv;
	struct zone_answer a;
	struct mx_pref m[INIT_MAX_HOSTS];
	ldns_rr_list *mx = NULL;
	char err[ERRBUF_LEN], *t;
	size_t i, n, nm = 0;

	buf[0] = '\0';
	memset(&a, 0, sizeof(a));
	if (zone_server_parse(resolver, &srv, err, sizeof(err)) == -1)
		return;
	(void)zone_lookup(&srv, zone, LDNS_RR_TYPE_MX, &xo, &a);
	if (a.pkt == NULL || (mx = zone_answer_rrs(&a, LDNS_RR_TYPE_MX)) ==
	    NULL)
		goto out;
	for (i = 0; i < ldns_rr_list_rr_count(mx) && nm < INIT_MAX_HOSTS;
	    i++) {
		const ldns_rr *rr = ldns_rr_list_rr(mx, i);

		if (ldns_rr_rd_count(rr) < 2 ||
		    (t = ldns_rdf2str(ldns_rr_rdf(rr, 1))) == NULL)
			continue;
		for (n = 0; t[n] != '\0'; n++)
			t[n] = (char)tolower((unsigned char)t[n]);
		/* Only names an answer could give: in the zone, plain. */
		if (!in_zone(t, zone) || strcmp(t, zone) == 0 ||
		    strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789-.") !=
		    strlen(t)) {
			free(t);
			continue;
		}
		if ((n = strlen(t)) > 1 && t[n - 1] == '.')
			t[n - 1] = '\0';
		m[nm].pref = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		m[nm++].name = t;
	}
	qsort(m, nm, sizeof(m[0]), mx_cmp);
	for (i = 0; i < nm; i++) {
		if (strlen(buf) + strlen(m[i].name) + 2 < len)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			    buf[0] != '\0' ? " " : "", m[i].name);
		free(m[i].name);
	}
out:
	ldns_rr_list_deep_free(mx);
	zone_answer_free(&a);
}

/* The MTA found on this machine, the default answer. */
static const char *
detect_mta(void)
{
	if (access("/usr/sbin/postfix", X_OK) == 0)
		return "postfix";
	if (access("/usr/sbin/exim4", X_OK) == 0)
		return "exim";
	return "none";
}

/* Ask for every value not given as a flag, in a fixed order. */
static int
ask_all(struct init_opts *o, struct asked *k, char **zone, char **hosts)
{
	struct ask_ctx x = { o, k, zone, hosts };
	struct zone_server srv;
	char err[ERRBUF_LEN], q[ERRBUF_LEN], mx[INIT_LINE];
	const char *def, *hostans;

	if (o->zone == NULL && ask(&x, "zone", "DNS zone of the MX hosts "
	    "(e.g. example.net)", NULL, ask_zone, &o->zone) == -1)
		return -1;
	if (o->primary == NULL && ask(&x, "primary", "Primary server that "
	    "takes the updates, ADDR[@PORT]", NULL, ask_primary,
	    &o->primary) == -1)
		return -1;
	if (o->key == NULL && ask(&x, "TSIG key file", "TSIG key file "
	    "(from tsig-keygen, mode 0600)", NULL, ask_key, &o->key) == -1)
		return -1;
	def = zone_server_system(&srv, err, sizeof(err)) == 0 ? srv.name :
	    "127.0.0.1";
	if (o->resolver == NULL && ask(&x, "resolver", "Validating resolver, "
	    "ADDR[@PORT]", def, ask_resolver, &o->resolver) == -1)
		return -1;
	if (o->nhosts == 0) {
		propose_mx(o->resolver != NULL ? o->resolver : def, *zone, mx,
		    sizeof(mx));
		snprintf(q, sizeof(q), "MX host names in %s, separated by "
		    "spaces or commas", *zone);
		if (ask(&x, "hosts", q, mx[0] != '\0' ? mx : NULL, ask_hosts,
		    &hostans) == -1)
			return -1;
	}
	if (o->deploy == NULL && ask(&x, "deploy dir", "Directory the MTA "
	    "reads its key and certificate from", NULL, ask_deploy,
	    &o->deploy) == -1)
		return -1;
	if (o->service == NULL && ask(&x, "service", "Service name", "mx",
	    ask_service, &o->service) == -1)
		return -1;
	if (o->ttl == NULL && ask(&x, "TTL", "TTL of the TLSA records", "3600",
	    ask_ttl, &o->ttl) == -1)
		return -1;
	if (o->mta == NULL && ask(&x, "MTA", "MTA (postfix, exim or none)",
	    detect_mta(), ask_mta, &o->mta) == -1)
		return -1;
	return 0;
}

/* err names the temporary file: name the file it becomes instead. */
static void
rename_in(char *err, size_t errlen, const char *tmp, const char *path)
{
	char buf[ERRBUF_LEN], *p;

	if ((p = strstr(err, tmp)) == NULL)
		return;
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - err), err, path,
	    p + strlen(tmp));
	snprintf(err, errlen, "%s", buf);
}

static void
render(struct sbuf *b, const struct init_opts *o, const char *zone,
    char **hosts)
{
	const char *svc = o->service != NULL ? o->service : "mx";
	int i;

	sbuf_printf(b,
"# tlsa-rollover.yaml: written by \"tlsa-rollover init\"; see\n"
"# tlsa-rollover.yaml(5) for every key.  Check it with\n"
"#   tlsa-rollover validate-config --online\n"
"# before the first import.\n"
"\n"
"# Where each service's state and keys are kept (0700, root's).\n"
"state_dir: ");
	quoted(b, o->state != NULL ? o->state : "/var/lib/tlsa-rollover");
	sbuf_printf(b,
"\n"
"\n"
"dns:\n"
"  zone: ");
	quoted(b, zone);
	sbuf_printf(b,
"\n"
"  # The primary that takes RFC 2136 updates, signed with the TSIG key\n"
"  # (a BIND key file from tsig-keygen, mode 0600).\n"
"  primary: ");
	quoted(b, o->primary);
	sbuf_printf(b, "\n  tsig_key_file: ");
	quoted(b, o->key);
	sbuf_printf(b,
"\n"
"  # A validating resolver: the new records must come back from it with\n"
"  # the AD bit before the hold starts.\n"
"  resolver: ");
	quoted(b, o->resolver != NULL ? o->resolver : "127.0.0.1");
	sbuf_printf(b,
"\n"
"  # TTL of the TLSA records; a new key waits 2 x TTL + hold_margin once\n"
"  # every server serves it.\n"
"  ttl: ");
	sbuf_printf(b, "%u", o->ttl_s);
	sbuf_printf(b,
"\n"
"  # check_servers: [ADDR, ...]   default: every name server of the zone\n"
"  #                               (NS set, port 53) and the primary\n"
"\n"
"services:\n"
"  - name: ");
	quoted(b, svc);
	sbuf_printf(b, "\n    # The MX host names: each gets _25._tcp.HOST TLSA.\n"
	    "    hosts: [");
	for (i = 0; i < o->nhosts; i++) {
		if (i > 0)
			sbuf_printf(b, ", ");
		quoted(b, hosts[i]);
	}
	sbuf_printf(b,
"]\n"
"    # The MTA reads its key and chain from here, never from the ACME\n"
"    # client's own files:\n");
	if (strcmp(o->mta, "postfix") == 0)
		sbuf_printf(b,
"    #   main.cf: smtpd_tls_chain_files = %s/current/privkey.pem,\n"
"    #            %s/current/fullchain.pem\n", o->deploy, o->deploy);
	else if (strcmp(o->mta, "exim") == 0)
		sbuf_printf(b,
"    #   Exim: tls_certificate = %s/current/fullchain.pem\n"
"    #         tls_privatekey = %s/current/privkey.pem\n", o->deploy,
		    o->deploy);
	else
		sbuf_printf(b, "    #   %s/current/{privkey,fullchain}.pem\n",
		    o->deploy);
	sbuf_printf(b, "    deploy_dir: ");
	quoted(b, o->deploy);
	sbuf_printf(b, "\n");
	if (strcmp(o->mta, "postfix") == 0)
		sbuf_printf(b,
"    # Run (without a shell) after each switch so the MTA takes the new\n"
"    # certificate.\n"
"    reload: [\"/usr/sbin/postfix\", \"reload\"]\n");
	else if (strcmp(o->mta, "exim") == 0)
		sbuf_printf(b,
"    # Exim reads the certificate files at each new TLS session: no\n"
"    # reload is needed.\n");
	else
		sbuf_printf(b,
"    # reload: [\"/path/to/command\", \"arg\"]   run after each switch\n");
	sbuf_printf(b,
"    # records: [\"3 1 1\", \"2 1 1\"]   the default: the server key, and\n"
"    #                               the issuer's key\n"
"    # issuers: [/etc/tlsa-rollover/issuers/e7.pem]   issuers to publish\n"
"    #                               2 1 1 for (default: the served one)\n");
}

int
roll_init_cmd(const char *path, int argc, char **argv)
{
	enum { O_ZONE = 256, O_PRIMARY, O_KEY, O_HOST, O_DEPLOY, O_RESOLVER,
	    O_MTA, O_SERVICE, O_STATE, O_TTL, O_FORCE, O_ASK, O_NOASK };
	static const struct option lo[] = {
		{ "zone", required_argument, NULL, O_ZONE },
		{ "primary", required_argument, NULL, O_PRIMARY },
		{ "tsig-key", required_argument, NULL, O_KEY },
		{ "host", required_argument, NULL, O_HOST },
		{ "deploy-dir", required_argument, NULL, O_DEPLOY },
		{ "resolver", required_argument, NULL, O_RESOLVER },
		{ "mta", required_argument, NULL, O_MTA },
		{ "service", required_argument, NULL, O_SERVICE },
		{ "state-dir", required_argument, NULL, O_STATE },
		{ "ttl", required_argument, NULL, O_TTL },
		{ "force", no_argument, NULL, O_FORCE },
		{ "interactive", no_argument, NULL, O_ASK },
		{ "no-interactive", no_argument, NULL, O_NOASK },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct init_opts o;
	struct asked k;
	struct roll_config c;
	struct sbuf b = { 0 };
	char *zone = NULL, *hosts[INIT_MAX_HOSTS] = { NULL };
	const char *m;
	char tmp[PATH_MAX], err[ERRBUF_LEN];
	int ch, i, fd = -1, rc = 2, written = 0, asking;

	memset(&o, 0, sizeof(o));
	memset(&k, 0, sizeof(k));
	o.interactive = -1;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case O_ZONE: o.zone = optarg; break;
		case O_PRIMARY: o.primary = optarg; break;
		case O_KEY: o.key = optarg; break;
		case O_DEPLOY: o.deploy = optarg; break;
		case O_RESOLVER: o.resolver = optarg; break;
		case O_MTA: o.mta = optarg; break;
		case O_SERVICE: o.service = optarg; break;
		case O_STATE: o.state = optarg; break;
		case O_TTL: o.ttl = optarg; break;
		case O_FORCE: o.force = 1; break;
		case O_ASK: o.interactive = 1; break;
		case O_NOASK: o.interactive = 0; break;
		case O_HOST:
			if (o.nhosts == INIT_MAX_HOSTS) {
				log_error("init: at most %d --host",
				    INIT_MAX_HOSTS);
				return 2;
			}
			o.hosts[o.nhosts++] = optarg;
			break;
		case 'h':
			init_usage(stdout);
			return 0;
		default:
			init_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		log_error("init: unexpected argument %s (see init --help)",
		    argv[optind]);
		return 2;
	}
	k.tty = isatty(STDIN_FILENO);
	asking = o.interactive == 1 || (o.interactive == -1 && k.tty &&
	    missing(&o) != NULL);
	if (!asking && (m = missing(&o)) != NULL) {
		log_error("init: missing %s (see init --help)", m);
		goto out;
	}
	if (check_flags(&o, &zone, hosts) == -1)
		goto out;
	if (asking) {
		/* Say so before the questions, not after them. */
		if (!o.force && access(path, F_OK) == 0) {
			log_error("%s: exists; not replaced (give --force to)",
			    path);
			rc = 1;
			goto out;
		}
		if (ask_all(&o, &k, &zone, hosts) == -1)
			goto out;
	}
	if (o.mta == NULL)
		o.mta = "postfix";
	rc = 1;
	render(&b, &o, zone, hosts);
	if (b.failed) {
		log_error("init: out of memory");
		goto out;
	}
	if (!o.force && access(path, F_OK) == 0) {
		log_error("%s: exists; not replaced (give --force to)", path);
		goto out;
	}
	/* A temporary file beside it, checked, then linked into place. */
	if (snprintf(tmp, sizeof(tmp), "%s.init-XXXXXX", path) >=
	    (int)sizeof(tmp)) {
		log_error("%s: path too long", path);
		goto out;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		log_error("%s: cannot create a file beside it: %s", path,
		    strerror(errno));
		goto out;
	}
	written = 1;
	if (fchmod(fd, 0644) == -1 || sbuf_write(&b, fd) == -1 ||
	    fsync(fd) == -1) {
		log_error("%s: %s", tmp, strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	memset(&c, 0, sizeof(c));
	if (roll_config_load(tmp, &c, err, sizeof(err)) == -1) {
		rename_in(err, sizeof(err), tmp, path);
		log_error("init: the configuration would not load: %s", err);
		goto out;
	}
	if (roll_validate(&c, err, sizeof(err)) == -1) {
		roll_config_free(&c);
		rename_in(err, sizeof(err), tmp, path);
		log_error("init: the configuration would not be usable: %s",
		    err);
		goto out;
	}
	roll_config_free(&c);
	if (o.force ? rename(tmp, path) == -1 : link(tmp, path) == -1) {
		log_error("%s: %s", path, errno == EEXIST ? "exists; not "
		    "replaced (give --force to)" : strerror(errno));
		goto out;
	}
	if (!o.force)
		(void)unlink(tmp);
	written = 0;
	(void)atomic_fsync_parent(path);
	printf("%s: written for service %s; next: tlsa-rollover -f %s "
	    "validate-config --online, then tlsa-rollover -f %s import %s "
	    "CERT KEY\n", path, o.service != NULL ? o.service : "mx", path,
	    path, o.service != NULL ? o.service : "mx");
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	if (written)
		(void)unlink(tmp);
	sbuf_free(&b);
	asked_free(&k);
	free(zone);
	for (i = 0; i < INIT_MAX_HOSTS; i++)
		free(hosts[i]);
	return rc;
}
