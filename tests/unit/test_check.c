/*
 * Unit tests for the live check's engine (chk_probe.c) and its reports
 * (chk_out.c) that need no daemon: the order of Nagios states, a
 * listener that never greets (the per-connection timeout and the
 * overall deadline), a port nobody listens on, and the JSON and text
 * reports of such runs, parsed back.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "chk_out.h"
#include "chk_probe.h"
#include "tlsa_net.h"

static void
test_worse(void **state)
{
	/* CRITICAL > UNKNOWN > WARNING > OK, whatever the order asked. */
	static const int order[4] = { CHK_OK, CHK_WARNING, CHK_UNKNOWN,
	    CHK_CRITICAL };
	int i, j;

	(void)state;
	for (i = 0; i < 4; i++)
		for (j = 0; j < 4; j++) {
			int want = order[i > j ? i : j];

			assert_int_equal(chk_worse(order[i], order[j]), want);
		}
	assert_string_equal(chk_status_name(CHK_OK), "OK");
	assert_string_equal(chk_status_name(CHK_WARNING), "WARNING");
	assert_string_equal(chk_status_name(CHK_CRITICAL), "CRITICAL");
	assert_string_equal(chk_status_name(CHK_UNKNOWN), "UNKNOWN");
}

/* A listening socket on 127.0.0.1 that never accepts: connects succeed
 * (the kernel completes them) and nothing is ever said. */
static int
silent_listener(unsigned *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 64), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_t *
run_json(struct chk_run *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_error_t je;
	json_t *j;

	assert_non_null(f);
	assert_int_equal(chk_print_json(r, f), 0);
	fclose(f);
	j = json_loads(buf, 0, &je);
	free(buf);
	assert_non_null(j);
	return j;
}

static char *
run_text(struct chk_run *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	chk_print_text(r, f, 0);
	fclose(f);
	return buf;
}

static void
test_silent_server_times_out(void **state)
{
	struct zone_rrset given = { 0 };
	struct chk_run r;
	json_t *j, *a;
	unsigned port;
	double t0;
	char *text;
	int fd;

	(void)state;
	fd = silent_listener(&port);
	memset(&r, 0, sizeof(r));
	chk_opts_default(&r.o);
	r.o.family = 4;		/* the listener is on 127.0.0.1 */
	r.o.port = port;
	r.o.starttls = TLSA_STARTTLS_SMTP;	/* not 25: say it */
	r.o.timeout_ms = 300;
	r.o.hygiene = 0;
	assert_int_equal(chk_add_host(&r, "localhost", &given), 0);
	t0 = now();
	assert_int_equal(chk_execute(&r), CHK_CRITICAL);
	/* Bounded by the 0.3 s timeout, not the default 15 s. */
	assert_true(now() - t0 < 10.0);

	j = run_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "status")),
	    "CRITICAL");
	assert_int_equal(json_integer_value(json_object_get(j, "exit")), 2);
	a = json_array_get(json_object_get(json_array_get(json_object_get(
	    json_array_get(json_object_get(j, "domains"), 0), "mx"), 0),
	    "addresses"), 0);
	assert_non_null(a);
	assert_string_equal(json_string_value(json_object_get(a, "status")),
	    "CRITICAL");
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_array_get(json_object_get(a, "findings"), 0), "text")),
	    "timed out waiting for the greeting"));
	json_decref(j);

	text = run_text(&r);
	/* The Nagios status line first, with performance data. */
	assert_true(strncmp(text, "DANE CRITICAL - ", 16) == 0);
	assert_non_null(strstr(text, " | hosts=1 "));
	assert_non_null(strstr(text, "timed out waiting for the greeting"));
	assert_non_null(strstr(text, "\ndetails:\n"));
	free(text);
	chk_run_free(&r);
	close(fd);
}

static void
test_deadline_bounds_the_run(void **state)
{
	struct zone_rrset given = { 0 };
	struct chk_run r;
	unsigned port;
	double t0;
	int fd, i;

	(void)state;
	fd = silent_listener(&port);
	memset(&r, 0, sizeof(r));
	chk_opts_default(&r.o);
	r.o.family = 4;		/* the listener is on 127.0.0.1 */
	r.o.port = port;
	r.o.timeout_ms = 60000;	/* longer than the deadline */
	r.o.deadline_ms = 500;
	r.o.jobs = 2;		/* fewer workers than probes */
	for (i = 0; i < 4; i++)
		assert_int_equal(chk_add_host(&r, "localhost", &given), 0);
	t0 = now();
	assert_int_equal(chk_execute(&r), CHK_CRITICAL);
	/* Every probe ends by the deadline: far less than one timeout. */
	assert_true(now() - t0 < 30.0);
	for (i = 0; i < 4; i++)
		assert_int_equal(r.d[i].hosts[0].addrs[0].status,
		    CHK_CRITICAL);
	chk_run_free(&r);
	close(fd);
}

static void
test_refused_port(void **state)
{
	struct zone_rrset given = { 0 };
	struct chk_run r;
	unsigned port;
	char *text;
	int fd;

	(void)state;
	fd = silent_listener(&port);
	close(fd);		/* nobody listens there now */
	memset(&r, 0, sizeof(r));
	chk_opts_default(&r.o);
	r.o.family = 4;		/* the listener is on 127.0.0.1 */
	r.o.port = port;
	r.o.timeout_ms = 2000;
	assert_int_equal(chk_add_host(&r, "localhost", &given), 0);
	assert_int_equal(chk_execute(&r), CHK_CRITICAL);
	text = run_text(&r);
	assert_non_null(strstr(text, "connect: Connection refused"));
	free(text);
	chk_run_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worse),
		cmocka_unit_test(test_silent_server_times_out),
		cmocka_unit_test(test_deadline_bounds_the_run),
		cmocka_unit_test(test_refused_port),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	tlsa_net_cleanup();
	return rc;
}
