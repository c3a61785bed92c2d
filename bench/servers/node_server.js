// Reference server: Node socket.io 4.8 with the bench's three handlers on "/".
//   echo     -> emit "echo" back to the sender
//   echo_ack -> ack with the payload
//   bcast    -> emit "bcast" to every socket of "/"
// Usage: node node_server.js [--host 127.0.0.1] [--port 3000] [--compress]
// Prints "listening on http://HOST:PORT" once it accepts connections. --compress: permessage-deflate and
// HTTP compression on, with Node's defaults (threshold 1 KiB); off otherwise.
"use strict";

const http = require("http");
const { Server } = require("socket.io");

function parseArgs(argv) {
  const args = { host: "127.0.0.1", port: 3000, compress: argv.includes("--compress") };
  argv = argv.filter((arg) => arg !== "--compress");
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (!(key in args)) throw new Error(`unknown option ${argv[i]}`);
    args[key] = key === "port" ? Number(argv[i + 1]) : argv[i + 1];
  }
  return args;
}

const args = parseArgs(process.argv);
const httpServer = http.createServer();
const io = new Server(httpServer, {
  pingInterval: 25000,
  pingTimeout: 20000,
  // The same limits every server in the bench runs with: no compression unless asked, default payload size.
  perMessageDeflate: args.compress,
  httpCompression: args.compress,
});

io.on("connection", (socket) => {
  socket.on("echo", (data) => socket.emit("echo", data));
  socket.on("echo_ack", (data, ack) => {
    if (typeof ack === "function") ack(data);
  });
  socket.on("bcast", (data) => io.emit("bcast", data));
});

httpServer.listen(args.port, args.host, () => {
  console.log(`listening on http://${args.host}:${args.port}`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    io.close();
    process.exit(0);
  });
}
