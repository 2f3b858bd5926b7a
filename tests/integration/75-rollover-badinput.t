#!/bin/sh
# 75-rollover-badinput.t: tlsa-rollover against bad input, through the real
# binary.  No DNS lab: import, stage, abort and status touch no DNS, and
# where run would, the configuration points at 127.0.0.1@5399 where nothing
# listens.
#
#   broken configurations      exit 2, one stderr line FILE:LINE:COLUMN: why
#   bad command lines          exit 2, one stderr line
#   bad files for import       exit 1, one stderr line naming the file, and
#                              the state directory unchanged
#   a damaged state file       status, run and import refuse, naming the file
#                              and the line; the file is left as it was
#   run with DNS unreachable   exit 1, one line; the state unchanged apart
#                              from the recorded alert
#   --dry-run                  import, stage, abort, publish and run change
#                              nothing on disk
. "$(dirname "$0")/../lib.sh"
need_cmd openssl sha256sum find sort stat
. "$TOP/tests/lab/certs.sh"
: "${TLSA_ROLLOVER:=$TOP/build/tlsa-rollover}"
R=$TLSA_ROLLOVER
[ -x "$R" ] || bail "no tlsa-rollover binary at $R (set TLSA_ROLLOVER)"

# Nothing may answer on 127.0.0.1:5399 (the "unreachable" DNS server).
if command -v ss >/dev/null 2>&1 && ss -Hlntu 2>/dev/null | grep -q '127\.0\.0\.1:5399 \|\*:5399 \|0\.0\.0\.0:5399 '; then
	bail "something listens on port 5399; these tests need it closed"
fi

ST=$WORK/state
CFG=$WORK/roll.yaml
mkdir -p "$WORK/pki" "$WORK/bad" "$WORK/deploy" || bail "mkdir"
printf 'key "k" { algorithm hmac-sha256; secret "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTIzNA=="; };\n' > "$WORK/tsig.key"
chmod 600 "$WORK/tsig.key"
cp "$WORK/tsig.key" "$WORK/tsig644.key" && chmod 644 "$WORK/tsig644.key"

# ---- certificates -------------------------------------------------------------
certs_ca "$WORK/pki" || bail "CA"
for n in A B; do
	certs_leaf "$WORK/pki" "$n" ec mx1.example.test mx2.example.test || bail "cert $n"
done
certs_leaf "$WORK/pki" other ec mail.other.test || bail "cert other"
mkdir -p "$WORK/pki2" && certs_ca "$WORK/pki2" && certs_leaf "$WORK/pki2" X ec mx1.example.test mx2.example.test ||
	bail "second CA"

# dated_leaf NAME START END: a leaf for both hosts with the given validity
# (YYYYMMDDHHMMSSZ), signed by the lab intermediate, via openssl ca.
dated_leaf() {
	_dl=$WORK/ca-$1
	mkdir -p "$_dl/new" && : > "$_dl/index.txt" && echo 01 > "$_dl/serial" || return 1
	cat > "$_dl/ca.cnf" <<-EOF
	[ca]
	default_ca = d
	[d]
	database = $_dl/index.txt
	new_certs_dir = $_dl/new
	serial = $_dl/serial
	default_md = sha256
	policy = p
	unique_subject = no
	[p]
	commonName = supplied
	[leaf]
	basicConstraints = critical, CA:false
	subjectAltName = DNS:mx1.example.test, DNS:mx2.example.test
	EOF
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/bad/$1.key" 2>/dev/null &&
	openssl req -new -key "$WORK/bad/$1.key" -subj /CN=mx1.example.test -out "$_dl/req.csr" 2>/dev/null &&
	openssl ca -config "$_dl/ca.cnf" -batch -notext -cert "$WORK/pki/int.pem" -keyfile "$WORK/pki/int.key" \
		-in "$_dl/req.csr" -out "$WORK/bad/$1.pem" -startdate "$2" -enddate "$3" -extensions leaf \
		>"$_dl/log" 2>&1 || { cat "$_dl/log" >&2; return 1; }
}
dated_leaf expired 20200101000000Z 20200201000000Z || bail "cannot make an expired certificate"
dated_leaf future 20400101000000Z 20400201000000Z || bail "cannot make a not yet valid certificate"
like "the expired certificate is expired" "$(openssl x509 -in "$WORK/bad/expired.pem" -noout -enddate)" "2020"

