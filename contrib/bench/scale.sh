#!/usr/bin/env bash
# contrib/bench/scale.sh - issue 10's figures from one command: one collection of N TI-ONE
# training tasks (default 100,000), P% of them in a non-final status (default 1), against
# contrib/cloudsim at the documented 20 requests/s.
#
#   GCF_BIN=build/gpucloudfs bash contrib/bench/scale.sh     # N = 100,000: about 7 minutes
#   bash contrib/bench/scale.sh --quick                       # N = 5,000: about 30 s
#   SCALE_TASKS=20000 bash contrib/bench/scale.sh             # any N
#
# Phases, each figure next to its target in the table printed at the end (stdout; progress
# lines go to stderr):
#  1. No size cliff. gpucloudfs mounted with the default configuration but ttl = 3600 (so that
#     phase 2 does not refresh it); `ls tencent/tasks` again and again until it lists, each
#     within op_timeout (ETIMEDOUT while the fetch goes on); a sampler reads the progress (the
#     user.gpucloudfs.progress xattr, stats.json, .gpucloudfs/errors) every 2 s meanwhile. The
#     listing's fetch time (stats.json) vs the ideal P / 20 s (P = ceil(N / 50) pages): <= 1.1x;
#     requests = P, pages received = P (0 fetched twice), 0 throttled; progress readable in every
#     sample but the last.
#  2. Memory: `find` over the mount and `grep -r` over every task's files, then the daemon's RSS
#     vs 3x the JSON bytes held (reported; issue 10 part 4).
#  3. Warm restart: once the disk store holds the snapshot, kill -9 of the daemon and a restart
#     (same cache_dir, ttl = SCALE_REFRESH_TTL), SCALE_RESTARTS times (3; the median counts):
#     the first `ls` answers in < 1 s with the same names, marked stale (xattr
#     user.gpucloudfs.stale, stats.json), and after the last restart the mark goes once the
#     background revalidation is done (its requests are reported).
#  4. A refresh of unchanged data: SCALE_REFRESH_TTL seconds after the revalidation an `ls`
#     starts a refresh (TTL expiry: incremental, fs/incremental.h); the simulator's requests
#     for it vs 3 + ceil(A / 50), A = the tasks in the statuses the daemon queries as active
#     (RUNNING, STOPPING; from GET /_sim/summary).
#  5. A refresh with k changed tasks (SCALE_CHANGED, default 1,000, changed at once with
#     POST /_sim/mutate-many): requests vs phase 4's + ceil(k / 50) (+1: the page that shows
#     the delta has reached the older objects), and a changed task's info.json shows the change.
#  6. The disk store: the cache directory 0700, every file in it 0600, and none of the test
#     credentials (secret id and key, nor any signature) in any of its bytes.
#
# Everything it starts listens on 127.0.0.1, is stopped by PID and the mount is unmounted in
# the EXIT trap. Needs python3, jq, curl, fusermount3.
#
# Environment: SCALE_TASKS (N; --quick: 5000), SCALE_ACTIVE_PERCENT (1), SCALE_CHANGED (k;
# --quick: 100), SCALE_REFRESH_TTL (ttl after the restart, default 15 s; --quick: 5), GCF_BIN (default
# build/gpucloudfs), SCALE_KEEP=1 (keep the run directory with the logs and the samples),
# SCALE_CONFIG (more [gpucloudfs] lines for every mount).
set -u -o pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
QUICK=0
for a in "$@"; do
	case $a in
	--quick) QUICK=1 ;;
	-h | --help)
		sed -n '2,/^set -u/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "scale.sh: unknown argument '$a' (--quick, --help)" >&2
		exit 2
		;;
	esac
done
if [ "$QUICK" = 1 ]; then
	N=${SCALE_TASKS:-5000} K=${SCALE_CHANGED:-100} RTTL=${SCALE_REFRESH_TTL:-5}
else
	N=${SCALE_TASKS:-100000} K=${SCALE_CHANGED:-1000} RTTL=${SCALE_REFRESH_TTL:-15}
