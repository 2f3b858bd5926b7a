/*
 * fuzz_smtp.c: the SMTP side of STARTTLS (tlsa_smtp_starttls_fd)
 * against a peer that sends any bytes: the input is written into one end
 * of a socketpair, which is then shut down for writing, and the greeting
 * / EHLO / STARTTLS dialogue runs on the other end.  Also each line of the
 * input through the reply-line parser (tlsa_smtp_parse_line).  No network.
 *
 * Properties: every failure is one line naming the peer; success means
 * the input held a 220 greeting, a 250 EHLO reply offering STARTTLS and
 * a 220 to STARTTLS, with nothing after it.
 */
#include <sys/socket.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tlsa_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PEER "192.0.2.25 port 25"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[ERRBUF_LEN];
	const uint8_t *p, *nl, *end = data + size;
	size_t off = 0;
	ssize_t n;
	int sv[2], more, code, rc;

	/* Stay within what a socket buffer holds: the dialogue reads it. */
	if (size > 64 * 1024)
		return 0;
	for (p = data; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		code = tlsa_smtp_parse_line((const char *)p, (size_t)(nl - p),
		    &more);
		if (code != -1 && (code < 200 || code > 599 ||
		    (more != 0 && more != 1)))
			abort();
		if (nl == end)
			break;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		perror("fuzz_smtp: socketpair");
		abort();
	}
	/* 256 KiB of buffer for the input, whatever the system default. */
	n = 256 * 1024;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &n, sizeof(int));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &n, sizeof(int));
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	while (off < size) {
		if ((n = write(sv[0], data + off, size - off)) <= 0) {
			perror("fuzz_smtp: write");
			abort();
		}
		off += (size_t)n;
	}
	shutdown(sv[0], SHUT_WR);
	err[0] = '\0';
	rc = tlsa_smtp_starttls_fd(sv[1], PEER, "fuzz.example.test", 2000, err,
	    sizeof(err));
	if (rc == -1 && (strncmp(err, PEER ": ", strlen(PEER) + 2) != 0 ||
	    strchr(err, '\n') != NULL || strchr(err, '\r') != NULL)) {
		fprintf(stderr, "fuzz_smtp: bad error \"%s\"\n", err);
		abort();
	}
	if (rc == 0 && (size < 12 || memcmp(data, "220", 3) != 0)) {
		fprintf(stderr, "fuzz_smtp: success without a 220 greeting\n");
		abort();
	}
	close(sv[0]);
	close(sv[1]);
	return 0;
}
