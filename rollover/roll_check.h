/*
 * roll_check.h: the live MX check (tlsa-rollover check).
 *
 * Domain -> MX (or given host names) -> A and AAAA -> every address x
 * port: SMTP STARTTLS (or direct TLS), SNI = the MX host name, one
 * handshake per certificate type the server holds, each chain verified
 * with OpenSSL's DANE code against the TLSA RRset fetched through a
 * validating resolver.  Plus the hygiene points operators are told to
 * keep.  Probes run concurrently, bounded in number and in time.
 */
#ifndef ROLL_CHECK_H
#define ROLL_CHECK_H

/*
 * The check command: argv[0] is "check".  config is the configuration
 * file (used when config_given, or when no domain is named and it
 * exists).  Returns the Nagios exit code: 0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN.
 */
int roll_check_cmd(const char *config, int config_given, int json, int verbose,
    int argc, char **argv);

#endif
