#!/usr/bin/env bash
# Per-cloud isolation: a cloud that fails (bad key, unreachable, a hang)
# affects only its own directory; the others keep answering at full speed.
. "$(dirname "$0")/lib.sh"

sim_start --tasks 40 --ctyun-queues 20 --baidu-units 8 --alaya-products 6
M=$T_DIR/mnt
BAIDU_SK=wrong-sk CTYUN_ENDPOINT=https://127.0.0.1:1 write_config_all "$T_DIR/c.ini" "timeout = 2" "op_timeout = 6" "ttl = 0"
gcf_mount "$T_DIR/c.ini" "$M"
# Alaya's list hangs (the connection stays open, no answer).
sim POST faults '{"action": "list-for-training-task", "type": "hang"}' >/dev/null

ls "$M/alaya/products" >/dev/null 2>&1 &
hung=$!
check "bad key: baidu alone says EACCES" sh -c "ls '$M/baidu/computeunits' 2>&1 | grep -q 'Permission denied'"
check "unreachable: ctyun alone says EIO" sh -c "ls '$M/ctyun/queues' 2>&1 | grep -q 'Input/output error'"

# While alaya hangs and the others fail, tencent answers every time, quickly.
slow=0
for i in 1 2 3 4 5; do
	t0=$(date +%s%N)
	n=$(ls "$M/tencent/tasks" | wc -l)
	t1=$(date +%s%N)
	[ "$n" = 40 ] || slow=1
	[ $(((t1 - t0) / 1000000)) -lt 1500 ] || slow=1
done
check "tencent lists all its tasks in < 1.5 s each while the others fail (ttl 0: fresh fetch each time)" test "$slow" = 0
check "the hung alaya listing is still waiting meanwhile" kill -0 "$hung"
wait "$hung"
check "the hung listing ended within op_timeout (EIO or ETIMEDOUT)" test $? -ne 0
check "alaya's error names the timeout" grep -qi "alaya: list-for-training-task: .*\(timed\|timeout\|deadline\)" "$M/.gpucloudfs/errors"
gcf_finish
