/*
 * roll_validate.c: what a configuration names must be there and usable
 * (validate-config, and every command that loads the configuration), so
 * that a mistake is found before the first PUBLISH and not at SWITCH,
 * hours later.  Nothing here changes anything.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "log.h"
#include "roll_validate.h"
#include "tlsa_load.h"
#include "zone_check.h"
#include "zone_net.h"
#include "zone_rr.h"
#include "zone_tsig.h"
#include "roll_pub.h"
#include "zone_update.h"

static const struct zone_xfer_opts online_xfer = { 3000, 2, 0 };

/* Is name (absolute) zone itself or below it? */
static int
in_zone(const char *name, const char *zone)
{
	size_t nl = strlen(name), zl = strlen(zone);

	if (strcmp(zone, ".") == 0)
		return 1;
	if (nl < zl || strcasecmp(name + nl - zl, zone) != 0)
		return 0;
	return nl == zl || name[nl - zl - 1] == '.';
}

/* A command (what: reload, push) must be an executable regular file. */
static int
check_exec(const char *what, const char *node, const char *path, char *why,
    size_t len)
{
	struct stat sb;

	if (stat(path, &sb) == -1) {
		errfmt(why, len, "%s%s%s%s: %s: %s", node ? "node " : "",
		    node ? node : "", node ? ": " : "", what, path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode) || access(path, X_OK) == -1) {
		errfmt(why, len, "%s%s%s%s: %s: not an executable file",
		    node ? "node " : "", node ? node : "", node ? ": " : "",
		    what, path);
		return -1;
	}
	return 0;
}

/* The reload commands (and a node's push) must be executable files. */
static int
check_reload(const struct roll_service *s, char *why, size_t len)
{
	size_t i;

	if (s->nreload > 0 && check_exec("reload", NULL, s->reload[0], why,
	    len) == -1)
		return -1;
	for (i = 0; i < s->nnodes; i++) {
		const struct roll_node *nd = &s->nodes[i];

		if (nd->nreload > 0 && check_exec("reload", nd->name,
		    nd->reload[0], why, len) == -1)
			return -1;
		if (nd->npush > 0 && check_exec("push", nd->name, nd->push[0],
		    why, len) == -1)
			return -1;
	}
	return 0;
}

/*
 * The backend's own files: the TSIG key (rfc2136), the program (exec),
 * the API key (pdns-api, loaded by opening the publisher, which talks
 * to nobody yet).
 */
static int
check_backend(const struct roll_service *s, char *why, size_t len)
{
	struct zone_tsig key = { 0 };
	struct roll_pub pub;
	char lerr[ERRBUF_LEN];

	if (roll_pub_is_rfc2136(s)) {
		if (zone_tsig_load(s->dns.tsig_key_file, &key, lerr,
		    sizeof(lerr)) == -1) {
			errfmt(why, len, "tsig_key_file: %s", lerr);
			return -1;
		}
		zone_tsig_free(&key);
		return 0;
	}
	if (strcmp(s->dns.backend, ROLL_BACKEND_EXEC) == 0)
		return s->dns.nexec > 0 ? check_exec("exec", NULL,
		    s->dns.exec[0], why, len) : 0;
	if (roll_pub_open(s, &pub, why, len) == -1)
		return -1;
	roll_pub_close(&pub);
	return 0;
}

/*
 * state_dir exists as a directory, or its parent does and we may create
 * it there (only the last level is ever made).
 */
static int
check_creatable(const char *what, const char *dir, char *why, size_t len)
{
	char p[PATH_MAX], *slash;
	struct stat sb;

	if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p)) {
		errfmt(why, len, "%s: %s: too long", what, dir);
		return -1;
	}
	for (;;) {
		if (stat(p, &sb) == 0) {
			if (!S_ISDIR(sb.st_mode)) {
				errfmt(why, len, "%s: %s: %s is not a "
				    "directory", what, dir, p);
				return -1;
			}
			if (strcmp(p, dir) != 0 && access(p, W_OK | X_OK) ==
			    -1) {
				errfmt(why, len, "%s: %s cannot be created: "
				    "%s is not writable", what, dir, p);
				return -1;
			}
			return 0;
		}
		if (errno != ENOENT) {
			errfmt(why, len, "%s: %s: %s", what, p,
			    strerror(errno));
			return -1;
		}
		if (strcmp(p, dir) != 0) {
			errfmt(why, len, "%s: %s cannot be created: %s does "
			    "not exist", what, dir, p);
			return -1;
		}
		if ((slash = strrchr(p, '/')) == NULL)
			return 0;
		if (slash == p)
			slash[1] = '\0';	/* the parent is / */
		else
			*slash = '\0';
	}
}

