#!/bin/sh
# tests/lab/postfix.sh: a private Postfix instance as a lab MX (root only).
#
#   postfix.sh start DIR ADDR[:PORT]=KEY,CHAIN[,KEY2,CHAIN2]...[+PARAM=VALUE]... [...]
#   postfix.sh reload DIR
#   postfix.sh stop DIR
#
# start: builds DIR/etc (main.cf, master.cf from the packaged .proto files),
# DIR/queue, DIR/data and DIR/maillog, then runs one smtpd per ADDR
# (IPv4 loopback, port 25 unless given) serving the given certificate
# chains with STARTTLS (several KEY,CHAIN pairs: RSA + ECDSA dual chains).
# Each "+PARAM=VALUE" after the files becomes one more "-o PARAM=VALUE" of
# that service, after the lab's own, so it overrides them and main.cf:
#   127.0.0.24=K,C+smtpd_tls_protocols=>=TLSv1     TLS 1.0 allowed here
#   127.0.0.23=K,C+smtpd_tls_security_level=none   no STARTTLS offered
# (a VALUE may hold '=' and ','; not '+', nor blanks: use commas in lists).
# It returns once every address greets with 220 (bounded: 10 s in all, the
# addresses probed in parallel).
# The chain files may be missing at start: Postfix starts, and handshakes
# fail until they exist (then reload).
# reload: picks up new certificate files (waits for the greeting again).
# stop: stops the instance and waits for the master to exit; a no-op when
# it is not running.
#
# Environment (start only):
#   POSTFIX_LAB_MAIN     main.cf settings, one "param = value" a line,
#                        applied with postconf -e after the lab's defaults
#                        (so they override them).  A greeting delay of 1 s
#                        on every connection (checked: the 220 comes 1 s
#                        after the connect):
#                          POSTFIX_LAB_MAIN='smtpd_client_restrictions = sleep 1
#                          smtpd_delay_reject = no'
#   POSTFIX_LAB_MAXPROC  the process limit (master.cf maxproc column) of
#                        each lab service (default "-": default_process_limit,
#                        100), e.g. 500 for many concurrent sessions per
#                        address; also settable as default_process_limit in
#                        POSTFIX_LAB_MAIN.
#
# The machine's own /etc/postfix is never touched; only the default
# smtp/inet service is dropped, so that nothing listens on 127.0.0.1:25.
# Every failure prints the reason (and the tail of DIR/maillog) on stderr
# and exits non-zero.  The lab notes (LAB.md, "Postfix as a lab MX") list
# the gotchas this follows.
set -u

PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
PYTHON=${PYTHON:-/usr/bin/python3}
prog=postfix.sh

die() {
	echo "$prog: $*" >&2
	if [ -n "${dir:-}" ] && [ -s "$dir/maillog" ]; then
		echo "$prog: last lines of $dir/maillog:" >&2
		tail -n 15 "$dir/maillog" | sed 's/^/  /' >&2
	fi
	exit 1
}

usage() {
	echo "usage: $prog start DIR ADDR[:PORT]=KEY,CHAIN[,KEY,CHAIN]...[+PARAM=VALUE]... | reload DIR | stop DIR" >&2
	exit 1
}

# master_pid: print the master's PID when it is running.
master_pid() {
	[ -r "$dir/queue/pid/master.pid" ] || return 1
	_pid=$(tr -dc 0-9 < "$dir/queue/pid/master.pid")
	[ -n "$_pid" ] && kill -0 "$_pid" 2>/dev/null || return 1
	# A recycled PID is not ours: the master's process name is "master".
	[ "$(cat "/proc/$_pid/comm" 2>/dev/null)" = master ] || return 1
	echo "$_pid"
}

