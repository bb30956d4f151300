"""What every simulated cloud shares: the request and reply types, the Cloud base class
and small helpers (time formatting, JSON replies, RFC 3986 encoding).

A cloud module (tencent.py, ctyun.py, ...) defines one subclass of Cloud and exposes an
instance of it as CLOUD. The server in cloudsim.py owns the data store, the counters, the
rate limiter, the clock and the fault injector; a cloud only

  * says which requests are its own and which action they are   (route)
  * generates its seeded data set                                (generate)
  * verifies the signature and answers the request               (handle)
  * knows its own error envelope and throttling reply            (error_reply, throttle_reply)

Replies carry an `outcome` ("ok", "rejected", "throttled") that the server counts.
"""

import json
import re
import time
import uuid
from urllib.parse import quote


class Request:
    """One API request as a cloud sees it. headers is case-insensitive (http.client.HTTPMessage)."""

    def __init__(self, method, path, query, headers, body, scheme, local_port):
        self.method = method
        self.path = path  # without the query string
        self.query = query  # raw query string, without '?'
        self.headers = headers
        self.body = body  # exact bytes received
        self.scheme = scheme  # "http" or "https"
        self.local_port = local_port

    def header(self, name, default=None):
        v = self.headers.get(name)
        return default if v is None else v


class Reply:
    def __init__(self, status=200, body=b"", content_type="application/json", headers=None,
                 outcome="ok"):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode("utf-8")
        self.content_type = content_type
        self.headers = headers or {}
        self.outcome = outcome  # "ok" | "rejected" | "throttled"


# A JSON number kept as the exact token a cloud writes ("1e3", "0.10", "-0",
# 9007199254740993): Python's json would turn it into another text, so the data holds it as a
# marker string (which survives copies through json.loads(json.dumps(...))) and dumps() writes
# the token in its place.
_NUMBER = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_RAW_MARK = "\x00number:"
_RAW_RE = re.compile(r'"\\u0000number:(' + _NUMBER + r')\\u0000"')


def raw_number(token):
    """The data value that dumps() writes as the number token `token`, byte for byte."""
    if not re.fullmatch(_NUMBER, token):
        raise ValueError("not a JSON number: %r" % token)
    return _RAW_MARK + token + "\x00"


def dumps(obj):
    """Compact JSON, UTF-8 as is, raw_number() values written as their tokens."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return _RAW_RE.sub(lambda m: m.group(1), text) if "\\u0000number:" in text else text


# Numbers a double cannot carry as text (64-bit integers beyond 2^53, exponents, trailing
# zeros, negative zero). Every cloud adds them to a few objects of each collection
# (add_exact_numbers), after its seeded generation, so that the rest of the data is unchanged.
EXACT_NUMBERS = [
    ("bigId", "9007199254740993"),          # 2^53 + 1: the nearest double is 2^53
    ("big2", "12345678901234567890"),       # above 2^63
    ("u64Max", "18446744073709551615"),
    ("i64Min", "-9223372036854775808"),
    ("cnt", "1e3"),
    ("scale", "1E+2"),
    ("fee", "0.10"),
    ("negZero", "-0"),
    ("negZeroFrac", "-0.0"),
    ("tiny", "-1.5e-7"),
]


def exact_numbers(i):
    """The fields added to object i: EXACT_NUMBERS, plus a nested object and array."""
    out = {k: raw_number(v) for k, v in EXACT_NUMBERS}
    out["exactNested"] = {"nanos": raw_number("17145522001234567%02d" % (i % 100)),
                          "ratio": raw_number("2.50"),
                          "list": [raw_number("1.0"), raw_number("1e-3"), raw_number("100")]}
    return out


def add_exact_numbers(objs, every=5, first=1):
    """Adds exact_numbers() to objects first, first + every, ... of a generated list."""
    for i in range(first, len(objs), every):
        objs[i].update(exact_numbers(i))
    return objs


def json_reply(obj, status=200, outcome="ok", headers=None):
    body = dumps(obj).encode("utf-8")
    return Reply(status, body, "application/json", headers, outcome)


def new_request_id():
    return str(uuid.uuid4())


def iso_utc(epoch):
    """2024-05-01T08:30:00Z"""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))


def parse_iso_utc(text):
    import calendar
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def uri_encode(s, keep_slash=False):
    """RFC 3986: only A-Z a-z 0-9 - _ . ~ stay literal (and '/' when keep_slash)."""
    return quote(s, safe="/-_.~" if keep_slash else "-_.~")


class Kind:
    """One collection of a cloud, as the control API names it (/_sim/objects/<cloud>/<kind>)."""

    def __init__(self, name, id_field, update_field=None, size_option=None):
        self.name = name
        self.id_field = id_field
        self.update_field = update_field  # bumped by /_sim/mutate (None: the object has none)
        self.size_option = size_option  # key in the sizes dict ("tasks", "ctyun_queues" ...)


class Cloud:
    name = "?"
    kinds = {}  # kind name -> Kind
    actions = ()  # the action names this cloud counts
    default_limits = {}  # action -> requests per second (0 = off)

    def route(self, req):
        """Return the action name if this request belongs to this cloud, else None."""
        raise NotImplementedError

    def generate(self, seed, sizes):
        """Return {kind: [objects]} deterministically from seed and the sizes dict."""
        raise NotImplementedError

    def handle(self, sim, action, req):
        """Verify and answer. Call sim.admit(action) once the caller is authenticated."""
        raise NotImplementedError

    def error_reply(self, action, code, message, status=None):
        raise NotImplementedError

    def throttle_reply(self, action):
        raise NotImplementedError

    def update_value(self, kind, epoch):
        """The value written into kind.update_field by /_sim/mutate."""
        return iso_utc(epoch)

    def update_epoch(self, kind, value):
        """The epoch seconds of an update_value() (ValueError if it is not one)."""
        return parse_iso_utc(value)
