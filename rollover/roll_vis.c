/*
 * roll_vis.c: what the DNS shows of a service's TLSA RRsets (see
 * roll_vis.h), the answers of strangers asked and parsed in a child
 * without privileges, its report checked here as a stranger's is.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "log.h"
#include "privsep.h"
#include "roll_vis.h"
#include "roll_vis_msg.h"
#include "sbuf.h"
#include "zone_check.h"

/* As roll_run.c's: the NS set, the resolver, local validation. */
static const struct zone_xfer_opts xfer = { 3000, 3, 0 };
/*
 * Asking each authoritative server whether it serves the RRset: a lost
 * answer only means "not yet" (the next run asks again), so a server
 * that is down costs 3 s per question here, not 9.
 */
static const struct zone_xfer_opts vis_xfer = { 1500, 2, 0 };

/*
 * How long the child may take.  Every exchange of the child ends by the
 * run's DNS deadline (zone_net_set_run_deadline: tlsa-rollover sets it
 * to lock_timeout / 2, 30 minutes by default), which the child inherits
 * by fork(); once it has passed, every question left fails at once
 * (local validation, whose questions ldns asks, is not started then,
 * and each of its questions is given no more than the time left).  So
 * the parent gives the child what is left of that deadline and
 * VIS_GRACE seconds more to report: never less, or it would kill the
 * child before its own queries' deadline ends them (lock_timeout may be
 * a day), and never unbounded.  A caller that set no run deadline gets
 * VIS_TIMEOUT_NODEADLINE, and the child then sets its own run deadline
 * VIS_GRACE seconds shorter, so that its queries still end before it is
 * killed.
 */
#define VIS_GRACE		10
#define VIS_TIMEOUT_NODEADLINE	3600

static const char *const role_name[] = {
	[VIS_ROLE_SERVER] = "server", [VIS_ROLE_NS] = "ns"
};

/* Encoding. */

static void
put_u32(struct sbuf *b, uint32_t v)
{
	uint32_t n = htonl(v);

	sbuf_add(b, (const char *)&n, sizeof(n));
}

/*
 * A string as the decoder takes it: printable, its NUL included in at
 * most field bytes (the size of what the parent reads it into).  Honest
 * text may hold other bytes (a reason naming a trust anchor file with a
 * UTF-8 path, a DNS name in a server's error): they are escaped as \ooo
 * with log_vis, as the log shows them (backslashes kept, so that text a
 * library escaped already with str_vis is not escaped twice), and the
 * text is cut short where too long, never in the middle of an escape.
 */
static void
put_str(struct sbuf *b, const char *s, size_t field)
{
	char vis[4 * ERRBUF_LEN + 8];
	size_t len, i;

	log_vis(vis, sizeof(vis), s, strnlen(s, ERRBUF_LEN));
	len = strlen(vis);
	if (len >= field) {
		len = field - 1;
		/* An escape cut short loses its backslash and digits. */
		for (i = 1; i <= 3 && i <= len; i++)
			if (vis[len - i] == '\\') {
				len -= i;
				break;
			}
		vis[len] = '\0';
	}
	put_u32(b, (uint32_t)len + 1);
	sbuf_add(b, vis, len + 1);
}

static void
put_rrset(struct sbuf *b, const struct zone_rrset *r)
{
	unsigned char h[4];
	size_t i;

	put_u32(b, r->ttl);
	put_u32(b, (uint32_t)r->n);
	for (i = 0; i < r->n; i++) {
		h[0] = r->v[i].spec.usage;
		h[1] = r->v[i].spec.selector;
		h[2] = r->v[i].spec.mtype;
		h[3] = 0;
		sbuf_add(b, (const char *)h, sizeof(h));
		put_u32(b, (uint32_t)r->v[i].len);
		sbuf_add(b, (const char *)r->v[i].data, r->v[i].len);
	}
}

/* The payload in p becomes a message of type in b. */
static void
put_msg(struct sbuf *b, int type, struct sbuf *p)
{
	if (p->failed)
		b->failed = 1;
	put_u32(b, (uint32_t)type);
	put_u32(b, (uint32_t)p->len);
	if (p->len > 0)
		sbuf_add(b, p->s, p->len);
	sbuf_free(p);
}

