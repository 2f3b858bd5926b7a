/*
 * tlsa_dane.h: does a chain (or a lone key) match a set of TLSA records?
 * Verification is OpenSSL's own DANE code (SSL_dane_tlsa_add and
 * X509_verify_cert), with the SMTP rules of RFC 7672: no name or expiry
 * checks for DANE-EE(3), name checks against the TLSA base domain for
 * DANE-TA(2).
 */
#ifndef TLSA_DANE_H
#define TLSA_DANE_H

#include "tlsa_rec.h"

struct tlsa_match {
	int		 index;		/* matching record in recs[], or -1 */
	int		 depth;		/* depth in the chain of the match */
	char		 reason[256];	/* why nothing matched */
};

/*
 * Verify chain (leaf first; may be NULL when key is given) for host
 * against recs[0..n-1].  Returns 1 with m->index/depth set on a match,
 * 0 with m->reason when nothing matches, -1 with err on internal error.
 */
int tlsa_dane_verify(STACK_OF(X509) *chain, EVP_PKEY *key, const char *host,
    const struct tlsa_rec *recs, size_t n, struct tlsa_match *m, char *err,
    size_t errlen);

/* Free the cached SSL contexts (for leak checkers at exit). */
void tlsa_dane_cleanup(void);

#endif
