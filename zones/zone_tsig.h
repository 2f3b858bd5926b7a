/*
 * zone_tsig.h: TSIG keys from BIND key files (tsig-keygen, ddns-confgen).
 * The secret never leaves this struct except into ldns's signer; it is
 * wiped when freed and never printed.
 */
#ifndef ZONE_TSIG_H
#define ZONE_TSIG_H

#include <stddef.h>

#include <ldns/ldns.h>

struct zone_tsig {
	char	*name;		/* key name, absolute ("tlsa-update.") */
	char	*algorithm;	/* ldns spelling, "hmac-sha256." */
	char	*secret;	/* base64, as in the file */
};

/*
 * Read the single key "key NAME { algorithm A; secret S; };" from path.
 * Refuses files readable or writable by group or others, symlinks,
 * unsupported algorithms (only hmac-sha256, hmac-sha384, hmac-sha512),
 * secrets that are not base64 of at least 16 bytes, and any syntax
 * error (with the line).  Returns 0 or -1 with a reason naming the file.
 */
int zone_tsig_load(const char *path, struct zone_tsig *k, char *err,
    size_t errlen);

void zone_tsig_free(struct zone_tsig *k);

/* Longest MAC (hmac-sha512). */
#define ZONE_TSIG_MAX_MAC 64

/*
 * Sign q (RFC 8945): compute the MAC over its wire form and the TSIG
 * variables with OpenSSL's HMAC and attach the TSIG RR (replacing any).
 * The MAC is copied to mac (ZONE_TSIG_MAX_MAC bytes) for checking the
 * reply.  Returns 0 or -1 with a reason.
 */
int zone_tsig_sign(ldns_pkt *q, const struct zone_tsig *k, uint16_t fudge,
    unsigned char *mac, size_t *maclen, char *err, size_t errlen);

/*
 * Check the TSIG of a reply: wire/len as received, r as parsed, reqmac
 * the MAC of our request.  Returns 0 when the MAC verifies with k and
 * the time is within the fudge, -1 with a reason otherwise.
 */
int zone_tsig_verify(const uint8_t *wire, size_t len, const ldns_pkt *r,
    const struct zone_tsig *k, const unsigned char *reqmac, size_t reqmaclen,
    char *err, size_t errlen);

#endif
