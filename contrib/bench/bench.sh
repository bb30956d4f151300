#!/usr/bin/env bash
# contrib/bench/bench.sh - the gpucloudfs performance benchmark (one command).
#
#   bash contrib/bench/bench.sh [--quick]
#
# Runs contrib/cloudsim with N tasks and a latency L on every API request (a floor: the reply
# leaves L after the request came, the simulator's own work included, as the ideal assumes), mounts
# gpucloudfs on it and measures, each figure the median of several runs:
#   1. cold `ls -l tencent/tasks` (fresh mount each run) vs the ideal
#      L + max(ceil((P-1)/C)*L, (P-1-burst)/R);
#   2. warm `find`, `ls -lR`, `grep -rc` over the whole mount vs the same files on tmpfs;
#   3. API requests per workload (simulator counters) vs the minimum;
#   4. daemon RSS after a full traversal, per 1,000 objects and vs the listing's JSON bytes;
#   5. time from launch to a mount that answers;
#   6. the official Node SDK paging the same API (contrib/bench/sdk-list.js) vs gpucloudfs.
# The table goes to stdout and, as Markdown, to $OUT (default /tmp/gpucloudfs-bench/results.md,
# raw samples beside it as results.tsv); progress goes to stderr.
#
# Full run: N in {1000, 10000}, L in {0, 50, 200} ms, under 10 minutes on 2 cores.
# --quick:  N = 1000 only, fewer runs, under 2 minutes.
#
# It builds gpucloudfs (RelWithDebInfo, into $BENCH_DIR/build) and runs `npm ci --prefix
# tests/sdk` when node_modules is missing. Needs what contrib/install-deps.sh installs
# (cmake, libfuse3, python3, node, jq, curl). Everything it starts listens on 127.0.0.1, is
# stopped by PID, and every mount is unmounted in the EXIT trap.
#
# Environment (all optional):
#   OUT                  where the Markdown goes          (default $BENCH_DIR/results.md)
#   BENCH_DIR            work directory                   (default /tmp/gpucloudfs-bench)
#   GCF_BIN              use this binary, do not build
#   BENCH_REV            build this committed revision (git archive), not the working tree
#   BENCH_SIZES          task counts                      (default "1000 10000"; quick "1000")
#   BENCH_LATENCIES      injected latencies in ms         (default "0 50 200")
#   BENCH_RUNS_COLD      cold runs per (N, L)             (default 5 for N <= 1000, else 3;
#                                                          quick 3)
#   BENCH_RUNS_WARM      warm runs per tool               (default 5)
#   BENCH_RUNS_SDK       SDK processes per (N, L)         (default 3)
#   BENCH_SDK_MAX_S      skip the SDK where one sequential listing takes more than this many
#                        seconds by its own floor P*L (default 15: skips N=10000, L=200 ms, whose
#                        six listings alone would take 4 minutes)
#   BENCH_CAT_LATENCY    L at which cold `cat status` is measured (default 50)
#   BENCH_CONCURRENCY    gpucloudfs `concurrency`          (default 4, the built-in default)
#   BENCH_CONFIG         extra [gpucloudfs] config lines, ';'-separated (e.g. "xattr = no")
#   BENCH_KEEP=1         keep the run directory (logs, config) afterwards
set -u -o pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/gpucloudfs-bench}
OUT=${OUT:-$BENCH_DIR/results.md}
QUICK=0
for a in "$@"; do
	case $a in
	--quick) QUICK=1 ;;
	-h | --help)
		sed -n '2,/^set -u/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "bench.sh: unknown argument '$a' (see --help)" >&2
		exit 2
		;;
	esac
done
if [ "$QUICK" = 1 ]; then
	SIZES=${BENCH_SIZES:-1000}
	RUNS_WARM=${BENCH_RUNS_WARM:-5}
else
	SIZES=${BENCH_SIZES:-1000 10000}
	RUNS_WARM=${BENCH_RUNS_WARM:-5}
