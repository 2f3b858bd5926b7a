#!/bin/sh
# 10-crosscheck.t: tlsagen's records against independent implementations.
#
# For every fixture set (tests/fixtures/*/: RSA 2048/4096, ECDSA P-256/P-384,
# Ed25519, Ed448, and an ECDSA leaf under an RSA CA) and every usage 3 (leaf)
# and 2 (issuer: from the chain, and with -i) x selector 0/1 x matching type
# 0/1/2, tlsagen's record must equal (case-insensitively):
#   - hash-slinger (tlsa --create's own code, run now),
#   - GnuTLS danetool --tlsa-rr (matching types 1 and 2: it has no "Full"),
#   - an openssl pipeline (x509 -outform DER / -pubkey | pkey -pubin, dgst),
#   - the committed oracle tests/fixtures/expected-records.txt.
# Then: input forms, the default record set, mnemonics, output formats
# (checked with ldns-read-zone and python's json), --verify, many inputs,
# duplicate inputs.
. "$(dirname "$0")/../lib.sh"

need_cmd openssl tlsa danetool ldns-read-zone
FX=$TOP/tests/fixtures
EXPECTED=$FX/expected-records.txt
HOST=mx.example.net
OWNER=_25._tcp.mx.example.net.
SETS="rsa2048 rsa4096 p256 p384 ed25519 ed448 p256-rsaca"
[ -x "$TLSAGEN" ] || bail "TLSAGEN=$TLSAGEN is not an executable"
[ -f "$EXPECTED" ] || bail "$EXPECTED is missing (run tests/fixtures/make-fixtures.sh)"
for s in $SETS; do
	[ -f "$FX/$s/fullchain.pem" ] || bail "fixture set $s is missing (run tests/fixtures/make-fixtures.sh)"
done
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else need_cmd python3; PY=python3; fi

# rec: the "U S M data" of every TLSA line on stdin, data lowercased
# (zone or hash-slinger presentation form).
rec() {
	awk '{ for (i = 1; i < NF; i++) if (toupper($i) == "TLSA") {
		d = ""; for (j = i + 4; j <= NF; j++) d = d $j
		print $(i + 1), $(i + 2), $(i + 3), tolower(d); break } }'
}
# lc: stdin lowercased (whole zone lines compared case-insensitively).
lc() { tr 'A-Z' 'a-z'; }
# zl "U S M data": the zone line tlsagen prints for it, lowercased.
zl() { echo "$OWNER IN TLSA $1" | lc; }

# --- references ------------------------------------------------------

# hash-slinger's command line (tlsa --create), run now, for the default
# pair of each set: in the background, collected below.
for s in $SETS; do
	( tlsa --create --certificate "$FX/$s/leaf.pem" --port 25 --usage 3 --selector 1 --mtype 1 "$HOST"
	  tlsa --create --certificate "$FX/$s/int.pem" --port 25 --usage 2 --selector 1 --mtype 1 "$HOST"
	) 2>&1 | grep -E '[[:space:]]TLSA[[:space:]]' > "$WORK/hscli.$s" &
done

# The certificate a record of usage U is computed over.
certfile() { if [ "$2" = 3 ]; then echo "$FX/$1/leaf.pem"; else echo "$FX/$1/int.pem"; fi; }

# openssl: "U S M data" for set, usage, selector, mtype.
ossl_compute() {
	_f=$(certfile "$1" "$2")
	if [ "$3" = 0 ]; then
		openssl x509 -in "$_f" -outform DER
	else
		openssl x509 -in "$_f" -pubkey -noout | openssl pkey -pubin -outform DER
	fi > "$WORK/ossl.der" || return 1
	case $4 in
	0) _d=$(od -An -v -tx1 "$WORK/ossl.der" | tr -d ' \n') ;;
	1) _d=$(openssl dgst -sha256 -r "$WORK/ossl.der" | cut -d' ' -f1) ;;
	2) _d=$(openssl dgst -sha512 -r "$WORK/ossl.der" | cut -d' ' -f1) ;;
	esac
	echo "$2 $3 $4 $_d" | lc
}
# Computed once for every combination, looked up by ossl_rec.
for s in $SETS; do for u in 3 2; do for se in 0 1; do for m in 0 1 2; do
	echo "$s $(ossl_compute "$s" "$u" "$se" "$m")"
done; done; done; done > "$WORK/ossl.out"
ossl_rec() {
	awk -v s="$1" -v u="$2" -v se="$3" -v m="$4" \
	    '$1 == s && $2 == u && $3 == se && $4 == m { print $2, $3, $4, $5 }' "$WORK/ossl.out"
}

