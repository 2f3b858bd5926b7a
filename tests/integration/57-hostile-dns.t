#!/bin/sh
# 57-hostile-dns.t: DNS servers that lie, spoof, drip and inflate TTLs,
# and a lock that is never released (issue 12).  Served by
# tests/lab/baddns.py on 127.0.0.48:53 inside the lab's private network
# namespace (root).
#   - UDP: datagrams that are not the answer (another ID, another
#     question, garbage) are dropped and the real answer still counts; a
#     server that only ever sends wrong IDs fails within the timeout.
#   - TCP: an answer one byte a second fails within the exchange's bound
#     (tlsagen --update, tlsa-rollover publish), and a run has one
#     deadline for all its DNS (half of lock_timeout).
#   - TTLs: 2^31-1 is capped at max_ttl with an alert naming the server;
#     a TTL with the top bit set counts as 0 (RFC 2181); status loads.
#   - the visibility queries to the primary are signed with the TSIG key
#     (a primary that answers only signed queries still counts).
#   - a lock held longer than lock_timeout: run says so and exits 3.
. "$(dirname "$0")/../lib.sh"
lab_netns "$@"
PYTHON=${PYTHON:-/usr/bin/python3}
need_cmd openssl timeout flock sed grep "$PYTHON"
: "${TLSA_ROLLOVER:=$TOP/build/tlsa-rollover}"
[ -x "$TLSAGEN" ] || bail "no tlsagen at $TLSAGEN (run make)"
[ -x "$TLSA_ROLLOVER" ] || bail "no tlsa-rollover at $TLSA_ROLLOVER (run make)"
. "$TOP/tests/lab/certs.sh"

GOOD=$TOP/tests/fixtures/p256/leaf.pem
ST=$WORK/state
P=$WORK/pki
B=127.0.0.48
mkdir -p "$WORK/deploy" || bail "mkdir"
printf 'key "tlsa-update" { algorithm hmac-sha256; secret "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTIzNA=="; };\n' > "$WORK/tsig.key"
chmod 600 "$WORK/tsig.key"
certs_ca "$P" && certs_leaf "$P" A ec mx1.example.test || bail "cannot make the lab PKI"

# config FILE [TOP-LEVEL LINE [CHECKED]]: DNS at baddns.py, checked at
# CHECKED (the resolver and the one authoritative server; default $B).
config() {
	cat > "$1" <<-EOF
	state_dir: $ST
	${2:-}
	dns:
	  zone: example.test
	  primary: $B@53
	  resolver: ${3:-$B}@53
	  check_servers: [${3:-$B}@53]
	  tsig_key_file: $WORK/tsig.key
	  ttl: 60
	services:
	  - name: mx
	    hosts: [mx1.example.test]
	    deploy_dir: $WORK/deploy
	EOF
}
config "$WORK/c.yaml"

SRV_PID=""
SRV2_PID=""
HOLD_PID=""
at_exit '[ -n "$SRV_PID" ] && kill $SRV_PID; [ -n "$SRV2_PID" ] && kill $SRV2_PID; [ -n "$HOLD_PID" ] && kill $HOLD_PID'
srv_stop() {
	for _p in $SRV_PID $SRV2_PID; do
		kill "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
	SRV_PID=""
	SRV2_PID=""
}
# srv_wait ADDR PID MODE: until baddns.py listens on ADDR:53 (bounded).
srv_wait() {
	_i=0
	until ss -Hlnu 2>/dev/null | grep -q "$1:53 "; do
		_i=$((_i + 1))
		[ $_i -le 50 ] && kill -0 "$2" 2>/dev/null || bail "baddns.py $3 did not start"
		sleep 0.1
	done
}
# dns_start MODE [SECONDS]: baddns.py on $B:53, waited for (bounded).
dns_start() {
	"$PYTHON" "$TOP/tests/lab/baddns.py" $B 53 "$1" "${2:-40}" &
	SRV_PID=$!
	srv_wait $B $SRV_PID "$1"
}
# dns_start2 MODE [SECONDS]: another one on $B2:53.
B2=127.0.0.49
dns_start2() {
	"$PYTHON" "$TOP/tests/lab/baddns.py" $B2 53 "$1" "${2:-40}" &
	SRV2_PID=$!
	srv_wait $B2 $SRV2_PID "$1"
}
# The primary signs its answers to queries signed with our key.
BADDNS_TSIG=tlsa-update:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTIzNA==
export BADDNS_TSIG
# run CMD...: bounded; $rc, $secs, $WORK/out, $WORK/err.
run() {
	_t0=$(date +%s)
	timeout -k 5 60 "$@" < /dev/null > "$WORK/out" 2> "$WORK/err"
	rc=$?
	secs=$(( $(date +%s) - _t0 ))
}
lines() { grep -c '' "$1"; }
# state_pending: a fresh state with a certificate imported and waiting.
state_pending() {
	rm -rf "$ST"
	"$TLSA_ROLLOVER" -f "$WORK/c.yaml" import mx "$P/A.chain.pem" "$P/A.key" > "$WORK/out" 2>&1 ||
		bail "cannot import a good certificate: $(cat "$WORK/out")"
}

