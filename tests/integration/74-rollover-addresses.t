#!/bin/sh
# 74-rollover-addresses.t: VERIFY and RETIRE find the MX addresses the
# way sending MTAs do, through DNS (the service's validating resolver),
# never through /etc/hosts; and addresses: overrides DNS for a host
# (split horizon).  The lab's /etc/hosts maps mx1 to 127.0.1.1, as a
# stock Debian host maps its own name, and does not know mx2 at all;
# DNS says mx1 is 127.0.0.20 and mx2 127.0.0.21.  Postfix on .20 and
# .21 reads the deployed certificate; .22 too; .23 serves a stale
# certificate that matches nothing.
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.1.1 mx1.example.test"
lab_netns "$@"
need_cmd named unbound postfix dig openssl tsig-keygen
. "$TOP/tests/lab/fixture.sh"
fixture_dns
fixture_pki A B C S
S="$WORK/pki/S.key,$WORK/pki/S.chain.pem"
fixture_postfix 127.0.0.20 127.0.0.21 127.0.0.22 "127.0.0.23=$S"

write_config() { fixture_config tail="$1"; }	# EXTRA-SERVICE-LINES

# run_until PHASE MAX: tlsa-rollover run, a second apart, until PHASE;
# every run's output is kept in $WORK/runs.out.
: > "$WORK/runs.out"
run_until() {
	_i=0
	while [ $_i -lt "$2" ]; do
		${WRAP:-} "$R" $C run >> "$WORK/runs.out" 2>&1
		[ "$(roll_phase)" = "$1" ] && return 0
		_i=$((_i + 1))
		sleep 1
	done
	diag "phase $(roll_phase) after $2 runs; the runs said: $(tail -n 30 "$WORK/runs.out")"
	return 1
}
serves() {	# ADDR CERT: does ADDR serve CERT's key?
	"$T" --timeout 5 -r 3,1,1 -f json -H mx1.example.test -c "$1" 2>&1 | grep -q "$(roll_spki "$2")"
}

is "the lab's /etc/hosts points mx1 elsewhere" "$(getent hosts mx1.example.test | awk '{ print $1 }')" 127.0.1.1
is "DNS says mx1 is 127.0.0.20" "$(dig @127.0.0.53 +short mx1.example.test A)" 127.0.0.20

# ---- init: a configuration from a few flags ----------------------------------
INIT="--zone example.test --primary 127.0.0.40 --tsig-key $DNS_TSIG_KEY --resolver 127.0.0.53 --host mx1.example.test --host mx2.example.test --deploy-dir $WORK/deploy --state-dir $WORK/init-state --mta postfix"
out=$("$R" -f "$WORK/init.yaml" init $INIT 2>&1)
is "init: exit 0" "$?" 0
like "init: says what it wrote and what to do next" "$out" "init\.yaml: written for service mx; next: tlsa-rollover -f .* validate-config --online"
ok "init: what it wrote passes validate-config --online" "$R" -f "$WORK/init.yaml" validate-config --online
like "init: the Postfix setting is in its comments" "$(cat "$WORK/init.yaml")" "smtpd_tls_chain_files = $WORK/deploy/current/privkey.pem"
before=$(cksum < "$WORK/init.yaml")
out=$("$R" -f "$WORK/init.yaml" init $INIT --ttl 60 2>&1)
is "init: an existing file is not replaced: exit 1" "$?" 1
like "... and says so" "$out" "init\.yaml: exists; not replaced \(give --force to\)"
is "... the file is unchanged" "$(cksum < "$WORK/init.yaml")" "$before"
ok "init --force replaces it" "$R" -f "$WORK/init.yaml" init $INIT --ttl 60 --force
like "... with the new TTL" "$(cat "$WORK/init.yaml")" 'ttl: 60$'
out=$("$R" -f "$WORK/init2.yaml" init --zone example.test --primary 127.0.0.40 2>&1)
is "init without --tsig-key: exit 2" "$?" 2
like "... names what is missing" "$out" "init: missing --tsig-key FILE"
out=$("$R" -f "$WORK/init2.yaml" init $INIT --host mx9.example.org 2>&1)
is "init with a host outside the zone: exit 1" "$?" 1
like "... one line, naming the file it would have written" "$out" "^tlsa-rollover: init: the configuration would not be usable: $WORK/init2\.yaml: service mx: hosts: mx9\.example\.org\.? is not in zone"
nok "... and nothing is written" sh -c "ls '$WORK' | grep -q init2"

