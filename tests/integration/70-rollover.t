#!/bin/sh
# 70-rollover.t: tlsa-rollover end to end in the real lab: a signed BIND
# primary and secondary, a validating Unbound, two Postfix MX hosts that
# read their certificate from the deploy directory.  Rolls A -> B by
# import, B -> C through a pre-staged key, holds the switch while a
# secondary lags, rolls back when the reload fails, and survives being
# killed at random points.  After every run an independent observer
# (tlsagen --verify against dig answers from each authoritative server,
# and openssl s_client) checks the invariant: what every MX address
# serves matches the RRset on every authoritative server.
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.0.20 mx1.example.test
127.0.0.21 mx2.example.test"
lab_netns "$@"
need_cmd named unbound postfix dig openssl
. "$TOP/tests/lab/fixture.sh"
fixture_dns
fixture_pki A B D E
certs_leaf "$WORK/pki" other ec mail.other.test || bail "cert other"
fixture_postfix 127.0.0.20 127.0.0.21

write_config() { fixture_config ta reload="$1"; }	# RELOAD-ARGV-YAML
GOOD_RELOAD="[/bin/sh, $TOP/tests/lab/postfix.sh, reload, $WORK/mx]"
write_config "$GOOD_RELOAD"

ok "validate-config" "$R" $C validate-config


# ---- first certificate ------------------------------------------------------
ok "import A" "$R" $C import mx "$WORK/pki/A.pem" "$WORK/pki/A.key" "$WORK/pki/int.pem"
is "after import: publish" "$(phase)" publish
ok "A: the rollover completes" run_until steady 30
A_ID=$(readlink "$D" | sed 's|versions/||')
like "A is deployed" "$A_ID" '^[0-9a-f]{16}$'
like "mx1 serves A" "$("$T" -r 3,1,1 -H mx1.example.test -c 127.0.0.20 -f json 2>&1)" "$(spki "$WORK/pki/A.pem")"
like "the primary publishes A's 3 1 1" "$(dig @127.0.0.40 +short _25._tcp.mx1.example.test TLSA | tr -d ' ' | tr A-F a-f)" "$(spki "$WORK/pki/A.pem")"
nok "the key in the state dir is not readable by others" sh -c "find '$WORK/state' -name privkey.pem -perm /044 | grep -q ."

# ---- renewal with a new key: A -> B -------------------------------------------
ok "import B" "$R" $C import mx "$WORK/pki/B.chain.pem" "$WORK/pki/B.key"
ok "B: the rollover completes" run_until steady 30
like "mx2 serves B" "$("$T" -r 3,1,1 -H mx2.example.test -c 127.0.0.21 -f json 2>&1)" "$(spki "$WORK/pki/B.pem")"
pub=$(dig @127.0.0.40 +short _25._tcp.mx1.example.test TLSA | tr -d ' ' | tr A-F a-f)
like "B's record is published" "$pub" "$(spki "$WORK/pki/B.pem")"
nok "A's record was retired" sh -c "printf '%s\n' '$pub' | grep -q '$(spki "$WORK/pki/A.pem")'"

# ---- pre-staged key: B -> C switches without a new wait -----------------------
ok "stage" "$R" $C stage mx
ok "staged key published" run_until steady 30
staged=$(ls "$WORK/state/mx/staged")
openssl req -new -key "$WORK/state/mx/staged/$staged/privkey.pem" -subj /CN=mx1.example.test \
	-out "$WORK/pki/C.csr" 2>/dev/null &&
	printf 'subjectAltName=DNS:mx1.example.test,DNS:mx2.example.test\n' > "$WORK/pki/C.ext" &&
	openssl x509 -req -in "$WORK/pki/C.csr" -CA "$WORK/pki/int.pem" -CAkey "$WORK/pki/int.key" \
		-CAcreateserial -days 30 -extfile "$WORK/pki/C.ext" -out "$WORK/pki/C.pem" 2>/dev/null ||
	bail "cannot make C"
cat "$WORK/pki/C.pem" "$WORK/pki/int.pem" > "$WORK/pki/C.chain.pem"
ok "import C (the staged key)" "$R" $C import mx "$WORK/pki/C.chain.pem" "$WORK/state/mx/staged/$staged/privkey.pem"
"$R" $C run > "$WORK/run.out" 2>&1
observe
like "C switches in the first run (its record was visible already)" "$(cat "$WORK/run.out")" "hold -> switch|deployed"
ok "C: completes" run_until steady 10
like "mx1 serves C" "$("$T" -r 3,1,1 -H mx1.example.test -c 127.0.0.20 -f json 2>&1)" "$(spki "$WORK/pki/C.pem")"

