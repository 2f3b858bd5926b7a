/*
 * roll_check_cmd.c: the command line of the live MX check
 * (tlsa-rollover check): options, and the hosts of every configured
 * service when no name is given.  The check itself is in check/.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chk_out.h"
#include "chk_probe.h"
#include "log.h"
#include "privsep.h"
#include "roll_check_cmd.h"
#include "roll_config.h"
#include "tlsa_parse.h"
#include "zone_net.h"

static void __attribute__((noreturn))
check_usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f,
"usage: tlsa-rollover [-f config] check [options] [domain|host ...]\n"
"Check that every MX address serves certificates that DANE-validate\n"
"against the published TLSA records, and the TLS hygiene around them.\n"
"Without names: the hosts of every configured service.  IDN names are\n"
"looked up in A-labels.  A 2 x x record accepts a leaf that names the TLSA\n"
"base domain, the MX host or the domain checked (RFC 7672 3.2.3).\n"
"\n"
"  --resolver ADDR[@PORT]  validating resolver (default: the config's,\n"
"                          else the first nameserver in resolv.conf)\n"
"  --host                  the names are MX host names (no MX lookup)\n"
"  -4, -6                  only IPv4, only IPv6 addresses\n"
"  --port N                port (default 25)\n"
"  --starttls smtp|none    STARTTLS or direct TLS (default: STARTTLS on\n"
"                          ports 25 and 587, direct TLS on others)\n"
"  --timeout SECONDS       per connection (default 15)\n"
"  --deadline SECONDS      for the whole run (default 120)\n"
"  --jobs N                connections at once (default 512, max 4096)\n"
"  --warn-days N           warn when a certificate expires sooner (14)\n"
"  --hygiene warn|report|off\n"
"                          legacy TLS, weak ciphers, no forward secrecy:\n"
"                          at the levels below (default), all notes, or\n"
"                          not probed\n"
"  --hygiene-levels KIND=LEVEL[,...]\n"
"                          KIND legacy (TLS 1.0/1.1 accepted), weak (weak\n"
"                          ciphers accepted), krsa (RSA key exchange\n"
"                          accepted), nopfs (negotiated without forward\n"
"                          secrecy); LEVEL ok, warning or critical\n"
"                          (default legacy=ok,weak=warning,krsa=ok,\n"
"                          nopfs=warning: a stock Postfix or Exim is OK)\n"
"  --helo NAME             EHLO name (default: this host's name)\n"
"  --json                  JSON instead of text\n"
"\n"
"Output and exit status follow the Nagios plugin rules: one status line\n"
"with performance data first; exit 0 OK, 1 WARNING, 2 CRITICAL,\n"
"3 UNKNOWN.\n");
	exit(status);
}

static int
num_opt(const char *name, const char *v, long lo, long hi, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || *out < lo || *out > hi) {
		log_error("check: %s: \"%s\" is not a number from %ld to %ld",
		    name, v, lo, hi);
		return -1;
	}
	return 0;
}

int
roll_check_cmd(const char *config, int config_given, int json, int verbose,
    int argc, char **argv)
{
	enum { O_RESOLVER = 256, O_HOST, O_PORT, O_STARTTLS, O_TIMEOUT,
	    O_DEADLINE, O_JOBS, O_WARN, O_HYGIENE, O_HELO, O_JSON,
	    O_HYGLEVELS };
	static const struct option longopts[] = {
		{ "resolver", required_argument, NULL, O_RESOLVER },
		{ "host", no_argument, NULL, O_HOST },
		{ "port", required_argument, NULL, O_PORT },
		{ "starttls", required_argument, NULL, O_STARTTLS },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "deadline", required_argument, NULL, O_DEADLINE },
		{ "jobs", required_argument, NULL, O_JOBS },
		{ "warn-days", required_argument, NULL, O_WARN },
		{ "hygiene", required_argument, NULL, O_HYGIENE },
		{ "hygiene-levels", required_argument, NULL, O_HYGLEVELS },
		{ "helo", required_argument, NULL, O_HELO },
		{ "json", no_argument, NULL, O_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct chk_run r;
	struct roll_config c;
	struct zone_server *svc_res = NULL;
	struct stat sb;
	const char *resolver = NULL;
	char err[ERRBUF_LEN];
	long v;
	int ch, i, have_config = 0, rc = CHK_UNKNOWN;
	size_t k;

	memset(&r, 0, sizeof(r));
	memset(&c, 0, sizeof(c));
	chk_opts_default(&r.o);
	optind = 0;
	/* Options and names in any order, as tlsagen takes them. */
	while ((ch = getopt_long(argc, argv, "46vh", longopts, NULL)) != -1) {
		switch (ch) {
		case '4':
		case '6':
			r.o.family = ch - '0';
			break;
		case O_RESOLVER:
			resolver = optarg;
			break;
		case O_HOST:
			r.o.hosts_only = 1;
			break;
		case O_PORT:
			if (num_opt("--port", optarg, 1, 65535, &v) == -1)
				return CHK_UNKNOWN;
			r.o.port = (unsigned)v;
			break;
		case O_STARTTLS:
			if (strcmp(optarg, "smtp") == 0)
				r.o.starttls = TLSA_STARTTLS_SMTP;
			else if (strcmp(optarg, "none") == 0)
				r.o.starttls = TLSA_STARTTLS_NONE;
			else {
				log_error("check: --starttls: \"%s\": want "
				    "smtp or none", optarg);
				return CHK_UNKNOWN;
			}
			break;
		case O_TIMEOUT:
			if (num_opt("--timeout", optarg, 1, 3600, &v) == -1)
				return CHK_UNKNOWN;
			r.o.timeout_ms = (int)v * 1000;
			break;
		case O_DEADLINE:
			if (num_opt("--deadline", optarg, 1, 86400, &v) == -1)
				return CHK_UNKNOWN;
			r.o.deadline_ms = (int)v * 1000;
			break;
		case O_JOBS:
			if (num_opt("--jobs", optarg, 1, 4096, &v) == -1)
				return CHK_UNKNOWN;
			r.o.jobs = (int)v;
			break;
		case O_WARN:
			if (num_opt("--warn-days", optarg, 0, 3650, &v) == -1)
				return CHK_UNKNOWN;
			r.o.warn_days = (int)v;
			break;
		case O_HYGIENE:
			if (strcmp(optarg, "warn") == 0)
				r.o.hygiene = 2;
			else if (strcmp(optarg, "report") == 0)
				r.o.hygiene = 1;
			else if (strcmp(optarg, "off") == 0)
				r.o.hygiene = 0;
			else {
				log_error("check: --hygiene: \"%s\": want warn, "
				    "report or off", optarg);
				return CHK_UNKNOWN;
			}
			break;
		case O_HYGLEVELS:
			if (chk_hygiene_levels(&r.o, optarg, err,
			    sizeof(err)) == -1) {
				log_error("check: --hygiene-levels: %s", err);
				return CHK_UNKNOWN;
			}
			break;
		case O_HELO:
			if (strlen(optarg) == 0 || strlen(optarg) > 253 ||
			    strpbrk(optarg, " \t\r\n") != NULL) {
				log_error("check: --helo: not a host name");
				return CHK_UNKNOWN;
			}
			snprintf(r.o.helo, sizeof(r.o.helo), "%s", optarg);
			break;
		case O_JSON:
			json = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			check_usage(0);
		default:
			check_usage(CHK_UNKNOWN);
		}
	}
	argc -= optind;
	argv += optind;
	for (i = 0; i < argc; i++) {
		if (argv[i][0] == '\0' || strlen(argv[i]) > 253 ||
		    strpbrk(argv[i], " \t\r\n/@") != NULL) {
			log_error("check: \"%s\": not a domain or host name",
			    argv[i]);
			return CHK_UNKNOWN;
		}
	}
	/* The configuration: when named, or when there is nothing else. */
	if (config_given || (argc == 0 && stat(config, &sb) == 0)) {
		if (roll_config_load(config, &c, err, sizeof(err)) == -1) {
			log_error("%s", err);
			return CHK_UNKNOWN;
		}
		have_config = 1;
	} else if (argc == 0) {
		log_error("check: no domain given, and no configuration at %s",
		    config);
		return CHK_UNKNOWN;
	}
	if (resolver == NULL && have_config && c.dns.resolver != NULL)
		resolver = c.dns.resolver;
	if (resolver != NULL) {
		if (zone_server_parse(resolver, &r.o.resolver, err,
		    sizeof(err)) == -1) {
			log_error("check: --resolver: %s", err);
			goto out;
		}
		r.o.have_resolver = 1;
	} else if (zone_server_system(&r.o.resolver, err, sizeof(err)) == 0)
		r.o.have_resolver = 1;
	if (argc > 0) {
		for (i = 0; i < argc; i++) {
			char *an;
			int added;

			/* IDN: look up and name owners in A-labels. */
			if ((an = tlsa_host_ascii(argv[i], err,
			    sizeof(err))) == NULL) {
				log_error("check: %s", err);
				rc = CHK_UNKNOWN;
				goto out;
			}
			added = chk_add_domain(&r, an, 0);
			free(an);
			if (added == -1)
				goto nomem;
		}
	} else {
		if ((svc_res = calloc(c.nservices + 1, sizeof(*svc_res))) ==
		    NULL)
			goto nomem;
		for (k = 0; k < c.nservices; k++) {
			const struct roll_service *s = &c.services[k];
			const struct zone_server *sr = NULL;
			char label[300];

			if (s->dns.resolver != NULL && zone_server_parse(
			    s->dns.resolver, &svc_res[k], err, sizeof(err)) ==
			    0)
				sr = &svc_res[k];
			snprintf(label, sizeof(label), "service %s", s->name);
			if (chk_add_service(&r, label, s->hosts, s->nhosts,
			    s->port, sr) == -1)
				goto nomem;
		}
	}
	/* Nothing below needs more than a stranger's rights. */
	if (privsep_drop(NULL, err, sizeof(err)) == -1) {
		log_error("check: %s", err);
		goto out;
	}
	rc = chk_execute(&r);
	if (json) {
		if (chk_print_json(&r, stdout) == -1) {
			log_error("check: cannot make the JSON report");
			rc = CHK_UNKNOWN;
		}
	} else
		chk_print_text(&r, stdout, verbose);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_error("check: cannot write the report: %s",
		    strerror(errno));
		rc = CHK_UNKNOWN;
	}
	goto out;
nomem:
	log_error("check: out of memory");
	rc = CHK_UNKNOWN;
out:
	chk_run_free(&r);
	free(svc_res);
	if (have_config)
		roll_config_free(&c);
	return rc;
}
