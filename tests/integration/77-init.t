#!/bin/sh
# 77-init.t: tlsa-rollover init asks for what its flags do not give:
# answers on standard input with --interactive (one line each, in the
# order of tlsa-rollover(8)), each checked as it comes (the TSIG key file
# must load, hosts be in the zone, the deploy directory's parent exist)
# and asked again at most three times; end of input or three wrong
# answers write nothing.  The defaults come from the machine: the
# resolver from /etc/resolv.conf (the lab's Unbound, 127.0.0.53), the
# hosts from the zone's MX RRset as that resolver serves it, the MTA
# from what is installed.  Last, a real terminal under tmux.
. "$(dirname "$0")/../lib.sh"
lab_netns "$@"
need_cmd named unbound dig tsig-keygen
. "$TOP/tests/lab/dns.sh"
R=$TLSA_ROLLOVER
chmod 711 "$WORK"
DNS_LAB_TTL=2 dns_lab_start "$WORK/dns" || bail "DNS lab"
at_exit "dns_lab_stop '$WORK/dns'"
mkdir -p "$WORK/deploy" "$WORK/state"
chmod 755 "$WORK/deploy"
KEY=$DNS_TSIG_KEY
SECRET=$(sed -n 's/.*secret "\(.*\)".*/\1/p' "$KEY")
[ -n "$SECRET" ] || bail "no secret in $KEY"
if [ -x /usr/sbin/postfix ]; then MTA=postfix
elif [ -x /usr/sbin/exim4 ]; then MTA=exim
else MTA=none; fi

# init_ask FILE ANSWERS [ARGS...]: init --interactive ARGS with ANSWERS
# (a printf format without arguments: \n ends each answer) on stdin; exit status in $rc, stdout in $out, stderr in $errs.
init_ask() {
	_f=$1 _a=$2
	shift 2
	printf "$_a" | "$R" -f "$_f" init --interactive "$@" > "$WORK/out" 2> "$WORK/err"
	rc=$?
	out=$(cat "$WORK/out")
	errs=$(cat "$WORK/err")
}
noconf() { ! ls "$WORK" | grep -q "^$1"; }

# ---- every answer, the defaults taken where there is one -------------------
is "dig: the zone's MX RRset" "$(dig @127.0.0.53 +short example.test MX | sort -n | awk '{ print $2 }' | tr '\n' ' ')" "mx1.example.test. mx2.example.test. "
init_ask "$WORK/a.yaml" "example.test\n127.0.0.40\n$KEY\n\n\n$WORK/deploy\n\n\n\n" --state-dir "$WORK/state"
is "all answers: exit 0" "$rc" 0
like "... says what it wrote and the next commands" "$out" "a\.yaml: written for service mx; next: tlsa-rollover -f .*a\.yaml validate-config --online, then tlsa-rollover -f .*a\.yaml import mx CERT KEY"
like "... the resolver's default is resolv.conf's nameserver" "$errs" '^Validating resolver, ADDR\[@PORT\] \[127\.0\.0\.53@53\]: $'
like "... the hosts' default is the zone's MX RRset, by preference" "$errs" '^MX host names in example\.test\., separated by spaces or commas \[mx1\.example\.test mx2\.example\.test\]: $'
like "... the MTA's default is the one installed ($MTA)" "$errs" "^MTA \(postfix, exim or none\) \[$MTA\]: \$"
is "... one question per line, nothing else on stderr" "$(grep -vc ': $' "$WORK/err")" 0
nok "... the TSIG secret is never shown" grep -qF "$SECRET" "$WORK/out" "$WORK/err"
ok "... what it wrote passes validate-config --online" "$R" -f "$WORK/a.yaml" validate-config --online
A=$(grep -v '^ *#' "$WORK/a.yaml")
like "... zone" "$A" '^  zone: "example\.test\.?"$'
like "... primary" "$A" '^  primary: "127\.0\.0\.40"$'
like "... TSIG key file" "$A" "^  tsig_key_file: \"$KEY\"\$"
like "... resolver" "$A" '^  resolver: "127\.0\.0\.53@53"$'
like "... TTL 3600" "$A" '^  ttl: 3600$'
like "... service mx" "$A" '^  - name: "mx"$'
like "... the MX hosts" "$A" '^    hosts: \["mx1\.example\.test\.?", "mx2\.example\.test\.?"\]$'
like "... deploy dir" "$A" "^    deploy_dir: \"$WORK/deploy\"\$"

