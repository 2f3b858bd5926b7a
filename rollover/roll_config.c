/*
 * roll_config.c: strict YAML configuration through libyaml's event API.
 *
 * A small recursive-descent reader over events: every value is checked
 * where it is read, so each error carries the position of the offending
 * node.  Anchors, aliases and tags are refused outright: a config that
 * can refer to itself is a config whose meaning a reviewer cannot see.
 */
#include <sys/stat.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "fileio.h"
#include "log.h"
#include "roll_config.h"
#include "tlsa_parse.h"
#include "zone_net.h"
#include "zone_rr.h"
#include "zone_sign.h"

/* Bits of roll_dns.set. */
enum {
	DNS_ZONE = 1 << 0, DNS_PRIMARY = 1 << 1, DNS_TSIG = 1 << 2,
	DNS_CHECK = 1 << 3, DNS_RESOLVER = 1 << 4, DNS_TTL = 1 << 5,
	DNS_TA = 1 << 6, DNS_MINHOLD = 1 << 7, DNS_MARGIN = 1 << 8,
	DNS_VISWAIT = 1 << 9, DNS_MAXTTL = 1 << 10, DNS_BACKEND = 1 << 11,
	DNS_EXEC = 1 << 12, DNS_EXECTO = 1 << 13, DNS_APIURL = 1 << 14,
	DNS_APIKEY = 1 << 15, DNS_APISRV = 1 << 16
};

struct reader {
	yaml_parser_t	 p;
	yaml_event_t	 ev;
	int		 have;		/* ev holds an event */
	const char	*path;
	char		*err;
	size_t		 errlen;
	int		 failed;
};

static int
fail(struct reader *r, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct reader *r, const yaml_mark_t *m, const char *fmt, ...)
{
	char msg[ERRBUF_LEN];
	va_list ap;

	if (r->failed)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (m != NULL)
		errfmt(r->err, r->errlen, "%s:%zu:%zu: %s", r->path,
		    m->line + 1, m->column + 1, msg);
	else
		errfmt(r->err, r->errlen, "%s: %s", r->path, msg);
	r->failed = 1;
	return -1;
}

/* Next event into r->ev (the previous one is freed). */
static int
next(struct reader *r)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;

	if (r->have)
		yaml_event_delete(&r->ev);
	r->have = 0;
	if (!yaml_parser_parse(&r->p, &r->ev)) {
		yaml_mark_t m = r->p.problem_mark;

		return fail(r, &m, "YAML syntax: %s",
		    r->p.problem != NULL ? r->p.problem : "error");
	}
	r->have = 1;
	switch (r->ev.type) {
	case YAML_ALIAS_EVENT:
		return fail(r, &r->ev.start_mark, "aliases (*%s) are not "
		    "allowed", r->ev.data.alias.anchor);
	case YAML_SCALAR_EVENT:
		anchor = r->ev.data.scalar.anchor;
		tag = r->ev.data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = r->ev.data.sequence_start.anchor;
		tag = r->ev.data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = r->ev.data.mapping_start.anchor;
		tag = r->ev.data.mapping_start.tag;
		break;
	default:
		break;
	}
	if (anchor != NULL)
		return fail(r, &r->ev.start_mark, "anchors (&%s) are not "
		    "allowed", anchor);
	if (tag != NULL)
		return fail(r, &r->ev.start_mark, "tags (%s) are not allowed",
		    tag);
	return 0;
}

static const char *
evname(yaml_event_type_t t)
{
	switch (t) {
	case YAML_SCALAR_EVENT: return "a scalar";
	case YAML_SEQUENCE_START_EVENT: return "a list";
	case YAML_MAPPING_START_EVENT: return "a mapping";
	default: return "something else";
	}
}

/* The current event must be a scalar: a copy of its text. */
static char *
scalar(struct reader *r, const char *what)
{
	char *s;

	if (r->ev.type != YAML_SCALAR_EVENT) {
		fail(r, &r->ev.start_mark, "%s: want a string, not %s", what,
		    evname(r->ev.type));
		return NULL;
	}
	if (r->ev.data.scalar.length == 0 ||
	    memchr(r->ev.data.scalar.value, '\0',
	    r->ev.data.scalar.length) != NULL) {
		fail(r, &r->ev.start_mark, "%s: empty or binary value", what);
		return NULL;
	}
	if ((s = strdup((const char *)r->ev.data.scalar.value)) == NULL)
		fail(r, NULL, "out of memory");
	return s;
}

/* Plain scalars that YAML 1.1 would read as booleans or null. */
static int
yaml11_special(const char *s)
{
	static const char *const words[] = { "yes", "no", "on", "off", "y",
	    "n", "true", "false", "null", "~", NULL };
	int i;

	for (i = 0; words[i] != NULL; i++)
		if (strcasecmp(s, words[i]) == 0)
			return 1;
	return 0;
}

static int
str_value(struct reader *r, const char *what, char **out)
{
	char *s;

	if (*out != NULL)
		return fail(r, &r->ev.start_mark, "%s given twice", what);
	if ((s = scalar(r, what)) == NULL)
		return -1;
	if (r->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    yaml11_special(s)) {
		free(s);
		return fail(r, &r->ev.start_mark, "%s: \"%s\" is a boolean or "
		    "null in YAML 1.1; quote it if you mean the string", what,
		    (const char *)r->ev.data.scalar.value);
	}
	*out = s;
	return 0;
}

static int
uint_value(struct reader *r, const char *what, unsigned long max,
    unsigned long *out)
{
	const char *s;
	char *end;

	if (r->ev.type != YAML_SCALAR_EVENT ||
	    r->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return fail(r, &r->ev.start_mark, "%s: want a plain number",
		    what);
	s = (const char *)r->ev.data.scalar.value;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end != '\0' || errno != 0 ||
	    *out > max)
		return fail(r, &r->ev.start_mark, "%s: \"%s\" is not a number "
		    "from 0 to %lu", what, s, max);
	return 0;
}

static int
duration_value(struct reader *r, const char *what, uint32_t *out)
{
	if (r->ev.type != YAML_SCALAR_EVENT ||
	    zone_parse_duration((const char *)r->ev.data.scalar.value, out)
	    == -1)
		return fail(r, &r->ev.start_mark, "%s: want a duration such as "
		    "3600, 90m, 2h or 1d", what);
	return 0;
}

/*
 * A duration from min to max seconds, else "WHAT: RANGE" at the value
 * (range says what is wanted: "want 1s to 1h", "must be at least 2s").
 */
static int
duration_in(struct reader *r, const char *what, uint32_t min, uint32_t max,
    const char *range, uint32_t *out)
{
	yaml_mark_t m = r->ev.start_mark;

	if (duration_value(r, what, out) == -1)
		return -1;
	if (*out < min || *out > max)
		return fail(r, &m, "%s: %s", what, range);
	return 0;
}

/*
 * A list of strings (the current event is its start).  marks (if not
 * NULL) gets a new array with each item's position, for errors that
 * name the item.  Plain yes/no/on/off items are refused as in str_value.
 */
