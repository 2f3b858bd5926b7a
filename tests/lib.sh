# tests/lib.sh: TAP helpers for the integration tests (sourced by sh).
#
#   . "$(dirname "$0")/../lib.sh"
#   ok "name" cmd args...        pass when cmd exits 0
#   nok "name" cmd args...       pass when cmd exits non-zero
#   is "name" "got" "want"       string equality
#   like "name" "got" "ERE"      grep -E match
#   skip_all "reason"            only when the test cannot apply (never in CI
#                                for a missing daemon: use need_cmd)
#   need_cmd cmd...              bail out (a failure) when a tool is missing
#   done_testing                 print the plan, exit non-zero on failures
#
# TLSAGEN, TLSA_ROLLOVER: the binaries under test (set by make; default the
# test build in build/test/, the one with the crash and privilege switches).
# TOP: the source tree.
# WORK: a fresh temporary directory, removed at exit.

TOP=$(cd "$(dirname "$0")/../.." && pwd)
: "${TLSAGEN:=$TOP/build/test/tlsagen}"
: "${TLSA_ROLLOVER:=$TOP/build/test/tlsa-rollover}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tlsa-test.XXXXXX")
_n=0
_fail=0
_cleanup_hooks=""

at_exit() { _cleanup_hooks="$* ; $_cleanup_hooks"; }
_on_exit() {
	eval "$_cleanup_hooks" >/dev/null 2>&1 || :
	rm -rf "$WORK"
}
trap _on_exit EXIT
trap 'exit 130' INT TERM

_report() {	# status name [diag...]
	_n=$((_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_n - $2"
	else
		_fail=$((_fail + 1))
		echo "not ok $_n - $2"
		shift 2
		for d in "$@"; do printf '#   %s\n' "$d" | head -c 4000; echo; done
	fi
}

ok() {
	_name=$1; shift
	if _out=$("$@" 2>&1); then _report 0 "$_name"; else _report 1 "$_name" "command: $*" "output: $_out"; fi
}

nok() {
	_name=$1; shift
	if _out=$("$@" 2>&1); then _report 1 "$_name" "command succeeded: $*" "output: $_out"; else _report 0 "$_name"; fi
}

is() {
	if [ "$2" = "$3" ]; then _report 0 "$1"; else _report 1 "$1" "got:  $2" "want: $3"; fi
}

like() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then _report 0 "$1"; else _report 1 "$1" "got:  $2" "want: /$3/"; fi
}

diag() { printf '# %s\n' "$*"; }

skip_all() { echo "1..0 # SKIP $*"; exit 0; }

bail() { echo "Bail out! $*"; exit 1; }

need_cmd() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$c" >/dev/null 2>&1 ||
			bail "required tool $c is missing (run tests/lab/install-deps.sh)"
	done
}

done_testing() {
	echo "1..$_n"
	[ "$_fail" -eq 0 ]
}

# lab_netns "$@": re-run the calling script in a private network
# and mount namespace (root only): its own loopback, so lab daemons can use
# ports 25 and 53 on 127.0.0.0/8 without touching the machine's own
# services, and private copies of /etc/hosts and /etc/resolv.conf.
# Call it first, before anything else has side effects, with the script's
# arguments; the lines of LAB_HOSTS (if set) are added to /etc/hosts and
# /etc/resolv.conf points at 127.0.0.53:
#   LAB_HOSTS="127.0.0.20 mx1.example.test"; lab_netns "$@"
lab_netns() {
	if [ "${TLSA_LAB_NS:-}" = 1 ]; then
		ip link set lo up || bail "cannot bring up lo in the lab namespace"
		# named binds only addresses that are on an interface: put the
		# lab range 127.0.0.2-127.0.0.99 on lo explicitly.
		_i=2
		while [ $_i -le 99 ]; do echo "addr add 127.0.0.$_i/32 dev lo"; _i=$((_i + 1)); done > "$WORK/ip.batch"
		ip -batch "$WORK/ip.batch" || bail "cannot add lab addresses to lo"
		printf '127.0.0.1 localhost\n::1 localhost\n%s\n' "${LAB_HOSTS:-}" > "$WORK/hosts"
		printf 'nameserver 127.0.0.53\noptions timeout:2 attempts:1\n' > "$WORK/resolv.conf"
		mount --bind "$WORK/hosts" /etc/hosts || bail "cannot bind-mount /etc/hosts"
		mount --bind "$WORK/resolv.conf" /etc/resolv.conf || bail "cannot bind-mount /etc/resolv.conf"
		return 0
	fi
	[ "$(id -u)" -eq 0 ] || bail "lab tests need root (network namespaces, daemons)"
	command -v unshare >/dev/null 2>&1 || bail "unshare (util-linux) is missing"
	rm -rf "$WORK"
	trap - EXIT
	TLSA_LAB_NS=1 exec unshare --mount --net --propagation private -- "$0" "$@"
}
