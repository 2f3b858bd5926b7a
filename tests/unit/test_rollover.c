/*
 * Unit tests for tlsa-rollover's configuration reader (roll_config.c)
 * and state files (roll_state.c).
 *
 * The configuration tests write small YAML files into a temporary
 * directory and check either the parsed values or the exact error:
 * "FILE:LINE:COLUMN: " (1-based, of the offending node) followed by a
 * reason containing a given substring.  Conventions the tests hold the
 * reader to (the header of roll_config.c: "each error carries the
 * position of the offending node"):
 *   - an error about one item of a list points at that item;
 *   - a check made on a whole service after parsing (duplicate name,
 *     missing fields, missing or too open TSIG key file, no validation
 *     path) points at the service, i.e. where its mapping starts;
 *   - only errors that have no node at all (an empty file) may be
 *     "FILE: reason".
 * Every case of a table is checked and reported before the test fails,
 * so one failing case does not hide the others.
 */
#include <sys/stat.h>

/* Paths here are built from a short temporary directory. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "log.h"
#include "roll_config.h"
#include "roll_run.h"
#include "roll_state.h"
#include "roll_store.h"
#include "zone_check.h"

static char tmpdir[PATH_MAX];
static char keyfile[PATH_MAX];		/* mode 0600 */
static char keyfile644[PATH_MAX];	/* mode 0644 */
static char err[ERRBUF_LEN];

static const char tsig_key[] =
    "key \"k\" { algorithm hmac-sha256; "
    "secret \"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTIzNA==\"; };\n";

static void
write_bytes(const char *path, const void *data, size_t len, mode_t mode)
{
	FILE *f;

	(void)unlink(path);
	f = fopen(path, "w");
	if (f == NULL)
		fail_msg("cannot write %s: %s", path, strerror(errno));
	if (len > 0 && fwrite(data, 1, len, f) != len)
		fail_msg("cannot write %s", path);
	fclose(f);
	if (chmod(path, mode) == -1)
		fail_msg("chmod %s: %s", path, strerror(errno));
}

static int
global_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_rollover.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(keyfile, sizeof(keyfile), "%s/tsig.key", tmpdir);
	snprintf(keyfile644, sizeof(keyfile644), "%s/tsig644.key", tmpdir);
	write_bytes(keyfile, tsig_key, strlen(tsig_key), 0600);
	write_bytes(keyfile644, tsig_key, strlen(tsig_key), 0644);
	return 0;
}

