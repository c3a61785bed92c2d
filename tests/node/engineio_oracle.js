// The reference Engine.IO v4 parser (npm engine.io-parser), as an oracle for the Python codecs.
//
// Reads one JSON request on stdin, writes one JSON answer on stdout. Binary data travels as
// {"binary": "<base64>"}; a packet is {"type": "message", "data": "text"} or {"type": "message", "binary": "..."}.
//
// request:  {"packets": [packet...], "payloads": [[packet...]...], "frames": [frame...], "bodies": ["..."]}
//           where a frame is {"text": "..."} or {"binary": "..."}
// answer:   {"packets": [frame...],        the WebSocket frame of each packet (encodePacket, binary supported)
//            "payloads": ["..."],          the polling body of each packet list (encodePayload)
//            "frames": [packet...],        each frame decoded (decodePacket); {"type": "error"} for garbage
//            "bodies": [[packet...]...]}   each body decoded (decodePayload), ending at the first error packet
"use strict";

const parser = require("engine.io-parser");

function toParserPacket(packet) {
  if (packet.binary !== undefined) {
    return { type: packet.type, data: Buffer.from(packet.binary, "base64") };
  }
  return packet.data === undefined ? { type: packet.type } : { type: packet.type, data: packet.data };
}

function fromParserPacket(packet) {
  if (packet.type === "error") {
    return { type: "error" };
  }
  if (Buffer.isBuffer(packet.data)) {
    return { type: packet.type, binary: packet.data.toString("base64") };
  }
  return { type: packet.type, data: packet.data === undefined ? "" : packet.data };
}

function toFrame(encoded) {
  return typeof encoded === "string" ? { text: encoded } : { binary: Buffer.from(encoded).toString("base64") };
}

function encodePacket(packet) {
  let frame;
  parser.encodePacket(toParserPacket(packet), true, (encoded) => {
    frame = toFrame(encoded);
  });
  return frame;
}

function encodePayload(packets) {
  let body = "";
  parser.encodePayload(packets.map(toParserPacket), (encoded) => {
    body = encoded;
  });
  return body;
}

function decodeFrame(frame) {
  const raw = frame.text !== undefined ? frame.text : Buffer.from(frame.binary, "base64");
  return fromParserPacket(parser.decodePacket(raw, "nodebuffer"));
}

function answer(request) {
  return {
    packets: (request.packets || []).map(encodePacket),
    payloads: (request.payloads || []).map(encodePayload),
    frames: (request.frames || []).map(decodeFrame),
    bodies: (request.bodies || []).map((body) => parser.decodePayload(body, "nodebuffer").map(fromParserPacket)),
  };
}

const chunks = [];
process.stdin.on("data", (chunk) => chunks.push(chunk));
process.stdin.on("end", () => {
  const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  process.stdout.write(JSON.stringify(answer(request)));
});
