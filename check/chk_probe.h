/*
 * chk_probe.h: the live MX check (tlsa-rollover check), also used by
 * the rollover's VERIFY step.
 *
 * Domain -> MX (or given host names) -> A and AAAA -> every address x
 * port: SMTP STARTTLS (or direct TLS), SNI = the TLSA base domain, one
 * handshake per certificate type the server holds, each chain verified
 * with OpenSSL's DANE code against the TLSA RRset fetched through a
 * validating resolver (RFC 7672 section 2.2).  Plus the hygiene points
 * operators are told to keep: legacy protocols, weak ciphers, forward
 * secrecy, expiry, chain completeness.  Probes run concurrently in a
 * bounded pool of threads, each bounded in time, all bounded by one
 * overall deadline.  Network only: no private key is ever read here.
 */
#ifndef CHK_PROBE_H
#define CHK_PROBE_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "tlsa_net.h"
#include "zone_check.h"
#include "zone_update.h"

/* Nagios plugin states; their numbers are the exit codes. */
enum chk_status { CHK_OK = 0, CHK_WARNING = 1, CHK_CRITICAL = 2,
	CHK_UNKNOWN = 3 };

const char *chk_status_name(int st);

/* The worse of two states (CRITICAL > UNKNOWN > WARNING > OK). */
int chk_worse(int a, int b);

struct chk_finding {
	int	 status;
	char	*text;
};

struct chk_findings {
	struct chk_finding	*v;
	size_t			 n;
	int			 status;	/* worst of v[] */
};

enum chk_probe {
	CHK_P_ECDSA, CHK_P_RSA, CHK_P_DEFAULT,	/* the certificates */
	CHK_P_LEGACY, CHK_P_TLS10, CHK_P_WEAK, CHK_P_KRSA,	/* hygiene */
	CHK_NPROBES
};

struct chk_probe_res {
	int			 queued, done, ok;
	struct tlsa_session	 s;
	char			 error[256];
};

/* One certificate chain served at one address. */
struct chk_chain {
	const char		*kind;		/* "ECDSA", "RSA", "default" */
	struct tlsa_session	*s;		/* the handshake that got it */
	int			 dane;		/* 1 match, 0 none, -1 n/a */
	int			 match;		/* record index in host tlsa */
	int			 depth;
	char			 name[256];	/* DANE-TA: the reference */
						/* identifier matched, or "" */
	char			 reason[256];	/* why DANE failed */
	time_t			 not_after;
	long			 days_left;
	int			 status;
	char			 summary[512];
};

struct chk_host;

struct chk_addr {
	char			 addr[64];	/* numeric */
	struct chk_host		*host;
	struct chk_probe_res	 p[CHK_NPROBES];
	struct chk_chain	 chains[3];
	int			 nchains;
	struct chk_findings	 f;
	int			 status;
	int			 probe_failed;	/* a certificate probe failed, */
					/* not by refusal, while another worked */
};

struct chk_host {
	char			 name[256];	/* MX host name, no final dot */
	unsigned		 port;
	const struct zone_server *resolver;	/* NULL: the system's */
	unsigned		 pref;		/* MX preference */
	int			 null_mx;
	char			 target[256];	/* CNAME-expanded, or "" */
	int			 target_secure;	/* the whole chain is signed */
	int			 addr_sec;	/* enum zone_sec, -1: unknown */
	char			 base[256];	/* TLSA base domain (SNI) */
	char			 owner[300];	/* where the TLSA RRset is */
	int			 tlsa_sec;	/* enum zone_sec, -1: given */
	struct zone_rrset	 tlsa;		/* as published */
	struct zone_rrset	 usable;	/* the usable ones (2/3, 0/1, */
						/* 0/1/2) */
	const struct zone_rrset	*given;		/* VERIFY: records to use */
	char * const		*fixed;		/* VERIFY: addresses from the */
	size_t			 nfixed;	/* config, not DNS (borrowed) */
	char			 no_dane[300];	/* why senders cannot use DANE */
	int			 no_dane_status; /* here, or "" */
	struct chk_addr		*addrs;
	size_t			 naddrs;
	struct chk_findings	 f;
	int			 status;
};

