#!/usr/bin/env bash
# tests/soak/soak.sh [--seconds N] [--objects N] [--procs N] [--arenas N] [--known-mixed-reads]
#
# A soak of one mount against contrib/cloudsim: N tasks, ttl = 1, 10% of the
# API requests failing (HTTP 500, connection reset, malformed JSON, mixed),
# one process mutating random tasks in the simulator (every new version
# logged), P-1 processes reading random tasks' status and info.json and one
# listing tencent/tasks, for the given time. Asserts: the daemon is alive and
# the mount answers; every byte read is a version the simulator had for that
# object (current or previous: never a mix, never garbage), with st_size equal
# to the bytes read; every listing is complete; no operation waited longer
# than op_timeout; RSS at the end <= RSS at half-time (the first half is the
# warm-up: a listing of 10,000 tasks alone takes 10 s at 20 requests/s) + 30%
# (+ 16 MiB: short runs end before the heap plateaus). Prints operations, errors by kind and RSS.
#
# --known-mixed-reads: reads cut or sized from another version of the object
# (KF2 in tests/mount/69-known-failures.sh.pending: the kernel's size, the
# latest snapshot's bytes) are printed, not failed; for CI until it is fixed.
#
# The daemon runs with MALLOC_ARENA_MAX=2 (--arenas N; 0 = glibc's default of
# 8 per core): every listing's pager starts new threads and glibc gives them
# arenas of their own, which makes RSS climb for a while and plateau (about
# 2.5x the single-arena figure) without any leak; the bound is for leaks.
#
# Defaults (the real run): 120 s, 10,000 objects, 16 processes. CI runs the
# short form through tests/mount/68-soak-short.sh:
#   tests/soak/soak.sh --seconds 15 --objects 2000 --procs 4
# Everything it starts is stopped by PID; the mount is unmounted in a trap.
SECONDS_RUN=120
OBJECTS=10000
PROCS=16
ARENAS=2
KNOWN_MIXED=0
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) SECONDS_RUN=$2; shift 2 ;;
	--objects) OBJECTS=$2; shift 2 ;;
	--procs) PROCS=$2; shift 2 ;;
	--arenas) ARENAS=$2; shift 2 ;;
	--known-mixed-reads) shift ;; # accepted for old callers: mixes are now always failures
	-h | --help) sed -n 2,31p "$0"; exit 0 ;;
	*) echo "soak.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
case "$SECONDS_RUN$OBJECTS$PROCS$ARENAS" in *[!0-9]*) echo "soak.sh: numbers only" >&2; exit 2 ;; esac
[ "$PROCS" -ge 2 ] && [ "$SECONDS_RUN" -ge 5 ] && [ "$OBJECTS" -ge 10 ] || { echo "soak.sh: --procs >= 2, --seconds >= 5, --objects >= 10" >&2; exit 2; }

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../mount/lib.sh"
SOAK_PIDS=()
soak_cleanup() {
	local p
	for p in "${SOAK_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${SOAK_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	t_cleanup
}
trap soak_cleanup EXIT
PY="python3 $HERE/soak.py"
OP_TIMEOUT=30

echo "# soak: ${SECONDS_RUN} s, $OBJECTS objects, $PROCS processes, MALLOC_ARENA_MAX=${ARENAS:-default}"
if [ "$ARENAS" -gt 0 ]; then export MALLOC_ARENA_MAX=$ARENAS; else unset MALLOC_ARENA_MAX; fi
sim_start --tasks "$OBJECTS" --services 2 --ctyun-queues 1 --baidu-units 1 --alaya-products 3
M=$T_DIR/mnt
write_config_all "$T_DIR/c.ini" "ttl = 1" "op_timeout = $OP_TIMEOUT" ${SOAK_EXTRA:-}
gcf_mount "$T_DIR/c.ini" "$M"
unset MALLOC_ARENA_MAX
GCF_PID=${T_GCF_PIDS[0]}
sim GET objects/tencent/tasks >"$T_DIR/initial.json"
jq -r '.[].Id' "$T_DIR/initial.json" >"$T_DIR/ids"
check_eq "the simulator holds $OBJECTS tasks" "$OBJECTS" "$(wc -l <"$T_DIR/ids")"

# 10% of the API requests fail: each of three faults takes 1 - 0.9^(1/3).
for f in '"type": "http_status", "status": 500' '"type": "reset"' '"type": "malformed"'; do
	sim POST faults "{\"action\": \"*\", $f, \"probability\": 0.0345}" >/dev/null
done
sim POST counts/reset >/dev/null

t_start=$(date +%s)
until=$((t_start + SECONDS_RUN))
$PY rss "$GCF_PID" "$until" "$T_DIR/rss.tsv" &
SOAK_PIDS+=($!)
$PY mutate "$SIM_CTL" "$until" "$T_DIR/mutations.jsonl" 2>"$T_DIR/mutate.err" &
SOAK_PIDS+=($!)
$PY list "$M" "$until" "$T_DIR/read.0.tsv" &
SOAK_PIDS+=($!)
for ((i = 1; i < PROCS; i++)); do
	$PY read "$M" "$until" "$T_DIR/ids" "$i" "$T_DIR/read.$i.tsv" &
	SOAK_PIDS+=($!)
