/*
 * roll_store.h: certificates and keys that tlsa-rollover owns, copied
 * into STATE_DIR/SERVICE/certs/ID/{fullchain.pem,privkey.pem} (key 0600),
 * and the records a service publishes for them.  This module reads and
 * writes private keys; it never talks to the network.
 */
#ifndef ROLL_STORE_H
#define ROLL_STORE_H

#include <openssl/x509.h>

#include "roll_config.h"
#include "roll_state.h"

struct roll_cert {
	char		 id[ROLL_ID_LEN + 1];
	STACK_OF(X509)	*chain;		/* leaf first */
	EVP_PKEY	*key;		/* NULL for a staged key's own entry */
};

void roll_cert_free(struct roll_cert *c);

/*
 * Check cert+key (+ extra chain) for service s, storing nothing: key
 * belongs to the leaf, each certificate signed by the one after it,
 * leaf names cover every host, key type supported, leaf not expired.
 * When the service publishes trust-anchor records (usage 0 or 2) and
 * the chain holds no issuer of the leaf, the first certificate of the
 * service's issuers: files that signed the leaf is appended
 * (*completed gets that file, owned by the configuration; else NULL),
 * and without one the import is refused.  c gets the chain (leaf
 * first), the key and the id (free with roll_cert_free); family the
 * key's family (roll_key_family, 8 bytes).  Returns 0 or -1 with a
 * reason naming the file.
 */
int roll_store_check(const struct roll_service *s, const char *cert,
    const char *key, const char *chain, struct roll_cert *c, char *family,
    const char **completed, char *err, size_t errlen);

/*
 * Copy a checked certificate into the store as certs/ID.  Stored before
 * with the same chain: nothing changes.  Stored before with another
 * chain (the same leaf and key, so the same id): its fullchain.pem is
 * replaced atomically and *chain_changed set.  Returns 0 or -1.
 */
int roll_store_put(const char *state_dir, const struct roll_service *s,
    const struct roll_cert *c, int *chain_changed, char *err, size_t errlen);

/* 1 when a and b hold the same certificates in the same order. */
int roll_chain_equal(STACK_OF(X509) *a, STACK_OF(X509) *b);

/* "ecdsa", "rsa" or "eddsa": the slot family of a key. */
const char *roll_key_family(EVP_PKEY *key);

/*
 * Make a new standby key of the service's key_type and store it as
 * STATE_DIR/SERVICE/staged/ID/privkey.pem.  id gets its id.
 */
int roll_store_new_key(const char *state_dir, const struct roll_service *s,
    char *id, char *err, size_t errlen);

/*
 * Copy an existing private key (keyfile, PEM or DER, not encrypted: an
 * ACME client's next key) into the store as a staged key, as
 * roll_store_new_key does (idempotent: the same key twice is one entry).
 * Refused unless keyfile holds one private key, and no certificate, of
 * a kind TLSA records can be made for.  With dry_run it only checks.
 * id gets its id, family (8 bytes) its roll_key_family.  Returns 0 or
 * -1 with a reason naming the file.
 */
int roll_store_stage_key(const char *state_dir, const struct roll_service *s,
    const char *keyfile, int dry_run, char *id, char *family, char *err,
    size_t errlen);

/* Load entry id (certs/ID, or staged/ID with staged set). */
int roll_store_load(const char *state_dir, const char *service,
    const char *id, int staged, struct roll_cert *c, char *err,
    size_t errlen);

/*
 * The records service s publishes for a certificate chain (EE types
 * for the leaf, TA types for the leaf's issuer and the configured
 * issuers), or for a lone key (its 3 1 x types).  Appended to out
 * without duplicates.
 */
int roll_records_chain(const struct roll_service *s, STACK_OF(X509) *chain,
    struct zone_rrset *out, char *err, size_t errlen);
int roll_records_key(const struct roll_service *s, EVP_PKEY *key,
    struct zone_rrset *out, char *err, size_t errlen);

/* Does the key of a staged entry belong to chain's leaf? */
int roll_key_matches(EVP_PKEY *key, STACK_OF(X509) *chain);

#endif
