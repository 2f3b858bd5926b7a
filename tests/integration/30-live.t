#!/bin/sh
# 30-live.t: tlsagen --connect against live servers on loopback: a private
# Postfix (RSA, ECDSA and dual RSA+ECDSA hosts, STARTTLS), openssl s_server
# (direct TLS, SNI selection), and tests/lab/badsmtp.py (servers that
# misbehave).  Oracles: the certificate files themselves, hash-slinger
# `tlsa --create`, and `openssl s_client -dane_tlsa_*` for --verify.
#
# Addresses: Postfix on 127.0.0.20-22, bad servers on 127.0.0.24-25,
# nothing on 127.0.0.26, s_server on 127.0.0.30:4650; all inside the lab's
# private network namespace (root only; without root this bails).
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.0.20 mx1.example.test
127.0.0.30 sni.example.test"
lab_netns "$@"
PYTHON=${PYTHON:-/usr/bin/python3}
need_cmd postfix postconf openssl tlsa timeout setpriv "$PYTHON"
[ -x "$TLSAGEN" ] || bail "no tlsagen at $TLSAGEN (run make)"
. "$TOP/tests/lab/certs.sh"
T0=$(date +%s)

C=$WORK/certs
PF=$WORK/pf
# The Postfix daemons (user postfix) must reach the queue under WORK.
chmod 0711 "$WORK" || bail "cannot chmod $WORK"

# ---- helpers ------------------------------------------------------------

# tg ARGS: run tlsagen (bounded by a hard timeout of 20 s, in case it hangs)
# and set rc, out, err (stdout, stderr) and ms (wall time).
tg() {
	_t0=$(date +%s%N)
	timeout -k 2 20 "$TLSAGEN" "$@" > "$WORK/tg.out" 2> "$WORK/tg.err"
	rc=$?
	_t1=$(date +%s%N)
	ms=$(((_t1 - _t0) / 1000000))
	out=$(cat "$WORK/tg.out")
	err=$(cat "$WORK/tg.err")
}
nlines() { printf '%s' "$1" | grep -c ''; }
# recs: the "U S M HEX" part of zone lines, sorted (owner and class dropped).
recs() { awk '$3 == "TLSA" { print $4, $5, $6, $7 }' | sort; }
# slinger U FILE HOST: hash-slinger's U 1 1 record for FILE as "U 1 1 HEX".
slinger() {
	tlsa --create --certificate "$2" --usage "$1" --selector 1 --mtype 1 --port 25 "$3" 2>/dev/null |
		awk '$3 == "TLSA" { print $4, $5, $6, tolower($7) }'
}
# hash311 FILE: the 3 1 1 data of a certificate file's leaf (tlsagen).
hash311() { "$TLSAGEN" -r 3,1,1 "$1" | awk '{ print $NF }'; }
# sclient ADDR:PORT HOST RRDATA [opts]: openssl's own DANE verdict, STARTTLS.
sclient() {
	_a=$1 _h=$2 _r=$3
	shift 3
	timeout -k 2 10 openssl s_client -starttls smtp -connect "$_a" -dane_tlsa_domain "$_h" \
		-dane_tlsa_rrdata "$_r" "$@" < /dev/null 2>&1
}

BADPIDS=""
BADADDR=127.0.0.25
TRIES=1
at_exit 'for p in $BADPIDS; do kill $p; done'
# bad_start ADDR PORT MODE: a badsmtp.py server, waited for (bounded).
bad_start() {
	rm -f "$WORK/bad.ready"
	"$PYTHON" "$TOP/tests/lab/badsmtp.py" --lifetime 30 --ready "$WORK/bad.ready" "$1" "$2" "$3" &
	bad_pid=$!
	BADPIDS="$BADPIDS $bad_pid"
	_i=0
	while [ ! -s "$WORK/bad.ready" ]; do
		_i=$((_i + 1))
		if [ $_i -gt 50 ] || ! kill -0 "$bad_pid" 2>/dev/null; then
			bail "badsmtp.py $3 on $1:$2 did not start"
		fi
		sleep 0.1
	done
}
bad_stop() { kill "$bad_pid" 2>/dev/null; wait "$bad_pid" 2>/dev/null; }