# danetool: "U S M data"; it prints "( 03 01 01 hex )" and knows only
# matching types 1 (sha256) and 2 (sha512).
dane_rec() {
	_f=$(certfile "$1" "$2")
	_a=""
	[ "$2" = 2 ] && _a="$_a --ca"
	[ "$3" = 0 ] && _a="$_a --x509"
	[ "$4" = 1 ] && _a="$_a --hash sha256"
	[ "$4" = 2 ] && _a="$_a --hash sha512"
	# shellcheck disable=SC2086
	danetool --tlsa-rr --load-certificate "$_f" --host "$HOST" --port 25 $_a 2>/dev/null |
	    awk '{ for (i = 1; i <= NF; i++) if ($i == "(") {
		print $(i + 1) + 0, $(i + 2) + 0, $(i + 3) + 0, tolower($(i + 4)); break } }'
}

# The committed oracle.
exp_rec() {
	awk -v s="$1" -v u="$2" -v se="$3" -v m="$4" \
	    '$1 == s && $5 == u && $6 == se && $7 == m { print $5, $6, $7, tolower($8) }' "$EXPECTED"
}

# hash-slinger, now.  Its tlsa script is loaded as a module and its own
# getLocalChain() and genTLSA() (what "tlsa --create --certificate F"
# runs) compute every record in one process: 84 separate runs of the
# script would take ~45 s.  If that ever breaks, run the CLI instead.
HS_BIN=$(command -v tlsa)
HS_PY=$(head -n 1 "$HS_BIN" | sed -n 's/^#! *\([^ ]*\).*/\1/p')
[ -n "$HS_PY" ] || HS_PY=$PY
for s in $SETS; do for u in 3 2; do for se in 0 1; do for m in 0 1 2; do
	echo "$s $(certfile "$s" "$u") $u $se $m"
done; done; done; done > "$WORK/hs.in"
cat > "$WORK/hs.py" <<'EOF'
import runpy, sys
hs = runpy.run_path(sys.argv[1], run_name="hash_slinger_tlsa")
for line in sys.stdin:
    name, f, u, s, m = line.split()
    chain, _ = hs["getLocalChain"](f, False)
    print(name, hs["genTLSA"](sys.argv[2], "tcp", "25", chain[0], "rfc",
                              int(u), int(s), int(m)))
EOF
if "$HS_PY" "$WORK/hs.py" "$HS_BIN" "$HOST" < "$WORK/hs.in" > "$WORK/hs.out" 2> "$WORK/hs.err" &&
    [ "$(wc -l < "$WORK/hs.out")" -eq "$(wc -l < "$WORK/hs.in")" ]; then
	diag "hash-slinger: $(wc -l < "$WORK/hs.out" | tr -d ' ') records from its genTLSA() in one process"
else
	diag "hash-slinger as a module failed ($(head -c 200 "$WORK/hs.err")): running tlsa --create for each record"
	while read -r s f u se m; do
		echo "$s $(tlsa --create --certificate "$f" --port 25 --usage "$u" \
		    --selector "$se" --mtype "$m" "$HOST" | grep -E '[[:space:]]TLSA[[:space:]]')"
	done < "$WORK/hs.in" > "$WORK/hs.out"
fi
hs_rec() {
	awk -v s="$1" '$1 == s' "$WORK/hs.out" | rec | awk -v u="$2" -v se="$3" -v m="$4" \
	    '$1 == u && $2 == se && $3 == m'
}

# --- every key type x usage x selector x matching type ---------------

diag "danetool has no matching type 0 (Full): it is compared for types 1 and 2 only"
for s in $SETS; do
	for u in 3 2; do for se in 0 1; do for m in 0 1 2; do
		c="$s $u $se $m"
		hs=$(hs_rec "$s" "$u" "$se" "$m")
		os=$(ossl_rec "$s" "$u" "$se" "$m")
		ex=$(exp_rec "$s" "$u" "$se" "$m")
		dt=""
		[ "$m" != 0 ] && dt=$(dane_rec "$s" "$u" "$se" "$m")
		if [ "$u" = 3 ]; then
			variants="leaf"
		elif [ "$se" = 1 ]; then
			variants="chain issuer-cert issuer-spki"
		else
			variants="chain issuer-cert"
		fi
		for v in $variants; do
			case $v in
			leaf)	got=$("$TLSAGEN" -r "$u,$se,$m" "$FX/$s/leaf.pem" 2>&1) ;;
			chain)	got=$("$TLSAGEN" -r "$u,$se,$m" "$FX/$s/fullchain.pem" 2>&1) ;;
			issuer-cert) got=$("$TLSAGEN" -r "$u,$se,$m" -i "$FX/$s/int.pem" "$FX/$s/leaf.pem" 2>&1) ;;
			issuer-spki) got=$("$TLSAGEN" -r "$u,$se,$m" -i "$FX/$s/int.pub.pem" "$FX/$s/leaf.pem" 2>&1) ;;
			esac
			t=$(printf '%s\n' "$got" | rec)
			if [ -z "$t" ] || [ "$(printf '%s\n' "$got" | wc -l)" -ne 1 ]; then
				is "$c ($v): one TLSA line" "$got" "$OWNER IN TLSA $ex"
				continue
			fi
			own=$(printf '%s\n' "$got" | awk '{ print $1 }')
			is "$c ($v): owner" "$own" "$OWNER"
			is "$c ($v) = hash-slinger" "$t" "$hs"
			is "$c ($v) = openssl" "$t" "$os"
			is "$c ($v) = expected-records.txt" "$t" "$ex"
			[ "$m" != 0 ] && is "$c ($v) = danetool" "$t" "$dt"
		done
	done; done; done
