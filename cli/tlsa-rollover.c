/*
 * tlsa-rollover: keep a mail server's TLSA records and its certificate in
 * step through every renewal (RFC 7671 section 8.1, RFC 7672).
 *
 * main() parses options and dispatches; the state machine is roll_run.c.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "log.h"
#include "privsep.h"
#include "roll_check_cmd.h"
#include "roll_config.h"
#include "roll_deploy.h"
#include "roll_fleet.h"
#include "roll_hook.h"
#include "roll_init.h"
#include "roll_log.h"
#include "roll_plan.h"
#include "roll_pub.h"
#include "roll_run.h"
#include "roll_state.h"
#include "roll_store.h"
#include "roll_validate.h"
#include "sbuf.h"
#include "tlsa_dane.h"
#include "tlsa_load.h"
#include "tlsa_net.h"
#include "tlsa_rec.h"

#ifndef VERSION
#define VERSION "0.1"
#endif
#ifndef DEFAULT_CONFIG
#define DEFAULT_CONFIG "/etc/tlsa-rollover/tlsa-rollover.yaml"
#endif

static int json_out, verbose, dry_run;

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f,
"usage: tlsa-rollover [-f config] [-n] [-v] [--json] command [args]\n"
"Keep TLSA records and the deployed certificate in step (RFC 7671 8.1).\n"
"\n"
"Commands:\n"
"  status [service...]        phase, who is behind, the next step and when,\n"
"                             certificates, published records, alerts\n"
"  run [service...]           advance every service as far as the rules allow\n"
"                             (what cron or the systemd timer runs)\n"
"  import service cert key [chain]\n"
"                             take a renewed certificate and its key (copied);\n"
"                             again with another chain: update its chain\n"
"  stage service [keyfile]    make a standby next key (or take a copy of keyfile);\n"
"                             publish its 3 1 1 early\n"
"  unstage service            forget the staged key (and a queued next key);\n"
"                             withdraw its records unless something needs them\n"
"  hook certbot|dehydrated|lego|uacme|acme.sh [--service name] [args]\n"
"                             ACME client deploy hook: import what the client\n"
"                             renewed (and stage its next key); see \"ACME\n"
"                             client hooks\" in tlsa-rollover(8)\n"
"  publish|switch|retire service\n"
"                             one step by hand, refused unless it is safe\n"
"  retry service [node]       a node that failed (or was stopped after\n"
"                             node_retries tries): try it again now\n"
"  abort service              forget the pending certificate (not once live;\n"
"                             a staged key is kept: see unstage)\n"
"  init --zone Z --primary A --tsig-key F --host H... --deploy-dir D [...]\n"
"                             write a commented configuration; asks for what\n"
"                             is missing on a terminal (see init --help)\n"
"  validate-config [--online] check the configuration, and what it names, and\n"
"                             say what it means; --online also asks the primary\n"
"                             (signed), the check servers and the resolver (AD)\n"
"  check [options] [domain|host...]\n"
"                             live MX check: DANE, TLS hygiene, expiry, with\n"
"                             Nagios exit codes (see check --help)\n"
"\n"
"Options:\n"
"  -f, --config FILE   configuration (default %s)\n"
"  -n, --dry-run       say what would change, change nothing; run -n also\n"
"                      prints the plan: every step ahead, and when\n"
"  -v, --verbose       run: print the waits too (who is behind, the hold\n"
"                      left), which cron output leaves to syslog; status:\n"
"                      the whole plan\n"
"  --json              status as JSON (with the plan)\n"
"  -h, --help, -V, --version\n"
"\n"
"Exit status: 0 success, 1 a step failed or an alert is raised, 2 bad usage\n"
"or configuration, 3 run found the lock held longer than lock_timeout;\n"
"check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n",
	    DEFAULT_CONFIG);
	exit(status);
}

/* Alerts go to syslog (mail facility) as well as to stderr. */
static void
alert(const char *service, const char *msg)
{
	roll_log_alert(service, msg);
}

static int
lock_state(const struct roll_config *c, int wait_seconds)
{
	char err[ERRBUF_LEN];
	int fd, i;

	for (i = 0; ; i++) {
		if ((fd = roll_lock(c->state_dir, err, sizeof(err))) != -1)
			return fd;
		if (i >= wait_seconds * 10 ||
		    strstr(err, "another tlsa-rollover") == NULL) {
			log_error("%s", err);
			return -1;
		}
		usleep(100000);
	}
}

static const char *
subject_of(X509 *x, char *buf, size_t len)
{
	X509_NAME_oneline(X509_get_subject_name(x), buf, (int)len);
	return buf;
}

