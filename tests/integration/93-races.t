#!/bin/sh
# 93-races.t: tlsa-rollover against itself, in the real lab.  Ten `run`
# invocations are started at the same instant (a barrier) in every
# phase of rollovers, and a certbot deploy hook and an import arrive
# while a run holds the lock (a reload that takes 3 s keeps it):
#   - one run proceeds at a time: while a run holds the lock, every
#     other one exits 0 with "another tlsa-rollover (pid N) is running;
#     this one stops here" and does nothing;
#   - the hook and the import wait for the lock, then succeed;
#   - after every round the state file parses (status, which is strict)
#     and ends with a newline, no temporary file is left in the state
#     or deploy directories, and the invariant observer (tlsagen --verify
#     of what each MX serves against each authoritative server's RRset)
#     sees no violation.
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.0.20 mx1.example.test
127.0.0.21 mx2.example.test"
lab_netns "$@"
need_cmd named unbound postfix dig openssl
. "$TOP/tests/lab/fixture.sh"
PF=$TOP/tests/lab/postfix.sh

fixture_dns
fixture_pki
fixture_postfix 127.0.0.20 127.0.0.21
# The reload: slow (3 s) while $WORK/slow exists; it logs when it runs.
cat > "$WORK/reload.sh" <<EOF
#!/bin/sh
echo "start \$(date +%s.%N)" >> '$WORK/reload.log'
[ -e '$WORK/slow' ] && sleep 3
sh '$PF' reload '$WORK/mx'
st=\$?
echo "end \$(date +%s.%N)" >> '$WORK/reload.log'
exit \$st
EOF
fixture_config pre='records: ["3 1 1"]' reload="[/bin/sh, $WORK/reload.sh]"

certs_leaf "$WORK/pki" A ec mx1.example.test mx2.example.test >/dev/null || bail "cert A"
ok "the first certificate" "$R" $C import mx "$WORK/pki/A.chain.pem" "$WORK/pki/A.key"
ok "... rolls out" roll_until steady 30 $HOSTS

ANOTHER='another tlsa-rollover \(pid [0-9]+\) is running; this one stops here'

# burst N: N runs started at the same instant; their exit statuses in
# $WORK/b.st, outputs in $WORK/b.N.{out,err}.  Bounded: a run that is
# not done in 60 s is killed (and counted as a failure).
burst() {
	rm -f "$WORK/go" "$WORK"/b.*
	_b_i=0
	_b_pids=""
	while [ $_b_i -lt "$1" ]; do
		(
			_w=0
			while [ ! -e "$WORK/go" ] && [ $_w -lt 500 ]; do sleep 0.01; _w=$((_w + 1)); done
			timeout -s KILL 60 "$R" $C run > "$WORK/b.$_b_i.out" 2> "$WORK/b.$_b_i.err"
			echo $? > "$WORK/b.$_b_i.st"
		) &
		_b_pids="$_b_pids $!"
		_b_i=$((_b_i + 1))
	done
	sleep 0.3
	: > "$WORK/go"
	# Only these: the lab daemons are children of this shell too.
	for _b_p in $_b_pids; do wait "$_b_p"; done
	cat "$WORK"/b.*.st > "$WORK/b.st"
}

# quiet_count: runs that stopped at the lock (and said only that).
quiet_count() {
	_q=0
	for _f in "$WORK"/b.*.out; do
		if grep -Eq "$ANOTHER" "$_f"; then
			# Nothing else: no step, no error.
			[ "$(grep -c . "$_f")" -eq 1 ] && [ ! -s "${_f%.out}.err" ] && _q=$((_q + 1))
		fi
	done
	echo $_q
}

