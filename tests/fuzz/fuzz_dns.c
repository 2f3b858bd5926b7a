/*
 * fuzz_dns.c: DNS answer handling.  The program's own code runs as it
 * does against a server (zone_exchange's reply checks: ID, QR, question,
 * truncation and TCP retry, TSIG errors and verification; then the
 * callers' checks of rcode, AA, sections and RRsets), but the replies
 * come from the fuzz input: zone_net_open, zone_net_send, zone_net_recv
 * and zone_net_close, the wire under zone_exchange, are weak symbols in
 * zone_net.c and replaced here, so nothing touches the network.  Over
 * UDP each reply is one datagram (one that does not belong is dropped
 * and the next one read, as from a server); over TCP each connection
 * gets the next reply as its stream.
 *
 * Input: byte 0 picks the operation, byte 1 holds flags, then each reply
 * in turn as a 2-byte big-endian length and the message (as in DNS over
 * TCP); when the replies run out, the "server" does not answer (UDP) or
 * closes the connection (TCP).
 *
 *   flag 0x01  sign the queries with a TSIG key (tlsa-update., SHA-256)
 *   flag 0x02  sign each reply properly with that key (the reply is
 *              parsed and re-encoded first; unparsable ones go as they
 *              are), so that the code after TSIG verification runs
 *   flag 0x04  leave the reply's ID as it is (else it is set to the
 *              query's ID, which is random)
 *   flag 0x08  TCP from the start
 *   flag 0x10  recursive (zone_find_apex)
 *
 * Built with -DFUZZ_DNS_RECORD (see make-dns-seeds.sh) it is instead a
 * recorder: the operations go to real servers, and the replies are
 * written out in the input format above, as seeds.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "log.h"
#include "zone_check.h"
#include "zone_net.h"
#include "zone_tsig.h"
#include "zone_update.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ZONE	"example.test."
#define OWNER	"_25._tcp.mx1.example.test."

enum { F_TSIG = 0x01, F_SIGN = 0x02, F_RAWID = 0x04, F_TCP = 0x08,
    F_RECURSIVE = 0x10 };
enum { OP_READ, OP_APEX, OP_UPDATE, OP_VISIBILITY, OP_RESOLVE, OP_NS,
    OP_QUERY, OP_N };

static struct zone_tsig fuzz_key = {
	"tlsa-update.", "hmac-sha256.",
	"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTIzNA=="
};
static const struct zone_tsig *key_in_use;
static int flags, current_op;

/* Two TLSA RRsets: "3 1 1 11..11" and "3 1 1 22..22". */
static unsigned char d1[32], d2[32];
static struct tlsa_rec r1 = { { 3, 1, 1 }, d1, 32 };
static struct tlsa_rec r2 = { { 3, 1, 1 }, d2, 32 };
static struct zone_rrset set1 = { &r1, 1, 60 };
static struct zone_rrset set2 = { &r2, 1, 60 };

/* Every error is one line of printable text. */
static void
check_err(const char *err)
{
	const unsigned char *p;

	for (p = (const unsigned char *)err; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e) {
			fprintf(stderr, "fuzz_dns: raw byte 0x%02x in the "
			    "error \"%s\"\n", *p, err);
			abort();
		}
}

