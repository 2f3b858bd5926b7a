/*
 * tlsa_load.c: PEM and DER decoding of certificates and keys.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fileio.h"
#include "log.h"
#include "tlsa_load.h"

void
tlsa_input_clear(struct tlsa_input *in)
{
	if (in->certs != NULL)
		sk_X509_pop_free(in->certs, X509_free);
	EVP_PKEY_free(in->key);
	memset(in, 0, sizeof(*in));
}

/*
 * Certificates decoded in a library context that has only the null
 * provider: no key decoder is found, so the X509_PUBKEY keeps its bytes
 * and no EVP_PKEY is built.
 */
static OSSL_LIB_CTX *lean_ctx;
static OSSL_PROVIDER *lean_null;

static OSSL_LIB_CTX *
get_lean_ctx(void)
{
	if (lean_ctx == NULL && (lean_ctx = OSSL_LIB_CTX_new()) != NULL &&
	    (lean_null = OSSL_PROVIDER_load(lean_ctx, "null")) == NULL) {
		OSSL_LIB_CTX_free(lean_ctx);
		lean_ctx = NULL;
	}
	return lean_ctx;
}

void
tlsa_load_cleanup(void)
{
	if (lean_null != NULL)
		OSSL_PROVIDER_unload(lean_null);
	OSSL_LIB_CTX_free(lean_ctx);
	lean_null = NULL;
	lean_ctx = NULL;
}

int
tlsa_spki_supported(X509_PUBKEY *spki, char *err, size_t errlen)
{
	ASN1_OBJECT *alg;
	X509_ALGOR *pa;
	const ASN1_OBJECT *curve;
	const void *pval;
	int ptype, nid, cnid;

	if (spki == NULL || !X509_PUBKEY_get0_param(&alg, NULL, NULL, &pa,
	    spki)) {
		errfmt(err, errlen, "certificate has no usable public key");
		return 0;
	}
	switch (nid = OBJ_obj2nid(alg)) {
	case NID_rsaEncryption:
	case NID_rsassaPss:	/* RFC 4055; its parameters stay in the SPKI */
	case NID_ED25519:
	case NID_ED448:
		return 1;
	case NID_X9_62_id_ecPublicKey:
		X509_ALGOR_get0(NULL, &ptype, &pval, pa);
		if (ptype != V_ASN1_OBJECT) {
			/* RFC 5480 section 2.1.1: named curves only. */
			errfmt(err, errlen, "EC key with explicit curve "
			    "parameters (RFC 5480 allows named curves only)");
			return 0;
		}
		curve = pval;
		cnid = OBJ_obj2nid(curve);
		if (cnid == NID_X9_62_prime256v1 || cnid == NID_secp384r1 ||
		    cnid == NID_secp521r1)
			return 1;
		errfmt(err, errlen, "unsupported EC curve %s",
		    cnid != NID_undef ? OBJ_nid2sn(cnid) : "(unknown)");
		return 0;
	default:
		errfmt(err, errlen, "unsupported key type %s",
		    nid != NID_undef ? OBJ_nid2sn(nid) : "(unknown)");
		return 0;
	}
}

X509 *
tlsa_input_issuer(const struct tlsa_input *in)
{
	X509 *leaf, *c;
	int i;

	if (in->certs == NULL || sk_X509_num(in->certs) < 2)
		return NULL;
	leaf = sk_X509_value(in->certs, 0);
	for (i = 1; i < sk_X509_num(in->certs); i++) {
		c = sk_X509_value(in->certs, i);
		if (X509_check_issued(c, leaf) == X509_V_OK)
			return c;
	}
	return NULL;
}

