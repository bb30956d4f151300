#!/usr/bin/env bash
# Installation and operation (DESIGN.md section 1, docs/gpucloudfs.1):
# "cmake --install" puts the binary, the mount helper, the man page and the
# systemd user unit in place; the man page renders without groff warnings;
# "cpack -G DEB" builds gpucloudfs_<version>_<arch>.deb with the right files
# and Depends; an fstab line of type fuse.gpucloudfs mounts through
# mount.fuse3 and the helper (SOURCE = config, mount-only options dropped);
# the detached daemon logs to syslog, not to a closed stderr; SIGHUP makes
# the next ls refetch instead of unmounting.
#
# Builds its own tree (GCF_TESTS=OFF) under the temp dir for the install and
# the package. Needs cmake/cpack, groff and man (man-db), dpkg-deb; the fstab and
# system-wide parts need root (dpkg -i, then dpkg -r in the trap). A part
# whose tool is missing is skipped with its reason.
. "$(dirname "$0")/lib.sh"

BUILD=$T_DIR/build # a fresh build tree: nothing is written to the tree under test
DEST=$T_DIR/dest
DEB_INSTALLED=
SYSLOG_PID=
SYSLOG_SOCK=

skip() {
	echo "skip - $*"
}

have() {
	command -v "$1" >/dev/null 2>&1
}

# daemon_pids MOUNTPOINT: the gpucloudfs processes with MOUNTPOINT among their arguments.
daemon_pids() {
	local p
	for p in $(pgrep -x gpucloudfs); do
		tr '\0' '\n' 2>/dev/null <"/proc/$p/cmdline" | grep -qxF -- "$1" && echo "$p"
	done
}

# Unmounts what this test mounted (as root: umount; else fusermount3),
# stops its daemons by PID, removes the package and the syslog socket,
# then lib.sh's cleanup.
t_cleanup_90() {
	local m p
	for m in "${T_MOUNTS[@]}"; do
		for p in $(daemon_pids "$m"); do
			T_GCF_PIDS+=("$p")
		done
		if is_mounted "$m"; then
			umount "$m" 2>/dev/null || fusermount3 -u "$m" 2>/dev/null ||
				umount -l "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null
		fi
	done
	for p in "${T_GCF_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	if [ -n "$DEB_INSTALLED" ]; then
		dpkg -r gpucloudfs >/dev/null 2>&1 || echo "warning: dpkg -r gpucloudfs failed"
	fi
	if [ -n "$SYSLOG_PID" ]; then
		kill "$SYSLOG_PID" 2>/dev/null
		wait "$SYSLOG_PID" 2>/dev/null
	fi
	[ -n "$SYSLOG_SOCK" ] && rm -f "$SYSLOG_SOCK"
	t_cleanup
}
trap t_cleanup_90 EXIT

VERSION=$("$GCF_BIN" --version | awk '{print $2}')
ROOT=
[ "$(id -u)" = 0 ] && ROOT=1

# ---- a build tree of our own, then cmake --install ---------------------------
if ! have cmake; then
	skip "cmake --install: no cmake"
else
	cmake -S "$GCF_SRC" -B "$BUILD" -DGCF_TESTS=OFF >"$T_DIR/build.log" 2>&1 &&
		cmake --build "$BUILD" -j "$(nproc 2>/dev/null || echo 2)" >>"$T_DIR/build.log" 2>&1
	check "a fresh build tree configures and builds$( [ $? -ne 0 ] && tail -c 300 "$T_DIR/build.log")" \
		test -x "$BUILD/gpucloudfs"
	DESTDIR=$DEST cmake --install "$BUILD" --prefix /usr >"$T_DIR/install.log" 2>&1
	check "cmake --install into DESTDIR succeeds" test $? -eq 0
	check "installs bin/gpucloudfs, executable" test -x "$DEST/usr/bin/gpucloudfs"
	check "installs sbin/mount.fuse.gpucloudfs, executable" test -x "$DEST/usr/sbin/mount.fuse.gpucloudfs"
	check "installs share/man/man1/gpucloudfs.1" test -s "$DEST/usr/share/man/man1/gpucloudfs.1"
	check "installs lib/systemd/user/gpucloudfs.service" test -s "$DEST/usr/lib/systemd/user/gpucloudfs.service"
	check "installs the user guide" test -s "$DEST/usr/share/doc/gpucloudfs/user-guide.md"
	check_eq "the installed binary is this version" "gpucloudfs $VERSION" \
		"$("$DEST/usr/bin/gpucloudfs" --version | awk '{print $1, $2}')"
	unit=$DEST/usr/lib/systemd/user/gpucloudfs.service
	check "unit runs gpucloudfs -f %h/clouds" grep -qE '^ExecStart=.*gpucloudfs -f %h/clouds$' "$unit"
	check "unit stops with fusermount3 -u" grep -qE '^ExecStop=.*fusermount3 -u %h/clouds$' "$unit"
	check "unit restarts on failure" grep -qx 'Restart=on-failure' "$unit"
	check "unit reloads with SIGHUP" grep -q '^ExecReload=.*kill -HUP \$MAINPID' "$unit"
