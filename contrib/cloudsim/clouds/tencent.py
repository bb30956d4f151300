"""Tencent Cloud TI-ONE (API 3.0, version 2021-11-11): DescribeTrainingTasks and
DescribeModelServiceGroups on `POST /`, signed with TC3-HMAC-SHA256.

Verification follows api-docs/NOTES.md sections 4-5:
  * Authorization `TC3-HMAC-SHA256 Credential=ID/DATE/tione/tc3_request,
    SignedHeaders=..., Signature=HEX` (anything else: AuthFailure.InvalidAuthorization)
  * X-TC-Timestamp more than 300 s from the simulator clock: AuthFailure.SignatureExpire
  * unknown SecretId: AuthFailure.SecretIdNotFound
  * credential date not the UTC date of the timestamp, service not `tione`, or a signature
    that does not match: AuthFailure.SignatureFailure
  * the signed host may be the Host header with or without its port (the Node SDK signs
    URL.hostname while sending host:port).
Errors are HTTP 200 with {"Response": {"Error": {Code, Message}, "RequestId"}}.
"""

import hashlib
import hmac
import json
import random
import re

from .common import Cloud, Kind, add_exact_numbers, iso_utc, json_reply, new_request_id

VERSION = "2021-11-11"
SERVICE = "tione"
FRESHNESS_S = 300

TASKS = "DescribeTrainingTasks"
SERVICES = "DescribeModelServiceGroups"

AUTH_RE = re.compile(
    r"^TC3-HMAC-SHA256 Credential=([^/\s]+)/([^/\s]*)/([^/\s]*)/tc3_request, "
    r"SignedHeaders=([a-z0-9;._-]+), Signature=(\S+)$")

TASK_STATUSES = ["SUBMITTING", "PENDING", "STARTING", "RUNNING", "STOPPING", "STOPPED",
                 "FAILED", "SUCCEED", "SUBMIT_FAILED"]
TASK_STATUS_WEIGHTS = [3, 5, 3, 20, 2, 12, 10, 40, 5]
NOT_STARTED = {"SUBMITTING", "PENDING", "SUBMIT_FAILED"}
FINISHED = {"STOPPED", "FAILED", "SUCCEED", "SUBMIT_FAILED"}
# --active-percent P: P % of the tasks (exactly floor(n * P / 100), spread over the whole
# list) get one of the non-final statuses, the others a final one, each with the weights above.
NON_FINAL = [s for s in TASK_STATUSES if s not in FINISHED]
NON_FINAL_WEIGHTS = [w for s, w in zip(TASK_STATUSES, TASK_STATUS_WEIGHTS) if s not in FINISHED]
FINAL = [s for s in TASK_STATUSES if s in FINISHED]
FINAL_WEIGHTS = [w for s, w in zip(TASK_STATUSES, TASK_STATUS_WEIGHTS) if s in FINISHED]

SERVICE_STATUSES = ["Normal", "Abnormal", "Waiting", "Stopped", "Stopping", "Starting",
                    "CreateFailed"]
SERVICE_STATUS_WEIGHTS = [40, 5, 5, 20, 3, 3, 4]

REGIONS = ["ap-guangzhou", "ap-shanghai", "ap-beijing", "ap-nanjing"]
FRAMEWORKS = [("PYTORCH", "1.12", "torch1.12-py38-cu113"),
              ("PYTORCH", "2.1", "torch2.1-py310-cu121"),
              ("TENSORFLOW", "2.7", "tf2.7-py38-cu112"),
              ("DEEPSPEED", "0.10", "deepspeed0.10-torch2.0-py310"),
              (None, None, None)]  # custom image
GPU_TYPES = [("A10", "TI.GNV4.3XLARGE44.POST"), ("A100", "TI.GN7.20XLARGE320.POST"),
             ("V100", "TI.GN10X.2XLARGE40.POST"), ("T4", "TI.GN7.LARGE20.POST"),
             ("H800", "TI.HCCPNV5.32XLARGE1280.POST")]