static void
describe_cert(const struct roll_config *c, const struct roll_service *s,
    const char *what, const char *id, int staged, json_t *obj)
{
	struct roll_cert rc;
	char err[ERRBUF_LEN], sub[256], exp[64];
	const ASN1_TIME *na;
	struct tm tm;

	if (id[0] == '\0')
		return;
	if (roll_store_load(c->state_dir, s->name, id, staged, &rc, err,
	    sizeof(err)) == -1) {
		if (json_out)
			json_object_set_new(obj, what, json_pack("{s:s,s:s}",
			    "id", id, "error", err));
		else
			printf("  %-9s %s (%s)\n", what, id, err);
		return;
	}
	if (staged) {
		if (json_out)
			json_object_set_new(obj, what, json_pack("{s:s}",
			    "id", id));
		else
			printf("  %-9s %s (standby key, %s)\n", what, id,
			    EVP_PKEY_get0_type_name(rc.key));
		roll_cert_free(&rc);
		return;
	}
	na = X509_get0_notAfter(sk_X509_value(rc.chain, 0));
	exp[0] = '\0';
	if (ASN1_TIME_to_tm(na, &tm))
		strftime(exp, sizeof(exp), "%Y-%m-%d %H:%M:%S UTC", &tm);
	subject_of(sk_X509_value(rc.chain, 0), sub, sizeof(sub));
	if (json_out)
		json_object_set_new(obj, what, json_pack("{s:s,s:s,s:s}", "id",
		    id, "subject", sub, "not_after", exp));
	else
		printf("  %-9s %s %s, expires %s\n", what, id, sub, exp);
	roll_cert_free(&rc);
}

/*
 * What status says of the wait and the steps ahead: who was behind at
 * the last check, and when the next step can come (with -v or --json,
 * the whole plan).
 */
static void
status_plan(struct roll_config *c, struct roll_service *s,
    const struct roll_state *st, int empty, json_t *obj)
{
	struct roll_ctx x;
	struct sbuf b = { 0 };
	const json_t *next;
	json_t *plan;
	char err[ERRBUF_LEN], when[64];
	time_t now = time(NULL);

	if (st->checked_at != 0 && st->phase == ROLL_VISIBLE) {
		roll_plan_time(st->checked_at, when, sizeof(when));
		if (json_out) {
			json_object_set_new(obj, "behind",
			    json_string(st->behind));
			json_object_set_new(obj, "checked_at",
			    json_integer((json_int_t)st->checked_at));
		} else
			printf("  behind    %s (at the check of %s)\n",
			    st->behind[0] ? st->behind : "none", when);
	}
	if (empty)
		return;
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.s = s;
	x.now = now;
	if ((plan = roll_plan(&x, st, err, sizeof(err))) == NULL) {
		if (json_out)
			json_object_set_new(obj, "plan_error", json_string(err));
		else
			printf("  next      cannot tell: %s\n", err);
		return;
	}
	if (json_out) {
		json_object_set(obj, "next_step", (next = roll_plan_next(plan))
		    != NULL ? (json_t *)next : json_null());
		json_object_set_new(obj, "plan", plan);
		return;
	}
	if ((next = roll_plan_next(plan)) != NULL) {
		json_t *one = json_array();

		json_array_append(one, (json_t *)next);
		roll_plan_text(one, now, &b);
		json_decref(one);
		/* "plan 1. STEP: ..." reads "next      STEP: ..." here */
		if (b.s != NULL && !b.failed)
			printf("  next      %s", b.s + strlen("plan 1. "));
		sbuf_free(&b);
	}
	if (verbose) {
		roll_plan_text(plan, now, &b);
		if (b.s != NULL && !b.failed)
			printf("%s", b.s);
		sbuf_free(&b);
	}
	json_decref(plan);
}

/* Each node: what it serves per slot, and how its last tries went. */
static void
status_nodes(const struct roll_service *s, const struct roll_state *st,
    json_t *obj)
{
	const struct roll_node_state *ns;
	json_t *arr, *no, *dep;
	size_t i;
	int j, k;

	if (s->nnodes == 0)
		return;
	arr = json_array();
	for (i = 0; i < s->nnodes; i++) {
		ns = NULL;
		for (j = 0; j < st->nnodes; j++)
			if (strcmp(st->node[j].name, s->nodes[i].name) == 0)
				ns = &st->node[j];
		no = json_object();
		dep = json_object();
		json_object_set_new(no, "name", json_string(s->nodes[i].name));
		if (!json_out)
			printf("  node      %s:", s->nodes[i].name);
		for (k = 0; k < st->nslots; k++) {
			const char *id = ns != NULL ? ns->current[k] : "";

			json_object_set_new(dep, st->slot[k].name[0] ?
			    st->slot[k].name : "certificate", json_string(id));
			if (!json_out)
				printf(" %s%s%s%s", st->slot[k].name,
				    st->slot[k].name[0] ? " " : "",
				    id[0] ? id : "nothing deployed",
				    id[0] && strcmp(id,
				    st->slot[k].current) != 0 ?
				    " (not the current certificate)" : "");
		}
		json_object_set_new(no, "deployed", dep);
		json_object_set_new(no, "failures", json_integer(ns != NULL ?
		    ns->failures : 0));
		json_object_set_new(no, "stopped", json_boolean(ns != NULL &&
		    ns->stopped));
		if (ns != NULL && ns->failures > 0)
			json_object_set_new(no, "error",
			    json_string(ns->error));
		if (!json_out && ns != NULL && ns->stopped)
			printf("; STOPPED after %u failed tries (%s): "
			    "tlsa-rollover retry %s %s", ns->failures,
			    ns->error, s->name, ns->name);
		else if (!json_out && ns != NULL && ns->failures > 0)
			printf("; FAILED %u time(s) (%s), tried again %s",
			    ns->failures, ns->error, ns->wait > 0 ?
			    "after the next run" : "by the next run");
		if (!json_out)
			printf("\n");
		json_array_append_new(arr, no);
	}
	json_object_set_new(obj, "nodes", arr);
}

