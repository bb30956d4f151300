# tests/mount/lib.sh - shared by the mount tests: start the simulator, write
# a config, mount gpucloudfs, assert, and always clean up (unmount, stop by
# PID) even when a test fails. Source it; call gcf_finish at the end.
#
# Environment: GCF_BIN (the built binary), GCF_SRC (the source tree).
set -u

GCF_SRC=${GCF_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
GCF_BIN=${GCF_BIN:-$GCF_SRC/build/gpucloudfs}
T_DIR=$(mktemp -d /tmp/gcf-mount.XXXXXX)
T_PASS=0
T_FAIL=0
T_SIM_PID=
T_GCF_PIDS=()
T_MOUNTS=()
# The disk store (cache_dir) is never the real ~/.cache: the default one is
# under T_DIR, and gcf_mount gives each mount a store of its own (-o
# cache_dir), so that a remount starts cold as before, unless the config
# names a cache_dir (tests/mount/22-warm-restart.sh).
export XDG_CACHE_HOME=$T_DIR/xdg-cache

t_cleanup() {
	local m p
	for m in "${T_MOUNTS[@]}"; do
		fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null
	done
	for p in "${T_GCF_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	if [ -n "$T_SIM_PID" ]; then
		kill "$T_SIM_PID" 2>/dev/null
		wait "$T_SIM_PID" 2>/dev/null
	fi
	rm -rf "$T_DIR"
}
trap t_cleanup EXIT

# pass/fail bookkeeping: check "what" command args...
check() {
	local what=$1
	shift
	if "$@"; then
		T_PASS=$((T_PASS + 1))
		echo "ok - $what"
	else
		T_FAIL=$((T_FAIL + 1))
		echo "FAIL - $what"
	fi
}

# check_eq "what" expected actual
check_eq() {
	if [ "$2" = "$3" ]; then
		T_PASS=$((T_PASS + 1))
		echo "ok - $1"
	else
		T_FAIL=$((T_FAIL + 1))
		echo "FAIL - $1: expected '$2', got '$3'"
	fi
}

# timed cmd...: runs it; T_OUT (stdout+stderr), T_RC, T_MS (wall time in ms).
timed() {
	local t0=$(date +%s%N)
	T_OUT=$("$@" 2>&1)
	T_RC=$?
	T_MS=$((($(date +%s%N) - t0) / 1000000))
}
# note_wait WHAT: prints T_MS and keeps the longest in LONGEST.
LONGEST=0
note_wait() { [ "$T_MS" -gt "$LONGEST" ] && LONGEST=$T_MS; echo "# $1: ${T_MS} ms"; }
# xattr PATH NAME: the value of an extended attribute (nothing when absent).
xattr() { python3 -c "import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2]).decode())" "$@" 2>/dev/null; }
# live WHAT: another collection (alaya/products, 6 objects in the fault tests'
# simulator) answers at once (< 1.5 s) and complete, whatever the faulty one does.
live() {
	timed ls "$M/alaya/products"
	check "$1: another collection answers at once (${T_MS} ms)" test "$T_RC" = 0 -a "$T_MS" -lt 1500 -a "$(echo "$T_OUT" | wc -l)" = 6
}

# clear: the simulator's faults and counters back to nothing.
clear() { sim POST faults/clear >/dev/null; sim POST counts/reset >/dev/null; }

gcf_finish() {
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
}

# Polls a command until it succeeds: wait_for TRIES INTERVAL cmd...
wait_for() {
	local tries=$1 interval=$2 i
	shift 2
	for ((i = 0; i < tries; i++)); do
		"$@" && return 0
		sleep "$interval"
	done
	return 1
}

# sim_start [simulator args...]: starts contrib/cloudsim on 127.0.0.1.
sim_start() {
	mkdir -p "$T_DIR/sim"
	python3 "$GCF_SRC/contrib/cloudsim/cloudsim.py" --state-dir "$T_DIR/sim" "$@" \
		>"$T_DIR/sim.log" 2>&1 &
	T_SIM_PID=$!
	if ! wait_for 150 0.1 test -s "$T_DIR/sim/ready.json"; then
		echo "simulator did not start:"
		cat "$T_DIR/sim.log"
		exit 1
	fi
	SIM_HTTP=$(jq -r .http_port "$T_DIR/sim/ready.json")
	SIM_HTTPS=$(jq -r .https_port "$T_DIR/sim/ready.json")
	SIM_CA=$(jq -r .ca_file "$T_DIR/sim/ready.json")
	SIM_CTL="http://127.0.0.1:$SIM_HTTP/_sim"
}

# sim GET|POST path [json]: the control API.
sim() {
	if [ "$1" = GET ]; then
		curl -sf "$SIM_CTL/$2"
	else
		curl -sf -X POST -H 'Content-Type: application/json' --data "${3:-{\}}" "$SIM_CTL/$2"
	fi
}

# requests ACTION: how many requests the simulator received for ACTION.
requests() {
	sim GET counts | jq -r --arg a "$1" '.requests[$a] // 0'
}

# write_config FILE [extra lines for [gpucloudfs]] : a config for the simulator
# (Tencent only; write_config_all adds the other three clouds).
write_config() {
	local f=$1
	shift
	{
		echo "[gpucloudfs]"
		echo "ca_file = $SIM_CA"
		for l in "$@"; do echo "$l"; done
		echo
		echo "[tencent]"
		echo "secret_id = ${TENCENT_ID:-sim-tencent-id}"
		echo "secret_key = ${TENCENT_KEY:-sim-tencent-key}"
		echo "region = ap-guangzhou"
		echo "endpoint = https://127.0.0.1:$SIM_HTTPS"
	} >"$f"
	chmod 600 "$f"
}

# write_config_all FILE [extra lines]: all four clouds of the simulator.
write_config_all() {
	local f=$1
	write_config "$@"
	cat >>"$f" <<CFG

[ctyun]
access_key = ${CTYUN_AK:-sim-ctyun-ak}
secret_key = ${CTYUN_SK:-sim-ctyun-sk}
region_id = 200000001852
endpoint = ${CTYUN_ENDPOINT:-https://127.0.0.1:$SIM_HTTPS}

[baidu]
access_key = ${BAIDU_AK:-sim-baidu-ak}
secret_key = ${BAIDU_SK:-sim-baidu-sk}
endpoint = ${BAIDU_ENDPOINT:-https://127.0.0.1:$SIM_HTTPS}

[alaya]
api_key = ${ALAYA_KEY:-sim-alaya-key}
endpoint = ${ALAYA_ENDPOINT:-https://127.0.0.1:$SIM_HTTPS}
CFG
}

# same_json "what" FILE_A FILE_B: the two JSON documents are equal (sorted keys).
same_json() {
	jq -S . "$2" >"$T_DIR/same.a" && jq -S . "$3" >"$T_DIR/same.b" && cmp -s "$T_DIR/same.a" "$T_DIR/same.b"
}

is_mounted() {
	grep -q " $1 fuse.gpucloudfs " /proc/mounts
}

# gcf_mount CONFIG MOUNTPOINT [extra args]: mounts in the foreground, in the
# background of this script; logs to MOUNTPOINT.log.
gcf_mount() {
	local cfg=$1 mnt=$2
	shift 2
	mkdir -p "$mnt"
	grep -q '^cache_dir' "$cfg" || set -- -o "cache_dir=$T_DIR/store.${#T_MOUNTS[@]}" "$@"
	"$GCF_BIN" -c "$cfg" -f "$@" "$mnt" >"$mnt.log" 2>&1 &
	T_GCF_PIDS+=($!)
	T_MOUNTS+=("$mnt")
	if ! wait_for 100 0.1 is_mounted "$mnt"; then
		echo "mount did not come up:"
		cat "$mnt.log"
		exit 1
	fi
}

gcf_umount() {
	fusermount3 -u "$1"
	wait_for 50 0.1 sh -c "! grep -q ' $1 fuse.gpucloudfs ' /proc/mounts"
}
