#!/bin/sh
# 92-faults.t: tlsa-rollover under faults of the world, in one real lab
# (signed BIND primary and secondary, validating Unbound, two Postfix
# instances: mx1 on 127.0.0.20 and mx2 on 127.0.0.21, both reading the
# deploy directory).  For each fault a renewal is started (a new
# certificate imported), the fault is injected where it matters, the
# tool is run a bounded number of times, and then:
#   (a) the observer (tlsagen --verify of what each MX address serves
#       against the RRset each authoritative server answers) never fails;
#   (b) the run exits non-zero with a one-line alert naming the problem
#       on stderr, and status shows the ALERT (where it can be written);
#   (c) what is deployed always has a visible record;
#   (d) once the fault is lifted, runs complete the rollover: the new
#       certificate is live on both MX and the old record is retired.
# Faults: primary down, a secondary lagging, a secondary down (frozen),
# the TSIG key rotated on the server, BADTIME (clock skew, faketime),
# updates REFUSED, a reload that fails, a reload that hangs, one MX
# that keeps the old certificate, a full state directory, a corrupted
# and a truncated state file, the deploy directory removed.
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.0.20 mx1.example.test
127.0.0.21 mx2.example.test"
lab_netns "$@"
need_cmd named unbound postfix dig openssl faketime tsig-keygen mount dd
. "$TOP/tests/lab/fixture.sh"
PF=$TOP/tests/lab/postfix.sh

fixture_dns
mkdir -p "$WORK/state" "$WORK/fixed"
# The state directory on a small tmpfs of its own (this test has its own
# mount namespace), so that it can be filled up.
mount -t tmpfs -o size=1m,mode=0700 tmpfs "$WORK/state" || bail "tmpfs for the state directory"
at_exit "umount '$WORK/state'"
fixture_pki A
fixture_postfix -d "$WORK/mx1" 127.0.0.20
fixture_postfix -d "$WORK/mx2" 127.0.0.21
cat > "$WORK/reload.sh" <<EOF
#!/bin/sh
sh '$PF' reload '$WORK/mx1' && sh '$PF' reload '$WORK/mx2'
EOF
# The tool's own copy of the TSIG key: the server's can then be rotated.
(umask 077 && cp "$DNS_TSIG_KEY" "$WORK/tool-tsig.key") || bail "TSIG key copy"

GOOD_RELOAD="[/bin/sh, $WORK/reload.sh]"
write_config() {	# RELOAD-YAML [RELOAD_TIMEOUT]
	fixture_config tsig="$WORK/tool-tsig.key" dns="visible_timeout: 4s" pre='records: ["3 1 1"]' \
		reload="$1" service="reload_timeout: ${2:-20s}"
}
write_config "$GOOD_RELOAD"

ok "validate-config (reload_timeout, visible_timeout)" "$R" $C validate-config
# Bad values of the new keys are refused.
sed 's/reload_timeout: .*/reload_timeout: 0s/' "$WORK/roll.yaml" > "$WORK/bad.yaml"
nok "reload_timeout 0s is refused" "$R" -f "$WORK/bad.yaml" validate-config
sed 's/reload_timeout: .*/reload_timeout: 2h/' "$WORK/roll.yaml" > "$WORK/bad.yaml"
nok "reload_timeout 2h is refused" "$R" -f "$WORK/bad.yaml" validate-config

ok "the first certificate" "$R" $C import mx "$WORK/pki/A.chain.pem" "$WORK/pki/A.key"
ok "... rolls out" roll_until steady 30 $HOSTS

# check_deployed: (c) the deployed chain matches the RRset each
# authoritative server answers (checked offline, whatever the MX serve).
DEPLOY_BAD=0
check_deployed() {
	[ -e "$D/fullchain.pem" ] || return 0
	for _cd_srv in ${ROLL_AUTH:-127.0.0.40 127.0.0.41}; do
		dig @"$_cd_srv" +norec +time=1 +tries=1 +noall +answer _25._tcp.mx1.example.test TLSA |
			awk '$4 == "TLSA" { d = ""; for (i = 8; i <= NF; i++) d = d $i; print $5, $6, $7, d }' \
			> "$WORK/dep.txt"
		[ -s "$WORK/dep.txt" ] || continue
		if ! "$T" --verify "$WORK/dep.txt" -H mx1.example.test "$D/fullchain.pem" >/dev/null 2>&1; then
			DEPLOY_BAD=$((DEPLOY_BAD + 1))
			diag "DEPLOYED without a record on $_cd_srv: $(readlink "$D")"
		fi
	done
}
observe() { roll_observe $HOSTS; check_deployed; }

