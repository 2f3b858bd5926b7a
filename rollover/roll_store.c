/*
 * roll_store.c: the certificate store of tlsa-rollover.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "atomic.h"
#include "fileio.h"
#include "log.h"
#include "roll_store.h"
#include "tlsa_load.h"

void
roll_cert_free(struct roll_cert *c)
{
	if (c->chain != NULL)
		sk_X509_pop_free(c->chain, X509_free);
	EVP_PKEY_free(c->key);
	memset(c, 0, sizeof(*c));
}

static void
id_of(const unsigned char *der, size_t len, char *id)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	int i;

	EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < ROLL_ID_LEN / 2; i++)
		snprintf(id + 2 * i, 3, "%02x", md[i]);
	id[ROLL_ID_LEN] = '\0';
}

/* PEM text of the chain, or of the key (key != NULL). */
static int
to_pem(STACK_OF(X509) *chain, EVP_PKEY *key, char **out, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int i, ok = b != NULL;

	for (i = 0; ok && chain != NULL && i < sk_X509_num(chain); i++)
		ok = PEM_write_bio_X509(b, sk_X509_value(chain, i));
	if (ok && key != NULL)
		ok = PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL,
		    NULL);
	if (!ok || (n = BIO_get_mem_data(b, &p)) <= 0 ||
	    (*out = malloc((size_t)n)) == NULL) {
		BIO_free(b);
		return -1;
	}
	memcpy(*out, p, (size_t)n);
	*len = (size_t)n;
	OPENSSL_cleanse(p, (size_t)n);
	BIO_free(b);
	return 0;
}

/*
 * Write dir/fullchain.pem (if chain) and dir/privkey.pem, via dir.tmp,
 * from descriptors: the parent is opened without following a symlink,
 * and a dir or dir.tmp that is a symlink, or a dir.tmp someone else
 * owns or may write, is refused (a leftover of ours is reused).
 */
