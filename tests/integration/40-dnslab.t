#!/bin/sh
# 40-dnslab.t: the DNS lab (tests/lab/dns.sh) itself works as the later
# RFC 2136 / DNSSEC tests assume: a signed primary taking TSIG updates, a
# secondary following by NOTIFY/IXFR, a validating Unbound, and the two
# secondary faults (lag and freeze).
. "$(dirname "$0")/../lib.sh"
lab_netns "$@"
need_cmd named rndc tsig-keygen dnssec-dsfromkey unbound unbound-control nsupdate dig ldns-verify-zone sha256sum
. "$TOP/tests/lab/dns.sh"

LAB=$WORK/dns
at_exit "dns_lab_stop '$LAB'"
t0=$(date +%s)
dns_lab_start "$LAB" || bail "the DNS lab did not start (see the dns-lab: lines above)"
diag "lab up in $(($(date +%s) - t0)) s"
Z=$DNS_ZONE

# dig_flags ADDR NAME TYPE [dig opts]: the header flags of the answer.
dig_flags() {
	_a=$1 _n=$2 _t=$3
	shift 3
	dig @"$_a" +time=2 +tries=1 "$@" "$_n" "$_t" | sed -n 's/^;; flags: \([^;]*\);.*/\1/p'
}
dig_status() {
	_a=$1 _n=$2 _t=$3
	shift 3
	dig @"$_a" +time=2 +tries=1 "$@" "$_n" "$_t" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'
}
# rrsig_over ADDR NAME TYPE: prints TYPE when an RRSIG covering it is there
rrsig_over() {
	dig @"$1" +time=2 +tries=1 +norec +dnssec +noall +answer "$2" "$3" |
		awk -v t="$3" '$4 == "RRSIG" && $5 == t { print t; exit }'
}
hex() { printf '%s' "$1" | sha256sum | cut -c1-64; }

# ---- the primary -------------------------------------------------------
like "primary answers SOA authoritatively (aa)" "$(dig_flags "$DNS_PRIMARY" "$Z." SOA +norec)" '(^| )aa( |$)'
is "primary: NOERROR for SOA" "$(dig_status "$DNS_PRIMARY" "$Z." SOA +norec)" NOERROR
like "primary serves a CSK (257, algorithm 13)" "$(dns_rdata "$DNS_PRIMARY" "$Z." DNSKEY)" '^257 3 13 '
is "primary signs the DNSKEY RRset" "$(rrsig_over "$DNS_PRIMARY" "$Z." DNSKEY)" DNSKEY
is "primary signs mx1 A" "$(rrsig_over "$DNS_PRIMARY" "mx1.$Z." A)" A
is "MX set" "$(dns_rdata "$DNS_PRIMARY" "$Z." MX | tr '\n' ' ')" "10 mx1.$Z. 20 mx2.$Z. "
is "no AAAA for mx1" "$(dns_rdata "$DNS_PRIMARY" "mx1.$Z." AAAA)" ""
is "NS set" "$(dns_rdata "$DNS_PRIMARY" "$Z." NS | tr '\n' ' ')" "ns1.$Z. ns2.$Z. "
is "ns2 address" "$(dns_rdata "$DNS_PRIMARY" "ns2.$Z." A)" "$DNS_SECONDARY"
is "TSIG key file is 0600" "$(stat -c %a "$DNS_TSIG_KEY")" 600
like "trust-anchor.key holds the DNSKEY" "$(cat "$DNS_TRUST_ANCHOR")" "^$Z\\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+DNSKEY[[:space:]]+257 3 13 "
like "ds.txt holds a SHA-256 DS" "$(cat "$DNS_DS")" "^$Z\\. IN DS [0-9]+ 13 2 [0-9A-F]{64}\$"

# ---- secondary and resolver at start ----------------------------------
s0=$(dns_serial "$DNS_PRIMARY")
is "secondary serves the primary's serial ($s0)" "$(dns_serial "$DNS_SECONDARY")" "$s0"
like "secondary answers authoritatively" "$(dig_flags "$DNS_SECONDARY" "$Z." SOA +norec)" '(^| )aa( |$)'
like "Unbound validates the zone (ad)" "$(dig_flags "$DNS_RESOLVER" "mx1.$Z." A +dnssec)" '(^| )ad( |$)'

