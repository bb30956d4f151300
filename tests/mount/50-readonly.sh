#!/usr/bin/env bash
# Read-only: every write, create, rename, unlink or chmod fails with EROFS.
. "$(dirname "$0")/lib.sh"

sim_start --tasks 5
write_config "$T_DIR/c.ini"
M=$T_DIR/mnt
gcf_mount "$T_DIR/c.ini" "$M"
id=$(ls "$M/tencent/tasks" | head -1)
f=$M/tencent/tasks/$id/status

erofs() { # erofs "what" command...: fails, and with "Read-only file system"
	local what=$1
	shift
	if "$@" 2>"$T_DIR/err"; then
		check "$what fails" false
	else
		check "$what: EROFS" grep -q "Read-only file system" "$T_DIR/err"
	fi
}
erofs "write to a file" sh -c "echo x > '$f'"
erofs "append to a file" sh -c "echo x >> '$f'"
erofs "truncate" truncate -s 0 "$f"
erofs "create a file" touch "$M/tencent/tasks/$id/new"
erofs "touch an existing file" touch "$f"
erofs "mkdir" mkdir "$M/tencent/tasks/newdir"
erofs "rm a file" rm -f "$f"
erofs "rmdir" rmdir "$M/tencent/tasks/$id"
erofs "rename" mv "$f" "$M/tencent/tasks/$id/status2"
erofs "chmod" chmod 600 "$f"
erofs "chown" chown 1:1 "$f"
erofs "symlink" ln -s x "$M/tencent/tasks/$id/link"
erofs "setfattr-like write via cp" cp /etc/hostname "$M/tencent/tasks/$id/"
check "the file is unchanged" test -s "$f"
gcf_finish
