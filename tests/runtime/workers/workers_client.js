// Node driver for the multi-worker tests: socket.io-client 4.8 against a server of several workers, every
// HTTP request on a fresh TCP connection (agent: false), or with "keep_alive": true on Node's pooled ones.
//
//   node workers_client.js '{"url": "http://127.0.0.1:3000", "transports": ["polling"], "clients": 6,
//                            "rounds": 8}'
//
// Opens `clients` sockets; each asks `worker` `rounds` times (each answer is the pid of the worker owning
// the socket), then one emits `bcast` and every socket must receive it. Prints one JSON line:
// {"pids": [[pid, ...] per client], "ids_kept": bool, "transports": [...], "bcast": n} or {"error": "..."}.
"use strict";

const { io } = require("socket.io-client");

const cfg = JSON.parse(process.argv[2]);
const TIMEOUT_MS = cfg.timeout_ms || 8000;

function fail(message) {
  process.stdout.write(JSON.stringify({ error: message }) + "\n");
  process.exit(1);
}

setTimeout(() => fail("timed out"), TIMEOUT_MS * 2).unref();

function connect() {
  const fresh = { agent: false, extraHeaders: { Connection: "close" } };
  const pooled = { agent: new (require("http").Agent)({ keepAlive: true, maxSockets: 2 }) };
  const opts = { forceNew: true, reconnection: false, ...(cfg.keep_alive ? pooled : fresh) };
  if (cfg.transports) opts.transports = cfg.transports;
  const socket = io(cfg.url, opts);
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => reject(new Error("connect_error: " + err.message)));
  });
}

async function main() {
  const sockets = [];
  for (let i = 0; i < cfg.clients; i++) sockets.push(await connect());
  const firstIds = sockets.map((s) => s.io.engine.id);
  let disconnects = 0;
  const reasons = [];
  for (const s of sockets) s.on("disconnect", (reason) => { disconnects++; reasons.push(reason); });
  process.on("exit", () => { if (reasons.length) process.stderr.write("disconnects: " + reasons.join(",") + "\n"); });
  const pids = [];
  for (const s of sockets) {
    const mine = [];
    for (let r = 0; r < cfg.rounds; r++) mine.push(await s.timeout(TIMEOUT_MS).emitWithAck("worker"));
    pids.push(mine);
  }
  let received = 0;
  const all = Promise.all(
    sockets.map((s) => new Promise((resolve) => s.once("bcast", () => { received++; resolve(); })))
  );
  sockets[0].emit("bcast", "hello");
  await all;
  const idsKept = sockets.every((s, i) => s.io.engine.id === firstIds[i]) && disconnects === 0;
  const transports = sockets.map((s) => s.io.engine.transport.name);
  reasons.length = 0;
  for (const s of sockets) s.disconnect();
  process.stdout.write(JSON.stringify({ pids, ids_kept: idsKept, transports, bcast: received }) + "\n");
  process.exit(0);
}

main().catch((err) => fail(String(err && err.stack ? err.stack : err)));