# consistent ROUND: the state reads back, ends with a newline, and no
# temporary file is left behind.
BAD_STATE=0
consistent() {
	if ! "$R" $C --json status mx > "$WORK/status.json" 2> "$WORK/status.err" &&
		! grep -q '"alert"' "$WORK/status.json"; then
		BAD_STATE=$((BAD_STATE + 1))
		diag "round $1: status fails: $(cat "$WORK/status.err")"
	fi
	if grep -q 'damaged\|not a state line' "$WORK/status.err"; then
		BAD_STATE=$((BAD_STATE + 1))
		diag "round $1: state damaged: $(cat "$WORK/status.err")"
	fi
	if [ "$(tail -c 1 "$WORK/state/mx/state" | od -An -c | tr -d ' ')" != '\n' ]; then
		BAD_STATE=$((BAD_STATE + 1))
		diag "round $1: the state file does not end with a newline"
	fi
	_left=$(find "$WORK/state" "$WORK/deploy" \( -name '*.??????' -o -name '*.tmp' \) -print)
	if [ -n "$_left" ]; then
		BAD_STATE=$((BAD_STATE + 1))
		diag "round $1: temporary files left: $_left"
	fi
}

# ---- ten runs at once, in every phase of two rollovers -------------------------------
QUIET=0
PROCEEDED=0
NONZERO=0
ROUNDS=0
for name in B C; do
	certs_leaf "$WORK/pki" $name ec mx1.example.test mx2.example.test >/dev/null 2>&1
	ok "import $name" "$R" $C import mx "$WORK/pki/$name.chain.pem" "$WORK/pki/$name.key"
	phases=""
	i=0
	while [ $i -lt 25 ]; do
		ph=$(roll_phase)
		phases="$phases $ph"
		burst 10
		ROUNDS=$((ROUNDS + 1))
		q=$(quiet_count)
		QUIET=$((QUIET + q))
		PROCEEDED=$((PROCEEDED + 10 - q))
		NONZERO=$((NONZERO + $(grep -vc '^0$' "$WORK/b.st")))
		if [ $q -eq 10 ]; then
			diag "round $ROUNDS ($ph): no run proceeded"
			NONZERO=$((NONZERO + 1))
		fi
		consistent "$ROUNDS ($ph)"
		roll_observe $HOSTS
		[ "$ph" = steady ] && [ $i -gt 0 ] && break
		i=$((i + 1))
		sleep 1
	done
	diag "rollover to $name: bursts in phases$phases"
	is "rollover to $name ends in steady" "$(roll_phase)" steady
	like "mx1 serves $name" "$("$T" -r 3,1,1 -H mx1.example.test -c 127.0.0.20 -f json 2>&1)" \
		"$(roll_spki "$WORK/pki/$name.pem")"
done
diag "bursts: $ROUNDS rounds, $PROCEEDED runs proceeded, $QUIET stopped at the lock"
is "every run of every burst exited 0 and some run proceeded" "$NONZERO" 0
ok "runs did meet the lock (the bursts were concurrent)" test "$QUIET" -gt 0
is "the state read back after every round, no temporary file left" "$BAD_STATE" 0

# ---- while a run holds the lock: nine runs, a certbot hook and an import ------------
certs_leaf "$WORK/pki" D ec mx1.example.test mx2.example.test >/dev/null 2>&1
certs_leaf "$WORK/pki" E ec mx1.example.test mx2.example.test >/dev/null 2>&1
certs_leaf "$WORK/pki" F ec mx1.example.test mx2.example.test >/dev/null 2>&1
mkdir -p "$WORK/lineage"
cp "$WORK/pki/E.chain.pem" "$WORK/lineage/fullchain.pem"
cp "$WORK/pki/E.key" "$WORK/lineage/privkey.pem"
ok "import D" "$R" $C import mx "$WORK/pki/D.chain.pem" "$WORK/pki/D.key"
i=0
while [ $i -lt 20 ] && [ "$(roll_phase)" != hold ]; do
	"$R" $C run >/dev/null 2>&1; roll_observe $HOSTS; i=$((i + 1)); sleep 1
