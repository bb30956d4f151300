"""Alaya NeW: list-for-training-task on `GET /v1/product/list-for-training-task[?aidcId=N]`
(api-docs/NOTES.md §3). Bearer key, no signing, no paging.

Success: HTTP 200 {"status": 200, "message": "OK", "data": [...]} with the documented quirks
(cpuCores/memoryGB/gpuCount/diskGB/price are strings, gpuName "-" or null, ext string map).
Errors: the body's `status` is the business code and `data` becomes {}; whether the HTTP status
mirrors it is not documented — the simulator mirrors it (403 Forbidden for a bad key, 400 for
a bad aidcId, 429 when throttled); a `cloud_error` fault's `status` can choose otherwise.
"""

import hmac
import random
from urllib.parse import unquote_plus

from .common import Cloud, Kind, add_exact_numbers, json_reply

PATH = "/v1/product/list-for-training-task"
ACTION = "list-for-training-task"
REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable"}


class Alaya(Cloud):
    name = "alaya"
    kinds = {"products": Kind("products", "productCode", None, "alaya_products")}
    actions = (ACTION,)
    default_limits = {ACTION: 0}

    def route(self, req):
        return ACTION if req.path == PATH else None

    def error_reply(self, action, code, message, status=None, outcome="rejected"):
        try:
            business = int(code)
        except (TypeError, ValueError):
            business = 500
        if message in (None, "", "simulated cloud error"):
            message = REASONS.get(business, "Error")
        return json_reply({"status": business, "message": message, "data": {}},
                          status=business if status is None else status, outcome=outcome)

    def throttle_reply(self, action):
        return self.error_reply(action, 429, None, outcome="throttled")

    def handle(self, sim, action, req):
        auth = (req.header("Authorization") or "").strip()
        scheme, _, key = auth.partition(" ")
        key = key.strip()
        ok = scheme.lower() == "bearer" and key and any(
            hmac.compare_digest(key.encode(), str(c.get("api_key", "")).encode())
            for c in sim.credentials("alaya"))
        if not ok:
            return self.error_reply(action, 403, "Forbidden")
        if not sim.admit(action):
            return self.throttle_reply(action)
        if req.method != "GET":
            return self.error_reply(action, 405, None)
        aidc = None
        for part in req.query.split("&") if req.query else []:
            k, _, v = part.partition("=")
            if unquote_plus(k) == "aidcId":
                v = unquote_plus(v).strip()
                try:
                    aidc = int(v)
                except ValueError:
                    return self.error_reply(action, 400, "Bad Request")
                break

        def select(objects):
            return [p for p in objects if isinstance(p, dict) and
                    (aidc is None or p.get("aidcId") == aidc)]

        items = sim.with_objects(self.name, "products", select)
        return json_reply({"status": 200, "message": "OK", "data": items})

    def generate(self, seed, sizes):
        return {"products": add_exact_numbers(
            gen_products(random.Random("%s-alaya-products" % seed), sizes["alaya_products"]))}


GPUS = [("NVIDIA-H800A-NV-80G", "18", "200"), ("NVIDIA-A800-SXM4-80GB", "16", "160"),
        ("NVIDIA-RTX-4090-24G", "8", "64"), ("NVIDIA-L40S-48G", "12", "96")]


def gen_products(rng, n):
    out = []
    for i in range(n):
        aidc = rng.choice([1, 1, 2, 3])
        if i == 0 or rng.random() < 0.2:
            gpu, cpu, mem, count = (rng.choice(["-", None]) if i else "-"), \
                rng.choice(["2", "4", "8"]), rng.choice(["4", "8", "16"]), "0"
            name = "无卡启动" if i == 0 else "CPU 规格 %d" % i
            code = "PRD-CCI-%d" % (i + 1)
            price = rng.choice(["12.5", "0.8", "1.25"])
        else:
            gpu, cpu1, mem1 = rng.choice(GPUS)
            g = rng.choice([1, 2, 4, 8])
            cpu, mem, count = str(int(cpu1) * g // 8 or 2), str(int(mem1) * g // 8 or 16), str(g)
            name = rng.choice(["分布式训练%d", "training-%d", "训练规格 %d"]) % i
            code = "PRD-TRAIN-%d" % (i + 1)
            price = str(rng.choice([2, 3.5, 7.25, 15, 28.8]))
        remaining = rng.choice([0, 0, 1, 6, 12, 30])
        ext = {}
        if remaining == 0:
            ext["stockError"] = "库存不足"
        elif rng.random() < 0.15:
            ext["note"] = "限时优惠"
        out.append({
            "name": name,
            "aidcId": aidc,
            "productCode": code,
            "cpuCores": cpu,
            "memoryGB": mem,
            "gpuName": gpu,
            "gpuCount": count,
            "diskGB": rng.choice(["50", "100", "200"]),
            "price": price,
            "priceUnit": 11,
            "remainingCount": remaining,
            "ext": ext,
        })
    return out


CLOUD = Alaya()
