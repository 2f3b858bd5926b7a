/*
 * test_vis.c: the messages of the DNS check process (roll_vis_msg.h):
 * what the encoder writes comes back whole through the decoder, and
 * the decoder refuses, whole and with a reason, what a hostile child
 * could send instead.
 */
#include <arpa/inet.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "roll_vis.h"
#include "roll_vis_msg.h"

static char err[ERRBUF_LEN];
static struct zone_server servers[2];

static const unsigned char d1[] = { 0xab, 0xcd, 0xef },
    d2[] = { 0x01, 0x02 };

static void
push(struct zone_rrset *s, uint8_t u, uint8_t sel, uint8_t m,
    const unsigned char *d, size_t n)
{
	struct tlsa_rec r;

	memset(&r, 0, sizeof(r));
	r.spec.usage = u;
	r.spec.selector = sel;
	r.spec.mtype = m;
	r.data = (unsigned char *)d;
	r.len = n;
	assert_int_equal(zone_rrset_push_copy(s, &r), 0);
}

static int
setup(void **state)
{
	(void)state;
	assert_int_equal(zone_server_parse("127.0.0.1@5300", &servers[0], err,
	    sizeof(err)), 0);
	assert_int_equal(zone_server_parse("[::1]:53", &servers[1], err,
	    sizeof(err)), 0);
	return 0;
}

static struct roll_vis_expect
expect_servers(size_t nowners)
{
	struct roll_vis_expect e;

	memset(&e, 0, sizeof(e));
	e.nowners = nowners;
	e.role = VIS_ROLE_SERVER;
	e.servers = servers;
	e.nservers = 2;
	e.resolver = 1;
	e.local = 1;
	return e;
}

/*
 * A well-formed report: for each of nowners owners, both servers (the
 * first with records, the second an error), the resolver and local
 * validation, then DONE.
 */
static void
good_stream(struct sbuf *b, size_t nowners)
{
	struct zone_rrset rs = { 0 }, none = { 0 };
	struct zone_vis v;
	size_t k;
	uint32_t count = 0;

	push(&rs, 3, 1, 1, d1, sizeof(d1));
	push(&rs, 2, 0, 1, d2, sizeof(d2));
	rs.ttl = 300;
	for (k = 0; k < nowners; k++) {
		memset(&v, 0, sizeof(v));
		v.srv = servers[0];
		v.state = ZONE_VIS_MATCH;
		v.aa = 1;
		v.has_serial = 1;
		v.serial = 2024010100 + (uint32_t)k;
		v.ttl = 300;
		v.neg_ttl = 60;
		v.rrset = rs;
		roll_vis_encode_server(b, (uint32_t)k, VIS_ROLE_SERVER, &v,
		    VIS_MAX_MSG);
		memset(&v, 0, sizeof(v));
		v.srv = servers[1];
		v.state = ZONE_VIS_ERROR;
		snprintf(v.error, sizeof(v.error), "::1@53: no answer");
		roll_vis_encode_server(b, (uint32_t)k, VIS_ROLE_SERVER, &v,
		    VIS_MAX_MSG);
		roll_vis_encode_sec(b, VIS_RESOLVER, (uint32_t)k,
		    ZONE_SEC_SECURE, "", &rs, VIS_MAX_MSG);
		roll_vis_encode_sec(b, VIS_LOCAL, (uint32_t)k, ZONE_SEC_BOGUS,
		    "x TLSA does not validate", &none, VIS_MAX_MSG);
		count += 4;
	}
	roll_vis_encode_done(b, count);
	assert_false(b->failed);
	zone_rrset_free(&rs);
}

static int
decode(const struct sbuf *b, const struct roll_vis_expect *e,
    struct roll_vis_result *r)
{
	err[0] = '\0';
	return roll_vis_decode((const uint8_t *)b->s, b->len, e, r, err,
	    sizeof(err));
}

