#!/usr/bin/env bash
# Compatibility suite (issue 13): the tools people already use on a read-only
# tree of small files, over every cloud of one mount. Each tool gets a freshly
# mounted (cold) gpucloudfs and then runs again on the same mount (warm); each
# command is printed with its exit status. The copies are compared with the
# mount by diff -r, the listings with find, the sizes with stat.
. "$(dirname "$0")/lib.sh"

sim_start --tasks 40 --services 6 --ctyun-queues 10 --baidu-units 6 --alaya-products 6
write_config_all "$T_DIR/c.ini" "ttl = 600"
sim GET objects/tencent/tasks >"$T_DIR/tasks.json"
CLOUDS="alaya baidu ctyun tencent"
COLLECTIONS="alaya/products baidu/computeunits ctyun/queues tencent/services tencent/tasks"
# Does the file system of T_DIR keep user.* xattrs (for the rsync -aX copy)?
touch "$T_DIR/xa" && setfattr -n user.t -v 1 "$T_DIR/xa" 2>/dev/null && XATTR_OK=1 || XATTR_OK=0

# run 'command line': runs it (pipefail) in the mount, stdout in $T_DIR/out,
# stderr in $T_DIR/err, exit status in R; prints the command and its status.
run() {
	echo "\$ $1"
	(
		set -o pipefail
		eval "$1"
	) >"$T_DIR/out" 2>"$T_DIR/err"
	R=$?
	echo "# exit $R"
	if [ -s "$T_DIR/err" ]; then head -n 8 "$T_DIR/err" | sed 's/^/# stderr: /'; fi
}
# clean "what": the last run exited 0 and wrote nothing on stderr.
clean() { check_eq "$P: $1: exit 0, nothing on stderr" "0:" "$R:$(head -c 400 "$T_DIR/err")"; }

# ref: what find lists (after the tool ran, so that the tool was the cold one).
ref() {
	find $CLOUDS | sort >"$T_DIR/find.all"
	find $CLOUDS -type f | sort >"$T_DIR/find.f"
	find $CLOUDS -type d | sort >"$T_DIR/find.d"
	check "$P: find lists more than the collections" test "$(wc -l <"$T_DIR/find.f")" -gt 500
}
# same_tree "what" DIR: DIR holds a copy of the clouds equal to the mount.
same_tree() {
	check "$P: $1: diff -r of the copy and the mount is empty" diff -r --exclude=.gpucloudfs "$2" .
}
# same_times "what" DIR [s]: every file and directory of the copy has the
# mount's mtime, to the nanosecond (to the second with "s": rsync leaves a
# directory alone when its whole seconds agree and the source has no
# nanoseconds, and a copy made in the second the mount started has them).
same_times() {
	local cut='s/$//'
	[ "${3:-}" = s ] && cut='s/\.[0-9]*$//'
	(cd "$2" && find $CLOUDS -printf '%p %T@\n' | sed "$cut" | sort) >"$T_DIR/t.copy"
	find $CLOUDS -printf '%p %T@\n' | sed "$cut" | sort >"$T_DIR/t.mnt"
	check "$P: $1: the copy keeps every mtime" diff "$T_DIR/t.mnt" "$T_DIR/t.copy"
}
# drop DIR: removes a copy (its directories are 0555).
drop() { chmod -R u+w "$1" 2>/dev/null; rm -rf "$1"; }

N=0
# fresh: a new, cold mount of the same simulator; cd into it.
fresh() {
	N=$((N + 1))
	M=$T_DIR/m$N
	gcf_mount "$T_DIR/c.ini" "$M"
	cd "$M" || exit 1
	echo "# --- $1: a fresh mount ($M)"
}
done_mount() {
	cd "$T_DIR" || exit 1
	gcf_umount "$M"
}

