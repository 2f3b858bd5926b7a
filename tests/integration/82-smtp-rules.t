#!/bin/sh
# 82-smtp-rules.t: the verdicts of tlsagen --verify and tlsa-rollover check
# equal a DANE sending MTA's (RFC 7672), with a real Postfix as that MTA
# (posttls-finger -l dane) in the lab: a signed BIND, a validating
# Unbound, and one Postfix instance.
#
#   nh.example.test     MX 10 mx.nh.example.test (127.0.0.20), whose leaf
#                       names only nh.example.test, TLSA 2 1 1 of the
#                       intermediate: Postfix accepts the next-hop domain
#                       (RFC 7672 section 3.2.3), so must we.
#   u1.example.test     127.0.0.21, TLSA only 1 1 1 of its leaf: usages 0
#                       and 1 are not used for SMTP (section 3.1.3).
#   bücher.example.test xn--bcher-kva.example.test, 127.0.0.21, 3 1 1:
#                       IDN names go out in A-labels.
#   two.example.test    a second owner for repeated -H.
. "$(dirname "$0")/../lib.sh"
lab_netns "$@"
need_cmd named unbound postfix posttls-finger dig nsupdate openssl python3
. "$TOP/tests/lab/dns.sh"
. "$TOP/tests/lab/certs.sh"
: "${TLSA_ROLLOVER:=$TOP/build/tlsa-rollover}"
R=$TLSA_ROLLOVER
T=$TLSAGEN
Z=example.test
IDN="bücher.$Z"
ACE="xn--bcher-kva.$Z"
chmod 711 "$WORK"

DNS_LAB_TTL=2 dns_lab_start "$WORK/dns" || bail "DNS lab"
at_exit "dns_lab_stop '$WORK/dns'"
P=$WORK/pki
mkdir -p "$P" "$WORK/mx"
certs_ca "$P" && certs_leaf "$P" NH ec "nh.$Z" && certs_leaf "$P" U1 ec "u1.$Z" ||
	bail "certificates"
sh "$TOP/tests/lab/postfix.sh" start "$WORK/mx" \
	"127.0.0.20=$P/NH.key,$P/NH.chain.pem" \
	"127.0.0.21=$P/U1.key,$P/U1.chain.pem" || bail "Postfix"
at_exit "sh '$TOP/tests/lab/postfix.sh' stop '$WORK/mx'"

TA=$("$T" -H "mx.nh.$Z" -r 2,1,1 -i "$P/int.pem" | awk '{ print $4, $5, $6, $7 }')
PKIX_EE=$("$T" --force -H "u1.$Z" -r 1,1,1 "$P/U1.pem" | awk '{ print $4, $5, $6, $7 }')
U1_EE=$("$T" -H "u1.$Z" -r 3,1,1 "$P/U1.pem" | awk '{ print $4, $5, $6, $7 }')
like "the intermediate's 2 1 1" "$TA" '^2 1 1 [0-9a-f]{64}$'
{
	echo "update add nh.$Z 2 MX 10 mx.nh.$Z."
	echo "update add mx.nh.$Z 2 A 127.0.0.20"
	echo "update add _25._tcp.mx.nh.$Z 2 TLSA $TA"
	echo "update add u1.$Z 2 A 127.0.0.21"
	echo "update add _25._tcp.u1.$Z 2 TLSA $PKIX_EE"
	echo "update add $ACE 2 A 127.0.0.21"
	echo "update add _25._tcp.$ACE 2 TLSA $U1_EE"
} > "$WORK/update"
dns_update "$WORK/dns" < "$WORK/update" > "$WORK/update.out" 2>&1 || bail "nsupdate: $(cat "$WORK/update.out")"
dns_lab_sync_wait "$WORK/dns" || bail "the secondary did not catch up"
dns_resolver_flush "$WORK/dns"
dns_rdata_wait "$DNS_RESOLVER" "_25._tcp.$ACE" TLSA "$(echo "$U1_EE" | tr a-f A-F)" 10 ||
	bail "the resolver does not see the records"