static int
cmd_status(struct roll_config *c, char **names, int n)
{
	struct roll_state st;
	char err[ERRBUF_LEN], *hex, dep[ROLL_ID_LEN + 1];
	json_t *arr, *obj, *recs;
	size_t i, j;
	int k, rc = 0, empty;

	for (k = 0; k < n; k++)
		if (roll_config_service(c, names[k]) == NULL) {
			log_error("%s: no service \"%s\"", c->path, names[k]);
			return 2;
		}
	arr = json_array();

	for (i = 0; i < c->nservices; i++) {
		struct roll_service *s = &c->services[i];

		for (k = 0; k < n; k++)
			if (strcmp(names[k], s->name) == 0)
				break;
		if (n > 0 && k == n)
			continue;
		if (roll_state_load(c->state_dir, s->name, &st, err,
		    sizeof(err)) == -1) {
			log_error("%s", err);
			rc = 1;
			continue;
		}
		obj = json_object();
		/* Steady with nothing in it is not steady: nothing began. */
		empty = st.phase == ROLL_STEADY && st.staged[0] == '\0' &&
		    !st.have_published;
		for (k = 0; empty && k < st.nslots; k++)
			if (st.slot[k].current[0] || st.slot[k].pending[0])
				empty = 0;
		if (json_out) {
			json_object_set_new(obj, "service",
			    json_string(s->name));
			json_object_set_new(obj, "phase", json_string(empty ?
			    "empty" : roll_phase_name(st.phase)));
			json_object_set_new(obj, "hold_left",
			    json_integer(st.phase == ROLL_HOLD ?
			    roll_hold_left(s, &st, time(NULL)) : 0));
			if (st.alert[0])
				json_object_set_new(obj, "alert",
				    json_string(st.alert));
		} else if (empty) {
			printf("%s: empty: nothing imported yet (tlsa-rollover "
			    "import %s CERT KEY [CHAIN], or an ACME client's "
			    "hook)\n", s->name, s->name);
			if (st.alert[0])
				printf("  ALERT     %s\n", st.alert);
		} else {
			printf("%s: %s", s->name, roll_phase_name(st.phase));
			if (st.phase == ROLL_HOLD)
				printf(" (%ld s left)", roll_hold_left(s, &st,
				    time(NULL)));
			printf("\n");
			if (st.alert[0])
				printf("  ALERT     %s\n", st.alert);
		}
		if (!json_out)
			status_plan(c, s, &st, empty, obj);
		for (k = 0; k < st.nslots; k++) {
			struct roll_slot *sl = &st.slot[k];
			json_t *so = json_object();
			char lname[32];

			dep[0] = '\0';
			if (s->nnodes == 0)
				(void)roll_deployed(s, sl->name, dep,
				    sizeof(dep));
			else
				snprintf(dep, sizeof(dep), "%s", sl->current);
			roll_deploy_link(sl->name, lname, sizeof(lname));
			if (!json_out && sl->name[0])
				printf("  slot %s:\n", sl->name);
			describe_cert(c, s, "current", sl->current, 0, so);
			describe_cert(c, s, "pending", sl->pending, 0, so);
			describe_cert(c, s, "previous", sl->previous, 0, so);
			if (!json_out && strcmp(dep, sl->current) != 0)
				printf("  deployed  %s (%s differs from "
				    "current!)\n", dep[0] ? dep : "nothing",
				    lname);
			json_object_set_new(so, "deployed", json_string(dep));
			json_object_set_new(so, "link", json_string(lname));
			json_object_set_new(obj, sl->name[0] ? sl->name :
			    "certificate", so);
		}
		status_nodes(s, &st, obj);
		describe_cert(c, s, "staged", st.staged, 1, obj);
		recs = json_array();
		for (j = 0; j < st.published.n; j++) {
			hex = tlsa_hex(st.published.v[j].data,
			    st.published.v[j].len);
			if (json_out)
				json_array_append_new(recs, json_sprintf(
				    "%u %u %u %s", st.published.v[j].spec.usage,
				    st.published.v[j].spec.selector,
				    st.published.v[j].spec.mtype, hex));
			else
				printf("  published %u %u %u %s\n",
				    st.published.v[j].spec.usage,
				    st.published.v[j].spec.selector,
				    st.published.v[j].spec.mtype, hex);
			free(hex);
		}
		if (json_out) {
			json_object_set_new(obj, "published", recs);
			status_plan(c, s, &st, empty, obj);
			json_array_append_new(arr, obj);
		} else {
			json_decref(recs);
			json_decref(obj);
		}
		if (st.alert[0])
			rc = 1;
		roll_state_free(&st);
	}
	if (json_out) {
		char *t = json_dumps(arr, JSON_INDENT(2));

		if (t != NULL)
			printf("%s\n", t);
		free(t);
	}
	json_decref(arr);
	return rc;
}