done

# The references must not all be empty for the same reason.
like "hash-slinger gave records" "$(head -n 1 "$WORK/hs.out")" " TLSA [0-3] [01] [0-2] [0-9a-f]+$"

# --- input forms: every form of the leaf gives the certificate's 3 1 1 -

for s in $SETS; do
	want=$(zl "$(ossl_rec "$s" 3 1 1)")
	forms="leaf.pem leaf.der leaf.key.pem leaf.key.der leaf.pub.pem leaf.pub.der combined.pem combined-chain.pem fullchain.pem"
	[ -f "$FX/$s/leaf.trad.key.pem" ] && forms="$forms leaf.trad.key.pem"
	for f in $forms; do
		got=$("$TLSAGEN" -H "$HOST" -r 3,1,1 "$FX/$s/$f" 2>&1 | lc)
		is "$s: $f gives the certificate's 3 1 1" "$got" "$want"
	done
	for f in leaf.pem leaf.der leaf.key.pem combined.pem; do
		got=$("$TLSAGEN" -H "$HOST" -r 3,1,1 - < "$FX/$s/$f" 2>&1 | lc)
		is "$s: $f on standard input (-) gives the certificate's 3 1 1" "$got" "$want"
	done
	# Without -H the owner is the leaf's first DNS name.
	got=$("$TLSAGEN" -r 3,1,1 "$FX/$s/leaf.der" 2>&1 | lc)
	is "$s: owner from the leaf's first SAN" "$got" "$want"
done

# --- the default record set --------------------------------------------

for s in $SETS; do
	want=$( (zl "$(ossl_rec "$s" 3 1 1)"; zl "$(ossl_rec "$s" 2 1 1)") | sort)
	for f in fullchain.pem combined-chain.pem; do
		got=$("$TLSAGEN" "$FX/$s/$f" 2>&1 | lc | sort)
		is "$s: default set for $f is 3 1 1 leaf + 2 1 1 issuer" "$got" "$want"
	done
	got=$("$TLSAGEN" -i "$FX/$s/int.pem" "$FX/$s/leaf.pem" 2>&1 | lc | sort)
	is "$s: default set for leaf.pem -i int.pem is 3 1 1 + 2 1 1" "$got" "$want"
	got=$("$TLSAGEN" "$FX/$s/leaf.pem" 2>&1 | lc)
	is "$s: default set for a lone leaf is 3 1 1" "$got" "$(zl "$(ossl_rec "$s" 3 1 1)")"
	got=$("$TLSAGEN" -H "$HOST" "$FX/$s/leaf.key.pem" 2>&1 | lc)
	is "$s: default set for a lone key is 3 1 1" "$got" "$(zl "$(ossl_rec "$s" 3 1 1)")"
done

# hash-slinger's command line, run now, for the default pair.
wait
for s in $SETS; do
	want=$(lc < "$WORK/hscli.$s" | sort)
	got=$("$TLSAGEN" "$FX/$s/fullchain.pem" 2>&1 | lc | sort)
	is "$s: default set = tlsa --create (3 1 1 leaf, 2 1 1 intermediate)" "$got" "$want"
done

# --- RFC 7218 mnemonics ----------------------------------------------