static int
global_teardown(void **state)
{
	char cmd[PATH_MAX + 32];

	(void)state;
	if (getenv("KEEP_TMP") != NULL) {
		fprintf(stderr, "# kept %s\n", tmpdir);
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * Write text to TMPDIR/name, replacing @KEY@ by the 0600 key file,
 * @KEY644@ by the 0644 one and @DIR@ by the temporary directory (keep
 * them at the end of their lines so that columns stay as written).
 * Returns the path (static storage, one per call site is enough).
 */
static const char *
write_yaml(const char *name, const char *text)
{
	static char path[PATH_MAX];
	char *buf;
	size_t cap = strlen(text) * 2 + 4 * PATH_MAX, n = 0;
	const char *p = text;

	buf = malloc(cap);
	assert_non_null(buf);
	while (*p != '\0') {
		const char *rep = NULL;
		size_t skip = 0;

		if (strncmp(p, "@KEY644@", 8) == 0)
			rep = keyfile644, skip = 8;
		else if (strncmp(p, "@KEY@", 5) == 0)
			rep = keyfile, skip = 5;
		else if (strncmp(p, "@DIR@", 5) == 0)
			rep = tmpdir, skip = 5;
		if (rep != NULL) {
			if (n + strlen(rep) >= cap)
				fail_msg("write_yaml: too long");
			memcpy(buf + n, rep, strlen(rep));
			n += strlen(rep);
			p += skip;
		} else {
			if (n + 1 >= cap)
				fail_msg("write_yaml: too long");
			buf[n++] = *p++;
		}
	}
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	write_bytes(path, buf, n, 0644);
	free(buf);
	return path;
}

/* ---- configuration: a valid file ------------------------------------------ */

/* The usual head of a valid file: lines 1-6. */
#define HEAD \
	"state_dir: /var/lib/tlsa-rollover\n"	/* 1 */ \
	"dns:\n"				/* 2 */ \
	"  primary: 192.0.2.53\n"		/* 3 */ \
	"  resolver: 127.0.0.53\n"		/* 4 */ \
	"  tsig_key_file: @KEY@\n"		/* 5 */ \
	"services:\n"				/* 6 */
/* One valid service: lines 7-9 after HEAD. */
#define SVC_MX \
	"  - name: mx\n"			/* 7 */ \
	"    hosts: [mx1.example.test]\n"	/* 8 */ \
	"    deploy_dir: /etc/ssl/mx\n"		/* 9 */

static void
load_ok(const char *name, const char *yaml, struct roll_config *c)
{
	const char *path = write_yaml(name, yaml);

	err[0] = '\0';
	if (roll_config_load(path, c, err, sizeof(err)) != 0)
		fail_msg("%s: want a valid configuration, got: %s", name, err);
}

static void
test_config_minimal_defaults(void **state)
{
	struct roll_config c;
	struct roll_service *s;

	(void)state;
	load_ok("minimal.yaml", HEAD SVC_MX, &c);
	assert_string_equal(c.state_dir, "/var/lib/tlsa-rollover");
	assert_int_equal(c.nservices, 1);
	s = &c.services[0];
	assert_string_equal(s->name, "mx");
	assert_int_equal(s->nhosts, 1);
	assert_non_null(strstr(s->hosts[0], "mx1.example.test"));
	assert_int_equal(s->port, 25);
	assert_int_equal(s->nspecs, 2);
	assert_int_equal(s->specs[0].usage, 3);
	assert_int_equal(s->specs[0].selector, 1);
	assert_int_equal(s->specs[0].mtype, 1);
	assert_int_equal(s->specs[1].usage, 2);
	assert_int_equal(s->specs[1].selector, 1);
	assert_int_equal(s->specs[1].mtype, 1);
	assert_int_equal(s->dns.ttl, 3600);
	assert_int_equal(s->dns.min_hold, 3600);
	assert_int_equal(s->dns.hold_margin, 600);
	assert_string_equal(s->dns.primary, "192.0.2.53");
	assert_string_equal(s->dns.resolver, "127.0.0.53");
	assert_string_equal(s->dns.tsig_key_file, keyfile);
	assert_null(s->dns.zone);
	assert_null(s->dns.trust_anchor_file);
	assert_int_equal(s->dns.ncheck_servers, 0);
	assert_string_equal(s->deploy_dir, "/etc/ssl/mx");
	assert_int_equal(s->nreload, 0);
	assert_null(s->key_type);
	assert_int_equal(s->nissuers, 0);
	assert_int_equal(s->line, 7);
	assert_ptr_equal(roll_config_service(&c, "mx"), s);
	assert_null(roll_config_service(&c, "nosuch"));
	roll_config_free(&c);
	assert_int_equal(c.nservices, 0);
	assert_null(c.services);
}

/* IDN hosts become A-labels; a name libidn2 refuses is an error. */
static void
test_config_idn_hosts(void **state)
{
	struct roll_config c;
	const char *path;

	(void)state;
	load_ok("idn.yaml", HEAD
	    "  - name: mx\n"
	    "    hosts: [b\303\274cher.example.test, mx2.example.test]\n"
	    "    deploy_dir: /etc/ssl/mx\n", &c);
	assert_string_equal(c.services[0].hosts[0],
	    "xn--bcher-kva.example.test.");
	assert_string_equal(c.services[0].hosts[1], "mx2.example.test.");
	roll_config_free(&c);
	path = write_yaml("idn-bad.yaml", HEAD
	    "  - name: mx\n"
	    "    hosts: [\342\230\203.example.test]\n"
	    "    deploy_dir: /etc/ssl/mx\n");
	assert_int_equal(roll_config_load(path, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":8:"));
	assert_non_null(strstr(err, "not a valid internationalised host "
	    "name"));
	assert_non_null(strstr(err, "disallowed character"));
}

static void
test_config_full_merge(void **state)
{
	struct roll_config c;
	struct roll_service *a, *b, *y;

	(void)state;
	load_ok("full.yaml",
	    "# a comment\n"
	    "state_dir: /var/lib/tlsa-rollover\n"
	    "dns:\n"
	    "  zone: Example.TEST\n"
	    "  primary: 192.0.2.53\n"
	    "  tsig_key_file: @KEY@\n"
	    "  check_servers: [192.0.2.1, \"192.0.2.2@5353\"]\n"
	    "  resolver: 127.0.0.53@53\n"
	    "  trust_anchor_file: /etc/unbound/root.key\n"
	    "  ttl: 600\n"
	    "  hold_margin: 5m\n"
	    "services:\n"
	    "  - name: mx\n"
	    "    hosts: [MX1.Example.Test, mx2.example.test.]\n"
	    "    deploy_dir: /etc/ssl/mx\n"
	    "  - name: mx-b\n"
	    "    hosts:\n"
	    "      - mx3.example.test\n"
	    "    port: 465\n"
	    "    records: [\"3 1 1\", \"dane-ta spki sha2-512\"]\n"
	    "    issuers: [/etc/ssl/ca.pem]\n"
	    "    deploy_dir: /etc/ssl/mx-b\n"
	    "    reload: [/usr/sbin/postfix, reload]\n"
	    "    key_type: rsa3072\n"
	    "    dns:\n"
	    "      primary: 192.0.2.54@5300\n"
	    "      ttl: 300\n"
	    "      min_hold: 2h\n"
	    "      trust_anchor_file: \"\"\n"
	    "      check_servers: [192.0.2.9]\n"
	    "  - name: \"yes\"\n"		/* quoted: a string */
	    "    hosts: [mx4.example.test]\n"
	    "    deploy_dir: '/etc/ssl/yes'\n"
	    "    dns:\n"
	    "      zone: other.test\n"
	    "      resolver: 127.0.0.54\n"
	    "      hold_margin: 0\n", &c);
	assert_int_equal(c.nservices, 3);
	a = roll_config_service(&c, "mx");
	b = roll_config_service(&c, "mx-b");
	y = roll_config_service(&c, "yes");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(y);

	/* mx: everything from the global dns, defaults elsewhere */
	assert_int_equal(a->nhosts, 2);
	assert_non_null(strstr(a->hosts[0], "mx1.example.test"));
	assert_non_null(strstr(a->hosts[1], "mx2.example.test"));
	assert_non_null(a->dns.zone);
	assert_non_null(strstr(a->dns.zone, "example.test"));
	assert_string_equal(a->dns.primary, "192.0.2.53");
	assert_string_equal(a->dns.tsig_key_file, keyfile);
	assert_int_equal(a->dns.ncheck_servers, 2);
	assert_string_equal(a->dns.check_servers[0], "192.0.2.1");
	assert_string_equal(a->dns.check_servers[1], "192.0.2.2@5353");
	assert_string_equal(a->dns.resolver, "127.0.0.53@53");
	assert_string_equal(a->dns.trust_anchor_file, "/etc/unbound/root.key");
	assert_int_equal(a->dns.ttl, 600);
	assert_int_equal(a->dns.min_hold, 3600);
	assert_int_equal(a->dns.hold_margin, 300);
	assert_int_equal(a->port, 25);
	assert_int_equal(a->nspecs, 2);
	assert_int_equal(a->specs[0].usage, 3);
	assert_int_equal(a->specs[1].usage, 2);

	/* mx-b: its own keys win one by one, the rest is inherited */
	assert_int_equal(b->nhosts, 1);
	assert_non_null(strstr(b->hosts[0], "mx3.example.test"));
	assert_int_equal(b->port, 465);
	assert_int_equal(b->nspecs, 2);
	assert_int_equal(b->specs[0].usage, 3);
	assert_int_equal(b->specs[0].selector, 1);
	assert_int_equal(b->specs[0].mtype, 1);
	assert_int_equal(b->specs[1].usage, 2);
	assert_int_equal(b->specs[1].selector, 1);
	assert_int_equal(b->specs[1].mtype, 2);
	assert_int_equal(b->nissuers, 1);
	assert_string_equal(b->issuers[0], "/etc/ssl/ca.pem");
	assert_string_equal(b->deploy_dir, "/etc/ssl/mx-b");
	assert_int_equal(b->nreload, 2);
	assert_string_equal(b->reload[0], "/usr/sbin/postfix");
	assert_string_equal(b->reload[1], "reload");
	assert_null(b->reload[2]);
	assert_string_equal(b->key_type, "rsa3072");
	assert_string_equal(b->dns.primary, "192.0.2.54@5300");
	assert_int_equal(b->dns.ttl, 300);
	assert_int_equal(b->dns.min_hold, 7200);
	assert_int_equal(b->dns.hold_margin, 300);	/* global */
	assert_null(b->dns.trust_anchor_file);		/* "" : none */
	assert_string_equal(b->dns.resolver, "127.0.0.53@53");
	assert_string_equal(b->dns.tsig_key_file, keyfile);
	assert_non_null(b->dns.zone);
	assert_non_null(strstr(b->dns.zone, "example.test"));
	assert_int_equal(b->dns.ncheck_servers, 1);
	assert_string_equal(b->dns.check_servers[0], "192.0.2.9");

	/* "yes": quoted, so a name; zone, resolver and margin overridden */
	assert_non_null(strstr(y->dns.zone, "other.test"));
	assert_string_equal(y->dns.resolver, "127.0.0.54");
	assert_int_equal(y->dns.hold_margin, 0);
	assert_int_equal(y->dns.ttl, 600);
	assert_string_equal(y->dns.trust_anchor_file, "/etc/unbound/root.key");
	assert_string_equal(y->deploy_dir, "/etc/ssl/yes");
	roll_config_free(&c);
}

/* Durations in every unit, and the bounds that are still valid. */
static void
test_config_durations_ok(void **state)
{
	static const struct {
		const char *text;
		uint32_t secs;
	} d[] = {
		{ "0", 0 }, { "90", 90 }, { "45s", 45 }, { "90m", 5400 },
		{ "2h", 7200 }, { "1d", 86400 }, { "1w", 604800 },
	};
	struct roll_config c;
	char yaml[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		snprintf(yaml, sizeof(yaml), HEAD SVC_MX
		    "    dns:\n      min_hold: %s\n      hold_margin: %s\n",
		    d[i].text, d[i].text);
		load_ok("dur.yaml", yaml, &c);
		assert_int_equal(c.services[0].dns.min_hold, d[i].secs);
		assert_int_equal(c.services[0].dns.hold_margin, d[i].secs);
		roll_config_free(&c);
	}
	load_ok("ttlmax.yaml", HEAD SVC_MX "    dns:\n      ttl: 604800\n",
	    &c);
	assert_int_equal(c.services[0].dns.ttl, 604800);
	roll_config_free(&c);
	load_ok("port.yaml", HEAD SVC_MX "    port: 65535\n", &c);
	assert_int_equal(c.services[0].port, 65535);
	roll_config_free(&c);
}

/* ---- configuration: errors ------------------------------------------------- */

struct bad {
	const char	*what;
	const char	*yaml;
	int		 line, col;	/* 0, 0: "FILE: " (no node) */
	const char	*reason;	/* substring of what follows */
};

/*
 * Load every case; report each mismatch; fail at the end if any.
 * The configuration must be zeroed after a failed load.
 */
static void
check_bad(const struct bad *t, size_t n)
{
	struct roll_config c;
	char prefix[PATH_MAX + 64], name[64];
	const char *path;
	size_t i;
	int nbad = 0, rc;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "bad%02zu.yaml", i);
		path = write_yaml(name, t[i].yaml);
		if (t[i].line > 0)
			snprintf(prefix, sizeof(prefix), "%s:%d:%d: ", path,
			    t[i].line, t[i].col);
		else
			snprintf(prefix, sizeof(prefix), "%s: ", path);
		err[0] = '\0';
		memset(&c, 0x5a, sizeof(c));
		rc = roll_config_load(path, &c, err, sizeof(err));
		if (rc != -1) {
			print_error("FAIL %s: accepted (want \"%s%s...\")\n",
			    t[i].what, prefix, t[i].reason);
			if (rc == 0)
				roll_config_free(&c);
			nbad++;
			continue;
		}
		if (strncmp(err, prefix, strlen(prefix)) != 0 ||
		    strstr(err + strlen(prefix), t[i].reason) == NULL) {
			print_error("FAIL %s:\n    got  \"%s\"\n    want "
			    "\"%s...%s...\"\n", t[i].what, err, prefix,
			    t[i].reason);
			nbad++;
		}
		if (c.services != NULL || c.nservices != 0 || c.path != NULL ||
		    c.state_dir != NULL) {
			print_error("FAIL %s: the configuration is not cleared "
			    "after an error\n", t[i].what);
			nbad++;
		}
		if (strchr(err, '\n') != NULL) {
			print_error("FAIL %s: the error is not one line\n",
			    t[i].what);
			nbad++;
		}
	}
	if (nbad > 0)
		fail_msg("%d of %zu cases failed (see above)", nbad, n);
}

#define NCASES(t) (sizeof(t) / sizeof((t)[0]))

