// A minimal keep-alive HTTP/1.1 client over `net`: one request at a time per connection, queued.
// Node's `http` module costs several times more CPU per request, which would make the load generator,
// not the server, the bottleneck of the polling scenario.
"use strict";

const net = require("net");

const HEADER_END = Buffer.from("\r\n\r\n");

// What socket.io-client 4.8 in Node sends on each poll besides the method and path (xmlhttprequest-ssl).
const CLIENT_COMMON = "User-Agent: node-XMLHttpRequest\r\nAccept: */*\r\n";
const STAMP_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789";

/** A fresh cache-busting `t=` value, as engine.io-client adds to every polling request. */
function stamp() {
  let out = "";
  for (let i = 0; i < 8; i += 1) out += STAMP_CHARS[Math.floor(Math.random() * STAMP_CHARS.length)];
  return out;
}

class HttpConn {
  /** `clientHeads`: send heads as socket.io-client does (a random `t=` in every path, its header set), so
   * no two heads are alike; otherwise the minimal heads, repeated byte for byte. */
  constructor(host, port, { clientHeads = false } = {}) {
    this.host = host;
    this.port = port;
    this.clientHeads = clientHeads;
    this.queue = [];
    this.current = null;
    this.buffer = Buffer.alloc(0);
    this.socket = net.connect({ host, port });
    this.socket.setNoDelay(true);
    this.socket.on("data", (chunk) => this._onData(chunk));
    this.socket.on("error", (err) => this._failAll(err));
    this.socket.on("close", () => this._failAll(new Error("connection closed")));
  }

  /** Send a request once earlier ones are answered; resolves {status, body}. */
  request(method, path, body = "") {
    return new Promise((resolve, reject) => {
      this.queue.push({ method, path, body, resolve, reject });
      if (this.current === null) this._next();
    });
  }

  close() {
    this.socket.destroy();
  }

  _next() {
    this.current = this.queue.shift() ?? null;
    if (this.current === null) return;
    const { method, path, body } = this.current;
    const length = Buffer.byteLength(body);
    const post = method === "POST";
    const head = this.clientHeads
      ? `${method} ${path.replace("?", `?t=${stamp()}&`)} HTTP/1.1\r\n${CLIENT_COMMON}` +
        (post ? "Content-type: text/plain;charset=UTF-8\r\n" : "") +
        `Host: ${this.host}:${this.port}\r\n` +
        (post ? `Content-Length: ${length}\r\n` : "") +
        "Connection: keep-alive\r\n\r\n"
      : `${method} ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\n` +
        (post ? `Content-Type: text/plain;charset=UTF-8\r\nContent-Length: ${length}\r\n` : "") +
        "\r\n";
    this.socket.write(head + body);
  }

  _onData(chunk) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      const parsed = parseResponse(this.buffer);
      if (parsed === null) return;
      this.buffer = this.buffer.subarray(parsed.consumed);
      const done = this.current;
      this.current = null;
      if (done) done.resolve({ status: parsed.status, body: parsed.body });
      this._next();
    }
  }

  _failAll(err) {
    const pending = this.current ? [this.current, ...this.queue] : this.queue;
    this.current = null;
    this.queue = [];
    pending.forEach((p) => p.reject(err));
  }
}

/** Parse one complete response from the front of `buf`, or return null if more bytes are needed. */
function parseResponse(buf) {
  const end = buf.indexOf(HEADER_END);
  if (end < 0) return null;
  const head = buf.toString("latin1", 0, end);
  const status = Number(head.slice(9, 12));
  const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const start = end + 4;
  if (lengthMatch) {
    const stop = start + Number(lengthMatch[1]);
    if (buf.length < stop) return null;
    return { status, body: buf.toString("utf8", start, stop), consumed: stop };
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) return parseChunked(buf, start, status);
  return { status, body: "", consumed: start };
}

function parseChunked(buf, start, status) {
  const parts = [];
  let at = start;
  for (;;) {
    const lineEnd = buf.indexOf("\r\n", at);
    if (lineEnd < 0) return null;
    const size = parseInt(buf.toString("latin1", at, lineEnd), 16);
    const dataEnd = lineEnd + 2 + size;
    if (buf.length < dataEnd + 2) return null;
    if (size === 0) {
      // No trailers expected from the servers under test: the terminating CRLF follows at once.
      return { status, body: Buffer.concat(parts).toString("utf8"), consumed: dataEnd + 2 };
    }
    parts.push(buf.subarray(lineEnd + 2, dataEnd));
    at = dataEnd + 2;
  }
}

module.exports = { HttpConn };
