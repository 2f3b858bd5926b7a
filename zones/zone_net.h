/*
 * zone_net.h: DNS transport: one query or update to one server, with
 * TSIG signing and verification, bounded time and retries, UDP with a
 * fall back to TCP on truncation (or TCP only).  Built on ldns's wire
 * code; this module only decides what to send where and checks that the
 * reply belongs to the query.
 */
#ifndef ZONE_NET_H
#define ZONE_NET_H

#include <sys/socket.h>

#include <ldns/ldns.h>

#include "zone_tsig.h"

struct zone_server {
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 name[80];	/* "127.0.0.1@53" */
};

/*
 * Parse "ADDR", "ADDR@PORT" (BIND and Unbound style) or "[V6]:PORT";
 * ADDR must be a numeric address.  Default port 53.  0 or -1 with a
 * reason.
 */
int zone_server_parse(const char *s, struct zone_server *srv, char *err,
    size_t errlen);

/*
 * The first nameserver of /etc/resolv.conf, read by ldns (never
 * /etc/hosts: names are resolved as DNS serves them).  0, or -1 with a
 * reason.
 */
int zone_server_system(struct zone_server *srv, char *err, size_t errlen);

/* Make a server from a sockaddr (port already set). */
void zone_server_from_sa(const struct sockaddr *sa, socklen_t len,
    struct zone_server *srv);

struct zone_xfer_opts {
	int	 timeout_ms;	/* per UDP try; the whole TCP exchange */
	int	 tries;		/* UDP tries before giving up */
	int	 tcp;		/* always TCP */
};

/*
 * One deadline for every exchange from now on: seconds from now (0: no
 * deadline).  An exchange that would end later ends then, and one asked
 * for after it fails at once; both with an error that says so.  For a
 * whole run of a program that must not hang (a cron job holding a lock).
 */
void zone_net_set_run_deadline(unsigned seconds);

/*
 * Milliseconds left before that deadline (0 once it has passed), or -1
 * when there is none: for a caller that bounds a child process by it.
 */
long long zone_net_run_left_ms(void);

/*
 * The wire under zone_exchange, one socket at a time; end is a deadline
 * in milliseconds on CLOCK_MONOTONIC.  These are weak symbols so that a
 * test harness (tests/fuzz/fuzz_dns.c) can put its own in their place
 * and feed replies without a network (or record what the real ones,
 * zone_net_sys_*, receive).
 * zone_net_open: a socket connected to srv (UDP too, so that the kernel
 *   drops datagrams from other sources), TCP by end; fd, or -1 (errno,
 *   ETIMEDOUT when end passed).
 * zone_net_send: all of p; 1 sent, 0 end passed, -1 error (errno).
 * zone_net_recv: UDP one datagram, TCP what has arrived (at most len);
 *   1 with *n, 0 end passed, -1 error (errno; 0: TCP closed).
 */
int zone_net_open(const struct zone_server *srv, int tcp, long long end);
int zone_net_send(int fd, int tcp, const uint8_t *p, size_t len,
    long long end);
int zone_net_recv(int fd, int tcp, uint8_t *p, size_t len, long long end,
    size_t *n);
void zone_net_close(int fd);

/* The real ones (zone_net_open and the others are weak aliases of these). */
int zone_net_sys_open(const struct zone_server *srv, int tcp, long long end);
int zone_net_sys_send(int fd, int tcp, const uint8_t *p, size_t len,
    long long end);
int zone_net_sys_recv(int fd, int tcp, uint8_t *p, size_t len, long long end,
    size_t *n);
void zone_net_sys_close(int fd);

/* TSIG error codes (RFC 8945) and a name for any rcode/TSIG error. */
const char *zone_rcode_name(int rcode);

/*
 * Send q to srv and return its reply in *reply (caller frees).  With key,
 * q is signed and the reply's TSIG must verify; a reply with a TSIG error
 * (BADSIG, BADKEY, BADTIME) is reported by name (BADTIME with the clock
 * skew).  Checks the reply's ID, QR bit and question.  Over UDP the
 * socket is connected to srv and a datagram that is not the answer
 * (unparsable, another ID or question, QR clear) is dropped and reading
 * goes on until the try's end (timeout_ms x tries in all); over TCP the
 * whole exchange has one deadline (timeout_ms), however the bytes are
 * spread.  Returns 0, or -1 with a one-line reason naming the server.
 */
int zone_exchange(const struct zone_server *srv, ldns_pkt *q,
    const struct zone_tsig *key, const struct zone_xfer_opts *o,
    ldns_pkt **reply, char *err, size_t errlen);

/*
 * Ask srv for (name, type) without recursion (or with it, rd=1, for a
 * resolver; with dnssec, the DO bit, and cd for checking disabled).
 * Returns 0 with the reply, -1 with a reason.
 */
int zone_query(const struct zone_server *srv, const char *name,
    ldns_rr_type type, int rd, int dnssec, int cd,
    const struct zone_xfer_opts *o, ldns_pkt **reply, char *err,
    size_t errlen);

/*
 * zone_query, signed with key (NULL: unsigned): the reply must carry a
 * TSIG that verifies (see zone_exchange).  For a server that answers
 * only those who hold the key (a hidden primary).
 */
int zone_query_key(const struct zone_server *srv, const char *name,
    ldns_rr_type type, int rd, int dnssec, int cd,
    const struct zone_tsig *key, const struct zone_xfer_opts *o,
    ldns_pkt **reply, char *err, size_t errlen);

#endif
