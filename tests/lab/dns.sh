# tests/lab/dns.sh: a private DNS lab for the RFC 2136 / DNSSEC tests.
#
# Source it from a test that already called lab_netns (it binds port 53 on
# 127.0.0.40, .41 and .53, which only the lab namespace has to itself):
#
#   . "$TOP/tests/lab/dns.sh"
#   dns_lab_start "$WORK/dns" || bail "no DNS lab"
#   at_exit "dns_lab_stop '$WORK/dns'"
#
# Sourcing only defines functions (all named dns_* or _dns_*).  Every wait is
# bounded in tries and in seconds; on failure a function prints one line
# "dns-lab: ..." and the tail of the daemon's log on stderr and returns 1.
#
# What dns_lab_start DIR [ZONE] builds (ZONE default example.test, with or
# without the final dot):
#
#   127.0.0.40:53  BIND primary: dnssec-policy "lab" (one ECDSAP256SHA256
#                  CSK), inline-signing, RFC 2136 with TSIG keys tlsa-update
#                  (hmac-sha256), tlsa-update-384 (hmac-sha384) and
#                  tlsa-update-512 (hmac-sha512), NOTIFY
#                  to the secondary only, AXFR/IXFR open.
#   127.0.0.41:53  BIND secondary of the same zone (NOTIFY + IXFR from the
#                  primary).
#   127.0.0.53:53  Unbound, validating: stub-zone to both, trust anchor =
#                  the zone's DNSKEY as served by the primary.
#   rndc on 127.0.0.40 and 127.0.0.41 port 953 (dns_rndc), unbound-control
#   on a unix socket (dns_resolver_flush).
#
# The zone: SOA (refresh 3600, retry 5, expire 14d, minimum 2), NS ns1/ns2,
# MX 10 mx1 / 20 mx2, A ns1 127.0.0.40, ns2 127.0.0.41, mx1 127.0.0.20,
# mx2 127.0.0.21 (no AAAA); $TTL and DNSKEY TTL from DNS_LAB_TTL (default 5).
# The secondary learns of changes by NOTIFY only (refresh is an hour).
# DNS_LAB_ZONE_OPTIONS: more statements for the primary's zone block, e.g.
# "check-integrity no;" so that updates may add an MX pointing to a CNAME
# or to a name without addresses (BIND refuses those by default).
#
# Exported after a successful start (and written to DIR/dns.env):
#   DNS_PRIMARY=127.0.0.40 DNS_SECONDARY=127.0.0.41 DNS_RESOLVER=127.0.0.53
#   DNS_ZONE=example.test (no final dot)
#   DNS_TSIG_KEY=DIR/tsig.key DNS_TSIG_KEY_384=DIR/tsig-384.key
#   DNS_TSIG_KEY_512=DIR/tsig-512.key (mode 0600)
#   DNS_TRUST_ANCHOR=DIR/trust-anchor.key (DNSKEY lines)  DNS_DS=DIR/ds.txt
#   DNS_ZONE_KEYS=DIR/primary/keys (the CSK: K<zone>.+013+<tag>.{key,private})
#   DNS_LAB_DIR=DIR
# Note: the serial the servers answer with is the inline-signed serial,
# which runs ahead of the serial in the unsigned zone file.
#
# Other functions (DIR is the one given to dns_lab_start):
#   dns_lab_stop DIR               stop all three (TERM, bounded wait, KILL)
#   dns_lab_sync_wait DIR [SECS]   primary and secondary serve the same serial
#   dns_lab_sign_wait DIR NAME TYPE [SECS]
#                                  primary serves NAME/TYPE with its RRSIG
#   dns_secondary_pause DIR        lag: the secondary keeps answering from
#                                  the old zone but gets no more changes
#   dns_secondary_resume DIR       end the lag, ask the secondary to refresh
#                                  (then dns_lab_sync_wait)
#   dns_secondary_freeze DIR       SIGSTOP: the secondary does not answer
#   dns_secondary_thaw DIR         SIGCONT
#   dns_serial ADDR [ZONE]         the SOA serial ADDR serves (empty if none)
#   dns_rdata ADDR NAME TYPE       sorted rdata of the answer, one a line
#   dns_rdata_wait ADDR NAME TYPE WANT [SECS]
#                                  until dns_rdata prints exactly WANT
#   dns_update DIR [KEYFILE]       nsupdate to the primary, commands on stdin
#                                  ("server", "zone" and "send" are added)
#   dns_rndc DIR primary|secondary ARGS...
#   dns_resolver_flush DIR [NAME]  drop NAME's zone (default all) from Unbound
#   dns_add_zone DIR NAME FILE     serve an extra, unsigned zone NAME (zone
#                                  file FILE, absolute path) on the primary
#                                  (rndc addzone; no secondary, no
#                                  updates).  Delegate to it from the lab
#                                  zone with nsupdate (NAME NS ns1.ZONE.):
#                                  without a DS the child is insecure, with
#                                  a DS that matches no key of it, bogus.