typedef int (*svc_fn)(struct roll_ctx *, struct roll_state *, void *,
    char *, size_t);

static int with_service_locked(struct roll_config *, const char *,
    struct roll_service *, int, int, svc_fn, void *);

/*
 * Run f for the named service with the lock held (waiting up to wait
 * seconds for it) and its state loaded; print what happened.
 */
static int
with_service(struct roll_config *c, const char *name, int wait, svc_fn f,
    void *arg)
{
	return with_service_locked(c, name, NULL, wait, 0, f, arg);
}

/*
 * As with_service; svc (if not NULL) is the service called name; held:
 * the caller holds the lock already.
 */
static int
with_service_locked(struct roll_config *c, const char *name,
    struct roll_service *svc, int wait, int held, svc_fn f, void *arg)
{
	struct roll_state st;
	struct roll_ctx x;
	struct sbuf out = { 0 };
	char err[ERRBUF_LEN];
	int fd = -1, rc = 1;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.out = &out;
	x.dry_run = dry_run;
	x.now = time(NULL);
	if ((x.s = svc != NULL ? svc : roll_config_service(c, name)) == NULL) {
		log_error("%s: no service \"%s\"", c->path, name);
		return 2;
	}
	/* A dry run writes nothing, so it needs no lock. */
	if (!dry_run && !held && (fd = lock_state(c, wait)) == -1)
		return 1;
	if (roll_state_load(c->state_dir, name, &st, err, sizeof(err)) == -1) {
		alert(name, err);
		goto out;
	}
	err[0] = '\0';
	rc = f(&x, &st, arg, err, sizeof(err)) == 0 ? 0 : 1;
	if (out.len > 0)
		roll_log_lines(name, out.s, out.len);
	fflush(stdout);
	if (rc != 0)
		alert(name, err[0] ? err : "failed");
	roll_state_free(&st);
out:
	sbuf_free(&out);
	if (fd != -1)
		close(fd);
	return rc;
}

struct import_args {
	const char *cert, *key, *chain;
};

static int
do_import(struct roll_ctx *x, struct roll_state *st, void *a, char *err,
    size_t errlen)
{
	struct import_args *ia = a;

	return roll_import(x, st, ia->cert, ia->key, ia->chain, err, errlen);
}

static int
do_stage(struct roll_ctx *x, struct roll_state *st, void *a, char *err,
    size_t errlen)
{
	return roll_stage(x, st, a, err, errlen);
}

/*
 * stage SERVICE KEYFILE: check the key file before taking the lock, so
 * that a bad one changes nothing, not even the state directory.
 */
static int
check_keyfile(struct roll_config *c, const char *name, const char *keyfile)
{
	struct roll_service *s = roll_config_service(c, name);
	char err[ERRBUF_LEN], id[ROLL_ID_LEN + 1], family[8];

	if (s == NULL)
		return 0;	/* with_service says so */
	if (roll_store_stage_key(c->state_dir, s, keyfile, 1, id, family, err,
	    sizeof(err)) == -1) {
		log_error("%s: %s", name, err);
		return -1;
	}
	return 0;
}

/*
 * import SERVICE CERT KEY [CHAIN]: check the files before taking the
 * lock, so that bad ones change nothing, not even the state directory.
 */
static int
check_import(struct roll_config *c, const char *name,
    const struct import_args *ia)
{
	struct roll_service *s = roll_config_service(c, name);
	struct roll_cert rc;
	const char *completed;
	char err[ERRBUF_LEN], family[8];

	if (s == NULL)
		return 0;	/* with_service says so */
	/* Standard input can be read once: the import itself checks it. */
	if (strcmp(ia->cert, "-") == 0 || strcmp(ia->key, "-") == 0 ||
	    (ia->chain != NULL && strcmp(ia->chain, "-") == 0))
		return 0;
	if (roll_store_check(s, ia->cert, ia->key, ia->chain, &rc, family,
	    &completed, err, sizeof(err)) == -1) {
		alert(name, err);
		return -1;
	}
	roll_cert_free(&rc);
	return 0;
}

