#!/usr/bin/env bash
# The request budget: 1,234 tasks cost exactly 25 DescribeTrainingTasks
# requests cold and none warm; every task appears once; the answers are the
# simulator's objects.
. "$(dirname "$0")/lib.sh"

sim_start --tasks 1234
write_config "$T_DIR/c.ini" "ttl = 600"
M=$T_DIR/mnt
gcf_mount "$T_DIR/c.ini" "$M"
sim POST counts/reset >/dev/null

ls -l "$M/tencent/tasks" >"$T_DIR/cold"
check_eq "cold ls -l of 1,234 tasks: 25 requests" 25 "$(requests DescribeTrainingTasks)"
check_eq "cold ls -l: 1,234 lines + total" 1235 "$(wc -l <"$T_DIR/cold")"
ls -l "$M/tencent/tasks" >"$T_DIR/warm"
check_eq "warm ls -l within the TTL: no request" 25 "$(requests DescribeTrainingTasks)"
check "warm listing equals cold listing" cmp -s "$T_DIR/cold" "$T_DIR/warm"
check_eq "no request was throttled" 0 "$(sim GET counts | jq '.throttled.DescribeTrainingTasks // 0')"
check_eq "each task once" 1234 "$(ls "$M/tencent/tasks" | sort -u | wc -l)"
sim GET objects/tencent/tasks >"$T_DIR/tasks.json"
check_eq "names are the simulator's IDs" "$(jq -r '.[].Id' "$T_DIR/tasks.json" | sort | md5sum)" "$(ls "$M/tencent/tasks" | sort | md5sum)"
jq -s 'sort_by(.Id)' "$M"/tencent/tasks/*/info.json >"$T_DIR/mounted.json"
check "every info.json parses to the simulator's object" \
	sh -c "jq -S 'sort_by(.Id)' '$T_DIR/tasks.json' > '$T_DIR/a'; jq -S . '$T_DIR/mounted.json' > '$T_DIR/b'; cmp -s '$T_DIR/a' '$T_DIR/b'"
check_eq "reading every file made no request" 25 "$(requests DescribeTrainingTasks)"
gcf_finish