# ---- internals ---------------------------------------------------------

_dns_say() { printf 'dns-lab: %s\n' "$*" >&2; }

# _dns_fail MESSAGE [LOGFILE]: report, with the last lines of LOGFILE.
_dns_fail() {
	_dns_say "$1"
	if [ -n "${2:-}" ] && [ -f "$2" ]; then
		_dns_say "last lines of $2:"
		grep -v 'received control channel command' "$2" | tail -n 25 | sed 's/^/dns-lab:   /' >&2
	fi
	return 1
}

_dns_path() {
	case ":$PATH:" in
	*:/usr/sbin:*) ;;
	*) PATH=$PATH:/usr/sbin:/sbin; export PATH ;;
	esac
}

# _dns_alive PIDFILE: the process is there and not a zombie.
_dns_alive() {
	[ -s "$1" ] || return 1
	_da_pid=$(cat "$1")
	kill -0 "$_da_pid" 2>/dev/null || return 1
	_da_st=$(sed 's/^.*) //' "/proc/$_da_pid/stat" 2>/dev/null | cut -c1)
	[ "$_da_st" != Z ]
}

# _dns_wait SECS PIDFILE LOGFILE WHAT cmd...: run cmd every 0.1 s until it
# succeeds; give up after SECS seconds or SECS*10 tries, or at once when the
# daemon behind PIDFILE (if not empty) has gone.
_dns_wait() {
	_dw_secs=$1 _dw_pidf=$2 _dw_log=$3 _dw_what=$4
	shift 4
	_dw_end=$(($(date +%s) + _dw_secs))
	_dw_max=$((_dw_secs * 10))
	_dw_n=0
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		_dw_n=$((_dw_n + 1))
		if [ -n "$_dw_pidf" ] && ! _dns_alive "$_dw_pidf"; then
			_dns_fail "daemon exited while waiting for $_dw_what" "$_dw_log"
			return 1
		fi
		if [ "$_dw_n" -ge "$_dw_max" ] || [ "$(date +%s)" -ge "$_dw_end" ]; then
			_dns_fail "gave up after ${_dw_secs}s ($_dw_n tries) waiting for $_dw_what" "$_dw_log"
			return 1
		fi
		sleep 0.1
	done
}

# _dns_load DIR: the lab's settings back from DIR/dns.env.
_dns_load() {
	[ -f "$1/dns.env" ] || { _dns_say "$1: not a DNS lab directory (no dns.env)"; return 1; }
	. "$1/dns.env"
	_dns_path
}

_dns_dig() {	# ADDR dig-args...
	_dd_a=$1
	shift
	dig @"$_dd_a" -p 53 +time=1 +tries=1 +norecurse "$@"
}

