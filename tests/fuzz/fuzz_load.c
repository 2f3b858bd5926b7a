/*
 * fuzz_load.c: the certificate, key and chain loader (tlsa_load_buf), as
 * tlsagen and tlsa-rollover import use it, on any bytes.
 *
 * Each input is loaded twice, "lean" (a lone certificate decoded without
 * its key object) and in full.  When both accept it, the records
 * computed from each must be the same (the lean path is only an
 * optimisation), and the 3 1 1 record of what was loaded must verify
 * against it with OpenSSL's DANE code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "log.h"
#include "tlsa_dane.h"
#include "tlsa_load.h"
#include "tlsa_rec.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct tlsa_spec specs[] = {
	{ 3, 1, 1 }, { 3, 0, 1 }, { 3, 1, 2 }, { 3, 1, 0 }, { 3, 0, 0 },
};
#define NSPECS (sizeof(specs) / sizeof(specs[0]))

/* Records for the input's leaf (or key), and 2 1 1 for its issuer. */
static int
compute(const struct tlsa_input *in, struct tlsa_rec *r, int *ok)
{
	char err[ERRBUF_LEN];
	X509 *leaf = NULL, *issuer;
	size_t i;
	int n = 0;

	if (in->certs != NULL && sk_X509_num(in->certs) > 0)
		leaf = sk_X509_value(in->certs, 0);
	for (i = 0; i < NSPECS; i++, n++)
		ok[n] = tlsa_compute(&specs[i], leaf, in->key, &r[n], err,
		    sizeof(err)) == 0;
	if ((issuer = tlsa_input_issuer(in)) != NULL) {
		struct tlsa_spec ta = { 2, 1, 1 };

		ok[n] = tlsa_compute(&ta, issuer, NULL, &r[n], err,
		    sizeof(err)) == 0;
	} else
		ok[n] = 0;
	n++;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlsa_input lean, full;
	struct tlsa_rec rl[NSPECS + 1], rf[NSPECS + 1];
	struct tlsa_match m;
	int okl[NSPECS + 1], okf[NSPECS + 1], nl = 0, nf = 0, i, v;
	char err[ERRBUF_LEN], *buf;

	if (size > TLSA_MAX_INPUT)
		return 0;
	/* The loader's contract: a NUL after the bytes, as read_file gives. */
	buf = fuzz_strndup(data, size);
	memset(rl, 0, sizeof(rl));
	memset(rf, 0, sizeof(rf));
	err[0] = '\0';
	if (tlsa_load_buf((unsigned char *)buf, size, 0, &lean, err,
	    sizeof(err)) == 0)
		nl = compute(&lean, rl, okl);
	else if (err[0] == '\0' || strchr(err, '\n') != NULL)
		abort();	/* every failure has a one-line reason */
	err[0] = '\0';
	if (tlsa_load_buf((unsigned char *)buf, size, 1, &full, err,
	    sizeof(err)) == 0) {
		nf = compute(&full, rf, okf);
		/* The input's own 3 1 1 record must match it. */
		if (okf[0]) {
			v = tlsa_dane_verify(full.certs, full.key,
			    "mx.example.test", &rf[0], 1, &m, err,
			    sizeof(err));
			if (v == 0) {
				fprintf(stderr, "fuzz_load: own 3 1 1 record "
				    "does not match: %s\n", m.reason);
				abort();
			}
		}
		tlsa_input_clear(&full);
	} else if (err[0] == '\0' || strchr(err, '\n') != NULL)
		abort();
	if (nl > 0 && nf > 0)
		for (i = 0; i < nl; i++) {
			if (okl[i] != okf[i] || (okl[i] &&
			    (rl[i].len != rf[i].len ||
			    memcmp(rl[i].data, rf[i].data, rl[i].len) != 0))) {
				fprintf(stderr, "fuzz_load: lean and full "
				    "decoding give different records (%d)\n",
				    i);
				abort();
			}
		}
	for (i = 0; i < nl; i++)
		tlsa_rec_clear(&rl[i]);
	for (i = 0; i < nf; i++)
		tlsa_rec_clear(&rf[i]);
	if (nl > 0)
		tlsa_input_clear(&lean);
	free(buf);
	ERR_clear_error();
	return 0;
}
