#!/bin/sh
# demo.sh: the lab demo of the README's quick start.  In a private network
# namespace (nothing outside it is touched): a signed zone on a BIND
# primary and secondary with a validating Unbound, a Postfix MX reading its
# certificate from tlsa-rollover's deploy directory, then
#   1. tlsagen: records for a certificate, checked against hash-slinger;
#   2. tlsa-rollover: deploys a first certificate, then carries a renewal
#      with a new key through every phase (publish, visible on every
#      server, hold 2 x TTL, switch, verify every MX address, retire);
#   3. tlsagen: the live MX checked against what DNS serves.
# Cleans up after itself.
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.0.20 mx1.example.test"
lab_netns "$@"
. "$TOP/tests/lab/dns.sh"
. "$TOP/tests/lab/certs.sh"
T=$TLSAGEN
R=${TLSA_ROLLOVER:-$(dirname "$T")/tlsa-rollover}
[ -x "$T" ] && [ -x "$R" ] || bail "build first: make"
chmod 711 "$WORK"	# Postfix's own users must reach their directories

step() { printf '\n==> %s\n' "$*"; }
show() { printf '$ %s\n' "$*" | sed "s|$WORK|\$DEMO|g; s|$TOP/||g"; }
run() { show "$@"; "$@"; }
die() { echo "demo: $*" >&2; exit 1; }

step "A throwaway CA; a certificate for mx1.example.test, and its renewal with a new key"
mkdir -p "$WORK/pki" "$WORK/mx" "$WORK/deploy"
chmod 755 "$WORK/deploy"
certs_ca "$WORK/pki" && certs_leaf "$WORK/pki" first ec mx1.example.test &&
	certs_leaf "$WORK/pki" renewed ec mx1.example.test || die "certificates"
echo "    first.pem, renewed.pem (each with its own key), int.pem"

step "The lab: zone example.test signed on BIND (primary 127.0.0.40, secondary 127.0.0.41), Unbound validating on 127.0.0.53"
DNS_LAB_TTL=5 dns_lab_start "$WORK/dns" >/dev/null || die "DNS lab"
at_exit "dns_lab_stop '$WORK/dns'"
echo "    TTL 5 s; TSIG key $(echo "$DNS_TSIG_KEY" | sed "s|$WORK|\$DEMO|") (mode $(stat -c %a "$DNS_TSIG_KEY"))"

step "Postfix MX on 127.0.0.20:25 with STARTTLS, reading \$DEMO/deploy/current/{privkey,fullchain}.pem"
D=$WORK/deploy/current
sh "$TOP/tests/lab/postfix.sh" start "$WORK/mx" "127.0.0.20=$D/privkey.pem,$D/fullchain.pem" || die "Postfix"
at_exit "sh '$TOP/tests/lab/postfix.sh' stop '$WORK/mx'"

step "tlsagen: the records a certificate needs (3 1 1 leaf key, 2 1 1 issuer key)"
run "$T" -t 5 "$WORK/pki/first.chain.pem" || die "tlsagen"
echo "    hash-slinger agrees:"
tlsa --create --certificate "$WORK/pki/first.pem" --usage 3 --selector 1 --mtype 1 --port 25 \
	mx1.example.test 2>/dev/null | sed -n '/TLSA/s/^/    /p'

cat > "$WORK/tlsa-rollover.yaml" <<YAML
state_dir: $WORK/state
dns:
  zone: example.test
  primary: 127.0.0.40
  tsig_key_file: $DNS_TSIG_KEY
  resolver: 127.0.0.53
  trust_anchor_file: $DNS_TRUST_ANCHOR
  ttl: 5
  min_hold: 1s
  hold_margin: 1s
services:
  - name: mx
    hosts: [mx1.example.test]
    deploy_dir: $WORK/deploy
    reload: [/bin/sh, $TOP/tests/lab/postfix.sh, reload, $WORK/mx]
YAML
C="-f $WORK/tlsa-rollover.yaml"
step "tlsa-rollover: the configuration (short TTLs for the demo)"
run "$R" $C validate-config || die "config"

# roll: run as cron would, once a second, until the service is steady.
roll() {
	_i=0
	while [ $_i -lt 60 ]; do
		"$R" $C run > "$WORK/run.out" 2>&1
		_st=$?
		sed "s|$WORK|\$DEMO|g; /^  /d" "$WORK/run.out"
		grep -q "^  holding" "$WORK/run.out" && sed -n 's/^  holding: /    hold: /p' "$WORK/run.out"
		[ $_st -eq 0 ] || { cat "$WORK/run.out"; die "run failed"; }
		"$R" $C --json status mx | grep -q '"phase": "steady"' && return 0
		_i=$((_i + 1))
		sleep 1
	done
	die "no steady state after 60 runs"
}

step "tlsa-rollover: first deployment"
run "$R" $C import mx "$WORK/pki/first.chain.pem" "$WORK/pki/first.key" || die "import"
show "$R" $C run "  (every second, as cron or the timer would)"
roll

step "A renewal with a new key: import it (what the certbot deploy hook does) and let the runs carry it"
run "$R" $C import mx "$WORK/pki/renewed.chain.pem" "$WORK/pki/renewed.key" || die "import"
roll

step "The result"
run "$R" $C status mx
dig @"$DNS_RESOLVER" +short _25._tcp.mx1.example.test TLSA > "$WORK/published.txt"
echo "    what the validating resolver returns now (it may hold the retired record until its TTL runs out):"
sed 's/^/    /' "$WORK/published.txt"
run "$T" --verify "$WORK/published.txt" -c mx1.example.test || die "the live MX does not match DNS"

step "Done: the lab is stopped and removed"