# _dns_has_sig ADDR NAME TYPE: the answer holds TYPE and an RRSIG over it,
# with the AA flag.
_dns_has_sig() {
	_hs_out=$(_dns_dig "$1" +dnssec +nosplit "$2" "$3") || return 1
	printf '%s\n' "$_hs_out" | grep -Eq '^;; flags:[^;]* aa[ ;]' || return 1
	printf '%s\n' "$_hs_out" | awk -v t="$3" '
		/^;/ || NF < 5 { next }
		$4 == t { have = 1 }
		$4 == "RRSIG" && $5 == t { sig = 1 }
		END { exit !(have && sig) }'
}

# _dns_fully_signed ADDR: an AXFR from ADDR has an RRSIG over every RRset
# (with dnssec-policy there is no "rndc signing -list ... Done signing").
_dns_fully_signed() {
	dig @"$1" -p 53 +time=2 +tries=1 +noall +answer AXFR "$DNS_ZONE." 2>/dev/null | awk '
		/^;/ || NF < 5 { next }
		$4 == "RRSIG" { sig[$1 " " $5] = 1; next }
		{ set[$1 " " $4] = 1 }
		END {
			n = 0
			for (k in set) { n++; if (!(k in sig)) exit 1 }
			exit !(n > 0 && sig[ENVIRON["DNS_ZONE"] ". DNSKEY"])
		}'
}

_dns_rndc_raw() {	# DIR ADDR args...
	_dr_dir=$1 _dr_addr=$2
	shift 2
	rndc -c "$_dr_dir/rndc.conf" -s "$_dr_addr" -p 953 "$@"
}

_dns_same_serial() {
	_ss_p=$(dns_serial "$DNS_PRIMARY" "$DNS_ZONE")
	_ss_s=$(dns_serial "$DNS_SECONDARY" "$DNS_ZONE")
	[ -n "$_ss_p" ] && [ "$_ss_p" = "$_ss_s" ]
}

_dns_resolver_ad() {	# NAME TYPE: Unbound answers NOERROR with AD
	_ra_out=$(dig @"$DNS_RESOLVER" -p 53 +time=1 +tries=1 +dnssec "$1" "$2") || return 1
	printf '%s\n' "$_ra_out" | grep -q 'status: NOERROR' &&
		printf '%s\n' "$_ra_out" | grep -Eq '^;; flags:[^;]* ad[ ;]'
}

# _dns_secondary_zone DIR ADDR: (re)write the secondary's zone statement
# with ADDR as its only primary.
_dns_secondary_zone() {
	cat > "$1/secondary/zone.conf.tmp" <<EOF
zone "$DNS_ZONE" {
	type secondary;
	file "db.$DNS_ZONE";
	primaries { $2; };
};
EOF
	mv "$1/secondary/zone.conf.tmp" "$1/secondary/zone.conf"
}

