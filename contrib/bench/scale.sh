#!/usr/bin/env bash
# contrib/bench/scale.sh - no size cliff: one collection of N TI-ONE tasks (default 100,000)
# listed at the documented 20 requests/s (the default configuration but ttl = 3600, so that
# the traversal at the end does not refresh it).
#
#   GCF_BIN=build/gpucloudfs bash contrib/bench/scale.sh        # N = 100,000: about 3 minutes
#   SCALE_TASKS=5000 bash contrib/bench/scale.sh                 # a small run (about 15 s)
#
# It starts contrib/cloudsim (127.0.0.1) with N tasks, mounts gpucloudfs on it and runs
# `ls tencent/tasks` again and again until it lists, sampling the progress (the
# user.gpucloudfs.progress xattr, stats.json, .gpucloudfs/errors) every 2 s meanwhile. Then
# `find` over the mount and `grep -r` over every task's files, and the daemon's RSS. Figures,
# each next to its target:
#   - the slowest `ls` (every one answers within op_timeout, 30 s: ETIMEDOUT or the listing);
#   - the listing's fetch time (stats.json) vs the ideal P / 20 s (P = ceil(N / 50) pages):
#     target <= 1.1x;
#   - requests (simulator counters) vs P, pages received (stats.json) vs P: 0 fetched twice;
#     throttled replies: 0;
#   - whether progress was readable while it ran;
#   - RSS after find + grep -r vs the JSON bytes held (reported; target of another issue).
# Progress lines go to stderr, the table to stdout. Everything it starts is stopped by PID and
# the mount is unmounted in the EXIT trap. Needs python3, jq, curl, fusermount3.
#
# Environment: SCALE_TASKS (default 100000), GCF_BIN (default build/gpucloudfs),
# SCALE_KEEP=1 (keep the run directory with the logs), SCALE_CACHE_DIR (the disk store;
# default a directory in the run's, `none` for none), SCALE_CONFIG (more [gpucloudfs] lines).
set -u -o pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
N=${SCALE_TASKS:-100000}
GCF_BIN=${GCF_BIN:-$REPO/build/gpucloudfs}
OP_TIMEOUT=30
RATE=20
P=$(((N + 49) / 50))
DIR=$(mktemp -d /tmp/gcf-scale.XXXXXX)
M=$DIR/mnt
SIM_PID= GCF_PID= SAMPLER_PID=

