#!/usr/bin/env bash
# A control file's bytes do not change while it is read: they are made when
# the file is looked up (each open), not at each getattr, which the kernel
# sends again while a file is read (at its end: did it grow?). Before, a
# stats.json read while a fetch moved its figures could come back as invalid
# JSON (the bytes of two versions), and scale.sh's progress sampler missed
# half of its samples at 100,000 tasks. Each open's lookup makes a node of
# its own bytes when they differ, so another open (a reader beside it) does
# not change them either.
. "$(dirname "$0")/lib.sh"

sim_start --tasks 3000 --services 2
write_config "$T_DIR/c.ini" "ttl = 600" "cache_dir = none"
M=$T_DIR/mnt
gcf_mount "$T_DIR/c.ini" "$M"

# 60 pages at 20 requests/s: about 3 s of fetching
ls "$M/tencent/tasks" >/dev/null 2>&1 &
LS_PID=$!
out=$(python3 - "$M" <<'PY'
import json, os, sys, time
m = sys.argv[1]
st, tasks = m + "/.gpucloudfs/stats.json", m + "/tencent/tasks"
def pages():
    try:
        return os.getxattr(tasks, "user.gpucloudfs.progress").decode()
    except OSError:
        return ""
deadline = time.monotonic() + 20
while not pages().startswith("fetching, ") and time.monotonic() < deadline:
    time.sleep(0.01)
fd = os.open(st, os.O_RDONLY)
first = os.read(fd, 1 << 20)
seen = pages()
# the fetch moves on (the xattr does not touch stats.json's node)
while pages() == seen and time.monotonic() < deadline:
    time.sleep(0.01)
moved = pages() != seen
os.fstat(fd)  # a getattr of the open file
fd2 = os.open(st, os.O_RDONLY)  # another open (a lookup) while fd is read
second = os.read(fd2, 1 << 20)
os.close(fd2)
again = os.pread(fd, 1 << 20, 0)
rest = os.pread(fd, 1 << 20, len(first))
os.close(fd)
state = json.loads(first)["tencent"]["tasks"]["progress"]["state"]
print(state, "moved" if moved else "still", "same" if again == first else "changed",
      "eof" if rest == b"" else "more", "newer" if second != first else "equal")
PY
)
wait "$LS_PID"
check_eq "stats.json read during a fetch, progress moved, getattr, another open, read again" \
	"fetching moved same eof newer" "$out"
check "a new open shows the new figures" sh -c "jq -e '.tencent.tasks.objects == 3000' '$M/.gpucloudfs/stats.json' >/dev/null"
gcf_finish
