#!/bin/sh
# 50-zones.t: tlsagen's DNS side against the real lab (tests/lab/dns.sh):
# RFC 2136 updates with TSIG and compare-and-swap prerequisites, nsupdate
# scripts fed to the real nsupdate, fragments and signed fragments checked
# by named-checkzone, ldns-verify-zone and a validating Unbound, and
# --dns-status against a lagging secondary, a hidden primary, bogus and
# insecure answers.  Every expected record comes from hash-slinger `tlsa`.
. "$(dirname "$0")/../lib.sh"
lab_netns "$@"
need_cmd named unbound nsupdate dig tlsa ldns-verify-zone named-checkzone \
	dnssec-keygen dnssec-signzone faketime python3
. "$TOP/tests/lab/dns.sh"

LAB=$WORK/dns
at_exit "dns_lab_stop '$LAB'"
dns_lab_start "$LAB" || bail "the DNS lab did not start"
Z=$DNS_ZONE
T=$TLSAGEN
FX=$TOP/tests/fixtures
OWNER=_25._tcp.mx1.$Z.

# The independent oracle: hash-slinger's record data for a cert.
oracle() {	# CERT USAGE SELECTOR MTYPE
	tlsa --create --certificate "$1" --usage "$2" --selector "$3" --mtype "$4" \
		--port 25 "mx1.$Z" 2>/dev/null | awk '/TLSA/ { print tolower($NF) }'
}
# The TLSA RRset a server serves, "U S M hex" lines sorted, lower case.
served() {	# ADDR [NAME]
	dig @"$1" +time=2 +tries=1 +norec +noall +answer "${2:-$OWNER}" TLSA |
		awk '$4 == "TLSA" { d = ""; for (i = 8; i <= NF; i++) d = d $i; print $5, $6, $7, tolower(d) }' | sort
}

# served_now ADDR WANT [NAME]: what ADDR serves, once it serves WANT or
# after 3 s (inline signing applies an accepted update a moment later).
served_now() {
	_sn_i=0
	while [ $_sn_i -lt 30 ]; do
		_sn_got=$(served "$1" "${3:-$OWNER}")
		[ "$_sn_got" = "$2" ] && break
		_sn_i=$((_sn_i + 1))
		sleep 0.1
	done
	printf '%s\n' "$_sn_got"
}

P256=$FX/p256
RSA=$FX/rsa2048
EE_P256=$(oracle "$P256/leaf.pem" 3 1 1)
TA_P256=$(oracle "$P256/int.pem" 2 1 1)
EE_RSA=$(oracle "$RSA/leaf.pem" 3 1 1)
[ -n "$EE_P256" ] && [ -n "$TA_P256" ] && [ -n "$EE_RSA" ] || bail "hash-slinger gave no records"

# ---- RFC 2136 add, with TSIG -------------------------------------------
out=$("$T" --update "$DNS_PRIMARY" --tsig-key "$DNS_TSIG_KEY" -t 5 -H "mx1.$Z" "$P256/fullchain.pem" 2>&1)
is "update add: exit 0" "$?" 0
like "update add: says what it did" "$out" "^$OWNER: updated: 2 added, 0 removed"
want=$(printf '2 1 1 %s\n3 1 1 %s\n' "$TA_P256" "$EE_P256" | sort)
is "primary serves exactly the two records" "$(served_now "$DNS_PRIMARY" "$want")" "$want"
ok "secondary catches up (NOTIFY/IXFR)" dns_lab_sync_wait "$LAB" 20
is "secondary serves the same" "$(served "$DNS_SECONDARY")" "$(served "$DNS_PRIMARY")"
flags=$(dig @"$DNS_RESOLVER" +time=2 +tries=1 +dnssec "$OWNER" TLSA | sed -n 's/^;; flags: \([^;]*\);.*/\1/p')
like "Unbound returns them validated (ad)" "$flags" '(^| )ad( |$)'