# probe MODE ADDR:PORT...: MODE greet waits (bounded) until every address
# accepts a connection and sends a complete 220 greeting; MODE gone waits
# until none accepts any more; MODE free checks once that none does (that
# no other server holds an address we are about to use).  Prints the
# reason on failure.
probe() {
	"$PYTHON" - "$@" <<-'EOF'
	import os, socket, sys, time
	from concurrent.futures import ThreadPoolExecutor
	mode, addrs = sys.argv[1], sys.argv[2:]
	deadline = time.monotonic() + (0.0 if mode == "free" else 10.0)  # 10 s in all
	why = {}
	def greets(hp):
	    host, port = hp.rsplit(":", 1)
	    try:
	        s = socket.create_connection((host, int(port)), timeout=1.0)
	    except OSError as e:
	        return False, "connect: %s" % (e.strerror or e)
	    if mode != "greet":
	        s.close()
	        return True, "already accepts connections (another server?)" if mode == "free" else "still accepts connections"
	    buf = b""
	    try:
	        s.settimeout(max(0.1, min(2.0, deadline - time.monotonic())))
	        while b"\n" not in buf and len(buf) < 4096:
	            d = s.recv(4096)
	            if not d:
	                break
	            buf += d
	    except OSError as e:
	        return False, "no greeting: %s" % (e.strerror or e)
	    finally:
	        s.close()
	    line = buf.split(b"\n", 1)[0].strip()
	    if line.startswith(b"220 "):
	        return True, ""
	    return False, "greeting %r" % line[:80]
	def one(hp):
	    up, why[hp] = greets(hp)
	    return hp if up != (mode == "greet") else None
	# In parallel: with a greeting delay, 100 addresses one after the
	# other would not fit in the 10 s.
	pool = ThreadPoolExecutor(max_workers=64)
	pending = list(addrs)
	while pending:
	    pending = [hp for hp in pool.map(one, pending) if hp is not None]
	    if not pending:
	        break
	    if time.monotonic() >= deadline:
	        for hp in pending:
	            print("%s: %s" % (hp, why[hp]))
	        sys.stdout.flush()
	        os._exit(1)
	    time.sleep(0.1)
	EOF
}

# pf ARGS: postfix -c DIR/etc ARGS, output on stdout.  Postfix commands
# write their errors to syslog (absent here) unless stderr is a terminal:
# when one fails without a word, run it again on a pseudo-terminal to
# learn why.
pf() {
	_o=$(postfix -c "$dir/etc" "$@" 2>&1) && { printf '%s' "$_o"; return 0; }
	if [ -z "$_o" ] && command -v script >/dev/null 2>&1; then
		_o=$(script -qec "postfix -c $dir/etc $*" /dev/null 2>&1 | tr -d '\r')
	fi
	printf '%s' "${_o:-(no output)}"
	return 1
}

