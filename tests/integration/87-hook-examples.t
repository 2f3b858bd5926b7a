#!/bin/sh
# 87-hook-examples.t: the ACME client examples of tlsa-rollover(8) (its
# "ACME client hooks" section) and of the README (the block under "ACME
# clients and the timer") run for real: Pebble as the CA, certbot, lego,
# dehydrated and uacme as Debian packages them, the hooks and units as
# "make install-hooks" installs them, a signed lab zone example.net for
# the run the timer starts.  The documentation's paths map onto the lab
# (subst below); each client is called through a small wrapper that adds
# what points it at Pebble (server URL, trust, loopback challenge port,
# forced renewal).  acme.sh, not packaged in Debian, is a stand-in that
# does what acme.sh does with --reloadcmd: sets CERT_PATH, CERT_KEY_PATH,
# CA_CERT_PATH, CERT_FULLCHAIN_PATH (and leaves a .next key) and runs the
# command with sh.  systemctl, absent here, is a stand-in that runs the
# installed service's ExecStart once.  Output shown under a command must
# appear in what it prints.
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.0.20 mx1.example.net
127.0.0.21 mx2.example.net"
lab_netns "$@"
need_cmd named unbound dig openssl pebble certbot lego dehydrated uacme curl make unshare awk
. "$TOP/tests/lab/dns.sh"
. "$TOP/tests/lab/certs.sh"
. "$TOP/tests/lab/acme.sh"
: "${TLSA_ROLLOVER:=$TOP/build/tlsa-rollover}"
R=$TLSA_ROLLOVER
chmod 711 "$WORK"
MAN8=$TOP/man/tlsa-rollover.8

DNS_LAB_TTL=2 dns_lab_start "$WORK/dns" example.net || bail "DNS lab"
at_exit "dns_lab_stop '$WORK/dns'"
acme_pebble_start "$WORK" || bail "Pebble"
at_exit "acme_pebble_stop '$WORK'"
mkdir -p "$WORK/bin" "$WORK/ssl" "$WORK/ex" "$WORK/pki" || bail "mkdir"
CONF=$WORK/roll.yaml
cat > "$CONF" <<YAML
state_dir: $WORK/state
dns:
  zone: example.net
  primary: $DNS_PRIMARY
  tsig_key_file: $DNS_TSIG_KEY
  resolver: $DNS_RESOLVER
  ttl: 2
  min_hold: 1s
  hold_margin: 1s
services:
  - name: mx
    hosts: [mx1.example.net, mx2.example.net]
    deploy_dir: $WORK/deploy
YAML
INST=$WORK/inst
make -s -C "$TOP" install-hooks DESTDIR="$INST" PREFIX=/usr/local || bail "make install-hooks"
TLSA_ROLLOVER_CONFIG=$CONF
export TLSA_ROLLOVER TLSA_ROLLOVER_CONFIG
SYS=/usr/sbin:/usr/bin:/sbin:/bin