static int
str_list(struct reader *r, const char *what, char ***out, size_t *n,
    yaml_mark_t **marks)
{
	char **v, *s;
	yaml_mark_t *mv;

	if (*out != NULL)
		return fail(r, &r->ev.start_mark, "%s given twice", what);
	if (r->ev.type != YAML_SEQUENCE_START_EVENT)
		return fail(r, &r->ev.start_mark, "%s: want a list, not %s",
		    what, evname(r->ev.type));
	if ((*out = calloc(1, sizeof(char *))) == NULL)
		return fail(r, NULL, "out of memory");
	*n = 0;
	for (;;) {
		if (next(r) == -1)
			return -1;
		if (r->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if ((s = scalar(r, what)) == NULL)
			return -1;
		if (r->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    yaml11_special(s)) {
			fail(r, &r->ev.start_mark, "%s: \"%s\" is a boolean or "
			    "null in YAML 1.1; quote it if you mean the string",
			    what, s);
			free(s);
			return -1;
		}
		if ((v = reallocarray(*out, *n + 2, sizeof(char *))) == NULL) {
			free(s);
			return fail(r, NULL, "out of memory");
		}
		*out = v;
		if (marks != NULL) {
			if ((mv = reallocarray(*marks, *n + 1,
			    sizeof(*mv))) == NULL) {
				free(s);
				return fail(r, NULL, "out of memory");
			}
			*marks = mv;
			mv[*n] = r->ev.start_mark;
		}
		v[(*n)++] = s;
		v[*n] = NULL;
	}
}

/*
 * Iterate a mapping's keys: the current event is MAPPING_START; each
 * call leaves the key in *key (kept in seen[], freed with it) with the
 * reader on
 * the value's first event.  Returns 1 with a key, 0 at the end, -1.
 * Duplicate keys are caught against seen[].
 */
static int
map_next(struct reader *r, char **seen, size_t nseen_max, size_t *nseen,
    char **key, yaml_mark_t *keymark)
{
	size_t i;

	*key = NULL;
	if (next(r) == -1)
		return -1;
	if (r->ev.type == YAML_MAPPING_END_EVENT)
		return 0;
	if (r->ev.type != YAML_SCALAR_EVENT)
		return fail(r, &r->ev.start_mark, "keys must be plain strings");
	*keymark = r->ev.start_mark;
	if ((*key = strdup((const char *)r->ev.data.scalar.value)) == NULL)
		return fail(r, NULL, "out of memory");
	for (i = 0; i < *nseen; i++)
		if (strcmp(seen[i], *key) == 0) {
			fail(r, keymark, "duplicate key \"%s\"", *key);
			free(*key);
			*key = NULL;
			return -1;
		}
	if (*nseen >= nseen_max) {
		fail(r, keymark, "too many keys in one mapping");
		free(*key);
		*key = NULL;
		return -1;
	}
	seen[(*nseen)++] = *key;	/* freed by the caller's free_seen */
	if (next(r) == -1)
		return -1;
	return 1;
}

/* Skip nothing: every key must be known. */
static int
unknown_key(struct reader *r, const yaml_mark_t *m, const char *key,
    const char *where)
{
	return fail(r, m, "unknown key \"%s\" in %s", key, where);
}

static void
free_seen(char **seen, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(seen[i]);
}

static int
check_server(struct reader *r, const yaml_mark_t *m, const char *what,
    const char *s)
{
	struct zone_server srv;
	char e[ERRBUF_LEN];

	if (zone_server_parse(s, &srv, e, sizeof(e)) == -1)
		return fail(r, m, "%s: %s", what, e);
	return 0;
}

static int
read_dns(struct reader *r, struct roll_dns *d, const char *where)
{
	char *seen[32], *key;
	size_t nseen = 0, i;
	yaml_mark_t km;
	unsigned long v;
	int rc = -1, k;

	if (r->ev.type != YAML_MAPPING_START_EVENT)
		return fail(r, &r->ev.start_mark, "%s: want a mapping", where);
	while ((k = map_next(r, seen, 32, &nseen, &key, &km)) == 1) {
		yaml_mark_t vm = r->ev.start_mark;

		if (strcmp(key, "zone") == 0) {
			char *z = NULL, e[ERRBUF_LEN];

			if (str_value(r, "zone", &z) == -1)
				goto out;
			d->zone = zone_name_canon(z, e, sizeof(e));
			free(z);
			if (d->zone == NULL) {
				fail(r, &vm, "zone: %s", e);
				goto out;
			}
			d->set |= DNS_ZONE;
		} else if (strcmp(key, "primary") == 0) {
			if (str_value(r, "primary", &d->primary) == -1 ||
			    check_server(r, &vm, "primary", d->primary) == -1)
				goto out;
			d->set |= DNS_PRIMARY;
		} else if (strcmp(key, "tsig_key_file") == 0) {
			if (str_value(r, key, &d->tsig_key_file) == -1)
				goto out;
			d->set |= DNS_TSIG;
		} else if (strcmp(key, "backend") == 0) {
			if (str_value(r, key, &d->backend) == -1)
				goto out;
			if (strcmp(d->backend, "rfc2136") != 0 &&
			    strcmp(d->backend, "exec") != 0 &&
			    strcmp(d->backend, "pdns-api") != 0) {
				fail(r, &vm, "backend: \"%s\": want rfc2136, "
				    "exec or pdns-api", d->backend);
				goto out;
			}
			d->set |= DNS_BACKEND;
		} else if (strcmp(key, "exec") == 0) {
			yaml_mark_t *im = NULL;

			if (str_list(r, key, &d->exec, &d->nexec, &im) == -1) {
				free(im);
				goto out;
			}
			if (d->nexec == 0 || d->exec[0][0] != '/') {
				fail(r, d->nexec > 0 ? &im[0] : &vm, "exec: want "
				    "a command as a list, its first item an "
				    "absolute path (it is run without a shell)");
				free(im);
				goto out;
			}
			free(im);
			d->set |= DNS_EXEC;
		} else if (strcmp(key, "exec_timeout") == 0) {
			if (duration_in(r, key, 1, 3600, "want 1s to 1h",
			    &d->exec_timeout) == -1)
				goto out;
			d->set |= DNS_EXECTO;
		} else if (strcmp(key, "api_url") == 0) {
			if (str_value(r, key, &d->api_url) == -1)
				goto out;
			if ((strncmp(d->api_url, "http://", 7) != 0 &&
			    strncmp(d->api_url, "https://", 8) != 0) ||
			    strlen(d->api_url) > 512 ||
			    strpbrk(d->api_url, " \t\r\n?#") != NULL) {
				fail(r, &vm, "api_url: want http://HOST[:PORT] "
				    "or https://HOST[:PORT], without a query");
				goto out;
			}
			d->set |= DNS_APIURL;
		} else if (strcmp(key, "api_key_file") == 0) {
			if (str_value(r, key, &d->api_key_file) == -1)
				goto out;
			d->set |= DNS_APIKEY;
		} else if (strcmp(key, "api_server_id") == 0) {
			size_t j;

			if (str_value(r, key, &d->api_server_id) == -1)
				goto out;
			for (j = 0; d->api_server_id[j] != '\0'; j++)
				if (!isalnum((unsigned char)d->api_server_id[j]) &&
				    strchr("-_.", d->api_server_id[j]) == NULL)
					break;
			if (j == 0 || d->api_server_id[j] != '\0' || j > 64) {
				fail(r, &vm, "api_server_id: want letters, "
				    "digits, '-', '_' or '.'");
				goto out;
			}
			d->set |= DNS_APISRV;
		} else if (strcmp(key, "check_servers") == 0) {
			yaml_mark_t *im = NULL;

			if (str_list(r, key, &d->check_servers,
			    &d->ncheck_servers, &im) == -1) {
				free(im);
				goto out;
			}
			for (i = 0; i < d->ncheck_servers; i++)
				if (check_server(r, &im[i], key,
				    d->check_servers[i]) == -1) {
					free(im);
					goto out;
				}
			free(im);
			d->set |= DNS_CHECK;
		} else if (strcmp(key, "resolver") == 0) {
			if (str_value(r, key, &d->resolver) == -1 ||
			    check_server(r, &vm, key, d->resolver) == -1)
				goto out;
			d->set |= DNS_RESOLVER;
		} else if (strcmp(key, "trust_anchor_file") == 0) {
			if (r->ev.type == YAML_SCALAR_EVENT &&
			    r->ev.data.scalar.length == 0) {
				d->set |= DNS_TA;	/* "" : none */
				continue;
			}
			if (str_value(r, key, &d->trust_anchor_file) == -1)
				goto out;
			d->set |= DNS_TA;
		} else if (strcmp(key, "ttl") == 0) {
			if (uint_value(r, key, 604800, &v) == -1)
				goto out;
			if (v == 0) {
				fail(r, &vm, "ttl: must be more than 0");
				goto out;
			}
			d->ttl = (uint32_t)v;
			d->set |= DNS_TTL;
		} else if (strcmp(key, "min_hold") == 0) {
			if (duration_value(r, key, &d->min_hold) == -1)
				goto out;
			d->set |= DNS_MINHOLD;
		} else if (strcmp(key, "hold_margin") == 0) {
			if (duration_value(r, key, &d->hold_margin) == -1)
				goto out;
			d->set |= DNS_MARGIN;
		} else if (strcmp(key, "visible_timeout") == 0) {
			if (duration_in(r, key, 1, UINT32_MAX,
			    "must be at least 1s", &d->visible_timeout) == -1)
				goto out;
			d->set |= DNS_VISWAIT;
		} else if (strcmp(key, "max_ttl") == 0) {
			/* The largest TTL from DNS answers the hold uses. */
			if (duration_in(r, key, 1, 0x7fffffff,
			    "want 1s to 2147483647s", &d->max_ttl) == -1)
				goto out;
			d->set |= DNS_MAXTTL;
		} else {
			unknown_key(r, &km, key, where);
			goto out;
		}
		/* the key's memory is in seen[] */
	}
	if (k == 0)
		rc = 0;
out:
	free_seen(seen, nseen);
	return rc;
}

static int
read_records(struct reader *r, struct roll_service *s)
{
	char e[ERRBUF_LEN], *spec;

	if (r->ev.type != YAML_SEQUENCE_START_EVENT)
		return fail(r, &r->ev.start_mark, "records: want a list such as "
		    "[\"3 1 1\", \"2 1 1\"]");
	for (;;) {
		if (next(r) == -1)
			return -1;
		if (r->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if ((spec = scalar(r, "records")) == NULL)
			return -1;
		if (s->nspecs == 16) {
			free(spec);
			return fail(r, &r->ev.start_mark, "records: at most 16");
		}
		if (tlsa_spec_parse(spec, &s->specs[s->nspecs], e,
		    sizeof(e)) == -1 ||
		    !tlsa_spec_computable(&s->specs[s->nspecs], e,
		    sizeof(e))) {
			free(spec);
			return fail(r, &r->ev.start_mark, "records: %s", e);
		}
		free(spec);
		if (s->specs[s->nspecs].usage <= TLSA_USAGE_PKIX_EE)
			return fail(r, &r->ev.start_mark, "records: usages 0 "
			    "and 1 are ignored by SMTP clients (RFC 7672 "
			    "section 3.1.3)");
		s->nspecs++;
	}
	if (s->nspecs == 0)
		return fail(r, &r->ev.start_mark, "records: empty list");
	return 0;
}

static int
valid_name(const char *s)
{
	if (*s == '\0' || strlen(s) > 64 || *s == '.' || *s == '-')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' &&
		    *s != '.')
			return 0;
	return 1;
}

static void
free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

#define ROLL_MAX_HOSTADDRS 32	/* as many as the live check probes */

/*
 * addresses: { HOST: [ADDR, ...], ... }: numeric addresses only, each
 * kept in canonical form; that every HOST is one of the service's
 * hosts is checked once the whole service is read.
 */
static int
read_addresses(struct reader *r, struct roll_service *s, yaml_mark_t **marks)
{
	struct roll_hostaddrs *nv, *ha;
	yaml_mark_t km, *mv, *im = NULL;
	unsigned char bin[16];
	char *seen[64], *key, *h, e[ERRBUF_LEN], canon[INET6_ADDRSTRLEN];
	size_t nseen = 0, i, j;
	int rc = -1, k, af;

	if (s->haddrs != NULL)
		return fail(r, &r->ev.start_mark, "addresses given twice");
	if (r->ev.type != YAML_MAPPING_START_EVENT)
		return fail(r, &r->ev.start_mark, "addresses: want a mapping "
		    "of host names to lists of addresses");
	while ((k = map_next(r, seen, 64, &nseen, &key, &km)) == 1) {
		if ((h = zone_name_canon(key, e, sizeof(e))) == NULL) {
			fail(r, &km, "addresses: %s", e);
			goto out;
		}
		for (i = 0; i < s->nhaddrs; i++)
			if (strcmp(s->haddrs[i].host, h) == 0) {
				fail(r, &km, "addresses: %s given twice", h);
				free(h);
				goto out;
			}
		if ((nv = reallocarray(s->haddrs, s->nhaddrs + 1,
		    sizeof(*nv))) == NULL || (mv = reallocarray(*marks,
		    s->nhaddrs + 1, sizeof(*mv))) == NULL) {
			if (nv != NULL)
				s->haddrs = nv;
			free(h);
			fail(r, NULL, "out of memory");
			goto out;
		}
		s->haddrs = nv;
		*marks = mv;
		mv[s->nhaddrs] = km;
		ha = &nv[s->nhaddrs++];
		memset(ha, 0, sizeof(*ha));
		ha->host = h;
		if (str_list(r, "addresses", &ha->addrs, &ha->naddrs,
		    &im) == -1)
			goto out;
		if (ha->naddrs == 0 || ha->naddrs > ROLL_MAX_HOSTADDRS) {
			fail(r, &km, "addresses: %s: want 1 to %d addresses",
			    h, ROLL_MAX_HOSTADDRS);
			goto out;
		}
		for (i = 0; i < ha->naddrs; i++) {
			af = strchr(ha->addrs[i], ':') != NULL ? AF_INET6 :
			    AF_INET;
			if (inet_pton(af, ha->addrs[i], bin) != 1 ||
			    inet_ntop(af, bin, canon, sizeof(canon)) == NULL) {
				fail(r, &im[i], "addresses: %s: \"%s\" is not "
				    "a numeric IPv4 or IPv6 address", h,
				    ha->addrs[i]);
				goto out;
			}
			for (j = 0; j < i; j++)
				if (strcmp(ha->addrs[j], canon) == 0) {
					fail(r, &im[i], "addresses: %s: %s "
					    "twice", h, canon);
					goto out;
				}
			free(ha->addrs[i]);
			if ((ha->addrs[i] = strdup(canon)) == NULL) {
				fail(r, NULL, "out of memory");
				goto out;
			}
		}
		free(im);
		im = NULL;
	}
	if (k == 0)
		rc = 0;
out:
	free(im);
	free_seen(seen, nseen);
	return rc;
}

/* A node's name: lower-case letters, digits, '.', '_' and '-'. */
static int
valid_node_name(const char *s)
{
	if (*s == '\0' || strlen(s) > 64 || *s == '.' || *s == '-')
		return 0;
	for (; *s != '\0'; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) &&
		    *s != '-' && *s != '_' && *s != '.')
			return 0;
	return 1;
}

