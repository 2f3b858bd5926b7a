# tests/lab/primaries.sh: Knot DNS and PowerDNS as RFC 2136 primaries, for
# proving the update path on servers other than BIND (sourced by a test
# that already called lab_netns: they bind port 53 on lab addresses).
#
#   . "$TOP/tests/lab/primaries.sh"
#   knot_start DIR ADDR ZONE ZONEFILE KEYFILE [A-ONLY-KEYFILE]
#   pdns_start DIR ADDR ZONE ZONEFILE KEYFILE
#   resolver_start DIR ADDR ZONE AUTH-ADDR TRUST-ANCHOR-FILE
#   secondary_start DIR ADDR ZONE PRIMARY-ADDR
#   secondary_synced DIR [SECS]
#   secondary_block DIR / secondary_unblock DIR
#   primary_stop DIR
#
# PRIMARY_LAB_SECONDARY=ADDR set: knot_start and pdns_start also make the
# zone a primary for a secondary at ADDR: NOTIFY to ADDR, sent from the
# primary's own address (a BIND secondary refuses a NOTIFY from a
# non-primary, and on lo the source is otherwise the kernel's pick), AXFR/
# IXFR allowed to ADDR.  Knot: a remote with `via`, `notify:`, an acl
# with action transfer.  PowerDNS: primary=yes, query-local-address, zone
# kind MASTER, ALSO-NOTIFY, NOTIFY-DNSUPDATE 1 (a NOTIFY right after each
# update, not only when the xfr cycle notices the serial),
# SOA-EDIT-DNSUPDATE INCREASE.  48-primaries-rollover.t checks that the
# secondary logs the NOTIFY as received from the primary's address.
#
# PDNS_LAB_API_KEY (and PDNS_LAB_API_PORT, default 8081) set: pdns_start
# also serves the PowerDNS HTTP API on ADDR with that key, caches off.
#
# KEYFILE is a BIND key file (tsig-keygen): its key is the one updates
# must be signed with.  knot_start: knotd serving ZONEFILE (copied),
# signed online (dnssec-signing, ECDSAP256SHA256), updates allowed for
# the key; the key of A-ONLY-KEYFILE, when given, may update A records
# only (its TLSA updates are ACL refusals); journal only (the zone file
# is never rewritten).  pdns_start: pdns_server with the gsqlite3 backend,
# the zone loaded with pdnsutil load-zone (which keeps each record's
# text as the zone file gives it), secured (online signing), dnsupdate
# for the key (TSIG-ALLOW-DNSUPDATE).  Both return once ADDR answers the
# zone's SOA with AA (bounded: 10 s); on failure one line and the tail
# of the log on stderr, and 1.  primary_stop: TERM, bounded wait, KILL.

_pri_say() { echo "primaries: $*" >&2; }

_pri_path() {
	case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac
}

# _pri_key KEYFILE: "NAME ALGORITHM SECRET" of a BIND key file.
_pri_key() {
	tr '\n\t' '  ' < "$1" | sed -n 's/.*key *"\([^"]*\)" *{ *algorithm *\([a-z0-9-]*\); *secret *"\([^"]*\)".*/\1 \2 \3/p'
}

# _pri_wait ADDR ZONE LOG: bounded wait for an authoritative SOA answer.
_pri_wait() {
	_pw_i=0
	while [ $_pw_i -lt 50 ]; do
		if dig @"$1" +norec +time=1 +tries=1 SOA "$2" 2>/dev/null |
			grep -Eq '^;; flags:[^;]* aa[ ;].*ANSWER: [1-9]'; then
			return 0
		fi
		_pw_i=$((_pw_i + 1))
		sleep 0.2
	done
	_pri_say "$1 does not answer for $2 with AA"
	tail -n 15 "$3" >&2
	return 1
}