/* Durations with bounds: the value's position and what is wanted. */
static void
test_config_duration_ranges(void **state)
{
	static const struct bad t[] = {
		{ "lock_timeout below 2s",
		  HEAD SVC_MX "lock_timeout: 1s\n",
		  10, 15, "lock_timeout: must be at least 2s" },
		{ "reload_timeout 0",
		  HEAD SVC_MX "    reload_timeout: 0\n",
		  10, 21, "reload_timeout: want 1s to 1h" },
		{ "reload_timeout over 1h",
		  HEAD SVC_MX "    reload_timeout: 61m\n",
		  10, 21, "reload_timeout: want 1s to 1h" },
		{ "visible_timeout 0",
		  HEAD SVC_MX "    dns:\n      visible_timeout: 0\n",
		  11, 24, "visible_timeout: must be at least 1s" },
		{ "max_ttl 0",
		  HEAD SVC_MX "    dns:\n      max_ttl: 0\n",
		  11, 16, "max_ttl: want 1s to 2147483647s" },
		{ "exec_timeout over 1h",
		  HEAD SVC_MX "    dns:\n      exec_timeout: 2h\n",
		  11, 21, "exec_timeout: want 1s to 1h" },
		{ "exec_timeout not a duration",
		  HEAD SVC_MX "    dns:\n      exec_timeout: soon\n",
		  11, 21, "exec_timeout: want a duration" },
	};

	(void)state;
	check_bad(t, NCASES(t));
}

static void
test_config_duplicate_keys(void **state)
{
	static const struct bad t[] = {
		{ "duplicate key at the top level",
		  HEAD SVC_MX "state_dir: /var/lib/other\n",
		  10, 1, "duplicate key \"state_dir\"" },
		{ "duplicate key in dns",
		  "state_dir: /s\n"
		  "dns:\n"
		  "  primary: 192.0.2.53\n"
		  "  resolver: 127.0.0.53\n"
		  "  primary: 192.0.2.54\n"
		  "  tsig_key_file: @KEY@\n"
		  "services:\n" SVC_MX,
		  5, 3, "duplicate key \"primary\"" },
		{ "duplicate key in a service",
		  HEAD SVC_MX "    hosts: [mx2.example.test]\n",
		  10, 5, "duplicate key \"hosts\"" },
		{ "duplicate key in a service's dns",
		  HEAD SVC_MX "    dns:\n      ttl: 60\n      ttl: 61\n",
		  12, 7, "duplicate key \"ttl\"" },
		{ "duplicate dns mapping at the top level",
		  HEAD SVC_MX "dns:\n  ttl: 60\n",
		  10, 1, "duplicate key \"dns\"" },
		{ "duplicate services list",
		  HEAD SVC_MX "services: []\n",
		  10, 1, "duplicate key \"services\"" },
	};

	(void)state;
	check_bad(t, NCASES(t));
}

static void
test_config_unknown_keys(void **state)
{
	static const struct bad t[] = {
		{ "unknown key at the top level",
		  HEAD SVC_MX "frobnicate: 1\n",
		  10, 1, "unknown key \"frobnicate\"" },
		{ "unknown key in dns",
		  "state_dir: /s\n"
		  "dns:\n"
		  "  primary: 192.0.2.53\n"
		  "  primry: 192.0.2.54\n"
		  "services:\n" SVC_MX,
		  4, 3, "unknown key \"primry\"" },
		{ "unknown key in a service",
		  HEAD SVC_MX "    host: [mx2.example.test]\n",
		  10, 5, "unknown key \"host\"" },
		{ "unknown key in a service's dns",
		  HEAD SVC_MX "    dns:\n      ttl: 60\n      tll: 61\n",
		  12, 7, "unknown key \"tll\"" },
		{ "a key that belongs elsewhere (state_dir in dns)",
		  "dns:\n"
		  "  state_dir: /s\n",
		  2, 3, "unknown key \"state_dir\"" },
		{ "a key that belongs elsewhere (port at the top level)",
		  HEAD SVC_MX "port: 25\n",
		  10, 1, "unknown key \"port\"" },
	};

	(void)state;
	check_bad(t, NCASES(t));
}

static void
test_config_anchors_aliases_tags(void **state)
{
	static const struct bad t[] = {
		{ "anchor on a scalar",
		  "state_dir: &a /var/lib/x\n",
		  1, 12, "anchors (&a)" },
		{ "anchor on a mapping",
		  "state_dir: /s\n"
		  "dns: &d\n"
		  "  primary: 192.0.2.53\n",
		  2, 6, "anchors (&d)" },
		{ "anchor on a service",
		  HEAD "  - &svc\n    name: mx\n",
		  7, 5, "anchors (&svc)" },
		{ "alias",
		  HEAD SVC_MX "  - name: mx2\n    deploy_dir: *a\n",
		  11, 17, "aliases (*a)" },
		{ "alias as a whole service",
		  HEAD SVC_MX "  - *svc\n",
		  10, 5, "aliases (*svc)" },
		{ "tag on a value",
		  "state_dir: !!str /var/lib/x\n",
		  1, 12, "tags" },
		{ "local tag on a value",
		  HEAD "  - name: !mine mx\n",
		  7, 11, "tags" },
		{ "tag on a key",
		  "!!str state_dir: /var/lib/x\n",
		  1, 1, "tags" },
		{ "tag on a list",
		  HEAD "  - name: mx\n    hosts: !!seq [mx1.example.test]\n",
		  8, 12, "tags" },
	};

	(void)state;
	check_bad(t, NCASES(t));
}

static void
test_config_yaml11_booleans(void **state)
{
	static const struct bad t[] = {
		{ "yes as the zone",
		  "state_dir: /s\ndns:\n  zone: yes\n",
		  3, 9, "boolean" },
		{ "no as a service name",
		  HEAD "  - name: no\n",
		  7, 11, "boolean" },
		{ "on as key_type",
		  HEAD SVC_MX "    key_type: on\n",
		  10, 15, "boolean" },
		{ "off as state_dir",
		  "state_dir: off\n",
		  1, 12, "boolean" },
		{ "Yes (any case) as tsig_key_file",
		  "state_dir: /s\ndns:\n  tsig_key_file: Yes\n",
		  3, 18, "boolean" },
		{ "null as the primary",
		  "state_dir: /s\ndns:\n  primary: null\n",
		  3, 12, "boolean or null" },
		{ "on as an item of hosts",
		  HEAD "  - name: mx\n    hosts: [mx1.example.test, on]\n"
		  "    deploy_dir: /etc/ssl/mx\n",
		  8, 31, "boolean" },
		{ "no as an item of reload",
		  HEAD SVC_MX "    reload: [/usr/sbin/postfix, no]\n",
		  10, 33, "boolean" },
		{ "off as an item of issuers",
		  HEAD SVC_MX "    issuers:\n      - off\n",
		  11, 9, "boolean" },
	};

	(void)state;
	check_bad(t, NCASES(t));
}

static void
test_config_records(void **state)
{
	static const struct bad t[] = {
		{ "usage 1 (PKIX-EE)",
		  HEAD SVC_MX "    records: [\"3 1 1\", \"1 1 1\"]\n",
		  10, 24, "usages 0 and 1" },
		{ "usage 0 (PKIX-TA)",
		  HEAD SVC_MX "    records:\n      - \"0 0 1\"\n",
		  11, 9, "usages 0 and 1" },
		{ "usage 1 by mnemonic",
		  HEAD SVC_MX "    records: [pkix-ee spki sha2-256]\n",
		  10, 15, "usages 0 and 1" },
		{ "two fields",
		  HEAD SVC_MX "    records: [\"3 1\"]\n",
		  10, 15, "records:" },
		{ "four fields",
		  HEAD SVC_MX "    records: [\"3 1 1 1\"]\n",
		  10, 15, "records:" },
		{ "usage 4",
		  HEAD SVC_MX "    records: [\"4 1 1\"]\n",
		  10, 15, "records:" },
		{ "selector 2",
		  HEAD SVC_MX "    records: [\"3 2 1\"]\n",
		  10, 15, "records:" },
		{ "matching type 3",
		  HEAD SVC_MX "    records: [\"3 1 3\"]\n",
		  10, 15, "records:" },
		{ "a word",
		  HEAD SVC_MX "    records: [foo]\n",
		  10, 15, "records:" },
		{ "not a list",
		  HEAD SVC_MX "    records: \"3 1 1\"\n",
		  10, 14, "want a list" },
		{ "a list inside the list",
		  HEAD SVC_MX "    records: [[3, 1, 1]]\n",
		  10, 15, "records" },
		{ "more than 16",
		  HEAD SVC_MX "    records: [\"3 1 1\", \"3 1 2\", \"3 0 1\", "
		  "\"3 0 2\", \"2 1 1\", \"2 1 2\", \"2 0 1\", \"2 0 2\", "
		  "\"3 1 0\", \"3 0 0\", \"2 1 0\", \"2 0 0\", \"3 1 1\", "
		  "\"3 1 2\", \"3 0 1\", \"3 0 2\", \"2 1 1\"]\n",
		  10, 159, "at most 16" },
	};

	(void)state;
	check_bad(t, NCASES(t));
}