for s in p256 rsa2048; do
	F=$FX/$s/fullchain.pem
	for pair in "dane-ee,spki,sha2-256=3,1,1" "DANE-EE,Cert,SHA2-512=3,0,2" \
	    "dane-ee,spki,full=3,1,0" "dane-ta,spki,sha2-256=2,1,1" \
	    "Dane-Ta,CERT,Sha2-512=2,0,2" "dane-ta,cert,full=2,0,0"; do
		mn=${pair%=*} num=${pair#*=}
		a=$("$TLSAGEN" -r "$mn" "$F" 2>&1)
		b=$("$TLSAGEN" -r "$num" "$F" 2>&1)
		is "$s: -r $mn = -r $num" "$a" "$b"
		like "$s: -r $mn prints numbers" "$a" "TLSA ${num%%,*} [01] [0-2] [0-9a-f]+$"
	done
done

# --- output formats ----------------------------------------------------

# Two sets at once: two certificates' records under one owner, and a
# second owner (-p 465) in a second run.
F1=$FX/p256/fullchain.pem F2=$FX/rsa2048/fullchain.pem
"$TLSAGEN" -f zone "$F1" "$F2" > "$WORK/out.zone" 2>"$WORK/err"
"$TLSAGEN" -f generic "$F1" "$F2" > "$WORK/out.generic" 2>>"$WORK/err"
"$TLSAGEN" -f json "$F1" "$F2" > "$WORK/out.json" 2>>"$WORK/err"
"$TLSAGEN" -f nsupdate -s 192.0.2.53 -z example.net "$F1" "$F2" > "$WORK/out.nsupdate" 2>>"$WORK/err"
is "formats: no diagnostics" "$(cat "$WORK/err")" ""
is "formats: zone output has 4 records" "$(wc -l < "$WORK/out.zone" | tr -d ' ')" 4
want=$(lc < "$WORK/out.zone" | sort)
want_ref=$(for s in p256 rsa2048; do for u in 3 2; do zl "$(ossl_rec "$s" "$u" 1 1)"; done; done | sort)
is "formats: zone lines are the openssl records" "$want" "$want_ref"

ok "ldns-read-zone parses the zone output" ldns-read-zone "$WORK/out.zone"
ok "ldns-read-zone parses the generic output" ldns-read-zone "$WORK/out.generic"
z=$(ldns-read-zone "$WORK/out.zone" 2>/dev/null | lc | sort)
g=$(ldns-read-zone "$WORK/out.generic" 2>/dev/null | lc | sort)
is "ldns-read-zone: generic (RFC 3597) = zone" "$g" "$z"
is "ldns-read-zone: zone output = the records" "$(printf '%s\n' "$z" | awk '{ $2 = ""; print }' | rec | sort)" \
    "$(printf '%s\n' "$want_ref" | rec | sort)"
like "generic output uses TYPE52 and \\#" "$(head -n 1 "$WORK/out.generic")" \
    '^_25\._tcp\.mx\.example\.net\. IN TYPE52 \\# (35|67) 0[23]01[0-9a-f]+$'

ok "json output is valid JSON" "$PY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$WORK/out.json"
j=$("$PY" - "$WORK/out.json" <<'EOF' 2>&1 | lc | sort
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["records"]:
    assert r["type"] == "TLSA", r
    print(r["owner"], r["class"], "TLSA", r["usage"], r["selector"], r["matching_type"], r["data"])
EOF
)
is "json output has the same records as the zone output" "$j" "$want"

n=$WORK/out.nsupdate
is "nsupdate: first line is the server" "$(head -n 1 "$n")" "server 192.0.2.53"
like "nsupdate: a zone line" "$(cat "$n")" '^zone example\.net\.?$'
is "nsupdate: last line is send" "$(tail -n 1 "$n")" "send"
is "nsupdate: one update add per record" "$(grep -c '^update add ' "$n")" 4
is "nsupdate: update add lines carry the records" \
    "$(grep '^update add ' "$n" | awk '{ $1 = $2 = $4 = ""; print }' | awk '{ $1 = $1; print }' | lc | sort)" "$want"
like "nsupdate: update add lines have a TTL" "$(grep '^update add ' "$n" | head -n 1)" \
    '^update add _25\._tcp\.mx\.example\.net\. [0-9]+ IN TLSA '
is "nsupdate: nothing but server, zone, update, send" \
    "$(grep -Ev '^(server |zone |update add |send$)' "$n")" ""

# --- --verify ------------------------------------------------------------

zeros=0000000000000000000000000000000000000000000000000000000000000000
diag "danetool --check cannot check offline (it looks the TLSA RRset up in DNS): not compared"
for s in $SETS; do
	"$TLSAGEN" "$FX/$s/fullchain.pem" > "$WORK/v.zone" 2>/dev/null
	"$TLSAGEN" --verify "$WORK/v.zone" "$FX/$s/fullchain.pem" > "$WORK/v.out" 2>&1
	is "$s: --verify with its own zone output: exit 0" "$?" 0
	"$TLSAGEN" --verify "3 1 1 $zeros" "$FX/$s/fullchain.pem" > "$WORK/v.out" 2>&1
	is "$s: --verify with a wrong record: exit 2" "$?" 2
	# A zone file whose records are all wrong (data of another set).
	other=p384; [ "$s" = p384 ] && other=p256
	"$TLSAGEN" "$FX/$other/fullchain.pem" > "$WORK/v2.zone" 2>/dev/null
	"$TLSAGEN" --verify "$WORK/v2.zone" "$FX/$s/fullchain.pem" > "$WORK/v.out" 2>&1
	is "$s: --verify with another key's zone output: exit 2" "$?" 2
	# Records made by hash-slinger (independently) match.
	for spec in "3 0 1" "3 1 2" "3 1 0" "3 0 0"; do
		# shellcheck disable=SC2086
		set -- $spec
		r=$(hs_rec "$s" "$1" "$2" "$3")
		"$TLSAGEN" --verify "$r" "$FX/$s/leaf.pem" > "$WORK/v.out" 2>&1
		is "$s: --verify hash-slinger's $spec with the leaf: exit 0" "$?" 0
	done
	for spec in "2 1 1" "2 0 2" "2 0 0"; do
		# shellcheck disable=SC2086
		set -- $spec
		r=$(hs_rec "$s" "$1" "$2" "$3")
		"$TLSAGEN" --verify "$r" "$FX/$s/fullchain.pem" > "$WORK/v.out" 2>&1
		is "$s: --verify hash-slinger's $spec with the chain: exit 0" "$?" 0
	done
	r=$(hs_rec "$s" 2 1 1)
	"$TLSAGEN" --verify "$r" "$FX/$s/leaf.pem" > "$WORK/v.out" 2>&1
	is "$s: --verify 2 1 1 with the leaf alone (TA not in the chain): exit 2" "$?" 2
	# The leaf's 3 1 1 matches the key too.
	r=$(hs_rec "$s" 3 1 1)
	"$TLSAGEN" --verify "$r" -H "$HOST" "$FX/$s/leaf.key.pem" > "$WORK/v.out" 2>&1
	is "$s: --verify hash-slinger's 3 1 1 with the private key: exit 0" "$?" 0
done

# --- PKCS#7 certificate bundles (.p7b/.p7c) ------------------------------

# A bundle made with openssl crl2pkcs7 from the chain (DER and PEM), from
# the chain in reverse with the root (a SET OF has no order: tlsagen must
# find the leaf), and from the leaf alone: the same records as the PEM
# chain, the openssl pipeline's and hash-slinger's.
P7=$WORK/p7
mkdir -p "$P7"
for s in $SETS; do
	D=$FX/$s
	openssl crl2pkcs7 -nocrl -certfile "$D/fullchain.pem" -outform DER -out "$P7/$s.p7b" &&
	openssl crl2pkcs7 -nocrl -certfile "$D/fullchain.pem" -out "$P7/$s.p7b.pem" &&
	cat "$D/root.pem" "$D/int.pem" "$D/leaf.pem" > "$P7/$s.rev.pem" &&
	openssl crl2pkcs7 -nocrl -certfile "$P7/$s.rev.pem" -outform DER -out "$P7/$s.rev.p7c" &&
	openssl crl2pkcs7 -nocrl -certfile "$D/leaf.pem" -outform DER -out "$P7/$s.leaf.p7b" ||
	    bail "openssl crl2pkcs7 failed for $s"
	want=$( (zl "$(ossl_rec "$s" 3 1 1)"; zl "$(ossl_rec "$s" 2 1 1)") | sort)
	for f in "$s.p7b" "$s.p7b.pem" "$s.rev.p7c"; do
		got=$("$TLSAGEN" "$P7/$f" 2>&1 | lc | sort)
		is "$s: PKCS#7 $f: default set = openssl (3 1 1 leaf, 2 1 1 intermediate)" "$got" "$want"
	done
	got=$("$TLSAGEN" "$P7/$s.p7b" 2>&1 | lc | sort)
	is "$s: PKCS#7 DER bundle: default set = tlsa --create" "$got" "$(lc < "$WORK/hscli.$s" | sort)"
	got=$("$TLSAGEN" -r 3,0,1 -r 2,0,2 -r 2,1,0 "$P7/$s.rev.p7c" 2>&1 | rec | sort)
	want=$( (hs_rec "$s" 3 0 1; hs_rec "$s" 2 0 2; hs_rec "$s" 2 1 0) | sort)
	is "$s: PKCS#7 bundle in reverse order: 3 0 1, 2 0 2, 2 1 0 = hash-slinger" "$got" "$want"
	got=$("$TLSAGEN" "$P7/$s.leaf.p7b" 2>&1 | lc)
	is "$s: PKCS#7 bundle of the leaf alone: its 3 1 1" "$got" "$(zl "$(ossl_rec "$s" 3 1 1)")"
	# The bundle's certificates as -i issuers, as the same in PEM with -i.
	got=$("$TLSAGEN" -r 2,1,1 -i "$P7/$s.rev.p7c" "$D/leaf.pem" 2>&1 | rec | sort)
	want=$( (ossl_rec "$s" 2 1 1; ossl_rec "$s" 3 1 1;
	    openssl x509 -in "$D/root.pem" -pubkey -noout | openssl pkey -pubin -outform DER |
	    openssl dgst -sha256 -r | awk '{ print "2 1 1", $1 }'
	    openssl x509 -in "$D/leaf.pem" -pubkey -noout | openssl pkey -pubin -outform DER |
	    openssl dgst -sha256 -r | awk '{ print "2 1 1", $1 }') | grep '^2 ' | sort)
	is "$s: -i PKCS#7 bundle: 2 1 1 for each of its certificates (openssl)" "$got" "$want"
done
D=$FX/p256
want=$( (zl "$(ossl_rec p256 3 1 1)"; zl "$(ossl_rec p256 2 1 1)") | sort)
for label in "PKCS #7 SIGNED DATA" "CMS"; do
	sed "s/PKCS7-----/$label-----/" "$P7/p256.p7b.pem" > "$P7/label.pem"
	got=$("$TLSAGEN" "$P7/label.pem" 2>&1 | lc | sort)
	is "p256: PEM bundle labelled \"$label\"" "$got" "$want"
done
cat "$D/leaf.key.pem" "$P7/p256.p7b.pem" > "$P7/key-and-bundle.pem"
got=$("$TLSAGEN" "$P7/key-and-bundle.pem" 2>&1 | lc | sort)
is "p256: a private key and a PEM bundle in one file: the chain's records" "$got" "$want"
"$TLSAGEN" --verify "$(hs_rec p256 3 1 1)" "$P7/p256.rev.p7c" > "$WORK/v.out" 2>&1
is "p256: --verify hash-slinger's 3 1 1 with a reversed PKCS#7 bundle: exit 0" "$?" 0
"$TLSAGEN" --verify "$(hs_rec p256 2 1 1)" "$P7/p256.rev.p7c" > "$WORK/v.out" 2>&1
is "p256: --verify hash-slinger's 2 1 1 with a reversed PKCS#7 bundle: exit 0" "$?" 0

# --- RSA-PSS keys (id-RSASSA-PSS SubjectPublicKeyInfo, RFC 4055) --------

# Made here: a root and an intermediate with unrestricted RSA-PSS keys
# (no parameters), an RSA-PSS leaf whose key carries parameters (SHA-256,
# MGF1-SHA-256, salt 32), and an RSA leaf under the RSA-PSS intermediate.
# SPKI records are over the SubjectPublicKeyInfo as the certificate holds
# it, PSS OID and parameters included.  Oracles: hash-slinger, an openssl
# pipeline, and the SPKI bytes cut out of the certificate by offset.
# danetool is compared only for keys without parameters: it re-encodes
# the parameters without the hash algorithms' NULL, so for the leaf it
# hashes other bytes than the certificate holds.
PS=$WORK/pss
mkdir -p "$PS"
printf '%s\n' "[ ca ]" "basicConstraints = critical, CA:TRUE" \
    "keyUsage = critical, keyCertSign, cRLSign" "subjectKeyIdentifier = hash" \
    "authorityKeyIdentifier = keyid:always" "[ leaf ]" "basicConstraints = critical, CA:FALSE" \
    "keyUsage = critical, digitalSignature" "subjectKeyIdentifier = hash" \
    "authorityKeyIdentifier = keyid:always" "subjectAltName = DNS:$HOST" > "$PS/ext.cnf"
# pss_key FILE [params]: an RSA-PSS key, with parameters if asked.
pss_key() {
	if [ "${2:-}" = params ]; then
		openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 \
		    -pkeyopt rsa_pss_keygen_md:sha256 -pkeyopt rsa_pss_keygen_mgf1_md:sha256 \
		    -pkeyopt rsa_pss_keygen_saltlen:32 -out "$1"
	else
		openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out "$1"
	fi 2>/dev/null
}
# pss_leaf NAME: NAME.pem (and NAME.chain.pem) for NAME.key under int.
pss_leaf() {
	openssl req -new -key "$PS/$1.key" -subj "/CN=$HOST" -out "$PS/$1.csr" 2>/dev/null &&
	openssl x509 -req -in "$PS/$1.csr" -CA "$PS/int.pem" -CAkey "$PS/int.key" -days 30 \
	    -set_serial 3 -extfile "$PS/ext.cnf" -extensions leaf -out "$PS/$1.pem" 2>/dev/null &&
	cat "$PS/$1.pem" "$PS/int.pem" > "$PS/$1.chain.pem"
}
pss_key "$PS/root.key" && pss_key "$PS/int.key" && pss_key "$PS/leaf.key" params &&
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PS/rsaleaf.key" 2>/dev/null &&
openssl req -new -x509 -key "$PS/root.key" -subj "/CN=PSS Test Root" -days 30 \
    -config "$PS/ext.cnf" -extensions ca -out "$PS/root.pem" 2>/dev/null &&
openssl req -new -key "$PS/int.key" -subj "/CN=PSS Test Intermediate" -out "$PS/int.csr" 2>/dev/null &&
openssl x509 -req -in "$PS/int.csr" -CA "$PS/root.pem" -CAkey "$PS/root.key" -days 30 \
    -set_serial 2 -extfile "$PS/ext.cnf" -extensions ca -out "$PS/int.pem" 2>/dev/null &&
pss_leaf leaf && pss_leaf rsaleaf &&
openssl verify -CAfile "$PS/root.pem" -untrusted "$PS/int.pem" "$PS/leaf.pem" "$PS/rsaleaf.pem" >/dev/null &&
openssl x509 -in "$PS/leaf.pem" -outform DER -out "$PS/leaf.der" &&
openssl pkey -in "$PS/leaf.key" -outform DER -out "$PS/leaf.key.der" &&
openssl pkey -in "$PS/leaf.key" -pubout -out "$PS/leaf.pub.pem" &&
openssl pkey -in "$PS/leaf.key" -pubout -outform DER -out "$PS/leaf.pub.der" &&
openssl pkey -in "$PS/int.key" -pubout -out "$PS/int.pub.pem" &&
cat "$PS/leaf.key" "$PS/leaf.pem" "$PS/int.pem" > "$PS/combined-chain.pem" ||
    bail "cannot make the RSA-PSS certificates"
like "RSA-PSS: the leaf's key is RSASSA-PSS" \
    "$(openssl x509 -in "$PS/leaf.pem" -noout -text)" "Public Key Algorithm: rsassaPss"

# spki_in_cert CERT: hex of the SubjectPublicKeyInfo as it is in the
# certificate (tbsCertificate's 7th element), cut out by offset.
spki_in_cert() {
	openssl x509 -in "$1" -outform DER -out "$PS/cut.der" || return 1
	_l=$(openssl asn1parse -inform DER -in "$PS/cut.der" | awk '/d=2 / { if (++n == 7) { print; exit } }')
	_off=$(echo "${_l%%:*}" | tr -d ' ')
	_hl=$(echo "$_l" | sed 's/.*hl=\([0-9]*\).*/\1/')
	_len=$(echo "$_l" | sed 's/.* l= *\([0-9]*\) .*/\1/')
	dd if="$PS/cut.der" bs=1 skip="$_off" count=$((_hl + _len)) 2>/dev/null | od -An -v -tx1 | tr -d ' \n'
}
hs_create() {	# CERT USAGE SELECTOR MTYPE: hash-slinger's "U S M data"
	tlsa --create --certificate "$1" --port 25 --usage "$2" --selector "$3" --mtype "$4" "$HOST" 2>/dev/null | rec
}
HS_LEAF=$(hs_create "$PS/leaf.pem" 3 1 1)
HS_INT=$(hs_create "$PS/int.pem" 2 1 1)
OS_LEAF=$(openssl x509 -in "$PS/leaf.pem" -pubkey -noout | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -r | cut -d' ' -f1)
CUT=$(spki_in_cert "$PS/leaf.pem")
like "RSA-PSS: the SPKI cut from the certificate has the PSS OID and SHA-256 parameters" "$CUT" \
    "^30.*06092a864886f70d01010a30.*0609608648016503040201"
is "RSA-PSS: hash-slinger 3 1 0 = the SPKI bytes in the certificate" "$(hs_create "$PS/leaf.pem" 3 1 0)" "3 1 0 $CUT"
is "RSA-PSS: hash-slinger 3 1 1 = openssl pipeline" "$HS_LEAF" "3 1 1 $OS_LEAF"
got=$("$TLSAGEN" -H "$HOST" -r 3,1,0 "$PS/leaf.pem" 2>&1 | rec)
is "RSA-PSS leaf: 3 1 0 is the SPKI as the certificate holds it" "$got" "3 1 0 $CUT"
got=$("$TLSAGEN" -H "$HOST" -r 3,1,0 "$PS/leaf.key" 2>&1 | rec)
is "RSA-PSS private key: 3 1 0 is the certificate's SPKI" "$got" "3 1 0 $CUT"
for f in leaf.pem leaf.der leaf.key leaf.key.der leaf.pub.pem leaf.pub.der combined-chain.pem leaf.chain.pem; do
	got=$("$TLSAGEN" -H "$HOST" -r 3,1,1 "$PS/$f" 2>&1 | rec)
	is "RSA-PSS: $f gives the certificate's 3 1 1 (hash-slinger)" "$got" "$HS_LEAF"
done
got=$("$TLSAGEN" -H "$HOST" "$PS/leaf.key" 2>&1 | lc)
is "RSA-PSS: default set for a lone private key is the certificate's 3 1 1" "$got" "$(zl "$HS_LEAF")"
got=$("$TLSAGEN" "$PS/combined-chain.pem" 2>&1 | rec | sort)
is "RSA-PSS: default set for key + leaf + intermediate = hash-slinger" "$got" \
    "$(printf '%s\n%s\n' "$HS_LEAF" "$HS_INT" | sort)"
# The RSA-PSS issuer: in the chain, with -i as a certificate or a public
# key, and in a PKCS#7 bundle; all = hash-slinger = danetool.
DT_INT=$(danetool --tlsa-rr --load-certificate "$PS/int.pem" --host "$HOST" --port 25 --ca --hash sha256 2>/dev/null |
    awk '{ for (i = 1; i <= NF; i++) if ($i == "(") { print $(i + 1) + 0, $(i + 2) + 0, $(i + 3) + 0, tolower($(i + 4)); break } }')
is "RSA-PSS intermediate (no parameters): danetool = hash-slinger" "$DT_INT" "$HS_INT"
openssl crl2pkcs7 -nocrl -certfile "$PS/leaf.chain.pem" -outform DER -out "$PS/chain.p7b" ||
    bail "openssl crl2pkcs7 failed"
for v in "chain|$PS/rsaleaf.chain.pem" "-i certificate|-i $PS/int.pem $PS/rsaleaf.pem" \
    "-i public key|-i $PS/int.pub.pem $PS/rsaleaf.pem" "-i certificate, RSA-PSS leaf|-i $PS/int.pem $PS/leaf.pem" \
    "PKCS#7 bundle|$PS/chain.p7b"; do
	# shellcheck disable=SC2086
	got=$("$TLSAGEN" -r 2,1,1 ${v#*|} 2>&1 | rec)
	is "RSA-PSS intermediate, ${v%%|*}: 2 1 1 = hash-slinger" "$got" "$HS_INT"
done
# A certificate made by GnuTLS encodes the PSS parameters its own way
# (no NULL after the hash OIDs): its records are still over its own SPKI
# bytes, never a re-encoding, as OpenSSL's DANE matching hashes them
# (see CAVEATS in tlsagen(1)).
if command -v certtool >/dev/null 2>&1; then
	printf '%s\n' "cn = $HOST" "dns_name = $HOST" "expiration_days = 30" "tls_www_server" > "$PS/g.tmpl"
	certtool --generate-privkey --key-type rsa-pss --hash sha256 --bits 2048 \
	    --outfile "$PS/g.key" > /dev/null 2>&1 &&
	certtool --generate-self-signed --load-privkey "$PS/g.key" --template "$PS/g.tmpl" \
	    --outfile "$PS/g.pem" > /dev/null 2>&1 || bail "certtool failed"
	GCUT=$(spki_in_cert "$PS/g.pem")
	like "RSA-PSS (GnuTLS): its SPKI has the PSS OID" "$GCUT" "^30.*06092a864886f70d01010a30"
	got=$("$TLSAGEN" -H "$HOST" -r 3,1,0 "$PS/g.pem" 2>&1 | rec)
	is "RSA-PSS (GnuTLS certificate): 3 1 0 is the SPKI as the certificate holds it" "$got" "3 1 0 $GCUT"
	# hash-slinger and the openssl pkey pipeline re-encode the key too,
	# so the oracle is SHA-256 over the bytes cut from the certificate.
	want=$(printf '%s' "$GCUT" | sed 's/../\\x&/g' | xargs -0 printf '%b' | openssl dgst -sha256 -r | cut -d' ' -f1)
	got=$("$TLSAGEN" -H "$HOST" -r 3,1,1 "$PS/g.pem" 2>&1 | rec)
	is "RSA-PSS (GnuTLS certificate): 3 1 1 = SHA-256 of its SPKI bytes" "$got" "3 1 1 $want"
else
	diag "SKIP GnuTLS-made RSA-PSS certificate: no certtool (gnutls-bin)"
fi
"$TLSAGEN" --verify "$HS_LEAF" -H "$HOST" "$PS/leaf.key" > "$WORK/v.out" 2>&1
is "RSA-PSS: --verify hash-slinger's 3 1 1 with the private key: exit 0" "$?" 0
"$TLSAGEN" --verify "$HS_INT" "$PS/leaf.chain.pem" > "$WORK/v.out" 2>&1
is "RSA-PSS: --verify hash-slinger's 2 1 1 with the chain: exit 0" "$?" 0

# --- many inputs in one run = one run each ---------------------------

set --
for s in $SETS; do set -- "$@" "$FX/$s/fullchain.pem" "$FX/$s/root.pem"; done
is "many inputs: at least 10" "$([ $# -ge 10 ] && echo yes)" yes
: > "$WORK/single"
for f in "$@"; do
	"$TLSAGEN" -H "$HOST" -r 3,1,1 -r 2,1,1 -r 3,0,2 "$f" >> "$WORK/single" 2>&1
done
"$TLSAGEN" -H "$HOST" -r 3,1,1 -r 2,1,1 -r 3,0,2 "$@" > "$WORK/multi" 2>&1
is "many inputs: exit 0" "$?" 0
is "many inputs: $# files in one run = one run each" "$(cat "$WORK/multi")" "$(cat "$WORK/single")"
is "many inputs: $(wc -l < "$WORK/single" | tr -d ' ') lines, none repeated" \
    "$(sort "$WORK/multi" | uniq -d)" ""

# --- duplicate inputs give no duplicate records ------------------------

D=$FX/p256
got=$("$TLSAGEN" -H "$HOST" "$D/leaf.pem" "$D/leaf.pem" "$D/leaf.der" "$D/leaf.key.pem" \
    "$D/leaf.pub.der" "$D/combined.pem" "$D/fullchain.pem" -i "$D/int.pem" 2>&1 | lc | sort)
want=$( (zl "$(ossl_rec p256 3 1 1)"; zl "$(ossl_rec p256 2 1 1)") | sort)
is "duplicate inputs: each record once" "$got" "$want"
got=$("$TLSAGEN" -H "$HOST" -r 3,1,1 -r 3,1,1 -r dane-ee,spki,sha2-256 "$D/leaf.pem" 2>&1 | lc)
is "duplicate -r specs: the record once" "$got" "$(zl "$(ossl_rec p256 3 1 1)")"

done_testing