# ---- wrong answers are asked again ------------------------------------------
init_ask "$WORK/b.yaml" "exa..mple\nexample.test\n127.0.0.40@dns\n127.0.0.40@53\n$WORK/deploy/nokey\n$KEY\n127.0.0.53\nmx1.example.org mx1.example.test\nmx1.example.test,mx2.example.test\n$WORK/nodir/deploy\n$WORK/deploy/mx\nsmtp\n0\n2h\npostfix\n"
is "wrong answers then right ones: exit 0" "$rc" 0
like "... a bad zone is named, one line" "$errs" '^tlsa-rollover: init: zone "exa\.\.mple": .*$'
like "... a bad primary is named" "$errs" '^tlsa-rollover: init: primary .*127\.0\.0\.40@dns'
like "... a key file that does not load is named" "$errs" "^tlsa-rollover: init: TSIG key file $WORK/deploy/nokey: No such file"
like "... a host outside the zone is named" "$errs" '^tlsa-rollover: init: host mx1\.example\.org\.? is not in zone example\.test\.?$'
like "... a deploy dir without its parent is named" "$errs" "^tlsa-rollover: init: deploy dir $WORK/nodir/deploy: $WORK/nodir: No such file"
like "... a zero TTL is named" "$errs" '^tlsa-rollover: init: TTL 0: want a duration from 1s to 7d$'
is "... each question asked once more after each wrong answer" "$(grep -c '^DNS zone' "$WORK/err"),$(grep -c '^Primary' "$WORK/err"),$(grep -c '^TSIG key' "$WORK/err"),$(grep -c '^MX host' "$WORK/err"),$(grep -c '^Directory' "$WORK/err"),$(grep -c '^TTL' "$WORK/err")" "2,2,2,2,2,2"
ok "... what it wrote passes validate-config" "$R" -f "$WORK/b.yaml" validate-config
B=$(grep -v '^ *#' "$WORK/b.yaml")
like "... with the accepted answers: primary" "$B" '^  primary: "127\.0\.0\.40@53"$'
like "... service smtp" "$B" '^  - name: "smtp"$'
like "... TTL 2h" "$B" '^  ttl: 7200$'
like "... hosts" "$B" '^    hosts: \["mx1\.example\.test\.?", "mx2\.example\.test\.?"\]$'
like "... deploy dir" "$B" "^    deploy_dir: \"$WORK/deploy/mx\"\$"
like "... postfix's reload" "$B" '^    reload: \["/usr/sbin/postfix", "reload"\]$'

# A key file that others may read does not load: asked again, secret unsaid.
cp "$KEY" "$WORK/open.key"
chmod 644 "$WORK/open.key"
init_ask "$WORK/c.yaml" "example.test\n127.0.0.40\n$WORK/open.key\n$WORK/open.key\n$WORK/open.key\n"
is "three wrong answers: exit 2" "$rc" 2
like "... each named" "$errs" "^tlsa-rollover: init: TSIG key file $WORK/open\.key: TSIG key file is accessible by group or others"
like "... then one line says so" "$errs" '^tlsa-rollover: init: no usable TSIG key file in 3 answers; nothing written$'
is "... no fourth question" "$(grep -c '^TSIG key' "$WORK/err")" 3
nok "... the secret is not shown" grep -qF "$SECRET" "$WORK/out" "$WORK/err"
ok "... nothing written" noconf c.yaml

# ---- end of input ---------------------------------------------------------
init_ask "$WORK/d.yaml" 'example.test\n127.0.0.40\n'
is "end of input: exit 2" "$rc" 2
like "... one line names the question" "$errs" '^tlsa-rollover: init: end of input before an answer for the TSIG key file; nothing written$'
ok "... nothing written" noconf d.yaml
init_ask "$WORK/d.yaml" ''
is "no input at all: exit 2" "$rc" 2
ok "... nothing written" noconf d.yaml

# ---- flags and answers mixed ----------------------------------------------
init_ask "$WORK/e.yaml" "127.0.0.53@53\nmx2.example.test\n$WORK/deploy\nrelay\nnone\n" \
	--zone example.test --primary 127.0.0.40 --tsig-key "$KEY" --ttl 120 --state-dir "$WORK/state"
is "flags and answers: exit 0" "$rc" 0
is "... the flags are not asked" "$(grep -Ec '^(DNS zone|Primary|TSIG key|TTL)' "$WORK/err")" 0
is "... the others are, in order" "$(sed 's/ .*//' "$WORK/err" | tr '\n' ' ')" "Validating MX Directory Service MTA "
ok "... validate-config --online" "$R" -f "$WORK/e.yaml" validate-config --online
E=$(grep -v '^ *#' "$WORK/e.yaml")
like "... TTL from the flag" "$E" '^  ttl: 120$'
like "... host from the answer" "$E" '^    hosts: \["mx2\.example\.test\.?"\]$'
like "... service from the answer" "$E" '^  - name: "relay"$'
is "... MTA none from the answer: no reload" "$(printf '%s\n' "$E" | grep -c '^    reload:')" 0
# The example of tlsa-rollover(8) (answers for zone, primary and key as
# flags), in the lab's names.
ans=$(sed -n "s/^\$ printf '\(.*\)' |\$/\1/p" "$TOP/man/tlsa-rollover.8" | sed 's/\\e/\\/g')
is "the man page's example answers" "$ans" '\n\n/etc/tlsa-rollover/live/mx\n\n\n\n'
init_ask "$WORK/m.yaml" "$(printf '%s' "$ans" | sed "s|/etc/tlsa-rollover/live/mx|$WORK/deploy/mx|")" \
	--zone example.test --primary 127.0.0.40 --tsig-key "$KEY" --state-dir "$WORK/state"
