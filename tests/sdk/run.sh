#!/bin/sh
# Runs the official-SDK checks against a fresh cloud simulator.
#
#   sh tests/sdk/run.sh
#
# Installs the pinned SDKs (npm ci, quietly), starts contrib/cloudsim/cloudsim.py in a temporary
# state directory, waits for its ready.json (bounded poll), runs the check-*.js scripts and
# always stops the simulator by its PID. Exit status: 0 only if every check passed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "run.sh: node and npm are required" >&2
    exit 2
fi

if ! npm ci --prefix "$here" --no-audit --no-fund --loglevel=error >/dev/null 2>"${TMPDIR:-/tmp}/sdk-npm-ci.$$"; then
    cat "${TMPDIR:-/tmp}/sdk-npm-ci.$$" >&2
    rm -f "${TMPDIR:-/tmp}/sdk-npm-ci.$$"
    echo "run.sh: npm ci failed" >&2
    exit 2
fi
rm -f "${TMPDIR:-/tmp}/sdk-npm-ci.$$"

state=$(mktemp -d "${TMPDIR:-/tmp}/cloudsim-sdk.XXXXXX")
sim_pid=""
cleanup() {
    if [ -n "$sim_pid" ]; then
        kill "$sim_pid" 2>/dev/null
        # bounded wait for it to exit
        i=0
        while kill -0 "$sim_pid" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -9 "$sim_pid" 2>/dev/null
    fi
    rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python3 "$root/contrib/cloudsim/cloudsim.py" --state-dir "$state" >"$state/sim.out" 2>"$state/sim.err" &
sim_pid=$!

# Wait for ready.json: up to 300 polls of 0.1 s, giving up early if the simulator died.
i=0
while [ ! -s "$state/ready.json" ]; do
    if ! kill -0 "$sim_pid" 2>/dev/null; then
        echo "run.sh: the simulator exited before it was ready:" >&2
        cat "$state/sim.err" >&2
        exit 1
    fi
    i=$((i + 1))
    if [ $i -gt 300 ]; then
        echo "run.sh: the simulator did not become ready" >&2
        exit 1
    fi
    sleep 0.1
done

status=0
for check in "$here"/check-*.js; do
    echo "== $(basename "$check")"
    node "$check" --ready "$state/ready.json" || status=1
done
exit $status
