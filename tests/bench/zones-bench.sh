#!/bin/sh
# shellcheck disable=SC2086 # $PUB_FILES / $SIGN_FILES split into arguments on purpose
# shellcheck disable=SC2154 # p_* and s_* are set by eval
# shellcheck disable=SC1091 # lib.sh and dns.sh are found at run time
# zones benchmark: publishing TLSA RRsets with tlsagen's direct RFC 2136
# update against an nsupdate script, and signing a TLSA fragment with
# tlsagen -f signed against ldns-signzone. Root: it runs in a private
# network namespace with the DNS lab (tests/lab/dns.sh).
#
# Like tlsagen-bench.sh it prints a table, ratios and whether the targets
# hold, and does not fail because a machine is slow: exit 1 only when it
# cannot run, when a command fails, or when a result is wrong (the primary
# does not serve exactly the records, or tlsagen's signatures do not
# validate). See tests/bench/README.
#
# Environment (all optional):
#   TLSAGEN              tlsagen binary (default: build/tlsagen)
#   BENCH_DIR            certificate cache shared with tlsagen-bench.sh
#                        (mxNNNNN.pem, SAN mxNNNNN.bench.test; default
#                        /tmp/tlsagen-bench); missing ones are generated
#   BENCH_PUB_N          services published in (1) (default 1000)
#   BENCH_PUB_ROUNDS     rounds of (1), every method once a round (default 5)
#   BENCH_SIGN_N         RRsets signed in (2) (default 10000)
#   BENCH_SIGN_ROUNDS    rounds of (2) (default 5)
#   BENCH_WAIT           seconds to wait for the primary to serve a change
#                        (default 120)
#   BENCH_PYTHON         python3 for certificate generation (default
#                        /usr/bin/python3)
#   BENCH_PARTS          which parts to run: "1", "2" or "1 2" (default)
. "$(dirname "$0")/../lib.sh"
lab_netns "$@"
set -eu

