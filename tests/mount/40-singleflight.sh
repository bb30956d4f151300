#!/usr/bin/env bash
# Single-flight: 8 parallel readers of a cold collection cause exactly one
# request per page (read from the simulator's counters).
. "$(dirname "$0")/lib.sh"

sim_start --tasks 20 --services 250
write_config "$T_DIR/c.ini" "ttl = 600"
M=$T_DIR/mnt
gcf_mount "$T_DIR/c.ini" "$M"
# Slow pages, so that the 8 readers surely overlap the one fetch.
sim POST faults '{"action": "DescribeModelServiceGroups", "type": "latency", "latency_ms": 300}' >/dev/null
sim POST counts/reset >/dev/null

pids=()
for i in 1 2 3 4 5 6 7 8; do
	ls "$M/tencent/services" >"$T_DIR/out.$i" 2>&1 &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
check "all 8 readers succeeded" test "$rc" = 0
check_eq "250 service groups at 100 a page: 3 requests for 8 readers" 3 "$(requests DescribeModelServiceGroups)"
same=1
for i in 2 3 4 5 6 7 8; do cmp -s "$T_DIR/out.1" "$T_DIR/out.$i" || same=0; done
check "all 8 readers saw the same listing" test "$same" = 1
check_eq "the listing is complete" 250 "$(wc -l <"$T_DIR/out.1")"

# The same for lookups of one object's file in a cold collection (tasks).
sim POST faults/clear >/dev/null
sim POST faults '{"action": "DescribeTrainingTasks", "type": "latency", "latency_ms": 300}' >/dev/null
id=$(sim GET objects/tencent/tasks | jq -r '.[3].Id')
pids=()
for i in 1 2 3 4 5 6 7 8; do
	cat "$M/tencent/tasks/$id/status" >"$T_DIR/st.$i" &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
check "8 parallel cats succeeded" test "$rc" = 0
check_eq "8 parallel cats of a cold collection: 1 request" 1 "$(requests DescribeTrainingTasks)"
gcf_finish
