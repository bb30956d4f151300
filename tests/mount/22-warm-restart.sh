#!/usr/bin/env bash
# Warm restart: after kill -9 and a remount, the first ls of a collection is
# answered from the disk store at once, the same names and times, marked
# stale until a background fetch revalidates it. A truncated, corrupted,
# wrong-version or foreign (another account's) file is ignored with one log
# line and the collection is fetched cold. The store is private and holds no
# credential.
. "$(dirname "$0")/lib.sh"

cat >"$T_DIR/keys.json" <<'KEYS'
{"tencent": [{"secret_id": "sim-tencent-id", "secret_key": "sim-tencent-key"},
             {"secret_id": "sim-tencent-id-b", "secret_key": "sim-tencent-key-b"}]}
KEYS
sim_start --tasks 120 --services 5 --ctyun-queues 3 --baidu-units 3 --alaya-products 6 \
	--keys "$T_DIR/keys.json"
M=$T_DIR/mnt
C=$T_DIR/store
write_config_all "$T_DIR/c.ini" "cache_dir = $C" "timeout = 8" "op_timeout = 10"
# A second account (another access key ID) of the same cloud.
cat >>"$T_DIR/c.ini" <<CFG

[other]
provider = tencent
secret_id = sim-tencent-id-b
secret_key = sim-tencent-key-b
region = ap-guangzhou
endpoint = https://127.0.0.1:$SIM_HTTPS
CFG
COLLS="tencent/tasks tencent/services ctyun/queues baidu/computeunits alaya/products other/tasks"

# snap_kind FILE: the kind name in a snapshot file's header (offset 120: its length).
snap_kind() {
	python3 -c 'import sys,struct; b=open(sys.argv[1],"rb").read(); n=struct.unpack_from("<I",b,120)[0]; print(b[128:128+n].decode())' "$1"
}
daemon_pid() { echo "${T_GCF_PIDS[${#T_GCF_PIDS[@]} - 1]}"; }
nsnaps() { find "$C" -name '*.snap' 2>/dev/null | wc -l; }
# listing DIR: names and mtimes of a collection's entries.
listing() { (cd "$1" && stat -c '%n %Y' -- *); }

gcf_mount "$T_DIR/c.ini" "$M"
# tencent/tasks first, alone: its file is the first one written.
listing "$M/tencent/tasks" >"$T_DIR/before.tencent_tasks"
check "tencent/tasks saved (bounded poll)" wait_for 300 0.1 test "$(nsnaps)" = 1
TASKS=$(find "$C" -name '*.snap')
for d in $COLLS; do
	listing "$M/$d" >"$T_DIR/before.${d//\//_}"
