/*
 * sbuf.c: growing string buffer.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sbuf.h"

static int
grow(struct sbuf *b, size_t need)
{
	size_t ncap;
	char *ns;

	if (b->failed)
		return -1;
	if (b->len + need + 1 <= b->cap)
		return 0;
	ncap = b->cap == 0 ? 4096 : b->cap;
	while (ncap < b->len + need + 1)
		ncap *= 2;
	if ((ns = realloc(b->s, ncap)) == NULL) {
		b->failed = 1;
		return -1;
	}
	b->s = ns;
	b->cap = ncap;
	return 0;
}

void
sbuf_add(struct sbuf *b, const char *s, size_t len)
{
	if (grow(b, len) == -1)
		return;
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
}

void
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || grow(b, (size_t)n) == -1)
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
sbuf_free(struct sbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

int
sbuf_write(const struct sbuf *b, int fd)
{
	size_t off = 0;
	ssize_t n;

	while (off < b->len) {
		n = write(fd, b->s + off, b->len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}
