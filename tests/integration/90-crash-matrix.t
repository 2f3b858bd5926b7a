#!/bin/sh
# 90-crash-matrix.t: tlsa-rollover is killed (SIGKILL) at every point
# where a run changes DNS, the state or the deployed files, on both ways
# into a rollover (a renewal with a new key, and a pre-staged key that
# switches at once), then run again until the rollover is done.
#
# The points are named in the code (crashpoint()) and chosen with the
# test-only switch TLSA_ROLLOVER_CRASH_AT.  The list below must be every
# point a rollover passes: a run with TLSA_ROLLOVER_CRASH_TRACE records
# the points reached, and a point reached that is not in the list fails
# the test (so a new point cannot be added without being tested).
#
# After the kill and after every later run, an independent observer
# (tlsagen --verify of what each MX address serves against the RRset of
# each authoritative server) checks the invariant; then the state must
# read back, status must work, the deployed link must be the current
# certificate, the MX must serve the new certificate, and the published
# RRset must be exactly its records (nothing left over, nothing lost).
# The matrix of points x paths is printed at the end.
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.0.20 mx1.example.test
127.0.0.21 mx2.example.test"
lab_netns "$@"
need_cmd named unbound postfix dig openssl python3
. "$TOP/tests/lab/fixture.sh"

POINTS="publish:dns-updated atomic:state state:visible state:hold
state:switch atomic:fullchain.pem atomic:privkey.pem deploy:version-copied
deploy:linked switch:reloaded state:verify state:retire retire:dns-updated
state:steady"

fixture_dns
fixture_pki A
fixture_postfix 127.0.0.20 127.0.0.21
fixture_config pre='records: ["3 1 1"]'

ok "the first certificate" "$R" $C import mx "$WORK/pki/A.chain.pem" "$WORK/pki/A.key"
ok "... rolls out" roll_until steady 30 $HOSTS

# cert_for KEY NAME: a certificate for an existing key (a staged one).
cert_for() {
	openssl req -new -key "$1" -subj /CN=mx1.example.test -out "$WORK/pki/$2.csr" 2>/dev/null &&
		printf 'subjectAltName=DNS:mx1.example.test,DNS:mx2.example.test\n' > "$WORK/pki/$2.ext" &&
		openssl x509 -req -in "$WORK/pki/$2.csr" -CA "$WORK/pki/int.pem" -CAkey "$WORK/pki/int.key" \
			-CAcreateserial -days 30 -extfile "$WORK/pki/$2.ext" -out "$WORK/pki/$2.pem" 2>/dev/null &&
		cat "$WORK/pki/$2.pem" "$WORK/pki/int.pem" > "$WORK/pki/$2.chain.pem"
}

# published: the 3 1 1 data the primary serves at mx1, sorted.
published() {
	dig @127.0.0.40 +norec +noall +answer _25._tcp.mx1.example.test TLSA |
		awk '$4 == "TLSA" { d = ""; for (i = 8; i <= NF; i++) d = d $i; print tolower(d) }' | sort
}

# prepare PATH NAME: a renewal waiting to be rolled out.  new-key: a
# certificate with its own key is imported.  staged: a key is staged and
# its record published first (a rollover of its own), then a certificate
# for it is imported, which switches without a new wait.
prepare() {
	case $1 in
	new-key)
		certs_leaf "$WORK/pki" "$2" ec mx1.example.test mx2.example.test >/dev/null 2>&1 &&
			"$R" $C import mx "$WORK/pki/$2.chain.pem" "$WORK/pki/$2.key" > "$WORK/prep.out" 2>&1
		;;
	staged)
		"$R" $C stage mx > "$WORK/prep.out" 2>&1 || return 1
		roll_until steady 30 $HOSTS || return 1
		_pr_id=$("$R" $C --json status mx | python3 -c \
			'import json, sys; print(json.load(sys.stdin)[0]["staged"]["id"])') || return 1
		cert_for "$WORK/state/mx/staged/$_pr_id/privkey.pem" "$2" &&
			"$R" $C import mx "$WORK/pki/$2.chain.pem" \
				"$WORK/state/mx/staged/$_pr_id/privkey.pem" > "$WORK/prep.out" 2>&1
		;;
	esac
}

# crash_run POINT: runs with the switch until one is killed there (137),
# observing after each; at most 30 runs.  Prints "killed", or "missed"
# when the rollover ended without passing the point.
crash_run() {
	_cr_i=0
	while [ $_cr_i -lt 30 ]; do
		TLSA_ROLLOVER_CRASH_AT=$1 TLSA_ROLLOVER_CRASH_TRACE=$WORK/trace \
			"$R" $C run > "$WORK/run.out" 2>&1
		_cr_st=$?
		roll_observe $HOSTS
		if [ $_cr_st -eq 137 ]; then
			echo killed
			return 0
		fi
		if [ "$(roll_phase)" = steady ] && ! grep -q pending "$WORK/run.out" &&
			[ -z "$("$R" $C --json status mx | grep '"pending"')" ]; then
			echo missed
			return 0
		fi
		_cr_i=$((_cr_i + 1))
		sleep 1
	done
	echo "stuck"
}