static int
do_abort(struct roll_ctx *x, struct roll_state *st, void *a, char *err,
    size_t errlen)
{
	(void)a;
	return roll_abort(x, st, err, errlen);
}

static int
do_unstage(struct roll_ctx *x, struct roll_state *st, void *a, char *err,
    size_t errlen)
{
	(void)a;
	return roll_unstage(x, st, err, errlen);
}

static int
do_manual(struct roll_ctx *x, struct roll_state *st, void *a, char *err,
    size_t errlen)
{
	return roll_manual(x, st, *(int *)a, err, errlen);
}

static int do_run(struct roll_ctx *, struct roll_state *, void *, char *,
    size_t);

/* retry SERVICE [NODE]: forget the node's failures, then run. */
static int
do_retry(struct roll_ctx *x, struct roll_state *st, void *a, char *err,
    size_t errlen)
{
	if (roll_fleet_retry(x, st, a, err, errlen) == -1)
		return -1;
	return do_run(x, st, NULL, err, errlen);
}

static int
do_run(struct roll_ctx *x, struct roll_state *st, void *a, char *err,
    size_t errlen)
{
	char rerr[ERRBUF_LEN];
	int moved, repaired;

	(void)a;
	/* A deploy directory that went away: the MTA has no certificate. */
	if ((repaired = roll_repair_deploy(x, st, rerr, sizeof(rerr))) == -1) {
		errfmt(err, errlen, "%s", rerr);
		return -1;
	}
	if (roll_advance(x, st, &moved, err, errlen) == -1)
		return -1;
	if (repaired == 1) {
		/* Repaired: said once, not kept as a standing alert. */
		errfmt(err, errlen, "%s", rerr);
		return -1;
	}
	if (!moved && verbose)
		sbuf_printf(x->out, "%s: %s, nothing to do now\n", x->s->name,
		    roll_phase_name(st->phase));
	/* A dry run goes on, on paper: every step still ahead. */
	if (x->dry_run) {
		char perr[ERRBUF_LEN];
		json_t *plan = roll_plan(x, st, perr, sizeof(perr));

		if (plan == NULL)
			sbuf_printf(x->out, "plan: cannot tell: %s\n", perr);
		else
			roll_plan_text(plan, x->now, x->out);
		json_decref(plan);
	}
	if (st->alert[0] != '\0') {
		/* An alert that stands: say what it is, every run. */
		errfmt(err, errlen, "%s", st->alert);
		return -1;
	}
	return 0;
}

static int
cmd_run(struct roll_config *c, char **names, int n)
{
	char err[ERRBUF_LEN];
	size_t i;
	int k, rc = 0, r, fd = -1;

	for (k = 0; k < n; k++)
		if (roll_config_service(c, names[k]) == NULL) {
			log_error("%s: no service \"%s\"", c->path, names[k]);
			return 2;
		}
	/*
	 * One lock for the whole run.  A run that finds another one at
	 * work leaves quietly (exit 0: cron will be back); any other
	 * failure to lock is an error.
	 */
	if (!dry_run && (fd = roll_lock(c->state_dir, err, sizeof(err))) ==
	    -1) {
		long long age;

		if (strstr(err, "another tlsa-rollover") == NULL) {
			log_error("%s", err);
			return 1;
		}
		/* Held for longer than any run takes: it is stuck. */
		age = roll_lock_age(c->state_dir, time(NULL));
		if (age > (long long)roll_lock_timeout(c)) {
			log_error("%s (lock held for %lld s, longer than "
			    "lock_timeout %u s: stuck?)", err, age,
			    roll_lock_timeout(c));
			return 3;
		}
		printf("%s\n", err);
		return 0;
	}
	/* Every DNS exchange of this run ends by then. */
	zone_net_set_run_deadline(roll_lock_timeout(c) / 2);
	for (i = 0; i < c->nservices; i++) {
		for (k = 0; k < n; k++)
			if (strcmp(names[k], c->services[i].name) == 0)
				break;
		if (n > 0 && k == n)
			continue;
		r = with_service_locked(c, c->services[i].name,
		    &c->services[i], 0, 1, do_run, NULL);
		if (r > rc)
			rc = r;
	}
	if (fd != -1)
		close(fd);
	return rc;
}

static int
do_hook(struct roll_ctx *x, struct roll_state *st, void *a, char *err,
    size_t errlen)
{
	struct roll_hook_files *f = a;

	if (roll_import(x, st, f->cert, f->key, f->chain[0] ? f->chain : NULL,
	    err, errlen) == -1)
		return -1;
	if (f->next_key[0] != '\0' && roll_stage(x, st, f->next_key, err,
	    errlen) == -1)
		return -1;
	return 0;
}

