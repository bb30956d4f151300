#!/usr/bin/env python3
"""report.py - turns the raw samples bench.sh collected into the Markdown result table.

    python3 contrib/bench/report.py SAMPLES.tsv META.json

SAMPLES.tsv has one measurement per line: section, N, L (ms), metric, value (tab-separated;
value "nan" = the measured command failed). META.json holds the run's parameters (concurrency,
rate limit, page size, commit, mode, ...). Every figure printed is the median of its samples;
ratios are taken between medians measured in the same run. Standard library only.
"""
import collections
import json
import math
import sys


def median(xs):
    xs = sorted(x for x in xs if not math.isnan(x))
    if not xs:
        return float("nan")
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def fmt_s(x):
    if math.isnan(x):
        return "fail"
    if x < 0.1:
        return "%.1f ms" % (x * 1000)
    if x < 10:
        return "%.3f s" % x
    return "%.2f s" % x


def fmt_ratio(x):
    if math.isnan(x) or math.isinf(x):
        return "n/a"
    return "%.2f×" % x


def verdict(value, target, unit="×"):
    """'ok' when value <= target, else how far above the target it is."""
    if math.isnan(value) or math.isinf(value):
        return "n/a"
    if value <= target:
        return "ok (≤ %g%s)" % (target, unit)
    return "**miss**: %.1f× the target %g%s" % (value / target, target, unit)


