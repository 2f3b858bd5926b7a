/*
 * tlsa_rec.c: TLSA parameters and association data.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <ldns/sha2.h>

#include "log.h"
#include "tlsa_rec.h"

struct mnemonic {
	uint8_t		 value;
	const char	*name;
};

/* RFC 7218 section 2, in the registry's spelling. */
static const struct mnemonic usages[] = {
	{ 0, "PKIX-TA" }, { 1, "PKIX-EE" }, { 2, "DANE-TA" },
	{ 3, "DANE-EE" }, { 255, "PrivCert" }, { 0, NULL }
};
static const struct mnemonic selectors[] = {
	{ 0, "Cert" }, { 1, "SPKI" }, { 255, "PrivSel" }, { 0, NULL }
};
static const struct mnemonic mtypes[] = {
	{ 0, "Full" }, { 1, "SHA2-256" }, { 2, "SHA2-512" },
	{ 255, "PrivMatch" }, { 0, NULL }
};
static const struct mnemonic *const fields[3] = { usages, selectors, mtypes };
static const char *const field_names[3] = {
	"certificate usage", "selector", "matching type"
};


const char *
tlsa_field_name(int field, uint8_t v)
{
	const struct mnemonic *m;

	for (m = fields[field]; m->name != NULL; m++)
		if (m->value == v)
			return m->name;
	return NULL;
}

int
tlsa_field_parse(int field, const char *s, uint8_t *out)
{
	const struct mnemonic *m;
	unsigned long v;
	char *end;

	if (*s == '\0')
		return -1;
	if (isdigit((unsigned char)*s)) {
		v = strtoul(s, &end, 10);
		if (*end != '\0' || v > 255 || strlen(s) > 3)
			return -1;
		*out = (uint8_t)v;
		return 0;
	}
	for (m = fields[field]; m->name != NULL; m++)
		if (strcasecmp(m->name, s) == 0) {
			*out = m->value;
			return 0;
		}
	return -1;
}

int
tlsa_spec_parse(const char *s, struct tlsa_spec *spec, char *err,
    size_t errlen)
{
	char copy[128], *tok[3], *p, vis[160];
	uint8_t v[3];
	int n = 0, i;

	if (strlen(s) >= sizeof(copy)) {
		errfmt(err, errlen, "record type too long");
		return -1;
	}
	strcpy(copy, s);
	p = copy;
	while (n < 4) {
		p += strspn(p, " \t,:/");
		if (*p == '\0')
			break;
		if (n == 3) {
			n++;
			break;
		}
		tok[n++] = p;
		p += strcspn(p, " \t,:/");
		if (*p != '\0')
			*p++ = '\0';
	}
	if (n != 3) {
		errfmt(err, errlen, "\"%s\": want usage,selector,matching-type",
		    str_vis(vis, sizeof(vis), s, strlen(s)));
		return -1;
	}
	for (i = 0; i < 3; i++)
		if (tlsa_field_parse(i, tok[i], &v[i]) == -1) {
			errfmt(err, errlen, "\"%s\": bad %s \"%s\"",
			    str_vis(vis, sizeof(vis), s, strlen(s)),
			    field_names[i], tok[i]);
			return -1;
		}
	spec->usage = v[0];
	spec->selector = v[1];
	spec->mtype = v[2];
	return 0;
}

int
tlsa_spec_computable(const struct tlsa_spec *spec, char *err, size_t errlen)
{
	if (spec->usage > 3) {
		errfmt(err, errlen, "certificate usage %u has no defined "
		    "meaning", spec->usage);
		return 0;
	}
	if (spec->selector > 1) {
		errfmt(err, errlen, "selector %u cannot be computed",
		    spec->selector);
		return 0;
	}
	if (spec->mtype > 2) {
		errfmt(err, errlen, "matching type %u cannot be computed",
		    spec->mtype);
		return 0;
	}
	return 1;
}

void
tlsa_rec_cleanup(void)
{
}

int
tlsa_compute(const struct tlsa_spec *spec, X509 *cert, EVP_PKEY *key,
    struct tlsa_rec *rec, char *err, size_t errlen)
{
	unsigned char *der = NULL, *md = NULL;
	unsigned int mdlen;
	int dlen, rc = -1;

