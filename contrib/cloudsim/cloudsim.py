#!/usr/bin/env python3
"""cloudsim: a local simulator of the AI/GPU cloud control-plane APIs gpucloudfs reads.

    python3 contrib/cloudsim/cloudsim.py --state-dir DIR [--host 127.0.0.1] [--http-port 0]
        [--https-port 0] [--seed 1] [--tasks 1234] [--services 30] [--ctyun-queues 25]
        [--baidu-units 12] [--alaya-products 10] [--active-percent P] [--keys FILE] [--verbose]

One process serves every simulated cloud on one HTTP and one HTTPS port (127.0.0.1 only); the
cloud is chosen by the request path (and, for Tencent, `POST /` + X-TC-Action). At start it makes
a throw-away CA and server certificate with the openssl tool, then writes DIR/ready.json
({"pid", "http_port", "https_port", "ca_file"}) atomically and prints the same line on stdout.

Shared by all clouds (this file): the data store, request counters, per-action rate limits
(sliding 1 s window), the clock offset used for signature freshness, fault injection and the
unsigned control API under /_sim/. Each cloud (clouds/*.py) brings its routes, its seeded data
generator and its signature verifier. See README.md for the control API.

Python 3 standard library only.
"""

import argparse
import collections
import json
import os
import random
import select
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from clouds import load as load_clouds  # noqa: E402
from clouds.common import Reply, Request, json_reply  # noqa: E402

DEFAULT_KEYS = {
    "tencent": [{"secret_id": "sim-tencent-id", "secret_key": "sim-tencent-key"}],
    "ctyun": [{"access_key": "sim-ctyun-ak", "secret_key": "sim-ctyun-sk"}],
    "baidu": [{"access_key": "sim-baidu-ak", "secret_key": "sim-baidu-sk"}],
    "alaya": [{"api_key": "sim-alaya-key"}],
}

SIZE_KEYS = ("tasks", "services", "ctyun_queues", "baidu_units", "alaya_products")
# Generation options that are not sizes (also accepted by /_sim/reset); None = the default.
OPTION_KEYS = ("active_percent",)
FAULT_TYPES = ("latency", "hang", "reset", "http_status", "cloud_error", "truncate", "malformed",
               "throttle")
HANG_MAX_S = 120.0


class SimError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


# ====================================================================== shared state

