/*
 * roll_hook.c: the ACME clients' hook conventions (see roll_hook.h).
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "roll_hook.h"
#include "tlsa_load.h"

const char roll_hook_clients[] = "certbot, dehydrated, lego, uacme, acme.sh";

/* A path from the environment or the arguments: "" when unset. */
static int
take(struct roll_hook_files *f, char *dst, const char *what, const char *v,
    char *err, size_t errlen)
{
	char vis[128];

	if (v == NULL || v[0] == '\0') {
		errfmt(err, errlen, "hook %s: %s is not set", f->client, what);
		return -1;
	}
	if (strlen(v) >= PATH_MAX || strpbrk(v, "\n\r") != NULL) {
		str_vis(vis, sizeof(vis), v, strlen(v));
		errfmt(err, errlen, "hook %s: %s: not a usable path: %s",
		    f->client, what, vis);
		return -1;
	}
	snprintf(dst, PATH_MAX, "%s", v);
	return 0;
}

static int
join(char *dst, const char *dir, const char *name, char *err, size_t errlen)
{
	if ((size_t)snprintf(dst, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX) {
		errfmt(err, errlen, "%s: path too long", dir);
		return -1;
	}
	return 0;
}

/* next_key = path if it exists (a client's optional next key). */
static void
maybe_next(struct roll_hook_files *f, const char *path)
{
	if (strlen(path) < PATH_MAX && access(path, F_OK) == 0)
		snprintf(f->next_key, sizeof(f->next_key), "%s", path);
}

static int
no_args(struct roll_hook_files *f, int argc, char **argv, const char *how,
    char *err, size_t errlen)
{
	char vis[128];

	if (argc == 0)
		return 0;
	str_vis(vis, sizeof(vis), argv[0], strlen(argv[0]));
	errfmt(err, errlen, "hook %s: unexpected argument \"%s\" (%s)",
	    f->client, vis, how);
	return -1;
}

static int
read_certbot(struct roll_hook_files *f, int argc, char **argv, char *err,
    size_t errlen)
{
	char lineage[PATH_MAX];
	struct stat sb;

	if (no_args(f, argc, argv, "certbot passes RENEWED_LINEAGE in the "
	    "environment", err, errlen) == -1)
		return -1;
	if (take(f, lineage, "RENEWED_LINEAGE (run this as certbot's "
	    "--deploy-hook)", getenv("RENEWED_LINEAGE"), err, errlen) == -1)
		return -1;
	if (stat(lineage, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		errfmt(err, errlen, "hook certbot: RENEWED_LINEAGE %s: not a "
		    "directory (not a certbot lineage)", lineage);
		return -1;
	}
	return join(f->cert, lineage, "fullchain.pem", err, errlen) == -1 ||
	    join(f->key, lineage, "privkey.pem", err, errlen) == -1 ? -1 : 0;
}

static int
read_dehydrated(struct roll_hook_files *f, int argc, char **argv, char *err,
    size_t errlen)
{
	char next[PATH_MAX], *slash;

	if (argc == 0) {
		errfmt(err, errlen, "hook dehydrated: no hook arguments (set "
		    "HOOK in dehydrated's config to a script that runs this "
		    "with \"$@\")");
		return -1;
	}
	/* dehydrated calls its hook for every event; only this one
	 * deploys.  Unknown words must be ignored (it tests that). */
	if (strcmp(argv[0], "deploy_cert") != 0) {
		f->skip = 1;
		return 0;
	}
	if (argc < 6 || argc > 7) {
		errfmt(err, errlen, "hook dehydrated: deploy_cert wants DOMAIN "
		    "KEYFILE CERTFILE FULLCHAINFILE CHAINFILE [TIMESTAMP], got "
		    "%d argument(s)", argc - 1);
		return -1;
	}
	if (take(f, f->key, "deploy_cert KEYFILE", argv[2], err, errlen) ==
	    -1 || take(f, f->cert, "deploy_cert FULLCHAINFILE", argv[4], err,
	    errlen) == -1)
		return -1;
	/* PRIVATE_KEY_ROLLOVER=yes keeps the next key beside the key. */
	snprintf(next, sizeof(next), "%s", f->key);
	if ((slash = strrchr(next, '/')) != NULL)
		slash[1] = '\0';
	else
		next[0] = '\0';
	if (strlen(next) + sizeof("privkey.roll.pem") <= sizeof(next)) {
		strcat(next, "privkey.roll.pem");
		maybe_next(f, next);
	}
	return 0;
}

static int
read_lego(struct roll_hook_files *f, int argc, char **argv, char *err,
    size_t errlen)
{
	char issuer[PATH_MAX];
	size_t n;

	if (no_args(f, argc, argv, "lego passes LEGO_CERT_PATH and "
	    "LEGO_CERT_KEY_PATH in the environment", err, errlen) == -1)
		return -1;
	if (take(f, f->cert, "LEGO_CERT_PATH (run this as lego's --run-hook "
	    "or --renew-hook)", getenv("LEGO_CERT_PATH"), err, errlen) == -1 ||
	    take(f, f->key, "LEGO_CERT_KEY_PATH", getenv("LEGO_CERT_KEY_PATH"),
	    err, errlen) == -1)
		return -1;
	/* DOMAIN.crt is the bundle unless --no-bundle; the issuer is
	 * always in DOMAIN.issuer.crt beside it. */
	n = strlen(f->cert);
	if (n > 4 && strcmp(f->cert + n - 4, ".crt") == 0 &&
	    n + sizeof(".issuer") < sizeof(issuer)) {
		snprintf(issuer, sizeof(issuer), "%.*s.issuer.crt",
		    (int)(n - 4), f->cert);
		if (access(issuer, F_OK) == 0)
			snprintf(f->chain, sizeof(f->chain), "%s", issuer);
	}
	return 0;
}

static int
read_uacme(struct roll_hook_files *f, int argc, char **argv, char *err,
    size_t errlen)
{
	const char *dir = "/etc/ssl/uacme", *ident;
	char vis[128], sub[PATH_MAX];

	if (argc < 1 || argc > 2) {
		errfmt(err, errlen, "hook uacme: want [CONFDIR] IDENT (the "
		    "confdir and identifier \"uacme issue\" was given)");
		return -1;
	}
	if (argc == 2)
		dir = argv[0];
	ident = argv[argc - 1];
	if (ident[0] == '\0' || ident[0] == '.' || ident[0] == '-' ||
	    strchr(ident, '/') != NULL || strlen(ident) > 253) {
		str_vis(vis, sizeof(vis), ident, strlen(ident));
		errfmt(err, errlen, "hook uacme: \"%s\" is not an identifier",
		    vis);
		return -1;
	}
	if (take(f, sub, "CONFDIR", dir, err, errlen) == -1)
		return -1;
	if ((size_t)snprintf(f->cert, sizeof(f->cert), "%s/%s/cert.pem", dir,
	    ident) >= sizeof(f->cert) || (size_t)snprintf(f->key,
	    sizeof(f->key), "%s/private/%s/key.pem", dir, ident) >=
	    sizeof(f->key)) {
		errfmt(err, errlen, "hook uacme: path too long");
		return -1;
	}
	return 0;
}

static int
read_acmesh(struct roll_hook_files *f, int argc, char **argv, char *err,
    size_t errlen)
{
	const char *full = getenv("CERT_FULLCHAIN_PATH");
	char next[PATH_MAX];

	if (no_args(f, argc, argv, "acme.sh passes CERT_KEY_PATH and "
	    "CERT_FULLCHAIN_PATH in the environment", err, errlen) == -1)
		return -1;
	if (take(f, f->key, "CERT_KEY_PATH (run this as acme.sh's "
	    "--reloadcmd)", getenv("CERT_KEY_PATH"), err, errlen) == -1)
		return -1;
	if (full != NULL && full[0] != '\0') {
		if (take(f, f->cert, "CERT_FULLCHAIN_PATH", full, err,
		    errlen) == -1)
			return -1;
	} else if (take(f, f->cert, "CERT_FULLCHAIN_PATH or CERT_PATH",
	    getenv("CERT_PATH"), err, errlen) == -1 || take(f, f->chain,
	    "CA_CERT_PATH (without CERT_FULLCHAIN_PATH)",
	    getenv("CA_CERT_PATH"), err, errlen) == -1)
		return -1;
	if ((size_t)snprintf(next, sizeof(next), "%s.next", f->key) <
	    sizeof(next))
		maybe_next(f, next);
	return 0;
}

int
roll_hook_read(const char *client, int argc, char **argv,
    struct roll_hook_files *f, char *err, size_t errlen)
{
	char vis[64];

	memset(f, 0, sizeof(*f));
	snprintf(f->client, sizeof(f->client), "%s", client);
	if (strcmp(client, "certbot") == 0)
		return read_certbot(f, argc, argv, err, errlen);
	if (strcmp(client, "dehydrated") == 0)
		return read_dehydrated(f, argc, argv, err, errlen);
	if (strcmp(client, "lego") == 0)
		return read_lego(f, argc, argv, err, errlen);
	if (strcmp(client, "uacme") == 0)
		return read_uacme(f, argc, argv, err, errlen);
	if (strcmp(client, "acme.sh") == 0)
		return read_acmesh(f, argc, argv, err, errlen);
	str_vis(vis, sizeof(vis), client, strlen(client));
	errfmt(err, errlen, "hook: unknown ACME client \"%s\" (want one of %s)",
	    vis, roll_hook_clients);
	return -1;
}

/* The certificate's DNS names, " "-joined and escaped, for messages. */
static void
names_of(X509 *leaf, char *buf, size_t len)
{
	GENERAL_NAMES *gens;
	GENERAL_NAME *g;
	char vis[300];
	size_t used = 0;
	int i, n;

	buf[0] = '\0';
	gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS)
			continue;
		str_vis(vis, sizeof(vis),
		    (const char *)ASN1_STRING_get0_data(g->d.dNSName),
		    (size_t)ASN1_STRING_length(g->d.dNSName));
		n = snprintf(buf + used, len - used, "%s%s", used ? " " : "",
		    vis);
		if (n < 0 || (size_t)n >= len - used) {
			buf[used] = '\0';
			break;
		}
		used += (size_t)n;
	}
	GENERAL_NAMES_free(gens);
	if (buf[0] == '\0')
		snprintf(buf, len, "none");
}

