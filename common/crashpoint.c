/*
 * crashpoint.c: see crashpoint.h.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crashpoint.h"

static void (*hook)(const char *);

void
crashpoint_set_hook(void (*fn)(const char *name))
{
	hook = fn;
}

#ifdef TLSA_TEST_HOOKS
void
crashpoint(const char *name)
{
	const char *at = getenv("TLSA_ROLLOVER_CRASH_AT");
	const char *trace = getenv("TLSA_ROLLOVER_CRASH_TRACE");
	char line[128];
	int fd, n;

	if (hook != NULL)
		hook(name);
	if (trace != NULL && *trace != '\0' &&
	    (fd = open(trace, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) != -1) {
		n = snprintf(line, sizeof(line), "%s\n", name);
		if (n > 0 && (size_t)n < sizeof(line) &&
		    write(fd, line, (size_t)n) != n)
			n = 0;	/* a trace is best effort */
		close(fd);
	}
	if (at != NULL && strcmp(at, name) == 0) {
		fflush(NULL);
		(void)raise(SIGKILL);
	}
}
#else
/* Release build: no switch, nothing read from the environment. */
void
crashpoint(const char *name)
{
	if (hook != NULL)
		hook(name);
}
#endif
