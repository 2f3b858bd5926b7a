#!/bin/sh
# 20-badinput.t: a catalogue of bad inputs.  Each must give exit status 1,
# nothing at all on standard output, and exactly one line on standard
# error that names the input (file, -r spec, or record) and says what is
# wrong (matched against a reason pattern).
. "$(dirname "$0")/../lib.sh"

need_cmd openssl
FX=$TOP/tests/fixtures
HOST=mx.example.net
[ -x "$TLSAGEN" ] || bail "TLSAGEN=$TLSAGEN is not an executable"
[ -f "$FX/p256/fullchain.pem" ] && [ -f "$FX/bad/dsa.pem" ] ||
    bail "fixtures are missing (run tests/fixtures/make-fixtures.sh)"
GOOD=$FX/p256/leaf.pem
GOOD2=$FX/rsa2048/fullchain.pem
B=$WORK/bad
mkdir "$B"

# ERE that matches the string s literally.
ere() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'; }

# run ARGS...: run tlsagen (stdin from $STDIN, default /dev/null); sets rc,
# out, err.
run() {
	"$TLSAGEN" "$@" < "${STDIN:-/dev/null}" > "$WORK/stdout" 2> "$WORK/stderr"
	rc=$?
}

# check NAME WHAT_ERE REASON_ERE [RC]: the last run failed cleanly: exit RC
# (default 1), empty stdout, one stderr line naming the input (matching
# WHAT_ERE; ere "literal" makes one) and matching REASON_ERE (compared
# lowercased).
check() {
	is "$1: exit status ${4:-1}" "$rc" "${4:-1}"
	is "$1: nothing on stdout" "$(cat "$WORK/stdout")" ""
	is "$1: exactly one line on stderr" "$(wc -l < "$WORK/stderr" | tr -d ' ')" 1
	like "$1: the error names the input" "$(cat "$WORK/stderr")" "$2"
	like "$1: the error says why" "$(tr 'A-Z' 'a-z' < "$WORK/stderr")" "$3"
}

# bad NAME FILE REASON_ERE [more tlsagen args before FILE]
bad() {
	_n1=$1 _f=$2 _re=$3
	shift 3
	run "$@" "$_f"
	check "$_n1" "$(ere "$_f")" "$_re"
}

# --- files that are not there or not files ----------------------------

: > "$B/empty.pem"
bad "empty file" "$B/empty.pem" "empty"
mkdir "$B/dir.pem"
bad "directory" "$B/dir.pem" "directory"
bad "nonexistent file" "$B/no-such-file.pem" "no such file|does not exist|not found"
mkfifo "$B/fifo.pem" 2>/dev/null &&
    bad "named pipe" "$B/fifo.pem" "not a regular file|fifo|pipe"

cp "$GOOD" "$B/unreadable.pem"
chmod 000 "$B/unreadable.pem"
if [ "$(id -u)" -ne 0 ]; then
	bad "unreadable file (mode 000)" "$B/unreadable.pem" "permission denied|not readable|cannot read"
elif command -v setpriv >/dev/null 2>&1 && chmod 711 "$WORK" "$B" &&
    setpriv --reuid=65534 --regid=65534 --clear-groups "$TLSAGEN" --version >/dev/null 2>&1; then
	diag "running as root: the unreadable-file case runs tlsagen as uid 65534 (setpriv)"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$TLSAGEN" "$B/unreadable.pem" \
	    < /dev/null > "$WORK/stdout" 2> "$WORK/stderr"
	rc=$?
	check "unreadable file (mode 000, as uid 65534)" "$(ere "$B/unreadable.pem")" \
	    "permission denied|not readable|cannot read"
else
	diag "SKIP unreadable file: running as root (mode 000 does not stop root) and cannot drop to uid 65534 with setpriv"
fi