# ---- RFC 2136 with TSIG --------------------------------------------------
OWNER=_25._tcp.mx1.$Z.
H1=$(hex one)
H2=$(hex two)
H3=$(hex three)
out=$(printf 'server %s 53\nzone %s.\nupdate add %s 5 IN TLSA 3 1 1 %s\nsend\n' \
	"$DNS_PRIMARY" "$Z" "$OWNER" "$H1" | nsupdate -t 5 -k "$DNS_TSIG_KEY" 2>&1)
is "nsupdate -k tsig.key adds a TLSA record (exit 0)" "$?" 0
[ -z "$out" ] || diag "nsupdate: $out"
t1=$(date +%s)
U1="3 1 1 $(printf %s "$H1" | tr a-f A-F)"
U2="3 1 1 $(printf %s "$H2" | tr a-f A-F)"
ok "primary serves the TLSA RRset with an RRSIG" dns_lab_sign_wait "$LAB" "$OWNER" TLSA 10
ok "primary: the TLSA rdata" dns_rdata_wait "$DNS_PRIMARY" "$OWNER" TLSA "$U1" 5
ok "secondary catches up (NOTIFY + IXFR) within 10 s" dns_lab_sync_wait "$LAB" 10
catchup=$(($(date +%s) - t1))
diag "secondary caught up ${catchup} s after the update"
is "secondary: the TLSA rdata" "$(dns_rdata "$DNS_SECONDARY" "$OWNER" TLSA)" "$U1"
s1=$(dns_serial "$DNS_PRIMARY")
like "the secondary heard a NOTIFY for serial $s1" "$(cat "$LAB/secondary/named.log")" "notify from $DNS_PRIMARY#[0-9]+: serial $s1\$"
like "and fetched it by IXFR" "$(cat "$LAB/primary/named.log")" "$DNS_SECONDARY#[0-9]+ .*IXFR started \\(serial $s0 -> $s1\\)"
like "Unbound: TLSA with the AD flag" "$(dig_flags "$DNS_RESOLVER" "$OWNER" TLSA +dnssec)" '(^| )ad( |$)'
is "Unbound: the TLSA rdata" "$(dns_rdata "$DNS_RESOLVER" "$OWNER" TLSA)" "$U1"

printf 'update add _25._tcp.mx2.%s. 5 IN TLSA 3 1 1 %s\n' "$Z" "$H1" | dns_update "$LAB" "$DNS_TSIG_KEY_512" >/dev/null 2>&1
is "the hmac-sha512 key (tlsa-update-512) is accepted too" "$?" 0
ok "primary serves mx2's TLSA signed" dns_lab_sign_wait "$LAB" "_25._tcp.mx2.$Z." TLSA 10

# Wrong keys: the same name with another secret, and an unknown name.
(umask 077; tsig-keygen -a hmac-sha256 tlsa-update > "$WORK/badsig.key"; tsig-keygen -a hmac-sha256 nobody > "$WORK/badkey.key")
out=$(printf 'update add %s 5 IN TLSA 3 1 1 %s\n' "$OWNER" "$H3" | dns_update "$LAB" "$WORK/badsig.key" 2>&1)
rc=$?
ok "wrong secret: nsupdate fails (exit $rc)" test "$rc" -ne 0
like "wrong secret: BADSIG" "$out" 'BADSIG'
out=$(printf 'update add %s 5 IN TLSA 3 1 1 %s\n' "$OWNER" "$H3" | dns_update "$LAB" "$WORK/badkey.key" 2>&1)
rc=$?
ok "unknown key name: nsupdate fails (exit $rc)" test "$rc" -ne 0
like "unknown key name: BADKEY" "$out" 'BADKEY'
is "no update got through with a wrong key" "$(dns_rdata "$DNS_PRIMARY" "$OWNER" TLSA | wc -l)" 1

# ---- lag: the secondary answers but keeps the old RRset -----------------
ok "in step before the lag" dns_lab_sync_wait "$LAB" 10
old=$(dns_serial "$DNS_SECONDARY")
ok "dns_secondary_pause" dns_secondary_pause "$LAB"
printf 'update delete %s TLSA\nupdate add %s 5 IN TLSA 3 1 1 %s\n' "$OWNER" "$OWNER" "$H2" |
	dns_update "$LAB" >/dev/null 2>&1
