#!/usr/bin/env node
// Records bce-auth-v1 test vectors from the official @baiducloud/qianfan SDK (consoleAction,
// DescribeComputeUnits).
//
//   node tests/sdk/record-baidu-vectors.js [OUT]      (default tests/sdk/vectors/baidu.json)
//
// For each case consoleAction makes a real request with a stubbed clock (Date) and obviously
// fake keys; the global agents hand the SDK a plain TCP socket to a local capture server
// (127.0.0.1, random port) whatever host the base URL names, so the recorded headers and body
// are exactly what the SDK put on the wire. Each Authorization is cross-checked against an
// independent bce-auth-v1 implementation below (which also reproduces the worked example of
// api-docs/NOTES.md §2) before the file is written.
//
// Vector fields: name, access_key, secret_key, timestamp (the auth string's), expiration_s,
// x_bce_date (the header; may differ from timestamp), method, url, host, path, query,
// content_type, content_length, body, signed_headers, canonical_request, signing_key,
// authorization.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const https = require("https");
const net = require("net");
const path = require("path");

const CASES = [
  {
    name: "notes-worked-example",
    ak: "AKEXAMPLE0123456789abcdef0123456", sk: "SKEXAMPLE0123456789abcdef0123456",
    base: "https://qianfan.baidubce.com", at: "2024-12-12T12:29:08Z",
    data: { region: "bj", paymentTiming: "Prepaid", type: "gpu-1" },
    expect_signing_key_prefix: "35d10e61", expect_signature_prefix: "738a4822",
  },
  {
    name: "no-data-content-length-0",
    ak: "sim-baidu-ak", sk: "sim-baidu-sk",
    base: "https://qianfan.baidubce.com", at: "2025-03-15T20:30:00Z",
    data: undefined,
  },
  {
    name: "host-with-port-percent-encoded",
    ak: "sim-baidu-ak", sk: "sim-baidu-sk",
    base: "http://127.0.0.1:18765", at: "2024-05-01T08:30:00Z",
    data: { region: "bd" },
  },
  {
    name: "utf8-body-length-in-bytes",
    ak: "sim-baidu-ak", sk: "sim-baidu-sk",
    base: "https://qianfan.baidubce.com", at: "2023-11-14T22:13:20Z",
    data: { type: "gpu-2", paymentTiming: "Postpaid", note: "算力单元" },
  },
  {
    name: "x-bce-date-one-second-before-auth-timestamp",
    ak: "sim-baidu-ak", sk: "sim-baidu-sk",
    base: "https://qianfan.baidubce.com", at: "2024-12-31T23:59:59Z", tick_after_first: true,
    data: {},
  },
];

// ---- an independent bce-auth-v1 implementation used to cross-check
function enc(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}
function canonicalRequest(method, p, query, headers, signed) {
  const q = query.split("&").filter(Boolean).map((kv) => {
    const i = kv.indexOf("=");
    const k = decodeURIComponent(i < 0 ? kv : kv.slice(0, i));
    const v = i < 0 ? "" : decodeURIComponent(kv.slice(i + 1));
    return `${enc(k)}=${enc(v)}`;
  }).sort().join("&");
  const h = signed.map((n) => [n, String(headers[n] || "").trim()]).filter(([, v]) => v)
    .map(([n, v]) => `${enc(n)}:${enc(v)}`).sort().join("\n");
  return `${method}\n${p.split("/").map(enc).join("/")}\n${q}\n${h}`;
}
function sign(ak, sk, ts, exp, creq) {
  const key = crypto.createHmac("sha256", sk).update(`bce-auth-v1/${ak}/${ts}/${exp}`).digest("hex");
  return { key, sig: crypto.createHmac("sha256", key).update(creq).digest("hex") };
}

function startCapture() {
  const captured = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const headers = {};
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        headers[req.rawHeaders[i].toLowerCase()] = req.rawHeaders[i + 1];
      captured.push({ method: req.method, url: req.url, headers, body: Buffer.concat(chunks) });
      const reply = JSON.stringify({ requestId: "00000000-0000-4000-8000-000000000000",
        result: { computeUnitInstanceList: [] } });
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(reply) });
      res.end(reply);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve({ server, captured, port: server.address().port })));
}

