#!/bin/sh
# tests/fuzz/make-dns-seeds.sh BUILD_DIR: record real DNS replies as seeds
# for fuzz_dns (tests/fuzz/corpus/dns/lab-*), from the lab's BIND and
# Unbound (tests/lab/dns.sh) in a private network namespace (root).
# BUILD_DIR holds libtlsa.a (make B=BUILD_DIR all).  The recorder is
# fuzz_dns.c built with -DFUZZ_DNS_RECORD: it runs the same operations
# as the fuzz target against the lab and writes what the servers said.
# Not part of any test run: run it by hand when the operations change,
# and commit the result.
. "$(dirname "$0")/../lib.sh"
lab_netns "$@"
B=${1:?usage: make-dns-seeds.sh BUILD_DIR}
OUT=$TOP/tests/fuzz/corpus/dns
. "$TOP/tests/lab/dns.sh"
need_cmd cc pkg-config python3
cc -std=c11 -D_GNU_SOURCE -DFUZZ_DNS_RECORD -I"$TOP/common" -I"$TOP/tlsagen" \
	-I"$TOP/zones" -I"$TOP/rollover" -o "$WORK/rec" "$TOP/tests/fuzz/fuzz_dns.c" \
	"$B/libtlsa.a" $(pkg-config --libs libssl libcrypto ldns jansson yaml-0.1) -ldl -pthread ||
	bail "cannot build the recorder"
dns_lab_start "$WORK/dns" || bail "no DNS lab"
at_exit "dns_lab_stop '$WORK/dns'"
Z=example.test
OWNER=_25._tcp.mx1.$Z
H1=1111111111111111111111111111111111111111111111111111111111111111
dns_update "$WORK/dns" <<-EOF2 || bail "nsupdate"
	server $DNS_PRIMARY
	zone $Z
	update add $OWNER 60 IN TLSA 3 1 1 $H1
	send
EOF2
dns_lab_sync_wait "$WORK/dns" 20 || bail "no sync"
dns_lab_sign_wait "$WORK/dns" "$OWNER" TLSA 20 || bail "not signed"

# rec NAME OP FLAGS SERVER [SERVER2]
rec() {
	"$WORK/rec" "$2" "$3" "$4" "${5:-$4}" "$DNS_TSIG_KEY" "$OUT/lab-$1" ||
		bail "recording $1 failed"
	echo "lab-$1: $(wc -c < "$OUT/lab-$1") bytes"
}
rec read 0 0 "$DNS_PRIMARY"
rec read-tsig 0 1 "$DNS_PRIMARY"
rec read-tcp 0 8 "$DNS_PRIMARY"
rec apex 1 0 "$DNS_PRIMARY"
rec apex-recursive 1 0x10 "$DNS_RESOLVER"
rec visibility 3 0 "$DNS_PRIMARY" "$DNS_SECONDARY"
rec resolve 4 0 "$DNS_RESOLVER"
rec ns 5 0 "$DNS_RESOLVER"
rec query-dnssec 6 0 "$DNS_PRIMARY"
rec update 2 1 "$DNS_PRIMARY"
# The RRset is 22.. now: the same update fails its prerequisite, and the
# RRset is read back.
rec update-prereq 2 1 "$DNS_PRIMARY"
rec update-nokey 2 0 "$DNS_PRIMARY"
# A truncated UDP answer (TC set) and then the TCP one.
python3 - "$OUT/lab-read" "$OUT/lab-read-truncated" <<'EOF2'
import sys
d = open(sys.argv[1], "rb").read()
n = d[2] << 8 | d[3]
msg = bytearray(d[4:4 + n])
tc = bytearray(msg[:12])
tc[2] |= 0x02
tc[6:12] = b"\0" * 6
q = msg[12:]
# question only: up to the end of QNAME + 4
i = 0
while q[i] != 0:
	i += 1 + q[i]
tc[5] = 1
tc += q[:i + 5]
out = bytes(d[:2]) + len(tc).to_bytes(2, "big") + bytes(tc) + d[2:4 + n]
open(sys.argv[2], "wb").write(out)
EOF2
echo "lab-read-truncated: $(wc -c < "$OUT/lab-read-truncated") bytes"
