// Publishes a fixed sequence with Node's @socket.io/redis-emitter 5.1 and exits; the cluster tests capture
// the bytes from Redis and compare them with what sioactor's emitter publishes for the same sequence.
//
//   node tests/node/cluster_emitter.js '{"redis": "redis://127.0.0.1:6379", "key": "socket.io", "sid": "..."}'
"use strict";

const { createClient } = require("redis");
const { Emitter } = require("@socket.io/redis-emitter");

const cfg = JSON.parse(process.argv[2]);
setTimeout(() => process.exit(2), 20000).unref();

async function main() {
  const client = createClient({ url: cfg.redis });
  await client.connect();
  const emitter = new Emitter(client, { key: cfg.key });
  emitter.emit("from-emitter", "hi", 42, { k: [1, 2] });
  emitter.to("room1").emit("from-emitter-room", "r");
  emitter.to("room1").to("room2").except("room3").volatile.compress(false).emit("multi", 1.5);
  emitter.of("/chat").emit("bin", Buffer.from([0xde, 0xad]), { nested: Buffer.from([1]) });
  emitter.serverSideEmit("sse", "from-emitter");
  emitter.in("room1").socketsJoin("room9");
  emitter.socketsLeave(["room9", "room8"]);
  emitter.in(cfg.sid).disconnectSockets(true);
  await client.quit(); // after every PUBLISH above has been answered
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
