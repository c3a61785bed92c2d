// socket.io-client 4.8 clients driven by JSON commands on stdin, for the cluster tests.
//
//   node tests/node/cluster_clients.js
//
// Commands (one JSON object per line), each answered by one line with the same "id":
//   {"id": 1, "connect": "a", "url": "http://127.0.0.1:3000"}        -> {"id": 1, "sid": "<socket id>"}
//   (optional: "transports": ["polling"], "upgrade": false)
//   {"id": 2, "client": "a", "emit": "who", "args": []}              -> {"id": 2, "ack": [<ack args>]}
//   {"id": 3, "client": "a", "send": "bcast", "args": [1]}           -> {"id": 3, "sent": true} (no ack asked)
// Unprompted lines: {"client": "a", "event": "ev", "args": [...]} for every event a client receives (an
// event asking for an ack is answered with {"client": "a", "event": "ev", "args": [...]} too), and
// {"client": "a", "disconnect": "<reason>"}. Binary values print as {"$bin": "<base64>"}.
"use strict";

const { fromPrintable, log } = require("./json_lines");

const http = require("http");
const readline = require("readline");
const { io: ioc } = require("socket.io-client");

const clients = {};

function connect(cmd) {
  // Optional "transports" (default websocket only) and "upgrade"; every HTTP request on a new connection.
  const socket = ioc(cmd.url, {
    transports: cmd.transports || ["websocket"],
    upgrade: cmd.upgrade !== false,
    agent: new http.Agent({ keepAlive: false }),
    reconnection: false,
    forceNew: true,
  });
  clients[cmd.connect] = socket;
  socket.onAny((event, ...args) => {
    const last = args[args.length - 1];
    if (typeof last === "function") {
      args.pop();
      last({ client: cmd.connect, event, args });
    }
    log({ client: cmd.connect, event, args });
  });
  socket.on("disconnect", (reason) => log({ client: cmd.connect, disconnect: reason }));
  socket.on("connect", () => log({ id: cmd.id, sid: socket.id }));
  socket.on("connect_error", (err) => log({ id: cmd.id, error: String(err && err.message) }));
}

async function run(cmd) {
  if (cmd.connect) return connect(cmd);
  const socket = clients[cmd.client];
  const args = fromPrintable(cmd.args || []);
  if (cmd.send) {
    socket.emit(cmd.send, ...args);
    return log({ id: cmd.id, sent: true });
  }
  try {
    const ack = await socket.timeout(cmd.timeout_ms || 8000).emitWithAck(cmd.emit, ...args);
    log({ id: cmd.id, ack });
  } catch (err) {
    log({ id: cmd.id, error: String(err && err.message) });
  }
}

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line.trim()) run(JSON.parse(line)).catch((err) => log({ error: String(err) }));
});
lines.on("close", () => {
  for (const socket of Object.values(clients)) socket.close();
  process.exit(0);
});
