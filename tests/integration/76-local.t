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
#   owners, modes   a configuration file (it names commands run as root)
#                   that another user owns or may write, or under a
#                   directory that another user owns or may write (a
#                   sticky one excepted), is refused; so is a TSIG key or
#                   private key file owned by another user.  Tests run as
#                   root: "another user" is nobody (65534).
#   deploy, state   a deploy_dir or state_dir under a directory that another
#                   user may write or owns is refused by validate-config and
#                   run, in one line (the symlink cases are unit tests in
#                   tests/unit/test_local.c)
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

# ---- owners and modes: the configuration and the key files -----------------------
# bad_cfg NAME RC ERE ARGS...: exit RC and exactly one stderr line matching ERE.
bad_cfg() {
	_bc_name=$1 _bc_rc=$2 _bc_re=$3
	shift 3
	rr "$@"
	if [ "$rc" -eq "$_bc_rc" ] && [ "$(grep -c '' "$WORK/err")" -eq 1 ] && grep -Eq -- "$_bc_re" "$WORK/err"; then
		_report 0 "$_bc_name"
	else
		_report 1 "$_bc_name" "command: $*" "exit $rc (want $_bc_rc)" "stderr: $(cat "$WORK/err")" \
			"want one line matching /$_bc_re/"
	fi
}
NOBODY=65534
mkdir -p "$WORK/cfg" && chmod 755 "$WORK/cfg" || bail "mkdir cfg"
write_config "$WORK/cfg/roll.yaml" "$WORK/state-cfg" "$WORK/deploy-cfg"
rr "$R" -f "$WORK/cfg/roll.yaml" validate-config
is "config: the base case is valid (exit 0)" "$rc" 0
chmod 664 "$WORK/cfg/roll.yaml"
bad_cfg "config: group-writable file refused" 2 \
	"^tlsa-rollover: $WORK/cfg/roll.yaml: configuration file is writable by group or others \(mode 0664\)" \
	"$R" -f "$WORK/cfg/roll.yaml" validate-config
chmod 644 "$WORK/cfg/roll.yaml" && chown $NOBODY "$WORK/cfg/roll.yaml"
bad_cfg "config: a file owned by nobody refused, naming the owner" 2 \
	"^tlsa-rollover: $WORK/cfg/roll.yaml: configuration file is owned by uid $NOBODY( \([a-z]+\))?, not root" \
	"$R" -f "$WORK/cfg/roll.yaml" validate-config
chown 0 "$WORK/cfg/roll.yaml" && chmod 775 "$WORK/cfg"
bad_cfg "config: a group-writable directory above it refused" 2 \
	"^tlsa-rollover: $WORK/cfg: directory above $WORK/cfg/roll.yaml is writable by group or others \(mode 0775\)" \
	"$R" -f "$WORK/cfg/roll.yaml" validate-config
chmod 755 "$WORK/cfg" && chown $NOBODY "$WORK/cfg"
bad_cfg "config: a directory above it owned by nobody refused" 2 \
	"^tlsa-rollover: $WORK/cfg: directory above $WORK/cfg/roll.yaml is owned by uid $NOBODY" \
	"$R" -f "$WORK/cfg/roll.yaml" validate-config
chown 0 "$WORK/cfg" && chmod 1777 "$WORK/cfg"
rr "$R" -f "$WORK/cfg/roll.yaml" validate-config
is "config: a sticky world-writable directory (like /tmp) is accepted" "$rc" 0
chmod 755 "$WORK/cfg"
mkdir -p "$WORK/open" && chmod 777 "$WORK/open" && mv "$WORK/cfg/roll.yaml" "$WORK/open/roll.yaml" &&
	ln -s "$WORK/open/roll.yaml" "$WORK/cfg/roll.yaml"
bad_cfg "config: a symlink into a world-writable directory: the target's directory is checked" 2 \
	"^tlsa-rollover: $WORK/open: directory above $WORK/cfg/roll.yaml is writable by group or others" \
	"$R" -f "$WORK/cfg/roll.yaml" validate-config
