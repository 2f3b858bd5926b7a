/*
 * tlsa_load.h: turn the bytes of an input (file or server) into
 * certificates and at most one key.  This module reads private keys; it
 * knows nothing of the network or of DNS.
 */
#ifndef TLSA_LOAD_H
#define TLSA_LOAD_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* Largest input file accepted, in bytes. */
#define TLSA_MAX_INPUT (4u * 1024 * 1024)

/*
 * Most certificates in a PKCS#7 bundle (a chain is rarely longer than
 * 5; a CA's bundle may add cross-signed roots).
 */
#define TLSA_MAX_BUNDLE 64

struct tlsa_input {
	/*
	 * In input order; may be empty.  A lone certificate is decoded
	 * "lean" (see tlsa_load_buf): X509_get0_pubkey() is NULL for it,
	 * use X509_get_X509_PUBKEY().
	 */
	STACK_OF(X509)	*certs;
	EVP_PKEY	*key;		/* private or public key, or NULL */
	int		 key_private;	/* 1 when key came from a private key */
};

/*
 * Parse buf (len bytes, NUL after them) holding PEM blocks (certificates,
 * private keys, public keys, in any number and order) or one DER object.
 * A certificates-only PKCS#7/CMS bundle (DER, or one PEM "PKCS7", "PKCS #7
 * SIGNED DATA" or "CMS" block in place of CERTIFICATE blocks) gives its
 * certificates in chain order: the one that issued no other first, then
 * each one's issuer; all must be on that chain.
 * Every PEM block must decode completely; DER must have no trailing
 * bytes; certificates after the first must each have issued the one
 * before; a key given with certificates must belong to the first.
 * Unless full, an input that is a single certificate is decoded without
 * its public key object (OpenSSL 3.0 spends most of a certificate's
 * decoding time on that), which is all that computing records needs;
 * chains, keys and anything to be verified are decoded in full.
 * Returns 0 and fills in (caller calls tlsa_input_clear), or -1 with a
 * one-line reason in err.
 */
int tlsa_load_buf(const unsigned char *buf, size_t len, int full,
    struct tlsa_input *in, char *err, size_t errlen);

/* Read a file (or "-" for stdin) and parse it with tlsa_load_buf. */
int tlsa_load_file(const char *path, int full, struct tlsa_input *in,
    char *err, size_t errlen);

/*
 * Is the key in this SubjectPublicKeyInfo of a type we publish records
 * for?  Decided from its algorithm identifier alone.  1, or 0 with a
 * reason.
 */
int tlsa_spki_supported(X509_PUBKEY *spki, char *err, size_t errlen);

/* Free the lean decoding context (for leak checkers at exit). */
void tlsa_load_cleanup(void);

/* Free what an input holds and zero it. */
void tlsa_input_clear(struct tlsa_input *in);

/*
 * The issuer of certs[0] among the other certificates of the input, or
 * NULL.  Not owned by the caller.
 */
X509 *tlsa_input_issuer(const struct tlsa_input *in);

/*
 * Is the key of a type we can publish records for (RSA or RSA-PSS, EC on
 * P-256, P-384 or P-521, Ed25519, Ed448)?  Returns 1, or 0 with a reason.
 */
int tlsa_key_supported(EVP_PKEY *key, char *err, size_t errlen);

#endif