# run PROG ARGS...: stdout in $WORK/out, stderr in $WORK/err, exit in $rc.
run() {
	timeout -k 2 60 "$@" > "$WORK/out" 2> "$WORK/err"
	rc=$?
}
out() { cat "$WORK/out"; }
js() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(json.dumps(eval(sys.argv[2])))' "$WORK/out" "$1"; }
# ptf DEST: posttls-finger -l dane (Postfix as the sending MTA).
ptf() {
	MAIL_CONFIG=$WORK/mx/etc timeout -k 2 60 posttls-finger -c -t30 -T60 -l dane "$1" > "$WORK/ptf" 2>&1
}

# ---- item 2: DANE-TA name checks, next-hop domain ----------------------------
ptf "nh.$Z"
like "Postfix: nh.$Z (via MX) is verified by the next-hop name" "$(cat "$WORK/ptf")" 'Verified TLS connection established'
ptf "[mx.nh.$Z]:25"
nok "Postfix: [mx.nh.$Z] alone (no next-hop domain) is not verified" grep -q 'Verified TLS connection established' "$WORK/ptf"

run "$R" check --hygiene off "nh.$Z"
is "check nh.$Z: exit 0, as Postfix" "$rc" 0
like "check nh.$Z: DANE OK" "$(head -n 1 "$WORK/out")" '^DANE OK - '
like "check nh.$Z: the line names the matched identifier" "$(out)" \
	"mx.nh.$Z 127.0.0.20 ECDSA: OK: DANE match 2 1 1 [0-9a-f]{8}\.\.\. at depth 1, name nh.$Z"
run "$R" check --hygiene off --json "nh.$Z"
is "check --json: dane.name is the next-hop domain" \
	"$(js 'd["domains"][0]["mx"][0]["addresses"][0]["certificates"][0]["dane"]["name"]')" "\"nh.$Z\""
run "$R" check --hygiene off --host "mx.nh.$Z"
is "check --host mx.nh.$Z: no next hop, exit 2, as Postfix for [mx.nh]" "$rc" 2
like "check --host: hostname mismatch" "$(out)" 'DANE FAILED: hostname mismatch'

run "$T" --verify "$TA" -c 127.0.0.20 -H "mx.nh.$Z"
is "tlsagen -c -H mx.nh: no match (the leaf names only nh): exit 2" "$rc" 2
like "tlsagen -c -H mx.nh: hostname mismatch" "$(out)" 'no match: hostname mismatch'
run "$T" --verify "$TA" -c 127.0.0.20 -H "mx.nh.$Z" --nexthop "nh.$Z"
is "tlsagen --nexthop nh: match, exit 0" "$rc" 0
like "tlsagen --nexthop: says which name matched" "$(out)" "match: $TA at depth 1, name nh.$Z\$"
run "$T" --verify "$TA" "$P/U1.chain.pem"
is "tlsagen --verify FILE without -H: no name taken from the leaf, exit 0" "$rc" 0
like "tlsagen --verify FILE without -H: says no name check was done" "$(out)" 'no name check done \(give -H or --nexthop\)'
run "$T" --verify "$TA" -H "u1.$Z" "$P/NH.chain.pem"
is "tlsagen --verify -H u1 on the nh leaf: exit 2" "$rc" 2
run "$T" --verify "$U1_EE" -H "mx.nh.$Z" "$P/U1.chain.pem"
is "DANE-EE: no name check (RFC 7672 section 3.1.1): exit 0" "$rc" 0

# ---- item 1: usages 0 and 1 on SMTP ports --------------------------------------
ptf "[u1.$Z]:25"
like "Postfix: u1 with only 1 1 1 gets TLS" "$(cat "$WORK/ptf")" 'TLS connection established'
nok "Postfix: u1 with only 1 1 1 is not verified (unusable records)" grep -q 'Verified TLS connection established' "$WORK/ptf"
# Even with the lab CA trusted (PKIX would pass), SMTP ignores 1 1 1.
SSL_CERT_FILE=$P/ca.pem run "$T" --verify "$PKIX_EE" -c "u1.$Z"
is "tlsagen -c u1 (port 25), only 1 1 1: exit 2, no match" "$rc" 2
like "tlsagen -c u1: the record is ignored, with the reason" "$(out)" \
	"ignoring $PKIX_EE: usages 0 and 1 are not used for SMTP \(RFC 7672 section 3.1.3\)"
