// A Node socket.io 4.8 server in a Redis cluster (@socket.io/redis-adapter 8.3: createAdapter, or with
// "adapter": "sharded" createShardedAdapter, "subscription_mode" default "dynamic") with the cluster
// handlers of examples/reference_server.py, so that tests can drive a mixed cluster the same way on both.
//
//   node tests/node/cluster_node.js '{"redis": "redis://127.0.0.1:6379", "key": "socket.io", "server_id": "n1"}'
//
// The sharded adapter (a ClusterAdapter) has no allRooms(); there cluster_rooms gathers the rooms of
// fetchSockets(), which is what sioactor's all_rooms() does on the sharded adapter.
//
// Prints "listening on http://127.0.0.1:PORT" once the adapter is subscribed; exits when stdin closes.
// Handlers on "/", each answering through the client's ack: who, set_data(obj), server_count,
// cluster_fetch(room|null), cluster_rooms, cluster_sse(payload), cluster_join(room, target|null),
// cluster_leave(room, target|null), cluster_disconnect(target), cluster_emit_ack(event, payload), and the
// plain bcast(...args) (io.emit("bcast", ...args)), to_room(room, event, ...args), join(room), leave(room).
// Every server answers a server-side "sse"(payload) with {server, payload}.
"use strict";

const http = require("http");
const { Server } = require("socket.io");
const { createClient } = require("redis");
const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");

const cfg = JSON.parse(process.argv[2]);
const key = cfg.key || "socket.io";
const serverId = cfg.server_id || "node";
const sharded = cfg.adapter === "sharded";
const TIMEOUT = 2000;
setTimeout(() => process.exit(2), cfg.lifetime_ms || 120000).unref();

const byJson = (a, b) => {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
};
const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// serverSideEmitWithAck waits the adapter's requestsTimeout (5 s); the contract's handlers wait 2 s.
const withTimeout = (promise, ms) =>
  Promise.race([
    promise,
    sleep(ms).then(() => {
      throw new Error(`timeout reached: no answer from every server within ${ms} ms`);
    }),
  ]);

async function main() {
  const pub = createClient({ url: cfg.redis });
  const sub = pub.duplicate();
  pub.on("error", () => {});
  sub.on("error", () => {});
  await Promise.all([pub.connect(), sub.connect()]);
  const io = new Server({
    cors: { origin: "*" },
    pingInterval: cfg.ping_interval_ms || 1000,
    pingTimeout: cfg.ping_timeout_ms || 1000,
    perMessageDeflate: false,
  });
  if (sharded) {
    const subscriptionMode = cfg.subscription_mode || "dynamic";
    io.adapter(createShardedAdapter(pub, sub, { channelPrefix: key, subscriptionMode }));
  } else {
    io.adapter(createAdapter(pub, sub, { key }));
  }
  const nsp = io.of("/");
  // The redis adapter emits "error" for a message it cannot parse; unhandled, that would end the process.
  nsp.adapter.on("error", (err) => process.stderr.write(`adapter error: ${err && err.message}\n`));
  nsp.on("sse", (payload, cb) => {
    if (typeof cb === "function") cb({ server: serverId, payload });
  });
  const target = (room) => (room == null ? io : io.in(room));
  nsp.on("connection", (socket) => {
    socket.on("who", (cb) => cb(serverId));
    socket.on("set_data", (obj, cb) => {
      socket.data = obj;
      cb(true);
    });
    socket.on("server_count", async (cb) => cb(await nsp.adapter.serverCount()));
    socket.on("cluster_fetch", async (room, cb) => {
      const found = await target(room).fetchSockets();
      cb(found.map((s) => ({ id: s.id, rooms: [...s.rooms].sort(), data: s.data })).sort(byId));
    });
    socket.on("cluster_rooms", async (cb) => {
      const rooms = sharded
        ? new Set((await io.fetchSockets()).flatMap((s) => [...s.rooms]))
        : await nsp.adapter.allRooms();
      cb([...rooms].sort());
    });
    socket.on("cluster_sse", async (payload, cb) => {
      try {
        cb((await withTimeout(nsp.serverSideEmitWithAck("sse", payload), TIMEOUT)).sort(byJson));
      } catch (err) {
        cb({ error: String(err && err.message) });
      }
    });
    socket.on("cluster_join", (room, room2, cb) => {
      target(room2).socketsJoin(room);
      cb(true);
    });
    socket.on("cluster_leave", (room, room2, cb) => {
      target(room2).socketsLeave(room);
      cb(true);
    });
    socket.on("cluster_disconnect", (room, cb) => {
      cb(true);
      target(room).disconnectSockets(false);
    });
    socket.on("cluster_emit_ack", async (event, payload, cb) => {
      try {
        cb((await io.timeout(TIMEOUT).emitWithAck(event, payload)).sort(byJson));
      } catch (err) {
        cb({ error: String(err && err.message) });
      }
    });
    socket.on("bcast", (...args) => io.emit("bcast", ...args));
    socket.on("to_room", (room, event, ...args) => socket.to(room).emit(event, ...args));
    socket.on("join", (room, cb) => {
      socket.join(room);
      if (typeof cb === "function") cb([...socket.rooms]);
    });
    socket.on("leave", (room, cb) => {
      socket.leave(room);
      if (typeof cb === "function") cb([...socket.rooms]);
    });
  });
  const server = http.createServer();
  io.attach(server);
  await new Promise((resolve) => server.listen(cfg.port || 0, "127.0.0.1", resolve));
  const members = sharded ? ["PUBSUB", "SHARDNUMSUB", `${key}#/#`] : ["PUBSUB", "NUMSUB", `${key}-request#/#`];
  while ((await pub.sendCommand(members))[1] < 1) await sleep(20);
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
  process.stdin.resume();
  process.stdin.on("end", async () => {
    io.close();
    await Promise.allSettled([pub.quit(), sub.quit()]);
    process.exit(0);
  });
}

main().catch((err) => {
  process.stderr.write(String((err && err.stack) || err) + "\n");
  process.exit(1);
});
