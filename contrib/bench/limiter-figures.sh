#!/usr/bin/env bash
# The rate limiter's figures: cold `ls -l tencent/tasks` of N simulated tasks, each run on a fresh
# mount 1.1 s after the last API request (the simulator's 1-second window is empty), with an
# optional latency floor L on every API request. For each binary given, interleaved run by run
# (A B A B ...) in one simulator, so that every binary sees the same load: the median wall time
# of the listing, the daemon's own fetch time (.gpucloudfs/stats.json), the requests and the
# throttled replies (`RequestLimitExceeded`) the simulator counted, and the entries listed.
#
#   bash contrib/bench/limiter-figures.sh [--tasks N] [--latency MS] [--runs R]
#        [--op-timeout S] BINARY...
#
# The issue-12 figures:
#   bash contrib/bench/limiter-figures.sh --tasks 1234 --latency 50 --runs 9 before after
#   bash contrib/bench/limiter-figures.sh --tasks 100000 --op-timeout 300 --runs 1 before after
# (a listing of 100,000 tasks takes ~100 s at 20 requests/s: longer than the default op_timeout).
# Uses the mount-test harness (simulator on 127.0.0.1, cleanup by PID, unmount in a trap).
TASKS=1234
LATENCY=0
RUNS=5
OP_TIMEOUT=30
while [ $# -gt 0 ]; do
	case $1 in
	--tasks) TASKS=$2; shift 2 ;;
	--latency) LATENCY=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--op-timeout) OP_TIMEOUT=$2; shift 2 ;;
	-h | --help) sed -n 2,15p "$0"; exit 0 ;;
	--) shift; break ;;
	-*) echo "limiter-figures.sh: unknown argument $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
case "$TASKS$LATENCY$RUNS$OP_TIMEOUT" in *[!0-9]*) echo "limiter-figures.sh: numbers only" >&2; exit 2 ;; esac
[ $# -ge 1 ] || { echo "limiter-figures.sh: name at least one binary" >&2; exit 2; }
BINS=("$@")
for b in "${BINS[@]}"; do [ -x "$b" ] || { echo "limiter-figures.sh: $b is not executable" >&2; exit 2; }; done

. "$(dirname "$0")/../../tests/mount/lib.sh"
sim_start --tasks "$TASKS" --services 1 --ctyun-queues 1 --baidu-units 1 --alaya-products 1
if [ "$LATENCY" -gt 0 ]; then
	sim POST faults "{\"action\": \"DescribeTrainingTasks\", \"type\": \"latency\", \"latency_ms\": $LATENCY, \"floor\": true}" >/dev/null ||
		{ echo "cannot inject latency" >&2; exit 1; }
fi
write_config "$T_DIR/c.ini" "ttl = 3600" "op_timeout = $OP_TIMEOUT"
M=$T_DIR/mnt
med() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A times fetch thr req ents
echo "# $TASKS tasks, latency floor $LATENCY ms, op_timeout $OP_TIMEOUT s, $RUNS runs per binary, interleaved"
for ((r = 1; r <= RUNS; r++)); do
	for i in "${!BINS[@]}"; do
		GCF_BIN=${BINS[$i]}
		gcf_mount "$T_DIR/c.ini" "$M"
		sleep 1.1 # the simulator's 1-second rate window empties
		sim POST counts/reset >/dev/null
		t0=$EPOCHREALTIME
		n=$(ls -l "$M/tencent/tasks" | tail -n +2 | wc -l)
		t1=$EPOCHREALTIME
		c=$(sim GET counts)
		s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
		f=$(jq -r '.tencent.tasks.last_fetch_duration_ms // "?"' "$M/.gpucloudfs/stats.json" 2>/dev/null)
		q=$(echo "$c" | jq -r '.requests.DescribeTrainingTasks // 0')
		t=$(echo "$c" | jq -r '.throttled.DescribeTrainingTasks // 0')
		echo "# run $r ${BINS[$i]}: $n entries, $s s (fetch $f ms), $q requests, $t throttled"
		times[$i]+="$s "; fetch[$i]+="$f "; thr[$i]+="$t "; req[$i]+="$q "; ents[$i]+="$n "
		gcf_umount "$M"
	done
done
for i in "${!BINS[@]}"; do
	tt=0
	for t in ${thr[$i]}; do tt=$((tt + t)); done
	echo "${BINS[$i]}: cold ls -l of $TASKS tasks (L = $LATENCY ms): median $(printf '%s\n' ${times[$i]} | med) s" \
		"[${times[$i]% }], fetch ms [${fetch[$i]% }], entries [${ents[$i]% }], requests [${req[$i]% }]," \
		"throttled [${thr[$i]% }] = $tt"
done
