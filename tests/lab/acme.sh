# tests/lab/acme.sh: a Pebble ACME CA and the ACME clients Debian packages
# (certbot, lego, dehydrated, uacme), all on loopback, under a given
# directory (sourced by sh, after tests/lib.sh, inside lab_netns).
#
#   acme_pebble_start DIR   Pebble on 127.0.0.1:14000 (API certificate made
#                           here; challenges always valid, no sleeps);
#                           sets ACME_URL (directory URL) and ACME_CA (the
#                           API certificate, what the clients must trust)
#   acme_pebble_stop DIR    stop it by its pid
#   acme_certbot DIR ARGS   certbot with its config, work and log
#                           directories under DIR/certbot, standalone
#                           HTTP-01 on 127.0.0.1:5002, no random sleep
#                           for "renew"
#   acme_lego DIR ARGS      lego with --path DIR/lego, HTTP-01 on
#                           127.0.0.1:5002 (ARGS: its options and the
#                           command: run, renew ...)
#   acme_dehydrated_conf DIR HOOK [ROLLOVER]
#                           DIR/dehydrated/config (EC P-256 keys, HOOK,
#                           PRIVATE_KEY_ROLLOVER=ROLLOVER, default no) and
#                           the account registered
#   acme_dehydrated DIR ARGS dehydrated -f DIR/dehydrated/config ARGS
#   acme_uacme DIR ARGS     uacme -c DIR/uacme with the Pebble certificate
#                           added to the system bundle in a private mount
#                           namespace (uacme trusts only that bundle)
#   acme_uacme_bundle DIR   that bundle (for wrappers that run uacme)
#
# Pebble makes new root and intermediate certificates at every start, and
# its certificates are valid for five years: renewals must be forced.
# Everything returns non-zero, with a message on stderr, on failure.

_acme_err() { echo "acme.sh: $*" >&2; return 1; }

acme_pebble_start() {
	_ac_d=$1/pebble
	mkdir -p "$_ac_d" || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
		-keyout "$_ac_d/key.pem" -out "$_ac_d/cert.pem" 2>"$_ac_d/openssl.err" ||
		{ _acme_err "Pebble's API certificate: $(cat "$_ac_d/openssl.err")"; return 1; }
	cat > "$_ac_d/config.json" <<-EOF
	{
	  "pebble": {
	    "listenAddress": "127.0.0.1:14000",
	    "managementListenAddress": "127.0.0.1:15000",
	    "certificate": "$_ac_d/cert.pem",
	    "privateKey": "$_ac_d/key.pem",
	    "httpPort": 5002,
	    "tlsPort": 5001,
	    "ocspResponderURL": "",
	    "externalAccountBindingRequired": false
	  }
	}
	EOF
	PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 \
		pebble -config "$_ac_d/config.json" > "$_ac_d/log" 2>&1 &
	echo $! > "$_ac_d/pid"
	ACME_URL=https://127.0.0.1:14000/dir
	ACME_CA=$_ac_d/cert.pem
	_ac_i=0
	while [ $_ac_i -lt 50 ]; do
		curl -fsS --max-time 2 --cacert "$ACME_CA" "$ACME_URL" >/dev/null 2>&1 && return 0
		kill -0 "$(cat "$_ac_d/pid")" 2>/dev/null || break
		_ac_i=$((_ac_i + 1))
		sleep 0.2
	done
	_acme_err "Pebble did not come up: $(tail -n 5 "$_ac_d/log")"
}

acme_pebble_stop() {
	[ -f "$1/pebble/pid" ] || return 0
	kill "$(cat "$1/pebble/pid")" 2>/dev/null
	rm -f "$1/pebble/pid"
}

acme_certbot() {
	_ac_d=$1/certbot
	shift
	mkdir -p "$_ac_d" || return 1
	_ac_sleep=""
	[ "$1" = renew ] && _ac_sleep=--no-random-sleep-on-renew
	REQUESTS_CA_BUNDLE=$ACME_CA certbot "$@" $_ac_sleep --server "$ACME_URL" \
		--config-dir "$_ac_d/config" --work-dir "$_ac_d/work" --logs-dir "$_ac_d/logs" \
		--non-interactive --agree-tos -m hostmaster@example.test --no-eff-email \
		--preferred-challenges http --standalone --http-01-address 127.0.0.1 --http-01-port 5002
}

acme_lego() {
	_ac_d=$1/lego
	shift
	mkdir -p "$_ac_d" || return 1
	LEGO_CA_CERTIFICATES=$ACME_CA lego --accept-tos --email hostmaster@example.test \
		--server "$ACME_URL" --path "$_ac_d" --http --http.port 127.0.0.1:5002 --key-type ec256 "$@"
}