: > "$WORK/bad/empty.pem"
printf 'this is not a certificate\n\001\002\003\n' > "$WORK/bad/garbage.pem"
head -c 4096 /dev/urandom > "$WORK/bad/random.der"
openssl pkey -in "$WORK/pki/B.key" -aes256 -passout pass:secret -out "$WORK/bad/enc-pkcs8.key" 2>/dev/null ||
	bail "cannot encrypt a key"
openssl pkey -in "$WORK/pki/B.key" -aes256 -passout pass:secret -traditional -out "$WORK/bad/enc-trad.key" 2>/dev/null ||
	bail "cannot encrypt a key (traditional)"
sed '/^-----END/d' "$WORK/pki/B.pem" > "$WORK/bad/truncated.pem"

write_config() {	# FILE STATE_DIR
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
	    deploy_dir: $WORK/deploy
	EOF
}
write_config "$CFG" "$ST"

# rr ARGS...: run the binary; rc in $rc, stdout in $WORK/out, stderr in
# $WORK/err, never a terminal (nothing may prompt).
rr() {
	timeout 60 "$R" "$@" > "$WORK/out" 2> "$WORK/err" < /dev/null
	rc=$?
}
nlines() { grep -c '' "$1"; }
err1() { head -n 1 "$WORK/err"; }

# snap: what is on disk under the state directory (names, modes, sizes,
# contents).  snap_nolock leaves out the lock file, whose content (the pid
# of the last locker) every command that takes the lock rewrites.
snap() {
	[ -d "$ST" ] || { echo "no state dir"; return; }
	(cd "$ST" && find . -exec stat -c '%n %a %s %F' {} + | sort &&
		find . -type f -exec sha256sum {} + | sort)
}
snap_nolock() { snap | grep -v '^\./lock \|  \./lock$'; }

# fails_with NAME RC REGEX ARGS...: exit RC, stdout empty, exactly one line
# on stderr matching REGEX.
fails_with() {
	_fw_name=$1 _fw_rc=$2 _fw_re=$3
	shift 3
	rr "$@"
	if [ "$rc" -eq "$_fw_rc" ] && [ "$(nlines "$WORK/err")" -eq 1 ] && [ ! -s "$WORK/out" ] &&
		grep -Eq -- "$_fw_re" "$WORK/err"; then
		_report 0 "$_fw_name"
	else
		_report 1 "$_fw_name" "command: $R $*" "exit $rc (want $_fw_rc)" \
			"stderr ($(nlines "$WORK/err") lines): $(cat "$WORK/err")" "stdout: $(cat "$WORK/out")" \
			"want one stderr line matching /$_fw_re/ and no stdout"
	fi
}

# ---- broken configurations: exit 2, FILE:LINE:COLUMN ----------------------------
# bad_config NAME LINE:COL REASON-ERE: the configuration is in $WORK/bad.yaml
# (written by the caller: a function at the end of a pipe would run in a
# subshell and lose the test count).
bad_config() {
	fails_with "config: $1" 2 "^tlsa-rollover: $WORK/bad.yaml:$2: .*$3" -f "$WORK/bad.yaml" validate-config
}
head6() {
	printf 'state_dir: %s\ndns:\n  primary: 192.0.2.53\n  resolver: 127.0.0.53\n  tsig_key_file: %s\nservices:\n' \
		"$ST" "${1:-$WORK/tsig.key}"
}
svc() { printf '  - name: %s\n    hosts: [mx1.example.test]\n    deploy_dir: %s\n' "$1" "$WORK/deploy"; }

{ head6; svc mx; } > "$WORK/good.yaml"
rr -f "$WORK/good.yaml" validate-config
is "config: the base of the broken ones is valid (exit 0)" "$rc" 0

