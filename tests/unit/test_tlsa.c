/*
 * Unit tests for the pure parts: record types and mnemonics, hex,
 * owner names, record text parsing, SMTP reply lines, the RR list, and
 * the loader on in-memory input.  Expected digests come from
 * `openssl dgst`, computed independently (see the comments).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "log.h"
#include "sbuf.h"
#include "tlsa_dane.h"
#include "tlsa_load.h"
#include "tlsa_net.h"
#include "tlsa_parse.h"
#include "tlsa_rec.h"
#include "zone_out.h"
#include "zone_rr.h"

static char err[ERRBUF_LEN];

static void
test_spec_numbers(void **state)
{
	struct tlsa_spec s;

	(void)state;
	assert_int_equal(tlsa_spec_parse("3,1,1", &s, err, sizeof(err)), 0);
	assert_int_equal(s.usage, 3);
	assert_int_equal(s.selector, 1);
	assert_int_equal(s.mtype, 1);
	assert_int_equal(tlsa_spec_parse("2 0 2", &s, err, sizeof(err)), 0);
	assert_int_equal(s.usage, 2);
	assert_int_equal(s.selector, 0);
	assert_int_equal(s.mtype, 2);
	assert_int_equal(tlsa_spec_parse("3:1:0", &s, err, sizeof(err)), 0);
	assert_int_equal(s.mtype, 0);
}

static void
test_spec_mnemonics(void **state)
{
	struct tlsa_spec s;

	(void)state;
	assert_int_equal(tlsa_spec_parse("dane-ee,spki,sha2-256", &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.usage, 3);
	assert_int_equal(s.selector, 1);
	assert_int_equal(s.mtype, 1);
	assert_int_equal(tlsa_spec_parse("DANE-TA Cert SHA2-512", &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.usage, 2);
	assert_int_equal(s.selector, 0);
	assert_int_equal(s.mtype, 2);
	assert_int_equal(tlsa_spec_parse("pkix-ta,cert,full", &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.usage, 0);
	assert_string_equal(tlsa_field_name(0, 3), "DANE-EE");
	assert_string_equal(tlsa_field_name(2, 1), "SHA2-256");
	assert_null(tlsa_field_name(1, 7));
}

static void
test_spec_bad(void **state)
{
	struct tlsa_spec s;

	(void)state;
	assert_int_equal(tlsa_spec_parse("3,1", &s, err, sizeof(err)), -1);
	assert_int_equal(tlsa_spec_parse("3,1,1,1", &s, err, sizeof(err)), -1);
	assert_int_equal(tlsa_spec_parse("3,1,256", &s, err, sizeof(err)), -1);
	assert_int_equal(tlsa_spec_parse("dane-xx,1,1", &s, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "certificate usage"));
	assert_int_equal(tlsa_spec_parse("3,spki,sha1", &s, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "matching type"));
	assert_int_equal(tlsa_spec_parse("", &s, err, sizeof(err)), -1);
	s = (struct tlsa_spec){ 4, 1, 1 };
	assert_int_equal(tlsa_spec_computable(&s, err, sizeof(err)), 0);
	s = (struct tlsa_spec){ 3, 255, 1 };
	assert_int_equal(tlsa_spec_computable(&s, err, sizeof(err)), 0);
	s = (struct tlsa_spec){ 3, 1, 3 };
	assert_int_equal(tlsa_spec_computable(&s, err, sizeof(err)), 0);
}

static void
test_hex(void **state)
{
	unsigned char in[] = { 0x00, 0x9f, 0xab, 0xff }, *out;
	size_t len;
	char *h;

	(void)state;
	h = tlsa_hex(in, sizeof(in));
	assert_string_equal(h, "009fabff");
	free(h);
	assert_int_equal(tlsa_unhex("00 9F ab\tfF", &out, &len, err,
	    sizeof(err)), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(out, in, 4);
	free(out);
	assert_int_equal(tlsa_unhex("abc", &out, &len, err, sizeof(err)), -1);
	assert_int_equal(tlsa_unhex("zz", &out, &len, err, sizeof(err)), -1);
	assert_int_equal(tlsa_unhex("", &out, &len, err, sizeof(err)), -1);
}

static void
test_owner(void **state)
{
	char *o;

	(void)state;
	o = zone_tlsa_owner(25, "tcp", "MX1.Example.NET", err, sizeof(err));
	assert_non_null(o);
	assert_string_equal(o, "_25._tcp.mx1.example.net.");
	free(o);
	o = zone_tlsa_owner(465, "tcp", "mx.example.net.", err, sizeof(err));
	assert_string_equal(o, "_465._tcp.mx.example.net.");
	free(o);
	assert_null(zone_tlsa_owner(25, "tcp", "192.0.2.1", err, sizeof(err)));
	assert_non_null(strstr(err, "address"));
	assert_null(zone_tlsa_owner(25, "tcp", "::1", err, sizeof(err)));
	assert_null(zone_tlsa_owner(25, "xyz", "mx.example", err,
	    sizeof(err)));
	assert_null(zone_tlsa_owner(0, "tcp", "mx.example", err, sizeof(err)));
	assert_null(zone_tlsa_owner(25, "tcp", "a..b", err, sizeof(err)));
	/* 64-octet label */
	assert_null(zone_tlsa_owner(25, "tcp", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example", err, sizeof(err)));
}

static void
test_smtp_lines(void **state)
{
	int more;

	(void)state;
	assert_int_equal(tlsa_smtp_parse_line("220 mx ESMTP", 12, &more), 220);
	assert_int_equal(more, 0);
	assert_int_equal(tlsa_smtp_parse_line("250-STARTTLS", 12, &more), 250);
	assert_int_equal(more, 1);
	assert_int_equal(tlsa_smtp_parse_line("250", 3, &more), 250);
	assert_int_equal(more, 0);
	assert_int_equal(tlsa_smtp_parse_line("25", 2, &more), -1);
	assert_int_equal(tlsa_smtp_parse_line("120 x", 5, &more), -1);
	assert_int_equal(tlsa_smtp_parse_line("650 x", 5, &more), -1);
	assert_int_equal(tlsa_smtp_parse_line("2a0 x", 5, &more), -1);
	assert_int_equal(tlsa_smtp_parse_line("220_x", 5, &more), -1);
}

static void
test_parse_records(void **state)
{
	struct tlsa_reclist l = { 0 };
	const char *h32 = "8cb0fc6c527506a053f4f14c8464bebbd6dede2738d1146"
	    "8dd953d7d6a3021f1";

	(void)state;
	assert_int_equal(tlsa_parse_line(&l, "; comment", err, sizeof(err)),
	    0);
	assert_int_equal(l.n, 0);
	assert_int_equal(tlsa_parse_line(&l, "$TTL 300", err, sizeof(err)), 0);
	{
		char line[300];

		snprintf(line, sizeof(line), "_25._tcp.MX.example. 300 IN "
		    "TLSA 3 1 1 %s", h32);
		assert_int_equal(tlsa_parse_line(&l, line, err, sizeof(err)),
		    0);
		snprintf(line, sizeof(line), "dane-ta spki sha2-256 %.32s "
		    "%s", h32, h32 + 32);
		assert_int_equal(tlsa_parse_line(&l, line, err, sizeof(err)),
		    0);
		snprintf(line, sizeof(line), "x. IN TYPE52 \\# 35 030101%s",
		    h32);
		assert_int_equal(tlsa_parse_line(&l, line, err, sizeof(err)),
		    0);
		snprintf(line, sizeof(line), "x. IN TYPE52 \\# 36 030101%s",
		    h32);
		assert_int_equal(tlsa_parse_line(&l, line, err, sizeof(err)),
		    -1);
	}
	assert_int_equal(l.n, 3);
	assert_string_equal(l.owner[0], "_25._tcp.mx.example.");
	assert_null(l.owner[1]);
	assert_int_equal(l.v[1].spec.usage, 2);
	assert_int_equal(l.v[1].len, 32);
	assert_memory_equal(l.v[0].data, l.v[2].data, 32);
	/* A SHA-256 record must carry 32 bytes. */
	assert_int_equal(tlsa_parse_line(&l, "3 1 1 abcd", err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "32 bytes"));
	assert_int_equal(tlsa_parse_line(&l, "hello world", err, sizeof(err)),
	    -1);
	tlsa_reclist_free(&l);
}

static void
test_rrlist_dedup(void **state)
{
	struct zone_rrlist l = { 0 };
	struct tlsa_rec r;
	unsigned char d[3] = { 1, 2, 3 };
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		r.spec = (struct tlsa_spec){ 3, 1, 0 };
		r.len = 3;
		r.data = malloc(3);
		memcpy(r.data, d, 3);
		r.data[0] = (unsigned char)(i % 100);
		assert_int_not_equal(zone_rrlist_add(&l, "_25._tcp.a.", 0, 0,
		    1, &r, NULL), -1);
		assert_null(r.data);
	}
	assert_int_equal(l.n, 100);
	zone_rrlist_free(&l);
}