# published: the 3 1 1 data the primary serves at mx1, sorted.
published() {
	dig @127.0.0.40 +norec +noall +answer _25._tcp.mx1.example.test TLSA |
		awk '$4 == "TLSA" { d = ""; for (i = 8; i <= NF; i++) d = d $i; print tolower(d) }' | sort
}

# fault_runs N: N runs a second apart, observing after each; the exit
# status of each in $WORK/st, the last run's stderr in $WORK/err and
# stdout in $WORK/out; LAST_ST the last status.
fault_runs() {
	: > "$WORK/st"
	_fr_i=0
	while [ $_fr_i -lt "$1" ]; do
		"$R" $C run > "$WORK/out" 2> "$WORK/err"
		LAST_ST=$?
		echo $LAST_ST >> "$WORK/st"
		observe
		_fr_i=$((_fr_i + 1))
		[ $_fr_i -lt "$1" ] && sleep 1
	done
}

# renew NAME: a new certificate, imported.
OLD=""
renew() {
	OLD=$(roll_spki "$WORK/pki/$PREV.pem")
	certs_leaf "$WORK/pki" "$1" ec mx1.example.test mx2.example.test >/dev/null 2>&1 &&
		"$R" $C import mx "$WORK/pki/$1.chain.pem" "$WORK/pki/$1.key" > "$WORK/prep.out" 2>&1 ||
		diag "renew $1: $(cat "$WORK/prep.out")"
}
PREV=A

# alerted NAME ERE: (b) the last run exited 1 with a one-line alert on
# stderr matching ERE, and status shows it (unless NOSTATUS is set).
alerted() {
	is "$1: the run exits 1" "$LAST_ST" 1
	like "$1: the alert names the problem" "$(cat "$WORK/err")" "tlsa-rollover: mx: .*($2)"
	is "$1: the alert is one line" "$(grep -c . "$WORK/err")" 1
	if [ -z "${NOSTATUS:-}" ]; then
		like "$1: status shows the ALERT" "$("$R" $C status mx 2>&1)" "ALERT .*($2)"
	fi
}

# recovered NAME: (d) runs complete the rollover; both MX serve the new
# certificate; the RRset is the new record alone; no violation.
recovered() {
	_rc_want=$(roll_spki "$WORK/pki/$1.pem")
	if roll_until steady 40 $HOSTS; then _report 0 "$1: completes once the fault is lifted"
	else _report 1 "$1: completes once the fault is lifted" "$(cat "$WORK/run.out")"; fi
	check_deployed
	like "$1: mx1 serves the new certificate" \
		"$("$T" -r 3,1,1 -H mx1.example.test -c 127.0.0.20 -f json 2>&1)" "$_rc_want"
	like "$1: mx2 serves the new certificate" \
		"$("$T" -r 3,1,1 -H mx2.example.test -c 127.0.0.21 -f json 2>&1)" "$_rc_want"
	is "$1: the RRset is the new record alone (the old one retired)" "$(published)" "$_rc_want"
	nok "$1: no standing alert" sh -c "'$R' $C status mx | grep -q ALERT"
	is "$1: the invariant held" "$VIOLATIONS/$DEPLOY_BAD" "0/0"
	PREV=$1
}

# before_link: what is deployed now; unchanged: it still is.
unchanged() { is "$1: the deployed certificate is still the old one" "$(readlink "$D")" "$LINK0"; }