done
check "the other account sees its own tasks" test "$(wc -l <"$T_DIR/before.other_tasks")" -gt 0
check "all six collections saved (bounded poll)" wait_for 300 0.1 test "$(nsnaps)" = 6
OTHER=
for f in "$C"/*.snap; do
	[ "$f" != "$TASKS" ] && [ "$(snap_kind "$f")" = tasks ] && OTHER=$f
done
check "two tasks files, one per account" test -n "$OTHER"
check_eq "store directory is 0700" 700 "$(stat -c %a "$C")"
check_eq "every file is 0600" "" "$(find "$C" -type f ! -perm 600)"
leak=
for s in sim-tencent-id sim-tencent-key sim-tencent-id-b sim-tencent-key-b sim-ctyun-ak \
	sim-ctyun-sk sim-baidu-ak sim-baidu-sk sim-alaya-key; do
	grep -rqaF -- "$s" "$C" && leak="$leak $s"
done
check_eq "no credential of the config in the store" "" "$leak"

# ---- kill -9, remount: warm ---------------------------------------------------
kill -9 "$(daemon_pid)"
wait "$(daemon_pid)" 2>/dev/null
fusermount3 -u "$M" 2>/dev/null || fusermount3 -uz "$M"
clear
# The revalidation is slow: the answer can only come from disk.
sim POST faults '{"action": "DescribeTrainingTasks", "type": "latency", "latency_ms": 3000}' >/dev/null
gcf_mount "$T_DIR/c.ini" "$M"
timed listing "$M/tencent/tasks"
echo "$T_OUT" >"$T_DIR/after.tencent_tasks"
note_wait "first ls after kill -9"
check "first ls after kill -9 answers at once (${T_MS} ms < 1000, the cloud takes 3000)" test "$T_RC" = 0 -a "$T_MS" -lt 1000
check "... the same names and mtimes" cmp -s "$T_DIR/before.tencent_tasks" "$T_DIR/after.tencent_tasks"
check_eq "... marked stale (xattr)" 1 "$(xattr "$M/tencent/tasks" user.gpucloudfs.stale)"
check_eq "... marked stale (stats.json)" true "$(jq -r .tencent.tasks.stale "$M/.gpucloudfs/stats.json")"
echo "# requests the revalidation had sent by then: $(requests DescribeTrainingTasks) (each answered after 3 s)"
check "... one log line says where it came from" grep -q "disk cache: tencent/tasks: 120 objects" "$M.log"
for d in $COLLS; do
	[ "$d" = tencent/tasks ] && continue
	listing "$M/$d" >"$T_DIR/after.${d//\//_}"
	cmp -s "$T_DIR/before.${d//\//_}" "$T_DIR/after.${d//\//_}" || echo "# differs: $d"
done
check "every other collection: the same names and mtimes" sh -c "for d in $COLLS; do f=\$(echo \$d | tr / _); cmp -s $T_DIR/before.\$f $T_DIR/after.\$f || exit 1; done"
stale_gone() { [ "$(xattr "$M/tencent/tasks" user.gpucloudfs.stale)" = 0 ]; }
check "the stale mark goes once revalidated (bounded poll)" wait_for 100 0.1 stale_gone
check "... revalidated by the cloud" test "$(requests DescribeTrainingTasks)" -ge 1
listing "$M/tencent/tasks" >"$T_DIR/reval.tencent_tasks"
check "... nothing changed: same names and mtimes" cmp -s "$T_DIR/before.tencent_tasks" "$T_DIR/reval.tencent_tasks"
sim POST faults/clear >/dev/null

# ---- files that must be ignored: one log line each, then a cold fetch ------------
# remount_with WHAT CMD...: clean unmount (the daemon has written its files
# when it exits), CMD damages the tencent/tasks file, remount, first ls.
remount_with() {
	local what=$1 pid
	shift
	pid=$(daemon_pid)
	gcf_umount "$M"
	wait "$pid" 2>/dev/null
	"$@"
	clear
	# every page 0.5 s late: a cold listing takes that long, a warm one not
	sim POST faults '{"action": "DescribeTrainingTasks", "type": "latency", "latency_ms": 500}' >/dev/null
	gcf_mount "$T_DIR/c.ini" "$M"
	timed ls "$M/tencent/tasks"
	check "$what: listed, complete" test "$T_RC" = 0 -a "$(echo "$T_OUT" | wc -l)" = 120
	check "... fetched cold: it waited for the cloud (${T_MS} ms >= 500)" test "$T_MS" -ge 500
	check_eq "... not stale" 0 "$(xattr "$M/tencent/tasks" user.gpucloudfs.stale)"
	check "... not seeded from disk" sh -c "! grep -q 'disk cache: tencent/tasks: .* objects' '$M.log'"
	check "... the cloud was asked" test "$(requests DescribeTrainingTasks)" -ge 3
	check_eq "... one log line" 1 "$(grep -c 'disk cache: ignoring' "$M.log")"
	grep 'disk cache: ignoring' "$M.log" | sed 's/^/# /'
	check "... the other collections still warm" grep -q "disk cache: ctyun/queues" "$M.log"
	listing "$M/tencent/tasks" >"$T_DIR/cold.tencent_tasks"
	check "... the same names and mtimes" cmp -s "$T_DIR/before.tencent_tasks" "$T_DIR/cold.tencent_tasks"
}
truncate_it() { truncate -s $(($(stat -c %s "$TASKS") / 2)) "$TASKS"; }
corrupt_it() {
	python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=0x20; open(p,"r+b").write(b)' "$TASKS"
}
version_it() {
	python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[8]^=0x40; open(p,"r+b").write(b)' "$TASKS"
}
foreign_it() { cp "$OTHER" "$TASKS.new" && chmod 600 "$TASKS.new" && mv "$TASKS.new" "$TASKS"; }
remount_with "truncated file" truncate_it
remount_with "a corrupted byte" corrupt_it
remount_with "another format version" version_it
remount_with "another account's file" foreign_it

# A store that cannot be written (its file's name taken by a directory: the
# rename fails, for root too): one log line, the mount answers as usual.
pid=$(daemon_pid)
gcf_umount "$M"
wait "$pid" 2>/dev/null
rm -f "$TASKS"
mkdir "$TASKS"
clear
gcf_mount "$T_DIR/c.ini" "$M"
timed ls "$M/tencent/tasks"
check "unwritable file: listed as usual" test "$T_RC" = 0 -a "$(echo "$T_OUT" | wc -l)" = 120
saved_fail() { grep -q "disk cache: tencent/tasks: cannot save" "$M.log"; }
check "... one log line says it cannot save (bounded poll)" wait_for 50 0.1 saved_fail
grep "cannot save" "$M.log" | sed 's/^/# /'
check_eq "... only one" 1 "$(grep -c 'cannot save' "$M.log")"
check_eq "... no temporary file left" "" "$(find "$C" -name '.tmp-*')"
gcf_finish
