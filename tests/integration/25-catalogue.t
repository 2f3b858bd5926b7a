#!/bin/sh
# 25-catalogue.t: every case of tests/badinput/catalogue.txt through the
# real programs.  A case passes when the program exits non-zero (and was
# neither killed by a signal nor by the 60 s guard), prints nothing on
# standard output, exactly one line on standard error, and that line
# names the input and matches the case's expected error (lower-cased).
# One test per case.  DNS and SMTP cases are served by tests/lab/baddns.py
# and tests/lab/badsmtp.py on 127.0.0.48:53 and 127.0.0.25:25 inside the
# lab's private network namespace (root).
. "$(dirname "$0")/../lib.sh"
lab_netns "$@"
PYTHON=${PYTHON:-/usr/bin/python3}
need_cmd openssl timeout sed grep "$PYTHON"
: "${TLSA_ROLLOVER:=$TOP/build/tlsa-rollover}"
[ -x "$TLSAGEN" ] || bail "no tlsagen at $TLSAGEN (run make)"
[ -x "$TLSA_ROLLOVER" ] || bail "no tlsa-rollover at $TLSA_ROLLOVER (run make)"
CAT=$TOP/tests/badinput/catalogue.txt
FILES=$TOP/tests/badinput/files
[ -f "$CAT" ] || bail "no catalogue at $CAT"
. "$TOP/tests/lab/certs.sh"

GOOD=$TOP/tests/fixtures/p256/leaf.pem
[ -f "$GOOD" ] || bail "fixtures are missing"
ST=$WORK/state
P=$WORK/pki
mkdir -p "$WORK/in" "$WORK/deploy" || bail "mkdir"
printf 'key "tlsa-update" { algorithm hmac-sha256; secret "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTIzNA=="; };\n' > "$WORK/tsig.key"
chmod 600 "$WORK/tsig.key"
# An API key file (pdns-api) that others may read, for cfg-pdns-key-open.
printf 'lab-api-key\n' > "$WORK/api-open.key" && chmod 644 "$WORK/api-open.key"
certs_ca "$P" && certs_leaf "$P" A ec mx1.example.test || bail "cannot make the lab PKI"

# config FILE PRIMARY: a good configuration, DNS at PRIMARY.
config() {
	cat > "$1" <<-EOF
	state_dir: $ST
	dns:
	  zone: example.test
	  primary: $2
	  resolver: $2
	  tsig_key_file: $WORK/tsig.key
	  ttl: 60
	services:
	  - name: mx
	    hosts: [mx1.example.test]
	    deploy_dir: $WORK/deploy
	EOF
}
config "$WORK/good.yaml" 127.0.0.1@9
config "$WORK/dns.yaml" 127.0.0.48@53
# A certificate imported and waiting to be published, for dns-rollover.
"$TLSA_ROLLOVER" -f "$WORK/dns.yaml" import mx "$P/A.chain.pem" "$P/A.key" > "$WORK/out" 2>&1 ||
	bail "cannot import a good certificate: $(cat "$WORK/out")"
cp -a "$ST" "$WORK/state.pending" && rm -rf "$ST" || bail "cannot keep the state"

SRV_PID=""
at_exit '[ -n "$SRV_PID" ] && kill $SRV_PID'
srv_stop() {
	[ -n "$SRV_PID" ] || return 0
	kill "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	SRV_PID=""
}
# dns_start MODE: baddns.py on 127.0.0.48:53, waited for (bounded).
dns_start() {
	"$PYTHON" "$TOP/tests/lab/baddns.py" 127.0.0.48 53 "$1" 30 &
	SRV_PID=$!
	_i=0
	until ss -Hlnu 2>/dev/null | grep -q '127\.0\.0\.48:53 '; do
		_i=$((_i + 1))
		[ $_i -le 50 ] && kill -0 "$SRV_PID" 2>/dev/null || bail "baddns.py $1 did not start"
		sleep 0.1
	done
}
# smtp_start MODE: badsmtp.py on 127.0.0.25:25, waited for (bounded).
smtp_start() {
	rm -f "$WORK/smtp.ready"
	"$PYTHON" "$TOP/tests/lab/badsmtp.py" --lifetime 30 --ready "$WORK/smtp.ready" 127.0.0.25 25 "$1" &
	SRV_PID=$!
	_i=0
	while [ ! -s "$WORK/smtp.ready" ]; do
		_i=$((_i + 1))
		[ $_i -le 50 ] && kill -0 "$SRV_PID" 2>/dev/null || bail "badsmtp.py $1 did not start"
		sleep 0.1
	done
}

# input NAME: the catalogue's file NAME copied into WORK/in (mode 0600;
# @WORK@ replaced in configurations and state files); prints its path.
input() {
	[ -f "$FILES/$1" ] || bail "catalogue: no file tests/badinput/files/$1"
	case $1 in
	*.yaml|*.state) sed "s|@WORK@|$WORK|g" "$FILES/$1" > "$WORK/in/$1" ;;
	*) cp "$FILES/$1" "$WORK/in/$1" ;;
	esac || bail "cannot copy $1"
	chmod 600 "$WORK/in/$1"
	echo "$WORK/in/$1"
}