int
roll_hook_services(const struct roll_config *c, const char *cert, int *sel,
    char *err, size_t errlen)
{
	struct tlsa_input in = { 0 };
	char lerr[ERRBUF_LEN], h[256], names[256];
	X509 *leaf;
	size_t i, j;
	int n = 0;

	if (tlsa_load_file(cert, 1, &in, lerr, sizeof(lerr)) == -1) {
		errfmt(err, errlen, "%s: %s", cert, lerr);
		return -1;
	}
	if (in.certs == NULL || sk_X509_num(in.certs) == 0) {
		errfmt(err, errlen, "%s: no certificate", cert);
		tlsa_input_clear(&in);
		return -1;
	}
	leaf = sk_X509_value(in.certs, 0);
	for (i = 0; i < c->nservices; i++) {
		const struct roll_service *s = &c->services[i];

		sel[i] = 1;
		for (j = 0; j < s->nhosts && sel[i]; j++) {
			snprintf(h, sizeof(h), "%s", s->hosts[j]);
			if (h[0] != '\0' && h[strlen(h) - 1] == '.')
				h[strlen(h) - 1] = '\0';
			/*
			 * Only subjectAltName DNS names, as RFC 7672 and
			 * RFC 6125 want: no CN fallback, no partial
			 * wildcards (mx*.example.net), so that a lineage
			 * for other names is never deployed here.
			 */
			sel[i] = X509_check_host(leaf, h, 0,
			    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
			    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL) == 1;
		}
		n += sel[i];
	}
	if (n == 0) {
		names_of(leaf, names, sizeof(names));
		errfmt(err, errlen, "%s: the certificate's names (%s) do not "
		    "cover the hosts of any service in %s (or name one with "
		    "--service)", cert, names, c->path);
	}
	tlsa_input_clear(&in);
	ERR_clear_error();
	return n;
}