out=$("$T" --update "$DNS_PRIMARY" --tsig-key "$DNS_TSIG_KEY" -t 5 -H "mx1.$Z" "$P256/fullchain.pem" 2>&1)
like "same update again: unchanged" "$out" "^$OWNER: unchanged"

# ---- dry run changes nothing ---------------------------------------------
before=$(served "$DNS_PRIMARY")
out=$("$T" -n --update "$DNS_PRIMARY" --tsig-key "$DNS_TSIG_KEY" -H "mx1.$Z" --replace "$RSA/leaf.pem" 2>&1)
like "dry run: says what would change" "$out" "would be updated: 1 added, 2 removed"
is "dry run: nothing changed" "$(served "$DNS_PRIMARY")" "$before"

# ---- compare and swap ------------------------------------------------------
out=$("$T" --update "$DNS_PRIMARY" --tsig-key "$DNS_TSIG_KEY" -H "mx1.$Z" --expect none "$RSA/leaf.pem" 2>&1)
st=$?
is "stale --expect: exit 1" "$st" 1
like "stale --expect: YXRRSET named, with the RRset in place" "$out" "YXRRSET.*$OWNER now holds"
is "stale --expect: one line" "$(printf '%s\n' "$out" | wc -l)" 1
is "stale --expect: nothing changed" "$(served "$DNS_PRIMARY")" "$before"
# A writer that changed the RRset between our read and our write: the
# record we expected is gone.
printf 'update add %s 5 IN TLSA 3 1 1 %s\n' "$OWNER" "$EE_RSA" | dns_update "$LAB" >/dev/null 2>&1
out=$("$T" --update "$DNS_PRIMARY" --tsig-key "$DNS_TSIG_KEY" -H "mx1.$Z" --replace \
	--expect "3 1 1 $EE_P256" --expect "2 1 1 $TA_P256" "$P256/leaf.pem" 2>&1)
like "concurrent writer: our update is refused" "$out" "YXRRSET|NXRRSET"
sleep 0.5
like "concurrent writer: the other writer's record survives" "$(served "$DNS_PRIMARY")" "3 1 1 $EE_RSA"

# ---- replace and delete -----------------------------------------------------
out=$("$T" --update "$DNS_PRIMARY" --tsig-key "$DNS_TSIG_KEY_512" -t 5 -H "mx1.$Z" --replace "$RSA/leaf.pem" 2>&1)
is "replace with the hmac-sha512 key: exit 0" "$?" 0
is "replace: exactly the new record" "$(served_now "$DNS_PRIMARY" "3 1 1 $EE_RSA")" "3 1 1 $EE_RSA"
out=$("$T" --update "$DNS_PRIMARY" --tsig-key "$DNS_TSIG_KEY_384" -H "mx1.$Z" --delete "$RSA/leaf.pem" 2>&1)
is "delete with the hmac-sha384 key: exit 0" "$?" 0
is "delete: RRset gone" "$(served_now "$DNS_PRIMARY" "")" ""

# ---- several owners in one message -------------------------------------------
out=$("$T" --update "$DNS_PRIMARY" --tsig-key "$DNS_TSIG_KEY" -t 5 -z "$Z" -r 3,1,1 \
	-p 25 "$P256/leaf.pem" -H "mx2.$Z" 2>&1)
is "second owner: exit 0" "$?" 0
is "mx2 has its record" "$(served_now "$DNS_PRIMARY" "3 1 1 $EE_P256" "_25._tcp.mx2.$Z.")" "3 1 1 $EE_P256"
"$T" --update "$DNS_PRIMARY" --tsig-key "$DNS_TSIG_KEY" -z "$Z" -H "mx2.$Z" --delete -r 3,1,1 "$P256/leaf.pem" >/dev/null 2>&1

