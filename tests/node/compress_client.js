// Compression interop driver: npm socket.io-client 4.8.1 against a sioactor server with compression on.
// usage: node compress_client.js <url> <polling|websocket>
// Prints one JSON line per step: the echoes of a large JSON and a large binary payload (sent compressed by
// the client's ws, which compresses every message once permessage-deflate is negotiated), and for each
// event the server sends, whether it arrived compressed (counted by wrapping the ws extension's
// decompress, which ws calls exactly for frames with RSV1 set).
"use strict";

const { io } = require("socket.io-client");

const [, , url, transport] = process.argv;
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
setTimeout(() => { out({ step: "timeout" }); process.exit(2); }, 10000);

const socket = io(url, { transports: [transport], reconnection: false });
let inflated = 0;
let seen = 0;
const compressedSinceLast = () => {
  const delta = inflated - seen;
  seen = inflated;
  return delta;
};

const BIG = { items: Array.from({ length: 300 }, (_, n) => ({ id: n, name: `item ${n}` })) };
const BIN = Buffer.alloc(5000, 7);

function ack(event, ...args) {
  return new Promise((resolve) => socket.emit(event, ...args, (...reply) => resolve(reply)));
}

socket.on("connect_error", (err) => { out({ step: "connect_error", message: err.message }); process.exit(1); });
socket.on("connect", async () => {
  const ws = transport === "websocket" ? socket.io.engine.transport.ws : null;
  const pmd = ws && ws._extensions["permessage-deflate"];
  out({ step: "connected", extensions: ws ? ws.extensions : null });
  if (pmd) {
    const decompress = pmd.decompress.bind(pmd);
    // Counted when the inflated message is handed on (ws then emits it at once), not when inflating starts:
    // ws may start on the next frame before the previous message reaches the handlers.
    pmd.decompress = (data, fin, cb) =>
      decompress(data, fin, (err, result) => {
        if (!err && fin) inflated += 1;
        cb(err, result);
      });
  }
  const events = [];
  for (const name of ["big", "big_plain", "small", "bcast_big", "bcast_plain"]) {
    socket.on(name, (data) => events.push({ name, compressed: compressedSinceLast(), size: JSON.stringify(data).length }));
  }
  const [json] = await ack("echo", BIG);
  out({ step: "echo_json", same: JSON.stringify(json) === JSON.stringify(BIG), compressed: compressedSinceLast() });
  const [bin] = await ack("echo", BIN);
  out({ step: "echo_binary", same: Buffer.from(bin).equals(BIN), compressed: compressedSinceLast() });
  await ack("send_all");
  compressedSinceLast();
  out({ step: "events", events });
  socket.close();
  process.exit(0);
});