static void
test_roundtrip(void **state)
{
	struct roll_vis_expect e = expect_servers(2);
	struct roll_vis_result r;
	struct zone_rrset rs = { 0 };
	struct sbuf b = { 0 };
	size_t k;

	(void)state;
	push(&rs, 2, 0, 1, d2, sizeof(d2));
	push(&rs, 3, 1, 1, d1, sizeof(d1));
	good_stream(&b, 2);
	assert_int_equal(decode(&b, &e, &r), 0);
	assert_int_equal(r.n, 2);
	for (k = 0; k < 2; k++) {
		const struct roll_vis_owner *o = &r.o[k];

		assert_int_equal(o->n, 2);
		assert_string_equal(o->v[0].role, "server");
		/* Roles are the parent's strings, never the child's bytes. */
		assert_true(o->v[0].role < b.s || o->v[0].role >= b.s + b.len);
		assert_string_equal(o->v[0].srv.name, "127.0.0.1@5300");
		assert_string_equal(o->v[1].srv.name, servers[1].name);
		assert_int_equal(o->v[0].state, ZONE_VIS_MATCH);
		assert_int_equal(o->v[0].aa, 1);
		assert_int_equal(o->v[0].has_serial, 1);
		assert_int_equal(o->v[0].serial, 2024010100 + k);
		assert_int_equal(o->v[0].ttl, 300);
		assert_int_equal(o->v[0].neg_ttl, 60);
		assert_true(zone_rrset_equal(&o->v[0].rrset, &rs));
		assert_int_equal(o->v[0].rrset.ttl, 300);
		assert_null(o->v[0].key);
		assert_int_equal(o->v[1].state, ZONE_VIS_ERROR);
		assert_string_equal(o->v[1].error, "::1@53: no answer");
		assert_int_equal(o->v[1].rrset.n, 0);
		assert_int_equal(o->res_asked, 1);
		assert_int_equal(o->res_sec, ZONE_SEC_SECURE);
		assert_true(zone_rrset_equal(&o->res_rrset, &rs));
		assert_int_equal(o->local_asked, 1);
		assert_int_equal(o->local_sec, ZONE_SEC_BOGUS);
		assert_string_equal(o->local_why, "x TLSA does not validate");
		assert_int_equal(o->local_rrset.n, 0);
	}
	roll_vis_result_free(&r);
	zone_rrset_free(&rs);
	sbuf_free(&b);
}

/* The NS set: any servers, the same for every owner, with their names. */
static void
test_roundtrip_ns(void **state)
{
	struct roll_vis_expect e;
	struct roll_vis_result r;
	struct zone_vis v;
	struct sbuf b = { 0 };
	size_t k;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.nowners = 2;
	e.role = VIS_ROLE_NS;
	e.resolver = 1;
	for (k = 0; k < 2; k++) {
		memset(&v, 0, sizeof(v));
		v.srv = servers[1];
		snprintf(v.nsname, sizeof(v.nsname), "ns1.example.test.");
		v.state = ZONE_VIS_DIFFERS;
		roll_vis_encode_server(&b, (uint32_t)k, VIS_ROLE_NS, &v,
		    VIS_MAX_MSG);
		roll_vis_encode_sec(&b, VIS_RESOLVER, (uint32_t)k,
		    ZONE_SEC_INSECURE, "no AD", &v.rrset, VIS_MAX_MSG);
	}
	roll_vis_encode_done(&b, 4);
	assert_int_equal(decode(&b, &e, &r), 0);
	assert_int_equal(r.o[1].n, 1);
	assert_string_equal(r.o[1].v[0].role, "ns");
	assert_string_equal(r.o[1].v[0].nsname, "ns1.example.test.");
	assert_string_equal(r.o[1].v[0].srv.name, "::1@53");
	assert_int_equal(r.o[1].local_asked, 0);
	assert_string_equal(r.o[1].res_why, "no AD");
	roll_vis_result_free(&r);
	sbuf_free(&b);

	/* Another address for the second owner: not the same NS set. */
	for (k = 0; k < 2; k++) {
		memset(&v, 0, sizeof(v));
		v.srv = servers[k];
		roll_vis_encode_server(&b, (uint32_t)k, VIS_ROLE_NS, &v,
		    VIS_MAX_MSG);
		roll_vis_encode_sec(&b, VIS_RESOLVER, (uint32_t)k,
		    ZONE_SEC_INSECURE, "", &v.rrset, VIS_MAX_MSG);
	}
	roll_vis_encode_done(&b, 4);
	assert_int_equal(decode(&b, &e, &r), -1);
	assert_non_null(strstr(err, "server address"));
	assert_null(r.o);
	sbuf_free(&b);
}

