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
	const char	*sigalgs;	/* offer only these (NULL: default) */
	const char	*ciphers;	/* TLS <= 1.2 cipher list, or NULL */
	int		 min_proto;	/* TLS1_VERSION etc.; 0: any */
	int		 max_proto;	/* 0: highest */
	long long	 deadline;	/* tlsa_now_ms() time to give up by, */
					/* over all addresses; 0: none */
};

/* What one handshake negotiated. */
struct tlsa_session {
	STACK_OF(X509)	*chain;		/* leaf first; caller frees */
	char		 version[16];	/* "TLSv1.3" */
	char		 cipher[64];	/* OpenSSL name */
	char		 kx[32];	/* key exchange group, "RSA" for kRSA */
	int		 pfs;		/* forward secret key exchange */
	char		 peer[128];	/* "addr port N" */
	int		 refused;	/* on failure: the handshake got an */
					/* alert (nothing for what we offered) */
	int		 tls_failed;	/* on failure: it got as far as TLS */
};

/* One chain a server presents, and to which kind of client. */
struct tlsa_served {
	STACK_OF(X509)	*chain;		/* leaf first */
	char		 kind[16];	/* "ECDSA", "RSA", "default" */
	char		 peer[128];	/* "addr port N" */
};

/*
 * Connect to f->host (each address in turn until one completes), do the
 * SMTP dialogue if asked, the TLS handshake, and return the chain the
 * server sent (leaf first; caller frees with sk_X509_pop_free) and the
 * address that answered (peer, "addr port").  Returns 0, or -1 with a
 * one-line reason naming the address in err; *tls_refused (may be NULL)
 * is then 1 when the server answered the handshake with an alert (it
 * has no certificate for what we offered), 0 for any other failure.
 */
int tlsa_fetch_chain(const struct tlsa_fetch *f, STACK_OF(X509) **chain,
    char *peer, size_t peerlen, int *tls_refused, char *err, size_t errlen);

/*
 * Every chain the server presents: one handshake offering only ECDSA,
 * one offering only RSA (a host with both certificates serves each to
 * its own kind of client), and a default one when neither was accepted
 * (Ed25519, or anything else).  Chains with the same leaf are kept once.
 * A failure before or outside the TLS negotiation (connect, SMTP,
 * timeout, a peer that hangs up) ends the probing with that error.
 * Returns the number of chains (>= 1) in *out (caller frees with
 * tlsa_served_free), or -1 with err.
 */
int tlsa_fetch_all(const struct tlsa_fetch *f, struct tlsa_served **out,
    char *err, size_t errlen);

void tlsa_served_free(struct tlsa_served *s, int n);

/*
 * As tlsa_fetch_chain, with what the handshake negotiated in *s (the
 * failure flags are set on failure too).  Thread-safe once
 * tlsa_net_init() has been called.
 */
int tlsa_probe(const struct tlsa_fetch *f, struct tlsa_session *s, char *err,
    size_t errlen);

/* Set up the shared client context (call before starting threads). */
int tlsa_net_init(void);

/* Milliseconds on the monotonic clock (for tlsa_fetch.deadline). */
long long tlsa_now_ms(void);

/*
 * Parse one SMTP reply line (without CRLF).  Returns the reply code
 * (200..599) and sets *more when it is a continuation line ("250-"), or
 * -1 when the line is not a reply line.
 */
int tlsa_smtp_parse_line(const char *line, size_t len, int *more);

/*
 * The SMTP side of STARTTLS on a connected socket fd (non-blocking or
 * not): greeting, EHLO helo, STARTTLS, each reply bounded and within
 * timeout_ms in all.  peer names the server in errors.  Returns 0 when
 * the server is ready for the TLS handshake, -1 with a one-line reason.
 */
int tlsa_smtp_starttls_fd(int fd, const char *peer, const char *helo,
    int timeout_ms, char *err, size_t errlen);

/* Free the cached client context. */
void tlsa_net_cleanup(void);

#endif
