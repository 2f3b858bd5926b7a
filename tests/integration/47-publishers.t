#!/bin/sh
# 47-publishers.t: tlsa-rollover's other publishers against a real
# PowerDNS (gsqlite3, online signing, the HTTP API on): whole rollovers
# with two MX names through backend pdns-api, then through backend exec
# with hooks/tlsa-publish-pdns as the program, each checked by the
# invariant observer (tests/lab/roll.sh) against the PowerDNS server,
# with a validating Unbound in front of it; then a conflict (the RRset
# changed behind our back with pdnsutil replace-rrset) refused with an
# alert naming the owner and nothing changed, for both backends; then
# the exec protocol's failure modes (a program that dies, one that
# hangs, one that talks nonsense).
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.0.20 mx1.example.test
127.0.0.21 mx2.example.test"
lab_netns "$@"
need_cmd pdns_server pdnsutil sqlite3 unbound postfix dig openssl tsig-keygen /usr/bin/python3
. "$TOP/tests/lab/primaries.sh"
chmod 711 "$WORK"
PD=127.0.0.44
RES=127.0.0.53
API=http://$PD:8081

(umask 077 && tsig-keygen -a hmac-sha256 tlsa-update > "$WORK/tsig.key" &&
	printf 'lab-api-key-%s\n' "$$" > "$WORK/api.key") || bail "keys"
cat > "$WORK/zone" <<EOF
\$ORIGIN example.test.
\$TTL 2
@	SOA	ns1 hostmaster 1 3600 5 1209600 2
	NS	ns1
	MX	10 mx1
	MX	20 mx2
ns1	A	$PD
mx1	A	127.0.0.20
mx2	A	127.0.0.21
EOF
PDNS_LAB_API_KEY=$(cat "$WORK/api.key") pdns_start "$WORK/pdns" $PD example.test "$WORK/zone" "$WORK/tsig.key" ||
	bail "PowerDNS"
at_exit "primary_stop '$WORK/pdns'"
dig @$PD +norec +noall +answer DNSKEY example.test | awk '$4 == "DNSKEY"' > "$WORK/ta.key"
[ -s "$WORK/ta.key" ] || bail "no DNSKEY from PowerDNS"
resolver_start "$WORK/unbound" $RES example.test $PD "$WORK/ta.key" || bail "Unbound"
at_exit "primary_stop '$WORK/unbound'"

. "$TOP/tests/lab/fixture.sh"
fixture_pki A B C D E
fixture_postfix 127.0.0.20 127.0.0.21

HOOK=$WORK/tlsa-publish-pdns
cp "$TOP/hooks/tlsa-publish-pdns" "$HOOK" && chmod 755 "$HOOK" || bail "hook"

# write_config DNS-OPTION...: the fixture's configuration with PowerDNS
# as the only authoritative server and the backend's keys under dns:.
write_config() {
	fixture_config primary= tsig= resolver=$RES "dns=check_servers: [$PD]" "$@"
}
PDNS_CFG="dns=backend: pdns-api
dns=api_url: $API
dns=api_key_file: $WORK/api.key"
EXEC_CFG="dns=backend: exec
dns=exec: [$HOOK, $API, $WORK/api.key]
dns=exec_timeout: 10s"
# The option lists above, one option a line, as arguments.
write_config_lines() {
	_wl_ifs=$IFS
	IFS='
'
	set -f
	set -- $1
	set +f
	IFS=$_wl_ifs
	write_config "$@"
}
ROLL_AUTH=$PD
# rdata HOST: the RRset PowerDNS serves at HOST, "u s m hex" sorted.
rdata() {
	dig @$PD +norec +noall +answer "_25._tcp.$1" TLSA |
		awk '$4 == "TLSA" { d = ""; for (i = 8; i <= NF; i++) d = d $i; print $5, $6, $7, tolower(d) }' | sort
}

