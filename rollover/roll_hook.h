/*
 * roll_hook.h: what each ACME client hands its deploy hook, turned into
 * the files tlsa-rollover imports (and the client's next key, which it
 * stages), and the choice of the services a certificate is for.
 *
 *   certbot     --deploy-hook: RENEWED_LINEAGE (RENEWED_DOMAINS)
 *   dehydrated  HOOK: deploy_cert DOMAIN KEY CERT FULLCHAIN CHAIN [TS];
 *               next key: privkey.roll.pem beside KEY
 *   lego        --run-hook/--renew-hook, no shell: LEGO_CERT_PATH,
 *               LEGO_CERT_KEY_PATH (LEGO_CERT_DOMAIN)
 *   uacme       no deploy hook: after "uacme issue" exits 0, arguments
 *               [CONFDIR] IDENT: CONFDIR/IDENT/cert.pem and
 *               CONFDIR/private/IDENT/key.pem
 *   acme.sh     --reloadcmd: CERT_KEY_PATH and CERT_FULLCHAIN_PATH (or
 *               CERT_PATH + CA_CERT_PATH); next key: CERT_KEY_PATH.next
 *
 * This module only reads the environment, arguments and certificates;
 * the import itself is roll_import (roll_run.c).
 */
#ifndef ROLL_HOOK_H
#define ROLL_HOOK_H

#include <limits.h>
#include <stddef.h>

#include "roll_config.h"

struct roll_hook_files {
	char	client[16];
	char	cert[PATH_MAX];		/* leaf, or leaf + chain */
	char	key[PATH_MAX];
	char	chain[PATH_MAX];	/* "" or more certificates */
	char	next_key[PATH_MAX];	/* "" or the client's next key */
	int	skip;			/* a call with nothing to deploy */
};

/* The clients known, for messages: "certbot, dehydrated, ...". */
extern const char roll_hook_clients[];

/*
 * Fill f from what client passes its hook: the environment and args
 * (argc of them, the client's own arguments, after our options).
 * Returns 0 (f->skip set for a call that deploys nothing, such as
 * dehydrated's other hook words), or -1 with a one-line reason naming
 * the client and the variable or argument that is missing or wrong.
 * Files are not read here.
 */
int roll_hook_read(const char *client, int argc, char **argv,
    struct roll_hook_files *f, char *err, size_t errlen);

/*
 * The services of c whose every host the leaf certificate in cert
 * covers: sel[i] is set to 1 for each (sel has c->nservices entries).
 * Covers means a subjectAltName DNS name equal to the host or a
 * wildcard of a whole left-most label (*.example.net); the subject CN
 * and partial wildcards (mx*.example.net) never count.
 * Returns how many (0: the reason, naming the certificate's names, in
 * err), or -1 when cert cannot be read (reason in err).
 */
int roll_hook_services(const struct roll_config *c, const char *cert,
    int *sel, char *err, size_t errlen);

#endif