# ---- 1. UDP: spoofed datagrams are dropped, not believed or fatal ------------
dns_start spoof-first
run "$TLSAGEN" --timeout 2 --dns-status --resolver $B@53 --primary $B@53 \
	-z example.test -H mx1.example.test "$GOOD"
srv_stop
nok "spoof-first: no datagram that does not belong ends the query" \
	grep -q 'does not belong' "$WORK/err"
like "spoof-first: the real answer (no NS records) is what counts" \
	"$(cat "$WORK/err")" "$B@53: no name server addresses for example.test"

dns_start wrongid-flood
run "$TLSAGEN" --timeout 2 --dns-status --resolver $B@53 --primary $B@53 \
	-z example.test -H mx1.example.test "$GOOD"
srv_stop
ok "wrongid-flood: fails" test "$rc" -ne 0 -a "$rc" -ne 124
ok "wrongid-flood: one line on stderr" test "$(lines "$WORK/err")" -eq 1
like "wrongid-flood: says the datagrams did not belong, naming the server" \
	"$(cat "$WORK/err")" "$B@53: no answer that belongs to the query over UDP within 4000 ms; 20 datagrams discarded, the last: reply does not belong to the query \\(another message ID\\)"
ok "wrongid-flood: within the timeout (2 tries x 2 s; took $secs s)" test "$secs" -le 6

# ---- 2. TCP: an answer dripped a byte a second ----------------------------------
dns_start drip
run "$TLSAGEN" --timeout 2 --update $B --tsig-key "$WORK/tsig.key" \
	-z example.test -H mx1.example.test "$GOOD"
srv_stop
ok "drip, tlsagen --update: fails" test "$rc" -ne 0 -a "$rc" -ne 124
ok "drip, tlsagen --update: one line on stderr" test "$(lines "$WORK/err")" -eq 1
like "drip, tlsagen --update: too slow, naming the server" "$(cat "$WORK/err")" \
	"^tlsagen: $B@53: answer not complete over TCP within 2000 ms; [0-9]+ bytes arrived \\(too slow\\)$"
ok "drip, tlsagen --update: within the bound (took $secs s)" test "$secs" -le 5

state_pending
dns_start drip
run "$TLSA_ROLLOVER" -f "$WORK/c.yaml" publish mx
srv_stop
ok "drip, tlsa-rollover publish: fails" test "$rc" -eq 1
ok "drip, tlsa-rollover publish: one line on stderr" test "$(lines "$WORK/err")" -eq 1
like "drip, tlsa-rollover publish: too slow, naming the server" "$(cat "$WORK/err")" \
	"$B@53: answer not complete over TCP within 3000 ms"
ok "drip, tlsa-rollover publish: within the bound (took $secs s)" test "$secs" -le 8

# One deadline for the whole run: lock_timeout 6s gives DNS 3 s in all,
# less than a single silent exchange (3 tries x 3 s).
config "$WORK/short.yaml" "lock_timeout: 6s"
state_pending
dns_start silent
run "$TLSA_ROLLOVER" -f "$WORK/short.yaml" run
srv_stop
ok "run deadline: the run fails" test "$rc" -eq 1
ok "run deadline: one line on stderr" test "$(lines "$WORK/err")" -eq 1
like "run deadline: the run's time is used up, naming the server" "$(cat "$WORK/err")" \
	"$B@53: no answer over UDP: the run's time for DNS \\(3 s\\) is used up"
ok "run deadline: within it (took $secs s)" test "$secs" -le 5

# ---- 3. TTLs from the servers -----------------------------------------------------
# The primary at $B (answering signed queries), the authoritative server
# and the resolver at $B2.
config "$WORK/ttl.yaml" "" $B2
# A state waiting in VISIBLE for the RRset baddns.py bigttl serves
# (3 1 1 and 32 zero bytes), with TTL and SOA minimum 2^31-1.
state_visible() {
	rm -rf "$ST"
	mkdir -m 700 -p "$ST/mx" || bail "mkdir"
	cat > "$ST/mx/state" <<-EOF
	# tlsa-rollover state of service mx; written by tlsa-rollover, do not edit
	phase: visible
	published: 3 1 1 0000000000000000000000000000000000000000000000000000000000000000
	published_hosts: _25._tcp.mx1.example.test.
	published_at: $(date +%s)
	updated_at: $(date +%s)
	EOF
	chmod 600 "$ST/mx/state"
}
state_visible
dns_start bigttl
dns_start2 bigttl
run "$TLSA_ROLLOVER" -f "$WORK/ttl.yaml" run
srv_stop
like "TTL 2^31-1: the hold is 2 x max_ttl (1 day) + margin" "$(cat "$WORK/out")" \
	"holding 173400 s \\(2 x TTL 86400 \\+ margin\\)"
