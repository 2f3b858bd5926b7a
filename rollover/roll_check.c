/*
 * roll_check.c: the live MX check.
 */
#include <stdio.h>

#include "log.h"
#include "roll_check.h"

int
roll_check_cmd(const char *config, int config_given, int json, int verbose,
    int argc, char **argv)
{
	(void)config; (void)config_given; (void)json; (void)verbose;
	(void)argc; (void)argv;
	log_error("check: not implemented yet");
	return 3;
}