# ---- refusals: each one line, exit 1, nothing changed -------------------------
before=$(served "$DNS_PRIMARY")
one_line_fail() {	# NAME REGEX cmd...
	_olf_name=$1 _olf_re=$2
	shift 2
	_olf_out=$("$@" 2>&1)
	_olf_st=$?
	if [ "$_olf_st" -eq 1 ] && [ "$(printf '%s\n' "$_olf_out" | wc -l)" -eq 1 ] &&
		printf '%s\n' "$_olf_out" | grep -Eq -- "$_olf_re" && [ "$(served "$DNS_PRIMARY")" = "$before" ]; then
		_report 0 "$_olf_name"
	else
		_report 1 "$_olf_name" "exit $_olf_st" "output: $_olf_out"
	fi
}
sed 's/secret "[^"]*"/secret "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="/' "$DNS_TSIG_KEY" > "$WORK/wrongsecret.key"
chmod 600 "$WORK/wrongsecret.key"
one_line_fail "wrong secret: BADSIG" "BADSIG" \
	"$T" --update "$DNS_PRIMARY" --tsig-key "$WORK/wrongsecret.key" -H "mx1.$Z" "$P256/leaf.pem"
sed 's/key "[^"]*"/key "no-such-key"/' "$DNS_TSIG_KEY" > "$WORK/wrongname.key"
chmod 600 "$WORK/wrongname.key"
one_line_fail "unknown key name: BADKEY" "BADKEY" \
	"$T" --update "$DNS_PRIMARY" --tsig-key "$WORK/wrongname.key" -H "mx1.$Z" "$P256/leaf.pem"
sed 's/hmac-sha256/hmac-sha384/' "$DNS_TSIG_KEY" > "$WORK/wrongalg.key"
chmod 600 "$WORK/wrongalg.key"
one_line_fail "wrong algorithm: refused by the server" "BADKEY|BADSIG|NOTAUTH" \
	"$T" --update "$DNS_PRIMARY" --tsig-key "$WORK/wrongalg.key" -H "mx1.$Z" "$P256/leaf.pem"
cp "$DNS_TSIG_KEY" "$WORK/open.key"
chmod 644 "$WORK/open.key"
one_line_fail "key file readable by others: refused before sending" "accessible by group or others" \
	"$T" --update "$DNS_PRIMARY" --tsig-key "$WORK/open.key" -H "mx1.$Z" "$P256/leaf.pem"
sed 's/hmac-sha256/hmac-md5/' "$DNS_TSIG_KEY" > "$WORK/md5.key"
chmod 600 "$WORK/md5.key"
one_line_fail "hmac-md5 key: refused" "not supported" \
	"$T" --update "$DNS_PRIMARY" --tsig-key "$WORK/md5.key" -H "mx1.$Z" "$P256/leaf.pem"
one_line_fail "no key: REFUSED" "REFUSED" \
	"$T" --update "$DNS_PRIMARY" -H "mx1.$Z" "$P256/leaf.pem"
one_line_fail "clock 2 h fast: BADTIME with the skew" "BADTIME.*-7[0-9]{3} s" \
	env ASAN_OPTIONS=verify_asan_link_order=0 faketime -f "+2h" "$T" --update "$DNS_PRIMARY" --tsig-key "$DNS_TSIG_KEY" -H "mx1.$Z" "$P256/leaf.pem"
one_line_fail "zone the server does not have: NOTAUTH/REFUSED" "NOTAUTH|REFUSED|NOTZONE" \
	"$T" --update "$DNS_PRIMARY" --tsig-key "$DNS_TSIG_KEY" -z other.test -H "mx1.other.test" "$P256/leaf.pem"
t0=$(date +%s)
one_line_fail "nobody listening: refused" "127.0.0.49@53" \
	"$T" --update 127.0.0.49 --tsig-key "$DNS_TSIG_KEY" -z "$Z" -H "mx1.$Z" "$P256/leaf.pem"