static void
test_config_port(void **state)
{
	static const struct bad t[] = {
		{ "port 0", HEAD SVC_MX "    port: 0\n", 10, 11, "1-65535" },
		{ "port 70000", HEAD SVC_MX "    port: 70000\n", 10, 11,
		  "\"70000\" is not a number" },
		{ "port 25x", HEAD SVC_MX "    port: 25x\n", 10, 11,
		  "\"25x\" is not a number" },
		{ "port -1", HEAD SVC_MX "    port: -1\n", 10, 11,
		  "not a number" },
		{ "port +25", HEAD SVC_MX "    port: +25\n", 10, 11,
		  "not a number" },
		{ "port quoted", HEAD SVC_MX "    port: \"25\"\n", 10, 11,
		  "plain number" },
		{ "port huge", HEAD SVC_MX
		  "    port: 99999999999999999999999\n", 10, 11,
		  "not a number" },
		{ "port a list", HEAD SVC_MX "    port: [25]\n", 10, 11,
		  "plain number" },
	};

	(void)state;
	check_bad(t, NCASES(t));
}

#define SVC_NODES \
	"  - name: mx\n"			/* 7 */ \
	"    hosts: [mx1.example.test]\n"	/* 8 */ \
	"    nodes:\n"				/* 9 */ \
	"      - name: a\n"			/* 10 */ \
	"        deploy_dir: /etc/ssl/a\n"	/* 11 */ \
	"        reload: [/bin/true]\n"		/* 12 */ \
	"        addresses: [192.0.2.1]\n"	/* 13 */

/* nodes: each node's keys, push's staging directory last on its argv. */
static void
test_config_nodes(void **state)
{
	static const struct bad t[] = {
		{ "nodes and a service deploy_dir",
		  HEAD SVC_NODES "    deploy_dir: /etc/ssl/mx\n", 7, 5,
		  "exclude each other" },
		{ "unknown node key",
		  HEAD SVC_NODES "        color: red\n", 14, 9,
		  "unknown key \"color\" in a node" },
		{ "duplicate node key",
		  HEAD SVC_NODES "        reload: [/bin/false]\n", 14, 9,
		  "duplicate key" },
		{ "node name twice",
		  HEAD SVC_NODES "      - name: a\n        deploy_dir: /x\n"
		  "        addresses: [192.0.2.2]\n", 14, 9,
		  "node \"a\" twice" },
		{ "node name upper case",
		  HEAD SVC_NODES "      - name: B\n        deploy_dir: /x\n"
		  "        addresses: [192.0.2.2]\n", 14, 15, "lower-case" },
		{ "node without addresses",
		  HEAD SVC_NODES "      - name: b\n        deploy_dir: /x\n",
		  14, 9, "needs name, addresses" },
		{ "node with deploy_dir and push",
		  HEAD SVC_NODES "      - name: b\n        deploy_dir: /x\n"
		  "        push: [/bin/cp]\n        addresses: [192.0.2.2]\n",
		  14, 9, "not both" },
		{ "node address not numeric",
		  HEAD SVC_NODES "      - name: b\n        deploy_dir: /x\n"
		  "        addresses: [mx2.example.test]\n", 16, 21,
		  "not a numeric" },
		{ "address on two nodes",
		  HEAD SVC_NODES "      - name: b\n        deploy_dir: /x\n"
		  "        addresses: [192.0.2.1]\n", 14, 9,
		  "given to nodes" },
		{ "push not absolute",
		  HEAD SVC_NODES "      - name: b\n        push: [rsync]\n"
		  "        addresses: [192.0.2.2]\n", 15, 16,
		  "absolute path" },
		{ "nodes not a list",
		  HEAD "  - name: mx\n    hosts: [mx1.example.test]\n"
		  "    nodes: {a: 1}\n", 9, 12, "want a list" },
		{ "node_retries not a number",
		  HEAD SVC_NODES "    node_retries: many\n", 14, 19,
		  "not a number" },
	};
	struct roll_config c;
	const struct roll_service *s;

	(void)state;
	check_bad(t, NCASES(t));
	load_ok("nodes", HEAD SVC_NODES "      - name: b.2\n"
	    "        push: [/usr/bin/rsync, -a]\n"
	    "        push_timeout: 2m\n"
	    "        addresses: ['2001:DB8::1']\n"
	    "    node_retries: 5\n", &c);
	s = &c.services[0];
	assert_int_equal(s->nnodes, 2);
	assert_null(s->deploy_dir);
	assert_int_equal(s->node_retries, 5);
	assert_string_equal(s->nodes[0].deploy_dir, "/etc/ssl/a");
	assert_int_equal(s->nodes[0].npush, 0);
	assert_int_equal(s->nodes[1].npush, 3);
	assert_string_equal(s->nodes[1].push[2],
	    "/var/lib/tlsa-rollover/mx/push/b.2");
	assert_null(s->nodes[1].push[3]);
	assert_string_equal(s->nodes[1].deploy_dir,
	    "/var/lib/tlsa-rollover/mx/push/b.2");
	assert_int_equal(s->nodes[1].push_timeout, 120);
	assert_string_equal(s->nodes[1].addrs[0], "2001:db8::1");
	roll_config_free(&c);
	load_ok("nodes-default", HEAD SVC_NODES, &c);
	assert_int_equal(c.services[0].node_retries, 3);
	assert_int_equal(c.services[0].nodes[0].push_timeout, 300);
	roll_config_free(&c);
}

static void
test_config_paths_reload(void **state)
{
	static char longdir[1100 + 128];
	static struct bad t[] = {
		{ "relative state_dir", "state_dir: var/lib/x\n", 1, 12,
		  "absolute" },
		{ "relative deploy_dir",
		  HEAD "  - name: mx\n    hosts: [mx1.example.test]\n"
		  "    deploy_dir: etc/ssl/mx\n",
		  9, 17, "absolute" },
		{ "too long state_dir", NULL, 1, 12, "at most 1024" },
		{ "reload not a list",
		  HEAD SVC_MX "    reload: /usr/sbin/postfix reload\n",
		  10, 13, "want a list" },
		{ "reload a mapping",
		  HEAD SVC_MX "    reload: {cmd: /usr/sbin/postfix}\n",
		  10, 13, "want a list" },
		{ "reload: first item not absolute",
		  HEAD SVC_MX "    reload:\n      - postfix\n      - reload\n",
		  11, 9, "absolute path" },
		{ "reload: empty list",
		  HEAD SVC_MX "    reload: []\n",
		  10, 13, "reload" },
		{ "state_dir a list", "state_dir: [/a]\n", 1, 12,
		  "want a string" },
		{ "empty deploy_dir",
		  HEAD "  - name: mx\n    deploy_dir:\n",
		  8, 16, "empty" },
	};
	size_t n;

	(void)state;
	n = (size_t)snprintf(longdir, sizeof(longdir), "state_dir: /");
	memset(longdir + n, 'a', 1100);
	snprintf(longdir + n + 1100, sizeof(longdir) - n - 1100, "\n");
	t[2].yaml = longdir;
	check_bad(t, NCASES(t));
}

static void
test_config_services(void **state)
{
	static const struct bad t[] = {
		{ "duplicate service name",
		  HEAD SVC_MX
		  "  - name: mx\n"			/* 10 */
		  "    hosts: [mx2.example.test]\n"
		  "    deploy_dir: /etc/ssl/mx2\n",
		  10, 5, "\"mx\" defined twice" },
		{ "missing name",
		  HEAD
		  "  - hosts: [mx1.example.test]\n"	/* 7 */
		  "    deploy_dir: /etc/ssl/mx\n",
		  7, 5, "needs name" },
		{ "missing hosts",
		  HEAD
		  "  - name: mx\n"
		  "    deploy_dir: /etc/ssl/mx\n",
		  7, 5, "hosts" },
		{ "empty hosts",
		  HEAD
		  "  - name: mx\n"
		  "    hosts: []\n"
		  "    deploy_dir: /etc/ssl/mx\n",
		  7, 5, "hosts" },
		{ "missing deploy_dir",
		  HEAD
		  "  - name: mx\n"
		  "    hosts: [mx1.example.test]\n",
		  7, 5, "deploy_dir" },
		{ "bad host name (empty label), second item of a block list",
		  HEAD
		  "  - name: mx\n"
		  "    hosts:\n"
		  "      - mx1.example.test\n"
		  "      - mx2..example.test\n"		/* 10 */
		  "    deploy_dir: /etc/ssl/mx\n",
		  10, 9, "not a valid DNS name" },
		{ "bad host name (label of 64 bytes)",
		  HEAD
		  "  - name: mx\n"
		  "    hosts: [mx1.example.test, a123456789012345678901234567"
		  "890123456789012345678901234567890123.example.test]\n",
		  8, 31, "not a valid DNS name" },
		{ "host given as an address",
		  HEAD
		  "  - name: mx\n"
		  "    hosts: [192.0.2.25]\n"
		  "    deploy_dir: /etc/ssl/mx\n",
		  8, 13, "192.0.2.25" },
		{ "bad service name (slash)",
		  HEAD "  - name: ../mx\n",
		  7, 11, "name:" },
		{ "service not a mapping",
		  HEAD "  - mx\n",
		  7, 5, "must be a mapping" },
		{ "services not a list",
		  HEAD "  name: mx\n",
		  7, 3, "want a list" },
		{ "bad check server, second item",
		  HEAD SVC_MX
		  "    dns:\n"
		  "      check_servers:\n"
		  "        - 192.0.2.1\n"
		  "        - ns1.example.test\n",	/* 13 */
		  13, 11, "check_servers" },
		{ "bad primary address",
		  "state_dir: /s\ndns:\n  primary: 192.0.2.300\n",
		  3, 12, "primary" },
		{ "bad key_type",
		  HEAD SVC_MX "    key_type: dsa1024\n",
		  10, 15, "key_type" },
		{ "no services", "state_dir: /s\nservices: []\n", 2, 11,
		  "no services" },
	};

	(void)state;
	check_bad(t, NCASES(t));
}