rm -f "$WORK/cfg/roll.yaml" && mv "$WORK/open/roll.yaml" "$WORK/cfg/roll.yaml"

cp -p "$WORK/tsig.key" "$WORK/tsig-nobody.key" && chown $NOBODY "$WORK/tsig-nobody.key"
sed "s|$WORK/tsig.key|$WORK/tsig-nobody.key|" "$WORK/cfg/roll.yaml" > "$WORK/cfg/tsig.yaml"
bad_cfg "config: a TSIG key file owned by nobody refused, naming file and owner" 2 \
	"$WORK/tsig-nobody.key: TSIG key file is owned by uid $NOBODY( \([a-z]+\))?, not root" \
	"$R" -f "$WORK/cfg/tsig.yaml" validate-config
bad_cfg "tlsagen --tsig-key: a key file owned by nobody refused" 1 \
	"^tlsagen: $WORK/tsig-nobody.key: TSIG key file is owned by uid $NOBODY( \([a-z]+\))?, not root" \
	"$TLSAGEN" --update 127.0.0.1@9 --tsig-key "$WORK/tsig-nobody.key" -z example.test -H mx1.example.test \
	"$WORK/pki/A.chain.pem"
cp -p "$WORK/pki/A.key" "$WORK/A-nobody.key" && chown $NOBODY "$WORK/A-nobody.key"
bad_cfg "import: a private key file owned by nobody refused" 1 \
	"$WORK/A-nobody.key: private key file is owned by uid $NOBODY( \([a-z]+\))?, not root" \
	"$R" -f "$WORK/cfg/roll.yaml" import mx "$WORK/pki/A.chain.pem" "$WORK/A-nobody.key"
ok "import: ... and nothing stored" test ! -d "$WORK/state-cfg/mx/certs"

# ---- deploy_dir and state_dir: every directory above them ---------------------------
mkdir -p "$WORK/shared" && chmod 777 "$WORK/shared" || bail "mkdir shared"
write_config "$WORK/cfg/dd.yaml" "$WORK/state-dd" "$WORK/shared/deploy"
bad_cfg "validate-config: a deploy_dir in a directory others may write is refused" 2 \
	"^tlsa-rollover: $WORK/cfg/dd.yaml:[0-9]+:[0-9]+: service \"mx\": deploy_dir: $WORK/shared: directory above $WORK/shared/deploy is writable by group or others \(mode 0777\)" \
	"$R" -f "$WORK/cfg/dd.yaml" validate-config
bad_cfg "run: the same, refused before anything is done" 2 \
	"deploy_dir: $WORK/shared: directory above $WORK/shared/deploy is writable" \
	"$R" -f "$WORK/cfg/dd.yaml" run
ok "run: ... and no state directory made" test ! -e "$WORK/state-dd"
write_config "$WORK/cfg/sd.yaml" "$WORK/shared/state" "$WORK/deploy-sd"
bad_cfg "validate-config: a state_dir in a directory others may write is refused" 2 \
	"^tlsa-rollover: $WORK/cfg/sd.yaml: state_dir: $WORK/shared: directory above $WORK/shared/state is writable" \
	"$R" -f "$WORK/cfg/sd.yaml" validate-config
mkdir -p "$WORK/theirs/deep" && chown -R $NOBODY "$WORK/theirs"
write_config "$WORK/cfg/own.yaml" "$WORK/state-own" "$WORK/theirs/deep/deploy"
bad_cfg "validate-config: a deploy_dir under a directory owned by nobody is refused" 2 \
	"deploy_dir: $WORK/theirs/deep: directory above $WORK/theirs/deep/deploy is owned by uid $NOBODY" \
	"$R" -f "$WORK/cfg/own.yaml" validate-config
chmod 1777 "$WORK/shared"
rr "$R" -f "$WORK/cfg/dd.yaml" validate-config
is "validate-config: a sticky world-writable directory above deploy_dir is accepted" "$rc" 0

done_testing