# _dns_named_options DIR ROLE ADDR [MORE]: the options every instance
# shares (MORE: extra option statements).  Every path is under DIR: the
# defaults (/run/named/named.pid, session.key, ...) are the host's own.
# The explicit *-source addresses matter: on lo the kernel picks the
# destination address as the source, so without notify-source the
# secondary sees the NOTIFY coming from 127.0.0.41 and refuses it as "from
# non-primary" (checked).
_dns_named_options() {
	cat <<EOF
include "$1/rndc.key";
controls { inet $3 port 953 allow { 127.0.0.0/8; } keys { "lab-rndc"; }; };
options {
	directory "$1/$2";
	pid-file "$1/$2/named.pid";
	lock-file "$1/$2/named.lock";
	session-keyfile "$1/$2/session.key";
	managed-keys-directory "$1/$2";
	dump-file "$1/$2/named_dump.db";
	statistics-file "$1/$2/named.stats";
	listen-on port 53 { $3; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify-source $3;
	transfer-source $3;
	query-source address $3;
	notify-delay 0;
	min-refresh-time 1;
	min-retry-time 1;
	max-retry-time 5;
	${4:-}
};
EOF
}

_dns_start_named() {	# DIR ROLE ADDR
	rm -f "$1/$2.pid"
	named -4 -g -n 1 -c "$1/$2/named.conf" > "$1/$2/named.log" 2>&1 &
	echo $! > "$1/$2.pid"
	_dns_wait 15 "$1/$2.pid" "$1/$2/named.log" "named ($2) to answer on $3" \
		_dns_dig "$3" SOA "$DNS_ZONE"
}

# _dns_stop_pid PIDFILE NAME: TERM, wait up to 10 s, then KILL.
_dns_stop_pid() {
	[ -s "$1" ] || return 0
	_sp_pid=$(cat "$1")
	if _dns_alive "$1"; then
		kill -CONT "$_sp_pid" 2>/dev/null	# a frozen daemon ignores TERM
		kill -TERM "$_sp_pid" 2>/dev/null
		_sp_n=0
		while _dns_alive "$1" && [ $_sp_n -lt 100 ]; do
			sleep 0.1
			_sp_n=$((_sp_n + 1))
		done
		if _dns_alive "$1"; then
			_dns_say "$2 (pid $_sp_pid) ignored SIGTERM for 10 s: SIGKILL"
			kill -KILL "$_sp_pid" 2>/dev/null
			sleep 0.2
		fi
	fi
	rm -f "$1"
}

# ---- the lab -----------------------------------------------------------

# dns_lab_start DIR [ZONE]: on failure it stops what it had started (the
# logs stay in DIR) and returns 1.
dns_lab_start() {
	_dns_lab_start "$@"
	case $? in
	0) return 0 ;;
	2) return 1 ;;	# somebody else's lab: leave it alone
	esac
	dns_lab_stop "$1" 2>/dev/null
	return 1
}

