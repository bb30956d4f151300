#!/usr/bin/env node
// Proof that contrib/cloudsim speaks Baidu Qianfan console v2 (DescribeComputeUnits) the way
// the official @baiducloud/qianfan SDK does.
//
//   node tests/sdk/check-baidu.js --ready DIR/ready.json
//
// The SDK's consoleAction is pointed at the simulator through QIANFAN_CONSOLE_API_BASE_URL
// (https://127.0.0.1:PORT, so the SDK signs "host:127.0.0.1%3APORT"); the simulator's CA is
// trusted through https.globalAgent. A thin wrapper around https.request (which the SDK's bundled
// node-fetch calls) records each reply's status and body -- the SDK's own error only says
// "(error; not retryable)" -- and, for one check, changes one byte of the signature the SDK made.
// One line per check, then "N passed, M failed"; exit status 1 on any failure.
"use strict";

const fs = require("fs");
const http = require("http");
const https = require("https");

const AK = process.env.CLOUDSIM_BAIDU_AK || "sim-baidu-ak";
const SK = process.env.CLOUDSIM_BAIDU_SK || "sim-baidu-sk";

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) {
    passed++;
    console.log(`ok   ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name}${detail ? " -- " + detail : ""}`);
  }
}

function parseArgs() {
  const i = process.argv.indexOf("--ready");
  if (i < 0 || !process.argv[i + 1]) {
    console.error("usage: node check-baidu.js --ready DIR/ready.json");
    process.exit(2);
  }
  return JSON.parse(fs.readFileSync(process.argv[i + 1], "utf8"));
}

function control(port, method, p, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? "" : JSON.stringify(body);
    const req = http.request(
      { host: "127.0.0.1", port, method, path: "/_sim/" + p,
        headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) } },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
          } catch (e) {
            reject(e);
          }
        });
      });
    req.setTimeout(10000, () => req.destroy(new Error("control API timeout")));
    req.on("error", reject);
    req.end(data);
  });
}

// ---- observe (and optionally tamper with) what the SDK sends, record what comes back
const replies = [];
let tamper = null;
const realRequest = https.request;
https.request = function (...args) {
  const opts = args.find((a) => a && typeof a === "object" && !(a instanceof URL) && a.headers);
  if (tamper && opts) {
    for (const k of Object.keys(opts.headers)) {
      if (k.toLowerCase() === "authorization") {
        const v = [].concat(opts.headers[k]).map(String);
        opts.headers[k] = v.map(tamper);
      }
    }
  }
  const req = realRequest.apply(this, args);
  req.on("response", (res) => {
    const rec = { status: res.statusCode, body: "" };
    replies.push(rec);
    res.on("data", (c) => { rec.body += c.toString("utf8"); });
  });
  return req;
};

function lastReply() {
  const r = replies[replies.length - 1];
  if (!r) return { status: 0, json: null };
  let json = null;
  try {
    json = JSON.parse(r.body);
  } catch (e) {
    json = null;
  }
  return { status: r.status, json };
}