t0=$(date +%s)
# ---- 1. primary down, at PUBLISH ----------------------------------------------
renew P1
LINK0=$(readlink "$D")
_dns_stop_pid "$WORK/dns/primary.pid" "named (primary)"
fault_runs 3
alerted "primary down" "127\\.0\\.0\\.40"
unchanged "primary down"
_dns_start_named "$WORK/dns" primary 127.0.0.40 >/dev/null 2>&1 || bail "cannot restart the primary"
dns_lab_sync_wait "$WORK/dns" 20 >/dev/null 2>&1
recovered P1

# ---- 2. a secondary lagging, at VISIBLE ----------------------------------------
dns_secondary_pause "$WORK/dns" >/dev/null 2>&1 || bail "pause"
renew P2
LINK0=$(readlink "$D")
fault_runs 7
is "secondary lagging: the first runs only wait (exit 0)" "$(head -n 1 "$WORK/st")" 0
is "secondary lagging: phase visible" "$(roll_phase)" visible
alerted "secondary lagging" "not visible everywhere yet.*127\\.0\\.0\\.41"
unchanged "secondary lagging"
dns_secondary_resume "$WORK/dns" >/dev/null 2>&1
recovered P2

# ---- 3. a secondary down (not answering), at VISIBLE ------------------------------
renew P3
LINK0=$(readlink "$D")
dns_secondary_freeze "$WORK/dns"
ROLL_AUTH=127.0.0.40	# the observer cannot ask a server that does not answer
export ROLL_AUTH
s0=$(date +%s)
fault_runs 2	# each run waits for the server's timeouts: > visible_timeout
diag "runs with a secondary down took $(( $(date +%s) - s0 )) s"
alerted "secondary down" "not visible everywhere yet.*127\\.0\\.0\\.41"
unchanged "secondary down"
dns_secondary_thaw "$WORK/dns"
unset ROLL_AUTH
recovered P3

# ---- 4. TSIG key rotated on the server, at PUBLISH ---------------------------------
renew P4
LINK0=$(readlink "$D")
(umask 077 && tsig-keygen -a hmac-sha256 tlsa-update > "$WORK/new-tsig.key" &&
	cp "$WORK/new-tsig.key" "$DNS_TSIG_KEY") || bail "new TSIG key"
dns_rndc "$WORK/dns" primary reconfig >/dev/null || bail "rndc reconfig"
fault_runs 3
alerted "TSIG key rotated" "BADSIG|BADKEY|TSIG"
unchanged "TSIG key rotated"
cp "$WORK/new-tsig.key" "$WORK/tool-tsig.key"
recovered P4

# ---- 5. BADTIME: the tool's clock 2 h ahead, at PUBLISH ---------------------------
renew P5
LINK0=$(readlink "$D")
: > "$WORK/st"
i=0
while [ $i -lt 2 ]; do
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
		faketime -f +2h "$R" $C run > "$WORK/out" 2> "$WORK/err"
	LAST_ST=$?
	observe
	i=$((i + 1))
done
alerted "BADTIME" "BADTIME"
unchanged "BADTIME"
recovered P5

# ---- 6. updates REFUSED, at PUBLISH ----------------------------------------------
renew P6
LINK0=$(readlink "$D")
cp "$WORK/dns/primary/named.conf" "$WORK/named.conf.good"
sed 's/allow-update {[^}]*};/allow-update { none; };/' "$WORK/named.conf.good" > "$WORK/dns/primary/named.conf"
dns_rndc "$WORK/dns" primary reconfig >/dev/null || bail "rndc reconfig"
fault_runs 3
alerted "update REFUSED" "REFUSED"
unchanged "update REFUSED"
cp "$WORK/named.conf.good" "$WORK/dns/primary/named.conf"
dns_rndc "$WORK/dns" primary reconfig >/dev/null || bail "rndc reconfig"
recovered P6

# until_phase PHASE MAX: runs (observed) until the phase is PHASE.
until_phase() {
	_up_i=0
	while [ $_up_i -lt "$2" ] && [ "$(roll_phase)" != "$1" ]; do
		"$R" $C run > "$WORK/out" 2> "$WORK/err"
		observe
		_up_i=$((_up_i + 1))
		sleep 1
	done
	[ "$(roll_phase)" = "$1" ]
}

