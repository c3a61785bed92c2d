// The JSON-lines spelling the Node test scripts and pytest share: binary values travel as
// {"$bin": "<base64>"} (the Python side: tests/cluster/node_cluster.py from_printable / to_printable).
"use strict";

function printable(value) {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return { $bin: Buffer.from(value).toString("base64") };
  if (value instanceof ArrayBuffer) return { $bin: Buffer.from(value).toString("base64") };
  if (Array.isArray(value)) return value.map(printable);
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = printable(v);
    return out;
  }
  return value === undefined ? null : value;
}

function fromPrintable(value) {
  if (Array.isArray(value)) return value.map(fromPrintable);
  if (value && typeof value === "object") {
    if (Object.keys(value).length === 1 && typeof value.$bin === "string") return Buffer.from(value.$bin, "base64");
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = fromPrintable(v);
    return out;
  }
  return value;
}

/** One line of JSON on stdout. */
function log(obj) {
  process.stdout.write(JSON.stringify(printable(obj)) + "\n");
}

module.exports = { printable, fromPrintable, log };
