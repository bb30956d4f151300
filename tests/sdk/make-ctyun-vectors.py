#!/usr/bin/env python3
"""Hand-derived CTyun EOP signature vectors (no official SDK covers cwai).

    python3 tests/sdk/make-ctyun-vectors.py [OUT]     (default tests/sdk/vectors/ctyun.json)

An implementation of api-docs/NOTES.md §1 written from the text alone, independent of
contrib/cloudsim (which verifies the same vectors in its self-test):

  eop-date  = Beijing wall-clock time (UTC+8) as yyyyMMdd'T'HHmmss'Z' (the Z is only a format
              character)
  to sign   = "ctyun-eop-request-id:<id>\\neop-date:<date>\\n" + "\\n" + <query=""> + "\\n"
              + hex(sha256(body bytes))
  ktime     = HMAC-SHA256(key=SK, eop-date); kAk = HMAC(ktime, AK); kdate = HMAC(kAk, eop-date[:8])
  signature = base64(HMAC(kdate, to sign))
  header    = "<AK> Headers=ctyun-eop-request-id;eop-date Signature=<signature>"

Fields: name, access_key, secret_key, utc_epoch, request_id, body, eop_date, authorization
(plus string_to_sign, for debugging). Keys are obviously fake.
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import sys

BEIJING = datetime.timezone(datetime.timedelta(hours=8), "Asia/Shanghai")


def utc(y, mo, d, h, mi, s):
    return int(datetime.datetime(y, mo, d, h, mi, s, tzinfo=datetime.timezone.utc).timestamp())


CASES = [
    {"name": "utc-and-beijing-dates-differ",  # 2025-03-15T20:30:00Z = 2025-03-16 04:30 Beijing
     "access_key": "sim-ctyun-ak", "secret_key": "sim-ctyun-sk",
     "utc_epoch": utc(2025, 3, 15, 20, 30, 0),
     "request_id": "5b3c1f0e-8d2a-4f6b-9c1d-2e7a4b8f0c31",
     "body": '{"regionID":"200000001852","pageNo":1,"pageSize":10}',
     "expect_eop_date": "20250316T043000Z"},
    {"name": "notes-example-body",  # NOTES §1 step 3: eop-date 20250315T160000Z, body hash 5417e7b6…36a3
     "access_key": "sim-ctyun-ak", "secret_key": "sim-ctyun-sk",
     "utc_epoch": utc(2025, 3, 15, 8, 0, 0),
     "request_id": "27cfe4dc-e640-45f6-92ca-492ca73e8680",
     "body": '{"pageNo":2,"pageSize":100,"regionID":"200000001852"}',
     "expect_eop_date": "20250315T160000Z", "expect_body_hash": ("5417e7b6", "36a3")},
    {"name": "empty-body",
     "access_key": "sim-ctyun-ak", "secret_key": "sim-ctyun-sk",
     "utc_epoch": utc(2024, 5, 1, 8, 30, 0),
     "request_id": "00000000-0000-4000-8000-000000000000",
     "body": "",
     "expect_eop_date": "20240501T163000Z",
     "expect_body_hash": ("e3b0c442", "b855")},
    {"name": "chinese-body-and-filters",
     "access_key": "sim-ctyun-ak", "secret_key": "sim-ctyun-sk",
     "utc_epoch": utc(2025, 1, 10, 2, 51, 6),
     "request_id": "9f0e5d1c-3b7a-4c2e-8a6f-1d4b7e9c0a52",
     "body": json.dumps({"regionID": "200000001852", "pageNo": 1, "pageSize": 50,
                         "name": "训练队列", "status": "running", "isDesc": True,
                         "workspaceIDs": ["29d1f124-dcb4-4fd7-a2c6-606db6827536"]},
                        ensure_ascii=False, separators=(",", ":")),
     "expect_eop_date": "20250110T105106Z"},
    {"name": "beijing-midnight-utc-previous-day",  # 2024-12-31T16:00:00Z = 2025-01-01 00:00 Beijing
     "access_key": "simctyunAK0000000000000000000001",  # 32 chars, as the Go SDK insists
     "secret_key": "simctyunSK0000000000000000000001",
     "utc_epoch": utc(2024, 12, 31, 16, 0, 0),
     "request_id": "c0ffee00-1234-4abc-8def-0123456789ab",
     "body": '{"regionID":"200000001852"}',
     "expect_eop_date": "20250101T000000Z"},
    {"name": "beijing-0759-utc-previous-day",  # 2025-06-30T23:59:59Z = 2025-07-01 07:59:59 Beijing
     "access_key": "sim-ctyun-ak", "secret_key": "sim-ctyun-sk",
     "utc_epoch": utc(2025, 6, 30, 23, 59, 59),
     "request_id": "7e57ab1e-0000-4000-8000-00000000feed",
     "body": '{"regionID":"200000001852","pageNo":3,"pageSize":20,"resourceGroupID":"49f62db9-810c-4a11-a731-702dc29c9790"}',
     "expect_eop_date": "20250701T075959Z"},
]


def eop_date(utc_epoch):
    return datetime.datetime.fromtimestamp(utc_epoch, BEIJING).strftime("%Y%m%dT%H%M%SZ")


def hmac_sha256(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def vector(c):
    date = eop_date(c["utc_epoch"])
    body_hash = hashlib.sha256(c["body"].encode("utf-8")).hexdigest()
    to_sign = ("ctyun-eop-request-id:" + c["request_id"] + "\n" + "eop-date:" + date + "\n"
               + "\n" + "" + "\n" + body_hash)
    ktime = hmac_sha256(c["secret_key"].encode("utf-8"), date)
    kak = hmac_sha256(ktime, c["access_key"])
    kdate = hmac_sha256(kak, date[0:8])
    sig = base64.b64encode(hmac_sha256(kdate, to_sign)).decode("ascii")
    problems = []
    if date != c["expect_eop_date"]:
        problems.append("eop_date %s" % date)
    if "expect_body_hash" in c:
        head, tail = c["expect_body_hash"]
        if not (body_hash.startswith(head) and body_hash.endswith(tail)):
            problems.append("body hash %s" % body_hash)
    if len(sig) != 44:
        problems.append("signature length")
    return {
        "name": c["name"],
        "access_key": c["access_key"],
        "secret_key": c["secret_key"],
        "utc_epoch": c["utc_epoch"],
        "request_id": c["request_id"],
        "body": c["body"],
        "eop_date": date,
        "authorization": "%s Headers=ctyun-eop-request-id;eop-date Signature=%s" % (
            c["access_key"], sig),
        "string_to_sign": to_sign,
    }, problems


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "vectors", "ctyun.json")
    vectors, bad = [], 0
    for c in CASES:
        v, problems = vector(c)
        print("%s %s%s" % ("FAIL" if problems else "ok  ", c["name"],
                           ": " + "; ".join(problems) if problems else ""))
        bad += bool(problems)
        vectors.append(v)
    if bad:
        print("%d case(s) failed; %s not written" % (bad, out))
        return 1
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(vectors, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print("wrote %d vectors to %s" % (len(vectors), os.path.relpath(out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