size_t
roll_vis_budget(size_t nmsg)
{
	size_t all = VIS_MAX_MSG - VIS_DONE_LEN;

	return nmsg > 0 ? all / nmsg : all;
}

/* Would a message of payload p (or an RRset of n records) be refused,
 * or take more than budget bytes? */
static int
too_large(const struct sbuf *p, size_t n, size_t budget)
{
	return n > VIS_MAX_RRS ||
	    (!p->failed && VIS_HDR_LEN + p->len > budget);
}

static void
server_payload(struct sbuf *p, uint32_t owner, int role,
    const struct zone_vis *v)
{
	unsigned char a[16];
	uint32_t port = 0;

	memset(a, 0, sizeof(a));
	put_u32(p, owner);
	put_u32(p, (uint32_t)role);
	put_u32(p, (uint32_t)v->srv.ss.ss_family);
	if (v->srv.ss.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)&v->srv.ss;

		memcpy(a, &s4->sin_addr, 4);
		port = ntohs(s4->sin_port);
	} else if (v->srv.ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)&v->srv.ss;

		memcpy(a, &s6->sin6_addr, 16);
		port = ntohs(s6->sin6_port);
	}
	sbuf_add(p, (const char *)a, sizeof(a));
	put_u32(p, port);
	put_str(p, v->nsname, sizeof(v->nsname));
	put_u32(p, (uint32_t)v->state);
	put_u32(p, (uint32_t)v->aa);
	put_u32(p, (uint32_t)v->rcode);
	put_u32(p, (uint32_t)v->has_serial);
	put_u32(p, v->serial);
	put_u32(p, v->ttl);
	put_u32(p, v->neg_ttl);
	put_str(p, v->error, sizeof(v->error));
	put_rrset(p, &v->rrset);
}

void
roll_vis_encode_server(struct sbuf *b, uint32_t owner, int role,
    const struct zone_vis *v, size_t budget)
{
	struct sbuf p = { 0 };
	struct zone_vis big;

	if (v->rrset.n <= VIS_MAX_RRS) {
		server_payload(&p, owner, role, v);
		if (!too_large(&p, v->rrset.n, budget)) {
			put_msg(b, VIS_SERVER, &p);
			return;
		}
		sbuf_free(&p);
		memset(&p, 0, sizeof(p));
	}
	/* What the parent cannot take from this server: "not yet", from
	 * this server only. */
	big = *v;
	big.state = ZONE_VIS_ERROR;
	big.ttl = 0;
	memset(&big.rrset, 0, sizeof(big.rrset));
	errfmt(big.error, sizeof(big.error), "answer too large (%zu records)",
	    v->rrset.n);
	server_payload(&p, owner, role, &big);
	put_msg(b, VIS_SERVER, &p);
}

static void
sec_payload(struct sbuf *p, uint32_t owner, int sec, const char *why,
    const struct zone_rrset *r)
{
	put_u32(p, owner);
	put_u32(p, (uint32_t)sec);
	put_str(p, why, ERRBUF_LEN);
	put_rrset(p, r);
}

void
roll_vis_encode_sec(struct sbuf *b, int type, uint32_t owner, int sec,
    const char *why, const struct zone_rrset *r, size_t budget)
{
	struct sbuf p = { 0 };
	struct zone_rrset none;
	char big[ERRBUF_LEN];

	if (r->n <= VIS_MAX_RRS) {
		sec_payload(&p, owner, sec, why, r);
		if (!too_large(&p, r->n, budget)) {
			put_msg(b, type, &p);
			return;
		}
		sbuf_free(&p);
		memset(&p, 0, sizeof(p));
	}
	memset(&none, 0, sizeof(none));
	errfmt(big, sizeof(big), "answer too large (%zu records)", r->n);
	sec_payload(&p, owner, ZONE_SEC_ERROR, big, &none);
	put_msg(b, type, &p);
}

void
roll_vis_encode_done(struct sbuf *b, uint32_t count)
{
	struct sbuf p = { 0 };

	put_u32(&p, count);
	put_msg(b, VIS_DONE, &p);
}

void
roll_vis_encode_error(struct sbuf *b, const char *text)
{
	struct sbuf p = { 0 };

	put_str(&p, text, ERRBUF_LEN);
	put_msg(b, VIS_ERROR, &p);
}

