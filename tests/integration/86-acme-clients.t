#!/bin/sh
# 86-acme-clients.t: the other ACME clients, each against Pebble, in turn
# renewing the certificate of one service whose two Postfix MX addresses
# read it from tlsa-rollover's deploy directory (signed BIND primary and
# secondary, validating Unbound).  The installed hooks (make
# install-hooks) import; the systemd unit's ExecStart, run every second as
# the timer would, carries each rollover; an observer checks the invariant
# the whole time.
#   dehydrated  HOOK=dehydrated-hook with PRIVATE_KEY_ROLLOVER=yes: the
#               next key is staged at issuance, the renewal that uses it
#               switches at once, and its own next key is staged after
#   lego        --run-hook/--renew-hook given tlsa-rollover itself (lego
#               runs it without a shell); renew --reuse-key switches at once
#   uacme       the uacme-renew wrapper; "not due" (exit 1) imports
#               nothing; a forced renewal keeps uacme's key: at once
#   acme.sh     not packaged in Debian: its --reloadcmd environment
#               (CERT_PATH, CERT_KEY_PATH, CA_CERT_PATH,
#               CERT_FULLCHAIN_PATH) and its .next key, given by hand
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.0.20 mx1.example.test
127.0.0.21 mx2.example.test"
lab_netns "$@"
need_cmd named unbound postfix dig openssl pebble dehydrated lego uacme curl make unshare
. "$TOP/tests/lab/fixture.sh"
. "$TOP/tests/lab/acme.sh"

fixture_dns
acme_pebble_start "$WORK" || bail "Pebble"
at_exit "acme_pebble_stop '$WORK'"
mkdir -p "$WORK/pki" "$WORK/bin"
fixture_postfix 127.0.0.20 127.0.0.21
CONF=$WORK/roll.yaml
fixture_config
INST=$WORK/inst
make -s -C "$TOP" install-hooks DESTDIR="$INST" PREFIX=/usr/local || bail "make install-hooks"
HOOKS=$INST/usr/local/libexec/tlsa-rollover
TLSA_ROLLOVER_CONFIG=$CONF
export TLSA_ROLLOVER TLSA_ROLLOVER_CONFIG
set -- $(sed -n 's/^ExecStart=//p' "$INST/usr/local/lib/systemd/system/tlsa-rollover.service")
shift
acme_timer_start "$WORK/timer.log" "$R" -f "$CONF" "$@"
at_exit "acme_timer_stop"

published() { dig @127.0.0.40 +short _25._tcp.mx2.example.test TLSA | tr -d ' ' | tr A-F a-f; }
staged() { "$R" $C --json status mx | sed -n '/"staged"/,/}/s/.*"id": "\([0-9a-f]*\)".*/\1/p'; }
key_id() { openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | openssl dgst -sha256 -r | cut -c1-16; }
# settle: renewals come weeks apart; let the resolver forget the RRset from
# before the last change (TTL 2 s), else the hold waits for that first.
settle() { sleep 3; }
# until_deployed MARK: the timer's log from MARK up to the first deploy.
until_deployed() { acme_since "$1" | sed '/deployed/q'; }
# full_wait TAG MARK: the rollover went through every phase.
full_wait() {
	_fw_log=$(acme_since "$2")
	for _fw_p in "publish -> visible" "visible -> hold" "hold -> switch" "switch -> verify" "verify -> retire" "retire -> steady"; do
		like "$1: through $_fw_p" "$_fw_log" "mx: $_fw_p"
	done
}
# at_once TAG MARK: deployed without a new wait for visibility.
at_once() {
	_ao_log=$(until_deployed "$2")
	like "$1: its record was published already: publish -> hold" "$_ao_log" "mx: publish -> hold"
	nok "$1: no new wait for visibility before the switch" sh -c "printf '%s\n' '$_ao_log' | grep -q -- '-> visible'"
}
# wait_published SPKI MAX: until the record is published and the service steady.
wait_published() {
	_wp_i=0
	while [ $_wp_i -lt $(($2 * 2)) ]; do
		roll_observe $HOSTS
		published | grep -q "$1" && [ "$(roll_phase)" = steady ] && return 0
		_wp_i=$((_wp_i + 1))
		sleep 0.5
	done
	diag "record $1 not published after $2 s: $(tail -n 10 "$ACME_TIMER_LOG")"
	return 1
}

