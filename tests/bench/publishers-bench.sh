#!/bin/sh
# shellcheck disable=SC1091 # lib.sh and the lab scripts are found at run time
# publishers benchmark: tlsa-rollover's three publishers (dns.backend
# rfc2136, pdns-api, exec with hooks/tlsa-publish-pdns) each putting
# BENCH_N (1000) TLSA RRsets into one PowerDNS server, against an
# nsupdate script that adds the same records to the same server, in one
# run, printed as ratios.  Root: it re-executes itself in a private
# network namespace (lab_netns in tests/lib.sh) and starts PowerDNS
# (gsqlite3, online signing, RFC 2136 with TSIG and the HTTP API) with
# tests/lab/primaries.sh, which it stops at exit.
#
# Like the other benchmarks it is not a test: it prints a table, the
# ratios, and exits 0 however slow the machine is; exit 1 only when it
# cannot run, a command fails, or a result is wrong (after every timed
# run the zone must hold exactly BENCH_N TLSA RRsets, checked by AXFR).
#
# What is timed, each method once a round, the order rotated every round,
# after an untimed warm-up, with the zone emptied (untimed) before each:
#   (n) nsupdate -k KEY SCRIPT: BENCH_N "update add" lines, a send every
#       400 (one message must stay under 64 KiB); no reads, no guard
#   (r) tlsa-rollover -f CONF publish mx, dns.backend rfc2136: the first
#       publish of a service with BENCH_N hosts: every owner read
#       (adoption), one guarded update in as few messages as fit, every
#       changed owner read back
#   (a) the same with dns.backend pdns-api (libcurl, a GET before and
#       after each owner's PATCH)
#   (e) the same with dns.backend exec and hooks/tlsa-publish-pdns
#       (python3, the same API calls through the line protocol)
# The certificate is one wildcard leaf (*.bench.test) whose 3 1 1 record
# every owner gets; the service's records are ["3 1 1"].
#
# Environment (all optional): TLSA_ROLLOVER (default build/tlsa-rollover),
# BENCH_N (1000), BENCH_ROUNDS (3).
. "$(dirname "$0")/../lib.sh"
lab_netns "$@"
set -eu