/* An argv list whose first item is an absolute path (what names it). */
static int
argv_value(struct reader *r, const char *what, char ***out, size_t *n)
{
	yaml_mark_t vm = r->ev.start_mark, *im = NULL;

	if (str_list(r, what, out, n, &im) == -1) {
		free(im);
		return -1;
	}
	if (*n == 0 || (*out)[0][0] != '/') {
		fail(r, *n > 0 ? &im[0] : &vm, "%s: want a command as a list, "
		    "its first item an absolute path (it is run without a "
		    "shell)", what);
		free(im);
		return -1;
	}
	free(im);
	return 0;
}

/* One entry of nodes: (the current event is its MAPPING_START). */
static int
read_node(struct reader *r, struct roll_node *nd)
{
	char *seen[16], *key, canon[INET6_ADDRSTRLEN];
	size_t nseen = 0, i, j;
	yaml_mark_t km, start = r->ev.start_mark, *im = NULL;
	unsigned char bin[16];
	int rc = -1, k, af;

	nd->line = (int)start.line + 1;
	nd->column = (int)start.column + 1;
	if (r->ev.type != YAML_MAPPING_START_EVENT)
		return fail(r, &start, "nodes: each entry must be a mapping");
	while ((k = map_next(r, seen, 16, &nseen, &key, &km)) == 1) {
		yaml_mark_t vm = r->ev.start_mark;

		if (strcmp(key, "name") == 0) {
			if (str_value(r, "nodes: name", &nd->name) == -1)
				goto out;
			if (!valid_node_name(nd->name)) {
				fail(r, &vm, "nodes: name: lower-case letters, "
				    "digits, '-', '_' and '.' only");
				goto out;
			}
		} else if (strcmp(key, "deploy_dir") == 0) {
			if (str_value(r, "nodes: deploy_dir",
			    &nd->deploy_dir) == -1)
				goto out;
			if (nd->deploy_dir[0] != '/' ||
			    strlen(nd->deploy_dir) > ROLL_MAX_PATH) {
				fail(r, &vm, "nodes: deploy_dir: want an "
				    "absolute path of at most %d bytes",
				    ROLL_MAX_PATH);
				goto out;
			}
		} else if (strcmp(key, "push") == 0) {
			if (argv_value(r, "nodes: push", &nd->push,
			    &nd->npush) == -1)
				goto out;
		} else if (strcmp(key, "push_timeout") == 0) {
			if (duration_in(r, "nodes: push_timeout", 1, 3600,
			    "want 1s to 1h", &nd->push_timeout) == -1)
				goto out;
		} else if (strcmp(key, "reload") == 0) {
			if (argv_value(r, "nodes: reload", &nd->reload,
			    &nd->nreload) == -1)
				goto out;
		} else if (strcmp(key, "addresses") == 0) {
			if (str_list(r, "nodes: addresses", &nd->addrs,
			    &nd->naddrs, &im) == -1)
				goto out;
			if (nd->naddrs == 0 || nd->naddrs > ROLL_MAX_HOSTADDRS) {
				fail(r, &vm, "nodes: addresses: want 1 to %d "
				    "addresses", ROLL_MAX_HOSTADDRS);
				goto out;
			}
			for (i = 0; i < nd->naddrs; i++) {
				af = strchr(nd->addrs[i], ':') != NULL ?
				    AF_INET6 : AF_INET;
				if (inet_pton(af, nd->addrs[i], bin) != 1 ||
				    inet_ntop(af, bin, canon,
				    sizeof(canon)) == NULL) {
					fail(r, &im[i], "nodes: addresses: "
					    "\"%s\" is not a numeric IPv4 or "
					    "IPv6 address", nd->addrs[i]);
					goto out;
				}
				for (j = 0; j < i; j++)
					if (strcmp(nd->addrs[j], canon) == 0) {
						fail(r, &im[i], "nodes: "
						    "addresses: %s twice",
						    canon);
						goto out;
					}
				free(nd->addrs[i]);
				if ((nd->addrs[i] = strdup(canon)) == NULL) {
					fail(r, NULL, "out of memory");
					goto out;
				}
			}
		} else {
			unknown_key(r, &km, key, "a node");
			goto out;
		}
	}
	if (k != 0)
		goto out;
	if (nd->name == NULL || nd->naddrs == 0 ||
	    (nd->deploy_dir == NULL) == (nd->push == NULL)) {
		fail(r, &start, "nodes: a node needs name, addresses and "
		    "either deploy_dir or push (not both)%s", nd->name ==
		    NULL ? " (this one has no name)" : "");
		goto out;
	}
	if (nd->push_timeout != 0 && nd->push == NULL) {
		fail(r, &start, "nodes: node \"%s\": push_timeout without "
		    "push", nd->name);
		goto out;
	}
	if (nd->push_timeout == 0)
		nd->push_timeout = 300;
	rc = 0;
out:
	free(im);
	free_seen(seen, nseen);
	return rc;
}

