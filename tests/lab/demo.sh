#!/bin/sh
# demo.sh: the README's quick start demo, the story users run: an ACME
# client renews, and the TLSA records, the certificate and the MX stay in
# step with nobody watching.  In a private network namespace (nothing
# outside it is touched):
#   - a signed zone example.test on a BIND primary and secondary with a
#     validating Unbound, a Postfix MX (mx1.example.test, 127.0.0.20)
#     reading its certificate from tlsa-rollover's deploy directory, and
#     Pebble, a test ACME CA;
#   - certbot gets a certificate; its deploy hook (hooks/, as make install
#     puts it) hands it to tlsa-rollover;
#   - "tlsa-rollover run", every second as the systemd timer would every
#     five minutes, carries it through every phase; this prints each
#     phase as it happens;
#   - certbot renews with a new key: the full wait again; then renews
#     with --reuse-key: its record is published already, so it switches
#     at once;
#   - a summary: what DNS publishes, what the MX serves, and that they
#     match.
# Cleans up after itself.  Needs root; TLSAGEN (and TLSA_ROLLOVER, else
# beside it) name the binaries.
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.0.20 mx1.example.test"
lab_netns "$@"
. "$TOP/tests/lab/dns.sh"
. "$TOP/tests/lab/acme.sh"
T=$TLSAGEN
R=${TLSA_ROLLOVER:-$(dirname "$T")/tlsa-rollover}
[ -x "$T" ] && [ -x "$R" ] || bail "build first: make"
chmod 711 "$WORK"	# Postfix's own users must reach their directories

START=$(date +%s)
step() { printf '\n==> %s\n' "$*"; }
show() { printf '$ %s\n' "$*" | sed "s|$WORK|\$DEMO|g; s|$TOP/||g"; }
die() { echo "demo: $*" >&2; exit 1; }
clock() { printf '[%3ss]' $(($(date +%s) - START)); }

step "The lab: zone example.test signed on BIND (primary 127.0.0.40, secondary 127.0.0.41), Unbound validating on 127.0.0.53"
DNS_LAB_TTL=5 dns_lab_start "$WORK/dns" >/dev/null || die "DNS lab"
at_exit "dns_lab_stop '$WORK/dns'"
echo "    TTL 5 s, so a rollover takes seconds here instead of hours"

step "Postfix MX mx1.example.test on 127.0.0.20:25, reading \$DEMO/deploy/current/{privkey,fullchain}.pem (never certbot's files)"
mkdir -p "$WORK/mx" "$WORK/deploy"
chmod 755 "$WORK/deploy"
D=$WORK/deploy/current
sh "$TOP/tests/lab/postfix.sh" start "$WORK/mx" "127.0.0.20=$D/privkey.pem,$D/fullchain.pem" || die "Postfix"
at_exit "sh '$TOP/tests/lab/postfix.sh' stop '$WORK/mx'"

step "Pebble, a test ACME CA, on 127.0.0.1:14000"
acme_pebble_start "$WORK" || die "Pebble"
at_exit "acme_pebble_stop '$WORK'"

step "tlsa-rollover: the configuration, the hooks and the timer unit (make install-hooks)"
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
show "$R" $C validate-config
"$R" $C validate-config | sed "s|$WORK|\$DEMO|g; s/^/    /" || die "config"
make -s -C "$TOP" install-hooks DESTDIR="$WORK/inst" PREFIX=/usr/local || die "make install-hooks"
HOOK=$WORK/inst/usr/local/libexec/tlsa-rollover/certbot-deploy-hook
echo "    certbot deploy hook: /usr/local/libexec/tlsa-rollover/certbot-deploy-hook"
echo "    timer: tlsa-rollover.timer starts tlsa-rollover.service: $(sed -n 's/^ExecStart=//p' \
	"$WORK/inst/usr/local/lib/systemd/system/tlsa-rollover.service")"
TLSA_ROLLOVER=$R
TLSA_ROLLOVER_CONFIG=$WORK/tlsa-rollover.yaml
export TLSA_ROLLOVER TLSA_ROLLOVER_CONFIG