fi

# ---- the man page ------------------------------------------------------------
MAN_SRC=$GCF_SRC/docs/gpucloudfs.1
if ! have groff || ! have man; then
	skip "man page rendering: groff or man (man-db) is missing"
else
	groff -man -Tutf8 -ww -z "$MAN_SRC" >"$T_DIR/groff.err" 2>&1
	check "groff -man -ww: no warnings$( [ -s "$T_DIR/groff.err" ] && head -c 200 "$T_DIR/groff.err")" \
		test ! -s "$T_DIR/groff.err"
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$MAN_SRC" >"$T_DIR/man.txt" 2>"$T_DIR/man.err"
	check "man -l renders it" test -s "$T_DIR/man.txt"
	check "man -l: nothing on stderr$( [ -s "$T_DIR/man.err" ] && head -c 200 "$T_DIR/man.err")" \
		test ! -s "$T_DIR/man.err"
	missing=
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS CONFIGURATION "THE TREE" ERRORS FILES \
		ENVIRONMENT SIGNALS FSTAB EXAMPLES "SEE ALSO"; do
		grep -qx "$s" "$T_DIR/man.txt" || missing="$missing [$s]"
	done
	check_eq "every section is there" "" "$missing"
	missing=
	for k in $(sed -n '/^### Configuration/,/^### /p' "$GCF_SRC/README.md" |
		grep -oE '^    [a-z_]+ = ' | awk '{print $1}' | sort -u); do
		grep -qw -- "$k" "$T_DIR/man.txt" || missing="$missing $k"
	done
	check_eq "every configuration key of README.md is documented" "" "$missing"
	missing=
	for v in TENCENTCLOUD_SECRET_ID TENCENTCLOUD_SECRET_KEY TENCENTCLOUD_REGION CTYUN_ACCESS_KEY \
		CTYUN_SECRET_KEY CTYUN_REGION_ID QIANFAN_ACCESS_KEY QIANFAN_SECRET_KEY ALAYA_API_KEY \
		SIGHUP _netdev nofail allow_other user_allow_other fuse.gpucloudfs; do
		grep -qF -- "$v" "$T_DIR/man.txt" || missing="$missing $v"
	done
	check_eq "environment, signals and fstab options are documented" "" "$missing"
	if [ -s "$DEST/usr/share/man/man1/gpucloudfs.1" ]; then
		check "the installed man page is the source's" cmp -s "$MAN_SRC" "$DEST/usr/share/man/man1/gpucloudfs.1"
	fi
fi

# ---- the .deb ------------------------------------------------------------------
DEB=
ARCH=$(dpkg --print-architecture 2>/dev/null)
if ! have cpack || ! have dpkg-deb || [ -z "$ARCH" ] || [ ! -f "$BUILD/CPackConfig.cmake" ]; then
	skip "the .deb: no cpack, dpkg-deb or CPackConfig.cmake in $BUILD"
