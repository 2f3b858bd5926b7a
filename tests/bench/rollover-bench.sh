#!/bin/sh
# shellcheck disable=SC2046 # set -- $(...) splits the timer's numbers on purpose
# shellcheck disable=SC2034,SC2154 # variables set and read through eval
# rollover-bench.sh: the cost of a periodic `tlsa-rollover run` when there
# is nothing to do, over many services: wall time and peak RSS, against the
# start-up cost of `tlsagen --help`, and the DNS queries it sends (none are
# expected while every service is STEADY, or HOLDing with time left).
#
# It prints numbers, ratios and whether the targets hold; it never fails
# because a machine is slow: exit 1 only when it cannot run at all (a
# missing tool, a command that fails, a generated state the tool refuses).
# See tests/bench/README.
#
# Environment (all optional):
#   TLSA_ROLLOVER   the binary under test (default: build/tlsa-rollover)
#   TLSAGEN         tlsagen, the yardstick (default: build/tlsagen)
#   BENCH_N         number of services (default 1000)
#   BENCH_REPS      timed rounds; medians are reported (default 20)
#   BENCH_PYTHON    python3 for generation, timing and the DNS counter
#                   (default /usr/bin/python3)
#   BENCH_NO_NS     1: do not re-run in a private network namespace
#
# As root (or where unprivileged user namespaces work) it re-runs itself in
# a private network namespace (unshare -n) with only lo, where a small
# counter listens on 127.0.0.1:5399 (UDP and TCP), answers REFUSED and
# counts; every dns.primary and dns.resolver points there.  Independently,
# one run of each scenario under strace -f counts the syscalls that send on
# an IP socket.  A control scenario (one service whose hold is over, so its
# run must ask DNS) shows that both counters see queries when there are any.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$here/../.." && pwd)
R=${TLSA_ROLLOVER:-$TOP/build/tlsa-rollover}
TLSAGEN=${TLSAGEN:-$TOP/build/tlsagen}
N=${BENCH_N:-1000}
REPS=${BENCH_REPS:-20}
PY=${BENCH_PYTHON:-/usr/bin/python3}
PORT=5399

die() { echo "rollover-bench: $*" >&2; exit 1; }
note() { echo "# $*"; }

for v in N REPS; do
	eval "val=\$$v"
	case $val in ''|*[!0-9]*) die "$v must be a positive integer (got '$val')" ;; esac
	[ "$val" -gt 0 ] || die "$v must be positive"
