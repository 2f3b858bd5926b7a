/*
 * zone_tsig.c: BIND key file reader.  A small tokenizer for the named.conf
 * subset that key files use: words, quoted strings, { } ;, and the three
 * comment styles.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "fileio.h"
#include "log.h"
#include "zone_tsig.h"

struct lexer {
	const char	*p, *end;
	int		 line;
	char		 tok[1024];
};

/* Next token into lx->tok; 1 token, 0 end, -1 error. */
static int
next_token(struct lexer *lx)
{
	size_t n = 0;

	for (;;) {
		while (lx->p < lx->end && isspace((unsigned char)*lx->p)) {
			if (*lx->p == '\n')
				lx->line++;
			lx->p++;
		}
		if (lx->p >= lx->end)
			return 0;
		if (*lx->p == '#' || (*lx->p == '/' && lx->p + 1 < lx->end &&
		    lx->p[1] == '/')) {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
			continue;
		}
		if (*lx->p == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
			lx->p += 2;
			while (lx->p + 1 < lx->end &&
			    !(lx->p[0] == '*' && lx->p[1] == '/')) {
				if (*lx->p == '\n')
					lx->line++;
				lx->p++;
			}
			if (lx->p + 1 >= lx->end)
				return -1;
			lx->p += 2;
			continue;
		}
		break;
	}
	if (*lx->p == '{' || *lx->p == '}' || *lx->p == ';') {
		lx->tok[0] = *lx->p++;
		lx->tok[1] = '\0';
		return 1;
	}
	if (*lx->p == '"') {
		lx->p++;
		while (lx->p < lx->end && *lx->p != '"' && *lx->p != '\n') {
			if (n + 1 >= sizeof(lx->tok))
				return -1;
			lx->tok[n++] = *lx->p++;
		}
		if (lx->p >= lx->end || *lx->p != '"')
			return -1;
		lx->p++;
		lx->tok[n] = '\0';
		return 1;
	}
	while (lx->p < lx->end && !isspace((unsigned char)*lx->p) &&
	    strchr("{};\"", *lx->p) == NULL) {
		if (n + 1 >= sizeof(lx->tok))
			return -1;
		lx->tok[n++] = *lx->p++;
	}
	lx->tok[n] = '\0';
	return 1;
}

void
zone_tsig_free(struct zone_tsig *k)
{
	free(k->name);
	free(k->algorithm);
	if (k->secret != NULL) {
		OPENSSL_cleanse(k->secret, strlen(k->secret));
		free(k->secret);
	}
	memset(k, 0, sizeof(*k));
}

static int
expect(struct lexer *lx, const char *want)
{
	return next_token(lx) == 1 && strcmp(lx->tok, want) == 0;
}

int
zone_tsig_load(const char *path, struct zone_tsig *k, char *err,
    size_t errlen)
{
	struct stat st;
	struct lexer lx;
	unsigned char *buf = NULL, raw[512];
	size_t len;
	char lerr[ERRBUF_LEN], name[300];
	int r, rawlen, rc = -1;

	memset(k, 0, sizeof(*k));
	if (lstat(path, &st) == -1) {
		errfmt(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		/* Follow it, but the target must pass the checks below. */
		if (stat(path, &st) == -1) {
			errfmt(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
	}
	if (!S_ISREG(st.st_mode)) {
		errfmt(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		errfmt(err, errlen, "%s: TSIG key file is accessible by group "
		    "or others (mode %04o); chmod 600 it", path,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (read_file_bounded(path, 64 * 1024, &buf, &len, lerr,
	    sizeof(lerr)) == -1) {
		errfmt(err, errlen, "%s: %s", path, lerr);
		return -1;
	}
	lx.p = (const char *)buf;
	lx.end = lx.p + len;
	lx.line = 1;
	if (!expect(&lx, "key") || next_token(&lx) != 1)
		goto syntax;
	if ((size_t)snprintf(name, sizeof(name), "%s%s", lx.tok,
	    lx.tok[0] != '\0' && lx.tok[strlen(lx.tok) - 1] == '.' ? "" :
	    ".") >= sizeof(name) || lx.tok[0] == '\0')
		goto syntax;
	if ((k->name = strdup(name)) == NULL)
		goto nomem;
	if (!expect(&lx, "{"))
		goto syntax;
	for (;;) {
		if ((r = next_token(&lx)) != 1)
			goto syntax;
		if (strcmp(lx.tok, "}") == 0)
			break;
		if (strcmp(lx.tok, "algorithm") == 0) {
			if (next_token(&lx) != 1 || k->algorithm != NULL)
				goto syntax;
			if (strcasecmp(lx.tok, "hmac-sha256") != 0 &&
			    strcasecmp(lx.tok, "hmac-sha384") != 0 &&
			    strcasecmp(lx.tok, "hmac-sha512") != 0) {
				errfmt(err, errlen, "%s: line %d: TSIG "
				    "algorithm \"%.40s\" not supported (use "
				    "hmac-sha256, hmac-sha384 or hmac-sha512)",
				    path, lx.line, lx.tok);
				goto out;
			}
			snprintf(name, sizeof(name), "%s.", lx.tok);
			for (char *p = name; *p != '\0'; p++)
				*p = (char)tolower((unsigned char)*p);
			if ((k->algorithm = strdup(name)) == NULL)
				goto nomem;
		} else if (strcmp(lx.tok, "secret") == 0) {
			if (next_token(&lx) != 1 || k->secret != NULL)
				goto syntax;
			if (strlen(lx.tok) > 4 * sizeof(raw) / 3 ||
			    (rawlen = EVP_DecodeBlock(raw,
			    (const unsigned char *)lx.tok,
			    (int)strlen(lx.tok))) < 16 ||
			    strlen(lx.tok) % 4 != 0) {
				errfmt(err, errlen, "%s: line %d: secret is "
				    "not base64 of at least 16 bytes", path,
				    lx.line);
				OPENSSL_cleanse(raw, sizeof(raw));
				goto out;
			}
			OPENSSL_cleanse(raw, sizeof(raw));
			if ((k->secret = strdup(lx.tok)) == NULL)
				goto nomem;
		} else
			goto syntax;
		if (!expect(&lx, ";"))
			goto syntax;
	}
	if (!expect(&lx, ";"))
		goto syntax;
	if ((r = next_token(&lx)) != 0) {
		errfmt(err, errlen, "%s: line %d: more than one key, or text "
		    "after the key", path, lx.line);
		goto out;
	}
	if (k->algorithm == NULL || k->secret == NULL) {
		errfmt(err, errlen, "%s: key has no %s", path,
		    k->algorithm == NULL ? "algorithm" : "secret");
		goto out;
	}
	rc = 0;
	goto out;
syntax:
	errfmt(err, errlen, "%s: line %d: not a BIND key file (want: key "
	    "\"NAME\" { algorithm ALG; secret \"BASE64\"; };)", path, lx.line);
	goto out;
nomem:
	errfmt(err, errlen, "out of memory");
out:
	OPENSSL_cleanse(lx.tok, sizeof(lx.tok));
	OPENSSL_cleanse(buf, len);
	free(buf);
	if (rc != 0)
		zone_tsig_free(k);
	return rc;
}
