#!/bin/sh
# shellcheck disable=SC1091 # lib.sh, dns.sh and certs.sh are found at run time
# check benchmark: tlsa-rollover check over many lab MX endpoints in one
# run, against a sequential loop of an existing checker (Postfix's
# posttls-finger -l dane) over the same endpoints. Root: it runs in a
# private network namespace with the DNS lab (tests/lab/dns.sh) and one
# Postfix instance (tests/lab/postfix.sh) listening on BENCH_N loopback
# addresses, each greeting 1 s after the connect (smtpd_client_restrictions
# = sleep 1, smtpd_delay_reject = no), each with A and TLSA 3 1 1 records.
#
# Like the other benchmarks it prints figures and whether the target
# holds, and does not fail because a machine is slow: exit 1 only when it
# cannot run, a command fails, or a verdict is wrong (a check that does
# not find every endpoint OK, a posttls-finger run that does not verify).
# See tests/bench/README.
#
# Environment (all optional):
#   TLSA_ROLLOVER   the binary (default: build/tlsa-rollover)
#   TLSAGEN         tlsagen, for the TLSA records (default: build/tlsagen)
#   BENCH_N         endpoints (default 100, at most 250): 127.0.1.1..N,
#                   names hN.example.test
#   BENCH_REPS      timed runs of each check variant; the median is
#                   reported (default 3)
#   BENCH_DELAY     greeting delay in seconds (default 1)
#   BENCH_PEER      "posttls-finger" (default) or "none" (skip the loop)
. "$(dirname "$0")/../lib.sh"
lab_netns "$@"
set -u

: "${TLSA_ROLLOVER:=$TOP/build/tlsa-rollover}"
N=${BENCH_N:-100}
REPS=${BENCH_REPS:-3}
DELAY=${BENCH_DELAY:-1}
PEER=${BENCH_PEER:-posttls-finger}
R=$TLSA_ROLLOVER
T=$TLSAGEN
Z=example.test

die() { echo "check-bench: $*" >&2; exit 1; }
note() { echo "# $*"; }

# shellcheck disable=SC2154 # val is set by eval
for v in N REPS DELAY; do
	eval "val=\$$v"
	case $val in
	'' | *[!0-9]*) die "BENCH_$v must be a positive integer (got '$val')" ;;
	esac
done
[ "$N" -ge 1 ] && [ "$N" -le 250 ] || die "BENCH_N: from 1 to 250"
[ "$REPS" -ge 1 ] || die "BENCH_REPS must be positive"
[ -x "$R" ] || die "no tlsa-rollover at $R (build it, or set TLSA_ROLLOVER)"
[ -x "$T" ] || die "no tlsagen at $T (build it, or set TLSAGEN)"
PATH=$PATH:/usr/sbin:/sbin
export PATH
for c in named unbound postfix nsupdate dig openssl python3 ip; do
	command -v "$c" >/dev/null 2>&1 || die "$c is missing (tests/lab/install-deps.sh)"
done
case $PEER in
posttls-finger) command -v posttls-finger >/dev/null 2>&1 || die "posttls-finger is missing (postfix)" ;;
none) ;;
*) die "BENCH_PEER: posttls-finger or none" ;;
esac