class Sim:
    """Everything the request handlers share. One lock guards it all (requests are short)."""

    def __init__(self, clouds, seed, sizes, keys):
        self.clouds = clouds
        self.by_name = {c.name: c for c in clouds}
        self.start_seed = seed
        self.start_sizes = dict(sizes)
        self.keys = keys
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.reset()

    # --- state that /_sim/reset restores
    def reset(self, seed=None, sizes=None):
        seed = self.start_seed if seed is None else seed
        all_sizes = dict(self.start_sizes)
        all_sizes.update(sizes or {})
        data = {}
        for c in self.clouds:
            data[c.name] = c.generate(seed, all_sizes)
        with self.lock:
            self.seed = seed
            self.sizes = all_sizes
            self.data = data
            self.faults = []
            self.fault_rng = random.Random("%s-faults" % seed)
            self.clock_offset = 0.0
            self.limits = {}
            for c in self.clouds:
                self.limits.update(c.default_limits)
            self.windows = collections.defaultdict(collections.deque)
            self.scheduled = []  # /_sim/schedule: changes made when a request arrives
            self.update_shift = self._update_shift(data)
            self.mutations = 0
            self._memo = {}
            self._zero_counts()

    def _update_shift(self, data):
        """Seconds added to the update times /_sim/mutate writes: 0 unless the generated data
        holds update times after now (large collections: 100,000 tasks created ~45 min apart
        from 2024-05-01 reach 2032), then enough that a change is still the collection's most
        recent update, as on a real cloud (else an incremental refresh, which reads the most
        recently updated objects first, could not find it)."""
        newest = 0
        for c in self.clouds:
            for kind in c.kinds.values():
                if not kind.update_field:
                    continue
                vals = [o.get(kind.update_field) for o in data[c.name].get(kind.name, [])
                        if isinstance(o, dict)]
                vals = [v for v in vals if isinstance(v, str)]
                if vals:
                    try:
                        newest = max(newest, c.update_epoch(kind.name, max(vals)))
                    except ValueError:
                        pass
        now = time.time()
        return int(newest - now) + 2 if newest >= now else 0  # >= 1 s past the newest

    def _zero_counts(self):
        self.requests = collections.Counter()
        self.rejected = collections.Counter()
        self.throttled = collections.Counter()
        self.faulted = collections.Counter()
        self.connections = 0
        self.arrivals = collections.defaultdict(collections.deque)
        self.max_per_s = collections.Counter()

    def note_arrival(self, action, now):
        """Lock held. Every request that reached an action (throttled or not), for max_per_s:
        the most that arrived within any 1 s (the window (t - 1 s, t] at each arrival t, as
        admit() counts), measured on this process's clock, not by sampling the counters."""
        w = self.arrivals[action]
        w.append(now)
        while now - w[0] >= 1.0:
            w.popleft()
        if len(w) > self.max_per_s[action]:
            self.max_per_s[action] = len(w)

    def counts(self):
        with self.lock:
            return {"requests": dict(self.requests), "rejected": dict(self.rejected),
                    "throttled": dict(self.throttled), "faults": dict(self.faulted),
                    "max_per_s": dict(self.max_per_s),
                    "connections": self.connections}

    def reset_counts(self):
        with self.lock:
            self._zero_counts()

    # --- used by the clouds
    def now(self):
        return time.time() + self.clock_offset

    def credentials(self, cloud):
        return self.keys.get(cloud, [])

    def admit(self, action):
        """Sliding one-second window per action. False means: reply with the throttling error."""
        with self.lock:
            limit = self.limits.get(action, 0)
            if not limit:
                return True
            now = time.monotonic()
            w = self.windows[action]
            while w and now - w[0] >= 1.0:
                w.popleft()
            if len(w) >= limit:
                return False
            w.append(now)
            return True

    def with_objects(self, cloud, kind, fn):
        """Run fn(list_of_objects) under the lock and return its (JSON-able) result as a copy.
        Copy only what a reply holds (a page), never a whole collection."""
        with self.lock:
            result = fn(self.data[cloud][kind])
            return json.loads(json.dumps(result))

    # --- derived data (sorted and filtered orders), valid until the next change
    MEMO_MAX = 64

    def memo(self, key, build):
        """Lock held. build()'s result, kept under key until mutated() (or reset) is called:
        a handler's indexes (a sorted order per query shape) are made once per change of the
        data, not once per page."""
        hit = self._memo.get(key)
        if hit is not None and hit[0] == self.mutations:
            return hit[1]
        if len(self._memo) >= self.MEMO_MAX:
            self._memo.clear()
        value = build()
        self._memo[key] = (self.mutations, value)
        return value

    def mutated(self):
        """Lock held. The data changed: every memo() entry is stale. Every change to
        self.data (the control API, scheduled changes) calls this."""
        self.mutations += 1
        self._memo.clear()

    # --- faults
    def pick_faults(self, action):
        """Return the faults to apply to this request, in order: any number of latency faults,
        then at most one terminal fault."""
        chosen = []
        with self.lock:
            for f in self.faults:
                if f["action"] not in ("*", action):
                    continue
                if f.get("count") is not None and f["count"] <= 0:
                    continue
                p = f.get("probability")
                if p is not None and self.fault_rng.random() >= p:
                    continue
                if f.get("count") is not None:
                    f["count"] -= 1
                chosen.append(dict(f))
                if f["type"] != "latency":
                    break
            if chosen:
                self.faulted[action] += 1
        return chosen

    def run_scheduled(self, action):
        """Lock held. Counts this request of `action` against every scheduled change; one whose
        count reaches zero is applied now, before the request is answered (pages that shift
        while a client reads them)."""
        due = []
        for ch in self.scheduled:
            if ch["action"] in ("*", action) and ch["after"] > 0:
                ch["after"] -= 1
                if ch["after"] == 0:
                    due.append(ch)
        for ch in due:
            self.scheduled.remove(ch)
            try:
                apply_change(self, ch["op"], ch["cloud"], ch["kind"], ch["body"])
            except SimError:
                pass  # the object is gone: nothing to change

    def cloud_kind(self, cloud, kind):
        c = self.by_name.get(cloud)
        if c is None or kind not in c.kinds:
            raise SimError(404, "unknown collection %s/%s" % (cloud, kind))
        return c, c.kinds[kind]