# ---- the whole mount point, control directory included: tar and rsync -aX
fresh "whole mount"
for P in cold warm; do
	run 'tar cf "$T_DIR/whole.tar" .'
	clean "tar c of the mount point"
	run 'rsync -aX ./ "$T_DIR/whole/"'
	clean "rsync -aX of the mount point"
	find . | sort >"$T_DIR/find.whole"
	run 'tar tf "$T_DIR/whole.tar" | sed "s|/\$||" | sort'
	check "$P: tar t lists every path find lists" diff "$T_DIR/find.whole" "$T_DIR/out"
done
drop "$T_DIR/whole"
done_mount

# ---- GNU tar
fresh tar
for P in cold warm; do
	run 'tar cf "$T_DIR/a.tar" $CLOUDS'
	clean "tar c"
	ref
	run 'tar tf "$T_DIR/a.tar" | sed "s|/\$||" | sort'
	check "$P: tar t lists every path find lists" diff "$T_DIR/find.all" "$T_DIR/out"
	mkdir "$T_DIR/tar-$P"
	run 'tar xf "$T_DIR/a.tar" -C "$T_DIR/tar-$P"'
	clean "tar x"
	same_tree "tar x" "$T_DIR/tar-$P"
	drop "$T_DIR/tar-$P"
done
done_mount

# ---- rsync -aX, then rsync -a after a refresh of unchanged data
fresh rsync
dst=$T_DIR/rsync
mkdir "$dst"
for P in cold warm; do
	run 'rsync -aX --itemize-changes $CLOUDS "$dst/"'
	clean "rsync -aX"
	ref
	same_tree "rsync -aX" "$dst"
	same_times "rsync -aX" "$dst" s
	if [ "$XATTR_OK" = 1 ]; then
		check_eq "$P: rsync -aX copied the xattrs (user.gpucloudfs.stale of tencent/tasks)" 0 \
			"$(getfattr --only-values -n user.gpucloudfs.stale "$dst/tencent/tasks" 2>/dev/null)"
	fi
	if [ "$P" = warm ]; then
		check_eq "$P: a warm rsync -aX transfers no file" "" "$(grep -v '^\.d' "$T_DIR/out")"
	fi
done
drop "$dst"
# A second rsync -a after a refresh of unchanged data copies no file again.
P=refresh
dst=$T_DIR/rsync-a
mkdir "$dst"
run 'rsync -a $CLOUDS "$dst/"'
clean "rsync -a"
for c in $COLLECTIONS; do
	run "cat .gpucloudfs/refresh/$c"
	check "$P: refresh of $c answers" sh -c "[ $R = 0 ] && grep -q '^$c: [0-9]* objects' '$T_DIR/out'"
done
run 'rsync -a --itemize-changes $CLOUDS "$dst/"'
clean "rsync -a after the refresh"
sed "s/^/# /" "$T_DIR/out" | head -n 10
check_eq "$P: rsync -a transfers nothing but directory times" "" \
	"$(grep -Ev '^\.d\.\.t\.+ ' "$T_DIR/out" | head -n 5)"
same_tree "rsync -a" "$dst"
same_times "rsync -a" "$dst" s
drop "$dst"
done_mount

# ---- cp -a
fresh "cp -a"
for P in cold warm; do
	mkdir "$T_DIR/cp-$P"
	run 'cp -a $CLOUDS "$T_DIR/cp-$P/"'
	clean "cp -a"
	ref
	same_tree "cp -a" "$T_DIR/cp-$P"
	same_times "cp -a" "$T_DIR/cp-$P"
	if [ "$XATTR_OK" = 1 ]; then
		check_eq "$P: cp -a copied the xattrs (user.gpucloudfs.fetched of tencent/tasks)" \
			"$(getfattr --only-values -n user.gpucloudfs.fetched tencent/tasks 2>/dev/null)" \
			"$(getfattr --only-values -n user.gpucloudfs.fetched "$T_DIR/cp-$P/tencent/tasks" 2>/dev/null)"
	fi
	drop "$T_DIR/cp-$P"
done
done_mount