done
is "D: the rollover is in hold" "$(roll_phase)" hold
sleep 6		# the hold is over: the next run switches (with the slow reload)
: > "$WORK/slow"
: > "$WORK/reload.log"
"$R" $C run > "$WORK/holder.out" 2>&1 &
holder=$!
# Wait (bounded) until the holder is inside its reload: it holds the lock.
i=0
while [ $i -lt 100 ] && ! grep -q start "$WORK/reload.log"; do sleep 0.1; i=$((i + 1)); done
ok "the holder is in its reload" grep -q start "$WORK/reload.log"
t_in=$(date +%s.%N)
RENEWED_LINEAGE=$WORK/lineage RENEWED_DOMAINS="mx1.example.test mx2.example.test" \
	"$R" $C hook certbot > "$WORK/hook.out" 2>&1 &
hookpid=$!
"$R" $C import mx "$WORK/pki/F.chain.pem" "$WORK/pki/F.key" > "$WORK/imp.out" 2>&1 &
imppid=$!
burst 9
q=$(quiet_count)
is "while a run holds the lock: all nine others stop at once, quietly" "$q" 9
is "... and exit 0" "$(grep -vc '^0$' "$WORK/b.st")" 0
like "... saying another run is at work" "$(cat "$WORK/b.0.out")" "$ANOTHER"
wait $holder
is "the holder's run succeeds" "$?" 0
wait $hookpid
hst=$?
wait $imppid
ist=$?
t_out=$(sed -n 's/^end //p' "$WORK/reload.log" | head -n 1)
is "the certbot hook waited for the lock and succeeded" "$hst" 0
is "the import waited for the lock and succeeded" "$ist" 0
ok "the hook and the import finished after the holder's reload" \
	awk -v a="$(stat -c %Y "$WORK/hook.out")" -v b="${t_out%.*}" 'BEGIN { exit !(a >= b) }'
like "the holder switched to D" "$(cat "$WORK/holder.out")" "deployed"
like "the hook imported E" "$(cat "$WORK/hook.out")" "imported"
like "the import took F (replacing E: the last one wins)" "$(cat "$WORK/imp.out")" "imported"
rm -f "$WORK/slow"
consistent hook
is "no reload ran twice at once" "$(grep -c start "$WORK/reload.log")" "$(grep -c end "$WORK/reload.log")"
pend=$("$R" $C --json status mx | sed -n '/"pending"/,/}/s/.*"id": "\([0-9a-f]*\)".*/\1/p' | head -n 1)
ok "a renewal (E or F) is pending after the hook and the import" test -n "$pend"
ok "it rolls out" roll_until steady 40 $HOSTS
live=$("$T" -r 3,1,1 -H mx1.example.test -c 127.0.0.20 -f json 2>&1)
if printf '%s' "$live" | grep -q "$(roll_spki "$WORK/pki/E.pem")" ||
	printf '%s' "$live" | grep -q "$(roll_spki "$WORK/pki/F.pem")"; then
	_report 0 "mx1 serves the renewal that came in while the lock was held"
else
	_report 1 "mx1 serves the renewal that came in while the lock was held" "$live"
fi
consistent final
is "the state read back after every round, no temporary file left (end)" "$BAD_STATE" 0

# Negative control: the observer sees a certificate that has no record.
certs_leaf "$WORK/pki" rogue ec mx1.example.test mx2.example.test >/dev/null 2>&1
mkdir -p "$WORK/deploy/versions/rogue"
cp "$WORK/pki/rogue.chain.pem" "$WORK/deploy/versions/rogue/fullchain.pem"
cp "$WORK/pki/rogue.key" "$WORK/deploy/versions/rogue/privkey.pem"
good=$(readlink "$D")
ln -sfn versions/rogue "$D"
sh "$PF" reload "$WORK/mx" >/dev/null 2>&1
v0=$VIOLATIONS
roll_observe $HOSTS 2>/dev/null
ok "negative control: the observer sees a served certificate without a record" [ "$VIOLATIONS" -gt "$v0" ]
VIOLATIONS=$v0
ln -sfn "$good" "$D"
sh "$PF" reload "$WORK/mx" >/dev/null 2>&1
is "the invariant observer saw no violation" "$VIOLATIONS" 0
done_testing
