#!/bin/sh
# 77-import-chain.t: tlsa-rollover import of a leaf without its issuer,
# re-import with another chain, and unstage, in the real lab: a signed
# BIND primary and secondary, a validating Unbound, two Postfix MX hosts
# that read their certificate from the deploy directory.
#
# - a leaf alone, for a service that publishes 2 1 1 records: refused
#   (one line naming the file, exit 1, nothing stored), or completed from
#   the service's issuers: (only by the issuer that signed it, not by an
#   impostor with the same name);
# - the pending and the current certificate imported again with the full
#   chain: the stored chain is updated, the current one is deployed and
#   the MTA reloaded (openssl s_client sees two certificates);
# - unstage: the staged key's record is withdrawn at the primary, the
#   others stay; unstage with nothing staged changes nothing.
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.0.20 mx1.example.test
127.0.0.21 mx2.example.test"
lab_netns "$@"
need_cmd named unbound postfix dig openssl
. "$TOP/tests/lab/fixture.sh"
fixture_dns
fixture_pki A B D
# An impostor: another CA whose intermediate has the same name, another key.
certs_ca "$WORK/pki3" || bail "CA 3"
fixture_postfix 127.0.0.20 127.0.0.21

ST=$WORK/state
# write_config RECORDS-YAML ISSUERS-YAML
write_config() {
	if [ -n "${RELOAD:-}" ]; then
		fixture_config ta reload="$RELOAD" service="records: $1" service="issuers: $2"
	else
		fixture_config ta service="records: $1" service="issuers: $2"
	fi
}
rr() {
	timeout 60 "$R" "$@" > "$WORK/out" 2> "$WORK/err" < /dev/null
	rc=$?
}
snap() {
	[ -d "$ST" ] || { echo "no state dir"; return; }
	(cd "$ST" && find . ! -name lock -exec stat -c '%n %a %s %F' {} + | sort &&
		find . -type f ! -name lock -exec sha256sum {} + | sort)
}
ncerts() { grep -c 'BEGIN CERTIFICATE' "$1" 2>/dev/null; }
served() {	# ADDR HOST: how many certificates the MX sends
	timeout 15 openssl s_client -starttls smtp -connect "$1:25" -servername "$2" -showcerts \
		< /dev/null 2>/dev/null | grep -c 'BEGIN CERTIFICATE'
}
primary() { dig @127.0.0.40 +norec +short "_25._tcp.$1" TLSA | tr -d ' ' | tr A-F a-f; }
fp() { openssl x509 -noout -fingerprint -sha256 -in "$1" | sed 's/.*=//'; }
# the SHA-256 fingerprint of certificate N (1-based) of a PEM file
fp_n() {
	awk -v n="$2" '/BEGIN CERT/ { i++ } i == n { print } /END CERT/ && i == n { exit }' "$1" > "$WORK/one.pem"
	fp "$WORK/one.pem"
}
# the 2 1 1 (and 3 1 1) association data of a certificate, by openssl alone
ta_rec() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1; }

# ---- a leaf alone, 2 1 1 published, no issuers: refused ------------------------
write_config '["3 1 1", "2 1 1"]' '[]'
rr $C import mx "$WORK/pki/A.pem" "$WORK/pki/A.key"
is "leaf alone: exit 1" "$rc" 1
is "leaf alone: one line on stderr" "$(grep -c '' "$WORK/err")" 1
like "leaf alone: the reason names the file, the issuer and the remedy" "$(cat "$WORK/err")" \
	"^tlsa-rollover: mx: $WORK/pki/A.pem: the chain has no issuer certificate for .*CN = Lab Intermediate E1, and the service publishes 2 1 1 records: give the chain file \(fullchain.pem\) or list the issuer under issuers:\$"
is "leaf alone: nothing on stdout" "$(cat "$WORK/out")" ""
is "leaf alone: nothing stored, no state (no state directory at all)" "$(snap)" "no state dir"
rr -n $C import mx "$WORK/pki/A.pem" "$WORK/pki/A.key"
is "leaf alone, dry run: refused too" "$rc" 1
# the impostor has the leaf's issuer name but did not sign it
write_config '["3 1 1", "2 1 1"]' "[$WORK/pki3/int.pem]"
rr $C import mx "$WORK/pki/A.pem" "$WORK/pki/A.key"
like "leaf alone, only an impostor under issuers: refused" "$rc:$(cat "$WORK/err")" \
	"^1:.*A.pem: the chain has no issuer certificate for"
is "leaf alone, impostor: nothing stored" "$(snap)" "no state dir"
# an ACME client's hook goes through the same import
LEGO_CERT_DOMAIN=mx1.example.test LEGO_CERT_PATH=$WORK/pki/A.pem LEGO_CERT_KEY_PATH=$WORK/pki/A.key \
	LEGO_CERT_PEM_PATH=$WORK/pki/A.pem LEGO_ACCOUNT_EMAIL=x@example.test rr hook lego $C --service mx