knot_start() {	# DIR ADDR ZONE ZONEFILE KEYFILE [A-ONLY-KEYFILE]
	_pri_path
	_ks_dir=$1 _ks_addr=$2 _ks_zone=${3%.} _ks_file=$4 _ks_key=$5 _ks_key2=${6:-}
	mkdir -p "$_ks_dir/zones" "$_ks_dir/db" || return 1
	cp "$_ks_file" "$_ks_dir/zones/$_ks_zone.zone" || return 1
	{
		printf 'server:\n  rundir: %s\n  listen: %s@53\n' "$_ks_dir" "$_ks_addr"
		printf 'key:\n'
		for _ks_k in $_ks_key $_ks_key2; do
			set -- $(_pri_key "$_ks_k")
			[ $# -eq 3 ] || { _pri_say "$_ks_k: not a BIND key file"; return 1; }
			printf '  - id: %s\n    algorithm: %s\n    secret: %s\n' "$1" "$2" "$3"
		done
		_ks_sec=${PRIMARY_LAB_SECONDARY:-}
		if [ -n "$_ks_sec" ]; then
			printf 'remote:\n  - id: secondary\n    address: %s@53\n    via: %s\n' "$_ks_sec" "$_ks_addr"
		fi
		printf 'acl:\n'
		set -- $(_pri_key "$_ks_key")
		printf '  - id: upd\n    key: %s\n    action: update\n' "$1"
		_ks_acl=upd
		if [ -n "$_ks_key2" ]; then
			set -- $(_pri_key "$_ks_key2")
			printf '  - id: upd-a\n    key: %s\n    action: update\n    update-type: [A]\n' "$1"
			_ks_acl="upd, upd-a"
		fi
		if [ -n "$_ks_sec" ]; then
			printf '  - id: xfr\n    address: %s\n    action: transfer\n' "$_ks_sec"
			_ks_acl="$_ks_acl, xfr"
		fi
		printf 'database:\n  storage: %s/db\n' "$_ks_dir"
		printf 'template:\n  - id: default\n    storage: %s/zones\n    file: "%%s.zone"\n' "$_ks_dir"
		printf '    journal-content: all\n    zonefile-sync: -1\n    zonefile-load: whole\n'
		printf 'zone:\n  - domain: %s\n    acl: [%s]\n    dnssec-signing: on\n' "$_ks_zone" "$_ks_acl"
		[ -z "$_ks_sec" ] || printf '    notify: secondary\n'
		printf 'log:\n  - target: %s/knot.log\n    any: info\n' "$_ks_dir"
	} > "$_ks_dir/knot.conf" || return 1
	knotd -c "$_ks_dir/knot.conf" -d || { _pri_say "knotd does not start"; tail -n 15 "$_ks_dir/knot.log" >&2; return 1; }
	_pri_wait "$_ks_addr" "$_ks_zone" "$_ks_dir/knot.log" || return 1
	[ -s "$_ks_dir/knot.pid" ] || { _pri_say "knotd wrote no pid file"; return 1; }
	cp "$_ks_dir/knot.pid" "$_ks_dir/server.pid"
}

pdns_start() {	# DIR ADDR ZONE ZONEFILE KEYFILE
	_pri_path
	_ps_dir=$1 _ps_addr=$2 _ps_zone=${3%.} _ps_file=$4 _ps_key=$5
	set -- $(_pri_key "$_ps_key")
	[ $# -eq 3 ] || { _pri_say "$_ps_key: not a BIND key file"; return 1; }
	mkdir -p "$_ps_dir" || return 1
	rm -f "$_ps_dir/pdns.db"
	sqlite3 "$_ps_dir/pdns.db" < /usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql ||
		{ _pri_say "cannot make the sqlite3 database"; return 1; }
	cat > "$_ps_dir/pdns.conf" <<EOF
launch=gsqlite3
gsqlite3-database=$_ps_dir/pdns.db
gsqlite3-dnssec=yes
local-address=$_ps_addr
local-port=53
dnsupdate=yes
allow-dnsupdate-from=127.0.0.0/8
socket-dir=$_ps_dir
daemon=no
guardian=no
write-pid=no
disable-syslog=yes
loglevel=5
setuid=
setgid=
EOF
	# PDNS_LAB_API_KEY set: the HTTP API on ADDR:PDNS_LAB_API_PORT (8081),
	# and no caches, so that changes made behind the server's back
	# (pdnsutil) are served at once.
	if [ -n "${PDNS_LAB_API_KEY:-}" ]; then
		cat >> "$_ps_dir/pdns.conf" <<EOF
api=yes
api-key=$PDNS_LAB_API_KEY
webserver=yes
webserver-address=$_ps_addr
webserver-port=${PDNS_LAB_API_PORT:-8081}
webserver-allow-from=127.0.0.0/8
cache-ttl=0
query-cache-ttl=0
negquery-cache-ttl=0
EOF
	fi
	_ps_sec=${PRIMARY_LAB_SECONDARY:-}
	if [ -n "$_ps_sec" ]; then
		# xfr-cycle-interval: how often it looks for changed serials.
		cat >> "$_ps_dir/pdns.conf" <<EOF
primary=yes
query-local-address=$_ps_addr
allow-axfr-ips=$_ps_sec/32
xfr-cycle-interval=1
EOF
	fi
	{
		pdnsutil --config-dir="$_ps_dir" load-zone "$_ps_zone" "$_ps_file" &&
		pdnsutil --config-dir="$_ps_dir" secure-zone "$_ps_zone" &&
		pdnsutil --config-dir="$_ps_dir" import-tsig-key "$1" "$2" "$3" &&
		pdnsutil --config-dir="$_ps_dir" set-meta "$_ps_zone" TSIG-ALLOW-DNSUPDATE "$1" &&
		if [ -n "$_ps_sec" ]; then
			pdnsutil --config-dir="$_ps_dir" set-kind "$_ps_zone" master &&
			pdnsutil --config-dir="$_ps_dir" set-meta "$_ps_zone" ALSO-NOTIFY "$_ps_sec" &&
			pdnsutil --config-dir="$_ps_dir" set-meta "$_ps_zone" NOTIFY-DNSUPDATE 1 &&
			pdnsutil --config-dir="$_ps_dir" set-meta "$_ps_zone" SOA-EDIT-DNSUPDATE INCREASE
		fi
	} > "$_ps_dir/pdnsutil.log" 2>&1 || { _pri_say "pdnsutil failed"; tail -n 15 "$_ps_dir/pdnsutil.log" >&2; return 1; }
	pdns_server --config-dir="$_ps_dir" > "$_ps_dir/pdns.log" 2>&1 &
	echo $! > "$_ps_dir/server.pid"
	_pri_wait "$_ps_addr" "$_ps_zone" "$_ps_dir/pdns.log"
}

primary_stop() {	# DIR
	[ -s "$1/server.pid" ] || return 0
	_st_pid=$(cat "$1/server.pid")
	kill "$_st_pid" 2>/dev/null || return 0
	_st_i=0
	while kill -0 "$_st_pid" 2>/dev/null && [ $_st_i -lt 50 ]; do
		sleep 0.1
		_st_i=$((_st_i + 1))
	done
	kill -9 "$_st_pid" 2>/dev/null
	rm -f "$1/server.pid"
	return 0
}

# resolver_start DIR ADDR ZONE AUTH-ADDR TRUST-ANCHOR-FILE: a validating
# Unbound on ADDR:53 with a stub zone for ZONE at AUTH-ADDR, waited for
# until it validates ZONE's SOA (AD).  Stop it with primary_stop DIR.
resolver_start() {
	_pri_path
	_rs_dir=$1 _rs_addr=$2 _rs_zone=${3%.} _rs_auth=$4 _rs_ta=$5
	mkdir -p "$_rs_dir" || return 1
	cat > "$_rs_dir/unbound.conf" <<EOF
server:
	interface: $_rs_addr
	port: 53
	do-ip6: no
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: "$_rs_dir"
	pidfile: "$_rs_dir/unbound.pid"
	logfile: ""
	use-syslog: no
	num-threads: 1
	so-reuseport: no
	do-not-query-localhost: no
	local-zone: "test." nodefault
	trust-anchor-file: "$_rs_ta"
	cache-max-ttl: 2
	cache-max-negative-ttl: 2
	module-config: "validator iterator"
remote-control:
	control-enable: no
stub-zone:
	name: "$_rs_zone."
	stub-addr: $_rs_auth
EOF
	unbound -d -c "$_rs_dir/unbound.conf" > "$_rs_dir/unbound.log" 2>&1 &
	echo $! > "$_rs_dir/server.pid"
	_rs_i=0
	while [ $_rs_i -lt 50 ]; do
		if dig @"$_rs_addr" +time=1 +tries=1 +dnssec SOA "$_rs_zone" 2>/dev/null |
			grep -Eq '^;; flags:[^;]* ad[ ;]'; then
			return 0
		fi
		_rs_i=$((_rs_i + 1))
		sleep 0.2
	done
	_pri_say "Unbound at $_rs_addr does not validate $_rs_zone"
	tail -n 15 "$_rs_dir/unbound.log" >&2
	return 1
}

# secondary_start DIR ADDR ZONE PRIMARY-ADDR: a BIND secondary of ZONE on
# ADDR:53 transferring from PRIMARY-ADDR (its NOTIFY accepted, IXFR,
# refresh floors of 1 s; no rndc, no NOTIFY of its own; every path under
# DIR), waited for until it serves the primary's SOA serial.  Stop it with
# primary_stop DIR.
# secondary_synced DIR [SECS]: bounded wait (default 20 s) until the
# secondary serves the primary's SOA serial.
# secondary_block DIR: restart it with 127.0.0.99 (where nothing listens)
# as its primary: it keeps serving the zone it has (expire is long),
# refuses the real primary's NOTIFY as from a non-primary, and its
# refreshes fail: it lags.
# secondary_unblock DIR: restart it with the real primary (a secondary
# asks its primary for the serial when it starts).
_sec_conf() {	# DIR PRIMARY-ADDR
	. "$1/secondary.env"
	cat > "$1/named.conf" <<EOF
controls { };
options {
	directory "$1";
	pid-file "$1/named.pid";
	lock-file "$1/named.lock";
	session-keyfile "$1/session.key";
	managed-keys-directory "$1";
	dump-file "$1/named_dump.db";
	statistics-file "$1/named.stats";
	listen-on port 53 { $_sc_addr; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
	notify-source $_sc_addr;
	transfer-source $_sc_addr;
	query-source address $_sc_addr;
	min-refresh-time 1;
	min-retry-time 1;
	max-retry-time 5;
};
zone "$_sc_zone" {
	type secondary;
	file "db.$_sc_zone";
	primaries { $2; };
};
EOF
}

_sec_run() {	# DIR: start named, bounded wait until it answers with AA
	named -4 -g -n 1 -c "$1/named.conf" >> "$1/named.log" 2>&1 &
	echo $! > "$1/server.pid"
	_sr_i=0
	while [ $_sr_i -lt 100 ]; do
		if dig @"$_sc_addr" +norec +time=1 +tries=1 SOA "$_sc_zone" 2>/dev/null |
			grep -Eq '^;; flags:[^;]* aa[ ;].*ANSWER: [1-9]'; then
			return 0
		fi
		kill -0 "$(cat "$1/server.pid")" 2>/dev/null || break
		_sr_i=$((_sr_i + 1))
		sleep 0.2
	done
	_pri_say "the secondary at $_sc_addr does not serve $_sc_zone"
	tail -n 15 "$1/named.log" >&2
	return 1
}

_sec_serial() {	# ADDR ZONE
	dig @"$1" +norec +time=1 +tries=1 +short SOA "$2" 2>/dev/null | awk 'NF == 7 { print $3; exit }'
}

secondary_synced() {	# DIR [SECS]
	. "$1/secondary.env"
	_ss_secs=${2:-20}
	_ss_end=$(($(date +%s) + _ss_secs))
	_ss_i=0
	while :; do
		_ss_p=$(_sec_serial "$_sc_pri" "$_sc_zone")
		_ss_s=$(_sec_serial "$_sc_addr" "$_sc_zone")
		[ -n "$_ss_p" ] && [ "$_ss_p" = "$_ss_s" ] && return 0
		_ss_i=$((_ss_i + 1))
		if [ $_ss_i -ge $((_ss_secs * 10)) ] || [ "$(date +%s)" -ge "$_ss_end" ]; then
			_pri_say "the secondary at $_sc_addr serves serial '$_ss_s', the primary $_sc_pri '$_ss_p'"
			return 1
		fi
		sleep 0.1
	done
}

secondary_start() {	# DIR ADDR ZONE PRIMARY-ADDR
	_pri_path
	mkdir -p "$1" || return 1
	printf '_sc_addr=%s _sc_zone=%s _sc_pri=%s\n' "$2" "${3%.}" "$4" > "$1/secondary.env"
	_sec_conf "$1" "$4" || return 1
	named-checkconf "$1/named.conf" >&2 || { _pri_say "named-checkconf rejects $1/named.conf"; return 1; }
	_sec_run "$1" && secondary_synced "$1" 20
}

secondary_block() {	# DIR
	primary_stop "$1"
	_sec_conf "$1" 127.0.0.99 && _sec_run "$1"
}

secondary_unblock() {	# DIR
	primary_stop "$1"
	. "$1/secondary.env"
	_sec_conf "$1" "$_sc_pri" && _sec_run "$1"
}