# ---- pdns-api ---------------------------------------------------------------
write_config_lines "$PDNS_CFG"
ok "pdns-api: validate-config" "$R" $C validate-config
out=$("$R" $C validate-config --online 2>&1)
like "pdns-api: validate-config --online reads an owner through the API" "$out" \
	"service mx: pdns-api $API: read of _25\._tcp\.mx1\.example\.test\.: 0 record\(s\): ok"
nok "pdns-api: the API key is never printed" sh -c "printf '%s' \"\$1\" | grep -qF '$(cat "$WORK/api.key")'" - "$out"
ok "pdns-api: import A" "$R" $C import mx "$WORK/pki/A.chain.pem" "$WORK/pki/A.key"
ok "pdns-api: A: the rollover completes" run_until steady 30
like "pdns-api: mx1 serves A" "$("$T" -r 3,1,1 -H mx1.example.test -c 127.0.0.20 -f json 2>&1)" "$(spki "$WORK/pki/A.pem")"
like "pdns-api: PowerDNS serves A's record at mx2" "$(rdata mx2.example.test)" "3 1 1 $(spki "$WORK/pki/A.pem")"
like "pdns-api: signed online (RRSIG over the TLSA RRset)" \
	"$(dig @$PD +norec +dnssec +noall +answer _25._tcp.mx1.example.test TLSA)" "RRSIG[[:space:]]+TLSA"
ok "pdns-api: import B" "$R" $C import mx "$WORK/pki/B.chain.pem" "$WORK/pki/B.key"
ok "pdns-api: B: the rollover completes (publish, visible, hold, switch, verify, retire)" run_until steady 30
pub=$(rdata mx1.example.test)
like "pdns-api: B's record is published" "$pub" "$(spki "$WORK/pki/B.pem")"
nok "pdns-api: A's record was retired" sh -c "printf '%s\n' '$pub' | grep -q '$(spki "$WORK/pki/A.pem")'"
is "pdns-api: mx1 and mx2 hold the same RRset" "$(rdata mx2.example.test)" "$pub"

# ---- exec, with hooks/tlsa-publish-pdns ------------------------------------
write_config_lines "$EXEC_CFG"
ok "exec: validate-config" "$R" $C validate-config
like "exec: validate-config --online reads an owner through the program" \
	"$("$R" $C validate-config --online 2>&1)" \
	"service mx: exec $HOOK: read of _25\._tcp\.mx1\.example\.test\.: 2 record\(s\): ok"
ok "exec: import C" "$R" $C import mx "$WORK/pki/C.chain.pem" "$WORK/pki/C.key"
ok "exec: C: the rollover completes" run_until steady 30
like "exec: mx2 serves C" "$("$T" -r 3,1,1 -H mx2.example.test -c 127.0.0.21 -f json 2>&1)" "$(spki "$WORK/pki/C.pem")"
pub=$(rdata mx1.example.test)
like "exec: C's record is published" "$pub" "3 1 1 $(spki "$WORK/pki/C.pem")"
nok "exec: B's record was retired" sh -c "printf '%s\n' '$pub' | grep -q '$(spki "$WORK/pki/B.pem")'"
is "exec: mx1 and mx2 hold the same RRset" "$(rdata mx2.example.test)" "$pub"