/* nodes: [ {name, deploy_dir | push, reload, addresses}, ... ] */
static int
read_nodes(struct reader *r, struct roll_service *s)
{
	yaml_mark_t vm = r->ev.start_mark;
	struct roll_node *nv;
	size_t i;

	if (s->nodes != NULL)
		return fail(r, &vm, "nodes given twice");
	if (r->ev.type != YAML_SEQUENCE_START_EVENT)
		return fail(r, &vm, "nodes: want a list, not %s",
		    evname(r->ev.type));
	for (;;) {
		if (next(r) == -1)
			return -1;
		if (r->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (s->nnodes == ROLL_MAX_NODES)
			return fail(r, &r->ev.start_mark, "nodes: at most %d",
			    ROLL_MAX_NODES);
		if ((nv = reallocarray(s->nodes, s->nnodes + 1,
		    sizeof(*nv))) == NULL)
			return fail(r, NULL, "out of memory");
		s->nodes = nv;
		memset(&nv[s->nnodes], 0, sizeof(*nv));
		s->nnodes++;
		if (read_node(r, &nv[s->nnodes - 1]) == -1)
			return -1;
		for (i = 0; i + 1 < s->nnodes; i++)
			if (strcmp(nv[i].name, nv[s->nnodes - 1].name) == 0) {
				yaml_mark_t m = { 0, 0, 0 };

				m.line = (size_t)nv[s->nnodes - 1].line - 1;
				m.column = (size_t)nv[s->nnodes - 1].column - 1;
				return fail(r, &m, "nodes: node \"%s\" twice",
				    nv[i].name);
			}
	}
	if (s->nnodes == 0)
		return fail(r, &vm, "nodes: empty list");
	return 0;
}

char **
roll_service_addrs(const struct roll_service *s, const char *host, size_t *n)
{
	size_t i;

	for (i = 0; i < s->nhaddrs; i++)
		if (strcmp(s->haddrs[i].host, host) == 0) {
			*n = s->haddrs[i].naddrs;
			return s->haddrs[i].addrs;
		}
	*n = 0;
	return NULL;
}

static int
read_service(struct reader *r, struct roll_service *s)
{
	char *seen[32], *key, e[ERRBUF_LEN], *h;
	size_t nseen = 0, i, j;
	yaml_mark_t km, start = r->ev.start_mark, *am = NULL;
	unsigned long v;
	int rc = -1, k, have_retries = 0;

	s->line = (int)start.line + 1;
	s->column = (int)start.column + 1;
	if (r->ev.type != YAML_MAPPING_START_EVENT)
		return fail(r, &r->ev.start_mark, "services: each entry must be "
		    "a mapping");
	while ((k = map_next(r, seen, 32, &nseen, &key, &km)) == 1) {
		yaml_mark_t vm = r->ev.start_mark;

		if (strcmp(key, "name") == 0) {
			if (str_value(r, key, &s->name) == -1)
				goto out;
			if (!valid_name(s->name)) {
				fail(r, &vm, "name: letters, digits, '-', '_' "
				    "and '.' only (it names a directory)");
				goto out;
			}
		} else if (strcmp(key, "hosts") == 0) {
			yaml_mark_t *im = NULL;
			unsigned char a[16];

			if (str_list(r, key, &s->hosts, &s->nhosts, &im) == -1) {
				free(im);
				goto out;
			}
			for (i = 0; i < s->nhosts; i++) {
				if (inet_pton(AF_INET, s->hosts[i], a) == 1 ||
				    inet_pton(AF_INET6, s->hosts[i], a) == 1) {
					fail(r, &im[i], "hosts: \"%s\" is an "
					    "address; TLSA records are named "
					    "after the MX host name",
					    s->hosts[i]);
					free(im);
					goto out;
				}
				/* IDN hosts: A-labels, as they go into DNS. */
				if ((h = tlsa_host_ascii(s->hosts[i], e,
				    sizeof(e))) == NULL) {
					fail(r, &im[i], "hosts: %s", e);
					free(im);
					goto out;
				}
				free(s->hosts[i]);
				s->hosts[i] = h;
				if ((h = zone_name_canon(s->hosts[i], e,
				    sizeof(e))) == NULL) {
					fail(r, &im[i], "hosts: %s", e);
					free(im);
					goto out;
				}
				free(s->hosts[i]);
				s->hosts[i] = h;
			}
			free(im);
		} else if (strcmp(key, "addresses") == 0) {
			if (read_addresses(r, s, &am) == -1)
				goto out;
		} else if (strcmp(key, "port") == 0) {
			if (uint_value(r, key, 65535, &v) == -1)
				goto out;
			if (v == 0) {
				fail(r, &vm, "port: must be 1-65535");
				goto out;
			}
			s->port = (unsigned)v;
		} else if (strcmp(key, "records") == 0) {
			if (s->nspecs > 0) {
				fail(r, &vm, "records given twice");
				goto out;
			}
			if (read_records(r, s) == -1)
				goto out;
		} else if (strcmp(key, "issuers") == 0) {
			if (str_list(r, key, &s->issuers, &s->nissuers,
			    NULL) == -1)
				goto out;
		} else if (strcmp(key, "deploy_dir") == 0) {
			if (str_value(r, key, &s->deploy_dir) == -1)
				goto out;
			if (s->deploy_dir[0] != '/' ||
			    strlen(s->deploy_dir) > ROLL_MAX_PATH) {
				fail(r, &vm, "deploy_dir: want an absolute path "
				    "of at most %d bytes", ROLL_MAX_PATH);
				goto out;
			}
		} else if (strcmp(key, "reload") == 0) {
			yaml_mark_t *im = NULL;

			if (str_list(r, key, &s->reload, &s->nreload,
			    &im) == -1) {
				free(im);
				goto out;
			}
			if (s->nreload == 0 || s->reload[0][0] != '/') {
				fail(r, s->nreload > 0 ? &im[0] : &vm, "reload: "
				    "want a command as a list, its first item "
				    "an absolute path (it is run without a "
				    "shell)");
				free(im);
				goto out;
			}
			free(im);
		} else if (strcmp(key, "reload_timeout") == 0) {
			uint32_t t;

			if (duration_in(r, key, 1, 3600, "want 1s to 1h",
			    &t) == -1)
				goto out;
			s->reload_timeout = t;
		} else if (strcmp(key, "key_type") == 0) {
			if (str_value(r, key, &s->key_type) == -1)
				goto out;
			if (strcmp(s->key_type, "ec256") &&
			    strcmp(s->key_type, "ec384") &&
			    strcmp(s->key_type, "rsa2048") &&
			    strcmp(s->key_type, "rsa3072") &&
			    strcmp(s->key_type, "rsa4096")) {
				fail(r, &vm, "key_type: want ec256, ec384, "
				    "rsa2048, rsa3072 or rsa4096");
				goto out;
			}
		} else if (strcmp(key, "certificates") == 0) {
			char **cv = NULL;
			size_t nv = 0, a, b;

			if (str_list(r, key, &cv, &nv, NULL) == -1) {
				free_list(cv, nv);
				goto out;
			}
			for (a = 0; a < nv; a++) {
				if (strcmp(cv[a], "ecdsa") && strcmp(cv[a], "rsa") &&
				    strcmp(cv[a], "eddsa")) {
					fail(r, &vm, "certificates: want ecdsa, "
					    "rsa and/or eddsa, not \"%s\"", cv[a]);
					break;
				}
				for (b = 0; b < a; b++)
					if (strcmp(cv[a], cv[b]) == 0) {
						fail(r, &vm, "certificates: %s "
						    "twice", cv[a]);
						break;
					}
				if (r->failed)
					break;
				snprintf(s->slots[a], sizeof(s->slots[a]), "%s",
				    cv[a]);
			}
			if (!r->failed && nv == 0)
				fail(r, &vm, "certificates: empty list");
			s->nslots = (int)nv;
			free_list(cv, nv);
			if (r->failed)
				goto out;
		} else if (strcmp(key, "dns") == 0) {
			if (read_dns(r, &s->dns, "the service's dns") == -1)
				goto out;
		} else if (strcmp(key, "nodes") == 0) {
			if (read_nodes(r, s) == -1)
				goto out;
		} else if (strcmp(key, "node_retries") == 0) {
			if (uint_value(r, key, 100, &v) == -1)
				goto out;
			s->node_retries = (unsigned)v;
			have_retries = 1;
		} else {
			unknown_key(r, &km, key, "a service");
			goto out;
		}
	}
	if (k != 0)
		goto out;
	if (s->nnodes > 0 && (s->deploy_dir != NULL || s->reload != NULL)) {
		fail(r, &start, "service \"%s\": nodes and a service-level "
		    "deploy_dir or reload exclude each other (each node has "
		    "its own)", s->name != NULL ? s->name : "?");
		goto out;
	}
	if (s->nnodes == 0 && have_retries) {
		fail(r, &start, "service \"%s\": node_retries without nodes",
		    s->name != NULL ? s->name : "?");
		goto out;
	}
	if (s->name == NULL || s->nhosts == 0 || (s->deploy_dir == NULL &&
	    s->nnodes == 0)) {
		fail(r, &start, "a service needs name, hosts and deploy_dir "
		    "(or nodes)%s",
		    s->name != NULL ? "" : " (this one has no name)");
		goto out;
	}
	for (i = 0; i < s->nhaddrs; i++) {
		for (j = 0; j < s->nhosts; j++)
			if (strcmp(s->haddrs[i].host, s->hosts[j]) == 0)
				break;
		if (j == s->nhosts) {
			fail(r, &am[i], "addresses: %s is not one of the "
			    "service's hosts", s->haddrs[i].host);
			goto out;
		}
	}
	if (s->reload_timeout == 0)
		s->reload_timeout = 60;
	if (!have_retries)
		s->node_retries = 3;
	rc = 0;
out:
	free(am);
	free_seen(seen, nseen);
	return rc;
}

static void
free_dns(struct roll_dns *d)
{
	size_t i;

	free(d->zone);
	free(d->primary);
	free(d->tsig_key_file);
	free(d->backend);
	free_list(d->exec, d->nexec);
	free(d->api_url);
	free(d->api_key_file);
	free(d->api_server_id);
	for (i = 0; i < d->ncheck_servers; i++)
		free(d->check_servers[i]);
	free(d->check_servers);
	free(d->resolver);
	free(d->trust_anchor_file);
	memset(d, 0, sizeof(*d));
}

void
roll_config_free(struct roll_config *c)
{
	size_t i, j;

	for (i = 0; i < c->nservices; i++) {
		struct roll_service *s = &c->services[i];

		free(s->name);
		free_list(s->hosts, s->nhosts);
		for (j = 0; j < s->nhaddrs; j++) {
			free(s->haddrs[j].host);
			free_list(s->haddrs[j].addrs, s->haddrs[j].naddrs);
		}
		free(s->haddrs);
		free_list(s->issuers, s->nissuers);
		free(s->deploy_dir);
		free_list(s->reload, s->nreload);
		free(s->key_type);
		free_dns(&s->dns);
		for (j = 0; j < s->nnodes; j++) {
			free(s->nodes[j].name);
			free(s->nodes[j].deploy_dir);
			free_list(s->nodes[j].push, s->nodes[j].npush);
			free_list(s->nodes[j].reload, s->nodes[j].nreload);
			free_list(s->nodes[j].addrs, s->nodes[j].naddrs);
		}
		free(s->nodes);
	}
	free(c->services);
	free(c->path);
	free(c->state_dir);
	free_dns(&c->dns);
	memset(c, 0, sizeof(*c));
}

static char *
dupnull(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* Service dns = its own keys over the global ones; then defaults. */
static int
merge_dns(struct roll_dns *s, const struct roll_dns *g)
{
	size_t i;

	if (!(s->set & DNS_ZONE) && g->zone != NULL &&
	    (s->zone = strdup(g->zone)) == NULL)
		return -1;
	if (!(s->set & DNS_PRIMARY) && (s->primary = dupnull(g->primary)) ==
	    NULL && g->primary != NULL)
		return -1;
	if (!(s->set & DNS_TSIG) && (s->tsig_key_file =
	    dupnull(g->tsig_key_file)) == NULL && g->tsig_key_file != NULL)
		return -1;
	if (!(s->set & DNS_BACKEND) && (s->backend = strdup(g->backend !=
	    NULL ? g->backend : "rfc2136")) == NULL)
		return -1;
	if (!(s->set & DNS_APIURL) && (s->api_url = dupnull(g->api_url)) ==
	    NULL && g->api_url != NULL)
		return -1;
	if (!(s->set & DNS_APIKEY) && (s->api_key_file =
	    dupnull(g->api_key_file)) == NULL && g->api_key_file != NULL)
		return -1;
	if (!(s->set & DNS_APISRV) && (s->api_server_id = strdup(
	    g->api_server_id != NULL ? g->api_server_id : "localhost")) ==
	    NULL)
		return -1;
	if (!(s->set & DNS_EXEC) && g->nexec > 0) {
		if ((s->exec = calloc(g->nexec + 1, sizeof(char *))) == NULL)
			return -1;
		for (i = 0; i < g->nexec; i++)
			if ((s->exec[i] = strdup(g->exec[i])) == NULL)
				return -1;
		s->nexec = g->nexec;
	}
	if (!(s->set & DNS_EXECTO))
		s->exec_timeout = (g->set & DNS_EXECTO) ? g->exec_timeout : 30;
	if (!(s->set & DNS_RESOLVER) && (s->resolver = dupnull(g->resolver))
	    == NULL && g->resolver != NULL)
		return -1;
	if (!(s->set & DNS_TA) && (s->trust_anchor_file =
	    dupnull(g->trust_anchor_file)) == NULL &&
	    g->trust_anchor_file != NULL)
		return -1;
	if (!(s->set & DNS_CHECK) && g->ncheck_servers > 0) {
		if ((s->check_servers = calloc(g->ncheck_servers + 1,
		    sizeof(char *))) == NULL)
			return -1;
		for (i = 0; i < g->ncheck_servers; i++)
			if ((s->check_servers[i] =
			    strdup(g->check_servers[i])) == NULL)
				return -1;
		s->ncheck_servers = g->ncheck_servers;
	}
	if (!(s->set & DNS_TTL))
		s->ttl = (g->set & DNS_TTL) ? g->ttl : 3600;
	if (!(s->set & DNS_MINHOLD))
		s->min_hold = (g->set & DNS_MINHOLD) ? g->min_hold : 3600;
	if (!(s->set & DNS_MARGIN))
		s->hold_margin = (g->set & DNS_MARGIN) ? g->hold_margin : 600;
	if (!(s->set & DNS_VISWAIT))
		s->visible_timeout = (g->set & DNS_VISWAIT) ?
		    g->visible_timeout : 3600;
	if (!(s->set & DNS_MAXTTL))
		s->max_ttl = (g->set & DNS_MAXTTL) ? g->max_ttl : 86400;
	return 0;
}

static int
secret_file_ok(const char *path, const char *what, char *e, size_t elen)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		errfmt(e, elen, "%s: %s", path, strerror(errno));
		return 0;
	}
	if (fileio_owner_check(path, what, e, elen) == -1)
		return 0;
	if ((st.st_mode & 077) != 0) {
		errfmt(e, elen, "%s: %s is accessible by group or "
		    "others (mode %04o); chmod 600 it", path, what,
		    (unsigned)(st.st_mode & 07777));
		return 0;
	}
	return 1;
}

