#!/bin/sh
# 65-rollover-examples.t: the EXAMPLES of tlsa-rollover.yaml(5) and
# tlsa-rollover(8) run, for real, against a lab under the names they use:
# zone example.net (signed BIND primary and secondary, validating
# Unbound), mx1/mx2.example.net two addresses of a Postfix MX that reads
# its certificate from the deploy directory.
#
# The configuration of tlsa-rollover.yaml(5) is the one every
# tlsa-rollover(8) example runs with, after the substitutions in subst()
# (lab addresses, paths under $WORK, and TTL 2 s / min_hold 1 s /
# hold_margin 1 s instead of an hour, so a rollover takes seconds); its
# fragments that add other services are appended for the validate-config
# example of the .5 page.  In the EXAMPLES of each page:
#   "# command" lines (with \ continuations) are commands; the lines after
#     one are output that must appear in what it prints (up to the first
#     abbreviated "xxxx...", with dates masked);
#   a block starting "#!/bin/sh" is a hook script, run with certbot's
#     RENEWED_LINEAGE pointing at a renewed certificate;
#   a crontab line and an ExecStart= line run their command;
#   certbot itself is not run: its --csr request is signed by the lab CA
#     into the files the example names;
#   before a status example the lab runs "tlsa-rollover run" until the
#     service is in the phase the example shows.
# After the examples, an observer checks that what each MX address serves
# validates against the RRset of both authoritative servers.  Finally the
# strictness and defaults the .5 page promises are checked one by one.
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.0.20 mx1.example.net
127.0.0.21 mx2.example.net"
lab_netns "$@"
need_cmd named unbound postfix dig openssl awk
. "$TOP/tests/lab/dns.sh"
. "$TOP/tests/lab/certs.sh"
: "${TLSA_ROLLOVER:=$TOP/build/tlsa-rollover}"
chmod 711 "$WORK"
MAN8=$TOP/man/tlsa-rollover.8
MAN5=$TOP/man/tlsa-rollover.yaml.5

DNS_LAB_TTL=2 dns_lab_start "$WORK/dns" example.net || bail "DNS lab"
at_exit "dns_lab_stop '$WORK/dns'"
mkdir -p "$WORK/pki" "$WORK/pki2" "$WORK/mx" "$WORK/deploy" "$WORK/ex" "$WORK/bin" \
	"$WORK/items" "$WORK/live/mx1.example.net" || bail "mkdir"
certs_ca "$WORK/pki" && certs_ca "$WORK/pki2" || bail "CAs"
for n in A B; do
	certs_leaf "$WORK/pki" "$n" ec mx1.example.net mx2.example.net || bail "cert $n"
done
D=$WORK/deploy/mx/current
sh "$TOP/tests/lab/postfix.sh" start "$WORK/mx" \
	"127.0.0.20=$D/privkey.pem,$D/fullchain.pem" "127.0.0.21=$D/privkey.pem,$D/fullchain.pem" ||
	bail "Postfix"
at_exit "sh '$TOP/tests/lab/postfix.sh' stop '$WORK/mx'"
# What the ACME client holds at first: certificate A.
cp "$WORK/pki/A.chain.pem" "$WORK/live/mx1.example.net/fullchain.pem"
cp "$WORK/pki/A.key" "$WORK/live/mx1.example.net/privkey.pem"

CONF=$WORK/tlsa-rollover.yaml	# the .5 example: what the .8 examples use
CONF2=$WORK/more-services.yaml	# the same with the other services
STAGED=3f9c0e1d2b4a5968		# the staged key id the .8 page shows

