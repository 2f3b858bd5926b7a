/*
 * log.h: one-line diagnostics for the command-line programs.
 *
 * Library code never exits and never prints: it fills an error buffer
 * (see ERRBUF_LEN) and returns a status.  Only the CLI layer calls these.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdarg.h>
#include <stddef.h>

#define ERRBUF_LEN 512

/*
 * src (n bytes) as one line of printable text in dst (dstlen, 4 x n + 1
 * holds it all): control and non-ASCII bytes become \ooo; backslashes
 * stay, so that text a library escaped already is not escaped twice.
 */
void log_vis(char *dst, size_t dstlen, const char *src, size_t n);

/* Set the program name used as the prefix of every message. */
void log_init(const char *progname);
const char *log_progname(void);

/* "prog: message\n" on stderr. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Fill buf (size len) with a formatted message; returns buf.  Used by
 * library code to hand an error to its caller.
 */
char *errfmt(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Put "prefix: " before the message in buf (truncating at the end). */
void err_prefix(char *buf, size_t len, const char *prefix);

/*
 * Append OpenSSL's first queued error reason (if any) as ": reason" to
 * buf and clear the queue.
 */
void err_add_openssl(char *buf, size_t len);

/*
 * Copy at most srclen bytes of untrusted text (an SMTP reply, a DNS name,
 * a file name) into dst, escaping control and non-ASCII bytes (NUL
 * included) as \ooo and backslashes as \\, always NUL-terminated, cut
 * short rather than overflowing.  Returns dst.
 */
char *str_vis(char *dst, size_t dstlen, const char *src, size_t srclen);

#endif