# ---- make install-conf: /etc/tlsa-rollover and the example ------------------
ok "make install-conf" make -s -C "$TOP" install-conf DESTDIR="$WORK/inst"
is "the configuration directory is 0755" "$(stat -c %a "$WORK/inst/etc/tlsa-rollover")" 755
EX=$WORK/inst/etc/tlsa-rollover/tlsa-rollover.yaml.example
sed -e "s|/var/lib/tlsa-rollover|$WORK/ex-state|" -e "s|192\.0\.2\.53|127.0.0.40|" \
	-e "s|/etc/tlsa-rollover/tsig\.key|$DNS_TSIG_KEY|" -e "s|127\.0\.0\.1|127.0.0.53|" \
	-e "s|example\.net|example.test|g" -e "s|/etc/tlsa-rollover/live/mx|$WORK/deploy|" "$EX" > "$WORK/ex.yaml"
ok "the installed example, with the lab's names, passes validate-config --online" "$R" -f "$WORK/ex.yaml" validate-config --online

# ---- a configuration reached through a symlink in a group-writable dir ----
# Its resolved path is trusted, but whoever may write the directory
# holding the link can point it at a file whose reload root runs.
write_config ""
mkdir -p "$WORK/gw" && chmod 0775 "$WORK/gw" && chgrp 65534 "$WORK/gw"
ln -s "$WORK/roll.yaml" "$WORK/gw/roll.yaml"
out=$("$R" -f "$WORK/gw/roll.yaml" validate-config 2>&1)
is "a config behind a symlink in a group-writable directory: exit 2" "$?" 2
like "... the directory holding the link is named" "$out" "$WORK/gw: directory above $WORK/gw/roll\.yaml is writable by group or others"
chmod 0755 "$WORK/gw"
ok "... and with that directory fixed it is taken" "$R" -f "$WORK/gw/roll.yaml" validate-config

# ---- validate-config --online: the servers as the rollover will use them ----
write_config ""
out=$("$R" $C validate-config --online 2>&1)
is "validate-config --online: exit 0 against the lab" "$?" 0
like "it read the primary's SOA signed with the key" "$out" "primary 127\.0\.0\.40@53: signed SOA read of example\.test\. with key tlsa-update\.: ok"
like "it saw the resolver validate the zone" "$out" "resolver 127\.0\.0\.53@53: validates example\.test\. \(AD\): ok"
like "it prints the real hold" "$out" "a new key waits 5 s once visible"
sed 's|resolver: 127.0.0.53|resolver: 127.0.0.41|' "$WORK/roll.yaml" > "$WORK/noad.yaml"
out=$("$R" -f "$WORK/noad.yaml" validate-config --online 2>&1)
is "a resolver that does not validate: exit 2" "$?" 2
like "... named, with the reason" "$out" "service mx: 127\.0\.0\.41@53: answers example\.test\. SOA without the AD bit"
nok "... and validate-config without --online does not ask" sh -c "'$R' -f '$WORK/noad.yaml' validate-config | grep -q 'signed SOA'"
(umask 077 && tsig-keygen -a hmac-sha256 tlsa-update > "$WORK/other.key") || bail "tsig-keygen"
sed "s|tsig_key_file: .*|tsig_key_file: $WORK/other.key|" "$WORK/roll.yaml" > "$WORK/badkey.yaml"
out=$("$R" -f "$WORK/badkey.yaml" validate-config --online 2>&1)
is "a TSIG key the primary does not know: exit 2" "$?" 2
like "... one line naming the primary and the TSIG error" "$out" "^tlsa-rollover: .*badkey\.yaml: service mx: 127\.0\.0\.40@53: .*(BADSIG|BADKEY)"