static void
test_config_service_dns(void **state)
{
	static const struct bad t[] = {
		{ "no primary anywhere",
		  "state_dir: /s\n"
		  "dns:\n"
		  "  resolver: 127.0.0.53\n"
		  "  tsig_key_file: @KEY@\n"
		  "services:\n"
		  "  - name: mx\n"			/* 6 */
		  "    hosts: [mx1.example.test]\n"
		  "    deploy_dir: /etc/ssl/mx\n",
		  6, 5, "dns.primary" },
		{ "no tsig_key_file anywhere",
		  "state_dir: /s\n"
		  "dns:\n"
		  "  resolver: 127.0.0.53\n"
		  "  primary: 192.0.2.53\n"
		  "services:\n"
		  "  - name: mx\n"
		  "    hosts: [mx1.example.test]\n"
		  "    deploy_dir: /etc/ssl/mx\n",
		  6, 5, "tsig_key_file" },
		{ "the second service has no primary (given only to the first)",
		  "state_dir: /s\n"
		  "dns:\n"
		  "  resolver: 127.0.0.53\n"
		  "  tsig_key_file: @KEY@\n"
		  "services:\n"
		  "  - name: a\n"
		  "    hosts: [mx1.example.test]\n"
		  "    deploy_dir: /etc/ssl/a\n"
		  "    dns: {primary: 192.0.2.53}\n"
		  "  - name: b\n"			/* 10 */
		  "    hosts: [mx2.example.test]\n"
		  "    deploy_dir: /etc/ssl/b\n",
		  10, 5, "dns.primary" },
		{ "no resolver and no trust_anchor_file",
		  "state_dir: /s\n"
		  "dns:\n"
		  "  primary: 192.0.2.53\n"
		  "  tsig_key_file: @KEY@\n"
		  "services:\n"
		  "  - name: mx\n"
		  "    hosts: [mx1.example.test]\n"
		  "    deploy_dir: /etc/ssl/mx\n",
		  6, 5, "resolver" },
		{ "trust_anchor_file \"\" takes away the only validation path",
		  "state_dir: /s\n"
		  "dns:\n"
		  "  primary: 192.0.2.53\n"
		  "  tsig_key_file: @KEY@\n"
		  "  trust_anchor_file: /etc/unbound/root.key\n"
		  "services:\n"
		  "  - name: mx\n"			/* 7 */
		  "    hosts: [mx1.example.test]\n"
		  "    deploy_dir: /etc/ssl/mx\n"
		  "    dns: {trust_anchor_file: \"\"}\n",
		  7, 5, "resolver" },
		{ "TSIG key file mode 0644",
		  "state_dir: /s\n"
		  "dns:\n"
		  "  primary: 192.0.2.53\n"
		  "  resolver: 127.0.0.53\n"
		  "  tsig_key_file: @KEY644@\n"
		  "services:\n" SVC_MX,
		  7, 5, "chmod 600" },
		{ "TSIG key file missing",
		  "state_dir: /s\n"
		  "dns:\n"
		  "  primary: 192.0.2.53\n"
		  "  resolver: 127.0.0.53\n"
		  "  tsig_key_file: @DIR@/nonexistent.key\n"
		  "services:\n" SVC_MX,
		  7, 5, "No such file" },
	};

	(void)state;
	check_bad(t, NCASES(t));
}

static void
test_config_documents(void **state)
{
	static const struct bad t[] = {
		{ "two documents",
		  HEAD SVC_MX "---\nstate_dir: /other\n",
		  10, 1, "more than one YAML document" },
		{ "two documents, explicit markers",
		  "---\n" HEAD SVC_MX "...\n---\nstate_dir: /other\n...\n",
		  12, 1, "more than one YAML document" },
		{ "an empty second document",
		  HEAD SVC_MX "---\n",
		  10, 1, "more than one YAML document" },
		{ "a list at the top", "- state_dir: /s\n", 1, 1,
		  "must be a mapping" },
		{ "a scalar at the top", "hello\n", 1, 1, "must be a mapping" },
		{ "a YAML syntax error",
		  "state_dir: /s\n- x\n",
		  2, 1, "YAML syntax" },
		{ "a tab for indentation",
		  "state_dir: /s\ndns:\n\tprimary: 192.0.2.53\n",
		  3, 1, "YAML syntax" },
		{ "no state_dir",
		  "dns:\n  primary: 192.0.2.53\n  resolver: 127.0.0.53\n"
		  "  tsig_key_file: @KEY@\nservices:\n" SVC_MX,
		  0, 0, "state_dir is missing" },
	};

	(void)state;
	check_bad(t, NCASES(t));
}

/* An empty file has no node to point at: "FILE: " or "FILE:1:1: ". */
static void
test_config_empty(void **state)
{
	static const char *const texts[] = { "", "# only a comment\n",
	    "\n\n" };
	struct roll_config c;
	const char *path;
	char p1[PATH_MAX + 8], p2[PATH_MAX + 8];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		path = write_yaml("empty.yaml", texts[i]);
		snprintf(p1, sizeof(p1), "%s: ", path);
		snprintf(p2, sizeof(p2), "%s:1:1: ", path);
		err[0] = '\0';
		assert_int_equal(roll_config_load(path, &c, err, sizeof(err)),
		    -1);
		if (strncmp(err, p1, strlen(p1)) != 0 &&
		    strncmp(err, p2, strlen(p2)) != 0)
			fail_msg("empty file %zu: got \"%s\"", i, err);
		assert_non_null(strstr(err, "empty"));
	}
	/* A file that is not there */
	snprintf(p1, sizeof(p1), "%s/nonexistent.yaml", tmpdir);
	assert_int_equal(roll_config_load(p1, &c, err, sizeof(err)), -1);
	assert_int_equal(strncmp(err, p1, strlen(p1)), 0);
	/* A directory */
	assert_int_equal(roll_config_load(tmpdir, &c, err, sizeof(err)), -1);
	assert_int_equal(strncmp(err, tmpdir, strlen(tmpdir)), 0);
}

static void
test_config_durations_bad(void **state)
{
	/* In the global dns, line 3, value at column 13 (min_hold) */
	static const struct bad t[] = {
		{ "unknown unit", "state_dir: /s\ndns:\n  min_hold: 1y\n",
		  3, 13, "duration" },
		{ "fraction", "state_dir: /s\ndns:\n  min_hold: 1.5h\n",
		  3, 13, "duration" },
		{ "negative", "state_dir: /s\ndns:\n  min_hold: -1\n",
		  3, 13, "duration" },
		{ "unit only", "state_dir: /s\ndns:\n  min_hold: h\n",
		  3, 13, "duration" },
		{ "two units", "state_dir: /s\ndns:\n  min_hold: 1h30m\n",
		  3, 13, "duration" },
		{ "a list", "state_dir: /s\ndns:\n  min_hold: [1h]\n",
		  3, 13, "duration" },
		{ "too large", "state_dir: /s\ndns:\n  min_hold: 100000w\n",
		  3, 13, "duration" },
		{ "digits beyond 64 bits",
		  "state_dir: /s\ndns:\n  min_hold: 99999999999999999999\n",
		  3, 13, "duration" },
		/* 307445734561825861 * 60 wraps past 2^64 to 44 */
		{ "minutes that wrap 64 bits",
		  "state_dir: /s\ndns:\n  min_hold: 307445734561825861m\n",
		  3, 13, "duration" },
		/* 30500568904944 * 604800 wraps to 579584 */
		{ "weeks that wrap 64 bits",
		  "state_dir: /s\ndns:\n  min_hold: 30500568904944w\n",
		  3, 13, "duration" },
		{ "bad hold_margin", "state_dir: /s\ndns:\n  hold_margin: 5x\n",
		  3, 16, "duration" },
		{ "empty hold_margin", "state_dir: /s\ndns:\n  hold_margin:\n",
		  3, 15, "duration" },
		{ "ttl 0", "state_dir: /s\ndns:\n  ttl: 0\n", 3, 8,
		  "more than 0" },
		{ "ttl 0 in a service", HEAD SVC_MX "    dns:\n      ttl: 0\n",
		  11, 12, "more than 0" },
		{ "ttl above a week", "state_dir: /s\ndns:\n  ttl: 604801\n",
		  3, 8, "not a number" },
		{ "ttl with a unit", "state_dir: /s\ndns:\n  ttl: 1h\n",
		  3, 8, "ttl" },
	};

	(void)state;
	check_bad(t, NCASES(t));
}

