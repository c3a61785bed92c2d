// Burst driver: a real socket.io-client 4.8.1 sends bursts of events and counts what comes back.
//
//   node tests/node/burst_client.js '{"scenario": "echo", "url": "http://127.0.0.1:3000", "n": 1000,
//                                     "transports": ["websocket"], "parser": "json"}'
//
// Scenarios: echo (n `echo` emits in a loop), echo_async (the same to an `async def` handler), offline (n
// emits while disconnected, flushed by the client on connect), clients (k clients x n at once), acks (n
// parallel emitWithAck), bcast (one client emits n `bcast`, k listeners), stop_reading (a client sends n
// big echoes and stops reading for a while; a second client's round trips meanwhile), slow_listener (a
// listener stops reading while another client emits n big `bcast`).
// The last line is one JSON object with the counts ({"error": ...} on failure, exit code 1).
"use strict";

const cfg = JSON.parse(process.argv[2]);
const crypto = require("crypto");
const io = require("socket.io-client");
const N = cfg.n || 1000;
const K = cfg.k || 20;
const TIMEOUT_MS = cfg.timeout_ms || 20000;
// A burst is over when everything came back, or nothing more came for this long.
const QUIET_MS = cfg.quiet_ms || 5000;

function connect(extra = {}) {
  const opts = { forceNew: true, reconnection: false, ...extra };
  if (cfg.transports) opts.transports = cfg.transports;
  if (cfg.parser === "msgpack") opts.parser = require("socket.io-msgpack-parser");
  return io(cfg.url, opts);
}

function connected(socket) {
  if (socket.connected) return Promise.resolve(socket);
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => reject(new Error("connect_error: " + err.message)));
  });
}

// Collects the first argument of every `event` on `socket`; `done(count)` resolves once `count` arrived or
// nothing arrived for QUIET_MS.
function collector(socket, event) {
  const got = [];
  let last = Date.now();
  socket.on(event, (value) => {
    got.push(value);
    last = Date.now();
  });
  return {
    got,
    done(count) {
      last = Math.max(last, Date.now()); // the quiet period starts once the burst was sent
      return new Promise((resolve) => {
        const timer = setInterval(() => {
          if (got.length >= count || Date.now() - last > QUIET_MS) {
            clearInterval(timer);
            resolve(got);
          }
        }, 5);
      });
    },
  };
}

function until(condition) {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (condition()) {
        clearInterval(timer);
        resolve();
      }
    }, 2);
  });
}

// `size` characters that no compression shrinks, different for every message: a server that negotiates
// permessage-deflate (uvicorn does, with socket.io-client's default offer) would otherwise squeeze a burst of
// repeated padding into the kernel's buffers, and nothing would wait for the client to read.
function padding(size) {
  return crypto.randomBytes(Math.ceil((size * 3) / 4)).toString("base64").slice(0, size);
}

function inOrder(values) {
  return values.every((value, i) => value === i);
}

function summary(values) {
  return { received: values.length, in_order: inOrder(values) };
}

async function burst(event) {
  const s = await connected(connect());
  const replies = collector(s, event);
  const started = Date.now();
  for (let i = 0; i < N; i++) s.emit(event, i);
  const got = await replies.done(N);
  const seconds = (Date.now() - started) / 1000;
  s.close();
  return { ...summary(got), seconds, transport: s.io.engine ? s.io.engine.transport.name : null };
}

// Stops reading the socket under a connected client's WebSocket (TCP flow control then throttles the
// server's writes) and resumes it.
function rawSocketOf(s) {
  return s.io.engine.transport.ws._socket;
}

