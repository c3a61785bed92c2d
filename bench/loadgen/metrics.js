// Measurement helpers for the load generator: a bounded latency histogram, CPU and RSS readers.
"use strict";

const fs = require("fs");

// Linear 1 µs buckets up to 2 s: fixed 8 MB, no per-sample allocation, exact enough for p50/p99.
const BUCKETS = 2_000_000;

class Histogram {
  constructor() {
    this.counts = new Uint32Array(BUCKETS);
    this.total = 0;
  }

  /** Record one latency given in nanoseconds (bigint hrtime difference or number). */
  record(nanos) {
    let micros = Math.floor(Number(nanos) / 1000);
    if (micros >= BUCKETS) micros = BUCKETS - 1;
    this.counts[micros] += 1;
    this.total += 1;
  }

  /** The q-quantile (0 < q < 1) in milliseconds, or null when nothing was recorded. */
  quantileMs(q) {
    if (this.total === 0) return null;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i += 1) {
      seen += this.counts[i];
      if (seen >= rank) return (i + 0.5) / 1000;
    }
    return (BUCKETS - 1) / 1000;
  }
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far, from /proc; null if it is gone. */
function processCpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** Resident set size of a process in KiB, from /proc; null if it is gone. */
function processRssKib(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** CPU seconds the whole machine has been busy (all cores, excluding idle and iowait), from /proc/stat. */
function machineBusySeconds() {
  const line = fs.readFileSync("/proc/stat", "utf8").split("\n", 1)[0];
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS;
}

/**
 * Measures CPU shares over a window: the server's, the load generator's, and everything else's
 * (`other_cpu`, which flags a run disturbed by other work on the machine).
 */
class CpuWindow {
  constructor(serverPid) {
    this.serverPid = serverPid;
    this.start = process.hrtime.bigint();
    this.selfStart = process.cpuUsage();
    this.serverStart = serverPid ? processCpuSeconds(serverPid) : null;
    this.machineStart = machineBusySeconds();
  }

  /** {loadgen_cpu, server_cpu, other_cpu} as fractions of one core over the window so far. */
  finish() {
    const wall = Number(process.hrtime.bigint() - this.start) / 1e9;
    const self = process.cpuUsage(this.selfStart);
    const loadgen = (self.user + self.system) / 1e6 / wall;
    const result = { loadgen_cpu: round(loadgen, 3), server_cpu: null, other_cpu: null };
    if (this.serverStart !== null) {
      const now = processCpuSeconds(this.serverPid);
      if (now !== null) {
        const server = (now - this.serverStart) / wall;
        const machine = (machineBusySeconds() - this.machineStart) / wall;
        result.server_cpu = round(server, 3);
        result.other_cpu = round(Math.max(0, machine - server - loadgen), 3);
      }
    }
    return result;
  }
}

function round(value, digits) {
  if (value === null || value === undefined) return null;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

module.exports = { Histogram, CpuWindow, processRssKib, round, sleep };
