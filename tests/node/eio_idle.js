// Opens N raw Engine.IO v4 WebSocket connections and keeps them idle (answering pings with pongs).
// usage: node eio_idle.js <ws url, e.g. ws://127.0.0.1:3000/engine.io/> <N>
// Prints "ready <N>" once every connection has received its open packet, then idles until stdin closes.
const WebSocket = require("ws");

const [, , url, count] = process.argv;
const total = Number(count);
const BATCH = 50; // connections opened concurrently, so the server's backlog never overflows
let opened = 0;
let started = 0;
const sockets = [];

function openOne() {
  started += 1;
  const ws = new WebSocket(`${url}?EIO=4&transport=websocket`);
  sockets.push(ws);
  ws.on("message", (data) => {
    const text = data.toString();
    if (text === "2") ws.send("3");
    else if (text.startsWith("0")) {
      opened += 1;
      if (opened === total) process.stdout.write(`ready ${opened}\n`);
      else if (started < total) openOne();
    }
  });
  ws.on("error", (err) => {
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(1);
  });
}

for (let i = 0; i < Math.min(BATCH, total); i += 1) openOne();
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
