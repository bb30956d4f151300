#!/usr/bin/env bash
# Fleet mode (issue 11): three daemons against one simulator and one Redis
# (its own redis-server on 127.0.0.1, a free port, stopped by its PID).
#  - a listing fetched by one host is read by the others with 0 requests;
#    three cold readers at once cost the requests of one;
#  - without `redis` nothing connects and stats.json says fleet off;
#  - other credentials never read these snapshots;
#  - a host that adopted a shared snapshot refreshes it incrementally from
#    the publisher's watermark (1 request + the active query, not a listing);
#  - Redis paused (SIGSTOP), then killed and restarted, during listing loops:
#    0 failed ls, and sharing resumes by itself;
#  - the lease holder killed mid-fetch: another host completes the listing;
#  - maxmemory 1mb with evictions: never a partial or corrupt listing.
. "$(dirname "$0")/lib.sh"
. "$GCF_SRC/tests/lib-redis.sh"
trap 'redis_stop; t_cleanup' EXIT

cat >"$T_DIR/keys.json" <<'KEYS'
{"tencent": [{"secret_id": "sim-tencent-id", "secret_key": "sim-tencent-key"},
             {"secret_id": "AKIDsimB", "secret_key": "sim-key-b"}]}
KEYS
sim_start --tasks 500 --services 250 --keys "$T_DIR/keys.json"
redis_start || exit 1
write_config "$T_DIR/a.ini" "ttl = 600" "redis = $REDIS_URL" "redis_prefix = t24"
TENCENT_ID=AKIDsimB TENCENT_KEY=sim-key-b write_config "$T_DIR/b.ini" "ttl = 600" \
	"redis = $REDIS_URL" "redis_prefix = t24"
write_config "$T_DIR/off.ini" "ttl = 600"

fleet() { jq -r ".[\".fleet\"].$2" "$1/.gpucloudfs/stats.json"; }
conns() { redis_cli INFO stats | tr -d '\r' | sed -n 's/^total_connections_received://p'; }
count() { ls "$1/tencent/$2" 2>/dev/null | wc -l; }

# --- fleet off: nothing connects --------------------------------------------
before=$(conns)
gcf_mount "$T_DIR/off.ini" "$T_DIR/off"
check_eq "no redis: 250 services listed" 250 "$(count "$T_DIR/off" services)"
check_eq "no redis: stats.json says fleet off" off "$(fleet "$T_DIR/off" state)"
check_eq "no redis: no connection reached redis (only this INFO's)" $((before + 1)) "$(conns)"
gcf_umount "$T_DIR/off"

# --- sharing ------------------------------------------------------------------
for i in 1 2 3; do gcf_mount "$T_DIR/a.ini" "$T_DIR/m$i"; done
sim POST counts/reset >/dev/null
ls "$T_DIR/m1/tencent/tasks" >"$T_DIR/l1"
one=$(requests DescribeTrainingTasks)
check_eq "host 1: 500 tasks at 50 a page = 10 requests" 10 "$one"
ls "$T_DIR/m2/tencent/tasks" >"$T_DIR/l2"
ls "$T_DIR/m3/tencent/tasks" >"$T_DIR/l3"
check_eq "hosts 2 and 3 read the published snapshot: 0 requests" 10 "$(requests DescribeTrainingTasks)"
check "host 2 lists what host 1 fetched" cmp -s "$T_DIR/l1" "$T_DIR/l2"
id=$(head -1 "$T_DIR/l1")
check "a file read on host 3 is the one host 1 rendered" \
	cmp -s "$T_DIR/m1/tencent/tasks/$id/info.json" "$T_DIR/m3/tencent/tasks/$id/info.json"
cp "$T_DIR/m1/tencent/tasks/$id/info.json" "$T_DIR/ref.json"
check_eq "host 2 counts a shared hit" 1 "$(fleet "$T_DIR/m2" shared_hits)"
check_eq "host 1 counts a publication" 1 "$(fleet "$T_DIR/m1" publications)"

# Three cold readers at once (slow pages): one fetcher, the others wait.
sim POST faults '{"action": "DescribeModelServiceGroups", "type": "latency", "latency_ms": 400}' >/dev/null
pids=()
for i in 1 2 3; do
	ls "$T_DIR/m$i/tencent/services" >"$T_DIR/s$i" 2>&1 &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
