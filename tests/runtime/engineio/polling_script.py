"""A script of Engine.IO polling requests for raw keep-alive connections (test_polling_inline_property.py):
the requests, a model of the sessions that plans each step and the responses it answers on which
connection, and the requests' bytes.

The model leaves out what would race in either serving path (two POSTs of one session while its poll is
held: the plain path may answer the poll between them) and anything addressed to a session that has
closed, so that what a held poll answers never depends on timing."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

UNKNOWN_SID = "NoSuchSession000000x"
SLOTS = 2  # client connections a script uses at once: a poll held on one, the rest on the other
MAX_SESSIONS = 4

# The client's requests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Handshake:
    session: int  # set by the planner: the sessions it opens, in turn
    protocol: int


@dataclass(frozen=True)
class Poll:
    session: int
    b64: bool
    gzip: bool
    overlap: bool = False  # sent while another poll of the session is held (which closes it)


@dataclass(frozen=True)
class Post:
    session: int
    packets: tuple[str | bytes, ...]
    xhr2: bool  # v3 only: the binary (XHR2) payload encoding


@dataclass(frozen=True)
class BadPost:
    session: int
    choice: int


@dataclass(frozen=True)
class UnknownSid:
    method: str


@dataclass(frozen=True)
class Options:
    session: int


@dataclass(frozen=True)
class NotPolling:
    session: int


Request = Handshake | Poll | Post | BadPost | UnknownSid | Options | NotPolling
BAD_BODIES = {4: (b"x!y", b"", b"4ok\x1ezz"), 3: (b"5:abc", b"", b"2:4a9x")}


@dataclass(frozen=True)
class Send:
    """*requests* written on connection *slot* as one byte string, cut at *cuts* (per mille) into writes."""

    slot: int
    requests: tuple[Request, ...]
    cuts: tuple[int, ...] = ()


@dataclass(frozen=True)
class Leave:
    slot: int


@dataclass(frozen=True)
class Again:
    """The last `Send` again, *times* over: a polling client repeats its requests, and the read callback
    serves a request whose header set (content-length included) the connection sent before."""

    times: int


@dataclass(frozen=True)
class Step:
    action: Send | Leave
    expect: tuple[tuple[int, int], ...]  # (slot, responses) this step answers
    closes: int  # sessions closed once the step is done, in all


# The model --------------------------------------------------------------------------------------------


@dataclass
class SessionModel:
    open: bool = True
    queued: bool = False  # echoes wait in the outbox
    held_on: int | None = None  # the slot of its held poll


@dataclass
class Planner:
    """Applies the script to a model of the sessions: which requests stay in it, what each step answers."""

    protocols: list[int]  # new sessions take these in turn
    sessions: list[SessionModel] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)  # the protocol of each session
    held: dict[int, int] = field(default_factory=dict)  # slot -> session of the poll it holds
    closes: int = 0
    closed_before: int = 0  # closes before the step being planned
    steps: list[Step] = field(default_factory=list)

    def send(self, send: Send) -> None:
        free = [slot % SLOTS for slot in range(send.slot, send.slot + SLOTS) if slot % SLOTS not in self.held]
        if not free:
            return
        slot = free[0]  # a request behind a held poll would wait for it: another connection takes it
        self.closed_before = self.closes
        counts = {slot: 0}
        kept: list[Request] = []
        flushed: set[int] = set()  # sessions whose held poll this step answers
        for request in send.requests:
            for resolved in self._resolve(request, slot, flushed):
                kept.append(resolved)
                for answered in self._answers(resolved, slot, flushed):
                    counts[answered] = counts.get(answered, 0) + 1
            if slot in self.held:
                break  # this poll is held: nothing may follow it
        if kept:
            self.steps.append(Step(Send(slot, tuple(kept), send.cuts), tuple(counts.items()), self.closes))

    def _resolve(self, request: Request, slot: int, flushed: set[int]) -> list[Request]:
        # *request* addressed to an open session (opened first if none is), or left out.
        if isinstance(request, Handshake):
            if len(self.sessions) < MAX_SESSIONS:
                self._open(slot)
            return []
        if isinstance(request, Options | NotPolling):  # refused before the session is looked up
            return [replace(request, session=request.session % len(self.sessions) if self.sessions else -1)]
        if isinstance(request, UnknownSid):
            return [request]
        alive = [number for number, model in enumerate(self.sessions) if model.open]
        if not alive:
            if len(self.sessions) >= MAX_SESSIONS:
                return []
            self._open(slot)
            alive = [len(self.sessions) - 1]
        session = alive[request.session % len(alive)]
        if session in flushed:
            return []  # a second POST while its poll is answered: the plain path may answer between
        if isinstance(request, Poll) and not request.overlap and self.sessions[session].held_on is not None:
            return []
        return [replace(request, session=session)]

    def _open(self, slot: int) -> None:
        # A step of its own, before the requests that use the session: they need its sid.
        protocol = self.protocols[len(self.sessions) % len(self.protocols)]
        self.sessions.append(SessionModel())
        self.opened.append(protocol)
        handshake = Handshake(len(self.sessions) - 1, protocol)
        self.steps.append(Step(Send(slot, (handshake,)), ((slot, 1),), self.closed_before))

    def _answers(self, request: Request, slot: int, flushed: set[int]) -> list[int]:
        # The slots that *request* has answered once the step is done, as the model applies it.
        if not isinstance(request, Poll | Post | BadPost):
            return [slot]
        model = self.sessions[request.session]
        if isinstance(request, Poll):
            if model.held_on is not None:  # a second poll: refused, and the session closes
                return [slot, *self._close(request.session)]
            if model.queued:
                model.queued = False
                return [slot]
            model.held_on, self.held[slot] = slot, request.session
            return []
        if isinstance(request, BadPost):
            return [slot, *self._close(request.session)]
        if model.held_on is not None:
            flushed.add(request.session)
            return [slot, self._release(request.session)]
        model.queued = True
        return [slot]

    def _release(self, session: int) -> int:
        model = self.sessions[session]
        slot = model.held_on
        assert slot is not None
        model.held_on = None
        del self.held[slot]
        return slot

    def _close(self, session: int) -> list[int]:
        answered = [] if self.sessions[session].held_on is None else [self._release(session)]
        self.sessions[session].open = False
        self.closes += 1
        return answered

    def leave(self, slot: int) -> None:
        session = self.held.get(slot)
        if session is not None:  # the client leaves with a poll held: its session closes
            self._release(session)
            self.sessions[session].open = False
            self.closes += 1
        self.steps.append(Step(Leave(slot), (), self.closes))


Action = Send | Leave | Again


def plan(protocols: list[int], actions: list[Action]) -> tuple[list[Step], list[int]]:
    """The steps of the script, and the protocol of each session it opens."""
    planner = Planner(protocols)
    last: Send | None = None
    for action in actions:
        if isinstance(action, Send):
            planner.send(last := action)
        elif isinstance(action, Leave):
            planner.leave(action.slot)
        elif last is not None:
            for _ in range(action.times):
                planner.send(last)
    for slot in sorted(planner.held):
        planner.leave(slot)
    return planner.steps, planner.opened


# Rendering requests -----------------------------------------------------------------------------------


def v4_body(packets: tuple[str | bytes, ...]) -> bytes:
    parts = ["4" + p if isinstance(p, str) else "b" + base64.b64encode(p).decode() for p in packets]
    return "\x1e".join(parts).encode()


def v3_text_body(packets: tuple[str | bytes, ...]) -> bytes:
    parts = ["4" + p if isinstance(p, str) else "b4" + base64.b64encode(p).decode() for p in packets]
    return "".join(f"{len(part)}:{part}" for part in parts).encode()  # BMP only: UTF-16 units = chars


def v3_xhr2_body(packets: tuple[str | bytes, ...]) -> bytes:
    out = b""
    for packet in packets:
        kind, data = (
            (b"\x00", ("4" + packet).encode()) if isinstance(packet, str) else (b"\x01", b"\x04" + packet)
        )
        out += kind + bytes(int(digit) for digit in str(len(data))) + b"\xff" + data
    return out


def http(method: str, target: str, body: bytes | None = None, extra: str = "") -> bytes:
    head = f"{method} {target} HTTP/1.1\r\nhost: x\r\norigin: http://a.example\r\n{extra}"
    if body is None:
        return (head + "\r\n").encode()
    return (head + f"content-length: {len(body)}\r\n\r\n").encode() + body


def render(request: Request, sids: list[str], protocols: list[int]) -> bytes:
    if isinstance(request, UnknownSid):
        target = f"/engine.io/?EIO=4&transport=polling&sid={UNKNOWN_SID}"
        return http(request.method, target, b"4x" if request.method == "POST" else None)
    if isinstance(request, Handshake):
        return http("GET", f"/engine.io/?EIO={request.protocol}&transport=polling")
    protocol, sid = (
        (protocols[request.session], sids[request.session]) if request.session >= 0 else (4, UNKNOWN_SID)
    )
    target = f"/engine.io/?EIO={protocol}&transport=polling&sid={sid}"
    if isinstance(request, Poll):
        gzip_header = "accept-encoding: gzip, deflate\r\n" if request.gzip else ""
        return http("GET", target + ("&b64=1" if request.b64 else ""), extra=gzip_header)
    if isinstance(request, Options):
        return http("OPTIONS", target, extra="access-control-request-method: POST\r\n")
    if isinstance(request, NotPolling):
        return http("GET", target.replace("transport=polling", "transport=websocket"))
    if isinstance(request, BadPost):
        bodies = BAD_BODIES[protocol]
        return http("POST", target, bodies[request.choice % len(bodies)], "content-type: text/plain\r\n")
    if protocol == 4:
        return http("POST", target, v4_body(request.packets), "content-type: text/plain;charset=UTF-8\r\n")
    if request.xhr2:
        return http(
            "POST", target, v3_xhr2_body(request.packets), "content-type: application/octet-stream\r\n"
        )
    return http("POST", target, v3_text_body(request.packets), "content-type: text/plain;charset=UTF-8\r\n")


def pieces(data: bytes, cuts: tuple[int, ...]) -> Iterator[bytes]:
    start = 0
    for cut in sorted({len(data) * permille // 1000 for permille in cuts} - {0, len(data)}):
        yield data[start:cut]
        start = cut
    yield data[start:]
