// A Node socket.io 4.8 server in a Redis cluster (@socket.io/redis-adapter 8.3: classic, or with
// "adapter": "sharded" createShardedAdapter in its default "dynamic" mode), with real socket.io-client
// clients connected to it; prints what they receive as JSON lines on stdout.
//
//   node tests/node/cluster_server.js '{"redis": "redis://127.0.0.1:6379", "key": "socket.io"}'
//
// Clients: c1 on "/" in room1, c2 on "/" in no room, c3 on "/chat". Lines:
//   {"ready": true, "ids": {"c1": ..., "c2": ..., "c3": ...}}   once every client is connected and the
//                                                                adapter is subscribed (NUMSUB of its channels)
//   {"client": "c1", "event": "ev", "args": [...]}              an event a client received
//   {"client": "c2", "disconnect": "io server disconnect"}      a client was disconnected
//   {"server": "/chat", "event": "sse", "args": [...]}          a server-side event the server received
// Binary values print as {"$bin": "<base64>"}. The process exits when stdin closes, or after lifetime_ms.
"use strict";

const { log } = require("./json_lines");

const http = require("http");
const { Server } = require("socket.io");
const { io: ioc } = require("socket.io-client");
const { createClient } = require("redis");
const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");

const cfg = JSON.parse(process.argv[2]);
const key = cfg.key || "socket.io";
const sharded = cfg.adapter === "sharded";
setTimeout(() => process.exit(2), cfg.lifetime_ms || 60000).unref();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const pub = createClient({ url: cfg.redis });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const io = new Server({ cors: { origin: "*" } });
  io.adapter(sharded ? createShardedAdapter(pub, sub, { channelPrefix: key }) : createAdapter(pub, sub, { key }));
  for (const name of ["/", "/chat"]) {
    const nsp = io.of(name);
    nsp.on("connection", (socket) => {
      if (socket.handshake.query.room) socket.join(socket.handshake.query.room);
    });
    nsp.on("sse", (...args) => log({ server: name, event: "sse", args }));
  }
  const server = http.createServer();
  io.attach(server);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  for (const name of ["/", "/chat"]) {
    const members = sharded
      ? ["PUBSUB", "SHARDNUMSUB", `${key}#${name}#`]
      : ["PUBSUB", "NUMSUB", `${key}-request#${name}#`];
    while ((await pub.sendCommand(members))[1] < 1) await sleep(20);
  }

  const url = `http://127.0.0.1:${server.address().port}`;
  const clients = {
    c1: ioc(url, { query: { room: "room1" }, transports: ["websocket"], reconnection: false, forceNew: true }),
    c2: ioc(url, { transports: ["websocket"], reconnection: false, forceNew: true }),
    c3: ioc(url + "/chat", { transports: ["websocket"], reconnection: false, forceNew: true }),
  };
  const ids = {};
  await Promise.all(
    Object.entries(clients).map(
      ([name, socket]) =>
        new Promise((resolve, reject) => {
          socket.onAny((event, ...args) => log({ client: name, event, args }));
          socket.on("disconnect", (reason) => log({ client: name, disconnect: reason }));
          socket.on("connect", () => {
            ids[name] = socket.id;
            resolve();
          });
          socket.on("connect_error", reject);
        }),
    ),
  );
  await sleep(50); // the room join of c1 happens in its connection handler, before its CONNECT is acked
  log({ ready: true, ids });

  process.stdin.resume();
  process.stdin.on("end", async () => {
    for (const socket of Object.values(clients)) socket.close();
    io.close();
    await Promise.allSettled([pub.quit(), sub.quit()]);
    process.exit(0);
  });
}

main().catch((err) => {
  log({ error: String((err && err.stack) || err) });
  process.exit(1);
});