_dns_lab_start() {
	_ls_dir=${1:?usage: dns_lab_start DIR [ZONE]}
	_ls_zone=${2:-example.test}
	_ls_zone=${_ls_zone%.}
	_ls_ttl=${DNS_LAB_TTL:-5}
	_dns_path
	for _ls_c in named rndc tsig-keygen dnssec-dsfromkey unbound unbound-control dig; do
		command -v "$_ls_c" >/dev/null 2>&1 || { _dns_say "missing tool: $_ls_c"; return 1; }
	done
	for _ls_r in primary secondary unbound; do
		if _dns_alive "$_ls_dir/$_ls_r.pid"; then
			_dns_say "$_ls_dir: a lab is already running here ($_ls_r); dns_lab_stop it first"
			return 2
		fi
	done
	for _ls_a in 127.0.0.40 127.0.0.41 127.0.0.53; do
		# named listens only on addresses that are on an interface.
		if command -v ip >/dev/null 2>&1 &&
			! ip -4 -o addr show dev lo 2>/dev/null | grep -q " $_ls_a/"; then
			_dns_say "$_ls_a is not on lo: run inside the lab namespace (lab_netns)"
			return 1
		fi
		if command -v ss >/dev/null 2>&1 &&
			ss -Hlntu 2>/dev/null | awk '{ print $5 }' | grep -Eqx "($_ls_a|0\.0\.0\.0|\*):53"; then
			_dns_say "something already listens on $_ls_a port 53"
			return 1
		fi
	done
	# A fresh start: old keys, journals or a stale zone would not match.
	rm -rf "$_ls_dir/primary" "$_ls_dir/secondary" "$_ls_dir/unbound"
	mkdir -p "$_ls_dir/primary/keys" "$_ls_dir/secondary" "$_ls_dir/unbound" || return 1
	_ls_dir=$(cd "$_ls_dir" && pwd)

	cat > "$_ls_dir/dns.env" <<EOF
DNS_LAB_DIR='$_ls_dir'
DNS_PRIMARY=127.0.0.40
DNS_SECONDARY=127.0.0.41
DNS_RESOLVER=127.0.0.53
DNS_ZONE='$_ls_zone'
DNS_TSIG_KEY='$_ls_dir/tsig.key'
DNS_TSIG_KEY_384='$_ls_dir/tsig-384.key'
DNS_TSIG_KEY_512='$_ls_dir/tsig-512.key'
DNS_TRUST_ANCHOR='$_ls_dir/trust-anchor.key'
DNS_DS='$_ls_dir/ds.txt'
DNS_ZONE_KEYS='$_ls_dir/primary/keys'
export DNS_LAB_DIR DNS_PRIMARY DNS_SECONDARY DNS_RESOLVER DNS_ZONE
export DNS_TSIG_KEY DNS_TSIG_KEY_384 DNS_TSIG_KEY_512 DNS_TRUST_ANCHOR DNS_DS DNS_ZONE_KEYS
EOF
	. "$_ls_dir/dns.env"

	# Keys: TSIG for updates (0600), one for rndc.
	(
		umask 077
		tsig-keygen -a hmac-sha256 tlsa-update > "$_ls_dir/tsig.key" &&
		tsig-keygen -a hmac-sha384 tlsa-update-384 > "$_ls_dir/tsig-384.key" &&
		tsig-keygen -a hmac-sha512 tlsa-update-512 > "$_ls_dir/tsig-512.key" &&
		tsig-keygen -a hmac-sha256 lab-rndc > "$_ls_dir/rndc.key"
	) || { _dns_say "tsig-keygen failed"; return 1; }
	chmod 0600 "$_ls_dir/tsig.key" "$_ls_dir/tsig-384.key" "$_ls_dir/tsig-512.key" "$_ls_dir/rndc.key"
	cat > "$_ls_dir/rndc.conf" <<EOF
include "$_ls_dir/rndc.key";
options { default-key "lab-rndc"; default-server $DNS_PRIMARY; default-port 953; };
EOF

	cat > "$_ls_dir/primary/db.$DNS_ZONE" <<EOF
\$ORIGIN $DNS_ZONE.
\$TTL $_ls_ttl
@	SOA	ns1 hostmaster 1 3600 5 1209600 2
	NS	ns1
	NS	ns2
	MX	10 mx1
	MX	20 mx2
ns1	A	$DNS_PRIMARY
ns2	A	$DNS_SECONDARY
mx1	A	127.0.0.20
mx2	A	127.0.0.21
EOF

	{
		# allow-new-zones: dns_add_zone (rndc addzone) for child zones.
		_dns_named_options "$_ls_dir" primary "$DNS_PRIMARY" 'allow-new-zones yes;'
		cat <<EOF
include "$_ls_dir/tsig.key";
include "$_ls_dir/tsig-384.key";
include "$_ls_dir/tsig-512.key";
dnssec-policy "lab" {
	keys { csk lifetime unlimited algorithm ecdsap256sha256; };
	dnskey-ttl $_ls_ttl;
};
zone "$DNS_ZONE" {
	type primary;
	file "db.$DNS_ZONE";
	key-directory "$_ls_dir/primary/keys";
	dnssec-policy "lab";
	inline-signing yes;
	allow-update { key "tlsa-update"; key "tlsa-update-384"; key "tlsa-update-512"; };
	notify explicit;
	also-notify { $DNS_SECONDARY; };
	allow-transfer { any; };
	${DNS_LAB_ZONE_OPTIONS:-}
};
EOF
	} > "$_ls_dir/primary/named.conf"

	{
		_dns_named_options "$_ls_dir" secondary "$DNS_SECONDARY" 'notify no;'
		printf 'include "%s/secondary/zone.conf";\n' "$_ls_dir"
	} > "$_ls_dir/secondary/named.conf"
	_dns_secondary_zone "$_ls_dir" "$DNS_PRIMARY"

	for _ls_r in primary secondary; do
		named-checkconf "$_ls_dir/$_ls_r/named.conf" >&2 ||
			{ _dns_say "named-checkconf rejects $_ls_dir/$_ls_r/named.conf"; return 1; }
	done

	# Primary first, signed before anyone depends on it.
	_dns_start_named "$_ls_dir" primary "$DNS_PRIMARY" || return 1
	_dns_wait 20 "$_ls_dir/primary.pid" "$_ls_dir/primary/named.log" \
		"the primary to serve a signed DNSKEY" _dns_has_sig "$DNS_PRIMARY" "$DNS_ZONE." DNSKEY || return 1
	_dns_wait 20 "$_ls_dir/primary.pid" "$_ls_dir/primary/named.log" \
		"the primary to serve a signed SOA" _dns_has_sig "$DNS_PRIMARY" "$DNS_ZONE." SOA || return 1
	_dns_wait 20 "$_ls_dir/primary.pid" "$_ls_dir/primary/named.log" \
		"the primary to sign every RRset" _dns_fully_signed "$DNS_PRIMARY" || return 1

	_dns_start_named "$_ls_dir" secondary "$DNS_SECONDARY" || return 1
	_dns_wait 20 "$_ls_dir/secondary.pid" "$_ls_dir/secondary/named.log" \
		"the secondary to load the signed zone" _dns_has_sig "$DNS_SECONDARY" "$DNS_ZONE." DNSKEY || return 1
	dns_lab_sync_wait "$_ls_dir" 20 || return 1

	# Trust anchor and DS from what the primary serves.
	_dns_dig "$DNS_PRIMARY" +noall +answer +nosplit DNSKEY "$DNS_ZONE." |
		awk '$4 == "DNSKEY"' > "$_ls_dir/trust-anchor.key"
	if ! [ -s "$_ls_dir/trust-anchor.key" ]; then
		_dns_fail "could not fetch the DNSKEY of $DNS_ZONE" "$_ls_dir/primary/named.log"
		return 1
	fi
	dnssec-dsfromkey -a SHA-256 -f "$_ls_dir/trust-anchor.key" "$DNS_ZONE." > "$_ls_dir/ds.txt"
	if ! [ -s "$_ls_dir/ds.txt" ]; then
		_dns_say "dnssec-dsfromkey made no DS from $_ls_dir/trust-anchor.key"
		return 1
	fi

	cat > "$_ls_dir/unbound/unbound.conf" <<EOF
server:
	interface: $DNS_RESOLVER
	port: 53
	do-ip6: no
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: "$_ls_dir/unbound"
	pidfile: "$_ls_dir/unbound/unbound.pid"
	logfile: ""
	use-syslog: no
	verbosity: 1
	val-log-level: 2
	log-servfail: yes
	num-threads: 1
	so-reuseport: no
	do-not-query-localhost: no
	local-zone: "test." nodefault
	trust-anchor-file: "$_ls_dir/trust-anchor.key"
	cache-max-ttl: $_ls_ttl
	cache-max-negative-ttl: 2
	infra-keep-probing: yes
	infra-host-ttl: 10
	module-config: "validator iterator"
remote-control:
	control-enable: yes
	control-interface: "$_ls_dir/unbound/control.sock"
stub-zone:
	name: "$DNS_ZONE."
	stub-addr: $DNS_PRIMARY
	stub-addr: $DNS_SECONDARY
EOF
	unbound-checkconf "$_ls_dir/unbound/unbound.conf" >/dev/null ||
		{ unbound-checkconf "$_ls_dir/unbound/unbound.conf" >&2; _dns_say "unbound-checkconf failed"; return 1; }
	rm -f "$_ls_dir/unbound.pid"
	unbound -d -c "$_ls_dir/unbound/unbound.conf" > "$_ls_dir/unbound/unbound.log" 2>&1 &
	echo $! > "$_ls_dir/unbound.pid"
	_dns_wait 15 "$_ls_dir/unbound.pid" "$_ls_dir/unbound/unbound.log" \
		"Unbound to validate $DNS_ZONE SOA (AD flag)" _dns_resolver_ad "$DNS_ZONE." SOA || return 1

	printf '# dns lab: zone %s primary %s secondary %s resolver %s (dir %s)\n' \
		"$DNS_ZONE" "$DNS_PRIMARY" "$DNS_SECONDARY" "$DNS_RESOLVER" "$_ls_dir"
	return 0
}