int
tlsa_key_supported(EVP_PKEY *key, char *err, size_t errlen)
{
	char group[64];
	size_t glen = 0;

	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448:
		return 1;
	case EVP_PKEY_EC:
		/* RFC 5480 section 2.1.1: named curves only. */
		if (EVP_PKEY_get_utf8_string_param(key,
		    OSSL_PKEY_PARAM_EC_ENCODING, group, sizeof(group), &glen) &&
		    strcmp(group, OSSL_PKEY_EC_ENCODING_EXPLICIT) == 0) {
			errfmt(err, errlen, "EC key with explicit curve "
			    "parameters (RFC 5480 allows named curves only)");
			return 0;
		}
		ERR_clear_error();
		if (!EVP_PKEY_get_utf8_string_param(key,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &glen)) {
			ERR_clear_error();
			errfmt(err, errlen, "EC key with explicit or unknown "
			    "curve parameters");
			return 0;
		}
		if (strcmp(group, "prime256v1") == 0 ||
		    strcmp(group, "secp384r1") == 0 ||
		    strcmp(group, "secp521r1") == 0)
			return 1;
		errfmt(err, errlen, "unsupported EC curve %s", group);
		return 0;
	default:
		errfmt(err, errlen, "unsupported key type %s",
		    EVP_PKEY_get0_type_name(key) != NULL ?
		    EVP_PKEY_get0_type_name(key) : "(unknown)");
		return 0;
	}
}

/*
 * Decode a key from DER with OpenSSL's decoders; structure is
 * "PrivateKeyInfo", "SubjectPublicKeyInfo", "type-specific" or NULL.
 * Returns the key (and sets *private) or NULL.  The whole input must be
 * consumed.
 */
static EVP_PKEY *
decode_key(const unsigned char *der, size_t len, const char *keytype,
    const char *structure, int selection, int *private)
{
	OSSL_DECODER_CTX *dctx;
	EVP_PKEY *pkey = NULL;
	const unsigned char *p = der;
	size_t left = len;

	dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "DER", structure, keytype,
	    selection, NULL, NULL);
	if (dctx == NULL)
		return NULL;
	if (!OSSL_DECODER_from_data(dctx, &p, &left) || left != 0) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	OSSL_DECODER_CTX_free(dctx);
	if (pkey != NULL)
		*private = (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0;
	return pkey;
}

static int
add_key(struct tlsa_input *in, EVP_PKEY *key, int private, char *err,
    size_t errlen)
{
	if (in->key != NULL) {
		EVP_PKEY_free(key);
		errfmt(err, errlen, "more than one key");
		return -1;
	}
	in->key = key;
	in->key_private = private;
	return 0;
}

static int
add_cert(struct tlsa_input *in, X509 *x)
{
	if (in->certs == NULL && (in->certs = sk_X509_new_null()) == NULL)
		return -1;
	if (!sk_X509_push(in->certs, x))
		return -1;
	return 0;
}

/*
 * Put the certificates of a bundle (a SET OF, in no defined order) into
 * in->certs the way a chain file lists them: the leaf (the one that
 * issued none of the others) first, then each certificate's issuer.
 * Duplicates are dropped.  Every certificate must be on the leaf's
 * chain.  Takes no ownership of bundle.  0, or -1 with a reason.
 */
static int
add_bundle(struct tlsa_input *in, STACK_OF(X509) *bundle, char *err,
    size_t errlen)
{
	STACK_OF(X509) *u = NULL;
	X509 *x, *cur;
	char *used = NULL;
	int n, i, j, leaf = -1, count, rc = -1;

	/* Ordering compares every pair: bound the work a file can ask for. */
	if (sk_X509_num(bundle) > TLSA_MAX_BUNDLE) {
		errfmt(err, errlen, "PKCS#7 bundle holds %d certificates, more "
		    "than %d", sk_X509_num(bundle), TLSA_MAX_BUNDLE);
		goto out;
	}
	if ((u = sk_X509_new_null()) == NULL) {
		errfmt(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < sk_X509_num(bundle); i++) {
		x = sk_X509_value(bundle, i);
		for (j = 0; j < sk_X509_num(u); j++)
			if (X509_cmp(x, sk_X509_value(u, j)) == 0)
				break;
		if (j == sk_X509_num(u) && !sk_X509_push(u, x)) {
			errfmt(err, errlen, "out of memory");
			goto out;
		}
	}
	if ((n = sk_X509_num(u)) == 0) {
		errfmt(err, errlen, "PKCS#7 bundle holds no certificates");
		goto out;
	}
	if ((used = calloc((size_t)n, 1)) == NULL) {
		errfmt(err, errlen, "out of memory");
		goto out;
	}
	/* The leaf: the one certificate that issued no other. */
	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++)
			if (j != i && X509_check_issued(sk_X509_value(u, i),
			    sk_X509_value(u, j)) == X509_V_OK)
				break;
		if (j < n)
			continue;
		if (leaf != -1) {
			errfmt(err, errlen, "PKCS#7 bundle is not one chain: "
			    "certificates %d and %d both issued none of the "
			    "others", leaf + 1, i + 1);
			goto out;
		}
		leaf = i;
	}
	if (leaf == -1) {
		errfmt(err, errlen, "PKCS#7 bundle has no leaf certificate "
		    "(its certificates issued each other in a loop)");
		goto out;
	}
	/* Up from the leaf; a self-issued certificate ends the chain. */
	j = leaf;
	for (count = 0; j < n; count++) {
		cur = sk_X509_value(u, j);
		used[j] = 1;
		if (!X509_up_ref(cur)) {
			errfmt(err, errlen, "out of memory");
			goto out;
		}
		if (add_cert(in, cur) == -1) {
			X509_free(cur);
			errfmt(err, errlen, "out of memory");
			goto out;
		}
		if (X509_check_issued(cur, cur) == X509_V_OK)
			j = n;
		else
			for (j = 0; j < n; j++)
				if (!used[j] && X509_check_issued(
				    sk_X509_value(u, j), cur) == X509_V_OK)
					break;
	}
	if (count != n) {
		for (j = 0; j < n && used[j]; j++)
			;
		errfmt(err, errlen, "PKCS#7 bundle: certificate %d is not on "
		    "the chain of the leaf (certificate %d)", j + 1, leaf + 1);
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	free(used);
	sk_X509_free(u);
	return rc;
}