# ====================================================================== HTTP handling

class Handler(BaseHTTPRequestHandler):
    # Headers and body leave in separate sends: without TCP_NODELAY each
    # reply waits ~40 ms for the client's delayed ACK (Nagle).
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    server_version = "cloudsim/1.0"
    sys_version = ""
    timeout = 300  # idle keep-alive connections are closed after this many seconds

    def setup(self):
        super().setup()
        with self.server.sim.lock:
            self.server.sim.connections += 1

    def log_message(self, fmt, *args):  # request lines only, never headers
        if self.server.verbose:
            sys.stderr.write("cloudsim: %s %s\n" % (self.address_string(), fmt % args))

    def handle(self):
        try:
            super().handle()
        except (ConnectionError, ssl.SSLError, socket.timeout, OSError):
            pass

    # --- plumbing
    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > 64 * 1024 * 1024:
            raise SimError(413, "body too large")
        return self.rfile.read(n) if n else b""

    def _send(self, reply):
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def _send_json(self, obj, status=200):
        self._send(json_reply(obj, status))

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def _dispatch(self):
        sim = self.server.sim
        path, _, query = self.path.partition("?")
        try:
            body = self._read_body()
        except (ValueError, SimError):
            self.close_connection = True
            self._send_json({"error": "bad request body"}, 400)
            return
        if path.startswith("/_sim/") or path == "/_sim":
            try:
                status, obj = control(sim, self.command, path, body)
            except SimError as e:
                status, obj = e.status, {"error": e.message}
            self._send_json(obj, status)
            return

        req = Request(self.command, path, query, self.headers, body,
                      self.server.scheme, self.server.server_address[1])
        for cloud in sim.clouds:
            action = cloud.route(req)
            if action is not None:
                break
        else:
            self._send_json({"error": "no simulated API at %s %s" % (self.command, path)}, 404)
            return

        arrived = time.monotonic()
        with sim.lock:
            sim.requests[action] += 1
            sim.note_arrival(action, arrived)
            sim.run_scheduled(action)
        floor_s = 0.0
        for fault in sim.pick_faults(action):
            if fault["type"] == "latency" and fault.get("floor"):
                floor_s += max(0, fault.get("latency_ms", 1000)) / 1000.0
                continue
            if self._apply_fault(sim, cloud, action, fault):
                return
        try:
            reply = cloud.handle(sim, action, req)
        except Exception as e:  # a simulator bug must not look like a hang
            reply = cloud.error_reply(action, "InternalError", "simulator error: %r" % (e,), 500)
            reply.outcome = "rejected"
        with sim.lock:
            if reply.outcome == "rejected":
                sim.rejected[action] += 1
            elif reply.outcome == "throttled":
                sim.throttled[action] += 1
        if floor_s:  # latency as a floor: the reply leaves floor_s after the request came
            sim.stopping.wait(max(0.0, arrived + floor_s - time.monotonic()))
        self._send(reply)

    # --- faults: return True when the request has been fully dealt with
    def _apply_fault(self, sim, cloud, action, f):
        kind = f["type"]
        if kind == "latency":
            sim.stopping.wait(max(0, f.get("latency_ms", 1000)) / 1000.0)
            return False
        if kind == "hang":
            self._hang(sim)
            return True
        if kind == "reset":
            self._reset()
            return True
        if kind == "http_status":
            status = int(f.get("status", 500))
            self._send(Reply(status, "simulated HTTP %d\n" % status, "text/plain; charset=utf-8"))
            return True
        if kind == "cloud_error":
            self._send(cloud.error_reply(action, f.get("code") or "InternalError",
                                         f.get("message") or "simulated cloud error",
                                         f.get("status")))
            return True
        if kind == "throttle":
            with sim.lock:
                sim.throttled[action] += 1
            self._send(cloud.throttle_reply(action))
            return True
        if kind == "truncate":
            body = b'{"Response": {"RequestId": "truncated", "Items": [' + b'{"x": 1},' * 64
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) + 4096))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            return True
        if kind == "malformed":
            self._send(Reply(200, b'{"Response": {"TotalCount": 3, "Items": [{"a": 1},,]', "application/json"))
            return True
        return False

    def _hang(self, sim):
        """Hold the connection without answering until the client goes away (or 120 s)."""
        self.close_connection = True
        deadline = time.monotonic() + HANG_MAX_S
        sock = self.connection
        while not sim.stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                r, _, _ = select.select([sock], [], [], min(0.5, left))
                if r:
                    if not sock.recv(4096):
                        break
            except (OSError, ValueError, ssl.SSLError):
                break

    def _reset(self):
        """Close abruptly: SO_LINGER 0 makes close() send a TCP RST."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        for f in (self.rfile, self.wfile):
            try:
                f.close()
            except Exception:
                pass
        try:
            socket.socket.close(self.connection)
        except OSError:
            pass


# ====================================================================== control API

def _json_body(body):
    if not body.strip():
        return {}
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SimError(400, "body is not JSON")


def _find(objs, id_field, oid):
    for i, o in enumerate(objs):
        if isinstance(o, dict) and o.get(id_field) == oid:
            return i
    return -1


CHANGE_OPS = ("mutate", "delete", "tick", "add")


def apply_change(sim, op, cloud_name, kind_name, req):
    """Lock held. mutate: merge `set` into the first object with `id`, moving its update time
    to now unless `set` gives it or `touch` is false; delete: remove it; tick: add `seconds` to
    `field` of every object whose `where` field is one of `values` (fields that change without
    the update time moving: a running task's RuntimeInSeconds); add: append req as an object."""
    cloud, kind = sim.cloud_kind(cloud_name, kind_name)
    objs = sim.data[cloud.name][kind.name]
    if not isinstance(req, dict):
        raise SimError(400, "body must be an object")
    sim.mutated()
    if op == "tick":
        field, where = req.get("field"), req.get("where")
        values, secs = req.get("values") or [], req.get("seconds", 1)
        if not isinstance(field, str) or not isinstance(where, str) or \
                not isinstance(values, list) or not isinstance(secs, int) or isinstance(secs, bool):
            raise SimError(400, "body must be {field, where, values[], seconds}")
        n = 0
        for o in objs:
            if isinstance(o, dict) and o.get(where) in values and isinstance(o.get(field), int):
                o[field] += secs
                n += 1
        return {"ok": True, "changed": n}
    if op == "add":
        objs.append(req)
        return {"ok": True, "count": len(objs)}
    if "id" not in req:
        raise SimError(400, "body must be {\"id\": ...}")
    i = _find(objs, kind.id_field, req["id"])
    if i < 0:
        raise SimError(404, "no %s/%s with %s %r" % (cloud.name, kind.name, kind.id_field,
                                                     req["id"]))
    if op == "delete":
        del objs[i]
        return {"ok": True}
    changes = req.get("set") or {}
    if not isinstance(changes, dict):
        raise SimError(400, "set must be an object")
    objs[i].update(changes)
    if kind.update_field and kind.update_field not in changes and req.get("touch", True):
        objs[i][kind.update_field] = cloud.update_value(kind.name, sim.now() + sim.update_shift)
    return {"ok": True, "object": objs[i]}


def mutate_many(sim, cloud_name, kind_name, req):
    """Lock held. /_sim/mutate-many: merge `set` into `count` objects whose `where` field is one
    of `values` (all objects without `where`), spread evenly over the store order, moving their
    update time as mutate does (unless `touch` is false). Returns their ids."""
    cloud, kind = sim.cloud_kind(cloud_name, kind_name)
    objs = sim.data[cloud.name][kind.name]
    if not isinstance(req, dict):
        raise SimError(400, "body must be an object")
    count, where, values = req.get("count"), req.get("where"), req.get("values") or []
    changes = req.get("set") or {}
    if not _is_count(count) or not isinstance(changes, dict) or \
            (where is not None and not isinstance(where, str)) or not isinstance(values, list):
        raise SimError(400, "body must be {count, set{}, where?, values[]?, touch?}")
    match = [o for o in objs if isinstance(o, dict) and (where is None or o.get(where) in values)]
    if count > len(match):
        raise SimError(409, "only %d objects match" % len(match))
    sim.mutated()
    ids = []
    stamp = cloud.update_value(kind.name, sim.now() + sim.update_shift) \
        if kind.update_field and kind.update_field not in changes and req.get("touch", True) \
        else None
    for j in range(count):
        o = match[j * len(match) // count]
        o.update(changes)
        if stamp is not None:
            o[kind.update_field] = stamp
        ids.append(o.get(kind.id_field))
    return {"ok": True, "ids": ids}


def _is_count(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def control(sim, method, path, body):
    parts = [unquote(p) for p in path.split("/")[2:]]
    if method == "GET" and parts == ["health"]:
        return 200, {"ok": True}
    if method == "GET" and parts == ["counts"]:
        return 200, sim.counts()
    if method == "POST" and parts == ["counts", "reset"]:
        sim.reset_counts()
        return 200, {"ok": True}
    if method == "POST" and parts == ["reset"]:
        req = _json_body(body)
        if not isinstance(req, dict):
            raise SimError(400, "reset body must be an object")
        sizes = {}
        for k, v in req.items():
            key = k.replace("-", "_")
            if key == "seed":
                continue
            if key in OPTION_KEYS:
                if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool)
                                      or not 0 <= v <= 100):
                    raise SimError(400, "active_percent must be null or a number 0-100")
                sizes[key] = v
                continue
            if key not in SIZE_KEYS:
                raise SimError(400, "unknown reset key %r" % k)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise SimError(400, "%s must be a non-negative integer" % k)
            sizes[key] = v
        sim.reset(req.get("seed"), sizes)
        return 200, {"ok": True, "seed": sim.seed, "sizes": sim.sizes,
                     "update_shift_s": sim.update_shift}
    if method == "GET" and parts and parts[0] == "summary" and len(parts) in (3, 4):
        cloud, kind = sim.cloud_kind(parts[1], parts[2])
        with sim.lock:
            objs = sim.data[cloud.name][kind.name]
            out = {"count": len(objs), "update_shift_s": sim.update_shift}
            if len(parts) == 4:
                by = collections.Counter(str(o.get(parts[3])) for o in objs
                                         if isinstance(o, dict))
                out["by"] = dict(sorted(by.items()))
        return 200, out
    if parts and parts[0] == "objects" and len(parts) == 3:
        cloud, kind = sim.cloud_kind(parts[1], parts[2])
        if method == "GET":
            with sim.lock:
                return 200, json.loads(json.dumps(sim.data[cloud.name][kind.name]))
        if method == "POST":
            obj = _json_body(body)
            with sim.lock:
                sim.mutated()
                sim.data[cloud.name][kind.name].append(obj)
                n = len(sim.data[cloud.name][kind.name])
            return 200, {"ok": True, "count": n}
    if method == "POST" and parts and parts[0] in CHANGE_OPS and len(parts) == 3:
        req = _json_body(body)
        with sim.lock:
            return 200, apply_change(sim, parts[0], parts[1], parts[2], req)
    if method == "POST" and parts and parts[0] == "mutate-many" and len(parts) == 3:
        req = _json_body(body)
        with sim.lock:
            return 200, mutate_many(sim, parts[1], parts[2], req)
    if method == "POST" and parts == ["schedule"]:
        req = _json_body(body)
        if not isinstance(req, dict) or req.get("op") not in CHANGE_OPS:
            raise SimError(400, "op must be one of %s" % ", ".join(CHANGE_OPS))
        after = req.get("after", 1)
        if not isinstance(after, int) or isinstance(after, bool) or after < 1:
            raise SimError(400, "after must be a positive integer")
        cloud, kind = sim.cloud_kind(*(str(req.get("collection", "")).split("/", 1) + [""])[:2])
        with sim.lock:
            sim.scheduled.append({"action": req.get("action", "*"), "after": after,
                                  "op": req["op"], "cloud": cloud.name, "kind": kind.name,
                                  "body": req.get("body") or {}})
            return 200, {"ok": True, "scheduled": len(sim.scheduled)}
    if method == "GET" and parts == ["schedule"]:
        with sim.lock:
            return 200, list(sim.scheduled)
    if method == "POST" and parts == ["faults"]:
        f = _json_body(body)
        if not isinstance(f, dict) or f.get("type") not in FAULT_TYPES:
            raise SimError(400, "fault type must be one of %s" % ", ".join(FAULT_TYPES))
        f.setdefault("action", "*")
        if f.get("count") is not None and (not isinstance(f["count"], int) or f["count"] < 0):
            raise SimError(400, "count must be a non-negative integer")
        with sim.lock:
            sim.faults.append(f)
            return 200, {"ok": True, "faults": len(sim.faults)}
    if method == "GET" and parts == ["faults"]:
        with sim.lock:
            return 200, list(sim.faults)
    if method == "POST" and parts == ["faults", "clear"]:
        with sim.lock:
            sim.faults = []
        return 200, {"ok": True}
    if method == "POST" and parts == ["clock"]:
        req = _json_body(body)
        off = req.get("offset_s") if isinstance(req, dict) else None
        if not isinstance(off, (int, float)) or isinstance(off, bool):
            raise SimError(400, "body must be {\"offset_s\": N}")
        with sim.lock:
            sim.clock_offset = float(off)
        return 200, {"ok": True, "offset_s": off, "now": sim.now()}
    if parts == ["limits"]:
        if method == "POST":
            req = _json_body(body)
            if not isinstance(req, dict):
                raise SimError(400, "body must be {\"<action>\": N}")
            with sim.lock:
                for k, v in req.items():
                    if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                        raise SimError(400, "limit for %s must be >= 0" % k)
                    sim.limits[k] = v
                    sim.windows.pop(k, None)
        with sim.lock:
            return 200, dict(sim.limits)
    raise SimError(404, "unknown control endpoint %s %s" % (method, path))


# ====================================================================== TLS material

def make_certs(state_dir):
    """A fresh CA and a server certificate signed by it, with the openssl tool."""
    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)

    ca_key = os.path.join(state_dir, "ca.key")
    ca_pem = os.path.join(state_dir, "ca.pem")
    srv_key = os.path.join(state_dir, "server.key")
    srv_csr = os.path.join(state_dir, "server.csr")
    srv_pem = os.path.join(state_dir, "server.pem")
    ext = os.path.join(state_dir, "server.ext")
    old = os.umask(0o077)
    try:
        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", ca_key, "-out", ca_pem, "-days", "30", "-sha256",
            "-subj", "/O=gpucloudfs cloudsim/CN=cloudsim throw-away test CA %d" % os.getpid(),
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth\n"
                    "subjectKeyIdentifier=hash\n"
                    "authorityKeyIdentifier=keyid\n"
                    "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:tione.tencentcloudapi.com,"
                    "DNS:cwai-global.ctapi.ctyun.cn,DNS:qianfan.baidubce.com,DNS:api.alayanew.com\n")
        run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", srv_key, "-out", srv_csr, "-subj", "/O=gpucloudfs cloudsim/CN=localhost")
        run("x509", "-req", "-in", srv_csr, "-CA", ca_pem, "-CAkey", ca_key,
            "-set_serial", "0x%x" % random.getrandbits(63), "-days", "30", "-sha256",
            "-extfile", ext, "-out", srv_pem)
    finally:
        os.umask(old)
    os.chmod(ca_pem, 0o644)
    return ca_pem, srv_pem, srv_key