done

# Wait: the duration, then at most op_timeout + 15 s for the last operations.
alive_mid=1
while [ "$(date +%s)" -lt "$until" ]; do
	kill -0 "$GCF_PID" 2>/dev/null || alive_mid=0
	sleep 1
done
stragglers=0
for p in "${SOAK_PIDS[@]}"; do
	if ! wait_for $((OP_TIMEOUT + 15)) 1 sh -c "! kill -0 $p 2>/dev/null"; then
		stragglers=$((stragglers + 1))
		kill "$p" 2>/dev/null
	fi
	wait "$p" 2>/dev/null
done
SOAK_PIDS=()
elapsed=$(($(date +%s) - t_start))

check "the daemon stayed alive throughout" test "$alive_mid" = 1
check "the daemon is alive at the end" kill -0 "$GCF_PID"
check_eq "every reader stopped within op_timeout + 15 s of the end" 0 "$stragglers"
counts=$(sim GET counts)
sim POST faults/clear >/dev/null
check "the mount answers: alaya lists 3" test "$(ls "$M/alaya/products" | wc -l)" = 3
sleep 1.1
check_eq "the mount answers: a complete listing once the faults stop" "$OBJECTS" "$(ls "$M/tencent/tasks" | wc -l)"

$PY verify "$T_DIR/initial.json" "$T_DIR/mutations.jsonl" "$OBJECTS" "$T_DIR"/read.*.tsv >"$T_DIR/verify.json"
v=$T_DIR/verify.json
check "some reads happened" test "$(jq .reads "$v")" -gt 0
check_eq "every well-formed read is a version the simulator had" 0 "$(jq .reads_invalid "$v")"
# None: a size and its bytes come from one version by design (docs/architecture.md).
check_eq "no read cut or garbage (of $(jq .reads "$v"))" 0 "$(jq .reads_garbage "$v")"
# A stat, then a read: when the object changed in between (a refresh), the
# read returns the newer whole version, as on any filesystem. Reported only.
echo "# reads whose earlier fstat size belongs to another (whole) version: $(jq .size_mismatches "$v")"
check_eq "every listing is complete" 0 "$(jq .listings_incomplete "$v")"
check "no operation waited longer than op_timeout (+2 s): $(jq .longest_op_ms "$v") ms" test "$(jq .longest_op_ms "$v")" -le $((OP_TIMEOUT * 1000 + 2000))
check "the mutator ran" test "$(jq .mutations "$v")" -gt 0
jq -r '.examples[]' "$v" | sed 's/^/# example: /'

# RSS: the first sample, after warm-up (half the run), the end.
warm=$((SECONDS_RUN / 2))
rss_first=$(awk 'NR == 1 {print $2}' "$T_DIR/rss.tsv")
rss_warm=$(awk -v w="$warm" '$1 >= w && $2 != "gone" {print $2; exit}' "$T_DIR/rss.tsv")
rss_end=$(awk '$2 != "gone" {v = $2} END {print v}' "$T_DIR/rss.tsv")
rss_max=$(awk '$2 != "gone" && $2 > m {m = $2} END {print m}' "$T_DIR/rss.tsv")
bound=$((rss_warm * 13 / 10 + 16384))
check "RSS at the end ($rss_end KiB) <= after warm-up ($rss_warm KiB) + 30% + 16 MiB = $bound KiB" test "$rss_end" -le "$bound"

echo "# --- soak figures: ${SECONDS_RUN} s (${elapsed} s with the tail), $OBJECTS objects, $PROCS processes"
echo "# reads: $(jq .reads "$v") ($(jq .reads_ok_and_valid "$v") valid), listings: $(jq .listings "$v"), mutations: $(jq .mutations "$v")"
echo "# read errors by kind: $(jq -c .errors "$v"); listing errors: $(jq -c .listing_errors "$v")"
echo "# longest operation: $(jq .longest_op_ms "$v") ms (op_timeout $((OP_TIMEOUT * 1000)) ms); the 3 longest: $(jq -r '.longest_ops | join("; ")' "$v")"
echo "# RSS KiB every 5 s: $(awk '$2 != "gone" && int($1) % 5 == 0 && !seen[int($1)]++ {printf "%d:%s ", $1, $2}' "$T_DIR/rss.tsv")"
echo "# RSS KiB: first $rss_first, after warm-up (${warm} s) $rss_warm, end $rss_end, max $rss_max"
echo "# simulator: requests $(echo "$counts" | jq -c .requests), faults $(echo "$counts" | jq -c .faults), throttled $(echo "$counts" | jq -c .throttled)"
echo "# daemon stats: $(jq -c '.tencent.tasks | {api_requests, retries, throttles, stale, filtered_views, objects}' "$M/.gpucloudfs/stats.json" 2>/dev/null)"
echo "# errors file: $(wc -l <"$M/.gpucloudfs/errors") lines; served stale: $(grep -c 'served stale' "$M/.gpucloudfs/errors")"
gcf_finish