/* deploy_dir's parent must exist: tlsa-rollover makes only the last part. */
static int
check_dir_parent(const char *dir, char *why, size_t len)
{
	char p[PATH_MAX], *slash;
	struct stat sb;

	snprintf(p, sizeof(p), "%s", dir);
	while (strlen(p) > 1 && p[strlen(p) - 1] == '/')
		p[strlen(p) - 1] = '\0';
	if ((slash = strrchr(p, '/')) == NULL)
		return 0;
	if (slash == p)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(p, &sb) == -1) {
		errfmt(why, len, "deploy_dir: %s: its parent %s: %s",
		    dir, p, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		errfmt(why, len, "deploy_dir: %s: its parent %s is not a "
		    "directory", dir, p);
		return -1;
	}
	return 0;
}

/* The service's deploy_dir, or each local node's. */
static int
check_deploy_parent(const struct roll_service *s, char *why, size_t len)
{
	char w[ERRBUF_LEN];
	size_t i;

	if (s->deploy_dir != NULL)
		return check_dir_parent(s->deploy_dir, why, len);
	for (i = 0; i < s->nnodes; i++)
		if (s->nodes[i].npush == 0 && check_dir_parent(
		    s->nodes[i].deploy_dir, w, sizeof(w)) == -1) {
			errfmt(why, len, "node %s: %s", s->nodes[i].name, w);
			return -1;
		}
	return 0;
}

/* Each issuer file holds a certificate. */
static int
check_issuers(const struct roll_service *s, char *why, size_t len)
{
	struct tlsa_input in;
	char lerr[ERRBUF_LEN];
	size_t i;

	for (i = 0; i < s->nissuers; i++) {
		memset(&in, 0, sizeof(in));
		if (tlsa_load_file(s->issuers[i], 0, &in, lerr,
		    sizeof(lerr)) == -1) {
			/* The loader names the file only when it reads it. */
			if (strstr(lerr, s->issuers[i]) != NULL)
				errfmt(why, len, "issuers: %s", lerr);
			else
				errfmt(why, len, "issuers: %s: %s",
				    s->issuers[i], lerr);
			return -1;
		}
		if (in.certs == NULL || sk_X509_num(in.certs) == 0) {
			tlsa_input_clear(&in);
			errfmt(why, len, "issuers: %s: no certificate in it",
			    s->issuers[i]);
			return -1;
		}
		tlsa_input_clear(&in);
	}
	return 0;
}

/* A trust anchor file: read as the visibility check will read it. */
static int
check_anchors(const struct roll_service *s, char *why, size_t len)
{
	ldns_rr_list *l;
	char lerr[ERRBUF_LEN];

	if (s->dns.trust_anchor_file == NULL)
		return 0;
	if ((l = zone_load_anchors(s->dns.trust_anchor_file, lerr,
	    sizeof(lerr))) == NULL) {
		errfmt(why, len, "trust_anchor_file: %s", lerr);
		return -1;
	}
	ldns_rr_list_deep_free(l);
	return 0;
}

/* Hosts: no wildcards, none outside the zone. */
static int
check_hosts(const struct roll_service *s, char *why, size_t len)
{
	size_t h;

	for (h = 0; h < s->nhosts; h++) {
		if (strncmp(s->hosts[h], "*.", 2) == 0 ||
		    strchr(s->hosts[h], '*') != NULL) {
			errfmt(why, len, "hosts: %s: a wildcard; TLSA records "
			    "are published per MX host name (RFC 7672 "
			    "section 3.2.2)", s->hosts[h]);
			return -1;
		}
		if (s->dns.zone != NULL && !in_zone(s->hosts[h], s->dns.zone)) {
			errfmt(why, len, "hosts: %s is not in zone %s; give "
			    "the service its own dns.zone (and primary) for "
			    "it", s->hosts[h], s->dns.zone);
			return -1;
		}
	}
	return 0;
}