{ head6; svc mx; echo "state_dir: /elsewhere"; } > "$WORK/bad.yaml"
bad_config "duplicate top-level key" 10:1 'duplicate key "state_dir"'
{ head6; svc mx; echo "    hosts: [mx2.example.test]"; } > "$WORK/bad.yaml"
bad_config "duplicate key in a service" 10:5 'duplicate key "hosts"'
{ head6; svc mx; printf '    dns:\n      ttl: 5\n      ttl: 6\n'; } > "$WORK/bad.yaml"
bad_config "duplicate key in a service's dns" 12:7 'duplicate key "ttl"'
{ head6; svc mx; echo "    deploy: /x"; } > "$WORK/bad.yaml"
bad_config "unknown key in a service" 10:5 'unknown key "deploy"'
{ head6; svc mx; printf '    dns:\n      primry: 192.0.2.1\n'; } > "$WORK/bad.yaml"
bad_config "unknown key in a service's dns" 11:7 'unknown key "primry"'
{ echo "state_dir: &s $ST"; } > "$WORK/bad.yaml"
bad_config "an anchor" 1:12 'anchors'
{ head6; svc mx; printf '  - name: b\n    deploy_dir: *s\n'; } > "$WORK/bad.yaml"
bad_config "an alias" 11:17 'aliases'
{ echo "state_dir: !!str $ST"; } > "$WORK/bad.yaml"
bad_config "a tag" 1:12 'tags'
{ head6; svc mx; echo "    key_type: yes"; } > "$WORK/bad.yaml"
bad_config "yes where a string is wanted" 10:15 'boolean'
{ head6; svc mx; echo "    port: 70000"; } > "$WORK/bad.yaml"
bad_config "port 70000" 10:11 '"70000" is not a number'
{ head6; svc mx; echo "    port: 0"; } > "$WORK/bad.yaml"
bad_config "port 0" 10:11 '1-65535'
{ head6; svc mx; echo '    records: ["3 1 1", "1 1 1"]'; } > "$WORK/bad.yaml"
bad_config "records with usage 1" 10:24 'usages 0 and 1'
{ head6; svc mx; printf -- '---\nstate_dir: /x\n'; } > "$WORK/bad.yaml"
bad_config "two YAML documents" 10:1 'more than one YAML document'
{ printf 'state_dir: %s\ndns:\n  min_hold: 1fortnight\n' "$ST"; } > "$WORK/bad.yaml"
bad_config "a bad duration" 3:13 'duration'
{ printf 'state_dir: %s\ndns:\n  ttl: 0\n' "$ST"; } > "$WORK/bad.yaml"
bad_config "ttl 0" 3:8 'more than 0'
{ head6; svc mx; printf '    reload: postfix reload\n'; } > "$WORK/bad.yaml"
bad_config "reload not a list" 10:13 'want a list'
# Checks made on a whole service point at the service (line 7, column 5).
{ head6 "$WORK/tsig644.key"; svc mx; } > "$WORK/bad.yaml"
bad_config "TSIG key file mode 0644" 7:5 'chmod 600'
{ head6; svc mx; svc mx; } > "$WORK/bad.yaml"
bad_config "duplicate service name" 10:5 'defined twice'
{ printf 'state_dir: %s\ndns:\n  primary: 192.0.2.53\n  tsig_key_file: %s\nservices:\n' "$ST" "$WORK/tsig.key"; svc mx; } > "$WORK/bad.yaml"
bad_config "no resolver and no trust_anchor_file" 6:5 'resolver'
: > "$WORK/bad.yaml"
fails_with "config: an empty file" 2 "^tlsa-rollover: $WORK/bad.yaml(:1:1)?: .*empty" -f "$WORK/bad.yaml" validate-config
# The same error whatever the command
{ head6; svc mx; echo "state_dir: /elsewhere"; } > "$WORK/bad.yaml"
fails_with "config: the error comes before any command (status)" 2 "^tlsa-rollover: $WORK/bad.yaml:10:1: " -f "$WORK/bad.yaml" status
fails_with "config: the error comes before any command (run)" 2 "^tlsa-rollover: $WORK/bad.yaml:10:1: " -f "$WORK/bad.yaml" run
fails_with "config: a missing file" 2 "^tlsa-rollover: $WORK/nothere.yaml: " -f "$WORK/nothere.yaml" status
fails_with "config: a directory" 2 "^tlsa-rollover: $WORK: " -f "$WORK" status
[ ! -e "$ST" ]
is "config: no state directory was created by any of that" "$?" 0