/* The child's own error: its text, and nothing else. */
static void
test_error(void **state)
{
	struct roll_vis_expect e = expect_servers(1);
	struct roll_vis_result r;
	struct sbuf b = { 0 };

	(void)state;
	roll_vis_encode_error(&b, "127.0.0.1@53: NS example.test.: timeout");
	assert_int_equal(decode(&b, &e, &r), -1);
	assert_string_equal(err, "127.0.0.1@53: NS example.test.: timeout");
	assert_null(r.o);
	assert_int_equal(r.n, 0);
	/* Anything after it is refused. */
	sbuf_add(&b, "x", 1);
	assert_int_equal(decode(&b, &e, &r), -1);
	assert_non_null(strstr(err, "malformed"));
	sbuf_free(&b);
}

/*
 * Honest text with other bytes than printable ASCII (a trust anchor
 * file's UTF-8 path in a reason, a DNS name in a server's error) is
 * escaped by the encoder, as the log shows it, and accepted.
 */
static void
test_escaped_text(void **state)
{
	struct roll_vis_expect e = expect_servers(1);
	struct roll_vis_result r;
	struct zone_rrset none = { 0 };
	struct zone_vis v;
	struct sbuf b = { 0 };
	char big[ERRBUF_LEN];
	const char *w;
	size_t i;

	(void)state;
	memset(&v, 0, sizeof(v));
	v.srv = servers[0];
	v.state = ZONE_VIS_ERROR;
	snprintf(v.nsname, sizeof(v.nsname), "ns1.\xc3\xa9xample.test.");
	snprintf(v.error, sizeof(v.error), "x\x1b[2J\ty\\046");
	roll_vis_encode_server(&b, 0, VIS_ROLE_SERVER, &v, VIS_MAX_MSG);
	/* The longest reason, all of it to escape: cut to fit. */
	memset(big, 0xff, sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	roll_vis_encode_server(&b, 0, VIS_ROLE_SERVER, &(struct zone_vis){
	    .srv = servers[1], .state = ZONE_VIS_MATCH }, VIS_MAX_MSG);
	roll_vis_encode_sec(&b, VIS_RESOLVER, 0, ZONE_SEC_ERROR, big, &none,
	    VIS_MAX_MSG);
	roll_vis_encode_sec(&b, VIS_LOCAL, 0, ZONE_SEC_ERROR,
	    "/etc/tlsa/\xc3\xa4nchors\x01.key: no such file", &none,
	    VIS_MAX_MSG);
	roll_vis_encode_done(&b, 4);
	assert_int_equal(decode(&b, &e, &r), 0);
	assert_string_equal(r.o[0].v[0].nsname, "ns1.\\303\\251xample.test.");
	/* Backslashes stay: text escaped already is not escaped twice. */
	assert_string_equal(r.o[0].v[0].error, "x\\033[2J\\011y\\046");
	assert_string_equal(r.o[0].local_why,
	    "/etc/tlsa/\\303\\244nchors\\001.key: no such file");
	w = r.o[0].res_why;
	assert_true(strlen(w) < ERRBUF_LEN);
	assert_true(strlen(w) >= ERRBUF_LEN - 5);
	/* Whole escapes only. */
	assert_int_equal(strlen(w) % 4, 0);
	for (i = 0; w[i] != '\0'; i += 4)
		assert_memory_equal(w + i, "\\377", 4);
	roll_vis_result_free(&r);
	sbuf_free(&b);

	/* The child's own error too; an empty one still says something. */
	memset(&b, 0, sizeof(b));
	roll_vis_encode_error(&b, "/\xe2\x82\xac/anchors: permission denied");
	assert_int_equal(decode(&b, &e, &r), -1);
	assert_string_equal(err, "/\\342\\202\\254/anchors: permission denied");
	sbuf_free(&b);
	memset(&b, 0, sizeof(b));
	roll_vis_encode_error(&b, "");
	assert_int_equal(decode(&b, &e, &r), -1);
	assert_string_equal(err,
	    "the DNS check process gave up without a reason");
	sbuf_free(&b);
}

/* n records of len bytes each, all different. */
static void
fill(struct zone_rrset *s, size_t n, size_t len)
{
	unsigned char *d;
	size_t i;

	assert_non_null(d = calloc(1, len));
	for (i = 0; i < n; i++) {
		d[0] = (unsigned char)(i >> 8);
		d[1] = (unsigned char)i;
		push(s, 3, 1, 1, d, len);
	}
	s->ttl = 300;
	free(d);
}

/*
 * A stranger that serves more than the report can carry is "not yet:
 * answer too large" for itself only: the others, and the report, pass.
 */
static void
test_too_large(void **state)
{
	struct roll_vis_expect e = expect_servers(1);
	struct roll_vis_result r;
	struct zone_rrset many = { 0 }, heavy = { 0 }, small = { 0 };
	struct zone_vis v;
	struct sbuf b = { 0 };
	size_t budget;

	(void)state;
	fill(&many, VIS_MAX_RRS + 1, 2);
	fill(&heavy, 50, 100);
	fill(&small, 2, 32);

	/* More records than the decoder takes; more bytes than the
	 * budget; the resolver's answer, too many records; local
	 * validation's, within the budget. */
	budget = 2000;
	memset(&v, 0, sizeof(v));
	v.srv = servers[0];
	v.state = ZONE_VIS_DIFFERS;
	v.aa = 1;
	v.ttl = 300;
	v.rrset = many;
	roll_vis_encode_server(&b, 0, VIS_ROLE_SERVER, &v, budget);
	v.srv = servers[1];
	v.rrset = heavy;
	roll_vis_encode_server(&b, 0, VIS_ROLE_SERVER, &v, budget);
	roll_vis_encode_sec(&b, VIS_RESOLVER, 0, ZONE_SEC_SECURE, "", &many,
	    budget);
	roll_vis_encode_sec(&b, VIS_LOCAL, 0, ZONE_SEC_SECURE, "", &small,
	    budget);
	roll_vis_encode_done(&b, 4);
	assert_int_equal(decode(&b, &e, &r), 0);
	assert_int_equal(r.o[0].v[0].state, ZONE_VIS_ERROR);
	assert_string_equal(r.o[0].v[0].error,
	    "answer too large (4097 records)");
	assert_int_equal(r.o[0].v[0].rrset.n, 0);
	assert_int_equal(r.o[0].v[1].state, ZONE_VIS_ERROR);
	assert_string_equal(r.o[0].v[1].error, "answer too large (50 records)");
	assert_int_equal(r.o[0].v[1].rrset.n, 0);
	assert_int_equal(r.o[0].res_sec, ZONE_SEC_ERROR);
	assert_string_equal(r.o[0].res_why, "answer too large (4097 records)");
	assert_int_equal(r.o[0].res_rrset.n, 0);
	assert_int_equal(r.o[0].local_sec, ZONE_SEC_SECURE);
	assert_true(zone_rrset_equal(&r.o[0].local_rrset, &small));
	roll_vis_result_free(&r);
	sbuf_free(&b);

	/*
	 * As the child does it: every message its budget.  Four owners of
	 * 64 servers each, all serving 4096 records of 255 bytes (more
	 * than a DNS message holds, but what the child could be made to
	 * send): the report stays within VIS_MAX_MSG, and passes.
	 */
	{
		static struct zone_server many_srv[64];
		struct zone_rrset huge = { 0 };
		size_t k, i, nown = 4, nsrv = 64;
		char name[32];

		for (i = 0; i < nsrv; i++) {
			snprintf(name, sizeof(name), "127.0.1.%zu@53", i + 1);
			assert_int_equal(zone_server_parse(name, &many_srv[i],
			    err, sizeof(err)), 0);
		}
		fill(&huge, VIS_MAX_RRS, 255);
		budget = roll_vis_budget(nown * (nsrv + 2));
		assert_true(budget * nown * (nsrv + 2) + VIS_DONE_LEN <=
		    VIS_MAX_MSG);
		memset(&b, 0, sizeof(b));
		for (k = 0; k < nown; k++) {
			for (i = 0; i < nsrv; i++) {
				memset(&v, 0, sizeof(v));
				v.srv = many_srv[i];
				v.state = ZONE_VIS_MATCH;
				v.rrset = i == 0 ? small : huge;
				roll_vis_encode_server(&b, (uint32_t)k,
				    VIS_ROLE_SERVER, &v, budget);
			}
			roll_vis_encode_sec(&b, VIS_RESOLVER, (uint32_t)k,
			    ZONE_SEC_SECURE, "", &huge, budget);
			roll_vis_encode_sec(&b, VIS_LOCAL, (uint32_t)k,
			    ZONE_SEC_SECURE, "", &small, budget);
		}
		roll_vis_encode_done(&b, (uint32_t)(nown * (nsrv + 2)));
		assert_false(b.failed);
		assert_true(b.len <= VIS_MAX_MSG);
		e.nowners = nown;
		e.servers = many_srv;
		e.nservers = nsrv;
		assert_int_equal(decode(&b, &e, &r), 0);
		for (k = 0; k < nown; k++) {
			assert_int_equal(r.o[k].v[0].state, ZONE_VIS_MATCH);
			assert_true(zone_rrset_equal(&r.o[k].v[0].rrset,
			    &small));
			assert_int_equal(r.o[k].v[1].state, ZONE_VIS_ERROR);
			assert_string_equal(r.o[k].v[nsrv - 1].error,
			    "answer too large (4096 records)");
			assert_int_equal(r.o[k].res_sec, ZONE_SEC_ERROR);
			assert_int_equal(r.o[k].local_sec, ZONE_SEC_SECURE);
		}
		roll_vis_result_free(&r);
		sbuf_free(&b);
		zone_rrset_free(&huge);
	}
	zone_rrset_free(&many);
	zone_rrset_free(&heavy);
	zone_rrset_free(&small);
}

static volatile sig_atomic_t children;

static void
on_child(int sig)
{
	(void)sig;
	children++;
}

/*
 * A child only when it has something to ask: with neither servers, a
 * resolver nor a trust anchor file (only the primary, which the parent
 * asks), none is started, so none has to drop privileges.
 */
static void
test_run_no_child(void **state)
{
	static const char *const owners[] = { "_25._tcp.mx1.example.test." };
	struct roll_vis_job job;
	struct roll_vis_result r;
	struct zone_rrset none = { 0 };
	struct sigaction sa, old;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_child;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGCHLD, &sa, &old), 0);
	memset(&job, 0, sizeof(job));
	job.zone = "example.test.";
	job.owners = owners;
	job.nowners = 1;
	job.expect = &none;
	children = 0;
	assert_int_equal(roll_vis_run(&job, &r, err, sizeof(err)), 0);
	assert_int_equal(children, 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.o[0].n, 0);
	assert_int_equal(r.o[0].res_asked, 0);
	assert_int_equal(r.o[0].local_asked, 0);
	roll_vis_result_free(&r);

	/* With a trust anchor file (one that cannot be read: nothing goes
	 * to the network), the child says why local validation failed. */
	job.ta_file = "/nonexistent/ta.key";
	if (roll_vis_run(&job, &r, err, sizeof(err)) == 0) {
		assert_int_equal(r.o[0].local_asked, 1);
		assert_int_equal(r.o[0].local_sec, ZONE_SEC_ERROR);
		assert_non_null(strstr(r.o[0].local_why, "/nonexistent"));
	} else	/* root, with no user "nobody" here */
		assert_non_null(strstr(err, "privileges"));
	roll_vis_result_free(&r);
	assert_int_equal(children, 1);
	assert_int_equal(sigaction(SIGCHLD, &old, NULL), 0);
}