cleanup() {
	[ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
	if grep -q " $M fuse.gpucloudfs " /proc/mounts 2>/dev/null; then
		fusermount3 -u "$M" 2>/dev/null || fusermount3 -uz "$M" 2>/dev/null
	fi
	[ -n "$GCF_PID" ] && kill "$GCF_PID" 2>/dev/null && wait "$GCF_PID" 2>/dev/null
	[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
	if [ "${SCALE_KEEP:-0}" = 1 ]; then echo "kept $DIR" >&2; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "# $*" >&2; }
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
wait_for() { # tries interval cmd...
	local n=$1 i=$2
	shift 2
	for ((; n > 0; n--)); do "$@" && return 0; sleep "$i"; done
	return 1
}

[ -x "$GCF_BIN" ] || { echo "scale.sh: no gpucloudfs at '$GCF_BIN' (build it, or set GCF_BIN)" >&2; exit 1; }
say "simulator with $N tasks ($P pages)"
mkdir -p "$DIR/sim"
python3 "$REPO/contrib/cloudsim/cloudsim.py" --state-dir "$DIR/sim" --tasks "$N" >"$DIR/sim.log" 2>&1 &
SIM_PID=$!
wait_for 1200 0.25 test -s "$DIR/sim/ready.json" || { cat "$DIR/sim.log" >&2; exit 1; }
HTTPS=$(jq -r .https_port "$DIR/sim/ready.json")
CTL="http://127.0.0.1:$(jq -r .http_port "$DIR/sim/ready.json")/_sim"
cat >"$DIR/c.ini" <<CFG
[gpucloudfs]
ca_file = $(jq -r .ca_file "$DIR/sim/ready.json")
ttl = 3600
cache_dir = ${SCALE_CACHE_DIR:-$DIR/cache}
${SCALE_CONFIG:-}

[tencent]
secret_id = sim-tencent-id
secret_key = sim-tencent-key
region = ap-guangzhou
endpoint = https://127.0.0.1:$HTTPS
CFG
chmod 600 "$DIR/c.ini"
mkdir -p "$M"
"$GCF_BIN" -c "$DIR/c.ini" -f "$M" >"$DIR/gcf.log" 2>&1 &
GCF_PID=$!
wait_for 100 0.1 grep -q " $M fuse.gpucloudfs " /proc/mounts || { cat "$DIR/gcf.log" >&2; exit 1; }
curl -sf -X POST "$CTL/counts/reset" >/dev/null

stats() { jq -r ".tencent.tasks.$1" "$M/.gpucloudfs/stats.json" 2>/dev/null; }
xattr() { python3 -c "import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2]).decode())" "$@" 2>/dev/null; }

# The sampler: what a person looking would see, every 2 s, until the listing is complete.
sampler() {
	local t0=$1 x s e
	while :; do
		x=$(xattr "$M/tencent/tasks" user.gpucloudfs.progress)
		s=$(stats progress.text)
		e=$(grep -c "\[in progress\]" "$M/.gpucloudfs/errors" 2>/dev/null)
		printf '%s\t%s\t%s\t%s\n' $(($(now_ms) - t0)) "${x:--}" "$s" "${e:-0}" >>"$DIR/samples.tsv"
		[ "$(stats progress.state)" = complete ] && break
		sleep 2
	done
}

T0=$(now_ms)
sampler "$T0" &
SAMPLER_PID=$!
tries=0 slowest=0 timeouts=0 other=0
while :; do
	tries=$((tries + 1))
	t=$(now_ms)
	ls "$M/tencent/tasks" >"$DIR/ls.out" 2>"$DIR/ls.err"
	rc=$?
	ms=$(($(now_ms) - t))
	[ "$ms" -gt "$slowest" ] && slowest=$ms
	if [ "$rc" = 0 ]; then
		say "ls #$tries at $(((t - T0) / 1000)) s: listed $(wc -l <"$DIR/ls.out") in $ms ms"
		break
	fi
	if grep -q "timed out" "$DIR/ls.err"; then timeouts=$((timeouts + 1)); else other=$((other + 1)); fi
	say "ls #$tries at $(((t - T0) / 1000)) s: $(head -c 120 "$DIR/ls.err" | sed 's/.*: //') after $ms ms; progress: $(xattr "$M/tencent/tasks" user.gpucloudfs.progress)"
	[ $(($(now_ms) - T0)) -gt 1200000 ] && { say "gave up after 20 minutes"; break; }
done
LISTED=$(wc -l <"$DIR/ls.out")
wait "$SAMPLER_PID" 2>/dev/null
SAMPLER_PID=
FETCH_S=$(stats progress.elapsed_s)
REQ=$(curl -sf "$CTL/counts" | jq '.requests.DescribeTrainingTasks // 0')
THR=$(curl -sf "$CTL/counts" | jq '.throttled.DescribeTrainingTasks // 0')
RETRIES=$(stats retries)
PAGES_OK=$(stats pages)
JSON=$(stats json_bytes)
SAMPLES=$(wc -l <"$DIR/samples.tsv")
FETCHING=$(awk -F'\t' '$2 ~ /^fetching, [0-9,]+ (of |pages)/ && $3 ~ /^fetching/ && $4 > 0' "$DIR/samples.tsv" | wc -l)
say "progress samples (ms, xattr, stats.json text, errors lines in progress):"
sed -n '1~5p' "$DIR/samples.tsv" >&2
RSS_LIST=$(awk '/VmRSS/ {print $2}' "/proc/$GCF_PID/status")

say "find over the mount, grep -r over every task's files"
t=$(now_ms)
FILES=$(find "$M/tencent" | wc -l)
grep -r -c RUNNING "$M/tencent/tasks" >"$DIR/grep.out" 2>/dev/null
TRAVERSE_S=$(((($(now_ms) - t) + 500) / 1000))
RSS=$(awk '/VmRSS/ {print $2}' "/proc/$GCF_PID/status")
REQ_AFTER=$(curl -sf "$CTL/counts" | jq '.requests.DescribeTrainingTasks // 0')

IDEAL=$(awk -v p="$P" -v r="$RATE" 'BEGIN {printf "%.0f", p / r}')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
ok() { [ "${1:-0}" = 1 ] && echo ok || echo MISSED; }
cat <<TABLE

## No size cliff: $N tasks, $P pages, default config (20 requests/s, op_timeout ${OP_TIMEOUT} s), ttl = 3600

| figure | measured | target | |
|---|---|---|---|
| \`ls\` tries until it listed | $tries ($timeouts ETIMEDOUT, $other other errors) | — | |
| slowest \`ls\` | $((slowest / 1000)).$(printf %03d $((slowest % 1000))) s | ≤ ${OP_TIMEOUT} s (+ slack) | $(ok $([ "$slowest" -le $((OP_TIMEOUT * 1000 + 2000)) ] && echo 1)) |
| tasks listed | $LISTED | $N | $(ok $([ "$LISTED" = "$N" ] && echo 1)) |
| listing fetch time (stats.json) | ${FETCH_S} s = $(ratio "$FETCH_S" "$IDEAL")× ideal ${IDEAL} s | ≤ 1.1× | $(ok $(awk -v a="$FETCH_S" -v b="$IDEAL" 'BEGIN {print (a <= 1.1 * b)}')) |
| API requests | $REQ (of which retries $RETRIES) | $P (one per page) | $(ok $([ "$REQ" = "$P" ] && echo 1)) |
| pages fetched twice (pages received − P) | $((PAGES_OK - P)) | 0 | $(ok $([ "$PAGES_OK" = "$P" ] && echo 1)) |
| throttled replies | $THR | 0 | $(ok $([ "$THR" = 0 ] && echo 1)) |
| progress readable while it ran | $FETCHING of $SAMPLES samples (xattr + stats.json + errors) | every sample but the last | $(ok $([ "$FETCHING" -ge $((SAMPLES - 1)) ] && echo 1)) |
| requests made by find + grep -r | $((REQ_AFTER - REQ)) | 0 | $(ok $([ "$REQ_AFTER" = "$REQ" ] && echo 1)) |
| RSS after the listing | $((RSS_LIST / 1024)) MiB | — | |
| RSS after find ($FILES entries) + grep -r (${TRAVERSE_S} s) | $((RSS / 1024)) MiB = $(ratio $((RSS * 1024)) "$JSON")× the JSON ($((JSON / 1048576)) MiB) | ≤ 3× (issue 10 part 4) | $(ok $([ $((RSS * 1024)) -le $((3 * JSON)) ] && echo 1)) |
TABLE
