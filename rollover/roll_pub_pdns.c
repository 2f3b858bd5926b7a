/*
 * roll_pub_pdns.c: the pdns-api publisher: the PowerDNS Authoritative
 * HTTP API (libcurl, jansson).  The API has no conditional write, so
 * the compare-and-swap is done around it: GET the zone, compare every
 * owner's RRset with what we expect, send every change in one PATCH
 * (changetype REPLACE, or DELETE for no records; PowerDNS applies a
 * PATCH in one transaction), then GET again and check that each owner
 * holds what we wrote.  A writer that slipped in between the first GET
 * and the PATCH is caught by the second GET and reported as an alert
 * naming the owner.  Reads in between writes come from the last GET.
 *
 * Everything the server sends is peer input: bodies are bounded, every
 * request has a timeout, redirects are not followed, only http and
 * https are spoken, and text from it is sanitised before a message.
 * The API key is read from dns.api_key_file and never printed.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "fileio.h"
#include "log.h"
#include "roll_pub.h"

/* Largest body we read (a zone's whole RRset list comes in one GET). */
#define PDNS_MAXBODY	(16 * 1024 * 1024)
#define PDNS_CONNECT_S	5
#define PDNS_REQUEST_S	30

struct pdns {
	CURL			*c;
	struct curl_slist	*hdr;
	char			*zone_url;	/* .../servers/ID/zones/ZONE */
	char			*body;
	size_t			 len;
	int			 toobig;
	json_t			*zone;		/* the last GET, until a write */
};

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct pdns *d = arg;
	size_t n = size * nmemb;
	char *nb;

	if (n > PDNS_MAXBODY - d->len) {
		d->toobig = 1;
		return 0;		/* curl stops with a write error */
	}
	if ((nb = realloc(d->body, d->len + n + 1)) == NULL)
		return 0;
	d->body = nb;
	memcpy(d->body + d->len, data, n);
	d->len += n;
	d->body[d->len] = '\0';
	return n;
}

/* The API key: the file's first line, trimmed, printable. */
static char *
load_key(const char *path, char *err, size_t errlen)
{
	unsigned char *buf = NULL;
	char e[ERRBUF_LEN], *k;
	size_t len, i, end;

	if (fileio_read_bounded(path, 4096, &buf, &len, e, sizeof(e)) == -1) {
		errfmt(err, errlen, "api_key_file: %s: %s", path, e);
		return NULL;
	}
	for (end = 0; end < len && buf[end] != '\n' && buf[end] != '\r';
	    end++)
		;
	while (end > 0 && isspace(buf[end - 1]))
		end--;
	for (i = 0; i < end && isspace(buf[i]); i++)
		;
	k = (char *)buf + i;
	buf[end] = '\0';
	for (; i < end; i++)
		if (!isgraph(buf[i]))
			break;
	if (i < end || *k == '\0') {
		errfmt(err, errlen, "api_key_file: %s: %s", path, *k == '\0' ?
		    "no key on its first line" : "the key has blanks or "
		    "control characters");
		explicit_bzero(buf, len);
		free(buf);
		return NULL;
	}
	k = strdup(k);
	explicit_bzero(buf, len);
	free(buf);
	if (k == NULL)
		errfmt(err, errlen, "out of memory");
	return k;
}

