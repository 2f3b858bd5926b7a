#!/bin/sh
# 85-acme.t: the whole story with a real ACME client.  Pebble (ACME CA) and
# certbot on loopback, a signed BIND primary and secondary with a
# validating Unbound, two Postfix MX addresses reading their certificate
# from tlsa-rollover's deploy directory.  certbot runs the installed deploy
# hook (make install-hooks), which only imports; the installed systemd
# unit's ExecStart, run every second as the timer would, carries each
# rollover through every phase.  Meanwhile an independent observer checks
# the invariant (every chain each MX serves validates against the RRset
# on every authoritative server), with a negative control at the end.
#   1. first issuance; 2. renewal with a new key (full wait, all phases);
#   3. renewal with --reuse-key (its record is published: switches at
#   once); 4. the hook run twice, and killed part way; 5. two renewals in
#   a few seconds; 6. bad input to the hook: clear message, non-zero exit,
#   nothing changed.
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.0.20 mx1.example.test
127.0.0.21 mx2.example.test"
lab_netns "$@"
need_cmd named unbound postfix dig openssl pebble certbot curl make
. "$TOP/tests/lab/fixture.sh"
. "$TOP/tests/lab/acme.sh"

fixture_dns
acme_pebble_start "$WORK" || bail "Pebble"
at_exit "acme_pebble_stop '$WORK'"
mkdir -p "$WORK/pki"
fixture_postfix 127.0.0.20 127.0.0.21
CONF=$WORK/roll.yaml
fixture_config ta

# ---- the installed hooks and units ------------------------------------------
INST=$WORK/inst
ok "make install-hooks puts hooks, units and the cron example in place" \
	make -s -C "$TOP" install-hooks DESTDIR="$INST" PREFIX=/usr/local
HOOK=$INST/usr/local/libexec/tlsa-rollover/certbot-deploy-hook
UNIT=$INST/usr/local/lib/systemd/system/tlsa-rollover.service
TIMER=$INST/usr/local/lib/systemd/system/tlsa-rollover.timer
CRON=$INST/usr/local/share/doc/tlsa-tools/examples/tlsa-rollover.cron
ok "the certbot hook is executable" test -x "$HOOK"
is "the service runs tlsa-rollover run" "$(sed -n 's/^ExecStart=//p' "$UNIT")" "/usr/local/sbin/tlsa-rollover run"
like "the timer starts it every five minutes" "$(cat "$TIMER")" "OnCalendar=\\*:0/5"
like "the cron example runs the same" "$(grep -v '^#' "$CRON")" "^\\*/5 \\* \\* \\* \\* root /usr/local/sbin/tlsa-rollover run\$"
nok "no @SBINDIR@ left in what is installed" grep -rq @SBINDIR@ "$INST"
# certbot hands its environment to the hook: point it at the binary and
# configuration under test.
TLSA_ROLLOVER_CONFIG=$CONF
export TLSA_ROLLOVER TLSA_ROLLOVER_CONFIG
# The timer: the unit's ExecStart with the lab's binary and configuration.
set -- $(sed -n 's/^ExecStart=//p' "$UNIT")
shift
TICK="$R -f $CONF $*"

LIVE=$WORK/certbot/config/live/mx1.example.test
id_of() { acme_cert_id "$LIVE/cert.pem"; }
spki_of() { roll_spki "$1"; }
served() { acme_served "$1"; }
published() { dig @127.0.0.40 +short _25._tcp.mx1.example.test TLSA | tr -d ' ' | tr A-F a-f; }
snap() { cat "$WORK/state/mx/state" 2>/dev/null; readlink "$D"; ls "$WORK/state/mx/certs" 2>/dev/null; }

wait_live() { acme_wait_live "$@"; }

# ---- 1. first issuance --------------------------------------------------------
out=$(acme_certbot "$WORK" certonly -d mx1.example.test -d mx2.example.test --key-type ecdsa \
	--deploy-hook "$HOOK" 2>&1)
st=$?
is "certbot certonly with the deploy hook: exit 0" "$st" 0
like "the hook imported the lineage" "$out" "mx: imported [0-9a-f]{16}; the next run publishes"
ID1=$(id_of)
is "after the hook: publish (the hook only imports)" "$(roll_phase)" publish
nok "and nothing is deployed yet" test -e "$D"
acme_timer_start "$WORK/timer.log" $TICK
at_exit "acme_timer_stop"
acme_mark first
ok "1: the timer carries the first certificate to steady" wait_live "$ID1" 60
log=$(acme_since first)
for p in "publish -> visible" "visible -> hold" "hold -> switch" "switch -> verify" "verify -> retire" "retire -> steady"; do
	like "1: the timer went through $p" "$log" "mx: $p"
done
is "1: mx1 serves the certbot certificate" "$(served mx1.example.test)" "$(spki_of "$LIVE/cert.pem")"
is "1: mx2 serves the certbot certificate" "$(served mx2.example.test)" "$(spki_of "$LIVE/cert.pem")"
SPKI1=$(spki_of "$LIVE/cert.pem")

