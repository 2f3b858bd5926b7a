/*
 * sbuf.h: a growing string buffer, so output can be built in full and
 * written only when every input succeeded.
 */
#ifndef COMMON_SBUF_H
#define COMMON_SBUF_H

#include <stddef.h>

struct sbuf {
	char	*s;
	size_t	 len, cap;
	int	 failed;	/* an allocation failed; contents incomplete */
};

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sbuf_add(struct sbuf *b, const char *s, size_t len);
void sbuf_free(struct sbuf *b);

/* Write all of b to fd.  Returns 0 or -1 (errno set). */
int sbuf_write(const struct sbuf *b, int fd);

#endif