# ---- bad command lines: exit 2, one line ----------------------------------------
C="-f $CFG"
fails_with "usage: unknown command" 2 'unknown command' $C frobnicate
fails_with "usage: import with too few arguments" 2 'import: missing KEY \(usage: tlsa-rollover import SERVICE CERT KEY \[CHAIN\]\)' $C import mx "$WORK/pki/A.pem"
fails_with "usage: import with too many arguments" 2 'import: too many arguments' $C import mx "$WORK/pki/A.pem" "$WORK/pki/A.key" "$WORK/pki/int.pem" extra
fails_with "usage: stage without a service" 2 'stage: missing SERVICE' $C stage
fails_with "usage: stage with too many arguments" 2 'stage: too many arguments' $C stage mx mx extra
fails_with "usage: abort without a service" 2 'abort: missing SERVICE' $C abort
fails_with "usage: publish without a service" 2 'publish: missing SERVICE' $C publish
fails_with "usage: validate-config with an argument" 2 'validate-config: too many arguments' $C validate-config mx
fails_with "usage: import for an unknown service" 2 'no service "nosuch"' $C import nosuch "$WORK/pki/A.pem" "$WORK/pki/A.key"
fails_with "usage: stage for an unknown service" 2 'no service "nosuch"' $C stage nosuch
fails_with "usage: abort for an unknown service" 2 'no service "nosuch"' $C abort nosuch
fails_with "usage: switch for an unknown service" 2 'no service "nosuch"' $C switch nosuch
fails_with "usage: run for an unknown service" 2 'no service "nosuch"' $C run nosuch
fails_with "usage: status for an unknown service" 2 'no service "nosuch"' $C status nosuch
rr $C
is "usage: no command: exit 2" "$rc" 2
rr $C --no-such-option status
is "usage: an unknown option: exit 2" "$rc" 2
[ ! -e "$ST" ]
is "usage: no state directory was created by any of that" "$?" 0

# ---- import of bad files: exit 1, one line naming the file, nothing changes -----
rr $C import mx "$WORK/pki/A.chain.pem" "$WORK/pki/A.key"
is "import: a good certificate is taken" "$rc" 0
like "import: and the state says publish" "$(cat "$ST/mx/state" 2>&1)" '^phase: publish'
s0=$(snap_nolock)
cp -a "$ST" "$WORK/state.saved" || bail "cannot copy the state directory"

# bad_import NAME FILE-IN-MESSAGE REASON-ERE CERT KEY [CHAIN]
# (a case that wrongly changes the state directory is reported, and the
# directory put back, so that it does not spoil the cases after it)
bad_import() {
	_bn=$1 _bf=$2 _br=$3
	shift 3
	fails_with "import: $_bn" 1 "^tlsa-rollover: mx: $_bf: .*$_br" $C import mx "$@"
	_s1=$(snap_nolock)
	is "import: $_bn: the state directory is unchanged" "$_s1" "$s0"
	if [ "$_s1" != "$s0" ]; then
		rm -rf "$ST" && cp -a "$WORK/state.saved" "$ST" || bail "cannot restore the state directory"
	fi
}
B=$WORK/bad
P=$WORK/pki
bad_import "an empty certificate file" "$B/empty.pem" 'empty' "$B/empty.pem" "$P/B.key"
bad_import "a garbage certificate file" "$B/garbage.pem" '' "$B/garbage.pem" "$P/B.key"
bad_import "random bytes as the certificate" "$B/random.der" '' "$B/random.der" "$P/B.key"
bad_import "a truncated PEM certificate" "$B/truncated.pem" '' "$B/truncated.pem" "$P/B.key"
bad_import "a missing certificate file" "$B/nothere.pem" 'No such file' "$B/nothere.pem" "$P/B.key"
bad_import "a key file as the certificate" "$P/B.key" 'no certificate' "$P/B.key" "$P/B.key"
bad_import "an empty key file" "$B/empty.pem" 'empty' "$P/B.pem" "$B/empty.pem"
bad_import "a garbage key file" "$B/garbage.pem" '' "$P/B.pem" "$B/garbage.pem"
bad_import "a certificate as the key" "$P/B.pem" 'no private key' "$P/B.pem" "$P/B.pem"
bad_import "a key that does not match" "$P/A.key" 'does not belong' "$P/B.pem" "$P/A.key"
bad_import "an expired certificate" "$B/expired.pem" 'expired' "$B/expired.pem" "$B/expired.key"
bad_import "a certificate not valid yet" "$B/future.pem" '(not valid|valid from|not yet)' "$B/future.pem" "$B/future.key"
bad_import "a certificate for other names" "$P/other.pem" 'mx1.example.test' "$P/other.pem" "$P/other.key"
bad_import "an encrypted key (PKCS#8)" "$B/enc-pkcs8.key" 'encrypted' "$P/B.pem" "$B/enc-pkcs8.key"
bad_import "an encrypted key (traditional PEM)" "$B/enc-trad.key" 'encrypted' "$P/B.pem" "$B/enc-trad.key"
bad_import "a garbage chain file" "$B/garbage.pem" '' "$P/B.pem" "$P/B.key" "$B/garbage.pem"
bad_import "a chain from another CA" "$WORK/pki2/int.pem" 'did not issue' "$P/B.pem" "$P/B.key" "$WORK/pki2/int.pem"

