// WebSocket scenarios: echo (emit or ack, N messages in flight per client), broadcast fan-out, idle connections.
// Every scenario is bounded in time: a warm-up, a measured window, a bounded drain, then every socket is closed.
"use strict";

const { connectMany, readSeq, readAckId, payload, padFor } = require("./eio_ws");
const { Histogram, CpuWindow, processRssKib, round, sleep } = require("./metrics");

const now = () => Number(process.hrtime.bigint());
const RING = 1024; // > any window we keep in flight, so a sequence number's slot is free when reused
const MASK = RING - 1;

/** Checks the first reply of each client against what was sent; counts mismatches. */
class Verifier {
  constructor(pad) {
    this.pad = pad;
    this.errors = 0;
    this.firstError = null;
  }

  check(value, seq) {
    const ok = value && typeof value === "object" && value.s === seq && value.p === this.pad;
    if (!ok) {
      this.errors += 1;
      this.firstError ??= `expected {"s":${seq},...}, got ${JSON.stringify(value).slice(0, 120)}`;
    }
  }
}

/** Runs warm-up then the measured window; returns {seconds, cpu}. */
async function measureWindow(opts, state) {
  await sleep(opts.warmup * 1000);
  const cpu = new CpuWindow(opts.serverPid);
  const t0 = now();
  state.measuring = true;
  await sleep(opts.duration * 1000);
  state.measuring = false;
  const seconds = (now() - t0) / 1e9;
  const usage = cpu.finish();
  state.running = false;
  return { seconds, usage };
}

async function drain(isDrained, maxMs) {
  for (let waited = 0; waited < maxMs && !isDrained(); waited += 10) await sleep(10);
}

/** `echo_emit_1`; with a payload size other than the default, `echo10k_emit_1`; offering deflate, `_deflate`. */
function echoName(opts) {
  const size = opts.size === 100 ? "" : `${Math.round(opts.size / 1024)}k`;
  return `echo${size}_${opts.mode}_${opts.inflight}${opts.compress > 0 ? "_deflate" : ""}`;
}

/** Echo: each of `clients` sockets keeps `inflight` messages outstanding; `mode` "emit" or "ack". */
async function echo(opts) {
  const event = opts.mode === "ack" ? "echo_ack" : "echo";
  const pad = padFor(opts.size, event);
  const verifier = new Verifier(pad);
  const hist = new Histogram();
  const state = { running: true, measuring: false, count: 0, outstanding: 0 };
  const perClient = [];
  const onReply = (i, seq, value) => {
    const slot = perClient[i];
    state.outstanding -= 1;
    if (!slot.verified) {
      slot.verified = true;
      verifier.check(value(), seq);
    }
    if (state.measuring) {
      state.count += 1;
      hist.record(now() - slot.times[seq & MASK]);
    }
    if (state.running) send(i);
  };
  const deflate = opts.compress > 0;
  const handlers = (i) =>
    opts.mode === "ack"
      ? {
          deflate,
          onAck: (buf) => onReply(i, readAckId(buf), () => JSON.parse(buf.toString().slice(buf.indexOf("[")))[0]),
        }
      : {
          deflate,
          onEvent: (buf) => {
            const seq = readSeq(buf);
            // Events that are not the bench's (sioactor's reference server emits `auth` on connect) are skipped.
            if (seq >= 0) onReply(i, seq, () => JSON.parse(buf.toString().slice(2))[1]);
          },
        };
  const { clients } = await connectMany(opts.origin, opts.clients, handlers);
  const send = (i) => {
    const slot = perClient[i];
    const seq = slot.seq++;
    slot.times[seq & MASK] = now();
    const body = payload(seq, pad);
    clients[i].send(opts.mode === "ack" ? `42${seq}["echo_ack",${body}]` : `42["echo",${body}]`);
    state.outstanding += 1;
  };
  for (let i = 0; i < clients.length; i += 1) perClient.push({ seq: 0, times: new Float64Array(RING), verified: false });
  for (let i = 0; i < clients.length; i += 1) for (let k = 0; k < opts.inflight; k += 1) send(i);
  const { seconds, usage } = await measureWindow(opts, state);
  await drain(() => state.outstanding === 0, 2000);
  const lost = state.outstanding;
  const closed = clients.filter((c) => !c.open).length;
  clients.forEach((c) => c.close());
  return {
    scenario: echoName(opts),
    clients: opts.clients,
    inflight: opts.inflight,
    msgs_per_s: round(state.count / seconds, 1),
    p50_ms: round(hist.quantileMs(0.5), 3),
    p99_ms: round(hist.quantileMs(0.99), 3),
    ...usage,
    errors: verifier.errors + lost + closed,
    error_detail: verifier.firstError ?? (lost || closed ? `${lost} replies missing, ${closed} sockets closed` : null),
  };
}