# Oversized: one byte over 4 MiB, as a file and on a pipe; exactly 4 MiB
# (a good certificate padded with text after it) is still fine.
head -c 4194305 /dev/zero > "$B/huge.pem"
bad "oversized file (4 MiB + 1)" "$B/huge.pem" "too (large|big)|limit|size"
head -c 5000000 /dev/zero | "$TLSAGEN" - > "$WORK/stdout" 2> "$WORK/stderr"
rc=$?
check "oversized standard input (pipe)" "(^|[ :])-:|standard input|stdin" "too (large|big)|limit|size"
cp "$GOOD" "$B/exactly4m.pem"
sz=$(wc -c < "$B/exactly4m.pem")
awk 'BEGIN { for (i = 0; i < 80000; i++) print "padding padding padding padding padding padding padding" }' |
    head -c $((4194304 - sz)) >> "$B/exactly4m.pem"
is "4 MiB file is exactly 4194304 bytes" "$(wc -c < "$B/exactly4m.pem" | tr -d ' ')" 4194304
run "$B/exactly4m.pem"
is "a file of exactly 4 MiB is accepted" "$rc:$(cat "$WORK/stderr")" "0:"

# A file name with control characters is still one line, and carries no
# raw control bytes to the terminal.
nl=$(printf '%s/new\nline.pem' "$B")
: > "$nl"
run "$nl"
check "empty file whose name has a newline" "new.{1,4}line\\.pem" "empty"
run "$(printf '%s/esc\033[31mred.pem' "$B")"
check "nonexistent file whose name has an ESC" "esc.{1,4}\\[31mred\\.pem" "no such file|does not exist|not found"
is "nonexistent file whose name has an ESC: no raw ESC on stderr" \
    "$(tr -dc '\033' < "$WORK/stderr" | wc -c | tr -d ' ')" 0

# --- broken PEM and DER ----------------------------------------------

head -c 600 "$GOOD" > "$B/truncated.pem"
bad "truncated PEM (no END line)" "$B/truncated.pem" "truncat|malformed|incomplete|end"
{ head -n 6 "$GOOD"; echo "-----END CERTIFICATE-----"; } > "$B/short-body.pem"
bad "PEM certificate with a truncated body" "$B/short-body.pem" "truncat|malformed|too short|asn1|der"
sed '3,6s/[A-Za-z]/@/g' "$GOOD" > "$B/bad-base64.pem"
bad "PEM with invalid base64" "$B/bad-base64.pem" "malformed|invalid|base64|bad"
printf '%s\n' '-----BEGIN CERTIFICATE-----' 'VGhpcyBpcyBub3QgYSBjZXJ0aWZpY2F0ZSBhdCBhbGwuCg==' \
    '-----END CERTIFICATE-----' > "$B/garbage-body.pem"
bad "PEM certificate whose body is not DER" "$B/garbage-body.pem" "malformed|invalid|asn1|der|not a cert"
# Deterministic pseudo-random bytes (AES-CTR over zeros with a fixed key).
head -c 3000 /dev/zero | openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f \
    -iv 00000000000000000000000000000000 > "$B/random.bin"
bad "random binary" "$B/random.bin" "not a certificate or key|neither pem nor der|unrecognized|unknown format|not pem"
{ printf '\060\202\013\270'; cat "$B/random.bin"; } > "$B/random-seq.der"
bad "binary that starts like a DER SEQUENCE" "$B/random-seq.der" "not a certificate or key|neither pem nor der|malformed|unrecognized"
{ openssl x509 -in "$GOOD" -outform DER; printf 'trailing'; } > "$B/trailing.der"
bad "DER certificate with trailing bytes" "$B/trailing.der" "trailing"
{ echo "-----BEGIN CERTIFICATE-----"
  { openssl x509 -in "$GOOD" -outform DER; printf 'trailing'; } | openssl base64
  echo "-----END CERTIFICATE-----"; } > "$B/trailing-in-pem.pem"
bad "PEM certificate with trailing bytes inside the block" "$B/trailing-in-pem.pem" "trailing"
{ cat "$GOOD"; head -c 700 "$FX/p256/int.pem"; } > "$B/truncated-second.pem"
bad "chain truncated in its second PEM block" "$B/truncated-second.pem" "truncat|malformed|incomplete"
printf '%s\n' '-----BEGIN X509 CRL-----' 'MAA=' '-----END X509 CRL-----' > "$B/crl.pem"
bad "PEM block of an unsupported type (X509 CRL)" "$B/crl.pem" "unsupported.*x509 crl|x509 crl.*(unsupported|not supported)"
openssl req -new -key "$FX/p256/leaf.key.pem" -subj "/CN=$HOST" -out "$B/csr.pem" 2>/dev/null
bad "PEM block of an unsupported type (CERTIFICATE REQUEST)" "$B/csr.pem" "unsupported.*certificate request|certificate request.*(unsupported|not supported)"