/*
 * A PKCS#7 (RFC 2315) or CMS (RFC 5652) certificates-only bundle, DER or
 * BER in der/len: a signed-data without signers, as in .p7b/.p7c files
 * and "openssl crl2pkcs7 -nocrl" output.  Its certificates go into
 * in->certs in chain order (add_bundle).  0, or -1 with a reason.
 */
static int
load_pkcs7(struct tlsa_input *in, const unsigned char *der, long len,
    char *err, size_t errlen)
{
	const unsigned char *p = der;
	PKCS7 *p7;
	STACK_OF(X509) *certs;
	int nid, rc = -1;

	if ((p7 = d2i_PKCS7(NULL, &p, len)) == NULL) {
		errfmt(err, errlen, "malformed PKCS#7");
		err_add_openssl(err, errlen);
		return -1;
	}
	if (p != der + len) {
		errfmt(err, errlen, "trailing bytes after PKCS#7 (%ld)",
		    len - (long)(p - der));
		goto out;
	}
	if ((nid = OBJ_obj2nid(p7->type)) != NID_pkcs7_signed) {
		char oid[80];

		if (nid == NID_undef)
			OBJ_obj2txt(oid, sizeof(oid), p7->type, 1);
		errfmt(err, errlen, "PKCS#7 of type %s, not a certificate "
		    "bundle (signed-data)", nid != NID_undef ?
		    OBJ_nid2sn(nid) : oid);
		goto out;
	}
	if (p7->d.sign == NULL) {
		errfmt(err, errlen, "PKCS#7 signed-data with no content");
		goto out;
	}
	if (sk_PKCS7_SIGNER_INFO_num(p7->d.sign->signer_info) > 0) {
		errfmt(err, errlen, "PKCS#7 signed message, not a "
		    "certificates-only bundle (it has signers)");
		goto out;
	}
	certs = p7->d.sign->cert;
	if (certs == NULL || sk_X509_num(certs) == 0) {
		errfmt(err, errlen, "PKCS#7 bundle holds no certificates");
		goto out;
	}
	rc = add_bundle(in, certs, err, errlen);
out:
	ERR_clear_error();
	PKCS7_free(p7);
	return rc;
}

static int
is_cert_block(const char *name)
{
	return strcmp(name, "CERTIFICATE") == 0 ||
	    strcmp(name, "X509 CERTIFICATE") == 0 ||
	    strcmp(name, "TRUSTED CERTIFICATE") == 0;
}