	memset(rec, 0, sizeof(*rec));
	if (!tlsa_spec_computable(spec, err, errlen))
		return -1;
	if (spec->selector == TLSA_SEL_CERT) {
		if (cert == NULL) {
			errfmt(err, errlen, "selector 0 (Cert) needs a "
			    "certificate, not a bare key");
			return -1;
		}
		dlen = i2d_X509(cert, &der);
	} else if (cert != NULL) {
		/*
		 * The SPKI exactly as the certificate holds it; re-encoding
		 * the key (i2d_PUBKEY) costs an encoder setup per call.
		 */
		dlen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	} else {
		if (key == NULL) {
			errfmt(err, errlen, "no public key");
			goto out;
		}
		dlen = i2d_PUBKEY(key, &der);
	}
	if (dlen <= 0) {
		errfmt(err, errlen, "cannot encode %s",
		    spec->selector == TLSA_SEL_CERT ? "certificate" :
		    "public key");
		err_add_openssl(err, errlen);
		goto out;
	}
	if (spec->mtype == TLSA_MT_FULL) {
		if ((size_t)dlen > TLSA_MAX_DATA) {
			errfmt(err, errlen, "full data is %d bytes, more than "
			    "a record holds", dlen);
			goto out;
		}
		rec->data = der;
		rec->len = (size_t)dlen;
		der = NULL;
	} else {
		/*
		 * ldns's SHA-2: the first OpenSSL 3.0 digest fetch costs a
		 * provider initialisation that outweighs hashing a
		 * certificate by far, in a tool that is often run once per
		 * certificate.
		 */
		mdlen = spec->mtype == TLSA_MT_SHA256 ?
		    LDNS_SHA256_DIGEST_LENGTH : LDNS_SHA512_DIGEST_LENGTH;
		if ((md = malloc(mdlen)) == NULL) {
			errfmt(err, errlen, "out of memory");
			goto out;
		}
		if (spec->mtype == TLSA_MT_SHA256)
			ldns_sha256(der, (unsigned int)dlen, md);
		else
			ldns_sha512(der, (unsigned int)dlen, md);
		rec->data = md;
		rec->len = mdlen;
		md = NULL;
	}
	rec->spec = *spec;
	rc = 0;
out:
	OPENSSL_free(der);
	free(md);
	return rc;
}

void
tlsa_rec_clear(struct tlsa_rec *rec)
{
	free(rec->data);
	memset(rec, 0, sizeof(*rec));
}

int
tlsa_rec_copy(struct tlsa_rec *dst, const struct tlsa_rec *src)
{
	memset(dst, 0, sizeof(*dst));
	if ((dst->data = malloc(src->len > 0 ? src->len : 1)) == NULL)
		return -1;
	if (src->len > 0)
		memcpy(dst->data, src->data, src->len);
	dst->spec = src->spec;
	dst->len = src->len;
	return 0;
}

char *
tlsa_hex(const unsigned char *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *s;
	size_t i;

	if ((s = malloc(len * 2 + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		s[2 * i] = digits[data[i] >> 4];
		s[2 * i + 1] = digits[data[i] & 0xf];
	}
	s[2 * len] = '\0';
	return s;
}

int
tlsa_hexdigit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
tlsa_unhex(const char *s, unsigned char **out, size_t *outlen, char *err,
    size_t errlen)
{
	unsigned char *buf;
	size_t n = 0, cap = strlen(s) / 2 + 1;
	int hi, lo;

	*out = NULL;
	*outlen = 0;
	if ((buf = malloc(cap)) == NULL) {
		errfmt(err, errlen, "out of memory");
		return -1;
	}
	while (*s != '\0') {
		if (isspace((unsigned char)*s)) {
			s++;
			continue;
		}
		if ((hi = tlsa_hexdigit(s[0])) == -1 || (lo = tlsa_hexdigit(s[1])) == -1) {
			errfmt(err, errlen, "association data is not hex "
			    "digit pairs");
			free(buf);
			return -1;
		}
		buf[n++] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	if (n == 0 || n > TLSA_MAX_DATA) {
		errfmt(err, errlen, "association data is %s",
		    n == 0 ? "empty" : "too long");
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = n;
	return 0;
}