else
	(cd "$BUILD" && cpack -G DEB -B "$T_DIR/pkg") >"$T_DIR/cpack.log" 2>&1
	check "cpack -G DEB succeeds" test $? -eq 0
	DEB=$T_DIR/pkg/gpucloudfs_${VERSION}_${ARCH}.deb
	check "it is named gpucloudfs_${VERSION}_${ARCH}.deb" test -s "$DEB"
	if [ -s "$DEB" ]; then
		dpkg-deb -c "$DEB" | awk '{print $NF}' >"$T_DIR/deb.files"
		for f in ./usr/bin/gpucloudfs ./usr/sbin/mount.fuse.gpucloudfs \
			./usr/share/man/man1/gpucloudfs.1 ./usr/lib/systemd/user/gpucloudfs.service; do
			check "the .deb holds $f" grep -qxF "$f" "$T_DIR/deb.files"
		done
		check_eq "Package" gpucloudfs "$(dpkg-deb -f "$DEB" Package)"
		check_eq "Version" "$VERSION" "$(dpkg-deb -f "$DEB" Version)"
		check_eq "Architecture" "$ARCH" "$(dpkg-deb -f "$DEB" Architecture)"
		check "Maintainer is set" test -n "$(dpkg-deb -f "$DEB" Maintainer)"
		check "Description has a summary and a body" \
			sh -c "dpkg-deb -I '$DEB' | grep -A1 '^ Description: .\{10,\}' | tail -1 | grep -q '^  [a-z]'"
		deps=$(dpkg-deb -f "$DEB" Depends)
		for p in fuse3 libfuse3-3 libcurl4 libcjson1 libinih1 libssl3; do
			check "Depends names $p" sh -c "echo '$deps' | tr ',' '\n' | awk '{print \$1}' | grep -qx '$p'"
		done
		# Every name in Depends is a real package of this distribution.
		for p in $(echo "$deps" | tr ',' '\n' | awk '{print $1}'); do
			check "$p is a package here" sh -c \
				"dpkg-query -W '$p' >/dev/null 2>&1 || apt-cache show '$p' >/dev/null 2>&1"
		done
	fi
fi

# ---- mounting: helper, fstab, syslog, SIGHUP ----------------------------------
sim_start --tasks 4 --services 2
write_config "$T_DIR/c.ini" "ttl = 3600"
M=$T_DIR/mnt
mkdir -p "$M"
T_MOUNTS+=("$M")
OTHER=allow_other
if [ -z "$ROOT" ] && ! grep -qx 'user_allow_other' /etc/fuse.conf 2>/dev/null; then
	OTHER=default_permissions # allow_other needs user_allow_other for non-root
fi

# Two runs at once (ctest and tests/sanitize.sh) take turns from here on:
# /dev/log and the system-wide package are shared.
if have flock; then
	exec 9>"${TMPDIR:-/tmp}/gpucloudfs-90-install.lock"
	flock -w 240 9 || echo "warning: another run holds ${TMPDIR:-/tmp}/gpucloudfs-90-install.lock"
fi

# A syslog socket of our own when the system has none (containers), so the
# detached daemon's log can be read.
if [ -n "$ROOT" ] && [ ! -e /dev/log ] && have python3; then
	SYSLOG_SOCK=/dev/log
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "ab", buffering=0)
while True:
    out.write(s.recv(65536) + b"\n")
' "$SYSLOG_SOCK" "$T_DIR/syslog" &
	SYSLOG_PID=$!
	# The listener opens its output file only once it has bound the socket.
	if ! wait_for 50 0.1 test -e "$T_DIR/syslog"; then
		SYSLOG_SOCK= # not ours: leave it alone
	fi
fi

# detached_pid MOUNTPOINT: the detached daemon serving it, the one that
# fuse_daemonize() made a session leader (its parent exits once it is up).
detached_pid() {
	local p
	for p in $(daemon_pids "$1"); do
		[ "$(ps -o sid= -p "$p" | tr -d ' ')" = "$p" ] && echo "$p" && return 0
	done
	return 1
}

# mounted_by_daemon MOUNTPOINT: waits for the mount, records the daemon's PID in $DPID.
mounted_by_daemon() {
	DPID=
	wait_for 100 0.1 is_mounted "$1" || return 1
	wait_for 100 0.1 detached_pid "$1" >/dev/null || {
		echo "  no detached daemon:"
		ps -o pid,ppid,sid,stat,args -p "$(daemon_pids "$1" | tr '\n' ',' | sed 's/,$//')"
		return 1
	}
	DPID=$(detached_pid "$1")
	T_GCF_PIDS+=("$DPID")
}

# unmounted MOUNTPOINT PID: unmounts and waits for the daemon to exit.
unmount_and_wait() {
	if [ -n "$ROOT" ]; then umount "$1"; else fusermount3 -u "$1"; fi
	wait_for 100 0.1 sh -c "! grep -q ' $1 fuse.gpucloudfs ' /proc/mounts" &&
		wait_for 100 0.1 sh -c "! kill -0 $2 2>/dev/null"
}