# narrate: turn the output of a run into the phases as they happen.
narrate() {
	awk -v c="$(clock)" '
	/publish -> visible/ { print "    " c " records published at the primary (RFC 2136, compare and swap)" }
	/hold -> visible/ { print "    " c " the RRset is not the same everywhere any more: waiting for visibility again" }
	/^mx: .*not yet/ { sub(/^mx: /, ""); print "    " c "   waiting: " $0 }
	/publish -> hold/ { print "    " c " records published and visible already: no new wait" }
	/visible on every server/ { sub(/^mx: /, ""); print "    " c " " $0 }
	/^mx: holding: / { sub(/^mx: holding: /, ""); print "    " c " hold: " $0 }
	/^mx: deployed / { sub(/^mx: /, ""); print "    " c " switched: " $0 ", Postfix reloaded" }
	/-> retire/ { print "    " c " verified: every MX address serves a chain that matches the records" }
	/updated: 0 added, [1-9]/ { sub(/ \(was.*/, ""); sub(/^mx: /, ""); print "    " c " retired: " $0 }
	/nothing to retire/ { print "    " c " retired: nothing (no record is unused)" }
	/retire -> steady/ { print "    " c " steady" }
	/ALERT|FAILED/ { print "    " c " " $0 }
	'
}

# timer: what the systemd timer does every five minutes, every second,
# until the service is steady with CERT's certificate deployed.
timer() {
	_want=$(acme_cert_id "$1")
	_i=0
	while [ $_i -lt 90 ]; do
		# -v: the waits too (as on a terminal or in the journal)
		"$R" $C -v run > "$WORK/run.out" 2>&1 || { cat "$WORK/run.out"; die "run failed"; }
		narrate < "$WORK/run.out"
		[ "$(readlink "$D")" = "versions/$_want" ] &&
			"$R" $C --json status mx | grep -q '"phase": "steady"' && return 0
		_i=$((_i + 1))
		sleep 1
	done
	die "not steady after 90 runs"
}

LIVE=$WORK/certbot/config/live/mx1.example.test
served() { "$T" -r 3,1,1 -f json -c mx1.example.test 2>/dev/null | sed -n 's/.*"data": "\([0-9a-f]*\)".*/\1/p'; }
spki() { "$T" -r 3,1,1 -f json -H mx1.example.test "$1" | sed -n 's/.*"data": "\([0-9a-f]*\)".*/\1/p'; }
certbot_() {
	show certbot "$@"
	acme_certbot "$WORK" "$@" > "$WORK/certbot.out" 2>&1 || { cat "$WORK/certbot.out"; die "certbot failed"; }
	sed -n 's/^ *\(mx: .*\)$/    hook: \1/p' "$WORK/certbot.out" | sed "s|$WORK|\$DEMO|g"
}

step "certbot: the first certificate; its deploy hook imports it (and does nothing else)"
certbot_ certonly -d mx1.example.test --key-type ecdsa --deploy-hook "$HOOK"
T1=$(date +%s)
step "The timer carries it through every phase"
timer "$LIVE/cert.pem"
K1=$(spki "$LIVE/cert.pem")
echo "    mx1 serves 3 1 1 $(served | cut -c1-16)... (certbot's key: $(echo "$K1" | cut -c1-16)...)"
D1=$(($(date +%s) - T1))

step "certbot renews with a new key (its default): the new record must be visible everywhere for 2 x TTL before the switch"
certbot_ renew --force-renewal
T2=$(date +%s)
timer "$LIVE/cert.pem"
K2=$(spki "$LIVE/cert.pem")
echo "    mx1 serves 3 1 1 $(served | cut -c1-16)... (the new key: $(echo "$K2" | cut -c1-16)...)"
D2=$(($(date +%s) - T2))

step "Time passes (60 days in real life; here one TTL, so that Unbound forgets the RRset before the retire)"
sleep 6
step "certbot renews with --reuse-key: the key's record is published and held already, so it switches at once"
certbot_ renew --force-renewal --reuse-key
T3=$(date +%s)
timer "$LIVE/cert.pem"
D3=$(($(date +%s) - T3))

step "Summary"
show "$R" $C status mx
"$R" $C status mx | sed "s|$WORK|\$DEMO|g; s/^/    /"
dig @"$DNS_PRIMARY" +short _25._tcp.mx1.example.test TLSA > "$WORK/published.txt"
echo "    published at _25._tcp.mx1.example.test (primary):"
sed 's/^/      /' "$WORK/published.txt"
show "$T" --verify published.txt -c mx1.example.test
"$T" --verify "$WORK/published.txt" -c mx1.example.test | sed 's/^/    /' ||
	die "the live MX does not match DNS"
echo "    first certificate: live ${D1}s after certbot's hook"
echo "    renewal, new key:  live ${D2}s after certbot's hook (publish, visible, hold 2 x TTL, switch, verify, retire)"
echo "    renewal, same key: live ${D3}s after certbot's hook (no new wait)"
echo "    certbot never touched what Postfix reads (tests/integration/85-acme.t runs this story with an"
echo "    independent observer checking that every key served has a record held on every server)"

step "Done: the lab is stopped and removed"
