#!/usr/bin/env bash
# CTyun queues over HTTPS: EOP-signed pageNo/pageSize paging, quota.json,
# Beijing-time mtimes, statusCode errors.
. "$(dirname "$0")/lib.sh"

sim_start --tasks 1 --ctyun-queues 250
write_config_all "$T_DIR/c.ini"
M=$T_DIR/mnt
gcf_mount "$T_DIR/c.ini" "$M"
sim GET objects/ctyun/queues >"$T_DIR/q.json"
sim POST counts/reset >/dev/null

check_eq "every queue listed once" "$(jq -r '.[].queueID' "$T_DIR/q.json" | sort | md5sum)" \
	"$(ls "$M/ctyun/queues" | sort | md5sum)"
check_eq "250 queues at 100 a page: 3 requests" 3 "$(requests queue-info-list)"
ls -l "$M/ctyun/queues" >/dev/null
check_eq "warm: no request" 3 "$(requests queue-info-list)"
q=$(jq -r '.[7].queueID' "$T_DIR/q.json")
d=$M/ctyun/queues/$q
check "info.json = the simulator's object" same_json x "$d/info.json" <(jq '.[7]' "$T_DIR/q.json")
check "quota.json = its queueQuota" same_json x "$d/quota.json" <(jq '.[7].queueQuota' "$T_DIR/q.json")
check_eq "status" "$(jq -r '.[7].status' "$T_DIR/q.json")" "$(cat "$d/status")"
check_eq "queue_id (queueID in snake case)" "$q" "$(cat "$d/queue_id")"
ct=$(jq -r '.[7].createTime' "$T_DIR/q.json")
check_eq "mtime = createTime read as Beijing time" "$(date -d "$ct +0800" +%s)" "$(stat -c %Y "$d")"
check "grep -l over every status" sh -c "grep -l . '$M'/ctyun/queues/*/status | wc -l | grep -qx 250"
gcf_umount "$M"

CTYUN_SK=wrong-sk write_config_all "$T_DIR/bad.ini"
gcf_mount "$T_DIR/bad.ini" "$M"
check "wrong secret: EACCES" sh -c "ls '$M/ctyun/queues' 2>&1 | grep -q 'Permission denied'"
check "wrong secret: error names the cloud's code" grep -q "ctyun: queue-info-list: HTTP 401: Eop.Auth" "$M/.gpucloudfs/errors"
sim POST faults '{"action": "queue-info-list", "type": "cloud_error", "code": "Cwai.Api.InternalServerError", "count": 10}' >/dev/null
gcf_umount "$M"
gcf_mount "$T_DIR/c.ini" "$M"
check "business failure (statusCode 900): EIO" sh -c "ls '$M/ctyun/queues' 2>&1 | grep -q 'Input/output error'"
check "business failure: errorCode in the errors file" grep -q "Cwai.Api.InternalServerError" "$M/.gpucloudfs/errors"
gcf_finish