fi
LATENCIES=${BENCH_LATENCIES:-0 50 200}
RUNS_SDK=${BENCH_RUNS_SDK:-3}
CAT_L=${BENCH_CAT_LATENCY:-50}
SDK_MAX_S=${BENCH_SDK_MAX_S:-15}
CONC=${BENCH_CONCURRENCY:-4}
RPS=20     # the simulator's default limit for DescribeTrainingTasks, and TI-ONE's documented one
PAGE=50    # the largest page DescribeTrainingTasks allows (gpucloudfs uses it)
TTL=3600   # long enough that nothing expires during a run: "cold" always means a fresh mount
SERVICES=30

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}
for c in cmake python3 node npm jq curl fusermount3 awk; do
	command -v "$c" >/dev/null 2>&1 || die "'$c' not found: run bash contrib/install-deps.sh"
done
[ -e /dev/fuse ] || die "/dev/fuse is missing"

mkdir -p "$BENCH_DIR" "$(dirname "$OUT")" || die "cannot create $BENCH_DIR"
RUN=$(mktemp -d "$BENCH_DIR/run.XXXXXX") || die "mktemp failed"
SAMPLES=$RUN/samples.tsv
: >"$SAMPLES"
MNT=$RUN/mnt
SHM=
SIM_PID=
GCF_PID=
MOUNTED=0

cleanup() {
	local rc=$?
	if [ "$MOUNTED" = 1 ] || grep -q " $MNT fuse" /proc/mounts 2>/dev/null; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null
	fi
	if [ -n "$GCF_PID" ]; then
		kill "$GCF_PID" 2>/dev/null
		wait "$GCF_PID" 2>/dev/null
	fi
	if [ -n "$SIM_PID" ]; then
		kill "$SIM_PID" 2>/dev/null
		wait "$SIM_PID" 2>/dev/null
	fi
	if [ -n "$SHM" ] && [ -d "$SHM" ]; then
		chmod -R u+w "$SHM" 2>/dev/null
		rm -rf "$SHM"
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ] || [ "$rc" != 0 ]; then
		log "run directory kept: $RUN"
	else
		rm -rf "$RUN"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build and SDK -----------------------------------------------------------------------
SRC=$REPO
BUILD=$BENCH_DIR/build
COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=false
if [ -n "${BENCH_REV:-}" ]; then
	# A committed revision, exported with git archive: not the working tree's uncommitted edits.
	COMMIT=$(git -C "$REPO" rev-parse --short "$BENCH_REV^{commit}") || die "no revision '$BENCH_REV'"
	SRC=$BENCH_DIR/src-$COMMIT
	BUILD=$BENCH_DIR/build-$COMMIT
	if [ ! -f "$SRC/CMakeLists.txt" ]; then
		rm -rf "$SRC" && mkdir -p "$SRC" &&
			git -C "$REPO" archive "$COMMIT" | tar -x -C "$SRC" || die "git archive $COMMIT failed"
	fi
elif [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no -- fs providers include CMakeLists.txt 2>/dev/null)" ]; then
	DIRTY=true
fi
if [ -z "${GCF_BIN:-}" ]; then
	# A build directory configured from another checkout (BENCH_DIR is shared by every clone on
	# the machine) makes cmake refuse: start that one afresh.
	if [ -f "$BUILD/CMakeCache.txt" ] &&
		[ "$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$BUILD/CMakeCache.txt")" != "$(cd "$SRC" && pwd -P)" ]; then
		log "$BUILD was configured from another source tree: removing it"
		rm -rf "$BUILD"
	fi
	log "building gpucloudfs $COMMIT$([ "$DIRTY" = true ] && echo ' + uncommitted changes') (RelWithDebInfo) in $BUILD"
	cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGCF_TESTS=OFF \
		>"$RUN/build.log" 2>&1 &&
		cmake --build "$BUILD" -j "$(nproc)" >>"$RUN/build.log" 2>&1 ||
		{
			tail -30 "$RUN/build.log" >&2
			die "build failed (log above)"
		}
	GCF_BIN=$BUILD/gpucloudfs
	if [ -n "${BENCH_REV:-}" ]; then # keep only this revision's export and build
		for d in "$BENCH_DIR"/src-* "$BENCH_DIR"/build-*; do
			[ -d "$d" ] && [ "$d" != "$SRC" ] && [ "$d" != "$BUILD" ] && rm -rf "$d"
		done
	fi
