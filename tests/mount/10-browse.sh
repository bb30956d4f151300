#!/usr/bin/env bash
# ls, stat, cat, grep -r, find and jq on a real mount of the simulated TI-ONE.
. "$(dirname "$0")/lib.sh"

sim_start --tasks 120 --services 7
write_config "$T_DIR/c.ini"
M=$T_DIR/mnt
gcf_mount "$T_DIR/c.ini" "$M"
sim GET objects/tencent/tasks >"$T_DIR/tasks.json"
sim GET objects/tencent/services >"$T_DIR/services.json"

check_eq "root lists the connection (control dir hidden)" "tencent" "$(ls "$M")"
check "ls -a shows .gpucloudfs" sh -c "ls -a '$M' | grep -qx .gpucloudfs"
check_eq "connection lists its kinds and their .jsonl indexes" "services services.jsonl tasks tasks.jsonl" "$(ls "$M/tencent" | tr '\n' ' ' | sed 's/ $//')"
check_eq "every task listed once" "$(jq -r '.[].Id' "$T_DIR/tasks.json" | sort | tr '\n' ' ')" \
	"$(ls "$M/tencent/tasks" | sort | tr '\n' ' ')"
check_eq "every service group listed once" "$(jq -r '.[].ServiceGroupId' "$T_DIR/services.json" | sort | tr '\n' ' ')" \
	"$(ls "$M/tencent/services" | sort | tr '\n' ' ')"

id=$(jq -r '.[5].Id' "$T_DIR/tasks.json")
d=$M/tencent/tasks/$id
check_eq "cat status = the simulator's Status" "$(jq -r '.[5].Status' "$T_DIR/tasks.json")" "$(cat "$d/status")"
check_eq "cat name (UTF-8) = Name" "$(jq -r '.[5].Name' "$T_DIR/tasks.json")" "$(cat "$d/name")"
check "info.json parses to the simulator's object" \
	sh -c "jq -S . '$d/info.json' > '$T_DIR/a' && jq -S '.[5]' '$T_DIR/tasks.json' > '$T_DIR/b' && cmp -s '$T_DIR/a' '$T_DIR/b'"
check_eq "stat size is exact (info.json)" "$(cat "$d/info.json" | wc -c)" "$(stat -c %s "$d/info.json")"
check_eq "stat size is exact (status)" "$(cat "$d/status" | wc -c)" "$(stat -c %s "$d/status")"
check_eq "files are 0444" "444" "$(stat -c %a "$d/status")"
check_eq "directories are 0555" "555" "$(stat -c %a "$d")"
upd=$(jq -r '.[5].UpdateTime' "$T_DIR/tasks.json")
check_eq "mtime = UpdateTime" "$(date -d "$upd" +%s)" "$(stat -c %Y "$d/status")"
null_field=$(jq -r '.[5] | to_entries[] | select(.value == null) | .key' "$T_DIR/tasks.json" | head -1)
if [ -n "$null_field" ]; then
	snake=$(echo "$null_field" | sed -E 's/([a-z0-9])([A-Z])/\1_\2/g' | tr 'A-Z' 'a-z')
	check "null field $null_field has no file" test ! -e "$d/$snake"
fi
check "nested object has no scalar file" test ! -e "$d/resource_config_infos"
# Every non-null scalar field has a snake_case file holding its value.
bad=0
while IFS=$'\t' read -r key val; do
	snake=$(echo "$key" | sed -E 's/([a-z0-9])([A-Z])/\1_\2/g; s/([A-Z]+)([A-Z][a-z])/\1_\2/g' | tr 'A-Z' 'a-z')
	[ "$(cat "$d/$snake" 2>/dev/null)" = "$val" ] || { echo "  $key -> $snake differs"; bad=1; }
done < <(jq -r '.[5] | to_entries[] | select(.value | type == "string" or type == "number" or type == "boolean") | [.key, (.value | tostring)] | @tsv' "$T_DIR/tasks.json")
check "every scalar field is a snake_case file with its value" test "$bad" = 0

running=$(jq -r '[.[] | select(.Status == "RUNNING")] | length' "$T_DIR/tasks.json")
check_eq "grep -rl RUNNING finds every running task" "$running" \
	"$(grep -rlx RUNNING "$M/tencent/tasks" --include=status | wc -l)"
check_eq "find -name status counts every task" "120" "$(find "$M/tencent/tasks" -name status | wc -l)"
check_eq "jq over every info.json" "$(jq -r '.[].Id' "$T_DIR/tasks.json" | sort | tr '\n' ' ')" \
	"$(jq -r .Id "$M"/tencent/tasks/*/info.json | sort | tr '\n' ' ')"
check_eq "services: status" "$(jq -r '.[0].Status' "$T_DIR/services.json")" \
	"$(cat "$M/tencent/services/$(jq -r '.[0].ServiceGroupId' "$T_DIR/services.json")/status")"
check "missing object is ENOENT" sh -c "! cat '$M/tencent/tasks/train-does-not-exist/status' 2>'$T_DIR/e' && grep -q 'No such file' '$T_DIR/e'"
check "version file" grep -q '^gpucloudfs ' "$M/.gpucloudfs/version"
check "config file redacts the secret" sh -c "grep -q 'secret_key = <redacted>' '$M/.gpucloudfs/config' && ! grep -q sim-tencent-key '$M/.gpucloudfs/config'"
gcf_finish