# --- keys ------------------------------------------------------------

bad "encrypted PKCS#8 private key" "$FX/bad/encrypted-pkcs8.key.pem" "encrypted"
bad "encrypted traditional private key (Proc-Type)" "$FX/bad/encrypted-trad.key.pem" "encrypted"
cat "$FX/p256/leaf.key.pem" "$FX/p384/leaf.pem" > "$B/key-cert-mismatch.pem"
bad "key and certificate that do not belong together" "$B/key-cert-mismatch.pem" \
    "does not (belong|match)|mismatch|not the key of|do not match"
cat "$FX/rsa2048/leaf.pem" "$FX/ed25519/leaf.key.pem" > "$B/cert-key-mismatch.pem"
bad "certificate then a key of another type" "$B/cert-key-mismatch.pem" \
    "does not (belong|match)|mismatch|not the key of|do not match"
cat "$FX/p256/leaf.key.pem" "$FX/p384/leaf.key.pem" > "$B/two-keys.pem"
bad "two keys in one file" "$B/two-keys.pem" "(more than one|two|several|multiple) (private )?keys?"
cat "$FX/p256/leaf.key.pem" "$FX/p256/leaf.pub.pem" "$FX/p384/leaf.pub.pem" > "$B/key-and-pubkeys.pem"
bad "a private key and two public keys in one file" "$B/key-and-pubkeys.pem" "(more than one|two|several|multiple) (private |public )?keys?"
bad "DSA certificate" "$FX/bad/dsa.pem" "dsa"
bad "DSA private key" "$FX/bad/dsa.key.pem" "dsa" -H "$HOST"
bad "EC certificate on secp256k1" "$FX/bad/secp256k1.pem" "unsupported.*secp256k1|secp256k1.*(unsupported|not supported)"
bad "EC private key on secp256k1" "$FX/bad/secp256k1.key.pem" "secp256k1" -H "$HOST"
bad "EC public key on secp256k1" "$FX/bad/secp256k1.pub.pem" "secp256k1" -H "$HOST"
bad "EC certificate on brainpoolP256r1" "$FX/bad/brainpool.pem" "unsupported.*brainpool|brainpool.*(unsupported|not supported)"

# --- chains ----------------------------------------------------------

# The second certificate did not issue the leaf: a broken chain, which
# would leave 2 x x records unverifiable when served.
cat "$FX/p256/leaf.pem" "$FX/p384/int.pem" > "$B/wrong-chain.pem"
bad "chain whose second certificate did not issue the leaf" "$B/wrong-chain.pem" \
    "issue|chain|not signed|does not sign"

# --- PKCS#7 bundles that are not a certificate chain ---------------------

P=$FX/p256
openssl crl2pkcs7 -nocrl -outform DER -out "$B/p7-no-certs.p7b" 2>/dev/null
bad "PKCS#7 (DER) with no certificates" "$B/p7-no-certs.p7b" "pkcs#7.*no certificates"
openssl crl2pkcs7 -nocrl -out "$B/p7-no-certs.pem" 2>/dev/null
bad "PKCS#7 (PEM) with no certificates" "$B/p7-no-certs.pem" "pkcs#7.*no certificates"
printf '\060\013\006\011\052\206\110\206\367\015\001\007\002' > "$B/p7-no-content.p7"
bad "PKCS#7 signed-data with no content" "$B/p7-no-content.p7" "pkcs#7.*no content"
echo "not a certificate" > "$B/data.txt"
openssl cms -data_create -in "$B/data.txt" -outform DER -out "$B/p7-data.p7" 2>/dev/null
bad "PKCS#7 of type data" "$B/p7-data.p7" "pkcs#7 of type pkcs7-data"
openssl smime -encrypt -in "$B/data.txt" -outform DER -out "$B/p7-enveloped.p7" \
    "$FX/rsa2048/leaf.pem" 2>/dev/null