# ---- through DNS ------------------------------------------------------------
like "status of a service with nothing imported: empty, not steady" "$("$R" $C status mx 2>&1)" "^mx: empty: nothing imported yet \(tlsa-rollover import mx CERT KEY"
is "... and so in JSON" "$(roll_phase)" empty
ok "import A" "$R" $C import mx "$WORK/pki/A.pem" "$WORK/pki/A.key" "$WORK/pki/int.pem"
# Run as from a parent that left SIGCHLD ignored (the kernel would reap
# the probe process and the reload before tlsa-rollover could wait).
WRAP="perl -e \$SIG{CHLD}='IGNORE';exec(@ARGV)"
like "the wrapper leaves SIGCHLD (17) ignored" "$($WRAP grep SigIgn /proc/self/status)" "SigIgn:[[:space:]]*[0-9a-f]*[13579bdf][0-9a-f]{4}$"
ok "A rolls out: VERIFY finds the addresses in DNS" run_until steady 30
WRAP=
runs=$(cat "$WORK/runs.out")
like "VERIFY checked mx1 at its DNS address" "$runs" "mx1\.example\.test 127\.0\.0\.20 .*DANE OK"
like "VERIFY checked mx2 at its DNS address" "$runs" "mx2\.example\.test 127\.0\.0\.21 .*DANE OK"
nok "VERIFY never probed the /etc/hosts address" grep -q "127\.0\.1\.1" "$WORK/runs.out"
nok "no run rolled back" grep -Eqi "roll(ed|ing) back|switched back" "$WORK/runs.out"
ok "127.0.0.20 serves A" serves 127.0.0.20 "$WORK/pki/A.pem"

# ---- addresses: overrides DNS for one host ----------------------------------
# mx2 is reached at 127.0.0.22 (say, behind a NAT): VERIFY goes there, not
# to the DNS address 127.0.0.21.  The proof: .23 serves a stale
# certificate, and with mx2 pointed there the switch is refused.
write_config "    addresses:
      mx2.example.test: [127.0.0.22]"
ok "validate-config takes addresses:" "$R" $C validate-config
: > "$WORK/runs.out"
ok "import B" "$R" $C import mx "$WORK/pki/B.pem" "$WORK/pki/B.key" "$WORK/pki/int.pem"
ok "B rolls out" run_until steady 30
runs=$(cat "$WORK/runs.out")
like "VERIFY checked mx2 at the configured address" "$runs" "mx2\.example\.test 127\.0\.0\.22 .*DANE OK"
like "and said it did not use DNS for it" "$runs" "mx2\.example\.test: addresses from the configuration"
nok "VERIFY did not probe mx2's DNS address" grep -q "mx2\.example\.test 127\.0\.0\.21" "$WORK/runs.out"
like "mx1 still came from DNS" "$runs" "mx1\.example\.test 127\.0\.0\.20 .*DANE OK"

write_config "    addresses:
      mx2.example.test: [127.0.0.23]"
: > "$WORK/runs.out"
ok "import C" "$R" $C import mx "$WORK/pki/C.pem" "$WORK/pki/C.key" "$WORK/pki/int.pem"
switched_back() {	# MAX: run until a run switches back
	_i=0
	while [ $_i -lt "$1" ]; do
		"$R" $C run >> "$WORK/runs.out" 2>&1
		grep -q "switched back to" "$WORK/runs.out" && return 0
		_i=$((_i + 1))
		sleep 1
	done
	return 1
}
ok "C is switched back: mx2's configured address serves a stale certificate" switched_back 30
like "status carries the alert" "$("$R" $C status mx 2>&1)" "not the deployed one"
runs=$(cat "$WORK/runs.out")
like "VERIFY probed mx2 at the configured address" "$runs" "mx2\.example\.test 127\.0\.0\.23 "
like "and refused its stale certificate" "$runs" "still serves a certificate that is not the deployed one"
ok "127.0.0.20 was switched back to B" serves 127.0.0.20 "$WORK/pki/B.pem"
done_testing