sim POST faults/clear >/dev/null
check "3 hosts at once: every ls succeeded" test "$rc" = 0
check_eq "3 hosts at once: the 3 requests of one host" 3 "$(requests DescribeModelServiceGroups)"
check "3 hosts at once: the same complete listing" \
	sh -c "[ \$(wc -l <'$T_DIR/s1') = 250 ] && cmp -s '$T_DIR/s1' '$T_DIR/s2' && cmp -s '$T_DIR/s1' '$T_DIR/s3'"

# Other credentials: their own fetch, never these snapshots.
gcf_mount "$T_DIR/b.ini" "$T_DIR/b"
sim POST counts/reset >/dev/null
check_eq "other credentials: 500 tasks" 500 "$(count "$T_DIR/b" tasks)"
check_eq "other credentials: fetched themselves (10 requests)" 10 "$(requests DescribeTrainingTasks)"
check_eq "other credentials: no shared hit" 0 "$(fleet "$T_DIR/b" shared_hits)"
check "keys hold no credential" sh -c "! redis-cli -h 127.0.0.1 -p $REDIS_PORT --scan | grep -qi -e akid -e sim-"
gcf_umount "$T_DIR/b"
for i in 1 2 3; do gcf_umount "$T_DIR/m$i"; done

# --- the watermark travels with the shared snapshot ----------------------------
# Host i1 lists (cold, undated), then refreshes (a full listing dated by its
# page 0: 1 + 10 requests) and publishes it with its watermark; host i2 reads
# that publication (0 requests) and adopts the watermark with it; when i2's
# copy expires (and the publication with it) i2 takes the lease and refreshes
# incrementally from that watermark.
write_config "$T_DIR/i.ini" "ttl = 3" "refresh_wait = 60" "full_refresh = 600" \
	"redis = $REDIS_URL" "redis_prefix = t24i"
gcf_mount "$T_DIR/i.ini" "$T_DIR/i1"
gcf_mount "$T_DIR/i.ini" "$T_DIR/i2"
A=DescribeTrainingTasks
# refresh_on MNT: waits out the TTL (ls until it makes a request; refresh_wait
# is long: the ls returns once the refresh is done); DELTA = its requests.
refresh_on() {
	local n0
	n0=$(requests $A)
	wait_for 200 0.05 sh -c "ls '$1/tencent/tasks' >/dev/null; [ \$(curl -sf '$SIM_CTL/counts' | jq -r '.requests.$A // 0') -gt $n0 ]"
	DELTA=$(($(requests $A) - n0))
}
active_pages() {
	sim GET objects/tencent/tasks |
		jq '[.[] | select(.Status == "RUNNING" or .Status == "STOPPING")] | length | (. + 49) / 50 | floor | if . < 1 then 1 else . end'
}
sim POST counts/reset >/dev/null
check_eq "i1: cold listing, 10 requests" 500 "$(count "$T_DIR/i1" tasks)"
refresh_on "$T_DIR/i1"
check_eq "i1: its first refresh is a dated full listing (1 + 10)" 11 "$DELTA"
n0=$(requests $A)
check_eq "i2: reads i1's publication" 500 "$(count "$T_DIR/i2" tasks)"
check_eq "... with 0 requests" "$n0" "$(requests $A)"
id2=$(sim GET objects/tencent/tasks | jq -r '[.[] | select(.Status == "SUCCEED")][2].Id')
sim POST mutate/tencent/tasks "{\"id\": \"$id2\", \"set\": {\"Message\": \"fleet-delta\"}}" >/dev/null
ap=$(active_pages)
refresh_on "$T_DIR/i2"
check_eq "i2 (the adopter) refreshes incrementally: 1 + $ap requests, not 11" $((1 + ap)) "$DELTA"
check_eq "... and sees the change" fleet-delta "$(jq -r .Message "$T_DIR/i2/tencent/tasks/$id2/info.json")"
check_eq "... 500 tasks" 500 "$(count "$T_DIR/i2" tasks)"
check "... i2 took the lease itself (a publication of its own)" test "$(fleet "$T_DIR/i2" publications)" -ge 1
gcf_umount "$T_DIR/i1"
gcf_umount "$T_DIR/i2"