# bad_case MODE PORT ERE [tlsagen args]: tlsagen against a bad server must
# fail alone: exit 1, nothing on stdout, one line on stderr naming the
# address and the problem (ERE), within --timeout 3 (under 6 s).  With
# TRIES=N it tries up to N times, stopping at the first wrong exit code
# (where the outcome depends on a race, e.g. a peer's RST against our TLS
# alert).
bad_case() {
	_mode=$1 _port=$2 _re=$3
	shift 3
	_addr=$BADADDR
	bad_start "$_addr" "$_port" "$_mode"
	_k=0
	while :; do
		_k=$((_k + 1))
		tg -c "$_addr:$_port" --timeout 3 -H bad.example.test "$@"
		[ "$rc" -eq 1 ] && [ $_k -lt "$TRIES" ] || break
	done
	[ "$TRIES" -gt 1 ] && _mode="$_mode (try $_k of $TRIES)"
	is "$_mode: exit 1" "$rc" 1
	is "$_mode: nothing on stdout" "$out" ""
	is "$_mode: one line on stderr" "$(nlines "$err")" 1
	like "$_mode: stderr names $_addr port $_port and the problem" "$err" \
		"^tlsagen: .*$(echo "$_addr" | sed 's/\./\\./g') port $_port: $_re"
	ok "$_mode: returns within the timeout ($ms ms < 6000)" test "$ms" -lt 6000
	bad_stop
}

# ---- certificates -------------------------------------------------------
certs_ca "$C" || bail "cannot make the lab CA"
certs_leaf "$C" mx1 rsa mx1.example.test || bail "cannot make mx1"
certs_leaf "$C" mx2 ec mx2.example.test || bail "cannot make mx2"
certs_leaf "$C" mx3r rsa mx3.example.test || bail "cannot make mx3 (RSA)"
certs_leaf "$C" mx3e ec mx3.example.test || bail "cannot make mx3 (ECDSA)"
certs_leaf "$C" dflt ec default.example.test || bail "cannot make the default s_server cert"
certs_leaf "$C" sni ec sni.example.test || bail "cannot make the SNI s_server cert"
certs_leaf "$C" mx2b ec mx2.example.test || bail "cannot make the renewed mx2"
certs_leaf "$C" mx4p rsapss mx4.example.test || bail "cannot make mx4 (RSA-PSS)"
certs_leaf "$C" mx4e ec mx4.example.test || bail "cannot make mx4 (ECDSA)"

# ---- the lab scripts themselves -----------------------------------------
nok "postfix.sh refuses a non-loopback address" sh "$TOP/tests/lab/postfix.sh" start "$WORK/pfx" "192.0.2.1=$C/mx1.key,$C/mx1.chain.pem"
nok "postfix.sh refuses an odd KEY,CHAIN list" sh "$TOP/tests/lab/postfix.sh" start "$WORK/pfx" "127.0.0.29=$C/mx1.key"
ok "postfix.sh stop is a no-op when nothing runs" sh "$TOP/tests/lab/postfix.sh" stop "$WORK/pfx"
_t0=$(date +%s%N)
"$PYTHON" "$TOP/tests/lab/badsmtp.py" --lifetime 1 127.0.0.29 2599 silent &
_p=$!
BADPIDS="$BADPIDS $_p"
wait $_p
_ms=$((($(date +%s%N) - _t0) / 1000000))
ok "badsmtp.py stops by itself after --lifetime 1 ($_ms ms)" test "$_ms" -lt 3000

# ---- Postfix: one RSA, one ECDSA, one dual RSA+ECDSA host ---------------
at_exit "sh '$TOP/tests/lab/postfix.sh' stop '$PF'"
sh "$TOP/tests/lab/postfix.sh" start "$PF" \
	"127.0.0.20=$C/mx1.key,$C/mx1.chain.pem" \
	"127.0.0.21=$C/mx2.key,$C/mx2.chain.pem" \
	"127.0.0.22=$C/mx3r.key,$C/mx3r.chain.pem,$C/mx3e.key,$C/mx3e.chain.pem" \
	"127.0.0.23=$C/mx4e.key,$C/mx4e.chain.pem,$C/mx4p.key,$C/mx4p.chain.pem" ||
	bail "the lab Postfix did not start"
