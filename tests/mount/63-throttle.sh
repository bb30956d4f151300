#!/usr/bin/env bash
# Throttling: the cloud's throttle replies (a burst injected as a fault, then
# the simulator's real rate limit set below the documented one) are retried,
# the client rate limit is halved, every object is served, and the number of
# throttled requests stays small. A throttle that never ends: EIO within the
# bound, naming RequestLimitExceeded.
. "$(dirname "$0")/lib.sh"

throttled() { sim GET counts | jq -r --arg a "$1" '.throttled[$a] // 0'; }

BOUND_MS=30000
sim_start --tasks 1234 --services 30 --ctyun-queues 3 --baidu-units 3 --alaya-products 6
M=$T_DIR/mnt
write_config_all "$T_DIR/c.ini" "timeout = 3" "op_timeout = 30" "ttl = 600"
printf '\n[tencent-b]\nprovider = tencent\nsecret_id = sim-tencent-id\nsecret_key = sim-tencent-key\nregion = ap-guangzhou\nendpoint = https://127.0.0.1:%s\n' "$SIM_HTTPS" >>"$T_DIR/c.ini"
gcf_mount "$T_DIR/c.ini" "$M"
E=$M/.gpucloudfs/errors
st=$M/.gpucloudfs/stats.json

# A burst of 3 throttle replies spread over a 25-page listing (each request
# has a 40% chance until 3 were sent).
for burst in spread; do
	clear
	sim POST faults '{"action": "DescribeTrainingTasks", "type": "throttle", "count": 3, "probability": 0.4}' >/dev/null
	timed cat "$M/.gpucloudfs/refresh/tencent/tasks"
	note_wait "burst of 3 RequestLimitExceeded ($burst) in a 25-page listing"
	check "throttle burst ($burst): all 1234 tasks fetched" sh -c "echo '$T_OUT' | grep -q '1234 objects'"
	check "... within op_timeout" test "$T_MS" -le "$BOUND_MS"
	thr=$(throttled DescribeTrainingTasks)
	req=$(requests DescribeTrainingTasks)
	echo "# requests $req, throttled $thr; stats.json: $(jq -c '.tencent.tasks | {retries, throttles, rate_limit_per_s, stale}' "$st")"
	check_eq "... throttled only by the burst (the client provoked none)" 3 "$thr"
	check_eq "... 25 pages + 3 retried" 28 "$req"
	rate=$(jq '.tencent.tasks.rate_limit_per_s' "$st")
	check "... rate limit reduced below 20 ($rate)" test "$rate" -lt 20
	check_eq "... not stale" 0 "$(xattr "$M/tencent/tasks" user.gpucloudfs.stale)"
done
check_eq "stats.json: throttles counted" 3 "$(jq '.tencent.tasks.throttles' "$st")"
check_eq "stats.json: retries counted" 3 "$(jq '.tencent.tasks.retries' "$st")"
check_eq "every task's status readable" 1234 "$(cat "$M"/tencent/tasks/*/status | wc -l)"

# The cloud's real limit lower than the documented one: the client backs off.
# (A second account, tencent-b: its own client rate limit, still at 20/s.)
clear
sim POST limits '{"DescribeTrainingTasks": 6}' >/dev/null
sleep 1.1
timed cat "$M/.gpucloudfs/refresh/tencent-b/tasks"
note_wait "simulator limit 6/s under the client's 20/s"
check "limit 6/s: refresh fetched all 1234" sh -c "echo '$T_OUT' | grep -q '1234 objects'"
thr=$(throttled DescribeTrainingTasks)
req=$(requests DescribeTrainingTasks)
echo "# requests $req, throttled $thr, rate now $(jq '.["tencent-b"].tasks.rate_limit_per_s' "$st")"
check "... the client's rate went down" test "$(jq '.["tencent-b"].tasks.rate_limit_per_s' "$st")" -lt 20
check "... throttled count small (<= 10 of $req)" test "$thr" -le 10
check "... within op_timeout" test "$T_MS" -le "$BOUND_MS"
sim POST limits '{"DescribeTrainingTasks": 20}' >/dev/null

# 429 from CTyun's gateway, a few then success (no documented rate: no limit
# to halve, but the replies are retried).
clear
sim POST faults '{"action": "queue-info-list", "type": "throttle", "count": 2}' >/dev/null
timed ls "$M/ctyun/queues"
check "ctyun 429 x2: all 3 queues" test "$T_RC" = 0 -a "$(echo "$T_OUT" | wc -l)" = 3
check_eq "... 3 requests" 3 "$(requests queue-info-list)"

# A throttle that never ends: EIO within the bound; the mount stays live.
clear
sim POST faults '{"action": "DescribeModelServiceGroups", "type": "throttle"}' >/dev/null
timed ls "$M/tencent/services"
note_wait "persistent RequestLimitExceeded"
check "persistent throttle: EIO" sh -c "echo '$T_OUT' | grep -q 'Input/output error'"
check "... within op_timeout" test "$T_MS" -le "$BOUND_MS"
check_eq "... after 1 + retries requests" 4 "$(requests DescribeModelServiceGroups)"
check "... errors file: RequestLimitExceeded, RequestId, failed" \
	grep -q "tencent: DescribeModelServiceGroups: HTTP 200: RequestLimitExceeded: .*(RequestId [0-9a-f-]\{36\}) \[failed\]" "$E"
echo "# $(grep DescribeModelServiceGroups "$E" | tail -1)"
live "persistent throttle"
echo "# longest wait (throttle): $LONGEST ms, bound $BOUND_MS ms (op_timeout)"
gcf_finish