/*
 * hook CLIENT [options] [client's args]: import what an ACME client
 * renewed into every service its certificate covers (or the one named
 * with --service).  Options: --service NAME, and -f, -n, -v as before
 * the command.  Everything is checked before anything is stored: the
 * files of the certificate and of the next key, by a dry import and
 * stage, for every service first.
 */
static int
cmd_hook(const char *config, int argc, char **argv)
{
	struct roll_config c;
	struct roll_hook_files f;
	struct roll_state st;
	struct roll_ctx x;
	struct sbuf out = { 0 };
	const char *service = NULL, *client;
	char err[ERRBUF_LEN];
	int *sel = NULL, i, rc = 2, r, saved_dry = dry_run;
	size_t k;

	if (argc < 2) {
		log_error("hook: name the ACME client (%s)", roll_hook_clients);
		return 2;
	}
	client = argv[1];
	for (i = 2; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--service") == 0 && i + 1 < argc)
			service = argv[++i];
		else if (strncmp(argv[i], "--service=", 10) == 0)
			service = argv[i] + 10;
		else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(argv[i], "-n") == 0 ||
		    strcmp(argv[i], "--dry-run") == 0)
			dry_run = saved_dry = 1;
		else if (strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else {
			log_error("hook %s: unknown option %s (--service NAME, "
			    "-f FILE, -n, -v)", client, argv[i]);
			return 2;
		}
	}
	if (roll_hook_read(client, argc - i, argv + i, &f, err,
	    sizeof(err)) == -1) {
		log_error("%s", err);
		return 2;
	}
	if (f.skip) {
		if (verbose)
			printf("hook %s: %s: nothing to deploy\n", client,
			    argv[i]);
		return 0;
	}
	if (roll_config_load(config, &c, err, sizeof(err)) == -1 ||
	    roll_validate(&c, err, sizeof(err)) == -1) {
		log_error("%s", err);
		if (c.path != NULL)
			roll_config_free(&c);
		return 2;
	}
	if ((sel = calloc(c.nservices + 1, sizeof(*sel))) == NULL) {
		log_error("out of memory");
		goto out;
	}
	if (service != NULL) {
		struct roll_service *s = roll_config_service(&c, service);

		if (s == NULL) {
			log_error("%s: no service \"%s\"", c.path, service);
			goto out;
		}
		sel[s - c.services] = 1;
	} else if ((r = roll_hook_services(&c, f.cert, sel, err,
	    sizeof(err))) <= 0) {
		log_error("hook %s: %s", client, err);
		rc = 1;
		goto out;
	}
	/* A dry run of every import and stage first: all or nothing. */
	rc = 1;
	for (k = 0; k < c.nservices; k++) {
		if (!sel[k])
			continue;
		memset(&x, 0, sizeof(x));
		x.c = &c;
		x.s = &c.services[k];
		x.out = &out;
		x.dry_run = 1;
		x.now = time(NULL);
		if (roll_state_load(c.state_dir, x.s->name, &st, err,
		    sizeof(err)) == -1) {
			log_error("hook %s: %s", client, err);
			goto out;
		}
		r = do_hook(&x, &st, &f, err, sizeof(err));
		roll_state_free(&st);
		if (r == -1) {
			log_error("hook %s: %s: %s", client, x.s->name, err);
			goto out;
		}
	}
	rc = 0;
	for (k = 0; k < c.nservices; k++) {
		if (!sel[k])
			continue;
		r = with_service(&c, c.services[k].name, 120, do_hook, &f);
		if (r > rc)
			rc = r;
	}
out:
	dry_run = saved_dry;
	sbuf_free(&out);
	free(sel);
	roll_config_free(&c);
	return rc;
}

