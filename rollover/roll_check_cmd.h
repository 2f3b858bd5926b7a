/*
 * roll_check_cmd.h: the command line of the live MX check
 * (tlsa-rollover check).
 */
#ifndef ROLL_CHECK_CMD_H
#define ROLL_CHECK_CMD_H

/*
 * The check command: argv[0] is "check".  config is the configuration
 * file (used when config_given, or when no name is given and it
 * exists).  Returns the Nagios exit code: 0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN.
 */
int roll_check_cmd(const char *config, int config_given, int json, int verbose,
    int argc, char **argv);

#endif
