#!/usr/bin/env bash
# One mount, four clouds, one question: grep -l over every status file and
# jq over every info.json of all four clouds at once, checked against the
# simulator's data.
. "$(dirname "$0")/lib.sh"

sim_start --tasks 80 --services 6 --ctyun-queues 30 --baidu-units 12 --alaya-products 10
write_config_all "$T_DIR/c.ini"
M=$T_DIR/mnt
gcf_mount "$T_DIR/c.ini" "$M"
for c in tencent/tasks tencent/services ctyun/queues baidu/computeunits alaya/products; do
	sim GET "objects/$c" >"$T_DIR/$(echo "$c" | tr / _).json"
done

check_eq "four clouds side by side" "alaya baidu ctyun tencent" "$(ls "$M" | tr '\n' ' ' | sed 's/ $//')"

# Expected: every object whose status says running (any case), per cloud directory.
expect=$(
	{
		jq -r '.[] | select(.Status | ascii_downcase == "running") | "tencent/tasks/" + .Id' "$T_DIR/tencent_tasks.json"
		jq -r '.[] | select((.Status // "") | ascii_downcase == "running") | "tencent/services/" + .ServiceGroupId' "$T_DIR/tencent_services.json"
		jq -r '.[] | select(.status | ascii_downcase == "running") | "ctyun/queues/" + .queueID' "$T_DIR/ctyun_queues.json"
		jq -r '.[] | select(.status | ascii_downcase == "running") | "baidu/computeunits/" + .instanceId' "$T_DIR/baidu_computeunits.json"
	} | sort -u
)
got=$(cd "$M" && grep -l -i -x running */*/*/status | sed 's|/status$||' | sed 's|~[0-9]*$||' | sort -u)
check "grep -l -i running over */*/*/status of all clouds = the simulator's running objects" test "$expect" = "$got"
check "... and there are some on at least three clouds" \
	test "$(echo "$got" | cut -d/ -f1 | sort -u | wc -l)" -ge 3

total=$(jq -s 'map(length) | add' "$T_DIR"/*_*.json)
check_eq "jq over every info.json of every cloud: one object per file" "$total" \
	"$(jq -c . "$M"/*/*/*/info.json | wc -l)"
check_eq "the same objects as the simulator holds" \
	"$(jq -c '.[]' "$T_DIR"/*_*.json | jq -S -c . | sort | md5sum)" \
	"$(jq -S -c . "$M"/*/*/*/info.json | sort | md5sum)"
gcf_finish