struct chk_domain {
	char			 name[256];
	int			 mx_sec;	/* -1: hosts named directly */
	int			 implicit;	/* no MX: the domain itself */
	struct chk_host		*hosts;
	size_t			 nhosts;
	struct chk_findings	 f;
	int			 status;
};

struct chk_opts {
	struct zone_server	 resolver;
	int			 have_resolver;	/* else getaddrinfo, no DANE */
	unsigned		 port;
	int			 starttls;	/* enum tlsa_starttls; -1: by */
						/* port (25, 587 SMTP; else TLS) */
	int			 timeout_ms;	/* per connection */
	int			 deadline_ms;	/* whole run */
	int			 jobs;		/* concurrent connections */
	int			 warn_days;
	int			 hygiene;	/* 0 off, 1 report, 2 warn */
	/*
	 * With hygiene 2, the state each finding raises (enum chk_status):
	 * TLS below 1.2 accepted, a weak cipher accepted, RSA key exchange
	 * accepted, a handshake that negotiated no forward secrecy.
	 */
	int			 lvl_legacy, lvl_weak, lvl_krsa, lvl_nopfs;
	int			 hosts_only;	/* names are MX hosts */
	int			 family;	/* 4 or 6: only that; 0: both */
	char			 helo[256];
};

struct chk_run {
	struct chk_opts		 o;
	struct chk_domain	*d;
	size_t			 nd;
	struct chk_findings	 f;		/* run-wide notes */
	int			 status;
	double			 elapsed;	/* seconds */
	char			 weak_tested[64]; /* cipher classes tried */
	long long		 deadline;	/* tlsa_now_ms() to stop by */
	char			 dead[16][80];	/* resolvers that never answered */
	int			 ndead;
};

/*
 * Defaults: port 25, STARTTLS by port, 15 s per connection, 120 s in
 * all, 512 connections at once, warn 14 days before expiry; hygiene as
 * for a sending MTA's opportunistic TLS, where a stock Postfix or Exim
 * is OK: weak ciphers accepted, or a handshake without forward secrecy,
 * are warnings; TLS 1.0 and 1.1 and RSA key exchange merely accepted
 * (clients that can do better never use them) are notes.
 */
void chk_opts_default(struct chk_opts *o);

/*
 * Parse "KIND=LEVEL[,KIND=LEVEL...]" (KIND legacy, weak, krsa or nopfs;
 * LEVEL ok, warning or critical) into o.  0, or -1 with a reason.
 */
int chk_hygiene_levels(struct chk_opts *o, const char *spec, char *err,
    size_t errlen);

/*
 * Add a domain (MX lookup; as_host: a host name, no MX lookup) or a
 * host with the TLSA records to verify against (given: no TLSA lookup;
 * used by the rollover's VERIFY step) to the run.
 */
int chk_add_domain(struct chk_run *r, const char *name, int as_host);
int chk_add_host(struct chk_run *r, const char *name,
    const struct zone_rrset *given);

/*
 * The same, connecting to the naddrs numeric addresses (borrowed: they
 * must outlive the run) instead of looking the host's A and AAAA up:
 * for split horizons where senders reach another address than the one
 * this host would resolve (tlsa-rollover.yaml addresses:).
 */
int chk_add_host_at(struct chk_run *r, const char *name,
    const struct zone_rrset *given, char * const *addrs, size_t naddrs);

/*
 * Add the hosts of a configured service as one entry named label, on
 * port, looked up through resolver (NULL: the run's).
 */
int chk_add_service(struct chk_run *r, const char *label, char **hosts,
    size_t nhosts, unsigned port, const struct zone_server *resolver);

/*
 * Resolve, probe every address concurrently and judge.  Returns the
 * run's status (enum chk_status).
 */
int chk_execute(struct chk_run *r);

void chk_run_free(struct chk_run *r);

#endif
