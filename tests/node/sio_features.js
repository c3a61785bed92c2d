// Scenarios of issue 15's features for tests/node/sio_client.js (which merges them into its own): catch-all
// listeners and per-packet middleware, the handshake object, the handshake cookie, refused handshakes and
// background tasks. Each takes the driver's helpers and logs JSON lines keyed by "step".
"use strict";

module.exports = ({ cfg, connect, connected, once, emitAck, log, closeAll }) => ({
  async any_and_middleware() {
    // The server's middleware refuses "forbidden"; its error handler answers with "refused" and the name.
    const s = await connected(connect());
    const refused = once(s, "refused");
    log({ step: "echo_ack", args: await emitAck(s, "echo_ack", "before") });
    s.emit("forbidden", 1, 2);
    log({ step: "refused", args: await refused });
    log({ step: "echo_after", args: await emitAck(s, "echo_ack", "after") });
    log({ step: "any_count", args: await emitAck(s, "any_count") });
    if (cfg.outgoing) {
      const news = once(s, "news");
      s.emit("bcast_self");
      await news;
      log({ step: "outgoing", args: await emitAck(s, "outgoing_seen") });
    }
    if (cfg.burst) {
      // Sent without waiting: the replies must come back in the order sent, whatever the hooks are.
      const got = [];
      const all = new Promise((resolve) =>
        s.on("seq", (n) => {
          got.push(n);
          if (got.length === cfg.burst) resolve();
        })
      );
      for (let i = 0; i < cfg.burst; i++) s.emit("seq", i);
      await all;
      log({ step: "burst", got });
    }
    closeAll(s);
  },

  async refused_silently() {
    // Refused with no error handler on the server: nothing comes back, and the connection goes on.
    const s = await connected(connect());
    s.emit("forbidden", "x");
    log({ step: "echo_after", args: await emitAck(s, "echo_ack", "after") });
    closeAll(s);
  },

  async handshake() {
    const extraHeaders = cfg.headers || {};
    const s = await connected(connect("/", { auth: { token: "t1" }, query: { q: "1" }, extraHeaders }));
    log({ step: "handshake", args: await emitAck(s, "handshake"), engine: s.io.engine.id });
    closeAll(s);
  },

  async cookie() {
    // Polling first (withCredentials keeps cookies in Node), then the raw WebSocket handshake through ws.
    const s = await connected(connect("/", { withCredentials: true, transports: ["polling"] }));
    const jar = s.io.engine._cookieJar;
    const cookies = {};
    for (const [name, cookie] of jar ? jar.cookies : []) cookies[name] = cookie.value;
    log({ step: "polling", engine: s.io.engine.id, cookies });
    closeAll(s);
    const WebSocket = require("ws");
    const ws = new WebSocket(cfg.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket");
    const upgraded = once(ws, "upgrade");
    const first = once(ws, "message"); // the open packet may come in the 101's own read
    const [res] = await upgraded;
    const [open] = await first;
    log({ step: "websocket", setCookie: res.headers["set-cookie"] || null, open: String(open) });
    ws.close();
  },

  async refused_handshake() {
    const s = connect("/", { query: { refuse: "yes" } });
    const [err] = await once(s, "connect_error");
    log({ step: "connect_error", message: err.message });
    closeAll(s);
  },

  async ticks() {
    const s = await connected(connect());
    const got = [];
    await new Promise((resolve) =>
      s.on("tick", (n) => {
        got.push(n);
        if (got.length === 2) resolve();
      })
    );
    log({ step: "ticks", got });
    closeAll(s);
  },
});