acme_dehydrated_conf() {
	_ac_d=$1/dehydrated
	mkdir -p "$_ac_d/wellknown" || return 1
	cat > "$_ac_d/config" <<-EOF
	CA="$ACME_URL"
	CHALLENGETYPE="http-01"
	BASEDIR="$_ac_d"
	WELLKNOWN="$_ac_d/wellknown"
	KEY_ALGO=prime256v1
	HOOK="$2"
	PRIVATE_KEY_RENEW="yes"
	PRIVATE_KEY_ROLLOVER="${3:-no}"
	CONTACT_EMAIL="hostmaster@example.test"
	EOF
	acme_dehydrated "$1" --register --accept-terms >"$_ac_d/register.log" 2>&1 ||
		{ _acme_err "dehydrated --register: $(tail -n 5 "$_ac_d/register.log")"; return 1; }
}

acme_dehydrated() {
	_ac_d=$1/dehydrated
	shift
	CURL_CA_BUNDLE=$ACME_CA dehydrated -f "$_ac_d/config" "$@"
}

acme_uacme_bundle() {
	[ -f "$1/uacme-bundle.pem" ] ||
		cat /etc/ssl/certs/ca-certificates.crt "$ACME_CA" > "$1/uacme-bundle.pem" || return 1
	echo "$1/uacme-bundle.pem"
}

acme_uacme() {
	_ac_b=$(acme_uacme_bundle "$1") || return 1
	_ac_d=$1/uacme
	shift
	mkdir -p "$_ac_d" || return 1
	unshare -m sh -c 'mount --bind "$0" /etc/ssl/certs/ca-certificates.crt && exec "$@"' \
		"$_ac_b" uacme -y -a "$ACME_URL" -c "$_ac_d" -h /bin/true "$@"
}

# acme_timer_start LOG CMD...: what the systemd timer does, every second
# instead of every five minutes: run CMD, appending its output to LOG as
# the journal (JOURNAL_STREAM names LOG, as systemd names the journal's
# stream), until acme_timer_stop (at most 600 runs).
acme_timer_start() {
	_at_log=$1
	shift
	rm -f "$_at_log.stop"
	(
		_at_i=0
		: >> "$_at_log"
		while [ $_at_i -lt 600 ] && [ ! -f "$_at_log.stop" ]; do
			# As systemd runs a unit whose output is the journal.
			JOURNAL_STREAM=$(stat -c '%d:%i' "$_at_log") "$@" >> "$_at_log" 2>&1
			_at_i=$((_at_i + 1))
			sleep 1
		done
	) &
	ACME_TIMER_PID=$!
	ACME_TIMER_LOG=$_at_log
}

# acme_timer_stop: stop it after the run under way.
acme_timer_stop() {
	[ -n "${ACME_TIMER_PID:-}" ] || return 0
	touch "$ACME_TIMER_LOG.stop"
	wait "$ACME_TIMER_PID" 2>/dev/null
	ACME_TIMER_PID=""
}

# acme_mark TEXT: a line in the timer's log (what happened outside it).
acme_mark() { echo "=== $*" >> "$ACME_TIMER_LOG"; }

# acme_since TEXT: the timer's log after the last mark TEXT.
acme_since() {
	awk -v m="=== $1" '$0 == m { buf = ""; on = 1; next } on { buf = buf $0 "\n" } END { printf "%s", buf }' \
		"$ACME_TIMER_LOG"
}

# acme_cert_id CERT: tlsa-rollover's id of a certificate (its leaf).
acme_cert_id() {
	openssl x509 -in "$1" -outform DER 2>/dev/null | openssl dgst -sha256 -r | cut -c1-16
}

# acme_served HOST: the 3 1 1 data of what HOST's MX serves now.
acme_served() {
	"$T" -r 3,1,1 -f json -H "$1" -c "$1" 2>&1 | sed -n 's/.*"data": "\([0-9a-f]*\)".*/\1/p'
}

# acme_wait_live ID MAX: with the timer running, observe the invariant
# (roll_observe from roll.sh, on $HOSTS) about twice a second until the
# service is steady with certificate ID behind the deploy link $D; at
# most MAX seconds.
acme_wait_live() {
	_wl_i=0
	while [ $_wl_i -lt $(($2 * 2)) ]; do
		roll_observe $HOSTS
		[ "$(readlink "$D")" = "versions/$1" ] && [ "$(roll_phase)" = steady ] && return 0
		_wl_i=$((_wl_i + 1))
		sleep 0.5
	done
	diag "not live after $2 s: phase $(roll_phase), deployed $(readlink "$D"); timer log: $(tail -n 15 "$ACME_TIMER_LOG")"
	return 1
}