# ---- 2. renewal with a new key: every phase, the full wait ---------------------
acme_mark renew-new-key	# before the client: the timer may act on its import at once
out=$(acme_certbot "$WORK" renew --force-renewal 2>&1)
is "2: certbot renew (new key, the stored deploy hook): exit 0" "$?" 0
like "2: the stored hook ran and imported" "$out" "imported [0-9a-f]{16}"
ID2=$(id_of)
SPKI2=$(spki_of "$LIVE/cert.pem")
nok "2: certbot made a new key" test "$SPKI2" = "$SPKI1"
is "2: until the new records have been held, the old key is served" "$(served mx1.example.test)" "$SPKI1"
ok "2: the timer carries the renewal to steady" wait_live "$ID2" 60
log=$(acme_since renew-new-key)
for p in "publish -> visible" "visible -> hold" "hold -> switch" "switch -> verify" "verify -> retire" "retire -> steady"; do
	like "2: the timer went through $p" "$log" "mx: $p"
done
like "2: the hold time left was shown" "$log" "holding: [0-9]+ s left"
like "2: in the journal the wait is at info priority" "$log" "^<6>mx: holding: [0-9]+ s left"
like "2: in the journal a step is a notice" "$log" "^<5>mx: hold -> switch"
like "2: both MX addresses were verified" "$log" "127.0.0.21"
is "2: mx1 serves the new key" "$(served mx1.example.test)" "$SPKI2"
pub=$(published)
like "2: the new key's record is published" "$pub" "$SPKI2"
nok "2: the old key's record was retired" sh -c "printf '%s\n' '$pub' | grep -q '$SPKI1'"

# ---- 3. renewal with --reuse-key: published already, switches at once ---------
# Renewals come weeks apart: let the resolver forget the RRset from before
# the last retire (TTL 2 s), else the hold waits for that first.
sleep 3
acme_mark reuse-key	# before the client: the timer may act on its import at once
out=$(acme_certbot "$WORK" renew --force-renewal --reuse-key 2>&1)
is "3: certbot renew --reuse-key: exit 0" "$?" 0
ID3=$(id_of)
is "3: the key was kept" "$(spki_of "$LIVE/cert.pem")" "$SPKI2"
ok "3: the timer deploys it" wait_live "$ID3" 30
log=$(acme_since reuse-key | sed '/deployed/q')
like "3: its records were published and visible already: straight to hold" "$log" "mx: publish -> hold"
nok "3: no new wait for visibility before the switch" sh -c "printf '%s\n' '$log' | grep -q -- '-> visible'"

# ---- 4. the hook run twice, and killed part way --------------------------------
s0=$(snap)
out=$(RENEWED_LINEAGE=$LIVE RENEWED_DOMAINS="$HOSTS" "$HOOK" 2>&1)
is "4: the hook run again: exit 0" "$?" 0
like "4: ... says there is nothing to do" "$out" "deployed already; nothing to do"
is "4: ... and changes nothing" "$(snap)" "$s0"
acme_timer_stop
out=$(acme_certbot "$WORK" renew --force-renewal --deploy-hook /bin/true 2>&1)
is "4: a renewal whose hook did nothing (certbot exit 0)" "$?" 0
ID4=$(id_of)
for t in 0.005 0.02 0.05 0.1; do
	RENEWED_LINEAGE=$LIVE timeout -s KILL "$t" "$HOOK" >/dev/null 2>&1
	"$R" $C status mx > "$WORK/status.out" 2>&1
	is "4: killed after $t s: the state still reads" "$?" 0
done
is "4: nothing was deployed by the killed hooks" "$(readlink "$D")" "versions/$ID3"
out=$(RENEWED_LINEAGE=$LIVE RENEWED_DOMAINS="$HOSTS" "$HOOK" 2>&1)
is "4: the hook run once more: exit 0" "$?" 0
like "4: ... the certificate is imported (or was, by a killed run)" "$out" "$ID4"
acme_timer_start "$WORK/timer.log" $TICK
ok "4: the timer carries it to steady" wait_live "$ID4" 60

# ---- 5. two renewals within seconds --------------------------------------------
out=$(acme_certbot "$WORK" renew --force-renewal --deploy-hook "$HOOK" 2>&1)
is "5: first renewal: exit 0" "$?" 0
ID5a=$(id_of)
out=$(acme_certbot "$WORK" renew --force-renewal 2>&1)
is "5: second renewal right after: exit 0" "$?" 0
ID5b=$(id_of)
like "5: the second import says what it did" "$out" "imported $ID5b|$ID5b replaces the pending $ID5a"
ok "5: the timer deploys the latest" wait_live "$ID5b" 60
is "5: mx2 serves the latest" "$(served mx2.example.test)" "$(spki_of "$LIVE/cert.pem")"

