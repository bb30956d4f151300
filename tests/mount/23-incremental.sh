#!/usr/bin/env bash
# Incremental refresh (fs/incremental.h) against the simulator, one section per
# case: an unchanged refresh costs 1 request + the active query's pages; a
# change, an addition, a deletion, a same-second update, a field that changes
# without UpdateTime moving, and a change made while a full listing pages
# (pages shift under it) all appear after a refresh; a refresh asked for is full.
# Then kill -9 and a restart: the snapshot comes back from the disk store with
# its watermark, and the first revalidation is incremental (1 request + the
# active query), yet a change and an addition made while the daemon was down
# appear.
. "$(dirname "$0")/lib.sh"

TTL=2
N=300 # 6 pages of 50
sim_start --tasks $N
write_config "$T_DIR/c.ini" "ttl = $TTL" "refresh_wait = 60" "full_refresh = 600" \
	"cache_dir = $T_DIR/store"
M=$T_DIR/mnt
gcf_mount "$T_DIR/c.ini" "$M"
D=$M/tencent/tasks
A=DescribeTrainingTasks

# The active query's pages: tasks RUNNING or STOPPING, 50 a page, at least one.
active_pages() {
	sim GET objects/tencent/tasks |
		jq '[.[] | select(.Status == "RUNNING" or .Status == "STOPPING")] | length | (. + 49) / 50 | floor | if . < 1 then 1 else . end'
}
# refresh: waits out the TTL (polling ls until it makes a request), then
# DELTA = the requests that refresh made (refresh_wait is long: ls returns
# once the refresh is done).
refresh() {
	local n0
	n0=$(requests $A)
	wait_for 200 0.05 sh -c "ls '$D' >/dev/null; [ \$(curl -sf '$SIM_CTL/counts' | jq -r '.requests.$A // 0') -gt $n0 ]"
	DELTA=$(($(requests $A) - n0))
}
field() { jq -r --arg k "$2" '.[$k] | tostring' "$D/$1/info.json"; }
newest_time() { sim GET objects/tencent/tasks | jq -r '[.[].UpdateTime] | max'; }

# --- first listing: full (6 pages; nothing moved under them)
n0=$(requests $A)
check_eq "first listing: $N objects" $N "$(ls "$D" | wc -l)"
first=$(($(requests $A) - n0))
check_eq "first listing: 6 pages" 6 "$first"

# --- the first refresh: full, dated by one request (page 0 in update order)
refresh
check_eq "first refresh: full, dated: 1 + 6 pages" 7 "$DELTA"

# --- unchanged: 1 delta page + the active query
ap=$(active_pages)
refresh
check_eq "unchanged refresh: 1 + $ap active pages" $((1 + ap)) "$DELTA"
check_eq "unchanged refresh: same listing" $N "$(ls "$D" | wc -l)"

# --- a change (UpdateTime moves)
id=$(sim GET objects/tencent/tasks | jq -r '[.[] | select(.Status == "SUCCEED")][3].Id')
sim POST mutate/tencent/tasks "{\"id\": \"$id\", \"set\": {\"Status\": \"FAILED\", \"Message\": \"changed\"}}" >/dev/null
refresh
check_eq "change: seen after a refresh" FAILED "$(cat "$D/$id/status")"
check_eq "change: info.json too" changed "$(field "$id" Message)"
check_eq "change: 1 + $ap requests" $((1 + ap)) "$DELTA"

# --- k = 60 changes: about ceil(60/50) = 2 delta pages
ids=$(sim GET objects/tencent/tasks | jq -r '[.[] | select(.Status == "SUCCEED")][10:70][].Id')
for i in $ids; do
	sim POST mutate/tencent/tasks "{\"id\": \"$i\", \"set\": {\"Message\": \"bulk\"}}" >/dev/null
done
refresh
check_eq "60 changes: every one seen" 60 "$(for i in $ids; do field "$i" Message; done | grep -c '^bulk$')"
check "60 changes: 2 or 3 delta pages + $ap active ($DELTA)" test "$DELTA" -ge $((2 + ap)) -a "$DELTA" -le $((3 + ap))