/* Decoding: every get_ fails (-1, with why) rather than read past. */

struct rd {
	const uint8_t	*p;
	size_t		 left;
	const char	*why;
};

static int
get_bytes(struct rd *r, void *dst, size_t n, const char *what)
{
	if (r->left < n) {
		r->why = what;
		return -1;
	}
	memcpy(dst, r->p, n);
	r->p += n;
	r->left -= n;
	return 0;
}

static int
get_u32(struct rd *r, uint32_t *v, const char *what)
{
	uint32_t n;

	if (get_bytes(r, &n, sizeof(n), what) == -1)
		return -1;
	*v = ntohl(n);
	return 0;
}

/* A uint32 that must be at most max. */
static int
get_enum(struct rd *r, int *v, uint32_t max, const char *what)
{
	uint32_t u;

	if (get_u32(r, &u, what) == -1)
		return -1;
	if (u > max) {
		r->why = what;
		return -1;
	}
	*v = (int)u;
	return 0;
}

/* A string of printable characters and its NUL, fitting dst. */
static int
get_str(struct rd *r, char *dst, size_t dstlen, const char *what)
{
	uint32_t len, i;

	if (get_u32(r, &len, what) == -1)
		return -1;
	if (len == 0 || len > dstlen || len > r->left ||
	    r->p[len - 1] != '\0') {
		r->why = what;
		return -1;
	}
	for (i = 0; i + 1 < len; i++)
		if (r->p[i] < 0x20 || r->p[i] > 0x7e) {
			r->why = what;
			return -1;
		}
	return get_bytes(r, dst, len, what);
}

/* An RRset of distinct records, each with some data (as
 * zone_rrset_from_pkt gives them). */
static int
get_rrset(struct rd *r, struct zone_rrset *out)
{
	struct tlsa_rec rec;
	unsigned char h[4];
	uint32_t ttl, n, len, i;

	memset(out, 0, sizeof(*out));
	if (get_u32(r, &ttl, "RRset TTL") == -1 ||
	    get_u32(r, &n, "RRset size") == -1)
		return -1;
	if (n > VIS_MAX_RRS) {
		r->why = "RRset size";
		return -1;
	}
	out->ttl = ttl;
	for (i = 0; i < n; i++) {
		if (get_bytes(r, h, sizeof(h), "record") == -1 ||
		    get_u32(r, &len, "record length") == -1)
			return -1;
		if (h[3] != 0 || len == 0 || len > 65535 - 3 ||
		    len > r->left) {
			r->why = "record";
			return -1;
		}
		rec.spec.usage = h[0];
		rec.spec.selector = h[1];
		rec.spec.mtype = h[2];
		rec.data = (unsigned char *)(uintptr_t)r->p;
		rec.len = len;
		if (zone_rrset_has(out, &rec)) {
			r->why = "record given twice";
			return -1;
		}
		if (zone_rrset_push_copy(out, &rec) == -1) {
			r->why = "out of memory";
			return -1;
		}
		r->p += len;
		r->left -= len;
	}
	return 0;
}

/* Has owner o everything it should (servers, resolver, local)? */
static int
complete(const struct roll_vis_expect *e, const struct roll_vis_result *out,
    size_t o, const int *got_res, const int *got_local)
{
	size_t want;

	switch (e->role) {
	case VIS_ROLE_SERVER:
		want = e->nservers;
		break;
	case VIS_ROLE_NS:
		/* One NS set for every owner. */
		want = o == 0 ? (out->o[0].n > 0 ? out->o[0].n : 1) :
		    out->o[0].n;
		break;
	default:
		want = 0;
	}
	return out->o[o].n == want && got_res[o] == e->resolver &&
	    got_local[o] == e->local;
}

static int
same_addr(const struct zone_server *a, const struct zone_server *b)
{
	return a->sslen == b->sslen && memcmp(&a->ss, &b->ss, a->sslen) == 0;
}

/* One SERVER payload, for owner o. */
static int
get_server(struct rd *r, const struct roll_vis_expect *e,
    struct roll_vis_result *out, size_t o)
{
	struct roll_vis_owner *ow = &out->o[o];
	struct zone_vis *v, *nv;
	struct sockaddr_storage ss;
	unsigned char a[16];
	uint32_t fam, port;
	socklen_t sslen;
	int role;