like "hook with a leaf alone: refused the same way" "$rc:$(cat "$WORK/err")" \
	"^1:.*A.pem: the chain has no issuer certificate for"
is "hook with a leaf alone: nothing stored" "$(snap)" "no state dir"

# ---- 3 1 1 only: a leaf alone is served; then its chain completes it -----------
write_config '["3 1 1"]' '[]'
ok "3 1 1 only: a leaf alone is taken" "$R" $C import mx "$WORK/pki/A.pem" "$WORK/pki/A.key"
ok "A: the rollover completes" run_until steady 30
A_ID=$(readlink "$D" | sed 's|versions/||')
is "A deployed with one certificate" "$(ncerts "$D/fullchain.pem")" 1
is "mx1 serves one certificate" "$(served 127.0.0.20 mx1.example.test)" 1
ver0=$(stat -c %i "$WORK/deploy/versions/$A_ID")
rr $C import mx "$WORK/pki/A.pem" "$WORK/pki/A.key" "$WORK/pki3/int.pem"
like "current again with an impostor's chain: refused" "$rc:$(cat "$WORK/err")" "^1:.*int.pem: certificate 2 of the chain did not issue"
is "impostor's chain: the deployed chain is unchanged" "$(ncerts "$D/fullchain.pem")" 1
rr $C import mx "$WORK/pki/A.pem" "$WORK/pki/A.key" "$WORK/pki/int.pem"
is "current again with its chain: exit 0" "$rc" 0
like "current again with its chain: says so" "$(cat "$WORK/out")" "deployed the new chain \(2 certificates\) of the current certificate $A_ID"
like "current again with its chain: reloaded" "$(cat "$WORK/out")" "reloaded"
is "the deployed fullchain.pem holds the issuer now" "$(fp_n "$D/fullchain.pem" 2)" "$(fp "$WORK/pki/int.pem")"
is "the stored chain too" "$(ncerts "$ST/mx/certs/$A_ID/fullchain.pem")" 2
is "the link still names A" "$(readlink "$D")" "versions/$A_ID"
ok "versions/$A_ID is a new directory (replaced, not written into)" test "$(stat -c %i "$WORK/deploy/versions/$A_ID")" != "$ver0"
is "mx1 serves two certificates after the reload" "$(served 127.0.0.20 mx1.example.test)" 2
is "mx2 serves two certificates after the reload" "$(served 127.0.0.21 mx2.example.test)" 2
is "no leftover temporary directory" "$(ls "$WORK/deploy/versions" | grep -c '\.tmp$')" 0
is "the phase did not move" "$(roll_phase)" steady
s0=$(snap)
rr $C import mx "$WORK/pki/A.chain.pem" "$WORK/pki/A.key"
like "the same chain again: nothing to do" "$rc:$(cat "$WORK/out")" "^0:.*is deployed already; nothing to do"
is "the same chain again: nothing changed" "$(snap)" "$s0"
roll_observe $HOSTS

# ---- the pending certificate imported again with its chain -------------------
ok "B (a leaf alone) becomes pending" "$R" $C import mx "$WORK/pki/B.pem" "$WORK/pki/B.key"
B_ID=$(sed -n 's/^pending: //p' "$ST/mx/state")
is "B is stored with one certificate" "$(ncerts "$ST/mx/certs/$B_ID/fullchain.pem")" 1
rr $C import mx "$WORK/pki/B.pem" "$WORK/pki/B.key" "$WORK/pki/int.pem"
like "pending again with its chain: updated" "$rc:$(cat "$WORK/out")" "^0:.*updated the chain \(2 certificates\) of the pending certificate $B_ID"
is "pending again: the stored chain holds the issuer" "$(fp_n "$ST/mx/certs/$B_ID/fullchain.pem" 2)" "$(fp "$WORK/pki/int.pem")"
is "pending again: A is still deployed" "$(readlink "$D")" "versions/$A_ID"
like "pending again: still pending" "$(cat "$ST/mx/state")" "pending: $B_ID"
rr $C import mx "$WORK/pki/B.chain.pem" "$WORK/pki/B.key"
like "pending, the same chain again: nothing to do" "$rc:$(cat "$WORK/out")" "^0:.*was imported before; nothing to do"
ok "B: the rollover completes" run_until steady 30
is "B deployed with two certificates" "$(ncerts "$D/fullchain.pem")" 2

# ---- a chain update of the current certificate whose reload fails ------------------
RELOAD="[/bin/false]"
write_config '["3 1 1"]' '[]'
rr $C import mx "$WORK/pki/B.pem" "$WORK/pki/B.key"
is "B with another chain, the reload fails: exit 1" "$rc" 1
like "the reload failed: the previous chain is deployed again" "$(cat "$WORK/out")" "previous chain is deployed again, but its reload failed too"
is "the deployed chain is the previous one (two certificates)" "$(ncerts "$D/fullchain.pem")" 2
is "the stored chain is the previous one" "$(ncerts "$ST/mx/certs/$B_ID/fullchain.pem")" 2
ok "the reload stays pending (no reload was confirmed)" test -e "$ST/mx/reload-pending"
rr $C run
like "a run with the reload still failing: an alert, exit 1" "$rc:$(cat "$WORK/err")" "^1:.*reload: /bin/false exited"
ok "the reload still pending" test -e "$ST/mx/reload-pending"
unset RELOAD
write_config '["3 1 1"]' '[]'
# Once the reload works, the next run reloads, says so once, and forgets it.
rr $C run
like "a chain update not confirmed reloaded: the run reloads and says so" "$rc:$(cat "$WORK/err")" \
	"^1:.*a chain update of the current certificate was not confirmed reloaded .*deployed the current chain and reloaded"