static void
run_op(int op, const struct zone_server *srv, const struct zone_server *srv2)
{
	struct zone_xfer_opts o = { 2000, 2, (flags & F_TCP) != 0 };
	struct zone_rrset rs;
	struct zone_change ch;
	struct zone_vis v[2], *nv = NULL;
	char err[ERRBUF_LEN], *s;
	ldns_pkt *r = NULL;
	size_t n = 0, i;

	err[0] = '\0';
	current_op = op;
	switch (op) {
	case OP_READ:
		if (zone_read_rrset(srv, OWNER, key_in_use, &o, &rs, err,
		    sizeof(err)) == 0) {
			free(zone_rrset_describe(&rs));
			zone_rrset_free(&rs);
		}
		break;
	case OP_APEX:
		free(zone_find_apex(srv, OWNER, (flags & F_RECURSIVE) != 0,
		    key_in_use, &o, err, sizeof(err)));
		break;
	case OP_UPDATE:
		/* Replace 3 1 1 11.. by 3 1 1 22.., guarded by 3 1 1 11.. */
		memset(&ch, 0, sizeof(ch));
		ch.owner = OWNER;
		ch.expect = &set1;
		ch.del = &set1;
		ch.add = &set2;
		ch.ttl = 60;
		(void)zone_update_apply(srv, ZONE, key_in_use, &o, &ch, 1, err,
		    sizeof(err));
		break;
	case OP_VISIBILITY:
		memset(v, 0, sizeof(v));
		v[0].srv = *srv;
		v[0].role = "primary";
		v[1].srv = *srv2;
		v[1].role = "ns";
		(void)zone_visibility(v, 2, ZONE, OWNER, &set2, &o);
		for (i = 0; i < 2; i++) {
			check_err(v[i].error);
			zone_rrset_free(&v[i].rrset);
		}
		break;
	case OP_RESOLVE:
		(void)zone_resolve_validated(srv, OWNER, &o, &rs, err,
		    sizeof(err));
		zone_rrset_free(&rs);
		break;
	case OP_NS:
		if (zone_ns_servers(srv, ZONE, 53, &o, &nv, &n, err,
		    sizeof(err)) == 0) {
			(void)zone_visibility(nv, n, ZONE, OWNER, NULL, &o);
			for (i = 0; i < n; i++)
				check_err(nv[i].error);
			zone_vis_free(nv, n);
		}
		break;
	case OP_QUERY:
		if (zone_query(srv, OWNER, LDNS_RR_TYPE_TLSA, 0, 1, 0, &o, &r,
		    err, sizeof(err)) == 0) {
			zone_rrset_from_pkt(r, OWNER, &rs);
			if ((s = zone_rrset_describe(&rs)) != NULL)
				check_err(s);
			free(s);
			zone_rrset_free(&rs);
			ldns_pkt_free(r);
		}
		break;
	}
	check_err(err);
	if (getenv("FUZZ_DNS_VERBOSE") != NULL)
		fprintf(stderr, "fuzz_dns: op %d flags 0x%02x: %s\n", op, flags,
		    err[0] != '\0' ? err : "ok");
}

static void
init_sets(void)
{
	memset(d1, 0x11, sizeof(d1));
	memset(d2, 0x22, sizeof(d2));
}

#ifndef FUZZ_DNS_RECORD

/* The replies still to give. */
static const uint8_t *in_p;
static size_t in_left;

/* The last query sent, without the TCP length (its ID and MAC). */
static uint8_t *last_q;
static size_t last_qlen;
/* The TCP stream of the connection open now. */
static uint8_t *stream;
static size_t stream_len, stream_pos;

/* Sign reply (wire, *len) as the answer to the last query with the fuzz key. */
static uint8_t *
sign_reply(uint8_t *wire, size_t *len)
{
	ldns_pkt *q = NULL, *r = NULL;
	const ldns_rr *qt;
	uint8_t *out = NULL;
	size_t olen;

	if (last_q == NULL || ldns_wire2pkt(&q, last_q, last_qlen) !=
	    LDNS_STATUS_OK ||
	    (qt = ldns_pkt_tsig(q)) == NULL || ldns_rr_rd_count(qt) < 4 ||
	    ldns_wire2pkt(&r, wire, *len) != LDNS_STATUS_OK)
		goto out;
	ldns_rr_free(ldns_pkt_tsig(r));
	ldns_pkt_set_tsig(r, NULL);
	if (ldns_pkt_tsig_sign(r, fuzz_key.name, fuzz_key.secret, 300,
	    fuzz_key.algorithm, ldns_rr_rdf(qt, 3)) != LDNS_STATUS_OK ||
	    ldns_pkt2wire(&out, r, &olen) != LDNS_STATUS_OK)
		goto out;
	free(wire);
	wire = out;
	*len = olen;
	out = NULL;
out:
	free(out);
	ldns_pkt_free(q);
	ldns_pkt_free(r);
	return wire;
}