# The wrappers: the real clients, pointed at Pebble.
LAB=". '$TOP/tests/lab/acme.sh'; ACME_URL='$ACME_URL'; ACME_CA='$ACME_CA'; PATH=$SYS"
cat > "$WORK/bin/tlsa-rollover" <<EOF
#!/bin/sh
exec "$R" -f "$CONF" "\$@"
EOF
cat > "$WORK/bin/certbot" <<EOF
#!/bin/sh
$LAB
acme_certbot "$WORK" "\$@"
EOF
cat > "$WORK/bin/lego" <<EOF
#!/bin/sh
# renew: force it (Pebble's certificates last five years)
$LAB
for a; do shift; set -- "\$@" "\$a"; [ "\$a" = renew ] && set -- "\$@" --days 3000 --no-random-sleep; done
acme_lego "$WORK" "\$@"
EOF
cat > "$WORK/bin/dehydrated" <<EOF
#!/bin/sh
$LAB
acme_dehydrated "$WORK" "\$@" --force
EOF
BUNDLE=$(acme_uacme_bundle "$WORK") || bail "uacme bundle"
cat > "$WORK/bin/uacme-lab" <<EOF
#!/bin/sh
exec unshare -m sh -c 'mount --bind "$BUNDLE" /etc/ssl/certs/ca-certificates.crt && exec uacme -y -a "$ACME_URL" "\$@"' uacme "\$@"
EOF
UACME=$WORK/bin/uacme-lab
export UACME
certs_ca "$WORK/pki" && certs_leaf "$WORK/pki" as ec mx1.example.net mx2.example.net || bail "acme.sh certificate"
cat > "$WORK/bin/acme.sh" <<EOF
#!/bin/sh
# acme.sh --install-cert ... --reloadcmd CMD: the environment acme.sh gives it
cmd=""
while [ \$# -gt 0 ]; do [ "\$1" = --reloadcmd ] && cmd=\$2; shift; done
[ -n "\$cmd" ] || { echo "acme.sh stand-in: no --reloadcmd" >&2; exit 1; }
d=$WORK/acme.sh/mx1.example.net
mkdir -p "\$d"
cp "$WORK/pki/as.pem" "\$d/mx1.example.net.cer"
cp "$WORK/pki/as.key" "\$d/mx1.example.net.key"
cp "$WORK/pki/int.pem" "\$d/ca.cer"
cat "\$d/mx1.example.net.cer" "\$d/ca.cer" > "\$d/fullchain.cer"
(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "\$d/mx1.example.net.key.next" 2>/dev/null)
cd "\$d" && CERT_PATH=\$d/mx1.example.net.cer CERT_KEY_PATH=\$d/mx1.example.net.key CA_CERT_PATH=\$d/ca.cer \
	CERT_FULLCHAIN_PATH=\$d/fullchain.cer Le_Domain=mx1.example.net exec sh -c "\$cmd"
EOF
cat > "$WORK/bin/systemctl" <<EOF
#!/bin/sh
# systemctl enable --now UNIT.timer: the timer's first tick
[ "\$1 \$2" = "enable --now" ] || { echo "systemctl stand-in: only enable --now" >&2; exit 1; }
u=$INST/usr/local/lib/systemd/system/\${3%.timer}
[ -f "\$u.timer" ] && [ -f "\$u.service" ] || { echo "no such unit \$3" >&2; exit 1; }
grep -q '^WantedBy=timers.target' "\$u.timer" || exit 1
set -- \$(sed -n 's/^ExecStart=//p' "\$u.service")
shift
exec "$WORK/bin/tlsa-rollover" "\$@"
EOF
chmod 755 "$WORK/bin"/*
PATH=$WORK/bin:$PATH

# Set up what the examples take for granted: accounts, an existing lego
# certificate to renew, a next key file.
acme_dehydrated_conf "$WORK" "$INST/usr/local/libexec/tlsa-rollover/dehydrated-hook" no || bail "dehydrated account"
acme_lego "$WORK" --email hostmaster@example.net --domains mx1.example.net --domains mx2.example.net \
	run >/dev/null 2>&1 || bail "lego run"
"$UACME" -c "$WORK/uacme" new >/dev/null 2>&1 || bail "uacme account"
(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/ssl/mx-next.key" 2>/dev/null) ||
	bail "next key"

subst() {
	sed -e "s|/usr/local/libexec/tlsa-rollover/|$INST/usr/local/libexec/tlsa-rollover/|g" \
	    -e "s|/usr/local/sbin/tlsa-rollover|$WORK/bin/tlsa-rollover|g" \
	    -e "s|/etc/ssl/uacme|$WORK/uacme|g" \
	    -e "s|/usr/share/uacme/uacme.sh|/bin/true|g" \
	    -e "s|/etc/ssl/private/|$WORK/ssl/|g"
}

# extract_man: the ACME client hooks section of the .8 page as
# "CMD<tab>command", "OUT<tab>line" and "CFG<tab>line" records.
extract_man() {
	awk '
	/^\.Ss ACME client hooks/ { on = 1; next }
	/^\.S[sh] / { on = 0 }
	!on { next }
	/^\.Bd -literal/ { lit = 1; incmd = 0; next }
	/^\.Ed/ { lit = 0; next }
	!lit { next }
	{ gsub(/\\e/, "\\"); gsub(/\\&/, "") }
	cont { cmd = cmd " " $0; if (/\\$/) { sub(/\\$/, "", cmd); next } cont = 0; gsub(/  +/, " ", cmd); print "CMD\t" cmd; incmd = 1; next }
	/^# / { cmd = substr($0, 3); if (/\\$/) { sub(/\\$/, "", cmd); cont = 1; next } print "CMD\t" cmd; incmd = 1; next }
	/^[A-Z_]+=/ { print "CFG\t" $0; next }
	incmd { print "OUT\t" $0 }
	' "$MAN8"
}
# extract_readme: the commands of the README's ACME client block.
extract_readme() {
	awk '
	/^### ACME clients and the timer/ { sect = 1; next }
	/^##/ { sect = 0 }
	sect && /^```sh/ { blk = 1; next }
	blk && /^```/ { blk = 0; next }
	!blk || /^#/ || /^ *$/ { next }
	{ print "CMD\t" $0 }
	' "$TOP/README.md"
}

run_records() {	# SOURCE-NAME < records
	_rr_n=0
	while IFS='	' read -r kind text; do
		case $kind in
		CFG)	# a line of dehydrated's config
			printf '%s\n' "$text" >> "$WORK/dehydrated/config"
			continue ;;
		CMD)
			_rr_n=$((_rr_n + 1))
			_rr_last=$text
			_rr_out=$(cd "$WORK/ex" && sh -c "$text" 2>&1)
			_rr_st=$?
			if [ $_rr_st -eq 0 ]; then
				_report 0 "$1: $text"
			else
				_report 1 "$1: $text" "exit $_rr_st" "output: $_rr_out"
			fi ;;
		OUT)
			[ -n "$text" ] || continue
			if printf '%s\n' "$_rr_out" | grep -qF -- "$text"; then
				_report 0 "$1: shown output of '$_rr_last': $text"
			else
				_report 1 "$1: shown output of '$_rr_last'" "want: $text" "got: $_rr_out"
			fi ;;
		esac
	done
	[ "$_rr_n" -gt 0 ] || _report 1 "$1: no examples found"
}

extract_man | subst > "$WORK/man.txt"
grep -q '^CFG	HOOK=' "$WORK/man.txt" || bail "$MAN8: no dehydrated HOOK= example"
run_records "tlsa-rollover(8)" < "$WORK/man.txt"
like "the examples imported into the service" "$("$R" -f "$CONF" status mx 2>&1)" "pending"
extract_readme | subst > "$WORK/readme.txt"
run_records "README.md" < "$WORK/readme.txt"
like "the timer's first run published the records" "$(dig @"$DNS_PRIMARY" +short _25._tcp.mx1.example.net TLSA)" "^3 1 1 "
done_testing
