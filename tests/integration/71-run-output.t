#!/bin/sh
# 71-run-output.t: what tlsa-rollover says, and where, against the real
# lab (signed BIND primary and secondary, validating Unbound, a Postfix
# MX).  From cron (no terminal) a run prints what changed and nothing
# while it only waits, so cron mails nothing every five minutes; every
# line, waits included, goes to syslog with its priority (mail
# facility), caught here on a private /dev/log; on a terminal or with -v
# the waits are printed too; under systemd (JOURNAL_STREAM names standard
# output) each line goes there once with an sd-daemon priority prefix and
# not to syslog.  Every line names its service.  run -n and status give
# the plan ahead, with the records it adds and retires, checked against
# digests computed here with openssl.
. "$(dirname "$0")/../lib.sh"
LAB_HOSTS="127.0.0.20 mx1.example.test"
lab_netns "$@"
need_cmd named unbound postfix dig openssl python3 mknod script unshare
HOSTS="mx1.example.test"
. "$TOP/tests/lab/fixture.sh"
fixture_dns
fixture_pki A B
fixture_postfix 127.0.0.20
fixture_config min_hold=40s
# The 3 1 1 digest of a certificate, by openssl alone.
spki() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1; }

# ---- a private /dev/log ------------------------------------------------------
# The machine's syslog is not touched: each run that logs gets its own
# mount namespace with a /dev of its own whose log socket is ours.
LOG=$WORK/syslog.txt
: > "$LOG"
python3 - "$WORK/devlog" "$LOG" <<'PY' &
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
s.settimeout(0.5)
end = time.time() + 600
with open(sys.argv[2], "ab", buffering=0) as f:
    while time.time() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        f.write(d.rstrip(b"\0").replace(b"\n", b" ") + b"\n")