case $(date +%s%N) in
*[!0-9]*) now_ns() { python3 -c 'import time; print(time.time_ns())'; } ;;
*) now_ns() { date +%s%N; } ;;
esac
ms_since() { echo $((($(now_ns) - $1) / 1000000)); }
secs() { awk -v ms="$1" 'BEGIN { printf "%.2f", ms / 1000 }'; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
T0=$(now_ns)

# ---- the lab -----------------------------------------------------------------
i=1
while [ $i -le "$N" ]; do echo "addr add 127.0.1.$i/32 dev lo"; i=$((i + 1)); done > "$WORK/ip.batch"
ip -batch "$WORK/ip.batch" || die "cannot add 127.0.1.1-$N to lo"
chmod 711 "$WORK"
. "$TOP/tests/lab/dns.sh"
. "$TOP/tests/lab/certs.sh"
DNS_LAB_TTL=300 dns_lab_start "$WORK/dns" > /dev/null || die "DNS lab"
at_exit "dns_lab_stop '$WORK/dns'"
P=$WORK/pki
certs_ca "$P" && certs_leaf "$P" E ec "h1.$Z" || die "certificates"

SERVICES=""
HOSTS=""
i=1
while [ $i -le "$N" ]; do
	SERVICES="$SERVICES 127.0.1.$i=$P/E.key,$P/E.chain.pem"
	HOSTS="$HOSTS h$i.$Z"
	i=$((i + 1))
done
MAIN='smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_exclude_ciphers = kRSA'
[ "$DELAY" -gt 0 ] && MAIN="$MAIN
smtpd_client_restrictions = sleep $DELAY
smtpd_delay_reject = no"
ms0=$(now_ns)
# shellcheck disable=SC2086
POSTFIX_LAB_MAIN=$MAIN POSTFIX_LAB_MAXPROC=50 sh "$TOP/tests/lab/postfix.sh" start "$WORK/mx" $SERVICES ||
	die "Postfix on $N addresses"
at_exit "sh '$TOP/tests/lab/postfix.sh' stop '$WORK/mx'"
note "Postfix up on $N addresses in $(secs "$(ms_since "$ms0")") s"

REC=$("$T" "$P/E.pem" | awk '{ print $(NF - 3), $(NF - 2), $(NF - 1), $NF }')
{
	i=1
	while [ $i -le "$N" ]; do
		echo "update add h$i.$Z 300 A 127.0.1.$i"
		echo "update add _25._tcp.h$i.$Z 300 TLSA $REC"
		i=$((i + 1))
	done
} | dns_update "$WORK/dns" > "$WORK/nsupdate.out" 2>&1 || die "nsupdate: $(cat "$WORK/nsupdate.out")"
dns_rdata_wait "$DNS_PRIMARY" "_25._tcp.h$N.$Z" TLSA "$(echo "$REC" | tr a-f A-F)" 30 ||
	die "the primary does not serve the records"
dns_lab_sync_wait "$WORK/dns" 30 || die "the secondary did not catch up"

# The greeting delay, measured.
GREET=$(python3 - <<'EOF'
import socket, time
t = time.monotonic()
s = socket.create_connection(("127.0.1.1", 25), timeout=10)
line = s.recv(512)
print("%.3f %s" % (time.monotonic() - t, line.split(b"\r\n")[0].decode("ascii", "replace")))
EOF
) || die "no greeting from 127.0.1.1"
note "greeting after ${GREET%% *} s: ${GREET#* }"

# ---- the check ---------------------------------------------------------------
# run_check LABEL ARGS...: one timed run; dies unless every endpoint is OK.
run_check() {
	_label=$1
	shift
	_t=$(now_ns)
	# shellcheck disable=SC2086
	"$R" check "$@" --host $HOSTS > "$WORK/check.out" 2> "$WORK/check.err"
	_rc=$?
	_ms=$(ms_since "$_t")
	_l1=$(head -n 1 "$WORK/check.out")
	if [ "$_rc" -ne 0 ] ||
		! printf '%s\n' "$_l1" | grep -q "^DANE OK - .* hosts=$N addresses=$N certificates=$N ok=$N warning=0 critical=0 unknown=0 "; then
		echo "check-bench: $_label: not every endpoint OK (exit $_rc):" >&2
		head -n 1 "$WORK/check.out" >&2
		sed -n '/^details:/,$p' "$WORK/check.out" | head -n 20 >&2
		cat "$WORK/check.err" >&2
		exit 1
	fi
	echo "$_ms"
}

# Warm-up (untimed): Postfix spawns its smtpd processes, Unbound fills
# its cache.
run_check warm-up > /dev/null || exit 1
ONE=""
DEF=""
OFF=""
WIDE=""
k=1
while [ $k -le "$REPS" ]; do
	# One endpoint alone: the floor for the whole run.
	_t=$(now_ns)
	"$R" check --host "h1.$Z" > "$WORK/one.out" 2>&1 || die "h1 alone: $(head -n 1 "$WORK/one.out")"
	ONE="$ONE $(ms_since "$_t")"
	DEF="$DEF $(run_check default)" || exit 1
	OFF="$OFF $(run_check "--hygiene off" --hygiene off)" || exit 1
	WIDE="$WIDE $(run_check "--jobs 1024" --jobs 1024)" || exit 1
	k=$((k + 1))
done
ONE_M=$(echo "$ONE" | median)
DEF_M=$(echo "$DEF" | median)
OFF_M=$(echo "$OFF" | median)
WIDE_M=$(echo "$WIDE" | median)

# ---- the sequential loop of an existing checker --------------------------------
PEER_MS=""
if [ "$PEER" = posttls-finger ]; then
	_t=$(now_ns)
	bad=0
	for h in $HOSTS; do
		MAIL_CONFIG=$WORK/mx/etc posttls-finger -c -t30 -l dane "[$h]:25" > "$WORK/ptf.out" 2>&1
		if ! grep -q 'Verified TLS connection established' "$WORK/ptf.out"; then
			bad=$((bad + 1))
			[ $bad -le 3 ] && { echo "check-bench: posttls-finger does not verify $h:" >&2; cat "$WORK/ptf.out" >&2; }
		fi
	done
	PEER_MS=$(ms_since "$_t")
	[ $bad -eq 0 ] || die "posttls-finger did not verify $bad of $N endpoints"
fi

# ---- report --------------------------------------------------------------------
echo
echo "tlsa-rollover check: $N endpoints, greeting delay $DELAY s, median of $REPS runs"
echo "(every run: all $N OK; timed from exec to exit)"
printf '  %-44s %8s %s\n' "run" "wall s" "all runs (ms)"
printf '  %-44s %8s %s\n' "check --host h1 (one endpoint)" "$(secs "$ONE_M")" "$ONE"
printf '  %-44s %8s %s\n' "check --host h1..h$N (default: --jobs 512)" "$(secs "$DEF_M")" "$DEF"
printf '  %-44s %8s %s\n' "check --hygiene off --host h1..h$N" "$(secs "$OFF_M")" "$OFF"
printf '  %-44s %8s %s\n' "check --jobs 1024 --host h1..h$N" "$(secs "$WIDE_M")" "$WIDE"
if [ -n "$PEER_MS" ]; then
	printf '  %-44s %8s\n' "posttls-finger -l dane, sequential, $N hosts" "$(secs "$PEER_MS")"
	echo
	awk -v p="$PEER_MS" -v d="$DEF_M" -v o="$OFF_M" 'BEGIN {
		printf "ratio posttls-finger loop / check (default):      %.1fx\n", p / d
		printf "ratio posttls-finger loop / check (hygiene off):  %.1fx\n", p / o
	}'
fi
awk -v d="$DEF_M" -v one="$ONE_M" 'BEGIN {
	printf "check (default) / slowest single endpoint:        %.2fx\n", d / one }'
echo
if [ "$N" -eq 100 ] && [ "$DELAY" -eq 1 ]; then
	if [ "$DEF_M" -lt 3000 ]; then
		echo "target (100 endpoints, 1 s greeting, default options, under 3 s): met ($(secs "$DEF_M") s)"
	else
		echo "target (100 endpoints, 1 s greeting, default options, under 3 s): NOT met ($(secs "$DEF_M") s)"
	fi
	if [ "$OFF_M" -lt 3000 ]; then
		echo "target with --hygiene off: met ($(secs "$OFF_M") s)"
	else
		echo "target with --hygiene off: NOT met ($(secs "$OFF_M") s)"
	fi
else
	echo "target (100 endpoints, 1 s greeting, under 3 s): not judged for N=$N, delay $DELAY s"
fi
note "total $(secs "$(ms_since "$T0")") s"
