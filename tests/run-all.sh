#!/usr/bin/env bash
# The whole test suite: builds gpucloudfs, then runs
#   1. with ctest: the unit tests (cmocka), the mount tests (real FUSE mounts
#      against contrib/cloudsim, the short soak included) and the
#      official-SDK checks of the simulator (tests/sdk);
#   2. tests/sanitize.sh: the unit and mount tests again under
#      AddressSanitizer + UndefinedBehaviorSanitizer, the concurrency tests
#      under ThreadSanitizer, zero reports required;
#   3. tests/fuzz/run.sh: every libFuzzer target briefly (GCF_FUZZ_SECONDS,
#      default 10 s each) after replaying the known crash reproducers;
#   4. contrib/bench/bench.sh --quick: the benchmark, briefly (it prints
#      figures; targets are judged from the full run, not here).
#
#   bash tests/run-all.sh            # build in ./build
#   BUILD_DIR=/tmp/b bash tests/run-all.sh
#   GCF_QUICK=1 bash tests/run-all.sh   # step 1 only
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build}
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$jobs"
if [ ! -e /dev/fuse ]; then
	echo "run-all: /dev/fuse is missing: the mount tests need FUSE" >&2
	exit 1
fi
ctest --test-dir "$build" --output-on-failure -j "$jobs" "$@"
if [ -n "${GCF_QUICK:-}" ]; then
	exit 0
fi
bash "$src/tests/sanitize.sh"
bash "$src/tests/fuzz/run.sh" --repro
bash "$src/tests/fuzz/run.sh" "${GCF_FUZZ_SECONDS:-10}"
bash "$src/contrib/bench/bench.sh" --quick