/* A fixed P-256 key; its SPKI SHA-256 computed with
 * openssl pkey -pubout -outform DER | openssl dgst -sha256. */
static const char p256_key[] =
"-----BEGIN PRIVATE KEY-----\n"
"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgTjV5zx7kZF2OOR5L\n"
"UAgQs9FUKaT02hBYavLx1xYHOlShRANCAASAaSpyO4HJzon9lii9zMBf2Lob9lHR\n"
"XPWYdKEMoLaxP8tIvqZpRCb3EeR3ZgXurbjN7AFAY4rZJslyxCVx6oi0\n"
"-----END PRIVATE KEY-----\n";
static const char p256_spki_sha256[] =
    "c2ee9008248296332e95d70e0b02c9e4d9d3e2f8a83fda48c89c6e45ea43b2a4";

static void
test_load_and_compute(void **state)
{
	struct tlsa_input in;
	struct tlsa_rec r;
	struct tlsa_spec s = { 3, 1, 1 };
	char *hex;

	(void)state;
	assert_int_equal(tlsa_load_buf((const unsigned char *)p256_key,
	    strlen(p256_key), 0, &in, err, sizeof(err)), 0);
	assert_non_null(in.key);
	assert_int_equal(in.key_private, 1);
	assert_int_equal(tlsa_compute(&s, NULL, in.key, &r, err, sizeof(err)),
	    0);
	hex = tlsa_hex(r.data, r.len);
	assert_string_equal(hex, p256_spki_sha256);
	free(hex);
	tlsa_rec_clear(&r);
	s.selector = 0;
	assert_int_equal(tlsa_compute(&s, NULL, in.key, &r, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "needs a certificate"));
	tlsa_input_clear(&in);
}

