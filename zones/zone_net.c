/*
 * zone_net.c: DNS transport with TSIG.
 */
#include <sys/socket.h>
#include <sys/time.h>

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
	struct timeval tv;
	uint8_t *wire = NULL;
	size_t wlen = 0;
	uint16_t id;
	ldns_status st = LDNS_STATUS_ERR;
	int try, tcp = o->tcp, rc = -1, terr, saved = 0;
	uint64_t other;

	*reply = NULL;
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
	tv.tv_sec = o->timeout_ms / 1000;
	tv.tv_usec = (o->timeout_ms % 1000) * 1000;
	for (try = 0; try < (tcp ? 1 : o->tries); try++) {
		free(wire);
		wire = NULL;
		errno = 0;
		st = tcp ? ldns_tcp_send(&wire, qbuf, &srv->ss, srv->sslen, tv,
		    &wlen) : ldns_udp_send(&wire, qbuf, &srv->ss, srv->sslen,
		    tv, &wlen);
		saved = errno;
		if (st == LDNS_STATUS_OK && wire != NULL)
			break;
	}
	if (wire == NULL) {
		errfmt(err, errlen, "%s: no answer over %s (%s)", srv->name,
		    tcp ? "TCP" : "UDP", saved != 0 && saved != EAGAIN &&
		    saved != EINPROGRESS ? strerror(saved) :
		    st == LDNS_STATUS_NETWORK_ERR || st == LDNS_STATUS_ERR ?
		    "timed out or refused" : ldns_get_errorstr_by_id(st));
		goto out;
	}
	if (ldns_wire2pkt(&r, wire, wlen) != LDNS_STATUS_OK) {
		errfmt(err, errlen, "%s: malformed reply (%zu bytes)",
		    srv->name, wlen);
		goto out;
	}
	if (ldns_pkt_id(r) != id || !ldns_pkt_qr(r) || !same_question(q, r)) {
		errfmt(err, errlen, "%s: reply does not belong to the query",
		    srv->name);
		goto out;
	}
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
	rc = zone_exchange(srv, q, NULL, o, reply, err, errlen);
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
