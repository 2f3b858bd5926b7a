#!/bin/sh
# 88-demo.t: the README's first command runs tests/lab/demo.sh (after
# installing and building, which CI does anyway): it must finish, show
# every phase of each rollover as it happens and a summary whose live
# check matches DNS, and clean up after itself (its temporary directory
# and daemons gone).
. "$(dirname "$0")/../lib.sh"
need_cmd named unbound postfix pebble certbot dig openssl make
[ "$(id -u)" -eq 0 ] || bail "the demo needs root"
: "${TLSA_ROLLOVER:=$TOP/build/tlsa-rollover}"
grep -q 'sh tests/lab/demo.sh' "$TOP/quickstart.sh" || bail "quickstart.sh does not run tests/lab/demo.sh"
mkdir -p "$WORK/tmp"
chmod 711 "$WORK" "$WORK/tmp"	# Postfix's users must reach the demo's directories
out=$(TMPDIR=$WORK/tmp TLSAGEN=$TLSAGEN TLSA_ROLLOVER=$TLSA_ROLLOVER timeout 300 sh "$TOP/tests/lab/demo.sh" 2>&1)
st=$?
is "the demo exits 0" "$st" 0
for p in "hook: mx: imported" "records published at the primary" "visible on every server and validated" \
	"hold: [0-9]+ s left" "switched: deployed [0-9a-f]{16}, Postfix reloaded" \
	"verified: every MX address" "retired: _25._tcp.mx1.example.test" "steady" \
	"records published and visible already: no new wait" "==> Summary" \
	"mx1.example.test \\(127.0.0.20 port 25\\): match: 3 1 1" "renewal, same key: live [0-9]+s"; do
	like "the demo shows: $p" "$out" "$p"
done
nok "no secret in the output" sh -c "printf '%s\n' \"\$1\" | grep -q 'PRIVATE KEY\|secret '" sh "$out"
is "the demo removed its temporary directory" "$(ls -A "$WORK/tmp")" ""
sleep 1
is "no daemon of the demo left running (Pebble, named, unbound, Postfix)" "$(pgrep -f "$WORK/tmp" | grep -v "^$$\$")" ""
[ $st -eq 0 ] || diag "$out"
done_testing
