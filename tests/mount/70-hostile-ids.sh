#!/usr/bin/env bash
# Hostile IDs: every object appears exactly once under a safe, unique,
# stable name, and its info.json still carries the real ID.
. "$(dirname "$0")/lib.sh"

sim_start --tasks 3
write_config "$T_DIR/c.ini" "ttl = 1"
M=$T_DIR/mnt

long=$(printf 'x%.0s' $(seq 300))
add() { sim POST objects/tencent/tasks "$1" >/dev/null; }
add '{"Id": "a/b", "Name": "slash", "Status": "RUNNING"}'
add '{"Id": "a%2Fb", "Name": "percent", "Status": "RUNNING"}'
add '{"Id": "..", "Name": "dotdot", "Status": "RUNNING"}'
add '{"Id": ".", "Name": "dot", "Status": "RUNNING"}'
add '{"Id": ".hidden", "Name": "hidden", "Status": "RUNNING"}'
add '{"Id": "ctl\u0001\u001f", "Name": "control", "Status": "RUNNING"}'
add "{\"Id\": \"$long\", \"Name\": \"long\", \"Status\": \"RUNNING\"}"
add '{"Id": "dup", "Name": "first", "Status": "RUNNING"}'
add '{"Id": "dup", "Name": "second", "Status": "FAILED"}'
add '{"Id": "", "Name": "empty", "Status": "RUNNING"}'
add '{"Id": null, "Name": "null-id", "Status": "RUNNING"}'
add '{"Id": 42, "Name": "numeric", "Status": "RUNNING"}'
add '{"Id": "任务/一", "Name": "utf8-slash", "Status": "RUNNING"}'
gcf_mount "$T_DIR/c.ini" "$M"

ls -a "$M/tencent/tasks" | grep -v '^\.by-' >"$T_DIR/names"
check_eq "16 objects, 16 entries (plus . and ..; filter dirs aside)" 18 "$(wc -l <"$T_DIR/names")"
check_eq "names are unique" "$(sort "$T_DIR/names" | uniq | wc -l)" "$(wc -l <"$T_DIR/names")"
check "no name contains a control byte" sh -c "! LC_ALL=C grep -q '[[:cntrl:]]' '$T_DIR/names'"
check "a/b is a%2Fb-escaped" test -d "$M/tencent/tasks/a%2Fb"
check "a%2Fb (literal) is a%252Fb" test -d "$M/tencent/tasks/a%252Fb"
check_eq "a/b's info.json keeps the real Id" "a/b" "$(jq -r .Id "$M/tencent/tasks/a%2Fb/info.json")"
check ".. is %2E. (a leading dot is escaped)" test -d "$M/tencent/tasks/%2E."
check ". is %2E" test -d "$M/tencent/tasks/%2E"
check ".hidden is %2Ehidden" test -d "$M/tencent/tasks/%2Ehidden"
check "control bytes escaped" test -d "$M/tencent/tasks/ctl%01%1F"
check "UTF-8 kept, slash escaped" test -d "$M/tencent/tasks/任务%2F一"
check "numeric Id" test -d "$M/tencent/tasks/42"
longname=$(grep '^xxxx' "$T_DIR/names")
check_eq "300-byte Id: 255-byte name" 255 "${#longname}"
check_eq "300-byte Id: info.json keeps the Id" "$long" "$(jq -r .Id "$M/tencent/tasks/$longname/info.json")"
check_eq "repeated Id: both shown" "first second" "$(cat "$M/tencent/tasks/dup/name") $(cat "$M/tencent/tasks/dup~2/name")"
check_eq "every object readable" 16 "$(cat "$M"/tencent/tasks/*/status | wc -l)"

# Stable: after a refresh (TTL 1 s), the same names.
sim POST mutate/tencent/tasks '{"id": "a/b", "set": {"Status": "FAILED"}}' >/dev/null
changed() { [ "$(cat "$M/tencent/tasks/a%2Fb/status")" = FAILED ]; }
check "refresh seen" wait_for 100 0.1 changed
ls -a "$M/tencent/tasks" | grep -v '^\.by-' >"$T_DIR/names2"
check "names are stable across refreshes" cmp -s "$T_DIR/names" "$T_DIR/names2"
gcf_finish
