#!/usr/bin/env python3
"""soak.py - the moving parts of tests/soak/soak.sh (see there).

  soak.py mutate  SIM_CTL N_UNTIL_EPOCH OUT.jsonl          mutate random tasks, log each new version
  soak.py read    MOUNT UNTIL_EPOCH IDS_FILE SEED OUT.tsv  read random objects' status/info.json
  soak.py list    MOUNT UNTIL_EPOCH OUT.tsv                list tencent/tasks again and again
  soak.py rss     PID UNTIL_EPOCH OUT.tsv                  the daemon's VmRSS once a second
  soak.py verify  INITIAL.json MUTATIONS.jsonl N READ_LOGS...   check every read, print the figures
"""
import errno, hashlib, json, os, random, sys, time, urllib.request

STATUSES = ["SUBMITTING", "PENDING", "STARTING", "RUNNING", "STOPPING", "STOPPED",
            "FAILED", "SUCCEED", "SUBMIT_FAILED"]


def canon(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False,
                                     separators=(",", ":")).encode()).hexdigest()[:24]


def mutate(ctl, until, out):
    rnd = random.Random(7)
    ids = [o["Id"] for o in json.load(urllib.request.urlopen(ctl + "/objects/tencent/tasks"))]
    n = 0
    with open(out, "w", buffering=1) as f:
        while time.time() < until:
            n += 1
            body = json.dumps({"id": rnd.choice(ids),
                               "set": {"Status": rnd.choice(STATUSES), "Message": "soak v%d" % n}}).encode()
            rq = urllib.request.Request(ctl + "/mutate/tencent/tasks", data=body, method="POST",
                                        headers={"Content-Type": "application/json"})
            try:
                obj = json.load(urllib.request.urlopen(rq, timeout=10))["object"]
                f.write(json.dumps(obj, ensure_ascii=False) + "\n")
            except Exception as e:  # the simulator busy: try again
                sys.stderr.write("mutate: %s\n" % e)
            time.sleep(0.05)


def read(mnt, until, ids_file, seed, out):
    rnd = random.Random(int(seed))
    ids = open(ids_file).read().split()
    with open(out, "w", buffering=1 << 16) as f:
        while time.time() < until:
            i = rnd.choice(ids)
            name = rnd.choice(("status", "info.json"))
            path = "%s/tencent/tasks/%s/%s" % (mnt, i, name)
            t0 = time.monotonic()
            try:
                fd = os.open(path, os.O_RDONLY)
                try:
                    size = os.fstat(fd).st_size
                    data = b""
                    while True:
                        b = os.read(fd, 65536)
                        if not b:
                            break
                        data += b
                finally:
                    os.close(fd)
            except OSError as e:
                ms = (time.monotonic() - t0) * 1000
                f.write("err\t%s\t%s\t%s\t%.0f\n" % (i, name, errno.errorcode.get(e.errno, str(e.errno)), ms))
                continue
            ms = (time.monotonic() - t0) * 1000
            sized = "size-ok" if len(data) == size else "size-%d-vs-%d" % (size, len(data))
            if not data.endswith(b"\n"):
                digest = "GARBAGE-no-newline"
            elif name == "status":
                digest = "status:" + data[:-1].decode("utf-8", "replace")
            else:
                try:
                    digest = canon(json.loads(data))
                except ValueError:
                    digest = "GARBAGE-not-json"
            if digest.startswith("GARBAGE"):  # keep what was read, for the report
                digest += " len=%d head=%r tail=%r" % (len(data), data[:80], data[-40:])
            f.write("ok\t%s\t%s\t%s\t%.0f\t%s\n" % (i, name, digest, ms, sized))


def lister(mnt, until, out):
    with open(out, "w", buffering=1) as f:
        while time.time() < until:
            t0 = time.monotonic()
            try:
                n = sum(1 for e in os.listdir(mnt + "/tencent/tasks") if not e.startswith("."))
                f.write("list\t%d\t%.0f\n" % (n, (time.monotonic() - t0) * 1000))
            except OSError as e:
                f.write("listerr\t%s\t%.0f\n" % (errno.errorcode.get(e.errno, str(e.errno)),
                                                 (time.monotonic() - t0) * 1000))
            time.sleep(0.2)


