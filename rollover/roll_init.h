/*
 * roll_init.h: tlsa-rollover init: write a commented configuration for
 * one service from a few flags (or answers to questions), checked as
 * every command checks it before it is put in place.
 */
#ifndef ROLL_INIT_H
#define ROLL_INIT_H

/*
 * The init command: argv[0] is "init".  path is the configuration file
 * to write (never replaced unless --force).  Returns the exit status:
 * 0 written, 1 the configuration would not be valid (nothing written),
 * 2 usage (also: no usable answer, or end of input, while asking).
 */
int roll_init_cmd(const char *path, int argc, char **argv);

#endif
