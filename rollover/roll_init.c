/*
 * roll_init.c: tlsa-rollover init.  Every value is checked as the
 * configuration loader checks it (names canonicalised, addresses parsed,
 * paths absolute) and written double-quoted, so that what is written is
 * what was given; the file is then loaded and validated from a temporary
 * name in the same directory, and linked into place only when both pass
 * (never over an existing file unless --force, then renamed).
 */
#include <sys/stat.h>

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
#include "zone_net.h"
#include "zone_rr.h"
#include "zone_sign.h"

#define INIT_MAX_HOSTS	16

struct init_opts {
	const char	*zone, *primary, *key, *resolver, *deploy, *state;
	const char	*service, *mta, *ttl;
	const char	*hosts[INIT_MAX_HOSTS];
	int		 nhosts, force;
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
"Write a commented configuration for one service to the -f file (default\n"
"/etc/tlsa-rollover/tlsa-rollover.yaml), checked as every command checks it;\n"
"an existing file is kept unless --force.\n");
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

/* Check every value; canonical host and zone names into the out arrays. */
static int
check_opts(struct init_opts *o, char **zone, char **hosts)
{
	struct zone_server srv;
	char err[ERRBUF_LEN], *a;
	uint32_t ttl = 3600;
	int i;

	if (o->zone == NULL || o->primary == NULL || o->key == NULL ||
	    o->nhosts == 0 || o->deploy == NULL) {
		log_error("init: missing %s (see init --help)", o->zone == NULL ?
		    "--zone ZONE" : o->primary == NULL ? "--primary ADDR" :
		    o->key == NULL ? "--tsig-key FILE" : o->nhosts == 0 ?
		    "--host HOST" : "--deploy-dir DIR");
		return -1;
	}
	if ((a = tlsa_host_ascii(o->zone, err, sizeof(err))) == NULL ||
	    (*zone = zone_name_canon(a, err, sizeof(err))) == NULL) {
		free(a);
		log_error("init: --zone %s", err);
		return -1;
	}
	free(a);
	for (i = 0; i < o->nhosts; i++) {
		if ((a = tlsa_host_ascii(o->hosts[i], err, sizeof(err))) ==
		    NULL || (hosts[i] = zone_name_canon(a, err,
		    sizeof(err))) == NULL) {
			free(a);
			log_error("init: --host %s", err);
			return -1;
		}
		free(a);
	}
	if (zone_server_parse(o->primary, &srv, err, sizeof(err)) == -1) {
		log_error("init: --primary %s", err);
		return -1;
	}
	if (o->resolver != NULL && zone_server_parse(o->resolver, &srv, err,
	    sizeof(err)) == -1) {
		log_error("init: --resolver %s", err);
		return -1;
	}
	if (!absolute("--tsig-key", o->key) ||
	    !absolute("--deploy-dir", o->deploy) ||
	    (o->state != NULL && !absolute("--state-dir", o->state)))
		return -1;
	if (o->ttl != NULL && (zone_parse_duration(o->ttl, &ttl) == -1 ||
	    ttl == 0 || ttl > 604800)) {
		log_error("init: --ttl %s: want a duration from 1s to 7d",
		    o->ttl);
		return -1;
	}
	o->ttl_s = ttl;
	if (o->service != NULL && (strlen(o->service) > 64 ||
	    strspn(o->service, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
	    "QRSTUVWXYZ0123456789-_.") != strlen(o->service) ||
	    o->service[0] == '.' || o->service[0] == '-' ||
	    o->service[0] == '\0')) {
		log_error("init: --service %s: letters, digits, '-', '_' and "
		    "'.' only", o->service);
		return -1;
	}
	if (strcmp(o->mta, "postfix") != 0 && strcmp(o->mta, "exim") != 0 &&
	    strcmp(o->mta, "none") != 0) {
		log_error("init: --mta %s: want postfix, exim or none", o->mta);
		return -1;
	}
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
	    O_MTA, O_SERVICE, O_STATE, O_TTL, O_FORCE };
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct init_opts o;
	struct roll_config c;
	struct sbuf b = { 0 };
	char *zone = NULL, *hosts[INIT_MAX_HOSTS] = { NULL };
	char tmp[PATH_MAX], err[ERRBUF_LEN];
	int ch, i, fd = -1, rc = 2, written = 0;

	memset(&o, 0, sizeof(o));
	o.mta = "postfix";
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
	if (check_opts(&o, &zone, hosts) == -1)
		goto out;
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
	(void)fsync_parent(path);
	printf("%s: written for service %s; next: tlsa-rollover -f %s "
	    "validate-config --online\n", path, o.service != NULL ?
	    o.service : "mx", path);
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	if (written)
		(void)unlink(tmp);
	sbuf_free(&b);
	free(zone);
	for (i = 0; i < INIT_MAX_HOSTS; i++)
		free(hosts[i]);
	return rc;
}
