/*
 * fuzz_vis.c: the parent's decoder of the DNS check process's report
 * (roll_vis_decode, roll_vis_msg.h) on any bytes, as a hostile child
 * could send them.
 *
 * The input is two bytes of what the parent asked for, then the report:
 *
 *   byte 0   bits 0-1 the number of owners (0-3), bits 2-3 the role
 *            (VIS_ROLE_NONE, _SERVER, _NS; 3 is NS too), bit 4 a
 *            RESOLVER expected, bit 5 a LOCAL expected
 *   byte 1   the number of check_servers (mod 3): 127.0.0.1@5300 and
 *            [::1]:53, in that order
 *
 * What decodes must be what was asked for (every owner complete, the
 * named servers in order, printable strings), must encode again with
 * the child's encoder and decode to the same; what does not must leave
 * nothing behind and say why on one line.
 *
 * Built with -DFUZZ_VIS_SEEDS instead, it is the program that wrote the
 * committed seeds (tests/fuzz/corpus/vis) with the child's encoder:
 *   cc -std=c11 -D_GNU_SOURCE -DFUZZ_VIS_SEEDS -Icommon -Itlsagen \
 *       -Izones -Icheck -Irollover -o /tmp/vis-seeds tests/fuzz/fuzz_vis.c \
 *       build/libtlsa.a $(pkg-config --libs libssl libcrypto ldns) && \
 *   /tmp/vis-seeds tests/fuzz/corpus/vis
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "roll_vis.h"
#include "roll_vis_msg.h"
#include "sbuf.h"

static struct zone_server servers[2];

static void
init_servers(void)
{
	char err[ERRBUF_LEN];

	if (servers[0].sslen != 0)
		return;
	if (zone_server_parse("127.0.0.1@5300", &servers[0], err,
	    sizeof(err)) == -1 || zone_server_parse("[::1]:53", &servers[1],
	    err, sizeof(err)) == -1) {
		fprintf(stderr, "fuzz_vis: %s\n", err);
		abort();
	}
}

static void
expectation(uint8_t b0, uint8_t b1, struct roll_vis_expect *e)
{
	static const int roles[] = {
		VIS_ROLE_NONE, VIS_ROLE_SERVER, VIS_ROLE_NS, VIS_ROLE_NS
	};

	memset(e, 0, sizeof(*e));
	e->nowners = b0 & 3;
	e->role = roles[(b0 >> 2) & 3];
	e->resolver = (b0 >> 4) & 1;
	e->local = (b0 >> 5) & 1;
	if (e->role == VIS_ROLE_SERVER) {
		e->servers = servers;
		e->nservers = b1 % 3;
	}
}

#ifndef FUZZ_VIS_SEEDS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
bad(const char *what)
{
	fprintf(stderr, "fuzz_vis: %s\n", what);
	abort();
}

static void
printable(const char *s, size_t size)
{
	size_t i;

	for (i = 0; i < size && s[i] != '\0'; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			bad("a string with an unprintable byte");
	if (i == size)
		bad("a string without its NUL");
}

/* The report in r as the child would send it. */
static void
encode(const struct roll_vis_result *r, const struct roll_vis_expect *e,
    struct sbuf *b)
{
	uint32_t count = 0;
	size_t k, i;

	for (k = 0; k < r->n; k++) {
		for (i = 0; i < r->o[k].n; i++, count++)
			roll_vis_encode_server(b, (uint32_t)k, e->role,
			    &r->o[k].v[i], VIS_MAX_MSG);
		if (r->o[k].res_asked) {
			roll_vis_encode_sec(b, VIS_RESOLVER, (uint32_t)k,
			    r->o[k].res_sec, r->o[k].res_why,
			    &r->o[k].res_rrset, VIS_MAX_MSG);
			count++;
		}
		if (r->o[k].local_asked) {
			roll_vis_encode_sec(b, VIS_LOCAL, (uint32_t)k,
			    r->o[k].local_sec, r->o[k].local_why,
			    &r->o[k].local_rrset, VIS_MAX_MSG);
			count++;
		}
	}
	roll_vis_encode_done(b, count);
	if (b->failed)
		abort();
}