static int
cmd_validate(struct roll_config *c, int online)
{
	struct sbuf rep = { 0 };
	char err[ERRBUF_LEN], where[200];
	size_t i, j;
	int k;

	if (online) {
		if (roll_validate_online(c, &rep, err, sizeof(err)) == -1) {
			sbuf_free(&rep);
			log_error("%s", err);
			return 2;
		}
		if (rep.s != NULL)
			fputs(rep.s, stdout);
		sbuf_free(&rep);
	}
	printf("%s: valid; state in %s\n", c->path, c->state_dir);
	for (i = 0; i < c->nservices; i++) {
		struct roll_service *s = &c->services[i];

		printf("service %s: port %u, hosts", s->name, s->port);
		for (j = 0; j < s->nhosts; j++)
			printf(" %s", s->hosts[j]);
		printf("\n  records");
		for (k = 0; k < s->nspecs; k++)
			printf(" %u%u%u", s->specs[k].usage,
			    s->specs[k].selector, s->specs[k].mtype);
		printf(", TTL %u, hold >= %u s, margin %u s\n", s->dns.ttl,
		    s->dns.min_hold, s->dns.hold_margin);
		printf("  a new key waits %lu s once visible (the larger of "
		    "min_hold and 2 x TTL + margin; a larger TTL served "
		    "makes it longer)\n", roll_validate_hold(s));
		if (roll_pub_is_rfc2136(s))
			printf("  updates to %s (zone %s) with key file %s\n",
			    s->dns.primary, s->dns.zone != NULL ?
			    s->dns.zone : "from the SOA", s->dns.tsig_key_file);
		else
			printf("  updates through %s (backend %s, zone %s)\n",
			    roll_pub_where(s, where, sizeof(where)),
			    s->dns.backend, s->dns.zone);
		printf("  visibility: %s%s; validation: %s%s%s\n",
		    s->dns.ncheck_servers > 0 ? "check_servers" : "NS set",
		    s->dns.primary != NULL ? " + primary" : "",
		    s->dns.resolver != NULL ?
		    s->dns.resolver : "", s->dns.resolver != NULL &&
		    s->dns.trust_anchor_file != NULL ? " and " : "",
		    s->dns.trust_anchor_file != NULL ?
		    s->dns.trust_anchor_file : "");
		for (j = 0; j < s->nnodes; j++) {
			const struct roll_node *nd = &s->nodes[j];
			size_t a;

			printf("  node %s: %s %s, reload:", nd->name,
			    nd->npush > 0 ? "push with" : "deploy into",
			    nd->npush > 0 ? nd->push[0] : nd->deploy_dir);
			for (a = 0; a < nd->nreload; a++)
				printf(" %s", nd->reload[a]);
			printf("%s; addresses:", nd->nreload == 0 ? " (none)" :
			    "");
			for (a = 0; a < nd->naddrs; a++)
				printf(" %s", nd->addrs[a]);
			printf("\n");
		}
		if (s->nnodes > 0)
			continue;
		if (s->nslots == 0)
			printf("  deploy into %s/current, reload:",
			    s->deploy_dir);
		else {
			printf("  deploy into");
			for (k = 0; k < s->nslots; k++)
				printf(" %s/current-%s", s->deploy_dir,
				    s->slots[k]);
			printf(", reload:");
		}
		for (j = 0; j < s->nreload; j++)
			printf(" %s", s->reload[j]);
		printf("%s\n", s->nreload == 0 ? " (none)" : "");
	}
	return 0;
}

/*
 * The arguments of each command, by name: a usage error names the one
 * missing ("import: missing KEY") or says there are too many.  0 when
 * argc (the command included) fits, else -1 after the message.
 */
static int
check_args(const char *cmd, int argc)
{
	static const struct {
		const char	*cmd;
		int		 min, max;	/* arguments after cmd; -1 any */
		const char	*args[4];
	} t[] = {
		{ "validate-config", 0, 0, { NULL } },
		{ "status", 0, -1, { NULL } },
		{ "run", 0, -1, { NULL } },
		{ "import", 3, 4, { "SERVICE", "CERT", "KEY", "[CHAIN]" } },
		{ "stage", 1, 2, { "SERVICE", "[KEYFILE]" } },
		{ "unstage", 1, 1, { "SERVICE" } },
		{ "abort", 1, 1, { "SERVICE" } },
		{ "retry", 1, 2, { "SERVICE", "[NODE]" } },
		{ "publish", 1, 1, { "SERVICE" } },
		{ "switch", 1, 1, { "SERVICE" } },
		{ "retire", 1, 1, { "SERVICE" } },
	};
	char use[128];
	size_t i;
	int k, n = argc - 1;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(t[i].cmd, cmd) != 0)
			continue;
		snprintf(use, sizeof(use), "tlsa-rollover %s", cmd);
		for (k = 0; k < 4 && t[i].args[k] != NULL; k++)
			snprintf(use + strlen(use), sizeof(use) - strlen(use),
			    " %s", t[i].args[k]);
		if (t[i].max == -1 && n == 0)
			snprintf(use + strlen(use), sizeof(use) - strlen(use),
			    "%s", " [SERVICE...]");
		if (n < t[i].min) {
			log_error("%s: missing %s (usage: %s)", cmd,
			    t[i].args[n], use);
			return -1;
		}
		if (t[i].max != -1 && n > t[i].max) {
			log_error("%s: too many arguments (usage: %s)", cmd,
			    use);
			return -1;
		}
		return 0;
	}
	log_error("%s: unknown command (see --help)", cmd);
	return -1;
}