ok "TTL 2^31-1: the run reports an alert (exit 1)" test "$rc" -eq 1
ok "TTL 2^31-1: one line on stderr" test "$(lines "$WORK/err")" -eq 1
like "TTL 2^31-1: the alert names the server and the TTL" "$(cat "$WORK/err")" \
	"server $B2@53 gives TLSA TTL 2147483647, above max_ttl 86400: the hold uses 86400"
like "TTL 2^31-1: the state holds the capped TTL" "$(cat "$ST/mx/state")" "hold_ttl: 86400"
run "$TLSA_ROLLOVER" -f "$WORK/ttl.yaml" status
nok "TTL 2^31-1: status loads the state" grep -q 'not a state line\|damaged' "$WORK/err"
like "TTL 2^31-1: status shows the alert" "$(cat "$WORK/out" "$WORK/err")" "above max_ttl 86400"

state_visible
dns_start bigttl 40:top
dns_start2 bigttl 40:top
run "$TLSA_ROLLOVER" -f "$WORK/ttl.yaml" run
srv_stop
like "TTL 2^32-1: counts as 0 (RFC 2181): the hold uses our TTL 60" "$(cat "$WORK/out")" \
	"holding 3600 s \\(2 x TTL 60 \\+ margin\\)"
is "TTL 2^32-1: the run succeeds" "$rc" 0
run "$TLSA_ROLLOVER" -f "$WORK/ttl.yaml" status
is "TTL 2^32-1: status loads the state (exit 0)" "$rc" 0
nok "TTL 2^32-1: status does not call the state damaged" grep -q 'not a state line\|damaged' "$WORK/err"

# ---- 5. a hidden primary that answers only signed queries -------------------------
state_visible
BADDNS_TSIG_ONLY=1 dns_start bigttl 40:top
dns_start2 bigttl 40:top
run "$TLSA_ROLLOVER" -f "$WORK/ttl.yaml" run
srv_stop
is "TSIG-only primary: the run succeeds" "$rc" 0
like "TSIG-only primary: the signed visibility queries count" "$(cat "$WORK/out")" \
	"visible on every server and validated"
nok "TSIG-only primary: no REFUSED" grep -q REFUSED "$WORK/out" "$WORK/err"

# ---- 4. a lock that is never released ------------------------------------------------
config "$WORK/lock.yaml" "lock_timeout: 2s"
rm -rf "$ST"
mkdir -m 700 "$ST" || bail "mkdir"
: > "$ST/lock" && chmod 600 "$ST/lock"
# The holder writes the pid and the time, as tlsa-rollover does; bounded.
flock "$ST/lock" sh -c 'printf "%s\n%s\n" $$ "$(date +%s)" > "$1"; sleep 6' sh "$ST/lock" &
HOLD_PID=$!
_i=0
until [ "$(grep -c '' "$ST/lock")" -eq 2 ]; do
	_i=$((_i + 1)); [ $_i -le 50 ] || bail "the lock holder did not start"; sleep 0.1
done
run "$TLSA_ROLLOVER" -f "$WORK/lock.yaml" run
is "lock held briefly: run leaves quietly (exit 0)" "$rc" 0
like "lock held briefly: says another run is at work" "$(cat "$WORK/out")" "another tlsa-rollover"
sleep 3
run "$TLSA_ROLLOVER" -f "$WORK/lock.yaml" run
is "lock held past lock_timeout: run exits 3" "$rc" 3
ok "lock held past lock_timeout: one line on stderr" test "$(lines "$WORK/err")" -eq 1
like "lock held past lock_timeout: the alert says how long, and the bound" "$(cat "$WORK/err")" \
	"$ST/lock: another tlsa-rollover \\(pid [0-9]+\\) is running; this one stops here \\(lock held for [3-9] s, longer than lock_timeout 2 s: stuck\\?\\)"
# flock(1) hands the lock to its child: wait for both (6 s, bounded).
wait "$HOLD_PID" 2>/dev/null
HOLD_PID=""
run "$TLSA_ROLLOVER" -f "$WORK/lock.yaml" run
is "lock free again: run succeeds" "$rc" 0
like "a run records when it took the lock" "$(sed -n 2p "$ST/lock")" '^[0-9]+$'

# The systemd unit kills a hung run before the default lock_timeout (1 h)
# would call it stuck.
UNIT=$TOP/hooks/tlsa-rollover.service
tss=$(sed -n 's/^TimeoutStartSec=\([0-9][0-9]*\)min$/\1/p' "$UNIT")
ok "the systemd unit bounds the run (TimeoutStartSec=N min)" test -n "$tss"
ok "... to less than the default lock_timeout ($tss min < 60 min)" test "${tss:-99}" -lt 60

done_testing