subst() {
	sed -e "s|/etc/tlsa-rollover/tlsa-rollover\.yaml|$CONF|g" \
	    -e "s|/var/lib/tlsa-rollover|$WORK/state|g" \
	    -e "s|/etc/tlsa-rollover/tsig\.key|$DNS_TSIG_KEY|g" \
	    -e "s|/etc/tlsa-rollover/example\.org\.key|$DNS_TSIG_KEY_384|g" \
	    -e "s|/etc/tlsa-rollover/example\.net\.ds|$DNS_TRUST_ANCHOR|g" \
	    -e "s|/etc/tlsa-rollover/issuers/e7\.pem|$WORK/pki/int.pem|g" \
	    -e "s|/etc/tlsa-rollover/issuers/e8\.pem|$WORK/pki2/int.pem|g" \
	    -e "s|/etc/tlsa-rollover/deploy/|$WORK/deploy/|g" \
	    -e "s|/etc/letsencrypt/live/|$WORK/live/|g" \
	    -e "s|\[/usr/sbin/postfix, reload\]|[/bin/sh, $TOP/tests/lab/postfix.sh, reload, $WORK/mx]|g" \
	    -e "s|/usr/local/sbin/tlsa-rollover|tlsa-rollover|g" \
	    -e "s|192\.0\.2\.53|$DNS_PRIMARY|g" \
	    -e "s|resolver: 127\.0\.0\.1@53|resolver: $DNS_RESOLVER@53|g" \
	    -e "s|ttl: 3600|ttl: 2|; s|min_hold: 1h|min_hold: 1s|; s|hold_margin: 10m|hold_margin: 1s|" \
	    -e "s|3f9c0e1d2b4a5968|$STAGED|g"
}

# extract PAGE PREFIX: the EXAMPLES of PAGE as items in $WORK/items:
# PREFIXnnn.cmd (+ .out, the output shown), PREFIXnnn.sh (a script),
# cfg1 (a configuration) and frag1, frag2... (services to add to it).
extract() {
	awk -v dir="$WORK/items" -v pfx="$2" '
	function item(kind) { n++; cur = sprintf("%s/%s%03d", dir, pfx, n); return cur "." kind }
	function emit() {
		gsub(/  +/, " ", cmd)
		f = item("cmd"); print cmd > f; close(f)
		out = cur ".out"; incmd = 1
	}
	/^\.Sh EXAMPLES/ { ex = 1; next }
	/^\.Sh / { ex = 0 }
	!ex { next }
	/^\.Bd -literal/ { lit = 1; first = 1; script = ""; cfg = ""; cont = 0; incmd = 0; next }
	/^\.Ed/ { if (script != "") close(script); if (cfg != "") close(cfg); lit = 0; next }
	!lit { next }
	{ gsub(/\\e/, "\\"); gsub(/\\\(dq/, "\""); gsub(/\\&/, "") }
	first && /^#!\/bin\/sh/ { script = item("sh") }
	first && /^state_dir:/ { cfg = dir "/cfg1" }
	first && /^ +- name:/ { cfg = dir "/frag" ++nfrag }
	{ first = 0 }
	script != "" { print > script; next }
	cfg != "" { print > cfg; next }
	cont { cmd = cmd " " $0; if (/\\$/) { sub(/\\$/, "", cmd); next } cont = 0; emit(); next }
	/^# / { cmd = substr($0, 3); if (/\\$/) { sub(/\\$/, "", cmd); cont = 1; next } emit(); next }
	/^ExecStart=/ { cmd = substr($0, 11); emit(); incmd = 0; next }
	# a crontab line (no {n} intervals: mawk lacks them)
	/^[-0-9*\/,]+ +[-0-9*\/,]+ +[-0-9*\/,]+ +[-0-9*\/,]+ +[-0-9*\/,]+ +\// {
		cmd = $0; sub(/^[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +/, "", cmd); emit(); incmd = 0; next
	}
	incmd { print > out }
	' "$1"
}

mask() { sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} UTC/DATE/g'; }

phase() { tlsa-rollover --json status mx 2>/dev/null | sed -n 's/.*"phase": "\([a-z]*\)".*/\1/p'; }

run_until() {	# PHASE MAX
	_ru_i=0
	while [ $_ru_i -lt "$2" ]; do
		[ "$(phase)" = "$1" ] && return 0
		tlsa-rollover run > "$WORK/run.out" 2>&1
		_ru_i=$((_ru_i + 1))
		[ "$(phase)" = "$1" ] && return 0
		sleep 1
	done
	diag "phase $(phase), not $1, after $2 runs; the last said: $(cat "$WORK/run.out")"
	return 1
}

# certbot certonly --csr CSR --cert-path C --chain-path CH --fullchain-path F,
# answered by the lab CA.
fake_certbot() {
	_fc_csr='' _fc_cert='' _fc_chain='' _fc_full=''
	while [ $# -gt 0 ]; do
		case $1 in
		--csr) _fc_csr=$2; shift ;;
		--cert-path) _fc_cert=$2; shift ;;
		--chain-path) _fc_chain=$2; shift ;;
		--fullchain-path) _fc_full=$2; shift ;;
		esac
		shift
	done
	[ -n "$_fc_csr" ] && [ -n "$_fc_cert" ] && [ -n "$_fc_chain" ] && [ -n "$_fc_full" ] ||
		{ echo "the certbot example lacks --csr, --cert-path, --chain-path or --fullchain-path"; return 1; }
	openssl x509 -req -in "$_fc_csr" -CA "$WORK/pki/int.pem" -CAkey "$WORK/pki/int.key" \
		-CAcreateserial -days 30 -copy_extensions copy -out "$_fc_cert" 2>&1 &&
		cp "$WORK/pki/int.pem" "$_fc_chain" && cat "$_fc_cert" "$_fc_chain" > "$_fc_full"
}