# ---- 7. a reload that fails, at SWITCH ------------------------------------------
write_config "[/bin/false]"
renew P7
LINK0=$(readlink "$D")
ok "reload fails: the rollover reaches switch" until_phase switch 20
fault_runs 2
alerted "reload fails" "exited with status 1"
unchanged "reload fails"
write_config "$GOOD_RELOAD"
recovered P7

# ---- 8. a reload that hangs, at SWITCH (reload_timeout 2s) --------------------------
write_config "[/bin/sleep, 30]" 2s
renew P8
LINK0=$(readlink "$D")
ok "reload hangs: the rollover reaches switch" until_phase switch 20
s0=$(date +%s)
fault_runs 1
took=$(( $(date +%s) - s0 ))
alerted "reload hangs" "did not finish within 2 s"
ok "reload hangs: the run is bounded by reload_timeout (took ${took}s)" test "$took" -lt 20
unchanged "reload hangs"
nok "reload hangs: no sleep left behind" pgrep -x -f "/bin/sleep 30"
write_config "$GOOD_RELOAD"
recovered P8

# ---- 9. one MX keeps the old certificate, at VERIFY --------------------------------
# mx2 is restarted on a fixed copy of the current files: it reloads, but
# keeps serving the old certificate.
cp "$D/privkey.pem" "$D/fullchain.pem" "$WORK/fixed/"
sh "$PF" stop "$WORK/mx2" >/dev/null 2>&1
sh "$PF" start "$WORK/mx2" "127.0.0.21=$WORK/fixed/privkey.pem,$WORK/fixed/fullchain.pem" >/dev/null ||
	bail "Postfix mx2 on the fixed copy"
renew P9
LINK0=$(readlink "$D")
i=0
while [ $i -lt 20 ]; do
	"$R" $C run > "$WORK/out" 2> "$WORK/err"
	LAST_ST=$?
	observe
	grep -q "not the deployed one" "$WORK/err" && break
	i=$((i + 1))
	sleep 1
done
alerted "one MX keeps the old certificate" "still serves a certificate that is not the deployed one"
like "stale MX: the run switched back" "$(cat "$WORK/out")" "switched back"
unchanged "stale MX"
like "stale MX: mx1 serves the old certificate again" \
	"$("$T" -r 3,1,1 -H mx1.example.test -c 127.0.0.20 -f json 2>&1)" "$OLD"
like "stale MX: the old record is kept" "$(published)" "$OLD"
sh "$PF" stop "$WORK/mx2" >/dev/null 2>&1
sh "$PF" start "$WORK/mx2" "127.0.0.21=$D/privkey.pem,$D/fullchain.pem" >/dev/null || bail "Postfix mx2"
recovered P9

# ---- 10. the state directory full: at import, then at PUBLISH --------------------------
fill() {
	dd if=/dev/zero of="$WORK/state/fill" bs=4k 2>/dev/null
	sh -c "! echo x > '$WORK/state/probe'" 2>/dev/null
	_fi=$?
	rm -f "$WORK/state/probe"
	return $_fi
}
leftovers() {
	find "$WORK/state" \( -name '*.??????' -o -name '*.tmp' -o -name '.*.tmp' \) -print > "$WORK/left"
	[ -s "$WORK/left" ] && diag "left: $(cat "$WORK/left")"
	wc -l < "$WORK/left"
}
certs_leaf "$WORK/pki" P10 ec mx1.example.test mx2.example.test >/dev/null 2>&1
OLD=$(roll_spki "$WORK/pki/$PREV.pem")
LINK0=$(readlink "$D")
ok "the state directory is full" fill
cp "$WORK/state/mx/state" "$WORK/state-before"
"$R" $C import mx "$WORK/pki/P10.chain.pem" "$WORK/pki/P10.key" > "$WORK/out" 2> "$WORK/err"
LAST_ST=$?
NOSTATUS=1 alerted "import, state dir full" "No space left on device"
ok "import, state dir full: the state file is unchanged" cmp -s "$WORK/state/mx/state" "$WORK/state-before"
is "import, state dir full: nothing half-stored is left" "$(leftovers)" 0
rm -f "$WORK/state/fill"
ok "import once there is room" "$R" $C import mx "$WORK/pki/P10.chain.pem" "$WORK/pki/P10.key"
# Full again, and without state.prev (whose block a save recycles).
rm -f "$WORK/state/mx/state.prev"
ok "the state directory is full again" fill
cp "$WORK/state/mx/state" "$WORK/state-before"
fault_runs 3
# With a full disk the alert cannot be kept in the state: stderr and
# syslog only.
NOSTATUS=1 alerted "runs, state dir full" "No space left on device"
ok "runs, state dir full: the state file is intact" cmp -s "$WORK/state/mx/state" "$WORK/state-before"
unchanged "runs, state dir full"
is "runs, state dir full: no temporary file left" "$(leftovers)" 0
rm -f "$WORK/state/fill"
recovered P10