dns_lab_stop() {
	_st_dir=${1:?usage: dns_lab_stop DIR}
	_dns_stop_pid "$_st_dir/unbound.pid" unbound
	_dns_stop_pid "$_st_dir/secondary.pid" "named (secondary)"
	_dns_stop_pid "$_st_dir/primary.pid" "named (primary)"
	! _dns_alive "$_st_dir/primary.pid" && ! _dns_alive "$_st_dir/secondary.pid" &&
		! _dns_alive "$_st_dir/unbound.pid"
}

dns_lab_sync_wait() {
	_dns_load "${1:?usage: dns_lab_sync_wait DIR [SECS]}" || return 1
	_dns_wait "${2:-20}" "$1/secondary.pid" "$1/secondary/named.log" \
		"the secondary to serve the primary's serial $(dns_serial "$DNS_PRIMARY" "$DNS_ZONE")" \
		_dns_same_serial
}

dns_lab_sign_wait() {
	_dns_load "${1:?usage: dns_lab_sign_wait DIR NAME TYPE [SECS]}" || return 1
	_dns_wait "${4:-20}" "$1/primary.pid" "$1/primary/named.log" \
		"the primary to serve $2 $3 with an RRSIG" _dns_has_sig "$DNS_PRIMARY" "$2" "$3"
}