: "${TLSA_ROLLOVER:=$TOP/build/tlsa-rollover}"
case $TLSA_ROLLOVER in /*) ;; *) TLSA_ROLLOVER=$(pwd)/$TLSA_ROLLOVER ;; esac
R=$TLSA_ROLLOVER
N=${BENCH_N:-1000}
ROUNDS=${BENCH_ROUNDS:-3}
ZONE=bench.test
PD=127.0.0.44
API=http://$PD:8081

die() { echo "publishers-bench: $*" >&2; exit 1; }
note() { echo "# $*"; }
for v in "$N" "$ROUNDS"; do
	case $v in ''|*[!0-9]*) die "BENCH_N and BENCH_ROUNDS must be positive integers" ;; esac
	[ "$v" -gt 0 ] || die "BENCH_N and BENCH_ROUNDS must be positive"
done
[ "$N" -le 9999 ] || die "at most 9999 hosts"
[ -x "$R" ] || die "no tlsa-rollover at $R (build it, or set TLSA_ROLLOVER)"
PATH=$PATH:/usr/sbin:/sbin
export PATH
for c in pdns_server pdnsutil nsupdate dig openssl python3 tsig-keygen; do
	command -v "$c" >/dev/null 2>&1 || die "$c is missing (tests/lab/install-deps.sh)"
done
. "$TOP/tests/lab/primaries.sh"
. "$TOP/tests/lab/certs.sh"
chmod 711 "$WORK"

# ---- the server --------------------------------------------------------------
(umask 077 && tsig-keygen -a hmac-sha256 tlsa-update > "$WORK/tsig.key" &&
	printf 'bench-api-key-%s\n' "$$" > "$WORK/api.key") || die "keys"
cat > "$WORK/zone" <<EOF
\$ORIGIN $ZONE.
\$TTL 300
@	SOA	ns1 hostmaster 1 3600 300 1209600 300
	NS	ns1
ns1	A	$PD
EOF
PDNS_LAB_API_KEY=$(cat "$WORK/api.key") pdns_start "$WORK/pdns" $PD $ZONE "$WORK/zone" "$WORK/tsig.key" ||
	die "PowerDNS did not start"
at_exit "primary_stop '$WORK/pdns'"

# ---- the certificate, the hosts, the expected records -------------------------
certs_ca "$WORK/pki" >/dev/null || die "CA"
certs_leaf "$WORK/pki" W ec "*.$ZONE" >/dev/null || die "wildcard leaf"
HEX=$(openssl x509 -in "$WORK/pki/W.pem" -noout -pubkey | openssl pkey -pubin -outform DER |
	openssl dgst -sha256 -r | cut -d' ' -f1)
HOSTS=$(awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) printf "%smx%04d.%s", (i > 1 ? ", " : ""), i, "'"$ZONE"'" }')
awk -v n="$N" -v z="$ZONE" -v hex="$HEX" 'BEGIN {
	print "server '"$PD"'"; print "zone " z
	for (i = 1; i <= n; i++) {
		printf "update add _25._tcp.mx%04d.%s. 300 TLSA 3 1 1 %s\n", i, z, hex
		if (i % 400 == 0 || i == n) print "send"
	}
}' > "$WORK/add.nsupdate"
awk -v n="$N" -v z="$ZONE" 'BEGIN {
	print "server '"$PD"'"; print "zone " z
	for (i = 1; i <= n; i++) {
		printf "update delete _25._tcp.mx%04d.%s. TLSA\n", i, z
		if (i % 400 == 0 || i == n) print "send"
	}
}' > "$WORK/del.nsupdate"

HOOK=$WORK/tlsa-publish-pdns
cp "$TOP/hooks/tlsa-publish-pdns" "$HOOK" && chmod 755 "$HOOK" || die "hook"
mkdir -p "$WORK/deploy" && chmod 755 "$WORK/deploy"
# conf NAME BACKEND-LINES: the configuration of method NAME
conf() {
	cat > "$WORK/$1.yaml" <<YAML
state_dir: $WORK/state-$1
dns:
  zone: $ZONE
$2
  check_servers: [$PD]
  resolver: $PD
  ttl: 300
services:
  - name: mx
    hosts: [$HOSTS]
    records: ["3 1 1"]
    deploy_dir: $WORK/deploy
YAML
}
conf r "  primary: $PD
  tsig_key_file: $WORK/tsig.key"
conf a "  backend: pdns-api
  api_url: $API
  api_key_file: $WORK/api.key"
conf e "  backend: exec
  exec: [$HOOK, $API, $WORK/api.key]
  exec_timeout: 60s"

# ---- helpers -------------------------------------------------------------------
now_ms() { date +%s%3N; }
tlsa_count() {
	dig @$PD +tcp +noall +answer AXFR $ZONE | awk '$4 == "TLSA"' | sort -u | wc -l
}
empty_zone() {
	nsupdate -k "$WORK/tsig.key" "$WORK/del.nsupdate" || die "emptying the zone failed"
	[ "$(tlsa_count)" -eq 0 ] || die "the zone still holds TLSA records after emptying it"
}
# prepare M: a fresh state with the certificate imported (untimed)
prepare() {
	case $1 in n) return 0 ;; esac
	rm -rf "$WORK/state-$1"
	"$R" -f "$WORK/$1.yaml" import mx "$WORK/pki/W.chain.pem" "$WORK/pki/W.key" > "$WORK/import.out" 2>&1 ||
		die "import ($1) failed: $(tail -n 3 "$WORK/import.out")"
}
# timed M: run method M once; prints its wall time in ms
timed() {
	_t0=$(now_ms)
	case $1 in
	n) nsupdate -k "$WORK/tsig.key" "$WORK/add.nsupdate" > "$WORK/out" 2>&1 ;;
	*) "$R" -f "$WORK/$1.yaml" publish mx > "$WORK/out" 2>&1 ;;
	esac || die "method $1 failed: $(tail -n 3 "$WORK/out")"
	_t1=$(now_ms)
	_got=$(tlsa_count)
	[ "$_got" -eq "$N" ] || die "method $1: the zone holds $_got TLSA RRsets, not $N"
	dig @$PD +short "_25._tcp.mx$(printf %04d "$N").$ZONE" TLSA | tr -d ' ' | tr A-F a-f |
		grep -q "^311$HEX\$" || die "method $1: the last owner does not hold the record"
	echo $((_t1 - _t0))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

METHODS="n r a e"
note "PowerDNS $(pdns_server --version 2>&1 | sed -n 's/.*PowerDNS Authoritative Server \([^ ]*\).*/\1/p' | head -n 1) on $PD, $N TLSA RRsets, $ROUNDS rounds"
note "warm-up"
for m in $METHODS; do
	empty_zone; prepare "$m"; timed "$m" > /dev/null
done
round=0
order=$METHODS
while [ $round -lt "$ROUNDS" ]; do
	for m in $order; do
		empty_zone; prepare "$m"
		t=$(timed "$m")
		echo "$t" >> "$WORK/t.$m"
		note "round $((round + 1)) $m: $t ms"
	done
	# rotate the order
	order="$(echo "$order" | cut -d' ' -f2-) $(echo "$order" | cut -d' ' -f1)"
	round=$((round + 1))
done

name() {
	case $1 in
	n) echo "nsupdate script (no guard)" ;;
	r) echo "tlsa-rollover rfc2136" ;;
	a) echo "tlsa-rollover pdns-api" ;;
	e) echo "tlsa-rollover exec (adapter)" ;;
	esac
}
base=$(median < "$WORK/t.n")
printf '\n%-32s %10s %10s %10s %8s\n' "method ($N RRsets)" "median ms" "min ms" "max ms" "/ nsupdate"
for m in $METHODS; do
	med=$(median < "$WORK/t.$m")
	min=$(sort -n "$WORK/t.$m" | head -n 1)
	max=$(sort -n "$WORK/t.$m" | tail -n 1)
	printf '%-32s %10s %10s %10s %8s\n' "$(name "$m")" "$med" "$min" "$max" \
		"$(awk -v a="$med" -v b="$base" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
done
echo
note "tlsa-rollover's figures include what nsupdate does not do: the read of every owner"
note "(adoption), the compare-and-swap guard, and the read-back of every changed owner."
