#!/usr/bin/env bash
# Baidu Qianfan compute units over HTTPS: bce-auth-v1, one unpaged call,
# repeated instanceIds both shown, HTTP-status errors.
. "$(dirname "$0")/lib.sh"

sim_start --tasks 1 --baidu-units 12
write_config_all "$T_DIR/c.ini"
M=$T_DIR/mnt
gcf_mount "$T_DIR/c.ini" "$M"
sim GET objects/baidu/computeunits >"$T_DIR/u.json"
sim POST counts/reset >/dev/null

n=$(jq length "$T_DIR/u.json")
check_eq "every unit shown, repeats included" "$n" "$(ls "$M/baidu/computeunits" | wc -l)"
check_eq "one request, no paging" 1 "$(requests DescribeComputeUnits)"
dup=$(jq -r '[.[].instanceId] | group_by(.) | map(select(length > 1)) | .[0][0]' "$T_DIR/u.json")
check "the repeated instanceId has two directories" test -d "$M/baidu/computeunits/$dup" -a -d "$M/baidu/computeunits/$dup~2"
check_eq "the two are different objects" 2 \
	"$(cat "$M/baidu/computeunits/$dup/start_time" "$M/baidu/computeunits/$dup~2/start_time" | sort -u | wc -l)"
check_eq "jq over every info.json = the simulator's objects" \
	"$(jq -c 'sort_by(.instanceId, .startTime)' "$T_DIR/u.json" | md5sum)" \
	"$(jq -s -c 'sort_by(.instanceId, .startTime)' "$M"/baidu/computeunits/*/info.json | md5sum)"
u=$(jq -r '.[0].instanceId' "$T_DIR/u.json")
check_eq "status" "$(jq -r '.[0].status' "$T_DIR/u.json")" "$(cat "$M/baidu/computeunits/$u/status")"
check_eq "mtime = startTime" "$(date -d "$(jq -r '.[0].startTime' "$T_DIR/u.json")" +%s)" "$(stat -c %Y "$M/baidu/computeunits/$u")"
gcf_umount "$M"

BAIDU_SK=wrong-sk write_config_all "$T_DIR/bad.ini"
gcf_mount "$T_DIR/bad.ini" "$M"
check "wrong secret: EACCES" sh -c "ls '$M/baidu/computeunits' 2>&1 | grep -q 'Permission denied'"
check "wrong secret: SignatureDoesNotMatch with HTTP status and requestId" \
	grep -q "baidu: DescribeComputeUnits: HTTP 40[0-9]: SignatureDoesNotMatch: .*(RequestId " "$M/.gpucloudfs/errors"
gcf_finish