else
	COMMIT="$COMMIT (GCF_BIN=$GCF_BIN)"
fi
[ -x "$GCF_BIN" ] || die "no gpucloudfs binary at $GCF_BIN"
if [ ! -d "$REPO/tests/sdk/node_modules/tencentcloud-sdk-nodejs-common" ]; then
	log "installing the Node SDK: npm ci --prefix tests/sdk"
	npm ci --prefix "$REPO/tests/sdk" --no-audit --no-fund >"$RUN/npm.log" 2>&1 ||
		{
			tail -20 "$RUN/npm.log" >&2
			die "npm ci failed"
		}
fi
SDK_VERSION=$(jq -r .version "$REPO/tests/sdk/node_modules/tencentcloud-sdk-nodejs-common/package.json")

# --- helpers -----------------------------------------------------------------------------
# sample SECTION N L METRIC VALUE: one raw measurement.
sample() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$SAMPLES"; }

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }

# timed CMD...: runs CMD with stdout+stderr to $RUN/out.txt; sets T (seconds, or nan on failure).
timed() {
	local t0 t1
	t0=$EPOCHREALTIME
	"$@" >"$RUN/out.txt" 2>&1
	local rc=$?
	t1=$EPOCHREALTIME
	if [ "$rc" = 0 ]; then
		T=$(elapsed "$t0" "$t1")
	else
		T=nan
		log "failed ($rc): $* -- $(head -c 300 "$RUN/out.txt")"
	fi
}