# ---- a conflict: the RRset changed behind our back ---------------------------
conflict() {	# NAME
	_cn=$1
	good1=$(rdata mx1.example.test) good2=$(rdata mx2.example.test)
	pdnsutil --config-dir="$WORK/pdns" replace-rrset example.test _25._tcp.mx1 TLSA 2 \
		"3 1 1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" > /dev/null 2>&1 ||
		bail "pdnsutil replace-rrset"
	changed=$(rdata mx1.example.test)
	"$R" $C run > "$WORK/run.out" 2>&1
	is "$_cn: conflict: run exits 1" "$?" 1
	like "$_cn: conflict: refused, naming the owner" "$(cat "$WORK/run.out")" \
		"_25\._tcp\.mx1\.example\.test\.: refused to replace the RRset: it holds 3 1 1 0011"
	is "$_cn: conflict: mx1 keeps what the other writer put there" "$(rdata mx1.example.test)" "$changed"
	is "$_cn: conflict: mx2 is unchanged" "$(rdata mx2.example.test)" "$good2"
	st=$("$R" $C status mx 2>&1)
	like "$_cn: conflict: status shows the alert" "$st" "ALERT"
	like "$_cn: conflict: the alert names the owner" "$st" "_25\._tcp\.mx1\.example\.test\.: refused"
	like "$_cn: conflict: still publishing" "$(phase)" "publish"
	# The operator puts it back; the next runs carry on.
	set --
	while read -r _l; do set -- "$@" "$_l"; done <<-EOF
	$good1
	EOF
	pdnsutil --config-dir="$WORK/pdns" replace-rrset example.test _25._tcp.mx1 TLSA 2 "$@" > /dev/null 2>&1
	is "$_cn: the RRset is put back" "$(rdata mx1.example.test)" "$good1"
	ok "$_cn: after it is put back, the rollover completes" run_until steady 30
}
ok "exec: import D" "$R" $C import mx "$WORK/pki/D.chain.pem" "$WORK/pki/D.key"
conflict exec
write_config_lines "$PDNS_CFG"
ok "pdns-api: import E" "$R" $C import mx "$WORK/pki/E.chain.pem" "$WORK/pki/E.key"
conflict pdns-api
like "pdns-api: mx1 serves E in the end" "$("$T" -r 3,1,1 -H mx1.example.test -c 127.0.0.20 -f json 2>&1)" "$(spki "$WORK/pki/E.pem")"

# ---- exec: programs that misbehave -----------------------------------------
prog() {	# NAME BODY: a /bin/sh program
	printf '#!/bin/sh\n%s\n' "$2" > "$WORK/$1" && chmod 755 "$WORK/$1"
}
prog dies 'echo "no such zone here" >&2; exit 3'
prog hangs 'read line; sleep 30'
prog nonsense 'while read line; do echo "yes sure"; done'
prog refuses 'while read line; do echo "error the provider said no"; done'
# (PWD is the shell's own.)
prog env 'while read line; do echo "error $TLSA_ROLLOVER_ZONE $TLSA_ROLLOVER_TTL $TLSA_ROLLOVER_SERVICE $(env | cut -d= -f1 | grep -vx PWD | sort | paste -sd, -)"; done'
for p in dies hangs nonsense refuses env; do
	write_config "dns=backend: exec" "dns=exec: [$WORK/$p]" "dns=exec_timeout: 2s"
	out=$("$R" $C validate-config --online 2>&1)
	st=$?
	is "exec $p: validate-config --online fails (exit 2)" "$st" 2
	is "exec $p: one line" "$(printf '%s\n' "$out" | wc -l)" 1
	case $p in
	dies) like "exec dies: says how it ended and what it said" "$out" \
		"exec $WORK/dies: exited with status 3 without answering \(stderr: no such zone here\)" ;;
	hangs) like "exec hangs: killed after exec_timeout" "$out" "exec $WORK/hangs: no answer within 2 s; killed" ;;
	nonsense) like "exec nonsense: not an answer" "$out" \
		"exec $WORK/nonsense: _25\._tcp\.mx1\.example\.test\.: not an answer to read \(ok SET, error TEXT\): \"yes sure\"" ;;
	refuses) like "exec refuses: its error text" "$out" \
		"exec $WORK/refuses: _25\._tcp\.mx1\.example\.test\.: error: the provider said no" ;;
	env) like "exec env: a fixed environment: zone, TTL, service, PATH, LANG" "$out" \
		"error: example\.test\. 2 mx LANG,PATH,TLSA_ROLLOVER_SERVICE,TLSA_ROLLOVER_TTL,TLSA_ROLLOVER_ZONE$" ;;
	esac
done

is "the observer saw no invariant violation" "$VIOLATIONS" 0
done_testing
