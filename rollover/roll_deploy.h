/*
 * roll_deploy.h: put a stored certificate where the MTA reads it, and
 * tell the MTA.  DEPLOY_DIR/versions/ID/{fullchain.pem,privkey.pem} and
 * the symlink DEPLOY_DIR/current -> versions/ID, replaced by rename, so
 * the MTA sees the old pair or the new one, never half of each.  This
 * module writes deployed files and runs the reload command.
 */
#ifndef ROLL_DEPLOY_H
#define ROLL_DEPLOY_H

#include "roll_config.h"

/*
 * Copy certs/ID from the store into DEPLOY_DIR/versions/ID (if not
 * there, or, when its fullchain.pem is not the store's, a chain updated
 * by a later import: then a new copy replaces it by
 * renameat2(RENAME_EXCHANGE)) and point the slot's link at it.  The deploy directory must be a real
 * directory (not a symlink) owned by us and not writable by group or
 * others, and every directory above it must pass
 * fileio_parents_trusted.  The work is done with *at() calls from
 * descriptors opened with O_NOFOLLOW: a symlink planted at versions,
 * versions/ID or versions/ID.tmp, or a leftover ID.tmp that is not
 * ours, is refused, never followed.  Returns 0 or -1 with a reason.
 */
int roll_deploy(const char *state_dir, const struct roll_service *s,
    const char *slot, const char *id, char *err, size_t errlen);

/*
 * Does DEPLOY_DIR/versions/ID hold the chain the store holds for ID?
 * 1 yes (or nothing deployed as ID), 0 no: a chain update that was not
 * deployed yet.
 */
int roll_deploy_fresh(const char *state_dir, const struct roll_service *s,
    const char *id);

/*
 * The link of a slot: "current" for the single slot (""), else
 * "current-SLOT" (current-ecdsa, current-rsa, current-eddsa).
 */
void roll_deploy_link(const char *slot, char *buf, size_t len);

/*
 * Is the link of slot gone from deploy_dir (lstat: ENOENT)?  1 gone, 0
 * there or not known to be gone (another error: better not to deploy
 * again over something we cannot see).
 */
int roll_deploy_link_gone(const char *deploy_dir, const char *slot);

/* The id a slot's link points at ("" if none) into id. */
int roll_deployed(const struct roll_service *s, const char *slot, char *id,
    size_t idlen);

/*
 * Run the reload argv with execve, no shell, a fixed environment, in a
 * process group of its own with default signal dispositions, an empty
 * signal mask and umask 022, for at most timeout seconds: then the
 * whole group gets TERM and, 2 s later, KILL (so nothing it forked
 * outlives the timeout).  SIGCHLD is at its default while it runs,
 * whatever the caller inherited.  0 when it exited 0.
 */
int roll_reload(const struct roll_service *s, int timeout, char *err,
    size_t errlen);

#endif