async function main() {
  const ready = parseArgs();
  https.globalAgent.options.ca = fs.readFileSync(ready.ca_file);
  process.env.QIANFAN_ACCESS_KEY = AK;
  process.env.QIANFAN_SECRET_KEY = SK;
  process.env.QIANFAN_CONSOLE_API_BASE_URL = `https://127.0.0.1:${ready.https_port}`;
  const { consoleAction } = require("@baiducloud/qianfan");
  const ctl = (m, p, b) => control(ready.http_port, m, p, b);
  const call = (data) => consoleAction({ base_api_route: "/v2/computeunit", action: "DescribeComputeUnits", data });
  const rejected = async (data) => {
    try {
      await call(data);
      return { accepted: true };
    } catch (e) {
      const r = lastReply();
      return { accepted: false, status: r.status, code: r.json && r.json.code, json: r.json };
    }
  };

  const units = await ctl("GET", "objects/baidu/computeunits");

  // 1. no body at all (Content-Length: 0, signed)
  try {
    const r = await call(undefined);
    const list = r.result && r.result.computeUnitInstanceList;
    check("DescribeComputeUnits without data accepted (host:port signed)",
      Array.isArray(list) && typeof r.requestId === "string");
    check("the whole list, identical to /_sim/objects (no paging)",
      JSON.stringify(list) === JSON.stringify(units), `${list && list.length} vs ${units.length}`);
    const ids = list.map((u) => u.instanceId);
    check("two instances sharing one instanceId are both listed",
      ids.length - new Set(ids).size >= 1);
  } catch (e) {
    check("DescribeComputeUnits without data accepted", false, `${e.message} ${JSON.stringify(lastReply())}`);
  }

  // 2. the documentation's example filters
  for (const data of [{ region: "bj", paymentTiming: "Prepaid", type: "gpu-1" }, { region: "bd" },
                      { paymentTiming: "Postpaid" }]) {
    try {
      const r = await call(data);
      const want = units.filter((u) => Object.keys(data).every((k) => u[k] === data[k]));
      check(`filters ${JSON.stringify(data)} accepted, ${want.length} units`,
        JSON.stringify(r.result.computeUnitInstanceList) === JSON.stringify(want));
    } catch (e) {
      check(`filters ${JSON.stringify(data)} accepted`, false, `${e.message} ${JSON.stringify(lastReply())}`);
    }
  }

  // 3. the same request with one byte of the SDK's signature changed
  tamper = (auth) => {
    const i = auth.length - 5;
    return auth.slice(0, i) + (auth[i] === "0" ? "1" : "0") + auth.slice(i + 1);
  };
  let r;
  try {
    r = await rejected({ region: "bj" });
  } finally {
    tamper = null;
  }
  check("signature with one byte changed -> HTTP 400 SignatureDoesNotMatch",
    !r.accepted && r.status === 400 && r.code === "SignatureDoesNotMatch" && r.json.requestId,
    JSON.stringify(r));

  // 4. a signature made 31 minutes ago (expiration 1800 s)
  const RealDate = global.Date;
  const skew = 31 * 60 * 1000;
  class OldDate extends RealDate {
    constructor(...a) {
      if (a.length) super(...a);
      else super(RealDate.now() - skew);
    }
    static now() {
      return RealDate.now() - skew;
    }
  }
  global.Date = OldDate;
  try {
    r = await rejected({});
  } finally {
    global.Date = RealDate;
  }
  check("timestamp 31 minutes old -> HTTP 400 RequestExpired",
    !r.accepted && r.status === 400 && r.code === "RequestExpired", JSON.stringify(r));

  // 5. wrong secret key, unknown access key
  process.env.QIANFAN_SECRET_KEY = "not-the-sim-key";
  r = await rejected({});
  check("wrong secret key -> SignatureDoesNotMatch", !r.accepted && r.code === "SignatureDoesNotMatch",
    JSON.stringify(r));
  process.env.QIANFAN_ACCESS_KEY = "sim-unknown-ak";
  r = await rejected({});
  check("unknown access key -> HTTP 403 InvalidAccessKeyId",
    !r.accepted && r.status === 403 && r.code === "InvalidAccessKeyId", JSON.stringify(r));
  process.env.QIANFAN_ACCESS_KEY = AK;
  process.env.QIANFAN_SECRET_KEY = SK;

  // 6. and the untouched SDK is accepted again
  try {
    await call({});
    check("accepted again with the right keys", true);
  } catch (e) {
    check("accepted again with the right keys", false, JSON.stringify(lastReply()));
  }
  const counts = await ctl("GET", "counts");
  check("simulator counted the rejected requests", (counts.rejected.DescribeComputeUnits || 0) >= 4,
    JSON.stringify(counts.rejected));
}

main()
  .catch((e) => {
    check("unexpected error", false, e && e.stack ? e.stack : String(e));
  })
  .finally(() => {
    console.log(`${passed} passed, ${failed} failed`);
    process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
  });
