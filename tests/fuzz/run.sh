#!/bin/sh
# tests/fuzz/run.sh FUZZ_B TARGET...: run each fuzz target (built by make
# fuzz-build as FUZZ_B/fuzz_TARGET) for FUZZ_SECONDS (default 60) seconds,
# one after the other, on its committed seeds (tests/fuzz/corpus/TARGET,
# read only) and what earlier runs found (FUZZ_B/corpus/TARGET).  A crash,
# leak, sanitizer report or timeout leaves the input in FUZZ_B/artifacts/
# and makes this fail.  Prints the executions per target.
set -u
FB=$1
shift
S=${FUZZ_SECONDS:-60}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
# Temporary files of the targets: in memory when possible (the state
# target saves with fsync).
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	TMPDIR=/dev/shm
	export TMPDIR
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fail=0
summary=""
for t in "$@"; do
	bin=$FB/fuzz_$t
	seeds=$TOP/tests/fuzz/corpus/$t
	[ -x "$bin" ] || { echo "fuzz: $bin is missing (make fuzz-build)" >&2; exit 1; }
	[ -d "$seeds" ] || { echo "fuzz: no seeds in $seeds" >&2; exit 1; }
	mkdir -p "$FB/corpus/$t" "$FB/artifacts"
	dict=""
	[ -f "$TOP/tests/fuzz/$t.dict" ] && dict="-dict=$TOP/tests/fuzz/$t.dict"
	echo "# fuzz_$t: $S s"
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$S" -timeout=10 -rss_limit_mb=2048 \
	    -detect_leaks=1 -print_final_stats=1 $dict \
	    -artifact_prefix="$FB/artifacts/$t-" \
	    "$FB/corpus/$t" "$seeds" > "$FB/fuzz_$t.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$FB/fuzz_$t.log" | tail -n 1)
	cov=$(grep -E '^#[0-9]+' "$FB/fuzz_$t.log" | tail -n 1 | sed -n 's/.*\(cov: [0-9]*\).*/\1/p')
	if [ "$rc" -ne 0 ]; then
		fail=1
		echo "not ok fuzz_$t: exit $rc after ${execs:-?} executions; log $FB/fuzz_$t.log:"
		grep -E 'ERROR|SUMMARY|runtime error|fuzz_[a-z_]*:|Test unit written' "$FB/fuzz_$t.log" | head -n 20
		summary="$summary
fuzz_$t: FAILED (exit $rc)"
	else
		echo "ok fuzz_$t: ${execs:-?} executions in $S s, ${cov:-cov: ?}"
		summary="$summary
fuzz_$t: ${execs:-?} executions"
	fi
done
echo "# fuzz summary:$summary"
exit $fail
