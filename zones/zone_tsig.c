/*
 * zone_tsig.c: BIND key file reader.  A small tokenizer for the named.conf
 * subset that key files use: words, quoted strings, { } ;, and the three
 * comment styles.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fileio.h"
#include "log.h"
#include "zone_tsig.h"

struct lexer {
	const char	*p, *end;
	int		 line;
	char		 tok[1024];
};

/* Next token into lx->tok; 1 token, 0 end, -1 error. */
static int
next_token(struct lexer *lx)
{
	size_t n = 0;

	for (;;) {
		while (lx->p < lx->end && isspace((unsigned char)*lx->p)) {
			if (*lx->p == '\n')
				lx->line++;
			lx->p++;
		}
		if (lx->p >= lx->end)
			return 0;
		if (*lx->p == '#' || (*lx->p == '/' && lx->p + 1 < lx->end &&
		    lx->p[1] == '/')) {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
			continue;
		}
		if (*lx->p == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
			lx->p += 2;
			while (lx->p + 1 < lx->end &&
			    !(lx->p[0] == '*' && lx->p[1] == '/')) {
				if (*lx->p == '\n')
					lx->line++;
				lx->p++;
			}
			if (lx->p + 1 >= lx->end)
				return -1;
			lx->p += 2;
			continue;
		}
		break;
	}
	if (*lx->p == '{' || *lx->p == '}' || *lx->p == ';') {
		lx->tok[0] = *lx->p++;
		lx->tok[1] = '\0';
		return 1;
	}
	if (*lx->p == '"') {
		lx->p++;
		while (lx->p < lx->end && *lx->p != '"' && *lx->p != '\n') {
			if (n + 1 >= sizeof(lx->tok))
				return -1;
			lx->tok[n++] = *lx->p++;
		}
		if (lx->p >= lx->end || *lx->p != '"')
			return -1;
		lx->p++;
		lx->tok[n] = '\0';
		return 1;
	}
	while (lx->p < lx->end && !isspace((unsigned char)*lx->p) &&
	    strchr("{};\"", *lx->p) == NULL) {
		if (n + 1 >= sizeof(lx->tok))
			return -1;
		lx->tok[n++] = *lx->p++;
	}
	lx->tok[n] = '\0';
	return 1;
}

void
zone_tsig_free(struct zone_tsig *k)
{
	free(k->name);
	free(k->algorithm);
	if (k->secret != NULL) {
		OPENSSL_cleanse(k->secret, strlen(k->secret));
		free(k->secret);
	}
	memset(k, 0, sizeof(*k));
}

static int
expect(struct lexer *lx, const char *want)
{
	return next_token(lx) == 1 && strcmp(lx->tok, want) == 0;
}