def rss(pid, until, out):
    t0 = time.time()
    with open(out, "w", buffering=1) as f:
        while time.time() < until:
            try:
                for l in open("/proc/%s/status" % pid):
                    if l.startswith("VmRSS:"):
                        f.write("%.1f\t%s\n" % (time.time() - t0, l.split()[1]))
            except OSError:
                f.write("%.1f\tgone\n" % (time.time() - t0))
                return
            time.sleep(1)


def verify(initial, mutations, n, logs):
    versions = {}  # id -> {"status:X", digest...}
    for o in json.load(open(initial)):
        versions.setdefault(o["Id"], set()).update({canon(o), "status:" + str(o.get("Status"))})
    nmut = 0
    for l in open(mutations):
        o = json.loads(l)
        nmut += 1
        versions.setdefault(o["Id"], set()).update({canon(o), "status:" + str(o.get("Status"))})
    ops = ok = bad = garbage = 0
    errs, bad_examples, sizes, lat_max, lists, list_bad, list_errs = {}, [], 0, 0, 0, 0, {}
    slow = []  # (ms, what) of every operation, the longest kept
    for log in logs:
        for l in open(log):
            p = l.rstrip("\n").split("\t")
            if p[0] in ("list", "listerr"):
                slow.append((float(p[2]), "listdir tencent/tasks (%s)" % p[1]))
            else:
                slow.append((float(p[4]), "%s %s/%s (%s)" % (p[0], p[1], p[2], p[3][:40])))
            if len(slow) > 1000:
                slow = sorted(slow, reverse=True)[:3]
            if p[0] == "list":
                lists += 1
                lat_max = max(lat_max, float(p[2]))
                if int(p[1]) != n:
                    list_bad += 1
                    if len(bad_examples) < 5:
                        bad_examples.append("listing of %s entries, not %d" % (p[1], n))
                continue
            if p[0] == "listerr":
                lists += 1
                list_errs[p[1]] = list_errs.get(p[1], 0) + 1
                lat_max = max(lat_max, float(p[2]))
                continue
            ops += 1
            lat_max = max(lat_max, float(p[4]))
            if p[0] == "err":
                errs[p[3]] = errs.get(p[3], 0) + 1
                continue
            if p[3] in versions.get(p[1], ()):
                ok += 1
            elif p[3].startswith("GARBAGE"):
                garbage += 1
                if len(bad_examples) < 5:
                    bad_examples.append("%s/%s read %s" % (p[1], p[2], p[3]))
            else:
                bad += 1
                if len(bad_examples) < 5:
                    bad_examples.append("%s/%s read %s: not a version the simulator had" % (p[1], p[2], p[3]))
            if p[5] != "size-ok":
                sizes += 1
                if len(bad_examples) < 5:
                    bad_examples.append("%s/%s: st_size and bytes read differ (%s)" % (p[1], p[2], p[5]))
    print(json.dumps({"reads": ops, "reads_ok_and_valid": ok, "reads_invalid": bad, "reads_garbage": garbage,
                      "size_mismatches": sizes, "errors": errs, "listings": lists,
                      "listings_incomplete": list_bad, "listing_errors": list_errs,
                      "mutations": nmut, "longest_op_ms": round(lat_max),
                      "longest_ops": ["%.0f ms: %s" % x for x in sorted(slow, reverse=True)[:3]],
                      "examples": bad_examples}))


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "mutate":
        mutate(a[0], float(a[1]), a[2])
    elif cmd == "read":
        read(a[0], float(a[1]), a[2], a[3], a[4])
    elif cmd == "list":
        lister(a[0], float(a[1]), a[2])
    elif cmd == "rss":
        rss(a[0], float(a[1]), a[2])
    elif cmd == "verify":
        verify(a[0], a[1], int(a[2]), a[3:])