/* The next reply from the input (caller frees), or NULL when none. */
static uint8_t *
next_reply(size_t *lenp)
{
	size_t len;
	uint8_t *wire;

	if (in_left < 2)
		return NULL;
	len = (size_t)in_p[0] << 8 | in_p[1];
	in_p += 2;
	in_left -= 2;
	if (len > in_left)
		len = in_left;
	if ((wire = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memcpy(wire, in_p, len);
	in_p += len;
	in_left -= len;
	if (!(flags & F_RAWID) && len >= 2 && last_qlen >= 2)
		memcpy(wire, last_q, 2);
	if ((flags & F_SIGN) && key_in_use != NULL)
		wire = sign_reply(wire, &len);
	*lenp = len;
	return wire;
}

int
zone_net_open(const struct zone_server *srv, int tcp, long long end)
{
	(void)srv;
	(void)tcp;
	(void)end;
	free(stream);
	stream = NULL;
	stream_len = stream_pos = 0;
	return 1000;	/* no such descriptor: nothing is done with it */
}

int
zone_net_send(int fd, int tcp, const uint8_t *p, size_t len, long long end)
{
	(void)fd;
	(void)end;
	if (tcp && len >= 2) {
		p += 2;
		len -= 2;
	}
	free(last_q);
	if ((last_q = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memcpy(last_q, p, len);
	last_qlen = len;
	return 1;
}

int
zone_net_recv(int fd, int tcp, uint8_t *p, size_t len, long long end,
    size_t *n)
{
	uint8_t *wire;
	size_t wlen;

	(void)fd;
	(void)end;
	if (!tcp) {
		if ((wire = next_reply(&wlen)) == NULL)
			return 0;	/* the try times out */
		*n = wlen < len ? wlen : len;
		memcpy(p, wire, *n);
		free(wire);
		return 1;
	}
	if (stream == NULL) {
		if ((wire = next_reply(&wlen)) == NULL) {
			errno = 0;	/* closed */
			return -1;
		}
		if ((stream = malloc(wlen + 2)) == NULL)
			abort();
		stream[0] = (uint8_t)(wlen >> 8);
		stream[1] = (uint8_t)wlen;
		memcpy(stream + 2, wire, wlen);
		stream_len = wlen + 2;
		stream_pos = 0;
		free(wire);
	}
	if (stream_pos == stream_len) {
		errno = 0;
		return -1;
	}
	*n = stream_len - stream_pos < len ? stream_len - stream_pos : len;
	memcpy(p, stream + stream_pos, *n);
	stream_pos += *n;
	return 1;
}

void
zone_net_close(int fd)
{
	(void)fd;
	free(stream);
	stream = NULL;
	stream_len = stream_pos = 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct zone_server srv, srv2;
	static int init;
	struct zone_rrset rs;
	ldns_pkt *p = NULL;
	char err[ERRBUF_LEN];
	size_t len;

	if (!init) {
		init_sets();
		if (zone_server_parse("192.0.2.53", &srv, err,
		    sizeof(err)) == -1 ||
		    zone_server_parse("[2001:db8::53]:5353", &srv2, err,
		    sizeof(err)) == -1)
			abort();
		init = 1;
	}
	if (size < 2 || size > 256 * 1024)
		return 0;
	flags = data[1];
	key_in_use = (flags & F_TSIG) ? &fuzz_key : NULL;
	in_p = data + 2;
	in_left = size - 2;
	/* The first reply on its own, as ldns parses it. */
	if (in_left >= 2) {
		len = (size_t)in_p[0] << 8 | in_p[1];
		if (len > in_left - 2)
			len = in_left - 2;
		if (ldns_wire2pkt(&p, in_p + 2, len) == LDNS_STATUS_OK) {
			zone_rrset_from_pkt(p, OWNER, &rs);
			zone_rrset_free(&rs);
			ldns_pkt_free(p);
		}
	}
	run_op(data[0] % OP_N, &srv, &srv2);
	return 0;
}

#else /* FUZZ_DNS_RECORD */

static FILE *rec;

/*
 * Every reply as the real wire receives it, in the input format: over
 * UDP each datagram with its length; over TCP the stream as it comes,
 * which is that format already.
 */
int
zone_net_recv(int fd, int tcp, uint8_t *p, size_t len, long long end,
    size_t *n)
{
	int r = zone_net_sys_recv(fd, tcp, p, len, end, n);

	if (r == 1) {
		if (!tcp) {
			fputc((int)(*n >> 8 & 0xff), rec);
			fputc((int)(*n & 0xff), rec);
		}
		fwrite(p, 1, *n, rec);
	}
	return r;
}

/*
 * fuzz_dns_record OP FLAGS SERVER SERVER2 KEYFILE OUT: run operation OP
 * (a number) against SERVER (and SERVER2), signing with the key in
 * KEYFILE when FLAGS has 0x01, and write the seed to OUT.  The seed's
 * flags get 0x02 (re-sign) when the queries were signed, since the
 * recorded replies carry the lab key's MACs.
 */
int
main(int argc, char **argv)
{
	struct zone_server srv, srv2;
	struct zone_tsig k;
	char err[ERRBUF_LEN];
	int op;

	if (argc != 7)
		return 2;
	op = atoi(argv[1]);
	flags = (int)strtol(argv[2], NULL, 0);
	init_sets();
	if (zone_server_parse(argv[3], &srv, err, sizeof(err)) == -1 ||
	    zone_server_parse(argv[4], &srv2, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	key_in_use = NULL;
	if (flags & F_TSIG) {
		if (zone_tsig_load(argv[5], &k, err, sizeof(err)) == -1) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		key_in_use = &k;
	}
	if ((rec = fopen(argv[6], "wb")) == NULL) {
		perror(argv[6]);
		return 1;
	}
	fputc(op, rec);
	fputc(flags | ((flags & F_TSIG) ? F_SIGN : 0), rec);
	run_op(op, &srv, &srv2);
	fclose(rec);
	return 0;
}

#endif
