#!/usr/bin/env node
// Records TC3-HMAC-SHA256 test vectors from the official Tencent Cloud Node SDK.
//
//   node tests/sdk/record-tencent-vectors.js [OUT]     (default tests/sdk/vectors/tencent.json)
//
// For each case the SDK's CommonClient makes a real request with a stubbed clock (Date) and
// obviously fake keys. The request URL stays https://tione.tencentcloudapi.com/, but the
// https.Agent hands the SDK a plain TCP socket to a local capture server (127.0.0.1, random
// port), so what is recorded is exactly what the SDK put on the wire: the body bytes,
// Content-Type, Host, X-TC-Timestamp, X-TC-Action, X-TC-Region, X-TC-Version, Authorization.
// Nothing leaves the machine. Each recorded Authorization is cross-checked against an
// independent TC3 implementation below before the file is written.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const https = require("https");
const net = require("net");
const path = require("path");

const tc = require("tencentcloud-sdk-nodejs-common");

const ENDPOINT = "https://tione.tencentcloudapi.com";
const HOST = "tione.tencentcloudapi.com";
const VERSION = "2021-11-11";

const CASES = [
  {
    name: "tasks-first-page-createtime-asc",
    secret_id: "sim-tencent-id", secret_key: "sim-tencent-key",
    timestamp: 1714552200, // 2024-05-01T08:30:00Z (Beijing 16:30, same date)
    action: "DescribeTrainingTasks", region: "ap-guangzhou",
    params: { Offset: 0, Limit: 50, OrderField: "CreateTime", Order: "ASC" },
  },
  {
    name: "services-beijing-early-morning-utc-date-differs",
    secret_id: "sim-tencent-id", secret_key: "sim-tencent-key",
    timestamp: 1700000000, // 2023-11-14T22:13:20Z = 2023-11-15 06:13:20 Beijing
    action: "DescribeModelServiceGroups", region: "ap-shanghai",
    params: { Offset: 0, Limit: 100 },
  },
  {
    name: "tasks-chinese-filter-beijing-0044",
    secret_id: "sim-tencent-id", secret_key: "sim-tencent-key",
    timestamp: 1551113065, // 2019-02-25T16:44:25Z = 2019-02-26 00:44:25 Beijing
    action: "DescribeTrainingTasks", region: "ap-beijing",
    params: {
      Filters: [{ Name: "Name", Values: ["训练任务"], Fuzzy: true },
                { Name: "Status", Values: ["RUNNING", "SUCCEED"] }],
      Offset: 50, Limit: 50, OrderField: "UpdateTime", Order: "DESC",
    },
  },
  {
    name: "services-empty-params-year-end",
    secret_id: "sim-tencent-id", secret_key: "sim-tencent-key",
    timestamp: 1735689599, // 2024-12-31T23:59:59Z
    action: "DescribeModelServiceGroups", region: "ap-guangzhou",
    params: {},
  },
  {
    name: "tasks-line-separator-escaped-by-sdk",
    secret_id: "sim-tencent-id", secret_key: "sim-tencent-key",
    timestamp: 1741987800, // 2025-03-14T21:30:00Z = 2025-03-15 05:30 Beijing
    action: "DescribeTrainingTasks", region: "ap-guangzhou",
    params: { Filters: [{ Name: "Name", Values: ["a\u2028b 实验/é\"q\\"], Fuzzy: false }], Limit: 1 },
  },
  {
    name: "services-other-fake-key-new-year",
    secret_id: "AKIDsimFAKE0000000000000000000000000", secret_key: "simFakeSecretKey000000000000000",
    timestamp: 1767225600, // 2026-01-01T00:00:00Z
    action: "DescribeModelServiceGroups", region: "ap-nanjing",
    params: { Filters: [{ Name: "Status", Values: ["Normal"] }], Offset: 0, Limit: 20,
              Order: "ASC", OrderField: "UpdateTime" },
  },
];

