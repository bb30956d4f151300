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


def json_reply(obj, status=200, outcome="ok", headers=None):
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
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
