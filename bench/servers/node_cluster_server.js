// Node's own multi-core setup, the bench's counterpart of sioactor's --workers N: node:cluster forks N
// workers, the primary holds the port and routes each connection to a worker with @socket.io/sticky (by
// sid, least-connection for new sessions), and the workers broadcast to each other through
// @socket.io/cluster-adapter (IPC through the primary). Handlers on "/" as in node_server.js:
//   echo -> emit "echo" back; echo_ack -> ack with the payload; bcast -> emit "bcast" to every socket of "/"
// Usage: node node_cluster_server.js [--host 127.0.0.1] [--port 3000] [--workers 2]
// Prints "listening on http://HOST:PORT" once the primary listens and every worker is ready.
"use strict";

const cluster = require("cluster");
const http = require("http");
const { Server } = require("socket.io");
const { setupMaster, setupWorker } = require("@socket.io/sticky");
const { createAdapter, setupPrimary } = require("@socket.io/cluster-adapter");

function parseArgs(argv) {
  const args = { host: "127.0.0.1", port: 3000, workers: 2 };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (!(key in args)) throw new Error(`unknown option ${argv[i]}`);
    args[key] = key === "host" ? argv[i + 1] : Number(argv[i + 1]);
  }
  return args;
}

const READY = "bench:worker-ready";

function primary(args) {
  const httpServer = http.createServer();
  setupMaster(httpServer, { loadBalancingMethod: "least-connection" });
  setupPrimary();
  cluster.setupPrimary({ serialization: "advanced" }); // the cluster adapter sends binary payloads
  let ready = 0;
  let listening = false;
  const announce = () => {
    if (listening && ready === args.workers) console.log(`listening on http://${args.host}:${args.port}`);
  };
  cluster.on("message", (worker, message) => {
    if (message && message.type === READY) {
      ready += 1;
      announce();
    }
  });
  for (let i = 0; i < args.workers; i++) cluster.fork();
  httpServer.listen(args.port, args.host, () => {
    listening = true;
    announce();
  });
  let stopping = false;
  cluster.on("exit", (worker, code, signal) => {
    if (!stopping) console.error(`worker ${worker.process.pid} exited (${signal || code})`);
  });
  for (const name of ["SIGINT", "SIGTERM"]) {
    process.on(name, () => {
      stopping = true;
      for (const worker of Object.values(cluster.workers)) worker.process.kill("SIGTERM");
      process.exit(0);
    });
  }
}

function worker() {
  const httpServer = http.createServer();
  const io = new Server(httpServer, {
    pingInterval: 25000,
    pingTimeout: 20000,
    perMessageDeflate: false,
    httpCompression: false,
  });
  io.adapter(createAdapter());
  setupWorker(io);
  io.on("connection", (socket) => {
    socket.on("echo", (data) => socket.emit("echo", data));
    socket.on("echo_ack", (data, ack) => {
      if (typeof ack === "function") ack(data);
    });
    socket.on("bcast", (data) => io.emit("bcast", data));
  });
  process.send({ type: READY });
  for (const name of ["SIGINT", "SIGTERM"]) process.on(name, () => process.exit(0));
}

if (cluster.isPrimary) primary(parseArgs(process.argv));
else worker();