is "rollover update accepted" "$?" 0
ok "primary: new RRset" dns_rdata_wait "$DNS_PRIMARY" "$OWNER" TLSA "$U2" 5
ok "primary serves the new RRset signed" dns_lab_sign_wait "$LAB" "$OWNER" TLSA 10
new=$(dns_serial "$DNS_PRIMARY")
# Proof that the NOTIFY arrived and was ignored, then give it more than the
# catch-up time seen above.
ok "secondary refused the primary's NOTIFY while lagging" \
	_dns_wait 10 "$LAB/secondary.pid" "$LAB/secondary/named.log" "refused notify" \
	grep -q 'refused notify from non-primary' "$LAB/secondary/named.log"
sleep $((catchup + 2))
is "lagging secondary still serves the old serial ($old, primary $new)" "$(dns_serial "$DNS_SECONDARY")" "$old"
is "lagging secondary still serves the old RRset" "$(dns_rdata "$DNS_SECONDARY" "$OWNER" TLSA)" "$U1"
like "lagging secondary still answers authoritatively" "$(dig_flags "$DNS_SECONDARY" "$OWNER" TLSA +norec)" '(^| )aa( |$)'
ok "dns_secondary_resume" dns_secondary_resume "$LAB"
ok "secondary catches up after resume" dns_lab_sync_wait "$LAB" 10
is "secondary: new RRset after resume" "$(dns_rdata "$DNS_SECONDARY" "$OWNER" TLSA)" "$U2"
# The lag is undone: a further update reaches the secondary by NOTIFY again.
printf 'update add %s 5 IN TLSA 3 1 1 %s\n' "$OWNER" "$H3" | dns_update "$LAB" >/dev/null 2>&1
ok "after resume, NOTIFY works again" dns_lab_sync_wait "$LAB" 10
is "secondary: two records now" "$(dns_rdata "$DNS_SECONDARY" "$OWNER" TLSA | wc -l)" 2

# ---- freeze: the secondary does not answer at all ------------------------
ok "dns_secondary_freeze" dns_secondary_freeze "$LAB"
nok "frozen secondary does not answer" dig @"$DNS_SECONDARY" +time=1 +tries=1 +norec "$Z." SOA
ok "dns_resolver_flush (cache and server timings)" dns_resolver_flush "$LAB"
for n in mx1 mx2; do
	ok "Unbound still validates $n's TLSA via the primary" _dns_wait 10 "" "$LAB/unbound/unbound.log" "an AD answer" \
		_dns_resolver_ad "_25._tcp.$n.$Z." TLSA
done
ok "dns_secondary_thaw" dns_secondary_thaw "$LAB"
ok "thawed secondary answers" dig @"$DNS_SECONDARY" +time=2 +tries=1 +norec "$Z." SOA
ok "dns_resolver_flush NAME" dns_resolver_flush "$LAB" "$Z."

# ---- the signed zone as a whole -------------------------------------------
# dig prints the SOA again at the end of an AXFR: drop that last line.
dig @"$DNS_PRIMARY" +time=2 +tries=1 +noall +answer AXFR "$Z." | sed '$d' > "$WORK/axfr.zone"
dig @"$DNS_SECONDARY" +time=2 +tries=1 +noall +answer AXFR "$Z." | sed '$d' > "$WORK/axfr2.zone"
like "AXFR from the primary has the TLSA RRsets" "$(cat "$WORK/axfr.zone")" "^_25\\._tcp\\.mx2\\.$Z\\.[[:space:]].*[[:space:]]TLSA[[:space:]]+3 1 1 "
like "and an NSEC chain" "$(cat "$WORK/axfr.zone")" "[[:space:]]NSEC[[:space:]]"
ok "ldns-verify-zone accepts the AXFR" ldns-verify-zone "$WORK/axfr.zone"
sort "$WORK/axfr.zone" > "$WORK/a1"
sort "$WORK/axfr2.zone" > "$WORK/a2"
ok "the secondary's AXFR holds the same records" diff "$WORK/a1" "$WORK/a2"

# ---- stop -------------------------------------------------------------
p1=$(cat "$LAB/primary.pid") p2=$(cat "$LAB/secondary.pid") p3=$(cat "$LAB/unbound.pid")
ok "dns_lab_stop" dns_lab_stop "$LAB"
# gone PID...: no such process, or only a zombie the shell has not reaped.
gone() {
	for p; do
		[ -d "/proc/$p" ] && [ "$(sed 's/^.*) //' "/proc/$p/stat" | cut -c1)" != Z ] && return 1
	done
	return 0
}
ok "all three daemons are gone" gone "$p1" "$p2" "$p3"
diag "total $(($(date +%s) - t0)) s"
done_testing