# A path Postfix can take in a -o option: absolute, no blanks, commas, '='.
abspath() {
	case $1 in
	/*) _p=$1 ;;
	*) _p=$(pwd)/$1 ;;
	esac
	case $_p in
	*[[:space:],=]*) die "unusable path \"$_p\" (blank, comma or '=' in it)" ;;
	esac
	echo "$_p"
}

cmd_start() {
	[ $# -ge 1 ] || usage
	[ "$(id -u)" -eq 0 ] || die "needs root (a private Postfix instance runs its master as root)"
	for t in postfix postconf "$PYTHON"; do
		command -v "$t" >/dev/null 2>&1 || die "$t is missing (run tests/lab/install-deps.sh)"
	done
	id postfix >/dev/null 2>&1 || die "there is no user postfix (is the postfix package installed?)"
	getent group postdrop >/dev/null 2>&1 || die "there is no group postdrop"
	main_proto=""
	for f in /usr/share/postfix/main.cf.proto /etc/postfix/main.cf.proto; do
		[ -r "$f" ] && { main_proto=$f; break; }
	done
	master_proto=""
	for f in /usr/share/postfix/master.cf.proto /etc/postfix/master.cf.proto; do
		[ -r "$f" ] && { master_proto=$f; break; }
	done
	[ -n "$main_proto" ] || die "no main.cf.proto in /usr/share/postfix or /etc/postfix"
	[ -n "$master_proto" ] || die "no master.cf.proto in /usr/share/postfix or /etc/postfix"

	maxproc=${POSTFIX_LAB_MAXPROC:--}
	case $maxproc in
	-) ;;
	'' | 0* | *[!0-9]*) die "POSTFIX_LAB_MAXPROC: \"$maxproc\" is not a number of processes" ;;
	esac
	# The services, checked before anything is written.
	services=""
	addrs=""
	for spec in "$@"; do
		case $spec in
		*=*) ;;
		*) die "bad service \"$spec\": want ADDR[:PORT]=KEY,CHAIN[,KEY,CHAIN]...[+PARAM=VALUE]..." ;;
		esac
		ap=${spec%%=*}
		files=${spec#*=}
		# "+PARAM=VALUE" options after the files: one -o each.
		extra=""
		case $files in
		*+*)
			opts=${files#*+}
			files=${files%%+*}
			old_ifs=$IFS
			IFS=+
			# shellcheck disable=SC2086
			set -- $opts
			IFS=$old_ifs
			for o in "$@"; do
				case $o in
				[a-z]*=*) ;;
				*) die "$ap: bad option \"$o\": want +PARAM=VALUE" ;;
				esac
				case $o in
				*[[:space:]]*) die "$ap: blank in option \"$o\" (use commas in lists)" ;;
				esac
				oname=${o%%=*}
				case $oname in
				*[!a-z0-9_]*) die "$ap: bad parameter name \"$oname\"" ;;
				esac
				extra="$extra -o $o"
			done
			;;
		esac
		case $ap in
		*:*) a=${ap%:*} port=${ap##*:} ;;
		*) a=$ap port=25 ;;
		esac
		case $a in
		127.*) ;;
		*) die "$a: not an IPv4 loopback address (127.0.0.0/8)" ;;
		esac
		"$PYTHON" -c 'import ipaddress, sys; ipaddress.IPv4Address(sys.argv[1])' "$a" 2>/dev/null ||
			die "$a: not an IPv4 address"
		case $port in
		'' | *[!0-9]*) die "$ap: bad port \"$port\"" ;;
		esac
		[ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "$ap: bad port $port"
		case " $addrs " in
		*" $a:$port "*) die "$a:$port given twice" ;;
		esac
		chain=""
		old_ifs=$IFS
		IFS=,
		# shellcheck disable=SC2086
		set -- $files
		IFS=$old_ifs
		[ $# -ge 2 ] && [ $(($# % 2)) -eq 0 ] || die "$ap: want KEY,CHAIN pairs, got \"$files\""
		for f in "$@"; do
			[ -n "$f" ] || die "$ap: empty file name in \"$files\""
			p=$(abspath "$f") || exit 1
			chain="${chain:+$chain,}$p"
		done
		services="$services
$a:$port inet n - n - $maxproc smtpd -o smtpd_tls_chain_files=$chain -o smtpd_tls_security_level=may -o syslog_name=postfix-lab/$a$extra"
		addrs="$addrs $a:$port"
	done

	if pid=$(master_pid); then
		die "$dir: an instance is already running (master PID $pid); stop it first"
	fi
	# shellcheck disable=SC2086
	out=$(probe free $addrs) || die "address in use: $out"
	mkdir -p "$dir/etc" "$dir/queue" "$dir/data" || die "cannot create directories under $dir"
	# Postfix daemons run as user postfix and open files under DIR by
	# absolute path: DIR and every directory above it must be searchable.
	chmod 0755 "$dir" "$dir/etc" "$dir/queue" || die "cannot chmod under $dir"
	chown postfix "$dir/data" || die "cannot chown $dir/data to postfix"
	chmod 0700 "$dir/data" || die "cannot chmod $dir/data"
	if command -v setpriv >/dev/null 2>&1; then
		setpriv --reuid=postfix --regid=postfix --clear-groups test -x "$dir/data" ||
			die "user postfix cannot reach $dir/data: make every directory above $dir searchable (chmod a+x)"
	fi
	case $dir in
	/etc/postfix | /etc/postfix/*) die "refusing to use $dir: never touch the system's Postfix" ;;
	esac
	cp "$main_proto" "$dir/etc/main.cf" || die "cannot copy $main_proto"
	cp "$master_proto" "$dir/etc/master.cf" || die "cannot copy $master_proto"
	: > "$dir/maillog"
	chmod 0644 "$dir/maillog"
	pc() { postconf -c "$dir/etc" "$@" 2>&1; }
	out=$(pc -e \
		"queue_directory = $dir/queue" \
		"data_directory = $dir/data" \
		"inet_interfaces = loopback-only" \
		"inet_protocols = ipv4" \
		"setgid_group = postdrop" \
		"mydestination =" \
		"myhostname = lab-mx.example.test" \
		"mynetworks = 127.0.0.0/8" \
		"alias_maps =" \
		"alias_database =" \
		"sendmail_path = /usr/sbin/sendmail" \
		"newaliases_path = /usr/bin/newaliases" \
		"mailq_path = /usr/bin/mailq" \
		"html_directory = no" \
		"manpage_directory = /usr/share/man" \
		"sample_directory = /etc/postfix" \
		"readme_directory = no" \
		"maillog_file_prefixes = $dir" \
		"maillog_file = $dir/maillog" \
		"smtpd_tls_loglevel = 1" \
		"smtpd_banner = \$myhostname ESMTP lab") || die "postconf -e failed: $out"
	# The caller's main.cf settings, one "param = value" a line.
	if [ -n "${POSTFIX_LAB_MAIN:-}" ]; then
		printf '%s\n' "$POSTFIX_LAB_MAIN" | sed 's/^[[:space:]]*//; /^$/d; /^#/d' > "$dir/main.extra"
		while IFS= read -r line; do
			case $line in
			[a-z]*=*) ;;
			*) die "POSTFIX_LAB_MAIN: not \"param = value\": \"$line\"" ;;
			esac
			out=$(pc -e "$line") || die "postconf -e \"$line\" failed: $out"
		done < "$dir/main.extra"
	fi
	# No chroot (the queue directory has no copy of /etc), and no default
	# smtp service on 127.0.0.1:25: only the lab addresses listen.
	out=$(pc -F '*/*/chroot = n') || die "postconf -F failed: $out"
	out=$(pc -MX smtp/inet) || die "postconf -MX smtp/inet failed: $out"
	printf '%s\n' "$services" >> "$dir/etc/master.cf" || die "cannot write $dir/etc/master.cf"
	echo "$addrs" > "$dir/addrs"

	# "postfix start" runs "postfix check" itself.
	out=$(pf start) || { cmd_stop >/dev/null 2>&1; die "postfix start failed: $out"; }
	i=0
	until master_pid >/dev/null; do
		i=$((i + 1))
		[ $i -le 100 ] || die "the master did not start (no live $dir/queue/pid/master.pid)"
		sleep 0.1
	done
	# shellcheck disable=SC2086
	out=$(probe greet $addrs) || { cmd_stop >/dev/null 2>&1; die "not ready after 10 s: $out"; }
	master_pid >/dev/null || die "the master exited after start"
	if grep -q 'fatal:' "$dir/maillog"; then
		cmd_stop >/dev/null 2>&1
		die "fatal errors in $dir/maillog: $(grep 'fatal:' "$dir/maillog" | head -n 3)"
	fi
}

