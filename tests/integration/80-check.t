#!/bin/sh
# 80-check.t: tlsa-rollover check (the live MX check) in the real lab: a
# signed BIND primary and secondary, a validating Unbound, one Postfix
# instance serving several MX addresses, and misbehaving servers
# (badsmtp.py) on addresses of their own, each with A, MX and TLSA records
# in the lab zone.  Checks every verdict, the reasons, the Nagios status
# line and exit codes, the JSON document, the configuration mode, and
# that each DANE match or mismatch equals what independent clients say
# (openssl s_client with -dane_tlsa_rrdata per certificate type, and
# Postfix's posttls-finger -l dane).
#
#   127.0.0.20 mx1   Postfix, RSA + ECDSA, TLS >= 1.2, no kRSA: OK
#   127.0.0.21 mx2   Postfix, ECDSA (3 1 1 and 2 1 1): OK; also the
#                    address of mxc (CNAME to mx2), mxmulti (with .30),
#                    mxbogus / mxinsec (TLSA in a child zone with a wrong
#                    DS / no DS), mxnotlsa (no TLSA)
#   127.0.0.22 mx3   Postfix, a certificate the TLSA records do not match
#   127.0.0.23 mx4   Postfix, expired certificate; mx4 has 3 1 1 (DANE-EE:
#                    WARNING), mx4ta only 2 1 1 (CRITICAL)
#   127.0.0.24 mx5   Postfix without STARTTLS
#   127.0.0.25 mx6   Postfix, RSA + ECDSA, TLS 1.0 and kRSA allowed
#   127.0.0.30-39    badsmtp.py: silent, close, endless-banner,
#                    binary-banner, ehlo-5xx, starttls-5xx, no-starttls,
#                    drop-mid-handshake, a huge certificate, a chain of
#                    100 certificates

. "$(dirname "$0")/../lib.sh"
lab_netns "$@"
need_cmd named unbound postfix posttls-finger dig nsupdate openssl python3 faketime
. "$TOP/tests/lab/dns.sh"
. "$TOP/tests/lab/certs.sh"
: "${TLSA_ROLLOVER:=$TOP/build/tlsa-rollover}"
R=$TLSA_ROLLOVER
T=$TLSAGEN
Z=example.test
chmod 711 "$WORK"

# ---- the lab ---------------------------------------------------------------
# check-integrity no: BIND would refuse an MX pointing to a CNAME or to a
# name without addresses, which are exactly the bad inputs wanted here.
DNS_LAB_ZONE_OPTIONS='check-integrity no;' DNS_LAB_TTL=2 dns_lab_start "$WORK/dns" || bail "DNS lab"
at_exit "dns_lab_stop '$WORK/dns'"
P=$WORK/pki
mkdir -p "$P" "$WORK/mx" "$WORK/bad"
certs_ca "$P" || bail "CA"
GOOD="mx1.$Z mx2.$Z mx5.$Z mx6.$Z"
# shellcheck disable=SC2086
certs_leaf "$P" E1 ec $GOOD && certs_leaf "$P" R1 rsa $GOOD &&
	certs_leaf "$P" M ec "mx3.$Z" || bail "certificates"
# Expired 30 days ago: made 60 days ago, valid for 30.
faketime '60 days ago' sh -c ". '$TOP/tests/lab/certs.sh' && certs_leaf '$P' EXP ec mx4.$Z mx4ta.$Z" ||
	bail "expired certificate"
is "the EXP certificate has expired" "$(openssl x509 -in "$P/EXP.pem" -noout -checkend 0 >/dev/null 2>&1; echo $?)" 1
# A leaf of about 150 KB (over OpenSSL's 100 KB max_cert_list) and a chain
# of 100 certificates (the leaf and 99 copies of the intermediate).
python3 -c 'print("[leaf]\nbasicConstraints = critical, CA:false\nnsComment = \"" + "x" * 150000 + "\"")' > "$P/huge.ext"
openssl req -new -key "$P/E1.key" -subj "/CN=b-huge.$Z" -out "$P/huge.csr" 2>/dev/null &&
	openssl x509 -req -in "$P/huge.csr" -CA "$P/int.pem" -CAkey "$P/int.key" -days 30 \
		-extfile "$P/huge.ext" -extensions leaf -out "$P/huge.pem" 2>/dev/null || bail "huge certificate"
{
	cat "$P/E1.pem"
	i=0
	while [ $i -lt 99 ]; do cat "$P/int.pem"; i=$((i + 1)); done
} > "$P/c100.pem"
is "the long chain has 100 certificates" "$(grep -c 'BEGIN CERTIFICATE' "$P/c100.pem")" 100

# Good hygiene by default (main.cf); mx5 and mx6 override per service.
DUAL="$P/R1.key,$P/R1.chain.pem,$P/E1.key,$P/E1.chain.pem"
POSTFIX_LAB_MAIN='smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_exclude_ciphers = kRSA' sh "$TOP/tests/lab/postfix.sh" start "$WORK/mx" \
	"127.0.0.20=$DUAL" \
	"127.0.0.21=$P/E1.key,$P/E1.chain.pem" \
	"127.0.0.22=$P/M.key,$P/M.chain.pem" \
	"127.0.0.23=$P/EXP.key,$P/EXP.chain.pem" \
	"127.0.0.24=$P/E1.key,$P/E1.chain.pem+smtpd_tls_security_level=none" \
	"127.0.0.25=$DUAL+smtpd_tls_protocols=>=TLSv1+smtpd_tls_exclude_ciphers=" ||
	bail "Postfix"
at_exit "sh '$TOP/tests/lab/postfix.sh' stop '$WORK/mx'"
like "postfix.sh: +PARAM=VALUE became -o options after the lab's" \
	"$(grep '^127.0.0.25:25' "$WORK/mx/etc/master.cf")" \
	'-o smtpd_tls_security_level=may .* -o smtpd_tls_protocols=>=TLSv1 -o smtpd_tls_exclude_ciphers=$'