# ---- a lagging secondary holds the switch --------------------------------------
ok "import D" "$R" $C import mx "$WORK/pki/D.chain.pem" "$WORK/pki/D.key"
dns_secondary_pause "$WORK/dns" >/dev/null 2>&1
i=0
while [ $i -lt 6 ]; do "$R" $C run > "$WORK/run.out" 2>&1; observe; i=$((i + 1)); sleep 1; done
is "with the secondary lagging: still waiting for visibility" "$(phase)" visible
is "a run that only waits prints nothing (no cron mail every 5 minutes)" "$(cat "$WORK/run.out")" ""
like "run -v names the lagging server" "$("$R" $C -v run 2>&1)" "^mx: ns 127.0.0.41@53: not yet"
st=$("$R" $C status 2>&1)
like "status names the lagging server" "$st" "behind +ns 127.0.0.41@53[^(]* \(at the check of 20[0-9-]+ [0-9:]+ UTC\)"
nok "status does not name the servers that serve it" sh -c "printf '%s\n' \"\$1\" | grep -q 'behind.*primary'" - "$st"
like "status gives the next step" "$st" "next +visible: wait until every name server of example.test. \\(its NS set\\) and the primary 127.0.0.40 serve the new RRset, and the resolver 127.0.0.53 returns it with AD, and it validates against $WORK/dns/trust-anchor.key; at the last check \\([^)]*\\) behind: ns 127.0.0.41@53.*\\[next run\\]"
like "status -v: the plan ahead, with the hold's earliest end" "$("$R" $C -v status 2>&1)" "plan 2. hold: hold [0-9]+ s .* \\[not before 20[0-9-]+ [0-9:]+ UTC, in [0-9]+ s\\]"
like "status --json: who is behind" "$("$R" $C --json status 2>&1)" '"behind": "ns 127.0.0.41@53'
like "mx1 still serves C" "$("$T" -r 3,1,1 -H mx1.example.test -c 127.0.0.20 -f json 2>&1)" "$(spki "$WORK/pki/C.pem")"
# The questions of the visible step are asked by a child that drops root
# first: one that cannot (no such user, test build only) asks nothing.
like "visibility is asked by a child that drops root (here: cannot)" \
	"$(TLSA_PRIVSEP_USER=nosuchuser "$R" $C run 2>&1)" 'cannot drop privileges: no user "nosuchuser"'
is "which leaves the step where it was" "$(phase)" visible
dns_secondary_resume "$WORK/dns" >/dev/null 2>&1
ok "D: completes once the secondary catches up" run_until steady 30

# ---- a reload that fails rolls back ---------------------------------------------
write_config "[/bin/false]"
ok "import E" "$R" $C import mx "$WORK/pki/E.chain.pem" "$WORK/pki/E.key"
before=$(readlink "$D")
i=0
while [ $i -lt 15 ] && [ "$(phase)" != switch ]; do "$R" $C run >/dev/null 2>&1; observe; i=$((i + 1)); sleep 1; done
"$R" $C run > "$WORK/run.out" 2>&1
st=$?
is "failed reload: run exits 1" "$st" 1
like "failed reload: says so and switches back" "$(cat "$WORK/run.out")" "exited with status 1"
is "failed reload: the deployed certificate is the old one" "$(readlink "$D")" "$before"
like "failed reload: status shows the alert" "$("$R" $C status mx 2>&1)" "ALERT"
write_config "$GOOD_RELOAD"
ok "E: completes after the reload is fixed" run_until steady 30

# ---- bad input: nothing changes ------------------------------------------------
snap() { cat "$WORK/state/mx/state"; readlink "$D"; }
s0=$(snap)
nok "a certificate for other names is refused" "$R" $C import mx "$WORK/pki/other.pem" "$WORK/pki/other.key"
nok "a key that does not belong is refused" "$R" $C import mx "$WORK/pki/A.pem" "$WORK/pki/B.key"
nok "a missing file is refused" "$R" $C import mx "$WORK/pki/nothere.pem" "$WORK/pki/B.key"
nok "an unknown service is refused" "$R" $C import nosuch "$WORK/pki/A.pem" "$WORK/pki/A.key"
is "state and deployment unchanged by bad input" "$(snap)" "$s0"

# ---- killed at random points, then run again ------------------------------------
ok "import B again (back to B)" "$R" $C import mx "$WORK/pki/B.chain.pem" "$WORK/pki/B.key"
for t in 0.05 0.2 0.4 0.7 1.0; do
	timeout -s KILL "$t" "$R" $C run >/dev/null 2>&1
	observe
done
ok "after being killed: runs complete the rollover" run_until steady 30
like "after the kills: mx1 serves B" "$("$T" -r 3,1,1 -H mx1.example.test -c 127.0.0.20 -f json 2>&1)" "$(spki "$WORK/pki/B.pem")"

is "the observer saw no invariant violation" "$VIOLATIONS" 0

# Negative control: the observer must see a certificate deployed behind the
# tool's back, from a CA none of whose keys is published.
mkdir -p "$WORK/pki2" "$WORK/deploy/versions/ffffffffffffffff"
certs_ca "$WORK/pki2" && certs_leaf "$WORK/pki2" X ec mx1.example.test mx2.example.test || bail "cert X"
cp "$WORK/pki2/X.key" "$WORK/deploy/versions/ffffffffffffffff/privkey.pem"
cp "$WORK/pki2/X.chain.pem" "$WORK/deploy/versions/ffffffffffffffff/fullchain.pem"
ln -sfn versions/ffffffffffffffff "$WORK/deploy/current"
sh "$TOP/tests/lab/postfix.sh" reload "$WORK/mx" >/dev/null 2>&1
before=$VIOLATIONS
observe 2>/dev/null
ok "negative control: the observer catches an unpublished certificate" test "$VIOLATIONS" -gt "$before"
done_testing
