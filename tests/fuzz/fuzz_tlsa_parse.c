/*
 * fuzz_tlsa_parse.c: the TLSA record text parser (tlsa_parse_line, as
 * --verify reads a file line by line) and the -r parameter parser
 * (tlsa_spec_parse), on any bytes.
 *
 * Every record read must print back as "U S M HEX" and parse again to
 * the same record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tlsa_parse.h"
#include "tlsa_rec.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
roundtrip(const struct tlsa_rec *r)
{
	struct tlsa_reclist l = { 0 };
	char err[ERRBUF_LEN], *hex, *line;
	size_t n;

	if ((r->spec.mtype == 1 && r->len != 32) ||
	    (r->spec.mtype == 2 && r->len != 64) || r->len == 0)
		abort();
	if ((hex = tlsa_hex(r->data, r->len)) == NULL)
		abort();
	n = strlen(hex) + 32;
	if ((line = malloc(n)) == NULL)
		abort();
	snprintf(line, n, "%u %u %u %s", r->spec.usage, r->spec.selector,
	    r->spec.mtype, hex);
	if (tlsa_parse_line(&l, line, err, sizeof(err)) == -1 || l.n != 1 ||
	    memcmp(&l.v[0].spec, &r->spec, sizeof(r->spec)) != 0 ||
	    l.v[0].len != r->len || memcmp(l.v[0].data, r->data, r->len)) {
		fprintf(stderr, "fuzz_tlsa_parse: \"%s\" does not read back\n",
		    line);
		abort();
	}
	tlsa_reclist_free(&l);
	free(line);
	free(hex);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlsa_reclist l = { 0 };
	struct tlsa_spec spec;
	char err[ERRBUF_LEN], *text, *line, *next, *p;
	size_t i;

	if (size > 256 * 1024)
		return 0;
	text = fuzz_strndup(data, size);
	err[0] = '\0';
	/* (Its errors may quote the input raw: the CLI's logger escapes.) */
	if (tlsa_spec_parse(text, &spec, err, sizeof(err)) == -1 &&
	    err[0] == '\0')
		abort();
	/* As tlsa_parse_arg reads a file: stop at the first bad line. */
	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		err[0] = '\0';
		if (tlsa_parse_line(&l, line, err, sizeof(err)) == -1) {
			for (p = err; *p != '\0'; p++)
				if ((unsigned char)*p < 0x20 ||
				    (unsigned char)*p > 0x7e) {
					fprintf(stderr, "fuzz_tlsa_parse: raw "
					    "byte in the error \"%s\"\n", err);
					abort();
				}
			if (err[0] == '\0')
				abort();
			break;
		}
	}
	for (i = 0; i < l.n; i++)
		roundtrip(&l.v[i]);
	tlsa_reclist_free(&l);
	free(text);
	return 0;
}