# --- Redis paused, killed, restarted during listing loops ----------------------
T_GCF_PIDS=()
for i in 1 2 3; do gcf_mount "$T_DIR/a.ini" "$T_DIR/n$i" -o ttl=2; done
loop() { # loop MNT FILE: ls until $T_DIR/stop exists; one line per failure
	while [ ! -e "$T_DIR/stop" ]; do
		n=$(ls "$1/tencent/tasks" 2>>"$2.err" | wc -l)
		[ "$n" = 500 ] || echo "ls gave $n" >>"$2"
		sleep 0.2
	done
}
: >"$T_DIR/fail"
lpids=()
for i in 1 2 3; do
	loop "$T_DIR/n$i" "$T_DIR/fail" &
	lpids+=($!)
done
sleep 3
redis_pause
sleep 4
redis_resume
sleep 2
redis_kill
sleep 1
redis_restart || exit 1
restart=$SECONDS
hits0=$(($(fleet "$T_DIR/n1" shared_hits) + $(fleet "$T_DIR/n2" shared_hits) + $(fleet "$T_DIR/n3" shared_hits)))
resumed() {
	local h=$(($(fleet "$T_DIR/n1" shared_hits) + $(fleet "$T_DIR/n2" shared_hits) + $(fleet "$T_DIR/n3" shared_hits)))
	[ "$h" -gt "$hits0" ] && [ "$(fleet "$T_DIR/n1" state)" = up ]
}
check "sharing resumes after the restart (within 40 s)" wait_for 200 0.2 resumed
echo "# sharing resumed $((SECONDS - restart)) s after the restart"
touch "$T_DIR/stop"
for p in "${lpids[@]}"; do wait "$p"; done
rm -f "$T_DIR/stop"
check_eq "Redis paused and restarted: 0 failed ls" 0 "$(wc -l <"$T_DIR/fail")"
check "the daemons logged the state changes" grep -q "fleet: redis .* unreachable" "$T_DIR/n1.log"

# --- the lease holder killed mid-fetch ----------------------------------------
sim POST faults '{"action": "DescribeTrainingTasks", "type": "latency", "latency_ms": 1000}' >/dev/null
sleep 2.5 # every host's copy past its TTL of 2 s
ls "$T_DIR/n1/tencent/tasks" >/dev/null 2>&1 &
holder=$!
leased() { [ -n "$(redis_cli --scan --pattern 't24:*:lease')" ]; }
check "host 1 takes the lease" wait_for 50 0.1 leased
kill -9 "${T_GCF_PIDS[0]}"
wait "$holder" 2>/dev/null
# A refresh asked for is waited for (not served stale after refresh_wait).
timed cat "$T_DIR/n2/.gpucloudfs/refresh/tencent/tasks"
echo "# host 2 completed the listing in $T_MS ms (lease 10 s, fetch about 3 s)"
check_eq "host 1 killed mid-fetch: host 2 completes the listing" 500 "$(count "$T_DIR/n2" tasks)"
check "... within 15 s plus the fetch time" test "$T_MS" -lt 20000
check "... by a takeover" test "$(fleet "$T_DIR/n2" takeovers)" -ge 1
sim POST faults/clear >/dev/null

# --- maxmemory 1mb: evictions, never a partial listing ------------------------
REDIS_ARGS="--maxmemory 1mb --maxmemory-policy allkeys-lru"
redis_kill
redis_restart || exit 1
head -c 600000 /dev/zero | tr '\0' x | redis_cli -x SET t24:junk >/dev/null
: >"$T_DIR/bad"
end=$((SECONDS + 8))
while [ "$SECONDS" -lt "$end" ]; do
	for i in 2 3; do
		ls "$T_DIR/n$i/tencent/tasks" >"$T_DIR/e$i" 2>/dev/null
		cmp -s "$T_DIR/e$i" "$T_DIR/l1" || echo "n$i: $(wc -l <"$T_DIR/e$i") lines" >>"$T_DIR/bad"
		cmp -s "$T_DIR/n$i/tencent/tasks/$id/info.json" "$T_DIR/ref.json" ||
			echo "n$i: $id/info.json differs" >>"$T_DIR/bad"
	done
	sleep 0.3
done
ev=$(redis_cli INFO stats | tr -d '\r' | sed -n 's/^evicted_keys://p')
echo "# maxmemory 1mb: evicted_keys $ev, fleet errors $(fleet "$T_DIR/n2" errors)/$(fleet "$T_DIR/n3" errors)"
check_eq "maxmemory 1mb: every listing complete and right" 0 "$(wc -l <"$T_DIR/bad")"
check "maxmemory 1mb: Redis did evict or refuse" test "$((ev + $(fleet "$T_DIR/n2" errors)))" -gt 0
gcf_finish
