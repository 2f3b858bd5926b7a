#!/bin/sh
# 79-fleet.t: a service served by two nodes (nodes:), each a private
# Postfix instance with its own deploy directory: n1 on 127.0.0.20
# (mx1) gets its files by deploy_dir; n2 on 127.0.0.21 (mx2) by a push
# command (a script copying the staged directory with cp, standing in
# for rsync/ssh).  A full rollover over both; then one where n2's reload
# fails: n2 is switched back alone, n1 keeps the new certificate, both
# records stay published, the alert names n2, and after node_retries
# tries it is no longer reloaded; once the fault is fixed, "retry"
# brings it in and the old record is retired.  Then n2's push exits 0
# but puts the files elsewhere: VERIFY finds n2 serving the old
# certificate, names it, switches it back alone, stops retrying it, and
# the old record stays while n2 serves it.  The independent observer checks
# the invariant after every run.
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.0.20 mx1.example.test
127.0.0.21 mx2.example.test"
lab_netns "$@"
need_cmd named unbound postfix dig openssl
. "$TOP/tests/lab/fixture.sh"
fixture_dns
mkdir -p "$WORK/node1" "$WORK/node2"
chmod 755 "$WORK/node1" "$WORK/node2"
# The observer forgives failed handshakes until $WORK/deploy has a link.
ln -s node1 "$WORK/deploy"
fixture_pki A B C D
D1=$WORK/node1/current
D2=$WORK/node2/current
fixture_postfix -d "$WORK/pf1" "127.0.0.20=$D1/privkey.pem,$D1/fullchain.pem"
fixture_postfix -d "$WORK/pf2" "127.0.0.21=$D2/privkey.pem,$D2/fullchain.pem"

# push DEST STAGED: versions first, then the link, replaced by rename.
cat > "$WORK/push.sh" <<SH
set -e
dest=\$1 staged=\$2
# While $WORK/misplace2 exists the push "succeeds" into the wrong place.
[ ! -e "$WORK/misplace2" ] || dest=$WORK/elsewhere
SH
cat >> "$WORK/push.sh" <<'SH'
mkdir -p "$dest/versions"
cp -a "$staged/versions/." "$dest/versions/"
cp -a "$staged/current" "$dest/current.tmp"
mv -T "$dest/current.tmp" "$dest/current"
SH
# n2's reload: counted; fails while $WORK/fail2 exists.
cat > "$WORK/reload2.sh" <<SH
echo reload >> "$WORK/reloads2"
[ ! -e "$WORK/fail2" ] || exit 1
exec /bin/sh "$TOP/tests/lab/postfix.sh" reload "$WORK/pf2"
SH
: > "$WORK/reloads2"
fixture_config deploy= reload= "service=node_retries: 3
    nodes:
      - name: n1
        deploy_dir: $WORK/node1
        reload: [/bin/sh, $TOP/tests/lab/postfix.sh, reload, $WORK/pf1]
        addresses: [127.0.0.20]
      - name: n2
        push: [/bin/sh, $WORK/push.sh, $WORK/node2]
        reload: [/bin/sh, $WORK/reload2.sh]
        addresses: [127.0.0.21]"

serves() {	# ADDR CERT: does ADDR serve CERT's key?
	"$T" --timeout 5 -r 3,1,1 -f json -H mx1.example.test -c "$1" 2>&1 | grep -q "$(roll_spki "$2")"
}
published() {	# CERT: is its 3 1 1 record at both owners on the primary?
	for _h in mx1 mx2; do
		dig @127.0.0.40 +short "_25._tcp.$_h.example.test" TLSA | tr -d ' ' | tr A-F a-f |
			grep -q "$(roll_spki "$1")" || return 1
	done
}
runs() {	# N: N runs a second apart, observed
	_i=0
	while [ $_i -lt "$1" ]; do
		"$R" $C run >> "$WORK/runs.out" 2>&1
		roll_observe mx1.example.test mx2.example.test
		_i=$((_i + 1))
		sleep 1
	done
}

out=$("$R" $C validate-config 2>&1)
like "validate-config describes the push node" "$out" "node n2: push with /bin/sh"
like "... and the local one" "$out" "node n1: deploy into $WORK/node1"

# ---- a rollover over both nodes --------------------------------------------
ok "import A" "$R" $C import mx "$WORK/pki/A.chain.pem" "$WORK/pki/A.key"
ok "A rolls out to both nodes" roll_until steady 40 mx1.example.test mx2.example.test
ok "n1 (deploy_dir) serves A" serves 127.0.0.20 "$WORK/pki/A.pem"
ok "n2 (push) serves A" serves 127.0.0.21 "$WORK/pki/A.pem"
ok "the push staged its files under the state directory" test -L "$WORK/state/mx/push/n2/current"
st=$("$R" $C status mx 2>&1)
like "status shows n1's deployed certificate" "$st" "node      n1: [0-9a-f]{16}"
like "status shows n2's" "$st" "node      n2: [0-9a-f]{16}"
sleep 3		# the resolver may still cache the RRset from before the retire