# ---- a damaged state file: refused, named with its line, left alone ------------
cp "$ST/mx/state" "$WORK/state.good"
certs0=$(ls "$ST/mx/certs")
# damaged NAME LINE: the damaged content is in the state file already
damaged() {
	cp "$ST/mx/state" "$WORK/state.damaged"
	fails_with "damaged state ($1): status refuses" 1 "$ST/mx/state: line $2:" $C status
	fails_with "damaged state ($1): run refuses" 1 "$ST/mx/state: line $2:" $C run
	fails_with "damaged state ($1): import refuses" 1 "$ST/mx/state: line $2:" $C import mx "$P/B.chain.pem" "$P/B.key"
	cmp -s "$ST/mx/state" "$WORK/state.damaged"
	is "damaged state ($1): the file is left as it was" "$?" 0
	is "damaged state ($1): import stored nothing" "$(ls "$ST/mx/certs")" "$certs0"
}
printf '# tlsa-rollover state\nphase: publish\n%%%%garbage\nupdated_at: 1\n' > "$ST/mx/state"
damaged "a garbage line" 3
printf '# tlsa-rollover state\nphase: publish\nfrobnicate: 1\nupdated_at: 1\n' > "$ST/mx/state"
damaged "an unknown key" 3
printf '# tlsa-rollover state\nphase: publish\npending: 0123' > "$ST/mx/state"
damaged "truncated without a newline" 3
printf '# tlsa-rollover state\nphase: pub\000lish\nupdated_at: 1\n' > "$ST/mx/state"
damaged "a NUL byte" 2
printf '# tlsa-rollover state of service mx; written by tlsa-rollover, do not edit\n' > "$ST/mx/state"
rr $C status
if [ "$rc" -ne 0 ] && grep -q "$ST/mx/state" "$WORK/err"; then
	_report 0 "damaged state (only the comment line): status refuses, naming the file"
else
	_report 1 "damaged state (only the comment line): status refuses, naming the file" \
		"exit $rc; stdout: $(cat "$WORK/out")" "stderr: $(cat "$WORK/err")" \
		"a state file without phase and updated_at read as a fresh STEADY state is a silent reset"
fi
cp "$WORK/state.good" "$ST/mx/state"
rr $C status
is "a good state file again: status exit 0" "$rc" 0

# ---- run with DNS unreachable: one line, exit 1, only the alert recorded --------
s0=$(snap_nolock)
strip() { grep -v '^alert: \|^updated_at: ' "$1"; }
t0=$(date +%s)
fails_with "run, DNS unreachable: exit 1, one line naming the server" 1 '127\.0\.0\.1@5399' $C run 
t1=$(date +%s)
ok "run, DNS unreachable: gives up within 30 s (took $((t1 - t0)) s)" test $((t1 - t0)) -le 30
is "run, DNS unreachable: the state is unchanged apart from the alert" "$(strip "$ST/mx/state")" "$(strip "$WORK/state.good")"
like "run, DNS unreachable: the alert is recorded" "$(grep '^alert: ' "$ST/mx/state")" '127\.0\.0\.1@5399'
is "run, DNS unreachable: no other file changed" "$(snap_nolock | grep -v '  \./mx/state\(\.prev\)\{0,1\}$\|^\./mx/state\(\.prev\)\{0,1\} ')" \
	"$(printf '%s\n' "$s0" | grep -v '  \./mx/state\(\.prev\)\{0,1\}$\|^\./mx/state\(\.prev\)\{0,1\} ')"
