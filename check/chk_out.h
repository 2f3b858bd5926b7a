/*
 * chk_out.h: the live MX check's reports: a Nagios status line with
 * performance data, then details; or JSON.
 */
#ifndef CHK_OUT_H
#define CHK_OUT_H

#include <stdio.h>

#include "chk_probe.h"

/* Output: Nagios status line with perfdata first, then details. */
void chk_print_text(const struct chk_run *r, FILE *f, int verbose);

/* The same as one JSON object; 0, or -1 when it cannot be made. */
int chk_print_json(const struct chk_run *r, FILE *f);

#endif
