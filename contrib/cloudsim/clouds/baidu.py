"""Baidu Qianfan console v2: DescribeComputeUnits on
`POST /v2/computeunit?Action=DescribeComputeUnits`, signed with bce-auth-v1 (api-docs/NOTES.md §2).

  * Authorization `bce-auth-v1/{AK}/{timestamp}/{expiration}/{signedHeaders}/{signature}`;
    signingKey = hex(HMAC(SK, "bce-auth-v1/AK/ts/exp")) and that *hex text* keys the second HMAC.
  * Canonical request = METHOD \\n URI \\n query \\n headers — no body hash. Header values are
    RFC 3986-encoded (host:port -> host%3Aport); an empty signedHeaders field means the default
    set (host, content-length, content-type, content-md5, x-bce-*).
  * Errors: non-2xx + {"requestId", "code", "message"}: InvalidHTTPAuthHeader (400),
    InvalidAccessKeyId (403), RequestExpired (400), SignatureDoesNotMatch (400),
    MalformedJSON / InappropriateJSON / InvalidParameter (400); throttling 429 TooManyRequests.
  * No paging: one call returns the whole (optionally filtered) list.
"""

import hashlib
import hmac
import json
import random
import re
from urllib.parse import unquote_plus

from .common import Cloud, Kind, add_exact_numbers, iso_utc, json_reply, new_request_id, parse_iso_utc, uri_encode

PATH = "/v2/computeunit"
ACTION = "DescribeComputeUnits"
FUTURE_SKEW_S = 15 * 60

AUTH_RE = re.compile(r"^bce-auth-v1/([^/]+)/(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)/(\d+)/"
                     r"([A-Za-z0-9;_.-]*)/([^/\s]+)$")
DEFAULT_SIGNED = ("host", "content-length", "content-type", "content-md5")


def bce_signing_key(ak, sk, timestamp, expiration):
    prefix = "bce-auth-v1/%s/%s/%s" % (ak, timestamp, expiration)
    return hmac.new(sk.encode("utf-8"), prefix.encode("utf-8"), hashlib.sha256).hexdigest()


def bce_canonical_query(query):
    pairs = []
    for part in query.split("&") if query else []:
        if not part:
            continue
        k, _, v = part.partition("=")
        k, v = unquote_plus(k), unquote_plus(v)
        if k.lower() == "authorization":
            continue
        pairs.append("%s=%s" % (uri_encode(k), uri_encode(v)))
    return "&".join(sorted(pairs))


def bce_canonical_request(method, path, query, header_pairs):
    """header_pairs: [(lowercase name, value)] of the signed headers."""
    lines = sorted("%s:%s" % (uri_encode(n), uri_encode(v.strip()))
                   for n, v in header_pairs if v.strip())
    return "\n".join([method, uri_encode(path, keep_slash=True), bce_canonical_query(query),
                      "\n".join(lines)])


def bce_signature(signing_key_hex, canonical_request):
    return hmac.new(signing_key_hex.encode("ascii"), canonical_request.encode("utf-8"),
                    hashlib.sha256).hexdigest()


class _Reject(Exception):
    def __init__(self, status, code, message):
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


