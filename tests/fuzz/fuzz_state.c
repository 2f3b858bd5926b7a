/*
 * fuzz_state.c: the rollover state file parser (roll_state_load) on any
 * bytes, as STATE_DIR/mx/state in a private temporary directory.
 *
 * What loads must survive a round trip: saved (roll_state_save, into a
 * second state directory) and loaded again, it gives the same state.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "roll_state.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same(const struct roll_state *a, const struct roll_state *b)
{
	int i;

	if (a->phase != b->phase || a->nslots != b->nslots ||
	    strcmp(a->staged, b->staged) != 0 ||
	    a->have_published != b->have_published ||
	    !zone_rrset_equal(&a->published, &b->published) ||
	    strcmp(a->published_hosts, b->published_hosts) != 0 ||
	    a->published_at != b->published_at ||
	    a->visible_at != b->visible_at ||
	    a->switched_at != b->switched_at || a->hold_ttl != b->hold_ttl)
		goto bad;
	for (i = 0; i < a->nslots; i++)
		if (strcmp(a->slot[i].name, b->slot[i].name) != 0 ||
		    strcmp(a->slot[i].current, b->slot[i].current) != 0 ||
		    strcmp(a->slot[i].previous, b->slot[i].previous) != 0 ||
		    strcmp(a->slot[i].pending, b->slot[i].pending) != 0)
			goto bad;
	return;
bad:
	fprintf(stderr, "fuzz_state: the state changed in a save and load\n");
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir1[4200], dir2[4200], svc[4300];
	struct roll_state st, st2;
	char err[ERRBUF_LEN];

	if (size > 64 * 1024)
		return 0;
	if (dir1[0] == '\0') {
		snprintf(dir1, sizeof(dir1), "%s/state", fuzz_tmpdir());
		snprintf(dir2, sizeof(dir2), "%s/state2", fuzz_tmpdir());
		snprintf(svc, sizeof(svc), "%s/mx", dir1);
		if (mkdir(dir1, 0700) == -1 || mkdir(dir2, 0700) == -1 ||
		    mkdir(svc, 0700) == -1)
			abort();
	}
	fuzz_write("state/mx/state", data, size);
	err[0] = '\0';
	if (roll_state_load(dir1, "mx", &st, err, sizeof(err)) == -1) {
		if (strstr(err, "/state") == NULL || strchr(err, '\n') != NULL) {
			fprintf(stderr, "fuzz_state: bad error \"%s\"\n", err);
			abort();
		}
		return 0;
	}
	(void)roll_phase_name(st.phase);
	(void)roll_state_pending(&st);
	free(zone_rrset_describe(&st.published));
	if (roll_state_save(dir2, "mx", &st, err, sizeof(err)) == -1) {
		fprintf(stderr, "fuzz_state: cannot save: %s\n", err);
		abort();
	}
	if (roll_state_load(dir2, "mx", &st2, err, sizeof(err)) == -1) {
		fprintf(stderr, "fuzz_state: saved state does not load: %s\n",
		    err);
		abort();
	}
	same(&st, &st2);
	roll_state_free(&st);
	roll_state_free(&st2);
	return 0;
}
