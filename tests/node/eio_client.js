// Drives the real engine.io-client against a sioactor server; prints one JSON line per event.
// usage: node eio_client.js <base url> <scenario>; scenarios: polling, websocket, upgrade, server-close
const { Socket } = require("engine.io-client");

const [, , url, scenario] = process.argv;
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const transports = {
  polling: ["polling"],
  websocket: ["websocket"],
  upgrade: ["polling", "websocket"],
  "server-close": ["websocket"],
}[scenario];

const socket = new Socket(url, { path: "/engine.io/", transports });
let received = 0;

function begin() {
  socket.send("hello");
  socket.send(Buffer.from([1, 2, 3]));
}

socket.on("open", () => {
  out({ event: "open", transport: socket.transport.name });
  if (scenario !== "upgrade") begin();
});
socket.on("upgrade", (transport) => {
  out({ event: "upgrade", transport: transport.name });
  begin();
});
socket.on("message", (data) => {
  const text = typeof data === "string" ? data : null;
  const binary = text === null ? Array.from(new Uint8Array(data)) : null;
  out({ event: "message", text, binary });
  received += 1;
  if (received === 2) {
    if (scenario === "server-close") socket.send("close-me");
    else socket.close();
  }
});
socket.on("close", (reason) => {
  out({ event: "close", reason });
  // Let the close packet's POST (polling) reach the server before exiting.
  setTimeout(() => process.exit(0), 200);
});
setTimeout(() => {
  out({ event: "timeout" });
  process.exit(1);
}, 5000);