	if (get_enum(r, &role, VIS_ROLE_NS, "role") == -1)
		return -1;
	if (role == VIS_ROLE_NONE || role != e->role) {
		r->why = "role";
		return -1;
	}
	if (ow->n >= VIS_MAX_SERVERS || (e->role == VIS_ROLE_SERVER &&
	    ow->n >= e->nservers) || (e->role == VIS_ROLE_NS && o > 0 &&
	    ow->n >= out->o[0].n)) {
		r->why = "too many servers";
		return -1;
	}
	if ((nv = reallocarray(ow->v, ow->n + 1, sizeof(*nv))) == NULL) {
		r->why = "out of memory";
		return -1;
	}
	ow->v = nv;
	v = &nv[ow->n];
	memset(v, 0, sizeof(*v));
	ow->n++;	/* from here on, freed with the others */
	if (get_u32(r, &fam, "address family") == -1 ||
	    get_bytes(r, a, sizeof(a), "address") == -1 ||
	    get_u32(r, &port, "port") == -1)
		return -1;
	memset(&ss, 0, sizeof(ss));
	if (fam == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a, 4);
		s4->sin_port = htons((uint16_t)port);
		sslen = sizeof(*s4);
	} else if (fam == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a, 16);
		s6->sin6_port = htons((uint16_t)port);
		sslen = sizeof(*s6);
	} else {
		r->why = "address family";
		return -1;
	}
	if (port == 0 || port > 65535) {
		r->why = "port";
		return -1;
	}
	zone_server_from_sa((struct sockaddr *)&ss, sslen, &v->srv);
	/* The servers are the ones we named, or the same NS set for every
	 * owner; never a name the child made up. */
	if (e->role == VIS_ROLE_SERVER) {
		if (!same_addr(&v->srv, &e->servers[ow->n - 1])) {
			r->why = "server address";
			return -1;
		}
		v->srv = e->servers[ow->n - 1];
	} else if (o > 0 && !same_addr(&v->srv, &out->o[0].v[ow->n - 1].srv)) {
		r->why = "server address";
		return -1;
	}
	v->role = role_name[role];
	if (get_str(r, v->nsname, sizeof(v->nsname), "NS name") == -1 ||
	    get_enum(r, &v->state, ZONE_VIS_ERROR, "state") == -1 ||
	    get_enum(r, &v->aa, 1, "AA") == -1 ||
	    get_enum(r, &v->rcode, 4095, "rcode") == -1 ||
	    get_enum(r, &v->has_serial, 1, "has_serial") == -1 ||
	    get_u32(r, &v->serial, "serial") == -1 ||
	    get_u32(r, &v->ttl, "TTL") == -1 ||
	    get_u32(r, &v->neg_ttl, "negative TTL") == -1 ||
	    get_str(r, v->error, sizeof(v->error), "error") == -1 ||
	    get_rrset(r, &v->rrset) == -1)
		return -1;
	return 0;
}

static int
get_sec(struct rd *r, int *sec, char *why, size_t whylen,
    struct zone_rrset *rrset)
{
	return get_enum(r, sec, ZONE_SEC_ERROR, "security state") == -1 ||
	    get_str(r, why, whylen, "reason") == -1 ||
	    get_rrset(r, rrset) == -1 ? -1 : 0;
}

