#!/usr/bin/env bash
# Wrong credentials give EACCES and a message naming AuthFailure (log and
# .gpucloudfs/errors); an untrusted certificate is refused (TLS is always
# verified); no secret reaches the log, even with -d.
. "$(dirname "$0")/lib.sh"

sim_start --tasks 5
M=$T_DIR/mnt

TENCENT_KEY=wrong-sim-key write_config "$T_DIR/bad.ini"
gcf_mount "$T_DIR/bad.ini" "$M" -d
check "ls with a wrong key fails" sh -c "! ls '$M/tencent/tasks' 2>'$T_DIR/err'"
check "... with EACCES" grep -q "Permission denied" "$T_DIR/err"
check "errors file names AuthFailure.SignatureFailure and the API" \
	grep -q "tencent: DescribeTrainingTasks: HTTP 200: AuthFailure.SignatureFailure" "$M/.gpucloudfs/errors"
check "errors file carries the RequestId" grep -q "RequestId [0-9a-f-]\{36\}" "$M/.gpucloudfs/errors"
check "the log names AuthFailure" grep -q "AuthFailure.SignatureFailure" "$M.log"
check "cat of an object in that collection: EACCES too" sh -c "cat '$M/tencent/tasks/x/status' 2>&1 | grep -q 'Permission denied'"
check "the secret key is not in the debug log" sh -c "! grep -q 'wrong-sim-key' '$M.log'"
check "the Authorization header is not in the debug log" sh -c "! grep -qi 'Signature=[0-9a-f]\{64\}' '$M.log'"
pid=${T_GCF_PIDS[-1]}
check "the secret is not in the process's argv" sh -c "! tr '\\0' ' ' < /proc/$pid/cmdline | grep -q wrong-sim-key"
gcf_umount "$M"

TENCENT_ID=sim-unknown-id write_config "$T_DIR/unknown.ini"
gcf_mount "$T_DIR/unknown.ini" "$M"
check "unknown SecretId: EACCES" sh -c "ls '$M/tencent/services' 2>&1 | grep -q 'Permission denied'"
check "unknown SecretId: AuthFailure.SecretIdNotFound in errors" grep -q "AuthFailure.SecretIdNotFound" "$M/.gpucloudfs/errors"
gcf_umount "$M"

# Without ca_file the simulator's certificate is not trusted.
write_config "$T_DIR/noca.ini"
sed -i '/^ca_file/d' "$T_DIR/noca.ini"
gcf_mount "$T_DIR/noca.ini" "$M"
sim POST counts/reset >/dev/null
check "untrusted certificate: EIO" sh -c "ls '$M/tencent/tasks' 2>&1 | grep -q 'Input/output error'"
check "untrusted certificate: the error says so" grep -qi "certificate" "$M/.gpucloudfs/errors"
check_eq "untrusted certificate: the simulator never saw a request" 0 "$(requests DescribeTrainingTasks)"
gcf_umount "$M"

# A ca_file with no certificate in it: every request fails at once and says why.
echo "not a certificate" >"$T_DIR/junk.pem"
write_config "$T_DIR/junkca.ini"
sed -i "s|^ca_file = .*|ca_file = $T_DIR/junk.pem|" "$T_DIR/junkca.ini"
gcf_mount "$T_DIR/junkca.ini" "$M"
sim POST counts/reset >/dev/null
check "ca_file without a certificate: EINVAL (a configuration error)" sh -c "ls '$M/tencent/tasks' 2>&1 | grep -q 'Invalid argument'"
check "... the error says so" grep -q "ca_file '$T_DIR/junk.pem': no PEM certificate in it" "$M/.gpucloudfs/errors"
check_eq "... the simulator never saw a request" 0 "$(requests DescribeTrainingTasks)"
gcf_umount "$M"

# A cloud that is down: EIO within the bounded wait, with a message.
write_config "$T_DIR/down.ini" "timeout = 2"
sed -i "s|^endpoint = .*|endpoint = https://127.0.0.1:1|" "$T_DIR/down.ini"
gcf_mount "$T_DIR/down.ini" "$M"
start=$(date +%s)
check "unreachable cloud: EIO" sh -c "ls '$M/tencent/tasks' 2>&1 | grep -q 'Input/output error'"
check "unreachable cloud: answered within the timeout" test $(($(date +%s) - start)) -le 5
check "unreachable cloud: the error names the connection" grep -q "^.* tencent: DescribeTrainingTasks: " "$M/.gpucloudfs/errors"
gcf_finish
