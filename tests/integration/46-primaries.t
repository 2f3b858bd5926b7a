#!/bin/sh
# 46-primaries.t: the RFC 2136 path on servers other than BIND: Knot DNS
# and PowerDNS as online-signed primaries, each with the same zone file,
# taking the same adds, replacements and deletions from tlsagen --update
# (what tlsa-rollover's PUBLISH and RETIRE send); every result read back
# with kdig and compared with hash-slinger's records.  Then their quirks:
# PowerDNS compares record text, so records a zone file gives in
# upper-case hex are not deleted by a NOERROR update (we must notice and
# replace the RRset) and records with split hex never satisfy a
# prerequisite (we must say why, and how to fix it); Knot answers an ACL
# refusal with NOTAUTH and TSIG BADKEY (we must say it is the policy, not
# the key).
. "$(dirname "$0")/../lib.sh"
lab_netns "$@"
need_cmd knotd pdns_server pdnsutil sqlite3 tsig-keygen kdig dig tlsa
. "$TOP/tests/lab/primaries.sh"
T=$TLSAGEN
FX=$TOP/tests/fixtures
P256=$FX/p256/leaf.pem
RSA=$FX/rsa2048/leaf.pem

(umask 077 && tsig-keygen -a hmac-sha256 tlsa-update > "$WORK/tsig.key" &&
	tsig-keygen -a hmac-sha256 a-only > "$WORK/a-only.key") || bail "tsig-keygen"
OLD1=aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899
OLD2=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
UP=$(echo "$OLD1" | tr a-f A-F)
cat > "$WORK/zone" <<EOF
\$ORIGIN example.test.
\$TTL 60
@	SOA	ns1 hostmaster 1 3600 5 1209600 2
	NS	ns1
ns1	A	127.0.0.44
mx1	A	127.0.0.20
_25._tcp.mx2	TLSA	3 1 1 ( $(echo "$OLD2" | cut -c1-32)
			$(echo "$OLD2" | cut -c33-64) )
_25._tcp.mx3	TLSA	3 1 1 $UP
EOF
PD=127.0.0.44
KN=127.0.0.45
pdns_start "$WORK/pdns" $PD example.test "$WORK/zone" "$WORK/tsig.key" || bail "PowerDNS"
at_exit "primary_stop '$WORK/pdns'"
knot_start "$WORK/knot" $KN example.test "$WORK/zone" "$WORK/tsig.key" "$WORK/a-only.key" || bail "Knot"
at_exit "primary_stop '$WORK/knot'"

# rdata SERVER HOST: the TLSA RRset at HOST, "u s m hex" sorted, a line each.
rdata() {
	kdig @"$1" +norec +noall +answer "_25._tcp.$2.example.test" TLSA |
		awk '$4 == "TLSA" { d = ""; for (i = 8; i <= NF; i++) d = d $i; print $5, $6, $7, tolower(d) }' | sort
}
# oracle CERT HOST: hash-slinger's 3 1 1 record for CERT.
oracle() {
	tlsa --create --certificate "$1" --usage 3 --selector 1 --mtype 1 --port 25 "$2.example.test" |
		awk '$0 ~ / TLSA / { print $(NF - 3), $(NF - 2), $(NF - 1), tolower($NF) }'
}
upd() {	# SERVER ARGS...: tlsagen --update SERVER with the key
	_srv=$1
	shift
	"$T" --update "$_srv" --tsig-key "$WORK/tsig.key" -z example.test -t 60 -r 3,1,1 "$@"
}
P256_REC=$(oracle "$P256" mx1)
RSA_REC=$(oracle "$RSA" mx1)
like "hash-slinger gives a record" "$P256_REC" '^3 1 1 [0-9a-f]{64}$'

for S in $PD $KN; do
	case $S in $PD) N=PowerDNS ;; *) N=Knot ;; esac
	ok "$N: add" upd $S -H mx1.example.test "$P256"
	is "$N: the RRset is hash-slinger's record" "$(rdata $S mx1)" "$P256_REC"
	like "$N: signed online (RRSIG over the TLSA RRset)" \
		"$(kdig @$S +norec +dnssec +noall +answer _25._tcp.mx1.example.test TLSA)" "RRSIG[[:space:]]+TLSA"
	ok "$N: replace" upd $S --replace -H mx1.example.test "$RSA"
	is "$N: only the new record is left" "$(rdata $S mx1)" "$RSA_REC"
	ok "$N: delete" upd $S --delete -H mx1.example.test "$RSA"
	is "$N: nothing is left" "$(rdata $S mx1)" ""

	# mx3's record came from the zone file in upper-case hex.
	is "$N: mx3 holds the zone file's record" "$(rdata $S mx3)" "3 1 1 $OLD1"
	out=$(upd $S --replace -H mx3.example.test "$P256" 2>&1)
	is "$N: replace at mx3: exit 0" "$?" 0
	is "$N: replace at mx3 leaves exactly the new record" "$(rdata $S mx3)" "$(oracle "$P256" mx3)"
	if [ $S = $PD ]; then
		like "$N: the kept record was noticed and the RRset replaced" "$out" \
			"answered the delete of 1 record but kept it .*replaced the whole RRset"
	fi
done

# mx2's record came from the zone file with its hex split by a blank:
# Knot keeps data, PowerDNS the text, which no prerequisite matches.
ok "Knot: add at mx2" upd $KN -H mx2.example.test "$P256"
is "Knot: mx2 holds both" "$(rdata $KN mx2)" "$(printf '%s\n%s\n' "3 1 1 $OLD2" "$(oracle "$P256" mx2)" | sort)"
out=$(upd $PD -H mx2.example.test "$P256" 2>&1)
st=$?
is "PowerDNS: add at mx2 fails" "$st" 1
is "PowerDNS: one line" "$(printf '%s\n' "$out" | wc -l)" 1
like "PowerDNS: it names the server and says it compares text" "$out" \
	"^tlsagen: 127\.0\.0\.44@53: update refused by its prerequisite \(NXRRSET\), though the server holds exactly the expected records at _25\._tcp\.mx2\.example\.test\.: it compares record text"
like "PowerDNS: and how to normalise it" "$out" "pdnsutil replace-rrset example\.test\. _25\._tcp\.mx2\.example\.test\. TLSA"
is "PowerDNS: mx2 is unchanged" "$(rdata $PD mx2)" "3 1 1 $OLD2"
pdnsutil --config-dir="$WORK/pdns" replace-rrset example.test _25._tcp.mx2 TLSA 60 "3 1 1 $OLD2" > /dev/null 2>&1
ok "PowerDNS: after the advised pdnsutil replace-rrset, the add works" upd $PD -H mx2.example.test "$P256"

# Knot: the key is known, but its ACL allows A updates only.
out=$("$T" --update $KN --tsig-key "$WORK/a-only.key" -z example.test -t 60 -r 3,1,1 -H mx1.example.test "$P256" 2>&1)
is "Knot: an update the ACL refuses fails" "$?" 1
like "Knot: it says the policy refuses this key, not that the key is bad" "$out" \
	"127\.0\.0\.45@53: update of zone example\.test\. refused \(NOTAUTH, TSIG BADKEY\): the server accepts key a-only\. for reading, so its update policy does not let this key change TLSA records at _25\._tcp\.mx1\.example\.test\."
out=$("$T" --update $KN -z example.test -t 60 -r 3,1,1 -H mx1.example.test "$P256" 2>&1)
like "Knot: without a key it says none was given" "$out" "refused: NOTAUTH \(no TSIG key was given\)"
is "Knot: mx1 is unchanged" "$(rdata $KN mx1)" ""
done_testing