# Misbehaving servers
for mode in silent garbage wrongid truncated noaa short; do
	python3 "$TOP/tests/lab/baddns.py" 127.0.0.48 53 "$mode" 20 &
	bpid=$!
	sleep 0.3
	t0=$(date +%s)
	one_line_fail "server that is $mode: error" "127.0.0.48@53" \
		"$T" --timeout 2 --update 127.0.0.48 --tsig-key "$DNS_TSIG_KEY" -z "$Z" -H "mx1.$Z" "$P256/leaf.pem"
	el=$(($(date +%s) - t0))
	ok "server that is $mode: bounded time (${el}s)" test "$el" -le 15
	kill "$bpid" 2>/dev/null
	wait "$bpid" 2>/dev/null
done

# ---- nsupdate scripts through the real nsupdate --------------------------------
"$T" -f nsupdate -s "$DNS_PRIMARY" -z "$Z" -t 5 --replace -H "mx1.$Z" "$P256/fullchain.pem" > "$WORK/upd.txt"
ok "nsupdate script runs" nsupdate -k "$DNS_TSIG_KEY" "$WORK/upd.txt"
is "nsupdate script: records in place" "$(served_now "$DNS_PRIMARY" "$want")" "$want"
nok "nsupdate script: no secret in it" grep -q secret "$WORK/upd.txt"
"$T" -f nsupdate -s "$DNS_PRIMARY" -z "$Z" -t 5 --expect none -H "mx1.$Z" "$RSA/leaf.pem" > "$WORK/upd2.txt"
like "nsupdate script with --expect none has an nxrrset prereq" "$(cat "$WORK/upd2.txt")" "prereq nxrrset $OWNER IN TLSA"
nok "nsupdate refuses it: the RRset exists" nsupdate -k "$DNS_TSIG_KEY" "$WORK/upd2.txt"
"$T" -f nsupdate -s "$DNS_PRIMARY" -z "$Z" -t 5 --replace --expect "3 1 1 $EE_P256" --expect "2 1 1 $TA_P256" \
	-H "mx1.$Z" "$RSA/leaf.pem" > "$WORK/upd3.txt"
ok "nsupdate with the right prerequisite runs" nsupdate -k "$DNS_TSIG_KEY" "$WORK/upd3.txt"
is "nsupdate with prerequisite: replaced" "$(served_now "$DNS_PRIMARY" "3 1 1 $EE_RSA")" "3 1 1 $EE_RSA"

# ---- --dns-status ---------------------------------------------------------------
dns_lab_sync_wait "$LAB" 20 >/dev/null 2>&1
dns_resolver_flush "$LAB" >/dev/null 2>&1
out=$("$T" --dns-status --resolver "$DNS_RESOLVER" --primary "$DNS_PRIMARY" \
	--trust-anchor "$DNS_TRUST_ANCHOR" -H "mx1.$Z" -r 3,1,1 "$RSA/leaf.pem" 2>&1)
st=$?
is "dns-status: all in step: exit 0" "$st" 0
[ "$st" -eq 0 ] || diag "$out"
like "dns-status: found ns1 from the NS set" "$out" "ns $DNS_PRIMARY@53 ns1.$Z.: match, AA, serial [0-9]+"
like "dns-status: found ns2" "$out" "ns $DNS_SECONDARY@53 ns2.$Z.: match"
like "dns-status: hidden primary asked" "$out" "primary $DNS_PRIMARY@53: match"
like "dns-status: resolver secure" "$out" "resolver $DNS_RESOLVER@53: secure, match"
like "dns-status: local validation secure" "$out" "local validation .*: secure, match"

# A lagging secondary: it keeps the old RRset while the primary moves on.
dns_secondary_pause "$LAB" >/dev/null 2>&1
"$T" --update "$DNS_PRIMARY" --tsig-key "$DNS_TSIG_KEY" -t 5 -H "mx1.$Z" -r 3,1,1 "$P256/leaf.pem" >/dev/null 2>&1
out=$("$T" --dns-status --resolver "$DNS_RESOLVER" -H "mx1.$Z" -r 3,1,1 "$P256/leaf.pem" "$RSA/leaf.pem" 2>&1)
is "dns-status with a lagging secondary: exit 2" "$?" 2
like "dns-status: the secondary DIFFERS, with its RRset" "$out" "ns $DNS_SECONDARY@53 ns2.$Z.: DIFFERS, AA, serial [0-9]+, TTL [0-9]+: 3 1 1 "
like "dns-status: the primary matches" "$out" "ns $DNS_PRIMARY@53 ns1.$Z.: match"
dns_secondary_resume "$LAB" >/dev/null 2>&1
ok "secondary catches up after the lag" dns_lab_sync_wait "$LAB" 20
dns_resolver_flush "$LAB" >/dev/null 2>&1
out=$("$T" --dns-status --resolver "$DNS_RESOLVER" -H "mx1.$Z" -r 3,1,1 "$P256/leaf.pem" "$RSA/leaf.pem" 2>&1)
is "dns-status after the lag: exit 0" "$?" 0