/* One PEM block: name, decoded data; certificates in ctx (or default). */
static int
load_pem_block(struct tlsa_input *in, OSSL_LIB_CTX *ctx, int blockno,
    const char *name, const char *header, const unsigned char *data,
    long dlen, char *err, size_t errlen)
{
	const unsigned char *p = data;
	EVP_PKEY *key;
	X509 *x;
	int private = 0;

	if (header != NULL && *header != '\0' &&
	    strstr(header, "ENCRYPTED") != NULL) {
		errfmt(err, errlen, "PEM block %d (%s): encrypted keys are "
		    "not supported", blockno, name);
		return -1;
	}
	if (is_cert_block(name)) {
		if ((x = X509_new_ex(ctx, NULL)) == NULL) {
			errfmt(err, errlen, "out of memory");
			return -1;
		}
		if (strcmp(name, "TRUSTED CERTIFICATE") == 0)
			x = d2i_X509_AUX(&x, &p, dlen) != NULL ? x : NULL;
		else
			x = d2i_X509(&x, &p, dlen) != NULL ? x : NULL;
		if (x == NULL || p != data + dlen) {
			X509_free(x);
			errfmt(err, errlen, "PEM block %d: %s", blockno,
			    x == NULL ? "malformed certificate" :
			    "trailing bytes after certificate");
			err_add_openssl(err, errlen);
			return -1;
		}
		if (add_cert(in, x) == -1) {
			X509_free(x);
			errfmt(err, errlen, "out of memory");
			return -1;
		}
		return 0;
	}
	if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0) {
		errfmt(err, errlen, "PEM block %d: encrypted private keys are "
		    "not supported (decrypt it with openssl pkey first)",
		    blockno);
		return -1;
	}
	key = NULL;
	if (strcmp(name, "PRIVATE KEY") == 0)
		key = decode_key(data, (size_t)dlen, NULL, "PrivateKeyInfo",
		    OSSL_KEYMGMT_SELECT_KEYPAIR, &private);
	else if (strcmp(name, "RSA PRIVATE KEY") == 0)
		key = decode_key(data, (size_t)dlen, "RSA", "type-specific",
		    OSSL_KEYMGMT_SELECT_KEYPAIR, &private);
	else if (strcmp(name, "EC PRIVATE KEY") == 0)
		key = decode_key(data, (size_t)dlen, "EC", "type-specific",
		    OSSL_KEYMGMT_SELECT_KEYPAIR, &private);
	else if (strcmp(name, "PUBLIC KEY") == 0)
		key = decode_key(data, (size_t)dlen, NULL,
		    "SubjectPublicKeyInfo", OSSL_KEYMGMT_SELECT_PUBLIC_KEY,
		    &private);
	else if (strcmp(name, "RSA PUBLIC KEY") == 0)
		key = decode_key(data, (size_t)dlen, "RSA", "type-specific",
		    OSSL_KEYMGMT_SELECT_PUBLIC_KEY, &private);
	else if (strcmp(name, "EC PARAMETERS") == 0)
		return 0;	/* emitted by "openssl ecparam -genkey" */
	else {
		char vis[80];

		errfmt(err, errlen, "PEM block %d: unsupported type \"%s\"",
		    blockno, str_vis(vis, sizeof(vis), name, strlen(name)));
		return -1;
	}
	if (key == NULL) {
		errfmt(err, errlen, "PEM block %d: malformed %s", blockno,
		    name);
		ERR_clear_error();
		return -1;
	}
	return add_key(in, key, private, err, errlen);
}

/* How many PEM blocks of the kinds in marks[] does buf hold? */
static int
count_blocks(const unsigned char *buf, size_t len, const char *const *marks)
{
	const unsigned char *p, *end = buf + len;
	int n = 0, i;

	for (i = 0; marks[i] != NULL; i++)
		for (p = buf; p < end && (p = memmem(p, (size_t)(end - p),
		    marks[i], strlen(marks[i]))) != NULL; p++)
			n++;
	return n;
}

static int
load_pem(const unsigned char *buf, size_t len, int full,
    struct tlsa_input *in, char *err, size_t errlen)
{
	static const char *const certmarks[] = { "-----BEGIN CERTIFICATE-----",
	    "-----BEGIN X509 CERTIFICATE-----",
	    "-----BEGIN TRUSTED CERTIFICATE-----", NULL };
	static const char *const keymarks[] = { "PRIVATE KEY-----",
	    "PUBLIC KEY-----", NULL };
	OSSL_LIB_CTX *ctx = NULL;
	BIO *bio;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	char pfx[32];
	long dlen;
	int blockno = 0, p7block = 0, rc = -1;
	unsigned long e;