const scenarios = {
  echo: () => burst("echo"),
  echo_async: () => burst("echo_async"),

  async offline() {
    const s = connect({ autoConnect: false });
    const replies = collector(s, "echo");
    for (let i = 0; i < N; i++) s.emit("echo", i); // buffered by the client until it connects
    s.connect();
    await connected(s);
    const got = await replies.done(N);
    s.close();
    return summary(got);
  },

  async clients() {
    const sockets = await Promise.all(Array.from({ length: K }, () => connected(connect())));
    const all = sockets.map((s) => collector(s, "echo"));
    const started = Date.now();
    for (let i = 0; i < N; i++) for (const s of sockets) s.emit("echo", i);
    const sent = Date.now();
    const results = await Promise.all(all.map((c) => c.done(N)));
    const seconds = (Date.now() - started) / 1000;
    sockets.forEach((s) => s.close());
    return { received: results.map((got) => got.length), in_order: results.every(inOrder), seconds, sending: (sent - started) / 1000 };
  },

  async acks() {
    const s = await connected(connect());
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        s
          .timeout(TIMEOUT_MS / 2)
          .emitWithAck("echo_ack", i)
          .then((value) => value, () => null),
      ),
    );
    s.close();
    const got = answers.filter((value) => value !== null);
    return { received: got.length, in_order: answers.every((value, i) => value === i) };
  },

  async bcast() {
    const listeners = await Promise.all(Array.from({ length: K }, () => connected(connect())));
    const sender = await connected(connect());
    const all = listeners.map((s) => collector(s, "bcast"));
    for (let i = 0; i < N; i++) sender.emit("bcast", i);
    const results = await Promise.all(all.map((c) => c.done(N)));
    [...listeners, sender].forEach((s) => s.close());
    return { received: results.map((got) => got.length), in_order: results.every(inOrder) };
  },

  async stop_reading() {
    // The stuck client sends N echoes of `size` characters each and reads nothing for `pause_ms`; a second
    // client's round trips go on meanwhile.
    const size = cfg.size || 4096;
    const stuck = await connected(connect());
    const other = await connected(connect());
    const replies = collector(stuck, "echo");
    const raw = rawSocketOf(stuck);
    raw.pause();
    for (let i = 0; i < N; i++) stuck.emit("echo", i, padding(size));
    const rtts = [];
    const until = Date.now() + (cfg.pause_ms || 2000);
    while (Date.now() < until) {
      const started = Date.now();
      await other.timeout(5000).emitWithAck("echo_ack", "ping");
      rtts.push(Date.now() - started);
      await new Promise((r) => setTimeout(r, 20));
    }
    const unsent = stuck.io.engine.transport.ws.bufferedAmount;
    const during = replies.got.length;
    raw.resume();
    const got = await replies.done(N);
    [stuck, other].forEach((s) => s.close());
    rtts.sort((a, b) => a - b);
    const median = rtts[Math.floor(rtts.length / 2)];
    return { ...summary(got), during, unsent, median_rtt_ms: median, round_trips: rtts.length };
  },

  async slow_listener() {
    // One listener stops reading; the sender broadcasts N big events; a healthy listener gets them all.
    const size = cfg.size || 4096;
    const slow = await connected(connect());
    const healthy = await connected(connect());
    const sender = await connected(connect());
    const slowGot = collector(slow, "bcast");
    const healthyGot = collector(healthy, "bcast");
    let disconnected = null;
    slow.on("disconnect", (reason) => (disconnected = reason));
    rawSocketOf(slow).pause();
    for (let i = 0; i < N; i++) {
      sender.emit("bcast", i, padding(size));
      // Paced by the healthy listener (this one node process reads for it and the sender alike): it keeps
      // up, the paused one cannot.
      if (i % 100 === 99) await until(() => healthyGot.got.length >= i - 200);
    }
    const healthyValues = await healthyGot.done(N);
    rawSocketOf(slow).resume();
    const slowValues = await slowGot.done(N);
    const reason = disconnected; // before our own close below
    [slow, healthy, sender].forEach((s) => s.close());
    return {
      healthy: summary(healthyValues),
      slow: { received: slowValues.length, increasing: slowValues.every((v, i) => i === 0 || v > slowValues[i - 1]) },
      disconnected: reason,
    };
  },
};

async function main() {
  const run = scenarios[cfg.scenario];
  if (!run) throw new Error("unknown scenario " + cfg.scenario);
  const timer = setTimeout(() => {
    process.stdout.write(JSON.stringify({ error: `timeout after ${TIMEOUT_MS} ms in ${cfg.scenario}` }) + "\n");
    process.exit(1);
  }, TIMEOUT_MS);
  const result = await run();
  clearTimeout(timer);
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: String(err && err.stack ? err.stack : err) }) + "\n");
  process.exit(1);
});