# A resolver given as an authoritative server: no AA.
out=$("$T" --dns-status --ns "$DNS_RESOLVER" -z "$Z" -H "mx1.$Z" 2>&1)
st=$?
like "dns-status: a resolver is not an authoritative server" "$out" "server $DNS_RESOLVER@53: NOT AUTHORITATIVE"
is "dns-status: ... exit 2" "$st" 2

# ---- fragments, signed fragments, a pre-signed zone --------------------------
PZ=presigned.test
XZ=expired.test
mkdir -p "$WORK/ps/ns" "$WORK/ps/ub" && cd "$WORK/ps" || bail "no dir"
# make_zone ZONE: db.ZONE with a placeholder TLSA at mx1, signed with a
# fresh CSK into db.ZONE.signed; the key's base name goes to key.ZONE.
make_zone() {
	cat > "db.$1" <<ZONE
\$ORIGIN $1.
\$TTL 5
@ SOA ns hostmaster 1 3600 5 1209600 2
@ NS ns
ns A 127.0.0.42
mx1 A 127.0.0.20
_25._tcp.mx1 TLSA 3 1 1 0000000000000000000000000000000000000000000000000000000000000000
_465._tcp.mx1 TXT "a name without TLSA"
ZONE
	_mz_k=$(dnssec-keygen -q -a ECDSAP256SHA256 -f KSK "$1") || return 1
	chmod 600 "$_mz_k.private"
	echo "$_mz_k" > "key.$1"
	dnssec-signzone -q -S -z -K . -o "$1" -f "db.$1.signed" "db.$1" >/dev/null 2>&1
}
# merge ZONE FRAGMENT OUT: the signed zone with its mx1 TLSA RRset and
# RRSIG replaced by the fragment's.
merge() {
	ldns-read-zone "db.$1.signed" |
		awk -v o="_25._tcp.mx1.$1." '!($1 == o && ($4 == "TLSA" || ($4 == "RRSIG" && $5 == "TLSA")))' > "$3"
	grep -v '^;' "$2" >> "$3"
}
make_zone "$PZ" || bail "cannot sign $PZ"
make_zone "$XZ" || bail "cannot sign $XZ"
csk=$(cat "key.$PZ")
xcsk=$(cat "key.$XZ")

"$T" -f fragment -z "$PZ" -t 5 -H "mx1.$PZ" "$P256/fullchain.pem" > frag.txt
sed '/_25._tcp.mx1.*TLSA/d' db.$PZ > db.inc
printf '$INCLUDE %s\n' "$WORK/ps/frag.txt" >> db.inc
ok "fragment: \$INCLUDE passes named-checkzone" named-checkzone -q "$PZ" db.inc
is "fragment: the zone holds the records" \
	"$(named-checkzone -q -D -o - "$PZ" db.inc 2>/dev/null | awk '$4 == "TLSA" { d = ""; for (i = 8; i <= NF; i++) d = d $i; print $5, $6, $7, tolower(d) }' | sort)" \
	"$(printf '2 1 1 %s\n3 1 1 %s\n' "$TA_P256" "$EE_P256" | sort)"