# run NAME-IN-ERROR CMD...: run the case; sets rc and what.
run() {
	what=$1
	shift
	timeout -k 5 60 "$@" < /dev/null > "$WORK/out" 2> "$WORK/err"
	rc=$?
}

ncases=0
while IFS='|' read -r kind in desc re; do
	kind=$(echo "$kind" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
	case $kind in ''|'#'*) continue ;; esac
	in=$(echo "$in" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
	desc=$(echo "$desc" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
	re=$(echo "$re" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
	[ -n "$in" ] && [ -n "$re" ] || bail "catalogue: malformed line for \"$kind\""
	ncases=$((ncases + 1))
	rm -rf "$ST" "$WORK/in"/*
	case $kind in
	cert)	f=$(input "$in"); run "$f" "$TLSAGEN" -H mx.example.test "$f" ;;
	issuer)	f=$(input "$in"); run "$f" "$TLSAGEN" -i "$f" "$GOOD" ;;
	records) f=$(input "$in"); run "$f" "$TLSAGEN" --verify "$f" "$GOOD" ;;
	tsig|tsig-open|tsig-owner)
		f=$(input "$in")
		[ "$kind" = tsig-open ] && chmod 644 "$f"
		[ "$kind" = tsig-owner ] && chown 65534 "$f"
		run "$f" "$TLSAGEN" --update 127.0.0.1@9 --tsig-key "$f" -z example.test \
			-H mx1.example.test "$GOOD" ;;
	config|config-open|config-owner)
		f=$(input "$in")
		[ "$kind" = config-open ] && chmod 664 "$f"
		[ "$kind" = config-owner ] && chown 65534 "$f"
		run "$f" "$TLSA_ROLLOVER" -f "$f" validate-config ;;
	import-cert) f=$(input "$in"); run "$f" "$TLSA_ROLLOVER" -f "$WORK/good.yaml" import mx "$f" "$P/A.key" ;;
	import-key) f=$(input "$in"); run "$f" "$TLSA_ROLLOVER" -f "$WORK/good.yaml" import mx "$P/A.pem" "$f" ;;
	import-chain) f=$(input "$in"); run "$f" "$TLSA_ROLLOVER" -f "$WORK/good.yaml" import mx "$P/A.pem" "$P/A.key" "$f" ;;
	import-leaf) f=$(input "$in"); run "$P/A.pem" "$TLSA_ROLLOVER" -f "$f" import mx "$P/A.pem" "$P/A.key" ;;
	state)
		f=$(input "$in")
		mkdir -p "$ST/mx" && cp "$f" "$ST/mx/state" || bail "cannot set up the state"
		run "$ST/mx/state" "$TLSA_ROLLOVER" -f "$WORK/good.yaml" status ;;
	dns)
		dns_start "$in"
		run 127.0.0.48@53 "$TLSAGEN" --timeout 2 --update 127.0.0.48 --tsig-key "$WORK/tsig.key" \
			-z example.test -H mx1.example.test "$GOOD"
		srv_stop ;;
	dns-rollover)
		cp -a "$WORK/state.pending" "$ST" || bail "cannot set up the state"
		dns_start "$in"
		run 127.0.0.48@53 "$TLSA_ROLLOVER" -f "$WORK/dns.yaml" publish mx
		srv_stop ;;
	smtp)
		smtp_start "$in"
		run 127.0.0.25 "$TLSAGEN" -c 127.0.0.25:25 --timeout 3 -H bad.example.test
		srv_stop ;;
	*)	bail "catalogue: unknown kind \"$kind\"" ;;
	esac
	err=$(cat "$WORK/err")
	lc=$(printf '%s\n' "$err" | tr 'A-Z' 'a-z')
	why=""
	if [ "$rc" -eq 0 ]; then why="exit 0"
	elif [ "$rc" -eq 124 ] || [ "$rc" -ge 128 ]; then why="killed or timed out (exit $rc)"
	elif [ -s "$WORK/out" ]; then why="output on stdout"
	elif [ "$(grep -c '' "$WORK/err")" -ne 1 ]; then why="$(grep -c '' "$WORK/err") lines on stderr"
	elif ! printf '%s\n' "$err" | grep -qF -- "$what"; then why="the error does not name $what"
	elif ! printf '%s\n' "$lc" | grep -Eq -- "$re"; then why="the error does not match /$re/"
	fi
	if [ -z "$why" ]; then
		_report 0 "$kind $in: $desc"
	else
		_report 1 "$kind $in: $desc" "$why" "exit $rc" "stderr: $err" "stdout: $(head -c 500 "$WORK/out")"
	fi
done < "$CAT"
diag "catalogue: $ncases cases"
[ "$ncases" -ge 100 ] || _report 1 "the catalogue has at least 100 cases" "only $ncases"
done_testing
