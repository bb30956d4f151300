#!/usr/bin/env bash
# The whole test suite: builds gpucloudfs, then runs with ctest the unit tests
# (cmocka), the mount tests (real FUSE mounts against contrib/cloudsim) and
# the official-SDK checks of the simulator (tests/sdk).
#
#   bash tests/run-all.sh            # build in ./build
#   BUILD_DIR=/tmp/b bash tests/run-all.sh
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