/* The child's time comes from what is left of the run's DNS deadline. */
static void
test_run_left(void **state)
{
	long long left;

	(void)state;
	zone_net_set_run_deadline(0);
	assert_true(zone_net_run_left_ms() == -1);
	zone_net_set_run_deadline(100);
	left = zone_net_run_left_ms();
	assert_true(left > 99000 && left <= 100000);
	zone_net_set_run_deadline(0);
	assert_true(zone_net_run_left_ms() == -1);
}

/* Raw message building, for what the encoder never writes. */
static void
u32(struct sbuf *b, uint32_t v)
{
	uint32_t n = htonl(v);

	sbuf_add(b, (const char *)&n, 4);
}

static void
msg(struct sbuf *b, uint32_t type, const struct sbuf *p)
{
	u32(b, type);
	u32(b, (uint32_t)p->len);
	sbuf_add(b, p->s, p->len);
}

static void
str(struct sbuf *b, const char *s, size_t len)
{
	u32(b, (uint32_t)len);
	sbuf_add(b, s, len);
}

/* The hostile variants of one server message. */
enum hostile {
	H_NONE, H_OWNER, H_ROLE, H_STATE, H_AA, H_FAMILY, H_ADDR,
	H_UNTERMINATED, H_NUL_INSIDE, H_UNPRINTABLE, H_LONG_NAME,
	H_RRS_COUNT, H_REC_LEN, H_REC_ZERO, H_REC_PAD, H_REC_TWICE,
	H_TRAILING
};