like "tlsagen -c u1: no usable record" "$(out)" "no match: no usable record for _25._tcp.u1.$Z."
is "tlsagen -c u1: nothing on stderr (not an error)" "$(cat "$WORK/err")" ""
SSL_CERT_FILE=$P/ca.pem run "$T" --verify "$PKIX_EE" -p 587 -H "u1.$Z" "$P/U1.chain.pem"
is "port 587 with a file: exit 2 as well" "$rc" 2
SSL_CERT_FILE=$P/ca.pem run "$T" --verify "$PKIX_EE" -p 443 -H "u1.$Z" "$P/U1.chain.pem"
is "port 443: PKIX-EE still counts (exit 0)" "$rc" 0
SSL_CERT_FILE=$P/ca.pem run "$T" --verify "$PKIX_EE" --verify "$U1_EE" -c "u1.$Z"
is "1 1 1 next to 3 1 1: the 3 1 1 matches, exit 0" "$rc" 0
like "1 1 1 next to 3 1 1: match by the 3 1 1" "$(out)" "match: $U1_EE at depth 0"

# ---- item 3: IDN names and repeated -H ------------------------------------------
run "$T" -H "$IDN" "$P/U1.pem"
like "tlsagen -H $IDN: the owner in A-labels" "$(out)" "^_25\._tcp\.$ACE\. IN TLSA 3 1 1 "
SNOW=$(printf '\342\230\203')
run "$T" -H "$SNOW.$Z" "$P/U1.pem"
is "tlsagen -H with a bad IDN: exit 1" "$rc" 1
like "tlsagen -H with a bad IDN: one line, the name made printable" "$(cat "$WORK/err")" \
	'^tlsagen: -H "\\342\\230\\203\.example\.test": not a valid internationalised host name: string contains a disallowed character$'
run "$R" check --hygiene off "$SNOW.$Z"
is "check with a bad IDN: exit 3 (UNKNOWN)" "$rc" 3
like "check with a bad IDN: the reason" "$(cat "$WORK/err")" 'check: ".*": not a valid internationalised host name'
run "$T" --verify "$U1_EE" -c "$IDN"
is "tlsagen -c $IDN: connects and matches" "$rc" 0
like "tlsagen -c $IDN: named by its A-labels" "$(out)" "^$ACE \(127\.0\.0\.21"
run "$R" check --hygiene off --host "$IDN"
is "check --host $IDN: exit 0" "$rc" 0
like "check --host $IDN: looked up in A-labels" "$(out)" "$ACE 127\.0\.0\.21 ECDSA: OK: DANE match 3 1 1"

for f in zone json nsupdate generic; do
	run "$T" -f "$f" -H "u1.$Z" -H "two.$Z" "$P/U1.pem"
	ok "-H twice, -f $f: records for the first owner" grep -q "u1\.$Z" "$WORK/out"
	ok "-H twice, -f $f: records for the second owner" grep -q "two\.$Z" "$WORK/out"
done
run "$T" --dns-status --resolver "$DNS_RESOLVER" -H "u1.$Z" -H "$ACE"
like "--dns-status with two -H: the first owner" "$(out)" "_25\._tcp\.u1\.$Z"
like "--dns-status with two -H: the second owner" "$(out)" "_25\._tcp\.$ACE"
run "$T" --update "$DNS_PRIMARY" --tsig-key "$DNS_TSIG_KEY" -z "$Z" -t 2 -H "one.$Z" -H "two.$Z" "$P/U1.pem"
is "--update with two -H: exit 0" "$rc" 0
for h in one two; do
	dns_rdata_wait "$DNS_PRIMARY" "_25._tcp.$h.$Z" TLSA "$(echo "$U1_EE" | tr a-f A-F)" 10
	is "--update with two -H: the primary serves $h" "$?" 0
done
run "$T" -n --update "$DNS_PRIMARY" --tsig-key "$DNS_TSIG_KEY" -z "$Z" --expect "$U1_EE" --delete \
	-H "one.$Z" -H "two.$Z" "$P/U1.pem"
is "--update --expect BARE with two -H: the bare record is expected at each owner" "$rc" 0
for h in one two; do
	like "--update --expect BARE with two -H: $h would lose the record" "$(out)" "^_25\._tcp\.$h\.$Z\.: would be updated: 0 added, 1 removed \(was: 3 1 1 $(echo "$U1_EE" | awk '{ print substr($4, 1, 16) }')"
done

done_testing