MATRIX=$WORK/matrix
: > "$MATRIX"
: > "$WORK/trace"
n=0
for path in new-key staged; do
	for point in $POINTS; do
		n=$((n + 1))
		name=N$n
		v0=$VIOLATIONS
		if ! prepare "$path" "$name"; then
			_report 1 "$path $point: prepare the renewal" "$(cat "$WORK/prep.out")"
			echo "$path $point FAIL(prepare)" >> "$MATRIX"
			continue
		fi
		how=$(crash_run "$point")
		if [ "$how" = stuck ]; then
			_report 1 "$path $point: the point is reached or the rollover ends" "$(cat "$WORK/run.out")"
			echo "$path $point FAIL(stuck)" >> "$MATRIX"
			continue
		fi
		# Left as it is after the kill: it must read back.
		"$R" $C status mx > "$WORK/status.out" 2>&1
		st=$?
		if [ $st -gt 1 ] || grep -q 'corrupt\|cannot read\|malformed' "$WORK/status.out"; then
			_report 1 "$path $point: status reads the state after the kill" "$(cat "$WORK/status.out")"
		else
			_report 0 "$path $point: status reads the state after the kill"
		fi
		if roll_until steady 40 $HOSTS; then
			_report 0 "$path $point: the rollover completes after the kill"
		else
			_report 1 "$path $point: the rollover completes after the kill"
		fi
		want=$(roll_spki "$WORK/pki/$name.pem")
		dep=$(readlink "$D" | sed 's|versions/||')
		cur=$("$R" $C --json status mx | sed -n '/"current"/,/}/s/.*"id": "\([0-9a-f]*\)".*/\1/p' | head -n 1)
		is "$path $point: the deployed link is the current certificate" "$dep" "$cur"
		like "$path $point: mx1 serves the new certificate" \
			"$("$T" -r 3,1,1 -H mx1.example.test -c 127.0.0.20 -f json 2>&1)" "$want"
		# Nothing left over: only the new 3 1 1 (plus a staged one, none here).
		is "$path $point: the RRset is the new record alone" "$(published)" "$want"
		is "$path $point: no leftover temporary directory in deploy/versions" \
			"$(ls "$WORK/deploy/versions" | grep -c '\.tmp$')" 0
		if [ "$VIOLATIONS" -eq "$v0" ]; then
			_report 0 "$path $point: the invariant held throughout"
			[ "$how" = killed ] && how="killed, recovered" || how="not on this path"
			echo "$path $point ok($how)" >> "$MATRIX"
		else
			_report 1 "$path $point: the invariant held throughout"
			echo "$path $point FAIL(invariant)" >> "$MATRIX"
		fi
	done
done

# Every point a rollover passed is in the list, and every listed point was
# reached on at least one path.
for p in $(sort -u "$WORK/trace"); do
	case " $(echo $POINTS) " in
	*" $p "*) ;;
	*) _report 1 "crash point $p is reached but not in the matrix" ;;
	esac
done
for p in $POINTS; do
	if grep -q " $p ok(killed, recovered)\$" "$MATRIX"; then
		_report 0 "crash point $p was hit and survived"
	else
		_report 1 "crash point $p was hit and survived" "$(grep " $p " "$MATRIX")"
	fi
done

# Negative control: the observer catches a certificate with no record.
certs_leaf "$WORK/pki" rogue ec mx1.example.test mx2.example.test >/dev/null 2>&1
mkdir -p "$WORK/deploy/versions/rogue"
cp "$WORK/pki/rogue.chain.pem" "$WORK/deploy/versions/rogue/fullchain.pem"
cp "$WORK/pki/rogue.key" "$WORK/deploy/versions/rogue/privkey.pem"
good=$(readlink "$D")
ln -sfn versions/rogue "$D"
sh "$TOP/tests/lab/postfix.sh" reload "$WORK/mx" >/dev/null 2>&1
v0=$VIOLATIONS
roll_observe $HOSTS 2>/dev/null
ok "negative control: the observer sees a served certificate without a record" [ "$VIOLATIONS" -gt "$v0" ]
VIOLATIONS=$v0
ln -sfn "$good" "$D"
sh "$TOP/tests/lab/postfix.sh" reload "$WORK/mx" >/dev/null 2>&1

diag "crash matrix (point x path: result):"
for p in $POINTS; do
	diag "$(printf '  %-24s new-key: %-26s staged: %s' "$p" \
		"$(sed -n "s/^new-key $p //p" "$MATRIX")" "$(sed -n "s/^staged $p //p" "$MATRIX")")"
done
is "the invariant observer saw no violation" "$VIOLATIONS" 0
done_testing