def main():
    samples = collections.defaultdict(list)  # (section, N, L, metric) -> [values]
    with open(sys.argv[1]) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 5:
                continue
            sec, n, l, metric, value = parts
            samples[(sec, int(n), int(l), metric)].append(float(value))
    meta = json.load(open(sys.argv[2]))

    def med(sec, n, l, metric):
        return median(samples.get((sec, n, l, metric), []))

    def cnt(sec, n, l, metric):
        return len(samples.get((sec, n, l, metric), []))

    def keys(sec):
        return sorted({(k[1], k[2]) for k in samples if k[0] == sec})

    C, R, page = meta["concurrency"], meta["rps"], meta["page_size"]
    burst = R
    out = []
    w = out.append
    w("# gpucloudfs benchmark%s" % (" (--quick)" if meta.get("quick") else ""))
    w("")
    w("Commit `%s`%s, %s, %d CPUs, libfuse %s. `concurrency = %d`, rate limit R = %d req/s "
      "(burst %d), page size %d, ttl %d s%s. Every figure is the median of the number of runs "
      "shown (n); ratios are between medians of the same run. Raw samples: `%s`. "
      "Load average (1, 5, 15 min): %s — more than the CPU count means other work "
      "shared the machine and the figures carry its noise."
      % (meta["commit"], " + uncommitted changes in fs/, providers/, include/" if meta.get("dirty") else "", meta["date"],
         meta["cpus"], meta["libfuse"], C, R, burst, page, meta["ttl"],
         ", extra config `%s`" % meta["extra_config"] if meta.get("extra_config") else "", meta["samples"], meta.get("load", "?")))
    w("")

    # 1. cold ls -l vs ideal
    w("## 1. Cold `ls -l tencent/tasks` (fresh mount) vs the ideal")
    w("")
    w("ideal = L + max(ceil((P-1)/C)·L, max(0, P-1-burst)/R), P = ceil(N/%d). Target ≤ 1.2×. "
      "L is each request's whole latency: the simulator answers at once and sends the reply L after "
      "the request arrived (a `latency` fault with `floor`), so its own work (Python, TLS) is inside L "
      "when L > 0 and outside it at L = 0." % page)
    w("")
    w("`fetch` = the daemon's own `last_fetch_duration_ms` (`.gpucloudfs/stats.json`) for that "
      "listing: the rest of `ls -l` is the kernel's LOOKUP/GETATTR of every entry and the "
      "daemon's answers to them.")
    w("")
    w("| N | L | P | ideal | cold `ls -l` (n) | of which fetch | cold − ideal | ratio | vs target | requests (min P) | throttled |")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for n, l in keys("cold"):
        p = -(-n // page)
        ideal = l / 1000 + max(math.ceil((p - 1) / C) * l / 1000, max(0, p - 1 - burst) / R)
        t = med("cold", n, l, "ls_s")
        ratio = t / ideal if ideal > 0 else float("inf")
        req = med("cold", n, l, "requests")
        thr = med("cold", n, l, "throttled")
        v = verdict(ratio, 1.2) if ideal > 0 else "n/a (ideal 0: no latency, under the burst)"
        w("| %d | %d ms | %d | %s | %s (%d) | %s | %s | %s | %s | %g %s | %g |"
          % (n, l, p, fmt_s(ideal), fmt_s(t), cnt("cold", n, l, "ls_s"),
             fmt_s(med("cold", n, l, "fetch_s")), fmt_s(t - ideal),
             fmt_ratio(ratio), v,
             req, "ok" if req == p else "**≠ %d**" % p, thr))
    w("")

    # 2. warm traversal vs tmpfs
    w("## 2. Warm traversal of the whole mount vs the same files on tmpfs")
    w("")
    w("Back-to-back runs on one mount after a full `cp -r` of it to tmpfs and one untimed pass; "
      "fuse and tmpfs runs interleaved. Target ≤ 1.3×.")
    w("")
    w("`tencent/` = every collection of the connection, i.e. the whole mount without "
      "`.gpucloudfs/` (whose `refresh/<conn>/<kind>` files refetch a collection when read, "
      "which `grep -r` and `cp -r` do).")
    w("")
    w("| N | over | files | workload | gpucloudfs (n) | tmpfs (n) | ratio | vs target |")
    w("|---:|---|---:|---|---:|---:|---:|---|")
    for n, l in keys("warm"):
        for sec, over in (("warmconn", "`tencent/`"), ("warm", "whole mount")):
            if cnt(sec, n, l, "find_fuse_s") == 0:
                continue
            files = med(sec, n, l, "files")
            for tool, label in (("find", "`find`"), ("lsR", "`ls -lR`"), ("grep", "`grep -rc RUNNING`")):
                a = med(sec, n, l, tool + "_fuse_s")
                b = med(sec, n, l, tool + "_tmpfs_s")
                w("| %d | %s | %d | %s | %s (%d) | %s (%d) | %s | %s |"
                  % (n, over, files, label, fmt_s(a), cnt(sec, n, l, tool + "_fuse_s"), fmt_s(b),
                     cnt(sec, n, l, tool + "_tmpfs_s"), fmt_ratio(a / b), verdict(a / b, 1.3)))
    w("")

    # 3. requests vs minimum
    w("## 3. API requests per workload vs the minimum")
    w("")
    w("| workload | N | requests (median, n) | minimum | vs target |")
    w("|---|---:|---:|---:|---|")

    def req_row(label, n, value, k, minimum):
        ok = "ok" if value == minimum else "**miss**: %g× the minimum" % (
            value / minimum if minimum else float("inf"))
        if minimum == 0 and value != 0:
            ok = "**miss**: %g extra" % value
        w("| %s | %d | %g (%d) | %d | %s |" % (label, n, value, k, minimum, ok))

    for n in sorted({k[0] for k in keys("cold")}):
        ls = [k for k in keys("cold") if k[0] == n]
        vals = [v for k in ls for v in samples[("cold", n, k[1], "requests")]]
        req_row("cold `ls -l tencent/tasks`", n, median(vals), len(vals), -(-n // page))
    for n, l in keys("warm"):
        req_row("first full traversal (`cp -r` of the mount)", n, med("warm", n, l, "copy_requests"),
                cnt("warm", n, l, "copy_requests"), -(-n // page) + int(med("warm", n, l, "service_pages")))
        if cnt("warmconn", n, l, "warm_requests"):
            req_row("warm `find` + `ls -lR` + `grep -r` over `tencent/` (all runs)", n,
                    med("warmconn", n, l, "warm_requests"), cnt("warmconn", n, l, "warm_requests"), 0)
        req_row("warm `find` + `ls -lR` + `grep -r` over the whole mount (all runs)", n,
                med("warm", n, l, "warm_requests"), cnt("warm", n, l, "warm_requests"), 0)
    for n, l in keys("cat"):
        req_row("cold `cat tencent/tasks/<Id>/status` (L = %d ms: %s)" % (l, fmt_s(med("cat", n, l, "cat_s"))),
                n, med("cat", n, l, "requests"), cnt("cat", n, l, "requests"), 1)
    w("")

    # 4. memory
    w("## 4. Daemon memory after a full traversal")
    w("")
    w("RSS = VmRSS of the gpucloudfs daemon; JSON bytes = the bodies of the P replies of the listing "
      "(compact UTF-8, as the simulator sends them). Target RSS ≤ 3× JSON bytes.")
    w("")
    w("RSS mid-way = after the `cp -r` (which fetched every collection twice, see §3) and the "
      "`tencent/` runs (which fetched nothing); after traversal = at the end, after the "
      "whole-mount runs, each of whose `grep -r` refreshed every collection.")
    w("")
    w("| N | RSS at mount | RSS after one cold `ls -l tencent/tasks` | RSS mid-way | RSS after traversal | per 1,000 objects | JSON bytes | RSS / JSON | (RSS − RSS at mount) / JSON | vs target |")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for n, l in keys("warm"):
        rss0 = med("warm", n, l, "rss0_kb") * 1024
        rss = med("warm", n, l, "rss_kb") * 1024
        js = med("warm", n, l, "json_bytes")
        rssc = med("warm", n, l, "rss_conn_kb") * 1024
        rssl = median([v for k, vs in samples.items() if k[0] == "cold" and k[1] == n
                       and k[3] == "rss_listed_kb" for v in vs]) * 1024
        w("| %d | %.1f MiB | %s | %s | %.1f MiB | %.2f MiB | %.2f MiB | %.2f× | %.2f× | %s |"
          % (n, rss0 / 2**20,
             "%.1f MiB (%.2f× JSON)" % (rssl / 2**20, rssl / js) if not math.isnan(rssl) else "—",
             "%.1f MiB (%.2f× JSON)" % (rssc / 2**20, rssc / js) if not math.isnan(rssc) else "—",
             rss / 2**20, rss / 2**20 / (n / 1000), js / 2**20, rss / js,
             (rss - rss0) / js, verdict(rss / js, 3)))
    w("")

    # 5. mount time
    w("## 5. Time from start to a mount that answers")
    w("")
    mt = [v for k, vs in samples.items() if k[3] == "mount_s" for v in vs]
    if mt:
        w("Launch of `gpucloudfs -f` until `stat MOUNT/tencent` succeeds: median %s, max %s (n = %d, "
          "every mount of this run)." % (fmt_s(median(mt)), fmt_s(max(mt)), len(mt)))
    w("")

    # 6. SDK
    w("## 6. The SDK way vs gpucloudfs")
    w("")
    w("`contrib/bench/sdk-list.js`: tencentcloud-sdk-nodejs-common %s CommonClient paging "
      "DescribeTrainingTasks sequentially (Limit 50, paced to R req/s, keyed on completion). SDK cold = from launching "
      "`node` to the end of its first listing (start-up, TLS handshake, listing); SDK repeated = a "
      "second listing in the same process. gpucloudfs cold = §1; warm = `ls -l` again on the same mount. Ratio > 1 = "
      "gpucloudfs faster." % meta.get("sdk_version", "?"))
    w("")
    w("| N | L | SDK cold (n) | gpucloudfs cold `ls -l` | SDK cold / gcf cold | SDK repeated (n) | gpucloudfs warm `ls -l` (n) | SDK repeated / gcf warm | SDK requests per listing |")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, l in sorted(set(keys("sdk")) | set(keys("sdkskip"))):
        if (n, l) not in keys("sdk"):
            est = med("sdkskip", n, l, "est_listing_s")
            gc = med("cold", n, l, "ls_s")
            w("| %d | %d ms | skipped: ≥ %g s by P·L alone | %s | ≥ %s | skipped | %s (%d) | — | — |"
              % (n, l, est, fmt_s(gc), fmt_ratio(est / gc), fmt_s(med("cold", n, l, "warm_ls_s")),
                 cnt("cold", n, l, "warm_ls_s")))
            continue
        sc = med("sdk", n, l, "cold_process_s")
        sr = med("sdk", n, l, "repeated_s")
        gc = med("cold", n, l, "ls_s")
        gw = med("cold", n, l, "warm_ls_s")
        w("| %d | %d ms | %s (%d) | %s | %s | %s (%d) | %s (%d) | %s | %g |"
          % (n, l, fmt_s(sc), cnt("sdk", n, l, "cold_process_s"), fmt_s(gc), fmt_ratio(sc / gc),
             fmt_s(sr), cnt("sdk", n, l, "repeated_s"), fmt_s(gw), cnt("cold", n, l, "warm_ls_s"),
             fmt_ratio(sr / gw), med("sdk", n, l, "requests_per_listing")))
    w("")
    fails = sum(1 for vs in samples.values() for v in vs if math.isnan(v))
    if fails:
        w("**%d measured commands failed** (shown as fail or left out of medians); see the logs in `%s`."
          % (fails, meta["run_dir"]))
        w("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