# Lag: point the secondary's zone at an address where nothing listens
# (127.0.0.99:53) and reconfigure.  It keeps serving the zone it has (expire
# is 14 days), refuses the primary's NOTIFY ("refused notify from
# non-primary") and its refreshes fail, so it serves the old RRsets.
dns_secondary_pause() {
	_dns_load "${1:?usage: dns_secondary_pause DIR}" || return 1
	_dns_secondary_zone "$1" 127.0.0.99
	_dns_rndc_raw "$1" "$DNS_SECONDARY" reconfig >/dev/null ||
		{ _dns_fail "rndc reconfig of the secondary failed" "$1/secondary/named.log"; return 1; }
}

dns_secondary_resume() {
	_dns_load "${1:?usage: dns_secondary_resume DIR}" || return 1
	_dns_secondary_zone "$1" "$DNS_PRIMARY"
	if ! _dns_rndc_raw "$1" "$DNS_SECONDARY" reconfig >/dev/null ||
		! _dns_rndc_raw "$1" "$DNS_SECONDARY" refresh "$DNS_ZONE" >/dev/null; then
		_dns_fail "rndc reconfig/refresh of the secondary failed" "$1/secondary/named.log"
		return 1
	fi
}

dns_secondary_freeze() {
	_dns_alive "${1:?usage: dns_secondary_freeze DIR}/secondary.pid" ||
		{ _dns_say "secondary is not running"; return 1; }
	kill -STOP "$(cat "$1/secondary.pid")"
}

dns_secondary_thaw() {
	_dns_alive "${1:?usage: dns_secondary_thaw DIR}/secondary.pid" ||
		{ _dns_say "secondary is not running"; return 1; }
	kill -CONT "$(cat "$1/secondary.pid")"
}

dns_serial() {	# ADDR [ZONE]
	_se_z=${2:-${DNS_ZONE:-example.test}}
	_dns_dig "$1" +short SOA "${_se_z%.}." 2>/dev/null | awk 'NF == 7 { print $3; exit }'
}

dns_rdata() {	# ADDR NAME TYPE: no recursion except at the resolver
	if [ "$1" = "${DNS_RESOLVER:-127.0.0.53}" ]; then
		dig @"$1" -p 53 +time=1 +tries=1 +short +nosplit "$2" "$3"
	else
		_dns_dig "$1" +short +nosplit "$2" "$3"
	fi | sort
}