cmd_reload() {
	master_pid >/dev/null || die "$dir: not running"
	out=$(pf reload) || die "postfix reload failed: $out"
	# shellcheck disable=SC2046
	out=$(probe greet $(cat "$dir/addrs")) || die "not ready after reload: $out"
}

cmd_stop() {
	pid=$(master_pid) || return 0
	out=$(pf stop) || echo "$prog: postfix stop failed: $out" >&2
	i=0
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			echo "$prog: master $pid still running after 10 s: killing it" >&2
			kill -KILL "$pid" 2>/dev/null
			sleep 0.2
			kill -0 "$pid" 2>/dev/null && die "cannot stop master $pid"
			break
		fi
		sleep 0.1
	done
	# Its smtpd processes hold the listening sockets until they notice.
	if [ -s "$dir/addrs" ]; then
		# shellcheck disable=SC2046
		out=$(probe gone $(cat "$dir/addrs")) || die "stopped, but still listening: $out"
	fi
	return 0
}

[ $# -ge 2 ] || usage
action=$1
case $2 in
/*) dir=$2 ;;
'') usage ;;
*) dir=$(pwd)/$2 ;;
esac
dir=${dir%/}
case $dir in
*[[:space:],=\'\"]*) echo "$prog: unusable directory \"$dir\" (blank, comma, quote or '=' in it)" >&2; exit 1 ;;
esac
shift 2
case $action in
start) [ $# -ge 1 ] || usage; cmd_start "$@" ;;
reload) [ $# -eq 0 ] || usage; cmd_reload ;;
stop) [ $# -eq 0 ] || usage; cmd_stop ;;
*) usage ;;
esac