# sighup_refetches MOUNTPOINT PID: cached ls asks nothing; after SIGHUP one request.
sighup_refetches() {
	local n
	ls "$1/tencent/tasks" >/dev/null || return 1
	n=$(requests DescribeTrainingTasks)
	ls "$1/tencent/tasks" >/dev/null
	[ "$(requests DescribeTrainingTasks)" = "$n" ] || { echo "  cached ls asked the cloud"; return 1; }
	kill -HUP "$2"
	sleep 0.3
	is_mounted "$1" || { echo "  SIGHUP unmounted"; return 1; }
	[ "$(ls "$1/tencent/tasks" | wc -l)" = 4 ] || return 1
	[ "$(requests DescribeTrainingTasks)" = $((n + 1)) ] ||
		{ echo "  requests: $n -> $(requests DescribeTrainingTasks)"; return 1; }
}

# 1. In the foreground (-f): SIGHUP refetches, the mount stays.
gcf_mount "$T_DIR/c.ini" "$M"
FG_PID=${T_GCF_PIDS[-1]}
check "foreground: SIGHUP makes the next ls refetch, mount stays" sighup_refetches "$M" "$FG_PID"
check "foreground: SIGHUP is logged to stderr" wait_for 20 0.1 grep -q 'SIGHUP.*snapshot' "$M.log"
kill "$FG_PID"
check "foreground: SIGTERM unmounts" wait_for 50 0.1 sh -c "! grep -q ' $M fuse.gpucloudfs ' /proc/mounts"
check "foreground: ... and exits" wait_for 100 0.1 sh -c "! kill -0 $FG_PID 2>/dev/null"

# 2. The mount.fuse3 convention through the installed helper:
#    mount.fuse.gpucloudfs SOURCE MOUNTPOINT -o OPTIONS, as mount(8) runs it.
HELPER=$DEST/usr/sbin/mount.fuse.gpucloudfs
if ! have mount.fuse3 && [ ! -x /sbin/mount.fuse3 ]; then
	skip "mount helper: mount.fuse3 (package fuse3) is missing"
elif [ ! -x "$HELPER" ]; then
	skip "mount helper: not installed (cmake --install skipped)"
else
	"$HELPER" "$T_DIR/c.ini" "$M" -o "ro,_netdev,nofail,$OTHER,x-systemd.automount,defaults,comment=x" \
		>"$T_DIR/helper.out" 2>&1
	check "helper: mounts, fstab-only options dropped$( [ -s "$T_DIR/helper.out" ] && head -c 200 "$T_DIR/helper.out")" \
		mounted_by_daemon "$M"
	if [ -n "$DPID" ]; then
		opts=$(awk -v m="$M" '$2 == m {print $4}' /proc/mounts)
		check "helper: mounted ro,nosuid,nodev ($opts)" sh -c "echo '$opts' | tr ',' '\n' | grep -qx ro && echo '$opts' | grep -q nosuid && echo '$opts' | grep -q nodev"
		[ "$OTHER" = allow_other ] && check "helper: allow_other passed to FUSE" sh -c "echo '$opts' | grep -q allow_other"
		check "helper: the daemon is the installed binary" sh -c "readlink /proc/$DPID/exe | grep -q '^$DEST/usr/bin/gpucloudfs'"
		check "helper: SOURCE is the config (ls answers)" sh -c "ls '$M/tencent/tasks' | wc -l | grep -qx 4"
		check_eq "detached: stderr is /dev/null" /dev/null "$(readlink "/proc/$DPID/fd/2")"
		check "detached: SIGHUP makes the next ls refetch, mount stays" sighup_refetches "$M" "$DPID"
		if [ -n "$SYSLOG_SOCK" ]; then
			check "detached: logs to syslog (mounted)" wait_for 20 0.1 \
				grep -q "gpucloudfs\[$DPID\]: mounted 1 connection" "$T_DIR/syslog"
			check "detached: logs to syslog (SIGHUP)" wait_for 20 0.1 \
				grep -q "gpucloudfs\[$DPID\]: SIGHUP.*snapshot" "$T_DIR/syslog"
		else
			skip "syslog content: /dev/log belongs to the system's syslog (or not root)"
		fi
		check "helper: umount ends the daemon" unmount_and_wait "$M" "$DPID"
	fi

	# A SOURCE that is a label, the config given as -o config=; an unreachable cloud.
	printf '[gpucloudfs]\nca_file = %s\ntimeout = 2\nconnect_timeout = 1\nop_timeout = 4\nretries = 0\n[tencent]\nsecret_id = x\nsecret_key = y\nregion = ap-guangzhou\nendpoint = https://127.0.0.1:1\n' \
		"$SIM_CA" >"$T_DIR/down.ini"
	chmod 600 "$T_DIR/down.ini"
	"$HELPER" gpucloudfs "$M" -o "config=$T_DIR/down.ini,nofail" >"$T_DIR/helper.out" 2>&1
	check "helper: label SOURCE + -o config=; mounts with the cloud unreachable" mounted_by_daemon "$M"
	if [ -n "$DPID" ]; then
		check_eq "unreachable cloud: the root lists the connection" "tencent" "$(ls "$M" | tr '\n' ' ' | sed 's/ $//')"
		check "unreachable cloud: ls of the kind fails (EIO/ETIMEDOUT)" sh -c "! timeout 20 ls '$M/tencent/tasks' 2>/dev/null"
		check "helper: umount ends the daemon" unmount_and_wait "$M" "$DPID"
	fi
