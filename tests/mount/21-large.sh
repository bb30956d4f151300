#!/usr/bin/env bash
# No size cliff: a listing that needs several times op_timeout (1,500 tasks,
# 30 pages at 3 requests/s, op_timeout 2 s) is not bounded by the `ls` that
# started it. That `ls` gets ETIMEDOUT within op_timeout; meanwhile the
# progress is readable (xattr, stats.json, .gpucloudfs/errors); later `ls`
# attempts do not start it over, and once it completes it lists every task
# from memory with exactly one request per page. A mount with prefetch = yes
# is complete before anyone looks, and its first `ls` makes no request.
. "$(dirname "$0")/lib.sh"

TASKS=1500
PAGES=30 # 50 a page
sim_start --tasks $TASKS
write_config "$T_DIR/c.ini" "ttl = 600" "op_timeout = 2" "max_rps = 3"
M=$T_DIR/mnt
gcf_mount "$T_DIR/c.ini" "$M"
sim POST counts/reset >/dev/null

progress() { jq -r ".tencent.tasks.progress.$2" "$1/.gpucloudfs/stats.json"; }

timed ls "$M/tencent/tasks"
note_wait "first ls"
check "first ls of a 10 s listing fails (ETIMEDOUT)" test "$T_RC" != 0
check "... saying it timed out: $(echo "$T_OUT" | head -1)" grep -q "timed out" <<<"$T_OUT"
check "... within op_timeout + slack (${T_MS} ms)" test "$T_MS" -lt 3500

# While the fetch goes on: the xattr, stats.json and the errors file say so.
x=$(xattr "$M/tencent/tasks" user.gpucloudfs.progress)
check "xattr while fetching: '$x'" grep -Eq "^fetching, [0-9]+ of $PAGES pages(, complete in about [0-9]+ s)?$" <<<"$x"
check "the xattr is listed while it is there" sh -c "getfattr -d '$M/tencent/tasks' 2>/dev/null | grep -q user.gpucloudfs.progress"
check_eq "stats.json: fetching" fetching "$(progress "$M" state)"
check_eq "stats.json: pages_total" $PAGES "$(progress "$M" pages_total)"
check "stats.json: pages_done under way ($(progress "$M" pages_done))" test "$(progress "$M" pages_done)" -lt $PAGES
check "stats.json: an ETA ($(progress "$M" eta_s) s)" test "$(progress "$M" eta_s)" != null
check "errors: a progress line" grep -Eq "tencent/tasks: fetching, [0-9]+ of $PAGES pages.*\[in progress\]$" "$M/.gpucloudfs/errors"

# Retrying until it lists: each try answers within op_timeout, none starts over.
tries=0 slowest=0
while :; do
	tries=$((tries + 1))
	timed ls "$M/tencent/tasks"
	[ "$T_MS" -gt "$slowest" ] && slowest=$T_MS
	[ "$T_RC" = 0 ] && break
	[ "$tries" -ge 15 ] && break
	sleep 0.5
done
check "a later ls lists (after $tries tries)" test "$T_RC" = 0
check "every try answered within op_timeout + slack (slowest ${slowest} ms)" test "$slowest" -lt 3500
check_eq "every task listed" $TASKS "$(echo "$T_OUT" | sort -u | wc -l)"
check_eq "one request per page: none fetched twice" $PAGES "$(requests DescribeTrainingTasks)"
check_eq "no request throttled" 0 "$(sim GET counts | jq '.throttled.DescribeTrainingTasks // 0')"
check_eq "stats.json: complete" complete "$(progress "$M" state)"
check_eq "stats.json: objects" $TASKS "$(progress "$M" objects)"
check_eq "the xattr is gone once complete" "" "$(xattr "$M/tencent/tasks" user.gpucloudfs.progress)"
timed ls "$M/tencent/tasks"
check "the next ls is answered from memory (${T_MS} ms)" test "$T_RC" = 0 -a "$T_MS" -lt 1000
check_eq "... with no request" $PAGES "$(requests DescribeTrainingTasks)"

# prefetch = yes: warm without anyone looking.
gcf_umount "$M"
write_config "$T_DIR/p.ini" "ttl = 600" "op_timeout = 2" "max_rps = 3" "prefetch = yes"
sim POST counts/reset >/dev/null
P=$T_DIR/pre
gcf_mount "$T_DIR/p.ini" "$P"
done_yet() { [ "$(progress "$P" state)" = complete ]; }
check "prefetch: tasks complete without a reader (stats.json polled)" wait_for 60 0.5 done_yet
check_eq "prefetch: one request per page" $PAGES "$(requests DescribeTrainingTasks)"
check "prefetch: services fetched too" test "$(requests DescribeModelServiceGroups)" -ge 1
timed ls "$P/tencent/tasks"
check "prefetch: first ls answers at once (${T_MS} ms)" test "$T_RC" = 0 -a "$T_MS" -lt 1000
check_eq "prefetch: it lists every task" $TASKS "$(echo "$T_OUT" | wc -l)"
check_eq "prefetch: the first ls made no request" $PAGES "$(requests DescribeTrainingTasks)"
gcf_finish
