# tests/lab/roll.sh: helpers for the tlsa-rollover lab tests (sourced after
# tests/lib.sh).  Needs R (tlsa-rollover), T (tlsagen), C ("-f CONFIG"),
# WORK; the observer asks the authoritative servers in ROLL_AUTH (default
# the DNS lab's primary and secondary).

# roll_phase [SERVICE]: the service's phase from status --json.
roll_phase() {
	"$R" $C --json status "${1:-mx}" 2>/dev/null | sed -n 's/.*"phase": "\([a-z]*\)".*/\1/p'
}

# roll_spki CERT HOST: the 3 1 1 association data of a certificate.
roll_spki() {
	"$T" -r 3,1,1 -f json -H "${2:-mx1.example.test}" "$1" | sed -n 's/.*"data": "\([0-9a-f]*\)".*/\1/p'
}

# roll_observe HOST...: the invariant, checked independently of the tool:
# every chain each MX serves (tlsagen probes once per key type) must
# validate, with OpenSSL's DANE code, against the TLSA RRset that each
# authoritative server answers right now.  Counts VIOLATIONS.
VIOLATIONS=0
roll_observe() {
	for _ro_srv in ${ROLL_AUTH:-127.0.0.40 127.0.0.41}; do
		for _ro_h in "$@"; do
			dig @"$_ro_srv" +norec +noall +answer "_25._tcp.$_ro_h" TLSA |
				awk '$4 == "TLSA" { d = ""; for (i = 8; i <= NF; i++) d = d $i; print $5, $6, $7, d }' \
				> "$WORK/obs.txt"
			[ -s "$WORK/obs.txt" ] || continue	# nothing published, nothing served yet
			if ! "$T" --timeout 5 --verify "$WORK/obs.txt" -H "$_ro_h" -c "$_ro_h" \
				> "$WORK/obs.out" 2>&1; then
				# Before the first deployment the MX has no certificate.
				if grep -q "handshake" "$WORK/obs.out" && [ -z "$(ls "$WORK/deploy" 2>/dev/null | grep current)" ]; then
					continue
				fi
				VIOLATIONS=$((VIOLATIONS + 1))
				diag "INVARIANT: $_ro_h against $_ro_srv: $(cat "$WORK/obs.out")"
			fi
		done
	done
}

# roll_until PHASE MAX HOST...: run (observing after each run) until the
# phase is PHASE, at most MAX runs a second apart.
roll_until() {
	_ru_want=$1 _ru_max=$2
	shift 2
	_ru_i=0
	while [ $_ru_i -lt "$_ru_max" ]; do
		"$R" $C run > "$WORK/run.out" 2>&1
		roll_observe "$@"
		[ "$(roll_phase)" = "$_ru_want" ] && return 0
		_ru_i=$((_ru_i + 1))
		sleep 1
	done
	diag "phase $(roll_phase) after $_ru_max runs; last run said: $(cat "$WORK/run.out")"
	return 1
}