	/* A lone certificate needs no key object: decode it lean. */
	if (!full && count_blocks(buf, len, certmarks) == 1 &&
	    count_blocks(buf, len, keymarks) == 0)
		ctx = get_lean_ctx();
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		errfmt(err, errlen, "out of memory");
		return -1;
	}
	for (;;) {
		ERR_clear_error();
		if (!PEM_read_bio(bio, &name, &header, &data, &dlen)) {
			e = ERR_peek_last_error();
			if (ERR_GET_REASON(e) == PEM_R_NO_START_LINE &&
			    blockno > 0) {
				ERR_clear_error();
				break;
			}
			errfmt(err, errlen, "PEM block %d: %s", blockno + 1,
			    ERR_GET_REASON(e) == PEM_R_NO_START_LINE ?
			    "no PEM data" : "malformed or truncated PEM");
			ERR_clear_error();
			goto out;
		}
		blockno++;
		if (strcmp(name, PEM_STRING_PKCS7) == 0 ||
		    strcmp(name, PEM_STRING_PKCS7_SIGNED) == 0 ||
		    strcmp(name, PEM_STRING_CMS) == 0) {
			/* A bundle is the whole chain: one way to give it. */
			if (p7block != 0 || (in->certs != NULL &&
			    sk_X509_num(in->certs) > 0)) {
				errfmt(err, errlen, "PEM block %d: a PKCS#7 "
				    "bundle with other certificates (give the "
				    "chain one way)", blockno);
				goto out;
			}
			if (load_pkcs7(in, data, dlen, err, errlen) == -1) {
				snprintf(pfx, sizeof(pfx), "PEM block %d",
				    blockno);
				err_prefix(err, errlen, pfx);
				goto out;
			}
			p7block = blockno;
		} else if (p7block != 0 && is_cert_block(name)) {
			errfmt(err, errlen, "PEM block %d: a certificate after "
			    "the PKCS#7 bundle of block %d (give the chain one "
			    "way)", blockno, p7block);
			goto out;
		} else if (load_pem_block(in, ctx, blockno, name, header, data,
		    dlen, err, errlen) == -1)
			goto out;
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		name = header = NULL;
		data = NULL;
	}
	rc = 0;
out:
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
	return rc;
}

/*
 * Does DER (or BER) buf start like a PKCS#7/CMS ContentInfo, a SEQUENCE
 * whose first element is a content type OID under pkcs-7
 * (1.2.840.113549.1.7)?  Then it is reported as PKCS#7 even when the
 * rest is broken or truncated.
 */
static int
der_is_pkcs7(const unsigned char *buf, size_t len)
{
	static const char pkcs7[] = "1.2.840.113549.1.7.";
	const unsigned char *p = buf;
	ASN1_OBJECT *oid = NULL;
	char txt[64];
	long clen;
	int tag, xclass, r, yes = 0;

	if (len > TLSA_MAX_INPUT)
		return 0;
	r = ASN1_get_object(&p, &clen, &tag, &xclass, (long)len);
	if (p == buf || tag != V_ASN1_SEQUENCE || xclass !=
	    V_ASN1_UNIVERSAL || !(r & V_ASN1_CONSTRUCTED))
		goto out;
	if ((oid = d2i_ASN1_OBJECT(NULL, &p, (long)len - (long)(p - buf))) ==
	    NULL)
		goto out;
	if (OBJ_obj2txt(txt, sizeof(txt), oid, 1) > 0 &&
	    strncmp(txt, pkcs7, sizeof(pkcs7) - 1) == 0)
		yes = 1;
out:
	ASN1_OBJECT_free(oid);
	ERR_clear_error();
	return yes;
}

static int
load_der(const unsigned char *buf, size_t len, int full,
    struct tlsa_input *in, char *err, size_t errlen)
{
	const unsigned char *p = buf;
	EVP_PKEY *key;
	X509 *x;
	int private = 0;