static void
test_load_bad(void **state)
{
	struct tlsa_input in;
	const char *trunc = "-----BEGIN CERTIFICATE-----\nMIIB\n";
	const char *unk = "-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n";
	unsigned char junk[64];

	(void)state;
	assert_int_equal(tlsa_load_buf((const unsigned char *)"", 0, 0, &in, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "empty file");
	assert_int_equal(tlsa_load_buf((const unsigned char *)trunc,
	    strlen(trunc), 0, &in, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "PEM"));
	assert_int_equal(tlsa_load_buf((const unsigned char *)unk,
	    strlen(unk), 0, &in, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unsupported type"));
	memset(junk, 0x30, sizeof(junk));
	assert_int_equal(tlsa_load_buf(junk, sizeof(junk), 0, &in, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "neither PEM nor DER"));
}

/* IDN host names: A-labels as libidn2 (and idn2(1)) make them. */
static void
test_host_ascii(void **state)
{
	char *a;

	(void)state;
	a = tlsa_host_ascii("b\303\274cher.example.test", err, sizeof(err));
	assert_non_null(a);
	assert_string_equal(a, "xn--bcher-kva.example.test");
	free(a);
	/* UTS #46 maps upper case; the result is the same A-label. */
	a = tlsa_host_ascii("B\303\234CHER.example.test", err, sizeof(err));
	assert_non_null(a);
	assert_string_equal(a, "xn--bcher-kva.example.test");
	free(a);
	/* ASCII is left alone (case too: DNS names are case-blind). */
	a = tlsa_host_ascii("MX1.example.test", err, sizeof(err));
	assert_non_null(a);
	assert_string_equal(a, "MX1.example.test");
	free(a);
	/* Not UTF-8. */
	assert_null(tlsa_host_ascii("mx\377.example.test", err, sizeof(err)));
	assert_non_null(strstr(err, "not a valid internationalised host "
	    "name"));
	assert_non_null(strstr(err, "\\377"));
	/* A snowman is not allowed in IDNA2008. */
	assert_null(tlsa_host_ascii("\342\230\203.example.test", err,
	    sizeof(err)));
	assert_non_null(strstr(err, "disallowed character"));
}

static void
test_render_formats(void **state)
{
	struct zone_rrlist l = { 0 };
	struct zone_out_opts o;
	struct sbuf out = { 0 };
	struct tlsa_rec r;

	(void)state;
	r.spec = (struct tlsa_spec){ 3, 1, 1 };
	r.len = 2;
	r.data = malloc(2);
	r.data[0] = 0xab;
	r.data[1] = 0x01;
	assert_int_equal(zone_rrlist_add(&l, "_25._tcp.mx.example.", 300, 1,
	    1, &r, "f.pem"), 1);
	memset(&o, 0, sizeof(o));
	o.format = ZONE_FMT_ZONE;
	assert_int_equal(zone_out_render(&l, &o, &out, err, sizeof(err)), 0);
	assert_string_equal(out.s,
	    "_25._tcp.mx.example. 300 IN TLSA 3 1 1 ab01\n");
	sbuf_free(&out);
	o.format = ZONE_FMT_GENERIC;
	assert_int_equal(zone_out_render(&l, &o, &out, err, sizeof(err)), 0);
	assert_string_equal(out.s,
	    "_25._tcp.mx.example. 300 IN TYPE52 \\# 5 030101ab01\n");
	sbuf_free(&out);
	o.format = ZONE_FMT_NSUPDATE;
	o.zone = "example.";
	o.server = "127.0.0.1";
	o.server_port = 5353;
	o.replace = 1;
	assert_int_equal(zone_out_render(&l, &o, &out, err, sizeof(err)), 0);
	assert_string_equal(out.s, "server 127.0.0.1 5353\nzone example.\n"
	    "update delete _25._tcp.mx.example. IN TLSA\n"
	    "update add _25._tcp.mx.example. 300 IN TLSA 3 1 1 ab01\nsend\n");
	sbuf_free(&out);
	zone_rrlist_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_numbers),
		cmocka_unit_test(test_spec_mnemonics),
		cmocka_unit_test(test_spec_bad),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_owner),
		cmocka_unit_test(test_smtp_lines),
		cmocka_unit_test(test_parse_records),
		cmocka_unit_test(test_rrlist_dedup),
		cmocka_unit_test(test_load_and_compute),
		cmocka_unit_test(test_load_bad),
		cmocka_unit_test(test_render_formats),
		cmocka_unit_test(test_host_ascii),
	};
	int rc;

	rc = cmocka_run_group_tests_name("tlsa", tests, NULL, NULL);
	tlsa_rec_cleanup();
	tlsa_dane_cleanup();
	tlsa_load_cleanup();
	return rc;
}