ok "import B" "$R" $C import mx "$WORK/pki/B.chain.pem" "$WORK/pki/B.key"
ok "B rolls out to both nodes" roll_until steady 40 mx1.example.test mx2.example.test
ok "n1 serves B" serves 127.0.0.20 "$WORK/pki/B.pem"
ok "n2 serves B" serves 127.0.0.21 "$WORK/pki/B.pem"
nok "A's record was retired" published "$WORK/pki/A.pem"
sleep 3

# ---- n2's reload fails ------------------------------------------------------
touch "$WORK/fail2"
: > "$WORK/reloads2"
ok "import C" "$R" $C import mx "$WORK/pki/C.chain.pem" "$WORK/pki/C.key"
ok "the rollover ends, n2 switched back" roll_until steady 40 mx1.example.test mx2.example.test
like "the switch said n2 failed" "$(cat "$WORK/run.out" "$WORK/state/mx/state")" "n2"
ok "n1 keeps the new certificate C" serves 127.0.0.20 "$WORK/pki/C.pem"
ok "n2 serves B again (its reload never took C)" serves 127.0.0.21 "$WORK/pki/B.pem"
is "n2's link points at B again" "$(readlink "$D2")" "$(readlink "$WORK/state/mx/push/n2/current")"
ok "C's record is published" published "$WORK/pki/C.pem"
ok "B's record stays published (n2 serves B)" published "$WORK/pki/B.pem"
out=$("$R" $C run 2>&1)
st=$?
like "the alert names n2" "$out" "node n2 failed"
is "... and run exits 1" "$st" 1
: > "$WORK/runs.out"
runs 10
st=$("$R" $C status mx 2>&1)
like "after node_retries tries n2 is stopped" "$st" "STOPPED after 4 failed tries"
like "... and status says how to retry" "$st" "tlsa-rollover retry mx n2"
n=$(wc -l < "$WORK/reloads2")
is "n2 was reloaded twice per try (try, switch back), 4 tries" "$n" 8
runs 4
is "no more reloads once stopped" "$(wc -l < "$WORK/reloads2")" "$n"
like "the standing alert names n2" "$(tail -n 3 "$WORK/runs.out")" "node n2 failed 4 times"
ok "B's record still stays published" published "$WORK/pki/B.pem"
ok "n2 still serves B" serves 127.0.0.21 "$WORK/pki/B.pem"

# ---- the fault is fixed; the operator retries -------------------------------
rm -f "$WORK/fail2"
out=$("$R" $C retry mx n2 2>&1)
st=$?
is "retry mx n2 exits 0" "$st" 0
like "... and brings n2 in" "$out" "node n2 serves the current certificate"
roll_observe mx1.example.test mx2.example.test
ok "n2 serves C" serves 127.0.0.21 "$WORK/pki/C.pem"
ok "the retry retires what only n2 needed" roll_until steady 10 mx1.example.test mx2.example.test
nok "B's record is retired" published "$WORK/pki/B.pem"
ok "C's record stays" published "$WORK/pki/C.pem"
st=$("$R" $C status mx 2>&1)
nok "no node is failed any more" sh -c "printf '%s\\n' \"\$1\" | grep -Eq 'FAILED|STOPPED|ALERT'" - "$st"
out=$("$R" $C retry mx nosuch 2>&1)
like "retry of an unknown node is refused" "$out" "no node \"nosuch\""

# ---- n2's push says yes but puts the files elsewhere: VERIFY finds it ------
sleep 3
touch "$WORK/misplace2"
: > "$WORK/reloads2"
: > "$WORK/runs.out"
ok "import D" "$R" $C import mx "$WORK/pki/D.chain.pem" "$WORK/pki/D.key"
runs 12
ok "n1 serves D" serves 127.0.0.20 "$WORK/pki/D.pem"
ok "n2 still serves C (its push went elsewhere)" serves 127.0.0.21 "$WORK/pki/C.pem"
like "the verify named n2" "$(cat "$WORK/runs.out")" "node n2"
ok "C's record stays published while n2 serves C" published "$WORK/pki/C.pem"
ok "D's record is published" published "$WORK/pki/D.pem"
st=$("$R" $C status mx 2>&1)
like "status shows n2 failed or stopped" "$st" "n2: .*(FAILED|STOPPED)"
n=$(wc -l < "$WORK/reloads2")
runs 4
is "a node that never serves the certificate is not reloaded forever" "$(wc -l < "$WORK/reloads2")" "$n"
rm -f "$WORK/misplace2"
ok "retry mx n2 once its push works" "$R" $C retry mx n2
ok "then everything settles" roll_until steady 20 mx1.example.test mx2.example.test
ok "n2 serves D" serves 127.0.0.21 "$WORK/pki/D.pem"
nok "C's record is retired" published "$WORK/pki/C.pem"

is "the observer saw no invariant violation" "$VIOLATIONS" 0
done_testing