int
zone_tsig_load(const char *path, struct zone_tsig *k, char *err,
    size_t errlen)
{
	struct stat st;
	struct lexer lx;
	unsigned char *buf = NULL, raw[512];
	size_t len;
	char lerr[ERRBUF_LEN], name[300], vis[80];
	ldns_rdf *dname = NULL;
	int r, rawlen, rc = -1;

	memset(k, 0, sizeof(*k));
	if (lstat(path, &st) == -1) {
		errfmt(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		/* Follow it, but the target must pass the checks below. */
		if (stat(path, &st) == -1) {
			errfmt(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
	}
	if (!S_ISREG(st.st_mode)) {
		errfmt(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (!fileio_owner_ok(&st)) {
		errfmt(err, errlen, "%s: TSIG key file is owned by %s, not "
		    "root or uid %ld", path, fileio_owner_name(st.st_uid, vis,
		    sizeof(vis)), (long)geteuid());
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		errfmt(err, errlen, "%s: TSIG key file is accessible by group "
		    "or others (mode %04o); chmod 600 it", path,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (fileio_read_bounded(path, 64 * 1024, &buf, &len, lerr,
	    sizeof(lerr)) == -1) {
		errfmt(err, errlen, "%s: %s", path, lerr);
		return -1;
	}
	lx.p = (const char *)buf;
	lx.end = lx.p + len;
	lx.line = 1;
	if (!expect(&lx, "key") || next_token(&lx) != 1)
		goto syntax;
	if ((size_t)snprintf(name, sizeof(name), "%s%s", lx.tok,
	    lx.tok[0] != '\0' && lx.tok[strlen(lx.tok) - 1] == '.' ? "" :
	    ".") >= sizeof(name) || lx.tok[0] == '\0')
		goto syntax;
	/* It goes into every signed message and into messages: a DNS name. */
	for (r = 0; name[r] != '\0'; r++)
		if (name[r] <= ' ' || name[r] > '~')
			break;
	if (name[r] != '\0' || ldns_str2rdf_dname(&dname, name) !=
	    LDNS_STATUS_OK) {
		errfmt(err, errlen, "%s: line %d: key name \"%s\" is not a "
		    "DNS name", path, lx.line, str_vis(vis, sizeof(vis),
		    lx.tok, strlen(lx.tok)));
		goto out;
	}
	ldns_rdf_deep_free(dname);
	if ((k->name = strdup(name)) == NULL)
		goto nomem;
	if (!expect(&lx, "{"))
		goto syntax;
	for (;;) {
		if ((r = next_token(&lx)) != 1)
			goto syntax;
		if (strcmp(lx.tok, "}") == 0)
			break;
		if (strcmp(lx.tok, "algorithm") == 0) {
			if (next_token(&lx) != 1 || k->algorithm != NULL)
				goto syntax;
			if (strcasecmp(lx.tok, "hmac-sha256") != 0 &&
			    strcasecmp(lx.tok, "hmac-sha384") != 0 &&
			    strcasecmp(lx.tok, "hmac-sha512") != 0) {
				errfmt(err, errlen, "%s: line %d: TSIG "
				    "algorithm \"%.40s\" not supported (use "
				    "hmac-sha256, hmac-sha384 or hmac-sha512)",
				    path, lx.line, lx.tok);
				goto out;
			}
			snprintf(name, sizeof(name), "%.20s.", lx.tok);
			for (char *p = name; *p != '\0'; p++)
				*p = (char)tolower((unsigned char)*p);
			if ((k->algorithm = strdup(name)) == NULL)
				goto nomem;
		} else if (strcmp(lx.tok, "secret") == 0) {
			if (next_token(&lx) != 1 || k->secret != NULL)
				goto syntax;
			if (strlen(lx.tok) > 4 * sizeof(raw) / 3 ||
			    (rawlen = EVP_DecodeBlock(raw,
			    (const unsigned char *)lx.tok,
			    (int)strlen(lx.tok))) < 16 ||
			    strlen(lx.tok) % 4 != 0) {
				errfmt(err, errlen, "%s: line %d: secret is "
				    "not base64 of at least 16 bytes", path,
				    lx.line);
				OPENSSL_cleanse(raw, sizeof(raw));
				goto out;
			}
			OPENSSL_cleanse(raw, sizeof(raw));
			if ((k->secret = strdup(lx.tok)) == NULL)
				goto nomem;
		} else
			goto syntax;
		if (!expect(&lx, ";"))
			goto syntax;
	}
	if (!expect(&lx, ";"))
		goto syntax;
	if ((r = next_token(&lx)) != 0) {
		errfmt(err, errlen, "%s: line %d: more than one key, or text "
		    "after the key", path, lx.line);
		goto out;
	}
	if (k->algorithm == NULL || k->secret == NULL) {
		errfmt(err, errlen, "%s: key has no %s", path,
		    k->algorithm == NULL ? "algorithm" : "secret");
		goto out;
	}
	rc = 0;
	goto out;
syntax:
	errfmt(err, errlen, "%s: line %d: not a BIND key file (want: key "
	    "\"NAME\" { algorithm ALG; secret \"BASE64\"; };)", path, lx.line);
	goto out;
nomem:
	errfmt(err, errlen, "out of memory");
out:
	OPENSSL_cleanse(lx.tok, sizeof(lx.tok));
	OPENSSL_cleanse(buf, len);
	free(buf);
	if (rc != 0)
		zone_tsig_free(k);
	return rc;
}

/* The raw secret; returns its length, or -1. */
static int
secret_raw(const struct zone_tsig *k, unsigned char *raw, size_t rawlen)
{
	size_t b64 = strlen(k->secret);
	int n;

	if (b64 == 0 || b64 % 4 != 0 || b64 / 4 * 3 > rawlen)
		return -1;
	if ((n = EVP_DecodeBlock(raw, (const unsigned char *)k->secret,
	    (int)b64)) < 0)
		return -1;
	if (k->secret[b64 - 1] == '=')
		n--;
	if (k->secret[b64 - 2] == '=')
		n--;
	return n;
}

static const char *
md_name(const char *alg)
{
	if (strcmp(alg, "hmac-sha256.") == 0)
		return "SHA256";
	if (strcmp(alg, "hmac-sha384.") == 0)
		return "SHA384";
	if (strcmp(alg, "hmac-sha512.") == 0)
		return "SHA512";
	return NULL;
}

/* Append a name in canonical (lower-case, uncompressed) wire form. */
static int
put_name(ldns_buffer *b, const char *name)
{
	ldns_rdf *d = NULL;
	int rc;

	if (ldns_str2rdf_dname(&d, name) != LDNS_STATUS_OK)
		return -1;
	ldns_dname2canonical(d);
	ldns_buffer_write(b, ldns_rdf_data(d), ldns_rdf_size(d));
	ldns_rdf_deep_free(d);
	rc = ldns_buffer_status_ok(b) ? 0 : -1;
	return rc;
}

static void
put_u48(ldns_buffer *b, uint64_t t)
{
	ldns_buffer_write_u16(b, (uint16_t)(t >> 32));
	ldns_buffer_write_u32(b, (uint32_t)t);
}

/* The TSIG variables of RFC 8945 section 4.3.3. */
static int
put_vars(ldns_buffer *b, const struct zone_tsig *k, uint64_t when,
    uint16_t fudge, uint16_t error, const uint8_t *other, uint16_t olen)
{
	if (put_name(b, k->name) == -1)
		return -1;
	ldns_buffer_write_u16(b, LDNS_RR_CLASS_ANY);
	ldns_buffer_write_u32(b, 0);
	if (put_name(b, k->algorithm) == -1)
		return -1;
	put_u48(b, when);
	ldns_buffer_write_u16(b, fudge);
	ldns_buffer_write_u16(b, error);
	ldns_buffer_write_u16(b, olen);
	if (olen > 0)
		ldns_buffer_write(b, other, olen);
	return ldns_buffer_status_ok(b) ? 0 : -1;
}

static int
hmac(const struct zone_tsig *k, const uint8_t *data, size_t len,
    unsigned char *mac, size_t *maclen)
{
	unsigned char raw[512];
	unsigned int ml = 0;
	const char *md = md_name(k->algorithm);
	int n, rc = -1;

	if (md == NULL || (n = secret_raw(k, raw, sizeof(raw))) <= 0)
		goto out;
	if (HMAC(EVP_get_digestbyname(md), raw, n, data, len, mac, &ml) ==
	    NULL)
		goto out;
	*maclen = ml;
	rc = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

int
zone_tsig_sign(ldns_pkt *q, const struct zone_tsig *k, uint16_t fudge,
    unsigned char *mac, size_t *maclen, char *err, size_t errlen)
{
	ldns_buffer *b = NULL;
	ldns_rr *tsig = NULL;
	ldns_rdf *f;
	uint8_t tbuf[6], u16[2];
	uint64_t now = (uint64_t)time(NULL);
	int i, rc = -1;

	ldns_rr_free(ldns_pkt_tsig(q));	/* set_tsig does not free it */
	ldns_pkt_set_tsig(q, NULL);
	/* Same encoding as zone_exchange sends: no name compression. */
	if ((b = ldns_buffer_new(LDNS_MAX_PACKETLEN)) == NULL ||
	    ldns_pkt2buffer_wire_compress(b, q, NULL) != LDNS_STATUS_OK ||
	    put_vars(b, k, now, fudge, 0, NULL, 0) == -1 ||
	    hmac(k, ldns_buffer_begin(b), ldns_buffer_position(b), mac,
	    maclen) == -1) {
		errfmt(err, errlen, "cannot compute the TSIG MAC with key %s",
		    k->name);
		goto out;
	}
	/* The TSIG RR; ldns writes it last and counts it in ARCOUNT. */
	if ((tsig = ldns_rr_new()) == NULL ||
	    ldns_str2rdf_dname(&f, k->name) != LDNS_STATUS_OK)
		goto nomem;
	ldns_rr_set_owner(tsig, f);
	ldns_rr_set_type(tsig, LDNS_RR_TYPE_TSIG);
	ldns_rr_set_class(tsig, LDNS_RR_CLASS_ANY);
	ldns_rr_set_ttl(tsig, 0);
	if (ldns_str2rdf_dname(&f, k->algorithm) != LDNS_STATUS_OK)
		goto nomem;
	ldns_rr_push_rdf(tsig, f);
	for (i = 0; i < 6; i++)
		tbuf[i] = (uint8_t)(now >> (8 * (5 - i)));
	ldns_rr_push_rdf(tsig, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_TSIGTIME,
	    6, tbuf));
	ldns_rr_push_rdf(tsig, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16,
	    fudge));
	{
		uint8_t md[2 + ZONE_TSIG_MAX_MAC];

		md[0] = (uint8_t)(*maclen >> 8);
		md[1] = (uint8_t)*maclen;
		memcpy(md + 2, mac, *maclen);
		ldns_rr_push_rdf(tsig, ldns_rdf_new_frm_data(
		    LDNS_RDF_TYPE_INT16_DATA, 2 + *maclen, md));
	}
	ldns_rr_push_rdf(tsig, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16,
	    ldns_pkt_id(q)));
	ldns_rr_push_rdf(tsig, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 0));
	u16[0] = u16[1] = 0;
	ldns_rr_push_rdf(tsig, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA,
	    2, u16));
	if (ldns_rr_rd_count(tsig) != 7)
		goto nomem;
	ldns_pkt_set_tsig(q, tsig);
	tsig = NULL;
	rc = 0;
	goto out;
nomem:
	errfmt(err, errlen, "out of memory");
out:
	ldns_rr_free(tsig);
	ldns_buffer_free(b);
	return rc;
}

int
zone_tsig_verify(const uint8_t *wire, size_t len, const ldns_pkt *r,
    const struct zone_tsig *k, const unsigned char *reqmac, size_t reqmaclen,
    char *err, size_t errlen)
{
	const ldns_rr *t = ldns_pkt_tsig(r);
	ldns_buffer *b = NULL;
	ldns_rr *rr = NULL;
	unsigned char mac[EVP_MAX_MD_SIZE];
	const uint8_t *d;
	size_t pos = LDNS_HEADER_SIZE, tsig_at = 0, maclen, i, n, total;
	uint64_t when = 0;
	uint16_t fudge, olen;
	ldns_rdf *alg = NULL;
	int rc = -1, ok;

	if (t == NULL || ldns_rr_rd_count(t) != 7 || len < LDNS_HEADER_SIZE) {
		errfmt(err, errlen, "reply TSIG malformed");
		return -1;
	}
	/* Find where the TSIG RR starts: it is the last RR of the message. */
	total = (size_t)LDNS_QDCOUNT(wire) + LDNS_ANCOUNT(wire) +
	    LDNS_NSCOUNT(wire) + LDNS_ARCOUNT(wire);
	for (i = 0; i < total; i++) {
		tsig_at = pos;
		if (ldns_wire2rr(&rr, wire, len, &pos, i < LDNS_QDCOUNT(wire) ?
		    LDNS_SECTION_QUESTION : LDNS_SECTION_ADDITIONAL) !=
		    LDNS_STATUS_OK) {
			errfmt(err, errlen, "reply malformed");
			goto out;
		}
		ldns_rr_free(rr);
		rr = NULL;
	}
	if (ldns_str2rdf_dname(&alg, k->algorithm) != LDNS_STATUS_OK ||
	    ldns_dname_compare(alg, ldns_rr_rdf(t, 0)) != 0) {
		errfmt(err, errlen, "reply TSIG uses another algorithm");
		goto out;
	}
	d = ldns_rdf_data(ldns_rr_rdf(t, 1));
	if (ldns_rdf_size(ldns_rr_rdf(t, 1)) != 6)
		goto bad;
	for (i = 0; i < 6; i++)
		when = when << 8 | d[i];
	fudge = ldns_rdf2native_int16(ldns_rr_rdf(t, 2));
	d = ldns_rdf_data(ldns_rr_rdf(t, 3));
	n = ldns_rdf_size(ldns_rr_rdf(t, 3));
	if (n < 2 || (size_t)(d[0] << 8 | d[1]) != n - 2)
		goto bad;
	olen = (uint16_t)(ldns_rdf_size(ldns_rr_rdf(t, 6)) >= 2 ?
	    ldns_rdf_size(ldns_rr_rdf(t, 6)) - 2 : 0);
	if ((b = ldns_buffer_new(len + 1024)) == NULL)
		goto bad;
	/* Request MAC, the reply without TSIG (original ID, ARCOUNT - 1). */
	ldns_buffer_write_u16(b, (uint16_t)reqmaclen);
	ldns_buffer_write(b, reqmac, reqmaclen);
	ldns_buffer_write_u16(b, ldns_rdf2native_int16(ldns_rr_rdf(t, 4)));
	ldns_buffer_write(b, wire + 2, 8);
	ldns_buffer_write_u16(b, (uint16_t)(LDNS_ARCOUNT(wire) - 1));
	ldns_buffer_write(b, wire + LDNS_HEADER_SIZE, tsig_at -
	    LDNS_HEADER_SIZE);
	if (put_vars(b, k, when, fudge,
	    ldns_rdf2native_int16(ldns_rr_rdf(t, 5)),
	    ldns_rdf_data(ldns_rr_rdf(t, 6)) + 2, olen) == -1 ||
	    hmac(k, ldns_buffer_begin(b), ldns_buffer_position(b), mac,
	    &maclen) == -1)
		goto bad;
	ok = maclen == n - 2 && CRYPTO_memcmp(mac, d + 2, maclen) == 0;
	if (!ok) {
		errfmt(err, errlen, "reply TSIG does not verify with key %s",
		    k->name);
		goto out;
	}
	{
		long long skew = (long long)when - (long long)time(NULL);

		if (skew > fudge || -skew > fudge) {
			errfmt(err, errlen, "reply TSIG time is %lld s off "
			    "(fudge %u)", skew, fudge);
			goto out;
		}
	}
	rc = 0;
	goto out;
bad:
	errfmt(err, errlen, "reply TSIG malformed");
out:
	ldns_rdf_deep_free(alg);
	ldns_buffer_free(b);
	return rc;
}