static void
server_msg(struct sbuf *b, uint32_t owner, size_t idx, enum hostile h)
{
	struct sbuf p = { 0 };
	unsigned char a[16] = { 0 };
	uint32_t i;

	u32(&p, h == H_OWNER ? 7 : owner);
	u32(&p, h == H_ROLE ? VIS_ROLE_NS : VIS_ROLE_SERVER);
	if (idx == 0) {
		u32(&p, h == H_FAMILY ? 99 : AF_INET);
		a[0] = 127;
		a[3] = h == H_ADDR ? 2 : 1;
		sbuf_add(&p, (const char *)a, 16);
		u32(&p, 5300);
	} else {
		u32(&p, AF_INET6);
		a[15] = 1;
		sbuf_add(&p, (const char *)a, 16);
		u32(&p, 53);
	}
	if (h == H_UNTERMINATED)
		str(&p, "ns1", 3);
	else if (h == H_NUL_INSIDE)
		str(&p, "ns\0a", 5);
	else if (h == H_UNPRINTABLE)
		str(&p, "ns\x1b[2J", 7);
	else if (h == H_LONG_NAME) {
		char big[300];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		str(&p, big, sizeof(big));
	} else
		str(&p, "", 1);
	u32(&p, h == H_STATE ? 4 : ZONE_VIS_MATCH);
	u32(&p, h == H_AA ? 2 : 1);
	u32(&p, 0);		/* rcode */
	u32(&p, 0);		/* has_serial */
	u32(&p, 0);		/* serial */
	u32(&p, 300);		/* ttl */
	u32(&p, 0);		/* neg_ttl */
	str(&p, "", 1);		/* error */
	u32(&p, 300);		/* rrset ttl */
	if (h == H_RRS_COUNT) {
		u32(&p, VIS_MAX_RRS + 1);
		for (i = 0; i < VIS_MAX_RRS + 1; i++) {
			u32(&p, 0x03010100);
			u32(&p, 4);
			u32(&p, i);
		}
	} else {
		u32(&p, h == H_REC_TWICE ? 2 : 1);
		sbuf_add(&p, "\x03\x01\x01", 3);
		sbuf_add(&p, h == H_REC_PAD ? "\x01" : "\x00", 1);
		if (h == H_REC_LEN)
			u32(&p, 1000);
		else
			u32(&p, h == H_REC_ZERO ? 0 : 3);
		sbuf_add(&p, (const char *)d1, sizeof(d1));
		if (h == H_REC_TWICE) {
			sbuf_add(&p, "\x03\x01\x01\x00", 4);
			u32(&p, 3);
			sbuf_add(&p, (const char *)d1, sizeof(d1));
		}
	}
	if (h == H_TRAILING)
		sbuf_add(&p, "junk", 4);
	msg(b, VIS_SERVER, &p);
	sbuf_free(&p);
}