case $TLSAGEN in /*) ;; *) TLSAGEN=$(pwd)/$TLSAGEN ;; esac
DIR=${BENCH_DIR:-/tmp/tlsagen-bench}
PUB_N=${BENCH_PUB_N:-1000}
PUB_ROUNDS=${BENCH_PUB_ROUNDS:-5}
SIGN_N=${BENCH_SIGN_N:-10000}
SIGN_ROUNDS=${BENCH_SIGN_ROUNDS:-5}
WAIT=${BENCH_WAIT:-120}
PY=${BENCH_PYTHON:-/usr/bin/python3}
PARTS=${BENCH_PARTS:-1 2}
ZONE=bench.test

die() { echo "zones-bench: $*" >&2; exit 1; }
note() { echo "# $*"; }
part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

# shellcheck disable=SC2154 # val is set by eval
for v in PUB_N PUB_ROUNDS SIGN_N SIGN_ROUNDS WAIT; do
	eval "val=\$$v"
	case $val in
	''|*[!0-9]*) die "$v must be a positive integer (got '$val')" ;;
	esac
	[ "$val" -gt 0 ] || die "$v must be positive"
done
if [ "$PUB_N" -gt 99999 ] || [ "$SIGN_N" -gt 99999 ]; then die "at most 99999 certificates"; fi
[ -x "$TLSAGEN" ] || die "no tlsagen at $TLSAGEN (build it, or set TLSAGEN)"
PATH=$PATH:/usr/sbin:/sbin
export PATH
for c in named nsupdate dig dnssec-keygen ldns-signzone ldns-verify-zone openssl; do
	command -v "$c" >/dev/null 2>&1 || die "$c is missing (tests/lab/install-deps.sh)"
done
[ -x "$PY" ] || PY=$(command -v python3) || die "python3 is needed"

# Nanoseconds since some point; GNU date, else python.
case $(date +%s%N) in
*[!0-9]*) now_ns() { "$PY" -c 'import time; print(time.time_ns())'; } ;;
*) now_ns() { date +%s%N; } ;;
esac
ms_since() { echo $((($(now_ns) - $1) / 1000000)); }
T0=$(now_ns)

# ---------------------------------------------------------------------------
# Certificates: the cache of tlsagen-bench.sh (same layout and .count
# protocol, so either script fills it for the other): an EC P-256 CA and
# leaves $DIR/certs/mxNNNNN.pem, each with its own P-256 key and the SAN
# dNSName mxNNNNN.bench.test, which tlsagen takes as the owner's host.
NEED=$PUB_N
[ "$SIGN_N" -gt "$NEED" ] && NEED=$SIGN_N
CERTS=$DIR/certs
mkdir -p "$CERTS"
have=0
[ -f "$CERTS/.count" ] && have=$(cat "$CERTS/.count")
case $have in ''|*[!0-9]*) have=0 ;; esac
if [ ! -f "$DIR/ca.key" ] || [ ! -f "$DIR/ca.pem" ]; then
	have=0
	openssl ecparam -name prime256v1 -genkey -noout -out "$DIR/ca.key.tmp"
	openssl req -new -x509 -key "$DIR/ca.key.tmp" -subj "/CN=tlsagen bench CA" \
	    -days 3650 -addext basicConstraints=critical,CA:TRUE \
	    -out "$DIR/ca.pem.tmp" 2>/dev/null
	mv "$DIR/ca.key.tmp" "$DIR/ca.key"
	mv "$DIR/ca.pem.tmp" "$DIR/ca.pem"
fi
NPROC=$(nproc 2>/dev/null || echo 2)
if [ "$have" -lt "$NEED" ]; then
	g0=$(now_ns)
	if "$PY" -c 'import cryptography' 2>/dev/null; then
		how="python3-cryptography, $NPROC processes"
		"$PY" - "$DIR/ca.key" "$DIR/ca.pem" "$CERTS" $((have + 1)) "$NEED" "$NPROC" <<'EOF'
import datetime, os, sys
from multiprocessing import Pool
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

cakey_f, cacert_f, out, first, last, nproc = sys.argv[1:7]
cakey = serialization.load_pem_private_key(open(cakey_f, "rb").read(), None)
cacert = x509.load_pem_x509_certificate(open(cacert_f, "rb").read())
now = datetime.datetime.now(datetime.timezone.utc)

def make(rng):
    for i in range(*rng):
        name = "mx%05d" % i
        host = name + ".bench.test"
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
                .issuer_name(cacert.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=365))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
                .sign(cakey, hashes.SHA256()))
        p = os.path.join(out, name + ".pem")
        with open(p + ".tmp", "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        os.rename(p + ".tmp", p)

first, last, nproc = int(first), int(last), max(1, int(nproc))
step = 500
chunks = [(a, min(a + step, last + 1)) for a in range(first, last + 1, step)]
with Pool(nproc) as p:
    p.map(make, chunks)
EOF
	else
		how="openssl per certificate, xargs -P$NPROC"
		# shellcheck disable=SC2016 # the inner script expands its own $1
		seq $((have + 1)) "$NEED" | xargs -P "$NPROC" -n 100 sh -c '
			dir=$1 certs=$2; shift 2
			for i; do
				n=$(printf "mx%05d" "$i"); h=$n.bench.test
				openssl req -x509 -new -newkey ec \
				    -pkeyopt ec_paramgen_curve:P-256 -nodes \
				    -keyout /dev/null -CA "$dir/ca.pem" \
				    -CAkey "$dir/ca.key" -subj "/CN=$h" \
				    -addext "subjectAltName=DNS:$h" \
				    -addext basicConstraints=critical,CA:FALSE \
				    -days 365 -out "$certs/$n.pem.tmp" 2>/dev/null &&
				mv "$certs/$n.pem.tmp" "$certs/$n.pem" || exit 255
			done' sh "$DIR" "$CERTS"
	fi
	echo "$NEED" >"$CERTS/.count"
	note "generated certificates $((have + 1))..$NEED in $CERTS ($(ms_since "$g0") ms, $how)"
else
	note "reusing $have cached certificates in $CERTS"
fi
# Relative names in the certificate directory keep the argument lists short.
cd "$CERTS"
PUB_FILES=$(awk -v n="$PUB_N" 'BEGIN { for (i = 1; i <= n; i++) printf "mx%05d.pem ", i }')
SIGN_FILES=$(awk -v n="$SIGN_N" 'BEGIN { for (i = 1; i <= n; i++) printf "mx%05d.pem ", i }')

# Normalised records, "owner usage selector mtype hex", sorted: from
# tlsagen's zone lines (owner IN TLSA u s m hex) or dig/ldns lines
# (owner ttl IN TLSA u s m hex [hex...]).
norm_zone() {
	awk '$3 == "TLSA" { print tolower($1), $4, $5, $6, tolower($7); next }
	     $4 == "TLSA" { h = ""; for (i = 8; i <= NF; i++) h = h $i
		print tolower($1), $5, $6, $7, tolower(h) }' "$@" | LC_ALL=C sort
}
median() { LC_ALL=C sort -n | awk '{ v[NR] = $1 } END {
	if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
	else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {
	if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
col() { awk -v m="$2" -v f="$3" '$1 == m { print $f }' "$1"; }	# FILE METHOD FIELD
yn() { case $1 in 1) echo "HOLDS" ;; 0) echo "does NOT hold" ;; *) echo "not measured" ;; esac; }

note "machine: $NPROC cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null)"
note "tlsagen: $TLSAGEN ($("$TLSAGEN" --version 2>&1 | head -1))"
note "$(named -v | head -1); nsupdate from the same BIND; $(ldns-signzone -v 2>&1 | head -1)"
note "OpenSSL: $(openssl version)"

# ===========================================================================
# (1) Publishing PUB_N services' RRsets into the lab's primary.
# ===========================================================================
if part 1; then
	. "$TOP/tests/lab/dns.sh"
	LAB=$WORK/dns
	at_exit "dns_lab_stop '$LAB'"
	l0=$(now_ns)
	DNS_LAB_TTL=300 dns_lab_start "$LAB" "$ZONE" >/dev/null || die "the DNS lab did not start"
	note "DNS lab up in $(ms_since "$l0") ms: zone $DNS_ZONE, primary $DNS_PRIMARY (inline-signing), secondary $DNS_SECONDARY"
	PLOG=$LAB/primary/named.log

	"$TLSAGEN" -t 300 $PUB_FILES >"$WORK/pub.zone"
	norm_zone "$WORK/pub.zone" >"$WORK/pub.want"
	[ "$(wc -l <"$WORK/pub.want")" -eq "$PUB_N" ] || die "tlsagen made $(wc -l <"$WORK/pub.want") records for $PUB_N certificates"
	: >"$WORK/empty"

	# served FILE: the primary's TLSA records (normalised) into FILE; prints
	# the number of TLSA RRSIGs.
	served() {
		dig @"$DNS_PRIMARY" +time=5 +tries=1 +noall +answer +nosplit AXFR "$DNS_ZONE." \
		    >"$WORK/axfr" 2>&1 || return 1
		norm_zone "$WORK/axfr" >"$1"
		awk '$4 == "RRSIG" && $5 == "TLSA"' "$WORK/axfr" | wc -l
	}
	# nudge: a small unrelated change (a TXT RRset at zb-nudge.<zone>).
	# BIND 9.18's inline-signing can leave the signed zone behind the unsigned
	# one: when an update arrives while the signed zone is still applying the
	# previous one's diff, named logs "receive_secure_serial: unchanged" and
	# does not apply the newer diff until the next change of the zone (seen
	# with 9.18.49 for updates of 400+ RRsets sent back to back, by nsupdate
	# and by tlsagen alike). The next change brings the signed zone up to date.
	nudges=0
	nudge() {
		nudges=$((nudges + 1))
		printf 'server %s\nzone %s.\nupdate delete zb-nudge.%s. TXT\nupdate add zb-nudge.%s. 300 TXT "%s"\nsend\n' \
		    "$DNS_PRIMARY" "$DNS_ZONE" "$DNS_ZONE" "$DNS_ZONE" "$(now_ns)" |
		    nsupdate -t 5 -k "$DNS_TSIG_KEY"
	}
	# wait_served WANTFILE: until the primary serves exactly WANTFILE's records,
	# each RRset signed (inline-signing applies an update asynchronously), and
	# the secondary has the same serial. When the signed zone has not caught up
	# 3 s after the last change, nudge. Prints how many nudges it took; fails
	# after WAIT seconds.
	wait_served() {
		_ws0=$(now_ns)
		_wsl=$_ws0
		_want=$(wc -l <"$1")
		nudges=0
		while :; do
			if _sigs=$(served "$WORK/got") && [ "$_sigs" -eq "$_want" ] &&
			    cmp -s "$WORK/got" "$1"; then
				break
			fi
			if [ $((($(now_ns) - _ws0) / 1000000000)) -ge "$WAIT" ]; then
				echo "zones-bench: after ${WAIT}s ($nudges nudges) the primary serves" \
				    "$(wc -l <"$WORK/got") TLSA records (${_sigs:-?} RRSIGs over TLSA)," \
				    "want $_want; first differences:" >&2
				diff "$1" "$WORK/got" | head -5 >&2
				return 1
			fi
			if [ $((($(now_ns) - _wsl) / 1000000)) -ge 3000 ]; then
				nudge || return 1
				_wsl=$(now_ns)
			fi
			sleep 0.1
		done
		dns_lab_sync_wait "$LAB" "$WAIT" >/dev/null 2>&1 ||
		    { echo "zones-bench: the secondary did not catch up" >&2; return 1; }
		echo "$nudges"
	}
	# approvals: update messages the primary has approved so far (named logs
	# one "signer ... approved" line per update message).
	approvals() { grep -c 'signer ".*" approved' "$PLOG" || true; }

	# remove: take the records away again (not timed): tlsagen --delete with
	# the records as the guard; if that is refused (a run left something else
	# behind), a plain nsupdate delete of every owner's TLSA RRset.
	remove() {
		if ! "$TLSAGEN" --update "$DNS_PRIMARY" --tsig-key "$DNS_TSIG_KEY" -z "$DNS_ZONE" \
		    -t 300 --delete --expect "$WORK/pub.zone" $PUB_FILES >/dev/null 2>"$WORK/rm.err"; then
			note "tlsagen --delete refused ($(head -c 200 "$WORK/rm.err")); deleting with nsupdate"
			{
				printf 'server %s\nzone %s.\n' "$DNS_PRIMARY" "$DNS_ZONE"
				awk '{ print "update delete", $1, "TLSA" }' "$WORK/pub.want" | sort -u
				echo send
			} | nsupdate -k "$DNS_TSIG_KEY" || return 1
		fi
		wait_served "$WORK/empty" >/dev/null
	}

	# The methods; each publishes the PUB_N RRsets into an empty zone.
	#   a   tlsagen --update: reads every RRset (the compare-and-swap guard),
	#       then as few update messages as fit in 64 KiB
	#   a2  tlsagen --update --expect none: no reads, guard "RRset absent"
	#   b   tlsagen -f nsupdate > script; nsupdate script (no prerequisites)
	#   b2  the same with --expect none: nsupdate with the nxrrset guard
	#       (informational: b's safety equals a2's only with this). tlsagen
	#       writes such a script as one message, all prerequisites first; for
	#       more owners than fit in 64 KiB (about 860 here) nsupdate refuses
	#       it, so when the warm-up finds that, b2 is made the way a user
	#       would have to: one tlsagen run per slice of B2_SLICE owners, the
	#       scripts concatenated (one nsupdate run, one message per slice).
	B2_SLICE=400
	B2_HOW=single
	b2_script() {	# > $WORK/upd.txt
		if [ "$B2_HOW" = single ]; then
			"$TLSAGEN" -f nsupdate -s "$DNS_PRIMARY" -z "$DNS_ZONE" -t 300 \
			    --expect none $PUB_FILES >"$WORK/upd.txt" 2>"$WORK/run.err"
			return
		fi
		: >"$WORK/upd.txt"
		set -- $PUB_FILES
		while [ $# -gt 0 ]; do
			_sl=""
			_k=0
			while [ $# -gt 0 ] && [ $_k -lt $B2_SLICE ]; do
				_sl="$_sl $1"
				shift
				_k=$((_k + 1))
			done
			"$TLSAGEN" -f nsupdate -s "$DNS_PRIMARY" -z "$DNS_ZONE" -t 300 \
			    --expect none $_sl >>"$WORK/upd.txt" 2>"$WORK/run.err" || return 1
		done
	}
	run_method() {
		case $1 in
		a) "$TLSAGEN" --update "$DNS_PRIMARY" --tsig-key "$DNS_TSIG_KEY" -z "$DNS_ZONE" \
		    -t 300 $PUB_FILES >"$WORK/run.out" 2>"$WORK/run.err" ;;
		a2) "$TLSAGEN" --update "$DNS_PRIMARY" --tsig-key "$DNS_TSIG_KEY" -z "$DNS_ZONE" \
		    -t 300 --expect none $PUB_FILES >"$WORK/run.out" 2>"$WORK/run.err" ;;
		b) "$TLSAGEN" -f nsupdate -s "$DNS_PRIMARY" -z "$DNS_ZONE" -t 300 $PUB_FILES \
		    >"$WORK/upd.txt" 2>"$WORK/run.err" &&
		    nsupdate -k "$DNS_TSIG_KEY" "$WORK/upd.txt" >"$WORK/run.out" 2>>"$WORK/run.err" ;;
		b2) b2_script &&
		    nsupdate -k "$DNS_TSIG_KEY" "$WORK/upd.txt" >"$WORK/run.out" 2>>"$WORK/run.err" ;;
		esac
	}

	# One warm-up (not timed): the zone's journal, named's caches, and a check
	# that publishing and removing work at all.
	note "(1) warm-up: nsupdate publish and tlsagen --delete of $PUB_N RRsets..."
	run_method b || die "warm-up nsupdate failed: $(cat "$WORK/run.err")"
	wait_served "$WORK/pub.want" >/dev/null || die "warm-up: the records did not appear"
	remove || die "warm-up: could not remove the records"
	# Does nsupdate take tlsagen's --expect none script for all PUB_N owners?
	b2_single="ok"
	if ! run_method b2; then
		b2_single="REFUSED by nsupdate: $(grep -v '^$' "$WORK/run.err" | head -n 1)"
		b2_single="$b2_single ($(grep -c . "$WORK/upd.txt") lines, $(grep -c '^send' "$WORK/upd.txt") send)"
		B2_HOW=sliced
		note "(1) tlsagen -f nsupdate --expect none on $PUB_N owners: $b2_single"
		note "(1) (b2) uses one tlsagen run per $B2_SLICE owners instead"
		wait_served "$WORK/empty" >/dev/null || die "warm-up: the zone is not empty"
	else
		wait_served "$WORK/pub.want" >/dev/null || die "warm-up (b2): the records did not appear"
		remove || die "warm-up: could not remove the records"
	fi

	METHODS="a a2 b b2"
	: >"$WORK/pub.times"
	r=1
	while [ "$r" -le "$PUB_ROUNDS" ]; do
		# Rotate the order each round, so no method always runs first.
		set -- $METHODS
		k=1
		while [ "$k" -lt "$r" ]; do m=$1; shift; set -- "$@" "$m"; k=$((k + 1)); done
		order="$*"
		note "(1) round $r of $PUB_ROUNDS: $order"
		for m in $order; do
			n0=$(approvals)
			t0=$(now_ns)
			run_method "$m" || die "method $m failed: $(head -c 2000 "$WORK/run.err")"
			ms=$(ms_since "$t0")
			msgs=$(($(approvals) - n0))
			nd=$(wait_served "$WORK/pub.want") || die "method $m: the primary does not serve the records"
			echo "$m $ms $nd $msgs" >>"$WORK/pub.times"
			remove || die "could not remove the records after method $m"
		done
		# Where (a)'s time goes, in the same rounds (the zone is empty):
		#   c  tlsagen -f zone: compute the records, no DNS at all
		#   r  tlsagen --update --dry-run: compute and read every RRset
		for m in c r; do
			n0=$(approvals)
			t0=$(now_ns)
			if [ $m = c ]; then
				"$TLSAGEN" -t 300 $PUB_FILES >"$WORK/run.out" 2>"$WORK/run.err"
			else
				"$TLSAGEN" --update "$DNS_PRIMARY" --tsig-key "$DNS_TSIG_KEY" \
				    -z "$DNS_ZONE" -t 300 --dry-run $PUB_FILES >"$WORK/run.out" 2>"$WORK/run.err"
			fi || die "$m failed: $(head -c 2000 "$WORK/run.err")"
			echo "$m $(ms_since "$t0") 0 $(($(approvals) - n0))" >>"$WORK/pub.times"
		done
		r=$((r + 1))
	done
	for m in $METHODS c r; do
		eval "p_$m=\$(col \"\$WORK/pub.times\" $m 2 | median)"
		eval "p_${m}_stall=\$(col \"\$WORK/pub.times\" $m 3 | awk '\$1 > 0 { n++ } END { print n + 0 }')"
		eval "p_${m}_all=\$(col \"\$WORK/pub.times\" $m 2 | paste -sd/ -)"
		eval "p_${m}_msgs=\$(col \"\$WORK/pub.times\" $m 4 | sort -u | paste -sd, -)"
	done
	dns_lab_stop "$LAB" || note "the lab did not stop cleanly"
fi

ok_recs=1 ok_verify=1 ok_teeth=1
# ===========================================================================
# (2) Signing SIGN_N TLSA RRsets, offline.
# ===========================================================================
if part 2; then
	S=$WORK/sign
	mkdir -p "$S"
	( cd "$S" && dnssec-keygen -q -a ECDSAP256SHA256 -f KSK "$ZONE" >/dev/null ) ||
	    die "dnssec-keygen failed"
	KEYPRIV=$(ls "$S"/K"$ZONE".+013+*.private)
	chmod 600 "$KEYPRIV"
	KEYBASE=${KEYPRIV%.private}
	note "(2) CSK $(basename "$KEYBASE") (ECDSAP256SHA256, flags 257)"

	# The zone ldns-signzone signs: a minimal apex (SOA, NS, the NS's address)
	# and the SIGN_N TLSA RRsets tlsagen computes from the certificates.
	"$TLSAGEN" -t 300 $SIGN_FILES >"$S/recs.zone"
	{
		printf "\$ORIGIN %s.\n\$TTL 300\n" "$ZONE"
		printf '@ SOA ns1 hostmaster 1 3600 600 1209600 300\n@ NS ns1\nns1 A 127.0.0.40\n'
		cat "$S/recs.zone"
	} >"$S/zone.db"
	[ "$(grep -c ' TLSA ' "$S/recs.zone")" -eq "$SIGN_N" ] || die "tlsagen made the wrong number of records"

	# The commands, one round each in this order (rotated every round):
	#   S   tlsagen -f signed: compute from the certificates, sign, print
	#   C   tlsagen -f zone on the same certificates: compute and print only
	#   L   ldns-signzone on zone.db: parse, sort, NSEC chain, sign, print
	#   R   ldns-read-zone zone.db: parse and print only
	sign_cmd() {
		case $1 in
		S) "$TLSAGEN" -f signed -z "$ZONE" -k "$KEYPRIV" -t 300 $SIGN_FILES >"$S/tg.signed" ;;
		C) "$TLSAGEN" -t 300 $SIGN_FILES >"$S/tg.zone" ;;
		L) ldns-signzone -f "$S/ldns.signed" "$S/zone.db" "$KEYBASE" ;;
		R) ldns-read-zone "$S/zone.db" >"$S/read.out" ;;
		esac
	}
	HAVE_READ=1
	command -v ldns-read-zone >/dev/null 2>&1 || HAVE_READ=0
	SMETHODS="S L C"
	[ $HAVE_READ = 1 ] && SMETHODS="$SMETHODS R"
	note "(2) warm-up, then $SIGN_ROUNDS rounds of: $SMETHODS"
	for m in $SMETHODS; do sign_cmd "$m" || die "(2) $m failed"; done
	: >"$WORK/sign.times"
	r=1
	while [ "$r" -le "$SIGN_ROUNDS" ]; do
		set -- $SMETHODS
		k=1
		while [ "$k" -lt "$r" ]; do m=$1; shift; set -- "$@" "$m"; k=$((k + 1)); done
		for m in "$@"; do
			t0=$(now_ns)
			sign_cmd "$m" || die "(2) $m failed"
			echo "$m $(ms_since "$t0")" >>"$WORK/sign.times"
		done
		r=$((r + 1))
	done
	for m in $SMETHODS; do
		eval "s_$m=\$(col \"\$WORK/sign.times\" $m 2 | median)"
		eval "s_${m}_min=\$(col \"\$WORK/sign.times\" $m 2 | sort -n | head -n 1)"
	done
	[ $HAVE_READ = 1 ] || { s_R=-; s_R_min=-; }
	sigs_tg=$(awk '$4 == "RRSIG"' "$S/tg.signed" | wc -l)
	sigs_ldns=$(awk '$4 == "RRSIG"' "$S/ldns.signed" | wc -l)
	sigs_ldns_types=$(awk '$4 == "RRSIG" { n[$5]++ } END { for (t in n) printf "%s %d, ", t, n[t] }' \
	    "$S/ldns.signed" | sed 's/, $//')

	# Correctness: tlsagen's records are the zone's, and its RRSIGs validate:
	# ldns-signzone's zone with its TLSA RRSIGs replaced by tlsagen's, checked
	# by ldns-verify-zone (every signature, the NSEC chain). Then once more with
	# one of tlsagen's signatures altered, which must fail (the check has teeth).
	note "(2) verifying tlsagen's signatures with ldns-verify-zone..."
	ok_recs=0 ok_verify=0 ok_teeth=0
	norm_zone "$S/tg.signed" >"$S/tg.norm"
	norm_zone "$S/recs.zone" >"$S/zone.norm"
	cmp -s "$S/tg.norm" "$S/zone.norm" && ok_recs=1
	awk '!($4 == "RRSIG" && $5 == "TLSA")' "$S/ldns.signed" >"$S/merged"
	awk '$4 == "RRSIG" && $5 == "TLSA"' "$S/tg.signed" >>"$S/merged"
	tg_tlsa_sigs=$(awk '$4 == "RRSIG" && $5 == "TLSA"' "$S/merged" | wc -l)
	v0=$(now_ns)
	if ldns-verify-zone "$S/merged" >"$S/verify.out" 2>&1 && [ "$tg_tlsa_sigs" -eq "$SIGN_N" ]; then
		ok_verify=1
	fi
	verify_ms=$(ms_since "$v0")
	# Alter one signature in the middle: flip the case of the first letter of
	# its base64 (still base64, a different signature).
	mid=$(awk '$4 == "RRSIG" && $5 == "TLSA" { n++ } END { print int(n / 2) + 1 }' "$S/merged")
	awk -v k="$mid" '$4 == "RRSIG" && $5 == "TLSA" && ++n == k {
		s = $NF; c = substr(s, 1, 1); u = toupper(c); l = tolower(c)
		$NF = (c == u ? l : u) substr(s, 2); if ($NF == s) $NF = "A" substr(s, 2) } { print }' \
	    "$S/merged" >"$S/merged.bad"
	ldns-verify-zone "$S/merged.bad" >"$S/verify.bad" 2>&1 || ok_teeth=1
fi

# ===========================================================================
T1=$(now_ns)
echo
echo "== zones benchmark: tlsagen's direct update and signing, $NPROC cores =="
echo
if part 1; then
	echo "(1) publish $PUB_N RRsets (one 3 1 1 record each, owners _25._tcp.mxNNNNN.$ZONE.)"
	echo "    into an empty zone at a BIND primary with inline-signing; $PUB_ROUNDS rounds,"
	echo "    methods interleaved (order rotated each round), after one warm-up."
	echo "    ms: from the start of the command(s) until they return (update acknowledged)"
	printf '    %-42s %9s  %-24s %4s %6s\n' "method" "median ms" "runs ms" "msgs" "stalls"
	printf '    %-42s %9s  %-24s %4s %6s\n' "(a)  tlsagen --update (reads each RRset)" "$p_a" "$p_a_all" "$p_a_msgs" "$p_a_stall"
	printf '    %-42s %9s  %-24s %4s %6s\n' "(a2) tlsagen --update --expect none" "$p_a2" "$p_a2_all" "$p_a2_msgs" "$p_a2_stall"
	printf '    %-42s %9s  %-24s %4s %6s\n' "(b)  tlsagen -f nsupdate + nsupdate" "$p_b" "$p_b_all" "$p_b_msgs" "$p_b_stall"
	printf '    %-42s %9s  %-24s %4s %6s\n' "(b2) same with --expect none$( [ $B2_HOW = single ] || echo "*")" "$p_b2" "$p_b2_all" "$p_b2_msgs" "$p_b2_stall"
	printf '    %-42s %9s  %-24s %4s %6s\n' "(c)  tlsagen -f zone: compute only, no DNS" "$p_c" "$p_c_all" "$p_c_msgs" -
	printf '    %-42s %9s  %-24s %4s %6s\n' "(r)  tlsagen --update --dry-run: + reads" "$p_r" "$p_r_all" "$p_r_msgs" -
	[ "$B2_HOW" = single ] || {
		echo "    * (b2): tlsagen's --expect none script for all $PUB_N owners is one message that"
		echo "      nsupdate refuses ($b2_single);"
		echo "      timed instead: $(( (PUB_N + B2_SLICE - 1) / B2_SLICE )) tlsagen runs of up to $B2_SLICE owners, one nsupdate run"
	}
	echo "    (c) and (r) change nothing; they show where (a)'s time goes: computing the"
	echo "    records (c), reading the $PUB_N RRsets, one TCP connection each (r - c), and"
	echo "    the update messages (a - r)."
	echo "    msgs: update messages the primary approved in a run. stalls: runs after which"
	echo "    BIND's inline-signed zone did not catch up with the update by itself (a later"
	echo "    change of the zone was needed: see tests/bench/README; not tlsagen's doing)"
	r_a=$(ratio "$p_a" "$p_b")
	r_a2=$(ratio "$p_a2" "$p_b")
	r_a2b2=$(ratio "$p_a2" "$p_b2")
	echo "    direct / nsupdate: (a)/(b) = $r_a   (a2)/(b) = $r_a2   (a2)/(b2) = $r_a2b2"
	echo "    every run checked: the primary served exactly the $PUB_N expected records, signed"
	echo
fi
if part 2; then
	echo "(2) sign $SIGN_N TLSA RRsets with one ECDSAP256SHA256 CSK; median of $SIGN_ROUNDS rounds"
	printf '    %-52s %9s %8s %8s\n' "command" "median ms" "min ms" "RRSIGs"
	printf '    %-52s %9s %8s %8s\n' "tlsagen -f signed (certs -> signed TLSA)" "$s_S" "$s_S_min" "$sigs_tg"
	printf '    %-52s %9s %8s %8s\n' "tlsagen -f zone   (certs -> TLSA, no signing)" "$s_C" "$s_C_min" 0
	printf '    %-52s %9s %8s %8s\n' "ldns-signzone (apex + TLSA zone file)" "$s_L" "$s_L_min" "$sigs_ldns"
	printf '    %-52s %9s %8s %8s\n' "ldns-read-zone (parse + print, no signing)" "$s_R" "$s_R_min" 0
	echo "    ldns-signzone also signs the apex and makes and signs an NSEC chain:"
	echo "    its RRSIGs by type: $sigs_ldns_types. tlsagen signs only the TLSA RRsets"
	echo "    (the rest of the zone is the zone signer's)."
	r_sign=$(ratio "$s_S" "$s_L")
	per_tg=$(awk -v a="$s_S" -v b="$s_C" -v n="$sigs_tg" 'BEGIN { printf "%.1f", (a - b) * 1000 / n }')
	per_ld=$(awk -v a="$s_L" -v b="$s_R" -v n="$sigs_ldns" 'BEGIN { if (b == "-") print "-"; else printf "%.1f", (a - b) * 1000 / n }')
	echo "    tlsagen / ldns-signzone (wall) = $r_sign"
	echo "    signing cost per RRSIG (total minus the no-signing row): tlsagen $per_tg us, ldns-signzone $per_ld us"
	echo "    ratio of the per-RRSIG costs = $(ratio "$per_tg" "$per_ld")"
	echo
fi
echo "correctness"
part 1 && echo "    (1) every timed run: AXFR from the primary = the $PUB_N expected records, each signed"
if part 2; then
	echo "    (2) tlsagen's TLSA records = the zone file's:                       $( [ $ok_recs = 1 ] && echo yes || echo NO)"
	echo "    (2) ldns-verify-zone on ldns-signzone's zone with tlsagen's $tg_tlsa_sigs TLSA RRSIGs: $( [ $ok_verify = 1 ] && echo "valid ($verify_ms ms)" || echo "FAILED: $(tail -n 3 "$S/verify.out" | tr '\n' ' ')")"
	echo "    (2) the same with one of tlsagen's signatures altered is rejected: $( [ $ok_teeth = 1 ] && echo yes || echo NO)"
fi
echo
echo "targets"
if part 1; then
	t1=$(awk -v r="$r_a" 'BEGIN { print (r != "-" && r <= 1.0) ? 1 : 0 }')
	t1b=$(awk -v r="$r_a2" 'BEGIN { print (r != "-" && r <= 1.0) ? 1 : 0 }')
	echo "    direct update at least as fast as nsupdate, (a) <= (b):       $(yn "$t1") (ratio $r_a)"
	echo "    the same without reads, (a2) <= (b):                          $(yn "$t1b") (ratio $r_a2)"
	[ "$PUB_N" -eq 1000 ] || echo "      (the target is stated for 1,000 RRsets; this run has $PUB_N)"
fi
if part 2; then
	t2=$(awk -v r="$r_sign" 'BEGIN { print (r != "-" && r <= 1.2) ? 1 : 0 }')
	echo "    signing within 1.2x of ldns-signzone (wall, $SIGN_N RRsets): $(yn "$t2") (ratio $r_sign)"
	[ "$SIGN_N" -eq 10000 ] || echo "      (the target is stated for 10,000 RRsets; this run has $SIGN_N)"
fi
echo
echo "total benchmark time: $(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s"
[ $ok_recs = 1 ] && [ $ok_verify = 1 ] && [ $ok_teeth = 1 ]