/*
 * What the service's backend needs: rfc2136 a primary and a TSIG key
 * file; exec a program; pdns-api a URL and an API key file; the last
 * two a dns.zone (there is no primary to ask for the SOA).  Key files
 * must be ours and 0600.  0, or -1 (failed through r).
 */
static int
backend_needs(struct reader *r, const yaml_mark_t *sm,
    const struct roll_service *s, char *e, size_t elen)
{
	const struct roll_dns *d = &s->dns;

	if (strcmp(d->backend, "rfc2136") == 0) {
		if (d->primary == NULL || d->tsig_key_file == NULL)
			return fail(r, sm, "service \"%s\": dns.primary and "
			    "dns.tsig_key_file are needed", s->name);
		if (!secret_file_ok(d->tsig_key_file, "TSIG key file", e,
		    elen))
			return fail(r, sm, "service \"%s\": %s", s->name, e);
		return 0;
	}
	if (d->zone == NULL)
		return fail(r, sm, "service \"%s\": backend %s needs "
		    "dns.zone", s->name, d->backend);
	/* Local validation asks the resolver, else the primary. */
	if (d->resolver == NULL && d->primary == NULL)
		return fail(r, sm, "service \"%s\": backend %s without "
		    "dns.resolver needs dns.primary (local validation asks "
		    "it)", s->name, d->backend);
	if (strcmp(d->backend, "exec") == 0) {
		if (d->nexec == 0)
			return fail(r, sm, "service \"%s\": backend exec "
			    "needs dns.exec (the program and its arguments)",
			    s->name);
		return 0;
	}
	if (d->api_url == NULL || d->api_key_file == NULL)
		return fail(r, sm, "service \"%s\": backend pdns-api needs "
		    "dns.api_url and dns.api_key_file", s->name);
	if (!secret_file_ok(d->api_key_file, "API key file", e, elen))
		return fail(r, sm, "service \"%s\": %s", s->name, e);
	return 0;
}