/* The options every command takes, before or after it: 1 if ch is one. */
static int
global_opt(int ch, const char **config, int *config_given)
{
	switch (ch) {
	case 'f':
		*config = optarg;
		*config_given = 1;
		return 1;
	case 'n':
		dry_run = 1;
		return 1;
	case 'v':
		verbose = 1;
		return 1;
	case 'J':
		json_out = 1;
		return 1;
	default:
		return 0;
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "online", no_argument, NULL, 'O' },
		{ NULL, 0, NULL, 0 }
	};
	struct roll_config c;
	struct import_args ia;
	const char *config = DEFAULT_CONFIG, *cmd;
	char err[ERRBUF_LEN];
	int ch, rc = 2, phase, config_given = 0, online = 0;

	log_init("tlsa-rollover");
	privsep_nocore();
	signal(SIGPIPE, SIG_IGN);
	/*
	 * A parent (cron, a hook runner) may have left SIGCHLD ignored:
	 * then children are reaped by the kernel and every waitpid() for
	 * the probe process or the reload fails.  Take it back.
	 */
	signal(SIGCHLD, SIG_DFL);
	umask(077);
	/*
	 * Global options come before the command ("+": stop at it); check
	 * has options of its own, and the other commands also take the
	 * global ones after the command (second pass, below).
	 */
	while ((ch = getopt_long(argc, argv, "+f:nvhV", longopts, NULL)) !=
	    -1) {
		if (global_opt(ch, &config, &config_given))
			continue;
		switch (ch) {
		case 'h':
			usage(0);
		case 'V':
			printf("tlsa-rollover %s\n", VERSION);
			return 0;
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage(2);
	cmd = argv[0];
	roll_log_init(verbose);
	if (strcmp(cmd, "check") == 0) {
		rc = roll_check_cmd(config, config_given, json_out, verbose,
		    argc, argv);
		goto done;
	}
	/* init writes the configuration: there is none to load yet. */
	if (strcmp(cmd, "init") == 0) {
		rc = roll_init_cmd(config, argc, argv);
		goto done;
	}
	/* hook takes its client's arguments as they come: its own parser. */
	if (strcmp(cmd, "hook") == 0) {
		rc = cmd_hook(config, argc, argv);
		goto done;
	}
	optind = 0;
	while ((ch = getopt_long(argc, argv, "f:nv", longopts, NULL)) != -1)
		if (ch == 'O' && strcmp(cmd, "validate-config") == 0)
			online = 1;
		else if (!global_opt(ch, &config, &config_given))
			usage(2);
	argv += optind - 1;
	argc -= optind - 1;
	argv[0] = (char *)cmd;
	roll_log_init(verbose);		/* -v may come after the command */
	if (check_args(cmd, argc) == -1) {
		rc = 2;
		goto done;
	}
	if (roll_config_load(config, &c, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return 2;
	}
	/*
	 * What the configuration names must be usable before a command
	 * acts on it; status and abort still work, to see and to undo.
	 */
	if (strcmp(cmd, "status") != 0 && strcmp(cmd, "abort") != 0 &&
	    roll_validate(&c, err, sizeof(err)) == -1) {
		log_error("%s", err);
		roll_config_free(&c);
		rc = 2;
		goto done;
	}
	if (strcmp(cmd, "validate-config") == 0 && argc == 1)
		rc = cmd_validate(&c, online);
	else if (strcmp(cmd, "status") == 0)
		rc = cmd_status(&c, argv + 1, argc - 1);
	else if (strcmp(cmd, "run") == 0)
		rc = cmd_run(&c, argv + 1, argc - 1);
	else if (strcmp(cmd, "import") == 0 && (argc == 4 || argc == 5)) {
		ia.cert = argv[2];
		ia.key = argv[3];
		ia.chain = argc == 5 ? argv[4] : NULL;
		rc = check_import(&c, argv[1], &ia) == -1 ? 1 :
		    with_service(&c, argv[1], 120, do_import, &ia);
	} else if (strcmp(cmd, "stage") == 0 && (argc == 2 || argc == 3))
		rc = argc == 3 && check_keyfile(&c, argv[1], argv[2]) == -1 ?
		    1 : with_service(&c, argv[1], 120, do_stage,
		    argc == 3 ? argv[2] : NULL);
	else if (strcmp(cmd, "abort") == 0 && argc == 2)
		rc = with_service(&c, argv[1], 120, do_abort, NULL);
	else if (strcmp(cmd, "unstage") == 0 && argc == 2)
		rc = with_service(&c, argv[1], 120, do_unstage, NULL);
	else if (strcmp(cmd, "retry") == 0 && (argc == 2 || argc == 3))
		rc = with_service(&c, argv[1], 120, do_retry,
		    argc == 3 ? argv[2] : NULL);
	else if ((strcmp(cmd, "publish") == 0 || strcmp(cmd, "switch") == 0 ||
	    strcmp(cmd, "retire") == 0) && argc == 2) {
		phase = cmd[0] == 'p' ? ROLL_PUBLISH : cmd[0] == 's' ?
		    ROLL_SWITCH : ROLL_RETIRE;
		rc = with_service(&c, argv[1], 120, do_manual, &phase);
	} else {
		log_error("unknown command or wrong arguments: %s (see --help)",
		    cmd);
		rc = 2;
	}
	roll_config_free(&c);
done:
	tlsa_dane_cleanup();
	tlsa_net_cleanup();
	tlsa_load_cleanup();
	roll_log_close();
	return rc;
}