int
roll_vis_decode(const uint8_t *buf, size_t len,
    const struct roll_vis_expect *e, struct roll_vis_result *out, char *err,
    size_t errlen)
{
	struct rd m, r;
	char text[ERRBUF_LEN];
	int *got_res = NULL, *got_local = NULL, done = 0;
	uint32_t type, plen, owner, count;
	size_t cur = 0, nmsg = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	m.p = buf;
	m.left = len;
	m.why = NULL;
	if (e->nowners > 0 && ((out->o = calloc(e->nowners,
	    sizeof(*out->o))) == NULL || (got_res = calloc(e->nowners,
	    sizeof(*got_res))) == NULL || (got_local = calloc(e->nowners,
	    sizeof(*got_local))) == NULL)) {
		errfmt(err, errlen, "out of memory");
		goto out;
	}
	out->n = e->nowners;
	while (m.left > 0) {
		if (done) {
			m.why = "bytes after the end";
			goto bad;
		}
		if (get_u32(&m, &type, "truncated header") == -1 ||
		    get_u32(&m, &plen, "truncated header") == -1)
			goto bad;
		if (plen > m.left) {
			m.why = "length beyond the end";
			goto bad;
		}
		r.p = m.p;
		r.left = plen;
		r.why = NULL;
		m.p += plen;
		m.left -= plen;
		nmsg++;
		switch (type) {
		case VIS_SERVER:
		case VIS_RESOLVER:
		case VIS_LOCAL:
			if (get_u32(&r, &owner, "owner") == -1)
				goto badmsg;
			/* Owners in order: the next one once this one has
			 * all it should. */
			if (e->nowners == 0 || owner >= e->nowners ||
			    (owner != cur && (owner != cur + 1 ||
			    !complete(e, out, cur, got_res, got_local)))) {
				r.why = "owner out of order";
				goto badmsg;
			}
			cur = owner;
			if (type == VIS_SERVER) {
				if (got_res[cur] || got_local[cur]) {
					r.why = "server after the resolver";
					goto badmsg;
				}
				if (get_server(&r, e, out, cur) == -1)
					goto badmsg;
			} else if (type == VIS_RESOLVER) {
				if (!e->resolver || got_res[cur] ||
				    got_local[cur]) {
					r.why = "resolver unexpected";
					goto badmsg;
				}
				got_res[cur] = 1;
				if (get_sec(&r, &out->o[cur].res_sec,
				    out->o[cur].res_why,
				    sizeof(out->o[cur].res_why),
				    &out->o[cur].res_rrset) == -1)
					goto badmsg;
				out->o[cur].res_asked = 1;
			} else {
				if (!e->local || got_local[cur]) {
					r.why = "local validation unexpected";
					goto badmsg;
				}
				got_local[cur] = 1;
				if (get_sec(&r, &out->o[cur].local_sec,
				    out->o[cur].local_why,
				    sizeof(out->o[cur].local_why),
				    &out->o[cur].local_rrset) == -1)
					goto badmsg;
				out->o[cur].local_asked = 1;
			}
			break;
		case VIS_DONE:
			if (get_u32(&r, &count, "count") == -1)
				goto badmsg;
			if (count != nmsg - 1) {
				r.why = "count";
				goto badmsg;
			}
			if (e->nowners > 0 && (cur != e->nowners - 1 ||
			    !complete(e, out, cur, got_res, got_local))) {
				r.why = "owners missing";
				goto badmsg;
			}
			done = 1;
			break;
		case VIS_ERROR:
			if (get_str(&r, text, sizeof(text), "text") == -1)
				goto badmsg;
			if (r.left > 0 || m.left > 0) {
				r.why = "bytes after the end";
				goto badmsg;
			}
			/* Never an empty reason (the caller would take it
			 * for another failure). */
			errfmt(err, errlen, "%s", text[0] != '\0' ? text :
			    "the DNS check process gave up without a reason");
			goto out;
		default:
			r.why = "type";
			goto badmsg;
		}
		if (r.left > 0) {
			r.why = "bytes after the end";
			goto badmsg;
		}
	}
	if (!done) {
		m.why = "no end";
		goto bad;
	}
	rc = 0;
	goto out;
badmsg:
	errfmt(err, errlen, "the DNS check process sent a malformed message "
	    "(message %zu: %s)", nmsg, r.why != NULL ? r.why : "?");
	goto out;
bad:
	errfmt(err, errlen, "the DNS check process sent a malformed message "
	    "(%s)", m.why != NULL ? m.why : "?");
out:
	if (rc == -1) {
		roll_vis_result_free(out);
		memset(out, 0, sizeof(*out));
	}
	free(got_res);
	free(got_local);
	return rc;
}

/* The child. */

struct vis_ctx {
	const struct roll_vis_job *job;
	int			 role;		/* VIS_ROLE_* */
	const struct zone_server *servers;	/* VIS_ROLE_SERVER */
	size_t			 nservers;
	const struct zone_server *resolver;	/* or NULL */
	const ldns_rr_list	*anchors;	/* or NULL: anchors_err */
	const char		*anchors_err;
	unsigned		 deadline;	/* seconds, when the run set none */
};