// ---- an independent TC3 signer used only to cross-check what was captured
function hmac(key, msg) {
  return crypto.createHmac("sha256", key).update(msg).digest();
}
function sha256hex(buf) {
  return crypto.createHash("sha256").update(buf).digest("hex");
}
function tc3(v, bodyBytes, host) {
  const date = new Date(v.timestamp * 1000).toISOString().slice(0, 10);
  const canonical = `POST\n/\n\ncontent-type:${v.content_type}\nhost:${host}\n\ncontent-type;host\n${sha256hex(bodyBytes)}`;
  const sts = `TC3-HMAC-SHA256\n${v.timestamp}\n${date}/tione/tc3_request\n${sha256hex(Buffer.from(canonical, "utf8"))}`;
  const k = hmac(hmac(hmac(Buffer.from("TC3" + v.secret_key, "utf8"), date), "tione"), "tc3_request");
  const sig = crypto.createHmac("sha256", k).update(sts).digest("hex");
  return `TC3-HMAC-SHA256 Credential=${v.secret_id}/${date}/tione/tc3_request, SignedHeaders=content-type;host, Signature=${sig}`;
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
      const reply = JSON.stringify({ Response: { TotalCount: 0, TrainingTaskSet: [],
        ServiceGroups: [], RequestId: "00000000-0000-4000-8000-000000000000" } });
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(reply) });
      res.end(reply);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve({ server, captured, port: server.address().port })));
}

async function main() {
  const out = process.argv[2] || path.join(__dirname, "vectors", "tencent.json");
  const cap = await startCapture();
  const agent = new https.Agent({ keepAlive: false });
  // Plain TCP to the capture server instead of TLS to Tencent: the request bytes are the same.
  agent.createConnection = () => net.connect({ host: "127.0.0.1", port: cap.port });

  const RealDate = global.Date;
  const vectors = [];
  let bad = 0;
  for (const c of CASES) {
    const fixedMs = c.timestamp * 1000 + 123; // sub-second part must be truncated by the SDK
    class FixedDate extends RealDate {
      constructor(...a) {
        if (a.length) super(...a);
        else super(fixedMs);
      }
      static now() {
        return fixedMs;
      }
    }
    const client = new tc.CommonClient(HOST, VERSION, {
      credential: { secretId: c.secret_id, secretKey: c.secret_key },
      region: c.region,
      profile: { httpProfile: { agent, reqTimeout: 10 } },
    });
    const before = cap.captured.length;
    global.Date = FixedDate;
    try {
      await client.request(c.action, c.params);
    } finally {
      global.Date = RealDate;
    }
    if (cap.captured.length !== before + 1) throw new Error(`${c.name}: nothing captured`);
    const r = cap.captured[cap.captured.length - 1];
    const h = r.headers;
    const v = {
      name: c.name,
      secret_id: c.secret_id,
      secret_key: c.secret_key,
      timestamp: Number(h["x-tc-timestamp"]),
      endpoint: ENDPOINT,
      action: h["x-tc-action"],
      version: h["x-tc-version"],
      region: h["x-tc-region"],
      content_type: h["content-type"],
      body: r.body.toString("utf8"),
      authorization: h["authorization"],
    };
    const problems = [];
    if (r.method !== "POST" || r.url !== "/") problems.push(`request line ${r.method} ${r.url}`);
    if (h["host"] !== HOST) problems.push(`Host ${h["host"]}`);
    if (v.timestamp !== c.timestamp) problems.push(`timestamp ${v.timestamp}`);
    if (v.action !== c.action || v.version !== VERSION || v.region !== c.region) problems.push("action/version/region");
    if (!Buffer.from(v.body, "utf8").equals(r.body)) problems.push("body is not valid UTF-8");
    if (tc3(v, r.body, HOST) !== v.authorization) problems.push("independent TC3 signer disagrees");
    if (problems.length) {
      bad++;
      console.log(`FAIL ${c.name}: ${problems.join("; ")}`);
    } else {
      console.log(`ok   ${c.name}`);
    }
    vectors.push(v);
  }
  cap.server.close();
  agent.destroy();
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
