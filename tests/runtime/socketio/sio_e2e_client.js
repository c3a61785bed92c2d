// Drives npm socket.io-client 4.8.1 against a sioactor server; prints one JSON line per event, then exits.
// usage: node sio_e2e_client.js <url> <polling|websocket|upgrade> <json|msgpack> <token>
const { io } = require("socket.io-client");

const [, , url, transport, parser, token] = process.argv;
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const options = {
  transports: transport === "upgrade" ? ["polling", "websocket"] : [transport],
  auth: { token },
  reconnection: false,
};
if (parser === "msgpack") options.parser = require("socket.io-msgpack-parser");
const socket = io(url, options);
setTimeout(() => { out({ event: "timeout" }); process.exit(2); }, 10000);

socket.on("connect_error", (err) => {
  out({ event: "connect_error", message: err.message, data: err.data ?? null });
  process.exit(0);
});
socket.on("connect", () => {
  out({ event: "connect", idLength: socket.id.length });
  socket.emit("echo", "hi", Buffer.from([1, 2, 3]), (text, bin) => {
    out({ event: "echo", text, bin: Array.from(bin) });
    socket.emit("ask");
  });
});
socket.on("welcome", (auth) => out({ event: "welcome", auth }));
socket.on("question", (n, callback) => callback(n * 2));
socket.on("answer", (n) => {
  out({ event: "answer", n });
  socket.emit("join", "room1");
});
socket.on("news", (text) => {
  out({ event: "news", text });
  socket.emit("bye");
});
socket.on("disconnect", (reason) => {
  out({ event: "disconnect", reason });
  process.exit(0);
});
