#!/usr/bin/env bash
# The command line and the configuration contract (DESIGN.md section 1).
. "$(dirname "$0")/lib.sh"

sim_start --tasks 4 --services 2
M=$T_DIR/mnt

check "--help prints usage" sh -c "'$GCF_BIN' --help | grep -q 'usage: .*MOUNTPOINT'"
check "--version prints the version" sh -c "'$GCF_BIN' --version | grep -q '^gpucloudfs [0-9]'"
check "no mount point: an error" sh -c "'$GCF_BIN' -c /dev/null 2>&1 | grep -q 'no mount point'"

fails_with() { # fails_with "what" CONFIG PATTERN [ARG...]: mounting fails, stderr matches
	mkdir -p "$M"
	if "$GCF_BIN" -f -c "$2" "$M" "${@:4}" >"$T_DIR/out" 2>&1; then
		check "$1: refused" false
		fusermount3 -u "$M" 2>/dev/null
	else
		check "$1: $(head -c 120 "$T_DIR/out")" grep -q -- "$3" "$T_DIR/out"
	fi
}

write_config "$T_DIR/c.ini"
printf 'frobnicate = 1\n' >>"$T_DIR/c.ini"
fails_with "unknown key names file:line:key" "$T_DIR/c.ini" "c.ini:9: \[tencent\] frobnicate: unknown key"
write_config "$T_DIR/c.ini" "ttl = soon"
fails_with "bad value names file:line:key" "$T_DIR/c.ini" "c.ini:3: \[gpucloudfs\] ttl: 'soon' is not"
write_config "$T_DIR/c.ini"
chmod 644 "$T_DIR/c.ini"
fails_with "secret in a world-readable file is refused" "$T_DIR/c.ini" "readable by group or others; run: chmod 600"
check "... and the secret is not echoed" sh -c "! grep -q sim-tencent-key '$T_DIR/out'"
printf '[nowhere]\nkey = 1\n' >"$T_DIR/c.ini"
fails_with "unknown provider" "$T_DIR/c.ini" "section 'nowhere' needs a 'provider =' line"
printf '[x]\nprovider = nimbus\n' >"$T_DIR/c.ini"
fails_with "unknown provider name" "$T_DIR/c.ini" "c.ini:2: \[x\] provider: unknown provider 'nimbus'"
fails_with "missing config file" "$T_DIR/none.ini" "none.ini: cannot open"
printf '[tencent]\nregion = ap-guangzhou\n' >"$T_DIR/c.ini"
(unset TENCENTCLOUD_SECRET_ID TENCENTCLOUD_SECRET_KEY; fails_with "no credentials anywhere" "$T_DIR/c.ini" "\[tencent\]") 

# Credentials from the environment; config without secrets may be 0644.
printf '[gpucloudfs]\nca_file = %s\n[tencent]\nregion = ap-guangzhou\nendpoint = https://127.0.0.1:%s\n' \
	"$SIM_CA" "$SIM_HTTPS" >"$T_DIR/env.ini"
chmod 644 "$T_DIR/env.ini"
TENCENTCLOUD_SECRET_ID=sim-tencent-id TENCENTCLOUD_SECRET_KEY=sim-tencent-key gcf_mount "$T_DIR/env.ini" "$M"
check_eq "credentials from TENCENTCLOUD_SECRET_ID/KEY" 4 "$(ls "$M/tencent/tasks" | wc -l)"
gcf_umount "$M"

# Two accounts of one provider side by side; -o ttl=N.
write_config "$T_DIR/two.ini"
printf '\n[tencent-sh]\nprovider = tencent\nsecret_id = sim-tencent-id\nsecret_key = sim-tencent-key\nregion = ap-shanghai\nendpoint = https://127.0.0.1:%s\n' "$SIM_HTTPS" >>"$T_DIR/two.ini"
gcf_mount "$T_DIR/two.ini" "$M" -o ttl=0
check_eq "two sections, two directories" "tencent tencent-sh" "$(ls "$M" | tr '\n' ' ' | sed 's/ $//')"
check_eq "second account lists its tasks" 4 "$(ls "$M/tencent-sh/tasks" | wc -l)"
check "config shows ttl = 0 from -o ttl=0" grep -q '^ttl = 0' "$M/.gpucloudfs/config"
check "config shows the provider keys that are not secret" grep -q '^region = ap-shanghai' "$M/.gpucloudfs/config"
n=$(requests DescribeTrainingTasks)
ls "$M/tencent-sh/tasks" >/dev/null
check "ttl=0: every listing asks the cloud again" test "$(requests DescribeTrainingTasks)" -gt "$n"
gcf_umount "$M"
fails_with "a bad -o setting names the option" "$T_DIR/two.ini" "-o ttl: 'soon' is not a whole number" -o ttl=soon
gcf_finish
