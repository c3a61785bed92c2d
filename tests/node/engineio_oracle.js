// The reference Engine.IO parsers, as an oracle for the Python codecs: npm engine.io-parser 5 (protocol v4) and
// the engine.io-parser 2 that socket.io-client 2 carries (protocol v3).
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
// A "v3" key in the request holds the same four lists for the v3 parser, plus "xhr2": [[packet...]...], encoded
// with binary support (the XHR2 form when a packet is binary); "payloads" are then encoded as for b64=1, and a
// body may be {"binary": "..."} (an XHR2 body). The answer's "v3" key holds the five results.
"use strict";

const parser = require("engine.io-parser");
const parserV3 = require("socket.io-client-v2/node_modules/engine.io-parser");

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

function callbackValue(call) {
  // Both parsers answer through synchronous callbacks.
  let value;
  call((result) => {
    value = result;
  });
  return value;
}

function encodePayloadV3(packets, supportsBinary) {
  return toFrame(callbackValue((done) => parserV3.encodePayload(packets.map(toParserPacket), supportsBinary, done)));
}

function decodeBodyV3(body) {
  const raw = typeof body === "string" ? body : Buffer.from(body.binary, "base64");
  const packets = [];
  parserV3.decodePayload(raw, "nodebuffer", (packet) => {
    packets.push(fromParserPacket(packet));
    return packet.type !== "error";
  });
  return packets;
}

function answerV3(request) {
  return {
    packets: (request.packets || []).map((packet) =>
      toFrame(callbackValue((done) => parserV3.encodePacket(toParserPacket(packet), true, false, done))),
    ),
    payloads: (request.payloads || []).map((packets) => encodePayloadV3(packets, false)),
    xhr2: (request.xhr2 || []).map((packets) => encodePayloadV3(packets, true)),
    frames: (request.frames || []).map((frame) => {
      const raw = frame.text !== undefined ? frame.text : Buffer.from(frame.binary, "base64");
      return fromParserPacket(parserV3.decodePacket(raw, "nodebuffer", false));
    }),
    bodies: (request.bodies || []).map(decodeBodyV3),
  };
}

function answer(request) {
  return {
    v3: request.v3 ? answerV3(request.v3) : null,
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