/* One owner name belongs to one service: two would fight over it. */
static int
check_shared_owners(const struct roll_config *c, size_t i, char *why,
    size_t len)
{
	const struct roll_service *s = &c->services[i], *t;
	size_t j, a, b;

	for (j = 0; j < i; j++) {
		t = &c->services[j];
		if (t->port != s->port)
			continue;
		for (a = 0; a < s->nhosts; a++)
			for (b = 0; b < t->nhosts; b++)
				if (strcasecmp(s->hosts[a], t->hosts[b]) == 0) {
					errfmt(why, len, "hosts: %s port %u is "
					    "also a host of service %s: each "
					    "would retire the other's records",
					    s->hosts[a], s->port, t->name);
					return -1;
				}
	}
	return 0;
}

int
roll_validate(const struct roll_config *c, char *err, size_t errlen)
{
	char why[ERRBUF_LEN];
	size_t i;

	if (check_creatable("state_dir", c->state_dir, why, sizeof(why)) ==
	    -1) {
		errfmt(err, errlen, "%s: %s", c->path, why);
		return -1;
	}
	for (i = 0; i < c->nservices; i++) {
		const struct roll_service *s = &c->services[i];

		if (check_hosts(s, why, sizeof(why)) == -1 ||
		    check_shared_owners(c, i, why, sizeof(why)) == -1 ||
		    check_reload(s, why, sizeof(why)) == -1 ||
		    check_deploy_parent(s, why, sizeof(why)) == -1 ||
		    check_issuers(s, why, sizeof(why)) == -1 ||
		    check_anchors(s, why, sizeof(why)) == -1 ||
		    check_backend(s, why, sizeof(why)) == -1)
			goto bad;
		continue;
bad:
		errfmt(err, errlen, "%s: service %s: %s", c->path, s->name,
		    why);
		return -1;
	}
	return 0;
}

unsigned long
roll_validate_hold(const struct roll_service *s)
{
	unsigned long need = 2UL * s->dns.ttl + s->dns.hold_margin;

	return need < s->dns.min_hold ? s->dns.min_hold : need;
}

/* An SOA answer for zone from srv: AA (authoritative) or AD (resolver). */
static int
ask_soa(const struct zone_server *srv, const char *zone,
    const struct zone_tsig *key, int resolver, char *why, size_t len)
{
	ldns_pkt *q = NULL, *r = NULL;
	ldns_rdf *d = NULL;
	int rc = -1;

	if (ldns_str2rdf_dname(&d, zone) != LDNS_STATUS_OK ||
	    (q = ldns_pkt_query_new(d, LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN,
	    resolver ? LDNS_RD : 0)) == NULL) {
		ldns_rdf_deep_free(d);
		errfmt(why, len, "%s: cannot build a query", zone);
		return -1;
	}
	if (resolver) {
		ldns_pkt_set_edns_udp_size(q, 4096);
		ldns_pkt_set_edns_do(q, 1);
	}
	if (zone_exchange(srv, q, key, &online_xfer, &r, why, len) == -1)
		goto out;
	if (ldns_pkt_get_rcode(r) != LDNS_RCODE_NOERROR) {
		errfmt(why, len, "%s: %s for %s SOA", srv->name,
		    zone_rcode_name(ldns_pkt_get_rcode(r)), zone);
		goto out;
	}
	if (!resolver && !ldns_pkt_aa(r)) {
		errfmt(why, len, "%s: not authoritative for %s (no AA bit)",
		    srv->name, zone);
		goto out;
	}
	if (resolver && !ldns_pkt_ad(r)) {
		errfmt(why, len, "%s: answers %s SOA without the AD bit: it "
		    "does not validate the zone, and the records would never "
		    "be seen validated (a validating resolver, or "
		    "trust_anchor_file, is needed)", srv->name, zone);
		goto out;
	}
	rc = 0;
out:
	ldns_pkt_free(q);
	ldns_pkt_free(r);
	return rc;
}

static int online_servers(const struct roll_service *, const char *,
    struct sbuf *, char *, size_t);
static int online_other(const struct roll_service *, struct sbuf *, char *,
    size_t);

