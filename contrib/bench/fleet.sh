#!/usr/bin/env bash
# contrib/bench/fleet.sh - the fleet-mode figures of issue 11 (one command).
#
#   bash contrib/bench/fleet.sh [--quick] [--debug]
#
# One simulator with N tasks (TI-ONE's 20 requests/s enforced by it), one
# redis-server (tests/lib-redis.sh: 127.0.0.1, a free port, no persistence),
# K mounts on this machine, each listing tencent/tasks every 0.5 s for D s
# with ttl = 10:
#   1. one mount alone (no Redis): its API requests, its fetch time;
#   2. K mounts sharing one Redis: total requests vs 1., the most requests in
#      any 1 s window (the simulator's max_per_s: every arrival, throttled or
#      not, counted in the window (t - 1 s, t] its rate limit uses), throttled
#      replies;
#   3. the same K mounts without Redis (about K x: the measurement can tell);
#   4. K mounts with Redis paused (SIGSTOP) 10 s, then killed and restarted:
#      failed ls, p99 ls latency, time until sharing resumes;
#   5. the lease holder killed (SIGKILL) mid-fetch: a refresh asked on one
#      mount (a full listing) once nothing is in flight and every copy is past
#      its TTL; the holder is the mount whose own requests (stats.json) grow
#      while the Redis lease key exists; it is killed 20 requests in, and a
#      refresh asked on another mount waits for the lease to expire, takes
#      it over (counted in stats.json) and completes: time from the kill.
# Full: N = 10000, K = 8, D = 60 (about 6 minutes). --quick: N = 2000, K = 3,
# D = 20, the fault run 45 s (about 3 minutes). The table goes to stdout. Everything started is
# stopped by its PID; every mount is unmounted (tests/mount/lib.sh's trap).
#
# The logs are kept: every daemon's log (-d with --debug), each mount's
# stats.json at its unmount, the ls and sampler records, the simulator's and
# Redis's logs are copied at exit to a directory printed on stderr
# (FLEET_KEEP, default a new /tmp/gcf-fleet-bench.XXXXXX).
#
# Environment: GCF_BIN (default build/gpucloudfs), FLEET_TASKS, FLEET_MOUNTS,
# FLEET_SECONDS override N, K, D; FLEET_KEEP the kept directory.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
export GCF_SRC=$src
export GCF_BIN=${GCF_BIN:-$src/build/gpucloudfs}
. "$src/tests/mount/lib.sh"
. "$src/tests/lib-redis.sh"
KEEP=${FLEET_KEEP:-$(mktemp -d /tmp/gcf-fleet-bench.XXXXXX)}
mkdir -p "$KEEP" || exit 1
# keep_logs: copies what tells what happened before t_cleanup removes T_DIR.
keep_logs() {
	local f
	for f in "$T_DIR"/*.log "$T_DIR"/*.ls "$T_DIR"/*.samples "$T_DIR"/*.stats.json; do
		[ -e "$f" ] && cp "$f" "$KEEP/"
	done
	[ -n "$REDIS_DIR" ] && [ -e "$REDIS_DIR/redis.log" ] && cp "$REDIS_DIR/redis.log" "$KEEP/"
	echo "fleet.sh: logs kept in $KEEP" >&2
}
trap 'keep_logs; redis_stop; t_cleanup' EXIT

N=${FLEET_TASKS:-10000}
K=${FLEET_MOUNTS:-8}
D=${FLEET_SECONDS:-60}
DEBUG=()
for a in "$@"; do
	case $a in
	--quick)
		N=${FLEET_TASKS:-2000}
		K=${FLEET_MOUNTS:-3}
		D=${FLEET_SECONDS:-20}
		;;
	--debug) DEBUG=(-d) ;;
	*)
		echo "usage: fleet.sh [--quick] [--debug]" >&2
		exit 2
		;;
	esac
done
[ -x "$GCF_BIN" ] || { echo "fleet.sh: build first (GCF_BIN=$GCF_BIN)" >&2; exit 1; }
log() { echo "fleet.sh: $*" >&2; }

sim_start --tasks "$N"
redis_start || exit 1
write_config "$T_DIR/redis.ini" "ttl = 10" "redis = $REDIS_URL"
write_config "$T_DIR/local.ini" "ttl = 10"
now_ms() { echo $(($(date +%s%N) / 1000000)); }
throttled() { sim GET counts | jq -r '.throttled.DescribeTrainingTasks // 0'; }

# sampler FILE: "ms requests" every 0.1 s until $T_DIR/stop exists.
sampler() {
	while [ ! -e "$T_DIR/stop" ]; do
		echo "$(now_ms) $(requests DescribeTrainingTasks)"
		sleep 0.1
	done >"$1"
}
# looper MNT FILE: ls every 0.5 s until stop; "start_ms ms rc entries" lines.
looper() {
	local t0 t1 n rc
	while [ ! -e "$T_DIR/stop" ]; do
		t0=$(now_ms)
		n=$(ls -f "$1/tencent/tasks" 2>/dev/null | wc -l)
		rc=${PIPESTATUS[0]}
		t1=$(now_ms)
		echo "$t0 $((t1 - t0)) $rc $n"
		sleep 0.5
	done >"$2"
}
# mounts CONFIG PREFIX COUNT: mounts PREFIX1..PREFIXCOUNT
mounts() {
	local i
	for ((i = 1; i <= $3; i++)); do gcf_mount "$1" "$T_DIR/$2$i" "${DEBUG[@]}"; done
}
umounts() {
	local i
	for ((i = 1; i <= $2; i++)); do
		cp "$T_DIR/$1$i/.gpucloudfs/stats.json" "$T_DIR/$1$i.stats.json" 2>/dev/null
		gcf_umount "$T_DIR/$1$i"
	done
}
# run PREFIX COUNT: the loops for D s; sets REQ THR MAX1S
run() {
	local i pids=()
	rm -f "$T_DIR/stop"
	sim POST counts/reset >/dev/null
	sampler "$T_DIR/$1.samples" &
	pids+=($!)
	for ((i = 1; i <= $2; i++)); do
		looper "$T_DIR/$1$i" "$T_DIR/$1$i.ls" &
		pids+=($!)
	done
	sleep "$D"
	touch "$T_DIR/stop"
	for p in "${pids[@]}"; do wait "$p"; done
	REQ=$(requests DescribeTrainingTasks)
	THR=$(throttled)
	MAX1S=$(sim GET counts | jq -r '.max_per_s.DescribeTrainingTasks // 0')
}
# failed PREFIX: ls that failed or were incomplete
failed() { cat "$T_DIR/$1"*.ls | awk -v n="$REF" '$3 != 0 || $4 != n' | wc -l; }
# p99 PREFIX [FROM_MS]: of the ls started at FROM_MS or later
p99() { cat "$T_DIR/$1"*.ls | awk -v t="${2:-0}" '$1 >= t {print $2}' | sort -n | awk '{v[NR]=$1} END {i=int(NR*0.99); if (i<1) i=1; print v[i]}'; }
fleet_sum() { # fleet_sum PREFIX COUNT FIELD
	local i s=0 v
	for ((i = 1; i <= $2; i++)); do
		v=$(jq -r ".[\".fleet\"].$3 // 0" "$T_DIR/$1$i/.gpucloudfs/stats.json" 2>/dev/null)
		s=$((s + ${v:-0}))
	done
	echo "$s"
}

log "N=$N tasks, K=$K mounts, D=$D s, ttl 10 s"
log "1/5 one mount, no Redis"
mounts "$T_DIR/local.ini" one 1
run one 1
REQ1=$REQ THR1=$THR MAX1=$MAX1S
FETCH_MS=$(jq -r '.tencent.tasks.last_fetch_duration_ms' "$T_DIR/one1/.gpucloudfs/stats.json")
COLD_MS=$(head -1 "$T_DIR/one1.ls" | awk '{print $2}') # the first ls: a full fetch
REF=$(ls -f "$T_DIR/one1/tencent/tasks" | wc -l) # entries of a complete listing (N + . .. + views)
umounts one 1

log "2/5 $K mounts, one Redis"
mounts "$T_DIR/redis.ini" fl "$K"
run fl "$K"
REQF=$REQ THRF=$THR MAXF=$MAX1S FAILF=$(failed fl)
umounts fl "$K"

log "3/5 $K mounts, no Redis"
mounts "$T_DIR/local.ini" lo "$K"
run lo "$K"
REQL=$REQ THRL=$THR MAXL=$MAX1S
umounts lo "$K"

log "4/5 $K mounts, Redis paused 10 s, then killed and restarted"
redis_cli FLUSHALL >/dev/null
mounts "$T_DIR/redis.ini" fa "$K"
rm -f "$T_DIR/stop" "$T_DIR/restarted" "$T_DIR/resumed"
(
	sleep $((D / 4))
	now_ms >"$T_DIR/paused"
	redis_pause
	sleep 10
	redis_resume
	sleep 3
	redis_kill
	sleep 1
	redis_restart >/dev/null
	echo "$REDIS_PID" >"$T_DIR/redis.pid" # this subshell's: the parent stops it
	now_ms >"$T_DIR/restarted"
) &
faults=$!
# sharing resumes: publications + shared hits grow after the restart
(
	while [ ! -e "$T_DIR/restarted" ]; do sleep 0.2; done
	base=$(($(fleet_sum fa "$K" shared_hits) + $(fleet_sum fa "$K" publications)))
	while [ ! -e "$T_DIR/stop" ]; do
		cur=$(($(fleet_sum fa "$K" shared_hits) + $(fleet_sum fa "$K" publications)))
		if [ "$cur" -gt "$base" ]; then
			now_ms >"$T_DIR/resumed"
			break
		fi
		sleep 0.2
	done
) &
watcher=$!
D0=$D
D=$((D < 45 ? 45 : D)) # the fault schedule takes 25 s, then sharing must resume
run fa "$K"
D=$D0
wait "$faults"
wait "$watcher"
# the server the fault schedule restarted (in its subshell): the EXIT trap stops it by PID
[ -s "$T_DIR/redis.pid" ] && REDIS_PID=$(cat "$T_DIR/redis.pid")
# p99 from the pause on: the first ls of each mount is a cold full fetch
REQA=$REQ THRA=$THR FAILA=$(failed fa) P99A=$(p99 fa "$(cat "$T_DIR/paused")")
if [ -s "$T_DIR/resumed" ]; then
	RESUME=$(((($(cat "$T_DIR/resumed") - $(cat "$T_DIR/restarted")) + 999) / 1000))
else
	RESUME="not within the run"
fi
FALLBACKS=$(fleet_sum fa "$K" fallbacks)

log "5/5 the lease holder killed mid-fetch"
# Nothing in flight (no lease), then every copy past its TTL: the refresh
# asked below cannot be answered by a publication and must take the lease.
no_lease() { [ -z "$(redis_cli --scan --pattern 'gcf:*:lease')" ]; }
leased() { ! no_lease; }
wait_for 600 0.1 no_lease
sleep 10.5
# mount_reqs I: API requests mount faI has made (its stats.json)
mount_reqs() {
	local v
	v=$(jq -r '.tencent.tasks.api_requests // 0' "$T_DIR/fa$1/.gpucloudfs/stats.json" 2>/dev/null | head -1)
	case $v in '' | *[!0-9]*) echo 0 ;; *) echo "$v" ;; esac
}
declare -a R0
for ((i = 1; i <= K; i++)); do R0[$i]=$(mount_reqs "$i"); done
cat "$T_DIR/fa1/.gpucloudfs/refresh/tencent/tasks" >/dev/null 2>&1 & # asked: a full listing
asker=$!
HOLDER=
# the holder: the mount whose own requests grow while the lease is held
# (20 requests in: about 1 s into a fetch of ${FETCH_MS} ms)
find_holder() {
	local i
	leased || return 1
	for ((i = 1; i <= K; i++)); do
		if [ $(($(mount_reqs "$i") - ${R0[$i]})) -ge 20 ]; then
			HOLDER=$i
			return 0
		fi
	done
	return 1
}
if wait_for 300 0.1 find_holder; then
	HREQ=$(($(mount_reqs "$HOLDER") - ${R0[$HOLDER]}))
	idx=$(for ((i = 0; i < ${#T_MOUNTS[@]}; i++)); do [ "${T_MOUNTS[$i]}" = "$T_DIR/fa$HOLDER" ] && echo "$i"; done)
	kill -9 "${T_GCF_PIDS[$idx]}"
	killed=$(now_ms)
	leased && HELD_AT_KILL=yes || HELD_AT_KILL=no
	wait "$asker" 2>/dev/null
	other=$((HOLDER % K + 1))
	cat "$T_DIR/fa$other/.gpucloudfs/refresh/tencent/tasks" >/dev/null 2>&1
	TAKE_S=$(awk -v a="$killed" -v b="$(now_ms)" 'BEGIN {printf "%.1f", (b - a) / 1000}')
	TAKEN=$(fleet_sum fa "$K" takeovers) # the holder is dead: its share reads as 0
	DONE_N=$(ls -f "$T_DIR/fa$other/tencent/tasks" | wc -l)
	KILLED="fa$HOLDER killed after $HREQ of its requests, lease held: $HELD_AT_KILL; completed on fa$other"
else
	wait "$asker" 2>/dev/null
	TAKE_S="-" TAKEN=0 DONE_N=0 KILLED="no holder found: nothing killed"
fi
for ((i = 1; i <= K; i++)); do
	cp "$T_DIR/fa$i/.gpucloudfs/stats.json" "$T_DIR/fa$i.stats.json" 2>/dev/null
done
FETCH_S=$(awk -v f="$FETCH_MS" 'BEGIN {printf "%.1f", f / 1000}')
COLD_S=$(awk -v f="$COLD_MS" 'BEGIN {printf "%.1f", f / 1000}')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b) printf "%.2f", a / b; else print "-"}'; }
cat <<TABLE
# fleet.sh: $N tasks, $K mounts, every mount lists every 0.5 s for $D s, ttl = 10

| figure | measured | target |
|---|---|---|
| API requests, 1 mount alone | $REQ1 (fetch ${FETCH_S} s, max $MAX1/s, throttled $THR1) | - |
| API requests, $K mounts + Redis | $REQF = $(ratio "$REQF" "$REQ1") x one mount | <= 1.1 x |
| API requests, $K mounts, no Redis | $REQL = $(ratio "$REQL" "$REQ1") x one mount | about $K x |
| most requests in any 1 s, $K mounts + Redis | $MAXF | <= 20 |
| most requests in any 1 s, $K mounts, no Redis | $MAXL | (throttled: $THRL) |
| throttled replies, $K mounts + Redis | $THRF | 0 |
| failed ls, $K mounts + Redis | $FAILF | 0 |
| Redis paused 10 s, killed, restarted: failed ls | $FAILA | 0 |
| ... p99 ls latency (from the pause on) | ${P99A} ms | <= fetch ${FETCH_S} s + 0.5 s (a cold full fetch: ${COLD_MS} ms) |
| ... sharing resumed after the restart | ${RESUME} s | <= 30 s |
| ... API requests, throttled, fleet fallbacks | $REQA, $THRA, $FALLBACKS | - |
| lease holder killed mid-fetch: listing complete on another host | ${TAKE_S} s after the kill ($DONE_N of $REF entries, takeovers $TAKEN; $KILLED) | <= 15 s + a full listing ${COLD_S} s (the refresh taken over is asked: full), takeovers >= 1 |
TABLE