static int
store_entry(const char *dir, STACK_OF(X509) *chain, EVP_PKEY *key,
    char *err, size_t errlen)
{
	char parent[PATH_MAX], tmp[PATH_MAX], tname[NAME_MAX + 1], f[PATH_MAX],
	    *pem = NULL, *slash;
	const char *base;
	size_t len = 0;
	struct stat st;
	int pfd = -1, tfd = -1, rc = -1;

	err[0] = '\0';
	snprintf(parent, sizeof(parent), "%s", dir);
	if ((slash = strrchr(parent, '/')) == NULL || slash == parent) {
		errfmt(err, errlen, "%s: not a store path", dir);
		return -1;
	}
	*slash = '\0';
	base = dir + (slash - parent) + 1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", dir);
	if ((size_t)snprintf(tname, sizeof(tname), "%s.tmp", base) >=
	    sizeof(tname)) {
		errfmt(err, errlen, "%s: name too long", dir);
		return -1;
	}
	if ((pfd = open(parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		errfmt(err, errlen, "%s: %s", parent, strerror(errno));
		return -1;
	}
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode)) {
			close(pfd);
			return 0;	/* stored before: same id, same content */
		}
		errfmt(err, errlen, "%s: not a directory (a symlink is "
		    "refused)", dir);
		close(pfd);
		return -1;
	}
	if (mkdirat(pfd, tname, 0700) == -1 && errno != EEXIST) {
		errfmt(err, errlen, "%s: %s", tmp, strerror(errno));
		close(pfd);
		return -1;
	}
	if ((tfd = openat(pfd, tname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fstat(tfd, &st) == -1) {
		errfmt(err, errlen, "%s: %s", tmp, errno == ELOOP ||
		    errno == ENOTDIR ? "not a directory (a symlink is "
		    "refused)" : strerror(errno));
		goto out;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
		errfmt(err, errlen, "%s: leftover temporary directory not "
		    "ours (must be owned by uid %ld and not writable by group "
		    "or others)", tmp, (long)geteuid());
		close(tfd);
		tfd = -1;	/* not ours: leave it alone */
		goto out;
	}
	if (fchmod(tfd, 0700) == -1) {
		errfmt(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (chain != NULL) {
		snprintf(f, sizeof(f), "%s/fullchain.pem", tmp);
		if (to_pem(chain, NULL, &pem, &len) == -1 ||
		    atomic_write_at(tfd, "fullchain.pem", f, pem, len, 0644,
		    err, errlen) == -1)
			goto out;
		free(pem);
		pem = NULL;
	}
	snprintf(f, sizeof(f), "%s/privkey.pem", tmp);
	if (to_pem(NULL, key, &pem, &len) == -1 ||
	    atomic_write_at(tfd, "privkey.pem", f, pem, len, 0600, err,
	    errlen) == -1)
		goto out;
	if (renameat(pfd, tname, pfd, base) == -1) {
		errfmt(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	(void)fsync(pfd);
	rc = 0;
out:
	if (pem != NULL) {
		OPENSSL_cleanse(pem, len);
		free(pem);
	}
	if (rc != 0) {
		char why[ERRBUF_LEN];

		/* Not err itself as an argument: it is the output too. */
		snprintf(why, sizeof(why), "%s", err[0] ? err :
		    "encoding failed");
		errfmt(err, errlen, "%s: cannot store (%s)", dir, why);
		/* Leave nothing half written (a full disk, say). */
		if (tfd != -1) {
			(void)unlinkat(tfd, "fullchain.pem", 0);
			(void)unlinkat(tfd, "privkey.pem", 0);
			(void)unlinkat(pfd, tname, AT_REMOVEDIR);
		}
	}
	if (tfd != -1)
		close(tfd);
	close(pfd);
	return rc;
}

static int
mkdirs(const char *state_dir, const char *service, const char *sub,
    char *out, size_t outlen, char *err, size_t errlen)
{
	char d[PATH_MAX];

	snprintf(d, sizeof(d), "%s/%s", state_dir, service);
	if (mkdir(state_dir, 0700) == -1 && errno != EEXIST)
		goto fail;
	if (mkdir(d, 0700) == -1 && errno != EEXIST)
		goto fail;
	snprintf(out, outlen, "%s/%s", d, sub);
	if (mkdir(out, 0700) == -1 && errno != EEXIST) {
		snprintf(d, sizeof(d), "%s", out);
		goto fail;
	}
	return 0;
fail:
	errfmt(err, errlen, "%s: %s", d, strerror(errno));
	return -1;
}

const char *
roll_key_family(EVP_PKEY *key)
{
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
		return "rsa";
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448:
		return "eddsa";
	default:
		return "ecdsa";
	}
}

/* Does parent sign child (names, key identifiers and the signature)? */
static int
issued_by(X509 *child, X509 *parent)
{
	EVP_PKEY *pk = X509_get0_pubkey(parent);

	return X509_check_issued(parent, child) == X509_V_OK && pk != NULL &&
	    X509_verify(child, pk) == 1;
}

/* The first TLSA type of service s for a trust anchor (usage 0 or 2). */
static const struct tlsa_spec *
ta_spec(const struct roll_service *s)
{
	int i;

	for (i = 0; i < s->nspecs; i++)
		if (s->specs[i].usage == TLSA_USAGE_DANE_TA ||
		    s->specs[i].usage == TLSA_USAGE_PKIX_TA)
			return &s->specs[i];
	return NULL;
}

/* A name as one escaped line (control and 8-bit bytes escaped). */
static void
name_line(X509_NAME *n, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long k;

	snprintf(buf, len, "?");
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_ONELINE) >= 0 &&
	    (k = BIO_get_mem_data(b, &p)) > 0)
		snprintf(buf, len, "%.*s", (int)k, p);
	BIO_free(b);
}

/*
 * A chain with no certificate that issued the leaf, for a service that
 * publishes trust-anchor records: those records need the issuer in the
 * served chain (RFC 7671 section 5.2.2).  Append the first configured
 * issuer that signed the leaf; *completed names its file.  0, or -1 with
 * a reason naming cert when none fits.
 */
static int
complete_chain(const struct roll_service *s, const char *cert,
    STACK_OF(X509) *chain, const char **completed, char *err, size_t errlen)
{
	struct tlsa_input ii = { 0 };
	const struct tlsa_spec *ta = ta_spec(s);
	X509 *leaf = sk_X509_value(chain, 0), *x;
	char lerr[ERRBUF_LEN], dn[256];
	size_t k;
	int i, rc = -1;

	*completed = NULL;
	if (ta == NULL)
		return 0;
	for (i = 1; i < sk_X509_num(chain); i++)
		if (issued_by(leaf, sk_X509_value(chain, i)))
			return 0;
	for (k = 0; k < s->nissuers && *completed == NULL; k++) {
		/* In full: the signature is checked with its key. */
		if (tlsa_load_file(s->issuers[k], 1, &ii, lerr,
		    sizeof(lerr)) == -1) {
			errfmt(err, errlen, "%s: %s", s->issuers[k], lerr);
			goto out;
		}
		for (i = 0; ii.certs != NULL && i < sk_X509_num(ii.certs);
		    i++) {
			x = sk_X509_value(ii.certs, i);
			if (!issued_by(leaf, x))
				continue;
			if (!X509_up_ref(x) || !sk_X509_push(chain, x)) {
				errfmt(err, errlen, "out of memory");
				goto out;
			}
			*completed = s->issuers[k];
			break;
		}
		tlsa_input_clear(&ii);
	}
	if (*completed == NULL) {
		name_line(X509_get_issuer_name(leaf), dn, sizeof(dn));
		errfmt(err, errlen, "%s: the chain has no issuer certificate "
		    "for %s, and the service publishes %u %u %u records: give "
		    "the chain file (fullchain.pem) or list the issuer under "
		    "issuers:", cert, dn, ta->usage, ta->selector, ta->mtype);
		goto out;
	}
	rc = 0;
out:
	tlsa_input_clear(&ii);
	return rc;
}

int
roll_store_check(const struct roll_service *s, const char *cert,
    const char *key, const char *chain, struct roll_cert *c, char *family,
    const char **completed, char *err, size_t errlen)
{
	struct tlsa_input ci = { 0 }, ki = { 0 }, xi = { 0 };
	char lerr[ERRBUF_LEN];
	unsigned char *der = NULL;
	X509 *leaf;
	size_t i;
	int dlen, rc = -1;

	memset(c, 0, sizeof(*c));
	*completed = NULL;
	if (tlsa_load_file(cert, 1, &ci, lerr, sizeof(lerr)) == -1) {
		errfmt(err, errlen, "%s: %s", cert, lerr);
		return -1;
	}
	if (ci.certs == NULL || sk_X509_num(ci.certs) == 0) {
		errfmt(err, errlen, "%s: no certificate", cert);
		goto out;
	}
	/* A key that another user owns is theirs to swap or keep. */
	if (strcmp(key, "-") != 0 && fileio_owner_check(key,
	    "private key file", err, errlen) == -1)
		goto out;
	if (tlsa_load_file(key, 1, &ki, lerr, sizeof(lerr)) == -1) {
		errfmt(err, errlen, "%s: %s", key, lerr);
		goto out;
	}
	if (ki.key == NULL || !ki.key_private) {
		errfmt(err, errlen, "%s: no private key", key);
		goto out;
	}
	if (chain != NULL) {
		if (tlsa_load_file(chain, 1, &xi, lerr, sizeof(lerr)) == -1) {
			errfmt(err, errlen, "%s: %s", chain, lerr);
			goto out;
		}
		/* fullchain = the cert file's certificates, then these */
		for (i = 0; xi.certs != NULL &&
		    i < (size_t)sk_X509_num(xi.certs); i++) {
			X509 *x = sk_X509_value(xi.certs, (int)i);

			if (sk_X509_num(ci.certs) == 1 || X509_cmp(x,
			    sk_X509_value(ci.certs, sk_X509_num(ci.certs) -
			    1)) != 0) {
				if (!X509_up_ref(x) ||
				    !sk_X509_push(ci.certs, x)) {
					errfmt(err, errlen, "out of memory");
					goto out;
				}
			}
		}
	}
	/* Each certificate signed by the next one (its signature checked). */
	for (i = 1; i < (size_t)sk_X509_num(ci.certs); i++)
		if (!issued_by(sk_X509_value(ci.certs, (int)i - 1),
		    sk_X509_value(ci.certs, (int)i))) {
			errfmt(err, errlen, "%s: certificate %zu of the chain "
			    "did not issue the one before it", chain != NULL ?
			    chain : cert, i + 1);
			goto out;
		}
	leaf = sk_X509_value(ci.certs, 0);
	if (EVP_PKEY_eq(ki.key, X509_get0_pubkey(leaf)) != 1) {
		errfmt(err, errlen, "%s: key does not belong to the "
		    "certificate in %s", key, cert);
		goto out;
	}
	for (i = 0; i < s->nhosts; i++) {
		char h[256];

		snprintf(h, sizeof(h), "%s", s->hosts[i]);
		h[strcspn(h, "\0")] = '\0';
		if (h[0] != '\0' && h[strlen(h) - 1] == '.')
			h[strlen(h) - 1] = '\0';
		if (X509_check_host(leaf, h, 0, 0, NULL) != 1) {
			errfmt(err, errlen, "%s: the certificate does not "
			    "cover host %s of service %s", cert, h, s->name);
			goto out;
		}
	}
	if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
		errfmt(err, errlen, "%s: the certificate has expired", cert);
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(leaf)) >= 0) {
		errfmt(err, errlen, "%s: the certificate is not valid yet",
		    cert);
		goto out;
	}
	if (complete_chain(s, cert, ci.certs, completed, err, errlen) == -1)
		goto out;
	if ((dlen = i2d_X509(leaf, &der)) <= 0) {
		errfmt(err, errlen, "%s: cannot encode", cert);
		goto out;
	}
	id_of(der, (size_t)dlen, c->id);
	snprintf(family, 8, "%s", roll_key_family(ki.key));
	c->chain = ci.certs;
	ci.certs = NULL;
	c->key = ki.key;
	ki.key = NULL;
	rc = 0;
out:
	OPENSSL_free(der);
	tlsa_input_clear(&ci);
	tlsa_input_clear(&ki);
	tlsa_input_clear(&xi);
	ERR_clear_error();
	return rc;
}

