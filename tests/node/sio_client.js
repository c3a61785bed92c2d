// Socket.IO interop driver: runs one scenario with a real npm client and prints JSON lines on stdout.
//
//   node tests/node/sio_client.js '{"scenario": "echo", "url": "http://127.0.0.1:3000",
//                                   "transports": ["websocket"], "parser": "json", "client": "v4"}'
//
// client: "v4" (socket.io-client 4.8.1) or "v2" (socket.io-client 2.5.0, needs a server with allow_eio3).
// parser: "json" or "msgpack" (socket.io-msgpack-parser, v4 client only).
// transports: passed to the client as is; omit for the default (polling, then upgrade to websocket).
// Every line is one JSON object; binary values print as {"$bin": "<base64>"}. The last line is
// {"done": true} on success or {"error": "..."} (exit code 1). The pytest side (tests/interop) reads them.
"use strict";

const { log } = require("./json_lines");

const cfg = JSON.parse(process.argv[2]);
const TIMEOUT_MS = cfg.timeout_ms || 8000;

const ioV4 = require("socket.io-client");
const ioV2 = require("socket.io-client-v2");

function connect(nsp = "/", extra = {}) {
  const url = cfg.url + (nsp === "/" ? "" : nsp);
  const opts = { forceNew: true, reconnection: false, ...extra };
  if (cfg.transports) opts.transports = cfg.transports;
  if (cfg.parser === "msgpack") opts.parser = require("socket.io-msgpack-parser");
  if (cfg.client === "v2") {
    if (opts.auth) opts.query = opts.auth; // v2 has no auth payload; the query carries it
    delete opts.auth;
    return ioV2(url, opts);
  }
  return ioV4(url, opts);
}

function once(socket, event) {
  return new Promise((resolve) => socket.once(event, (...args) => resolve(args)));
}

async function connected(socket) {
  if (socket.connected) return socket;
  const [err] = await Promise.race([
    once(socket, "connect").then(() => [null]),
    once(socket, "connect_error"),
  ]);
  if (err) throw new Error("connect_error: " + (err.message || JSON.stringify(err)));
  return socket;
}

// emit with an ack callback; works the same on the v2 and v4 clients.
function emitAck(socket, event, ...args) {
  return new Promise((resolve) => socket.emit(event, ...args, (...reply) => resolve(reply)));
}

function closeAll(...sockets) {
  for (const s of sockets) s.close();
}

const BINARY = () => ({
  flat: Buffer.from([1, 2, 3]),
  nested: [{ deep: Buffer.from([4, 5, 6]), text: "t" }],
  empty: Buffer.alloc(0),
});