class Baidu(Cloud):
    name = "baidu"
    kinds = {"computeunits": Kind("computeunits", "instanceId", None, "baidu_units")}
    actions = (ACTION,)
    default_limits = {ACTION: 0}

    def route(self, req):
        if req.path != PATH:
            return None
        for part in req.query.split("&"):
            k, _, v = part.partition("=")
            if unquote_plus(k) == "Action":
                return unquote_plus(v)[:64] or "(missing)"
        return "(missing)"

    def error_reply(self, action, code, message, status=None, outcome="rejected"):
        rid = new_request_id()
        return json_reply({"requestId": rid, "code": code, "message": message},
                          status=500 if status is None else status, outcome=outcome,
                          headers={"x-bce-request-id": rid})

    def throttle_reply(self, action):
        return self.error_reply(action, "TooManyRequests", "Request rate exceeds the limit.", 429,
                                outcome="throttled")

    def _verify(self, sim, req):
        auth = req.header("Authorization")
        if not auth:
            raise _Reject(400, "InvalidHTTPAuthHeader", "The Authorization header is missing.")
        m = AUTH_RE.match(auth.strip())
        if not m:
            raise _Reject(400, "InvalidHTTPAuthHeader",
                          "The Authorization header is not a valid bce-auth-v1 string.")
        ak, ts_text, exp_text, signed, signature = m.groups()
        sk = None
        for cred in sim.credentials("baidu"):
            if cred.get("access_key") == ak:
                sk = cred.get("secret_key")
                break
        if sk is None:
            raise _Reject(403, "InvalidAccessKeyId", "The access key ID does not exist.")
        try:
            ts = parse_iso_utc(ts_text)
        except ValueError:
            raise _Reject(400, "InvalidHTTPAuthHeader", "Bad timestamp in the Authorization header.")
        now = sim.now()
        if now > ts + int(exp_text) or ts > now + FUTURE_SKEW_S:
            raise _Reject(400, "RequestExpired",
                          "Request has expired. Timestamp date is %s." % ts_text)
        if signed:
            names = [n.strip().lower() for n in signed.split(";") if n.strip()]
        else:
            names = list(DEFAULT_SIGNED) + sorted(
                {k.lower() for k in req.headers.keys() if k.lower().startswith("x-bce-")})
        if "host" not in names:
            raise _Reject(400, "SignatureDoesNotMatch", "The host header must be signed.")
        pairs = [(n, req.header(n) or "") for n in names]
        canonical = bce_canonical_request(req.method, req.path, req.query, pairs)
        expect = bce_signature(bce_signing_key(ak, sk, ts_text, exp_text), canonical)
        if not hmac.compare_digest(expect, signature):
            raise _Reject(400, "SignatureDoesNotMatch",
                          "The request signature we calculated does not match the signature you "
                          "provided. Check your Secret Access Key and signing method.")

    def handle(self, sim, action, req):
        try:
            self._verify(sim, req)
        except _Reject as r:
            return self.error_reply(action, r.code, r.message, r.status)
        if not sim.admit(action):
            return self.throttle_reply(action)
        try:
            if action != ACTION:
                raise _Reject(400, "InvalidParameter", "The Action %r is not valid for %s."
                              % (action, PATH))
            if req.method != "POST":
                raise _Reject(400, "InvalidHTTPRequest", "Use POST.")
            try:
                params = json.loads(req.body.decode("utf-8")) if req.body.strip() else {}
            except (UnicodeDecodeError, ValueError):
                raise _Reject(400, "MalformedJSON", "The JSON you provided was not well-formed.")
            if not isinstance(params, dict):
                raise _Reject(400, "InappropriateJSON", "The JSON you provided was not an object.")
            for k in ("region", "paymentTiming", "type"):
                if params.get(k) is not None and not isinstance(params[k], str):
                    raise _Reject(400, "InvalidParameter", "%s must be a string." % k)
        except _Reject as r:
            return self.error_reply(action, r.code, r.message, r.status)

        def select(objects):
            return [u for u in objects if isinstance(u, dict) and all(
                not params.get(k) or u.get(k) == params[k]
                for k in ("region", "paymentTiming", "type"))]

        items = sim.with_objects(self.name, "computeunits", select)
        rid = new_request_id()
        return json_reply({"requestId": rid, "result": {"computeUnitInstanceList": items}},
                          headers={"x-bce-request-id": rid})

    def generate(self, seed, sizes):
        return {"computeunits": add_exact_numbers(
            gen_units(random.Random("%s-baidu-units" % seed), sizes["baidu_units"]))}


REGIONS = ["bj", "bj", "bd", "sz", "gz", "yq", "global"]
TYPES = ["CPU", "gpu-1", "gpu-1", "gpu-2", "gpu-3", "gpu-4", "gpu-5", "gpu-6"]
STATUSES = ["Running", "Running", "Running", "Released", "Creating", "CreateFailed", "Releasing",
            "Reconfiguring", "ReconfigureFailed", "BillingChanging"]


def gen_units(rng, n):
    out = []
    used = set()
    t = 1733984948  # 2024-12-12T06:29:08Z
    for i in range(n):
        t += rng.randint(3600, 5 * 86400)
        if i == 1:
            # As in the documentation's example: two instances share one instanceId.
            iid = out[0]["instanceId"]
        else:
            while True:
                iid = "unit-" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                                        for _ in range(8))
                if iid not in used:
                    used.add(iid)
                    break
        prepaid = rng.random() < 0.6 or i < 2
        total = rng.choice([1, 2, 2, 4, 8, 16])
        u = {
            "instanceId": iid,
            "region": "bj" if i < 2 else rng.choice(REGIONS),
            "status": "Released" if i < 2 else rng.choice(STATUSES),
            "type": "gpu-1" if i < 2 else rng.choice(TYPES),
            "totalComputeUnits": total,
            "usedComputeUnits": rng.randint(0, total),
            "paymentTiming": "Prepaid" if prepaid else "Postpaid",
            "startTime": iso_utc(t),
            "expiredTime": iso_utc(t + 31 * 86400),
        }
        if prepaid:
            length = rng.choice([1, 1, 3, 6, 12])
            u["reservationLength"] = length
            u["reservationTimeUnit"] = "MONTH"
            u["expiredTime"] = iso_utc(t + length * 31 * 86400)
        elif rng.random() < 0.5:
            u["releaseTime"] = iso_utc(t + rng.randint(1, 30) * 86400)
        u["creator"] = rng.choice(["xxx", "alice", "张三", "qianfan-admin"])
        if prepaid and rng.random() < 0.4:
            u["autoRenew"] = {"renewTime": rng.choice([1, 3]),
                              "renewTimeUnit": rng.choice(["MONTH", "YEAR"])}
        out.append(u)
    return out


CLOUD = Baidu()
