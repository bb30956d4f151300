#!/usr/bin/env bash
# Auth failures are answered at once and never retried: an expired signature
# (the simulator's clock 10 min ahead: AuthFailure.SignatureExpire), and wrong
# credentials on CTyun, Baidu and Alaya. EACCES, one request, the cloud's code
# and RequestId in .gpucloudfs/errors; the other clouds keep answering.
. "$(dirname "$0")/lib.sh"

rejected() { sim GET counts | jq -r --arg a "$1" '.rejected[$a] // 0'; }

sim_start --tasks 40 --services 5 --ctyun-queues 3 --baidu-units 3 --alaya-products 6
M=$T_DIR/mnt
write_config_all "$T_DIR/c.ini" "timeout = 2" "op_timeout = 6" "ttl = 1"
gcf_mount "$T_DIR/c.ini" "$M"
E=$M/.gpucloudfs/errors

# Expired signature: the simulator's clock 10 minutes ahead.
clear
sim POST clock '{"offset_s": 600}' >/dev/null
timed ls "$M/tencent/tasks"
note_wait "expired signature (clock +600 s)"
check "clock +10 min: EACCES" sh -c "echo '$T_OUT' | grep -q 'Permission denied'"
check "... at once (${T_MS} ms, no retries)" test "$T_MS" -lt 1000
check_eq "... one request, not retried" 1 "$(requests DescribeTrainingTasks)"
check_eq "... rejected by the simulator" 1 "$(rejected DescribeTrainingTasks)"
check "... errors file: AuthFailure.SignatureExpire, RequestId, failed" \
	grep -q "tencent: DescribeTrainingTasks: HTTP 200: AuthFailure.SignatureExpire: .*(RequestId [0-9a-f-]\{36\}) \[failed\]" "$E"
echo "# $(grep SignatureExpire "$E" | tail -1)"
check "... the log names it too" grep -q "AuthFailure.SignatureExpire" "$M.log"
timed ls "$M/alaya/products"
check "... alaya (no signature time) answers at once (${T_MS} ms)" test "$T_RC" = 0 -a "$T_MS" -lt 1500 -a "$(echo "$T_OUT" | wc -l)" = 6
# CTyun accepts 15 minutes: +10 min passes, +20 min does not.
check_eq "clock +10 min: ctyun (15 min window) still answers" 3 "$(ls "$M/ctyun/queues" | wc -l)"
sleep 1.1
sim POST clock '{"offset_s": 1200}' >/dev/null
clear
timed ls "$M/ctyun/queues"
note_wait "expired signature, ctyun (clock +1200 s)"
# An auth failure is not a server error: stale_if_error does not cover it (RFC 5861 keeps
# stale-if-error to 5xx). A warm listing past its TTL gives EACCES at once, not the old one.
check "clock +20 min, ctyun, warm and past its TTL: EACCES, not the old listing" sh -c "echo '$T_OUT' | grep -q 'Permission denied'"
check "... at once (${T_MS} ms)" test "$T_MS" -lt 1000
check_eq "... not marked stale" 0 "$(xattr "$M/ctyun/queues" user.gpucloudfs.stale)"
check_eq "... one request, not retried" 1 "$(requests queue-info-list)"
check "... errors file: Eop.Auth.RequestExpired, failed" grep -q "ctyun: queue-info-list: HTTP 401: Eop.Auth.RequestExpired.*\[failed\]" "$E"
echo "# $(grep RequestExpired "$E" | tail -1)"

# The clock back: everything answers again.
sim POST clock '{"offset_s": 0}' >/dev/null
sleep 1.1
check_eq "clock back: tencent answers" 40 "$(ls "$M/tencent/tasks" | wc -l)"
check_eq "... ctyun answers, fresh" 3 "$(ls "$M/ctyun/queues" | wc -l)"
check_eq "... ctyun not stale" 0 "$(xattr "$M/ctyun/queues" user.gpucloudfs.stale)"
gcf_umount "$M"

# Wrong credentials on each of the other clouds (tencent: 60-errors.sh).
CTYUN_SK=wrong BAIDU_SK=wrong ALAYA_KEY=wrong write_config_all "$T_DIR/bad.ini" "timeout = 2" "op_timeout = 6"
gcf_mount "$T_DIR/bad.ini" "$M"
clear
for p in "ctyun/queues queue-info-list HTTP.401:.Eop.Auth.SignatureNotMatch" \
	"baidu/computeunits DescribeComputeUnits HTTP.400:.SignatureDoesNotMatch" \
	"alaya/products list-for-training-task HTTP.403:"; do
	set -- $p
	timed ls "$M/$1"
	note_wait "wrong credentials, $1"
	check "wrong credentials, $1: EACCES" sh -c "echo '$T_OUT' | grep -q 'Permission denied'"
	check "... at once (${T_MS} ms)" test "$T_MS" -lt 1000
	check_eq "... one request, not retried" 1 "$(requests "$2")"
	check "... errors file: $3" grep -q "${1%%/*}: $2: $3.*\[failed\]" "$E"
	echo "# $(grep "${1%%/*}: $2" "$E" | tail -1)"
done
timed ls "$M/tencent/tasks"
check "tencent (right key) answers at once (${T_MS} ms)" test "$T_RC" = 0 -a "$T_MS" -lt 1500 -a "$(echo "$T_OUT" | wc -l)" = 40
echo "# longest wait (auth): $LONGEST ms, bound: at once (1 request, no retry)"
gcf_finish