# run_items PREFIX CONFIG PAGE: run the extracted items in order.
run_items() {
	ROLL_CONF=$2
	export ROLL_CONF
	_ri_page=$3
	for _ri in $(ls "$WORK/items" | sed -n "s/^\($1[0-9]*\)\.\(cmd\|sh\)\$/\1/p" | sort -u); do
		_ri_f=$WORK/items/$_ri
		if [ -f "$_ri_f.sh" ]; then
			subst < "$_ri_f.sh" > "$WORK/ex/hook"
			chmod 755 "$WORK/ex/hook"
			# certbot renewed the lineage (to B) before its deploy hook runs.
			cp "$WORK/pki/B.chain.pem" "$WORK/live/mx1.example.net/fullchain.pem"
			cp "$WORK/pki/B.key" "$WORK/live/mx1.example.net/privkey.pem"
			_ri_text="hook script: $(grep -v '^#' "$WORK/ex/hook" | tr -s ' \n\\' ' ')"
			_ri_out=$(cd "$WORK/ex" && RENEWED_LINEAGE=$WORK/live/mx1.example.net ./hook 2>&1)
			_ri_st=$?
		else
			_ri_text=$(subst < "$_ri_f.cmd")
			# A status example shows a phase: get the lab there first.
			_ri_want=$(sed -n -e 's/^mx: \([a-z]*\)$/\1/p' -e 's/.*"phase": "\([a-z]*\)".*/\1/p' \
				"$_ri_f.out" 2>/dev/null | head -n 1)
			case $_ri_text in *" status"*)
				[ -z "$_ri_want" ] || run_until "$_ri_want" 30 ||
					_report 1 "the lab reaches phase $_ri_want for: $_ri_text" ;;
			esac
			case $_ri_text in
			"certbot "*)
				_ri_out=$(cd "$WORK/ex" && eval "fake_certbot ${_ri_text#certbot certonly }")
				_ri_text="$_ri_text (answered by the lab CA)"
				;;
			*)
				_ri_out=$(cd "$WORK/ex" && sh -c "$_ri_text" 2>&1) ;;
			esac
			_ri_st=$?
		fi
		if [ $_ri_st -eq 0 ]; then
			_report 0 "$_ri_page: $_ri_text"
		else
			_report 1 "$_ri_page: $_ri_text" "exit $_ri_st" "output: $_ri_out"
		fi
		# The staged key's id, for the examples that name its file.
		_ri_id=$(printf '%s\n' "$_ri_out" | sed -n 's/.*staged key \([0-9a-f]\{16\}\) .*/\1/p')
		[ -z "$_ri_id" ] || STAGED=$_ri_id
		[ -f "$_ri_f.out" ] || continue
		subst < "$_ri_f.out" > "$WORK/shown.txt"
		while IFS= read -r _ri_line; do
			_ri_w=$(printf '%s\n' "$_ri_line" | sed 's/[0-9a-f]*\.\.\..*$//' | mask)
			[ -n "$(printf '%s' "$_ri_w" | tr -d ' []{},')" ] || continue
			if printf '%s\n' "$_ri_out" | mask | grep -qF -- "$_ri_w"; then
				_report 0 "$_ri_page: shown output of '$_ri_text': $_ri_w"
			else
				_report 1 "$_ri_page: shown output of '$_ri_text'" "want: $_ri_w" "got: $_ri_out"
			fi
		done < "$WORK/shown.txt"
	done
}

# The wrapper the examples call: the real binary with the lab config.
cat > "$WORK/bin/tlsa-rollover" <<EOF
#!/bin/sh
exec "$TLSA_ROLLOVER" -f "\$ROLL_CONF" "\$@"
EOF
chmod 755 "$WORK/bin/tlsa-rollover"
PATH=$WORK/bin:$PATH