async function main() {
  const out = process.argv[2] || path.join(__dirname, "vectors", "baidu.json");
  const cap = await startCapture();
  for (const agent of [http.globalAgent, https.globalAgent]) {
    agent.keepAlive = false;
    agent.createConnection = () => net.connect({ host: "127.0.0.1", port: cap.port });
  }
  const { consoleAction } = require("@baiducloud/qianfan");

  const RealDate = global.Date;
  const vectors = [];
  let bad = 0;
  for (const c of CASES) {
    const t0 = RealDate.parse(c.at) + 250; // sub-second part must be dropped by the SDK
    let calls = 0;
    class FixedDate extends RealDate {
      constructor(...a) {
        if (a.length) super(...a);
        else super(c.tick_after_first && calls++ > 0 ? t0 + 1000 : t0);
      }
      static now() {
        return t0;
      }
    }
    process.env.QIANFAN_ACCESS_KEY = c.ak;
    process.env.QIANFAN_SECRET_KEY = c.sk;
    process.env.QIANFAN_CONSOLE_API_BASE_URL = c.base;
    const before = cap.captured.length;
    global.Date = FixedDate;
    try {
      await consoleAction({ base_api_route: "/v2/computeunit", action: "DescribeComputeUnits", data: c.data });
    } finally {
      global.Date = RealDate;
    }
    if (cap.captured.length !== before + 1) throw new Error(`${c.name}: nothing captured`);
    const r = cap.captured[cap.captured.length - 1];
    const h = r.headers;
    const m = /^bce-auth-v1\/([^/]+)\/([^/]+)\/(\d+)\/([^/]*)\/([0-9a-f]{64})$/.exec(h.authorization || "");
    const problems = [];
    if (!m) problems.push(`authorization ${h.authorization}`);
    const [, ak, ts, exp, signedText, sig] = m || [];
    const signed = (signedText || "").split(";").filter(Boolean);
    const [p, query = ""] = r.url.split("?");
    const creq = canonicalRequest(r.method, p, query, h, signed);
    const mine = sign(c.ak, c.sk, ts, exp, creq);
    if (ak !== c.ak) problems.push("access key");
    if (mine.sig !== sig) problems.push("independent bce-auth-v1 signer disagrees");
    if (c.expect_signature_prefix && !sig.startsWith(c.expect_signature_prefix)) problems.push("NOTES example signature");
    if (c.expect_signing_key_prefix && !mine.key.startsWith(c.expect_signing_key_prefix)) problems.push("NOTES example signing key");
    if (c.tick_after_first ? h["x-bce-date"] === ts : h["x-bce-date"] !== ts) problems.push(`x-bce-date ${h["x-bce-date"]} vs ${ts}`);
    if (Number(h["content-length"]) !== r.body.length) problems.push("content-length");
    if (h.host !== new URL(c.base).host) problems.push(`host ${h.host}`);
    vectors.push({
      name: c.name,
      access_key: c.ak,
      secret_key: c.sk,
      timestamp: ts,
      expiration_s: Number(exp),
      x_bce_date: h["x-bce-date"],
      method: r.method,
      url: `${c.base}${r.url}`,
      host: h.host,
      path: p,
      query,
      content_type: h["content-type"],
      content_length: Number(h["content-length"]),
      body: r.body.toString("utf8"),
      signed_headers: signedText,
      canonical_request: creq,
      signing_key: mine.key,
      authorization: h.authorization,
    });
    if (problems.length) {
      bad++;
      console.log(`FAIL ${c.name}: ${problems.join("; ")}`);
    } else {
      console.log(`ok   ${c.name}`);
    }
  }
  cap.server.close();
  if (bad) {
    console.log(`${bad} case(s) failed; ${out} not written`);
    process.exitCode = 1;
    return;
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(vectors, null, 2) + "\n");
  console.log(`wrote ${vectors.length} vectors to ${path.relative(process.cwd(), out)}`);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exitCode = 1;
});
