/*
 * roll_validate.h: the checks of a loaded configuration that need the
 * file system or the network, so that the mistakes an operator makes in
 * the first hour surface before anything is published, not at SWITCH
 * after a hold of hours.
 *
 * roll_config_load() checks what the file says (syntax, types, ranges);
 * this checks that what it names is there and usable: the reload
 * command, the TSIG key, the issuer and trust anchor files, the state
 * and deploy directories, the hosts against the zone and against each
 * other.  Online, it also asks the primary (a signed SOA read), every
 * check server and the resolver (which must set AD for the zone).
 */
#ifndef ROLL_VALIDATE_H
#define ROLL_VALIDATE_H

#include <stddef.h>

#include "roll_config.h"
#include "sbuf.h"

/*
 * Check every service of c on this machine (no network).  Returns 0, or
 * -1 with a one-line "PATH: service NAME: what is wrong" in err (the
 * first problem found).
 */
int roll_validate(const struct roll_config *c, char *err, size_t errlen);

/*
 * The same, then the DNS servers each service uses: a signed SOA read of
 * the zone from the primary, an authoritative SOA answer from each
 * check server, and a validated (AD) SOA answer from the resolver.  One
 * line per server goes to report.  Returns 0, or -1 with a one-line
 * reason naming the service and the server in err.
 */
int roll_validate_online(const struct roll_config *c, struct sbuf *report,
    char *err, size_t errlen);

/*
 * The hold a rollover of s waits at least, in seconds: the larger of
 * min_hold and 2 x ttl + hold_margin (a TTL the servers serve above ttl
 * makes it longer).
 */
unsigned long roll_validate_hold(const struct roll_service *s);

#endif
