/*
 * zone_net.c: DNS transport with TSIG.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <poll.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "log.h"
#include "zone_net.h"

int
zone_server_parse(const char *s, struct zone_server *srv, char *err,
    size_t errlen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&srv->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&srv->ss;
	char addr[INET6_ADDRSTRLEN + 1], vis[100];
	const char *p, *port = NULL;
	unsigned long pn = 53;
	char *end;
	size_t n;

	memset(srv, 0, sizeof(*srv));
	if (s[0] == '[') {
		if ((p = strchr(s, ']')) == NULL)
			goto bad;
		n = (size_t)(p - s - 1);
		if (p[1] == ':' || p[1] == '@')
			port = p + 2;
		else if (p[1] != '\0')
			goto bad;
		s++;
	} else if ((p = strchr(s, '@')) != NULL) {
		n = (size_t)(p - s);
		port = p + 1;
	} else
		n = strlen(s);
	if (n == 0 || n >= sizeof(addr))
		goto bad;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (port != NULL) {
		pn = strtoul(port, &end, 10);
		if (*port == '\0' || *end != '\0' || pn == 0 || pn > 65535)
			goto bad;
	}
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)pn);
		srv->sslen = sizeof(*sin);
		snprintf(srv->name, sizeof(srv->name), "%s@%lu", addr, pn);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)pn);
		srv->sslen = sizeof(*sin6);
		snprintf(srv->name, sizeof(srv->name), "%s@%lu", addr, pn);
		return 0;
	}
bad:
	errfmt(err, errlen, "server \"%s\": want ADDRESS[@PORT] with a "
	    "numeric address", str_vis(vis, sizeof(vis), s, strlen(s)));
	return -1;
}

void
zone_server_from_sa(const struct sockaddr *sa, socklen_t len,
    struct zone_server *srv)
{
	char addr[INET6_ADDRSTRLEN];
	unsigned port;

	memset(srv, 0, sizeof(*srv));
	memcpy(&srv->ss, sa, len);
	srv->sslen = len;
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
		port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
		port = ntohs(s4->sin_port);
	}
	snprintf(srv->name, sizeof(srv->name), "%s@%u", addr, port);
}

const char *
zone_rcode_name(int rcode)
{
	static __thread char buf[24];

	switch (rcode) {
	case 0: return "NOERROR";
	case 1: return "FORMERR";
	case 2: return "SERVFAIL";
	case 3: return "NXDOMAIN";
	case 4: return "NOTIMP";
	case 5: return "REFUSED";
	case 6: return "YXDOMAIN";
	case 7: return "YXRRSET";
	case 8: return "NXRRSET";
	case 9: return "NOTAUTH";
	case 10: return "NOTZONE";
	case 16: return "BADSIG";
	case 17: return "BADKEY";
	case 18: return "BADTIME";
	case 19: return "BADMODE";
	case 20: return "BADNAME";
	case 21: return "BADALG";
	case 22: return "BADTRUNC";
	case 23: return "BADCOOKIE";
	default:
		snprintf(buf, sizeof(buf), "RCODE%d", rcode);
		return buf;
	}
}

/* TSIG RR rdata fields (RFC 8945): alg, time, fudge, mac, id, error, other */
static int
tsig_error(const ldns_rr *tsig, uint64_t *other_time)
{
	const ldns_rdf *f;

	*other_time = 0;
	if (tsig == NULL || ldns_rr_rd_count(tsig) < 7)
		return -1;
	f = ldns_rr_rdf(tsig, 6);
	if (f != NULL && ldns_rdf_size(f) >= 8) {
		const uint8_t *d = ldns_rdf_data(f);
		uint16_t olen = (uint16_t)(d[0] << 8 | d[1]);
		int i;

		if (olen == 6 && ldns_rdf_size(f) >= 8)
			for (i = 0; i < 6; i++)
				*other_time = *other_time << 8 | d[2 + i];
	}
	f = ldns_rr_rdf(tsig, 5);
	if (f == NULL || ldns_rdf_size(f) != 2)
		return -1;
	return ldns_rdf2native_int16(f);
}

static int
same_question(const ldns_pkt *q, const ldns_pkt *r)
{
	const ldns_rr_list *qq = ldns_pkt_question(q), *rq;
	const ldns_rr *a, *b;

	rq = ldns_pkt_question(r);
	if (ldns_rr_list_rr_count(qq) != ldns_rr_list_rr_count(rq))
		return ldns_pkt_get_opcode(q) == LDNS_PACKET_UPDATE &&
		    ldns_rr_list_rr_count(rq) == 0;
	if (ldns_rr_list_rr_count(qq) == 0)
		return 1;
	a = ldns_rr_list_rr(qq, 0);
	b = ldns_rr_list_rr(rq, 0);
	return ldns_rr_get_type(a) == ldns_rr_get_type(b) &&
	    ldns_rr_get_class(a) == ldns_rr_get_class(b) &&
	    ldns_dname_compare(ldns_rr_owner(a), ldns_rr_owner(b)) == 0;
}

