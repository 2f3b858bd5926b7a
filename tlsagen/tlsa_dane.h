/*
 * tlsa_dane.h: does a chain (or a lone key) match a set of TLSA records?
 * Verification is OpenSSL's own DANE code (SSL_dane_tlsa_add and
 * X509_verify_cert), with the SMTP rules of RFC 7672: no name or expiry
 * checks for DANE-EE(3), name checks for DANE-TA(2) against the reference
 * identifiers of RFC 7672 section 3.2.3 (the TLSA base domain, the MX
 * host name it was expanded from, and the next-hop domain that a sending
 * Postfix accepts too).
 */
#ifndef TLSA_DANE_H
#define TLSA_DANE_H

#include "tlsa_rec.h"

struct tlsa_match {
	int		 index;		/* matching record in recs[], or -1 */
	int		 depth;		/* depth in the chain of the match */
	char		 reason[256];	/* why nothing matched */
	char		 name[256];	/* the reference identifier that the */
					/* leaf matched (DANE-TA), or "" */
};

/* At most this many reference identifiers. */
#define TLSA_DANE_MAXNAMES	8

/*
 * Verify chain (leaf first; may be NULL when key is given) for host
 * against recs[0..n-1].  Returns 1 with m->index/depth set on a match,
 * 0 with m->reason when nothing matches, -1 with err on internal error.
 */
int tlsa_dane_verify(STACK_OF(X509) *chain, EVP_PKEY *key, const char *host,
    const struct tlsa_rec *recs, size_t n, struct tlsa_match *m, char *err,
    size_t errlen);

/*
 * The same with several reference identifiers for DANE-TA(2): names[0]
 * is the TLSA base domain, the others (MX host name, next-hop domain)
 * are accepted as well; names may repeat.  nnames 0: no name check at
 * all (the caller must say so).  On a DANE-TA match m->name is the name
 * the leaf matched.  At most TLSA_DANE_MAXNAMES names.
 */
int tlsa_dane_verify_names(STACK_OF(X509) *chain, EVP_PKEY *key,
    const char *const *names, size_t nnames, const struct tlsa_rec *recs,
    size_t n, struct tlsa_match *m, char *err, size_t errlen);

/* Free the cached SSL contexts (for leak checkers at exit). */
void tlsa_dane_cleanup(void);

#endif