static void
sec_msg(struct sbuf *b, uint32_t type, uint32_t owner, uint32_t sec)
{
	struct sbuf p = { 0 };

	u32(&p, owner);
	u32(&p, sec);
	str(&p, "", 1);
	u32(&p, 0);
	u32(&p, 0);
	msg(b, type, &p);
	sbuf_free(&p);
}

static void
done_msg(struct sbuf *b, uint32_t count)
{
	struct sbuf p = { 0 };

	u32(&p, count);
	msg(b, VIS_DONE, &p);
	sbuf_free(&p);
}

/* One owner's report by hand, the first server spoilt by h. */
static void
hand_stream(struct sbuf *b, enum hostile h)
{
	server_msg(b, 0, 0, h);
	server_msg(b, 0, 1, H_NONE);
	sec_msg(b, VIS_RESOLVER, 0, ZONE_SEC_SECURE);
	sec_msg(b, VIS_LOCAL, 0, ZONE_SEC_SECURE);
	done_msg(b, 4);
}

static void
refused(const struct sbuf *b, const struct roll_vis_expect *e,
    const char *why)
{
	struct roll_vis_result r;

	assert_int_equal(decode(b, e, &r), -1);
	if (strstr(err, "the DNS check process sent a malformed message (") !=
	    err || strstr(err, why) == NULL)
		fail_msg("expected a malformed message (%s), got: %s", why,
		    err);
	assert_null(r.o);
	assert_int_equal(r.n, 0);
}