# ---- getfattr
fresh getfattr
for P in cold warm; do
	run 'getfattr -R -d -m - $CLOUDS'
	clean "getfattr -R -d -m -"
	for c in $COLLECTIONS; do
		check "$P: getfattr shows $c as fresh" sh -c "grep -A3 -x '# file: $c' '$T_DIR/out' | grep -qx 'user.gpucloudfs.stale=\"0\"'"
	done
done
done_mount

# ---- find -newer: a reference file at the median UpdateTime of the tasks.
median=$(jq -r '[.[].UpdateTime] | sort | .[length / 2 | floor]' "$T_DIR/tasks.json")
touch -d "$median" "$T_DIR/newer-ref"
# What find -newer must print: the paths whose mtime is later than the reference's.
newer_expect() {
	python3 - "$T_DIR/newer-ref" $CLOUDS <<'PY'
import os, sys
ref = os.stat(sys.argv[1]).st_mtime_ns
out = []
for top in sys.argv[2:]:
    for d, dirs, files in os.walk(top):
        for p in [d] + [os.path.join(d, f) for f in files]:
            if os.lstat(p).st_mtime_ns > ref:
                out.append(p)
print("\n".join(sorted(out)))
PY
}
fresh "find -newer"
for P in cold warm; do
	run 'find $CLOUDS -newer "$T_DIR/newer-ref" | sort'
	clean "find -newer"
	check_eq "$P: find -newer = the paths stat says are newer" "$(newer_expect)" "$(cat "$T_DIR/out")"
	ref
	n=$(grep -c '^tencent/tasks/[^/]*/status$' "$T_DIR/out")
	check "$P: find -newer lists some tasks' status files, not all ($n of 40)" test "$n" -gt 0 -a "$n" -lt 40
done
done_mount

# ---- du
fresh du
for P in cold warm; do
	run 'du -s $CLOUDS'
	clean "du -s"
	check_eq "$P: du -s has a line per cloud" 4 "$(wc -l <"$T_DIR/out")"
	run 'du -a $CLOUDS'
	clean "du -a"
	ref
	check_eq "$P: du -a lists what find lists" "$(cat "$T_DIR/find.all")" "$(cut -f2- "$T_DIR/out" | sort)"
	run 'du -cb $CLOUDS | tail -n 1 | cut -f1'
	clean "du -cb"
	check_eq "$P: du -cb = the sum of the sizes" "$(find $CLOUDS -type f -printf '%s\n' | awk '{s += $1} END {print s}')" "$(cat "$T_DIR/out")"
done
done_mount

# ---- tree
fresh tree
for P in cold warm; do
	run 'tree -a $CLOUDS | tail -n 1'
	clean "tree -a"
	ref
	check_eq "$P: tree counts what find counts" \
		"$(wc -l <"$T_DIR/find.d") directories, $(wc -l <"$T_DIR/find.f") files" "$(cat "$T_DIR/out")"
	run 'tree -a -i -f --noreport $CLOUDS | sort'
	clean "tree -a -i -f"
	check "$P: tree lists every path find lists" diff "$T_DIR/find.all" "$T_DIR/out"
done
done_mount

# ---- Python: os.walk and shutil.copytree
fresh python
for P in cold warm; do
	run 'python3 -c "
import os, shutil, sys
n = 0
for top in sys.argv[2:]:
    for d, dirs, files in os.walk(top):
        n += 1 + len(files)
    shutil.copytree(top, os.path.join(sys.argv[1], top), symlinks=True)
print(n)" "$T_DIR/py-$P" $CLOUDS'
	clean "os.walk + shutil.copytree"
	ref
	check_eq "$P: os.walk counts what find counts" "$(wc -l <"$T_DIR/find.all")" "$(cat "$T_DIR/out")"
	same_tree "shutil.copytree" "$T_DIR/py-$P"
	same_times "shutil.copytree" "$T_DIR/py-$P"
	drop "$T_DIR/py-$P"
done
done_mount

# ---- jq over every *.jsonl
fresh jq
for P in cold warm; do
	for c in $COLLECTIONS; do
		run "jq -c . $c.jsonl | wc -l"
		clean "jq over $c.jsonl"
		got=$(cat "$T_DIR/out")
		check_eq "$P: $c.jsonl has one object per directory entry" "$(ls "$c" | wc -l)" "$got"
		check_eq "$P: ... and per object of the simulator" "$(sim GET "objects/$c" | jq length)" "$got"
	done