int
roll_chain_equal(STACK_OF(X509) *a, STACK_OF(X509) *b)
{
	int i;

	if (a == NULL || b == NULL || sk_X509_num(a) != sk_X509_num(b))
		return 0;
	for (i = 0; i < sk_X509_num(a); i++)
		if (X509_cmp(sk_X509_value(a, i), sk_X509_value(b, i)) != 0)
			return 0;
	return 1;
}

int
roll_store_put(const char *state_dir, const struct roll_service *s,
    const struct roll_cert *c, int *chain_changed, char *err, size_t errlen)
{
	struct roll_cert old = { 0 };
	char dir[PATH_MAX], ent[PATH_MAX], f[PATH_MAX], *pem = NULL;
	size_t len = 0;
	struct stat sb;
	int dfd = -1, rc = -1;

	*chain_changed = 0;
	if (mkdirs(state_dir, s->name, "certs", dir, sizeof(dir), err,
	    errlen) == -1)
		return -1;
	snprintf(ent, sizeof(ent), "%s/%s", dir, c->id);
	if (lstat(ent, &sb) == -1 || !S_ISDIR(sb.st_mode))
		return store_entry(ent, c->chain, c->key, err, errlen);
	/* Stored before: the same leaf and key; the chain may be new. */
	if (roll_store_load(state_dir, s->name, c->id, 0, &old, err,
	    errlen) == -1)
		return -1;
	if (roll_chain_equal(old.chain, c->chain)) {
		rc = 0;
		goto out;
	}
	if ((dfd = open(ent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		errfmt(err, errlen, "%s: %s", ent, strerror(errno));
		goto out;
	}
	snprintf(f, sizeof(f), "%s/fullchain.pem", ent);
	if (to_pem(c->chain, NULL, &pem, &len) == -1) {
		errfmt(err, errlen, "%s: cannot encode the chain", f);
		goto out;
	}
	if (atomic_write_at(dfd, "fullchain.pem", f, pem, len, 0644, err,
	    errlen) == -1)
		goto out;
	*chain_changed = 1;
	rc = 0;
out:
	free(pem);
	if (dfd != -1)
		close(dfd);
	roll_cert_free(&old);
	return rc;
}

int
roll_store_new_key(const char *state_dir, const struct roll_service *s,
    char *id, char *err, size_t errlen)
{
	const char *kt = s->key_type != NULL ? s->key_type : "ec256";
	EVP_PKEY *k = NULL;
	unsigned char *der = NULL;
	char dir[PATH_MAX], ent[PATH_MAX];
	int dlen, rc = -1;

	if (strcmp(kt, "ec256") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (strcmp(kt, "ec384") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)atoi(kt + 3));
	if (k == NULL || (dlen = i2d_PUBKEY(k, &der)) <= 0) {
		errfmt(err, errlen, "cannot make a %s key", kt);
		err_add_openssl(err, errlen);
		goto out;
	}
	id_of(der, (size_t)dlen, id);
	if (mkdirs(state_dir, s->name, "staged", dir, sizeof(dir), err,
	    errlen) == -1)
		goto out;
	snprintf(ent, sizeof(ent), "%s/%s", dir, id);
	if (store_entry(ent, NULL, k, err, errlen) == -1)
		goto out;
	rc = 0;
out:
	OPENSSL_free(der);
	EVP_PKEY_free(k);
	return rc;
}

int
roll_store_stage_key(const char *state_dir, const struct roll_service *s,
    const char *keyfile, int dry_run, char *id, char *family, char *err,
    size_t errlen)
{
	struct tlsa_input ki = { 0 };
	X509_PUBKEY *xpk = NULL;
	unsigned char *der = NULL;
	char lerr[ERRBUF_LEN], dir[PATH_MAX], ent[PATH_MAX];
	int dlen, rc = -1;

	if (strcmp(keyfile, "-") != 0 && fileio_owner_check(keyfile,
	    "private key file", err, errlen) == -1)
		return -1;
	if (tlsa_load_file(keyfile, 1, &ki, lerr, sizeof(lerr)) == -1) {
		errfmt(err, errlen, "%s: %s", keyfile, lerr);
		return -1;
	}
	if (ki.key == NULL || !ki.key_private) {
		errfmt(err, errlen, "%s: no private key", keyfile);
		goto out;
	}
	if (ki.certs != NULL && sk_X509_num(ki.certs) > 0) {
		errfmt(err, errlen, "%s: a certificate, not a lone key",
		    keyfile);
		goto out;
	}
	if (!X509_PUBKEY_set(&xpk, ki.key) ||
	    !tlsa_spki_supported(xpk, lerr, sizeof(lerr))) {
		errfmt(err, errlen, "%s: %s", keyfile, xpk == NULL ?
		    "cannot encode the public key" : lerr);
		goto out;
	}
	if ((dlen = i2d_PUBKEY(ki.key, &der)) <= 0) {
		errfmt(err, errlen, "%s: cannot encode the public key",
		    keyfile);
		goto out;
	}
	id_of(der, (size_t)dlen, id);
	snprintf(family, 8, "%s", roll_key_family(ki.key));
	if (dry_run) {
		rc = 0;
		goto out;
	}
	if (mkdirs(state_dir, s->name, "staged", dir, sizeof(dir), err,
	    errlen) == -1)
		goto out;
	snprintf(ent, sizeof(ent), "%s/%s", dir, id);
	if (store_entry(ent, NULL, ki.key, err, errlen) == -1)
		goto out;
	rc = 0;
out:
	X509_PUBKEY_free(xpk);
	OPENSSL_free(der);
	tlsa_input_clear(&ki);
	ERR_clear_error();
	return rc;
}

int
roll_store_load(const char *state_dir, const char *service, const char *id,
    int staged, struct roll_cert *c, char *err, size_t errlen)
{
	struct tlsa_input in = { 0 };
	char path[PATH_MAX], lerr[ERRBUF_LEN];

	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", id);
	if (!staged) {
		snprintf(path, sizeof(path), "%s/%s/certs/%s/fullchain.pem",
		    state_dir, service, id);
		if (tlsa_load_file(path, 1, &in, lerr, sizeof(lerr)) == -1 ||
		    in.certs == NULL) {
			errfmt(err, errlen, "%s: %s", path, lerr);
			tlsa_input_clear(&in);
			return -1;
		}
		c->chain = in.certs;
		in.certs = NULL;
		tlsa_input_clear(&in);
	}
	snprintf(path, sizeof(path), "%s/%s/%s/%s/privkey.pem", state_dir,
	    service, staged ? "staged" : "certs", id);
	if (tlsa_load_file(path, 1, &in, lerr, sizeof(lerr)) == -1 ||
	    in.key == NULL) {
		errfmt(err, errlen, "%s: %s", path, lerr);
		tlsa_input_clear(&in);
		roll_cert_free(c);
		return -1;
	}
	c->key = in.key;
	in.key = NULL;
	tlsa_input_clear(&in);
	return 0;
}

static int
push_rec(struct zone_rrset *out, struct tlsa_rec *r)
{
	struct tlsa_rec *nv;

	if (zone_rrset_has(out, r)) {
		tlsa_rec_clear(r);
		return 0;
	}
	if ((nv = reallocarray(out->v, out->n + 1, sizeof(*nv))) == NULL) {
		tlsa_rec_clear(r);
		return -1;
	}
	out->v = nv;
	out->v[out->n++] = *r;
	memset(r, 0, sizeof(*r));
	return 0;
}

int
roll_records_chain(const struct roll_service *s, STACK_OF(X509) *chain,
    struct zone_rrset *out, char *err, size_t errlen)
{
	struct tlsa_input ii = { 0 };
	struct tlsa_rec r;
	X509 *leaf = sk_X509_value(chain, 0), *issuer = NULL;
	char lerr[ERRBUF_LEN];
	size_t k;
	int i, j;

	for (i = 1; i < sk_X509_num(chain); i++)
		if (X509_check_issued(sk_X509_value(chain, i), leaf) ==
		    X509_V_OK) {
			issuer = sk_X509_value(chain, i);
			break;
		}
	for (i = 0; i < s->nspecs; i++) {
		const struct tlsa_spec *sp = &s->specs[i];

		if (sp->usage == TLSA_USAGE_DANE_EE ||
		    sp->usage == TLSA_USAGE_PKIX_EE) {
			if (tlsa_compute(sp, leaf, NULL, &r, err, errlen) ==
			    -1 || push_rec(out, &r) == -1)
				return -1;
			continue;
		}
		if (issuer != NULL && (tlsa_compute(sp, issuer, NULL, &r, err,
		    errlen) == -1 || push_rec(out, &r) == -1))
			return -1;
		for (k = 0; k < s->nissuers; k++) {
			if (tlsa_load_file(s->issuers[k], 0, &ii, lerr,
			    sizeof(lerr)) == -1) {
				errfmt(err, errlen, "%s: %s", s->issuers[k],
				    lerr);
				return -1;
			}
			for (j = 0; ii.certs != NULL &&
			    j < sk_X509_num(ii.certs); j++)
				if (tlsa_compute(sp, sk_X509_value(ii.certs, j),
				    NULL, &r, err, errlen) == -1 ||
				    push_rec(out, &r) == -1) {
					tlsa_input_clear(&ii);
					return -1;
				}
			tlsa_input_clear(&ii);
		}
	}
	return 0;
}

int
roll_records_key(const struct roll_service *s, EVP_PKEY *key,
    struct zone_rrset *out, char *err, size_t errlen)
{
	struct tlsa_rec r;
	int i;

	for (i = 0; i < s->nspecs; i++) {
		if (s->specs[i].usage != TLSA_USAGE_DANE_EE ||
		    s->specs[i].selector != TLSA_SEL_SPKI)
			continue;
		if (tlsa_compute(&s->specs[i], NULL, key, &r, err, errlen) ==
		    -1 || push_rec(out, &r) == -1)
			return -1;
	}
	return 0;
}

int
roll_key_matches(EVP_PKEY *key, STACK_OF(X509) *chain)
{
	return key != NULL && chain != NULL && sk_X509_num(chain) > 0 &&
	    EVP_PKEY_eq(key, X509_get0_pubkey(sk_X509_value(chain, 0))) == 1;
}