static int
online_service(const struct roll_service *s, struct sbuf *report,
    char *why, size_t len)
{
	struct zone_server primary;
	struct zone_tsig key = { 0 };
	char *zone = NULL, *owner;
	int rc = -1;

	if (!roll_pub_is_rfc2136(s))
		return online_other(s, report, why, len);
	if (zone_server_parse(s->dns.primary, &primary, why, len) == -1 ||
	    zone_tsig_load(s->dns.tsig_key_file, &key, why, len) == -1)
		goto out;
	if (s->dns.zone != NULL)
		zone = strdup(s->dns.zone);
	else {
		if ((owner = zone_tlsa_owner(s->port, "tcp", s->hosts[0], why,
		    len)) == NULL)
			goto out;
		zone = zone_find_apex(&primary, owner, 0, &key, &online_xfer,
		    why, len);
		free(owner);
	}
	if (zone == NULL)
		goto out;
	if (ask_soa(&primary, zone, &key, 0, why, len) == -1)
		goto out;
	sbuf_printf(report, "service %s: primary %s: signed SOA read of %s "
	    "with key %s: ok\n", s->name, primary.name, zone, key.name);
	rc = online_servers(s, zone, report, why, len);
out:
	free(zone);
	zone_tsig_free(&key);
	return rc;
}

/* The check servers answer for zone with AA; the resolver with AD. */
static int
online_servers(const struct roll_service *s, const char *zone,
    struct sbuf *report, char *why, size_t len)
{
	struct zone_server srv, resolver;
	size_t i;

	for (i = 0; i < s->dns.ncheck_servers; i++) {
		if (zone_server_parse(s->dns.check_servers[i], &srv, why,
		    len) == -1 || ask_soa(&srv, zone, NULL, 0, why, len) == -1)
			return -1;
		sbuf_printf(report, "service %s: check server %s: "
		    "authoritative for %s: ok\n", s->name, srv.name, zone);
	}
	if (s->dns.resolver != NULL) {
		if (zone_server_parse(s->dns.resolver, &resolver, why,
		    len) == -1 || ask_soa(&resolver, zone, NULL, 1, why,
		    len) == -1)
			return -1;
		sbuf_printf(report, "service %s: resolver %s: validates %s "
		    "(AD): ok\n", s->name, resolver.name, zone);
	}
	return 0;
}

/*
 * exec and pdns-api: one read of the first host's owner through the
 * backend; the primary, when one is given, answers for the zone (AA,
 * no key); then the servers and the resolver as for rfc2136.
 */
static int
online_other(const struct roll_service *s, struct sbuf *report, char *why,
    size_t len)
{
	struct zone_server primary;
	struct zone_rrset cur = { 0 };
	struct roll_pub pub;
	char *owner;
	int r;

	if ((owner = zone_tlsa_owner(s->port, "tcp", s->hosts[0], why,
	    len)) == NULL)
		return -1;
	if (roll_pub_open(s, &pub, why, len) == -1) {
		free(owner);
		return -1;
	}
	r = roll_pub_read(&pub, owner, &cur, why, len);
	if (r == 0)
		sbuf_printf(report, "service %s: %s: read of %s: %zu "
		    "record(s): ok\n", s->name, pub.name, owner, cur.n);
	roll_pub_close(&pub);
	zone_rrset_free(&cur);
	free(owner);
	if (r == -1)
		return -1;
	if (s->dns.primary != NULL) {
		if (zone_server_parse(s->dns.primary, &primary, why, len) ==
		    -1 || ask_soa(&primary, s->dns.zone, NULL, 0, why, len) ==
		    -1)
			return -1;
		sbuf_printf(report, "service %s: primary %s: authoritative "
		    "for %s: ok\n", s->name, primary.name, s->dns.zone);
	}
	return online_servers(s, s->dns.zone, report, why, len);
}

int
roll_validate_online(const struct roll_config *c, struct sbuf *report,
    char *err, size_t errlen)
{
	char why[ERRBUF_LEN];
	size_t i;

	if (roll_validate(c, err, errlen) == -1)
		return -1;
	for (i = 0; i < c->nservices; i++)
		if (online_service(&c->services[i], report, why,
		    sizeof(why)) == -1) {
			errfmt(err, errlen, "%s: service %s: %s", c->path,
			    c->services[i].name, why);
			return -1;
		}
	return 0;
}
