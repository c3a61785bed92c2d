// Polling-only echo: each client is an Engine.IO v4 long-polling session (one connection for GETs, one for
// POSTs) that keeps `inflight` `echo` events outstanding, answering pings with pongs.
"use strict";

const { HttpConn } = require("./http_raw");
const { readSeq, payload, padFor } = require("./eio_ws");
const { Histogram, CpuWindow, round, sleep } = require("./metrics");

const now = () => Number(process.hrtime.bigint());
const SEPARATOR = "\x1e";
const RING = 1024;
const MASK = RING - 1;

class PollingClient {
  constructor(origin, onEcho, clientHeads) {
    const { hostname, port } = new URL(origin);
    this.getConn = new HttpConn(hostname, Number(port), { clientHeads });
    this.postConn = new HttpConn(hostname, Number(port), { clientHeads });
    this.onEcho = onEcho;
    this.path = "/socket.io/?EIO=4&transport=polling";
    this.polling = false;
    this.failed = null;
  }

  /** Engine.IO handshake, then CONNECT to "/"; resolves once `40{"sid"}` arrives. */
  async connect() {
    const open = await this.getConn.request("GET", this.path);
    if (open.status !== 200 || !open.body.startsWith("0")) throw new Error(`handshake: ${open.status} ${open.body}`);
    this.path += `&sid=${JSON.parse(open.body.slice(1)).sid}`;
    await this.post("40");
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const reply = await this.getConn.request("GET", this.path);
      if (reply.body.split(SEPARATOR).some((p) => p.startsWith("40"))) return this;
    }
    throw new Error("no CONNECT reply over polling");
  }

  async post(body) {
    const reply = await this.postConn.request("POST", this.path, body);
    if (reply.status !== 200) throw new Error(`POST ${reply.status}: ${reply.body}`);
  }

  /** Long-poll until stopped, handing each `42` packet to onEcho and answering pings. */
  async pollLoop(state) {
    while (state.running || state.outstanding > 0) {
      const reply = await this.getConn.request("GET", this.path);
      if (reply.status !== 200) throw new Error(`GET ${reply.status}: ${reply.body}`);
      for (const packet of reply.body.split(SEPARATOR)) {
        if (packet === "2") this.post("3").catch((err) => (this.failed ??= err));
        else if (packet.startsWith('42["echo"')) this.onEcho(packet);
      }
    }
  }

  close() {
    this.getConn.close();
    this.postConn.close();
  }
}

/** Polling echo over `clients` sessions; reports messages/s and latency. */
async function pollingEcho(opts) {
  const pad = padFor(opts.size, "echo");
  const hist = new Histogram();
  const state = { running: true, measuring: false, count: 0, outstanding: 0, errors: 0, firstError: null };
  const clients = [];
  const makeSender = (client, times) => {
    let seq = 0;
    return () => {
      const s = seq++;
      times[s & MASK] = now();
      state.outstanding += 1;
      client.post(`42["echo",${payload(s, pad)}]`).catch((err) => (client.failed ??= err));
    };
  };
  for (let i = 0; i < opts.clients; i += 1) {
    const times = new Float64Array(RING);
    let send = null;
    let verified = false;
    const client = new PollingClient(opts.origin, (packet) => {
      state.outstanding -= 1;
      const seq = readSeq(Buffer.from(packet));
      if (!verified) {
        verified = true;
        const value = JSON.parse(packet.slice(2))[1];
        if (value.p !== pad || value.s !== seq) client.failed ??= new Error(`bad echo ${packet.slice(0, 80)}`);
      }
      if (state.measuring) {
        state.count += 1;
        hist.record(now() - times[seq & MASK]);
      }
      if (state.running) send();
    }, Boolean(opts.clientHeads));
    send = makeSender(client, times);
    clients.push({ client, send });
  }
  await Promise.all(clients.map(({ client }) => client.connect()));
  const loops = clients.map(({ client }) =>
    client.pollLoop(state).catch((err) => {
      if (!state.closing) client.failed ??= err;
    }),
  );
  clients.forEach(({ send }) => {
    for (let k = 0; k < opts.inflight; k += 1) send();
  });
  await sleep(opts.warmup * 1000);
  const cpu = new CpuWindow(opts.serverPid);
  const t0 = now();
  state.measuring = true;
  await sleep(opts.duration * 1000);
  state.measuring = false;
  const seconds = (now() - t0) / 1e9;
  const usage = cpu.finish();
  state.running = false;
  for (let waited = 0; waited < 2000 && state.outstanding > 0; waited += 10) await sleep(10);
  // The last long-poll of each session stays pending until the next ping: closing it is expected.
  state.closing = true;
  const failed = clients.map(({ client }) => client.failed).filter(Boolean);
  clients.forEach(({ client }) => client.close());
  return {
    scenario: `polling_echo_${opts.clientHeads ? "client_heads_" : ""}${opts.clients}`,
    clients: opts.clients,
    inflight: opts.inflight,
    msgs_per_s: round(state.count / seconds, 1),
    p50_ms: round(hist.quantileMs(0.5), 3),
    p99_ms: round(hist.quantileMs(0.99), 3),
    ...usage,
    errors: failed.length + state.outstanding,
    error_detail: failed.length ? String(failed[0]) : state.outstanding ? `${state.outstanding} replies missing` : null,
  };
}

module.exports = { pollingEcho };