is "postfix.sh: POSTFIX_LAB_MAIN went into main.cf" \
	"$(postconf -c "$WORK/mx/etc" -h smtpd_tls_protocols smtpd_tls_exclude_ciphers)" ">=TLSv1.2
kRSA"

# The misbehaving servers: NAME ADDR MODE [ARGS].
BADS="b-silent 127.0.0.30 silent
b-close 127.0.0.31 close
b-endless 127.0.0.32 endless-banner
b-binary 127.0.0.33 binary-banner
b-ehlo5xx 127.0.0.34 ehlo-5xx
b-tls5xx 127.0.0.35 starttls-5xx
b-notls 127.0.0.36 no-starttls
b-drop 127.0.0.37 drop-mid-handshake --cert $P/E1.chain.pem --key $P/E1.key
b-huge 127.0.0.38 tls --cert $P/huge.pem --key $P/E1.key
b-c100 127.0.0.39 tls --cert $P/c100.pem --key $P/E1.key"
BADNAMES=""
while read -r name addr mode args; do
	# shellcheck disable=SC2086
	python3 "$TOP/tests/lab/badsmtp.py" --lifetime 600 --ready "$WORK/bad/$name.ready" \
		$args "$addr" 25 "$mode" 2> "$WORK/bad/$name.err" &
	at_exit "kill $!"
	BADNAMES="$BADNAMES $name.$Z"
