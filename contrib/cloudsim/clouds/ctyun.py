"""CTyun 一体化计算加速平台·异构计算: queue-info-list on
`POST /v4/cwai/central/task-service/queue/queue-info-list`, signed with EOP (api-docs/NOTES.md §1).

  * Eop-date: Beijing wall-clock time formatted yyyyMMdd'T'HHmmss'Z' (the Z is fake); rejected
    when more than 15 minutes from the simulator clock.
  * String to sign: the headers named in `Headers=` as `name:value\\n` (lowercase names, in the
    listed order; must include ctyun-eop-request-id and eop-date), then `\\n`, the raw query, `\\n`,
    hex sha256 of the exact body bytes.
  * ktime = HMAC(SK, eop-date); kAk = HMAC(ktime, AK); kdate = HMAC(kAk, eop-date[0:8]);
    Signature = base64(HMAC(kdate, string_to_sign)).
  * Eop-Authorization: `<AK> Headers=ctyun-eop-request-id;eop-date Signature=<base64>`.

Replies: success HTTP 200 {"statusCode": 800, "message": "成功", "returnObj": {...}}; business
failure HTTP 200 {"statusCode": 900, "errorCode": "Cwai.Api.BadRequest", "message": ...}.
The gateway's own auth errors are not documented (NOTES §1 "Not established"); the simulator
answers HTTP 401 with {"statusCode": 900, "errorCode": "Eop.Auth.<Reason>", "message": ...}
(an errorCode containing "Auth", as NOTES advises clients to recognise), and throttling with
HTTP 429 {"statusCode": 900, "errorCode": "Eop.Gateway.TooManyRequests", ...}.
"""

import base64
import calendar
import hashlib
import hmac
import json
import random
import re
import time
import uuid

from .common import Cloud, Kind, add_exact_numbers, json_reply, raw_number

PATH = "/v4/cwai/central/task-service/queue/queue-info-list"
ACTION = "queue-info-list"
WINDOW_S = 15 * 60
MAX_PAGE_SIZE = 100
REGION_ID = "200000001852"

AUTH_RE = re.compile(r"^(\S+) Headers=([A-Za-z0-9;_-]+) Signature=(\S+)$")
DATE_RE = re.compile(r"^\d{8}T\d{6}Z$")


def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def eop_signature(access_key, secret_key, eop_date, string_to_sign):
    ktime = _hmac(secret_key.encode("utf-8"), eop_date)
    kak = _hmac(ktime, access_key)
    kdate = _hmac(kak, eop_date[:8])
    return base64.b64encode(hmac.new(kdate, string_to_sign.encode("utf-8"),
                                     hashlib.sha256).digest()).decode("ascii")


def eop_date_epoch(eop_date):
    """Beijing wall-clock yyyyMMddTHHmmssZ -> Unix seconds."""
    return calendar.timegm(time.strptime(eop_date, "%Y%m%dT%H%M%SZ")) - 8 * 3600


def beijing(epoch, fmt):
    return time.strftime(fmt, time.gmtime(int(epoch) + 8 * 3600))


class _Reject(Exception):
    def __init__(self, code, message, status=200):
        super().__init__(code)
        self.code, self.message, self.status = code, message, status


def _auth(code, message):
    return _Reject("Eop.Auth." + code, message, 401)


