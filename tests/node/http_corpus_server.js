// The Node side of the HTTP differential corpus (tests/soak/http_corpus.py --against-node): Node's own
// http server (llhttp, default options: strict parsing, 16 KiB of head, a Host required on HTTP/1.1) with a
// real engine.io server attached on "/socket.io/", configured as the soak server is (tests/soak/_kit.py:
// max_payload 100,000 bytes, short heartbeats), so a request that gets through the parser is answered as
// sioactor answers it (200 with a handshake or "ok", 400 for an unknown sid, 413 past the payload limit),
// and anything else gets 404, as on sioactor's embedded server. A refused parse is Node's default
// clientError handling (400, or 431 for an oversized head, then a close): what a Node front end does.
//
//   node tests/node/http_corpus_server.js        prints {"port": N} once listening on 127.0.0.1
//
// The process exits when stdin closes, or after 10 minutes. Compared with sioactor's answers by
// tests/soak/_http_node.py.
"use strict";

const http = require("http");
const { Server } = require("engine.io");
const { log } = require("./json_lines");

setTimeout(() => process.exit(2), 600_000).unref();

const server = http.createServer((req, res) => {
  // Reached only by what engine.io does not claim (it wraps this listener when attached).
  const body = "not found\n";
  res.writeHead(404, { "content-type": "text/plain", "content-length": Buffer.byteLength(body) });
  res.end(body);
});
const engine = new Server({ pingInterval: 300, pingTimeout: 300, maxHttpBufferSize: 100_000 });
// A connection Node keeps alive stays open well past the Python side's wait, so "left open" is not a race.
server.keepAliveTimeout = 30_000;
engine.attach(server, { path: "/socket.io/" });
engine.on("connection", (socket) => socket.on("error", () => {}));

server.listen(0, "127.0.0.1", () => log({ port: server.address().port }));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
