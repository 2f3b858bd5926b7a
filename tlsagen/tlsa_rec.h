/*
 * tlsa_rec.h: TLSA parameters (usage, selector, matching type), RFC 7218
 * mnemonics, and the association data computed from a certificate or key.
 * Pure computation: no files, no network, no DNS.
 */
#ifndef TLSA_REC_H
#define TLSA_REC_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

enum { TLSA_USAGE_PKIX_TA = 0, TLSA_USAGE_PKIX_EE = 1,
    TLSA_USAGE_DANE_TA = 2, TLSA_USAGE_DANE_EE = 3 };
enum { TLSA_SEL_CERT = 0, TLSA_SEL_SPKI = 1 };
enum { TLSA_MT_FULL = 0, TLSA_MT_SHA256 = 1, TLSA_MT_SHA512 = 2 };

/* Longest association data we compute or accept (a large RSA cert). */
#define TLSA_MAX_DATA 65535

struct tlsa_spec {
	uint8_t usage, selector, mtype;
};

struct tlsa_rec {
	struct tlsa_spec spec;
	unsigned char	*data;		/* owned */
	size_t		 len;
};

/*
 * Parse "3,1,1", "3 1 1", "3:1:1" or mnemonics ("dane-ee,spki,sha2-256",
 * case-insensitive, RFC 7218).  Returns 0, or -1 with a reason.
 */
int tlsa_spec_parse(const char *s, struct tlsa_spec *spec, char *err,
    size_t errlen);

/* Parse one field (0 usage, 1 selector, 2 matching type): number or name. */
int tlsa_field_parse(int field, const char *s, uint8_t *out);

/* RFC 7218 name of a value, or NULL. */
const char *tlsa_field_name(int field, uint8_t v);

/*
 * Can we compute records with these parameters?  Usage 0..3, selector
 * 0..1, matching type 0..2.  Returns 1 or 0 with a reason.
 */
int tlsa_spec_computable(const struct tlsa_spec *spec, char *err,
    size_t errlen);

/*
 * Compute the association data for cert (may be NULL when selector is
 * SPKI and key is given) into rec (rec->data owned by the caller, free
 * with tlsa_rec_clear).  Returns 0 or -1 with a reason.
 */
int tlsa_compute(const struct tlsa_spec *spec, X509 *cert, EVP_PKEY *key,
    struct tlsa_rec *rec, char *err, size_t errlen);

void tlsa_rec_clear(struct tlsa_rec *rec);

/* dst = a copy of src (data duplicated).  0, or -1 (memory; dst empty). */
int tlsa_rec_copy(struct tlsa_rec *dst, const struct tlsa_rec *src);

/* Lower-case hex of data into a new string (caller frees), or NULL. */
char *tlsa_hex(const unsigned char *data, size_t len);

/*
 * Parse hex (white space allowed between digit pairs) into a new buffer.
 * Returns 0 or -1 with a reason.
 */
/* The value of a hex digit (either case), or -1. */
int tlsa_hexdigit(int c);

int tlsa_unhex(const char *s, unsigned char **out, size_t *outlen,
    char *err, size_t errlen);

/* Free the cached digests (for leak checkers at exit). */
void tlsa_rec_cleanup(void);

#endif
