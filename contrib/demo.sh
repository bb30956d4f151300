#!/usr/bin/env bash
# The demo: builds gpucloudfs, starts the bundled cloud simulator on
# 127.0.0.1 (HTTPS with its own CA; no credentials needed), mounts it and
# shows ls, cat, grep -r and jq at work.
#
#   bash contrib/demo.sh          # interactive: leaves the mount up to explore
#   bash contrib/demo.sh --stop   # unmounts and stops the simulator
#
# Non-interactive runs (no terminal on stdin) clean up at the end.
# Everything lives in $GCF_DEMO_DIR (default /tmp/gpucloudfs-demo).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
dir=${GCF_DEMO_DIR:-/tmp/gpucloudfs-demo}
mnt=$dir/clouds

stop() {
	if grep -q " $mnt fuse.gpucloudfs " /proc/mounts 2>/dev/null; then
		fusermount3 -u "$mnt" && echo "unmounted $mnt"
	fi
	for f in "$dir/gpucloudfs.pid" "$dir/sim/ready.json"; do
		[ -f "$f" ] || continue
		pid=$(grep -o '[0-9]\+' "$f" | head -1)
		# only if that pid is still ours (a stale file may name a reused pid)
		[ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q "gpucloudfs\|cloudsim" &&
			kill "$pid" 2>/dev/null && echo "stopped pid $pid"
	done
	rm -f "$dir/gpucloudfs.pid"
}
if [ "${1:-}" = --stop ]; then
	stop
	exit 0
fi
stop >/dev/null 2>&1 || true

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; bash -c "$*" || true; }

# A non-interactive run cleans up even when a step fails.
[ -t 0 ] || trap stop EXIT

echo "== building"
cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$src/build" -j "$(nproc 2>/dev/null || echo 2)" --target gpucloudfs >/dev/null

echo "== starting the cloud simulator (127.0.0.1 only)"
rm -rf "$dir/sim"
mkdir -p "$dir/sim" "$mnt"
python3 "$src/contrib/cloudsim/cloudsim.py" --state-dir "$dir/sim" --tasks 1234 --services 30 \
	--ctyun-queues 25 --baidu-units 12 --alaya-products 10 >"$dir/sim.log" 2>&1 &
for _ in $(seq 150); do [ -s "$dir/sim/ready.json" ] && break; sleep 0.1; done
[ -s "$dir/sim/ready.json" ] || { cat "$dir/sim.log"; exit 1; }
https=$(jq -r .https_port "$dir/sim/ready.json")
ca=$(jq -r .ca_file "$dir/sim/ready.json")

cat >"$dir/config.ini" <<INI
[gpucloudfs]
ttl = 60
ca_file = $ca

[tencent]
; the simulator's obviously fake keys
secret_id = sim-tencent-id
secret_key = sim-tencent-key
region = ap-guangzhou
endpoint = https://127.0.0.1:$https

[ctyun]
access_key = sim-ctyun-ak
secret_key = sim-ctyun-sk
region_id = 200000001852
endpoint = https://127.0.0.1:$https

[baidu]
access_key = sim-baidu-ak
secret_key = sim-baidu-sk
endpoint = https://127.0.0.1:$https

[alaya]
api_key = sim-alaya-key
endpoint = https://127.0.0.1:$https
INI
chmod 600 "$dir/config.ini"

echo "== mounting on $mnt"
"$src/build/gpucloudfs" -c "$dir/config.ini" -f "$mnt" >"$dir/gpucloudfs.log" 2>&1 &
echo $! >"$dir/gpucloudfs.pid"
for _ in $(seq 100); do grep -q " $mnt fuse.gpucloudfs " /proc/mounts && break; sleep 0.1; done
grep -q " $mnt fuse.gpucloudfs " /proc/mounts || { cat "$dir/gpucloudfs.log"; exit 1; }

cd "$mnt"
run "ls"
run "ls *"
run "time ls tencent/tasks | wc -l          # cold: 25 paged API calls"
run "time ls tencent/tasks | wc -l          # warm: from the cache"
t=$(ls tencent/tasks | sed -n 1p)
run "ls -l tencent/tasks/$t"
run "cat tencent/tasks/$t/status tencent/tasks/$t/name"
run "grep -rlx RUNNING tencent/tasks --include=status | head -5"
run "grep -rlx RUNNING tencent/tasks --include=status | wc -l"
run "jq -r .Status tencent/tasks/*/info.json | sort | uniq -c"
run "jq -r '.ServiceGroupName + \"  \" + .Status' tencent/services/*/info.json | head -5"
run "cat ctyun/queues/*/quota.json | jq -r '.[] | .gpuName + \" \" + (.allocatedGpu|tostring) + \"/\" + (.gpu|tostring)' | head -5"
run "grep -l -i -x running */*/*/status | cut -d/ -f1,2 | sort | uniq -c     # what is running, on every cloud"
run "jq -r .gpuName alaya/products/*/info.json | sort | uniq -c"
run "ls baidu/computeunits            # two instances share one instanceId: both shown (~2)"
run "cat .gpucloudfs/version"
cd - >/dev/null

if [ -t 0 ]; then
	cat <<MSG

The mount stays up: explore $mnt with ls, cat, grep and jq.
To unmount and stop the simulator:
    fusermount3 -u $mnt          # unmount
    bash contrib/demo.sh --stop  # unmount and stop the simulator
MSG
else
	echo
	echo "== cleaning up (non-interactive run): fusermount3 -u $mnt"
fi
