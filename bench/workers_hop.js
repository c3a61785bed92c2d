// Polling echo with every HTTP request on a fresh TCP connection, against a server of 1 or N workers: with
// N > 1 the kernel gives each connection to any worker, so about (N-1)/N of the requests reach a worker
// that does not own the session and are handed to the owner (the hop whose cost this measures).
//
//   node bench/workers_hop.js '{"url": "http://127.0.0.1:3000", "clients": 20, "warmup": 1, "duration": 5}'
//
// Each client keeps one `echo` in flight: POST 42["echo",...] and a long-poll GET for the reply, each on a
// connection of its own. Prints one JSON line: msgs_per_s, p50_ms, p99_ms, errors.
"use strict";

const { HttpConn } = require("./loadgen/http_raw");
const { Histogram, round, sleep } = require("./loadgen/metrics");

const cfg = JSON.parse(process.argv[2]);
const { hostname, port } = new URL(cfg.url);
const now = () => Number(process.hrtime.bigint());
const SEPARATOR = "\x1e";

async function fresh(method, path, body = "") {
  const conn = new HttpConn(hostname, Number(port));
  try {
    return await conn.request(method, path, body);
  } finally {
    conn.close();
  }
}

async function session() {
  let path = "/socket.io/?EIO=4&transport=polling";
  const open = await fresh("GET", path);
  path += `&sid=${JSON.parse(open.body.slice(1)).sid}`;
  await fresh("POST", path, "40");
  const connected = await fresh("GET", path);
  if (!connected.body.split(SEPARATOR).some((p) => p.startsWith("40"))) throw new Error("no CONNECT reply");
  return path;
}

async function client(state, hist) {
  const path = await session();
  let seq = 0;
  while (state.running) {
    const sent = now();
    const posted = fresh("POST", path, `42["echo",{"s":${seq++}}]`);
    let echoed = false;
    while (!echoed) {
      const reply = await fresh("GET", path);
      if (reply.status !== 200) throw new Error(`GET ${reply.status}: ${reply.body}`);
      for (const packet of reply.body.split(SEPARATOR)) {
        if (packet === "2") await fresh("POST", path, "3");
        else if (packet.startsWith('42["echo"')) echoed = true;
      }
    }
    const answer = await posted;
    if (answer.status !== 200) throw new Error(`POST ${answer.status}: ${answer.body}`);
    if (state.measuring) {
      state.count += 1;
      hist.record(now() - sent);
    }
  }
}

async function main() {
  const state = { running: true, measuring: false, count: 0 };
  const hist = new Histogram();
  const errors = [];
  const clients = [];
  for (let i = 0; i < cfg.clients; i += 1) clients.push(client(state, hist).catch((err) => errors.push(err)));
  await sleep(cfg.warmup * 1000);
  state.measuring = true;
  const t0 = now();
  await sleep(cfg.duration * 1000);
  state.measuring = false;
  const seconds = (now() - t0) / 1e9;
  state.running = false;
  await Promise.race([Promise.all(clients), sleep(3000)]);
  const line = {
    msgs_per_s: round(state.count / seconds, 1),
    p50_ms: round(hist.quantileMs(0.5), 3),
    p99_ms: round(hist.quantileMs(0.99), 3),
    errors: errors.length,
    error_detail: errors.length ? String(errors[0]) : null,
  };
  process.stdout.write(JSON.stringify(line) + "\n");
  process.exit(0);
}

main();
