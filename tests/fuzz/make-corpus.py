#!/usr/bin/env python3
"""Regenerates the seed corpora in tests/fuzz/corpus/<target>/.

    python3 tests/fuzz/make-corpus.py            # from the source tree

Seeds for fuzz_reply_<provider> are one byte of HTTP status selector (see
fuzz_reply.h: low 4 bits index {200 x6, 201, 204, 400, 401, 403, 404, 429,
500, 503, 0}, bit 4 = a RequestId header) followed by the body:
  - the reply examples of /work/shared/api-docs (or $GCF_API_DOCS),
  - replies recorded from contrib/cloudsim (Alaya over HTTP with its bearer
    key; the signed clouds as the simulator's objects in their documented
    success envelope), including hostile IDs posted to the simulator,
  - error envelopes, truncated, deeply nested, wrong-type and odd-number
    variants.
fuzz_names gets hostile IDs and field names; fuzz_config a few config files.
The corpora are committed; rerun this only to refresh them.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
CORPUS = os.path.join(HERE, "corpus")
DOCS = os.environ.get("GCF_API_DOCS", "/work/shared/api-docs")

S200, S201, S204, S400, S401, S403, S404, S429, S500, S503, S0 = 0, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
RID = 0x10

written = {}


def put(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:80]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
    written[target] = written.get(target, 0) + 1


def reply(target, name, status, body):
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body, ensure_ascii=False)
    if isinstance(body, str):
        body = body.encode()
    put(target, name, bytes([status]) + body)


# ---- the API documentation's examples --------------------------------------

def doc_objects(text):
    """Every JSON object the text holds (line-number prefixes removed)."""
    out = []
    dec = json.JSONDecoder()
    for variant in (text, re.sub(r"(?m)^\d+(?=[ {}\[\]\"]|$)", "", text)):
        i = 0
        while True:
            i = variant.find("{", i)
            if i < 0:
                break
            try:
                obj, end = dec.raw_decode(variant, i)
            except ValueError as e:
                # an example missing its closing braces (Baidu's is)
                obj = None
                for k in (1, 2, 3):
                    try:
                        obj = json.loads(variant[i:e.pos].rstrip() + "}" * k)
                        break
                    except ValueError:
                        pass
                if not isinstance(obj, dict) or obj in out or not is_reply(obj):
                    i += 1
                    continue
                end = e.pos
            if isinstance(obj, dict) and obj not in out:
                out.append(obj)
            i = end
    return out


def is_reply(obj):
    return any(k in obj for k in ("Response", "returnObj", "result", "statusCode", "requestId", "data"))


DOC_TARGET = {"tencent": "fuzz_reply_tencent", "ctyun": "fuzz_reply_ctyun",
              "baidu": "fuzz_reply_baidu", "alaya": "fuzz_reply_alaya"}


def from_docs():
    if not os.path.isdir(DOCS):
        print(f"make-corpus: {DOCS} missing: no documentation seeds", file=sys.stderr)
        return
    for fn in sorted(os.listdir(DOCS)):
        cloud = fn.split("-")[0]
        if cloud not in DOC_TARGET:
            continue
        with open(os.path.join(DOCS, fn), encoding="utf-8") as f:
            text = f.read()
        for n, obj in enumerate(o for o in doc_objects(text) if is_reply(o)):
            body = json.dumps(obj, ensure_ascii=False, indent=1)
            reply(DOC_TARGET[cloud], f"doc-{fn[:-4]}-{n}", S200 | RID, body)


# ---- the simulator -----------------------------------------------------------

HOSTILE_IDS = ["..", ".", "", "a/b", "../../etc/passwd", "%2F", "a%2Fb", ".hidden", "x" * 300,
               "名" * 100, "tab\there", "nl\nx", "\u0000nul", "dup", "dup", "dup~2", "\u00e9\u0301",
               "\ud7ff", "emoji-\U0001F600", "x" * 254 + "é", "~" * 40, "CON", " lead", "trail "]


def sim_get(base, path, headers=None):
    rq = urllib.request.Request(base + path, headers=headers or {})
    try:
        with urllib.request.urlopen(rq, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def sim_post(base, path, obj):
    rq = urllib.request.Request(base + path, data=json.dumps(obj).encode(), method="POST",
                                headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(rq, timeout=10) as r:
        return r.read()


def status_byte(code):
    return {200: S200, 201: S201, 204: S204, 400: S400, 401: S401, 403: S403, 404: S404,
            429: S429, 500: S500, 503: S503}.get(code, S0)


def from_sim():
    state = tempfile.mkdtemp(prefix="gcf-corpus-sim.")
    args = [sys.executable, os.path.join(SRC, "contrib/cloudsim/cloudsim.py"), "--state-dir", state,
            "--tasks", "4", "--services", "3", "--ctyun-queues", "3", "--baidu-units", "3",
            "--alaya-products", "4"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = os.path.join(state, "ready.json")
        for _ in range(150):
            if os.path.exists(ready) and os.path.getsize(ready):
                break
            time.sleep(0.1)
        else:
            print("make-corpus: the simulator did not start: no simulator seeds", file=sys.stderr)
            return
        with open(ready) as f:
            base = f"http://127.0.0.1:{json.load(f)['http_port']}"
        path = "/v1/product/list-for-training-task"
        # Alaya: real replies over HTTP (a bearer key, no signing)
        for name, hdr in (("ok", "Bearer sim-alaya-key"), ("badkey", "Bearer nope"), ("nokey", "")):
            code, body = sim_get(base, path, {"Authorization": hdr} if hdr else {})
            reply("fuzz_reply_alaya", f"sim-{name}", status_byte(code), body)
        code, body = sim_get(base, path + "?aidcId=x", {"Authorization": "Bearer sim-alaya-key"})
        reply("fuzz_reply_alaya", "sim-bad-aidc", status_byte(code), body)
        for fault in ({"type": "cloud_error", "code": "500", "status": 200},
                      {"type": "throttle"}, {"type": "malformed"}):
            sim_post(base, "/_sim/faults", dict(fault, action="*", count=1))
            code, body = sim_get(base, path, {"Authorization": "Bearer sim-alaya-key"})
            reply("fuzz_reply_alaya", f"sim-fault-{fault['type']}", status_byte(code), body)
        sim_post(base, "/_sim/faults/clear", {})

        # the signed clouds: their objects, in the documented success envelopes
        def envelopes(objs):
            return {
                "tencent/tasks": ("fuzz_reply_tencent", {"Response": {"TotalCount": len(objs), "TrainingTaskSet": objs, "RequestId": "6f1c7a3e-0000-4000-8000-000000000001"}}),
                "tencent/services": ("fuzz_reply_tencent", {"Response": {"TotalCount": len(objs), "ServiceGroups": objs, "RequestId": "6f1c7a3e-0000-4000-8000-000000000002"}}),
                "ctyun/queues": ("fuzz_reply_ctyun", {"statusCode": 800, "message": "成功", "returnObj": {"currentCount": len(objs), "totalCount": len(objs), "totalPage": 1, "result": objs}}),
                "baidu/computeunits": ("fuzz_reply_baidu", {"requestId": "1bef3f87-c5b2-4419-936b-50f9884f10d4", "result": {"computeUnitInstanceList": objs}}),
                "alaya/products": ("fuzz_reply_alaya", {"status": 200, "message": "OK", "data": objs}),
            }
        idf = {"tencent/tasks": "Id", "tencent/services": "ServiceGroupId", "ctyun/queues": "queueID",
               "baidu/computeunits": "instanceId", "alaya/products": "productCode"}
        for coll in idf:
            objs = json.loads(sim_get(base, f"/_sim/objects/{coll}")[1])
            target, env = envelopes(objs)[coll]
            reply(target, f"sim-{coll}", S200 | RID, json.dumps(env, ensure_ascii=False))
            # hostile IDs, posted to the simulator and read back
            one = objs[0]
            for hid in HOSTILE_IDS:
                sim_post(base, f"/_sim/objects/{coll}", dict(one, **{idf[coll]: hid}))
            sim_post(base, f"/_sim/objects/{coll}", dict(one, **{idf[coll]: 12345}))
            sim_post(base, f"/_sim/objects/{coll}", dict(one, **{idf[coll]: None}))
            hostile = json.loads(sim_get(base, f"/_sim/objects/{coll}")[1])[len(objs):]
            target, env = envelopes(hostile)[coll]
            reply(target, f"sim-hostile-{coll}", S200, json.dumps(env, ensure_ascii=False))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(state, ignore_errors=True)


# ---- synthetic variants ------------------------------------------------------

def nested(depth, leaf='"x"'):
    return "[" * depth + leaf + "]" * depth


def synthetic():
    obj = {"Id": "train-1", "Name": "t", "CreateTime": "2024-05-01T08:30:00Z",
           "UpdateTime": "2024-05-01 08:30:00.123+08:00", "Status": "RUNNING", "N": 1.5e308,
           "Neg": -0.0, "Big": 1e400, "B": True, "Z": None, "Arr": [1, {"a": []}],
           "FrameworkName": "PyTorch", "RDMAConfig": {"x": 1}, "queueID": "q",
           "startTime": 1714552200123, "createTime": "9999-12-31 23:59:60"}
    envs = {
        "fuzz_reply_tencent": lambda items: {"Response": {"TotalCount": 1, "TrainingTaskSet": items, "ServiceGroups": items, "RequestId": "r"}},
        "fuzz_reply_ctyun": lambda items: {"statusCode": 800, "returnObj": {"totalCount": 1, "totalPage": 1, "result": items}},
        "fuzz_reply_baidu": lambda items: {"requestId": "r", "result": {"computeUnitInstanceList": items}},
        "fuzz_reply_alaya": lambda items: {"status": 200, "message": "OK", "data": items},
    }
    errors = {
        "fuzz_reply_tencent": [
            (S200, {"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "bad"}, "RequestId": "r"}}),
            (S200, {"Response": {"Error": {"Code": 7}, "RequestId": 5}}),
            (S200, {"Response": {"Error": "x"}}),
            (S200, {"Response": []}),
            (S500 | RID, "<html>502 Bad Gateway</html>"),
            (S200, {"Response": {"TotalCount": -1, "TrainingTaskSet": None}}),
            (S200, {"Response": {"TotalCount": 1e300, "TrainingTaskSet": [1, "a"]}}),
        ],
        "fuzz_reply_ctyun": [
            (S200, {"statusCode": 900, "errorCode": "Cwai.Api.BadRequest", "message": "bad"}),
            (S401, {"statusCode": 900, "errorCode": "Eop.Auth.SignatureNotMatch", "message": "x"}),
            (S429, {"statusCode": 900, "errorCode": "Eop.Gateway.TooManyRequests"}),
            (S200, {"statusCode": "800", "returnObj": {"result": None, "totalCount": "1"}}),
            (S200, {"statusCode": 1e300}),
            (S200, {"statusCode": "800.0", "returnObj": {"totalPage": 1e16}}),
            (S200, {"statusCode": 800, "error": "", "errorCode": ""}),
        ],
        "fuzz_reply_baidu": [
            (S400, {"requestId": "r", "code": "SignatureDoesNotMatch", "message": "bad"}),
            (S403 | RID, {"code": "InvalidAccessKeyId"}),
            (S200, {"code": "InvalidParameter", "message": "x"}),
            (S200, {"result": {"computeUnitInstanceList": {"a": 1}}}),
            (S200, {}),
            (S204, ""),
        ],
        "fuzz_reply_alaya": [
            (S403, {"status": 403, "message": "Forbidden", "data": {}}),
            (S200, {"status": "200", "data": [{"productCode": "p"}]}),
            (S200, {"status": 1e300, "data": []}),
            (S200, {"status": -1e300, "data": []}),
            (S200, {"status": "99999999999999999999999", "data": []}),
            (S200, {"status": 200.9, "data": None}),
            (S200, {"status": "500", "code": "500"}),
        ],
    }
    for target, env in envs.items():
        good = json.dumps(env([obj, dict(obj, Id="train-2", queueID="q2", instanceId="u", productCode="p")]), ensure_ascii=False)
        reply(target, "syn-ok", S200, good)
        reply(target, "syn-ok-rid", S200 | RID, good)
        for cut in (1, len(good) // 3, len(good) // 2, len(good) - 1):
            reply(target, f"syn-truncated-{cut}", S200, good[:cut])
        reply(target, "syn-deep", S200, good.replace('"Arr": [', '"Arr": [' + nested(990, "0") + ",", 1))
        reply(target, "syn-too-deep", S200, nested(1200))
        reply(target, "syn-deep-objects", S200, '{"a":' * 500 + "1" + "}" * 500)
        reply(target, "syn-wrong-types", S200, json.dumps(env("items")))
        reply(target, "syn-items-not-objects", S200, json.dumps(env([1, "x", None, [], True])))
        reply(target, "syn-empty-list", S200, json.dumps(env([])))
        reply(target, "syn-null-list", S200, json.dumps(env(None)))
        reply(target, "syn-not-json", S200, "not json at all")
        reply(target, "syn-empty", S200, "")
        reply(target, "syn-array", S200, "[]")
        reply(target, "syn-http-0", S0, good)
        dup = [dict(obj, Id="d", queueID="d", instanceId="d", productCode="d") for _ in range(3)]
        dup.append(dict(obj, Id="d~2", queueID="d~2", instanceId="d~2", productCode="d~2"))
        reply(target, "syn-duplicate-ids", S200, json.dumps(env(dup)))
        hostile = [dict(obj, Id=h, queueID=h, instanceId=h, productCode=h) for h in HOSTILE_IDS]
        reply(target, "syn-hostile-ids", S200, json.dumps(env(hostile), ensure_ascii=False))
        odd = {"Id": 1e300, "queueID": -5, "instanceId": 0.1, "productCode": True,
               "": "empty key", ".": "dot", "..": "dotdot", "a/b": 1, "%": 2, "Tab\tKey": 3,
               "UPPERCase": 4, "x" * 300: 5, "名字": 6, "CreateTime": "2024-02-30T25:61:61+99:99",
               "UpdateTime": -1, "createTime": 1e15, "startTime": "0000-01-01"}
        reply(target, "syn-odd-fields", S200, json.dumps(env([odd]), ensure_ascii=False))
        raw = json.dumps(env([{"Id": "k", "queueID": "k", "instanceId": "k", "productCode": "k", "KEY": 1}]))
        reply(target, "syn-raw-bytes-key", S200, raw.replace("KEY", "\xff\xfe", 1).encode("latin-1"))
        reply(target, "syn-escape-nul", S200, raw.replace('"k"', '"a\\u0000b"'))
        for n, (st, body) in enumerate(errors[target]):
            reply(target, f"syn-error-{n}", st, body if isinstance(body, str) else json.dumps(body))


def names_and_config():
    def pair(a, b, reps=0):
        a, b = (x.encode() if isinstance(x, str) else x for x in (a, b))
        return bytes([len(a) & 0xff, len(a) >> 8, reps]) + a + b

    seeds = [("safe", "train-123", "ms-abc"), ("dots", ".", ".."), ("slash", "a/b", "a%2Fb"),
             ("percent", "%", "%25"), ("empty", "", "x"), ("hidden", ".hidden", "%2Ehidden"),
             ("utf8", "训练任务-0042", "实验 7 对照组"), ("long", "x" * 300, "x" * 301),
             ("long-utf8", "名" * 120, "名" * 121), ("same", "dup", "dup"),
             ("ctrl", "a\x01b", "a\x7fb"), ("snake", "FrameworkName", "RDMAConfig"),
             ("snake2", "queueID", "memoryGB"), ("tilde", "x~2", "x"),
             ("exact255", "y" * 255, "y" * 255)]
    for name, a, b in seeds:
        put("fuzz_names", name, pair(a, b, 2))
    put("fuzz_names", "invalid-utf8", pair(b"\xc0\xaf\xed\xa0\x80", b"\xf4\x90\x80\x80\xff"))

    sample = os.path.join(SRC, "contrib", "config.ini.example")
    cfgs = {
        "all-clouds": """[gpucloudfs]
