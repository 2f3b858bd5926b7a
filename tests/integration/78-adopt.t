#!/bin/sh
# 78-adopt.t: adopting a service whose MX host names hold TLSA records
# already (the first publish), in the real lab: a signed BIND primary and
# secondary, a validating Unbound, two Postfix MX hosts.  Per host, only
# records that something present matches are kept (a certificate or key
# the state knows, or the chain the MX addresses serve now, each record
# tested alone); a stale record found at mx1 is never copied to mx2, and
# nothing is decided while an address cannot be checked.  Records that
# are in place already at every host cause no update, and the hold counts
# from the first run that sees them on every server.
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.0.20 mx1.example.test
127.0.0.21 mx2.example.test"
lab_netns "$@"
need_cmd named unbound postfix dig nsupdate openssl
. "$TOP/tests/lab/fixture.sh"
fixture_dns
fixture_pki L B D
# Postfix reads the deploy directory, empty for now: no handshake works.
fixture_postfix 127.0.0.20 127.0.0.21

write_config() { fixture_config ta state="$1" min_hold="$2"; }	# STATE-DIR MIN-HOLD
write_config "$WORK/state" 1s

# rec CERT U,S,M: "U S M hex" of a certificate's record
rec() {
	printf '%s %s\n' "$(echo "$2" | tr , ' ')" \
		"$("$T" -r "$2" -f json -H mx1.example.test "$1" | sed -n 's/.*"data": "\([0-9a-f]*\)".*/\1/p')"
}
# rrset SERVER HOST: the TLSA RRset at HOST's owner, "U S M hex" sorted
rrset() {
	dig @"$1" +norec +noall +answer "_25._tcp.$2.example.test" TLSA |
		awk '$4 == "TLSA" { d = ""; for (i = 8; i <= NF; i++) d = d $i; print $5, $6, $7, tolower(d) }' | sort
}
serial() { dig @127.0.0.40 +short example.test SOA | awk '{ print $3 }'; }
# nsup LINE...: one RFC 2136 update on the primary
nsup() {
	{ echo "server 127.0.0.40"; echo "zone example.test"
	  for l in "$@"; do echo "$l"; done; echo send; } | nsupdate -t 5 -k "$DNS_TSIG_KEY"
}
# synced: wait (bounded) until the secondary serves what the primary does
synced() {
	_i=0
	while [ $_i -lt 20 ]; do
		[ "$(rrset 127.0.0.40 mx1)$(rrset 127.0.0.40 mx2)" = \
			"$(rrset 127.0.0.41 mx1)$(rrset 127.0.0.41 mx2)" ] && return 0
		_i=$((_i + 1)); sleep 0.5
	done
	return 1
}
has() { printf '%s\n' "$1" | grep -qx "$2"; }

JUNK="3 1 1 $(printf 'nothing matches this' | sha256sum | cut -c1-64)"
L311=$(rec "$WORK/pki/L.pem" 3,1,1)
L301=$(rec "$WORK/pki/L.pem" 3,0,1)
B311=$(rec "$WORK/pki/B.pem" 3,1,1)
D311=$(rec "$WORK/pki/D.pem" 3,1,1)
O1=_25._tcp.mx1.example.test O2=_25._tcp.mx2.example.test
ok "the zone holds a stale record and L's at mx1, L's 3 0 1 at mx2" nsup \
	"update add $O1 2 TLSA $JUNK" "update add $O1 2 TLSA $L311" "update add $O2 2 TLSA $L301"
synced || bail "secondary did not catch up"

# ---- an address that cannot be checked: nothing is decided ------------------
ok "import B" "$R" $C import mx "$WORK/pki/B.chain.pem" "$WORK/pki/B.key"
s0=$(serial)
"$R" $C run > "$WORK/run.out" 2>&1
st=$?
ok "MX serves no certificate yet: the run fails (exit $st)" test "$st" -ne 0
like "it says why" "$(cat "$WORK/run.out")" "could not be checked in full.*nothing is published"
is "no DNS update (SOA serial unchanged)" "$(serial)" "$s0"
nok "the stale record was not copied to mx2" has "$(rrset 127.0.0.40 mx2)" "$JUNK"
is "still publishing" "$(phase)" publish

# ---- the live certificate L appears: the stale record is dropped ---------------
mkdir -p "$WORK/deploy/versions/eeeeeeeeeeeeeeee"
cp "$WORK/pki/L.key" "$WORK/deploy/versions/eeeeeeeeeeeeeeee/privkey.pem"
cp "$WORK/pki/L.chain.pem" "$WORK/deploy/versions/eeeeeeeeeeeeeeee/fullchain.pem"
ln -sfn versions/eeeeeeeeeeeeeeee "$D"
sh "$TOP/tests/lab/postfix.sh" reload "$WORK/mx" >/dev/null 2>&1 || bail "reload"
observe
is "the observer is happy with the zone as found" "$VIOLATIONS" 0
"$R" $C run > "$WORK/run.out" 2>&1
observe
out=$(cat "$WORK/run.out")
like "adoption drops the stale record at mx1" "$out" "dropping 1 record\\(s\\) found at mx1.example.test.? that nothing"
like "adoption keeps the records L matches" "$out" "keeping 1 record\\(s\\) found at mx2.example.test"
ok "the secondary catches up" synced
for srv in 127.0.0.40 127.0.0.41; do
	m1=$(rrset $srv mx1) m2=$(rrset $srv mx2)
	nok "$srv: mx2 does not get mx1's stale record" has "$m2" "$JUNK"
	nok "$srv: mx1 loses the stale record" has "$m1" "$JUNK"
	ok "$srv: mx2 keeps L's 3 0 1 (L is served)" has "$m2" "$L301"
	ok "$srv: mx1 keeps L's 3 1 1 (L is served)" has "$m1" "$L311"
	ok "$srv: mx2 gets B's record" has "$m2" "$B311"