PY
LOGPID=$!
at_exit "kill $LOGPID"
i=0
while [ ! -S "$WORK/devlog" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$WORK/devlog" ] || bail "syslog listener"
# logged CMD...: run CMD with /dev/log going to $LOG.
logged() {
	unshare --mount --propagation private -- sh -c '
		mount -t tmpfs -o mode=755 logdev /dev &&
		mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/zero c 1 5 &&
		mknod -m 666 /dev/random c 1 8 && mknod -m 666 /dev/urandom c 1 9 &&
		ln -s "$0" /dev/log && exec "$@"' "$WORK/devlog" "$@"
}
# The syslog lines after line N.
log_after() { tail -n +"$(($1 + 1))" "$LOG"; }
lines() { wc -l < "$LOG"; }
# Datagrams arrive a moment after the run: wait for them (bounded).
settle_log() { sleep 0.3; }

# ---- cron: steps on stdout, waits only in syslog ---------------------------------
ok "import A" "$R" $C import mx "$WORK/pki/A.chain.pem" "$WORK/pki/A.key"
n0=$(lines)
logged "$R" $C run > "$WORK/run1" 2>&1
settle_log
out=$(cat "$WORK/run1")
like "cron run: the publish is printed" "$out" "^mx: publish -> visible$"
like "cron run: the update is printed, named after the service" "$out" "^mx: _25\._tcp\.mx1\.example\.test\.: updated: "
is "cron run: every line names the service" "$(grep -vc '^mx: ' "$WORK/run1")" 0
log=$(log_after "$n0")
like "syslog: the step, as a notice of the mail facility (21)" "$log" "^<21>.*tlsa-rollover\[[0-9]+\]: mx: publish -> visible$"
# Until the hold: run as cron would (bounded).
i=0
while [ "$(phase)" != hold ] && [ $i -lt 30 ]; do logged "$R" $C run >> "$WORK/runs" 2>&1; sleep 1; i=$((i + 1)); done
is "the service reaches the hold" "$(phase)" hold
n1=$(lines)
logged "$R" $C run > "$WORK/run2" 2>&1
settle_log
is "cron run during the hold prints nothing (no mail every five minutes)" "$(cat "$WORK/run2")" ""
like "syslog: the hold's progress, at info (22)" "$(log_after "$n1")" "^<22>.*tlsa-rollover\[[0-9]+\]: mx: holding: [0-9]+ s left$"

# ---- a terminal, -v ------------------------------------------------------------------
out=$(script -qec "$R $C run" /dev/null 2>&1 | tr -d '\r')
like "on a terminal the wait is printed" "$out" "^mx: holding: [0-9]+ s left"
like "-v prints the wait too" "$("$R" $C -v run 2>&1)" "^mx: holding: [0-9]+ s left"

# ---- systemd: the journal, once ----------------------------------------------------
n2=$(lines)
: > "$WORK/journal"
JOURNAL_STREAM=$(stat -c '%d:%i' "$WORK/journal") logged "$R" $C run >> "$WORK/journal" 2>&1
settle_log
like "journal: the wait, with the info prefix" "$(cat "$WORK/journal")" "^<6>mx: holding: [0-9]+ s left$"
is "journal: nothing sent to syslog as well" "$(log_after "$n2")" ""
# A JOURNAL_STREAM that names another file is not the journal.
JOURNAL_STREAM=$(stat -c '%d:%i' "$WORK/roll.yaml") "$R" $C run > "$WORK/notjournal" 2>&1
is "JOURNAL_STREAM of another file: plain cron output" "$(cat "$WORK/notjournal")" ""

# ---- the plan: run -n and status ------------------------------------------------------
roll_until steady 60 mx1.example.test || bail "A does not reach steady"
A_ID=$(readlink "$D" | sed 's|versions/||')
SA=$(spki "$WORK/pki/A.pem")
SB=$(spki "$WORK/pki/B.pem")
like "status in steady: nothing to do" "$("$R" $C status 2>&1)" "next +steady: nothing to do: every certificate is live and its records are published"
ok "import B" "$R" $C import mx "$WORK/pki/B.chain.pem" "$WORK/pki/B.key"
B_ID=$("$R" $C --json status mx | sed -n '/"pending"/,/}/s/.*"id": "\([0-9a-f]*\)".*/\1/p')
like "B is pending" "$B_ID" '^[0-9a-f]{16}$'
cp "$WORK/state/mx/state" "$WORK/state.before"
serial() { dig @127.0.0.40 +short example.test SOA | awk '{ print $3 }'; }
s0=$(serial)
plan=$("$R" $C -n run 2>&1)
is "run -n changed no state" "$(cmp "$WORK/state/mx/state" "$WORK/state.before" && echo same)" same
is "run -n changed no zone" "$(serial)" "$s0"
is "run -n: every line names the service" "$(printf '%s\n' "$plan" | grep -vc '^mx: ')" 0
like "plan 1: publish B's key (digest by openssl), labelled pending B" "$plan" "^mx: plan 1\. publish: at _25\._tcp\.mx1\.example\.test\.: add 3 1 1 $(printf %.16s "$SB")\.\.\. \(pending $(printf %.8s "$B_ID")\)"
like "plan 2: the wait for every server" "$plan" "^mx: plan 2\. visible: wait until every name server of example\.test\. \(its NS set\) and the primary 127\.0\.0\.40 serve the new RRset, and the resolver 127\.0\.0\.53 returns it with AD"
like "plan 3: the hold (min_hold 40 s), with its earliest end" "$plan" "^mx: plan 3\. hold: hold 40 s \(2 x TTL 2 \+ margin 1, at least min_hold 40\) .* \[not before 20[0-9-]+ [0-9:]+ UTC, in 40 s\]$"
like "plan 4: switch to B, replacing A, and the reload" "$plan" "^mx: plan 4\. switch: deploy $B_ID \([^)]*CN=mx1\.example\.test, expires [0-9-]+ [0-9:]+ UTC\) as $WORK/deploy/current \(replacing $A_ID\); reload: /bin/sh $TOP/tests/lab/postfix\.sh reload $WORK/mx"
like "plan 5: verify every address" "$plan" "^mx: plan 5\. verify: connect to every address of mx1\.example\.test\. on port 25 \(STARTTLS\)"
like "plan 6: retire A's key, labelled with A (current until the switch)" "$plan" "^mx: plan 6\. retire: remove 3 1 1 $(printf %.16s "$SA")\.\.\. \(current $(printf %.8s "$A_ID")\)"
nok "plan 6: B's record is not retired" sh -c "printf '%s\n' \"\$1\" | grep '^mx: plan 6' | grep -q '$(printf %.16s "$SB")'" - "$plan"
like "plan 7: steady" "$plan" "^mx: plan 7\. steady: steady$"
js=$("$R" $C --json status mx | tr -d '\n')
like "status --json: the plan adds B's full digest" "$js" "\"add\": \[ *\"3 1 1 $SB\""
like "status --json: the plan removes A's full digest" "$js" "\"remove\": \[ *\"3 1 1 $SA\""
like "status --json: next_step is the publish" "$js" "\"next_step\": \{ *\"step\": \"publish\""
like "status: the next step" "$("$R" $C status 2>&1)" "next +publish: at _25\._tcp\.mx1\.example\.test\.: add 3 1 1 $(printf %.16s "$SB")"
# In the hold, the switch time is exact: visible_at + hold.
i=0
while [ "$(phase)" != hold ] && [ $i -lt 30 ]; do "$R" $C run > /dev/null 2>&1; sleep 1; i=$((i + 1)); done
is "B reaches the hold" "$(phase)" hold
vis=$(sed -n 's/^visible_at: //p' "$WORK/state/mx/state")
want=$(date -u -d "@$((vis + 40))" '+%Y-%m-%d %H:%M:%S UTC')
st=$("$R" $C status 2>&1)
like "status in the hold: the switch at visible_at + 40 s, exactly" "$st" "next +hold: hold 40 s .*until $want, .*\[at $want, in [0-9]+ s\]"
# A host added to the service: the plan publishes for it, steady or not.
roll_until steady 60 mx1.example.test || bail "B does not reach steady"
sed -i 's/hosts: \[mx1.example.test\]/hosts: [mx1.example.test, mx2.example.test]/' "$WORK/roll.yaml"
st=$("$R" $C status 2>&1)
like "a host added: the next step publishes at it" "$st" "next +publish: at _25\._tcp\.mx1\.example\.test\., _25\._tcp\.mx2\.example\.test\.: add nothing \(the hosts new to the service get the RRset\)"
like "a host added: nothing to switch" "$("$R" $C -v status 2>&1)" "plan 4\. switch: nothing to switch: the hosts new to the service have the RRset"
done_testing
