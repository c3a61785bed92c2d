// Oracle for the Socket.IO codec tests: the real npm parsers encode and decode what Python hands them.
//
// stdin:  {"json_encode": [packet], "json_decode": [[frame]], "msgpack_encode": [packet], "msgpack_decode": [b64]}
// stdout: the same keys, each a list of results in order. A packet is {type, nsp, data?, id?}; a frame is a
// string (text) or {"$b64": "..."} (binary), and binary values inside data are {"$b64": "..."} too. A decode
// that throws (or emits nothing) yields {"error": message}. {"$undefined": true} stands for undefined.
"use strict";

const { Encoder, Decoder } = require("socket.io-parser");
const msgpackParser = require("socket.io-msgpack-parser");

function revive(value) {
  if (Array.isArray(value)) return value.map(revive);
  if (value !== null && typeof value === "object") {
    if (typeof value.$b64 === "string") return Buffer.from(value.$b64, "base64");
    if (value.$undefined === true) return undefined;
    const out = {};
    for (const key of Object.keys(value)) out[key] = revive(value[key]);
    return out;
  }
  return value;
}

function mark(value) {
  if (Buffer.isBuffer(value)) return { $b64: value.toString("base64") };
  if (value instanceof ArrayBuffer) return { $b64: Buffer.from(value).toString("base64") };
  if (Array.isArray(value)) return value.map(mark);
  if (value !== null && typeof value === "object") {
    const out = {};
    for (const key of Object.keys(value)) out[key] = mark(value[key]);
    return out;
  }
  return value;
}

function decodeAll(decoder, frames) {
  const decoded = [];
  decoder.on("decoded", (packet) => decoded.push(packet));
  try {
    for (const frame of frames) decoder.add(frame);
  } catch (err) {
    return { error: String(err.message) };
  }
  return decoded.length === 1 ? mark(decoded[0]) : { error: `decoded ${decoded.length} packets` };
}

function main(input) {
  const jsonEncoder = new Encoder();
  const msgpackEncoder = new msgpackParser.Encoder();
  return {
    json_encode: (input.json_encode || []).map((p) => jsonEncoder.encode(revive(p)).map(mark)),
    json_decode: (input.json_decode || []).map((frames) => decodeAll(new Decoder(), revive(frames))),
    msgpack_encode: (input.msgpack_encode || []).map(
      (p) => msgpackEncoder.encode(revive(p))[0].toString("base64"),
    ),
    msgpack_decode: (input.msgpack_decode || []).map((b64) =>
      decodeAll(new msgpackParser.Decoder(), [Buffer.from(b64, "base64")]),
    ),
  };
}

let raw = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (raw += chunk));
process.stdin.on("end", () => process.stdout.write(JSON.stringify(main(JSON.parse(raw)))));
