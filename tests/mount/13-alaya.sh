#!/usr/bin/env bash
# Alaya products over HTTPS: Bearer key, numbers as strings kept as sent,
# gpuName "-" or null, business status in the body.
. "$(dirname "$0")/lib.sh"

sim_start --tasks 1 --alaya-products 10
write_config_all "$T_DIR/c.ini"
M=$T_DIR/mnt
gcf_mount "$T_DIR/c.ini" "$M"
sim GET objects/alaya/products >"$T_DIR/p.json"
sim POST counts/reset >/dev/null

check_eq "every product listed" "$(jq -r '.[].productCode' "$T_DIR/p.json" | sort | md5sum)" \
	"$(ls "$M/alaya/products" | sort | md5sum)"
check_eq "one request" 1 "$(requests list-for-training-task)"
p=$(jq -r '.[0].productCode' "$T_DIR/p.json")
check "info.json = the simulator's object" same_json x "$M/alaya/products/$p/info.json" <(jq '.[0]' "$T_DIR/p.json")
check_eq "cpu_cores as the cloud sent it (a string)" "$(jq -r '.[0].cpuCores' "$T_DIR/p.json")" "$(cat "$M/alaya/products/$p/cpu_cores")"
check "cpuCores stays a string in info.json" sh -c "jq -e '.cpuCores | type == \"string\"' '$M/alaya/products/$p/info.json' >/dev/null"
nullgpu=$(jq -r '[.[] | select(.gpuName == null)][0].productCode // empty' "$T_DIR/p.json")
if [ -n "$nullgpu" ]; then
	check "gpuName null: no gpu_name file" test ! -e "$M/alaya/products/$nullgpu/gpu_name"
fi
dash=$(jq -r '[.[] | select(.gpuName == "-")][0].productCode // empty' "$T_DIR/p.json")
if [ -n "$dash" ]; then
	check_eq "gpuName \"-\" rendered as sent" "-" "$(cat "$M/alaya/products/$dash/gpu_name")"
fi
gcf_umount "$M"

ALAYA_KEY=wrong-key write_config_all "$T_DIR/bad.ini"
gcf_mount "$T_DIR/bad.ini" "$M"
check "wrong key: EACCES" sh -c "ls '$M/alaya/products' 2>&1 | grep -q 'Permission denied'"
check "wrong key: the error says Forbidden" grep -qi "alaya: list-for-training-task: HTTP 403: .*forbidden" "$M/.gpucloudfs/errors"
check "the key is not in the log" sh -c "! grep -q wrong-key '$M.log'"
gcf_finish