# ---- dehydrated, with PRIVATE_KEY_ROLLOVER ----------------------------------------
acme_dehydrated_conf "$WORK" "$HOOKS/dehydrated-hook" yes || bail "dehydrated account"
DH=$WORK/dehydrated/certs/mx1.example.test
acme_mark dehydrated-1	# before the client: the timer may act on its import at once
out=$(acme_dehydrated "$WORK" -c -d mx1.example.test -d mx2.example.test 2>&1)
is "dehydrated: first certificate (exit 0)" "$?" 0
like "dehydrated: the hook imported it" "$out" "mx: imported [0-9a-f]{16}"
ok "dehydrated made a next key" test -f "$DH/privkey.roll.pem"
ROLL1=$(key_id "$DH/privkey.roll.pem")
like "dehydrated: the hook staged the next key" "$out" "staged key $ROLL1"
ok "dehydrated: the timer deploys it" acme_wait_live "$(acme_cert_id "$DH/cert.pem")" 60
full_wait "dehydrated" dehydrated-1
like "dehydrated: the next key's record is published ahead" "$(published)" "$(spki "$DH/privkey.roll.pem")"
is "dehydrated: it is the staged key" "$(staged)" "$ROLL1"
settle
acme_mark dehydrated-2	# before the client: the timer may act on its import at once
out=$(acme_dehydrated "$WORK" -c -d mx1.example.test -d mx2.example.test --force 2>&1)
is "dehydrated: renewal (exit 0)" "$?" 0
is "dehydrated: the renewal uses the next key" "$(key_id "$DH/privkey.pem")" "$ROLL1"
ROLL2=$(key_id "$DH/privkey.roll.pem")
like "dehydrated: its new next key waits until the switch" "$out" "key $ROLL2 is queued"
ok "dehydrated: the timer deploys the renewal" acme_wait_live "$(acme_cert_id "$DH/cert.pem")" 30
at_once "dehydrated" dehydrated-2
ok "dehydrated: then the new next key is published" wait_published "$(spki "$DH/privkey.roll.pem")" 40
is "dehydrated: ... and staged" "$(staged)" "$ROLL2"
like "dehydrated: mx2 serves the renewal" "$(acme_served mx2.example.test)" "$(spki "$DH/cert.pem")"
s0=$(cat "$WORK/state/mx/state")
out=$("$HOOKS/dehydrated-hook" deploy_cert mx1.example.test "$DH/privkey.pem" \
	"$DH/cert.pem" "$DH/fullchain.pem" "$DH/chain.pem" 1 2>&1)
is "dehydrated: the hook called twice: exit 0" "$?" 0
like "dehydrated: ... nothing to do" "$out" "deployed already; nothing to do"
like "dehydrated: ... the next key is staged already" "$out" "key $ROLL2 is staged already"
is "dehydrated: ... the state is unchanged" "$(cat "$WORK/state/mx/state")" "$s0"

# ---- lego: the hook is tlsa-rollover itself, run without a shell ------------------
LG=$WORK/lego/certificates/mx1.example.test
acme_mark lego-1	# before the client: the timer may act on its import at once
out=$(acme_lego "$WORK" --domains mx1.example.test --domains mx2.example.test \
	run --run-hook "$R -f $CONF hook lego" 2>&1)
is "lego run (exit 0)" "$?" 0
like "lego: the hook imported it" "$out" "mx: imported [0-9a-f]{16}"
ok "lego: the timer deploys it" acme_wait_live "$(acme_cert_id "$LG.crt")" 60
full_wait "lego" lego-1
settle
acme_mark lego-2	# before the client: the timer may act on its import at once
out=$(acme_lego "$WORK" --domains mx1.example.test --domains mx2.example.test \
	renew --days 3000 --no-random-sleep --reuse-key --renew-hook "$R -f $CONF hook lego" 2>&1)
is "lego renew --reuse-key (exit 0)" "$?" 0
like "lego: the renew hook imported it" "$out" "mx: imported [0-9a-f]{16}"
ok "lego: the timer deploys the renewal" acme_wait_live "$(acme_cert_id "$LG.crt")" 30
at_once "lego" lego-2
like "lego: mx1 serves the renewal" "$(acme_served mx1.example.test)" "$(spki "$LG.crt")"

# ---- uacme, through the uacme-renew wrapper -----------------------------------------
BUNDLE=$(acme_uacme_bundle "$WORK") || bail "uacme bundle"
cat > "$WORK/bin/uacme-lab" <<EOF
#!/bin/sh
# uacme with the Pebble certificate trusted (private mount namespace)
exec unshare -m sh -c 'mount --bind "$BUNDLE" /etc/ssl/certs/ca-certificates.crt && exec uacme "\$@"' uacme "\$@"
EOF
chmod 755 "$WORK/bin/uacme-lab"
UACME=$WORK/bin/uacme-lab
export UACME
UA=$WORK/uacme
ok "uacme: account" "$UACME" -y -a "$ACME_URL" -c "$UA" new
acme_mark uacme-1	# before the client: the timer may act on its import at once
out=$("$HOOKS/uacme-renew" -y -a "$ACME_URL" -c "$UA" -h /bin/true issue mx1.example.test mx2.example.test 2>&1)
is "uacme-renew: issued (exit 0)" "$?" 0
like "uacme-renew: imported" "$out" "mx: imported [0-9a-f]{16}"
ok "uacme: the timer deploys it" acme_wait_live "$(acme_cert_id "$UA/mx1.example.test/cert.pem")" 60
full_wait "uacme" uacme-1
s0=$(cat "$WORK/state/mx/state")
out=$("$HOOKS/uacme-renew" -y -a "$ACME_URL" -c "$UA" -h /bin/true issue mx1.example.test mx2.example.test 2>&1)
is "uacme-renew: not due: exit 0" "$?" 0
nok "uacme-renew: not due: nothing imported" sh -c "printf '%s\n' '$out' | grep -q 'imported'"
is "uacme-renew: not due: state unchanged" "$(cat "$WORK/state/mx/state")" "$s0"
settle
acme_mark uacme-2	# before the client: the timer may act on its import at once
out=$("$HOOKS/uacme-renew" -y -a "$ACME_URL" -c "$UA" -h /bin/true -f issue mx1.example.test mx2.example.test 2>&1)
is "uacme-renew -f: renewed (exit 0)" "$?" 0
ok "uacme: the timer deploys the renewal" acme_wait_live "$(acme_cert_id "$UA/mx1.example.test/cert.pem")" 30
at_once "uacme (it keeps its key)" uacme-2
out=$("$HOOKS/uacme-renew" -y -a "$ACME_URL" 2>&1)
is "uacme-renew without issue IDENT: exit 2" "$?" 2
like "uacme-renew without issue IDENT: says so" "$out" "no \"issue IDENT\""

