#!/usr/bin/env bash
# Numbers byte for byte: every number of every object of every collection of
# the four clouds (the simulator's data carries 2^53+1, 64-bit integers,
# 1e3, 1E+2, 0.10, -0, -0.0, nested ones) reaches info.json, <kind>.jsonl,
# the scalar files and CTyun's quota.json with exactly the text the simulator
# wrote. The expected text is the simulator's own reply (GET /_sim/objects,
# written by the same code as the API replies), read token by token.
. "$(dirname "$0")/lib.sh"

sim_start --tasks 60 --services 12 --ctyun-queues 12 --baidu-units 12 --alaya-products 10
write_config_all "$T_DIR/c.ini"
M=$T_DIR/mnt
gcf_mount "$T_DIR/c.ini" "$M"

# check.py SIM_JSON COLLECTION_DIR JSONL [file=field ...]: compares, with
# every number kept as its token (never as a float), the simulator's objects
# with the info.json files, the .jsonl lines, the scalar files of top-level
# numbers and the kind's extra .json files. Prints what it compared.
cat >"$T_DIR/check.py" <<'PY'
import collections, json, os, sys


class Num:
    """A number token, compared as text."""
    __slots__ = ("t",)

    def __init__(self, t):
        self.t = t


class Obj(list):
    """An object's (key, value) pairs in order."""


def load(text):
    return json.loads(text, parse_int=Num, parse_float=Num, object_pairs_hook=Obj)


def canon(v):
    if isinstance(v, Num):
        return v.t
    if isinstance(v, Obj):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canon(x) for k, x in v) + "}"
    if isinstance(v, list):
        return "[" + ",".join(canon(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def tokens(v, out):
    if isinstance(v, Num):
        out.append(v.t)
    elif isinstance(v, Obj):
        for _, x in v:
            tokens(x, out)
    elif isinstance(v, list):
        for x in v:
            tokens(x, out)
    return out


def snake(f):
    """fs/names.c names_snake (ASCII field names)."""
    low = lambda c: "a" <= c <= "z" or "0" <= c <= "9"
    up = lambda c: "A" <= c <= "Z"
    out = []
    for i, c in enumerate(f):
        if up(c):
            prev_low = i > 0 and low(f[i - 1])
            acronym_end = (i > 0 and up(f[i - 1]) and i + 1 < len(f) and low(f[i + 1])
                           and not f[i + 1].isdigit())
            if (prev_low or acronym_end) and out and out[-1] != "_":
                out.append("_")
            out.append(c.lower())
        elif c in "- .":
            out.append("_")
        else:
            out.append(c)
    return "".join(out)


def read(p):
    with open(p, encoding="utf-8") as f:
        return f.read()


sim_path, coll, jsonl = sys.argv[1:4]
json_files = dict(a.split("=", 1) for a in sys.argv[4:])  # file -> field
bad = []
sim = load(read(sim_path))
want = collections.Counter(canon(o) for o in sim)
sim_tokens = sum(len(tokens(o, [])) for o in sim)

got = collections.Counter()
scalars = set()
n_scalar = n_extra = 0
extra_tokens = set()
for name in sorted(os.listdir(coll)):
    if name.startswith("."):
        continue
    d = os.path.join(coll, name)
    info = load(read(os.path.join(d, "info.json")))
    got[canon(info)] += 1
    seen = set(["info.json"]) | set(json_files)
    for k, v in info:
        if not isinstance(v, (Num, str, bool)):
            continue
        fname = snake(k)
        if fname in seen:
            continue  # the first field of a name has the file
        seen.add(fname)
        if isinstance(v, Num):
            text = read(os.path.join(d, fname))
            if text != v.t + "\n":
                bad.append("%s/%s: %r, expected %r" % (name, fname, text, v.t + "\n"))
            scalars.add(v.t)
            n_scalar += 1
    for fname, field in json_files.items():
        v = dict(info).get(field)
        if v is None:
            continue
        x = load(read(os.path.join(d, fname)))
        if canon(x) != canon(v):
            bad.append("%s/%s differs from the object's %s" % (name, fname, field))
        extra_tokens.update(tokens(x, []))
        n_extra += len(tokens(x, []))
if got != want:
    bad.append("info.json files differ from the simulator's objects: missing %s, extra %s"
               % tuple([s[:300] for s in list((a - b).elements())[:1]]
                       for a, b in ((want, got), (got, want))))
lines = read(jsonl).splitlines()
if collections.Counter(canon(load(l)) for l in lines) != want:
    bad.append("%s lines differ from the simulator's objects" % jsonl)
# the data must hold the numbers this test is about, or it proves nothing
for t in ("9007199254740993", "12345678901234567890", "1e3", "1E+2", "0.10", "-0", "-0.0",
          "-1.5e-7"):
    if t not in scalars:
        bad.append("no scalar file holds %s" % t)
if json_files and not {"9007199254740993", "0.50", "5E-1"} <= extra_tokens:
    bad.append("the .json files hold none of 9007199254740993, 0.50, 5E-1")
print("# %s: %d objects, %d number tokens in info.json and .jsonl each, %d scalar files, "
      "%d tokens in %s" % (coll.split("/mnt/", 1)[-1], len(sim), sim_tokens, n_scalar, n_extra,
                           ",".join(json_files) or "no extra .json files"))
for b in bad[:10]:
    print("#   " + b)
sys.exit(1 if bad else 0)
PY

for c in tencent/tasks tencent/services ctyun/queues baidu/computeunits alaya/products; do
	sim GET "objects/$c" >"$T_DIR/sim.json"
	extra=
	[ "$c" = ctyun/queues ] && extra=quota.json=queueQuota
	check "$c: every number as the cloud wrote it in info.json, ${c#*/}.jsonl, scalar files${extra:+, quota.json}" \
		python3 "$T_DIR/check.py" "$T_DIR/sim.json" "$M/$c" "$M/${c%/*}/${c#*/}.jsonl" $extra
done

# One value by hand, as a user would see it.
t=$(jq -r '.[1].Id' <(sim GET objects/tencent/tasks))
check_eq "cat big_id" 9007199254740993 "$(cat "$M/tencent/tasks/$t/big_id")"
check "grep finds 2^53+1 in info.json" grep -q '"bigId":	9007199254740993,' "$M/tencent/tasks/$t/info.json"
check "grep finds 1e3 in tasks.jsonl" grep -q '"cnt":1e3,' "$M/tencent/tasks.jsonl"
gcf_finish
