// A minimal Socket.IO v5 / Engine.IO v4 client over raw WebSocket frames (the `ws` package).
// It speaks only what the bench needs: open `0{...}`, CONNECT `40` -> `40{"sid"}`, ping `2` -> pong `3`,
// events `42[...]` and acks `43N[...]`. Frames are handed to the scenario as Buffers, undecoded, so the
// load generator spends its CPU on I/O rather than on JSON.
"use strict";

const WebSocket = require("ws");

const CH_OPEN = 0x30; // '0'
const CH_PING = 0x32; // '2'
const CH_MESSAGE = 0x34; // '4'
const CH_CONNECT = 0x30; // '0' (Socket.IO CONNECT)
const CH_EVENT = 0x32; // '2'
const CH_ACK = 0x33; // '3'
const CH_CONNECT_ERROR = 0x34; // '4'

class SioWsClient {
  /**
   * @param {string} origin e.g. "http://127.0.0.1:3000"
   * @param {{onEvent?: (buf: Buffer) => void, onAck?: (buf: Buffer) => void}} handlers
   */
  constructor(origin, handlers = {}) {
    this.url = origin.replace(/^http/, "ws") + "/socket.io/?EIO=4&transport=websocket";
    this.onEvent = handlers.onEvent || (() => {});
    this.onAck = handlers.onAck || (() => {});
    // Offer permessage-deflate (ws then compresses every message it sends, as socket.io-client does).
    this.deflate = Boolean(handlers.deflate);
    this.ws = null;
    this.sid = null;
    this.corked = false;
    this.opened = false;
  }

  /** Open the WebSocket and join "/"; resolves once `40{"sid":...}` arrives. */
  connect(timeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`connect timed out after ${timeoutMs} ms`)), timeoutMs);
      const fail = (err) => {
        clearTimeout(timer);
        if (this.ws) this.ws.terminate();
        reject(err);
      };
      const ws = new WebSocket(this.url, { perMessageDeflate: this.deflate });
      this.ws = ws;
      ws.on("error", fail);
      ws.on("close", (code, reason) => {
        const stage = this.opened ? "after the Engine.IO open" : "before the Engine.IO open";
        fail(new Error(`closed during connect (${stage}), code ${code} ${reason}`));
      });
      ws.on("message", (data) => {
        if (data[0] === CH_OPEN) {
          this.opened = true;
          ws.send("40");
        } else if (data[0] === CH_MESSAGE && data[1] === CH_CONNECT) {
          clearTimeout(timer);
          this.sid = JSON.parse(data.toString("utf8", 2)).sid;
          ws.removeAllListeners();
          this._attach();
          resolve(this);
        } else if (data[0] === CH_MESSAGE && data[1] === CH_CONNECT_ERROR) {
          fail(new Error(`CONNECT refused: ${data.toString()}`));
        } else if (data[0] === CH_PING) {
          ws.send("3");
        }
      });
    });
  }

  _attach() {
    this.ws.on("error", () => {});
    this.ws.on("message", (data) => {
      if (data[0] === CH_MESSAGE) {
        if (data[1] === CH_EVENT) this.onEvent(data);
        else if (data[1] === CH_ACK) this.onAck(data);
      } else if (data[0] === CH_PING) {
        this.ws.send("3");
      }
    });
  }

  /**
   * Send one already-encoded Engine.IO text frame. Frames sent in the same tick leave in one write:
   * the socket is corked on the first and uncorked after the current batch of events has run, which
   * keeps the load generator's syscalls per message well below the server's.
   */
  send(text) {
    const socket = this.ws._socket;
    if (!this.corked && socket) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    this.ws.send(text);
  }

  /** True while the WebSocket is open. */
  get open() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Close without waiting for the server's reply. */
  close() {
    if (this.ws) this.ws.terminate();
  }
}

/**
 * Connect `count` clients with at most `concurrency` handshakes in flight. A failed connect is retried
 * while fewer than `maxRetries` have failed in all; past that the last error is thrown.
 * Returns {clients, seconds, retries}.
 */
async function connectMany(
  origin,
  count,
  makeHandlers,
  { concurrency = 100, timeoutMs = 15000, maxRetries = 0 } = {},
) {
  const clients = new Array(count);
  let next = 0;
  let retries = 0;
  const start = process.hrtime.bigint();
  async function connectOne(index) {
    for (;;) {
      try {
        return await new SioWsClient(origin, makeHandlers(index)).connect(timeoutMs);
      } catch (err) {
        retries += 1;
        if (retries > maxRetries) throw err;
      }
    }
  }
  async function worker() {
    while (next < count) {
      const index = next;
      next += 1;
      clients[index] = await connectOne(index);
    }
  }
  const workers = [];
  for (let i = 0; i < Math.min(concurrency, count); i += 1) workers.push(worker());
  await Promise.all(workers);
  return { clients, seconds: Number(process.hrtime.bigint() - start) / 1e9, retries };
}

/** Parse the integer that follows `"s":` (the bench payload's sequence number) in a frame. */
function readSeq(buf) {
  let i = buf.indexOf('"s":');
  if (i < 0) return -1;
  i += 4;
  while (buf[i] === 0x20) i += 1;
  let value = 0;
  for (let c = buf[i]; c >= 0x30 && c <= 0x39; c = buf[++i]) value = value * 10 + (c - 0x30);
  return value;
}

/** Parse the ack id N of a `43N[...]` frame. */
function readAckId(buf) {
  let value = 0;
  for (let i = 2, c = buf[i]; c >= 0x30 && c <= 0x39; c = buf[++i]) value = value * 10 + (c - 0x30);
  return value;
}

/** The bench payload: `{"s":SEQ,"p":"xxx..."}`, padded so that an echo frame is about `size` bytes. */
function payload(seq, pad) {
  return `{"s":${seq},"p":"${pad}"}`;
}

// Padding for frames of 1 KiB and more (the compression scenarios): words and numbers from a fixed
// pseudo-random sequence, which deflate shrinks about as much as it shrinks real JSON (a run of one
// letter would shrink to nearly nothing and flatter compression).
const WORDS = ["id", "name", "item", "price", "user", "status", "active", "created", "total", "tags", "note"];

function variedText(length) {
  let seed = 12345;
  const parts = [];
  let size = 0;
  while (size < length) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const part = `${WORDS[seed % WORDS.length]}:${seed % 100000} `;
    parts.push(part);
    size += part.length;
  }
  return parts.join("").slice(0, length);
}

function padFor(size, event) {
  const overhead = `42["${event}",${payload(0, "")}]`.length + 6; // ~6 digits of sequence number
  const length = Math.max(0, size - overhead);
  return size >= 1024 ? variedText(length) : "x".repeat(length);
}

module.exports = { SioWsClient, connectMany, readSeq, readAckId, payload, padFor };