static int
p_open(struct roll_pub *p, char *err, size_t errlen)
{
	const struct roll_dns *dn = &p->s->dns;
	struct pdns *d;
	char *key = NULL, *hk = NULL, *esc = NULL, *esc2 = NULL;
	size_t ul = strlen(dn->api_url);
	int rc = -1;

	snprintf(p->name, sizeof(p->name), "pdns-api %s", dn->api_url);
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		errfmt(err, errlen, "out of memory");
		return -1;
	}
	if ((key = load_key(dn->api_key_file, err, errlen)) == NULL)
		goto out;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (d->c = curl_easy_init()) == NULL) {
		errfmt(err, errlen, "%s: cannot initialise libcurl", p->name);
		goto out;
	}
	if ((esc = curl_easy_escape(d->c, dn->zone, 0)) == NULL ||
	    (esc2 = curl_easy_escape(d->c, dn->api_server_id, 0)) == NULL ||
	    asprintf(&d->zone_url, "%.*s/api/v1/servers/%s/zones/%s",
	    (int)(ul > 0 && dn->api_url[ul - 1] == '/' ? ul - 1 : ul),
	    dn->api_url, esc2, esc) == -1 ||
	    asprintf(&hk, "X-API-Key: %s", key) == -1) {
		d->zone_url = NULL;
		hk = NULL;
		errfmt(err, errlen, "out of memory");
		goto out;
	}
	if ((d->hdr = curl_slist_append(NULL, hk)) == NULL ||
	    curl_slist_append(d->hdr, "Accept: application/json") == NULL ||
	    curl_slist_append(d->hdr, "Content-Type: application/json") ==
	    NULL) {
		errfmt(err, errlen, "out of memory");
		goto out;
	}
	curl_easy_setopt(d->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(d->c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(d->c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(d->c, CURLOPT_CONNECTTIMEOUT, (long)PDNS_CONNECT_S);
	curl_easy_setopt(d->c, CURLOPT_TIMEOUT, (long)PDNS_REQUEST_S);
	curl_easy_setopt(d->c, CURLOPT_HTTPHEADER, d->hdr);
	curl_easy_setopt(d->c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(d->c, CURLOPT_WRITEDATA, d);
	curl_easy_setopt(d->c, CURLOPT_USERAGENT, "tlsa-rollover/" VERSION);
	p->impl = d;
	rc = 0;
out:
	if (hk != NULL) {
		explicit_bzero(hk, strlen(hk));
		free(hk);
	}
	if (key != NULL) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
	curl_free(esc);
	curl_free(esc2);
	if (rc == -1) {
		curl_slist_free_all(d->hdr);	/* holds the key: gone with it */
		if (d->c != NULL)
			curl_easy_cleanup(d->c);
		free(d->zone_url);
		free(d);
	}
	return rc;
}

/*
 * One request to the zone's URL: method GET (body NULL) or PATCH (body).
 * Returns the HTTP status (the body in d->body), or -1 with a reason.
 * A status other than want is an error naming it and the server's
 * "error" text.
 */
static int
request(struct roll_pub *p, const char *method, const char *body, long want,
    char *err, size_t errlen)
{
	struct pdns *d = p->impl;
	char cerr[CURL_ERROR_SIZE], vis[200];
	const char *text = NULL;
	json_t *j = NULL;
	CURLcode cc;
	long status = 0;

	free(d->body);
	d->body = NULL;
	d->len = 0;
	d->toobig = 0;
	cerr[0] = '\0';
	curl_easy_setopt(d->c, CURLOPT_URL, d->zone_url);
	curl_easy_setopt(d->c, CURLOPT_ERRORBUFFER, cerr);
	if (body != NULL) {
		curl_easy_setopt(d->c, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(d->c, CURLOPT_POSTFIELDS, body);
	} else {
		curl_easy_setopt(d->c, CURLOPT_CUSTOMREQUEST, NULL);
		curl_easy_setopt(d->c, CURLOPT_HTTPGET, 1L);
	}
	cc = curl_easy_perform(d->c);
	curl_easy_setopt(d->c, CURLOPT_ERRORBUFFER, NULL);
	if (d->toobig) {
		errfmt(err, errlen, "%s: %s zone %s: the answer is larger than "
		    "%d bytes", p->name, method, p->s->dns.zone, PDNS_MAXBODY);
		return -1;
	}
	if (cc != CURLE_OK) {
		str_vis(vis, sizeof(vis), cerr[0] ? cerr :
		    curl_easy_strerror(cc), strlen(cerr[0] ? cerr :
		    curl_easy_strerror(cc)));
		errfmt(err, errlen, "%s: %s zone %s: %s", p->name, method,
		    p->s->dns.zone, vis);
		return -1;
	}
	curl_easy_getinfo(d->c, CURLINFO_RESPONSE_CODE, &status);
	if (status == want)
		return (int)status;
	if (d->body != NULL && (j = json_loadb(d->body, d->len, 0,
	    NULL)) != NULL && json_is_object(j))
		text = json_string_value(json_object_get(j, "error"));
	if (text == NULL && d->body != NULL && d->len > 0 && d->len < 200)
		text = d->body;
	str_vis(vis, sizeof(vis), text != NULL ? text : "",
	    text != NULL ? strlen(text) : 0);
	errfmt(err, errlen, "%s: %s zone %s: HTTP %ld%s%s", p->name, method,
	    p->s->dns.zone, status, vis[0] ? ": " : "", vis);
	json_decref(j);
	return -1;
}

/* "3 1 1 abcd..." (PowerDNS may keep "( .. )" and blanks from a zone file). */
static int
parse_content(const char *c, struct tlsa_rec *r)
{
	unsigned long v[3];
	char *end;
	size_t n = 0, cap, i;
	int k, hi = -1, x;

	memset(r, 0, sizeof(*r));
	for (k = 0; k < 3; k++) {
		while (*c == ' ' || *c == '\t')
			c++;
		if (!isdigit((unsigned char)*c))
			return -1;
		errno = 0;
		v[k] = strtoul(c, &end, 10);
		if (errno != 0 || v[k] > 255 || end == c)
			return -1;
		c = end;
	}
	cap = strlen(c) / 2 + 1;
	if ((r->data = malloc(cap)) == NULL)
		return -1;
	for (i = 0; c[i] != '\0'; i++) {
		if (strchr(" \t()\r\n", c[i]) != NULL)
			continue;
		if (isdigit((unsigned char)c[i]))
			x = c[i] - '0';
		else if (c[i] >= 'a' && c[i] <= 'f')
			x = c[i] - 'a' + 10;
		else if (c[i] >= 'A' && c[i] <= 'F')
			x = c[i] - 'A' + 10;
		else
			goto bad;
		if (hi == -1)
			hi = x;
		else {
			r->data[n++] = (unsigned char)(hi * 16 + x);
			hi = -1;
		}
	}
	if (hi != -1 || n == 0)
		goto bad;
	r->len = n;
	r->spec.usage = (uint8_t)v[0];
	r->spec.selector = (uint8_t)v[1];
	r->spec.mtype = (uint8_t)v[2];
	return 0;
bad:
	free(r->data);
	memset(r, 0, sizeof(*r));
	return -1;
}

/*
 * The zone as the server holds it: one GET, kept in d->zone for the
 * reads that follow (adoption reads every owner) until a write or a
 * fresh load.  0 or -1.
 */
static int
zone_load(struct roll_pub *p, int fresh, char *err, size_t errlen)
{
	struct pdns *d = p->impl;
	json_error_t je;
	json_t *j;

	if (d->zone != NULL && !fresh)
		return 0;
	json_decref(d->zone);
	d->zone = NULL;
	if (request(p, "GET", NULL, 200, err, errlen) == -1)
		return -1;
	if ((j = json_loadb(d->body != NULL ? d->body : "", d->len, 0,
	    &je)) == NULL || !json_is_object(j) ||
	    !json_is_array(json_object_get(j, "rrsets"))) {
		json_decref(j);
		errfmt(err, errlen, "%s: GET zone %s: not a zone object (no "
		    "rrsets list)", p->name, p->s->dns.zone);
		return -1;
	}
	d->zone = j;
	return 0;
}

/* Owner's TLSA RRset in the loaded zone into out.  0 or -1. */
static int
zone_owner(struct roll_pub *p, const char *owner, struct zone_rrset *out,
    char *err, size_t errlen)
{
	struct pdns *d = p->impl;
	json_t *sets, *s, *recs, *rec;
	struct tlsa_rec r;
	const char *name, *type, *content;
	size_t i, k;

	memset(out, 0, sizeof(*out));
	sets = json_object_get(d->zone, "rrsets");
	json_array_foreach(sets, i, s) {
		name = json_string_value(json_object_get(s, "name"));
		type = json_string_value(json_object_get(s, "type"));
		if (name == NULL || type == NULL ||
		    strcasecmp(name, owner) != 0 || strcmp(type, "TLSA") != 0)
			continue;
		if (!json_is_array(recs = json_object_get(s, "records"))) {
			errfmt(err, errlen, "%s: %s: an RRset without a "
			    "records list", p->name, owner);
			goto bad;
		}
		json_array_foreach(recs, k, rec) {
			if (json_is_true(json_object_get(rec, "disabled")))
				continue;	/* not served */
			content = json_string_value(json_object_get(rec,
			    "content"));
			if (content == NULL || parse_content(content,
			    &r) == -1) {
				errfmt(err, errlen, "%s: %s: a TLSA record "
				    "that does not parse", p->name, owner);
				goto bad;
			}
			if (!zone_rrset_has(out, &r) &&
			    zone_rrset_push_copy(out, &r) == -1) {
				tlsa_rec_clear(&r);
				errfmt(err, errlen, "out of memory");
				goto bad;
			}
			tlsa_rec_clear(&r);
		}
		if (json_is_integer(json_object_get(s, "ttl")))
			out->ttl = (uint32_t)json_integer_value(
			    json_object_get(s, "ttl"));
	}
	return 0;
bad:
	zone_rrset_free(out);
	return -1;
}

static int
p_read(struct roll_pub *p, const char *owner, struct zone_rrset *out,
    char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (zone_load(p, 0, err, errlen) == -1)
		return -1;
	return zone_owner(p, owner, out, err, errlen);
}

/* The rrsets entry of a PATCH for owner := want (DELETE when empty). */
static json_t *
patch_set(const char *owner, const struct zone_rrset *want, uint32_t ttl)
{
	json_t *set, *recs;
	char *hex, *c;
	size_t i;

	if ((set = json_object()) == NULL)
		return NULL;
	json_object_set_new(set, "name", json_string(owner));
	json_object_set_new(set, "type", json_string("TLSA"));
	json_object_set_new(set, "changetype", json_string(want->n > 0 ?
	    "REPLACE" : "DELETE"));
	if (want->n == 0)
		return set;
	json_object_set_new(set, "ttl", json_integer(ttl));
	if ((recs = json_array()) == NULL)
		goto bad;
	json_object_set_new(set, "records", recs);
	for (i = 0; i < want->n; i++) {
		if ((hex = tlsa_hex(want->v[i].data, want->v[i].len)) == NULL)
			goto bad;
		if (asprintf(&c, "%u %u %u %s", want->v[i].spec.usage,
		    want->v[i].spec.selector, want->v[i].spec.mtype, hex) ==
		    -1) {
			free(hex);
			goto bad;
		}
		free(hex);
		json_array_append_new(recs, json_pack("{s:s, s:b}", "content",
		    c, "disabled", 0));
		free(c);
	}
	return set;
bad:
	json_decref(set);
	return NULL;
}

/*
 * The whole list in one PATCH, which PowerDNS applies in one
 * transaction: one GET for the compare (every owner must hold what
 * expect says, or, with expect NULL, what that GET shows; an owner that
 * holds want already is left out), one PATCH with every changed owner,
 * one GET to check that each holds what we wrote (a writer that slipped
 * in between is an alert naming the owner).
 */
static int
p_publish(struct roll_pub *p, const struct zone_rrlist *want,
    const struct zone_rrlist *expect, int dry_run, struct sbuf *report,
    char *err, size_t errlen)
{
	struct zone_groups g = { 0 }, eg = { 0 };
	struct zone_rrset w = { 0 }, cur = { 0 }, exp = { 0 };
	struct sbuf lines = { 0 };
	json_t *root = NULL, *sets = NULL, *set;
	const char *owner, *zone = p->s->dns.zone;
	char *d1 = NULL, *d2 = NULL, *body = NULL;
	size_t k, nchanged = 0;
	int rc = -1;

	if (zone_rrlist_group(want, &g) == -1 ||
	    (expect != NULL && zone_rrlist_group(expect, &eg) == -1) ||
	    (root = json_object()) == NULL || (sets = json_array()) == NULL)
		goto nomem;
	if (zone_load(p, 1, err, errlen) == -1)
		goto out;
	for (k = 0; k < g.ngroups; k++) {
		zone_rrset_free(&w);
		zone_rrset_free(&cur);
		zone_rrset_free(&exp);
		free(d1);
		free(d2);
		d1 = d2 = NULL;
		if ((owner = roll_pub_group(want, &g, k, zone, &w, err,
		    errlen)) == NULL)
			goto out;
		if (zone_owner(p, owner, &cur, err, errlen) == -1)
			goto out;
		if (zone_rrset_equal(&cur, &w)) {
			/* Published already (an earlier run that stopped
			 * after its write, or nothing to change). */
			sbuf_printf(&lines, "%s: unchanged (published "
			    "already)\n", owner);
			continue;
		}
		if (expect != NULL) {
			if (roll_pub_group_set(expect, &eg, zone_groups_find(
			    expect, &eg, owner), &exp) == -1)
				goto nomem;
		} else if (zone_rrset_union(&exp, &cur) == -1)
			goto nomem;
		d1 = zone_rrset_describe(&cur);
		if (!zone_rrset_equal(&cur, &exp)) {
			d2 = zone_rrset_describe(&exp);
			errfmt(err, errlen, "%s: %s: refused to replace the "
			    "RRset: it holds %s, not the expected %s (changed "
			    "by someone else?); nothing was changed", p->name,
			    owner, d1 != NULL && *d1 ? d1 : "no records",
			    d2 != NULL && *d2 ? d2 : "no records");
			goto out;
		}
		if (dry_run)
			sbuf_printf(&lines, "%s: would be replaced (was: %s) "
			    "through %s\n", owner, d1 != NULL ? d1 : "?",
			    p->name);
		else
			sbuf_printf(&lines, "%s: replaced: %zu record(s) (was: "
			    "%s) through %s, zone %s\n", owner, w.n, d1 != NULL ?
			    d1 : "?", p->name, zone != NULL ? zone : "?");
		if ((set = patch_set(owner, &w, p->s->dns.ttl)) == NULL ||
		    json_array_append_new(sets, set) == -1)
			goto nomem;
		nchanged++;
	}
	if (nchanged > 0 && !dry_run) {
		json_object_set(root, "rrsets", sets);
		if ((body = json_dumps(root, JSON_COMPACT)) == NULL)
			goto nomem;
		if (request(p, "PATCH", body, 204, err, errlen) == -1)
			goto out;
		/* Re-check: a writer between our GET and our PATCH. */
		if (zone_load(p, 1, err, errlen) == -1) {
			size_t used = strlen(err);

			snprintf(err + used, errlen - used, " (reading the "
			    "zone back after the update)");
			goto out;
		}
		for (k = 0; k < g.ngroups; k++) {
			zone_rrset_free(&w);
			zone_rrset_free(&cur);
			if ((owner = roll_pub_group(want, &g, k, NULL, &w,
			    err, errlen)) == NULL)
				goto out;
			if (zone_owner(p, owner, &cur, err, errlen) == -1)
				goto out;
			if (zone_rrset_equal(&cur, &w))
				continue;
			free(d1);
			free(d2);
			d1 = zone_rrset_describe(&cur);
			d2 = zone_rrset_describe(&w);
			errfmt(err, errlen, "%s: %s: ALERT: the RRset changed "
			    "under us (another writer between our read and our "
			    "write?): it holds %s, not what we wrote (%s); look "
			    "at it before the next run", p->name, owner,
			    d1 != NULL && *d1 ? d1 : "no records",
			    d2 != NULL && *d2 ? d2 : "no records");
			goto out;
		}
	}
	if (lines.len > 0)
		sbuf_add(report, lines.s, lines.len);
	rc = 0;
	goto out;
nomem:
	errfmt(err, errlen, "out of memory");
out:
	free(d1);
	free(d2);
	free(body);
	sbuf_free(&lines);
	json_decref(sets);
	json_decref(root);
	zone_rrset_free(&w);
	zone_rrset_free(&cur);
	zone_rrset_free(&exp);
	zone_groups_free(&g);
	zone_groups_free(&eg);
	return rc;
}

static void
p_close(struct roll_pub *p)
{
	struct pdns *d = p->impl;

	if (d == NULL)
		return;
	curl_easy_cleanup(d->c);
	curl_slist_free_all(d->hdr);
	json_decref(d->zone);
	free(d->zone_url);
	free(d->body);
	free(d);
}

const struct roll_pub_ops roll_pub_pdns_ops = {
	"pdns-api", p_open, p_read, NULL, p_publish, p_close
};
