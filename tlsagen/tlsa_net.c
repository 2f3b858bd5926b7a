/*
 * tlsa_net.c: a careful, bounded SMTP/TLS client for certificate
 * collection.  Every read has a deadline; replies are bounded in line
 * length and count; any byte a server sends after its reply to STARTTLS
 * and before the handshake is refused (RFC 3207 command injection).
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "log.h"
#include "tlsa_net.h"

static SSL_CTX *client_ctx;

static SSL_CTX *get_client_ctx(void);

void
tlsa_net_cleanup(void)
{
	SSL_CTX_free(client_ctx);
	client_ctx = NULL;
}

long long
tlsa_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
remaining(long long deadline)
{
	long long left = deadline - tlsa_now_ms();

	return left <= 0 ? 0 : (int)left;
}

/* Wait until fd is ready for events or the deadline passes. 1, 0 timeout. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd;
	int r;

	for (;;) {
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, remaining(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		return 1;
	}
}

int
tlsa_smtp_parse_line(const char *line, size_t len, int *more)
{
	int code;

	if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
	    line[1] > '9' || line[2] < '0' || line[2] > '9')
		return -1;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (len == 3 || line[3] == ' ') {
		*more = 0;
		return code;
	}
	if (line[3] == '-') {
		*more = 1;
		return code;
	}
	return -1;
}

struct conn {
	int		 fd;
	char		 buf[SMTP_MAX_LINE + 2];
	size_t		 have;		/* bytes in buf */
	long long	 deadline;
	const char	*peer;
};

/*
 * Read one complete reply (all its lines).  Returns its code and, when
 * ext is not NULL, sets *ext to 1 if any line after the first names the
 * extension.  -1 with err on timeout, EOF, overlong or malformed lines.
 */
static int
smtp_reply(struct conn *c, const char *what, const char *ext, int *has_ext,
    char *err, size_t errlen)
{
	char vis[128], *nl;
	size_t linelen;
	ssize_t n;
	int code = -1, first = -1, more = 1, lines = 0;

	if (has_ext != NULL)
		*has_ext = 0;
	while (more) {
		while ((nl = memchr(c->buf, '\n', c->have)) == NULL) {
			if (c->have >= SMTP_MAX_LINE) {
				errfmt(err, errlen, "%s: %s reply line longer "
				    "than %d bytes", c->peer, what,
				    SMTP_MAX_LINE);
				return -1;
			}
			if (!wait_fd(c->fd, POLLIN, c->deadline)) {
				errfmt(err, errlen, "%s: timed out waiting for "
				    "the %s reply", c->peer, what);
				return -1;
			}
			n = recv(c->fd, c->buf + c->have,
			    SMTP_MAX_LINE - c->have, 0);
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				errfmt(err, errlen, "%s: connection %s before "
				    "the %s reply was complete", c->peer,
				    n == 0 ? "closed" : "failed", what);
				return -1;
			}
			c->have += (size_t)n;
		}
		linelen = (size_t)(nl - c->buf);
		if (linelen > 0 && c->buf[linelen - 1] == '\r')
			linelen--;
		if (memchr(c->buf, '\0', linelen) != NULL ||
		    (code = tlsa_smtp_parse_line(c->buf, linelen,
		    &more)) == -1) {
			errfmt(err, errlen, "%s: malformed %s reply \"%s\"",
			    c->peer, what, str_vis(vis, sizeof(vis), c->buf,
			    linelen));
			return -1;
		}
		if (first == -1)
			first = code;
		else if (code != first) {
			errfmt(err, errlen, "%s: %s reply changes code "
			    "mid-reply", c->peer, what);
			return -1;
		}
		if (ext != NULL && lines > 0 && linelen >= 4 + strlen(ext) &&
		    strncasecmp(c->buf + 4, ext, strlen(ext)) == 0 &&
		    (linelen == 4 + strlen(ext) ||
		    c->buf[4 + strlen(ext)] == ' '))
			*has_ext = 1;
		if (code >= 400 && !more) {
			errfmt(err, errlen, "%s: %s refused: \"%s\"", c->peer,
			    what, str_vis(vis, sizeof(vis), c->buf, linelen));
		}
		c->have -= (size_t)(nl - c->buf) + 1;
		memmove(c->buf, nl + 1, c->have);
		if (++lines > SMTP_MAX_LINES) {
			errfmt(err, errlen, "%s: %s reply has more than %d "
			    "lines", c->peer, what, SMTP_MAX_LINES);
			return -1;
		}
	}
	return code;
}