/* ---- state files -------------------------------------------------------- */

static const char *const ID1 = "0123456789abcdef";
static const char *const ID2 = "fedcba9876543210";
static const char *const ID3 = "00000000deadbeef";
static const char *const ID4 = "1111111122222222";

static char statedir[PATH_MAX];

static void
fresh_statedir(const char *name)
{
	snprintf(statedir, sizeof(statedir), "%s/%s", tmpdir, name);
	if (mkdir(statedir, 0700) == -1 && errno != EEXIST)
		fail_msg("mkdir %s: %s", statedir, strerror(errno));
}

static void
add_rec(struct zone_rrset *s, unsigned u, unsigned sel, unsigned m,
    size_t len, unsigned char fill)
{
	struct tlsa_rec *nv;

	nv = realloc(s->v, (s->n + 1) * sizeof(*nv));
	assert_non_null(nv);
	s->v = nv;
	nv[s->n].spec.usage = (uint8_t)u;
	nv[s->n].spec.selector = (uint8_t)sel;
	nv[s->n].spec.mtype = (uint8_t)m;
	nv[s->n].len = len;
	nv[s->n].data = malloc(len);
	assert_non_null(nv[s->n].data);
	memset(nv[s->n].data, fill, len);
	nv[s->n].data[0] = (unsigned char)(fill + 1);
	s->n++;
}

static void
assert_same_state(const struct roll_state *a, const struct roll_state *b)
{
	size_t i;
	int k;

	assert_int_equal(a->phase, b->phase);
	assert_int_equal(a->nslots, b->nslots);
	for (k = 0; k < a->nslots; k++) {
		const struct roll_slot *sb = NULL;
		int j;

		for (j = 0; j < b->nslots; j++)
			if (strcmp(a->slot[k].name, b->slot[j].name) == 0)
				sb = &b->slot[j];
		if (sb == NULL)
			fail_msg("slot \"%s\" lost", a->slot[k].name);
		assert_string_equal(a->slot[k].current, sb->current);
		assert_string_equal(a->slot[k].previous, sb->previous);
		assert_string_equal(a->slot[k].pending, sb->pending);
	}
	assert_string_equal(a->staged, b->staged);
	assert_int_equal(a->have_published, b->have_published);
	assert_int_equal(a->published.n, b->published.n);
	for (i = 0; i < a->published.n; i++)
		assert_true(zone_rrset_has(&b->published, &a->published.v[i]));
	assert_int_equal(a->published_at, b->published_at);
	assert_int_equal(a->visible_at, b->visible_at);
	assert_int_equal(a->switched_at, b->switched_at);
	assert_int_equal(a->updated_at, b->updated_at);
	assert_int_equal(a->hold_ttl, b->hold_ttl);
	assert_string_equal(a->alert, b->alert);
	assert_string_equal(a->behind, b->behind);
	assert_int_equal(a->checked_at, b->checked_at);
	assert_int_equal(a->nnodes, b->nnodes);
	for (k = 0; k < a->nnodes; k++) {
		const struct roll_node_state *na = &a->node[k], *nb = NULL;
		int j, m;

		for (j = 0; j < b->nnodes; j++)
			if (strcmp(na->name, b->node[j].name) == 0)
				nb = &b->node[j];
		if (nb == NULL)
			fail_msg("node \"%s\" lost", na->name);
		for (m = 0; m < a->nslots; m++) {
			int mb;

			for (mb = 0; mb < b->nslots; mb++)
				if (strcmp(a->slot[m].name,
				    b->slot[mb].name) == 0)
					break;
			assert_true(mb < b->nslots);
			assert_string_equal(na->current[m], nb->current[mb]);
			assert_string_equal(na->previous[m],
			    nb->previous[mb]);
		}
		assert_int_equal(na->failures, nb->failures);
		assert_int_equal(na->wait, nb->wait);
		assert_int_equal(na->stopped, nb->stopped);
		assert_string_equal(na->error, nb->error);
	}
}

/* Which slot a key goes to: RSA-PSS is an RSA key (slot rsa). */
static void
test_key_family(void **state)
{
	static const struct {
		const char	*type, *curve;
		size_t		 bits;
		const char	*family;
	} c[] = {
		{ "RSA", NULL, 1024, "rsa" },
		{ "RSA-PSS", NULL, 1024, "rsa" },
		{ "EC", "P-256", 0, "ecdsa" },
		{ "EC", "P-384", 0, "ecdsa" },
		{ "ED25519", NULL, 0, "eddsa" },
		{ "ED448", NULL, 0, "eddsa" },
	};
	EVP_PKEY_CTX *pc;
	EVP_PKEY *k;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		k = NULL;
		if (c[i].bits > 0) {
			/* EVP_PKEY_Q_keygen takes bits for "RSA" only. */
			pc = EVP_PKEY_CTX_new_from_name(NULL, c[i].type, NULL);
			assert_non_null(pc);
			assert_int_equal(EVP_PKEY_keygen_init(pc), 1);
			assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(pc,
			    (int)c[i].bits), 1);
			assert_int_equal(EVP_PKEY_generate(pc, &k), 1);
			EVP_PKEY_CTX_free(pc);
		} else if (c[i].curve != NULL)
			k = EVP_PKEY_Q_keygen(NULL, NULL, c[i].type,
			    c[i].curve);
		else
			k = EVP_PKEY_Q_keygen(NULL, NULL, c[i].type);
		assert_non_null(k);
		assert_string_equal(roll_key_family(k), c[i].family);
		EVP_PKEY_free(k);
	}
}