# the simulator's control API
sim() {
	if [ "$1" = GET ]; then
		curl -sf "$SIM_CTL/$2"
	else
		curl -sf -X POST -H 'Content-Type: application/json' --data "${3:-{\}}" "$SIM_CTL/$2"
	fi
}
# counts -> "requests_tasks requests_all throttled_all"
counts() {
	sim GET counts | jq -r '[(.requests.DescribeTrainingTasks // 0), ([.requests[]] | add // 0),
		([.throttled[]] | add // 0)] | @tsv'
}
# Lets the simulator's sliding one-second window drain, so every cold measurement starts with
# the full burst the ideal assumes: waits until 1.1 s after the last API traffic (api_done).
LAST_API=0
api_done() { LAST_API=$EPOCHREALTIME; }
drain() {
	local w
	w=$(awk -v a="$LAST_API" -v b="$EPOCHREALTIME" 'BEGIN { w = 1.1 - (b - a); if (w > 0) printf "%.3f", w }')
	[ -n "$w" ] && sleep "$w"
}

mount_fresh() { # mount_fresh N L: mounts $MNT, records the time until it answers
	local t0 t1 i
	mkdir -p "$MNT"
	t0=$EPOCHREALTIME
	"$GCF_BIN" -c "$RUN/config.ini" -f "$MNT" >>"$RUN/gcf.log" 2>&1 &
	GCF_PID=$!
	MOUNTED=1
	for ((i = 0; i < 10000; i++)); do
		stat -- "$MNT/tencent" >/dev/null 2>&1 && break
		kill -0 "$GCF_PID" 2>/dev/null || die "gpucloudfs exited at start (see $RUN/gcf.log)"
		sleep 0.001
	done
	t1=$EPOCHREALTIME
	stat -- "$MNT/tencent" >/dev/null 2>&1 || die "mount did not answer within 10 s"
	sample mount "$1" "$2" mount_s "$(elapsed "$t0" "$t1")"
}

umount_fresh() {
	local i
	fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$GCF_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill "$GCF_PID" 2>/dev/null
	wait "$GCF_PID" 2>/dev/null
	GCF_PID=
	MOUNTED=0
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$GCF_PID/status"; }

# warm_block SECTION SUBPATH: one untimed pass, then RUNS_WARM interleaved runs of find, ls -lR
# and grep -rc over $MNT$SUBPATH and the tmpfs copy of it; records the API requests they made.
warm_block() {
	local sec=$1 sub=$2 d side r
	log "N=$n: untimed warm-up pass over MOUNT$sub"
	for d in "$MNT$sub" "$SHM/tree$sub"; do
		find "$d" >/dev/null
		ls -lR "$d" >/dev/null
		grep -rc RUNNING "$d" >"$RUN/out.txt"
	done
	sim POST counts/reset >/dev/null
	for ((r = 1; r <= RUNS_WARM; r++)); do
		log "N=$n: warm find / ls -lR / grep -rc over MOUNT$sub, run $r/$RUNS_WARM"
		for side in fuse tmpfs; do
			if [ "$side" = fuse ]; then d=$MNT$sub; else d=$SHM/tree$sub; fi
			timed find "$d"
			sample "$sec" "$n" 0 "find_${side}_s" "$T"
			timed ls -lR "$d"
			sample "$sec" "$n" 0 "lsR_${side}_s" "$T"
			timed grep -rc RUNNING "$d"
			sample "$sec" "$n" 0 "grep_${side}_s" "$T"
		done
	done
	read -r req_t req_all thr < <(counts)
	sample "$sec" "$n" 0 warm_requests "$req_all"
	sample "$sec" "$n" 0 files "$(find "$SHM/tree$sub" -type f | wc -l)"
}

# --- the simulator -----------------------------------------------------------------------
max_n=0
for n in $SIZES; do [ "$n" -gt "$max_n" ] && max_n=$n; done
mkdir -p "$RUN/sim"
python3 "$REPO/contrib/cloudsim/cloudsim.py" --state-dir "$RUN/sim" --host 127.0.0.1 \
	--tasks "$max_n" --services "$SERVICES" >"$RUN/sim.log" 2>&1 &
SIM_PID=$!
for ((i = 0; i < 300; i++)); do
	[ -s "$RUN/sim/ready.json" ] && break
	kill -0 "$SIM_PID" 2>/dev/null || break
	sleep 0.1
done
[ -s "$RUN/sim/ready.json" ] || {
	cat "$RUN/sim.log" >&2
	die "the simulator did not start"
}
SIM_HTTP=$(jq -r .http_port "$RUN/sim/ready.json")
SIM_HTTPS=$(jq -r .https_port "$RUN/sim/ready.json")
SIM_CA=$(jq -r .ca_file "$RUN/sim/ready.json")
SIM_CTL="http://127.0.0.1:$SIM_HTTP/_sim"

# A cold mount is cold: no disk store (warm restarts are contrib/bench/warm-restart.sh's
# figures). Binaries from before the store have no such setting.
NO_STORE=
if grep -q cache_dir "$GCF_BIN"; then
	NO_STORE="cache_dir = none"
fi
cat >"$RUN/config.ini" <<EOF
[gpucloudfs]
ttl = $TTL
concurrency = $CONC
ca_file = $SIM_CA
$NO_STORE
$(printf '%s\n' "${BENCH_CONFIG:-}" | tr ';' '\n')

[tencent]
secret_id = sim-tencent-id
secret_key = sim-tencent-key
region = ap-guangzhou
endpoint = https://127.0.0.1:$SIM_HTTPS
EOF
chmod 600 "$RUN/config.ini"

# The listing's JSON bytes (the P reply bodies as the simulator serializes them: compact
# UTF-8, RequestId a 36-character UUID) and an Id from the middle of the collection.
listing_facts() {
	sim GET objects/tencent/tasks >"$RUN/objects.json" || die "GET /_sim/objects failed"
	python3 - "$RUN/objects.json" "$PAGE" <<'EOF'
import json, sys
objs = json.load(open(sys.argv[1]))
page = int(sys.argv[2])
total = 0
for i in range(0, max(len(objs), 1), page):
    body = {"Response": {"TrainingTaskSet": objs[i:i + page], "TotalCount": len(objs),
                         "RequestId": "00000000-0000-0000-0000-000000000000"}}
    total += len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
print(total, objs[len(objs) // 2]["Id"])
EOF
}

# --- the measurements --------------------------------------------------------------------
t_start=$EPOCHREALTIME
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "run directory $RUN; sizes: $SIZES; latencies: $LATENCIES ms; concurrency $CONC"
for n in $SIZES; do
	sim POST reset "{\"tasks\": $n, \"services\": $SERVICES}" >/dev/null || die "reset failed"
	read -r json_bytes mid_id < <(listing_facts)
	[ -n "$mid_id" ] || die "could not read the task list"
	if [ -n "${BENCH_RUNS_COLD:-}" ]; then
		runs_cold=$BENCH_RUNS_COLD
	elif [ "$n" -le 1000 ] && [ "$QUICK" = 0 ]; then
		runs_cold=5
	else
		runs_cold=3
	fi

	for l in $LATENCIES; do
		sim POST faults/clear >/dev/null
		if [ "$l" -gt 0 ]; then
			sim POST faults "{\"action\": \"*\", \"type\": \"latency\", \"latency_ms\": $l, \"floor\": true}" >/dev/null ||
				die "cannot inject latency"
		fi

		# 1. cold ls -l on a fresh mount, then warm ls -l on the same mount
		for ((r = 1; r <= runs_cold; r++)); do
			log "N=$n L=${l}ms: cold ls -l, run $r/$runs_cold"
			mount_fresh "$n" "$l"
			drain
			sim POST counts/reset >/dev/null
			timed ls -l "$MNT/tencent/tasks"
			api_done
			sample cold "$n" "$l" ls_s "$T"
			read -r req_t req_all thr < <(counts)
			sample cold "$n" "$l" requests "$req_t"
			sample cold "$n" "$l" throttled "$thr"
			# the daemon's own account of the fetch (reading stats.json asks no API)
			jq -r '.tencent.tasks.last_fetch_duration_ms // empty' "$MNT/.gpucloudfs/stats.json" \
				>"$RUN/fetch_ms.txt" 2>/dev/null &&
				[ -s "$RUN/fetch_ms.txt" ] &&
				sample cold "$n" "$l" fetch_s "$(awk '{ print $1 / 1000 }' "$RUN/fetch_ms.txt")"
			sample cold "$n" "$l" rss_listed_kb "$(rss_kb)"
			timed ls -l "$MNT/tencent/tasks"
			sample cold "$n" "$l" warm_ls_s "$T"
			umount_fresh
		done

		# 3. cold cat of one task's status (one latency is enough: the count does not depend on it)
		if [ "$l" = "$CAT_L" ]; then
			for ((r = 1; r <= 3; r++)); do
				log "N=$n L=${l}ms: cold cat status, run $r/3"
				mount_fresh "$n" "$l"
				drain
				sim POST counts/reset >/dev/null
				timed cat "$MNT/tencent/tasks/$mid_id/status"
				api_done
				sample cat "$n" "$l" cat_s "$T"
				read -r req_t req_all thr < <(counts)
				sample cat "$n" "$l" requests "$req_all"
				umount_fresh
			done
		fi

		# 6. the SDK way: fresh node process, one cold and one repeated listing. Skipped when
		# one sequential listing alone would take longer than SDK_MAX_S (P*L): that is its
		# cost, predictable, and it would not fit the time budget.
		est=$(((n + PAGE - 1) / PAGE * l / 1000))
		if [ "$est" -gt "$SDK_MAX_S" ]; then
			log "N=$n L=${l}ms: SDK listing skipped (P*L = ${est} s per listing > BENCH_SDK_MAX_S=$SDK_MAX_S)"
			sample sdkskip "$n" "$l" est_listing_s "$est"
		fi
		for ((r = 1; r <= RUNS_SDK && est <= SDK_MAX_S; r++)); do
			log "N=$n L=${l}ms: SDK listing, run $r/$RUNS_SDK"
			drain
			sim POST counts/reset >/dev/null
			timed node "$REPO/contrib/bench/sdk-list.js" --ready "$RUN/sim/ready.json" \
				--repeat 1 --rps "$RPS" --limit "$PAGE" --t0 "$EPOCHREALTIME"
			api_done
			if [ "$T" != nan ]; then
				tail -1 "$RUN/out.txt" >"$RUN/sdk.json"
				sample sdk "$n" "$l" cold_process_s "$(jq -r .cold_from_launch_s "$RUN/sdk.json")"
				sample sdk "$n" "$l" cold_listing_s "$(jq -r .cold_s "$RUN/sdk.json")"
				sample sdk "$n" "$l" repeated_s "$(jq -r '.repeated_s[0]' "$RUN/sdk.json")"
				read -r req_t req_all thr < <(counts)
				sample sdk "$n" "$l" requests_per_listing "$(awk -v a="$req_t" 'BEGIN { print a / 2 }')"
			fi
		done
	done
	sim POST faults/clear >/dev/null

	# 2, 3, 4. warm traversals vs tmpfs, their requests, RSS (no latency: nothing is fetched)
	log "N=$n: full copy of the mount to tmpfs"
	mount_fresh "$n" 0
	sample warm "$n" 0 rss0_kb "$(rss_kb)"
	sample warm "$n" 0 json_bytes "$json_bytes"
	sample warm "$n" 0 service_pages "$(((SERVICES + 99) / 100))"
	SHM=$(mktemp -d /dev/shm/gpucloudfs-bench.XXXXXX) || die "no tmpfs at /dev/shm"
	drain
	sim POST counts/reset >/dev/null
	timed cp -r "$MNT/." "$SHM/tree"
	api_done
	[ "$T" != nan ] || die "cp -r of the mount failed"
	read -r req_t req_all thr < <(counts)
	sample warm "$n" 0 copy_requests "$req_all"
	# First tencent/ alone (every collection, without .gpucloudfs/: its refresh files refetch
	# when read), then the whole mount, as asked. Section warmconn / warm.
	warm_block warmconn /tencent
	sample warm "$n" 0 rss_conn_kb "$(rss_kb)"
	warm_block warm ""
	sample warm "$n" 0 rss_kb "$(rss_kb)"
	umount_fresh
	chmod -R u+w "$SHM" 2>/dev/null
	rm -rf "$SHM"
	SHM=
done
t_end=$EPOCHREALTIME
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the report --------------------------------------------------------------------------
cp "$SAMPLES" "${OUT%.md}.tsv"
jq -n --arg commit "$COMMIT" --argjson dirty "$DIRTY" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	--argjson cpus "$(nproc)" --arg libfuse "$(pkg-config --modversion fuse3 2>/dev/null || echo '?')" \
	--argjson concurrency "$CONC" --argjson rps "$RPS" --argjson page_size "$PAGE" \
	--argjson ttl "$TTL" --arg extra "${BENCH_CONFIG:-}" --argjson quick "$QUICK" --arg samples "${OUT%.md}.tsv" \
	--arg run_dir "$RUN" --arg sdk_version "$SDK_VERSION" \
	--arg load "$LOAD_START at the start, $LOAD_END at the end" \
	'{commit: $commit, dirty: $dirty, date: $date, cpus: $cpus, libfuse: $libfuse,
	  concurrency: $concurrency, rps: $rps, page_size: $page_size, ttl: $ttl,
	  quick: ($quick == 1), samples: $samples, run_dir: $run_dir, sdk_version: $sdk_version,
	  load: $load, extra_config: $extra}' \
	>"$RUN/meta.json"
python3 "$REPO/contrib/bench/report.py" "$SAMPLES" "$RUN/meta.json" >"$OUT" || die "report failed"
printf '\nBenchmark wall time: %s s (measurements only; build excluded).\n' \
	"$(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.0f", b - a }')" >>"$OUT"
cat "$OUT"
log "written to $OUT"
