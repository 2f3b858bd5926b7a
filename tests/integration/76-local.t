#!/bin/sh
# 76-local.t: tlsa-rollover runs as root; what a local user or a hostile
# environment can make it do (issue 12).  No DNS lab: validate-config,
# import and hook touch no DNS.
#
#   test hooks      the release build ignores TLSA_ROLLOVER_CRASH_AT and
#                   TLSA_ROLLOVER_CRASH_TRACE (nothing written, not killed)
#                   and does not even contain their names; the test build
#                   (the one under test here) honours them
#   hook names      certbot's hook imports a lineage only into a service whose
#                   hosts its subjectAltName DNS names cover: a CN-only
#                   certificate and a partial wildcard (mx*.example.test)
#                   cover nothing
. "$(dirname "$0")/../lib.sh"
need_cmd openssl strings stat
. "$TOP/tests/lab/certs.sh"
: "${TLSA_ROLLOVER:=$TOP/build/test/tlsa-rollover}"
: "${TLSA_ROLLOVER_RELEASE:=$TOP/build/tlsa-rollover}"
: "${TLSAGEN_RELEASE:=$TOP/build/tlsagen}"
R=$TLSA_ROLLOVER
REL=$TLSA_ROLLOVER_RELEASE
[ -x "$R" ] || bail "no tlsa-rollover binary at $R (set TLSA_ROLLOVER)"
[ -x "$REL" ] || bail "no release tlsa-rollover at $REL (set TLSA_ROLLOVER_RELEASE)"
[ -x "$TLSAGEN_RELEASE" ] || bail "no release tlsagen at $TLSAGEN_RELEASE (set TLSAGEN_RELEASE)"

mkdir -p "$WORK/pki" || bail "mkdir"
printf 'key "k" { algorithm hmac-sha256; secret "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTIzNA=="; };\n' > "$WORK/tsig.key"
chmod 600 "$WORK/tsig.key"
certs_ca "$WORK/pki" || bail "CA"
certs_leaf "$WORK/pki" A ec mx1.example.test mx2.example.test || bail "cert A"

write_config() {	# FILE STATE_DIR DEPLOY_DIR
	cat > "$1" <<-EOF
	state_dir: $2
	dns:
	  zone: example.test
	  primary: 127.0.0.1@5399
	  resolver: 127.0.0.1@5399
	  tsig_key_file: $WORK/tsig.key
	  ttl: 60
	services:
	  - name: mx
	    hosts: [mx1.example.test, mx2.example.test]
	    deploy_dir: $3
	EOF
}

# rr BINARY ARGS...: rc in $rc, stdout in $WORK/out, stderr in $WORK/err.
rr() {
	timeout 60 "$@" > "$WORK/out" 2> "$WORK/err" < /dev/null
	rc=$?
}

# ---- test hooks: only in the test build -----------------------------------------
for b in "$REL" "$TLSAGEN_RELEASE"; do
	is "release $(basename "$b"): no test switch names in the binary" \
		"$(strings "$b" | grep -c 'TLSA_ROLLOVER_CRASH\|TLSA_PRIVSEP_USER')" 0
done
write_config "$WORK/test.yaml" "$WORK/state-test" "$WORK/deploy-test"
TLSA_ROLLOVER_CRASH_TRACE=$WORK/trace-test rr "$R" -f "$WORK/test.yaml" import mx \
	"$WORK/pki/A.chain.pem" "$WORK/pki/A.key"
is "test build: import exits 0" "$rc" 0
ok "test build: TLSA_ROLLOVER_CRASH_TRACE records the points passed" test -s "$WORK/trace-test"
P=$(head -n 1 "$WORK/trace-test" 2>/dev/null)
write_config "$WORK/test2.yaml" "$WORK/state-test2" "$WORK/deploy-test2"
TLSA_ROLLOVER_CRASH_AT=$P rr "$R" -f "$WORK/test2.yaml" import mx "$WORK/pki/A.chain.pem" "$WORK/pki/A.key"
is "test build: TLSA_ROLLOVER_CRASH_AT=$P kills it there" "$rc" 137
write_config "$WORK/rel.yaml" "$WORK/state-rel" "$WORK/deploy-rel"
TLSA_ROLLOVER_CRASH_TRACE=$WORK/trace-rel TLSA_ROLLOVER_CRASH_AT=$P \
	rr "$REL" -f "$WORK/rel.yaml" import mx "$WORK/pki/A.chain.pem" "$WORK/pki/A.key"
is "release: import with TLSA_ROLLOVER_CRASH_AT=$P exits 0 (not killed)" "$rc" 0
ok "release: nothing written to TLSA_ROLLOVER_CRASH_TRACE" test ! -e "$WORK/trace-rel"

# ---- certbot hook: SAN names only, no partial wildcards, no CN ---------------------
# odd_leaf NAME SUBJECT EXT-LINE: a leaf signed by the lab intermediate, as a
# certbot lineage in $WORK/lin-NAME (fullchain.pem, privkey.pem).
odd_leaf() {
	_ol=$WORK/lin-$1
	mkdir -p "$_ol" || return 1
	{ sed -n '/^\[leaf\]/,$p' "$WORK/pki/ca.ext"; [ -z "$3" ] || echo "$3"; } > "$_ol/ext"
	(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$_ol/privkey.pem" 2>/dev/null) &&
	openssl req -new -key "$_ol/privkey.pem" -subj "$2" -out "$_ol/csr" 2>/dev/null &&
	openssl x509 -req -in "$_ol/csr" -CA "$WORK/pki/int.pem" -CAkey "$WORK/pki/int.key" -days 30 \
		-set_serial "0x$(openssl rand -hex 8)" -extfile "$_ol/ext" -extensions leaf \
		-out "$_ol/cert.pem" 2>/dev/null &&
	cat "$_ol/cert.pem" "$WORK/pki/int.pem" > "$_ol/fullchain.pem"
}
cat > "$WORK/hook.yaml" <<EOF
state_dir: $WORK/state-hook
dns:
  zone: example.test
  primary: 127.0.0.1@5399
  resolver: 127.0.0.1@5399
  tsig_key_file: $WORK/tsig.key
services:
  - name: mx
    hosts: [mx1.example.test]
    deploy_dir: $WORK/deploy-hook
EOF
odd_leaf cn "/CN=mx1.example.test" "" || bail "CN-only leaf"
odd_leaf partial "/CN=partial" "subjectAltName = DNS:mx*.example.test" || bail "partial wildcard leaf"
odd_leaf wild "/CN=wild" "subjectAltName = DNS:*.example.test" || bail "wildcard leaf"
for n in cn partial; do
	RENEWED_LINEAGE=$WORK/lin-$n rr "$R" -f "$WORK/hook.yaml" hook certbot
	is "hook certbot: $n: refused (exit 1)" "$rc" 1
	like "hook certbot: $n: one line: covers no service" "$(cat "$WORK/err")" \
		"^tlsa-rollover: hook certbot: .*/lin-$n/fullchain.pem: the certificate's names \(.*\) do not cover the hosts of any service"
	is "hook certbot: $n: nothing stored" "$(ls "$WORK/state-hook/mx/certs" 2>/dev/null | wc -l)" 0
done
RENEWED_LINEAGE=$WORK/lin-wild rr "$R" -f "$WORK/hook.yaml" hook certbot
is "hook certbot: a whole-label wildcard SAN covers mx1: imported (exit 0)" "$rc" 0

done_testing
