#!/usr/bin/env bash
# Faults: latency below and beyond the request timeout, and a hang. The mount
# stays live (other collections answer at once), the failing operation ends
# within op_timeout with ETIMEDOUT or EIO, the error is in .gpucloudfs/errors,
# and a collection seen before is served stale (xattr, stats.json).
. "$(dirname "$0")/lib.sh"

BOUND_MS=6000   # op_timeout
SLACK_MS=1000
sim_start --tasks 40 --services 5 --ctyun-queues 3 --baidu-units 3 --alaya-products 6
M=$T_DIR/mnt
write_config_all "$T_DIR/c.ini" "timeout = 2" "op_timeout = 6" "ttl = 1" "connect_timeout = 2"
gcf_mount "$T_DIR/c.ini" "$M"
E=$M/.gpucloudfs/errors
st=$M/.gpucloudfs/stats.json

# Latency below the timeout: served, fresh, just later.
sim POST faults '{"action": "DescribeTrainingTasks", "type": "latency", "latency_ms": 700, "count": 1}' >/dev/null
timed ls "$M/tencent/tasks"
check "latency 0.7 s < timeout: all 40 tasks" test "$T_RC" = 0 -a "$(echo "$T_OUT" | wc -l)" = 40
check "... after the latency (${T_MS} ms)" test "$T_MS" -ge 700 -a "$T_MS" -lt 2000
check_eq "... not stale" 0 "$(xattr "$M/tencent/tasks" user.gpucloudfs.stale)"

# Latency beyond the timeout on a cold collection: nothing to serve.
sim POST faults '{"action": "DescribeModelServiceGroups", "type": "latency", "latency_ms": 4000}' >/dev/null
ls "$M/tencent/services" >"$T_DIR/lat.out" 2>&1 &
bg=$!
sleep 0.3
live "latency beyond the timeout"
t0=$(date +%s%N)
wait "$bg"
rc=$?
T_MS=$((($(date +%s%N) - t0) / 1000000 + 300))
note_wait "latency 4 s > timeout 2 s, cold services"
check "latency beyond the timeout: ls fails" test "$rc" -ne 0
check "... with ETIMEDOUT or EIO" grep -q "Connection timed out\|Input/output error" "$T_DIR/lat.out"
check "... within op_timeout" test "$T_MS" -le $((BOUND_MS + SLACK_MS))
check "... errors file: services, timed out, failed" grep -qi "tencent: DescribeModelServiceGroups: .*\(timed out\|timeout\|deadline\).*\[failed\]" "$E"
echo "# $(grep DescribeModelServiceGroups "$E" | tail -1)"
echo "# ls said: $(cat "$T_DIR/lat.out")"
sim POST faults/clear >/dev/null

# A hang on a warm collection past its TTL: served stale after the bound.
sleep 1.2
sim POST counts/reset >/dev/null
sim POST faults '{"action": "DescribeTrainingTasks", "type": "hang"}' >/dev/null
ls "$M/tencent/tasks" >"$T_DIR/hang.out" 2>&1 &
bg=$!
sleep 0.3
live "hang (warm collection)"
check "cat of a hung collection's neighbour (services) is not blocked" sh -c "timeout 3 ls '$M/tencent/services' >/dev/null 2>&1; test \$? -ne 124"
t0=$(date +%s%N)
wait "$bg"
rc=$?
T_MS=$((($(date +%s%N) - t0) / 1000000 + 300))
note_wait "hang, warm tasks (served stale)"
check "hang on a warm collection: ls succeeds (stale)" test "$rc" = 0 -a "$(wc -l <"$T_DIR/hang.out")" = 40
# refresh_wait (default 2 s): a slow refresh holds readers of the old listing that long only
check "... after refresh_wait, not op_timeout (${T_MS} ms)" test "$T_MS" -ge 1900 -a "$T_MS" -le $((2000 + SLACK_MS))
check_eq "... xattr stale = 1" 1 "$(xattr "$M/tencent/tasks" user.gpucloudfs.stale)"
check_eq "... stats.json stale" true "$(jq '.tencent.tasks.stale' "$st")"
check "... stats.json counts slow_refresh_serves" test "$(jq '.tencent.tasks.slow_refresh_serves' "$st")" -ge 1
timed ls "$M/tencent/tasks"
check "... another ls while the refresh hangs: at once (${T_MS} ms)" test "$T_RC" = 0 -a "$T_MS" -lt 1000
# the refresh itself ends at op_timeout, and says so
wait_for 100 0.1 grep -qi "tencent: DescribeTrainingTasks: .*\[served stale\]" "$E"
check "... errors file: tasks, served stale" grep -qi "tencent: DescribeTrainingTasks: .*\[served stale\]" "$E"
echo "# $(grep DescribeTrainingTasks "$E" | tail -1)"
n=$(requests DescribeTrainingTasks)
check "... retried, boundedly (requests: $n)" test "$n" -ge 2 -a "$n" -le 4

# A hang on a cold collection: ETIMEDOUT, within the bound.
sim POST faults '{"action": "DescribeComputeUnits", "type": "hang"}' >/dev/null
timed ls "$M/baidu/computeunits"
note_wait "hang, cold baidu"
check "hang on a cold collection: ls fails with ETIMEDOUT" sh -c "echo '$T_OUT' | grep -q 'Connection timed out'"
check "... within op_timeout" test "$T_MS" -le $((BOUND_MS + SLACK_MS))
check "... errors file: baidu, failed" grep -q "baidu: DescribeComputeUnits: .*\[failed\]" "$E"
live "after the hangs"

# The fault goes: fresh data again.
sim POST faults/clear >/dev/null
sleep 1.1
timed ls "$M/tencent/tasks"
check "fault cleared: fresh listing" test "$T_RC" = 0 -a "$(echo "$T_OUT" | wc -l)" = 40
check_eq "... not stale any more" 0 "$(xattr "$M/tencent/tasks" user.gpucloudfs.stale)"
check_eq "... baidu answers" 3 "$(ls "$M/baidu/computeunits" | wc -l)"
echo "# longest wait (latency/hang): $LONGEST ms, bound $BOUND_MS ms (op_timeout) + ${SLACK_MS} ms slack"
gcf_finish
