#!/usr/bin/env bash
# TTL: a change in the cloud is not seen before the TTL runs out and is seen
# after it, with one refetch.
. "$(dirname "$0")/lib.sh"

TTL=3
sim_start --tasks 30
write_config "$T_DIR/c.ini" "ttl = $TTL"
M=$T_DIR/mnt
gcf_mount "$T_DIR/c.ini" "$M"
id=$(sim GET objects/tencent/tasks | jq -r '.[0].Id')
f=$M/tencent/tasks/$id/status

old=$(cat "$f")
t0=$(date +%s.%N)
new=FAILED
[ "$old" = FAILED ] && new=SUCCEED
sim POST mutate/tencent/tasks "{\"id\": \"$id\", \"set\": {\"Status\": \"$new\"}}" >/dev/null
n0=$(requests DescribeTrainingTasks)
check_eq "before the TTL: the old value" "$old" "$(cat "$f")"
check_eq "before the TTL: no request" "$n0" "$(requests DescribeTrainingTasks)"

# After the TTL the next access refetches: poll (bounded) until the new value shows.
seen() { [ "$(cat "$f")" = "$new" ]; }
check "after the TTL: the new value" wait_for 100 0.1 seen
t1=$(date +%s.%N)
check "the new value did not show before the TTL" awk -v a="$t0" -v b="$t1" -v t="$TTL" 'BEGIN { exit !(b - a >= t - 0.5) }'
check_eq "the refresh was one listing (1 page)" $((n0 + 1)) "$(requests DescribeTrainingTasks)"
check_eq "size follows the new value" "$(cat "$f" | wc -c)" "$(stat -c %s "$f")"
check "info.json follows too" sh -c "jq -r .Status '$M/tencent/tasks/$id/info.json' | grep -qx $new"

# An object deleted in the cloud disappears after the TTL; a new one appears.
sim POST delete/tencent/tasks "{\"id\": \"$id\"}" >/dev/null
gone() { [ ! -e "$M/tencent/tasks/$id" ]; }
check "deleted object disappears after the TTL" wait_for 100 0.1 gone
check_eq "listing shrank by one" 29 "$(ls "$M/tencent/tasks" | wc -l)"
gcf_finish