nok "the marker is gone" test -e "$ST/mx/reload-pending"
rr $C run
is "the next run is quiet" "$rc:$(cat "$WORK/err")" "0:"
# The key on standard input (import checks it only once).
rr2() { timeout 60 "$R" "$@" > "$WORK/out" 2> "$WORK/err" < "$WORK/pki/B.key"; rc=$?; }
rr2 $C import mx "$WORK/pki/B.chain.pem" -
like "the key on standard input: read" "$rc:$(cat "$WORK/out")" "^0:.*$B_ID is deployed already; nothing to do"

# ---- a leaf alone completed from issuers: ---------------------------------------
write_config '["3 1 1", "2 1 1"]' "[$WORK/pki3/int.pem, $WORK/pki/int.pem]"
rr $C import mx "$WORK/pki/D.pem" "$WORK/pki/D.key"
is "D alone, issuers listed: exit 0" "$rc" 0
like "D alone: completed with the issuer that signed it" "$(cat "$WORK/out")" "D.pem: completed the chain with $WORK/pki/int.pem\$"
D_ID=$(sed -n 's/^pending: //p' "$ST/mx/state")
is "D: the stored chain holds the real issuer" "$(fp_n "$ST/mx/certs/$D_ID/fullchain.pem" 2)" "$(fp "$WORK/pki/int.pem")"
is "D: and only it" "$(ncerts "$ST/mx/certs/$D_ID/fullchain.pem")" 2
ok "D: the rollover completes" run_until steady 30
is "D is deployed" "$(readlink "$D")" "versions/$D_ID"
is "mx1 serves D with its issuer" "$(served 127.0.0.20 mx1.example.test)" 2
like "the primary publishes the issuer's 2 1 1" "$(primary mx1.example.test)" "^211$(ta_rec "$WORK/pki/int.pem")\$"

# ---- abort and unstage -------------------------------------------------------------
rr $C unstage mx
like "unstage with nothing staged: nothing to do, exit 0" "$rc:$(cat "$WORK/out")" "^0:mx: no key is staged; nothing to do"
ok "stage" "$R" $C stage mx
ok "the staged key is published" run_until steady 30
K_ID=$(ls "$ST/mx/staged")
K=$("$T" -r 3,1,1 -f json -H mx1.example.test "$ST/mx/staged/$K_ID/privkey.pem" | sed -n 's/.*"data": "\([0-9a-f]*\)".*/\1/p')
like "the primary serves the staged key's 3 1 1" "$(primary mx1.example.test)" "^311$K\$"
rr $C abort mx
like "abort with only a staged key: points at unstage" "$rc:$(cat "$WORK/err")" \
	"^1:tlsa-rollover: mx: service mx: no pending certificate to abort; the staged key $K_ID is kept \(tlsa-rollover unstage mx forgets it\)\$"
s0=$(snap)
rr -n $C unstage mx
is "unstage, dry run: exit 0" "$rc" 0
like "unstage, dry run: says what it would do" "$(cat "$WORK/out")" "would forget the staged key $K_ID"
is "unstage, dry run: the state is unchanged" "$(snap)" "$s0"
like "unstage, dry run: the record is still at the primary" "$(primary mx1.example.test)" "^311$K\$"
rr $C unstage mx
is "unstage: exit 0" "$rc" 0
like "unstage: says so" "$(cat "$WORK/out")" "forgot the staged key $K_ID"
like "unstage: withdrew one record" "$(cat "$WORK/out")" "withdrew 1 record"
for h in $HOSTS; do
	pub=$(primary "$h")
	nok "unstage: the primary no longer serves the staged key's record at $h" sh -c "printf '%s\n' '$pub' | grep -q '$K'"
	like "unstage: D's 3 1 1 stays at $h" "$pub" "^311$(roll_spki "$WORK/pki/D.pem")\$"
	like "unstage: the issuer's 2 1 1 stays at $h" "$pub" "^211$(ta_rec "$WORK/pki/int.pem")\$"
done
is "unstage: status shows no staged key" "$("$R" $C status mx | grep -c staged)" 0
is "unstage: steady" "$(roll_phase)" steady
rr $C unstage mx
like "unstage again: nothing to do" "$rc:$(cat "$WORK/out")" "^0:mx: no key is staged; nothing to do"
ok "a run after unstage stays steady" run_until steady 3
roll_observe $HOSTS
is "the observer saw no invariant violation" "$VIOLATIONS" 0
done_testing
