// The bench's load generator. One run = one scenario against one server; prints one JSON line per result.
//
//   node bench/loadgen/main.js --url http://127.0.0.1:3000 --scenario echo --mode emit --clients 50 --inflight 1
//   node bench/loadgen/main.js --url ... --scenario bcast --clients 1000 --inflight 10
//   node bench/loadgen/main.js --url ... --url2 http://127.0.0.1:3001 --scenario bcast ...   (two cluster nodes)
//   node bench/loadgen/main.js --url ... --scenario idle --levels 1000,5000,10000 --server-pid 1234
//   node bench/loadgen/main.js --url ... --scenario polling --clients 50
//   node bench/loadgen/main.js --url ... --scenario burst --clients 10 --burst 1000
//
// Options: --warmup S, --duration S (measured window), --size BYTES (echo frame size, default 100),
// --settle S (idle: wait before reading RSS), --server-pid PID (CPU share and RSS from /proc),
// --label NAME (copied into every line), --deadline S (hard stop for the whole run),
// --connect-concurrency N (idle: handshakes in flight, default 50), --burst N (burst: events per burst),
// --compress 1 (echo: the clients offer permessage-deflate), --client-heads 1 (polling: heads as
// socket.io-client sends them, a random `t=` in each, instead of two minimal heads repeated byte for byte).
"use strict";

const { echo, broadcast, idle } = require("./scenarios_ws");
const { pollingEcho } = require("./polling");
const { burst } = require("./scenarios_burst");

const DEFAULTS = {
  url: "http://127.0.0.1:3000",
  // bcast only: a second node of the same cluster; half the clients connect there (client 0 stays on --url).
  url2: "",
  scenario: "echo",
  mode: "emit",
  clients: 50,
  inflight: 1,
  warmup: 1,
  duration: 4,
  size: 100,
  settle: 1.5,
  levels: "1000,5000,10000",
  // Handshakes in flight while connecting idle clients. sioactor's reference server closes a session whose
  // CONNECT comes later than 1 s after the Engine.IO open (the protocol suite's connectTimeout), so a
  // deep queue of handshakes on a saturated server would fail connects that Node (45 s) would accept.
  "connect-concurrency": 50,
  burst: 1000,
  compress: 0,
  "client-heads": 0,
  "server-pid": 0,
  label: "",
  deadline: 120,
};

function parseArgs(argv) {
  const opts = { ...DEFAULTS };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (!(key in DEFAULTS)) throw new Error(`unknown option ${argv[i]}`);
    opts[key] = typeof DEFAULTS[key] === "number" ? Number(argv[i + 1]) : argv[i + 1];
  }
  return {
    ...opts,
    origin: opts.url.replace(/\/$/, ""),
    origin2: opts.url2.replace(/\/$/, ""),
    serverPid: opts["server-pid"],
    clientHeads: opts["client-heads"],
    levels: opts.levels.split(",").map(Number),
  };
}

async function main() {
  const opts = parseArgs(process.argv);
  const emit = (result) => console.log(JSON.stringify({ server: opts.label, ...result }));
  // Every run ends by itself: a stuck server cannot hold the bench past the deadline.
  setTimeout(() => {
    emit({ scenario: opts.scenario, errors: 1, error_detail: `deadline of ${opts.deadline} s exceeded` });
    process.exit(2);
  }, opts.deadline * 1000).unref();
  if (opts.scenario === "echo") emit(await echo(opts));
  else if (opts.scenario === "bcast") emit(await broadcast(opts));
  else if (opts.scenario === "idle") await idle(opts, emit);
  else if (opts.scenario === "polling") emit(await pollingEcho(opts));
  else if (opts.scenario === "burst") emit(await burst(opts));
  else throw new Error(`unknown scenario ${opts.scenario}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    const flag = (name) => {
      const at = process.argv.indexOf(`--${name}`);
      return at > 0 ? process.argv[at + 1] : DEFAULTS[name];
    };
    const line = { server: flag("label"), scenario: flag("scenario"), errors: 1, error_detail: String(err) };
    console.log(JSON.stringify(line));
    process.exit(1);
  },
);