static int
svc_name_cmp(const void *a, const void *b)
{
	const struct roll_service *const *x = a, *const *y = b;
	int c = strcmp((*x)->name, (*y)->name);

	return c != 0 ? c : (*x)->line - (*y)->line;
}

/* Two services with one name: sort by name, look at neighbours. */
static int
dup_names(struct reader *r, struct roll_config *c)
{
	struct roll_service **v;
	yaml_mark_t sm;
	size_t i;
	int rc = 0;

	if (c->nservices < 2)
		return 0;
	if ((v = calloc(c->nservices, sizeof(*v))) == NULL)
		return fail(r, NULL, "out of memory");
	for (i = 0; i < c->nservices; i++)
		v[i] = &c->services[i];
	qsort(v, c->nservices, sizeof(*v), svc_name_cmp);
	for (i = 1; i < c->nservices; i++)
		if (strcmp(v[i - 1]->name, v[i]->name) == 0) {
			memset(&sm, 0, sizeof(sm));
			sm.line = (size_t)v[i]->line - 1;
			sm.column = (size_t)v[i]->column - 1;
			rc = fail(r, &sm, "service \"%s\" defined twice "
			    "(first at line %d)", v[i]->name, v[i - 1]->line);
			break;
		}
	free(v);
	return rc;
}