done
done_mount

# ---- grep -r
running=$(jq -r '.[] | select(.Status == "RUNNING") | "tencent/tasks/" + .Id + "/status"' "$T_DIR/tasks.json" | sort)
fresh "grep -r"
for P in cold warm; do
	run 'grep -r -l -x RUNNING --include=status $CLOUDS | grep "^tencent/tasks/" | sort'
	clean "grep -r"
	check_eq "$P: grep -r finds every running task" "$running" "$(cat "$T_DIR/out")"
	run 'grep -r -c "" $CLOUDS | wc -l'
	clean "grep -r -c"
	ref
	check_eq "$P: grep -r reads every file" "$(wc -l <"$T_DIR/find.f")" "$(cat "$T_DIR/out")"
	run 'grep -r -q no-such-string-anywhere $CLOUDS'
	check_eq "$P: grep -r of an absent string exits 1 (not 2: no read error)" "1:" "$R:$(cat "$T_DIR/err")"
done
done_mount

# ---- ls -laR, stat, wc, md5sum
fresh "ls stat wc md5sum"
for P in cold warm; do
	run 'ls -laR $CLOUDS'
	clean "ls -laR"
	ref
	check_eq "$P: ls -laR shows every file" "$(wc -l <"$T_DIR/find.f")" "$(grep -c '^-r--r--r-- ' "$T_DIR/out")"
	check_eq "$P: ls -laR has no unknown fields" "" "$(grep -F '?' "$T_DIR/out" | head -n 3)"
	run 'find $CLOUDS -print0 | xargs -0 stat -c "%n %s %a"'
	clean "stat on everything"
	check_eq "$P: stat answers for every path" "$(wc -l <"$T_DIR/find.all")" "$(wc -l <"$T_DIR/out")"
	check_eq "$P: every file is 0444, every directory 0555" "" "$(grep -Ev ' (0 555|[0-9]+ 444)$' "$T_DIR/out" | head -n 3)"
	awk '$3 == 444 {print $1, $2}' "$T_DIR/out" | sort >"$T_DIR/sizes.stat"
	# -l makes wc read the contents (wc -c alone may trust st_size).
	run 'find $CLOUDS -type f -print0 | xargs -0 wc -lc | grep -v " total$" | awk "{print \$3, \$2}" | sort'
	clean "wc -lc"
	check "$P: wc byte counts = stat sizes" diff "$T_DIR/sizes.stat" "$T_DIR/out"
	run 'find $CLOUDS -type f -print0 | xargs -0 md5sum'
	clean "md5sum"
	cp "$T_DIR/out" "$T_DIR/md5.1"
	run 'find $CLOUDS -type f -print0 | xargs -0 md5sum'
	clean "md5sum again"
	check "$P: md5sum twice gives the same sums" cmp -s "$T_DIR/md5.1" "$T_DIR/out"
	check_eq "$P: md5sum of every file" "$(wc -l <"$T_DIR/find.f")" "$(wc -l <"$T_DIR/out")"
done
done_mount

# ---- zip -r, unzip
fresh zip
for P in cold warm; do
	rm -f "$T_DIR/a.zip"
	run 'zip -q -r -y "$T_DIR/a.zip" $CLOUDS'
	clean "zip -r"
	ref
	run 'unzip -Z1 "$T_DIR/a.zip" | sed "s|/\$||" | sort'
	check "$P: the zip lists every path find lists" diff "$T_DIR/find.all" "$T_DIR/out"
	mkdir "$T_DIR/zip-$P"
	run 'unzip -q "$T_DIR/a.zip" -d "$T_DIR/zip-$P"'
	clean "unzip"
	same_tree "unzip" "$T_DIR/zip-$P"
	drop "$T_DIR/zip-$P"
done
done_mount

gcf_finish
