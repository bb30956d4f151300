#!/usr/bin/env bash
# tests/fuzz/run.sh - builds the libFuzzer targets with clang in a temporary
# build directory and runs each one for SECONDS (default 10), starting from
# a copy of its seed corpus (tests/fuzz/corpus/<target>/).
#
#   bash tests/fuzz/run.sh [SECONDS]       fuzz every target
#   bash tests/fuzz/run.sh --repro         run each tests/fuzz/crashes/<target>--* once
#
# Prints per target the executions and the crashes, and ends with the line
# "N passed, M failed" (a target passes when it ran and found no crash).
# Exit status 0 when every target passed.
#
# Environment:
#   FUZZ_TARGETS="fuzz_names ..."  only these targets
#   FUZZ_PARALLEL=N                run N targets at once (default 1)
#   GCF_FUZZ_BUILD=DIR             build there (kept) instead of a temporary dir
#   GCF_FUZZ_OUT=DIR               keep the grown corpora and crash inputs there
#   GCF_FUZZ_SKIP=tag,...          ignore already-reported bugs (fuzz_common.h)
#   CC                             the compiler (default clang)
set -uo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
mode=fuzz
secs=10
case "${1:-}" in
--repro) mode=repro ;;
'') ;;
*[!0-9]* | 0)
	echo "usage: $0 [SECONDS] | --repro" >&2
	exit 2
	;;
*) secs=$1 ;;
esac
jobs=$(nproc 2>/dev/null || echo 2)
cc=${CC:-clang}
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "run.sh: '$cc' not found: install clang (and libclang-rt-14-dev for libFuzzer)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

tmp=$(mktemp -d /tmp/gcf-fuzz.XXXXXX)
keep_tmp=0
cleanup() {
	if [ "$keep_tmp" = 0 ]; then
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
build=${GCF_FUZZ_BUILD:-$tmp/build}
out=${GCF_FUZZ_OUT:-$tmp/out}
mkdir -p "$out"

echo "run.sh: building the fuzz targets with $cc in $build"
if ! cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DGCF_FUZZ=ON -DGCF_TESTS=OFF -DGCF_SANITIZE= >"$tmp/cmake.log" 2>&1; then
	cat "$tmp/cmake.log" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
mapfile -t built <"$build/tests/fuzz/targets.txt"
targets=()
for t in "${built[@]}"; do
	if [ -z "${FUZZ_TARGETS:-}" ] || [[ " $FUZZ_TARGETS " == *" $t "* ]]; then
		targets+=("$t")
	fi
done
if ! cmake --build "$build" -j "$jobs" --target "${targets[@]}" >"$tmp/build.log" 2>&1; then
	tail -n 40 "$tmp/build.log" >&2
	echo "0 passed, ${#targets[@]} failed"
	exit 1
fi

# ASan/UBSan: abort with a report on the first error; LeakSanitizer on.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# run_one TARGET: fuzz it; writes $tmp/TARGET.result "execs crashes"
run_one() {
	local t=$1 bin="$build/tests/fuzz/$1" corpus="$out/corpus/$1" art="$out/crashes/$1"
	local log="$out/$t.log" execs crashes

	mkdir -p "$corpus" "$art"
	if [ -d "$src/tests/fuzz/corpus/$t" ]; then
		cp -n "$src/tests/fuzz/corpus/$t"/* "$corpus"/ 2>/dev/null
	fi
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$art/" "$corpus" >"$log" 2>&1
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	crashes=$(find "$art" -type f | wc -l)
	echo "${execs:-0} $crashes" >"$tmp/$t.result"
}

# repro_one TARGET: each tests/fuzz/crashes/TARGET--* once
repro_one() {
	local t=$1 bin="$build/tests/fuzz/$1" n=0 bad=0 f

	for f in "$src/tests/fuzz/crashes/$t"--*; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		if ! "$bin" "$f" >"$out/$(basename "$f").log" 2>&1; then
			bad=$((bad + 1))
			echo "  still crashes: $(basename "$f") (log: $out/$(basename "$f").log)"
		fi
	done
	echo "$n $bad" >"$tmp/$t.result"
}

pass=0
fail=0
running=0
for t in "${targets[@]}"; do
	if [ "$mode" = repro ]; then
		repro_one "$t"
		continue
	fi
	run_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "${FUZZ_PARALLEL:-1}" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

for t in "${targets[@]}"; do
	read -r a b <"$tmp/$t.result" 2>/dev/null || { a=0; b=1; }
	if [ "$mode" = repro ]; then
		printf '%-22s %s reproducers, %s still crash\n' "$t" "$a" "$b"
		if [ "$b" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
		continue
	fi
	printf '%-22s %12s executions, %s crashes\n' "$t" "$a" "$b"
	if [ "$a" -gt 0 ] && [ "$b" -eq 0 ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		keep_tmp=1
		grep -m 3 -E "fuzz invariant failed|ERROR: (Address|Leak|libFuzzer)|runtime error" \
			"$out/$t.log" | sed 's/^/    /'
		for f in "$out/crashes/$t"/*; do
			[ -e "$f" ] && echo "    input: $f"
		done
		echo "    log: $out/$t.log"
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