/* Milliseconds on the monotonic clock. */
static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The run's deadline (monotonic ms, 0: none) and its length, for errors. */
static long long run_deadline;
static unsigned run_seconds;

void
zone_net_set_run_deadline(unsigned seconds)
{
	run_seconds = seconds;
	run_deadline = seconds > 0 ? now_ms() + (long long)seconds * 1000 : 0;
}

long long
zone_net_run_left_ms(void)
{
	long long left;

	if (run_deadline == 0)
		return -1;
	left = run_deadline - now_ms();
	return left > 0 ? left : 0;
}

/*
 * The end of an exchange that may take ms from now: sooner when the
 * run's deadline comes first (*by_run set then).
 */
static long long
exchange_end(long long ms, int *by_run)
{
	long long end = now_ms() + ms;

	*by_run = 0;
	if (run_deadline != 0 && run_deadline < end) {
		end = run_deadline;
		*by_run = 1;
	}
	return end;
}

static void
timed_out(const struct zone_server *srv, const char *proto, int by_run,
    long long ms, const char *what, const char *detail, char *err,
    size_t errlen)
{
	if (by_run)
		errfmt(err, errlen, "%s: %s over %s: the run's time for DNS "
		    "(%u s) is used up%s%s", srv->name, what, proto,
		    run_seconds, detail[0] ? "; " : "", detail);
	else
		errfmt(err, errlen, "%s: %s over %s within %lld ms%s%s",
		    srv->name, what, proto, ms, detail[0] ? "; " : "", detail);
}

/*
 * Does the message (wire, len) answer q (ID id)?  0 with *r the parsed
 * reply, -1 with why (no server name) in err.
 */
static int
reply_matches(const ldns_pkt *q, uint16_t id, const uint8_t *wire,
    size_t len, ldns_pkt **r, char *err, size_t errlen)
{
	*r = NULL;
	if (ldns_wire2pkt(r, wire, len) != LDNS_STATUS_OK) {
		*r = NULL;
		errfmt(err, errlen, "malformed reply (%zu bytes)", len);
		return -1;
	}
	if (ldns_pkt_id(*r) != id || !ldns_pkt_qr(*r) ||
	    !same_question(q, *r)) {
		errfmt(err, errlen, "reply does not belong to the query%s",
		    ldns_pkt_id(*r) != id ? " (another message ID)" :
		    !ldns_pkt_qr(*r) ? " (QR bit clear)" :
		    " (another question)");
		ldns_pkt_free(*r);
		*r = NULL;
		return -1;
	}
	return 0;
}

/*
 * Wait for fd to be ready for events until end; 1 ready, 0 time is up,
 * -1 error (errno).
 */
static int
wait_fd(int fd, short events, long long end)
{
	struct pollfd pfd;
	long long left;
	int r;

	for (;;) {
		if ((left = end - now_ms()) <= 0)
			return 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		if ((r = poll(&pfd, 1, (int)left)) == -1 && errno == EINTR)
			continue;
		return r > 0 ? 1 : r;
	}
}