static void
test_hostile_fields(void **state)
{
	static const struct {
		enum hostile	 h;
		const char	*why;
	} t[] = {
		{ H_OWNER, "owner" }, { H_ROLE, "role" },
		{ H_STATE, "state" }, { H_AA, "AA" },
		{ H_FAMILY, "address family" }, { H_ADDR, "server address" },
		{ H_UNTERMINATED, "NS name" }, { H_NUL_INSIDE, "NS name" },
		{ H_UNPRINTABLE, "NS name" }, { H_LONG_NAME, "NS name" },
		{ H_RRS_COUNT, "RRset size" }, { H_REC_LEN, "record" },
		{ H_REC_ZERO, "record" }, { H_REC_PAD, "record" },
		{ H_REC_TWICE, "record given twice" },
		{ H_TRAILING, "bytes after the end" },
	};
	struct roll_vis_expect e = expect_servers(1);
	struct roll_vis_result r;
	struct sbuf b = { 0 };
	size_t i;

	(void)state;
	/* The hand-made report itself is fine: each change spoils it. */
	hand_stream(&b, H_NONE);
	assert_int_equal(decode(&b, &e, &r), 0);
	assert_int_equal(r.o[0].n, 2);
	assert_int_equal(r.o[0].v[0].rrset.n, 1);
	roll_vis_result_free(&r);
	sbuf_free(&b);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&b, 0, sizeof(b));
		hand_stream(&b, t[i].h);
		refused(&b, &e, t[i].why);
		sbuf_free(&b);
	}
}

