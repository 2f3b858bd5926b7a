/*
 * zone_tsig.h: TSIG keys from BIND key files (tsig-keygen, ddns-confgen).
 * The secret never leaves this struct except into ldns's signer; it is
 * wiped when freed and never printed.
 */
#ifndef ZONE_TSIG_H
#define ZONE_TSIG_H

#include <stddef.h>

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

#endif
