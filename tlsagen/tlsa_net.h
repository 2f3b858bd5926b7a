/*
 * tlsa_net.h: fetch the certificate chain a live server presents, over
 * SMTP STARTTLS or direct TLS, with SNI and bounded time.  This module
 * talks to the network and never sees a private key.
 */
#ifndef TLSA_NET_H
#define TLSA_NET_H

#include <openssl/x509.h>

enum tlsa_starttls { TLSA_STARTTLS_NONE = 0, TLSA_STARTTLS_SMTP = 1 };

/* Longest reply line and most reply lines we accept from a peer. */
#define SMTP_MAX_LINE	2048
#define SMTP_MAX_LINES	200

struct tlsa_fetch {
	const char	*host;		/* name or address literal to connect to */
	const char	*port;		/* service or number */
	const char	*sni;		/* server name to send, or NULL */
	const char	*helo;		/* EHLO name */
	int		 starttls;	/* enum tlsa_starttls */
	int		 timeout_ms;	/* whole exchange per address */
};

/*
 * Connect to f->host (each address in turn until one completes), do the
 * SMTP dialogue if asked, the TLS handshake, and return the chain the
 * server sent (leaf first; caller frees with sk_X509_pop_free) and the
 * address that answered (peer, "addr port").  Returns 0, or -1 with a
 * one-line reason naming the address in err.
 */
int tlsa_fetch_chain(const struct tlsa_fetch *f, STACK_OF(X509) **chain,
    char *peer, size_t peerlen, char *err, size_t errlen);

/*
 * Parse one SMTP reply line (without CRLF).  Returns the reply code
 * (200..599) and sets *more when it is a continuation line ("250-"), or
 * -1 when the line is not a reply line.
 */
int smtp_parse_line(const char *line, size_t len, int *more);

/* Free the cached client context. */
void tlsa_net_cleanup(void);

#endif