# ---- 6. bad input: clear message, non-zero exit, nothing changed ---------------
acme_timer_stop
s0=$(snap)
# hook_bad NAME WANT-EXIT WANT-RE CMD...: exit status and one-line message.
hook_bad() {
	_hb_name=$1 _hb_st=$2 _hb_re=$3
	shift 3
	_hb_out=$("$@" 2>&1)
	_hb_got=$?
	if [ "$_hb_got" -eq "$_hb_st" ] && printf '%s\n' "$_hb_out" | grep -Eq -- "$_hb_re" &&
		[ "$(printf '%s\n' "$_hb_out" | wc -l)" -eq 1 ]; then
		_report 0 "6: $_hb_name"
	else
		_report 1 "6: $_hb_name" "exit $_hb_got (want $_hb_st)" "want one line: /$_hb_re/" "got: $_hb_out"
	fi
}
hook_bad "no RENEWED_LINEAGE: exit 2" 2 "hook certbot: RENEWED_LINEAGE .*is not set" \
	env -u RENEWED_LINEAGE "$HOOK"
hook_bad "a lineage that is not there" 2 "RENEWED_LINEAGE $WORK/nolineage: not a directory" \
	env RENEWED_LINEAGE="$WORK/nolineage" "$HOOK"
mkdir -p "$WORK/badkey" "$WORK/other"
certs_ca "$WORK/pki" && certs_leaf "$WORK/pki" stray ec mx1.example.test mx2.example.test &&
	certs_leaf "$WORK/pki" other ec mail.other.test || bail "lab certificates"
cp "$LIVE/fullchain.pem" "$WORK/badkey/fullchain.pem"
cp "$WORK/pki/stray.key" "$WORK/badkey/privkey.pem"
hook_bad "a lineage whose key does not match its certificate" 1 \
	"badkey/privkey.pem: key does not belong to the certificate in .*badkey/fullchain.pem" \
	env RENEWED_LINEAGE="$WORK/badkey" "$HOOK"
cp "$WORK/pki/other.chain.pem" "$WORK/other/fullchain.pem"
cp "$WORK/pki/other.key" "$WORK/other/privkey.pem"
hook_bad "a certificate whose names cover no service's hosts" 1 \
	"names \\(mail.other.test\\) do not cover the hosts of any service" \
	env RENEWED_LINEAGE="$WORK/other" "$HOOK"
hook_bad "... and with --service: which host it lacks" 1 \
	"does not cover host mx1.example.test of service mx" \
	env RENEWED_LINEAGE="$WORK/other" TLSA_ROLLOVER_SERVICE=mx "$HOOK"
hook_bad "--service naming no service" 2 "no service \"nosuch\"" \
	env RENEWED_LINEAGE="$LIVE" TLSA_ROLLOVER_SERVICE=nosuch "$HOOK"
hook_bad "an unknown ACME client" 2 "unknown ACME client \"letsencrypt\"" "$R" $C hook letsencrypt
hook_bad "no client named" 2 "name the ACME client" "$R" $C hook
hook_bad "certbot's hook given arguments" 2 "unexpected argument" env RENEWED_LINEAGE="$LIVE" "$R" $C hook certbot x
hook_bad "lego without its environment" 2 "LEGO_CERT_PATH .*is not set" env -u LEGO_CERT_PATH "$R" $C hook lego
hook_bad "dehydrated's deploy_cert short of arguments" 2 "deploy_cert wants DOMAIN KEYFILE" \
	"$R" $C hook dehydrated deploy_cert mx1.example.test
hook_bad "acme.sh without its environment" 2 "CERT_KEY_PATH .*is not set" env -u CERT_KEY_PATH "$R" $C hook acme.sh
hook_bad "uacme with an identifier that is a path" 2 "\"../x\" is not an identifier" "$R" $C hook uacme /etc/ssl/uacme ../x
hook_bad "an unknown hook option" 2 "unknown option --force" "$R" $C hook certbot --force
is "6: bad input changed nothing" "$(snap)" "$s0"
out=$("$R" $C hook dehydrated startup_hook 2>&1)
is "6: dehydrated's other hook calls are ignored, silently (exit 0)" "$?:$out" "0:"
is "6: the live MX still serves the certificate of step 5" "$(served mx1.example.test)" "$(spki_of "$LIVE/cert.pem")"

is "the observer saw no invariant violation" "$VIOLATIONS" 0

# Negative control: the observer must see a certificate deployed behind the
# tool's back, whose key nothing publishes.
mkdir -p "$WORK/deploy/versions/ffffffffffffffff"
cp "$WORK/pki/stray.key" "$WORK/deploy/versions/ffffffffffffffff/privkey.pem"
cp "$WORK/pki/stray.chain.pem" "$WORK/deploy/versions/ffffffffffffffff/fullchain.pem"
ln -sfn versions/ffffffffffffffff "$D"
sh "$TOP/tests/lab/postfix.sh" reload "$WORK/mx" >/dev/null 2>&1
before=$VIOLATIONS
roll_observe $HOSTS 2>/dev/null
ok "negative control: the observer catches an unpublished certificate" test "$VIOLATIONS" -gt "$before"
done_testing