bad "PKCS#7 enveloped-data" "$B/p7-enveloped.p7" "pkcs#7 of type pkcs7-envelopeddata"
openssl smime -sign -in "$B/data.txt" -signer "$P/leaf.pem" -inkey "$P/leaf.key.pem" \
    -certfile "$P/int.pem" -nodetach -outform DER -out "$B/p7-signed.p7" 2>/dev/null
bad "PKCS#7 signed message (with signers)" "$B/p7-signed.p7" "signed message.*not a certificates-only bundle"
openssl crl2pkcs7 -nocrl -certfile "$P/fullchain.pem" -outform DER -out "$B/good.p7b" 2>/dev/null
openssl crl2pkcs7 -nocrl -certfile "$P/fullchain.pem" -out "$B/good.p7b.pem" 2>/dev/null
run "$B/good.p7b"
is "the good PKCS#7 bundle these are made from is accepted" "$rc:$(cat "$WORK/stderr")" "0:"
head -c 400 "$B/good.p7b" > "$B/p7-truncated.p7b"
bad "PKCS#7 (DER) cut short" "$B/p7-truncated.p7b" "malformed pkcs#7"
{ cat "$B/good.p7b"; printf 'trailing'; } > "$B/p7-trailing.p7b"
bad "PKCS#7 (DER) with trailing bytes" "$B/p7-trailing.p7b" "trailing bytes after pkcs#7"
printf '%s\n' '-----BEGIN PKCS7-----' 'VGhpcyBpcyBub3QgYSBjZXJ0aWZpY2F0ZSBhdCBhbGwuCg==' \
    '-----END PKCS7-----' > "$B/p7-garbage.pem"
bad "PEM PKCS7 block whose body is not DER" "$B/p7-garbage.pem" "block 1: malformed pkcs#7"
cat "$P/leaf.pem" "$FX/p384/int.pem" > "$B/two-chains.pem"
openssl crl2pkcs7 -nocrl -certfile "$B/two-chains.pem" -outform DER -out "$B/p7-two-chains.p7b" 2>/dev/null
bad "PKCS#7 bundle of two unrelated certificates" "$B/p7-two-chains.p7b" "not one chain"
cat "$P/leaf.pem" "$P/root.pem" > "$B/gap.pem"
openssl crl2pkcs7 -nocrl -certfile "$B/gap.pem" -outform DER -out "$B/p7-gap.p7b" 2>/dev/null
bad "PKCS#7 bundle of a leaf and its root without the intermediate" "$B/p7-gap.p7b" "not one chain"
cat "$B/good.p7b.pem" "$P/int.pem" > "$B/p7-then-cert.pem"
bad "PEM: a PKCS7 bundle, then a CERTIFICATE block" "$B/p7-then-cert.pem" "block 2: .*give the chain one way"
cat "$P/leaf.pem" "$B/good.p7b.pem" > "$B/cert-then-p7.pem"
bad "PEM: a CERTIFICATE block, then a PKCS7 bundle" "$B/cert-then-p7.pem" "block 2: .*give the chain one way"
cat "$FX/p384/leaf.key.pem" "$B/good.p7b.pem" > "$B/p7-other-key.pem"
bad "PEM: a key and a PKCS7 bundle of another key's chain" "$B/p7-other-key.pem" "does not belong"
i=0
while [ $i -lt 65 ]; do cat "$P/leaf.pem"; i=$((i + 1)); done > "$B/65.pem"
openssl crl2pkcs7 -nocrl -certfile "$B/65.pem" -outform DER -out "$B/p7-65.p7b" 2>/dev/null
bad "PKCS#7 bundle of 65 certificates" "$B/p7-65.p7b" "65 certificates, more than 64"
i=0
while [ $i -lt 64 ]; do cat "$P/leaf.pem"; i=$((i + 1)); done > "$B/64.pem"
openssl crl2pkcs7 -nocrl -certfile "$B/64.pem" -outform DER -out "$B/p7-64.p7b" 2>/dev/null
run "$B/p7-64.p7b"
is "PKCS#7 bundle of 64 copies of one certificate: its records" "$rc:$(cat "$WORK/stdout")" "0:$("$TLSAGEN" "$P/leaf.pem")"
openssl crl2pkcs7 -nocrl -certfile "$FX/bad/dsa.pem" -outform DER -out "$B/p7-dsa.p7b" 2>/dev/null
bad "PKCS#7 bundle of a DSA certificate" "$B/p7-dsa.p7b" "dsa"
run -i "$B/p7-no-certs.p7b" "$GOOD"
check "-i with a PKCS#7 bundle with no certificates" "$(ere "$B/p7-no-certs.p7b")" "pkcs#7.*no certificates"
run -i "$B/p7-data.p7" "$GOOD"
check "-i with a PKCS#7 of type data" "$(ere "$B/p7-data.p7")" "pkcs#7 of type pkcs7-data"