fi

# 3. fstab with mount -T: the old "PROGRAM#SOURCE" form of type fuse (no system install needed),
#    then the real line, type fuse.gpucloudfs, with the package installed system-wide.
if [ -z "$ROOT" ] || ! have mount; then
	skip "mount -T: needs root"
else
	if [ -x "$DEST/usr/bin/gpucloudfs" ]; then
		echo "$DEST/usr/bin/gpucloudfs#$T_DIR/c.ini $M fuse ro,_netdev,nofail,allow_other 0 0" >"$T_DIR/fstab.old"
		mount -T "$T_DIR/fstab.old" "$M" >"$T_DIR/mount.out" 2>&1
		check "fstab (type fuse, PROGRAM#CONFIG): mount -T$( [ -s "$T_DIR/mount.out" ] && head -c 200 "$T_DIR/mount.out")" mounted_by_daemon "$M"
		if [ -n "$DPID" ]; then
			check "fstab (type fuse): ls answers" sh -c "ls '$M/tencent/tasks' | wc -l | grep -qx 4"
			check "fstab (type fuse): umount ends the daemon" unmount_and_wait "$M" "$DPID"
		fi
	fi
	if [ -z "$DEB" ] || [ ! -s "$DEB" ] || ! have dpkg; then
		skip "fstab type fuse.gpucloudfs: no .deb to install"
	elif dpkg-query -W -f='${Status}' gpucloudfs 2>/dev/null | grep -q 'ok installed'; then
		skip "fstab type fuse.gpucloudfs: a gpucloudfs package is already installed; not touching it"
	else
		dpkg -i "$DEB" >"$T_DIR/dpkg.out" 2>&1 && DEB_INSTALLED=1
		check "dpkg -i the .deb$( [ -z "$DEB_INSTALLED" ] && head -c 300 "$T_DIR/dpkg.out")" test -n "$DEB_INSTALLED"
		if [ -n "$DEB_INSTALLED" ]; then
			check "/sbin/mount.fuse.gpucloudfs is where mount(8) looks" test -x /sbin/mount.fuse.gpucloudfs
			echo "$T_DIR/c.ini  $M  fuse.gpucloudfs  ro,_netdev,nofail,allow_other  0 0" >"$T_DIR/fstab"
			mount -T "$T_DIR/fstab" "$M" >"$T_DIR/mount.out" 2>&1
			check "fstab (fuse.gpucloudfs): mount -T$( [ -s "$T_DIR/mount.out" ] && head -c 200 "$T_DIR/mount.out")" mounted_by_daemon "$M"
			if [ -n "$DPID" ]; then
				check "fstab: the daemon is /usr/bin/gpucloudfs" sh -c "readlink /proc/$DPID/exe | grep -qx /usr/bin/gpucloudfs"
				check "fstab: mount answers ls" sh -c "ls '$M/tencent/tasks' | wc -l | grep -qx 4"
				check "fstab: SIGHUP makes the next ls refetch, mount stays" sighup_refetches "$M" "$DPID"
				check "fstab: umount ends the daemon" unmount_and_wait "$M" "$DPID"
			fi
			if have systemd-analyze; then
				# Only complaints about the unit count; not those about the environment.
				systemd-analyze verify --man=no /usr/lib/systemd/user/gpucloudfs.service >"$T_DIR/verify.out" 2>&1
				check "systemd-analyze verify: the user unit$(grep -m1 'gpucloudfs.service:' "$T_DIR/verify.out")" \
					sh -c "! grep -q 'gpucloudfs.service:' '$T_DIR/verify.out'"
			fi
			dpkg -r gpucloudfs >/dev/null 2>&1 && DEB_INSTALLED=
			check "dpkg -r removes it again" test ! -e /usr/bin/gpucloudfs
		fi
	fi
fi
gcf_finish