done
case $(phase) in switch|verify|retire|steady) ph=late ;; *) ph=early ;; esac
is "before the switch (phase $(phase))" "$ph" early
ok "while L is served, its record stays at mx2" has "$(rrset 127.0.0.40 mx2)" "$L301"
ok "B: the rollover completes" run_until steady 30
like "mx1 serves B" "$("$T" -r 3,1,1 -H mx1.example.test -c 127.0.0.20 -f json 2>&1)" "$(echo "$B311" | cut -d' ' -f4)"
for srv in 127.0.0.40 127.0.0.41; do
	synced
	m1=$(rrset $srv mx1) m2=$(rrset $srv mx2)
	nok "$srv: at the end the stale record is not at mx1" has "$m1" "$JUNK"
	nok "$srv: at the end the stale record is not at mx2" has "$m2" "$JUNK"
	nok "$srv: L is served no more: its record is retired" has "$m2" "$L301"
	ok "$srv: B's record at mx1" has "$m1" "$B311"
done

# ---- records in place already: no update, the hold counts from now -----------
# A new user (fresh state) whose zone has D's record at every host already.
write_config "$WORK/state2" 8s
ok "D's record pre-published at every host" nsup \
	"update add $O1 2 TLSA $D311" "update add $O2 2 TLSA $D311"
ok "the secondary catches up" synced
sleep 3		# the resolver's cached RRset (TTL 2) expires
ok "import D (fresh state)" "$R" $C import mx "$WORK/pki/D.chain.pem" "$WORK/pki/D.key"
s0=$(serial)
t0=$(date +%s)
"$R" $C run > "$WORK/run.out" 2>&1
observe
out=$(cat "$WORK/run.out")
like "says there is no update" "$out" "every host holds these records already: no update"
like "says where the hold counts from" "$out" "the hold counts from the first run that sees them"
like "B's record is kept (B is served)" "$out" "keeping 3 record\\(s\\) found at mx1.example.test"
is "no DNS update (SOA serial unchanged)" "$(serial)" "$s0"
is "holding" "$(phase)" hold
vis=$(sed -n 's/^visible_at: //p' "$WORK/state2/mx/state")
ok "the hold counts from this run ($vis >= $t0)" test "${vis:-0}" -ge "$t0"
like "the full hold is ahead" "$out" "holding (8|9) s"
"$R" $C run > "$WORK/run.out" 2>&1
is "the next run still holds" "$(phase)" hold
like "B still deployed" "$("$T" -r 3,1,1 -H mx2.example.test -c 127.0.0.21 -f json 2>&1)" "$(echo "$B311" | cut -d' ' -f4)"
ok "D: the rollover completes" run_until steady 30
like "mx2 serves D" "$("$T" -r 3,1,1 -H mx2.example.test -c 127.0.0.21 -f json 2>&1)" "$(echo "$D311" | cut -d' ' -f4)"
nok "B is served no more: its record is retired" has "$(rrset 127.0.0.40 mx2)" "$B311"

# ---- a record added while adoption asks the MX hosts: not removed unseen -------
# Fresh state again; the zone holds D's record at both hosts and a record
# nothing matches at mx1, so adoption asks the MX addresses, which answer
# slowly (a greeting delay of 4 s).  A record someone adds at mx2 in the
# meantime must make the update fail, not be deleted without a look.
write_config "$WORK/state3" 1s
JUNK2="3 1 1 $(printf 'added during the probe' | sha256sum | cut -c1-64)"
ok "a record nothing matches at mx1" nsup "update add $O1 2 TLSA $JUNK"
# (postfix reload directly: the lab's reload waits for a prompt greeting)
postconf -c "$WORK/mx/etc" -e 'smtpd_client_restrictions = sleep 4' 'smtpd_delay_reject = no' &&
	postfix -c "$WORK/mx/etc" reload >/dev/null 2>&1 || bail "slow greeting"
sleep 1
ok "import L (fresh state)" "$R" $C import mx "$WORK/pki/L.chain.pem" "$WORK/pki/L.key"
"$R" $C run > "$WORK/run.out" 2>&1 &
runpid=$!
sleep 1.5
ok "meanwhile someone adds a record at mx2" nsup "update add $O2 2 TLSA $JUNK2"
wait $runpid
st=$?
ok "the first publish fails (exit $st): the zone moved since adoption read it" test "$st" -ne 0
ok "the record added meanwhile is still there" has "$(rrset 127.0.0.40 mx2)" "$JUNK2"
ok "the stale record at mx1 is still there (nothing was changed)" has "$(rrset 127.0.0.40 mx1)" "$JUNK"
is "still publishing" "$(sed -n 's/^phase: //p' "$WORK/state3/mx/state")" publish
postconf -c "$WORK/mx/etc" -e 'smtpd_client_restrictions =' &&
	sh "$TOP/tests/lab/postfix.sh" reload "$WORK/mx" >/dev/null 2>&1 || bail "greeting back"
"$R" $C run > "$WORK/run.out" 2>&1
like "the next run adopts the zone as it is now" "$(cat "$WORK/run.out")" "dropping 1 record\\(s\\) found at mx2.example.test.? that nothing"
nok "the record nothing matches is gone from mx2 now (it was looked at)" has "$(rrset 127.0.0.40 mx2)" "$JUNK2"
ok "L: the rollover completes" run_until steady 30

is "the observer saw no invariant violation" "$VIOLATIONS" 0
done_testing
