// Burst: each client sends `burst` echo events at once (one corked write), waits for every reply, and sends
// the next burst, for the whole window. It measures what a client flushing a backlog (a reconnect's offline
// buffer, a loop of emits) gets: messages/s, and whether every reply came back, in order.
"use strict";

const { connectMany, readSeq, payload, padFor } = require("./eio_ws");
const { CpuWindow, round, sleep } = require("./metrics");

const STALL_MS = 2000; // a burst with no reply for this long has lost the rest

/** `clients` sockets each send bursts of `burst` `echo` events; counts replies, losses and reorderings. */
async function burst(opts) {
  const pad = padFor(opts.size, "echo");
  const state = { running: true, measuring: false, count: 0, lost: 0, disorder: 0 };
  const perClient = [];
  const onEvent = (i, buf) => {
    const seq = readSeq(buf);
    if (seq < 0) return; // not the bench's (sioactor's reference server emits `auth` on connect)
    const slot = perClient[i];
    if (seq !== slot.expected) state.disorder += 1;
    slot.expected = seq + 1;
    slot.pending -= 1;
    slot.last = Date.now();
    if (state.measuring) state.count += 1;
    if (slot.pending === 0 && state.running) sendBurst(i);
  };
  const { clients } = await connectMany(opts.origin, opts.clients, (i) => ({ onEvent: (buf) => onEvent(i, buf) }));
  const sendBurst = (i) => {
    const slot = perClient[i];
    for (let k = 0; k < opts.burst; k += 1) clients[i].send(`42["echo",${payload(slot.next + k, pad)}]`);
    slot.expected = slot.next;
    slot.next += opts.burst;
    slot.pending = opts.burst;
    slot.last = Date.now();
  };
  const stalls = setInterval(() => {
    // A burst that stopped answering lost its remaining replies: count them, go on with a fresh burst.
    for (let i = 0; i < perClient.length; i += 1) {
      const slot = perClient[i];
      if (slot.pending > 0 && Date.now() - slot.last > STALL_MS) {
        state.lost += slot.pending;
        slot.pending = 0;
        if (state.running) sendBurst(i);
      }
    }
  }, 100);
  for (let i = 0; i < clients.length; i += 1) perClient.push({ next: 0, expected: 0, pending: 0, last: 0 });
  for (let i = 0; i < clients.length; i += 1) sendBurst(i);
  await sleep(opts.warmup * 1000);
  const cpu = new CpuWindow(opts.serverPid);
  const t0 = process.hrtime.bigint();
  state.measuring = true;
  await sleep(opts.duration * 1000);
  state.measuring = false;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const usage = cpu.finish();
  state.running = false;
  for (let waited = 0; waited < STALL_MS + 500 && perClient.some((s) => s.pending > 0); waited += 10) await sleep(10);
  clearInterval(stalls);
  const unanswered = perClient.reduce((sum, s) => sum + s.pending, 0);
  const closed = clients.filter((c) => !c.open).length;
  clients.forEach((c) => c.close());
  const lost = state.lost + unanswered;
  const errors = lost + state.disorder + closed;
  return {
    scenario: `burst_${opts.burst}`,
    clients: opts.clients,
    burst: opts.burst,
    msgs_per_s: round(state.count / seconds, 1),
    lost,
    ...usage,
    errors,
    error_detail: errors ? `${lost} replies lost, ${state.disorder} out of order, ${closed} sockets closed` : null,
  };
}

module.exports = { burst };
