#!/usr/bin/env bash
# Faults: a truncated body (Content-Length larger than what is sent, then the
# connection closes) and a malformed one (200 with invalid JSON). A few then
# success: retried and served; persistent: EIO within the bound (or the last
# good snapshot, marked stale); never garbage in the files.
. "$(dirname "$0")/lib.sh"


BOUND_MS=6000
SLACK_MS=1000
sim_start --tasks 120 --services 5 --ctyun-queues 3 --baidu-units 3 --alaya-products 3
M=$T_DIR/mnt
# full_refresh = 0: every refresh is a full listing, whose requests this test counts
write_config_all "$T_DIR/c.ini" "timeout = 2" "op_timeout = 6" "ttl = 1" "full_refresh = 0"
gcf_mount "$T_DIR/c.ini" "$M"
E=$M/.gpucloudfs/errors
st=$M/.gpucloudfs/stats.json
sim GET objects/tencent/tasks | jq -S -c '.[]' | sort >"$T_DIR/tasks.sorted"

for fc in "truncate alaya/products list-for-training-task" "malformed ctyun/queues queue-info-list"; do
	set -- $fc
	f=$1 cold=$2 action=$3
	# Two, then success: the 3-page listing is complete and exact.
	clear
	sleep 1.1
	sim POST faults "{\"action\": \"DescribeTrainingTasks\", \"type\": \"$f\", \"count\": 2}" >/dev/null
	timed ls "$M/tencent/tasks"
	note_wait "2 x $f then success"
	check "2 x $f then success: all 120 tasks" test "$T_RC" = 0 -a "$(echo "$T_OUT" | wc -l)" = 120
	check_eq "... 3 pages + 2 retried" 5 "$(requests DescribeTrainingTasks)"
	check "... tasks.jsonl = the simulator's objects, byte for byte (sorted)" \
		sh -c "jq -S -c . '$M/tencent/tasks.jsonl' | sort | cmp -s - '$T_DIR/tasks.sorted'"
	check_eq "... not stale" 0 "$(xattr "$M/tencent/tasks" user.gpucloudfs.stale)"

	# Persistent, warm collection past its TTL: served stale.
	clear
	sleep 1.1
	sim POST faults "{\"action\": \"DescribeTrainingTasks\", \"type\": \"$f\"}" >/dev/null
	timed ls "$M/tencent/tasks"
	note_wait "persistent $f, warm"
	check "persistent $f, warm: served stale, complete" test "$T_RC" = 0 -a "$(echo "$T_OUT" | wc -l)" = 120
	check "... within the bound" test "$T_MS" -le $((BOUND_MS + SLACK_MS))
	check_eq "... xattr stale = 1" 1 "$(xattr "$M/tencent/tasks" user.gpucloudfs.stale)"
	check_eq "... stats.json stale" true "$(jq '.tencent.tasks.stale' "$st")"
	check "... errors file: served stale" grep -q "tencent: DescribeTrainingTasks: .*\[served stale\]" "$E"
	echo "# $(grep DescribeTrainingTasks "$E" | tail -1)"
	check "... the stale tasks.jsonl is the last good one" \
		sh -c "jq -S -c . '$M/tencent/tasks.jsonl' | sort | cmp -s - '$T_DIR/tasks.sorted'"

	# Persistent, cold collection: EIO.
	sim POST faults "{\"action\": \"$action\", \"type\": \"$f\"}" >/dev/null
	timed ls "$M/$cold"
	note_wait "persistent $f, cold"
	check "persistent $f, cold: EIO" sh -c "echo '$T_OUT' | grep -q 'Input/output error'"
	check "... within the bound" test "$T_MS" -le $((BOUND_MS + SLACK_MS))
	check_eq "... after 1 + retries requests" 4 "$(requests $action)"
	check "... errors file: ${cold%%/*}, failed" grep -q "${cold%%/*}: $action: .*\[failed\]" "$E"
	echo "# $(grep $action "$E" | tail -1)"
	timed ls "$M/baidu/computeunits"
	check "persistent $f: another collection answers at once (${T_MS} ms)" test "$T_RC" = 0 -a "$T_MS" -lt 1500 -a "$(echo "$T_OUT" | wc -l)" = 3
	clear
	sleep 1.1
	check_eq "$f cleared: ${cold%%/*} answers" 3 "$(ls "$M/$cold" | wc -l)"
done
check "the errors file says the reply was not JSON" grep -qi "not JSON" "$E"
check "the errors file says the transfer was cut short" grep -qi "transfer closed\|partial\|remaining\|truncat" "$E"
echo "# longest wait (truncate/malformed): $LONGEST ms, bound $BOUND_MS ms (op_timeout)"
gcf_finish