static void
same_view(const struct zone_vis *a, const struct zone_vis *b)
{
	if (a->srv.sslen != b->srv.sslen ||
	    memcmp(&a->srv.ss, &b->srv.ss, a->srv.sslen) != 0 ||
	    strcmp(a->srv.name, b->srv.name) != 0 ||
	    strcmp(a->role, b->role) != 0 ||
	    strcmp(a->nsname, b->nsname) != 0 || a->state != b->state ||
	    a->aa != b->aa || a->rcode != b->rcode ||
	    a->has_serial != b->has_serial || a->serial != b->serial ||
	    a->ttl != b->ttl || a->neg_ttl != b->neg_ttl ||
	    strcmp(a->error, b->error) != 0 ||
	    a->rrset.ttl != b->rrset.ttl ||
	    !zone_rrset_equal(&a->rrset, &b->rrset))
		bad("a view changed in an encode and decode");
}

static void
check(const struct roll_vis_result *r, const struct roll_vis_expect *e)
{
	struct roll_vis_result r2;
	struct sbuf b = { 0 };
	char err[ERRBUF_LEN];
	size_t k, i;

	if (r->n != e->nowners || (r->n > 0 && r->o == NULL))
		bad("not every owner");
	for (k = 0; k < r->n; k++) {
		const struct roll_vis_owner *o = &r->o[k];

		if (o->res_asked != e->resolver || o->local_asked != e->local)
			bad("the resolver or local validation not as asked");
		if (e->role == VIS_ROLE_SERVER && o->n != e->nservers)
			bad("not the servers named");
		if (e->role == VIS_ROLE_NONE && o->n != 0)
			bad("servers where none were asked for");
		if (e->role == VIS_ROLE_NS && o->n != r->o[0].n)
			bad("another NS set for another owner");
		if (o->n > VIS_MAX_SERVERS)
			bad("too many servers");
		for (i = 0; i < o->n; i++) {
			const struct zone_vis *v = &o->v[i];

			if (e->role == VIS_ROLE_SERVER &&
			    strcmp(v->srv.name, e->servers[i].name) != 0)
				bad("a server not named");
			if (v->role == NULL || v->key != NULL ||
			    v->rrset.n > VIS_MAX_RRS)
				bad("a view out of bounds");
			printable(v->nsname, sizeof(v->nsname));
			printable(v->error, sizeof(v->error));
			printable(v->srv.name, sizeof(v->srv.name));
		}
		printable(o->res_why, sizeof(o->res_why));
		printable(o->local_why, sizeof(o->local_why));
	}
	/* The child's encoder writes what was decoded; it decodes the same. */
	encode(r, e, &b);
	if (roll_vis_decode((const uint8_t *)b.s, b.len, e, &r2, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "fuzz_vis: encoded again, refused: %s\n", err);
		abort();
	}
	for (k = 0; k < r->n; k++) {
		const struct roll_vis_owner *o = &r->o[k], *o2 = &r2.o[k];

		if (o->n != o2->n || o->res_sec != o2->res_sec ||
		    o->local_sec != o2->local_sec ||
		    strcmp(o->res_why, o2->res_why) != 0 ||
		    strcmp(o->local_why, o2->local_why) != 0 ||
		    o->res_rrset.ttl != o2->res_rrset.ttl ||
		    o->local_rrset.ttl != o2->local_rrset.ttl ||
		    !zone_rrset_equal(&o->res_rrset, &o2->res_rrset) ||
		    !zone_rrset_equal(&o->local_rrset, &o2->local_rrset))
			bad("an owner changed in an encode and decode");
		for (i = 0; i < o->n; i++)
			same_view(&o->v[i], &o2->v[i]);
	}
	roll_vis_result_free(&r2);
	sbuf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct roll_vis_expect e;
	struct roll_vis_result r;
	char err[ERRBUF_LEN];

	if (size < 2 || size > 1024 * 1024)
		return 0;
	init_servers();
	expectation(data[0], data[1], &e);
	err[0] = '\0';
	if (roll_vis_decode(data + 2, size - 2, &e, &r, err,
	    sizeof(err)) == -1) {
		if (r.o != NULL || r.n != 0)
			bad("a refused report left a result");
		/* The child's own ERROR text is printable by the decoder's
		 * rule; every refusal says why. */
		printable(err, sizeof(err));
		if (err[0] == '\0')
			bad("refused without a reason");
		roll_vis_result_free(&r);
		return 0;
	}
	check(&r, &e);
	roll_vis_result_free(&r);
	return 0;
}

#else /* FUZZ_VIS_SEEDS */