NAME_STYLES = ["训练任务-{n:04d}", "llama2-sft-{n:04d}", "chatglm-ft-{n:04d}",
               "bert_base_{n}", "qwen-7b-lora-{n:04d}", "实验 {n} 对照组", "resnet50.run{n}"]
FAILURE_REASONS = ["CUDA out of memory", "镜像拉取失败", "exit code 137 (OOMKilled)",
                   "资源不足，调度失败", "user script exited with code 1"]
CREATORS = ["100014761913", "100032054859", "100005348929"]


def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def tc3_signature(secret_key, date, service, string_to_sign):
    k_date = _hmac(("TC3" + secret_key).encode("utf-8"), date)
    k_service = _hmac(k_date, service)
    k_signing = _hmac(k_service, "tc3_request")
    return hmac.new(k_signing, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def tc3_string_to_sign(method, path, query, canonical_headers, signed_headers, body, timestamp,
                       date, service):
    canonical_request = "\n".join([
        method, path, query, canonical_headers, signed_headers,
        hashlib.sha256(body).hexdigest()])
    return "\n".join([
        "TC3-HMAC-SHA256", str(timestamp), "%s/%s/tc3_request" % (date, service),
        hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()])


def utc_date(timestamp):
    return iso_utc(timestamp)[:10]


class _Reject(Exception):
    def __init__(self, code, message):
        super().__init__(code)
        self.code = code
        self.message = message


# ------------------------------------------------------------------ filters and paging

def _task_filter_value(obj, name):
    if name == "Id":
        return [obj.get("Id")]
    if name == "Name":
        return [obj.get("Name")]
    if name == "Status":
        return [obj.get("Status")]
    if name == "ResourceGroupId":
        return [obj.get("ResourceGroupId")]
    if name == "Creator":
        return [obj.get("Creator") or obj.get("Uin")]
    if name == "ChargeType":
        return [obj.get("ChargeType")]
    if name == "CHARGE_STATUS":
        return [obj.get("ChargeStatus")]
    return None


def _service_filter_value(obj, name):
    services = obj.get("Services") if isinstance(obj.get("Services"), list) else []
    if name in ("ServiceGroupId", "ServiceGroupName", "Status", "CreatedBy"):
        return [obj.get(name)]
    if name == "ServiceId":
        return [s.get("ServiceId") for s in services if isinstance(s, dict)]
    if name == "ClusterId":
        return [s.get("ClusterId") for s in services if isinstance(s, dict)]
    if name == "ModelVersionId":
        out = []
        for s in services:
            try:
                out.append(s["ServiceInfo"]["ModelInfo"]["ModelVersionId"])
            except (KeyError, TypeError):
                pass
        return out
    return None


TASK_FILTERS = {"Id", "Name", "Status", "ResourceGroupId", "Creator", "ChargeType",
                "CHARGE_STATUS"}
SERVICE_FILTERS = {"ServiceGroupId", "ServiceGroupName", "Status", "ServiceId", "ClusterId",
                   "CreatedBy", "ModelVersionId"}

SPECS = {
    TASKS: dict(kind="tasks", set_key="TrainingTaskSet", default_limit=10, max_limit=50,
                order_fields=("CreateTime", "UpdateTime", "StartTime"), filters=TASK_FILTERS,
                getter=_task_filter_value, id_field="Id",
                params={"Filters", "TagFilters", "Offset", "Limit", "Order", "OrderField"}),
    SERVICES: dict(kind="services", set_key="ServiceGroups", default_limit=20, max_limit=100,
                   order_fields=("CreateTime", "UpdateTime"), filters=SERVICE_FILTERS,
                   getter=_service_filter_value, id_field="ServiceGroupId",
                   params={"Filters", "TagFilters", "Offset", "Limit", "Order", "OrderField",
                           "ServiceCategory"}),
}


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _match_filter(values, wanted, fuzzy):
    for v in values:
        if not isinstance(v, str):
            continue
        for w in wanted:
            if (fuzzy and w in v) or (not fuzzy and w == v):
                return True
    return False


def _match_tags(obj, tag_filters):
    tags = obj.get("Tags") if isinstance(obj.get("Tags"), list) else []
    for tf in tag_filters:
        key = tf.get("TagKey")
        wanted = tf.get("TagValue", tf.get("TagValues")) or []
        ok = False
        for t in tags:
            if isinstance(t, dict) and t.get("TagKey") == key and (
                    not wanted or t.get("TagValue") in wanted):
                ok = True
                break
        if not ok:
            return False
    return True


def _validate(params, spec):
    if not isinstance(params, dict):
        raise _Reject("InvalidParameter", "The request body must be a JSON object.")
    for k in params:
        if k not in spec["params"]:
            raise _Reject("UnknownParameter", "The parameter `%s` is not recognized." % k)
    offset = params.get("Offset", 0)
    if not _is_int(offset):
        raise _Reject("InvalidParameter", "The value type of parameter `Offset` is not valid.")
    if offset < 0:
        raise _Reject("InvalidParameterValue", "The value of parameter `Offset` must be >= 0.")
    limit = params.get("Limit", spec["default_limit"])
    if not _is_int(limit):
        raise _Reject("InvalidParameter", "The value type of parameter `Limit` is not valid.")
    if limit > spec["max_limit"]:
        raise _Reject("InvalidParameterValue.PageLimitExceeded",
                      "分页查询limit超出限制 (Limit %d > %d)" % (limit, spec["max_limit"]))
    if limit < 1:
        raise _Reject("InvalidParameterValue", "The value of parameter `Limit` must be >= 1.")
    order = params.get("Order", "DESC")
    if order not in ("ASC", "DESC"):
        raise _Reject("InvalidParameterValue", "`Order` must be ASC or DESC.")
    order_field = params.get("OrderField", "UpdateTime")
    if order_field not in spec["order_fields"]:
        raise _Reject("InvalidParameterValue",
                      "`OrderField` must be one of %s." % ", ".join(spec["order_fields"]))
    filters = params.get("Filters", [])
    if not isinstance(filters, list):
        raise _Reject("InvalidParameter", "The value type of parameter `Filters` is not valid.")
    for f in filters:
        if not isinstance(f, dict) or not isinstance(f.get("Name"), str) or \
                not isinstance(f.get("Values", []), list):
            raise _Reject("InvalidParameter", "A filter must be {Name, Values[]}.")
        if f["Name"] not in spec["filters"]:
            raise _Reject("InvalidParameterValue",
                          "The filter name `%s` is not supported." % f["Name"])
    tag_filters = params.get("TagFilters", [])
    if not isinstance(tag_filters, list) or not all(isinstance(t, dict) for t in tag_filters):
        raise _Reject("InvalidParameter", "The value type of parameter `TagFilters` is not valid.")
    return offset, limit, order, order_field, filters, tag_filters


def _select(sim, cloud, objects, spec, filters, tag_filters, order, order_field):
    """Lock held. The objects the query selects, in its order: built once per query shape and
    kept by sim.memo until the data changes (at 100,000 tasks, filtering and sorting for every
    page, or even checking that nothing changed, made the simulator, not the rate limit, bound
    a listing)."""
    key = ("tencent-select", cloud, spec["kind"], id(objects), order, order_field,
           json.dumps([filters, tag_filters], sort_keys=True))
    return sim.memo(key, lambda: _select_sorted(objects, spec, filters, tag_filters, order,
                                                order_field))


def _select_sorted(objects, spec, filters, tag_filters, order, order_field):
    out = []
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        ok = True
        for f in filters:
            vals = spec["getter"](obj, f["Name"])
            hit = _match_filter(vals, [str(v) for v in f.get("Values", [])], bool(f.get("Fuzzy")))
            if bool(f.get("Negative")):
                hit = not hit
            if not hit:
                ok = False
                break
        if ok and tag_filters and not _match_tags(obj, tag_filters):
            ok = False
        if ok:
            out.append(obj)

    id_field = spec["id_field"]

    def key(o):
        v = o.get(order_field)
        i = o.get(id_field)
        return (isinstance(v, str), v if isinstance(v, str) else "",
                i if isinstance(i, str) else "")

    out.sort(key=key, reverse=(order == "DESC"))
    return out


# ------------------------------------------------------------------ the cloud

class Tencent(Cloud):
    name = "tencent"
    kinds = {"tasks": Kind("tasks", "Id", "UpdateTime", "tasks"),
             "services": Kind("services", "ServiceGroupId", "UpdateTime", "services")}
    actions = (TASKS, SERVICES)
    default_limits = {TASKS: 20, SERVICES: 20}

    def route(self, req):
        if req.path != "/":
            return None
        action = (req.header("X-TC-Action") or "").strip()[:64]
        return action or "(missing)"

    # --- replies
    def error_reply(self, action, code, message, status=None, outcome="rejected"):
        return json_reply({"Response": {"Error": {"Code": code, "Message": message},
                                        "RequestId": new_request_id()}},
                          status=200 if status is None else status, outcome=outcome)

    def throttle_reply(self, action):
        return self.error_reply(action, "RequestLimitExceeded",
                                "请求的次数超过了频率限制 (%s: too many requests per second)" % action,
                                outcome="throttled")

    # --- verification
    def _verify(self, sim, req):
        auth = req.header("Authorization")
        if not auth:
            raise _Reject("AuthFailure.InvalidAuthorization",
                          "Authorization header is missing.")
        m = AUTH_RE.match(auth.strip())
        if not m:
            raise _Reject("AuthFailure.InvalidAuthorization",
                          "Authorization header is not a valid TC3-HMAC-SHA256 string.")
        secret_id, date, service, signed_headers, signature = m.groups()
        ts_text = req.header("X-TC-Timestamp")
        if ts_text is None or not ts_text.strip():
            raise _Reject("MissingParameter", "The request is missing a required header `X-TC-Timestamp`.")
        try:
            ts = int(ts_text.strip())
        except ValueError:
            raise _Reject("InvalidParameter", "`X-TC-Timestamp` is not an integer.")
        if abs(ts - sim.now()) > FRESHNESS_S:
            raise _Reject("AuthFailure.SignatureExpire",
                          "Signature expired: the request timestamp %d is more than %d s from "
                          "the server time." % (ts, FRESHNESS_S))
        secret_key = None
        for cred in sim.credentials("tencent"):
            if cred.get("secret_id") == secret_id:
                secret_key = cred.get("secret_key")
                break
        if secret_key is None:
            raise _Reject("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        if date != utc_date(ts) or service != SERVICE:
            raise _Reject("AuthFailure.SignatureFailure",
                          "The credential scope %s/%s does not match the request (%s/%s)."
                          % (date, service, utc_date(ts), SERVICE))
        names = signed_headers.split(";")
        if "content-type" not in names or "host" not in names:
            raise _Reject("AuthFailure.SignatureFailure",
                          "SignedHeaders must include content-type and host.")
        host = (req.header("Host") or "").strip().lower()
        hosts = [host]
        if ":" in host and not host.endswith("]"):
            hosts.append(host.rsplit(":", 1)[0])
        for h in hosts:
            lines = []
            for name in names:
                if name == "host":
                    value = h
                else:
                    value = (req.header(name) or "").strip().lower()
                lines.append("%s:%s\n" % (name, value))
            sts = tc3_string_to_sign(req.method, req.path, req.query if req.method != "POST" else "",
                                     "".join(lines), signed_headers, req.body, ts, date, service)
            expect = tc3_signature(secret_key, date, service, sts)
            if hmac.compare_digest(expect, signature):
                return
        raise _Reject("AuthFailure.SignatureFailure",
                      "The provided credentials could not be validated (signature mismatch).")

    def handle(self, sim, action, req):
        try:
            if req.method != "POST":
                raise _Reject("InvalidParameter", "Only POST with a JSON body is supported here.")
            for hdr in ("X-TC-Action", "X-TC-Version", "X-TC-Region"):
                v = req.header(hdr)
                if v is None or not v.strip():
                    raise _Reject("MissingParameter",
                                  "The request is missing a required parameter `%s`." % hdr[5:])
            self._verify(sim, req)
            if action not in SPECS:
                raise _Reject("InvalidAction", "The action `%s` is not valid for this endpoint." % action)
            if req.header("X-TC-Version").strip() != VERSION:
                raise _Reject("NoSuchVersion",
                              "The requested version `%s` of API `%s` does not exist (use %s)."
                              % (req.header("X-TC-Version").strip(), action, VERSION))
        except _Reject as r:
            return self.error_reply(action, r.code, r.message)

        if not sim.admit(action):
            return self.throttle_reply(action)

        spec = SPECS[action]
        try:
            text = req.body.decode("utf-8") if req.body else "{}"
            params = json.loads(text) if text.strip() else {}
        except (UnicodeDecodeError, ValueError):
            return self.error_reply(action, "InvalidParameter", "The request body is not valid JSON.")
        try:
            offset, limit, order, order_field, filters, tag_filters = _validate(params, spec)
        except _Reject as r:
            return self.error_reply(action, r.code, r.message)

        def page(objects):
            sel = _select(sim, self.name, objects, spec, filters, tag_filters, order, order_field)
            return len(sel), sel[offset:offset + limit]

        total, items = sim.with_objects(self.name, spec["kind"], page)
        return json_reply({"Response": {spec["set_key"]: items, "TotalCount": total,
                                        "RequestId": new_request_id()}})

    # --- data
    def generate(self, seed, sizes):
        return {"tasks": add_exact_numbers(
                    gen_tasks(random.Random("%s-tencent-tasks" % seed), sizes["tasks"],
                              sizes.get("active_percent"))),
                "services": add_exact_numbers(
                    gen_services(random.Random("%s-tencent-services" % seed), sizes["services"]))}


BASE_EPOCH = 1714552200  # 2024-05-01T08:30:00Z


def _unique_digits(rng, used, n):
    while True:
        v = str(rng.randrange(10 ** (n - 1), 10 ** n))
        if v not in used:
            used.add(v)
            return v


def gen_tasks(rng, n, active_percent=None):
    """n seeded tasks. active_percent None: statuses drawn with TASK_STATUS_WEIGHTS (the data
    every test was written against); else exactly floor(n * active_percent / 100) tasks, chosen
    at random, in a non-final status."""
    tasks = []
    used = set()
    t = BASE_EPOCH
    active = None
    if active_percent is not None:
        arng = random.Random(rng.random())
        active = set(arng.sample(range(n), int(n * active_percent // 100)))
    for i in range(n):
        if i:
            t += rng.randint(1, 5400)
        if active is None:
            status = rng.choices(TASK_STATUSES, TASK_STATUS_WEIGHTS)[0]
        elif i in active:
            status = rng.choices(NON_FINAL, NON_FINAL_WEIGHTS)[0]
        else:
            status = rng.choices(FINAL, FINAL_WEIGHTS)[0]
        fw, fwv, fwenv = rng.choice(FRAMEWORKS)
        gpu_type, inst_type = rng.choice(GPU_TYPES)
        prepaid = rng.random() < 0.3
        region = rng.choice(REGIONS)
        create = t
        start = None if status in NOT_STARTED else create + rng.randint(5, 900)
        runtime = 0
        end = None
        if start is not None:
            runtime = rng.randint(30, 3 * 86400)
            if status in FINISHED:
                end = start + runtime
        update = max(x for x in (create, start or 0, end or 0)) + rng.randint(0, 120)
        tid = "train-" + _unique_digits(rng, used, 18)
        name = rng.choice(NAME_STYLES).format(n=i)
        gpus = rng.choice([1, 2, 4, 8])
        workers = rng.choice([1, 1, 1, 2, 4])
        mode = "DDP" if workers > 1 else rng.choice(["PS_WORKER", "MPI", "DDP", "HOROVOD", None])
        res = [{"Role": "WORKER", "Cpu": gpus * 8000, "Memory": gpus * 40960, "GpuType": gpu_type,
                "Gpu": gpus * 100, "InstanceType": inst_type, "InstanceNum": workers,
                "InstanceTypeAlias": "%s*%d" % (gpu_type, gpus),
                "RDMAConfig": {"Enable": workers > 1} if rng.random() < 0.5 else None}]
        if mode == "PS_WORKER":
            res.insert(0, {"Role": "PS", "Cpu": 4000, "Memory": 8192, "GpuType": None, "Gpu": 0,
                           "InstanceType": "TI.S.MEDIUM.POST", "InstanceNum": 1,
                           "InstanceTypeAlias": "4C8G", "RDMAConfig": None})
        tags = []
        for _ in range(rng.choice([0, 0, 1, 2])):
            tags.append({"TagKey": rng.choice(["team", "project", "owner", "环境"]),
                         "TagValue": rng.choice(["nlp", "cv", "alice", "生产", "test"])})
        image = ({"ImageType": "PRE_SET",
                  "ImageUrl": "tione.tencentcloudcr.com/qcloud-ti-platform/%s:latest" % fwenv,
                  "RegistryRegion": None, "RegistryId": None} if fw else
                 {"ImageType": "CCR", "ImageUrl": "ccr.ccs.tencentyun.com/user-%d/train:v%d"
                  % (rng.randint(1, 99), rng.randint(1, 9)),
                  "RegistryRegion": region, "RegistryId": None})
        failure = rng.choice(FAILURE_REASONS) if status in ("FAILED", "SUBMIT_FAILED") else None
        tasks.append({
            "Id": tid,
            "Name": name,
            "FrameworkName": fw,
            "FrameworkVersion": fwv,
            "FrameworkEnvironment": fwenv,
            "ChargeType": "PREPAID" if prepaid else "POSTPAID_BY_HOUR",
            "ChargeStatus": ("BILLING" if status in ("RUNNING", "STARTING") else "NOT_BILLING")
            if not prepaid else None,
            "ResourceGroupId": "trsg-%s" % "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                                                     for _ in range(8)) if prepaid else None,
            "ResourceConfigInfos": res,
            "TrainingMode": mode,
            "Status": status,
            "RuntimeInSeconds": runtime,
            "CreateTime": iso_utc(create),
            "StartTime": iso_utc(start) if start is not None else None,
            "EndTime": iso_utc(end) if end is not None else None,
            "Output": {"Bucket": "train-out-%d" % rng.randint(1250000000, 1259999999),
                       "Region": region,
                       "Paths": ["output/%s/" % tid]} if rng.random() < 0.85 else None,
            "FailureReason": failure,
            "UpdateTime": iso_utc(update),
            "BillingInfo": "%s*%d" % (inst_type, workers) if not prepaid else "",
            "ResourceGroupName": "资源组-%d" % rng.randint(1, 9) if prepaid else None,
            "ImageInfo": image,
            "Message": failure or ("" if rng.random() < 0.7 else "任务运行中"),
            "Tags": tags,
            "CallbackUrl": "https://example.invalid/hook/%d" % i if rng.random() < 0.1 else None,
        })
    return tasks


def _rand_id(rng, used, n=8):
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    while True:
        v = "".join(rng.choice(alphabet) for _ in range(n))
        if v not in used:
            used.add(v)
            return v


def gen_services(rng, n):
    groups = []
    used = set()
    t = BASE_EPOCH - 86400 * 30
    for i in range(n):
        if i:
            t += rng.randint(60, 86400)
        gid = "ms-" + _rand_id(rng, used)
        gname = rng.choice(["llm_test", "推理服务", "chatglm-demo", "qwen-serving", "bert-cls",
                            "sd-xl"]) + "-%03d" % i
        status = rng.choices(SERVICE_STATUSES, SERVICE_STATUS_WEIGHTS)[0]
        create = t
        update = create + rng.randint(0, 10 * 86400)
        creator = rng.choice(CREATORS)
        uin = "100005348929"
        nsvc = rng.choice([1, 1, 1, 2, 3])
        services = []
        running = 0
        for j in range(nsvc):
            replicas = 0 if status in ("Stopped", "CreateFailed", "Waiting") else rng.randint(1, 4)
            if replicas:
                running += 1
            gpu_type, inst_type = rng.choice(GPU_TYPES)
            mv = rng.randint(830000000000000000, 839999999999999999)
            services.append({
                "ServiceGroupId": gid,
                "ServiceId": "%s-%d" % (gid, j + 1),
                "ServiceGroupName": gname,
                "ServiceDescription": "",
                "ServiceInfo": {
                    "Replicas": replicas,
                    "ImageInfo": {"ImageType": "PRE_SET",
                                  "ImageUrl": "tione.tencentcloudcr.com/qcloud-ti-platform/chatglm-demo:latest",
                                  "RegistryRegion": "", "RegistryId": ""},
                    "Env": [],
                    "Resources": {"Cpu": 12000, "Memory": 45056, "Gpu": 100, "RealGpu": 100,
                                  "GpuType": gpu_type,
                                  "RealGpuDetailSet": [{"Name": gpu_type, "Value": 100}]},
                    "InstanceType": inst_type,
                    "ModelInfo": {"ModelId": "m-%d" % (mv - 1), "ModelName": "model-%d" % i,
                                  "ModelVersionId": "mv-v%d-%d" % (j + 1, mv),
                                  "ModelVersion": "v%d" % (j + 1), "ModelSource": "COS",
                                  "ModelType": "NORMAL",
                                  "CosPathInfo": {"Bucket": "models-1256580188",
                                                  "Region": "ap-guangzhou",
                                                  "Paths": ["models/%s/v%d/" % (gid, j + 1)]},
                                  "AlgorithmFramework": "PYTORCH", "ModelFormat": "PYTORCH"},
                    "LogEnable": False, "LogConfig": None, "AuthorizationEnable": False,
                    "HorizontalPodAutoscaler": None, "CronScaleJobs": [],
                    "Status": {"Replicas": replicas, "UpdatedReplicas": replicas,
                               "ReadyReplicas": replicas, "AvailableReplicas": replicas,
                               "UnavailableReplicas": 0, "Status": status, "Reason": "",
                               "Conditions": []},
                    "Weight": 0, "PodList": [], "Pods": None, "ServiceLimit": None,
                },
                "ClusterId": "",
                "Region": "ap-guangzhou",
                "Namespace": "infer-%s" % uin,
                "ChargeType": "POSTPAID_BY_HOUR",
                "ResourceGroupId": "",
                "ResourceGroupName": "",
                "Tags": [],
                "IngressName": "user-ingress-1",
                "CreatedBy": creator,
                "CreateTime": iso_utc(create),
                "UpdateTime": iso_utc(update),
                "Uin": uin,
                "SubUin": "",
                "AppId": 0,
                "BusinessStatus": "CREATE_SUCCEED" if status != "CreateFailed" else "CREATE_FAILED",
                "CreateFailedReason": "",
                "Status": status,
                "BillingInfo": "",
                "Weight": 100 // nsvc,
                "CreateSource": "DEFAULT",
                "Version": str(j + 1),
                "LatestVersion": "",
                "ServiceLimit": None,
                "ScheduledAction": None,
            })
        groups.append({
            "ServiceGroupId": gid,
            "ServiceGroupName": gname,
            "CreatedBy": creator,
            "CreateTime": iso_utc(create),
            "UpdateTime": iso_utc(update),
            "Uin": uin,
            "ServiceCount": nsvc,
            "RunningServiceCount": running,
            "Services": services,
            "Status": status,
            "Tags": [{"TagKey": "team", "TagValue": "推理"}] if rng.random() < 0.3 else [],
            "BusinessStatus": "",
            "WeightUpdateStatus": "",
            "CreateSource": "DEFAULT",
            "BillingInfo": "",
            "LatestVersion": "" if rng.random() < 0.8 else None,
        })
    return groups


CLOUD = Tencent()
