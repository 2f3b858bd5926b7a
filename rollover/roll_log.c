/*
 * roll_log.c: standard output, syslog and the journal for what
 * tlsa-rollover does (see roll_log.h).
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "roll_log.h"

static int show_waits;		/* -v or a terminal */
static int to_journal;		/* standard output is the journal */
static int syslog_open;

/*
 * Is fd the stream systemd named in JOURNAL_STREAM ("DEV:INODE")?  See
 * systemd.exec(5): a service whose output goes to the journal has it.
 */
static int
is_journal(int fd)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat sb;
	char tail;

	if (js == NULL || sscanf(js, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return 0;
	if (fstat(fd, &sb) == -1)
		return 0;
	return (unsigned long long)sb.st_dev == dev &&
	    (unsigned long long)sb.st_ino == ino;
}

void
roll_log_init(int verbose)
{
	to_journal = is_journal(STDOUT_FILENO);
	show_waits = verbose || to_journal || isatty(STDOUT_FILENO);
	if (!to_journal && !syslog_open) {
		openlog("tlsa-rollover", LOG_PID, LOG_MAIL);
		syslog_open = 1;
	}
}

void
roll_log_close(void)
{
	if (syslog_open)
		closelog();
	syslog_open = 0;
}

/* "<N>" at the start of a line (sd-daemon(3)): N, and skip it. */
static int
priority_of(const char **line, const char *end)
{
	const char *p = *line;

	if (end - p >= 3 && p[0] == '<' && p[1] >= '0' && p[1] <= '7' &&
	    p[2] == '>') {
		*line = p + 3;
		return p[1] - '0';
	}
	return LOG_NOTICE;
}

void
roll_log_lines(const char *service, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl, *s;
	char vis[4 * 2000 + 1];
	size_t slen = strlen(service), n;
	int prio, named;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		s = p;
		prio = priority_of(&s, nl);
		while (s < nl && (*s == ' ' || *s == '\t'))
			s++;
		n = (size_t)(nl - s);
		if (n > 2000)
			n = 2000;
		log_vis(vis, sizeof(vis), s, n);
		named = strncmp(vis, service, slen) == 0 && vis[slen] == ':';
		p = nl < end ? nl + 1 : end;
		if (vis[0] == '\0')
			continue;
		if (to_journal)
			printf("<%d>%s%s%s\n", prio, named ? "" : service,
			    named ? "" : ": ", vis);
		else {
			if (prio < LOG_INFO || show_waits)
				printf("%s%s%s\n", named ? "" : service,
				    named ? "" : ": ", vis);
			syslog(prio, "%s%s%s", named ? "" : service,
			    named ? "" : ": ", vis);
		}
	}
	fflush(stdout);
}

void
roll_log_alert(const char *service, const char *msg)
{
	if (to_journal) {
		fflush(stdout);
		fprintf(stderr, "<%d>%s: %s: %s\n", LOG_ERR, log_progname(),
		    service, msg);
		return;
	}
	log_error("%s: %s", service, msg);
	syslog(LOG_ERR, "%s: %s", service, msg);
}