fi
ACTIVE_PCT=${SCALE_ACTIVE_PERCENT:-1}
GCF_BIN=${GCF_BIN:-$REPO/build/gpucloudfs}
OP_TIMEOUT=30
RATE=20
P=$(((N + 49) / 50))
DIR=$(mktemp -d /tmp/gcf-scale.XXXXXX)
M=$DIR/mnt
CACHE=$DIR/cache
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
secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
wait_for() { # tries interval cmd...
	local n=$1 i=$2
	shift 2
	for ((; n > 0; n--)); do "$@" && return 0; sleep "$i"; done
	return 1
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b ? a / b : 0)}'; }
ok() { [ "${1:-0}" = 1 ] && echo ok || echo MISSED; }
is_mounted() { grep -q " $M fuse.gpucloudfs " /proc/mounts; }
sim() { curl -sf -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "$CTL/$2"; }
requests() { sim GET counts | jq '.requests.DescribeTrainingTasks // 0'; }
throttled() { sim GET counts | jq '.throttled.DescribeTrainingTasks // 0'; }
stats() { jq -r ".tencent.tasks.$1" "$M/.gpucloudfs/stats.json" 2>/dev/null; }
xattr() { python3 -c "import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2]).decode())" "$@" 2>/dev/null; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$GCF_PID/status"; }

[ -x "$GCF_BIN" ] || { echo "scale.sh: no gpucloudfs at '$GCF_BIN' (build it, or set GCF_BIN)" >&2; exit 1; }
T_START=$(now_ms)
say "simulator with $N tasks ($P pages), ${ACTIVE_PCT}% in a non-final status"
mkdir -p "$DIR/sim" "$M"
python3 "$REPO/contrib/cloudsim/cloudsim.py" --state-dir "$DIR/sim" --tasks "$N" \
	--active-percent "$ACTIVE_PCT" >"$DIR/sim.log" 2>&1 &
SIM_PID=$!
wait_for 1200 0.25 test -s "$DIR/sim/ready.json" || { cat "$DIR/sim.log" >&2; exit 1; }
HTTPS=$(jq -r .https_port "$DIR/sim/ready.json")
CTL="http://127.0.0.1:$(jq -r .http_port "$DIR/sim/ready.json")/_sim"
SUMMARY=$(sim GET summary/tencent/tasks/Status)
ACTIVE_Q=$(jq '[.by.RUNNING, .by.STOPPING] | map(. // 0) | add' <<<"$SUMMARY")
NONFINAL=$(jq '[.by.SUBMITTING, .by.PENDING, .by.STARTING, .by.RUNNING, .by.STOPPING] | map(. // 0) | add' <<<"$SUMMARY")

config() { # FILE TTL
	cat >"$1" <<CFG
[gpucloudfs]
ca_file = $(jq -r .ca_file "$DIR/sim/ready.json")
ttl = $2
cache_dir = $CACHE
${SCALE_CONFIG:-}

[tencent]
secret_id = sim-tencent-id
secret_key = sim-tencent-key
region = ap-guangzhou
endpoint = https://127.0.0.1:$HTTPS
CFG
	chmod 600 "$1"
}
mount_it() { # CONFIG: sets GCF_PID, MOUNT_MS
	local t0
	t0=$(now_ms)
	"$GCF_BIN" -c "$1" -f "$M" >>"$DIR/gcf.log" 2>&1 &
	GCF_PID=$!
	wait_for 3000 0.01 is_mounted || { cat "$DIR/gcf.log" >&2; exit 1; }
	wait_for 3000 0.01 stat "$M/tencent" >/dev/null 2>&1
	MOUNT_MS=$(($(now_ms) - t0))
}

# ============================================================ 1. no size cliff
config "$DIR/c.ini" 3600
mount_it "$DIR/c.ini"
sim POST counts/reset >/dev/null

# The sampler: what a person looking would see, every 2 s, until the listing is complete. One
# Python process (no fork per read), each read timed: ms, xattr, its ms, stats.json's
# progress.text, its ms, errors lines "[in progress]", its ms, and stats.json's progress.state
# read after them (the sample during which the fetch completed is the last).
sampler() {
	python3 - "$M" "$DIR/samples.tsv" "$1" <<'PY'
import json, os, sys, time
m, out, t0 = sys.argv[1], sys.argv[2], int(sys.argv[3])
def timed(fn):
    t = time.monotonic()
    try:
        v = fn()
    except OSError as e:
        v = "ERR:" + (e.strerror or str(e))
    except ValueError as e:
        v = "ERR:bad json (%s)" % e
    return v, int((time.monotonic() - t) * 1000)
def xa():
    return os.getxattr(m + "/tencent/tasks", "user.gpucloudfs.progress").decode()
def st():
    with open(m + "/.gpucloudfs/stats.json") as f:
        return json.load(f)["tencent"]["tasks"]["progress"]
def er():
    with open(m + "/.gpucloudfs/errors") as f:
        return sum("[in progress]" in l for l in f)
with open(out, "w") as f:
    while True:
        x, xms = timed(xa)
        s, sms = timed(st)
        e, ems = timed(er)
        now = int(time.time() * 1000) - t0
        text = s.get("text", "-") if isinstance(s, dict) else s
        # read last: a sample during which the fetch ended (some reads before, some after)
        # is the last one, like a sample after it
        after, _ = timed(st)
        state = after.get("state") if isinstance(after, dict) else "?"
        f.write("%d\t%s\t%d\t%s\t%d\t%s\t%d\t%s\n" % (now, x or "-", xms, text, sms, e, ems,
                                                         state))
        f.flush()
        if state == "complete" or now > 1500000:
            break
        time.sleep(2)
PY
}

say "1. listing tencent/tasks (ls until it lists, each within op_timeout ${OP_TIMEOUT} s)"
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
	say "ls #$tries at $(((t - T0) / 1000)) s: $(head -c 120 "$DIR/ls.err" | sed 's/.*: //') after $ms ms"
	[ $(($(now_ms) - T0)) -gt 1200000 ] && { say "gave up after 20 minutes"; break; }
done
LISTED=$(wc -l <"$DIR/ls.out")
wait "$SAMPLER_PID" 2>/dev/null
SAMPLER_PID=
FETCH_S=$(stats progress.elapsed_s)
REQ=$(requests)
THR=$(throttled)
RETRIES=$(stats retries)
PAGES_OK=$(stats pages)
JSON=$(stats json_bytes)
SAMPLES=$(wc -l <"$DIR/samples.tsv")
# readable = the xattr, stats.json's text and the errors line all say "fetching"
FETCHING=$(awk -F'\t' '$2 ~ /^fetching, [0-9,]+ (of |pages)/ && $4 ~ /^fetching/ && $6 > 0' "$DIR/samples.tsv" | wc -l)
X_OK=$(awk -F'\t' '$2 ~ /^fetching/' "$DIR/samples.tsv" | wc -l)
S_OK=$(awk -F'\t' '$4 ~ /^fetching/' "$DIR/samples.tsv" | wc -l)
E_OK=$(awk -F'\t' '$6 > 0' "$DIR/samples.tsv" | wc -l)
SLOW_READ=$(awk -F'\t' '{m = $3; if ($5 > m) m = $5; if ($7 > m) m = $7; if (m > x) x = m} END {print x + 0}' "$DIR/samples.tsv")
say "progress samples (ms; xattr, ms; stats.json text, ms; errors lines in progress, ms; state after), every 5th:"
sed -n '1~5p' "$DIR/samples.tsv" >&2
awk -F'\t' '!($2 ~ /^fetching/ && $4 ~ /^fetching/ && $6 > 0)' "$DIR/samples.tsv" | head -5 |
	sed 's/^/# not readable: /' >&2
RSS_LIST=$(rss_kib)

# ============================================================ 2. memory
say "2. find over the mount, grep -r over every task's files"
t=$(now_ms)
FILES=$(find "$M/tencent" | wc -l)
grep -r -c RUNNING "$M/tencent/tasks" >"$DIR/grep.out" 2>/dev/null
TRAVERSE_S=$(((($(now_ms) - t) + 500) / 1000))
RSS=$(rss_kib)
REQ_AFTER=$(requests)

# ============================================================ 3. kill -9, restart
snap_ready() { [ -n "$(find "$CACHE" -type f -name '*.snap' -size +$((N / 10))k 2>/dev/null)" ]; }
say "3. waiting for the disk store's snapshot, then kill -9 and a restart (ttl = $RTTL)"
SNAP_OK=1
wait_for 1200 0.1 snap_ready || { SNAP_OK=0; say "no snapshot in $CACHE after 120 s"; }
config "$DIR/c2.ini" "$RTTL"
# RESTARTS times (the figure is their median, as in warm-restart.sh); the last one goes on
RESTARTS=${SCALE_RESTARTS:-3}
LS_SAMPLES= ALL_SAME=1 ALL_STALE=1 MOUNT_SAMPLES=
for ((run = 1; run <= RESTARTS; run++)); do
	{
		kill -9 "$GCF_PID"
		wait "$GCF_PID"
	} 2>/dev/null
	GCF_PID=
	fusermount3 -u "$M" 2>/dev/null || fusermount3 -uz "$M"
	sleep 1.1 # the simulator's 1-s rate window empties of the killed daemon's requests
	sim POST counts/reset >/dev/null
	mount_it "$DIR/c2.ini"
	t=$(now_ms)
	ls "$M/tencent/tasks" >"$DIR/ls2.out" 2>"$DIR/ls2.err"
	ms=$(($(now_ms) - t))
	FIRST_COUNT=$(wc -l <"$DIR/ls2.out")
	cmp -s "$DIR/ls.out" "$DIR/ls2.out" || ALL_SAME=0
	STALE_X=$(xattr "$M/tencent/tasks" user.gpucloudfs.stale)
	STALE_S=$(stats stale)
	[ "$STALE_X" = 1 ] && [ "$STALE_S" = true ] || ALL_STALE=0
	LS_SAMPLES="$LS_SAMPLES $ms" MOUNT_SAMPLES="$MOUNT_SAMPLES $MOUNT_MS"
	say "restart $run: mount answered after $MOUNT_MS ms; first ls: $FIRST_COUNT names in $ms ms, stale $STALE_X/$STALE_S"
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
FIRST_LS_MS=$(median $LS_SAMPLES)
# the revalidation: until stats.json says not stale (it never waits for a fetch)
REVAL_MAX_MS=$(((P / RATE * 3 + 60) * 1000))
t=$(now_ms)
REVAL_MS=
while [ $(($(now_ms) - t)) -lt "$REVAL_MAX_MS" ]; do
	if [ "$(stats stale)" = false ]; then
		REVAL_MS=$(($(now_ms) - t))
		break
	fi
	sleep 0.2
done
REVAL_REQ=$(requests)
REVAL_END=$(now_ms)
if [ -n "$REVAL_MS" ]; then REVAL_TXT="$(secs "$REVAL_MS") s after the first ls"; else REVAL_TXT="not within $((REVAL_MAX_MS / 1000)) s"; fi
say "revalidated: $REVAL_TXT, $REVAL_REQ requests"

# ============================================================ 4., 5. refreshes
# refresh LABEL: waits for the TTL, starts a refresh with an `ls`, waits for it to end; sets
# R_REQ (the simulator's DescribeTrainingTasks requests for it), R_MS, R_LS.
refresh() {
	local f0 t1 st
	sim POST counts/reset >/dev/null
	f0=$(stats fetches)
	# the snapshot is past its TTL RTTL s after its fetch ended (+ slack)
	while [ $(($(now_ms) - REVAL_END)) -lt $((RTTL * 1000 + 1500)) ]; do sleep 0.2; done
	t1=$(now_ms)
	ls "$M/tencent/tasks" >"$DIR/ls-$1.out" 2>&1
	R_LS=$(wc -l <"$DIR/ls-$1.out")
	for ((i = 0; i < 3000; i++)); do # bounded: 600 s
		st=$(stats progress.state)
		[ "$(stats fetches)" -gt "$f0" ] && [ "$st" != fetching ] && break
		sleep 0.2
	done
	R_MS=$(($(now_ms) - t1))
	REVAL_END=$(now_ms)
	R_REQ=$(requests)
	say "refresh ($1): $R_REQ requests, ${R_MS} ms, ls listed $R_LS, progress: $(stats progress.text)"
}
say "4. a refresh of unchanged data"
refresh unchanged
U_REQ=$R_REQ U_MS=$R_MS U_LS=$R_LS
U_TARGET=$((3 + (ACTIVE_Q + 49) / 50))

say "5. a refresh with $K changed tasks"
FINAL_STATUSES='["SUCCEED", "FAILED", "STOPPED", "SUBMIT_FAILED"]'
CHANGED=$(sim POST mutate-many/tencent/tasks "{\"count\": $K, \"where\": \"Status\", \"values\": $FINAL_STATUSES, \"set\": {\"Message\": \"scale.sh change\"}}")
ONE=$(jq -r '.ids[0] // empty' <<<"$CHANGED")
refresh changed
C_REQ=$R_REQ C_MS=$R_MS C_LS=$R_LS
C_EXTRA_TARGET=$(((K + 49) / 50 + 1))
SEEN=0
[ -n "$ONE" ] && grep -q "scale.sh change" "$M/tencent/tasks/$ONE/info.json" 2>/dev/null && SEEN=1
NOT_TRUSTED=$(grep -c "not trusted" "$DIR/gcf.log")

# ============================================================ 6. the disk store
DIR_MODE=$(stat -c %a "$CACHE" 2>/dev/null || echo none)
SUBDIRS_OPEN=$(find "$CACHE" -mindepth 1 -type d ! -perm 700 2>/dev/null | wc -l)
NFILES=$(find "$CACHE" -type f 2>/dev/null | wc -l)
FILES_OPEN=$(find "$CACHE" -type f ! -perm 600 2>/dev/null | wc -l)
SECRET_HITS=0
# the key, the id, and what a signed request carries (the Authorization header's
# "TC3-HMAC-SHA256 Credential=..., Signature=...", the X-TC-* headers)
for s in sim-tencent-key sim-tencent-id TC3-HMAC-SHA256 "Credential=" "Signature=" "X-TC-"; do
	n=$(grep -r -a -l -F -- "$s" "$CACHE" 2>/dev/null | wc -l)
	[ "$n" -gt 0 ] && say "'$s' found in $n cache file(s)"
	SECRET_HITS=$((SECRET_HITS + n))
done
TOTAL_S=$((($(now_ms) - T_START) / 1000))

IDEAL=$(awk -v p="$P" -v r="$RATE" 'BEGIN {printf "%.0f", p / r}')
cat <<TABLE

## Issue 10 at $N TI-ONE tasks ($P pages, ${ACTIVE_PCT}% non-final: $NONFINAL, of which RUNNING or STOPPING: $ACTIVE_Q), default config (20 requests/s, op_timeout ${OP_TIMEOUT} s) but ttl = 3600 (phases 1-2) and $RTTL s (after the restart); whole run $TOTAL_S s

| figure | measured | target | |
|---|---|---|---|
| 1. \`ls\` tries until it listed | $tries ($timeouts ETIMEDOUT, $other other errors) | — | |
| 1. slowest \`ls\` | $(secs "$slowest") s | ≤ ${OP_TIMEOUT} s (+ 2 s slack) | $(ok $([ "$slowest" -le $((OP_TIMEOUT * 1000 + 2000)) ] && echo 1)) |
| 1. tasks listed | $LISTED | $N | $(ok $([ "$LISTED" = "$N" ] && echo 1)) |
| 1. listing fetch time (stats.json) | ${FETCH_S} s = $(ratio "$FETCH_S" "$IDEAL")× ideal ${IDEAL} s | ≤ 1.1× | $(ok $(awk -v a="$FETCH_S" -v b="$IDEAL" 'BEGIN {print (a <= 1.1 * b)}')) |
| 1. API requests | $REQ (of which retries $RETRIES) | $P (one per page) | $(ok $([ "$REQ" = "$P" ] && echo 1)) |
| 1. pages fetched twice (pages received − P) | $((PAGES_OK - P)) | 0 | $(ok $([ "$PAGES_OK" = "$P" ] && echo 1)) |
| 1. throttled replies | $THR | 0 | $(ok $([ "$THR" = 0 ] && echo 1)) |
| 1. progress readable while it ran (xattr and stats.json and errors) | $FETCHING of $SAMPLES samples (xattr $X_OK, stats.json $S_OK, errors $E_OK; slowest read $SLOW_READ ms) | every sample but the last | $(ok $([ "$FETCHING" -ge $((SAMPLES - 1)) ] && [ "$SAMPLES" -gt 1 ] && echo 1)) |
| 2. requests made by find + grep -r | $((REQ_AFTER - REQ)) | 0 | $(ok $([ "$REQ_AFTER" = "$REQ" ] && echo 1)) |
| 2. RSS after the listing | $((RSS_LIST / 1024)) MiB | — | |
| 2. RSS after find ($FILES entries) + grep -r (${TRAVERSE_S} s) | $((RSS / 1024)) MiB = $(ratio $((RSS * 1024)) "$JSON")× the JSON ($((JSON / 1048576)) MiB) | ≤ 3× (part 4) | $(ok $([ $((RSS * 1024)) -le $((3 * JSON)) ] && echo 1)) |
| 3. snapshot on disk before kill -9 | $([ "$SNAP_OK" = 1 ] && echo yes || echo no) | yes | $(ok "$SNAP_OK") |
| 3. first \`ls\` after kill -9 + restart, median of $RESTARTS | $(secs "$FIRST_LS_MS") s (ms:$LS_SAMPLES), $FIRST_COUNT names, the same as before every time: $([ "$ALL_SAME" = 1 ] && echo yes || echo no) (mount answered after ms:$MOUNT_SAMPLES) | < 1 s, the same names | $(ok $([ "$FIRST_LS_MS" -lt 1000 ] && [ "$ALL_SAME" = 1 ] && echo 1)) |
| 3. marked stale (xattr / stats.json) every time | $([ "$ALL_STALE" = 1 ] && echo yes || echo "no (last: ${STALE_X:-none} / ${STALE_S:-none})") | 1 / true | $(ok "$ALL_STALE") |
| 3. revalidated after (stale mark gone) | $REVAL_TXT, $REVAL_REQ requests (P + 1 = $((P + 1)) for a full listing dated by its probe) | revalidated | $(ok $([ -n "$REVAL_MS" ] && echo 1)) |
| 4. refresh of unchanged data (TTL): requests | $U_REQ ($(secs "$U_MS") s; ls listed $U_LS) | ≤ 3 + ceil($ACTIVE_Q / 50) = $U_TARGET | $(ok $([ "$U_REQ" -le "$U_TARGET" ] && [ "$U_LS" = "$N" ] && echo 1)) |
| 5. refresh with k = $K changed tasks: requests | $C_REQ = unchanged + $((C_REQ - U_REQ)) ($(secs "$C_MS") s; ls listed $C_LS) | unchanged + ≤ ceil($K / 50) + 1 = $C_EXTRA_TARGET | $(ok $([ $((C_REQ - U_REQ)) -le "$C_EXTRA_TARGET" ] && [ "$C_LS" = "$N" ] && echo 1)) |
| 5. a changed task's info.json shows the change | $([ "$SEEN" = 1 ] && echo yes || echo no) | yes | $(ok "$SEEN") |
| 4-5. incremental refreshes not trusted (log) | $NOT_TRUSTED | 0 | $(ok $([ "$NOT_TRUSTED" = 0 ] && echo 1)) |
| 6. cache directory mode / subdirectories not 0700 | $DIR_MODE / $SUBDIRS_OPEN | 700 / 0 | $(ok $([ "$DIR_MODE" = 700 ] && [ "$SUBDIRS_OPEN" = 0 ] && echo 1)) |
| 6. cache files not 0600 | $FILES_OPEN of $NFILES | 0 | $(ok $([ "$FILES_OPEN" = 0 ] && [ "$NFILES" -gt 0 ] && echo 1)) |
| 6. test secrets (key, id, signature, request headers) in the cache | $SECRET_HITS file hits | 0 | $(ok $([ "$SECRET_HITS" = 0 ] && echo 1)) |
TABLE