# --- bad -i issuers and -o outputs --------------------------------------

run -i "$B/empty.pem" "$GOOD"
check "-i with an empty file" "$(ere "$B/empty.pem")" "empty"
run -i "$B/no-such-issuer.pem" "$GOOD"
check "-i with a nonexistent file" "$(ere "$B/no-such-issuer.pem")" "no such file|does not exist|not found"
run -i "$FX/p256/int.key.pem" "$GOOD"
check "-i with a private key" "$(ere "$FX/p256/int.key.pem")" "private key"
run -i "$FX/bad/dsa.pem" "$GOOD"
check "-i with a DSA certificate" "$(ere "$FX/bad/dsa.pem")" "dsa"
run -o "$WORK/no-such-dir/out.zone" "$GOOD"
check "-o into a nonexistent directory" "$(ere "$WORK/no-such-dir/out.zone")" "no such file|does not exist|not found"

# --- record specs and SMTP usages --------------------------------------

for spec in "3,1" "3,1,1,1" "" "4,1,1" "256,1,1" "3,2,1" "3,1,3" "dane-ee,spki,md5" "dane-xx,spki,sha2-256"; do
	run -r "$spec" "$GOOD"
	check "bad -r \"$spec\"" "\"$(ere "$spec")\"|-r $(ere "$spec")" "want|bad|no defined|cannot|unknown|invalid"
done

