#!/usr/bin/env node
// Proof that contrib/cloudsim speaks Tencent TI-ONE the way the official SDK does.
//
//   node tests/sdk/check-tencent.js --ready DIR/ready.json
//
// Uses the official tencentcloud-sdk-nodejs-common CommonClient against a running simulator
// (HTTPS, trusting the simulator's CA). The endpoint keeps the host name
// tione.tencentcloudapi.com (the SDK derives the signing service from its first label, NOTES §4
// item 8); a custom https.Agent whose DNS lookup answers 127.0.0.1 redirects the connection.
// The endpoint carries the simulator's port, so the SDK sends "Host: tione...:PORT" while it
// signs the host name without the port: the simulator must accept that.
//
// Checks: both actions accepted; paging (Offset/Limit/TotalCount) consistent with
// /_sim/objects; the same request with one signature byte changed -> AuthFailure.SignatureFailure;
// with a timestamp ten minutes old -> AuthFailure.SignatureExpire. One line per check, then
// "N passed, M failed"; exit status 1 on any failure.
"use strict";

const fs = require("fs");
const http = require("http");
const https = require("https");
const path = require("path");

const tc = require("tencentcloud-sdk-nodejs-common");
const Sign = require("tencentcloud-sdk-nodejs-common/tencentcloud/common/sign").default;

const SECRET_ID = process.env.CLOUDSIM_TENCENT_ID || "sim-tencent-id";
const SECRET_KEY = process.env.CLOUDSIM_TENCENT_KEY || "sim-tencent-key";
const HOST = "tione.tencentcloudapi.com";
const VERSION = "2021-11-11";

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
    console.error("usage: node check-tencent.js --ready DIR/ready.json");
    process.exit(2);
  }
  return JSON.parse(fs.readFileSync(process.argv[i + 1], "utf8"));
}

// Unsigned control API over plain HTTP.
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

function makeClient(ready) {
  const agent = new https.Agent({
    keepAlive: true,
    ca: fs.readFileSync(ready.ca_file),
    // Redirect tione.tencentcloudapi.com to the simulator; TLS still verifies that name.
    lookup: (hostname, opts, cb) => {
      if (typeof opts === "function") cb = opts, opts = {};
      if (opts && opts.all) cb(null, [{ address: "127.0.0.1", family: 4 }]);
      else cb(null, "127.0.0.1", 4);
    },
  });
  const client = new tc.CommonClient(`${HOST}:${ready.https_port}`, VERSION, {
    credential: { secretId: SECRET_ID, secretKey: SECRET_KEY },
    region: "ap-guangzhou",
    profile: { httpProfile: { agent, reqTimeout: 20 } },
  });
  return { client, agent };
}

// One SDK call; on the documented throttling error wait for the next one-second window
// (bounded number of tries) -- the simulator enforces 20 requests/s per action.
async function call(client, action, params) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.request(action, params);
    } catch (e) {
      if (e.code === "RequestLimitExceeded" && attempt < 5) {
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      throw e;
    }
  }
}

async function expectError(client, action, params) {
  try {
    await client.request(action, params);
    return "(accepted)";
  } catch (e) {
    return e.code || `(no code: ${e.message})`;
  }
}

async function pageAll(client, action, setKey, limit, extra) {
  const ids = [];
  let total = null;
  let pages = 0;
  for (let offset = 0; total === null || offset < total; offset += limit) {
    const r = await call(client, action, Object.assign({ Offset: offset, Limit: limit }, extra));
    if (total !== null && r.TotalCount !== total) throw new Error("TotalCount changed while paging");
    total = r.TotalCount;
    const items = r[setKey] || [];
    if (items.length !== Math.min(limit, total - offset))
      throw new Error(`page at ${offset} has ${items.length} items`);
    for (const it of items) ids.push(it);
    pages++;
    if (pages > 1000) throw new Error("runaway paging");
  }
  return { items: ids, total, pages };
}