done <<EOF
$BADS
EOF
nready() { _c=0; for _f in "$WORK/bad"/*.ready; do [ -e "$_f" ] && _c=$((_c + 1)); done; echo $_c; }
i=0
while [ "$(nready)" -lt 10 ]; do
	i=$((i + 1))
	[ $i -le 100 ] || bail "badsmtp.py not ready after 10 s: $(cat "$WORK/bad"/*.err)"
	sleep 0.1
done

# ---- the zone: one update message (back-to-back updates can stall BIND) ---------
tlsa() {	# HOST ARGS...: nsupdate lines, without "send"
	_h=$1
	shift
	"$T" -f nsupdate -t 2 -H "$_h" "$@" | grep -v '^send$'
}
{
	for n in 3 4 5 6; do echo "update add mx$n.$Z 2 A 127.0.0.2$((n - 1))"; done
	echo "update add mx4ta.$Z 2 A 127.0.0.23"
	echo "update add mxc.$Z 2 CNAME mx2.$Z."
	for n in mxbogus mxinsec mxnotlsa mxmulti; do echo "update add $n.$Z 2 A 127.0.0.21"; done
	echo "update add mxmulti.$Z 2 A 127.0.0.30"
	while read -r name addr mode args; do echo "update add $name.$Z 2 A $addr"; done <<-EOF
	$BADS
	EOF
	echo "update add cname.$Z 2 MX 10 mxc.$Z."
	echo "update add nullmx.$Z 2 MX 0 ."
	echo "update add unres.$Z 2 MX 10 nohost.$Z."
	echo "update add mixed.$Z 2 MX 10 mx2.$Z."
	echo "update add mixed.$Z 2 MX 20 mx3.$Z."
	echo "update add mixed.$Z 2 MX 30 b-silent.$Z."
	tlsa "mx1.$Z" "$P/E1.pem" "$P/R1.pem"
	tlsa "mx2.$Z" "$P/E1.chain.pem"
	tlsa "mx3.$Z" "$P/E1.pem"		# not M: the mismatch
	tlsa "mx4.$Z" "$P/EXP.pem"
	tlsa "mx4ta.$Z" -r 2,1,1 "$P/EXP.chain.pem"
	tlsa "mx5.$Z" "$P/E1.pem"
	tlsa "mx6.$Z" "$P/E1.pem" "$P/R1.pem"
	tlsa "mxmulti.$Z" "$P/E1.pem"
	for n in $BADNAMES; do tlsa "$n" "$P/E1.pem"; done
	# Child zones at the TLSA owners of mxbogus and mxinsec.
	echo "update add _25._tcp.mxbogus.$Z 2 NS ns1.$Z."
	echo "update add _25._tcp.mxbogus.$Z 2 DS 4711 13 2 $(openssl rand -hex 32)"
	echo "update add _25._tcp.mxinsec.$Z 2 NS ns1.$Z."
} > "$WORK/update"
E1_311=$("$T" "$P/E1.pem" | awk '{ print $(NF - 3), $(NF - 2), $(NF - 1), $NF }')
R1_311=$("$T" "$P/R1.pem" | awk '{ print $(NF - 3), $(NF - 2), $(NF - 1), $NF }')
like "E1's 3 1 1" "$E1_311" '^3 1 1 [0-9a-f]{64}$'
for c in mxbogus mxinsec; do
	cat > "$WORK/$c.db" <<-EOF
	\$TTL 2
	@ SOA ns1.$Z. hostmaster.$Z. 1 3600 5 1209600 2
	  NS ns1.$Z.
	  TLSA $E1_311
	EOF
	dns_add_zone "$WORK/dns" "_25._tcp.$c.$Z" "$WORK/$c.db" || bail "child zone for $c"
done
dns_update "$WORK/dns" < "$WORK/update" > "$WORK/update.out" 2>&1 || bail "nsupdate: $(cat "$WORK/update.out")"
dns_rdata_wait "$DNS_PRIMARY" "_25._tcp.b-c100.$Z" TLSA "$(echo "$E1_311" | tr a-f A-F)" 20 || bail "the update is not served"
dns_lab_sync_wait "$WORK/dns" || bail "the secondary did not catch up"
dns_resolver_flush "$WORK/dns"
dns_rdata_wait "$DNS_RESOLVER" "_25._tcp.mx1.$Z" TLSA "$(printf '%s\n%s\n' "$E1_311" "$R1_311" | tr a-f A-F | sort)" 10 ||
	bail "the resolver does not see the records"

# ---- helpers ---------------------------------------------------------------
# chk ARGS...: run the check; output in $WORK/out, stderr in $WORK/err,
# exit code in $rc.
chk() {
	"$R" check "$@" > "$WORK/out" 2> "$WORK/err"
	rc=$?
}
# js EXPR: a python expression over the JSON in $WORK/out (d), with
# H(host), A(host[, addr]), C(host, kind[, addr]) and F(obj) (findings).
js() {
	python3 - "$WORK/out" "$1" <<-'EOF'
	import json, sys
	d = json.load(open(sys.argv[1]))
	def H(n):
	    return next(h for dm in d["domains"] for h in dm["mx"] if h["host"] == n)
	def A(n, addr=None):
	    a = H(n)["addresses"]
	    return a[0] if addr is None else next(x for x in a if x["address"] == addr)
	def C(n, kind, addr=None):
	    return next(c for c in A(n, addr)["certificates"] if c["kind"] == kind)
	def F(o):
	    return " | ".join("%s: %s" % (f["status"], f["text"]) for f in o["findings"])
	v = eval(sys.argv[2])
	print(json.dumps(v) if isinstance(v, (bool, dict, list)) or v is None else v)
	EOF
}
line1() { head -n 1 "$WORK/out"; }
# The Nagios status line: status, summary, perfdata.
NAGIOS='^DANE (OK|WARNING|CRITICAL|UNKNOWN) - [^|]+ \| hosts=[0-9]+ addresses=[0-9]+ certificates=[0-9]+ ok=[0-9]+ warning=[0-9]+ critical=[0-9]+ unknown=[0-9]+( days_left=-?[0-9]+;[0-9]+:;0:)? time=[0-9]+\.[0-9]{3}s$'

# ---- the good domain ---------------------------------------------------------
chk "$Z"
is "$Z: exit 0" "$rc" 0
like "$Z: Nagios status line" "$(line1)" "$NAGIOS"
like "$Z: DANE OK, every certificate matches" "$(line1)" '^DANE OK - 2 MX hosts, 2 addresses, 3 certificates: every one matches'
like "$Z: perfdata counts" "$(line1)" ' hosts=2 addresses=2 certificates=3 ok=2 warning=0 critical=0 unknown=0 days_left=(29|30);14:;0: '
like "$Z: MX line" "$(cat "$WORK/out")" "$Z: MX secure: 10 mx1.$Z 20 mx2.$Z"
like "mx1 ECDSA line" "$(cat "$WORK/out")" "mx1.$Z 127.0.0.20 ECDSA: OK: DANE match 3 1 1 $(echo "${E1_311#3 1 1 }" | cut -c1-8)\.\.\. at depth 0"
like "mx1 RSA line" "$(grep "mx1.$Z 127.0.0.20 RSA:" "$WORK/out")" "RSA: OK: DANE match 3 1 1 $(echo "${R1_311#3 1 1 }" | cut -c1-8)\.\.\. at depth 0"
like "mx2: matched at depth 0 or 1" "$(cat "$WORK/out")" "mx2.$Z 127.0.0.21 ECDSA: OK: DANE match [23] 1 1 [0-9a-f]{8}\.\.\. at depth [01]"
like "details section" "$(sed -n '/^details:$/,$p' "$WORK/out" | head -n 1)" '^details:$'
nok "no WARNING or CRITICAL details" grep -Eq '^  (WARNING|CRITICAL|UNKNOWN):' "$WORK/out"

# ---- the lab hosts one by one, in one run (JSON) --------------------------------
chk --hygiene-levels legacy=warning,krsa=warning --json --host mx1.$Z mx2.$Z mx3.$Z mx4.$Z mx4ta.$Z mx5.$Z mx6.$Z
cp "$WORK/out" "$WORK/hosts.json"
is "hosts: exit 2 (the worst)" "$rc" 2
is "JSON: status" "$(js 'd["status"]')" CRITICAL
is "JSON: exit equals the exit code" "$(js 'd["exit"]')" "$rc"
is "JSON: counts" "$(js '[d["counts"][k] for k in ("hosts", "addresses", "ok", "warning", "critical", "unknown")]')" "[7, 7, 2, 2, 3, 0]"
is "JSON: --host means no MX lookup" "$(js '"mx_dnssec" in d["domains"][0]')" false
is "JSON mx1: host OK, port 25, DNSSEC secure" "$(js '[H("mx1.'$Z'")[k] for k in ("status", "port", "address_dnssec", "tlsa_dnssec", "tlsa_owner")]')" \
	"[\"OK\", 25, \"secure\", \"secure\", \"_25._tcp.mx1.$Z\"]"
is "JSON mx1: two certificates, ECDSA and RSA" "$(js '[c["kind"] for c in A("mx1.'$Z'")["certificates"]]')" '["ECDSA", "RSA"]'
is "JSON mx1 ECDSA: match, record, depth" "$(js 'C("mx1.'$Z'", "ECDSA")["dane"]')" "{\"match\": true, \"record\": \"$E1_311\", \"depth\": 0}"
is "JSON mx1 RSA: match, record, depth" "$(js 'C("mx1.'$Z'", "RSA")["dane"]')" "{\"match\": true, \"record\": \"$R1_311\", \"depth\": 0}"
is "JSON mx1 ECDSA: TLS 1.3, forward secrecy, chain of 2" "$(js '[C("mx1.'$Z'", "ECDSA")[k] for k in ("version", "forward_secrecy")] + [len(C("mx1.'$Z'", "ECDSA")["chain"])]')" '["TLSv1.3", true, 2]'
like "JSON mx1 ECDSA: not_after and days_left" "$(js '"%s %d" % (C("mx1.'$Z'", "ECDSA")["not_after"], C("mx1.'$Z'", "ECDSA")["days_left"])')" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z (29|30)$'
is "JSON mx1: hygiene probes refused" "$(js '[A("mx1.'$Z'")["hygiene"][k]["result"] for k in ("legacy_tls", "weak_ciphers", "rsa_key_exchange")]')" '["refused", "refused", "refused"]'
is "JSON mx1: no findings" "$(js 'F(A("mx1.'$Z'"))')" ""
is "JSON mx2: 2 1 1 of the intermediate or 3 1 1 matches" "$(js 'C("mx2.'$Z'", "ECDSA")["dane"]["match"]')" true
is "JSON mx2: a single chain (ECDSA)" "$(js 'len(A("mx2.'$Z'")["certificates"])')" 1
# mismatch
is "JSON mx3: CRITICAL" "$(js 'A("mx3.'$Z'")["status"]')" CRITICAL
is "JSON mx3: no match, with the reason" "$(js 'C("mx3.'$Z'", "ECDSA")["dane"]')" '{"match": false, "reason": "no matching DANE TLSA records"}'
like "JSON mx3: the finding names host, address and kind" "$(js 'F(A("mx3.'$Z'"))')" "CRITICAL: mx3.$Z 127.0.0.22 ECDSA: DANE verification failed: no matching DANE TLSA records"
# expired: DANE-EE accepts it (RFC 7672 3.1.1), DANE-TA does not
is "JSON mx4 (expired, 3 1 1): WARNING" "$(js 'A("mx4.'$Z'")["status"]')" WARNING
is "JSON mx4: DANE-EE still matches" "$(js 'C("mx4.'$Z'", "ECDSA")["dane"]["match"]')" true
like "JSON mx4: days_left negative" "$(js 'C("mx4.'$Z'", "ECDSA")["days_left"]')" '^-(30|31)$'
like "JSON mx4: the finding says expired and cites RFC 7672" "$(js 'F(A("mx4.'$Z'"))')" \
	"WARNING: mx4.$Z 127.0.0.23 ECDSA: certificate expired (30|31) days ago \(DANE-EE senders accept it, RFC 7672 section 3.1.1"
is "JSON mx4ta (expired, only 2 1 1): CRITICAL" "$(js 'A("mx4ta.'$Z'")["status"]')" CRITICAL
is "JSON mx4ta: DANE-TA fails on the expired leaf" "$(js 'C("mx4ta.'$Z'", "ECDSA")["dane"]')" '{"match": false, "reason": "certificate has expired"}'
like "JSON mx4ta: findings" "$(js 'F(A("mx4ta.'$Z'"))')" "CRITICAL: mx4ta.$Z 127.0.0.23 ECDSA: certificate expired"
# no STARTTLS
is "JSON mx5 (no STARTTLS): CRITICAL" "$(js 'A("mx5.'$Z'")["status"]')" CRITICAL
is "JSON mx5: no certificates" "$(js 'A("mx5.'$Z'")["certificates"]')" '[]'
like "JSON mx5: the reason" "$(js 'F(A("mx5.'$Z'"))')" "CRITICAL: mx5.$Z 127.0.0.24 port 25: server does not offer STARTTLS"
# TLS 1.0 and kRSA
is "JSON mx6 (TLS 1.0, kRSA): WARNING" "$(js 'A("mx6.'$Z'")["status"]')" WARNING
is "JSON mx6: both chains match" "$(js '[c["dane"]["match"] for c in A("mx6.'$Z'")["certificates"]]')" '[true, true]'
is "JSON mx6: legacy TLS accepted" "$(js '[A("mx6.'$Z'")["hygiene"]["legacy_tls"][k] for k in ("result", "version")]')" '["accepted", "TLSv1.1"]'
is "JSON mx6: TLS 1.0 accepted" "$(js '[A("mx6.'$Z'")["hygiene"]["tls1_0"][k] for k in ("result", "version")]')" '["accepted", "TLSv1"]'
is "JSON mx6: kRSA accepted" "$(js 'A("mx6.'$Z'")["hygiene"]["rsa_key_exchange"]["result"]')" accepted
is "JSON mx6: no weak cipher" "$(js 'A("mx6.'$Z'")["hygiene"]["weak_ciphers"]["result"]')" refused
like "JSON mx6: accepts TLSv1 (warning)" "$(js 'F(A("mx6.'$Z'"))')" "WARNING: mx6.$Z 127.0.0.25: accepts TLSv1.1 and TLSv1"
like "JSON mx6: kRSA (warning)" "$(js 'F(A("mx6.'$Z'"))')" "WARNING: mx6.$Z 127.0.0.25: accepts [A-Z0-9-]+, a key exchange without forward secrecy"
like "JSON: weak cipher classes tested" "$(js 'd["weak_ciphers_tested"]')" 'eNULL'

# The same run as text: one line per host/address/kind, worst first.
chk --hygiene-levels legacy=warning,krsa=warning --host mx1.$Z mx2.$Z mx3.$Z mx4.$Z mx4ta.$Z mx5.$Z mx6.$Z
is "text: the same exit" "$rc" 2
like "text: Nagios status line" "$(line1)" "$NAGIOS"
like "text: the summary shows the worst first" "$(line1)" '^DANE CRITICAL - .*(DANE verification failed|does not offer STARTTLS|certificate expired).*\(and [0-9]+ more\) \|'
like "text: mx3 line" "$(cat "$WORK/out")" "mx3.$Z 127.0.0.22 ECDSA: CRITICAL: DANE FAILED: no matching DANE TLSA records"
like "text: mx4 line" "$(cat "$WORK/out")" "mx4.$Z 127.0.0.23 ECDSA: WARNING: DANE match 3 1 1 .*expired 20[0-9-]+ \((30|31) days ago\)"
like "text: mx5 line" "$(cat "$WORK/out")" "mx5.$Z 127.0.0.24: CRITICAL: no certificate"
like "text: mx6 lines" "$(grep "^mx6.$Z 127.0.0.25 " "$WORK/out" | cut -d: -f1,2 | tr '\n' ,)" "^mx6.$Z 127.0.0.25 ECDSA: OK,mx6.$Z 127.0.0.25 RSA: OK,$"
is "text: CRITICAL details before WARNING details" \
	"$(sed -n '/^details:$/,$p' "$WORK/out" | grep -Eo '^  [A-Za-z]+' | uniq | tr -d ' ' | tr '\n' ,)" "CRITICAL,WARNING,"

# ---- exit codes by the worst verdict -----------------------------------------------
chk --hygiene-levels legacy=warning,krsa=warning --host mx6.$Z
is "mx6 alone: exit 1 (WARNING)" "$rc" 1
like "mx6 alone: DANE WARNING" "$(line1)" "^DANE WARNING - mx6.$Z 127.0.0.25: accepts TLSv1.1 and TLSv1"
# The defaults: TLS 1.0 and RSA key exchange merely accepted are notes, as
# for a stock Postfix, which accepts both; a weak cipher stays a warning.
chk --json --host mx6.$Z
is "mx6 with the default levels: OK" "$(js 'A("mx6.'$Z'")["status"]')" OK
like "... TLS 1.0 accepted is a note" "$(js 'F(A("mx6.'$Z'"))')" "OK: mx6.$Z 127.0.0.25: accepts TLSv1.1 and TLSv1"
like "... so is kRSA accepted" "$(js 'F(A("mx6.'$Z'"))')" "OK: mx6.$Z 127.0.0.25: accepts [A-Z0-9-]+, a key exchange without forward secrecy"
chk --hygiene-levels legacy=critical --host mx6.$Z
is "--hygiene-levels legacy=critical: exit 2" "$rc" 2
chk --hygiene-levels legacy=bogus --host mx6.$Z
is "--hygiene-levels with a bad level: exit 3" "$rc" 3
like "... and says what it wants" "$(cat "$WORK/err")" "hygiene-levels: .*want KIND=LEVEL"
chk --hygiene report --host mx6.$Z
is "mx6 --hygiene report: exit 0" "$rc" 0
like "mx6 --hygiene report: DANE OK" "$(line1)" '^DANE OK - '
like "mx6 --hygiene report: the finding is a note" "$(cat "$WORK/out")" "  note: mx6.$Z 127.0.0.25: accepts TLSv1.1 and TLSv1"
chk --hygiene off --json --host mx6.$Z
is "mx6 --hygiene off: exit 0" "$rc" 0
is "mx6 --hygiene off: nothing probed" "$(js 'A("mx6.'$Z'")["hygiene"]')" '{"legacy_tls": null, "tls1_0": null, "weak_ciphers": null, "rsa_key_exchange": null}'
chk --host mx4.$Z
is "mx4 (expired, DANE-EE): exit 1" "$rc" 1
chk --warn-days 40 --host mx1.$Z
is "mx1 --warn-days 40: exit 1" "$rc" 1
like "mx1 --warn-days 40: expires soon" "$(cat "$WORK/out")" "WARNING: mx1.$Z 127.0.0.20 (ECDSA|RSA): certificate expires in (29|30) days"
like "mx1 --warn-days 40: perfdata threshold" "$(line1)" ' days_left=(29|30);40:;0: '
chk --host mx3.$Z
is "mx3 (mismatch): exit 2" "$rc" 2
chk --host mx5.$Z
is "mx5 (no STARTTLS): exit 2" "$rc" 2
like "mx5: DANE CRITICAL with the reason" "$(line1)" "^DANE CRITICAL - mx5.$Z 127.0.0.24 port 25: server does not offer STARTTLS"
# UNKNOWN: usage errors, and no resolver answering
for args in "--no-such-option $Z" "--timeout 0 $Z" "--hygiene maybe $Z" "--port 70000 $Z" "--starttls pop3 $Z" "--jobs 0 $Z" "bad/name"; do
	# shellcheck disable=SC2086
	chk $args
	is "usage error ($args): exit 3" "$rc" 3
done
chk
is "no names and no configuration: exit 3" "$rc" 3
like "no names and no configuration: says so" "$(cat "$WORK/err")" 'no domain given'
chk --resolver 127.0.0.99 --timeout 1 --host mx1.$Z
is "no resolver answering: exit 3 (UNKNOWN)" "$rc" 3
like "no resolver answering: DANE UNKNOWN status line" "$(line1)" "$NAGIOS"
like "no resolver answering: UNKNOWN" "$(line1)" '^DANE UNKNOWN - '
ok "--help: exit 0" "$R" check --help
chk --host mx1.$Z --resolver 127.0.0.99 --timeout 1
is "options after a name are taken as options (exit 3, UNKNOWN)" "$rc" 3
like "... the resolver given after the name was the one asked" "$(cat "$WORK/out")" 'address lookup failed: 127\.0\.0\.99@53'
like "... and only the one name was checked" "$(line1)" ' \| hosts=1 '

# ---- RSA + ECDSA: one record removed, only that kind fails --------------------------
dns_update "$WORK/dns" > "$WORK/update.out" 2>&1 <<EOF || bail "nsupdate: $(cat "$WORK/update.out")"
update delete _25._tcp.mx1.$Z TLSA $R1_311
EOF
dns_rdata_wait "$DNS_RESOLVER" "_25._tcp.mx1.$Z" TLSA "$(echo "$E1_311" | tr a-f A-F)" 15 || bail "the resolver still has R1's record"
dns_lab_sync_wait "$WORK/dns"
chk --json --host mx1.$Z
is "mx1 without the RSA record: exit 2" "$rc" 2
is "mx1 without the RSA record: ECDSA still matches" "$(js 'C("mx1.'$Z'", "ECDSA")["dane"]["match"]')" true
is "mx1 without the RSA record: RSA fails" "$(js 'C("mx1.'$Z'", "RSA")["dane"]')" '{"match": false, "reason": "no matching DANE TLSA records"}'
is "mx1 without the RSA record: per-kind status" "$(js '[c["status"] for c in A("mx1.'$Z'")["certificates"]]')" '["OK", "CRITICAL"]'
cp "$WORK/out" "$WORK/mx1-rsa-gone.json"
chk --host mx1.$Z
like "mx1 without the RSA record: text lines" "$(grep "^mx1.$Z 127.0.0.20 " "$WORK/out" | cut -d: -f1,2 | tr '\n' ,)" "ECDSA: OK,mx1.$Z 127.0.0.20 RSA: CRITICAL,$"

# ---- cross-check with independent clients -------------------------------------------
# openssl s_client, one handshake per certificate type (the same sigalgs
# split the check uses), the TLSA RRset as the lab resolver serves it.
# match HOST ADDR KIND: true when s_client's DANE verification succeeds.
ossl_match() {
	_recs=$(dig @"$DNS_RESOLVER" +short +nosplit "_25._tcp.$1" TLSA)
	set -- "$1" "$2" "$3"
	_h=$1 _a=$2 _k=$3
	case $_k in
	ECDSA) _sa=ecdsa_secp256r1_sha256:ecdsa_secp384r1_sha384 ;;
	RSA) _sa=rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pkcs1_sha256 ;;
	esac
	set --
	while read -r _u _s _m _d; do
		[ -n "$_d" ] && set -- "$@" -dane_tlsa_rrdata "$_u $_s $_m $_d"
	done <<-EOF
	$_recs
	EOF
	if openssl s_client -brief -starttls smtp -connect "$_a:25" -servername "$_h" \
		-dane_tlsa_domain "$_h" "$@" -sigalgs "$_sa" -verify_return_error \
		< /dev/null 2>&1 | grep -q '^Verification: OK'; then
		echo true
	else
		echo false
	fi
}
for hk in "mx1 127.0.0.20 ECDSA" "mx1 127.0.0.20 RSA" "mx2 127.0.0.21 ECDSA" \
	"mx3 127.0.0.22 ECDSA" "mx4 127.0.0.23 ECDSA" "mx4ta 127.0.0.23 ECDSA" \
	"mx6 127.0.0.25 ECDSA" "mx6 127.0.0.25 RSA"; do
	# shellcheck disable=SC2086
	set -- $hk
	cp "$WORK/hosts.json" "$WORK/out"
	[ "$1" = mx1 ] && cp "$WORK/mx1-rsa-gone.json" "$WORK/out"
	is "openssl s_client agrees: $1 $3" "$(js 'C("'"$1.$Z"'", "'"$3"'")["dane"]["match"]')" "$(ossl_match "$1.$Z" "$2" "$3")"
done
# posttls-finger -l dane: the system resolver (the lab's Unbound in this
# namespace), its own MX/TLSA lookups, the certificate the server picks.
for h in mx1 mx2 mx3 mx4 mx4ta mx6; do
	MAIL_CONFIG=$WORK/mx/etc posttls-finger -c -t30 -l dane "[$h.$Z]:25" > "$WORK/ptf" 2>&1
	kind=$(grep -Eo 'server-signature (ECDSA|RSA)' "$WORK/ptf" | head -n 1 | cut -d' ' -f2)
	if grep -q 'Verified TLS connection established' "$WORK/ptf"; then theirs=true; else theirs=false; fi
	cp "$WORK/hosts.json" "$WORK/out"
	[ "$h" = mx1 ] && cp "$WORK/mx1-rsa-gone.json" "$WORK/out"
	if [ -z "$kind" ]; then
		_report 1 "posttls-finger agrees: $h" "no handshake: $(cat "$WORK/ptf")"
		continue
	fi
	is "posttls-finger agrees: $h ($kind)" "$(js 'C("'"$h.$Z"'", "'"$kind"'")["dane"]["match"]')" "$theirs"
done
MAIL_CONFIG=$WORK/mx/etc posttls-finger -t30 -l dane "[mx5.$Z]:25" > "$WORK/ptf" 2>&1
like "posttls-finger: mx5 answers EHLO" "$(cat "$WORK/ptf")" '< 250 '
nok "posttls-finger agrees: mx5 offers no STARTTLS, no TLS" grep -Eq 'STARTTLS|TLS connection established' "$WORK/ptf"

# Restore mx1's RSA record for what follows.
dns_update "$WORK/dns" > "$WORK/update.out" 2>&1 <<EOF || bail "nsupdate: $(cat "$WORK/update.out")"
update add _25._tcp.mx1.$Z 2 TLSA $R1_311
EOF
dns_rdata_wait "$DNS_RESOLVER" "_25._tcp.mx1.$Z" TLSA "$(printf '%s\n%s\n' "$E1_311" "$R1_311" | tr a-f A-F | sort)" 15 ||
	bail "R1's record is not back"
dns_lab_sync_wait "$WORK/dns"

# ---- configuration mode: no names, the configured services --------------------------
cat > "$WORK/roll.yaml" <<YAML
state_dir: $WORK/state
dns:
  zone: $Z
  primary: 127.0.0.40
  tsig_key_file: $DNS_TSIG_KEY
  resolver: 127.0.0.53
  trust_anchor_file: $DNS_TRUST_ANCHOR
  ttl: 2
services:
  - name: mx
    hosts: [mx1.$Z, mx2.$Z]
    deploy_dir: $WORK/deploy
    reload: [/bin/true]
  - name: bad
    hosts: [mx3.$Z]
    deploy_dir: $WORK/deploy-bad
    reload: [/bin/true]
YAML
mkdir -p "$WORK/state" "$WORK/deploy" "$WORK/deploy-bad"
"$R" -f "$WORK/roll.yaml" check --json > "$WORK/out" 2> "$WORK/err"
rc=$?
is "config mode: exit 2 (service bad)" "$rc" 2
is "config mode: one entry per service" "$(js '[x["name"] for x in d["domains"]]')" '["service mx", "service bad"]'
is "config mode: service mx is OK" "$(js 'd["domains"][0]["status"]')" OK
is "config mode: its hosts" "$(js '[h["host"] for h in d["domains"][0]["mx"]]')" "[\"mx1.$Z\", \"mx2.$Z\"]"
is "config mode: service bad is CRITICAL" "$(js 'd["domains"][1]["status"]')" CRITICAL
"$R" -f "$WORK/roll.yaml" check "$Z" > "$WORK/out" 2> "$WORK/err"
is "config mode with a name: checks the name only (exit 0)" "$?" 0
like "config mode with a name: the config's resolver" "$(line1)" '^DANE OK - 2 MX hosts'

# ---- bad input: each a per-address verdict with its reason -----------------------------
# The good mx2 in the same run stays OK; exit is the worst.
START=$(date +%s)
# shellcheck disable=SC2086
chk --json --timeout 3 --host mx2.$Z $BADNAMES mxmulti.$Z mxbogus.$Z mxinsec.$Z mxnotlsa.$Z nohost.$Z
END=$(date +%s)
cp "$WORK/out" "$WORK/bad.json"
is "bad input: exit 2" "$rc" 2
ok "bad input: bounded by the 3 s timeout (took $((END - START)) s)" test $((END - START)) -le 15
is "bad input: mx2 still OK" "$(js 'A("mx2.'$Z'")["status"]')" OK
is "bad input: mx2 still matches" "$(js 'C("mx2.'$Z'", "ECDSA")["dane"]["match"]')" true
# bad NAME ADDR STATUS REASON-ERE: the address verdict and its reason
bad() {
	is "$1: $3" "$(js 'A("'"$1.$Z"'", "'"$2"'")["status"]')" "$3"
	like "$1: the reason" "$(js 'F(A("'"$1.$Z"'", "'"$2"'"))')" "$4"
}
bad b-silent 127.0.0.30 CRITICAL "CRITICAL: b-silent.$Z 127.0.0.30 port 25: timed out waiting for the greeting reply"
bad b-close 127.0.0.31 CRITICAL "CRITICAL: b-close.$Z 127.0.0.31 port 25: connection closed before the greeting reply was complete"
bad b-endless 127.0.0.32 CRITICAL "CRITICAL: b-endless.$Z 127.0.0.32 port 25: greeting reply has more than [0-9]+ lines"
bad b-binary 127.0.0.33 CRITICAL "CRITICAL: b-binary.$Z 127.0.0.33 port 25: malformed greeting reply"
bad b-ehlo5xx 127.0.0.34 CRITICAL "CRITICAL: b-ehlo5xx.$Z 127.0.0.34 port 25: EHLO refused: \"550 5.7.1 EHLO rejected by policy\""
bad b-tls5xx 127.0.0.35 CRITICAL "CRITICAL: b-tls5xx.$Z 127.0.0.35 port 25: STARTTLS refused: \"554 5.7.3 TLS refused by policy\""
bad b-notls 127.0.0.36 CRITICAL "CRITICAL: b-notls.$Z 127.0.0.36 port 25: server does not offer STARTTLS"
bad b-drop 127.0.0.37 CRITICAL "CRITICAL: b-drop.$Z 127.0.0.37 port 25: TLS handshake failed"
bad b-huge 127.0.0.38 CRITICAL "CRITICAL: b-huge.$Z 127.0.0.38 port 25: TLS handshake failed: excessive message size"
# The long chain: the leaf matches its 3 1 1; the 99 copies of the
# intermediate above it are not a chain.
bad b-c100 127.0.0.39 WARNING "WARNING: b-c100.$Z 127.0.0.39 ECDSA: chain out of order"
is "b-c100: DANE-EE match at depth 0" "$(js 'C("b-c100.'$Z'", "ECDSA")["dane"]["depth"]')" 0
is "b-c100: all 100 certificates seen" "$(js 'len(C("b-c100.'$Z'", "ECDSA")["chain"])')" 100
# Two addresses, one good, one silent: each judged alone.
is "mxmulti: two addresses" "$(js '[a["address"] for a in H("mxmulti.'$Z'")["addresses"]]')" '["127.0.0.21", "127.0.0.30"]'
is "mxmulti 127.0.0.21: OK" "$(js 'A("mxmulti.'$Z'", "127.0.0.21")["status"]')" OK
bad mxmulti 127.0.0.30 CRITICAL "timed out waiting for the greeting reply"
is "mxmulti: the host takes the worst" "$(js 'H("mxmulti.'$Z'")["status"]')" CRITICAL
# TLSA RRsets: bogus (child zone, DS matching nothing), insecure (no DS),
# missing.
is "mxbogus: TLSA bogus" "$(js 'H("mxbogus.'$Z'")["tlsa_dnssec"]')" bogus
like "mxbogus: host CRITICAL with the reason" "$(js 'H("mxbogus.'$Z'")["status"] + " " + F(H("mxbogus.'$Z'"))')" \
	"^CRITICAL CRITICAL: TLSA RRset at _25._tcp.mxbogus.$Z is bogus: DANE senders defer mail"
is "mxinsec: TLSA insecure" "$(js 'H("mxinsec.'$Z'")["tlsa_dnssec"]')" insecure
like "mxinsec: host CRITICAL with the reason" "$(js 'H("mxinsec.'$Z'")["status"] + " " + F(H("mxinsec.'$Z'"))')" \
	"^CRITICAL CRITICAL: TLSA RRset at _25._tcp.mxinsec.$Z is insecure \(no DNSSEC\): senders ignore it"
like "mxnotlsa: host CRITICAL, no TLSA records" "$(js 'H("mxnotlsa.'$Z'")["status"] + " " + F(H("mxnotlsa.'$Z'"))')" \
	"^CRITICAL CRITICAL: no TLSA records at _25._tcp.mxnotlsa.$Z: DANE is not in effect"
like "nohost: unresolvable, CRITICAL" "$(js 'H("nohost.'$Z'")["status"] + " " + F(H("nohost.'$Z'"))')" \
	"^CRITICAL CRITICAL: nohost.$Z does not exist \(NXDOMAIN\)"
# The address verdict of a host whose TLSA RRset is bogus, insecure or
# missing: DANE senders defer (bogus) or do not use DANE there, yet the
# address (and its perfdata count) says OK.
is "mxbogus 127.0.0.21: the address verdict is CRITICAL" "$(js 'A("mxbogus.'$Z'")["status"]')" CRITICAL
is "mxinsec 127.0.0.21: the address verdict is CRITICAL" "$(js 'A("mxinsec.'$Z'")["status"]')" CRITICAL

# The same run as text: one line per address, the reason in the details.
# shellcheck disable=SC2086
chk --timeout 3 --host mx2.$Z $BADNAMES mxmulti.$Z
is "bad input (text): exit 2" "$rc" 2
like "bad input (text): Nagios status line" "$(line1)" "$NAGIOS"
like "bad input (text): mx2 line OK" "$(cat "$WORK/out")" "mx2.$Z 127.0.0.21 ECDSA: OK: DANE match"
is "bad input (text): a line per bad address" \
	"$(grep -Ec "^b-[a-z0-9]+\.$Z 127\.0\.0\.3[0-9]( ECDSA)?: (CRITICAL|WARNING): " "$WORK/out")" 10
like "bad input (text): the endless banner is sanitised and bounded" "$(grep -c '' "$WORK/out")" '^[0-9]{1,3}$'
nok "bad input (text): no binary bytes in the output" env LC_ALL=C grep -qP '[\x00-\x08\x0e-\x1f\x7f-\xff]' "$WORK/out"

# MX records: CNAME target, null MX, unresolvable target, mixed good/bad.
chk --json --timeout 3 cname.$Z nullmx.$Z unres.$Z mixed.$Z
is "MX cases: exit 2" "$rc" 2
is "cname: the MX host is an alias" "$(js 'H("mxc.'$Z'")["cname"]')" "mx2.$Z"
is "cname: TLSA looked up at the target (RFC 7672 2.2.2)" "$(js 'H("mxc.'$Z'")["tlsa_owner"]')" "_25._tcp.mx2.$Z"
is "cname: DANE matches" "$(js 'C("mxc.'$Z'", "ECDSA")["dane"]["match"]')" true
like "cname: WARNING, RFC 2181 10.3" "$(js 'H("mxc.'$Z'")["status"] + " " + F(H("mxc.'$Z'"))')" "^WARNING WARNING: MX host mxc.$Z is an alias \(CNAME\) of mx2.$Z"
is "nullmx: no hosts" "$(js 'd["domains"][1]["mx"]')" '[]'
like "nullmx: the reason" "$(js 'F(d["domains"][1])')" "CRITICAL: null MX \(RFC 7505\): nullmx.$Z accepts no mail"
like "unres: the MX target does not exist" "$(js 'F(H("nohost.'$Z'"))')" "CRITICAL: nohost.$Z does not exist \(NXDOMAIN\)"
is "mixed: MX hosts by preference" "$(js '[h["host"] for h in d["domains"][3]["mx"]]')" "[\"mx2.$Z\", \"mx3.$Z\", \"b-silent.$Z\"]"
is "mixed: per-host verdicts" "$(js '[h["status"] for h in d["domains"][3]["mx"]]')" '["OK", "CRITICAL", "CRITICAL"]'
is "mixed: the domain takes the worst" "$(js 'd["domains"][3]["status"]')" CRITICAL
chk --timeout 3 cname.$Z
is "cname alone: exit 1" "$rc" 1

# ---- perfdata: Nagios threshold ranges ---------------------------------------------------
# "days_left=29;14;0": in the plugin guidelines a bare "14" is the range
# 0..14 (alert outside it, i.e. above 14 days); "14:" alerts below 14.
chk "$Z"
is "perfdata: days_left thresholds alert below, not above" \
	"$(line1 | grep -Eo 'days_left=[^ ]+' | cut -d';' -f2-)" "14:;0:"

# ---- other ports: direct TLS, as tlsa-rollover.yaml(5) says (STARTTLS on 25
# and 587 only); with --starttls smtp the same server fails at the greeting.
openssl s_server -quiet -accept 127.0.0.20:4443 -cert "$P/E1.pem" -key "$P/E1.key" \
	-cert_chain "$P/int.pem" < /dev/null > "$WORK/s_server.log" 2>&1 &
spid=$!
at_exit "kill $spid 2>/dev/null"
i=0
until python3 -c 'import socket; socket.create_connection(("127.0.0.20", 4443), 1).close()' 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 50 ] || bail "openssl s_server did not start"
	sleep 0.1
done
chk --timeout 3 --hygiene off --host --port 4443 mx1.$Z
like "port 4443: direct TLS fetches the certificate" "$(cat "$WORK/out")" "mx1\.$Z 127\.0\.0\.20 ECDSA: "
like "port 4443: no TLSA records there, said so" "$(cat "$WORK/out")" "no TLSA records at _4443\._tcp\.mx1\.$Z"
chk --timeout 2 --hygiene off --starttls smtp --host --port 4443 mx1.$Z
like "port 4443 with --starttls smtp: no greeting" "$(cat "$WORK/out")" "greeting"
kill $spid 2>/dev/null

# ---- least privilege: the probes run as nobody, not as root -------------------
# While the check waits on the silent server, the kernel's socket table
# says whose the connection is (/proc/net/tcp: remote 127.0.0.30:25 is
# 1E00007F:0019, state 01 is ESTABLISHED, the uid is the 8th field;
# sockets in TIME_WAIT, left by earlier tests, show uid 0).
nobody=$(id -u nobody)
"$R" check --timeout 6 --hygiene off --host b-silent.$Z > "$WORK/priv.out" 2>&1 &
pid=$!
owner=""
i=0
while [ $i -lt 40 ] && [ -z "$owner" ]; do
	owner=$(awk '$3 == "1E00007F:0019" && $4 == "01" { print $8; exit }' /proc/net/tcp)
	[ -n "$owner" ] || sleep 0.1
	i=$((i + 1))
done
wait $pid
is "the check's connections belong to nobody, not root" "$owner" "$nobody"
TLSA_PRIVSEP_USER=root "$R" check --timeout 1 --hygiene off --host mx1.$Z > "$WORK/priv.out" 2>&1
is "dropping to root is refused: exit 3" "$?" 3
like "... and says why" "$(cat "$WORK/priv.out")" 'cannot drop privileges: user "root" is root'

done_testing