rr $C status
is "status after the failed run: exit 1 (an alert is raised)" "$rc" 1
like "status after the failed run: shows the alert" "$(cat "$WORK/out")" 'ALERT.*127\.0\.0\.1@5399'
fails_with "publish by hand, DNS unreachable: exit 1, one line" 1 '127\.0\.0\.1@5399' $C publish mx
is "publish by hand, DNS unreachable: the state is unchanged apart from the alert" "$(strip "$ST/mx/state")" "$(strip "$WORK/state.good")"

# ---- --dry-run changes nothing on disk (lock file included) ---------------------
s0=$(snap)
rr -n $C import mx "$P/B.chain.pem" "$P/B.key"
is "dry-run import: exit 0" "$rc" 0
like "dry-run import: says what it would do" "$(cat "$WORK/out")" 'would'
is "dry-run import: nothing changed on disk" "$(snap)" "$s0"
rr -n $C stage mx
is "dry-run stage: exit 0" "$rc" 0
like "dry-run stage: says what it would do" "$(cat "$WORK/out")" 'would'
is "dry-run stage: nothing changed on disk" "$(snap)" "$s0"
rr -n $C abort mx
is "dry-run abort: exit 0" "$rc" 0
like "dry-run abort: says what it would do" "$(cat "$WORK/out")" 'would'
is "dry-run abort: nothing changed on disk" "$(snap)" "$s0"
rr -n $C run
is "dry-run run (DNS unreachable): nothing changed on disk, not even the alert" "$(snap)" "$s0"
rr -n $C publish mx
is "dry-run publish (DNS unreachable): nothing changed on disk" "$(snap)" "$s0"
rr -n $C import mx "$B/expired.pem" "$B/expired.key"
is "dry-run import of a bad certificate: exit 1" "$rc" 1
is "dry-run import of a bad certificate: nothing changed on disk" "$(snap)" "$s0"
# On a fresh installation, a dry run must not create the state directory.
write_config "$WORK/fresh.yaml" "$WORK/fresh-state"
rr -n -f "$WORK/fresh.yaml" import mx "$P/B.chain.pem" "$P/B.key"
is "dry-run import, fresh installation: exit 0" "$rc" 0
[ ! -e "$WORK/fresh-state" ]
is "dry-run import, fresh installation: no state directory created" "$?" 0
rr -n -f "$WORK/fresh.yaml" stage mx
[ ! -e "$WORK/fresh-state" ]
is "dry-run stage, fresh installation: no state directory created" "$?" 0

# A state directory that is a symlink, or that others may write, holds
# keys an attacker could swap or read: refused before anything is done.
mkdir -p "$WORK/real-state"
chmod 700 "$WORK/real-state"
ln -s "$WORK/real-state" "$WORK/link-state"
write_config "$WORK/link.yaml" "$WORK/link-state"
rr -f "$WORK/link.yaml" import mx "$P/B.chain.pem" "$P/B.key"
is "state_dir is a symlink: exit 1" "$rc" 1
like "state_dir is a symlink: says so" "$(err1)" "link-state: not a directory \\(a symlink is refused"
is "state_dir is a symlink: one line" "$(nlines "$WORK/err")" 1
is "state_dir is a symlink: nothing written through it" "$(ls -A "$WORK/real-state")" ""
mkdir -p "$WORK/open-state"
chmod 777 "$WORK/open-state"
write_config "$WORK/open.yaml" "$WORK/open-state"
rr -f "$WORK/open.yaml" import mx "$P/B.chain.pem" "$P/B.key"
is "state_dir writable by others: exit 1" "$rc" 1
like "state_dir writable by others: says so" "$(err1)" "open-state: must be owned by uid 0 and not writable by group or others"
is "state_dir writable by others: nothing written" "$(ls -A "$WORK/open-state")" ""

done_testing