# ====================================================================== servers

class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, sim, scheme, ssl_ctx=None, verbose=False):
        self.sim = sim
        self.scheme = scheme
        self.ssl_ctx = ssl_ctx
        self.verbose = verbose
        super().__init__(addr, Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        # Before the TLS handshake too, not only for the reply (Handler.setup):
        # no small handshake record may wait for the client's delayed ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ssl_ctx is not None:
            # The handshake runs later, in the handler thread, so a slow client cannot
            # block accept().
            sock = self.ssl_ctx.wrap_socket(sock, server_side=True,
                                            do_handshake_on_connect=False)
        return sock, addr

    def finish_request(self, request, client_address):
        if self.ssl_ctx is not None:
            try:
                request.settimeout(30)
                request.do_handshake()
                request.settimeout(None)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


def load_keys(path):
    keys = {k: list(v) for k, v in DEFAULT_KEYS.items()}
    if path:
        with open(path) as f:
            extra = json.load(f)
        for cloud, v in extra.items():
            keys[cloud] = v if isinstance(v, list) else [v]
    return keys


def main(argv=None):
    ap = argparse.ArgumentParser(description="Local simulator of the gpucloudfs cloud APIs.")
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--http-port", type=int, default=0)
    ap.add_argument("--https-port", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tasks", type=int, default=1234)
    ap.add_argument("--services", type=int, default=30)
    ap.add_argument("--ctyun-queues", type=int, default=25)
    ap.add_argument("--baidu-units", type=int, default=12)
    ap.add_argument("--alaya-products", type=int, default=10)
    ap.add_argument("--active-percent", type=float, default=None, metavar="P",
                    help="share of TI-ONE training tasks in a non-final status (0-100); "
                         "default: the seeded mix (about 1 in 3)")
    ap.add_argument("--keys", help="JSON file of credentials replacing the fake defaults per cloud")
    ap.add_argument("--verbose", action="store_true", help="log request lines to stderr")
    args = ap.parse_args(argv)

    if args.host not in ("127.0.0.1", "localhost"):
        ap.error("cloudsim listens on 127.0.0.1 only")
    host = "127.0.0.1"
    state_dir = os.path.abspath(args.state_dir)
    os.makedirs(state_dir, exist_ok=True)

    sizes = {"tasks": args.tasks, "services": args.services, "ctyun_queues": args.ctyun_queues,
             "baidu_units": args.baidu_units, "alaya_products": args.alaya_products,
             "active_percent": args.active_percent}
    if args.active_percent is not None and not 0 <= args.active_percent <= 100:
        ap.error("--active-percent must be between 0 and 100")
    sim = Sim(load_clouds(), args.seed, sizes, load_keys(args.keys))

    ca_pem, srv_pem, srv_key = make_certs(state_dir)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(srv_pem, srv_key)
    ctx.set_alpn_protocols(["http/1.1"])

    http_srv = Server((host, args.http_port), sim, "http", None, args.verbose)
    https_srv = Server((host, args.https_port), sim, "https", ctx, args.verbose)
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
               for s in (http_srv, https_srv)]
    for t in threads:
        t.start()

    def stop(signum, frame):
        sim.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    ready = {"pid": os.getpid(), "http_port": http_srv.server_address[1],
             "https_port": https_srv.server_address[1], "ca_file": ca_pem}
    line = json.dumps(ready)
    tmp = os.path.join(state_dir, ".ready.json.%d.tmp" % os.getpid())
    with open(tmp, "w") as f:
        f.write(line + "\n")
    os.replace(tmp, os.path.join(state_dir, "ready.json"))
    sys.stdout.write(line + "\n")
    sys.stdout.flush()

    while not sim.stopping.wait(1.0):
        pass
    for s in (http_srv, https_srv):
        s.shutdown()
        s.server_close()
    try:
        os.unlink(os.path.join(state_dir, "ready.json"))
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
