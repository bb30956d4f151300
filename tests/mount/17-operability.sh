#!/usr/bin/env bash
# The control directory, refresh from the shell, .jsonl indexes, filters as
# paths, one request for one object, and the freshness xattrs.
. "$(dirname "$0")/lib.sh"

sim_start --tasks 120 --services 5
write_config "$T_DIR/c.ini" "ttl = 600"
M=$T_DIR/mnt
gcf_mount "$T_DIR/c.ini" "$M"
sim GET objects/tencent/tasks >"$T_DIR/tasks.json"

# One request for one object (the API's Id filter), not the whole listing.
sim POST counts/reset >/dev/null
id=$(jq -r '.[42].Id' "$T_DIR/tasks.json")
check_eq "cold cat of one object's status" "$(jq -r '.[42].Status' "$T_DIR/tasks.json")" "$(cat "$M/tencent/tasks/$id/status")"
check_eq "... cost one request" 1 "$(requests DescribeTrainingTasks)"
check "a cold lookup of a missing ID is ENOENT" sh -c "! cat '$M/tencent/tasks/train-000000000000000000/status' 2>/dev/null"
check_eq "... after one more request" 2 "$(requests DescribeTrainingTasks)"
check_eq "the later listing is complete" 120 "$(ls "$M/tencent/tasks" | wc -l)"
check_eq "... and cost the 3 pages" 5 "$(requests DescribeTrainingTasks)"
check_eq "the object looked up alone is the listed one" "$(jq -S '.[42]' "$T_DIR/tasks.json")" "$(jq -S . "$M/tencent/tasks/$id/info.json")"

# stats.json moves as requests are made.
st=$M/.gpucloudfs/stats.json
check "stats.json parses" sh -c "jq -e . '$st' >/dev/null"
check_eq "stats: API requests of tasks" 5 "$(jq '.tencent.tasks.api_requests' "$st")"
check_eq "stats: objects of tasks" 120 "$(jq '.tencent.tasks.objects' "$st")"
before=$(jq '.tencent.tasks.cache_hits' "$st")
ls "$M/tencent/tasks" >/dev/null
ls "$M/tencent/tasks" >/dev/null
check "stats: cache hits moved" test "$(jq '.tencent.tasks.cache_hits' "$st")" -gt "$before"
check "stats: p50 latency is a number" sh -c "jq -e '.tencent.tasks.latency_p50_ms | type == \"number\"' '$st' >/dev/null"
check_eq "stats: rate limit in force" 20 "$(jq '.tencent.tasks.rate_limit_per_s' "$st")"

# .jsonl: one object per line, the same as the info.json files.
check_eq "tasks.jsonl has one line per task" 120 "$(wc -l <"$M/tencent/tasks.jsonl")"
check_eq "tasks.jsonl size is exact" "$(cat "$M/tencent/tasks.jsonl" | wc -c)" "$(stat -c %s "$M/tencent/tasks.jsonl")"
check_eq "tasks.jsonl lines = the info.json files" "$(jq -S -c . "$M"/tencent/tasks/*/info.json | sort | md5sum)" \
	"$(jq -S -c . "$M/tencent/tasks.jsonl" | sort | md5sum)"
running=$(jq '[.[] | select(.Status == "RUNNING")] | length' "$T_DIR/tasks.json")
check_eq "jq select over tasks.jsonl" "$running" "$(jq -c 'select(.Status=="RUNNING")' "$M/tencent/tasks.jsonl" | wc -l)"

# Filters as paths: the cloud's own filter, its own cache entry.
check "filters are discoverable by ls -a" sh -c "ls -a '$M/tencent/tasks' | grep -qx .by-status"
n=$(requests DescribeTrainingTasks)
check_eq "by-status/RUNNING lists what Filters Name=Status returns" \
	"$(jq -r '.[] | select(.Status == "RUNNING") | .Id' "$T_DIR/tasks.json" | sort | md5sum)" \
	"$(ls "$M/tencent/tasks/.by-status/RUNNING" | sort | md5sum)"
check_eq "... with its own request(s)" $((n + 1)) "$(requests DescribeTrainingTasks)"
check_eq "by-name with a Chinese value" \
	"$(jq -r --arg n "$(jq -r '.[3].Name' "$T_DIR/tasks.json")" '[.[] | select(.Name == $n)] | length' "$T_DIR/tasks.json")" \
	"$(ls "$M/tencent/tasks/.by-name/$(jq -r '.[3].Name' "$T_DIR/tasks.json")" | wc -l)"
