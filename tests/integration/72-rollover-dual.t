#!/bin/sh
# 72-rollover-dual.t: a service with an ECDSA and an RSA certificate side by
# side (certificates: [ecdsa, rsa]): Postfix serves both from
# DEPLOY/current-ecdsa and DEPLOY/current-rsa; each is rolled on its own,
# the TLSA RRset covers both, and the observer checks both chains (one
# handshake per key type) against both authoritative servers after every
# run.
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.0.20 mx1.example.test"
lab_netns "$@"
need_cmd named unbound postfix dig openssl
HOSTS="mx1.example.test"
. "$TOP/tests/lab/fixture.sh"
fixture_dns
fixture_pki E1 R1:rsa R2:rsa ED:ed25519
DE=$WORK/deploy/current-ecdsa
DR=$WORK/deploy/current-rsa
fixture_postfix "127.0.0.20=$DR/privkey.pem,$DR/fullchain.pem,$DE/privkey.pem,$DE/fullchain.pem"
fixture_config pre="certificates: [ecdsa, rsa]"

ok "import the ECDSA certificate" "$R" $C import mx "$WORK/pki/E1.chain.pem" "$WORK/pki/E1.key"
ok "import the RSA certificate" "$R" $C import mx "$WORK/pki/R1.chain.pem" "$WORK/pki/R1.key"
out=$("$R" $C import mx "$WORK/pki/ED.chain.pem" "$WORK/pki/ED.key" 2>&1)
st=$?
like "an Ed25519 certificate has no slot here: refused" "$out" "takes no eddsa certificate"
is "... exit 1" "$st" 1
ok "both roll out together" roll_until steady 30 mx1.example.test
is "current-ecdsa points at the ECDSA certificate" "$(readlink "$DE" | cut -c1-9)" "versions/"
is "current-rsa points at the RSA certificate" "$(readlink "$DR" | cut -c1-9)" "versions/"
live=$("$T" -r 3,1,1 -f json -H mx1.example.test -c 127.0.0.20 2>&1)
like "the MX serves the ECDSA chain" "$live" "$(roll_spki "$WORK/pki/E1.pem")"
like "the MX serves the RSA chain" "$live" "$(roll_spki "$WORK/pki/R1.pem")"
pub=$(dig @127.0.0.40 +short _25._tcp.mx1.example.test TLSA | tr -d ' ' | tr A-F a-f)
like "ECDSA record published" "$pub" "$(roll_spki "$WORK/pki/E1.pem")"
like "RSA record published" "$pub" "$(roll_spki "$WORK/pki/R1.pem")"

# Renew the RSA certificate only.
e_before=$(readlink "$DE")
ok "import the renewed RSA certificate" "$R" $C import mx "$WORK/pki/R2.chain.pem" "$WORK/pki/R2.key"
like "status shows the RSA slot pending" "$("$R" $C status mx 2>&1)" "slot rsa:"
ok "the RSA slot rolls" roll_until steady 30 mx1.example.test
is "the ECDSA slot was left alone" "$(readlink "$DE")" "$e_before"
live=$("$T" -r 3,1,1 -f json -H mx1.example.test -c 127.0.0.20 2>&1)
like "the MX serves the new RSA chain" "$live" "$(roll_spki "$WORK/pki/R2.pem")"
like "and still the ECDSA chain" "$live" "$(roll_spki "$WORK/pki/E1.pem")"
pub=$(dig @127.0.0.40 +short _25._tcp.mx1.example.test TLSA | tr -d ' ' | tr A-F a-f)
nok "the old RSA record was retired" sh -c "printf '%s\n' '$pub' | grep -q '$(roll_spki "$WORK/pki/R1.pem")'"
like "the ECDSA record stays" "$pub" "$(roll_spki "$WORK/pki/E1.pem")"
is "the observer saw no invariant violation" "$VIOLATIONS" 0
done_testing
