/*
 * roll_config.h: tlsa-rollover.yaml, parsed strictly with libyaml.
 *
 * Duplicate keys, unknown keys, anchors and aliases, tags, several
 * documents, wrong types and YAML 1.1 booleans (yes/no/on/off) are all
 * errors reported as FILE:LINE:COLUMN: reason.  Secrets are only ever
 * named by file (tsig_key_file, api_key_file), never written in the
 * config.
 */
#ifndef ROLL_CONFIG_H
#define ROLL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "tlsa_rec.h"

/* Longest state_dir or deploy_dir: paths built from them fit PATH_MAX. */
#define ROLL_MAX_PATH 1024

struct roll_dns {
	char		*zone;		/* absolute, or NULL: from the SOA */
	char		*backend;	/* "rfc2136" (default), "exec", "pdns-api" */
	char		*primary;	/* ADDR[@PORT] for RFC 2136 */
	char		*tsig_key_file;
	char		**exec;		/* exec: argv, NULL-terminated */
	size_t		 nexec;
	uint32_t	 exec_timeout;	/* seconds per answer (default 30) */
	char		*api_url;	/* pdns-api: http(s)://HOST[:PORT] */
	char		*api_key_file;	/* pdns-api: X-API-Key, 0600 */
	char		*api_server_id;	/* pdns-api: default "localhost" */
	char		**check_servers; /* ADDR[@PORT]; none: the NS set */
	size_t		 ncheck_servers;
	char		*resolver;	/* validating resolver, ADDR[@PORT] */
	char		*trust_anchor_file;
	uint32_t	 ttl;		/* of the records we write */
	uint32_t	 min_hold;	/* seconds */
	uint32_t	 hold_margin;	/* seconds */
	uint32_t	 visible_timeout; /* seconds in VISIBLE before an alert */
	uint32_t	 max_ttl;	/* largest TTL from DNS the hold uses */
	unsigned	 set;		/* which fields were given (bits) */
};

/* Where VERIFY and RETIRE connect to one host, instead of its A/AAAA. */
struct roll_hostaddrs {
	char		*host;		/* one of the service's hosts */
	char		**addrs;	/* numeric, canonical (inet_ntop) */
	size_t		 naddrs;
};

/*
 * One node of a fleet (nodes:): a machine that serves some of the
 * service's addresses with its own copy of the certificate.  A node
 * with deploy_dir gets the files there (as a service's deploy_dir); a
 * node with push gets them in a local staging directory (deploy_dir is
 * then STATE_DIR/SERVICE/push/NAME) and push, run with that directory
 * as its last argument, copies them over.
 */
#define ROLL_MAX_NODES 16
struct roll_node {
	char		*name;		/* [a-z0-9._-], unique in the service */
	char		*deploy_dir;	/* local, or the push staging dir */
	char		**push;		/* argv + staging dir, NULL-ended */
	size_t		 npush;		/* with the staging dir; 0: local */
	uint32_t	 push_timeout;	/* seconds (default 300) */
	char		**reload;	/* argv, NULL-terminated; NULL: none */
	size_t		 nreload;
	char		**addrs;	/* numeric, canonical */
	size_t		 naddrs;
	int		 line, column;
};

struct roll_service {
	char		*name;
	char		**hosts;	/* MX host names, lower case */
	size_t		 nhosts;
	struct roll_hostaddrs *haddrs;	/* addresses: overrides */
	size_t		 nhaddrs;
	unsigned	 port;
	struct tlsa_spec specs[16];
	int		 nspecs;
	char		**issuers;	/* issuer certificate files */
	size_t		 nissuers;
	char		*deploy_dir;
	char		**reload;	/* argv, NULL-terminated; NULL: none */
	size_t		 nreload;
	uint32_t	 reload_timeout; /* seconds (default 60) */
	char		*key_type;	/* for stage: ec256 (default) ... */
	char		 slots[3][8];	/* certificates: ecdsa, rsa, eddsa */
	int		 nslots;	/* 0: one slot for any key type */
	struct roll_dns	 dns;		/* merged: service over global */
	struct roll_node *nodes;	/* nodes: (none: deploy_dir, reload) */
	size_t		 nnodes;
	unsigned	 node_retries;	/* retries of a failed node (3) */
	int		 line, column;	/* where it was defined (1-based) */
};

struct roll_config {
	char			*path;
	char			*state_dir;
	uint32_t		 lock_timeout;	/* seconds; 0: default */
	struct roll_dns		 dns;
	struct roll_service	*services;
	size_t			 nservices;
};

/*
 * Load and check path.  Returns 0, or -1 with "PATH:LINE:COL: reason"
 * (or "PATH: reason") in err; nothing is kept on failure.
 */
int roll_config_load(const char *path, struct roll_config *c, char *err,
    size_t errlen);

void roll_config_free(struct roll_config *c);

/*
 * The configured addresses of host in s (addresses:), or NULL with *n 0
 * when the host is resolved through DNS.
 */
char **roll_service_addrs(const struct roll_service *s, const char *host,
    size_t *n);

/*
 * How long a run may hold the lock before another run calls it stuck
 * (lock_timeout, default 1 hour); a run stops talking to DNS servers
 * after half of it.
 */
#define ROLL_LOCK_TIMEOUT_DEFAULT 3600
uint32_t roll_lock_timeout(const struct roll_config *c);

/* The service called name, or NULL. */
struct roll_service *roll_config_service(struct roll_config *c,
    const char *name);

#endif