ttl = 60
timeout = 10
connect_timeout = 5
op_timeout = 30
concurrency = 4
max_rps = 0
max_body = 33554432

[tencent]
secret_id = AKIDexample
secret_key = example-key
region = ap-guangzhou

[ctyun]
access_key = ak
secret_key = sk
region_id = 200000001852

[baidu]
access_key = ak
secret_key = sk

[alaya]
api_key = key

[second]
provider = tencent
endpoint = https://127.0.0.1:8443
secret_id = a
secret_key = b
region = ap-shanghai
ttl = 0
""",
        "errors": "[tencent]\nsecret_id = a\nsecret_id = b\nttl = x\n",
        "no-section": "ttl = 5\n",
        "bad-section": "[../x]\nprovider = tencent\n",
        "unknown-provider": "[x]\nprovider = nope\n",
        "syntax": "[tencent\nsecret_id\n",
        "comments": "; comment\n# other\n[alaya]\napi_key = k ; inline\n",
        "long-line": "[alaya]\napi_key = " + "k" * 400 + "\n",
        "numbers": "[gpucloudfs]\nttl = 2592001\ntimeout = -1\nmax_body = 99999999999999999999\n[alaya]\napi_key=k\n",
        "empty": "",
    }
    for name, text in cfgs.items():
        put("fuzz_config", name, text)


def fetch_seeds():
    """fuzz_fetch: byte 0 = connection (0 tencent, 1 ctyun, 2 baidu, 3 alaya) | kind << 4,
    byte 1 = status selector, then page bodies separated by "@@@"."""
    def seed(name, conn, kind, status, pages):
        put("fuzz_fetch", name, bytes([conn | kind << 4, status]) +
            b"@@@".join(json.dumps(p, ensure_ascii=False).encode() for p in pages))

    def task(i):
        return {"Id": f"train-{i}", "Name": f"t{i}", "UpdateTime": "2024-05-01T08:30:00Z"}

    tp = lambda items, total: {"Response": {"TotalCount": total, "TrainingTaskSet": items, "RequestId": "r"}}
    seed("tencent-3-pages", 0, 0, S200, [tp([task(i) for i in range(50)], 120),
                                         tp([task(i) for i in range(50, 100)], 120),
                                         tp([task(i) for i in range(100, 120)], 120)])
    seed("tencent-shifted", 0, 0, S200, [tp([task(i) for i in range(50)], 60),
                                         tp([task(i) for i in range(45, 60)], 61)])
    seed("tencent-huge-total", 0, 0, S200, [tp([task(1)], 10 ** 15)])
    seed("tencent-services", 0, 1, S200, [{"Response": {"TotalCount": 1, "ServiceGroups": [{"ServiceGroupId": "ms-1"}]}}])
    seed("tencent-error-page-2", 0, 0, S200, [tp([task(i) for i in range(50)], 51),
                                              {"Response": {"Error": {"Code": "RequestLimitExceeded", "Message": "slow"}}}])
    cq = lambda items, total, pages: {"statusCode": 800, "returnObj": {"totalCount": total, "totalPage": pages, "result": items}}
    q = lambda i: {"queueID": f"q{i}", "createTime": "2024-05-01 16:30:00", "queueQuota": {"gpu": i}}
    seed("ctyun-2-pages", 1, 0, S200, [cq([q(i) for i in range(100)], 150, 2), cq([q(i) for i in range(100, 150)], 150, 2)])
    seed("ctyun-pages-only", 1, 0, S200, [cq([q(1)], None, 3), cq([q(1)], None, 3), cq([], None, 3)])
    seed("baidu-dup", 2, 0, S200, [{"result": {"computeUnitInstanceList": [{"instanceId": "u"}, {"instanceId": "u"}]}}])
    seed("alaya", 3, 0, S200, [{"status": 200, "data": [{"productCode": "p"}, {"productCode": 7}]}])
    seed("alaya-403", 3, 0, S403, [{"status": 403, "message": "Forbidden", "data": {}}])


def numbers_seeds():
    """fuzz_numbers: JSON texts with the numbers a double loses, and text cJSON reads but JSON
    forbids."""
    seeds = {
        "exact": '{"bigId":9007199254740993,"big2":12345678901234567890,"cnt":1e3,"fee":0.10,'
                 '"z":-0,"s":1E+2,"t":-1.5e-7}',
        "array": '[0, -0.0, 1.5e+300, 1e999, -1e-400, [1.0, {"a": [2E-2]}], "9", true, false, null]',
        "bom-escape": '\ufeff { "k\\"1" : 1.0 , "e" : {} , "a" : [ ] }\n',
        "top-number": "12345678901234567890",
        "not-json": "[1.50, 01, 1., -.5]",
        "reply": '{"Response":{"TotalCount":3,"TrainingTaskSet":[{"Id":"t","RuntimeInSeconds":3600,'
                 '"BillingPrice":0.50}]}}',
    }
    for name, text in seeds.items():
        put("fuzz_numbers", name, text)


def main():
    if os.path.isdir(CORPUS):
        shutil.rmtree(CORPUS)
    from_docs()
    from_sim()
    synthetic()
    names_and_config()
    fetch_seeds()
    numbers_seeds()
    for t in sorted(written):
        print(f"make-corpus: {t}: {written[t]} seeds")


if __name__ == "__main__":
    main()