static void
vis_child(void *arg, int fd)
{
	const struct vis_ctx *c = arg;
	const struct roll_vis_job *j = c->job;
	const struct zone_server *via;
	struct zone_server none;
	struct zone_vis *v = NULL;
	struct zone_rrset got;
	struct sbuf b = { 0 };
	char err[ERRBUF_LEN], why[ERRBUF_LEN];
	uint32_t count = 0;
	size_t n = 0, i, k, budget;
	int sec;

	/*
	 * The TSIG secret is in this copy of the parent's memory: wipe it
	 * before anything here parses a stranger's answer.  (A key the run
	 * loaded and freed before may have left traces; zone_tsig_free and
	 * the loader wipe theirs.)
	 */
	if (j->key != NULL && j->key->secret != NULL)
		OPENSSL_cleanse(j->key->secret, strlen(j->key->secret));
	if (privsep_drop(NULL, err, sizeof(err)) == -1)
		goto fail;
	/* Our questions end before the parent would kill us. */
	if (c->deadline > 0)
		zone_net_set_run_deadline(c->deadline);
	if (c->role == VIS_ROLE_SERVER) {
		if ((v = calloc(c->nservers, sizeof(*v))) == NULL)
			goto nomem;
		for (i = 0; i < c->nservers; i++) {
			v[i].srv = c->servers[i];
			v[i].role = "server";
		}
		n = c->nservers;
	} else if (c->role == VIS_ROLE_NS && zone_ns_servers(c->resolver,
	    j->zone, 53, &xfer, &v, &n, err, sizeof(err)) == -1)
		goto fail;
	memset(&none, 0, sizeof(none));
	via = c->resolver != NULL ? c->resolver : j->primary != NULL ?
	    j->primary : &none;
	/* One reason buffer for every question, as it was in one process:
	 * a reason is what the last failing question left there. */
	why[0] = '\0';
	/* Each message its share of what the parent reads. */
	budget = roll_vis_budget(j->nowners * (n + (c->resolver != NULL) +
	    (j->ta_file != NULL)));
	for (k = 0; k < j->nowners; k++) {
		(void)zone_visibility(v, n, j->zone, j->owners[k], j->expect,
		    &vis_xfer);
		for (i = 0; i < n; i++, count++)
			roll_vis_encode_server(&b, (uint32_t)k, c->role, &v[i],
			    budget);
		if (c->resolver != NULL) {
			sec = zone_resolve_validated(c->resolver, j->owners[k],
			    &xfer, &got, why, sizeof(why));
			roll_vis_encode_sec(&b, VIS_RESOLVER, (uint32_t)k, sec,
			    why, &got, budget);
			zone_rrset_free(&got);
			count++;
		}
		if (j->ta_file != NULL) {
			if (c->anchors == NULL) {
				memset(&got, 0, sizeof(got));
				errfmt(why, sizeof(why), "%s", c->anchors_err);
				sec = ZONE_SEC_ERROR;
			} else
				sec = zone_validate_local_anchors(via,
				    c->anchors, j->ta_file, j->owners[k],
				    &xfer, &got, why, sizeof(why));
			roll_vis_encode_sec(&b, VIS_LOCAL, (uint32_t)k, sec,
			    why, &got, budget);
			zone_rrset_free(&got);
			count++;
		}
	}
	roll_vis_encode_done(&b, count);
	if (!b.failed)
		goto write;
nomem:
	errfmt(err, sizeof(err), "out of memory");
fail:
	sbuf_free(&b);
	memset(&b, 0, sizeof(b));
	roll_vis_encode_error(&b, err);
write:
	(void)sbuf_write(&b, fd);
	sbuf_free(&b);
	zone_vis_free(v, n);
}

/* The parent. */