const scenarios = {
  // cfg.count clients connect at once, then each asks for an acknowledged echo of its own index.
  async crowd() {
    const count = cfg.count || 100;
    const started = Date.now();
    const sockets = Array.from({ length: count }, () => connect());
    await Promise.all(sockets.map(connected));
    log({ step: "connected", count, ms: Date.now() - started });
    const replies = await Promise.all(sockets.map((s, i) => emitAck(s, "echo_ack", i)));
    log({ step: "echoed", count: replies.filter((reply, i) => reply[0] === i).length });
    closeAll(...sockets);
  },

  async echo() {
    const s = await connected(connect());
    log({ step: "connected", id: s.id, transport: transportOf(s) });
    const reply = once(s, "echo");
    s.emit("echo", 1, "2", { 3: [true] }, null);
    log({ step: "echo", args: await reply });
    closeAll(s);
  },

  async binary() {
    const s = await connected(connect());
    const reply = once(s, "echo");
    s.emit("echo", BINARY(), Buffer.from([255]));
    log({ step: "echo", args: await reply });
    log({ step: "echo_ack", args: await emitAck(s, "echo_ack", BINARY()) });
    closeAll(s);
  },

  async ack() {
    const s = await connected(connect());
    log({ step: "echo_ack", args: await emitAck(s, "echo_ack", 1, "2", { 3: [false] }) });
    log({ step: "echo_ack_empty", args: await emitAck(s, "echo_ack") });
    closeAll(s);
  },

  async server_ack() {
    const s = await connected(connect());
    s.on("question", (...args) => {
      const cb = args.pop();
      cb(...args, "answer");
    });
    log({ step: "ask_client", args: await emitAck(s, "ask_client", "question", 1, { a: "b" }) });
    closeAll(s);
  },

  async rooms() {
    const a = await connected(connect());
    const b = await connected(connect());
    log({ step: "join", rooms: (await emitAck(a, "join", "r1"))[0], id: a.id });
    const got = [];
    a.on("hello", (...args) => got.push({ who: "a", args }));
    b.on("hello", (...args) => got.push({ who: "b", args }));
    const arrived = once(a, "hello");
    b.emit("to_room", "r1", "hello", 1, "x");
    await arrived;
    a.emit("to_room", "r1", "hello", 2); // sender excluded: nobody else in r1
    log({ step: "leave", rooms: (await emitAck(a, "leave", "r1"))[0] });
    b.emit("to_room", "r1", "hello", 3); // a left: nobody gets it
    await emitAck(b, "echo_ack"); // a round trip on b and a to let stray packets arrive
    await emitAck(a, "echo_ack");
    log({ step: "received", got });
    closeAll(a, b);
  },

  async broadcast() {
    const sockets = [];
    for (let i = 0; i < 3; i++) sockets.push(await connected(connect()));
    const all = sockets.map((s) => once(s, "bcast"));
    sockets[0].emit("bcast", "news", 7);
    log({ step: "bcast", received: await Promise.all(all) });
    closeAll(...sockets);
  },

  async namespace() {
    const main = await connected(connect());
    const custom = connect("/custom", { auth: { token: "abc" } });
    const auth = once(custom, "auth");
    await connected(custom);
    log({ step: "auth", args: await auth });
    const back = once(custom, "message-back");
    custom.emit("message", 1, "2", { 3: [true] });
    log({ step: "message-back", args: await back });
    log({ step: "message-with-ack", args: await emitAck(custom, "message-with-ack", "x", Buffer.from([9])) });
    const noAuth = connect("/custom");
    const empty = once(noAuth, "auth");
    await connected(noAuth);
    log({ step: "auth_empty", args: await empty });
    log({ step: "main_still_works", args: await emitAck(main, "echo_ack", "main") });
    closeAll(main, custom, noAuth);
  },

  async invalid_namespace() {
    const s = connect("/random");
    const [err] = await once(s, "connect_error");
    log({ step: "connect_error", message: err.message, data: err.data === undefined ? null : err.data });
    closeAll(s);
  },

  async dynamic_namespaces() {
    // A regex namespace (/tenant-<digits>), a predicate one (/org-*, admitted when auth.token is "ok"; once it
    // exists, later clients join it without asking), and names nobody admits.
    const regex = await connected(connect("/tenant-7"));
    log({ step: "regex", args: await emitAck(regex, "whoami") });
    const admitted = await connected(connect("/org-acme", { auth: { token: "ok" } }));
    log({ step: "predicate", args: await emitAck(admitted, "whoami") });
    const again = await connected(connect("/org-acme", { auth: { token: "no" } }));
    log({ step: "existing", args: await emitAck(again, "whoami") });
    const errors = {};
    for (const [name, auth] of [["/org-evil", { token: "no" }], ["/tenant-x", {}], ["/tenant-7/x", {}]]) {
      const s = connect(name, { auth });
      const [err] = await once(s, "connect_error");
      errors[name] = err.message;
      s.close();
    }
    log({ step: "refused", errors });
    closeAll(regex, admitted, again);
  },

  async parent_broadcast() {
    // The server emits to the parent of /tenant-<digits> (every child), then to its room "vip" only.
    const root = await connected(connect());
    const t1 = await connected(connect("/tenant-1"));
    const t2 = await connected(connect("/tenant-2"));
    await emitAck(t2, "join", "vip");
    const got = [];
    for (const [who, s] of [["root", root], ["t1", t1], ["t2", t2]]) {
      s.on("news", (...args) => got.push({ who, args }));
    }
    log({ step: "parent_emit", args: await emitAck(root, "parent_emit") });
    await emitAck(t1, "whoami"); // a round trip on each to let every packet arrive
    await emitAck(t2, "whoami");
    await emitAck(root, "echo_ack");
    log({ step: "received", got });
    closeAll(root, t1, t2);
  },

  async room_events() {
    // The server records its room events; joining a room twice changes nothing the second time. The server
    // ends the socket (not the client: a polling client's last request may not leave before the process does).
    const s = await connected(connect("/rooms"));
    await emitAck(s, "join", "r1");
    await emitAck(s, "join", "r1");
    await emitAck(s, "leave", "r1");
    log({ step: "log", id: s.id, args: await emitAck(s, "room_log") });
    const gone = once(s, "disconnect");
    s.emit("bye"); // the server disconnects the socket: its own room goes too
    log({ step: "bye", reason: (await gone)[0] });
    closeAll(s);
  },

  async namespace_class() {
    // A namespace served by a class: on_connect greets, on_hello (def) and on_slow (async def) answer.
    const s = connect("/classy");
    const welcome = once(s, "welcome");
    await connected(s);
    log({ step: "welcome", id: s.id, args: await welcome });
    log({ step: "hello", args: await emitAck(s, "hello", "sync") });
    log({ step: "slow", args: await emitAck(s, "slow", "async") });
    const gone = once(s, "disconnect");
    s.emit("bye"); // on_bye disconnects the socket; on_disconnect runs
    log({ step: "bye", reason: (await gone)[0] });
    closeAll(s);
  },

  async refused() {
    // A namespace whose connect middleware refuses unless auth.token == "ok", with data.
    const bad = connect("/private", { auth: { token: "nope" } });
    const [err] = await once(bad, "connect_error");
    log({ step: "refused", message: err.message, data: err.data === undefined ? null : err.data });
    const good = await connected(connect("/private", { auth: { token: "ok" } }));
    log({ step: "accepted", connected: good.connected });
    closeAll(bad, good);
  },

  async server_disconnect() {
    const s = await connected(connect());
    const gone = once(s, "disconnect");
    s.emit("server_disconnect");
    const [reason] = await gone;
    log({ step: "disconnect", reason });
    closeAll(s);
  },

  async reconnect() {
    const s = await connected(connect("/", { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 }));
    const firstId = s.id;
    const gone = once(s, "disconnect");
    const back = once(s, "connect");
    s.io.engine.close(); // drop the transport under the socket: the client must reconnect by itself
    const [reason] = await gone;
    await back;
    log({ step: "reconnected", reason, changed: s.id !== firstId });
    log({ step: "echo_ack", args: await emitAck(s, "echo_ack", "again") });
    closeAll(s);
  },

  async upgrade() {
    const pending = connect();
    let first = null;
    pending.io.once("open", () => (first = pending.io.engine.transport.name));
    const s = await connected(pending);
    if (transportOf(s) !== "websocket") await new Promise((r) => s.io.engine.once("upgrade", r));
    log({ step: "upgrade", first, now: transportOf(s) });
    log({ step: "echo_ack", args: await emitAck(s, "echo_ack", "after upgrade") });
    closeAll(s);
  },

  async disconnect_when_full() {
    // The server fills this socket's outbox, then disconnects it the way cfg.trigger names: the client must
    // see the end (the DISCONNECT packet or its transport closing), never stay connected to a forgotten socket.
    const s = await connected(connect(cfg.nsp || "/"));
    let fillers = 0;
    s.on("filler", () => fillers++);
    if (cfg.room) await emitAck(s, "join", cfg.room);
    const gone = once(s, "disconnect");
    s.emit(cfg.trigger);
    const [reason] = await gone;
    log({ step: "disconnect", reason, fillers: fillers > 0 });
    closeAll(s);
  },

  async emit_reserved() {
    // The server tries socket.emit("disconnect"): refused at the call, so this connection lives on.
    const s = await connected(connect());
    log({ step: "emit_reserved", args: await emitAck(s, "emit_reserved") });
    log({ step: "still_connected", args: await emitAck(s, "echo_ack", "alive") });
    closeAll(s);
  },

  async local_bcast() {
    // socket.local().emit(...) reaches the other sockets of this node, not the sender (Node's rule).
    const sender = await connected(connect());
    const other = await connected(connect());
    const got = [];
    sender.on("local_bcast", () => got.push("sender"));
    const arrived = once(other, "local_bcast").then(() => got.push("other"));
    sender.emit("local_bcast");
    await arrived;
    await emitAck(sender, "echo_ack"); // a round trip on each to let a stray packet arrive
    await emitAck(other, "echo_ack");
    log({ step: "received", got });
    closeAll(sender, other);
  },

  async within_to() {
    // socket.within("r1").to("r2"): both rooms, the sender (in r1) left out, as socketioxide does.
    const sender = await connected(connect());
    const other = await connected(connect());
    await emitAck(sender, "join", "r1");
    await emitAck(other, "join", "r2");
    const got = [];
    sender.on("wt", () => got.push("sender"));
    const arrived = once(other, "wt").then(() => got.push("other"));
    sender.emit("within_to", "r1", "r2");
    await arrived;
    await emitAck(sender, "echo_ack");
    await emitAck(other, "echo_ack");
    log({ step: "received", got });
    closeAll(sender, other);
  },

  async server_closes() {
    // Connected when the server closes: told so; a new client is then refused, never left hanging.
    const pending = connect();
    const gone = once(pending, "disconnect"); // before connecting: both packets may come in one payload
    const s = await connected(pending);
    s.emit("ready"); // the server closes on this, when the client is surely connected
    const [reason] = await gone;
    log({ step: "disconnect", reason });
    const late = connect();
    const [err] = await once(late, "connect_error");
    log({ step: "late_refused", message: err.message });
    closeAll(s, late);
  },

  async shutdown() {
    // One client per transport, connected when the server is sent SIGINT or SIGTERM: each must be told
    // (DISCONNECT, "io server disconnect"), not cut off ("transport close").
    const clients = ["websocket", "polling"].map((t) => connect("/", { transports: [t] }));
    const gone = clients.map((c) => once(c, "disconnect"));
    await Promise.all(clients.map(connected));
    log({ step: "connected", transports: clients.map(transportOf) });
    const reasons = (await Promise.all(gone)).map(([reason]) => reason);
    log({ step: "disconnect", reasons });
    closeAll(...clients);
  },
};

Object.assign(scenarios, require("./sio_features.js")({ cfg, connect, connected, once, emitAck, log, closeAll }));

function transportOf(socket) {
  return socket.io.engine.transport.name;
}

async function main() {
  const run = scenarios[cfg.scenario];
  if (!run) throw new Error("unknown scenario " + cfg.scenario);
  const timer = setTimeout(() => {
    log({ error: `timeout after ${TIMEOUT_MS} ms in ${cfg.scenario}` });
    process.exit(1);
  }, TIMEOUT_MS);
  await run();
  clearTimeout(timer);
  log({ done: true });
  process.exit(0);
}

main().catch((err) => {
  log({ error: String(err && err.stack ? err.stack : err) });
  process.exit(1);
});