# ---- tlsa-rollover.yaml(5) -------------------------------------------------
extract "$MAN5" p5
[ -s "$WORK/items/cfg1" ] || bail "$MAN5: no example configuration found"
[ -s "$WORK/items/frag1" ] || bail "$MAN5: no example of another service found"
subst < "$WORK/items/cfg1" > "$CONF"
cat "$WORK/items/cfg1" "$WORK/items"/frag* | subst > "$CONF2"
# has_lines NAME TEXT LINE...: every LINE is a whole line of TEXT.
has_lines() {
	_hl_name=$1 _hl_text=$2
	shift 2
	for _hl_l in "$@"; do
		printf '%s\n' "$_hl_text" | grep -qxF -- "$_hl_l" ||
			{ _report 1 "$_hl_name" "want the line: $_hl_l" "got: $_hl_text"; return; }
	done
	_report 0 "$_hl_name"
}
ok "tlsa-rollover.yaml(5): the example configuration is valid" \
	"$TLSA_ROLLOVER" -f "$CONF" validate-config
has_lines "tlsa-rollover.yaml(5): the second service inherits and overrides dns keys" \
	"$("$TLSA_ROLLOVER" -f "$CONF2" validate-config 2>&1)" \
	"service mx-org: port 25, hosts mx.example.org." \
	"  records 311 211, TTL 600, hold >= 1 s, margin 1 s" \
	"  updates to 198.51.100.53@5353 (zone example.org.) with key file $DNS_TSIG_KEY_384" \
	"  visibility: NS set + primary; validation: $DNS_RESOLVER@53 and $DNS_TRUST_ANCHOR"
has_lines "tlsa-rollover.yaml(5): a service with two certificate slots" \
	"$("$TLSA_ROLLOVER" -f "$CONF2" validate-config 2>&1)" \
	"service mx-dual: port 25, hosts mx3.example.net."
run_items p5 "$CONF2" "tlsa-rollover.yaml(5)"

# ---- tlsa-rollover(8) -------------------------------------------------------
extract "$MAN8" p8
ls "$WORK/items" | grep -q '^p8.*\.cmd$' || bail "$MAN8: no examples found"
run_items p8 "$CONF" "tlsa-rollover(8)"
ROLL_CONF=$CONF
export ROLL_CONF

# The story of the examples ends with the certificate of the staged key
# live, and every MX address matching the RRset of both servers.
spki() { "$TLSAGEN" -r 3,1,1 -f json -H mx1.example.net "$1" | sed -n 's/.*"data": "\([0-9a-f]*\)".*/\1/p'; }
like "the staged key's certificate is deployed" "$(readlink "$D")" "^versions/[0-9a-f]{16}\$"
key311=$(spki "$WORK/state/mx/staged/$STAGED/privkey.pem" 2>/dev/null)
like "the staged key is in the state directory" "$key311" '^[0-9a-f]{64}$'
like "mx1 serves the staged key" \
	"$("$TLSAGEN" -r 3,1,1 -f json -H mx1.example.net -c 127.0.0.20 2>&1)" \
	"\"data\": \"${key311:-no staged key}\""
for srv in 127.0.0.40 127.0.0.41; do
	for h in mx1 mx2; do
		dig @"$srv" +norec +noall +answer "_25._tcp.$h.example.net" TLSA |
			awk '$4 == "TLSA" { d = ""; for (i = 8; i <= NF; i++) d = d $i; print $5, $6, $7, d }' \
			> "$WORK/obs.txt"
		ok "$h validates against the RRset on $srv" \
			"$TLSAGEN" --timeout 5 --verify "$WORK/obs.txt" -H "$h.example.net" -c "$h.example.net"
	done
done