"$T" -f signed -z "$PZ" -k "$csk.private" --zonefile "db.$PZ.signed" -t 5 -H "mx1.$PZ" "$P256/fullchain.pem" > sfrag.txt
is "signed fragment: exit 0" "$?" 0
merge "$PZ" sfrag.txt merged
ok "signed fragment: merged zone passes ldns-verify-zone" ldns-verify-zone merged
ok "signed fragment: merged zone passes named-checkzone" named-checkzone -q -i full "$PZ" merged
cp merged ns/db
# Signatures made 30 days ago for one day: expired.
"$T" -f signed -z "$XZ" -k "$xcsk.private" --zonefile "db.$XZ.signed" -t 5 --sig-inception now-30d \
	--sig-validity 1d --sig-jitter 0 -H "mx1.$XZ" "$P256/fullchain.pem" > old.txt
merge "$XZ" old.txt ns/expired.db
nok "expired fragment: ldns-verify-zone sees the expired RRSIG" ldns-verify-zone ns/expired.db

# Serve them from a named of their own, ask a second Unbound that trusts
# both keys.
cat > ns/named.conf <<CONF
options { directory "$WORK/ps/ns"; listen-on port 53 { 127.0.0.42; }; listen-on-v6 { none; };
	recursion no; pid-file "$WORK/ps/ns/named.pid"; lock-file "$WORK/ps/ns/named.lock";
	session-keyfile "$WORK/ps/ns/session.key"; managed-keys-directory "$WORK/ps/ns";
	dnssec-validation no; };
controls { };
zone "$PZ" { type primary; file "$WORK/ps/ns/db"; };
zone "$XZ" { type primary; file "$WORK/ps/ns/expired.db"; };
zone "unsigned.test" { type primary; file "$WORK/ps/ns/unsigned.db"; };
CONF
cat > ns/unsigned.db <<ZONE
\$TTL 5
@ SOA ns hostmaster 1 3600 5 1209600 2
@ NS ns
ns A 127.0.0.42
_25._tcp.mx1 TLSA 3 1 1 $EE_P256
ZONE
named -c ns/named.conf -g > ns/log 2>&1 &
at_exit "kill $! 2>/dev/null"
grep -hv '^;' "$csk.key" "$xcsk.key" > ub/ta.key
cat > ub/unbound.conf <<CONF
server:
	interface: 127.0.0.54
	port: 53
	do-not-query-localhost: no
	access-control: 127.0.0.0/8 allow
	chroot: ""
	username: ""
	directory: "$WORK/ps/ub"
	pidfile: "$WORK/ps/ub/unbound.pid"
	use-syslog: no
	logfile: "$WORK/ps/ub/log"
	trust-anchor-file: "$WORK/ps/ub/ta.key"
	local-zone: "test." nodefault
	cache-max-ttl: 1
	cache-max-negative-ttl: 1
	module-config: "validator iterator"
stub-zone:
	name: "$PZ"
	stub-addr: 127.0.0.42
stub-zone:
	name: "$XZ"
	stub-addr: 127.0.0.42
stub-zone:
	name: "unsigned.test"
	stub-addr: 127.0.0.42
CONF
unbound -d -c ub/unbound.conf > ub/out 2>&1 &
at_exit "kill $! 2>/dev/null"
n=0
until dig @127.0.0.54 +time=1 +tries=1 "mx1.$PZ" A >/dev/null 2>&1 &&
	dig @127.0.0.42 +time=1 +tries=1 +norec "$PZ" SOA >/dev/null 2>&1; do
	n=$((n + 1))
	[ $n -lt 100 ] || bail "second named/unbound did not start: $(tail -n 3 ns/log ub/log ub/out 2>&1 | tr '\n' ' ')"
	sleep 0.1
done
flags=$(dig @127.0.0.54 +time=2 +tries=1 +dnssec "_25._tcp.mx1.$PZ" TLSA | sed -n 's/^;; flags: \([^;]*\);.*/\1/p')
like "pre-signed zone with our fragment: Unbound validates (ad)" "$flags" '(^| )ad( |$)'
out=$("$T" --dns-status --resolver 127.0.0.54 --ns 127.0.0.42 --trust-anchor ub/ta.key -z "$PZ" \
	-H "mx1.$PZ" "$P256/fullchain.pem" 2>&1)
