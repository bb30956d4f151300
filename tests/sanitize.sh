#!/usr/bin/env bash
# tests/sanitize.sh - the test suite under the sanitizers. Builds the project
# twice with clang in temporary build directories and runs:
#
#   ASan + UBSan (-DGCF_SANITIZE=address,undefined): every unit and mount test
#       (ctest -L 'unit|mount'); LeakSanitizer on, the mounted daemon included
#       (it exits normally after fusermount3 -u, so its leak check runs)
#   TSan (-DGCF_SANITIZE=thread): the concurrency tests: unit/test_cache,
#       unit/test_fetch, unit/test_ratelimit, unit/test_fleet, mount/20-requests,
#       mount/40-singleflight, mount/24-fleet, unit/test_inode, mount/25-nodecap
#       (the inode cap's eviction thread), mount/74-ctl-bytes
#
# Each test runs on its own with ASAN_OPTIONS / UBSAN_OPTIONS / TSAN_OPTIONS
# log_path pointing into a directory of its own, so a report written by any
# process of the test (the test binary or the gpucloudfs daemon it mounts,
# whose stderr the mount tests do not show) is kept, found and attributed.
# A test passes when ctest passes it AND no report file appeared.
#
#   bash tests/sanitize.sh            # both phases
#   bash tests/sanitize.sh asan|tsan  # one phase
#
# Environment: GCF_SANITIZE_OUT=DIR keeps the logs and reports there (else in
# the temporary directory, which is kept, builds included, only when something
# failed); CC (default clang).
# Suppressions for third-party libraries only, if ever needed:
# tests/sanitize.supp (LeakSanitizer) and tests/sanitize-tsan.supp (TSan).
# Ends with "N passed, M failed"; exit status 0 when nothing failed.
set -uo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
cc=${CC:-clang}
jobs=$(nproc 2>/dev/null || echo 2)
phases=${1:-asan tsan}
tmp=$(mktemp -d /tmp/gcf-sanitize.XXXXXX)
out=${GCF_SANITIZE_OUT:-$tmp/out}
mkdir -p "$out"
keep=0
cleanup() {
	if [ "$keep" = 0 ]; then
		rm -rf "$tmp"
	else
		echo "sanitize.sh: build directories kept in $tmp" >&2
	fi
}
trap cleanup EXIT
start=$SECONDS
pass=0
fail=0
summary=()

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "sanitize.sh: '$cc' not found: install clang" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
if [ ! -e /dev/fuse ]; then
	echo "sanitize.sh: /dev/fuse is missing: the mount tests need FUSE" >&2
fi

# build NAME SANITIZERS [targets...]
build() {
	local name=$1 san=$2 dir="$tmp/$1"
	shift 2
	local t0=$SECONDS
	echo "sanitize.sh: [$name] building with $cc -fsanitize=$san in $dir"
	if ! cmake -S "$src" -B "$dir" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DGCF_SANITIZE="$san" -DGCF_TESTS=ON -DGCF_FUZZ=OFF >"$out/$name-cmake.log" 2>&1 ||
		! cmake --build "$dir" -j "$jobs" ${1:+--target "$@"} >"$out/$name-build.log" 2>&1; then
		tail -n 30 "$out/$name-build.log" "$out/$name-cmake.log" 2>/dev/null >&2
		return 1
	fi
	echo "sanitize.sh: [$name] built in $((SECONDS - t0)) s"
}

# run_tests PHASE BUILD_DIR TEST...: each test alone, with its own report dir
run_tests() {
	local phase=$1 dir=$2 t d rc reports supp
	shift 2
	for t in "$@"; do
		d="$out/$phase/${t//\//_}"
		mkdir -p "$d"
		supp=
		case $phase in
		asan)
			[ -f "$src/tests/sanitize.supp" ] && supp=":suppressions=$src/tests/sanitize.supp"
			# quarantine_size_mb=16: the default 256 MB quarantine of freed
			# blocks shows as RSS growth, which mount/68-soak-short measures;
			# use-after-free is still caught within the last 16 MB freed.
			env ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:quarantine_size_mb=16:log_path=$d/asan" \
				LSAN_OPTIONS="log_path=$d/lsan$supp" \
				UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$d/ubsan" \
				ctest --test-dir "$dir" -R "^$t\$" --output-on-failure >"$d/ctest.log" 2>&1
			;;
		tsan)
			[ -f "$src/tests/sanitize-tsan.supp" ] &&
				supp=":suppressions=$src/tests/sanitize-tsan.supp"
			env TSAN_OPTIONS="halt_on_error=0:second_deadlock_stack=1:log_path=$d/tsan$supp" \
				ctest --test-dir "$dir" -R "^$t\$" --output-on-failure >"$d/ctest.log" 2>&1
			;;
		esac
		rc=$?
		if ! grep -q "tests passed, 0 tests failed out of 1" "$d/ctest.log"; then
			rc=1
		fi
		reports=$(find "$d" -type f ! -name ctest.log | sort)
		if [ "$rc" -eq 0 ] && [ -z "$reports" ]; then
			pass=$((pass + 1))
			printf '  ok   %-6s %s\n' "$phase" "$t"
		else
			fail=$((fail + 1))
			keep=1
			printf '  FAIL %-6s %s%s\n' "$phase" "$t" "$([ "$rc" -ne 0 ] && echo " (test failed: $d/ctest.log)")"
			summary+=("$phase $t")
			for r in $reports; do
				echo "       report: $r"
				grep -m 2 -E "ERROR: |WARNING: ThreadSanitizer|runtime error|SUMMARY" "$r" |
					sed 's/^/         /'
				summary+=("    $(grep -m 1 -E 'SUMMARY|runtime error' "$r")")
			done
		fi
	done
}

for phase in $phases; do
	t0=$SECONDS
	case $phase in
	asan)
		if build asan address,undefined; then
			mapfile -t tests < <(ctest --test-dir "$tmp/asan" -N -L 'unit|mount' |
				sed -n 's/^ *Test *#[0-9]*: *//p')
			echo "sanitize.sh: [asan] ${#tests[@]} tests (ASan + UBSan + LeakSanitizer)"
			run_tests asan "$tmp/asan" "${tests[@]}"
		else
			fail=$((fail + 1))
			keep=1
			summary+=("asan build failed: $out/asan-build.log")
		fi
		;;
	tsan)
		tests=(unit/test_cache unit/test_fetch unit/test_ratelimit mount/20-requests
			mount/40-singleflight unit/test_fleet mount/24-fleet unit/test_inode
			mount/25-nodecap mount/74-ctl-bytes)
		if build tsan thread gpucloudfs test_cache test_fetch test_ratelimit test_fleet \
			test_inode; then
			echo "sanitize.sh: [tsan] ${#tests[@]} tests (ThreadSanitizer)"
			run_tests tsan "$tmp/tsan" "${tests[@]}"
		else
			fail=$((fail + 1))
			keep=1
			summary+=("tsan build failed: $out/tsan-build.log")
		fi
		;;
	*)
		echo "sanitize.sh: unknown phase '$phase' (asan or tsan)" >&2
		exit 2
		;;
	esac
	echo "sanitize.sh: [$phase] done in $((SECONDS - t0)) s"
done

echo "sanitize.sh: finished in $((SECONDS - start)) s; logs and reports in $out"
if [ "${#summary[@]}" -gt 0 ]; then
	echo "failures:"
	printf '  %s\n' "${summary[@]}"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
