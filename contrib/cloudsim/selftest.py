#!/usr/bin/env python3
"""Quick self-test of cloudsim (stdlib only, < 20 s): starts the simulator in a temporary
directory, talks to it over HTTP and HTTPS with an independent TC3-HMAC-SHA256 signer, checks
paging, totals, errors and the control API, then stops it by PID.

    python3 contrib/cloudsim/selftest.py [-v]

Prints one line per check and ends with "N passed, M failed"; exit status 0 only if all pass.
"""

import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the vector checks replay recorded signatures through clouds/*.py
SID, SKEY = "sim-tencent-id", "sim-tencent-key"
HOST = "tione.tencentcloudapi.com"

results = {"pass": 0, "fail": 0}
VERBOSE = "-v" in sys.argv


def check(name, cond, detail=""):
    if cond:
        results["pass"] += 1
        print("ok   %s" % name)
    else:
        results["fail"] += 1
        print("FAIL %s %s" % (name, detail))


# ---------------------------------------------------------------- an independent TC3 signer

def tc3_authorization(secret_id, secret_key, timestamp, host, content_type, body):
    date = time.strftime("%Y-%m-%d", time.gmtime(timestamp))
    canonical = "POST\n/\n\ncontent-type:%s\nhost:%s\n\ncontent-type;host\n%s" % (
        content_type, host, hashlib.sha256(body).hexdigest())
    sts = "TC3-HMAC-SHA256\n%d\n%s/tione/tc3_request\n%s" % (
        timestamp, date, hashlib.sha256(canonical.encode()).hexdigest())

    def h(k, m):
        return hmac.new(k, m.encode(), hashlib.sha256).digest()
    k = h(h(h(("TC3" + secret_key).encode(), date), "tione"), "tc3_request")
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    return "TC3-HMAC-SHA256 Credential=%s/%s/tione/tc3_request, SignedHeaders=content-type;host, " \
           "Signature=%s" % (secret_id, date, sig)


class Client:
    def __init__(self, port, tls_ca=None):
        self.port = port
        if tls_ca:
            ctx = ssl.create_default_context(cafile=tls_ca)
            self.conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
            # verify against the Tencent name the certificate carries
            self.conn._tunnel_host = None
            self.ctx_host = HOST
        else:
            self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def raw(self, method, path, body=b"", headers=None):
        self.conn.request(method, path, body=body, headers=headers or {})
        r = self.conn.getresponse()
        data = r.read()
        return r.status, data

    def ctl(self, method, path, obj=None):
        body = json.dumps(obj).encode() if obj is not None else b""
        st, data = self.raw(method, "/_sim/" + path, body, {"Content-Type": "application/json"})
        return st, json.loads(data)

    def tc(self, action, params, ts=None, secret_id=SID, secret_key=SKEY, host_sign=None,
           mangle=None, version="2021-11-11", region="ap-guangzhou"):
        body = json.dumps(params, ensure_ascii=False).encode()
        ts = int(time.time()) if ts is None else ts
        host_hdr = "%s:%d" % (HOST, self.port)
        auth = tc3_authorization(secret_id, secret_key, ts, host_sign or HOST, "application/json",
                                 body)
        if mangle:
            auth = mangle(auth)
        headers = {"Host": host_hdr, "Content-Type": "application/json", "X-TC-Action": action,
                   "X-TC-Timestamp": str(ts), "X-TC-Version": version, "X-TC-Region": region,
                   "Authorization": auth}
        st, data = self.raw("POST", "/", body, headers)
        return st, json.loads(data)["Response"]


def err(resp):
    return (resp.get("Error") or {}).get("Code")


def main():
    tmp = tempfile.mkdtemp(prefix="cloudsim-selftest-")
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "cloudsim.py"), "--state-dir", tmp,
                             "--tasks", "137", "--services", "23", "--seed", "7"],
                            stdout=subprocess.PIPE, stderr=None if VERBOSE else subprocess.DEVNULL)
    try:
        ready = None
        for _ in range(200):  # bounded poll for ready.json
            if proc.poll() is not None:
                break
            try:
                with open(os.path.join(tmp, "ready.json")) as f:
                    ready = json.load(f)
                break
            except (OSError, ValueError):
                time.sleep(0.05)
        check("simulator became ready", ready is not None)
        if ready is None:
            return
        check("ready.json pid is the child", ready["pid"] == proc.pid)
        check("ready.json ca_file is absolute", os.path.isabs(ready["ca_file"]))
        run_checks(ready)
        run_other_clouds(ready)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(10)
            check("exits cleanly on SIGTERM", rc == 0, "rc=%s" % rc)
        except subprocess.TimeoutExpired:
            proc.kill()
            check("exits cleanly on SIGTERM", False, "had to kill")
        shutil.rmtree(tmp, ignore_errors=True)
        print("%d passed, %d failed" % (results["pass"], results["fail"]))


def vector_checks():
    """The simulator's verifier reproduces the official SDK's recorded signatures."""
    path = os.path.join(HERE, "..", "..", "tests", "sdk", "vectors", "tencent.json")
    if not os.path.exists(path):
        return
    from clouds import tencent
    with open(path, encoding="utf-8") as f:
        vectors = json.load(f)
    for v in vectors:
        date = time.strftime("%Y-%m-%d", time.gmtime(v["timestamp"]))
        host = v["endpoint"].split("://", 1)[1]
        sts = tencent.tc3_string_to_sign("POST", "/", "", "content-type:%s\nhost:%s\n" % (
            v["content_type"], host), "content-type;host", v["body"].encode("utf-8"),
            v["timestamp"], date, "tione")
        sig = tencent.tc3_signature(v["secret_key"], date, "tione", sts)
        check("SDK vector %s reproduced" % v["name"], v["authorization"].endswith("Signature=" + sig))
        mine = tc3_authorization(v["secret_id"], v["secret_key"], v["timestamp"], host,
                                 v["content_type"], v["body"].encode("utf-8"))
        check("SDK vector %s reproduced by the self-test signer" % v["name"], mine == v["authorization"])


def baidu_vector_checks():
    """The simulator's bce-auth-v1 verifier reproduces the Qianfan SDK's recorded signatures."""
    path = os.path.join(HERE, "..", "..", "tests", "sdk", "vectors", "baidu.json")
    if not os.path.exists(path):
        return
    from clouds import baidu
    with open(path, encoding="utf-8") as f:
        vectors = json.load(f)
    for v in vectors:
        hdrs = {"content-length": str(v["content_length"]), "content-type": v["content_type"],
                "host": v["host"], "x-bce-date": v["x_bce_date"]}
        pairs = [(n, hdrs.get(n, "")) for n in v["signed_headers"].split(";")]
        creq = baidu.bce_canonical_request(v["method"], v["path"], v["query"], pairs)
        key = baidu.bce_signing_key(v["access_key"], v["secret_key"], v["timestamp"],
                                    v["expiration_s"])
        sig = baidu.bce_signature(key, creq)
        check("Qianfan SDK vector %s reproduced" % v["name"],
              creq == v["canonical_request"] and v["authorization"].endswith("/" + sig))


def ctyun_vector_checks():
    """The simulator's EOP verifier agrees with the hand-derived CTyun vectors."""
    path = os.path.join(HERE, "..", "..", "tests", "sdk", "vectors", "ctyun.json")
    if not os.path.exists(path):
        return
    from clouds import ctyun
    with open(path, encoding="utf-8") as f:
        vectors = json.load(f)
    for v in vectors:
        sts = "ctyun-eop-request-id:%s\neop-date:%s\n\n\n%s" % (
            v["request_id"], v["eop_date"], hashlib.sha256(v["body"].encode("utf-8")).hexdigest())
        sig = ctyun.eop_signature(v["access_key"], v["secret_key"], v["eop_date"], sts)
        check("CTyun vector %s reproduced" % v["name"],
              v["authorization"].endswith("Signature=" + sig) and
              ctyun.eop_date_epoch(v["eop_date"]) == v["utc_epoch"])


def run_checks(ready):
    c = Client(ready["http_port"])
    st, h = c.ctl("GET", "health")
    check("health", st == 200 and h == {"ok": True})
    st, tasks = c.ctl("GET", "objects/tencent/tasks")
    check("137 tasks generated", len(tasks) == 137)
    ids = [t["Id"] for t in tasks]
    check("task ids unique and train-<18 digits>",
          len(set(ids)) == 137 and all(i.startswith("train-") and len(i) == 24 and i[6:].isdigit()
                                       for i in ids))
    check("create times distinct", len({t["CreateTime"] for t in tasks}) == 137)
    check("some nulls present", any(t["EndTime"] is None for t in tasks))
    st, raw = c.raw("GET", "/_sim/objects/tencent/tasks")
    check("exact number tokens in replies (2^53+1, 1e3, 0.10, -0, 1E+2)",
          all(t in raw for t in (b'"bigId":9007199254740993,', b'"cnt":1e3,', b'"fee":0.10,',
                                  b'"negZero":-0,', b'"scale":1E+2,'))
          and raw.count(b'"bigId":') == len(range(1, 137, 5)))
    check("... read as numbers by a JSON reader",
          tasks[1]["bigId"] == 9007199254740993 and tasks[1]["cnt"] == 1000.0)
    st, svcs = c.ctl("GET", "objects/tencent/services")
    check("23 service groups, ms- ids", len(svcs) == 23 and all(
        s["ServiceGroupId"].startswith("ms-") for s in svcs))

    # determinism: reset with the same seed gives the same data
    c.ctl("POST", "reset", {"seed": 7, "tasks": 137, "services": 23})
    st, tasks2 = c.ctl("GET", "objects/tencent/tasks")
    check("seeded data deterministic", tasks2 == tasks)

    # accepted + paging over CreateTime ASC
    seen = []
    total = None
    for off in range(0, 137, 50):
        st, r = c.tc("DescribeTrainingTasks", {"Offset": off, "Limit": 50,
                                               "OrderField": "CreateTime", "Order": "ASC"})
        if err(r):
            check("page %d accepted" % off, False, json.dumps(r))
            break
        total = r["TotalCount"]
        seen += [t["Id"] for t in r["TrainingTaskSet"]]
    check("paging covers every task once", total == 137 and sorted(seen) == sorted(ids)
          and len(seen) == 137)
    by_ct = sorted(tasks, key=lambda t: t["CreateTime"])
    check("CreateTime ASC order", seen == [t["Id"] for t in by_ct])
    st, r = c.tc("DescribeTrainingTasks", {})
    check("defaults: 10 items, DESC UpdateTime", len(r.get("TrainingTaskSet", [])) == 10 and
          [t["UpdateTime"] for t in r["TrainingTaskSet"]] ==
          sorted([t["UpdateTime"] for t in tasks], reverse=True)[:10])
    st, r = c.tc("DescribeModelServiceGroups", {"Limit": 100})
    check("services: all in one page of 100", r.get("TotalCount") == 23 and
          len(r["ServiceGroups"]) == 23)
    st, r = c.tc("DescribeModelServiceGroups", {})
    check("services default limit 20", len(r.get("ServiceGroups", [])) == 20)

    # filters
    status = tasks[0]["Status"]
    st, r = c.tc("DescribeTrainingTasks", {"Filters": [{"Name": "Status", "Values": [status]}],
                                           "Limit": 50})
    check("Status filter total", r.get("TotalCount") == sum(t["Status"] == status for t in tasks))
    st, r = c.tc("DescribeTrainingTasks", {"Filters": [{"Name": "Id", "Values": [ids[3]]}]})
    check("Id filter", r.get("TotalCount") == 1 and r["TrainingTaskSet"][0]["Id"] == ids[3])
    st, r = c.tc("DescribeTrainingTasks", {"Filters": [{"Name": "Name", "Values": ["训练"],
                                                        "Fuzzy": True}], "Limit": 50})
    check("fuzzy Chinese Name filter", r.get("TotalCount") == sum("训练" in t["Name"] for t in tasks))
    st, r = c.tc("DescribeTrainingTasks", {"Filters": [{"Name": "Nope", "Values": ["x"]}]})
    check("unknown filter -> InvalidParameterValue", err(r) == "InvalidParameterValue")
    st, r = c.tc("DescribeModelServiceGroups", {"Filters": [{"Name": "ServiceGroupId",
                                                             "Values": [svcs[5]["ServiceGroupId"]]}]})
    check("ServiceGroupId filter", r.get("TotalCount") == 1)

    # errors
    st, r = c.tc("DescribeTrainingTasks", {"Limit": 51})
    check("Limit 51 -> PageLimitExceeded", err(r) == "InvalidParameterValue.PageLimitExceeded")
    st, r = c.tc("DescribeModelServiceGroups", {"Limit": 101})
    check("services Limit 101 -> PageLimitExceeded",
          err(r) == "InvalidParameterValue.PageLimitExceeded")
    st, r = c.tc("DescribeTrainingTasks", {}, host_sign="%s:%d" % (HOST, c.port))
    check("host:port signed also accepted", err(r) is None)
    st, r = c.tc("DescribeTrainingTasks", {}, secret_key="wrong")
    check("wrong key -> SignatureFailure (HTTP 200)", st == 200 and
          err(r) == "AuthFailure.SignatureFailure")
    st, r = c.tc("DescribeTrainingTasks", {}, mangle=lambda a: a[:-1] + "z")
    check("non-hex signature byte -> SignatureFailure", err(r) == "AuthFailure.SignatureFailure")
    st, r = c.tc("DescribeTrainingTasks", {}, secret_id="AKIDnobody")
    check("unknown id -> SecretIdNotFound", err(r) == "AuthFailure.SecretIdNotFound")
    st, r = c.tc("DescribeTrainingTasks", {}, ts=int(time.time()) - 600)
    check("10 min old -> SignatureExpire", err(r) == "AuthFailure.SignatureExpire")
    st, r = c.tc("DescribeTrainingTasks", {}, mangle=lambda a: a.replace(", ", ","))
    check("garbled header -> InvalidAuthorization", err(r) == "AuthFailure.InvalidAuthorization")
    st, r = c.tc("DescribeTrainingTasks", {}, mangle=lambda a: a.replace("/tione/", "/cvm/"))
    check("wrong service -> SignatureFailure", err(r) == "AuthFailure.SignatureFailure")
    st, r = c.tc("DescribeNothing", {})
    check("unknown action -> InvalidAction", err(r) == "InvalidAction")
    st, r = c.tc("DescribeTrainingTasks", {}, version="2019-01-01")
    check("wrong version rejected", err(r) == "NoSuchVersion")
    st, r = c.tc("DescribeTrainingTasks", {}, region="")
    check("missing region -> MissingParameter", err(r) == "MissingParameter")
    st, r = c.tc("DescribeTrainingTasks", {"Foo": 1})
    check("unknown parameter -> UnknownParameter", err(r) == "UnknownParameter")

    # clock offset
    c.ctl("POST", "clock", {"offset_s": 3600})
    st, r = c.tc("DescribeTrainingTasks", {})
    check("clock offset +1h -> SignatureExpire", err(r) == "AuthFailure.SignatureExpire")
    st, r = c.tc("DescribeTrainingTasks", {}, ts=int(time.time()) + 3600)
    check("client at sim clock accepted", err(r) is None)
    c.ctl("POST", "clock", {"offset_s": 0})

    # control API: mutate / delete / append
    tid = ids[10]
    st, m = c.ctl("POST", "mutate/tencent/tasks", {"id": tid, "set": {"Status": "FAILED"}})
    st, r = c.tc("DescribeTrainingTasks", {"Filters": [{"Name": "Id", "Values": [tid]}]})
    t = r["TrainingTaskSet"][0]
    check("mutate visible, UpdateTime bumped", t["Status"] == "FAILED" and
          t["UpdateTime"] > tasks[10]["UpdateTime"])
    st, _ = c.ctl("POST", "mutate/tencent/tasks", {"id": "train-nope", "set": {}})
    check("mutate absent -> 404", st == 404)

    # what an incremental refresh relies on: UpdateTime DESC order, Status filters with
    # several values, changes without the update time moving, changes mid-listing
    # (the rate limit off meanwhile, so that the checks after keep their budget)
    c.ctl("POST", "limits", {"DescribeTrainingTasks": 0})
    st, r = c.tc("DescribeTrainingTasks", {"Limit": 50, "OrderField": "UpdateTime",
                                           "Order": "DESC"})
    ut = [t["UpdateTime"] for t in r["TrainingTaskSet"]]
    check("UpdateTime DESC: the mutated task first, then newest first",
          r["TrainingTaskSet"][0]["Id"] == tid and ut == sorted(ut, reverse=True))
    st, r = c.tc("DescribeTrainingTasks", {"Limit": 50, "Filters": [
        {"Name": "Status", "Values": ["RUNNING", "STOPPING"]}]})
    want = [t for t in tasks if t["Status"] in ("RUNNING", "STOPPING") and t["Id"] != tid]
    check("Status filter with two values OR-ed, TotalCount filtered",
          r["TotalCount"] == len(want) and
          all(t["Status"] in ("RUNNING", "STOPPING") for t in r["TrainingTaskSet"]))
    run = want[0]["Id"]
    st, m = c.ctl("POST", "mutate/tencent/tasks", {"id": run, "set": {"Message": "quiet"},
                                                   "touch": False})
    check("mutate touch=false keeps UpdateTime",
          st == 200 and m["object"]["UpdateTime"] == want[0]["UpdateTime"])
    st, m = c.ctl("POST", "tick/tencent/tasks", {"field": "RuntimeInSeconds", "where": "Status",
                                                 "values": ["RUNNING"], "seconds": 7})
    st, r = c.tc("DescribeTrainingTasks", {"Filters": [{"Name": "Id", "Values": [run]}]})
    t = r["TrainingTaskSet"][0]
    check("tick: RuntimeInSeconds grows, UpdateTime stays",
          st == 200 and m["changed"] >= 1 and
          t["RuntimeInSeconds"] == want[0]["RuntimeInSeconds"] + (7 if want[0]["Status"] == "RUNNING" else 0)
          and t["UpdateTime"] == want[0]["UpdateTime"])
    last = tasks[-1]["Id"]
    st, _ = c.ctl("POST", "schedule", {"collection": "tencent/tasks", "op": "mutate",
                                       "action": "DescribeTrainingTasks", "after": 2,
                                       "body": {"id": last, "set": {"Message": "moved",
                                                                 "UpdateTime": "2099-01-01T00:00:00Z"}}})
    st1, r1 = c.tc("DescribeTrainingTasks", {"Limit": 5})
    st2, r2 = c.tc("DescribeTrainingTasks", {"Limit": 5})
    check("schedule: the change lands on the 2nd request, not before",
          st == 200 and r1["TrainingTaskSet"][0]["Id"] != last and
          r2["TrainingTaskSet"][0]["Id"] == last)
    st, sch = c.ctl("GET", "schedule")
    check("schedule: done changes are dropped", st == 200 and sch == [])
    st, _ = c.ctl("POST", "schedule", {"collection": "tencent/nope", "op": "delete", "body": {}})
    check("schedule: unknown collection -> 404", st == 404)
    c.ctl("POST", "limits", {"DescribeTrainingTasks": 20})
    c.ctl("POST", "delete/tencent/tasks", {"id": tid})
    hostile = dict(tasks[0], Id="a/b\x01" + "x" * 300)
    c.ctl("POST", "objects/tencent/tasks", hostile)
    c.ctl("POST", "objects/tencent/tasks", dict(tasks[1]))  # repeated id
    st, objs = c.ctl("GET", "objects/tencent/tasks")
    check("delete + append (hostile, duplicate)", len(objs) == 138 and objs[-2]["Id"] == hostile["Id"])
    st, r = c.tc("DescribeTrainingTasks", {"Limit": 1})
    check("TotalCount follows the store", r.get("TotalCount") == 138)

    # faults
    c.ctl("POST", "faults", {"action": "DescribeTrainingTasks", "type": "cloud_error",
                             "code": "InternalError", "count": 1})
    st, r = c.tc("DescribeTrainingTasks", {})
    check("cloud_error fault", err(r) == "InternalError")
    st, r = c.tc("DescribeTrainingTasks", {})
    check("fault count exhausted", err(r) is None)
    c.ctl("POST", "faults", {"action": "*", "type": "http_status", "status": 503, "count": 1})
    st, _ = c.raw("POST", "/", b"{}", {"X-TC-Action": "DescribeTrainingTasks"})
    check("http_status fault", st == 503)
    c.ctl("POST", "faults", {"type": "malformed", "count": 1})
    st, data = c.raw("POST", "/", b"{}", {"X-TC-Action": "DescribeModelServiceGroups"})
    try:
        json.loads(data)
        ok = False
    except ValueError:
        ok = True
    check("malformed fault", st == 200 and ok)
    c.ctl("POST", "faults", {"type": "throttle", "count": 1})
    st, r = c.tc("DescribeTrainingTasks", {})
    check("throttle fault", err(r) == "RequestLimitExceeded")
    c.ctl("POST", "faults", {"type": "latency", "latency_ms": 300, "count": 1})
    t0 = time.monotonic()
    st, r = c.tc("DescribeTrainingTasks", {})
    check("latency fault", time.monotonic() - t0 >= 0.3 and err(r) is None)
    for kind in ("truncate", "reset"):
        c.ctl("POST", "faults", {"type": kind, "count": 1})
        c2 = Client(ready["http_port"])
        try:
            c2.tc("DescribeTrainingTasks", {})
            ok = False
        except (http.client.HTTPException, OSError, ValueError):
            ok = True
        check("%s fault breaks the reply" % kind, ok)
    c.ctl("POST", "faults", {"type": "hang", "count": 1})
    c3 = Client(ready["http_port"])
    c3.conn.timeout = 0.5
    try:
        c3.tc("DescribeTrainingTasks", {})
        ok = False
    except (TimeoutError, OSError):
        ok = True
    check("hang fault holds the reply", ok)
    c3.conn.close()
    c.ctl("POST", "faults/clear")

    # rate limit
    c.ctl("POST", "counts/reset")
    c.ctl("POST", "limits", {"DescribeTrainingTasks": 5})
    codes = [err(c.tc("DescribeTrainingTasks", {"Limit": 1})[1]) for _ in range(8)]
    check("limit 5/s throttles the rest", codes.count(None) == 5 and
          codes.count("RequestLimitExceeded") == 3, str(codes))
    st, counts = c.ctl("GET", "counts")
    check("counts: requests/throttled", counts["requests"].get("DescribeTrainingTasks") == 8 and
          counts["throttled"].get("DescribeTrainingTasks") == 3, json.dumps(counts))
    # 8 requests within well under a second: all 8 counted in one window
    check("counts: max_per_s counts throttled arrivals too",
          counts["max_per_s"].get("DescribeTrainingTasks") == 8, json.dumps(counts))
    c.ctl("POST", "limits", {"DescribeTrainingTasks": 0})
    codes = [err(c.tc("DescribeTrainingTasks", {"Limit": 1})[1]) for _ in range(25)]
    check("limit 0 = off", codes.count(None) == 25)

    # keep-alive: all of the above on this client used one connection
    c.ctl("POST", "counts/reset")
    for _ in range(5):
        c.tc("DescribeTrainingTasks", {"Limit": 1})
    st, counts = c.ctl("GET", "counts")
    check("keep-alive reuses the connection", counts["connections"] == 0, json.dumps(counts))

    # HTTPS with the generated CA, certificate valid for the Tencent host name
    ctx = ssl.create_default_context(cafile=ready["ca_file"])
    conn = http.client.HTTPSConnection("127.0.0.1", ready["https_port"], context=ctx, timeout=10)
    import socket
    sock = socket.create_connection(("127.0.0.1", ready["https_port"]), timeout=10)
    conn.sock = ctx.wrap_socket(sock, server_hostname=HOST)
    c.conn = conn
    c.port = ready["https_port"]
    st, r = c.tc("DescribeModelServiceGroups", {"Limit": 5})
    check("HTTPS, cert valid for %s, accepted" % HOST, st == 200 and err(r) is None and
          len(r["ServiceGroups"]) == 5)
    st, h = c.ctl("GET", "health")
    check("control API on the HTTPS port", h == {"ok": True})

    # reset
    st, _ = c.ctl("POST", "reset", {"tasks": 5})
    st, objs = c.ctl("GET", "objects/tencent/tasks")
    st2, svcs2 = c.ctl("GET", "objects/tencent/services")
    check("reset with size (others keep start values)", len(objs) == 5 and len(svcs2) == 23)
    scale_checks(c)


def scale_checks(c):
    """What the scale benchmark relies on: --active-percent / active_percent, /_sim/summary,
    update times after a mutate at a size whose generated times reach past now, and the
    cached orders following every change."""
    st, r = c.ctl("POST", "reset", {"tasks": 2000, "active_percent": 1})
    st, sm = c.ctl("GET", "summary/tencent/tasks/Status")
    final = ("STOPPED", "FAILED", "SUCCEED", "SUBMIT_FAILED")
    check("active_percent 1: exactly 20 of 2000 tasks in a non-final status",
          st == 200 and sm["count"] == 2000 and
          sum(n for k, n in sm["by"].items() if k not in final) == 20, json.dumps(sm))
    st, r = c.ctl("POST", "reset", {"active_percent": 101})
    check("active_percent out of range -> 400", st == 400)
    st, r = c.ctl("POST", "reset", {"tasks": 137, "active_percent": None})
    st, sm = c.ctl("GET", "summary/tencent/tasks/Status")
    check("active_percent null: the seeded mix again", sm["by"].get("RUNNING", 0) > 20,
          json.dumps(sm))
    st, tasks = c.ctl("GET", "objects/tencent/tasks")
    c.ctl("POST", "limits", {"DescribeTrainingTasks": 0})
    # the cached order and the Status selection follow a change between two identical queries
    q = {"Limit": 50, "OrderField": "UpdateTime", "Order": "DESC"}
    fq = {"Limit": 50, "Filters": [{"Name": "Status", "Values": ["RUNNING"]}]}
    st, r1 = c.tc("DescribeTrainingTasks", q)
    st, f1 = c.tc("DescribeTrainingTasks", fq)
    victim = tasks[-1]["Id"]
    c.ctl("POST", "mutate/tencent/tasks", {"id": tasks[3]["Id"], "set": {"Status": "RUNNING"}})
    c.ctl("POST", "delete/tencent/tasks", {"id": victim})
    st, r2 = c.tc("DescribeTrainingTasks", q)
    st, f2 = c.tc("DescribeTrainingTasks", fq)
    check("cached order follows a mutate and a delete",
          r2["TrainingTaskSet"][0]["Id"] == tasks[3]["Id"] and r2["TotalCount"] == 136 and
          victim not in [t["Id"] for t in r2["TrainingTaskSet"]] and
          f2["TotalCount"] == f1["TotalCount"] + (tasks[3]["Status"] != "RUNNING") -
          (tasks[-1]["Status"] == "RUNNING"))
    st, mm = c.ctl("POST", "mutate-many/tencent/tasks", {"count": 3, "where": "Status",
                                                         "values": ["SUCCEED"],
                                                         "set": {"Message": "many"}})
    st2, r3 = c.tc("DescribeTrainingTasks", {"Limit": 3, "OrderField": "UpdateTime",
                                             "Order": "DESC"})
    check("mutate-many: 3 SUCCEED tasks changed, now the newest updates",
          st == 200 and len(set(mm["ids"])) == 3 and
          sorted(t["Id"] for t in r3["TrainingTaskSet"]) == sorted(mm["ids"]) and
          all(t["Message"] == "many" and t["Status"] == "SUCCEED" for t in r3["TrainingTaskSet"]),
          json.dumps(mm))
    st, _ = c.ctl("POST", "mutate-many/tencent/tasks", {"count": 100000, "set": {}})
    check("mutate-many: more than match -> 409", st == 409)
    # 40,000 tasks ~45 min apart from 2024-05-01 reach past now: a mutate still lands first
    st, r = c.ctl("POST", "reset", {"tasks": 40000, "active_percent": 0})
    st, p0 = c.tc("DescribeTrainingTasks", q)
    newest = p0["TrainingTaskSet"][0]["UpdateTime"]
    some = p0["TrainingTaskSet"][-1]["Id"]
    c.ctl("POST", "mutate/tencent/tasks", {"id": some, "set": {"Message": "changed"}})
    st, p1 = c.tc("DescribeTrainingTasks", q)
    check("future data: update_shift_s > 0, a mutated task is the newest update",
          r["update_shift_s"] > 0 and p1["TrainingTaskSet"][0]["Id"] == some and
          p1["TrainingTaskSet"][0]["UpdateTime"] > newest,
          json.dumps([r, newest, p1["TrainingTaskSet"][0]["UpdateTime"], some])[:400])
    c.ctl("POST", "reset", {"tasks": 5})


# ---------------------------------------------------------------- CTyun, Baidu, Alaya

def eop_headers(ak, sk, body, epoch, request_id="0d2f7a4e-1c1b-4c1e-9f7e-6d1f4a0c9b11"):
    import base64
    date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch + 8 * 3600))
    sts = "ctyun-eop-request-id:%s\neop-date:%s\n\n\n%s" % (
        request_id, date, hashlib.sha256(body).hexdigest())

    def h(k, m):
        return hmac.new(k, m.encode(), hashlib.sha256).digest()
    kdate = h(h(h(sk.encode(), date), ak), date[:8])
    sig = base64.b64encode(hmac.new(kdate, sts.encode(), hashlib.sha256).digest()).decode()
    return {"Content-Type": "application/json", "Eop-Date": date,
            "Ctyun-Eop-Request-Id": request_id,
            "Eop-Authorization": "%s Headers=ctyun-eop-request-id;eop-date Signature=%s" % (ak, sig)}


def bce_headers(ak, sk, host, body, epoch, action="DescribeComputeUnits"):
    from urllib.parse import quote
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
    enc = lambda v: quote(v, safe="-_.~")  # noqa: E731
    headers = {"content-length": str(len(body)), "content-type": "application/json",
               "host": host, "x-bce-date": ts}
    canon = "\n".join(sorted("%s:%s" % (k, enc(v)) for k, v in headers.items()))
    creq = "POST\n/v2/computeunit\nAction=%s\n%s" % (enc(action), canon)
    prefix = "bce-auth-v1/%s/%s/1800" % (ak, ts)
    key = hmac.new(sk.encode(), prefix.encode(), hashlib.sha256).hexdigest()
    sig = hmac.new(key.encode(), creq.encode(), hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "Host": host, "x-bce-date": ts,
            "Authorization": "%s/content-length;content-type;host;x-bce-date/%s" % (prefix, sig)}


def run_other_clouds(ready):
    c = Client(ready["http_port"])
    c.ctl("POST", "reset", {})
    path = "/v4/cwai/central/task-service/queue/queue-info-list"

    def ct(params, epoch=None, ak="sim-ctyun-ak", sk="sim-ctyun-sk", mangle=None):
        body = json.dumps(params, ensure_ascii=False).encode()
        hdrs = eop_headers(ak, sk, body, int(time.time()) if epoch is None else epoch)
        if mangle:
            mangle(hdrs)
        st, data = c.raw("POST", path, body, hdrs)
        return st, json.loads(data)

    st, queues = c.ctl("GET", "objects/ctyun/queues")
    check("ctyun: 25 queues", len(queues) == 25)
    seen = []
    for page in range(1, 5):
        st, r = ct({"regionID": "200000001852", "pageNo": page, "pageSize": 10})
        if r.get("statusCode") != 800:
            check("ctyun page %d" % page, False, json.dumps(r, ensure_ascii=False))
            break
        ro = r["returnObj"]
        seen += [q["queueID"] for q in ro["result"]]
        if page == 1:
            check("ctyun totals", ro["totalCount"] == 25 and ro["totalPage"] == 3 and
                  ro["currentCount"] == 10)
    check("ctyun paging covers every queue once in createTime order",
          seen == [q["queueID"] for q in sorted(queues, key=lambda q: (q["createTime"], q["queueID"]))])
    st, r = ct({"regionID": "200000001852", "isDesc": True, "pageSize": 1})
    check("ctyun isDesc", r["returnObj"]["result"][0]["queueID"] ==
          max(queues, key=lambda q: q["createTime"])["queueID"])
    st, r = ct({"pageNo": 1})
    check("ctyun missing regionID -> 200 + 900 BadRequest", st == 200 and r.get("statusCode") == 900
          and r.get("errorCode") == "Cwai.Api.BadRequest")
    st, r = ct({"regionID": "200000001852"}, sk="wrong")
    check("ctyun bad signature -> 401 Auth", st == 401 and "Auth" in r.get("errorCode", ""))
    st, r = ct({"regionID": "200000001852"}, epoch=int(time.time()) - 8 * 3600)
    check("ctyun UTC-formatted date (8 h off) -> expired", st == 401 and
          r.get("errorCode") == "Eop.Auth.RequestExpired")
    st, r = ct({"regionID": "200000001852"}, ak="nobody")
    check("ctyun unknown AK", r.get("errorCode") == "Eop.Auth.InvalidAccessKey")

    def label(h):
        h["Eop-Authorization"] = h["Eop-Authorization"].replace("Headers=", "Header=")
    st, r = ct({"regionID": "200000001852"}, mangle=label)
    check("ctyun 'Header=' label rejected", st == 401)
    st, _ = c.raw("POST", "/v4/cwai/queue/queue-info-list", b"{}", {})
    check("ctyun example path is not served (404)", st == 404)

    # Baidu
    port = ready["http_port"]
    host = "127.0.0.1:%d" % port

    def bd(params, epoch=None, sk="sim-baidu-sk", action="DescribeComputeUnits"):
        body = json.dumps(params).encode() if params is not None else b""
        hdrs = bce_headers("sim-baidu-ak", sk, host, body,
                           int(time.time()) if epoch is None else epoch, action)
        st, data = c.raw("POST", "/v2/computeunit?Action=" + action, body, hdrs)
        return st, json.loads(data)

    st, units = c.ctl("GET", "objects/baidu/computeunits")
    check("baidu: 12 units, first two share an instanceId", len(units) == 12 and
          units[0]["instanceId"] == units[1]["instanceId"])
    st, r = bd(None)
    check("baidu accepted (host:port signed), whole list", st == 200 and
          r["result"]["computeUnitInstanceList"] == units)
    st, r = bd({"region": "bj"})
    check("baidu region filter", len(r["result"]["computeUnitInstanceList"]) ==
          sum(u["region"] == "bj" for u in units))
    st, r = bd({}, sk="wrong")
    check("baidu bad key -> 400 SignatureDoesNotMatch", st == 400 and
          r.get("code") == "SignatureDoesNotMatch" and "requestId" in r)
    st, r = bd({}, epoch=int(time.time()) - 1900)
    check("baidu expired -> RequestExpired", r.get("code") == "RequestExpired")
    body = b"{}"
    hdrs = bce_headers("nobody", "x", host, body, int(time.time()))
    st, data = c.raw("POST", "/v2/computeunit?Action=DescribeComputeUnits", body, hdrs)
    check("baidu unknown AK -> 403 InvalidAccessKeyId", st == 403 and
          json.loads(data)["code"] == "InvalidAccessKeyId")

    # Alaya
    def al(q="", key="sim-alaya-key"):
        st, data = c.raw("GET", "/v1/product/list-for-training-task" + q, b"",
                         {"Authorization": "Bearer " + key, "accept": "application/json"})
        return st, json.loads(data)
    st, prods = c.ctl("GET", "objects/alaya/products")
    st, r = al()
    check("alaya list", st == 200 and r["status"] == 200 and r["data"] == prods and len(prods) == 10)
    st, r = al("?aidcId=1")
    check("alaya aidcId filter", [p["productCode"] for p in r["data"]] ==
          [p["productCode"] for p in prods if p["aidcId"] == 1])
    check("alaya quirks: string numbers, gpuName '-'",
          all(isinstance(p["cpuCores"], str) for p in prods) and prods[0]["gpuName"] == "-")
    st, r = al(key="wrong")
    check("alaya bad key -> 403 Forbidden, data {}", st == 403 and
          r == {"status": 403, "message": "Forbidden", "data": {}})

    # shared machinery on the other clouds
    c.ctl("POST", "faults", {"action": "list-for-training-task", "type": "cloud_error",
                             "code": "500", "status": 200, "count": 1})
    st, r = al()
    check("alaya cloud_error fault", st == 200 and r["status"] == 500 and r["data"] == {})
    c.ctl("POST", "limits", {"queue-info-list": 1})
    codes = [ct({"regionID": "200000001852"})[0] for _ in range(3)]
    check("ctyun rate limit -> 429", codes == [200, 429, 429], str(codes))
    st, counts = c.ctl("GET", "counts")
    check("counts name the new actions", counts["throttled"].get("queue-info-list") == 2 and
          counts["requests"].get("DescribeComputeUnits", 0) == 5 and
          counts["rejected"].get("list-for-training-task") == 1, json.dumps(counts))
    st, m = c.ctl("POST", "mutate/baidu/computeunits", {"id": units[0]["instanceId"],
                                                       "set": {"status": "Running"}})
    st, objs = c.ctl("GET", "objects/baidu/computeunits")
    check("mutate changes the first of two sharing an id", objs[0]["status"] == "Running" and
          objs[1]["status"] == "Released")


if __name__ == "__main__":
    t0 = time.monotonic()
    vector_checks()
    baidu_vector_checks()
    ctyun_vector_checks()
    main()
    if VERBOSE:
        print("took %.1f s" % (time.monotonic() - t0))
    sys.exit(0 if results["fail"] == 0 and results["pass"] > 0 else 1)