static void
test_hostile_stream(void **state)
{
	struct roll_vis_expect e = expect_servers(2);
	struct sbuf b = { 0 }, g = { 0 };
	size_t cut;

	(void)state;
	good_stream(&g, 2);

	/* A header cut short. */
	sbuf_add(&b, g.s, 5);
	refused(&b, &e, "truncated header");
	sbuf_free(&b);

	/* A length beyond the end. */
	memset(&b, 0, sizeof(b));
	u32(&b, VIS_DONE);
	u32(&b, 1000);
	u32(&b, 0);
	refused(&b, &e, "length beyond the end");
	sbuf_free(&b);

	/* A type nobody knows. */
	memset(&b, 0, sizeof(b));
	u32(&b, 99);
	u32(&b, 0);
	refused(&b, &e, "type");
	sbuf_free(&b);

	/* No DONE; then nothing at all. */
	memset(&b, 0, sizeof(b));
	sbuf_add(&b, g.s, g.len - 12);
	refused(&b, &e, "no end");
	b.len = 0;
	refused(&b, &e, "no end");
	sbuf_free(&b);

	/* Trailing junk after DONE. */
	memset(&b, 0, sizeof(b));
	sbuf_add(&b, g.s, g.len);
	sbuf_add(&b, "\0\0\0\4", 4);
	refused(&b, &e, "bytes after the end");
	sbuf_free(&b);

	/* DONE too early: the second owner missing. */
	memset(&b, 0, sizeof(b));
	hand_stream(&b, H_NONE);
	refused(&b, &e, "owners missing");
	sbuf_free(&b);

	/* DONE miscounting. */
	memset(&b, 0, sizeof(b));
	sbuf_add(&b, g.s, g.len - 12);
	done_msg(&b, 7);
	refused(&b, &e, "count");
	sbuf_free(&b);

	/* The next owner before this one is complete; an owner skipped. */
	memset(&b, 0, sizeof(b));
	server_msg(&b, 0, 0, H_NONE);
	server_msg(&b, 1, 0, H_NONE);
	refused(&b, &e, "owner out of order");
	sbuf_free(&b);
	memset(&b, 0, sizeof(b));
	server_msg(&b, 1, 0, H_NONE);
	refused(&b, &e, "owner out of order");
	sbuf_free(&b);

	/* A third server where two were named; resolver twice; a bad
	 * security state; a resolver nobody asked for. */
	memset(&b, 0, sizeof(b));
	server_msg(&b, 0, 0, H_NONE);
	server_msg(&b, 0, 1, H_NONE);
	server_msg(&b, 0, 1, H_NONE);
	refused(&b, &e, "too many servers");
	sbuf_free(&b);
	memset(&b, 0, sizeof(b));
	server_msg(&b, 0, 0, H_NONE);
	server_msg(&b, 0, 1, H_NONE);
	sec_msg(&b, VIS_RESOLVER, 0, ZONE_SEC_SECURE);
	sec_msg(&b, VIS_RESOLVER, 0, ZONE_SEC_SECURE);
	refused(&b, &e, "resolver unexpected");
	sbuf_free(&b);
	memset(&b, 0, sizeof(b));
	server_msg(&b, 0, 0, H_NONE);
	server_msg(&b, 0, 1, H_NONE);
	sec_msg(&b, VIS_RESOLVER, 0, 9);
	refused(&b, &e, "security state");
	e.resolver = 0;
	refused(&b, &e, "resolver unexpected");
	sbuf_free(&b);

	/* Servers where none were asked for. */
	memset(&b, 0, sizeof(b));
	e = expect_servers(1);
	e.role = VIS_ROLE_NONE;
	server_msg(&b, 0, 0, H_NONE);
	refused(&b, &e, "role");
	sbuf_free(&b);

	/* Every cut of a good report is refused (and nothing leaks). */
	e = expect_servers(2);
	for (cut = 0; cut < g.len; cut++) {
		memset(&b, 0, sizeof(b));
		sbuf_add(&b, g.s, cut);
		refused(&b, &e, "");
		sbuf_free(&b);
	}
	sbuf_free(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_roundtrip_ns),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_escaped_text),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_run_no_child),
		cmocka_unit_test(test_run_left),
		cmocka_unit_test(test_hostile_fields),
		cmocka_unit_test(test_hostile_stream),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
