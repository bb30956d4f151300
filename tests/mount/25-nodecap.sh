#!/usr/bin/env bash
# The cap on inodes (max_nodes): with a cap far below what a traversal
# meets (1,000 nodes for 500 tasks of ~19 files), the kernel is told to
# drop the files of object directories while the tools run, and they see
# nothing of it. find, grep -r, tar, rsync -a and os.walk give what they
# give on a mount without a cap (the reference, same simulator); the node
# count stays near the cap; a file held open across the drop of its name,
# and a shell's current directory (directories are never dropped), keep
# working.
. "$(dirname "$0")/lib.sh"

TASKS=500
CAP=1000
sim_start --tasks $TASKS --services 3
write_config "$T_DIR/c.ini" "ttl = 600" "max_nodes = $CAP"
write_config "$T_DIR/u.ini" "ttl = 600" "max_nodes = 0"
M=$T_DIR/mnt
U=$T_DIR/ref
gcf_mount "$T_DIR/c.ini" "$M"
gcf_mount "$T_DIR/u.ini" "$U"
ino() { jq -r ".[\".inodes\"].$2" "$1/.gpucloudfs/stats.json"; }
settled() { [ "$(ino "$M" evicting)" = 0 ]; }
# bounded WHAT: once the kernel has forgotten what it was asked to drop,
# the count is within the cap (the 500 directories stay: they are below
# it); the peak allows for the drops in flight while the tool ran.
bounded() {
	wait_for 100 0.1 settled
	local n p
	n=$(ino "$M" nodes) p=$(ino "$M" peak)
	check "after $1: $n nodes, within the cap $CAP (peak $p, within 1.5 times)" \
		test "$n" -le $CAP -a "$p" -le $((CAP + CAP / 2))
}

check_eq "the cap is in stats.json" $CAP "$(ino "$M" max_nodes)"
check_eq "no cap on the reference" 0 "$(ino "$U" max_nodes)"
check_eq "every task listed" $TASKS "$(ls "$M/tencent/tasks" | wc -l)"
ls "$U/tencent/tasks" >/dev/null

# A file held open, and a current directory, in the first task: looked at
# now, then not again until every other object has been traversed.
first=$(ls "$M/tencent/tasks" | head -1)
fd=$M/tencent/tasks/$first
want_status=$(cat "$U/tencent/tasks/$first/status")
want_info=$(cat "$U/tencent/tasks/$first/info.json")
exec 3<"$fd/info.json"
cd "$fd" || exit 1

(cd "$U/tencent" && find tasks | sort) >"$T_DIR/ref.find"
(cd "$M/tencent" && find tasks | sort) >"$T_DIR/cap.find"
check "find: $(wc -l <"$T_DIR/ref.find") names, as without a cap" cmp -s "$T_DIR/ref.find" "$T_DIR/cap.find"
check_eq "find | wc -l: 1 + tasks + files" "$(($(wc -l <"$T_DIR/ref.find")))" \
	"$(find "$M/tencent/tasks" | wc -l)"
ev=$(ino "$M" evictions)
check "the files of object directories were dropped ($ev directories)" test "$ev" -gt $((TASKS / 2))
bounded "find"
check "... where the reference holds them all ($(ino "$U" nodes))" test "$(ino "$U" nodes)" -gt $((TASKS * 10))

(cd "$U/tencent" && grep -r -c RUN tasks | sort) >"$T_DIR/ref.grep"
timed sh -c "cd '$M/tencent' && grep -r -c RUN tasks | sort >'$T_DIR/cap.grep'"
check "grep -r exits 0 (${T_MS} ms)" test "$T_RC" = 0
check "grep -r: the same counts in every file" cmp -s "$T_DIR/ref.grep" "$T_DIR/cap.grep"

bounded "grep -r"
mkdir -p "$T_DIR/tar"
timed sh -c "tar cf - -C '$M/tencent' tasks | tar xf - -C '$T_DIR/tar'"
check "tar c | tar x exits 0 (${T_MS} ms): $(echo "$T_OUT" | head -1)" test "$T_RC" = 0 -a -z "$T_OUT"
check "diff -r of the copy and the reference" diff -r "$T_DIR/tar/tasks" "$U/tencent/tasks"

bounded "tar"
timed rsync -a "$M/tencent/tasks/" "$T_DIR/rsync/"
check "rsync -a exits 0 (${T_MS} ms): $(echo "$T_OUT" | head -1)" test "$T_RC" = 0
check "diff -r of the rsync copy and the reference" diff -r "$T_DIR/rsync" "$U/tencent/tasks"

walk() {
	python3 -c 'import os, sys
d = f = 0
for root, dirs, files in os.walk(sys.argv[1]):
    d += len(dirs); f += len(files)
print(d, f)' "$1"
}
bounded "rsync"
want=$(walk "$U/tencent/tasks")
timed walk "$M/tencent/tasks"
check_eq "os.walk: directories and files" "$want" "$T_OUT"
check "os.walk exits 0" test "$T_RC" = 0
bounded "os.walk"

# The open file's name was dropped (the kernel keeps the file, unhashed),
# its node outlived it: its pages dropped, a read goes to the daemon by number.
check "the open file's name was dropped: $(readlink /proc/$$/fd/3)" \
	sh -c "readlink /proc/$$/fd/3 | grep -q ' (deleted)\$'"
got=$(python3 -c 'import os, sys
os.posix_fadvise(3, 0, 0, os.POSIX_FADV_DONTNEED)
os.lseek(3, 0, os.SEEK_SET)
sys.stdout.write(os.read(3, 1 << 20).decode())')
check "a file held open across evictions reads right" test "$got" = "$want_info"
# The current directory (whose files were dropped, not itself): getcwd()
# works in it (rsync above ran from it), relative names resolve.
check_eq "getcwd in it" "$fd" "$(python3 -c 'import os; print(os.getcwd())')"
check_eq "cat status in it" "$want_status" "$(cat status)"
check "ls in it" test "$(ls | wc -l)" = "$(ls "$U/tencent/tasks/$first" | wc -l)"
exec 3<&-
cd "$T_DIR" || exit 1
check_eq "its path still leads to it" "$want_status" "$(cat "$fd/status")"

gcf_finish