st=$?
is "dns-status on the pre-signed zone: exit 0" "$st" 0
[ "$st" -eq 0 ] || diag "$out"

out=$("$T" --dns-status --resolver 127.0.0.54 --ns 127.0.0.42 --trust-anchor ub/ta.key -z "$XZ" \
	-H "mx1.$XZ" "$P256/fullchain.pem" 2>&1)
st=$?
is "expired RRSIG: dns-status exit 2" "$st" 2
like "expired RRSIG: the server still serves the records" "$out" "server 127.0.0.42@53: match"
like "expired RRSIG: the resolver says bogus" "$out" "resolver 127.0.0.54@53: bogus"
like "expired RRSIG: local validation says bogus" "$out" "local validation .*: bogus .*expired"

# Insecure: a zone with no trust anchor.
out=$("$T" --dns-status --resolver 127.0.0.54 --ns 127.0.0.42 -z unsigned.test -H mx1.unsigned.test \
	-r 3,1,1 "$P256/leaf.pem" 2>&1)
st=$?
like "unsigned zone: the resolver says insecure" "$out" "resolver 127.0.0.54@53: insecure, match"
like "unsigned zone: the server matches" "$out" "server 127.0.0.42@53: match"
is "unsigned zone: exit 2 (not secure)" "$st" 2

# Signed fragment refusals
out=$("$T" -f signed -z "$PZ" -k "$csk.private" --zonefile "db.$PZ.signed" -H "mx9.$PZ" "$P256/leaf.pem" 2>&1)
st=$?
like "signed fragment: an owner missing from the zone file is refused" "$out" "does not exist in the zone file"
is "... exit 1" "$st" 1
out=$("$T" -f signed -z "$PZ" -k "$csk.private" --zonefile "db.$PZ.signed" -H "mx1.$PZ" -p 465 "$P256/leaf.pem" 2>&1)
like "signed fragment: an owner without TLSA in its NSEC bitmap is refused" "$out" "_465._tcp.mx1.$PZ. has no TLSA in its NSEC type bitmap"
# The same checks on a zone with NSEC3 (hashed owner names).
N3=n3.test
sed "s/\$ORIGIN $PZ./\$ORIGIN $N3./" "db.$PZ" > "db.$N3"
n3k=$(dnssec-keygen -q -a ECDSAP256SHA256 -f KSK "$N3") || bail "dnssec-keygen"
chmod 600 "$n3k.private"
dnssec-signzone -q -S -z -3 abcd -K . -o "$N3" -f "db.$N3.signed" "db.$N3" >/dev/null 2>&1 || bail "signzone -3"
"$T" -f signed -z "$N3" -k "$n3k.private" --zonefile "db.$N3.signed" -t 5 -H "mx1.$N3" "$P256/fullchain.pem" > n3frag.txt
is "NSEC3 zone: signed fragment for an owner with TLSA: exit 0" "$?" 0
ldns-read-zone "db.$N3.signed" |
	awk -v o="_25._tcp.mx1.$N3." '!($1 == o && ($4 == "TLSA" || ($4 == "RRSIG" && $5 == "TLSA")))' > n3merged
grep -v '^;' n3frag.txt >> n3merged
ok "NSEC3 zone: the merged zone passes ldns-verify-zone" ldns-verify-zone n3merged
out=$("$T" -f signed -z "$N3" -k "$n3k.private" --zonefile "db.$N3.signed" -H "mx1.$N3" -p 465 "$P256/leaf.pem" 2>&1)
like "NSEC3 zone: an owner without TLSA in its NSEC3 bitmap is refused" "$out" "has no TLSA in its NSEC3 type bitmap"
nok "signed fragment: a key for another zone is refused" \
	"$T" -f signed -z other.test -k "$csk.private" -H "mx1.other.test" "$P256/leaf.pem"

done_testing