static int
send_all(struct conn *c, const char *s, char *err, size_t errlen)
{
	size_t len = strlen(s), off = 0;
	ssize_t n;

	while (off < len) {
		if (!wait_fd(c->fd, POLLOUT, c->deadline)) {
			errfmt(err, errlen, "%s: timed out sending", c->peer);
			return -1;
		}
		n = send(c->fd, s + off, len - off, MSG_NOSIGNAL);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			errfmt(err, errlen, "%s: send: %s", c->peer,
			    strerror(errno));
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

static int
smtp_starttls(struct conn *c, const char *helo, char *err, size_t errlen)
{
	char cmd[300];
	int code, has;

	code = smtp_reply(c, "greeting", NULL, NULL, err, errlen);
	if (code == -1)
		return -1;
	if (code != 220) {
		if (code < 400)
			errfmt(err, errlen, "%s: greeting code %d, not 220",
			    c->peer, code);
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", helo);
	if (send_all(c, cmd, err, errlen) == -1)
		return -1;
	code = smtp_reply(c, "EHLO", "STARTTLS", &has, err, errlen);
	if (code == -1)
		return -1;
	if (code != 250) {
		if (code < 400)
			errfmt(err, errlen, "%s: EHLO reply code %d",
			    c->peer, code);
		return -1;
	}
	if (!has) {
		errfmt(err, errlen, "%s: server does not offer STARTTLS",
		    c->peer);
		return -1;
	}
	if (send_all(c, "STARTTLS\r\n", err, errlen) == -1)
		return -1;
	code = smtp_reply(c, "STARTTLS", NULL, NULL, err, errlen);
	if (code == -1)
		return -1;
	if (code != 220) {
		if (code < 400)
			errfmt(err, errlen, "%s: STARTTLS reply code %d",
			    c->peer, code);
		return -1;
	}
	if (c->have != 0) {
		errfmt(err, errlen, "%s: server sent data after its STARTTLS "
		    "reply, before TLS", c->peer);
		return -1;
	}
	return 0;
}

int
tlsa_smtp_starttls_fd(int fd, const char *peer, const char *helo,
    int timeout_ms, char *err, size_t errlen)
{
	struct conn *c;
	int rc;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		errfmt(err, errlen, "out of memory");
		return -1;
	}
	c->fd = fd;
	c->peer = peer;
	c->deadline = tlsa_now_ms() + timeout_ms;
	rc = smtp_starttls(c, helo, err, errlen);
	free(c);
	return rc;
}

int
tlsa_net_init(void)
{
	return get_client_ctx() != NULL ? 0 : -1;
}

static SSL_CTX *
get_client_ctx(void)
{
	if (client_ctx != NULL)
		return client_ctx;
	if ((client_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return NULL;
	/*
	 * We collect whatever the server presents, however weak: judging
	 * it is the verifier's job, not the handshake's.
	 */
	SSL_CTX_set_security_level(client_ctx, 0);
	SSL_CTX_set_min_proto_version(client_ctx, 0);
	SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
	return client_ctx;
}

/* What was negotiated, for the report. */
static void
session_info(SSL *ssl, struct tlsa_session *s)
{
	const SSL_CIPHER *ci = SSL_get_current_cipher(ssl);
	const char *g = NULL;
	int nid, kx;

	snprintf(s->version, sizeof(s->version), "%s", SSL_get_version(ssl));
	if (ci == NULL)
		return;
	snprintf(s->cipher, sizeof(s->cipher), "%s", SSL_CIPHER_get_name(ci));
	kx = SSL_CIPHER_get_kx_nid(ci);
	/* TLS 1.3 (kx "any") always uses (EC)DHE. */
	s->pfs = kx == NID_kx_ecdhe || kx == NID_kx_dhe ||
	    kx == NID_kx_ecdhe_psk || kx == NID_kx_dhe_psk || kx == NID_kx_any;
	if (kx == NID_kx_rsa || kx == NID_kx_rsa_psk) {
		snprintf(s->kx, sizeof(s->kx), "RSA");
		return;
	}
	nid = SSL_get_negotiated_group(ssl);
	if (nid != 0 && nid != NID_undef)
		g = SSL_group_to_name(ssl, nid);
	if (g == NULL && kx == NID_kx_dhe)
		g = "DHE";
	snprintf(s->kx, sizeof(s->kx), "%s", g != NULL ? g : "");
}

static int
tls_handshake(struct conn *c, const struct tlsa_fetch *f,
    STACK_OF(X509) **chain, int *refused, struct tlsa_session *si, char *err,
    size_t errlen)
{
	const char *sni = f->sni;
	unsigned long e0;
	STACK_OF(X509) *peer;
	SSL_CTX *ctx;
	SSL *ssl = NULL;
	int r, e, rc = -1;

	if ((ctx = get_client_ctx()) == NULL || (ssl = SSL_new(ctx)) == NULL ||
	    !SSL_set_fd(ssl, c->fd) ||
	    (sni != NULL && !SSL_set_tlsext_host_name(ssl, sni)) ||
	    (f->sigalgs != NULL && !SSL_set1_sigalgs_list(ssl, f->sigalgs)) ||
	    (f->ciphers != NULL && !SSL_set_cipher_list(ssl, f->ciphers)) ||
	    (f->min_proto != 0 && !SSL_set_min_proto_version(ssl,
	    f->min_proto)) ||
	    (f->max_proto != 0 && !SSL_set_max_proto_version(ssl,
	    f->max_proto))) {
		errfmt(err, errlen, "%s: cannot set up TLS", c->peer);
		err_add_openssl(err, errlen);
		goto out;
	}
	for (;;) {
		ERR_clear_error();
		if ((r = SSL_connect(ssl)) == 1)
			break;
		e = SSL_get_error(ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (!wait_fd(c->fd, e == SSL_ERROR_WANT_READ ?
			    POLLIN : POLLOUT, c->deadline)) {
				errfmt(err, errlen, "%s: TLS handshake timed "
				    "out", c->peer);
				goto out;
			}
			continue;
		}
		errfmt(err, errlen, "%s: TLS handshake failed", c->peer);
		e0 = ERR_peek_last_error();
		/* An alert from the peer: reasons SSL_AD_REASON_OFFSET + n. */
		if (refused != NULL && ERR_GET_LIB(e0) == ERR_LIB_SSL &&
		    ERR_GET_REASON(e0) >= SSL_AD_REASON_OFFSET &&
		    ERR_GET_REASON(e0) < SSL_AD_REASON_OFFSET + 256)
			*refused = 1;
		if (ERR_peek_error() == 0)
			errfmt(err, errlen, "%s: TLS handshake failed: "
			    "connection closed by peer", c->peer);
		err_add_openssl(err, errlen);
		goto out;
	}
	peer = SSL_get_peer_cert_chain(ssl);
	if (peer == NULL || sk_X509_num(peer) == 0) {
		errfmt(err, errlen, "%s: server sent no certificate", c->peer);
		goto out;
	}
	if ((*chain = X509_chain_up_ref(peer)) == NULL) {
		errfmt(err, errlen, "out of memory");
		goto out;
	}
	if (si != NULL)
		session_info(ssl, si);
	/* Polite close; a peer that ignores it does not matter. */
	(void)SSL_shutdown(ssl);
	rc = 0;
out:
	SSL_free(ssl);
	return rc;
}

/* Non-blocking connect with deadline.  Returns fd or -1. */
static int
connect_addr(const struct addrinfo *ai, long long deadline, const char *peer,
    char *err, size_t errlen)
{
	socklen_t elen;
	int fd, e = 0;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1) {
		errfmt(err, errlen, "%s: socket: %s", peer, strerror(errno));
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS) {
			errfmt(err, errlen, "%s: connect: %s", peer,
			    strerror(errno));
			close(fd);
			return -1;
		}
		if (!wait_fd(fd, POLLOUT, deadline)) {
			errfmt(err, errlen, "%s: connect timed out", peer);
			close(fd);
			return -1;
		}
		elen = sizeof(e);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) == -1 ||
		    e != 0) {
			errfmt(err, errlen, "%s: connect: %s", peer,
			    strerror(e != 0 ? e : errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

static int
fetch(const struct tlsa_fetch *f, STACK_OF(X509) **chain, char *peer,
    size_t peerlen, int *tls_refused, int *tls_failed,
    struct tlsa_session *si, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct conn *c = NULL;
	char addr[INET6_ADDRSTRLEN + 1], serv[32];
	int r, rc = -1;

	*chain = NULL;
	if (tls_refused != NULL)
		*tls_refused = 0;
	if (tls_failed != NULL)
		*tls_failed = 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	if ((r = getaddrinfo(f->host, f->port, &hints, &res)) != 0) {
		errfmt(err, errlen, "%s: %s", f->host, gai_strerror(r));
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		errfmt(err, errlen, "out of memory");
		goto out;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr,
		    sizeof(addr), serv, sizeof(serv),
		    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
			continue;
		snprintf(peer, peerlen, "%s%s%s port %s",
		    ai->ai_family == AF_INET6 ? "[" : "", addr,
		    ai->ai_family == AF_INET6 ? "]" : "", serv);
		c->peer = peer;
		c->have = 0;
		c->deadline = tlsa_now_ms() + f->timeout_ms;
		if (f->deadline != 0 && f->deadline < c->deadline)
			c->deadline = f->deadline;
		if ((c->fd = connect_addr(ai, c->deadline, peer, err,
		    errlen)) == -1)
			continue;
		if (f->starttls != TLSA_STARTTLS_SMTP ||
		    smtp_starttls(c, f->helo, err, errlen) == 0) {
			if (tls_failed != NULL)
				*tls_failed = 1;
			if (tls_handshake(c, f, chain, tls_refused, si, err,
			    errlen) == 0)
				rc = 0;
		}
		close(c->fd);
		if (rc == 0)
			break;
	}
out:
	free(c);
	if (res != NULL)
		freeaddrinfo(res);
	return rc;
}

int
tlsa_fetch_chain(const struct tlsa_fetch *f, STACK_OF(X509) **chain,
    char *peer, size_t peerlen, int *tls_refused, char *err, size_t errlen)
{
	return fetch(f, chain, peer, peerlen, tls_refused, NULL, NULL, err,
	    errlen);
}

int
tlsa_probe(const struct tlsa_fetch *f, struct tlsa_session *s, char *err,
    size_t errlen)
{
	memset(s, 0, sizeof(*s));
	if (fetch(f, &s->chain, s->peer, sizeof(s->peer), &s->refused,
	    &s->tls_failed, s, err, errlen) == -1)
		return -1;
	s->tls_failed = 0;
	return 0;
}

void
tlsa_served_free(struct tlsa_served *s, int n)
{
	int i;

	for (i = 0; s != NULL && i < n; i++)
		sk_X509_pop_free(s[i].chain, X509_free);
	free(s);
}

int
tlsa_fetch_all(const struct tlsa_fetch *f, struct tlsa_served **out,
    char *err, size_t errlen)
{
	static const struct {
		const char *kind, *sigalgs, *ciphers;
	} probes[] = {
		{ "ECDSA", "ecdsa_secp256r1_sha256:ecdsa_secp384r1_sha384:"
		    "ecdsa_secp521r1_sha512", "aECDSA:@SECLEVEL=0" },
		/* rsa_pss_pss_*: a certificate with an RSA-PSS key */
		{ "RSA", "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:"
		    "rsa_pss_rsae_sha512:rsa_pss_pss_sha256:"
		    "rsa_pss_pss_sha384:rsa_pss_pss_sha512:rsa_pkcs1_sha256:"
		    "rsa_pkcs1_sha384:rsa_pkcs1_sha512:rsa_pkcs1_sha1",
		    "aRSA:@SECLEVEL=0" },
		{ "default", NULL, NULL },
	};
	struct tlsa_served *v = NULL;
	struct tlsa_fetch g;
	STACK_OF(X509) *chain;
	char peer[128], lerr[ERRBUF_LEN];
	size_t p;
	int n = 0, i, refused, dup;

	*out = NULL;
	if ((v = calloc(3, sizeof(*v))) == NULL) {
		errfmt(err, errlen, "out of memory");
		return -1;
	}
	for (p = 0; p < 3; p++) {
		if (p == 2 && n > 0)
			break;
		g = *f;
		g.sigalgs = probes[p].sigalgs;
		g.ciphers = probes[p].ciphers;
		if (tlsa_fetch_chain(&g, &chain, peer, sizeof(peer), &refused,
		    lerr, sizeof(lerr)) == -1) {
			if (refused && p < 2)
				continue;	/* no such certificate */
			errfmt(err, errlen, "%s", lerr);
			tlsa_served_free(v, n);
			return -1;
		}
		for (i = 0, dup = 0; i < n; i++)
			if (X509_cmp(sk_X509_value(v[i].chain, 0),
			    sk_X509_value(chain, 0)) == 0)
				dup = 1;
		if (dup) {
			sk_X509_pop_free(chain, X509_free);
			continue;
		}
		v[n].chain = chain;
		snprintf(v[n].kind, sizeof(v[n].kind), "%s", probes[p].kind);
		snprintf(v[n].peer, sizeof(v[n].peer), "%s", peer);
		n++;
	}
	*out = v;
	return n;
}
