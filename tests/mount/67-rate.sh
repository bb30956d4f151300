#!/usr/bin/env bash
# grep -r over the whole mount (1,234 tasks, 5 collections, the control
# files) never exceeds the documented 20 requests/s per action: the simulator
# enforces that limit, so its throttled counter stays 0; the peak rate seen
# in any 1 s window (the simulator's counters sampled every 100 ms) is printed.
. "$(dirname "$0")/lib.sh"

sim_start --tasks 1234 --services 30
M=$T_DIR/mnt
write_config_all "$T_DIR/c.ini" "concurrency = 16"
gcf_mount "$T_DIR/c.ini" "$M"
sim POST counts/reset >/dev/null

# The sampler: one JSON line per 100 ms, {"t": seconds, "requests": {...}}.
cat >"$T_DIR/sample.py" <<'PY'
import json, sys, time, urllib.request
url, out = sys.argv[1], open(sys.argv[2], "w", buffering=1)
t0 = time.monotonic()
while True:
    t = time.monotonic()
    try:
        c = json.load(urllib.request.urlopen(url + "/counts", timeout=2))
        out.write(json.dumps({"t": t - t0, "requests": c["requests"], "throttled": c["throttled"]}) + "\n")
    except Exception:
        pass
    time.sleep(max(0, 0.1 - (time.monotonic() - t)))
PY
python3 "$T_DIR/sample.py" "$SIM_CTL" "$T_DIR/samples.jsonl" &
sampler=$!
sleep 0.3
t0=$(date +%s%N)
grep -r -c . "$M" >"$T_DIR/grep.out" 2>"$T_DIR/grep.err"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
# A second pass past the refresh files' effect, then a burst of refreshes.
cat "$M/.gpucloudfs/refresh/tencent/tasks" "$M/.gpucloudfs/refresh/tencent/tasks" >/dev/null
sleep 0.5
kill "$sampler"
wait "$sampler" 2>/dev/null

echo "# grep -r took $ms ms, rc $rc, $(wc -l <"$T_DIR/grep.out") files, $(wc -l <"$T_DIR/grep.err") errors"
check "grep -r over the whole mount succeeds" test "$rc" -le 1 -a ! -s "$T_DIR/grep.err"
check "... it read every task's status" test "$(grep -c "/tencent/tasks/[^/]*/status:" "$T_DIR/grep.out")" = 1234
counts=$(sim GET counts)
echo "# simulator: requests $(echo "$counts" | jq -c .requests), throttled $(echo "$counts" | jq -c .throttled)"
check_eq "the simulator throttled nothing" 0 "$(echo "$counts" | jq '[.throttled[]] | add // 0')"
check "the tasks were fetched (>= 25 pages)" test "$(echo "$counts" | jq '.requests.DescribeTrainingTasks')" -ge 25
# Peak: the most requests of one action between two samples <= 1.0 s apart.
python3 - "$T_DIR/samples.jsonl" >"$T_DIR/peak.txt" <<'PY'
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])]
peak = {}
for i, a in enumerate(s):
    for b in s[i + 1:]:
        if b["t"] - a["t"] > 1.0:
            break
        for act, n in b["requests"].items():
            d = n - a["requests"].get(act, 0)
            peak[act] = max(peak.get(act, 0), d)
for act, n in sorted(peak.items()):
    print(act, n)
PY
cat "$T_DIR/peak.txt" | sed 's/^/# peak requests in 1 s: /'
check "samples were taken" test "$(wc -l <"$T_DIR/samples.jsonl")" -ge 10
check_eq "peak DescribeTrainingTasks <= 20/s" 1 "$(awk '$1 == "DescribeTrainingTasks" {print ($2 <= 20)}' "$T_DIR/peak.txt")"
check "... and it came near the limit (the pager is not idle)" test "$(awk '$1 == "DescribeTrainingTasks" {print $2}' "$T_DIR/peak.txt")" -ge 12
check "no action above 20/s" test "$(awk '$2 > 20' "$T_DIR/peak.txt" | wc -l)" = 0
gcf_finish