check "an unknown filter is ENOENT" sh -c "! ls '$M/tencent/tasks/.by-colour' 2>/dev/null"
check "find does not walk the filtered views" sh -c "! find '$M/tencent/tasks' -path '*/.by-status/*' | grep -q ."

# Refresh from the shell: synchronous, then the new value is there.
new=FAILED
[ "$(jq -r '.[42].Status' "$T_DIR/tasks.json")" = FAILED ] && new=SUCCEED
sim POST mutate/tencent/tasks "{\"id\": \"$id\", \"set\": {\"Status\": \"$new\"}}" >/dev/null
check_eq "within the TTL: the old value" "$(jq -r '.[42].Status' "$T_DIR/tasks.json")" "$(cat "$M/tencent/tasks/$id/status")"
check "refresh prints what it fetched" sh -c "cat '$M/.gpucloudfs/refresh/tencent/tasks' | grep -q '^tencent/tasks: 120 objects'"
check_eq "after the refresh: the new value at once" "$new" "$(cat "$M/tencent/tasks/$id/status")"
check_eq "... in info.json too" "$new" "$(jq -r .Status "$M/tencent/tasks/$id/info.json")"
check_eq "... and in tasks.jsonl" "$new" "$(jq -r --arg i "$id" 'select(.Id == $i) | .Status' "$M/tencent/tasks.jsonl")"

# Freshness as extended attributes.
check_eq "xattr stale = 0" 0 "$(getfattr --only-values -n user.gpucloudfs.stale "$M/tencent/tasks" 2>/dev/null || python3 -c "import os,sys; sys.stdout.write(os.getxattr('$M/tencent/tasks','user.gpucloudfs.stale').decode())")"
xerr() { python3 -c "import os,sys
try: os.getxattr(sys.argv[1], sys.argv[2])
except OSError as e: print(e.errno)" "$@"; }
# Other namespaces are unsupported, not merely absent: on EOPNOTSUPP ls -l stops asking
# every file for security.selinux (on ENODATA it would ask each one: ls -lR 7x slower).
check_eq "security.* is EOPNOTSUPP" 95 "$(xerr "$M/tencent/tasks/$id/status" security.selinux)"
check_eq "... on directories too" 95 "$(xerr "$M/tencent/tasks" security.selinux)"
check_eq "a user.* name not ours is ENODATA" 61 "$(xerr "$M/tencent/tasks" user.other)"
sim POST faults '{"action": "DescribeTrainingTasks", "type": "cloud_error", "code": "InternalError"}' >/dev/null
check "a failed refresh fails the refresh read" sh -c "! cat '$M/.gpucloudfs/refresh/tencent/tasks' 2>/dev/null"
check "... while the listing is served stale" test "$(ls "$M/tencent/tasks" | wc -l)" = 120
xs=$(python3 -c "import os; print(os.getxattr('$M/tencent/tasks', 'user.gpucloudfs.stale').decode())")
check_eq "xattr stale = 1 after a failed refresh" 1 "$xs"
check "xattr error names InternalError" sh -c "python3 -c \"import os; print(os.getxattr('$M/tencent/tasks', 'user.gpucloudfs.error').decode())\" | grep -q InternalError"
check_eq "stats: stale" true "$(jq '.tencent.tasks.stale' "$st")"
check "errors file says served stale" grep -q "InternalError.*\[served stale\]" "$M/.gpucloudfs/errors"
sim POST faults/clear >/dev/null

# Retries are recorded: what was done, and that the data came through.
sim POST faults '{"action": "DescribeModelServiceGroups", "type": "http_status", "status": 503, "count": 2}' >/dev/null
check_eq "two 503s, then success: the listing is served" 5 "$(ls "$M/tencent/services" | wc -l)"
check_eq "... and the errors file says it retried twice" 2 "$(grep -c 'DescribeModelServiceGroups: HTTP 503: .*\[retried in [0-9.]* s, attempt [23] of 4\]' "$M/.gpucloudfs/errors")"
check_eq "... and stats count the retries" 2 "$(jq '.tencent.services.retries' "$st")"
sim POST faults/clear >/dev/null
ls "$M/tencent/tasks" >/dev/null 2>&1
n=$(requests DescribeTrainingTasks)
grep -rc RUNNING "$M" >/dev/null 2>&1
check_eq "grep -r over the whole mount refreshes nothing (refresh files are not listed)" "$n" "$(requests DescribeTrainingTasks)"
gcf_finish