for spec in "1,1,1=1,1,1" "0,1,1=0,1,1" "pkix-ee,spki,sha2-256=1,1,1"; do
	num=${spec#*=} spec=${spec%=*}
	for port in 25 465 587; do
		run -p "$port" -r "$spec" "$FX/p256/fullchain.pem"
		# The error may name the spec as given or in numbers.
		check "-r $spec for port $port without --force is refused" "$(ere "$spec")|$(ere "$num")" "rfc 7672"
		like "-r $spec for port $port: the error mentions --force" "$(cat "$WORK/stderr")" "--force"
	done
done
run -r 1,1,1 --force "$FX/p256/fullchain.pem"
is "-r 1,1,1 --force for port 25: exit 0" "$rc" 0
like "-r 1,1,1 --force for port 25: prints the 1 1 1 record" "$(cat "$WORK/stdout")" \
    "^_25\._tcp\.mx\.example\.net\. IN TLSA 1 1 1 [0-9a-fA-F]{64}$"
run -r 0,1,1 --force "$FX/p256/fullchain.pem"
like "-r 0,1,1 --force for port 25: prints the 0 1 1 record" "$rc:$(cat "$WORK/stdout")" \
    "^0:_25\._tcp\.mx\.example\.net\. IN TLSA 0 1 1 [0-9a-fA-F]{64}$"
run -p 443 -r 1,1,1 "$FX/p256/fullchain.pem"
is "-r 1,1,1 for port 443 needs no --force" "$rc:$(cat "$WORK/stderr")" "0:"

# --- good and bad inputs together --------------------------------------

for order in good-first bad-first; do
	if [ $order = good-first ]; then
		run "$GOOD" "$B/truncated.pem" "$GOOD2"
	else
		run "$B/truncated.pem" "$GOOD" "$GOOD2"
	fi
	check "good and bad files ($order): nothing printed" "$(ere "$B/truncated.pem")" "truncat|malformed|incomplete|end"
	like "good and bad files ($order): the error does not blame the good file" \
	    "$(grep -cF -- "$GOOD" "$WORK/stderr")" "^0$"
done
rm -f "$WORK/out.zone"
run -o "$WORK/out.zone" "$GOOD" "$B/empty.pem"
check "good and bad files with -o" "$(ere "$B/empty.pem")" "empty"
nok "good and bad files with -o: no output file written" test -e "$WORK/out.zone"
is "good and bad files with -o: no temporary file left" "$(find "$WORK" -maxdepth 1 -name 'out.zone*' | wc -l | tr -d ' ')" 0

"$TLSAGEN" "$GOOD" "$GOOD2" > "$WORK/good-only" 2>&1
run --keep-going "$GOOD" "$B/truncated.pem" "$GOOD2"
is "--keep-going: exit 1" "$rc" 1
is "--keep-going: the good records are printed" "$(cat "$WORK/stdout")" "$(cat "$WORK/good-only")"
is "--keep-going: exactly one line on stderr" "$(wc -l < "$WORK/stderr" | tr -d ' ')" 1
like "--keep-going: a warning naming the bad file" "$(cat "$WORK/stderr")" \
    "$(ere "$B/truncated.pem").*(truncat|malformed|incomplete)"
like "--keep-going: it is a warning (skipped)" "$(tr 'A-Z' 'a-z' < "$WORK/stderr")" "warning|skip"
run --keep-going "$B/empty.pem" "$GOOD" "$FX/bad/dsa.pem"
is "--keep-going, two bad files: exit 1" "$rc" 1
is "--keep-going, two bad files: the good records are printed" "$(cat "$WORK/stdout")" \
    "$("$TLSAGEN" "$GOOD" 2>&1)"
is "--keep-going, two bad files: one line per bad file" "$(wc -l < "$WORK/stderr" | tr -d ' ')" 2
like "--keep-going, two bad files: names the first" "$(cat "$WORK/stderr")" "$(ere "$B/empty.pem")"
like "--keep-going, two bad files: names the second" "$(cat "$WORK/stderr")" "$(ere "$FX/bad/dsa.pem")"

# --- --verify with bad records -----------------------------------------

z64=0000000000000000000000000000000000000000000000000000000000000000
for r in "3 1 1 zz" "3 1 1 abcd" "3 1 1 ${z64}00" "3 1 2 $z64" "bogus" "3 1" \
    "_25._tcp.mx.example.net. IN TLSA 3 1 1 xyz"; do
	run --verify "$r" "$GOOD"
	check "bad --verify record \"$r\"" "$(ere "$r")" "hex|bytes|length|not a tlsa|want|bad|invalid|malformed|too short"
done

ok=$("$TLSAGEN" "$GOOD" 2>/dev/null)
printf '%s\n; a comment\n_25._tcp.mx.example.net. IN TLSA 3 1 1 not-hex\n' "$ok" > "$B/verify-badline.zone"
run --verify "$B/verify-badline.zone" "$GOOD"
check "--verify file with a malformed line 3" "$(ere "$B/verify-badline.zone"): line [0-9]+" "line 3"
printf '%s\n\n\n_25._tcp.mx.example.net. IN A 192.0.2.1\n' "$ok" > "$B/verify-notlsa.zone"
run --verify "$B/verify-notlsa.zone" "$GOOD"
check "--verify file with a non-TLSA line 4" "$(ere "$B/verify-notlsa.zone"): line [0-9]+" "line 4"
printf '_25._tcp.mx.example.net. IN TLSA 3 1 1 %s\n%s\n' "$z64" "_25._tcp.mx.example.net. IN TYPE52 \\# 35 0301" > "$B/verify-badgeneric.zone"
run --verify "$B/verify-badgeneric.zone" "$GOOD"
check "--verify file with a bad generic (RFC 3597) line 2" "$(ere "$B/verify-badgeneric.zone"): line [0-9]+" "line 2"

# "cert.pem chain.pem" without -H: the chain is not a second server.
FX=$TOP/tests/fixtures/p256
run "$FX/leaf.pem" "$FX/int.pem"
check "a leaf and its issuer as two inputs, no -H" "$(ere "$FX/int.pem")" "a ca certificate, not a server's: give issuers with -i .* and the owner with -h"
run -f bogus "$GOOD"
check "-f with an unknown format" "-f bogus" "want zone, generic, json, nsupdate, fragment or signed"

done_testing
