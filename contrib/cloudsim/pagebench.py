#!/usr/bin/env python3
"""pagebench: how long cloudsim takes to serve one DescribeTrainingTasks page of 50.

    python3 contrib/cloudsim/pagebench.py [--tasks 100000] [--pages 40] [--profile] [SIM ARGS...]

Starts the simulator (127.0.0.1, a temporary state dir) with --tasks N (and any further
arguments, e.g. --active-percent 1), turns its rate limit off and times, over plain HTTP with
keep-alive, the page shapes gpucloudfs asks for:

  * CreateTime ASC, pages from offset 0 on (a full listing);
  * UpdateTime DESC, page 0 (the probe and an incremental refresh's delta);
  * Status in RUNNING, STOPPING, every page (the active query of an incremental refresh);
  * the same after one /_sim/mutate (the first page after a change pays for any re-sorting).

Prints the median and the worst milliseconds per page of each (the client's wall time: the
request signed here, the reply read and parsed). With --profile it instead runs the handler in
this process under cProfile for the CreateTime ASC pages and prints the top functions.
Stops the simulator by PID.
"""

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import selftest  # noqa: E402  (the independent TC3 signer and the HTTP client)


def timed(c, params):
    t = time.perf_counter()
    st, r = c.tc("DescribeTrainingTasks", params)
    ms = (time.perf_counter() - t) * 1000.0
    if st != 200 or "Error" in r:
        raise SystemExit("pagebench: request failed: %s" % json.dumps(r)[:300])
    return ms, r


def report(name, times):
    print("%-44s %5d pages  median %7.2f ms  max %7.2f ms" % (
        name, len(times), statistics.median(times), max(times)))


def profile(n, pages, extra):
    import cProfile
    import pstats
    import cloudsim
    from clouds.common import Request
    sizes = {"tasks": n, "services": 30, "ctyun_queues": 25, "baidu_units": 12,
             "alaya_products": 10, "active_percent": None}
    if "--active-percent" in extra:
        sizes["active_percent"] = float(extra[extra.index("--active-percent") + 1])
    sim = cloudsim.Sim(cloudsim.load_clouds(), 1, sizes, cloudsim.load_keys(None))
    sim.limits.clear()
    cloud = sim.by_name["tencent"]

    class H(dict):
        def get(self, k, d=None):
            for kk, v in self.items():
                if kk.lower() == k.lower():
                    return v
            return d

    def req(params):
        body = json.dumps(params).encode()
        ts = int(time.time())
        auth = selftest.tc3_authorization(selftest.SID, selftest.SKEY, ts, selftest.HOST,
                                          "application/json", body)
        h = H({"Host": selftest.HOST, "Content-Type": "application/json",
               "X-TC-Action": "DescribeTrainingTasks", "X-TC-Timestamp": str(ts),
               "X-TC-Version": "2021-11-11", "X-TC-Region": "ap-guangzhou",
               "Authorization": auth})
        return Request("POST", "/", "", h, body, "http", 0)

    reqs = [req({"Offset": i * 50, "Limit": 50, "OrderField": "CreateTime", "Order": "ASC"})
            for i in range(pages)]
    cloud.handle(sim, "DescribeTrainingTasks", reqs[0])  # warm any cache
    pr = cProfile.Profile()
    t = time.perf_counter()
    pr.enable()
    for r in reqs:
        cloud.handle(sim, "DescribeTrainingTasks", r)
    pr.disable()
    print("in-process handler: %.2f ms per page" % ((time.perf_counter() - t) * 1000.0 / pages))
    pstats.Stats(pr).sort_stats("cumulative").print_stats(18)


def main():
    args = sys.argv[1:]
    n, pages, prof = 100000, 40, False
    extra = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--tasks":
            n = int(args[i + 1])
            i += 2
        elif a == "--pages":
            pages = int(args[i + 1])
            i += 2
        elif a == "--profile":
            prof = True
            i += 1
        else:
            extra.append(a)
            i += 1
    if prof:
        profile(n, pages, extra)
        return 0

    tmp = tempfile.mkdtemp(prefix="cloudsim-pagebench-")
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "cloudsim.py"), "--state-dir",
                             tmp, "--tasks", str(n)] + extra,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = None
        for _ in range(6000):  # bounded: generation of 100,000 tasks takes seconds
            if proc.poll() is not None:
                raise SystemExit("pagebench: the simulator exited")
            try:
                with open(os.path.join(tmp, "ready.json")) as f:
                    ready = json.load(f)
                break
            except (OSError, ValueError):
                time.sleep(0.05)
        if ready is None:
            raise SystemExit("pagebench: the simulator did not become ready")
        print("simulator with %d tasks ready in %.1f s" % (n, time.monotonic() - t0))
        c = selftest.Client(ready["http_port"])
        c.ctl("POST", "limits", {"DescribeTrainingTasks": 0})

        asc = []
        for p in range(pages):
            ms, r = timed(c, {"Offset": p * 50, "Limit": 50, "OrderField": "CreateTime",
                              "Order": "ASC"})
            asc.append(ms)
        first_asc = asc[0]
        report("CreateTime ASC (first page)", [first_asc])
        report("CreateTime ASC (the next ones)", asc[1:])
        desc = [timed(c, {"Offset": 0, "Limit": 50, "OrderField": "UpdateTime",
                          "Order": "DESC"})[0] for _ in range(pages)]
        report("UpdateTime DESC page 0 (first)", desc[:1])
        report("UpdateTime DESC page 0 (again)", desc[1:])
        act = []
        total = None
        off = 0
        while len(act) < pages and (total is None or off < total):
            ms, r = timed(c, {"Offset": off, "Limit": 50, "Filters": [
                {"Name": "Status", "Values": ["RUNNING", "STOPPING"]}]})
            total = r["TotalCount"]
            act.append(ms)
            off += 50
        report("Status RUNNING|STOPPING (%d match)" % total, act)
        ids = [t["Id"] for t in timed(c, {"Offset": 100, "Limit": 2, "OrderField": "CreateTime",
                                          "Order": "ASC"})[1]["TrainingTaskSet"]]
        after = []
        for tid in ids:
            c.ctl("POST", "mutate/tencent/tasks", {"id": tid, "set": {"Message": "pagebench"}})
            after.append(timed(c, {"Offset": 0, "Limit": 50, "OrderField": "UpdateTime",
                                   "Order": "DESC"})[0])
            after.append(timed(c, {"Offset": 50, "Limit": 50, "OrderField": "CreateTime",
                                   "Order": "ASC"})[0])
        report("after a mutate: DESC p0, ASC p1 (x2)", after)
        allp = asc[1:] + desc[1:] + act
        print("all steady pages: median %.2f ms, mean %.2f ms" % (statistics.median(allp),
                                                                  statistics.mean(allp)))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