async function main() {
  const ready = parseArgs();
  const { client, agent } = makeClient(ready);
  const ctl = (m, p, b) => control(ready.http_port, m, p, b);

  // --- DescribeTrainingTasks: accepted, full paging consistent with /_sim/objects
  const tasks = await ctl("GET", "objects/tencent/tasks");
  const byCreate = tasks.slice().sort((a, b) =>
    a.CreateTime < b.CreateTime ? -1 : a.CreateTime > b.CreateTime ? 1 : a.Id < b.Id ? -1 : 1);
  try {
    const r = await call(client, "DescribeTrainingTasks", { Offset: 0, Limit: 10 });
    check("DescribeTrainingTasks accepted (SDK signs host without port, sends host:port)",
      Array.isArray(r.TrainingTaskSet) && typeof r.RequestId === "string");
    check("DescribeTrainingTasks TotalCount = /_sim/objects count",
      r.TotalCount === tasks.length, `${r.TotalCount} vs ${tasks.length}`);
    check("DescribeTrainingTasks default page of 10", r.TrainingTaskSet.length === Math.min(10, tasks.length));
  } catch (e) {
    check("DescribeTrainingTasks accepted", false, `${e.code || ""} ${e.message}`);
  }
  try {
    const all = await pageAll(client, "DescribeTrainingTasks", "TrainingTaskSet", 50,
      { OrderField: "CreateTime", Order: "ASC" });
    check(`DescribeTrainingTasks paged Limit=50 in ${all.pages} pages covers every task once, in CreateTime order`,
      all.total === tasks.length &&
        JSON.stringify(all.items.map((t) => t.Id)) === JSON.stringify(byCreate.map((t) => t.Id)));
    const same = all.items.every((t, i) => JSON.stringify(t) === JSON.stringify(byCreate[i]));
    check("DescribeTrainingTasks objects identical to /_sim/objects", same);
  } catch (e) {
    check("DescribeTrainingTasks paging", false, `${e.code || ""} ${e.message}`);
  }
  try {
    const want = tasks.filter((t) => typeof t.Name === "string" && t.Name.includes("训练任务"));
    const r = await call(client, "DescribeTrainingTasks", {
      Filters: [{ Name: "Name", Values: ["训练任务"], Fuzzy: true }], Limit: 50 });
    check("DescribeTrainingTasks with a Chinese filter (raw UTF-8 body) accepted",
      r.TotalCount === want.length, `${r.TotalCount} vs ${want.length}`);
  } catch (e) {
    check("DescribeTrainingTasks Chinese filter", false, `${e.code || ""} ${e.message}`);
  }
  check("Limit 51 -> InvalidParameterValue.PageLimitExceeded",
    (await expectError(client, "DescribeTrainingTasks", { Limit: 51 })) ===
      "InvalidParameterValue.PageLimitExceeded");

  // --- DescribeModelServiceGroups
  const groups = await ctl("GET", "objects/tencent/services");
  try {
    const r = await call(client, "DescribeModelServiceGroups", { Offset: 0, Limit: 100 });
    check("DescribeModelServiceGroups accepted",
      Array.isArray(r.ServiceGroups) && r.TotalCount === groups.length &&
        r.ServiceGroups.length === Math.min(100, groups.length),
      `${r.TotalCount} vs ${groups.length}`);
    const all = await pageAll(client, "DescribeModelServiceGroups", "ServiceGroups", 7,
      { OrderField: "CreateTime", Order: "DESC" });
    const ids = all.items.map((g) => g.ServiceGroupId).sort();
    const want = groups.map((g) => g.ServiceGroupId).sort();
    check(`DescribeModelServiceGroups paged Limit=7 in ${all.pages} pages covers every group once`,
      all.total === groups.length && JSON.stringify(ids) === JSON.stringify(want));
  } catch (e) {
    check("DescribeModelServiceGroups accepted", false, `${e.code || ""} ${e.message}`);
  }
  check("Limit 101 -> InvalidParameterValue.PageLimitExceeded",
    (await expectError(client, "DescribeModelServiceGroups", { Limit: 101 })) ===
      "InvalidParameterValue.PageLimitExceeded");

  // --- the same requests with one signature byte changed
  const realSign3 = Sign.sign3;
  Sign.sign3 = function (args) {
    const auth = realSign3.call(this, args);
    const i = auth.length - 7; // a hex digit of the signature
    const flipped = auth[i] === "0" ? "1" : "0";
    return auth.slice(0, i) + flipped + auth.slice(i + 1);
  };
  try {
    for (const action of ["DescribeTrainingTasks", "DescribeModelServiceGroups"]) {
      const code = await expectError(client, action, { Offset: 0, Limit: 10 });
      check(`${action} with one signature byte changed -> AuthFailure.SignatureFailure`,
        code === "AuthFailure.SignatureFailure", code);
    }
  } finally {
    Sign.sign3 = realSign3;
  }

  // --- the same requests signed ten minutes ago (the SDK reads new Date().getTime())
  const RealDate = global.Date;
  const skew = 600 * 1000;
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
  let codes;
  try {
    codes = [];
    for (const action of ["DescribeTrainingTasks", "DescribeModelServiceGroups"])
      codes.push([action, await expectError(client, action, { Offset: 0, Limit: 10 })]);
  } finally {
    global.Date = RealDate;
  }
  for (const [action, code] of codes)
    check(`${action} with a timestamp ten minutes old -> AuthFailure.SignatureExpire`,
      code === "AuthFailure.SignatureExpire", code);

  // --- and the untouched SDK is accepted again afterwards
  try {
    await call(client, "DescribeModelServiceGroups", { Limit: 1 });
    check("accepted again after restoring signer and clock", true);
  } catch (e) {
    check("accepted again after restoring signer and clock", false, e.code || e.message);
  }

  const counts = await ctl("GET", "counts");
  check("simulator counted the rejected requests",
    (counts.rejected.DescribeTrainingTasks || 0) >= 3 && (counts.rejected.DescribeModelServiceGroups || 0) >= 3,
    JSON.stringify(counts.rejected));

  agent.destroy();
}

main()
  .catch((e) => {
    check("unexpected error", false, e && e.stack ? e.stack : String(e));
  })
  .finally(() => {
    console.log(`${passed} passed, ${failed} failed`);
    process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
  });
