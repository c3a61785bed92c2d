// Browser side of the sioactor chat demo: nicknames, rooms, a typing indicator and acknowledged messages.
(() => {
  const $ = (id) => document.getElementById(id);
  const socket = io({ transports: ["polling", "websocket"] });
  let currentRoom = null;
  let typingTimer = null;
  const typists = new Map();

  function line(html, cls) {
    const li = document.createElement("li");
    li.innerHTML = html;
    if (cls) li.className = cls;
    $("log").appendChild(li);
    li.scrollIntoView({ block: "end" });
    return li;
  }
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

  function renderList(id, items, current) {
    $(id).replaceChildren(...items.map((item) => {
      const li = document.createElement("li");
      li.textContent = item;
      if (item === current) li.className = "current";
      return li;
    }));
  }
  function renderTyping() {
    const names = [...typists.keys()];
    $("typing").textContent = names.length ? `${names.join(", ")} ${names.length > 1 ? "are" : "is"} typing…` : "";
  }

  socket.on("connect", () => {
    $("status").textContent = `online (${socket.io.engine.transport.name})`;
    $("status").className = "status online";
    socket.io.engine.on("upgrade", (t) => { $("status").textContent = `online (${t.name})`; });
    if (currentRoom) joinRoom(currentRoom);
  });
  socket.on("disconnect", (reason) => {
    $("status").textContent = `offline: ${reason}`;
    $("status").className = "status offline";
  });
  socket.on("welcome", ({ nickname, rooms }) => {
    $("nick").value = nickname;
    renderList("rooms", rooms, currentRoom);
    joinRoom($("room").value);
  });
  socket.on("rooms", (rooms) => renderList("rooms", rooms, currentRoom));
  socket.on("people", ({ room, people }) => { if (room === currentRoom) renderList("people", people); });
  socket.on("message", ({ nickname, text, at }) => {
    typists.delete(nickname); renderTyping();
    line(`<span class="meta">${new Date(at).toLocaleTimeString()} ${esc(nickname)}:</span> ${esc(text)}`);
  });
  socket.on("notice", (text) => line(`<span class="meta">${esc(text)}</span>`));
  socket.on("typing", ({ nickname, typing }) => {
    clearTimeout(typists.get(nickname));
    if (typing) typists.set(nickname, setTimeout(() => { typists.delete(nickname); renderTyping(); }, 3000));
    else typists.delete(nickname);
    renderTyping();
  });

  function joinRoom(room) {
    socket.emit("join", room, (reply) => {
      if (!reply.ok) return line(`<span class="meta">cannot join: ${esc(reply.error)}</span>`, "failed");
      currentRoom = reply.room;
      $("log").replaceChildren();
      reply.history.forEach((m) => line(`<span class="meta">${esc(m.nickname)}:</span> ${esc(m.text)}`));
      renderList("people", reply.people);
      $("msg").disabled = false; $("msg-form").querySelector("button").disabled = false;
      line(`<span class="meta">you are in #${esc(currentRoom)}</span>`);
    });
  }

  $("nick-form").addEventListener("submit", (e) => {
    e.preventDefault();
    socket.emit("nickname", $("nick").value, (reply) => {
      if (!reply.ok) line(`<span class="meta">${esc(reply.error)}</span>`, "failed");
      else $("nick").value = reply.nickname;
    });
  });
  $("room-form").addEventListener("submit", (e) => { e.preventDefault(); joinRoom($("room").value); });
  $("msg-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("msg").value.trim();
    if (!text) return;
    $("msg").value = "";
    const li = line(`<span class="meta">you:</span> ${esc(text)}`, "pending");
    socket.timeout(5000).emit("message", text, (err, reply) => {
      if (err || !reply.ok) { li.className = "failed"; li.title = err ? "not delivered (timeout)" : reply.error; }
      else li.className = "";
    });
    socket.emit("typing", false);
  });
  $("msg").addEventListener("input", () => {
    if (!typingTimer) socket.emit("typing", true);
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { typingTimer = null; socket.emit("typing", false); }, 1500);
  });
})();