done
case $R in /*) ;; *) R=$(pwd)/$R ;; esac
case $TLSAGEN in /*) ;; *) TLSAGEN=$(pwd)/$TLSAGEN ;; esac
[ -x "$R" ] || die "no tlsa-rollover at $R (build it, or set TLSA_ROLLOVER)"
[ -x "$TLSAGEN" ] || die "no tlsagen at $TLSAGEN (build it, or set TLSAGEN)"
[ -x "$PY" ] || PY=$(command -v python3) || die "python3 is needed"
command -v openssl >/dev/null || die "openssl is needed"

# ---- a private network: only lo, and nothing but our counter on it ----------
if [ "${ROLLBENCH_NS:-}" != 1 ] && [ "${BENCH_NO_NS:-}" != 1 ]; then
	if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
		ROLLBENCH_NS=1 exec unshare -n -- sh "$0" "$@"
	elif unshare -rn true 2>/dev/null; then
		ROLLBENCH_NS=1 exec unshare -rn -- sh "$0" "$@"
	fi
	note "no network namespace (not root, no user namespaces): the DNS counter is off; strace still counts"
fi
IN_NS=0
if [ "${ROLLBENCH_NS:-}" = 1 ]; then
	ip link set lo up 2>/dev/null || "$PY" -c 'import socket' || die "cannot bring up lo"
	IN_NS=1
fi

T0=$(date +%s)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rollover-bench.XXXXXX")
COUNTER_PID=
cleanup() {
	[ -n "$COUNTER_PID" ] && kill "$COUNTER_PID" 2>/dev/null || :
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' HUP INT TERM

# ---- certificates: one CA, two wildcard leaves (current A, pending B) --------
. "$TOP/tests/lab/certs.sh"
certs_ca "$WORK/pki" >/dev/null || die "cannot make a CA"
certs_leaf "$WORK/pki" A ec '*.bench.test' >/dev/null || die "cannot make leaf A"
certs_leaf "$WORK/pki" B ec '*.bench.test' >/dev/null || die "cannot make leaf B"
printf 'key "k" { algorithm hmac-sha256; secret "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTIzNA=="; };\n' > "$WORK/tsig.key"
chmod 600 "$WORK/tsig.key"
# id: the first 8 bytes of SHA-256 of the leaf's DER (roll_store.c id_of);
# spki: SHA-256 of a certificate's SubjectPublicKeyInfo (records x 1 1).
id_of() { openssl x509 -in "$1" -outform DER | sha256sum | cut -c1-16; }
spki_of() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64; }
ID_A=$(id_of "$WORK/pki/A.pem")
ID_B=$(id_of "$WORK/pki/B.pem")
SPKI_A=$(spki_of "$WORK/pki/A.pem")
SPKI_B=$(spki_of "$WORK/pki/B.pem")
SPKI_I=$(spki_of "$WORK/pki/int.pem")

# ---- the helper: generation, the DNS counter, timing ---------------------------
cat > "$WORK/helper.py" <<'PYEOF'
import os, socket, struct, sys, threading, time

def gen(work, n, scen, id_a, id_b, spki_a, spki_b, spki_i):
    """Config and state files for n services in scenario scen
    (steady, hold, over), in the format roll_state.c writes."""
    n = int(n)
    now = int(time.time())
    sd = os.path.join(work, scen, "state")
    dd = os.path.join(work, scen, "deploy")
    os.makedirs(sd, mode=0o700)
    os.makedirs(dd, mode=0o755)
    pem_a = open(os.path.join(work, "pki", "A.chain.pem"), "rb").read()
    key_a = open(os.path.join(work, "pki", "A.key"), "rb").read()
    pem_b = open(os.path.join(work, "pki", "B.chain.pem"), "rb").read()
    key_b = open(os.path.join(work, "pki", "B.key"), "rb").read()
    cfg = ["state_dir: %s" % sd, "dns:", "  zone: bench.test",
           "  primary: 127.0.0.1@5399", "  resolver: 127.0.0.1@5399",
           "  tsig_key_file: %s" % os.path.join(work, "tsig.key"),
           "  ttl: 3600", "services:"]
    for i in range(1, n + 1):
        name = "svc%04d" % i
        host = "mx%04d.bench.test" % i
        cfg += ["  - name: %s" % name, "    hosts: [%s]" % host,
                "    deploy_dir: %s" % os.path.join(dd, name)]
        os.mkdir(os.path.join(dd, name), 0o755)
        svc = os.path.join(sd, name)
        os.mkdir(svc, 0o700)
        entries = [(id_a, pem_a, key_a)]
        if scen != "steady":
            entries.append((id_b, pem_b, key_b))
        for eid, pem, key in entries:
            d = os.path.join(svc, "certs", eid)
            os.makedirs(d, mode=0o700)
            with open(os.path.join(d, "fullchain.pem"), "wb") as f:
                f.write(pem)
            fd = os.open(os.path.join(d, "privkey.pem"),
                         os.O_WRONLY | os.O_CREAT, 0o600)
            os.write(fd, key)
            os.close(fd)
        st = ["# tlsa-rollover state of service %s; written by "
              "tlsa-rollover, do not edit" % name]
        if scen == "steady":
            st += ["phase: steady", "current: " + id_a,
                   "published: 3 1 1 " + spki_a,
                   "published: 2 1 1 " + spki_i,
                   "published_at: %d" % (now - 86400 * 30)]
        else:
            # HOLD: B's records visible since visible_at; the hold needs
            # 2 x hold_ttl + margin.  "hold": visible now, a day's TTL:
            # two days left.  "over": visible a month ago, TTL 60: over.
            vis, ttl = (now, 86400) if scen == "hold" else \
                (now - 86400 * 30, 60)
            st += ["phase: hold", "current: " + id_a, "pending: " + id_b,
                   "published: 3 1 1 " + spki_a,
                   "published: 3 1 1 " + spki_b,
                   "published: 2 1 1 " + spki_i,
                   "published_at: %d" % (vis - 120),
                   "visible_at: %d" % vis, "hold_ttl: %d" % ttl]
        st.append("updated_at: %d" % now)
        fd = os.open(os.path.join(svc, "state"),
                     os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, ("\n".join(st) + "\n").encode())
        os.close(fd)
    with open(os.path.join(work, scen + ".yaml"), "w") as f:
        f.write("\n".join(cfg) + "\n")

def counter(port, out, ready):
    """Count DNS messages to 127.0.0.1:port over UDP and TCP; answer each
    with REFUSED (so a client that does ask is not left waiting)."""
    port = int(port)
    counts = {"udp": 0, "tcp": 0}
    lock = threading.Lock()

    def save():
        tmp = out + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d %d\n" % (counts["udp"], counts["tcp"]))
        os.replace(tmp, out)

    def refused(q):
        if len(q) < 12:
            return None
        flags, qd = struct.unpack(">H", q[2:4])[0], struct.unpack(">H", q[4:6])[0]
        end = 12
        if qd >= 1:
            while end < len(q) and q[end] != 0:
                end += 1 + q[end]
            end += 5
            if end > len(q):
                end, qd = 12, 0
        hdr = q[:2] + struct.pack(">HHHHH", 0x8000 | (flags & 0x7900) | 5,
                                  min(qd, 1), 0, 0, 0)
        return hdr + q[12:end]

    def note(kind):
        with lock:
            counts[kind] += 1
            save()

    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    u.bind(("127.0.0.1", port))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind(("127.0.0.1", port))
    t.listen(64)

    def udp_loop():
        while True:
            q, peer = u.recvfrom(65535)
            note("udp")
            r = refused(q)
            if r:
                u.sendto(r, peer)

    def tcp_conn(c):
        try:
            while True:
                h = c.recv(2, socket.MSG_WAITALL)
                if len(h) < 2:
                    break
                q = c.recv(struct.unpack(">H", h)[0], socket.MSG_WAITALL)
                note("tcp")
                r = refused(q)
                if r:
                    c.sendall(struct.pack(">H", len(r)) + r)
        except OSError:
            pass
        c.close()

    def tcp_loop():
        while True:
            c, _ = t.accept()
            threading.Thread(target=tcp_conn, args=(c,), daemon=True).start()

    save()
    threading.Thread(target=udp_loop, daemon=True).start()
    threading.Thread(target=tcp_loop, daemon=True).start()
    open(ready, "w").close()
    while True:
        time.sleep(3600)

def timing(reps, *args):
    """timing REPS -- CMD1... -- CMD2...: one warm-up each, then REPS
    interleaved rounds; every command must exit 0.  Prints one line
    "median_ms min_ms max_ms" per command."""
    reps = int(reps)
    cmds, cur = [], None
    for a in args:
        if a == "--":
            cur = []
            cmds.append(cur)
        else:
            cur.append(a)
    null = os.open(os.devnull, os.O_WRONLY)
    fa = [(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)]

    def run(c):
        t = time.perf_counter()
        pid = os.posix_spawn(c[0], c, os.environ, file_actions=fa)
        _, status = os.waitpid(pid, 0)
        dt = time.perf_counter() - t
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit("timing: %s exited %d" % (" ".join(c),
                     os.waitstatus_to_exitcode(status)))
        return dt

    times = [[] for _ in cmds]
    for c in cmds:
        run(c)
    for _ in range(reps):
        for i, c in enumerate(cmds):
            times[i].append(run(c))
    for ts in times:
        ts.sort()
        m = ts[len(ts) // 2] if len(ts) % 2 else (ts[len(ts) // 2 - 1] + ts[len(ts) // 2]) / 2
        print("%.3f %.3f %.3f" % (m * 1e3, ts[0] * 1e3, ts[-1] * 1e3))

globals()[sys.argv[1]](*sys.argv[2:])
PYEOF

note "generating $N services in STEADY, $N in HOLD (hold not over), 1 with its hold over (control)"
"$PY" "$WORK/helper.py" gen "$WORK" "$N" steady "$ID_A" "$ID_B" "$SPKI_A" "$SPKI_B" "$SPKI_I" || die "generation failed"
"$PY" "$WORK/helper.py" gen "$WORK" "$N" hold "$ID_A" "$ID_B" "$SPKI_A" "$SPKI_B" "$SPKI_I" || die "generation failed"
"$PY" "$WORK/helper.py" gen "$WORK" 1 over "$ID_A" "$ID_B" "$SPKI_A" "$SPKI_B" "$SPKI_I" || die "generation failed"

# The tool must read every generated state as meant (status loads the state
# and the stored certificates of each service).
for s in steady hold; do
	"$R" -f "$WORK/$s.yaml" validate-config > /dev/null 2> "$WORK/err" || die "$s.yaml: $(cat "$WORK/err")"
	"$R" -f "$WORK/$s.yaml" status > "$WORK/status.$s" 2> "$WORK/err" ||
		die "status of the generated $s states failed: $(head -n 3 "$WORK/err")"
	[ -s "$WORK/err" ] && die "status of the generated $s states complained: $(head -n 3 "$WORK/err")"
	got=$(grep -c "^svc[0-9]*: $s" "$WORK/status.$s" || :)
	[ "$got" -eq "$N" ] || die "status shows $got of $N services in $s"
done
grep -q '^svc0001: hold (1[0-9]* s left)' "$WORK/status.hold" || die "the generated holds are not running: $(head -n 1 "$WORK/status.hold")"

# ---- the DNS counter ---------------------------------------------------------------
COUNTS=$WORK/counts
if [ "$IN_NS" = 1 ]; then
	"$PY" "$WORK/helper.py" counter "$PORT" "$COUNTS" "$WORK/counter.ready" 2> "$WORK/counter.err" &
	COUNTER_PID=$!
	i=0
	while [ ! -e "$WORK/counter.ready" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	[ -e "$WORK/counter.ready" ] || die "the DNS counter did not start: $(cat "$WORK/counter.err")"
fi
queries() { [ -s "$COUNTS" ] && awk '{ print $1 + $2 }' "$COUNTS" || echo "-"; }

# strace_sends CMD...: syscalls that send on (or connect) an IP socket
if command -v strace >/dev/null 2>&1; then HAVE_STRACE=1; else HAVE_STRACE=0; fi
# strace_ip CMD...: syscalls of one run that connect or send on an IP socket
# (not the UNIX socket of syslog, not files)
strace_ip() {
	[ "$HAVE_STRACE" = 1 ] || { echo "-"; return; }
	strace -f -qq -yy -e trace=connect,sendto,sendmsg,sendmmsg,write -o "$WORK/strace.out" "$@" > /dev/null 2>&1 || :
	grep -Ec '^[0-9]+ +(connect|sendto|sendmsg|sendmmsg|write)\([0-9]+<(UDP|TCP|UDPv6|TCPv6):|^[0-9]+ +connect\(.*sa_family=AF_INET6?,' \
		"$WORK/strace.out" || :
}

snapshot() { (cd "$WORK/$1/state" && find . -type f ! -name lock -exec sha256sum {} + | sort | sha256sum); }

# ---- one counted run per scenario, then the timing -------------------------------
note "counting DNS queries (one run per scenario, counter$( [ "$HAVE_STRACE" = 1 ] && echo ' and strace'))"
for s in steady hold over; do
	before=$(snapshot "$s")
	q0=$(queries)
	set +e
	"$R" -f "$WORK/$s.yaml" run > "$WORK/run.$s.out" 2> "$WORK/run.$s.err"
	rc=$?
	set -e
	sleep 0.2
	q1=$(queries)
	eval "RC_$s=\$rc"
	if [ "$q0" = "-" ]; then eval "Q_$s=-"; else eval "Q_$s=\$((q1 - q0))"; fi
	if [ "$before" = "$(snapshot "$s")" ]; then eval "W_$s=no"; else eval "W_$s=yes"; fi
	q0=$(queries)
	eval "S_$s=\$(strace_ip \"\$R\" -f \"\$WORK/\$s.yaml\" run)"
	sleep 0.2
	q1=$(queries)
	[ "$q0" = "-" ] || eval "Q_$s=\"\$Q_$s+\$((q1 - q0))\""
done
# shellcheck disable=SC2154
{
	[ "$RC_steady" -eq 0 ] || die "run over the STEADY services exited $RC_steady: $(head -n 3 "$WORK/run.steady.err")"
	[ "$RC_hold" -eq 0 ] || die "run over the HOLD services exited $RC_hold: $(head -n 3 "$WORK/run.hold.err")"
	[ ! -s "$WORK/run.steady.err" ] || die "run over the STEADY services complained: $(head -n 3 "$WORK/run.steady.err")"
}

note "timing: $REPS interleaved rounds after a warm-up"
q0=$(queries)
"$PY" "$WORK/helper.py" timing "$REPS" -- "$TLSAGEN" --help \
	-- "$R" -f "$WORK/steady.yaml" run -- "$R" -f "$WORK/hold.yaml" run \
	-- "$R" -f "$WORK/steady.yaml" validate-config -- "$R" -n -f "$WORK/steady.yaml" run > "$WORK/times" ||
	die "timing failed"
sleep 0.2
q1=$(queries)
if [ "$q0" = "-" ]; then Q_timed=-; else Q_timed=$((q1 - q0)); fi
set -- $(sed -n 1p "$WORK/times"); HELP_MED=$1 HELP_MIN=$2
set -- $(sed -n 2p "$WORK/times"); STEADY_MED=$1 STEADY_MIN=$2
set -- $(sed -n 3p "$WORK/times"); HOLD_MED=$1 HOLD_MIN=$2
set -- $(sed -n 4p "$WORK/times"); VAL_MED=$1 VAL_MIN=$2
set -- $(sed -n 5p "$WORK/times"); DRY_MED=$1 DRY_MIN=$2

# Peak RSS (GNU time %M, KB): the median of three runs
rss() {
	GT=/usr/bin/time
	[ -x "$GT" ] && "$GT" -f %M true 2>/dev/null >&2 || { echo "-"; return; }
	for _ in 1 2 3; do "$GT" -f %M -o "$WORK/rss" "$@" > /dev/null 2>&1 || :; tail -n 1 "$WORK/rss"; done | sort -n | sed -n 2p
}
RSS_HELP=$(rss "$TLSAGEN" --help)
RSS_STEADY=$(rss "$R" -f "$WORK/steady.yaml" run)
RSS_HOLD=$(rss "$R" -f "$WORK/hold.yaml" run)
RSS_EMPTY=$(rss "$R" -f "$WORK/over.yaml" validate-config)
[ -n "$COUNTER_PID" ] && kill "$COUNTER_PID" 2>/dev/null && wait "$COUNTER_PID" 2>/dev/null || :
COUNTER_PID=

# ---- the table ----------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
verdict() {	# ratio queries-counter queries-strace wrote
	v=yes
	awk -v r="$1" 'BEGIN { exit !(r > 5) }' && v=no
	case $2 in -) ;; *[!0+]*) v=no ;; esac
	case $3 in -|0) ;; *) v=no ;; esac
	case $Q_timed in -|0) ;; *) v=no ;; esac
	[ "$4" = no ] || v=no
	echo $v
}
# shellcheck disable=SC2154
{
R_STEADY=$(ratio "$STEADY_MED" "$HELP_MED")
R_HOLD=$(ratio "$HOLD_MED" "$HELP_MED")
echo
echo "tlsa-rollover run over $N services: time (median of $REPS, ms), peak RSS (KB),"
echo "DNS queries (queries: what the counter saw in a plain run + the strace run; strace: the"
echo "syscalls that connect or send on an IP socket), state files written, ratio to tlsagen --help"
printf '%-34s %9s %9s %9s %11s %7s %6s %7s %s\n' scenario median min RSS_KB "queries" strace wrote ratio "target (<=5x, 0 queries, no writes)"
printf '%-34s %9s %9s %9s %11s %7s %6s %7s %s\n' "tlsagen --help" "$HELP_MED" "$HELP_MIN" "$RSS_HELP" - - - 1.0 -
printf '%-34s %9s %9s %9s %11s %7s %6s %7s %s\n' "run, $N services STEADY" "$STEADY_MED" "$STEADY_MIN" "$RSS_STEADY" \
	"$Q_steady" "$S_steady" "$W_steady" "$R_STEADY" "$(verdict "$R_STEADY" "$Q_steady" "$S_steady" "$W_steady")"
printf '%-34s %9s %9s %9s %11s %7s %6s %7s %s\n' "run, $N services HOLD (time left)" "$HOLD_MED" "$HOLD_MIN" "$RSS_HOLD" \
	"$Q_hold" "$S_hold" "$W_hold" "$R_HOLD" "$(verdict "$R_HOLD" "$Q_hold" "$S_hold" "$W_hold")"
printf '%-34s %9s %9s %9s %11s %7s %6s %7s %s\n' "validate-config, $N services" "$VAL_MED" "$VAL_MIN" - - - - \
	"$(ratio "$VAL_MED" "$HELP_MED")" "(where the time goes: parsing)"
printf '%-34s %9s %9s %9s %11s %7s %6s %7s %s\n' "run --dry-run, $N STEADY (no lock)" "$DRY_MED" "$DRY_MIN" - - - - \
	"$(ratio "$DRY_MED" "$HELP_MED")" "(where the time goes: no lock file)"
printf '%-34s %9s %9s %9s %11s %7s %6s %7s %s\n' "control: 1 service, hold over" - - - \
	"$Q_over" "$S_over" "$W_over" - "queries > 0 expected (exit $RC_over)"
echo
awk -v s="$STEADY_MED" -v h="$HOLD_MED" -v b="$HELP_MED" -v n="$N" 'BEGIN {
	printf "per service beyond tlsagen --help: STEADY %.1f us, HOLD %.1f us\n", (s - b) * 1000 / n, (h - b) * 1000 / n }'
echo "DNS queries the counter saw during the $REPS timed rounds (STEADY and HOLD): $Q_timed"
echo "peak RSS of validate-config on a 1-service file: $RSS_EMPTY KB"
case $Q_over in -) ;; 0+0) echo "WARNING: the control run sent no query the counter saw: the counter may be blind" ;; esac
case $S_over in -) ;; 0) echo "WARNING: strace saw no IP send in the control run: the strace count may be blind" ;; esac
echo "control run said: $(head -n 1 "$WORK/run.over.err")"
echo "time: $(( $(date +%s) - T0 )) s"
}