# --- an addition
new=train-900000000000000001
obj=$(sim GET objects/tencent/tasks | jq -c --arg id $new --arg t "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	'.[0] | .Id = $id | .Name = "incr-added" | .Status = "SUCCEED" | .UpdateTime = $t')
sim POST objects/tencent/tasks "$obj" >/dev/null
refresh
check_eq "addition: seen after a refresh" incr-added "$(cat "$D/$new/name" 2>/dev/null)"
check_eq "addition: $((N + 1)) objects" $((N + 1)) "$(ls "$D" | wc -l)"
# (1 delta page, 2 when more than 49 of the 60 changes share the watermark's second)
check "addition: an incremental refresh ($DELTA)" test "$DELTA" -ge $((1 + ap)) -a "$DELTA" -le $((2 + ap))

# --- a deletion: the total no longer matches: a full refresh
del=$(sim GET objects/tencent/tasks | jq -r '[.[] | select(.Status == "FAILED")][1].Id')
sim POST delete/tencent/tasks "{\"id\": \"$del\"}" >/dev/null
refresh
check "deletion: gone after a refresh" test ! -e "$D/$del"
check_eq "deletion: $N objects" $N "$(ls "$D" | wc -l)"
check "deletion: found by the total, then a full listing ($DELTA)" test "$DELTA" -ge $((1 + ap + 6))
grep -q "incremental refresh not trusted (the total count differs" "$M.log"
check "deletion: the log says why the refresh was full" test $? = 0

# --- same second as the watermark: an update that keeps the newest time
refresh # a clean watermark
wm=$(newest_time)
same=$(sim GET objects/tencent/tasks | jq -r '[.[] | select(.Status == "SUCCEED")][80].Id')
sim POST mutate/tencent/tasks "{\"id\": \"$same\", \"set\": {\"Message\": \"same-second\", \"UpdateTime\": \"$wm\"}}" >/dev/null
refresh
check_eq "same second as the watermark: seen" same-second "$(field "$same" Message)"

# --- a field that changes without UpdateTime moving (RuntimeInSeconds)
run=$(sim GET objects/tencent/tasks | jq -r '[.[] | select(.Status == "RUNNING")][0].Id')
rt=$(cat "$D/$run/runtime_in_seconds")
sim POST tick/tencent/tasks '{"field": "RuntimeInSeconds", "where": "Status", "values": ["RUNNING"], "seconds": 60}' >/dev/null
refresh
check_eq "running task: RuntimeInSeconds follows (UpdateTime did not move)" $((rt + 60)) "$(cat "$D/$run/runtime_in_seconds")"
check_eq "running task: an incremental refresh (1 + $ap)" $((1 + ap)) "$DELTA"

# --- an update while a full listing reads its pages: the least recently
# updated task is updated once page 0 is read. Full listings page in creation
# order, which the update does not disturb: nothing is lost or listed twice,
# and the change is seen by the next refresh at the latest.
old=$(sim GET objects/tencent/tasks | jq -r 'min_by(.UpdateTime).Id')
sim POST schedule "{\"collection\": \"tencent/tasks\", \"op\": \"mutate\", \"action\": \"$A\", \"after\": 2, \"body\": {\"id\": \"$old\", \"set\": {\"Message\": \"moved\"}}}" >/dev/null
cat "$M/.gpucloudfs/refresh/tencent/tasks" >/dev/null # asked for: full
check_eq "shifted pages: nothing lost, nothing twice" $N "$(ls "$D" | wc -l)"
check_eq "shifted pages: the change was made mid-listing" "[]" "$(sim GET schedule | jq -c .)"
refresh # (a full listing reads it in its page, old or new; the next refresh has it)
check_eq "shifted pages: the moved task is listed, changed, after the next refresh" moved "$(field "$old" Message)"
check_eq "shifted pages: still nothing lost, nothing twice" $N "$(ls "$D" | wc -l)"

# --- pages that shift while an incremental refresh reads them: a task of a
# later active-query page is updated once its first page is read.
ap=$(active_pages)
late=$(sim GET objects/tencent/tasks | jq -r '[.[] | select(.Status == "RUNNING")] | min_by(.UpdateTime).Id')
sim POST schedule "{\"collection\": \"tencent/tasks\", \"op\": \"mutate\", \"action\": \"$A\", \"after\": 2, \"body\": {\"id\": \"$late\", \"set\": {\"Message\": \"late\"}}}" >/dev/null
refresh
refresh # missed by the first if the pages shifted under it, never by the second
check_eq "shift during an incremental refresh: seen within two refreshes" late "$(field "$late" Message)"
check_eq "shift during an incremental refresh: $N objects" $N "$(ls "$D" | wc -l)"

# --- kill -9 and a restart: the watermark is restored with the snapshot
# file_mark: the watermark the tasks file holds (epoch seconds), or "none"
# (snapfile header: wm_time_s at 72, extra length at 124; incremental.h's
# extra blob: flags at 12, bit 1 = a watermark).
file_mark() {
	python3 - "$T_DIR/store" <<'PY'
import glob, struct, sys
for f in glob.glob(sys.argv[1] + "/*.snap"):
    b = open(f, "rb").read()
    klen, xlen = struct.unpack_from("<II", b, 120)
    if b[128:128 + klen] != b"tasks":
        continue
    x = b[128 + klen:128 + klen + xlen]
    if xlen == 40 and x[:8] == b"GCFINCR\0" and struct.unpack_from("<I", x, 12)[0] & 1:
        print(struct.unpack_from("<q", b, 72)[0])
    else:
        print("none")
PY
}
epoch() { python3 -c 'import sys,datetime; print(int(datetime.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00")).timestamp()))' "$1"; }
mark=$(epoch "$(newest_time)")
saved() { [ "$(file_mark)" = "$mark" ]; }
check "the store holds the last snapshot with its watermark (bounded poll)" wait_for 100 0.1 saved
pid=${T_GCF_PIDS[${#T_GCF_PIDS[@]} - 1]}
kill -9 "$pid"
wait "$pid" 2>/dev/null
fusermount3 -u "$M" 2>/dev/null || fusermount3 -uz "$M"
# while the daemon is down: a change and an addition
chg=$(sim GET objects/tencent/tasks | jq -r '[.[] | select(.Status == "SUCCEED")][5].Id')
sim POST mutate/tencent/tasks "{\"id\": \"$chg\", \"set\": {\"Message\": \"while-down\"}}" >/dev/null
new2=train-900000000000000002
obj=$(sim GET objects/tencent/tasks | jq -c --arg id $new2 --arg t "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	'.[0] | .Id = $id | .Name = "added-while-down" | .Status = "SUCCEED" | .UpdateTime = $t')
sim POST objects/tencent/tasks "$obj" >/dev/null
ap=$(active_pages)
clear
gcf_mount "$T_DIR/c.ini" "$M"
check_eq "restart: the first ls answers from disk ($N objects, stale)" $N "$(ls "$D" | wc -l)"
check "restart: the log says the watermark came back" grep -q "disk cache: tencent/tasks: $N objects of .*incremental from" "$M.log"
stale_gone() { [ "$(xattr "$D" user.gpucloudfs.stale)" = 0 ]; }
check "restart: revalidated (bounded poll)" wait_for 200 0.1 stale_gone
reval=$(requests $A)
check_eq "restart: the first revalidation is incremental: 1 + $ap requests, not $((N / 50 + 1))" $((1 + ap)) "$reval"
check_eq "restart: the change made while down is seen" while-down "$(field "$chg" Message)"
check_eq "restart: the addition made while down is seen" added-while-down "$(cat "$D/$new2/name" 2>/dev/null)"
check_eq "restart: $((N + 1)) objects" $((N + 1)) "$(ls "$D" | wc -l)"
gcf_finish