# ---- acme.sh: its --reloadcmd environment and .next key -----------------------------
# acme.sh runs the reload command with sh: --reloadcmd "tlsa-rollover hook acme.sh".
certs_ca "$WORK/pki" || bail "CA"
AS=$WORK/acme.sh/mx1.example.test
mkdir -p "$AS"
certs_leaf "$WORK/pki" a1 ec mx1.example.test mx2.example.test &&
	certs_leaf "$WORK/pki" a2 ec mx1.example.test mx2.example.test || bail "acme.sh certificates"
acmesh_deploy() {	# NAME NEXT-KEY-NAME: what acme.sh leaves, then its reloadcmd
	cp "$WORK/pki/$1.pem" "$AS/mx1.example.test.cer"
	cp "$WORK/pki/$1.key" "$AS/mx1.example.test.key"
	cp "$WORK/pki/int.pem" "$AS/ca.cer"
	cat "$AS/mx1.example.test.cer" "$AS/ca.cer" > "$AS/fullchain.cer"
	(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$AS/mx1.example.test.key.next" 2>/dev/null)
	cp "$AS/mx1.example.test.key.next" "$WORK/pki/$2.key"
	(cd "$AS" && CERT_PATH=$AS/mx1.example.test.cer CERT_KEY_PATH=$AS/mx1.example.test.key \
		CA_CERT_PATH=$AS/ca.cer CERT_FULLCHAIN_PATH=$AS/fullchain.cer Le_Domain=mx1.example.test \
		sh -c "$R -f $CONF hook acme.sh")
}
acme_mark acmesh-1	# before the client: the timer may act on its import at once
out=$(acmesh_deploy a1 next1 2>&1)
is "acme.sh: the reload command (exit 0)" "$?" 0
like "acme.sh: imported" "$out" "mx: imported [0-9a-f]{16}"
like "acme.sh: the .next key replaces dehydrated's staged key" "$out" "key $(key_id "$WORK/pki/next1.key") replaces the staged key $ROLL2"
ok "acme.sh: the timer deploys it" acme_wait_live "$(acme_cert_id "$WORK/pki/a1.pem")" 60
full_wait "acme.sh" acmesh-1
like "acme.sh: the .next key's record is published" "$(published)" "$(spki "$WORK/pki/next1.key")"
pub=$(published)
nok "acme.sh: the replaced staged key's record was retired" sh -c "printf '%s\n' '$pub' | grep -q '$(spki "$DH/privkey.roll.pem")'"
# The renewal: acme.sh's next key becomes the key, with a new .next.
openssl req -new -key "$WORK/pki/next1.key" -subj /CN=mx1.example.test \
	-addext subjectAltName=DNS:mx1.example.test,DNS:mx2.example.test -out "$WORK/pki/a3.csr" 2>/dev/null &&
	openssl x509 -req -in "$WORK/pki/a3.csr" -CA "$WORK/pki/int.pem" -CAkey "$WORK/pki/int.key" \
		-CAcreateserial -days 30 -copy_extensions copy -out "$WORK/pki/a3.pem" 2>/dev/null &&
	cp "$WORK/pki/next1.key" "$WORK/pki/a3.key" || bail "acme.sh renewal certificate"
settle
acme_mark acmesh-2	# before the client: the timer may act on its import at once
out=$(acmesh_deploy a3 next2 2>&1)
is "acme.sh: renewal with the .next key (exit 0)" "$?" 0
ok "acme.sh: the timer deploys the renewal" acme_wait_live "$(acme_cert_id "$WORK/pki/a3.pem")" 30
at_once "acme.sh" acmesh-2
ok "acme.sh: then its new .next key is published" wait_published "$(spki "$WORK/pki/next2.key")" 40
ok "the staged key file is mode 0600" sh -c "[ \"\$(stat -c %a '$WORK/state/mx/staged/$(key_id "$WORK/pki/next2.key")/privkey.pem')\" = 600 ]"

is "the observer saw no invariant violation" "$VIOLATIONS" 0
done_testing