# ---- 11. the state file corrupted, then truncated (mid-rollover) -----------------------
damage() {	# NAME how: garbage | truncate
	renew "$1"
	LINK0=$(readlink "$D")
	until_phase hold 10 >/dev/null || until_phase visible 5 >/dev/null
	if [ "$2" = garbage ]; then
		head -c 300 /dev/urandom | tr -c 'a-z: \n' 'x' > "$WORK/state/mx/state"
	else
		_dm_n=$(wc -c < "$WORK/state/mx/state")
		truncate -s $((_dm_n / 2)) "$WORK/state/mx/state"
	fi
	cp "$WORK/state/mx/state" "$WORK/state.damaged"
	_dm_rr=$(published)
	fault_runs 2
	NOSTATUS=1 alerted "state $2" "damaged"
	like "state $2: the message says how to recover" "$(cat "$WORK/err")" "state\\.prev"
	nok "state $2: status refuses too" "$R" $C status mx
	ok "state $2: the damaged file is left as it is" cmp -s "$WORK/state/mx/state" "$WORK/state.damaged"
	is "state $2: DNS is not touched" "$(published)" "$_dm_rr"
	unchanged "state $2"
	# The operator's recovery (tlsa-rollover(8), RECOVERY): the state
	# before the last change.
	cp "$WORK/state/mx/state.prev" "$WORK/state/mx/state"
	recovered "$1"
}
damage P11 garbage
damage P12 truncate

# ---- 12. the deploy directory removed (mid-rollover) ------------------------------------
renew P13
until_phase hold 10 >/dev/null || until_phase visible 5 >/dev/null
OLD_ID=$(readlink "$D")
rm -rf "$WORK/deploy"
fault_runs 1
NOSTATUS=1 alerted "deploy dir removed" "was missing"
ok "deploy dir removed: the run deployed a certificate again" test -e "$D/fullchain.pem"
recovered P13
diag "faults took $(( $(date +%s) - t0 )) s"

# Negative controls: the observers see a certificate with no record.
certs_leaf "$WORK/pki" rogue ec mx1.example.test mx2.example.test >/dev/null 2>&1
mkdir -p "$WORK/deploy/versions/rogue"
cp "$WORK/pki/rogue.chain.pem" "$WORK/deploy/versions/rogue/fullchain.pem"
cp "$WORK/pki/rogue.key" "$WORK/deploy/versions/rogue/privkey.pem"
good=$(readlink "$D")
ln -sfn versions/rogue "$D"
sh "$WORK/reload.sh" >/dev/null 2>&1
v0=$VIOLATIONS d0=$DEPLOY_BAD
observe 2>/dev/null
ok "negative control: the observer sees a served certificate without a record" [ "$VIOLATIONS" -gt "$v0" ]
ok "negative control: a deployed certificate without a record is seen" [ "$DEPLOY_BAD" -gt "$d0" ]
VIOLATIONS=$v0 DEPLOY_BAD=$d0
ln -sfn "$good" "$D"
sh "$WORK/reload.sh" >/dev/null 2>&1

is "the invariant observer saw no violation" "$VIOLATIONS" 0
is "nothing was deployed without a visible record" "$DEPLOY_BAD" 0
done_testing