static const unsigned char d1[] = { 0xab, 0xcd, 0xef },
    d2[] = { 0x01, 0x02 };

static void
push(struct zone_rrset *s, uint8_t u, const unsigned char *d, size_t n)
{
	struct tlsa_rec r;

	memset(&r, 0, sizeof(r));
	r.spec.usage = u;
	r.spec.selector = 1;
	r.spec.mtype = 1;
	r.data = (unsigned char *)d;
	r.len = n;
	if (zone_rrset_push_copy(s, &r) == -1)
		abort();
}

static void
seed(const char *dir, const char *name, uint8_t b0, uint8_t b1,
    const struct sbuf *b)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (b->failed || (f = fopen(path, "wb")) == NULL ||
	    fputc(b0, f) == EOF || fputc(b1, f) == EOF ||
	    fwrite(b->s, 1, b->len, f) != b->len || fclose(f) == EOF) {
		fprintf(stderr, "vis-seeds: %s: cannot write\n", path);
		exit(1);
	}
}

/* nowners owners, each with the servers of role (NS: one named), the
 * resolver and local validation when asked for. */
static void
report(struct sbuf *b, const struct roll_vis_expect *e)
{
	struct zone_rrset rs = { 0 }, none = { 0 };
	struct zone_vis v;
	uint32_t count = 0;
	size_t k, i, n;

	push(&rs, 3, d1, sizeof(d1));
	push(&rs, 2, d2, sizeof(d2));
	rs.ttl = 300;
	n = e->role == VIS_ROLE_SERVER ? e->nservers :
	    e->role == VIS_ROLE_NS ? 2 : 0;
	for (k = 0; k < e->nowners; k++) {
		for (i = 0; i < n; i++, count++) {
			memset(&v, 0, sizeof(v));
			v.srv = servers[i];
			if (e->role == VIS_ROLE_NS)
				snprintf(v.nsname, sizeof(v.nsname),
				    "ns%zu.example.test.", i + 1);
			if (i == 0) {
				v.state = ZONE_VIS_MATCH;
				v.aa = 1;
				v.has_serial = 1;
				v.serial = 2024010100;
				v.ttl = 300;
				v.neg_ttl = 60;
				v.rrset = rs;
			} else {
				v.state = ZONE_VIS_ERROR;
				snprintf(v.error, sizeof(v.error),
				    "answer without AA");
			}
			roll_vis_encode_server(b, (uint32_t)k, e->role, &v,
			    VIS_MAX_MSG);
		}
		if (e->resolver) {
			roll_vis_encode_sec(b, VIS_RESOLVER, (uint32_t)k,
			    ZONE_SEC_SECURE, "", &rs, VIS_MAX_MSG);
			count++;
		}
		if (e->local) {
			roll_vis_encode_sec(b, VIS_LOCAL, (uint32_t)k,
			    ZONE_SEC_BOGUS, "/etc/t\xc3\xa4/ta.key: x TLSA "
			    "does not validate", &none, VIS_MAX_MSG);
			count++;
		}
	}
	roll_vis_encode_done(b, count);
	zone_rrset_free(&rs);
}

int
main(int argc, char *argv[])
{
	static const struct {
		const char	*name;
		uint8_t		 b0, b1;
	} s[] = {
		/* 2 owners, check_servers (both), resolver, local */
		{ "servers-2-owners", 0x02 | 0x04 | 0x10 | 0x20, 2 },
		/* 1 owner, the NS set, resolver */
		{ "ns-1-owner", 0x01 | 0x08 | 0x10, 0 },
		/* 3 owners, local validation only (through the primary) */
		{ "local-only", 0x03 | 0x20, 0 },
		/* no owners at all */
		{ "empty", 0x00, 0 },
	};
	struct roll_vis_expect e;
	struct sbuf b;
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: vis-seeds DIR\n");
		return 1;
	}
	init_servers();
	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		memset(&b, 0, sizeof(b));
		expectation(s[i].b0, s[i].b1, &e);
		report(&b, &e);
		seed(argv[1], s[i].name, s[i].b0, s[i].b1, &b);
		sbuf_free(&b);
	}
	memset(&b, 0, sizeof(b));
	roll_vis_encode_error(&b, "127.0.0.53@53: NS example.test.: timeout");
	seed(argv[1], "error", 0x01 | 0x08 | 0x10, 0, &b);
	sbuf_free(&b);
	return 0;
}

#endif /* FUZZ_VIS_SEEDS */
