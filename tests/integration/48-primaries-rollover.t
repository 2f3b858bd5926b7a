#!/bin/sh
# 48-primaries-rollover.t: whole rollovers through the RFC 2136 publisher
# (dns.backend rfc2136, the default) with primaries other than BIND.  For
# each of PowerDNS (gsqlite3) and Knot DNS as the online-signed primary,
# taking TSIG-signed updates: a BIND secondary of the same zone on another
# lab address that follows it by NOTIFY and IXFR/AXFR, a validating
# Unbound whose trust anchor is the primary's DNSKEY, two MX names served
# by a private Postfix, and check_servers naming both the primary and the
# secondary.  Rolls A -> B, with the independent invariant observer
# (tests/lab/roll.sh) asking the primary and the secondary after every
# run; then checks that the secondary serves exactly the primary's TLSA
# RRsets (signed), and that they are hash-slinger's records for the
# certificate each MX serves.  Then a lagging secondary (its transfers
# blocked) holds the switch to C: the service stays in visible and status
# names the secondary as behind; unblocked, the rollover completes.
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.0.20 mx1.example.test
127.0.0.21 mx2.example.test"
lab_netns "$@"
need_cmd knotd pdns_server pdnsutil sqlite3 named named-checkconf unbound postfix dig openssl tsig-keygen setpriv tlsa
. "$TOP/tests/lab/primaries.sh"
. "$TOP/tests/lab/fixture.sh"
chmod 711 "$WORK"
SEC=127.0.0.41
RES=127.0.0.53

(umask 077 && tsig-keygen -a hmac-sha256 tlsa-update > "$WORK/tsig.key") || bail "tsig-keygen"
fixture_pki A B C