is "... answer every question init asks then: exit 0" "$rc" 0
is "... six questions" "$(grep -c ': $' "$WORK/err")" 6
ok "... validate-config" "$R" -f "$WORK/m.yaml" validate-config
like "... with the MX hosts by default" "$(grep -v '^ *#' "$WORK/m.yaml")" '^    hosts: \["mx1\.example\.test\.?", "mx2\.example\.test\.?"\]$'
init_ask "$WORK/f.yaml" 'example.test\n' --zone 'exa..mple'
is "a bad flag: exit 2 before any question" "$rc" 2
is "... no question asked" "$(grep -c ': $' "$WORK/err")" 0
like "... the flag named" "$errs" '^tlsa-rollover: init: --zone "exa\.\.mple"'
init_ask "$WORK/a.yaml" 'example.test\n'
is "an existing file: exit 1 before any question" "$rc" 1
like "... says so" "$errs" 'a\.yaml: exists; not replaced \(give --force to\)$'
is "... no question asked" "$(grep -c ': $' "$WORK/err")" 0

# ---- not a terminal, no --interactive: today's usage error ----------------
out=$(printf 'x\n' | "$R" -f "$WORK/g.yaml" init --zone example.test 2>&1)
is "stdin not a terminal: a missing flag is a usage error: exit 2" "$?" 2
is "... naming it, nothing asked" "$out" "tlsa-rollover: init: missing --primary ADDR (see init --help)"
ok "... nothing written" noconf g.yaml

# ---- a real terminal ----------------------------------------------------------
if command -v tmux >/dev/null 2>&1; then
	T="tmux -S $WORK/tmux.sock"
	$T new-session -d -x 200 -y 50 -s init "'$R' -f '$WORK/t.yaml' init --state-dir '$WORK/state' --no-interactive --zone example.test; echo rc=\$? > '$WORK/t1.rc'; '$R' -f '$WORK/t.yaml' init --state-dir '$WORK/state' --zone example.test --primary 127.0.0.40; echo rc=\$? > '$WORK/t.rc'; sleep 60"
	at_exit "$T kill-server"
	wait_screen() {	# TEXT: until the pane shows TEXT (10 s at most; the
			# pane's lines come without their trailing blanks)
		_i=0
		while [ $_i -lt 100 ]; do
			$T capture-pane -p -t init | grep -qF -- "$1" && return 0
			sleep 0.1
			_i=$((_i + 1))
		done
		diag "pane: $($T capture-pane -p -t init)"
		return 1
	}
	ok "tty: asks for the TSIG key file (zone and primary were flags)" wait_screen "TSIG key file (from tsig-keygen, mode 0600):"
	is "... but not with --no-interactive: a usage error" "$(cat "$WORK/t1.rc" 2>/dev/null)" "rc=2"
	$T send-keys -t init "$KEY" Enter
	ok "... then the resolver, with its default" wait_screen "Validating resolver, ADDR[@PORT] [127.0.0.53@53]:"
	$T send-keys -t init Enter
	ok "... then the hosts, with the MX RRset" wait_screen "[mx1.example.test mx2.example.test]:"
	$T send-keys -t init "mx1.example.test" Enter
	wait_screen "Directory the MTA" >/dev/null
	$T send-keys -t init "$WORK/deploy" Enter
	wait_screen "Service name [mx]:" >/dev/null
	$T send-keys -t init Enter
	wait_screen "TTL of the TLSA records [3600]:" >/dev/null
	$T send-keys -t init "1h" Enter
	wait_screen "MTA (postfix, exim or none) [$MTA]:" >/dev/null
	$T send-keys -t init "exim" Enter
	ok "... says what it wrote" wait_screen "t.yaml: written for service mx"
	# The exit status comes a moment after the last line (longer under
	# ASan, whose leak check runs at exit): wait for it, bounded.
	_i=0
	while [ ! -s "$WORK/t.rc" ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	is "... exit 0" "$(cat "$WORK/t.rc" 2>/dev/null)" "rc=0"
	ok "... validate-config" "$R" -f "$WORK/t.yaml" validate-config
	like "... the answers are in it" "$(grep -v '^ *#' "$WORK/t.yaml" | tr '\n' ' ')" 'hosts: \["mx1\.example\.test\.?"\]'
	like "... Exim's settings in its comments" "$(cat "$WORK/t.yaml")" "tls_certificate = $WORK/deploy/current/fullchain.pem"
	nok "... the secret never on the screen" sh -c "$T capture-pane -p -S - -t init | grep -qF '$SECRET'"
else
	bail "tmux is missing (run tests/lab/install-deps.sh)"
fi

done_testing