class Ctyun(Cloud):
    name = "ctyun"
    kinds = {"queues": Kind("queues", "queueID", None, "ctyun_queues")}
    actions = (ACTION,)
    default_limits = {ACTION: 0}

    def route(self, req):
        return ACTION if req.path == PATH else None

    def error_reply(self, action, code, message, status=None, outcome="rejected"):
        return json_reply({"statusCode": 900, "errorCode": code, "message": message},
                          status=200 if status is None else status, outcome=outcome)

    def throttle_reply(self, action):
        return self.error_reply(action, "Eop.Gateway.TooManyRequests", "请求过于频繁，请稍后重试",
                                429, outcome="throttled")

    def _verify(self, sim, req):
        auth = req.header("Eop-Authorization")
        date = req.header("Eop-date")
        rid = req.header("ctyun-eop-request-id")
        if not auth or not date or not rid:
            raise _auth("MissingHeader",
                        "Eop-Authorization, Eop-date and ctyun-eop-request-id are required")
        m = AUTH_RE.match(auth.strip())
        if not m:
            raise _auth("InvalidAuthorization",
                        "Eop-Authorization must be '<AK> Headers=<names> Signature=<base64>'")
        ak, names_text, signature = m.groups()
        date = date.strip()
        if not DATE_RE.match(date):
            raise _auth("InvalidDate", "Eop-date must be yyyyMMddTHHmmssZ (Beijing time)")
        try:
            when = eop_date_epoch(date)
        except ValueError:
            raise _auth("InvalidDate", "Eop-date is not a valid time")
        if abs(when - sim.now()) > WINDOW_S:
            raise _auth("RequestExpired",
                        "Eop-date is more than 15 minutes from the server time (Beijing time)")
        sk = None
        for cred in sim.credentials("ctyun"):
            if cred.get("access_key") == ak:
                sk = cred.get("secret_key")
                break
        if sk is None:
            raise _auth("InvalidAccessKey", "the access key does not exist")
        names = names_text.lower().split(";")
        if "ctyun-eop-request-id" not in names or "eop-date" not in names:
            raise _auth("SignatureNotMatch", "Headers= must list ctyun-eop-request-id and eop-date")
        lines = "".join("%s:%s\n" % (n, (req.header(n) or "").strip()) for n in names)
        sts = lines + "\n" + req.query + "\n" + hashlib.sha256(req.body).hexdigest()
        if not hmac.compare_digest(eop_signature(ak, sk, date, sts), signature):
            raise _auth("SignatureNotMatch", "signature does not match")

    def handle(self, sim, action, req):
        try:
            self._verify(sim, req)
        except _Reject as r:
            return self.error_reply(action, r.code, r.message, r.status)
        if not sim.admit(action):
            return self.throttle_reply(action)
        try:
            if req.method != "POST":
                raise _Reject("Cwai.Api.BadRequest", "只支持POST请求")
            try:
                params = json.loads(req.body.decode("utf-8")) if req.body.strip() else {}
            except (UnicodeDecodeError, ValueError):
                raise _Reject("Cwai.Api.BadRequest", "请求体不是合法的JSON")
            if not isinstance(params, dict):
                raise _Reject("Cwai.Api.BadRequest", "请求体必须是JSON对象")
            region = params.get("regionID")
            if not isinstance(region, str) or not region:
                raise _Reject("Cwai.Api.BadRequest", "regionID不能为空")
            page_no = params.get("pageNo", 1)
            page_size = params.get("pageSize", 10)
            for k, v in (("pageNo", page_no), ("pageSize", page_size)):
                if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                    raise _Reject("Cwai.Api.BadRequest", "%s必须是正整数" % k)
            if page_size > MAX_PAGE_SIZE:
                raise _Reject("Cwai.Api.BadRequest", "pageSize不能大于%d" % MAX_PAGE_SIZE)
            for k in ("resourceGroupID", "status", "name"):
                if k in params and params[k] is not None and not isinstance(params[k], str):
                    raise _Reject("Cwai.Api.BadRequest", "%s必须是字符串" % k)
            ws = params.get("workspaceIDs")
            if ws is not None and (not isinstance(ws, list) or
                                   not all(isinstance(w, str) for w in ws)):
                raise _Reject("Cwai.Api.BadRequest", "workspaceIDs必须是字符串数组")
            desc = params.get("isDesc", False)
            if not isinstance(desc, bool):
                raise _Reject("Cwai.Api.BadRequest", "isDesc必须是布尔值")
        except _Reject as r:
            return self.error_reply(action, r.code, r.message, r.status)

        def select(objects):
            out = []
            for q in objects:
                if not isinstance(q, dict) or q.get("regionID") != region:
                    continue
                if params.get("resourceGroupID") and q.get("resourceGroupID") != params["resourceGroupID"]:
                    continue
                if params.get("status") and q.get("status") != params["status"]:
                    continue
                if params.get("name") and params["name"] not in str(q.get("name", "")):
                    continue
                if ws and q.get("workspaceID") not in ws:
                    continue
                out.append(q)

            def key(q):
                c, i = q.get("createTime"), q.get("queueID")
                return (c if isinstance(c, str) else "", i if isinstance(i, str) else "")
            out.sort(key=key, reverse=desc)
            start = (page_no - 1) * page_size
            return len(out), out[start:start + page_size]

        total, items = sim.with_objects(self.name, "queues", select)
        return json_reply({"statusCode": 800, "message": "成功", "returnObj": {
            "currentCount": len(items), "totalCount": total,
            "totalPage": (total + page_size - 1) // page_size, "result": items}})

    def generate(self, seed, sizes):
        queues = add_exact_numbers(
            gen_queues(random.Random("%s-ctyun-queues" % seed), sizes["ctyun_queues"]))
        for q in queues:  # quota.json carries them too
            if "bigId" in q:
                for d in q["queueQuota"]:
                    d.update({"exactBytes": raw_number("9007199254740993"),
                              "exactShare": raw_number("0.50"), "exactExp": raw_number("5E-1")})
        return {"queues": queues}


DEVICES = [
    ("huawei-Ascend910", "huawei.com/Ascend910", "huawei-Ascend910 2卡 48C 384G", 48, 384, 2),
    ("NVIDIA-A100-80G", "nvidia.com/gpu", "NVIDIA-A100 8卡 96C 960G", 96, 960, 8),
    ("NVIDIA-V100-32G", "nvidia.com/gpu", "NVIDIA-V100 4卡 32C 256G", 32, 256, 4),
    ("", "", "通用型 16C 64G", 16, 64, 0),
]
CREATORS = ["秦焕焕", "wuchengcheng", "张伟", "li.na", "王芳"]
STATUSES = ["running", "running", "running", "creating", "updating", "stopped", "error"]


def _uuid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _ratio(a, b):
    if not b:
        return 0
    r = round(a / b, 4)
    return int(r) if r == int(r) else r


def gen_queues(rng, n):
    groups = [(_uuid(rng), rng.choice(["wuchengcheng", "算法组", "rg-train", "推理资源组"]))
              for _ in range(3)]
    workspaces = [(_uuid(rng), rng.choice(["", "默认工作空间", "nlp-lab", "cv-team"]))
                  for _ in range(4)]
    out = []
    t = 1714552200  # 2024-05-01T08:30:00Z
    for i in range(n):
        t += rng.randint(60, 3 * 86400)
        gid, gname = rng.choice(groups)
        wid, wname = rng.choice(workspaces)
        quota = []
        for _ in range(rng.choice([1, 1, 2, 3])):
            gpu_name, res_name, dev_name, cpu, mem, gpu = rng.choice(DEVICES)
            count = rng.randint(1, 4)
            used = rng.randint(0, count)
            quota.append({
                "queueDeviceID": _uuid(rng),
                "queueDeviceName": dev_name,
                "cpu": cpu * count, "memory": mem * count, "gpu": gpu * count,
                "allocatedCpu": cpu * used, "allocatedMemory": mem * used,
                "allocatedGpu": gpu * used,
                "gpuName": gpu_name,
                "count": count, "allocatedCount": used,
                "statusMsg": "" if rng.random() < 0.9 else "部分节点不可用",
                "gpuResourceName": res_name,
                "nodeKey": "accelerator" if gpu else "cpu",
                "allocatedCpuRatio": _ratio(used, count),
                "allocatedMemoryRatio": _ratio(used, count),
                "allocatedGpuRatio": _ratio(used, count) if gpu else 0,
            })
        name = rng.choice(["queue%02d", "训练队列-%d", "infer-queue-%d", "队列 %d"]) % i
        out.append({
            "name": name,
            "queueID": _uuid(rng),
            "creator": rng.choice(CREATORS),
            "createUserID": "%032x" % rng.getrandbits(128),
            "regionID": REGION_ID,
            "azName": "cn-huabei2-tj1A-public-ctcloud",
            "resourceGroupID": gid,
            "resourceGroupName": gname,
            "workspaceID": wid,
            "workspaceName": wname,
            "queueQuota": quota,
            "createTime": beijing(t, "%Y-%m-%d %H:%M:%S"),
            "status": rng.choice(STATUSES),
        })
    return out


CLOUD = Ctyun()