static void
test_state_roundtrip(void **state)
{
	struct roll_state a, b;
	struct roll_slot *sl;
	char path[PATH_MAX + 32];
	struct stat sb;
	time_t before;

	(void)state;
	fresh_statedir("state-rt");
	memset(&a, 0, sizeof(a));
	a.phase = ROLL_HOLD;
	sl = roll_state_slot(&a, "");
	assert_non_null(sl);
	memcpy(sl->current, ID1, ROLL_ID_LEN + 1);
	memcpy(sl->previous, ID2, ROLL_ID_LEN + 1);
	memcpy(sl->pending, ID3, ROLL_ID_LEN + 1);
	memcpy(a.staged, ID4, ROLL_ID_LEN + 1);
	a.have_published = 1;
	add_rec(&a.published, 3, 1, 1, 32, 0xa0);
	add_rec(&a.published, 2, 1, 1, 32, 0xb0);
	add_rec(&a.published, 3, 1, 2, 64, 0xc0);
	add_rec(&a.published, 2, 0, 1, 32, 0x00);
	a.published_at = 1700000000;
	a.visible_at = 1700000100;
	a.switched_at = 1700000200;
	a.hold_ttl = 86400;
	snprintf(a.alert, sizeof(a.alert), "service mx: 127.0.0.41@53: not "
	    "yet: serves 3 1 1 ab..; and: a colon");
	snprintf(a.behind, sizeof(a.behind), "ns 127.0.0.41@53, resolver "
	    "127.0.0.53@53, local validation");
	a.checked_at = 1700000150;
	before = time(NULL);
	assert_int_equal(roll_state_save(statedir, "mx", &a, err,
	    sizeof(err)), 0);
	assert_true(a.updated_at >= before && a.updated_at <= time(NULL));
	assert_int_equal(roll_state_load(statedir, "mx", &b, err,
	    sizeof(err)), 0);
	assert_same_state(&a, &b);
	/* modes: directory 0700, file 0600 */
	snprintf(path, sizeof(path), "%s/mx", statedir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	snprintf(path, sizeof(path), "%s/mx/state", statedir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	/* saving what was loaded gives the same state again */
	assert_int_equal(roll_state_save(statedir, "mx", &b, err,
	    sizeof(err)), 0);
	roll_state_free(&a);
	assert_int_equal(roll_state_load(statedir, "mx", &a, err,
	    sizeof(err)), 0);
	assert_same_state(&b, &a);
	roll_state_free(&a);
	roll_state_free(&b);
}

static void
test_state_roundtrip_slots_phases(void **state)
{
	struct roll_state a, b;
	struct roll_slot *sl;
	int ph;

	(void)state;
	fresh_statedir("state-slots");
	for (ph = ROLL_STEADY; ph <= ROLL_RETIRE; ph++) {
		memset(&a, 0, sizeof(a));
		a.phase = ph;
		sl = roll_state_slot(&a, "ecdsa");
		assert_non_null(sl);
		memcpy(sl->current, ID1, ROLL_ID_LEN + 1);
		memcpy(sl->pending, ID2, ROLL_ID_LEN + 1);
		sl = roll_state_slot(&a, "rsa");
		assert_non_null(sl);
		memcpy(sl->current, ID3, ROLL_ID_LEN + 1);
		memcpy(sl->previous, ID4, ROLL_ID_LEN + 1);
		a.have_published = 1;		/* "published: none" */
		{
			/* a fleet: one node on the new certificates, one
			 * switched back and resting, one stopped */
			struct roll_node_state *nd;

			nd = roll_state_node(&a, "n1");
			assert_non_null(nd);
			memcpy(nd->current[0], ID2, ROLL_ID_LEN + 1);
			memcpy(nd->previous[0], ID1, ROLL_ID_LEN + 1);
			memcpy(nd->current[1], ID3, ROLL_ID_LEN + 1);
			nd = roll_state_node(&a, "node-2.b");
			assert_non_null(nd);
			memcpy(nd->current[0], ID1, ROLL_ID_LEN + 1);
			nd->failures = 2;
			nd->wait = 1;
			snprintf(nd->error, sizeof(nd->error), "reload: "
			    "/bin/false exited with status 1");
			nd = roll_state_node(&a, "n_3");
			assert_non_null(nd);
			nd->failures = 4;
			nd->stopped = 1;
			snprintf(nd->error, sizeof(nd->error), "push: /bin/cp exited with status 1");
		}
		assert_int_equal(roll_state_save(statedir, "svc", &a, err,
		    sizeof(err)), 0);
		assert_int_equal(roll_state_load(statedir, "svc", &b, err,
		    sizeof(err)), 0);
		assert_same_state(&a, &b);
		assert_string_equal(roll_phase_name(b.phase),
		    roll_phase_name(ph));
		roll_state_free(&a);
		roll_state_free(&b);
	}
	/* nothing published, nothing known: have_published stays 0 */
	memset(&a, 0, sizeof(a));
	assert_int_equal(roll_state_save(statedir, "empty", &a, err,
	    sizeof(err)), 0);
	assert_int_equal(roll_state_load(statedir, "empty", &b, err,
	    sizeof(err)), 0);
	assert_same_state(&a, &b);
	assert_int_equal(b.have_published, 0);
	roll_state_free(&a);
	roll_state_free(&b);
}

/* An alert with a newline must not become a second state line. */
static void
test_state_alert_injection(void **state)
{
	struct roll_state a, b;

	(void)state;
	fresh_statedir("state-alert");
	memset(&a, 0, sizeof(a));
	a.phase = ROLL_VISIBLE;
	snprintf(a.alert, sizeof(a.alert), "bad reply\nphase: steady\n"
	    "current: %s", ID1);
	assert_int_equal(roll_state_save(statedir, "mx", &a, err,
	    sizeof(err)), 0);
	assert_int_equal(roll_state_load(statedir, "mx", &b, err,
	    sizeof(err)), 0);
	assert_int_equal(b.phase, ROLL_VISIBLE);
	assert_int_equal(b.nslots, 0);
	assert_null(strchr(b.alert, '\n'));
	assert_non_null(strstr(b.alert, "bad reply"));
	roll_state_free(&a);
	roll_state_free(&b);

	/* Saved and loaded again, an alert stays the same (a backslash
	 * included: it must not be escaped once more on every save). */
	memset(&a, 0, sizeof(a));
	a.phase = ROLL_VISIBLE;
	snprintf(a.alert, sizeof(a.alert), "peer said \\x41 and \\\\");
	assert_int_equal(roll_state_save(statedir, "mx", &a, err,
	    sizeof(err)), 0);
	assert_int_equal(roll_state_load(statedir, "mx", &b, err,
	    sizeof(err)), 0);
	assert_string_equal(b.alert, a.alert);
	assert_int_equal(roll_state_save(statedir, "mx", &b, err,
	    sizeof(err)), 0);
	roll_state_free(&b);
	assert_int_equal(roll_state_load(statedir, "mx", &b, err,
	    sizeof(err)), 0);
	assert_string_equal(b.alert, a.alert);
	roll_state_free(&a);
	roll_state_free(&b);
}

static void
test_state_missing_is_fresh(void **state)
{
	struct roll_state st;

	(void)state;
	fresh_statedir("state-missing");
	memset(&st, 0x5a, sizeof(st));
	assert_int_equal(roll_state_load(statedir, "nosuch", &st, err,
	    sizeof(err)), 0);
	assert_int_equal(st.phase, ROLL_STEADY);
	assert_int_equal(st.nslots, 0);
	assert_string_equal(st.staged, "");
	assert_int_equal(st.have_published, 0);
	assert_int_equal(st.published.n, 0);
	assert_int_equal(st.visible_at, 0);
	assert_string_equal(st.alert, "");
	roll_state_free(&st);
	/* a state_dir that does not exist yet: also fresh */
	assert_int_equal(roll_state_load("/nonexistent/tlsa-rollover", "mx",
	    &st, err, sizeof(err)), 0);
	assert_int_equal(st.phase, ROLL_STEADY);
	roll_state_free(&st);
}

struct damaged {
	const char	*what;
	const char	*text;
	size_t		 len;		/* 0: strlen(text) */
	int		 line;		/* 0: the file only */
};

#define OKHEAD "# tlsa-rollover state of service mx; written by " \
	"tlsa-rollover, do not edit\n"

static void
test_state_damaged(void **state)
{
	static const struct damaged t[] = {
		{ "garbage line",
		  OKHEAD "phase: hold\n%%$#@!garbage\nupdated_at: 1\n", 0, 3 },
		{ "unknown key",
		  OKHEAD "phase: hold\nfrobnicate: 1\nupdated_at: 1\n", 0, 3 },
		{ "truncated, no final newline",
		  OKHEAD "phase: hold\ncurrent: 0123456789ab", 0, 3 },
		{ "truncated in the middle of the last line",
		  OKHEAD "phase: hold\nupdated_at: 17", 0, 3 },
		{ "binary (a NUL byte on line 3)",
		  OKHEAD "phase: hold\ncurr\0nt: 0123456789abcdef\n"
		  "updated_at: 1\n", sizeof(OKHEAD "phase: hold\ncurr\0nt: "
		  "0123456789abcdef\nupdated_at: 1\n") - 1, 3 },
		{ "binary (high bytes on line 2)",
		  OKHEAD "\xff\xfe\x01\x02\x80\n", 0, 2 },
		{ "unknown phase", OKHEAD "phase: holding\nupdated_at: 1\n",
		  0, 2 },
		{ "phase without a space", OKHEAD "phase:hold\nupdated_at: 1\n",
		  0, 2 },
		{ "CRLF line ends", OKHEAD "phase: hold\r\nupdated_at: 1\r\n",
		  0, 2 },
		{ "short id", OKHEAD "phase: hold\ncurrent: 0123\n"
		  "updated_at: 1\n", 0, 3 },
		{ "upper-case id", OKHEAD "phase: hold\n"
		  "pending: 0123456789ABCDEF\nupdated_at: 1\n", 0, 3 },
		{ "unknown slot", OKHEAD "phase: hold\n"
		  "current: dsa 0123456789abcdef\nupdated_at: 1\n", 0, 3 },
		{ "negative time", OKHEAD "phase: hold\nvisible_at: -5\n"
		  "updated_at: 1\n", 0, 3 },
		{ "time not a number", OKHEAD "phase: hold\n"
		  "published_at: yesterday\nupdated_at: 1\n", 0, 3 },
		{ "hold_ttl too large", OKHEAD "phase: hold\n"
		  "hold_ttl: 99999999999\nupdated_at: 1\n", 0, 3 },
		{ "bad published record", OKHEAD "phase: hold\n"
		  "published: 3 1 1 zz\nupdated_at: 1\n", 0, 3 },
		{ "published record of the wrong length", OKHEAD "phase: hold\n"
		  "published: 3 1 1 abcd\nupdated_at: 1\n", 0, 3 },
		/* A file that lost its lines at a newline (or was never
		 * completed) must not read as a fresh STEADY state. */
		{ "the comment line only", OKHEAD, 0, 0 },
		{ "no phase line", OKHEAD "current: 0123456789abcdef\n"
		  "updated_at: 1\n", 0, 0 },
		{ "phase given twice", OKHEAD "phase: hold\nphase: steady\n"
		  "updated_at: 1\n", 0, 3 },
		{ "current given twice", OKHEAD "phase: steady\n"
		  "current: 0123456789abcdef\ncurrent: fedcba9876543210\n"
		  "updated_at: 1\n", 0, 4 },
		{ "empty file", "", 0, 0 },
		{ "node without an id", OKHEAD "phase: steady\n"
		  "node: n1 -\nupdated_at: 1\n", 0, 3 },
		{ "node name upper case", OKHEAD "phase: steady\n"
		  "node: N1 - 0123456789abcdef\nupdated_at: 1\n", 0, 3 },
		{ "node slot twice", OKHEAD "phase: steady\n"
		  "node: n1 - 0123456789abcdef\n"
		  "node: n1 - fedcba9876543210\nupdated_at: 1\n", 0, 4 },
		{ "node with too many fields", OKHEAD "phase: steady\n"
		  "node: n1 - 0123456789abcdef 0123456789abcdef x\n"
		  "updated_at: 1\n", 0, 3 },
		{ "node_failed count zero", OKHEAD "phase: steady\n"
		  "node_failed: n1 0 1 broken\nupdated_at: 1\n", 0, 3 },
		{ "node_failed bad wait", OKHEAD "phase: steady\n"
		  "node_failed: n1 2 later broken\nupdated_at: 1\n", 0, 3 },
		{ "node_failed without a reason", OKHEAD "phase: steady\n"
		  "node_failed: n1 2 1\nupdated_at: 1\n", 0, 3 },
	};
	struct roll_state st;
	char path[PATH_MAX + 32], want[PATH_MAX + 64], dir[PATH_MAX + 8];
	size_t i;
	int nbad = 0, rc;

	(void)state;
	fresh_statedir("state-damaged");
	snprintf(dir, sizeof(dir), "%s/mx", statedir);
	(void)mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/mx/state", statedir);
	for (i = 0; i < NCASES(t); i++) {
		write_bytes(path, t[i].text, t[i].len ? t[i].len :
		    strlen(t[i].text), 0600);
		err[0] = '\0';
		memset(&st, 0x5a, sizeof(st));
		rc = roll_state_load(statedir, "mx", &st, err, sizeof(err));
		if (rc != -1) {
			print_error("FAIL %s: accepted as phase %s\n",
			    t[i].what, roll_phase_name(st.phase));
			if (rc == 0)
				roll_state_free(&st);
			nbad++;
			continue;
		}
		if (strncmp(err, path, strlen(path)) != 0) {
			print_error("FAIL %s: the message does not start with "
			    "the file: \"%s\"\n", t[i].what, err);
			nbad++;
		}
		snprintf(want, sizeof(want), "line %d:", t[i].line);
		if (t[i].line > 0 && strstr(err, want) == NULL) {
			print_error("FAIL %s: the message does not name %s "
			    "\"%s\"\n", t[i].what, want, err);
			nbad++;
		}
		if (strstr(err, "damaged") == NULL) {
			print_error("FAIL %s: the message does not say the file "
			    "is damaged: \"%s\"\n", t[i].what, err);
			nbad++;
		}
		if (st.nslots != 0 || st.published.v != NULL) {
			print_error("FAIL %s: state not cleared\n", t[i].what);
			nbad++;
		}
	}
	if (nbad > 0)
		fail_msg("%d problem(s) in %zu damaged files (see above)",
		    nbad, NCASES(t));
}

/* roll_hold_left: max(min_hold, 2 x TTL + margin) after visible_at. */
static void
test_hold_left(void **state)
{
	struct roll_service s;
	struct roll_state st;

	(void)state;
	memset(&s, 0, sizeof(s));
	memset(&st, 0, sizeof(st));
	s.dns.min_hold = 3600;
	s.dns.hold_margin = 600;
	st.phase = ROLL_HOLD;
	assert_int_equal(roll_hold_left(&s, &st, 1000), 0);	/* not visible */
	st.visible_at = 1000000;
	st.hold_ttl = 300;		/* 2 x 300 + 600 < 3600 */
	assert_int_equal(roll_hold_left(&s, &st, 1000000), 3600);
	assert_int_equal(roll_hold_left(&s, &st, 1003599), 1);
	assert_int_equal(roll_hold_left(&s, &st, 1003600), 0);
	st.hold_ttl = 86400;		/* 2 x 86400 + 600 */
	assert_int_equal(roll_hold_left(&s, &st, 1000000), 173400);
	assert_int_equal(roll_hold_left(&s, &st, 1000000 + 173400), 0);
	st.hold_ttl = 0x7fffffff;	/* the largest a state file holds */
	assert_true(roll_hold_left(&s, &st, 1000000) > 0);
}

/*
 * TTLs from DNS answers: the top bit set counts as 0 (RFC 2181 section
 * 8), and the hold never uses more than max_ttl (default 1 day) or the
 * service's own ttl when that is larger.
 */
static void
test_ttl_clamp(void **state)
{
	struct roll_config c;
	struct roll_service *s;

	(void)state;
	assert_int_equal(zone_ttl_rfc2181(0), 0);
	assert_int_equal(zone_ttl_rfc2181(3600), 3600);
	assert_int_equal(zone_ttl_rfc2181(0x7fffffffu), 0x7fffffffu);
	assert_int_equal(zone_ttl_rfc2181(0x80000000u), 0);
	assert_int_equal(zone_ttl_rfc2181(0xffffffffu), 0);

	load_ok("maxttl-default.yaml", HEAD SVC_MX, &c);
	s = &c.services[0];
	assert_int_equal(s->dns.max_ttl, 86400);
	assert_int_equal(roll_lock_timeout(&c), 3600);
	assert_int_equal(roll_ttl_clamp(s, 300), 300);
	assert_int_equal(roll_ttl_clamp(s, 86400), 86400);
	assert_int_equal(roll_ttl_clamp(s, 86401), 86400);
	assert_int_equal(roll_ttl_clamp(s, 0x7fffffffu), 86400);
	assert_int_equal(roll_ttl_clamp(s, 0x80000000u), 0);
	assert_int_equal(roll_ttl_clamp(s, 0xffffffffu), 0);
	/* our own records' TTL is never cut */
	s->dns.ttl = 200000;
	assert_int_equal(roll_ttl_clamp(s, 0x7fffffffu), 200000);
	roll_config_free(&c);

	load_ok("maxttl-set.yaml", "lock_timeout: 30m\n" HEAD
	    "  - name: mx\n    hosts: [mx1.example.test]\n"
	    "    deploy_dir: /etc/ssl/mx\n    dns:\n      max_ttl: 2h\n",
	    &c);
	assert_int_equal(c.services[0].dns.max_ttl, 7200);
	assert_int_equal(roll_lock_timeout(&c), 1800);
	assert_int_equal(roll_ttl_clamp(&c.services[0], 7201), 7200);
	roll_config_free(&c);
}

/* A state the loader would refuse is never written; the old one stays. */
static void
test_state_save_refuses_unreadable(void **state)
{
	struct roll_state a, b;

	(void)state;
	fresh_statedir("state-refuse");
	memset(&a, 0, sizeof(a));
	a.phase = ROLL_HOLD;
	a.visible_at = 1700000100;
	a.hold_ttl = 3600;
	assert_int_equal(roll_state_save(statedir, "mx", &a, err,
	    sizeof(err)), 0);
	a.hold_ttl = 0x80000000u;	/* what a TTL of 2^31 once gave */
	err[0] = '\0';
	assert_int_equal(roll_state_save(statedir, "mx", &a, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "would not read back"));
	assert_null(strstr(err, "damaged"));
	assert_null(strchr(err, '\n'));
	a.hold_ttl = 3600;
	a.visible_at = (time_t)253402300800LL;	/* past the year 9999 */
	assert_int_equal(roll_state_save(statedir, "mx", &a, err,
	    sizeof(err)), -1);
	assert_int_equal(roll_state_load(statedir, "mx", &b, err,
	    sizeof(err)), 0);
	assert_int_equal(b.hold_ttl, 3600);
	assert_int_equal(b.visible_at, 1700000100);
	roll_state_free(&a);
	roll_state_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_minimal_defaults),
		cmocka_unit_test(test_config_full_merge),
		cmocka_unit_test(test_config_idn_hosts),
		cmocka_unit_test(test_config_durations_ok),
		cmocka_unit_test(test_config_duplicate_keys),
		cmocka_unit_test(test_config_duration_ranges),
		cmocka_unit_test(test_config_unknown_keys),
		cmocka_unit_test(test_config_anchors_aliases_tags),
		cmocka_unit_test(test_config_yaml11_booleans),
		cmocka_unit_test(test_config_records),
		cmocka_unit_test(test_config_port),
		cmocka_unit_test(test_config_paths_reload),
		cmocka_unit_test(test_config_nodes),
		cmocka_unit_test(test_config_services),
		cmocka_unit_test(test_config_service_dns),
		cmocka_unit_test(test_config_documents),
		cmocka_unit_test(test_config_empty),
		cmocka_unit_test(test_config_durations_bad),
		cmocka_unit_test(test_state_roundtrip),
		cmocka_unit_test(test_state_roundtrip_slots_phases),
		cmocka_unit_test(test_state_alert_injection),
		cmocka_unit_test(test_state_missing_is_fresh),
		cmocka_unit_test(test_state_damaged),
		cmocka_unit_test(test_hold_left),
		cmocka_unit_test(test_key_family),
		cmocka_unit_test(test_ttl_clamp),
		cmocka_unit_test(test_state_save_refuses_unreadable),
	};

	return cmocka_run_group_tests_name("rollover", tests, global_setup,
	    global_teardown);
}
