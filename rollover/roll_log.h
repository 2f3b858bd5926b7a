/*
 * roll_log.h: where tlsa-rollover's lines go.  Standard output is what
 * cron mails, so it gets what changed and what is wrong, not the
 * progress of a wait; syslog (the mail facility) gets every line with
 * its priority; under systemd, where standard output is the journal
 * (JOURNAL_STREAM), every line goes there once, with its priority.
 */
#ifndef ROLL_LOG_H
#define ROLL_LOG_H

#include <stddef.h>

/*
 * Decide once where lines go: verbose (-v) or a terminal shows the
 * progress of waits too.  Opens syslog unless standard output is the
 * journal.
 */
void roll_log_init(int verbose);

/*
 * The lines a step said (see ROLL_INFO in roll_run.h), each printed as
 * "SERVICE: line" (a line that names the service already is left as it
 * is) and logged.  Control bytes in a line are escaped.
 */
void roll_log_lines(const char *service, const char *text, size_t len);

/* An alert: standard error and syslog (LOG_ERR), or the journal. */
void roll_log_alert(const char *service, const char *msg);

void roll_log_close(void);

#endif