/*
 * Once state_dir is known: a push node's staging directory
 * (STATE_DIR/SERVICE/push/NODE) goes last on its push argv; a local
 * node's deploy_dir must be trusted as a service's is; no two nodes
 * share a deploy_dir or an address.
 */
static int
finish_nodes(struct reader *r, const struct roll_config *c,
    struct roll_service *s)
{
	char e[ERRBUF_LEN], dir[PATH_MAX], **nv;
	size_t i, j, a, b;
	yaml_mark_t m;

	for (i = 0; i < s->nnodes; i++) {
		struct roll_node *nd = &s->nodes[i];

		memset(&m, 0, sizeof(m));
		m.line = (size_t)nd->line - 1;
		m.column = (size_t)nd->column - 1;
		if (nd->push != NULL) {
			if (snprintf(dir, sizeof(dir), "%s/%s/push/%s",
			    c->state_dir, s->name, nd->name) >=
			    (int)sizeof(dir) || (nd->deploy_dir =
			    strdup(dir)) == NULL || (nv = reallocarray(
			    nd->push, nd->npush + 2, sizeof(*nv))) == NULL)
				return fail(r, NULL, "out of memory");
			nd->push = nv;
			if ((nv[nd->npush] = strdup(dir)) == NULL)
				return fail(r, NULL, "out of memory");
			nv[++nd->npush] = NULL;
		} else if (fileio_parents_trusted(nd->deploy_dir, e,
		    sizeof(e)) == -1)
			return fail(r, &m, "service \"%s\": node \"%s\": "
			    "deploy_dir: %s", s->name, nd->name, e);
		for (j = 0; j < i; j++) {
			if (strcmp(s->nodes[j].deploy_dir, nd->deploy_dir) == 0)
				return fail(r, &m, "service \"%s\": nodes \"%s\" "
				    "and \"%s\" have the same deploy_dir",
				    s->name, s->nodes[j].name, nd->name);
			for (a = 0; a < nd->naddrs; a++)
				for (b = 0; b < s->nodes[j].naddrs; b++)
					if (strcmp(nd->addrs[a],
					    s->nodes[j].addrs[b]) == 0)
						return fail(r, &m, "service "
						    "\"%s\": address %s is "
						    "given to nodes \"%s\" and "
						    "\"%s\"", s->name,
						    nd->addrs[a],
						    s->nodes[j].name, nd->name);
		}
	}
	/* An address addresses: gives a host must belong to a node. */
	for (i = 0; s->nnodes > 0 && i < s->nhaddrs; i++)
		for (a = 0; a < s->haddrs[i].naddrs; a++) {
			for (j = 0; j < s->nnodes; j++) {
				for (b = 0; b < s->nodes[j].naddrs; b++)
					if (strcmp(s->haddrs[i].addrs[a],
					    s->nodes[j].addrs[b]) == 0)
						break;
				if (b < s->nodes[j].naddrs)
					break;
			}
			if (j == s->nnodes) {
				memset(&m, 0, sizeof(m));
				m.line = (size_t)s->line - 1;
				m.column = (size_t)s->column - 1;
				return fail(r, &m, "service \"%s\": addresses: "
				    "%s of %s belongs to no node", s->name,
				    s->haddrs[i].addrs[a], s->haddrs[i].host);
			}
		}
	return 0;
}

