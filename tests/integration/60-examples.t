#!/bin/sh
# 60-examples.t: every example command in README.md and man/*.[158] runs,
# for real, against a lab set up under the names the examples use: zone
# example.net on BIND with Unbound, mx1.example.net a Postfix MX.  The
# documentation's addresses and paths are mapped onto the lab (the table
# in subst() below); shown output must appear in what the command prints
# (up to the first abbreviated "..." hex).  The README's quick-start and
# build blocks (quickstart.sh, make) are what CI itself runs, so they are
# left out here, and so is the ACME client block (tlsa-rollover hooks),
# which 87-hook-examples.t runs against Pebble.
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.0.20 mx1.example.net
127.0.0.40 ns1.example.net"
lab_netns "$@"
need_cmd named unbound postfix dig nsupdate awk
. "$TOP/tests/lab/dns.sh"
. "$TOP/tests/lab/certs.sh"
chmod 711 "$WORK"

dns_lab_start "$WORK/dns" example.net || bail "DNS lab"
at_exit "dns_lab_stop '$WORK/dns'"
mkdir -p "$WORK/pki" "$WORK/mx" "$WORK/ex" "$WORK/bin"
certs_ca "$WORK/pki" && certs_leaf "$WORK/pki" mx ec mx1.example.net &&
	certs_leaf "$WORK/pki" next ec mx1.example.net || bail "certificates"
certs_ca "$WORK/pki2" || bail "second CA"
sh "$TOP/tests/lab/postfix.sh" start "$WORK/mx" "127.0.0.20=$WORK/pki/mx.key,$WORK/pki/mx.chain.pem" ||
	bail "Postfix"
at_exit "sh '$TOP/tests/lab/postfix.sh' stop '$WORK/mx'"

# The files the examples name.
EX=$WORK/ex
cp "$WORK/pki/mx.chain.pem" "$EX/fullchain.pem"
cp "$WORK/pki/mx.chain.pem" "$EX/new-fullchain.pem"
cp "$WORK/pki/next.key" "$EX/next-privkey.pem"
cp "$WORK/pki2/int.pem" "$EX/issuer2.pem"
ln -s "$TLSAGEN" "$WORK/bin/tlsagen"
PATH=$WORK/bin:$PATH
csk=$(ls "$DNS_ZONE_KEYS"/Kexample.net.+*.private | head -n 1)
hex=$(tlsagen -r 3,1,1 -f json -H mx1.example.net "$EX/fullchain.pem" | sed -n 's/.*"data": "\([0-9a-f]*\)".*/\1/p')
[ -n "$csk" ] && [ -n "$hex" ] || bail "lab key or record missing"

subst() {
	sed -e "s|192\.0\.2\.53|$DNS_PRIMARY|g" \
	    -e "s|192\.0\.2\.25|127.0.0.20|g" \
	    -e "s|--resolver 127\.0\.0\.1|--resolver $DNS_RESOLVER|g" \
	    -e "s|/etc/tlsa/tsig\.key|$DNS_TSIG_KEY|g" \
	    -e "s|/etc/bind/tsig\.key|$DNS_TSIG_KEY|g" \
	    -e "s|Kexample\.net\.+013+12345\.private|$csk|g" \
	    -e "s|8cb0fc6c\.\.\.|$hex|g" \
	    -e "s|8cb0fc6c52\.\.\.|$hex|g"
}

# extract FILE KIND: "CMD\tcommand" and "OUT\tline" records.
extract() {
	case $2 in
	man)
		awk '
		/^\.Sh EXAMPLES/ { ex = 1; next }
		/^\.Sh / { ex = 0 }
		ex && /^\.Bd -literal/ { lit = 1; cmd = ""; next }
		ex && /^\.Ed/ { lit = 0; next }
		!lit { next }
		{ gsub(/\\e/, "\\") }
		cont { cmd = cmd " " $0; sub(/^ +/, "", $0) }
		!cont && /^\$ / { cmd = substr($0, 3) }
		!cont && !/^\$ / { print "OUT\t" $0; next }
		/\\$/ { sub(/\\$/, "", cmd); cont = 1; next }
		{ cont = 0; gsub(/  +/, " ", cmd); print "CMD\t" cmd }
		' "$1" ;;
	readme)
		awk '
		/^```sh/ { blk = 1; cmd = ""; skip = 0; next }
		/^```/ { blk = 0; next }
		!blk { next }
		/quickstart|^make|tlsa-rollover/ { skip = 1 }
		skip || /^#/ || /^ *$/ { next }
		cont { cmd = cmd " " $0 }
		!cont { cmd = $0 }
		/\\$/ { sub(/\\$/, "", cmd); cont = 1; next }
		{ cont = 0; gsub(/  +/, " ", cmd); print "CMD\t" cmd }
		' "$1" ;;
	esac
}

run_examples() {	# FILE KIND
	extract "$1" "$2" | subst > "$WORK/examples.txt"
	_re_n=$(grep -c '^CMD' "$WORK/examples.txt")
	[ "$_re_n" -gt 0 ] || { _report 1 "$1: no examples found"; return; }
	_re_last=""
	_re_out=""
	while IFS='	' read -r kind text; do
		if [ "$kind" = CMD ]; then
			# the signed-zone examples want the zone as it is now
			case $text in *example.net.signed*)
				dig @"$DNS_PRIMARY" +noall +answer example.net AXFR |
					sed '$d' > "$EX/example.net.signed" ;;
			esac
			_re_last=$text
			_re_out=$(cd "$EX" && sh -c "$text" 2>&1)
			_re_st=$?
			if [ $_re_st -eq 0 ]; then
				_report 0 "$1: $text"
			else
				_report 1 "$1: $text" "exit $_re_st" "output: $_re_out"
			fi
		else
			_re_want=$(printf '%s\n' "$text" | sed 's/[0-9a-f]*\.\.\..*$//')
			[ -n "$_re_want" ] || continue
			if printf '%s\n' "$_re_out" | grep -qF -- "$_re_want"; then
				_report 0 "$1: shown output of '$_re_last': $_re_want"
			else
				_report 1 "$1: shown output of '$_re_last'" "want: $_re_want" "got: $_re_out"
			fi
		fi
	done < "$WORK/examples.txt"
}

# Dynamic updates reach every server before the dig example asks.
run_examples "$TOP/man/tlsagen.1" man
run_examples "$TOP/README.md" readme
done_testing