/** Broadcast fan-out: client 0 emits `bcast`, keeping `inflight` broadcasts not yet delivered to all. */
async function broadcast(opts) {
  const pad = padFor(opts.size, "bcast");
  const verifier = new Verifier(pad);
  const hist = new Histogram();
  const n = opts.clients;
  // With a second cluster node, clients [half, n) sit on it: their latency includes the hop through Redis.
  const half = opts.origin2 ? Math.ceil(n / 2) : n;
  const histHere = new Histogram();
  const histThere = new Histogram();
  const sendTimes = new Float64Array(RING);
  const delivered = new Uint32Array(RING);
  const verified = new Uint8Array(n);
  const state = { running: true, measuring: false, count: 0, outstanding: 0, nextSeq: 0 };
  const onEvent = (i, buf) => {
    const seq = readSeq(buf);
    if (seq < 0) return; // not a `bcast` (for example the reference server's `auth` on connect)
    const t = now();
    if (!verified[i]) {
      verified[i] = 1;
      verifier.check(JSON.parse(buf.toString().slice(2))[1], seq);
    }
    if (state.measuring) {
      state.count += 1;
      const took = t - sendTimes[seq & MASK];
      hist.record(took);
      (i < half ? histHere : histThere).record(took);
    }
    delivered[seq & MASK] += 1;
    if (delivered[seq & MASK] === n) {
      state.outstanding -= 1;
      if (state.running) pump();
    }
  };
  const { clients } = await connectMany(opts.origin, half, (i) => ({ onEvent: (buf) => onEvent(i, buf) }));
  if (half < n) {
    const there = await connectMany(opts.origin2, n - half, (i) => ({ onEvent: (buf) => onEvent(half + i, buf) }));
    clients.push(...there.clients);
  }
  const pump = () => {
    while (state.outstanding < opts.inflight) {
      const seq = state.nextSeq++;
      sendTimes[seq & MASK] = now();
      delivered[seq & MASK] = 0;
      clients[0].send(`42["bcast",${payload(seq, pad)}]`);
      state.outstanding += 1;
    }
  };
  pump();
  const { seconds, usage } = await measureWindow(opts, state);
  // A slow server still has up to `inflight` x `clients` deliveries queued when the window closes (seconds
  // of work at 5k deliveries/s): give them time, so that only deliveries that never come count as lost.
  await drain(() => state.outstanding === 0, 15000);
  const lost = state.outstanding;
  clients.forEach((c) => c.close());
  return {
    scenario: `bcast_${n}`,
    clients: n,
    inflight: opts.inflight,
    deliveries_per_s: round(state.count / seconds, 1),
    broadcasts_per_s: round(state.count / n / seconds, 1),
    p50_ms: round(hist.quantileMs(0.5), 3),
    p99_ms: round(hist.quantileMs(0.99), 3),
    ...(half < n
      ? {
          p50_same_node_ms: round(histHere.quantileMs(0.5), 3),
          p50_other_node_ms: round(histThere.quantileMs(0.5), 3),
          p99_other_node_ms: round(histThere.quantileMs(0.99), 3),
        }
      : {}),
    ...usage,
    errors: verifier.errors + lost,
    error_detail: verifier.firstError ?? (lost ? `${lost} broadcasts not delivered to every client` : null),
  };
}

/** Idle connections: connect up to each level in turn, report connects/s and server RSS per connection. */
async function idle(opts, emit) {
  if (!opts.serverPid) throw new Error("the idle scenario needs --server-pid to read the server's RSS");
  // Warm the server's lazy paths (imports, JIT, first allocations) so the baseline excludes them.
  const warm = await connectMany(opts.origin, 20, () => ({}));
  warm.clients.forEach((c) => c.close());
  await sleep(1000);
  const baseline = processRssKib(opts.serverPid);
  const held = [];
  for (const level of opts.levels) {
    // Connects the server refuses or drops are retried (up to 10 % of the level) and counted, so that the
    // memory figure is still taken at the level; `connect_retries` > 0 is flagged in the table.
    const added = await connectMany(opts.origin, level - held.length, () => ({}), {
      concurrency: opts["connect-concurrency"],
      maxRetries: Math.ceil(level / 10),
    });
    held.push(...added.clients);
    await sleep(opts.settle * 1000);
    const rss = processRssKib(opts.serverPid);
    const closed = held.filter((c) => !c.open).length;
    emit({
      scenario: `idle_${level}`,
      clients: level,
      connects_per_s: round(added.clients.length / added.seconds, 1),
      connect_retries: added.retries,
      rss_kib: rss,
      baseline_rss_kib: baseline,
      kib_per_conn: round((rss - baseline) / level, 2),
      // A few sockets closed by the server (see connect_retries) do not spoil the RSS figure; many do.
      closed_idle: closed,
      errors: closed > level / 100 ? closed : 0,
      error_detail: closed ? `${closed} idle sockets were closed by the server` : null,
    });
  }
  held.forEach((c) => c.close());
}

module.exports = { echo, broadcast, idle };