int
roll_config_load(const char *path, struct roll_config *c, char *err,
    size_t errlen)
{
	struct reader r;
	unsigned char *buf = NULL;
	size_t len, i;
	char *seen[16], *key, e[ERRBUF_LEN];
	size_t nseen = 0;
	yaml_mark_t km, svcmark;
	int k, rc = -1, ndocs = 0, have_svcmark = 0;

	memset(c, 0, sizeof(*c));
	memset(&r, 0, sizeof(r));
	r.path = path;
	r.err = err;
	r.errlen = errlen;
	/* It names commands run as root: only root (or we) may change it. */
	if (fileio_file_trusted(path, "configuration file", err, errlen) ==
	    -1)
		return -1;
	if (fileio_read_bounded(path, 1024 * 1024, &buf, &len, e,
	    sizeof(e)) == -1) {
		errfmt(err, errlen, "%s: %s", path, e);
		return -1;
	}
	if ((c->path = strdup(path)) == NULL ||
	    !yaml_parser_initialize(&r.p)) {
		errfmt(err, errlen, "out of memory");
		free(buf);
		free(c->path);
		c->path = NULL;
		return -1;
	}
	yaml_parser_set_input_string(&r.p, buf, len);
	if (next(&r) == -1 || r.ev.type != YAML_STREAM_START_EVENT ||
	    next(&r) == -1)
		goto out;
	if (r.ev.type != YAML_DOCUMENT_START_EVENT) {
		fail(&r, NULL, "empty configuration");
		goto out;
	}
	if (next(&r) == -1)
		goto out;
	if (r.ev.type != YAML_MAPPING_START_EVENT) {
		fail(&r, &r.ev.start_mark, "the configuration must be a "
		    "mapping (state_dir, dns, services)");
		goto out;
	}
	while ((k = map_next(&r, seen, 16, &nseen, &key, &km)) == 1) {
		if (strcmp(key, "state_dir") == 0) {
			if (str_value(&r, key, &c->state_dir) == -1)
				goto out;
			if (c->state_dir[0] != '/' ||
			    strlen(c->state_dir) > ROLL_MAX_PATH) {
				fail(&r, &r.ev.start_mark, "state_dir: want an "
				    "absolute path of at most %d bytes",
				    ROLL_MAX_PATH);
				goto out;
			}
		} else if (strcmp(key, "lock_timeout") == 0) {
			if (duration_in(&r, key, 2, UINT32_MAX,
			    "must be at least 2s", &c->lock_timeout) == -1)
				goto out;
		} else if (strcmp(key, "dns") == 0) {
			if (read_dns(&r, &c->dns, "dns") == -1)
				goto out;
		} else if (strcmp(key, "services") == 0) {
			size_t cap = 0;

			if (r.ev.type != YAML_SEQUENCE_START_EVENT) {
				fail(&r, &r.ev.start_mark, "services: want a "
				    "list");
				goto out;
			}
			svcmark = r.ev.start_mark;
			have_svcmark = 1;
			for (;;) {
				struct roll_service *nv;

				if (next(&r) == -1)
					goto out;
				if (r.ev.type == YAML_SEQUENCE_END_EVENT)
					break;
				if (c->nservices == cap) {
					cap = cap == 0 ? 8 : cap * 2;
					if ((nv = reallocarray(c->services,
					    cap, sizeof(*nv))) == NULL) {
						fail(&r, NULL, "out of memory");
						goto out;
					}
					c->services = nv;
				}
				nv = c->services;
				memset(&nv[c->nservices], 0, sizeof(*nv));
				nv[c->nservices].port = 25;
				c->nservices++;
				if (read_service(&r,
				    &nv[c->nservices - 1]) == -1)
					goto out;
			}
		} else {
			unknown_key(&r, &km, key, "the configuration");
			goto out;
		}
	}
	if (k != 0 || next(&r) == -1)
		goto out;
	ndocs = 1;
	if (r.ev.type != YAML_DOCUMENT_END_EVENT || next(&r) == -1)
		goto out;
	if (r.ev.type != YAML_STREAM_END_EVENT) {
		fail(&r, &r.ev.start_mark, "more than one YAML document");
		goto out;
	}
	(void)ndocs;
	/* Whole-file checks. */
	if (c->state_dir == NULL) {
		fail(&r, NULL, "state_dir is missing");
		goto out;
	}
	if (c->nservices == 0) {
		fail(&r, have_svcmark ? &svcmark : NULL, "no services");
		goto out;
	}
	if (dup_names(&r, c) == -1)
		goto out;
	/* Root writes there: nobody else may swap what the names reach. */
	if (fileio_parents_trusted(c->state_dir, e, sizeof(e)) == -1) {
		fail(&r, NULL, "state_dir: %s", e);
		goto out;
	}
	for (i = 0; i < c->nservices; i++) {
		struct roll_service *s = &c->services[i];
		yaml_mark_t sm;

		memset(&sm, 0, sizeof(sm));
		sm.line = (size_t)s->line - 1;
		sm.column = (size_t)s->column - 1;
		if (s->nspecs == 0) {
			s->specs[0] = (struct tlsa_spec){ 3, 1, 1 };
			s->specs[1] = (struct tlsa_spec){ 2, 1, 1 };
			s->nspecs = 2;
		}
		if (merge_dns(&s->dns, &c->dns) == -1) {
			fail(&r, NULL, "out of memory");
			goto out;
		}
		if (backend_needs(&r, &sm, s, e, sizeof(e)) == -1)
			goto out;
		if (s->dns.resolver == NULL &&
		    s->dns.trust_anchor_file == NULL) {
			fail(&r, &sm, "service \"%s\": a validated lookup "
			    "needs dns.resolver or dns.trust_anchor_file",
			    s->name);
			goto out;
		}
		if (s->deploy_dir != NULL && fileio_parents_trusted(
		    s->deploy_dir, e, sizeof(e)) == -1) {
			fail(&r, &sm, "service \"%s\": deploy_dir: %s",
			    s->name, e);
			goto out;
		}
		if (finish_nodes(&r, c, s) == -1)
			goto out;
	}
	rc = 0;
out:
	free_seen(seen, nseen);
	if (r.have)
		yaml_event_delete(&r.ev);
	yaml_parser_delete(&r.p);
	free(buf);
	if (rc != 0)
		roll_config_free(c);
	return rc;
}

struct roll_service *
roll_config_service(struct roll_config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nservices; i++)
		if (strcmp(c->services[i].name, name) == 0)
			return &c->services[i];
	return NULL;
}

uint32_t
roll_lock_timeout(const struct roll_config *c)
{
	return c->lock_timeout > 0 ? c->lock_timeout :
	    ROLL_LOCK_TIMEOUT_DEFAULT;
}