# dns_rdata_wait ADDR NAME TYPE WANT [SECS]: until dns_rdata prints WANT
# (lines joined by newlines; empty: no records).  An update is applied to
# the signed zone asynchronously (inline-signing), so poll after nsupdate.
dns_rdata_wait() {
	_rw_secs=${5:-10}
	_rw_end=$(($(date +%s) + _rw_secs))
	_rw_n=0
	while :; do
		_rw_got=$(dns_rdata "$1" "$2" "$3")
		[ "$_rw_got" = "$4" ] && return 0
		_rw_n=$((_rw_n + 1))
		if [ "$_rw_n" -ge $((_rw_secs * 10)) ] || [ "$(date +%s)" -ge "$_rw_end" ]; then
			_dns_say "gave up after ${_rw_secs}s ($_rw_n tries) waiting for $1 to serve $2 $3: got '$_rw_got', want '$4'"
			return 1
		fi
		sleep 0.1
	done
}

dns_update() {	# DIR [KEYFILE] < commands
	_dns_load "${1:?usage: dns_update DIR [KEYFILE]}" || return 1
	{
		printf 'server %s 53\nzone %s.\n' "$DNS_PRIMARY" "$DNS_ZONE"
		cat
		printf 'send\n'
	} | nsupdate -t 5 -k "${2:-$DNS_TSIG_KEY}"
}

dns_rndc() {	# DIR primary|secondary args...
	_dns_load "${1:?usage: dns_rndc DIR primary|secondary ARGS...}" || return 1
	_rn_dir=$1
	case ${2:-} in
	primary) _rn_addr=$DNS_PRIMARY ;;
	secondary) _rn_addr=$DNS_SECONDARY ;;
	*) _dns_say "dns_rndc: say primary or secondary"; return 1 ;;
	esac
	shift 2
	_dns_rndc_raw "$_rn_dir" "$_rn_addr" "$@"
}

dns_resolver_flush() {	# DIR [NAME]
	_dns_load "${1:?usage: dns_resolver_flush DIR [NAME]}" || return 1
	if [ -n "${2:-}" ]; then
		unbound-control -c "$1/unbound/unbound.conf" flush_zone "$2" >/dev/null
	else
		unbound-control -c "$1/unbound/unbound.conf" flush_zone . >/dev/null &&
			unbound-control -c "$1/unbound/unbound.conf" flush_infra all >/dev/null
	fi
}

dns_add_zone() {	# DIR NAME FILE
	_dns_load "${1:?usage: dns_add_zone DIR NAME FILE}" || return 1
	_az_name=${2:?usage: dns_add_zone DIR NAME FILE}
	_az_name=${_az_name%.}
	case ${3:?usage: dns_add_zone DIR NAME FILE} in
	/*) ;;
	*) _dns_say "dns_add_zone: $3: give an absolute path"; return 1 ;;
	esac
	named-checkzone -q "$_az_name" "$3" ||
		{ named-checkzone "$_az_name" "$3" >&2; _dns_say "named-checkzone rejects $3"; return 1; }
	_dns_rndc_raw "$1" "$DNS_PRIMARY" addzone "$_az_name" \
		"{ type primary; file \"$3\"; };" >/dev/null ||
		{ _dns_fail "rndc addzone $_az_name failed" "$1/primary/named.log"; return 1; }
	_dns_wait 10 "$1/primary.pid" "$1/primary/named.log" "the primary to serve $_az_name" \
		_dns_serves_aa "$DNS_PRIMARY" "$_az_name."
}

_dns_serves_aa() {	# ADDR NAME: an authoritative SOA answer for NAME
	_dns_dig "$1" SOA "$2" 2>/dev/null | grep -Eq '^;; flags:[^;]* aa[ ;].*ANSWER: [1-9]'
}
