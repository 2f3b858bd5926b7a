/*
 * fuzz_config.c: the tlsa-rollover.yaml loader (roll_config_load) on any
 * bytes, written to a file in a private temporary directory.
 *
 * "@TMP@" in the input is replaced by that directory, which holds a
 * TSIG key file (tsig.key, mode 0600), so that seeds can name a key
 * file that exists and reach the checks made on a whole configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "roll_config.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char key[] = "key \"k\" { algorithm hmac-sha256; secret "
    "\"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTIzNA==\"; };\n";

/* data with every @TMP@ replaced by dir, in a new buffer. */
static char *
expand(const uint8_t *data, size_t size, const char *dir, size_t *outlen)
{
	size_t dl = strlen(dir), n = 0, i;
	char *out;

	if ((out = malloc(size * (dl > 5 ? dl : 5) / 5 + size + 1)) == NULL)
		abort();
	for (i = 0; i < size; ) {
		if (size - i >= 5 && memcmp(data + i, "@TMP@", 5) == 0) {
			memcpy(out + n, dir, dl);
			n += dl;
			i += 5;
		} else
			out[n++] = (char)data[i++];
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct roll_config c;
	char err[ERRBUF_LEN], *text, path[4200];
	const char *p;
	size_t len, i;

	if (size > 64 * 1024)
		return 0;
	if (!init) {
		fuzz_write("tsig.key", (const uint8_t *)key, strlen(key));
		init = 1;
	}
	text = expand(data, size, fuzz_tmpdir(), &len);
	p = fuzz_write("config.yaml", (const uint8_t *)text, len);
	snprintf(path, sizeof(path), "%s", p);
	free(text);
	err[0] = '\0';
	if (roll_config_load(path, &c, err, sizeof(err)) == 0) {
		for (i = 0; i < c.nservices; i++)
			if (roll_config_service(&c, c.services[i].name) == NULL)
				abort();
		roll_config_free(&c);
	} else if (strncmp(err, path, strlen(path)) != 0) {
		/*
		 * Every error names the file.  (It may quote the input
		 * raw: the CLI's logger escapes control bytes.)
		 */
		fprintf(stderr, "fuzz_config: bad error \"%s\"\n", err);
		abort();
	}
	return 0;
}