int
zone_net_sys_open(const struct zone_server *srv, int tcp, long long end)
{
	socklen_t sl = sizeof(int);
	int fd, e = 0, w;

	if ((fd = socket(srv->ss.ss_family, (tcp ? SOCK_STREAM |
	    SOCK_NONBLOCK : SOCK_DGRAM) | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	/* UDP too: the kernel then drops datagrams from other sources. */
	if (connect(fd, (const struct sockaddr *)&srv->ss, srv->sslen) == 0)
		return fd;
	if (tcp && errno == EINPROGRESS) {
		if ((w = wait_fd(fd, POLLOUT, end)) == 0)
			errno = ETIMEDOUT;
		else if (w == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e,
		    &sl) == 0 && (errno = e) == 0)
			return fd;
	}
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

int
zone_net_sys_send(int fd, int tcp, const uint8_t *p, size_t len, long long end)
{
	size_t sent = 0;
	ssize_t n;
	int w;

	if (!tcp)
		return send(fd, p, len, 0) == (ssize_t)len ? 1 : -1;
	while (sent < len) {
		if ((w = wait_fd(fd, POLLOUT, end)) != 1)
			return w;
		if ((n = send(fd, p + sent, len - sent, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		sent += (size_t)n;
	}
	return 1;
}

int
zone_net_sys_recv(int fd, int tcp, uint8_t *p, size_t len, long long end,
    size_t *n)
{
	ssize_t r;
	int w;

	for (;;) {
		if ((w = wait_fd(fd, POLLIN, end)) != 1)
			return w;
		if ((r = recv(fd, p, len, 0)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (r == 0 && tcp) {
			errno = 0;
			return -1;
		}
		*n = (size_t)r;
		return 1;
	}
}

void
zone_net_sys_close(int fd)
{
	close(fd);
}

/* What zone_exchange calls: these, unless a test harness has its own. */
int zone_net_open(const struct zone_server *, int, long long)
    __attribute__((weak, alias("zone_net_sys_open")));
int zone_net_send(int, int, const uint8_t *, size_t, long long)
    __attribute__((weak, alias("zone_net_sys_send")));
int zone_net_recv(int, int, uint8_t *, size_t, long long, size_t *)
    __attribute__((weak, alias("zone_net_sys_recv")));
void zone_net_close(int) __attribute__((weak, alias("zone_net_sys_close")));

/*
 * UDP on a socket connected to the server, so that the kernel drops
 * datagrams from other addresses; datagrams that do not answer q are
 * dropped too, and reading goes on until the try's end.  Up to o->tries
 * sends, o->timeout_ms apart.  0 with *wire, *wlen and *r, or -1.
 */
static int
udp_exchange(const struct zone_server *srv, const ldns_pkt *q, uint16_t id,
    ldns_buffer *qbuf, const struct zone_xfer_opts *o, uint8_t **wire,
    size_t *wlen, ldns_pkt **r, char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	char why[ERRBUF_LEN];
	long long end, try_end, total;
	unsigned discarded = 0;
	size_t n;
	int fd = -1, try, rc = -1, saved = 0, by_run, tries, w;

	tries = o->tries > 0 ? o->tries : 1;
	total = (long long)o->timeout_ms * tries;
	end = exchange_end(total, &by_run);
	why[0] = '\0';
	if ((buf = malloc(65536)) == NULL) {
		errfmt(err, errlen, "out of memory");
		goto out;
	}
	if ((fd = zone_net_open(srv, 0, end)) == -1) {
		errfmt(err, errlen, "%s: no answer over UDP (%s)", srv->name,
		    strerror(errno));
		goto out;
	}
	for (try = 0; try < tries && now_ms() < end; try++) {
		if (zone_net_send(fd, 0, ldns_buffer_begin(qbuf),
		    ldns_buffer_position(qbuf), end) != 1) {
			saved = errno;
			if (saved != ECONNREFUSED)
				break;
			continue;
		}
		try_end = now_ms() + o->timeout_ms;
		if (try_end > end)
			try_end = end;
		for (;;) {
			if ((w = zone_net_recv(fd, 0, buf, 65536, try_end,
			    &n)) != 1) {
				if (w == -1)	/* ICMP unreachable, say */
					saved = errno;
				break;		/* this try is over */
			}
			if (reply_matches(q, id, buf, n, r, why,
			    sizeof(why)) == -1) {
				discarded++;
				continue;
			}
			*wire = buf;
			*wlen = n;
			buf = NULL;
			rc = 0;
			goto out;
		}
	}
	if (discarded > 0) {
		char what[ERRBUF_LEN + 64];

		snprintf(what, sizeof(what), "%u datagram%s discarded, the "
		    "last: %s", discarded, discarded == 1 ? "" : "s", why);
		timed_out(srv, "UDP", by_run && now_ms() >= end, total,
		    "no answer that belongs to the query", what, err, errlen);
	} else if (saved != 0 && saved != EAGAIN && saved != EINTR)
		errfmt(err, errlen, "%s: no answer over UDP (%s)", srv->name,
		    strerror(saved));
	else if (by_run && now_ms() >= end)
		timed_out(srv, "UDP", 1, total, "no answer", "", err, errlen);
	else
		errfmt(err, errlen, "%s: no answer over UDP (timed out or "
		    "refused)", srv->name);
out:
	if (fd != -1)
		zone_net_close(fd);
	free(buf);
	return rc;
}

/*
 * Read exactly len bytes by end.  1 done, 0 time is up, -1 closed or
 * error (errno, 0 for closed).  *got counts what arrived.
 */
static int
read_by(int fd, uint8_t *p, size_t len, long long end, size_t *got)
{
	size_t have = 0, n;
	int r;

	while (have < len) {
		if ((r = zone_net_recv(fd, 1, p + have, len - have, end, &n)) !=
		    1)
			return r;
		have += n;
		*got += n;
	}
	return 1;
}

/*
 * One query over TCP, the whole exchange (connect, send, read) bounded
 * by one deadline: a server that sends its answer a byte at a time does
 * not hold us longer than o->timeout_ms.  0 with *wire, *wlen and *r,
 * or -1.
 */
static int
tcp_exchange(const struct zone_server *srv, const ldns_pkt *q, uint16_t id,
    ldns_buffer *qbuf, const struct zone_xfer_opts *o, uint8_t **wire,
    size_t *wlen, ldns_pkt **r, char *err, size_t errlen)
{
	uint8_t hdr[2], *buf = NULL, *msg = NULL;
	char why[ERRBUF_LEN];
	size_t qlen = ldns_buffer_position(qbuf), got = 0, len;
	long long end, ms = o->timeout_ms;
	int fd = -1, rc = -1, by_run, w;

	end = exchange_end(ms, &by_run);
	if ((msg = malloc(qlen + 2)) == NULL) {
		errfmt(err, errlen, "out of memory");
		goto out;
	}
	msg[0] = (uint8_t)(qlen >> 8);
	msg[1] = (uint8_t)qlen;
	memcpy(msg + 2, ldns_buffer_begin(qbuf), qlen);
	if ((fd = zone_net_open(srv, 1, end)) == -1) {
		if (errno == ETIMEDOUT)
			goto slow;
		goto syserr;
	}
	if ((w = zone_net_send(fd, 1, msg, qlen + 2, end)) == 0)
		goto slow;
	if (w == -1)
		goto syserr;
	if ((w = read_by(fd, hdr, 2, end, &got)) == 0)
		goto slow;
	if (w == -1)
		goto syserr;
	len = (size_t)hdr[0] << 8 | hdr[1];
	if ((buf = malloc(len > 0 ? len : 1)) == NULL) {
		errfmt(err, errlen, "out of memory");
		goto out;
	}
	if ((w = read_by(fd, buf, len, end, &got)) == 0)
		goto slow;
	if (w == -1)
		goto syserr;
	if (reply_matches(q, id, buf, len, r, why, sizeof(why)) == -1) {
		errfmt(err, errlen, "%s: %s", srv->name, why);
		goto out;
	}
	*wire = buf;
	*wlen = len;
	buf = NULL;
	rc = 0;
	goto out;
slow:
	if (got == 0)
		timed_out(srv, "TCP", by_run, ms, "no answer", "", err,
		    errlen);
	else {
		snprintf(why, sizeof(why), "%zu bytes arrived (too slow)",
		    got);
		timed_out(srv, "TCP", by_run, ms, "answer not complete", why,
		    err, errlen);
	}
	goto out;
syserr:
	errfmt(err, errlen, "%s: no answer over TCP (%s)", srv->name,
	    errno != 0 ? strerror(errno) : got > 0 ? "connection closed "
	    "in the middle of the answer" : "connection closed");
out:
	if (fd != -1)
		zone_net_close(fd);
	free(msg);
	free(buf);
	return rc;
}

int
zone_exchange(const struct zone_server *srv, ldns_pkt *q,
    const struct zone_tsig *key, const struct zone_xfer_opts *o,
    ldns_pkt **reply, char *err, size_t errlen)
{
	ldns_buffer *qbuf = NULL;
	ldns_pkt *r = NULL;
	unsigned char qmac[ZONE_TSIG_MAX_MAC];
	size_t qmaclen = 0;
	char lerr[ERRBUF_LEN];
	uint8_t *wire = NULL;
	size_t wlen = 0;
	uint16_t id;
	int tcp = o->tcp, rc = -1, terr;
	uint64_t other;

	*reply = NULL;
	if (run_deadline != 0 && now_ms() >= run_deadline) {
		errfmt(err, errlen, "%s: not asked: the run's time for DNS "
		    "(%u s) is used up", srv->name, run_seconds);
		goto out;
	}
	if (RAND_bytes((unsigned char *)&id, sizeof(id)) != 1)
		id = (uint16_t)(rand() & 0xffff);
	ldns_pkt_set_id(q, id);
	if (key != NULL && zone_tsig_sign(q, key, 300, qmac, &qmaclen, err,
	    errlen) == -1)
		goto out;
	/*
	 * Without name compression: cheaper for large updates, and the
	 * encoding zone_tsig_sign computed the MAC over must be the same.
	 */
	if ((qbuf = ldns_buffer_new(LDNS_MAX_PACKETLEN)) == NULL ||
	    ldns_pkt2buffer_wire_compress(qbuf, q, NULL) != LDNS_STATUS_OK) {
		errfmt(err, errlen, "%s: cannot encode the message", srv->name);
		goto out;
	}
	if (ldns_buffer_position(qbuf) > 512)
		tcp = 1;
	if ((tcp ? tcp_exchange : udp_exchange)(srv, q, id, qbuf, o, &wire,
	    &wlen, &r, err, errlen) == -1)
		goto out;
	if (ldns_pkt_tc(r) && !tcp) {
		/* Truncated: once more over TCP. */
		struct zone_xfer_opts o2 = *o;

		ldns_pkt_free(r);
		r = NULL;
		o2.tcp = 1;
		ldns_rr_free(ldns_pkt_tsig(q));	/* set_tsig does not free it */
		ldns_pkt_set_tsig(q, NULL);
		rc = zone_exchange(srv, q, key, &o2, reply, err, errlen);
		goto out;
	}
	if (key != NULL) {
		terr = tsig_error(ldns_pkt_tsig(r), &other);
		if (ldns_pkt_tsig(r) == NULL) {
			errfmt(err, errlen, "%s: %s reply without TSIG "
			    "(key %s not accepted?)", srv->name,
			    zone_rcode_name(ldns_pkt_get_rcode(r)), key->name);
			goto out;
		}
		if (terr == 18) {
			long long skew = (long long)other -
			    (long long)time(NULL);

			errfmt(err, errlen, "%s: TSIG BADTIME: the clocks "
			    "differ by %lld s (server minus ours)", srv->name,
			    other != 0 ? skew : 0LL);
			goto out;
		}
		if (terr != 0) {
			errfmt(err, errlen, "%s: TSIG %s with key %s",
			    srv->name, zone_rcode_name(terr), key->name);
			goto out;
		}
		if (zone_tsig_verify(wire, wlen, r, key, qmac, qmaclen, lerr,
		    sizeof(lerr)) == -1) {
			errfmt(err, errlen, "%s: %s", srv->name, lerr);
			goto out;
		}
	}
	*reply = r;
	r = NULL;
	rc = 0;
out:
	ldns_pkt_free(r);
	ldns_buffer_free(qbuf);
	free(wire);
	return rc;
}

int
zone_query(const struct zone_server *srv, const char *name,
    ldns_rr_type type, int rd, int dnssec, int cd,
    const struct zone_xfer_opts *o, ldns_pkt **reply, char *err,
    size_t errlen)
{
	return zone_query_key(srv, name, type, rd, dnssec, cd, NULL, o, reply,
	    err, errlen);
}

int
zone_query_key(const struct zone_server *srv, const char *name,
    ldns_rr_type type, int rd, int dnssec, int cd,
    const struct zone_tsig *key, const struct zone_xfer_opts *o,
    ldns_pkt **reply, char *err, size_t errlen)
{
	ldns_pkt *q = NULL;
	ldns_rdf *d = NULL;
	int rc = -1;

	if (ldns_str2rdf_dname(&d, name) != LDNS_STATUS_OK) {
		errfmt(err, errlen, "\"%s\": not a DNS name", name);
		return -1;
	}
	q = ldns_pkt_query_new(d, type, LDNS_RR_CLASS_IN,
	    rd ? LDNS_RD : 0);
	if (q == NULL) {
		ldns_rdf_deep_free(d);
		errfmt(err, errlen, "out of memory");
		return -1;
	}
	if (dnssec) {
		ldns_pkt_set_edns_udp_size(q, 4096);
		ldns_pkt_set_edns_do(q, 1);
	}
	if (cd)
		ldns_pkt_set_cd(q, 1);
	rc = zone_exchange(srv, q, key, o, reply, err, errlen);
	ldns_pkt_free(q);
	return rc;
}

int
zone_server_system(struct zone_server *srv, char *err, size_t errlen)
{
	ldns_resolver *res = NULL;
	ldns_rdf **ns;
	char *s;
	int rc = -1;

	if (ldns_resolver_new_frm_file(&res, NULL) != LDNS_STATUS_OK) {
		errfmt(err, errlen, "/etc/resolv.conf: no usable nameserver "
		    "line");
		return -1;
	}
	ns = ldns_resolver_nameservers(res);
	if (ldns_resolver_nameserver_count(res) == 0 ||
	    (s = ldns_rdf2str(ns[0])) == NULL)
		errfmt(err, errlen, "/etc/resolv.conf: no nameserver");
	else {
		rc = zone_server_parse(s, srv, err, errlen);
		free(s);
	}
	ldns_resolver_deep_free(res);
	return rc;
}
