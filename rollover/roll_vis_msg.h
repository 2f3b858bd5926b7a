/*
 * roll_vis_msg.h: what the DNS check process (roll_vis.c) sends its
 * parent; for roll_vis.c and its unit test only.
 *
 * A message is a header, its type and the length of its payload (two
 * uint32, network byte order), then the payload: uint32 fields; strings
 * as a uint32 length (the NUL included) and the bytes, printable and
 * ending in their only NUL; an RRset as its TTL, its count, then each
 * record's usage, selector and matching type (a byte each), a zero byte,
 * a uint32 length and the data.
 *
 *   SERVER    owner, role, family, address (16 bytes), port, nsname,
 *             state, aa, rcode, has_serial, serial, ttl, neg_ttl,
 *             error, rrset: one server's view (zone_vis)
 *   RESOLVER  owner, sec, why, rrset: zone_resolve_validated's
 *   LOCAL     owner, sec, why, rrset: zone_validate_local's
 *   DONE      the number of messages before it
 *   ERROR     text: why the child could ask nothing (the NS set, the
 *             privilege drop)
 *
 * The owners in order, each with its servers, then its RESOLVER and its
 * LOCAL when they were asked for, then DONE; or ERROR, last, instead.
 * The decoder takes the child for hostile: anything else is refused
 * whole.
 */
#ifndef ROLL_VIS_MSG_H
#define ROLL_VIS_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "roll_vis.h"
#include "sbuf.h"
#include "zone_check.h"

enum { VIS_SERVER = 1, VIS_RESOLVER, VIS_LOCAL, VIS_DONE, VIS_ERROR };

/* What the child's servers are: none (only the primary, asked by the
 * parent), dns.check_servers, or the NS set. */
enum { VIS_ROLE_NONE = 0, VIS_ROLE_SERVER, VIS_ROLE_NS };

#define VIS_MAX_MSG	(4 * 1024 * 1024)	/* all messages together */
#define VIS_MAX_SERVERS	1024			/* per owner */
#define VIS_MAX_RRS	4096			/* per RRset (64 KB of DNS) */
#define VIS_HDR_LEN	8			/* type and length */
#define VIS_DONE_LEN	(VIS_HDR_LEN + 4)	/* the DONE message */

/*
 * Append one message to b (b->failed on memory exhaustion), as the
 * decoder takes it: every string escaped (\ooo, as log_vis does) and
 * cut short to fit the parent's buffer, so that honest text with other
 * bytes (a UTF-8 file name, a DNS name) arrives as the log would have
 * shown it.
 *
 * A server's view, or the resolver's or local validation's answer
 * (type VIS_RESOLVER or VIS_LOCAL), whose RRset has more records than
 * the decoder takes (VIS_MAX_RRS) or whose message would take more
 * than budget bytes, is sent as ZONE_VIS_ERROR (ZONE_SEC_ERROR) with
 * "answer too large (N records)" and no RRset instead: a stranger that
 * serves a huge RRset is "not yet" for itself only, rather than making
 * the whole report too long.
 */
void roll_vis_encode_server(struct sbuf *b, uint32_t owner, int role,
    const struct zone_vis *v, size_t budget);
void roll_vis_encode_sec(struct sbuf *b, int type, uint32_t owner, int sec,
    const char *why, const struct zone_rrset *r, size_t budget);
void roll_vis_encode_done(struct sbuf *b, uint32_t count);
void roll_vis_encode_error(struct sbuf *b, const char *text);

/*
 * The budget of each of nmsg messages (server views and answers) that
 * keeps them and DONE within VIS_MAX_MSG.  A message that falls back to
 * "answer too large" takes at most about 600 bytes (the strings at
 * their longest), so the bound holds up to about 7,000 messages (owners
 * times servers, the resolver and local validation); beyond that the
 * parent refuses the report whole.
 */
size_t roll_vis_budget(size_t nmsg);

/* What the parent asked the child for. */
struct roll_vis_expect {
	size_t			 nowners;
	int			 role;		/* VIS_ROLE_* */
	/* VIS_ROLE_SERVER: the parsed check_servers, in order (the
	 * entries get these, not what the child says they are). */
	const struct zone_server *servers;
	size_t			 nservers;
	int			 resolver;	/* RESOLVER expected */
	int			 local;		/* LOCAL expected */
};

/*
 * Decode the child's len bytes at buf into *out (nowners entries, the
 * servers' roles static strings; no primary).  0, or -1 with err: the
 * child's ERROR text, or "the DNS check process sent a malformed
 * message (...)"; out is then empty.  out is the caller's to free with
 * roll_vis_result_free in both cases.
 */
int roll_vis_decode(const uint8_t *buf, size_t len,
    const struct roll_vis_expect *e, struct roll_vis_result *out, char *err,
    size_t errlen);

#endif
