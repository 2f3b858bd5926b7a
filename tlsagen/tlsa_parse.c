/*
 * tlsa_parse.c: TLSA records from text.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>

#include "fileio.h"
#include "log.h"
#include "tlsa_parse.h"

#define MAX_TOKENS 64

void
tlsa_reclist_free(struct tlsa_reclist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		tlsa_rec_clear(&l->v[i]);
		free(l->owner[i]);
	}
	free(l->v);
	free(l->owner);
	memset(l, 0, sizeof(*l));
}

static int
push(struct tlsa_reclist *l, struct tlsa_rec *r, const char *owner)
{
	struct tlsa_rec *nv;
	char **no, *o = NULL, *p;

	if (l->n == l->cap) {
		size_t ncap = l->cap == 0 ? 8 : l->cap * 2;

		if ((nv = reallocarray(l->v, ncap, sizeof(*nv))) == NULL)
			return -1;
		l->v = nv;
		if ((no = reallocarray(l->owner, ncap, sizeof(*no))) == NULL)
			return -1;
		l->owner = no;
		l->cap = ncap;
	}
	if (owner != NULL && owner[0] != '\0' &&
	    owner[strlen(owner) - 1] == '.') {
		if ((o = strdup(owner)) == NULL)
			return -1;
		for (p = o; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	l->v[l->n] = *r;
	l->owner[l->n] = o;
	l->n++;
	memset(r, 0, sizeof(*r));
	return 0;
}

int
tlsa_parse_line(struct tlsa_reclist *l, const char *line, char *err,
    size_t errlen)
{
	char *copy, *tok[MAX_TOKENS], *p, *semi, hexbuf[TLSA_MAX_DATA * 2 + 1];
	char vis[80];
	const char *owner = NULL;
	struct tlsa_rec r;
	unsigned char *raw = NULL;
	size_t rawlen, hl;
	int n = 0, i, start = 0, rc = -1;
	uint8_t v[3];

	memset(&r, 0, sizeof(r));
	if ((copy = strdup(line)) == NULL) {
		errfmt(err, errlen, "out of memory");
		return -1;
	}
	if ((semi = strchr(copy, ';')) != NULL)
		*semi = '\0';
	for (p = strtok(copy, " \t\r\n"); p != NULL && n < MAX_TOKENS;
	    p = strtok(NULL, " \t\r\n"))
		tok[n++] = p;
	if (n == 0 || tok[0][0] == '$') {
		rc = 0;
		goto out;
	}
	if (p != NULL) {
		errfmt(err, errlen, "too many fields");
		goto out;
	}
	/* Zone line: find the type field. */
	for (i = 0; i < n; i++)
		if (strcasecmp(tok[i], "TLSA") == 0 ||
		    strcasecmp(tok[i], "TYPE52") == 0) {
			owner = i > 0 ? tok[0] : NULL;
			start = i + 1;
			break;
		}
	if (i == n && !isdigit((unsigned char)tok[0][0]) &&
	    strchr(tok[0], '-') == NULL && strcasecmp(tok[0], "privcert")) {
		errfmt(err, errlen, "not a TLSA record");
		goto out;
	}
	if (start < n && strcmp(tok[start], "\\#") == 0) {
		/* RFC 3597: \# LENGTH HEX... */
		unsigned long dl;
		char *end;

		if (start + 2 >= n + 1 || start + 1 >= n) {
			errfmt(err, errlen, "generic rdata without length");
			goto out;
		}
		dl = strtoul(tok[start + 1], &end, 10);
		hexbuf[0] = '\0';
		for (i = start + 2, hl = 0; i < n; i++) {
			if (hl + strlen(tok[i]) >= sizeof(hexbuf)) {
				errfmt(err, errlen, "rdata too long");
				goto out;
			}
			memcpy(hexbuf + hl, tok[i], strlen(tok[i]) + 1);
			hl += strlen(tok[i]);
		}
		if (*end != '\0' || !isdigit((unsigned char)tok[start + 1][0])) {
			errfmt(err, errlen, "generic rdata length \"%s\" is not "
			    "a number", str_vis(vis, sizeof(vis),
			    tok[start + 1], strlen(tok[start + 1])));
			goto out;
		}
		if (tlsa_unhex(hexbuf, &raw, &rawlen, err, errlen) == -1)
			goto out;
		if (rawlen != dl || rawlen < 4) {
			errfmt(err, errlen, "generic rdata length %lu does not "
			    "match its data (%zu bytes)", dl, rawlen);
			goto out;
		}
		r.spec.usage = raw[0];
		r.spec.selector = raw[1];
		r.spec.mtype = raw[2];
		if ((r.data = malloc(rawlen - 3)) == NULL) {
			errfmt(err, errlen, "out of memory");
			goto out;
		}
		memcpy(r.data, raw + 3, rawlen - 3);
		r.len = rawlen - 3;
	} else {
		if (n - start < 4) {
			errfmt(err, errlen, "want usage selector "
			    "matching-type data");
			goto out;
		}
		for (i = 0; i < 3; i++)
			if (tlsa_field_parse(i, tok[start + i], &v[i]) == -1) {
				errfmt(err, errlen, "bad %s \"%s\"",
				    i == 0 ? "certificate usage" :
				    i == 1 ? "selector" : "matching type",
				    str_vis(vis, sizeof(vis), tok[start + i],
				    strlen(tok[start + i])));
				goto out;
			}
		hexbuf[0] = '\0';
		for (i = start + 3, hl = 0; i < n; i++) {
			if (hl + strlen(tok[i]) >= sizeof(hexbuf)) {
				errfmt(err, errlen, "data too long");
				goto out;
			}
			memcpy(hexbuf + hl, tok[i], strlen(tok[i]) + 1);
			hl += strlen(tok[i]);
		}
		if (tlsa_unhex(hexbuf, &r.data, &r.len, err, errlen) == -1)
			goto out;
		r.spec.usage = v[0];
		r.spec.selector = v[1];
		r.spec.mtype = v[2];
	}
	if ((r.spec.mtype == TLSA_MT_SHA256 && r.len != 32) ||
	    (r.spec.mtype == TLSA_MT_SHA512 && r.len != 64)) {
		errfmt(err, errlen, "matching type %u wants %d bytes of data, "
		    "not %zu", r.spec.mtype, r.spec.mtype == 1 ? 32 : 64,
		    r.len);
		goto out;
	}
	if (push(l, &r, owner) == -1) {
		errfmt(err, errlen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	tlsa_rec_clear(&r);
	free(raw);
	free(copy);
	return rc;
}

int
tlsa_parse_arg(struct tlsa_reclist *l, const char *arg, char *err,
    size_t errlen)
{
	struct stat st;
	unsigned char *buf;
	char *line, *next, lerr[ERRBUF_LEN], vis[200];
	size_t len, lineno = 0, before = l->n;

	if (stat(arg, &st) == -1 && strcmp(arg, "-") != 0) {
		if (tlsa_parse_line(l, arg, lerr, sizeof(lerr)) == -1) {
			errfmt(err, errlen, "record \"%s\": %s (and no such "
			    "file)", str_vis(vis, sizeof(vis), arg,
			    strlen(arg)), lerr);
			return -1;
		}
		if (l->n == before) {
			errfmt(err, errlen, "record \"%s\": empty",
			    str_vis(vis, sizeof(vis), arg, strlen(arg)));
			return -1;
		}
		return 0;
	}
	if (fileio_read_bounded(arg, 16u * 1024 * 1024, &buf, &len, lerr,
	    sizeof(lerr)) == -1) {
		errfmt(err, errlen, "%s: %s", arg, lerr);
		return -1;
	}
	if (memchr(buf, '\0', len) != NULL) {
		errfmt(err, errlen, "%s: binary data, not TLSA records", arg);
		free(buf);
		return -1;
	}
	for (line = (char *)buf; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (tlsa_parse_line(l, line, lerr, sizeof(lerr)) == -1) {
			errfmt(err, errlen, "%s: line %zu: %s", arg, lineno,
			    lerr);
			free(buf);
			return -1;
		}
	}
	free(buf);
	if (l->n == before) {
		errfmt(err, errlen, "%s: no TLSA records", arg);
		return -1;
	}
	return 0;
}

char *
tlsa_host_ascii(const char *name, char *err, size_t errlen)
{
	char *out = NULL, *s, vis[300];
	const unsigned char *p;
	int r;

	for (p = (const unsigned char *)name; *p != '\0' && *p < 0x80; p++)
		;
	if (*p == '\0') {
		if ((s = strdup(name)) == NULL)
			errfmt(err, errlen, "out of memory");
		return s;
	}
	/* Nontransitional UTS #46 processing, as browsers and MTAs do. */
	r = idn2_to_ascii_8z(name, &out, IDN2_NFC_INPUT |
	    IDN2_NONTRANSITIONAL);
	if (r != IDN2_OK) {
		errfmt(err, errlen, "\"%s\": not a valid internationalised "
		    "host name: %s", str_vis(vis, sizeof(vis), name,
		    strlen(name)), idn2_strerror(r));
		return NULL;
	}
	/* Ours to free with free(), not idn2_free(). */
	s = strdup(out);
	idn2_free(out);
	if (s == NULL)
		errfmt(err, errlen, "out of memory");
	return s;
}
