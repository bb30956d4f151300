#!/usr/bin/env node
// The "SDK way" of listing Tencent TI-ONE training tasks, for contrib/bench/bench.sh.
//
//   node contrib/bench/sdk-list.js --ready SIMDIR/ready.json [--repeat 1] [--rps 20] [--limit 50]
//        [--t0 EPOCH_SECONDS]
//
// Uses the official tencentcloud-sdk-nodejs-common CommonClient (installed in tests/sdk by
// `npm ci --prefix tests/sdk`) against a running contrib/cloudsim, over HTTPS with the
// simulator's CA, exactly as tests/sdk/check-tencent.js does: the endpoint keeps the host name
// tione.tencentcloudapi.com and an https.Agent whose DNS lookup answers 127.0.0.1 redirects it.
//
// It pages DescribeTrainingTasks sequentially (Offset/Limit 50) the way a careful script
// would: it paces itself to the documented 20 requests per sliding second, as gpucloudfs does
// (so it is not throttled) and, should it be throttled anyway, waits 100 ms and retries. It lists the whole
// collection once ("cold": the first listing of a fresh process, with its TLS handshake), then
// --repeat more times in the same process ("repeated": connection kept alive). It prints one
// JSON line:
//   {"load_s": s, "cold_s": s, "cold_from_launch_s": s, "repeated_s": [s, ...], "pages": n,
//    "items": n, "retries": n}
// load_s is the time to load the SDK module; cold_s the first listing alone; cold_from_launch_s
// the time from --t0 (the caller's wall clock when it launched node, e.g. bash's
// $EPOCHREALTIME) to the end of the first listing (null without --t0). Exit status 1 on any error.
"use strict";

const t_start = process.hrtime.bigint();
const fs = require("fs");
const https = require("https");
const path = require("path");
const { createRequire } = require("module");

const sec = (a, b) => Number(b - a) / 1e9;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function arg(name, dflt) {
  const i = process.argv.indexOf("--" + name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
}

const READY = arg("ready");
if (!READY) {
  console.error("usage: node sdk-list.js --ready SIMDIR/ready.json [--repeat N] [--rps R] [--limit L]");
  process.exit(2);
}
const REPEAT = parseInt(arg("repeat", "1"), 10);
const RPS = parseInt(arg("rps", "20"), 10);
const LIMIT = parseInt(arg("limit", "50"), 10);
const HOST = "tione.tencentcloudapi.com";

// Resolve the SDK from tests/sdk/node_modules (or NODE_PATH), wherever this is run from.
const sdkRequire = createRequire(path.join(__dirname, "..", "..", "tests", "sdk", "package.json"));
const tc = sdkRequire("tencentcloud-sdk-nodejs-common");
const t_loaded = process.hrtime.bigint();

// Sliding-window pacing: request i+RPS starts no sooner than 1 s + 10 ms after request i
// completed. Keyed on completion, the simplest safe rule for a sequential script (the server
// counts a request when it handles it, which may be later than it was sent). gpucloudfs keys on
// the moment a request went on the wire + 50 ms (fs/ratelimit.h), which a sequential client
// paging at L >= 50 ms never notices: it stays under 20 requests a second either way.
const WINDOW_MS = 1010;
const done = [];
async function pace() {
  if (RPS <= 0) return;
  for (;;) {
    const now = Date.now();
    while (done.length && now - done[0] >= WINDOW_MS) done.shift();
    if (done.length < RPS) return;
    await sleep(WINDOW_MS - (now - done[0]) + 1);
  }
}
function completed() {
  if (RPS > 0) done.push(Date.now());
}

let retries = 0;
async function call(client, action, params) {
  for (let attempt = 0; ; attempt++) {
    await pace();
    try {
      const r = await client.request(action, params);
      completed();
      return r;
    } catch (e) {
      completed();
      if (e.code === "RequestLimitExceeded" && attempt < 50) {
        retries++;
        await sleep(100);
        continue;
      }
      throw e;
    }
  }
}

async function listAll(client) {
  let total = null;
  let items = 0;
  let pages = 0;
  for (let offset = 0; total === null || offset < total; offset += LIMIT) {
    const r = await call(client, "DescribeTrainingTasks", { Offset: offset, Limit: LIMIT });
    total = r.TotalCount;
    items += (r.TrainingTaskSet || []).length;
    pages++;
    if (pages > 100000) throw new Error("runaway paging");
  }
  if (items !== total) throw new Error(`listed ${items} of ${total}`);
  return { items, pages };
}

async function main() {
  const ready = JSON.parse(fs.readFileSync(READY, "utf8"));
  const agent = new https.Agent({
    keepAlive: true,
    ca: fs.readFileSync(ready.ca_file),
    lookup: (hostname, opts, cb) => {
      if (typeof opts === "function") (cb = opts), (opts = {});
      if (opts && opts.all) cb(null, [{ address: "127.0.0.1", family: 4 }]);
      else cb(null, "127.0.0.1", 4);
    },
  });
  const client = new tc.CommonClient(`${HOST}:${ready.https_port}`, "2021-11-11", {
    credential: {
      secretId: process.env.CLOUDSIM_TENCENT_ID || "sim-tencent-id",
      secretKey: process.env.CLOUDSIM_TENCENT_KEY || "sim-tencent-key",
    },
    region: "ap-guangzhou",
    profile: { httpProfile: { agent, reqTimeout: 60 } },
  });

  const t0 = process.hrtime.bigint();
  const first = await listAll(client);
  const t1 = process.hrtime.bigint();
  const t1_wall = (performance.timeOrigin + performance.now()) / 1000;
  const T0 = arg("t0");
  const repeated = [];
  for (let i = 0; i < REPEAT; i++) {
    const a = process.hrtime.bigint();
    await listAll(client);
    repeated.push(sec(a, process.hrtime.bigint()));
  }
  agent.destroy();
  console.log(JSON.stringify({
    load_s: sec(t_start, t_loaded),
    cold_s: sec(t0, t1),
    cold_from_launch_s: T0 ? t1_wall - parseFloat(T0) : null,
    repeated_s: repeated,
    pages: first.pages,
    items: first.items,
    retries,
  }));
}

main().catch((e) => {
  console.error(`sdk-list: ${e.code || ""} ${e.stack || e}`);
  process.exit(1);
});
