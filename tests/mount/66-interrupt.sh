#!/usr/bin/env bash
# An interrupted ls (SIGINT while its collection hangs) does not wedge the
# mount: another collection answers at once, the hung collection's next ls
# returns within op_timeout, and after the fault the collection is served.
. "$(dirname "$0")/lib.sh"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

BOUND_MS=6000
SLACK_MS=1000
sim_start --tasks 40 --services 5 --ctyun-queues 3 --baidu-units 3 --alaya-products 6
M=$T_DIR/mnt
# timeout > op_timeout: a hung request lasts until the operation's deadline.
write_config_all "$T_DIR/c.ini" "timeout = 20" "op_timeout = 6" "ttl = 1"
gcf_mount "$T_DIR/c.ini" "$M"
E=$M/.gpucloudfs/errors
sim POST faults '{"action": "DescribeTrainingTasks", "type": "hang"}' >/dev/null

# One ls, interrupted.
t_start=$(now_ms)
ls "$M/tencent/tasks" >/dev/null 2>&1 &
p=$!
sleep 0.5
kill -INT "$p"
t_int=$(now_ms)
check "the interrupted ls ends within op_timeout" wait_for 70 0.1 sh -c "! kill -0 $p 2>/dev/null"
wait "$p" 2>/dev/null
echo "# interrupted ls ended $(($(now_ms) - t_int)) ms after SIGINT ($(($(now_ms) - t_start)) ms after it started)"
live "after one interrupted ls"

# Eight at once on the same hung collection, all interrupted, plus one on
# another hung collection. (After the 1 s during which a failure is repeated
# without asking the cloud again.)
sleep 1.1
sim POST faults '{"action": "DescribeComputeUnits", "type": "hang"}' >/dev/null
pids=()
for i in 1 2 3 4 5 6 7 8; do
	ls "$M/tencent/tasks" >/dev/null 2>&1 &
	pids+=($!)
done
cat "$M/baidu/computeunits/x/status" >/dev/null 2>&1 &
pids+=($!)
sleep 0.5
alive=0
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
check_eq "9 readers wait on the hung collections" 9 "$alive"
t_int=$(now_ms)
kill -INT "${pids[@]}"
live "while 9 interrupted readers wait"
check_eq "... the control files answer" "gpucloudfs" "$(cut -d' ' -f1 "$M/.gpucloudfs/version")"
timed ls "$M/tencent/tasks"
echo "# next ls of the hung collection: ${T_MS} ms: $T_OUT"
check "the hung collection's next ls returns within op_timeout (${T_MS} ms)" test "$T_MS" -le $((BOUND_MS + SLACK_MS))
check "... with ETIMEDOUT" sh -c "echo '$T_OUT' | grep -q 'Connection timed out'"
ok=1
for p in "${pids[@]}"; do
	wait_for 70 0.1 sh -c "! kill -0 $p 2>/dev/null" || ok=0
	wait "$p" 2>/dev/null
done
check "all the interrupted readers ended" test "$ok" = 1
echo "# the last interrupted reader ended $(($(now_ms) - t_int)) ms after SIGINT"
check "errors file: tasks timed out" grep -qi "tencent: DescribeTrainingTasks: .*\(timed out\|timeout\|deadline\)" "$E"
echo "# $(grep DescribeTrainingTasks "$E" | tail -1)"

# The fault goes: the same collection answers, fresh and complete.
sim POST faults/clear >/dev/null
sleep 1.1
timed ls "$M/tencent/tasks"
check "fault cleared: all 40 tasks (${T_MS} ms)" test "$T_RC" = 0 -a "$(echo "$T_OUT" | wc -l)" = 40
check_eq "... baidu answers" 3 "$(ls "$M/baidu/computeunits" | wc -l)"
check "the daemon is alive" kill -0 "${T_GCF_PIDS[0]}"
# A reader killed while the cloud hangs returns at once (the kernel sends
# INTERRUPT; the wait ends with EINTR), and its fetch goes on for the next
# reader instead of being started again. (Background jobs of a script ignore
# SIGINT, so SIGTERM stands for the Ctrl-C here.)
sim POST faults/clear >/dev/null
ls "$M/tencent/services" >/dev/null 2>&1
kill -HUP "${T_GCF_PIDS[0]}" # every snapshot dropped: the next ls fetches
sim POST counts/reset >/dev/null
sim POST faults '{"action": "DescribeModelServiceGroups", "type": "hang"}' >/dev/null
ls "$M/tencent/services" >/dev/null 2>&1 &
victim=$!
check "the reader's fetch reached the hung cloud" wait_for 50 0.1 sh -c "[ \$(curl -sf '$SIM_CTL/counts' | jq '.requests.DescribeModelServiceGroups // 0') -ge 1 ]"
check "... and the reader is still waiting" kill -0 "$victim"
t0=$EPOCHREALTIME
kill -TERM "$victim"
wait "$victim" 2>/dev/null
t1=$EPOCHREALTIME
ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
echo "# a reader killed during a hang ended $ms ms after the signal"
check "a killed reader ends within 1 s, not at op_timeout ($ms ms)" test "$ms" -lt 1000
ls "$M/tencent/services" >/dev/null 2>&1 &
next=$!
sim POST faults/clear >/dev/null
wait "$next"
check_eq "the next reader joined the same fetch: 1 request" 1 "$(requests DescribeModelServiceGroups)"
gcf_finish