diag "Postfix up after $(($(date +%s) - T0)) s"

for h in 1:mx1:127.0.0.20:RSA 2:mx2:127.0.0.21:ECDSA; do
	n=${h%%:*} r=${h#*:}
	name=${r%%:*} r=${r#*:}
	addr=${r%%:*} alg=${r#*:}
	host=mx$n.example.test
	tg -c "$addr" -H "$host"
	is "$alg $addr: tlsagen -c exits 0" "$rc" 0
	is "$alg $addr: nothing on stderr" "$err" ""
	live=$(printf '%s\n' "$out" | recs)
	files=$("$TLSAGEN" -H "$host" "$C/$name.chain.pem" | recs)
	slg=$({ slinger 3 "$C/$name.pem" "$host"; slinger 2 "$C/int.pem" "$host"; } | sort)
	is "$alg $addr: 3 1 1 + 2 1 1, live = files" "$live" "$files"
	is "$alg $addr: live = hash-slinger tlsa --create" "$live" "$slg"
	like "$alg $addr: owner _25._tcp.$host." "$out" "^_25\\._tcp\\.$host\\. IN TLSA 3 1 1 [0-9a-f]{64}\$"
	is "$alg $addr: two records" "$(nlines "$out")" 2
done

# Without -H the owner comes from the leaf's name, not the address.
tg -c 127.0.0.20
like "-c ADDR without -H: owner from the leaf's DNS name" "$out" "^_25\\._tcp\\.mx1\\.example\\.test\\. IN TLSA 3 1 1 "
# A name (the lab namespace's own /etc/hosts) and an explicit port.
tg -c mx1.example.test:25
is "-c NAME:25 resolves and fetches the same chain" "$(printf '%s\n' "$out" | recs)" "$("$TLSAGEN" "$C/mx1.chain.pem" | recs)"
# --starttls none to an SMTP port: a clean failure, not a hang.
tg -c 127.0.0.20:25 --starttls none --timeout 3
is "--starttls none to Postfix: exit 1" "$rc" 1
like "--starttls none to Postfix: one line naming the peer" "$err" "^tlsagen: .*127\\.0\\.0\\.20 port 25: TLS handshake"
ok "--starttls none to Postfix: within the timeout ($ms ms)" test "$ms" -lt 6000

# ---- --verify against the live Postfix, and openssl's verdict -------------
H1=$(hash311 "$C/mx1.pem")
H2=$(hash311 "$C/mx2.pem")
HI=$(slinger 2 "$C/int.pem" mx1.example.test | awk '{ print $4 }')
tg -c 127.0.0.20 -H mx1.example.test --verify "3 1 1 $H1"
is "--verify 3 1 1 (right): exit 0" "$rc" 0
like "--verify 3 1 1 (right): says which record matched" "$out" "match: 3 1 1 $H1 at depth 0"
o=$(sclient 127.0.0.20:25 mx1.example.test "3 1 1 $H1")
like "s_client agrees: Verification: OK" "$o" "^Verification: OK"
like "s_client agrees: Verified peername" "$o" "^Verified peername: mx1\\.example\\.test"
like "s_client agrees: matched EE certificate at depth 0" "$o" "DANE TLSA 3 1 1 .*matched EE certificate at depth 0"

tg -c 127.0.0.20 -H mx1.example.test --verify "3 1 1 $H2"
is "--verify 3 1 1 (wrong key): exit 2" "$rc" 2
like "--verify 3 1 1 (wrong key): no match" "$out" "no match"
is "--verify 3 1 1 (wrong key): nothing on stderr" "$err" ""
o=$(sclient 127.0.0.20:25 mx1.example.test "3 1 1 $H2")
like "s_client agrees: no matching DANE TLSA records" "$o" "^Verification error: no matching DANE TLSA records"

tg -c 127.0.0.20 -H mx1.example.test --verify "2 1 1 $HI"
is "--verify 2 1 1 (issuer in the chain, name matches): exit 0" "$rc" 0
like "--verify 2 1 1: matched at depth 1" "$out" "match: 2 1 1 $HI at depth 1"
o=$(sclient 127.0.0.20:25 mx1.example.test "2 1 1 $HI")
like "s_client agrees on 2 1 1: Verification: OK" "$o" "^Verification: OK"
like "s_client agrees on 2 1 1: matched TA certificate at depth 1" "$o" "matched TA certificate at depth 1"

tg -c 127.0.0.20 -H other.example.test --verify "2 1 1 $HI"
is "--verify 2 1 1 for a name the cert lacks: exit 2" "$rc" 2
o=$(sclient 127.0.0.20:25 other.example.test "2 1 1 $HI")
like "s_client agrees: 2 1 1 needs the name" "$o" "^Verification error: "

"$TLSAGEN" -H mx1.example.test "$C/mx1.chain.pem" > "$WORK/mx1.zone"
tg -c 127.0.0.20 -H mx1.example.test --verify "$WORK/mx1.zone"
is "--verify with a zone file of mx1's records: exit 0" "$rc" 0
tg -c 127.0.0.21 -H mx2.example.test --verify "$WORK/mx1.zone"
is "--verify mx2 against mx1's zone file: exit 2" "$rc" 2
like "--verify mx2 against mx1's zone file: no record for its owner" "$out" "no match"

# ---- the dual RSA + ECDSA host --------------------------------------------
HR=$(hash311 "$C/mx3r.pem")
HE=$(hash311 "$C/mx3e.pem")
o=$(sclient 127.0.0.22:25 mx3.example.test "3 1 1 $HR" -sigalgs rsa_pss_rsae_sha256:rsa_pkcs1_sha256)
like "dual host: an RSA-only client gets the RSA chain (s_client)" "$o" "^Verification: OK"
o=$(sclient 127.0.0.22:25 mx3.example.test "3 1 1 $HE" -sigalgs ecdsa_secp256r1_sha256)
like "dual host: an ECDSA client gets the ECDSA chain (s_client)" "$o" "^Verification: OK"
tg -c 127.0.0.22 -H mx3.example.test
is "dual host: exit 0" "$rc" 0
# Both chains are served (to different clients): records for both keys.
is "dual host: 3 1 1 for both the RSA and the ECDSA key" \
	"$(printf '%s\n' "$out" | recs | grep '^3 1 1 ')" "$(printf '3 1 1 %s\n3 1 1 %s\n' "$HR" "$HE" | sort)"
tg -c 127.0.0.22 -H mx3.example.test --verify "3 1 1 $HR" --verify "3 1 1 $HE"
is "dual host: --verify with both keys' records: exit 0" "$rc" 0
# A stale RSA record must not hide behind a good ECDSA one (and back).
tg -c 127.0.0.22 -H mx3.example.test --verify "3 1 1 $HE"
is "dual host: --verify with the ECDSA record only: exit 2 (RSA chain unmatched)" "$rc" 2
tg -c 127.0.0.22 -H mx3.example.test --verify "3 1 1 $HR"
is "dual host: --verify with the RSA record only: exit 2 (ECDSA chain unmatched)" "$rc" 2

# ---- a dual ECDSA + RSA-PSS host (id-RSASSA-PSS key, RFC 4055) -------------
# The RSA-PSS chain answers only clients offering rsa_pss_pss_* signature
# algorithms: the RSA handshake must offer them, or the chain is missed.
HP=$(slinger 3 "$C/mx4p.pem" mx4.example.test | awk '{ print $4 }')
HE4=$(slinger 3 "$C/mx4e.pem" mx4.example.test | awk '{ print $4 }')
is "RSA-PSS host: the leaf's key is RSASSA-PSS" \
	"$(openssl x509 -in "$C/mx4p.pem" -noout -text | grep -c 'Public Key Algorithm: rsassaPss')" 1
o=$(sclient 127.0.0.23:25 mx4.example.test "3 1 1 $HP" -sigalgs rsa_pss_pss_sha256)
like "RSA-PSS host: an RSA-PSS client gets the RSA-PSS chain (s_client, hash-slinger's record)" "$o" "^Verification: OK"
tg -c 127.0.0.23 -H mx4.example.test
is "RSA-PSS host: exit 0" "$rc" 0
is "RSA-PSS host: 3 1 1 for the RSA-PSS and the ECDSA key = hash-slinger" \
	"$(printf '%s\n' "$out" | recs | grep '^3 1 1 ')" "$(printf '3 1 1 %s\n3 1 1 %s\n' "$HP" "$HE4" | sort)"
is "RSA-PSS host: 2 1 1 for the intermediate, once" \
	"$(printf '%s\n' "$out" | recs | grep '^2 1 1 ')" "$(slinger 2 "$C/int.pem" mx4.example.test)"
is "RSA-PSS host: live = the chain files" "$(printf '%s\n' "$out" | recs)" \
	"$("$TLSAGEN" -H mx4.example.test "$C/mx4p.chain.pem" "$C/mx4e.chain.pem" | recs)"
tg -c 127.0.0.23 -H mx4.example.test -r 3,1,1 --verify "3 1 1 $HP" --verify "3 1 1 $HE4"
is "RSA-PSS host: --verify with both keys' records: exit 0" "$rc" 0
tg -c 127.0.0.23 -H mx4.example.test --verify "3 1 1 $HE4"
is "RSA-PSS host: --verify with the ECDSA record only: exit 2 (RSA-PSS chain unmatched)" "$rc" 2
got=$("$TLSAGEN" -H mx4.example.test "$C/mx4p.key" 2>&1)
is "RSA-PSS host: the lone private key gives the served certificate's 3 1 1" "$got" \
	"_25._tcp.mx4.example.test. IN TLSA 3 1 1 $HP"

# ---- reload picks up a renewed certificate --------------------------------
H2B=$(hash311 "$C/mx2b.pem")
cp "$C/mx2b.key" "$C/mx2.key.new" && mv "$C/mx2.key.new" "$C/mx2.key" &&
	cp "$C/mx2b.chain.pem" "$C/mx2.chain.new" && mv "$C/mx2.chain.new" "$C/mx2.chain.pem"
ok "postfix.sh reload" sh "$TOP/tests/lab/postfix.sh" reload "$PF"
tg -c 127.0.0.21 -H mx2.example.test -r 3,1,1
is "after reload: the renewed key's 3 1 1" "$out" "_25._tcp.mx2.example.test. IN TLSA 3 1 1 $H2B"

# ---- direct TLS and SNI: openssl s_server on 127.0.0.30:4650 ---------------
SP=127.0.0.30:4650
# -www: s_server then never reads its standard input (at EOF there it
# would stop accepting).
openssl s_server -accept "$SP" -www -naccept 100 \
	-cert "$C/dflt.pem" -key "$C/dflt.key" -cert_chain "$C/int.pem" \
	-servername sni.example.test -cert2 "$C/sni.pem" -key2 "$C/sni.key" \
	< /dev/null > "$WORK/s_server.out" 2>&1 &
SPID=$!
at_exit "kill $SPID"
i=0
until grep -q '^ACCEPT' "$WORK/s_server.out"; do
	i=$((i + 1))
	[ $i -le 50 ] && kill -0 $SPID 2>/dev/null || bail "openssl s_server did not start: $(cat "$WORK/s_server.out")"
	sleep 0.1
done
HD=$(hash311 "$C/dflt.pem")
HS=$(hash311 "$C/sni.pem")
tg -c "$SP" --starttls none -r 3,1,1
is "direct TLS (--starttls none): exit 0" "$rc" 0
is "direct TLS, no SNI (address): the default certificate" "$out" "_25._tcp.default.example.test. IN TLSA 3 1 1 $HD"
tg -c "$SP" -r 3,1,1
is "direct TLS by default on port 4650" "$out" "_25._tcp.default.example.test. IN TLSA 3 1 1 $HD"
tg -c "$SP" --starttls none --sni sni.example.test -H sni.example.test -r 3,1,1
is "--sni sni.example.test: s_server switches to its SNI certificate" "$out" "_25._tcp.sni.example.test. IN TLSA 3 1 1 $HS"
tg -c "$SP" --starttls none --sni other.example.test -H default.example.test -r 3,1,1
is "--sni other.example.test: the default certificate" "$out" "_25._tcp.default.example.test. IN TLSA 3 1 1 $HD"
tg -c "$SP" -H sni.example.test -r 3,1,1
is "-H NAME without --sni sends NAME as SNI" "$out" "_25._tcp.sni.example.test. IN TLSA 3 1 1 $HS"
tg -c sni.example.test:4650 -r 3,1,1
is "-c NAME:PORT sends NAME as SNI" "$out" "_25._tcp.sni.example.test. IN TLSA 3 1 1 $HS"
o=$(timeout -k 2 10 openssl s_client -connect "$SP" -servername sni.example.test < /dev/null 2>/dev/null |
	"$TLSAGEN" -r 3,1,1 -H sni.example.test - 2>&1)
is "s_client with the same SNI sees the same certificate" "$o" "_25._tcp.sni.example.test. IN TLSA 3 1 1 $HS"
tg -c "$SP" --sni sni.example.test -H sni.example.test --verify "3 1 1 $HS"
is "--verify over direct TLS with SNI: exit 0" "$rc" 0
tg -c "$SP" -H default.example.test --verify "3 1 1 $HS"
is "--verify over direct TLS, other SNI: exit 2" "$rc" 2

# ---- servers that misbehave -----------------------------------------------
bad_case silent 2501 "timed out waiting for the greeting" --starttls smtp
ok "silent: --timeout 3 is honoured, not cut short ($ms ms >= 2500)" test "$ms" -ge 2500
bad_case trickle 2502 "timed out waiting for the greeting" --starttls smtp
bad_case endless-banner 2503 "greeting reply has more than [0-9]+ lines" --starttls smtp
bad_case slow-banner 2504 "timed out waiting for the greeting" --starttls smtp
bad_case long-line 2505 "greeting reply line longer than [0-9]+ bytes" --starttls smtp
bad_case binary-banner 2506 "malformed greeting reply \"\\\\026\\\\003\\\\001" --starttls smtp
bad_case banner-5xx 2507 "greeting refused: \"554 5\\.3\\.2 " --starttls smtp
bad_case ehlo-5xx 2508 "EHLO refused: \"550 5\\.7\\.1 " --starttls smtp
bad_case ehlo-mixed 2509 "EHLO reply changes code mid-reply" --starttls smtp
bad_case no-starttls 2510 "server does not offer STARTTLS" --starttls smtp
bad_case starttls-4xx 2511 "STARTTLS refused: \"454 4\\.7\\.0 " --starttls smtp
TRIES=5; bad_case close-after-starttls 2512 "TLS handshake failed" --starttls smtp
TRIES=5; bad_case garbage-after-starttls 2513 "TLS handshake failed" --starttls smtp
TRIES=1
bad_case stall-after-starttls 2514 "TLS handshake timed out" --starttls smtp
bad_case inject 2515 "server sent data after its STARTTLS reply" --starttls smtp
TRIES=5; bad_case inject-late 2516 "TLS handshake failed" --starttls smtp
TRIES=1
bad_case silent 2517 "TLS handshake timed out" --starttls none
TRIES=5; bad_case close 2518 "connection closed before the greeting reply was complete" --starttls smtp
TRIES=5; bad_case close 2519 "TLS handshake failed" --starttls none
TRIES=1
# Port 25 means STARTTLS without being told.
BADADDR=127.0.0.24
bad_case no-starttls 25 "server does not offer STARTTLS"
BADADDR=127.0.0.25
# Nothing listens on 127.0.0.26.
tg -c 127.0.0.26 --timeout 3
is "connection refused: exit 1" "$rc" 1
is "connection refused: nothing on stdout" "$out" ""
is "connection refused: one line on stderr" "$(nlines "$err")" 1
like "connection refused: names the address" "$err" "^tlsagen: .*127\\.0\\.0\\.26 port 25: connect: Connection refused"
ok "connection refused: at once ($ms ms)" test "$ms" -lt 2000

# ---- stop ---------------------------------------------------------------
ok "postfix.sh stop" sh "$TOP/tests/lab/postfix.sh" stop "$PF"
tg -c 127.0.0.20 --timeout 3
like "after stop nothing listens on 127.0.0.20:25" "$err" "Connection refused"
diag "done in $(($(date +%s) - T0)) s"
done_testing