# ---- what tlsa-rollover.yaml(5) promises about strictness and defaults ------
# bad NAME EXPECT-RE EDIT...: the example configuration edited by sed
# (or with lines appended by "+TEXT") must exit 2 with EXPECT-RE.
bad() {
	_b_name=$1 _b_re=$2
	shift 2
	cp "$CONF" "$WORK/bad.yaml"
	for _b_e in "$@"; do
		case $_b_e in
		+*) printf '%s\n' "${_b_e#+}" >> "$WORK/bad.yaml" ;;
		*) sed -i -e "$_b_e" "$WORK/bad.yaml" ;;
		esac
	done
	_b_out=$("$TLSA_ROLLOVER" -f "$WORK/bad.yaml" validate-config 2>&1)
	_b_st=$?
	if [ $_b_st -eq 2 ] && printf '%s\n' "$_b_out" | grep -Eq -- "$_b_re"; then
		_report 0 "refused: $_b_name"
	else
		_report 1 "refused: $_b_name" "exit $_b_st (want 2)" "want: /$_b_re/" "got: $_b_out"
	fi
}
P="^tlsa-rollover: $WORK/bad\\.yaml:[0-9]+:[0-9]+: "
bad "a duplicate key" "${P}duplicate key \"port\"" 's/^\(    port: 25\)$/\1\n    port: 25/'
bad "an unknown key" "${P}unknown key \"colour\"" '+colour: blue'
bad "an anchor" "${P}anchors" 's|^state_dir: |state_dir: \&s |'
bad "an alias" "${P}(anchors|aliases)" 's|^    key_type: ec256|    key_type: *k|'
bad "a tag" "${P}tags" 's|^state_dir: |state_dir: !!str |'
bad "a YAML 1.1 boolean" "${P}key_type: \"on\" is a boolean" 's/key_type: ec256/key_type: on/'
bad "a second document" "${P}more than one YAML document" '+---' '+state_dir: /tmp'
bad "usage 0 records" "${P}records: usages 0 and 1" 's/"3 1 1", "2 1 1"/"0 1 1"/'
bad "a reload that is not an absolute path" "${P}reload: " 's|^    reload: .*|    reload: [postfix, reload]|'
bad "ttl 0" "${P}ttl: must be more than 0" 's/ttl: 2$/ttl: 0/'
bad "ttl over a week" "${P}ttl: \"604801\" is not a number" 's/ttl: 2$/ttl: 604801/'
bad "a quoted ttl" "${P}ttl: want a plain number" 's/ttl: 2$/ttl: "2"/'
bad "a duration with two units" "${P}min_hold: want a duration" 's/min_hold: 1s/min_hold: 1h30m/'
bad "a relative state_dir" "${P}state_dir: want an absolute path" 's|^state_dir: .*|state_dir: state|'
bad "an unknown certificate family" "${P}certificates: want ecdsa, rsa and/or eddsa" \
	's/^    key_type: ec256$/&\n    certificates: [ecdsa, dsa]/'
bad "a certificate family twice" "${P}certificates: rsa twice" \
	's/^    key_type: ec256$/&\n    certificates: [rsa, rsa]/'
bad "a key_type stage cannot make" "${P}key_type: want ec256" 's/key_type: ec256/key_type: ed25519/'
bad "a service without deploy_dir" "${P}a service needs name, hosts and deploy_dir" '/deploy_dir:/d'
bad "neither resolver nor trust_anchor_file" \
	"^tlsa-rollover: $WORK/bad\\.yaml:[0-9]+:[0-9]+: service \"mx\": a validated lookup" \
	'/resolver:/d' '/trust_anchor_file:/d'
cp "$DNS_TSIG_KEY" "$WORK/loose.key" && chmod 640 "$WORK/loose.key"
bad "a TSIG key file others may read" "TSIG key file is accessible by group or others \\(mode 0640\\)" \
	"s|tsig_key_file: .*|tsig_key_file: $WORK/loose.key|"
cat > "$WORK/min.yaml" <<EOF
state_dir: $WORK/state-min
dns:
  primary: $DNS_PRIMARY
  tsig_key_file: $DNS_TSIG_KEY
  resolver: $DNS_RESOLVER
services:
  - name: mx
    hosts: [mx1.example.net]
    deploy_dir: $WORK/deploy-min
EOF
has_lines "the defaults: port 25, 3 1 1 + 2 1 1, TTL 3600, min_hold 1h, hold_margin 10m" \
	"$("$TLSA_ROLLOVER" -f "$WORK/min.yaml" validate-config 2>&1)" \
	"service mx: port 25, hosts mx1.example.net." \
	"  records 311 211, TTL 3600, hold >= 3600 s, margin 600 s" \
	"  updates to $DNS_PRIMARY (zone from the SOA) with key file $DNS_TSIG_KEY"
done_testing
