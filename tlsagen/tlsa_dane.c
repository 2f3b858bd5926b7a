/*
 * tlsa_dane.c: offline DANE verification with OpenSSL's DANE engine.
 *
 * OpenSSL ties its DANE state to an SSL object.  We make one that never
 * connects, load the records into it and run X509_verify_cert the same
 * way libssl does during a handshake (ssl_verify_cert_chain), so that
 * files and live servers get exactly the verdict a sending MTA linked
 * with OpenSSL would reach.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "log.h"
#include "tlsa_dane.h"

static SSL_CTX *ctx_dane, *ctx_pkix;

void
tlsa_dane_cleanup(void)
{
	SSL_CTX_free(ctx_dane);
	SSL_CTX_free(ctx_pkix);
	ctx_dane = ctx_pkix = NULL;
}

static SSL_CTX *
get_ctx(int pkix)
{
	SSL_CTX **pp = pkix ? &ctx_pkix : &ctx_dane, *c;

	if (*pp != NULL)
		return *pp;
	if ((c = SSL_CTX_new(TLS_client_method())) == NULL)
		return NULL;
	if (SSL_CTX_dane_enable(c) <= 0 ||
	    (pkix && !SSL_CTX_set_default_verify_paths(c))) {
		SSL_CTX_free(c);
		return NULL;
	}
	SSL_CTX_dane_set_flags(c, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	*pp = c;
	return c;
}

/* A lone key can only match DANE-EE(3) SPKI records. */
static int
verify_key(EVP_PKEY *key, const struct tlsa_rec *recs, size_t n,
    struct tlsa_match *m, char *err, size_t errlen)
{
	struct tlsa_rec r;
	size_t i;
	int usable = 0;

	for (i = 0; i < n; i++) {
		if (recs[i].spec.usage != TLSA_USAGE_DANE_EE ||
		    recs[i].spec.selector != TLSA_SEL_SPKI ||
		    recs[i].spec.mtype > TLSA_MT_SHA512)
			continue;
		usable++;
		if (tlsa_compute(&recs[i].spec, NULL, key, &r, err,
		    errlen) == -1)
			return -1;
		if (r.len == recs[i].len &&
		    memcmp(r.data, recs[i].data, r.len) == 0) {
			tlsa_rec_clear(&r);
			m->index = (int)i;
			m->depth = 0;
			return 1;
		}
		tlsa_rec_clear(&r);
	}
	errfmt(m->reason, sizeof(m->reason), usable == 0 ?
	    "no 3 1 x record to compare a bare key with" :
	    "no record matches the key");
	return 0;
}

int
tlsa_dane_verify(STACK_OF(X509) *chain, EVP_PKEY *key, const char *host,
    const struct tlsa_rec *recs, size_t n, struct tlsa_match *m, char *err,
    size_t errlen)
{
	return tlsa_dane_verify_names(chain, key, &host, host != NULL ? 1 : 0,
	    recs, n, m, err, errlen);
}

int
tlsa_dane_verify_names(STACK_OF(X509) *chain, EVP_PKEY *key,
    const char *const *names, size_t nnames, const struct tlsa_rec *recs,
    size_t n, struct tlsa_match *m, char *err, size_t errlen)
{
	const char *peer;
	X509_STORE_CTX *xctx = NULL;
	STACK_OF(X509) *untrusted = NULL;
	SSL_CTX *c;
	SSL *ssl = NULL;
	uint8_t u, s, mt;
	const unsigned char *data;
	size_t i, dlen, j;
	int pkix = 0, usable = 0, r, rc = -1, verr;

	memset(m, 0, sizeof(*m));
	m->index = -1;
	m->depth = -1;
	if (chain == NULL || sk_X509_num(chain) == 0)
		return verify_key(key, recs, n, m, err, errlen);

	for (i = 0; i < n; i++)
		if (recs[i].spec.usage <= TLSA_USAGE_PKIX_EE)
			pkix = 1;
	if (nnames > TLSA_DANE_MAXNAMES) {
		errfmt(err, errlen, "more than %d reference identifiers",
		    TLSA_DANE_MAXNAMES);
		goto out;
	}
	if ((c = get_ctx(pkix)) == NULL || (ssl = SSL_new(c)) == NULL ||
	    SSL_dane_enable(ssl, nnames > 0 ? names[0] : NULL) <= 0) {
		errfmt(err, errlen, "cannot set up DANE verification");
		err_add_openssl(err, errlen);
		goto out;
	}
	/* Further reference identifiers: any one of them may match. */
	for (i = 1; i < nnames; i++)
		if (SSL_add1_host(ssl, names[i]) != 1) {
			errfmt(err, errlen, "cannot add the reference "
			    "identifier %s", names[i]);
			err_add_openssl(err, errlen);
			goto out;
		}
	for (i = 0; i < n; i++) {
		r = SSL_dane_tlsa_add(ssl, recs[i].spec.usage,
		    recs[i].spec.selector, recs[i].spec.mtype, recs[i].data,
		    recs[i].len);
		if (r > 0)
			usable++;
		ERR_clear_error();	/* malformed records are skipped */
	}
	if (usable == 0) {
		errfmt(m->reason, sizeof(m->reason), "no usable TLSA record");
		rc = 0;
		goto out;
	}
	if ((untrusted = sk_X509_dup(chain)) == NULL ||
	    (xctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(xctx, SSL_CTX_get_cert_store(c),
	    sk_X509_value(chain, 0), untrusted)) {
		errfmt(err, errlen, "cannot set up verification");
		err_add_openssl(err, errlen);
		goto out;
	}
	/* As ssl_verify_cert_chain() does for a client. */
	X509_STORE_CTX_set_default(xctx, "ssl_server");
	X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(xctx),
	    SSL_get0_param(ssl));
	X509_STORE_CTX_set0_dane(xctx, SSL_get0_dane(ssl));
	r = X509_verify_cert(xctx);
	verr = X509_STORE_CTX_get_error(xctx);
	ERR_clear_error();
	if (r <= 0 || verr != X509_V_OK) {
		errfmt(m->reason, sizeof(m->reason), "%s",
		    X509_verify_cert_error_string(verr));
		rc = 0;
		goto out;
	}
	r = SSL_get0_dane_tlsa(ssl, &u, &s, &mt, &data, &dlen);
	if (r < 0) {
		errfmt(m->reason, sizeof(m->reason), "no TLSA record matches");
		rc = 0;
		goto out;
	}
	m->depth = r;
	peer = X509_VERIFY_PARAM_get0_peername(X509_STORE_CTX_get0_param(
	    xctx));
	if (peer != NULL)
		snprintf(m->name, sizeof(m->name), "%s", peer);
	for (j = 0; j < n; j++)
		if (recs[j].spec.usage == u && recs[j].spec.selector == s &&
		    recs[j].spec.mtype == mt && recs[j].len == dlen &&
		    memcmp(recs[j].data, data, dlen) == 0) {
			m->index = (int)j;
			break;
		}
	rc = 1;
out:
	X509_STORE_CTX_free(xctx);
	sk_X509_free(untrusted);
	SSL_free(ssl);
	return rc;
}