int
roll_vis_run(const struct roll_vis_job *job, struct roll_vis_result *out,
    char *err, size_t errlen)
{
	struct roll_vis_expect e;
	struct vis_ctx c;
	struct zone_server resolver, *servers = NULL;
	struct zone_vis pv;
	struct sbuf in = { 0 };
	ldns_rr_list *anchors = NULL;
	char aerr[ERRBUF_LEN];
	long long left;
	unsigned timeout;
	size_t i, k;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	memset(&e, 0, sizeof(e));
	memset(&pv, 0, sizeof(pv));
	err[0] = '\0';
	c.job = job;
	if (job->resolver != NULL) {
		if (zone_server_parse(job->resolver, &resolver, err,
		    errlen) == -1)
			goto out;
		c.resolver = &resolver;
	}
	if (job->ncheck_servers > 0) {
		if ((servers = calloc(job->ncheck_servers,
		    sizeof(*servers))) == NULL)
			goto out;
		for (i = 0; i < job->ncheck_servers; i++)
			if (zone_server_parse(job->check_servers[i],
			    &servers[i], err, errlen) == -1)
				goto out;
		c.role = VIS_ROLE_SERVER;
		c.servers = servers;
		c.nservers = job->ncheck_servers;
	} else if (job->resolver != NULL)
		c.role = VIS_ROLE_NS;
	/*
	 * The anchors are read here, where the file may be readable (a
	 * directory only root may enter); a file that cannot be read makes
	 * every owner's local validation an ERROR saying why, as before.
	 */
	aerr[0] = '\0';
	if (job->ta_file != NULL)
		anchors = zone_load_anchors(job->ta_file, aerr, sizeof(aerr));
	c.anchors = anchors;
	c.anchors_err = aerr;
	e.nowners = job->nowners;
	e.role = c.role;
	e.servers = servers;
	e.nservers = c.nservers;
	e.resolver = job->resolver != NULL;
	e.local = job->ta_file != NULL;
	if (c.role == VIS_ROLE_NONE && !e.resolver && !e.local) {
		/*
		 * Only the primary: nothing for a child to ask, so none
		 * is started (nor has to drop privileges, which needs a
		 * "nobody" user).
		 */
		if (job->nowners > 0 && (out->o = calloc(job->nowners,
		    sizeof(*out->o))) == NULL)
			goto out;
		out->n = job->nowners;
	} else {
		/* The child's time: see VIS_GRACE. */
		if ((left = zone_net_run_left_ms()) < 0) {
			timeout = VIS_TIMEOUT_NODEADLINE;
			c.deadline = VIS_TIMEOUT_NODEADLINE - VIS_GRACE;
		} else if (left / 1000 + 1 + VIS_GRACE > UINT_MAX)
			timeout = UINT_MAX;
		else
			timeout = (unsigned)(left / 1000 + 1 + VIS_GRACE);
		if (privsep_child_run(vis_child, &c, "DNS check process",
		    timeout, VIS_MAX_MSG, &in, err, errlen) == -1)
			goto out;
		if (in.failed)
			goto out;
		if (roll_vis_decode((const uint8_t *)in.s, in.len, &e, out,
		    err, errlen) == -1)
			goto out;
	}
	/* The primary, with our key: last in every owner's view. */
	if (job->primary != NULL) {
		pv.srv = *job->primary;
		pv.role = "primary";
		pv.key = job->key != NULL && job->key->name != NULL ?
		    job->key : NULL;
		for (k = 0; k < job->nowners; k++) {
			struct roll_vis_owner *o = &out->o[k];
			struct zone_vis *nv;

			(void)zone_visibility(&pv, 1, job->zone,
			    job->owners[k], job->expect, &vis_xfer);
			if ((nv = reallocarray(o->v, o->n + 1,
			    sizeof(*nv))) == NULL)
				goto out;
			o->v = nv;
			/* The RRset moves; the rest stays for the next
			 * owner, as one array asked again did before. */
			nv[o->n++] = pv;
			memset(&pv.rrset, 0, sizeof(pv.rrset));
		}
	}
	rc = 0;
out:
	if (rc == -1 && err[0] == '\0')
		errfmt(err, errlen, "out of memory");
	zone_rrset_free(&pv.rrset);
	ldns_rr_list_deep_free(anchors);
	sbuf_free(&in);
	free(servers);
	return rc;
}

void
roll_vis_result_free(struct roll_vis_result *r)
{
	size_t i;

	for (i = 0; r->o != NULL && i < r->n; i++) {
		zone_vis_free(r->o[i].v, r->o[i].n);
		zone_rrset_free(&r->o[i].res_rrset);
		zone_rrset_free(&r->o[i].local_rrset);
	}
	free(r->o);
	r->o = NULL;
	r->n = 0;
}
