/*
 * log.c: diagnostics and the sanitiser for text that comes from peers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "log.h"

static const char *prog = "tlsa";

void
log_init(const char *progname)
{
	const char *p = strrchr(progname, '/');

	prog = p != NULL ? p + 1 : progname;
}

const char *
log_progname(void)
{
	return prog;
}

void
log_vis(char *dst, size_t dstlen, const char *src, size_t n)
{
	size_t i, o = 0;
	unsigned char c;

	for (i = 0; i < n && o + 5 < dstlen; i++) {
		c = (unsigned char)src[i];
		if (c >= 0x20 && c < 0x7f)
			dst[o++] = (char)c;
		else {
			snprintf(dst + o, 5, "\\%03o", c);
			o += 4;
		}
	}
	dst[o] = '\0';
}

/*
 * Every diagnostic is one line of printable text: file names from the
 * command line and text from peers may hold control bytes, so the whole
 * line has them escaped (\ooo) here rather than at each caller.
 * Backslashes stay as they are: text already escaped with str_vis by a
 * library function must not be escaped twice.
 */
static void
vlog(const char *level, const char *fmt, va_list ap)
{
	char line[2048], vis[4 * sizeof(line) + 1];

	vsnprintf(line, sizeof(line), fmt, ap);
	log_vis(vis, sizeof(vis), line, strlen(line));
	fprintf(stderr, "%s: %s%s\n", prog, level, vis);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

char *
errfmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return buf;
}

void
err_prefix(char *buf, size_t len, const char *prefix)
{
	size_t pl = strlen(prefix) + 2, bl = strlen(buf);

	if (len == 0 || pl >= len)
		return;
	if (bl + pl >= len)
		bl = len - pl - 1;
	memmove(buf + pl, buf, bl);
	buf[pl + bl] = '\0';
	memcpy(buf, prefix, pl - 2);
	buf[pl - 2] = ':';
	buf[pl - 1] = ' ';
}

void
err_add_openssl(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason;
	size_t used;

	if (e != 0) {
		reason = ERR_reason_error_string(e);
		used = strlen(buf);
		if (used < len)
			snprintf(buf + used, len - used, ": %s",
			    reason != NULL ? reason : "OpenSSL error");
	}
	ERR_clear_error();
}

char *
str_vis(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t o = 0, i;
	unsigned char c;

	if (dstlen == 0)
		return dst;
	for (i = 0; i < srclen; i++) {
		c = (unsigned char)src[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = (char)c;
		} else if (c == '\\') {
			if (o + 2 >= dstlen)
				break;
			dst[o++] = '\\';
			dst[o++] = '\\';
		} else {
			if (o + 4 >= dstlen)
				break;
			snprintf(dst + o, 5, "\\%03o", c);
			o += 4;
		}
	}
	dst[o] = '\0';
	return dst;
}