# rdata SERVER HOST: the TLSA RRset SERVER serves at HOST, "u s m hex"
# sorted, a line each.
rdata() {
	dig @"$1" +norec +time=1 +tries=1 +noall +answer "_25._tcp.$2" TLSA |
		awk '$4 == "TLSA" { d = ""; for (i = 8; i <= NF; i++) d = d $i; print $5, $6, $7, tolower(d) }' | sort
}
# same_rrsets PRIMARY: bounded wait (10 s, 50 tries) until the secondary
# serves exactly the primary's TLSA RRset at every MX name.
same_rrsets() {
	_sr_end=$(($(date +%s) + 10))
	_sr_n=0
	while [ $_sr_n -lt 50 ] && [ "$(date +%s)" -le "$_sr_end" ]; do
		_sr_ok=1
		for _sr_h in $HOSTS; do
			[ "$(rdata "$1" $_sr_h)" = "$(rdata $SEC $_sr_h)" ] || _sr_ok=0
		done
		[ $_sr_ok = 1 ] && return 0
		_sr_n=$((_sr_n + 1))
		sleep 0.2
	done
	for _sr_h in $HOSTS; do
		diag "$_sr_h: primary $1: $(rdata "$1" $_sr_h | paste -sd, -); secondary: $(rdata $SEC $_sr_h | paste -sd, -)"
	done
	return 1
}
# served ADDR HOST: the chain the MX at ADDR serves to HOST, split into
# $WORK/served.0.pem (the leaf), $WORK/served.1.pem (its issuer), ...
served() {
	rm -f "$WORK"/served.*.pem
	openssl s_client -starttls smtp -connect "$1:25" -servername "$2" -showcerts </dev/null 2>/dev/null |
		awk -v w="$WORK" '/-----BEGIN CERTIFICATE-----/ { f = w "/served." n++ ".pem" }
			f { print > f } /-----END CERTIFICATE-----/ { close(f); f = "" }'
}
# oracle USAGE PEM-FILE HOST: hash-slinger's USAGE 1 1 record for the
# certificate in PEM-FILE, "u s m hex".
oracle() {
	tlsa --create --certificate "$2" --usage "$1" --selector 1 --mtype 1 --port 25 "$3" |
		awk '$0 ~ / TLSA / { print $(NF - 3), $(NF - 2), $(NF - 1), tolower($NF) }'
}
# check_published N PRIMARY CERT: after a completed rollover to CERT.
check_published() {
	_cp_n=$1 _cp_p=$2 _cp_c=$3
	ok "$_cp_n: the secondary serves exactly the primary's TLSA RRsets" same_rrsets "$_cp_p"
	like "$_cp_n: the secondary serves them signed (RRSIG over TLSA, transferred)" \
		"$(dig @$SEC +norec +dnssec +noall +answer _25._tcp.mx1.example.test TLSA)" "RRSIG[[:space:]]+TLSA"
	set -- 127.0.0.20 mx1.example.test 127.0.0.21 mx2.example.test
	while [ $# -ge 2 ]; do
		served "$1" "$2"
		is "$_cp_n: $2 ($1) serves $(basename "$_cp_c" .pem)" "$(spki "$WORK/served.0.pem")" "$(spki "$_cp_c")"
		# What the rollover publishes: 3 1 1 for the leaf, 2 1 1 for
		# its issuer.
		_cp_want=$({ oracle 3 "$WORK/served.0.pem" "$2"; oracle 2 "$WORK/served.1.pem" "$2"; } | sort)
		like "$_cp_n: hash-slinger gives records for the chain $2 serves" "$(echo $_cp_want)" \
			'^2 1 1 [0-9a-f]{64} 3 1 1 [0-9a-f]{64}$'
		is "$_cp_n: the primary's RRset at $2 is hash-slinger's records" "$(rdata "$_cp_p" "$2")" "$_cp_want"
		is "$_cp_n: the secondary's RRset at $2 is hash-slinger's records" "$(rdata $SEC "$2")" "$_cp_want"
		shift 2
	done
	like "$_cp_n: the resolver validates the RRset (AD)" \
		"$(dig @$RES +time=2 +tries=1 +dnssec _25._tcp.mx2.example.test TLSA)" '^;; flags:[^;]* ad[ ;]'
}

# round NAME KIND ADDR: a whole run of the test with KIND (pdns, knot) as
# the primary on ADDR.
round() {
	N=$1 KIND=$2 PRI=$3
	DIR=$WORK/$KIND
	# The deploy directory is $WORK/deploy, where the observer looks
	# (before the first deployment an MX has no certificate): a new one
	# for each round.
	rm -rf "$WORK/deploy"
	mkdir -p "$WORK/deploy" "$DIR/mx" || bail "mkdir"
	chmod 755 "$DIR" "$WORK/deploy"
	cat > "$DIR/zone" <<EOF
\$ORIGIN example.test.
\$TTL 2
@	SOA	ns1 hostmaster 1 3600 5 1209600 2
	NS	ns1
	NS	ns2
	MX	10 mx1
	MX	20 mx2
ns1	A	$PRI
ns2	A	$SEC
mx1	A	127.0.0.20
mx2	A	127.0.0.21
EOF
	case $KIND in
	pdns) PRIMARY_LAB_SECONDARY=$SEC pdns_start "$DIR/primary" $PRI example.test "$DIR/zone" "$WORK/tsig.key" ;;
	knot) PRIMARY_LAB_SECONDARY=$SEC knot_start "$DIR/primary" $PRI example.test "$DIR/zone" "$WORK/tsig.key" ;;
	esac || bail "$N"
	at_exit "primary_stop '$DIR/primary'"
	dig @$PRI +norec +noall +answer DNSKEY example.test | awk '$4 == "DNSKEY"' > "$DIR/ta.key"
	[ -s "$DIR/ta.key" ] || bail "no DNSKEY from $N"
	secondary_start "$DIR/secondary" $SEC example.test $PRI || bail "$N: BIND secondary"
	at_exit "primary_stop '$DIR/secondary'"
	like "$N: the secondary transferred the signed zone" \
		"$(dig @$SEC +norec +dnssec +noall +answer DNSKEY example.test)" "RRSIG[[:space:]]+DNSKEY"
	resolver_start "$DIR/unbound" $RES example.test $PRI "$DIR/ta.key" || bail "$N: Unbound"
	at_exit "primary_stop '$DIR/unbound'"
	# The rollover's copy of the anchor where only root may go: the
	# child that validates (as nobody) gets the anchors its parent read.
	mkdir -m 700 "$DIR/ta-root" && cp "$DIR/ta.key" "$DIR/ta-root/ta.key" || bail "ta-root"
	like "$N: nobody cannot read the trust anchor file" \
		"$(setpriv --reuid=65534 --regid=65534 --clear-groups cat "$DIR/ta-root/ta.key" 2>&1)" \
		"Permission denied"
	fixture_postfix -d "$DIR/mx" 127.0.0.20 127.0.0.21
	fixture_config file="$DIR/roll.yaml" state="$DIR/state" primary=$PRI \
		tsig="$WORK/tsig.key" resolver=$RES ta="$DIR/ta-root/ta.key" \
		"dns=check_servers: [$PRI, $SEC]" \
		"reload=[/bin/sh, $TOP/tests/lab/postfix.sh, reload, $DIR/mx]"
	C="-f $DIR/roll.yaml"
	ROLL_AUTH="$PRI $SEC"

	ok "$N: validate-config" "$R" $C validate-config
	ok "$N: import A" "$R" $C import mx "$WORK/pki/A.chain.pem" "$WORK/pki/A.key"
	ok "$N: A: the rollover completes" run_until steady 30
	ok "$N: import B" "$R" $C import mx "$WORK/pki/B.chain.pem" "$WORK/pki/B.key"
	ok "$N: B: the rollover completes (publish, visible, hold, switch, verify, retire)" run_until steady 30
	check_published "$N: B" $PRI "$WORK/pki/B.pem"
	# The SOA's refresh is an hour: only NOTIFY brings changes this soon.
	like "$N: the secondary was told by NOTIFY from the primary's address" \
		"$(cat "$DIR/secondary/named.log")" "$PRI#[0-9]+: received notify for zone 'example\.test'"

	# A lagging secondary: its transfers blocked, it keeps serving B only.
	ok "$N: import C" "$R" $C import mx "$WORK/pki/C.chain.pem" "$WORK/pki/C.key"
	ok "$N: the secondary's transfers are blocked" secondary_block "$DIR/secondary"
	before=$(rdata $SEC mx1.example.test)
	i=0
	while [ $i -lt 6 ]; do "$R" $C run > "$WORK/run.out" 2>&1; observe; i=$((i + 1)); sleep 1; done
	like "$N: the primary serves C's record" "$(rdata $PRI mx1.example.test)" "$(spki "$WORK/pki/C.pem")"
	is "$N: the lagging secondary still serves the old RRset" "$(rdata $SEC mx1.example.test)" "$before"
	nok "$N: and not C's record" sh -c "printf '%s\n' \"\$1\" | grep -q '$(spki "$WORK/pki/C.pem")'" - "$(rdata $SEC mx1.example.test)"
	is "$N: with the secondary lagging, the service stays in visible" "$(phase)" visible
	like "$N: the lagging secondary refused the primary's NOTIFY" \
		"$(cat "$DIR/secondary/named.log")" "refused notify from non-primary: $PRI#"
	st=$("$R" $C status 2>&1)
	like "$N: status names the secondary as behind" "$st" "^  behind +server $SEC@53 \(at the check of "
	is "$N: and only the secondary" "$(printf '%s\n' "$st" | grep -c "^  behind .*$PRI")" 0
	like "$N: status --json: who is behind" "$("$R" $C --json status 2>&1)" "\"behind\": \"server $SEC@53"
	served 127.0.0.20 mx1.example.test
	is "$N: mx1 still serves B" "$(spki "$WORK/served.0.pem")" "$(spki "$WORK/pki/B.pem")"
	ok "$N: the secondary's transfers are unblocked" secondary_unblock "$DIR/secondary"
	ok "$N: C: the rollover completes once the secondary catches up" run_until steady 30
	check_published "$N: C" $PRI "$WORK/pki/C.pem"

	sh "$TOP/tests/lab/postfix.sh" stop "$DIR/mx" >/dev/null 2>&1
	primary_stop "$DIR/unbound"
	primary_stop "$DIR/secondary"
	primary_stop "$DIR/primary"
}

round PowerDNS pdns 127.0.0.44
round Knot knot 127.0.0.45

is "the observer saw no invariant violation" "$VIOLATIONS" 0
done_testing
