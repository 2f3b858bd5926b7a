/*
 * fuzz_tsig.c: the BIND key file parser (zone_tsig_load) on any bytes,
 * written with mode 0600 to a private temporary directory.  A key that
 * loads must be able to sign a query (zone_tsig_sign).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "log.h"
#include "zone_tsig.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
sign(const struct zone_tsig *k)
{
	unsigned char mac[ZONE_TSIG_MAX_MAC];
	size_t maclen = 0;
	char err[ERRBUF_LEN];
	ldns_pkt *q = NULL;

	if (ldns_pkt_query_new_frm_str(&q, "_25._tcp.mx1.example.test.",
	    LDNS_RR_TYPE_TLSA, LDNS_RR_CLASS_IN, 0) != LDNS_STATUS_OK)
		abort();
	if (zone_tsig_sign(q, k, 300, mac, &maclen, err, sizeof(err)) == -1) {
		fprintf(stderr, "fuzz_tsig: a loaded key does not sign: %s\n",
		    err);
		abort();
	}
	ldns_pkt_free(q);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zone_tsig k;
	char err[ERRBUF_LEN], path[4200];

	if (size > 64 * 1024)
		return 0;
	snprintf(path, sizeof(path), "%s", fuzz_write("tsig.key", data, size));
	err[0] = '\0';
	if (zone_tsig_load(path, &k, err, sizeof(err)) == 0) {
		if (k.name == NULL || k.algorithm == NULL || k.secret == NULL)
			abort();
		sign(&k);
		zone_tsig_free(&k);
	} else if (strncmp(err, path, strlen(path)) != 0 &&
	    strcmp(err, "out of memory") != 0) {
		fprintf(stderr, "fuzz_tsig: error does not name the file: "
		    "\"%s\"\n", err);
		abort();
	} else if (strchr(err, '\n') != NULL)
		abort();
	return 0;
}