	if (len > 0 && buf[0] == 0x30) {
		if ((x = X509_new_ex(full ? NULL : get_lean_ctx(), NULL)) !=
		    NULL && d2i_X509(&x, &p, (long)len) == NULL)
			x = NULL;	/* d2i_X509 freed it */
		if (x != NULL) {
			if (p != buf + len) {
				X509_free(x);
				errfmt(err, errlen, "trailing bytes after DER "
				    "certificate (%zu)", len - (size_t)(p - buf));
				return -1;
			}
			if (add_cert(in, x) == -1) {
				X509_free(x);
				errfmt(err, errlen, "out of memory");
				return -1;
			}
			return 0;
		}
		ERR_clear_error();
		/* A ContentInfo: SEQUENCE { OBJECT IDENTIFIER pkcs7-*, ... } */
		if (der_is_pkcs7(buf, len))
			return load_pkcs7(in, buf, (long)len, err, errlen);
		if ((key = decode_key(buf, len, NULL, "PrivateKeyInfo",
		    OSSL_KEYMGMT_SELECT_KEYPAIR, &private)) != NULL ||
		    (key = decode_key(buf, len, NULL, "SubjectPublicKeyInfo",
		    OSSL_KEYMGMT_SELECT_PUBLIC_KEY, &private)) != NULL ||
		    (key = decode_key(buf, len, NULL, "type-specific",
		    OSSL_KEYMGMT_SELECT_KEYPAIR, &private)) != NULL)
			return add_key(in, key, private, err, errlen);
		ERR_clear_error();
	}
	errfmt(err, errlen, "not a certificate or key (neither PEM nor DER)");
	return -1;
}

int
tlsa_load_buf(const unsigned char *buf, size_t len, int full,
    struct tlsa_input *in, char *err, size_t errlen)
{
	EVP_PKEY *pub = NULL;
	X509 *leaf = NULL;
	int i, rc = -1;

	memset(in, 0, sizeof(*in));
	if (len == 0) {
		errfmt(err, errlen, "empty file");
		return -1;
	}
	if (memmem(buf, len, "-----BEGIN ", 11) != NULL) {
		if (load_pem(buf, len, full, in, err, errlen) == -1)
			goto out;
	} else if (load_der(buf, len, full, in, err, errlen) == -1)
		goto out;

	if ((in->certs == NULL || sk_X509_num(in->certs) == 0) &&
	    in->key == NULL) {
		errfmt(err, errlen, "no certificate or key found");
		goto out;
	}
	if (in->certs != NULL && sk_X509_num(in->certs) > 0) {
		leaf = sk_X509_value(in->certs, 0);
		if (!tlsa_spki_supported(X509_get_X509_PUBKEY(leaf), err,
		    errlen))
			goto out;
	} else if (!tlsa_key_supported(in->key, err, errlen))
		goto out;
	/*
	 * A key that does not decode (an EC point off the curve, say) makes
	 * a certificate no server can use: its records would never match.
	 * Only a lone certificate decoded lean is not checked here.
	 */
	for (i = 0; in->certs != NULL && i < sk_X509_num(in->certs) &&
	    (full || sk_X509_num(in->certs) > 1 || in->key != NULL); i++)
		if (X509_get0_pubkey(sk_X509_value(in->certs, i)) == NULL) {
			ERR_clear_error();
			errfmt(err, errlen, "certificate %d: malformed public "
			    "key", i + 1);
			goto out;
		}
	/* A chain file lists each certificate's issuer right after it. */
	for (i = 1; in->certs != NULL && i < sk_X509_num(in->certs); i++)
		if (X509_check_issued(sk_X509_value(in->certs, i),
		    sk_X509_value(in->certs, i - 1)) != X509_V_OK) {
			errfmt(err, errlen, "certificate %d did not issue "
			    "certificate %d: not a chain in order (leaf first)",
			    i + 1, i);
			goto out;
		}
	if (in->key != NULL && leaf != NULL &&
	    ((pub = X509_get0_pubkey(leaf)) == NULL ||
	    EVP_PKEY_eq(in->key, pub) != 1)) {
		ERR_clear_error();
		errfmt(err, errlen, "%s key does not belong to the first "
		    "certificate", in->key_private ? "private" : "public");
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		tlsa_input_clear(in);
	return rc;
}

int
tlsa_load_file(const char *path, int full, struct tlsa_input *in,
    char *err, size_t errlen)
{
	unsigned char *buf;
	size_t len;
	int rc;

	memset(in, 0, sizeof(*in));
	if (fileio_read_bounded(path, TLSA_MAX_INPUT, &buf, &len, err,
	    errlen) == -1)
		return -1;
	rc = tlsa_load_buf(buf, len, full, in, err, errlen);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return rc;
}
