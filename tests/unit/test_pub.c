/*
 * test_pub.c: the exec publisher's protocol text (roll_pub.h): sets
 * written and read back, answers parsed strictly, and the hostile
 * answers refused with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "roll_pub.h"

static char err[ERRBUF_LEN];

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

static void
test_format(void **state)
{
	static const unsigned char a[] = { 0xab, 0xcd }, b[] = { 0x01 };
	struct zone_rrset s = { 0 };
	char *t;

	(void)state;
	t = roll_pub_set_format(&s);
	assert_string_equal(t, "-");
	free(t);
	push(&s, 3, 1, 1, a, sizeof(a));
	push(&s, 2, 0, 255, b, sizeof(b));
	t = roll_pub_set_format(&s);
	assert_string_equal(t, "3:1:1:abcd,2:0:255:01");
	free(t);
	zone_rrset_free(&s);
}

static void
test_parse_roundtrip(void **state)
{
	static const unsigned char a[] = { 0xab, 0xcd }, b[] = { 0x01 };
	struct zone_rrset s = { 0 }, want = { 0 };
	const char *in = "3:1:1:ABcd,2:0:255:01,3:1:1:abcd";

	(void)state;
	push(&want, 3, 1, 1, a, sizeof(a));
	push(&want, 2, 0, 255, b, sizeof(b));
	assert_int_equal(roll_pub_set_parse(in, strlen(in), &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.n, 2);		/* the duplicate dropped */
	assert_true(zone_rrset_equal(&s, &want));
	zone_rrset_free(&s);
	assert_int_equal(roll_pub_set_parse("-", 1, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 0);
	zone_rrset_free(&want);
}

static void
test_parse_bad_sets(void **state)
{
	static const struct {
		const char *in, *why;
	} bad[] = {
		{ "", "empty set" },
		{ "3:1:1", "want U:S:M:HEX" },
		{ "3:1:1:", "no data" },
		{ "3:1:1:abc", "odd number" },
		{ "3:1:1:zz", "not a hex digit" },
		{ "256:1:1:ab", "want U:S:M:HEX" },
		{ "3 1 1 ab", "want U:S:M:HEX" },
		{ "3:1:1:ab,", "a ',' at the end" },
		{ "3:1:1:ab,,3:1:1:cd", "want U:S:M:HEX" },
		{ "-,3:1:1:ab", "want U:S:M:HEX" },
		{ "0003:1:1:ab", "want U:S:M:HEX" },
	};
	struct zone_rrset s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(roll_pub_set_parse(bad[i].in,
		    strlen(bad[i].in), &s, err, sizeof(err)), -1);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", bad[i].in,
			    err, bad[i].why);
		assert_int_equal(s.n, 0);
	}
}

static void
test_parse_too_many(void **state)
{
	char *big;
	struct zone_rrset s;
	size_t i, off = 0;

	(void)state;
	big = malloc(300 * 16);
	assert_non_null(big);
	for (i = 0; i < 300; i++)
		off += (size_t)sprintf(big + off, "%s3:1:1:%04zx", i ? "," : "",
		    i);
	assert_int_equal(roll_pub_set_parse(big, off, &s, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "more than 256 records"));
	free(big);
}

static void
test_answers(void **state)
{
	struct zone_rrset s;
	char text[64];

	(void)state;
	assert_int_equal(roll_pub_answer_parse("ok", 0, &s, text,
	    sizeof(text), err, sizeof(err)), ROLL_PUB_OK);
	assert_int_equal(roll_pub_answer_parse("ok 3:1:1:ab", 1, &s, text,
	    sizeof(text), err, sizeof(err)), ROLL_PUB_OK);
	assert_int_equal(s.n, 1);
	zone_rrset_free(&s);
	assert_int_equal(roll_pub_answer_parse("ok -", 1, &s, text,
	    sizeof(text), err, sizeof(err)), ROLL_PUB_OK);
	assert_int_equal(s.n, 0);
	assert_int_equal(roll_pub_answer_parse("conflict 3:1:1:ab,2:1:1:cd",
	    0, &s, text, sizeof(text), err, sizeof(err)), ROLL_PUB_CONFLICT);
	assert_int_equal(s.n, 2);
	zone_rrset_free(&s);
	assert_int_equal(roll_pub_answer_parse("error no \x1b[31mway", 0, &s,
	    text, sizeof(text), err, sizeof(err)), ROLL_PUB_ERROR);
	assert_string_equal(text, "no \\033[31mway");	/* sanitised */
	assert_int_equal(roll_pub_answer_parse("error", 1, &s, text,
	    sizeof(text), err, sizeof(err)), ROLL_PUB_ERROR);

	/* The wrong answer for the request, or none at all. */
	assert_int_equal(roll_pub_answer_parse("ok", 1, &s, text,
	    sizeof(text), err, sizeof(err)), -1);
	assert_int_equal(roll_pub_answer_parse("ok -", 0, &s, text,
	    sizeof(text), err, sizeof(err)), -1);
	assert_int_equal(roll_pub_answer_parse("conflict 3:1:1:ab", 1, &s,
	    text, sizeof(text), err, sizeof(err)), -1);
	assert_int_equal(roll_pub_answer_parse("OK", 0, &s, text,
	    sizeof(text), err, sizeof(err)), -1);
	assert_int_equal(roll_pub_answer_parse("ok  3:1:1:ab", 1, &s, text,
	    sizeof(text), err, sizeof(err)), -1);
	assert_int_equal(roll_pub_answer_parse("conflict", 0, &s, text,
	    sizeof(text), err, sizeof(err)), -1);
	assert_int_equal(roll_pub_answer_parse("errors", 0, &s, text,
	    sizeof(text), err, sizeof(err)), -1);
	assert_int_equal(roll_pub_answer_parse("", 0, &s, text,
	    sizeof(text), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not an answer to replace"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_parse_roundtrip),
		cmocka_unit_test(test_parse_bad_sets),
		cmocka_unit_test(test_parse_too_many),
		cmocka_unit_test(test_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
