"""Polling requests served from the embedded server's read callback (``ServerConfig.inline_requests``) look
to a client exactly as the plain path's: Hypothesis writes a script of client actions on raw keep-alive
connections (long-polls, POSTs of text and binary packets, v3 and v4 sessions, bodies cut anywhere,
requests pipelined, bad payloads, unknown sessions, OPTIONS and non-polling requests, clients leaving with a
poll held), and the script played against a server with the trick off and one with it on must give the same
responses on each connection, the same messages to the listener and the same close reasons.

A model of the sessions plans each step and how many responses it answers on which connection, so the
client reads them all before the next step: what a held poll answers never depends on timing. The model
leaves out what would race in either path (two POSTs of one session while its poll is held: the plain path
may answer the poll between them) and anything addressed to a session that has closed."""

from __future__ import annotations

import base64
import gzip
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import anyio
import pytest
from anyio.abc import SocketStream
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sioactor.actors.engineio._api import EngineConnection
from sioactor.protocol._reasons import EngineCloseReason
from sioactor.runtime._server import ServerConfig, serve_asgi
from sioactor.runtime.engineio import CorsConfig, EngineConfig, EngineServer, engine_asgi_app
from sioactor.runtime.engineio import _polling

pytestmark = pytest.mark.anyio

# No heartbeat within a script: a ping would answer a held poll at a time of its own.
ENGINE = EngineConfig(ping_interval=60, ping_timeout=30, allow_eio3=True, cors=CorsConfig(origins="*"))
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
            for request in self._resolve(request, slot, flushed):
                kept.append(request)
                for answered in self._answers(request, slot, flushed):
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


def plan(protocols: list[int], actions: list[Send | Leave]) -> tuple[list[Step], list[int]]:
    """The steps of the script, and the protocol of each session it opens."""
    planner = Planner(protocols)
    for action in actions:
        if isinstance(action, Send):
            planner.send(action)
        else:
            planner.leave(action.slot)
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
        kind, data = (b"\x00", ("4" + packet).encode()) if isinstance(packet, str) else (b"\x01", b"\x04" + packet)
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
    protocol, sid = (protocols[request.session], sids[request.session]) if request.session >= 0 else (4, UNKNOWN_SID)
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
        return http("POST", target, v3_xhr2_body(request.packets), "content-type: application/octet-stream\r\n")
    return http("POST", target, v3_text_body(request.packets), "content-type: text/plain;charset=UTF-8\r\n")


def pieces(data: bytes, cuts: tuple[int, ...]) -> Iterator[bytes]:
    start = 0
    for cut in sorted({len(data) * permille // 1000 for permille in cuts} - {0, len(data)}):
        yield data[start:cut]
        start = cut
    yield data[start:]


# The client -------------------------------------------------------------------------------------------

Response = tuple[bytes, tuple[tuple[bytes, bytes], ...], bytes]


class RecordingListener:
    """Echoes every message, and records it and every close by session id."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str | bytes]] = []
        self.closes: list[tuple[str, EngineCloseReason]] = []

    def on_open(self, conn: EngineConnection) -> None:
        pass

    def on_message(self, conn: EngineConnection, data: str | bytes) -> None:
        self.messages.append((conn.sid, data))
        conn.send(data)

    def on_close(self, conn: EngineConnection, reason: EngineCloseReason) -> None:
        self.closes.append((conn.sid, reason))


class Connection:
    def __init__(self, stream: SocketStream, key: str) -> None:
        self.stream = stream
        self.key = key
        self.seen = b""

    async def response(self) -> Response:
        with anyio.fail_after(3):
            while b"\r\n\r\n" not in self.seen:
                self.seen += await self.stream.receive()
            head, _, rest = self.seen.partition(b"\r\n\r\n")
            status, *lines = head.split(b"\r\n")
            headers = dict(line.lower().split(b": ", 1) for line in lines)
            length = int(headers.get(b"content-length", b"0"))  # none on a 204
            while len(rest) < length:
                rest += await self.stream.receive()
        body, self.seen = rest[:length], rest[length:]
        encoding = headers.get(b"content-encoding")
        if encoding == b"gzip":
            body = gzip.decompress(body)
        elif encoding == b"deflate":
            body = zlib.decompress(body)
        if encoding is not None:
            del headers[b"content-length"]
        headers.pop(b"date", None)
        return status, tuple(sorted(headers.items())), body


@dataclass
class Observed:
    responses: dict[str, list[Response]]
    messages: list[tuple[int, str | bytes]]
    closes: list[tuple[int, EngineCloseReason]]


async def play(steps: list[Step], protocols: list[int], port: int, listener: RecordingListener) -> Observed:
    conns: dict[int, Connection] = {}
    opened = 0
    sids: list[str] = []
    responses: dict[str, list[Response]] = {}
    try:
        for step in steps:
            action = step.action
            if isinstance(action, Leave):
                conn = conns.pop(action.slot, None)
                if conn is not None:
                    await conn.stream.aclose()
            else:
                if action.slot not in conns:
                    stream = await anyio.connect_tcp("127.0.0.1", port)
                    conns[action.slot] = Connection(stream, f"{action.slot}.{opened}")
                    opened += 1
                data = b"".join(render(request, sids, protocols) for request in action.requests)
                for number, piece in enumerate(pieces(data, action.cuts)):
                    if number:
                        await anyio.sleep(0.005)  # apart, so that the server reads them apart
                    await conns[action.slot].stream.send(piece)
            for slot, count in step.expect:
                conn = conns[slot]
                for _ in range(count):
                    response = await conn.response()
                    responses.setdefault(conn.key, []).append(response)
                    if isinstance(action, Send) and isinstance(action.requests[0], Handshake):
                        sids.append(re.findall(rb'"sid":"([^"]+)"', response[2])[0].decode())
            with anyio.fail_after(3):
                while len(listener.closes) < step.closes:
                    await anyio.sleep(0.005)
    finally:
        for conn in conns.values():
            await conn.stream.aclose()
    index = {sid: number for number, sid in enumerate(sids)}

    def anonymous(body: bytes) -> bytes:
        for sid, number in index.items():
            body = body.replace(sid.encode(), b"<sid%d>" % number)
        return body

    return Observed(
        {key: [(s, h, anonymous(b)) for s, h, b in seen] for key, seen in responses.items()},
        [(index[sid], data) for sid, data in listener.messages],
        [(index[sid], reason) for sid, reason in listener.closes],
    )


async def observe(steps: list[Step], protocols: list[int], *, inline: bool) -> Observed:
    listener = RecordingListener()
    engine = EngineServer(ENGINE, listener)
    config = ServerConfig(host="127.0.0.1", port=0, inline_requests=inline)
    async with anyio.create_task_group() as tg:
        port = await tg.start(serve_asgi, engine_asgi_app(engine), config)
        observed = await play(steps, protocols, port, listener)
        tg.cancel_scope.cancel()
    return observed


class InlineCount:
    """Counts the requests the engine's read-callback handler served (it returned True)."""

    def __init__(self) -> None:
        self.served = 0
        self._serve_now = _polling._serve_now

    def __call__(self, *args: Any) -> bool:
        served = self._serve_now(*args)
        self.served += served
        return served


async def compare(steps: list[Step], protocols: list[int]) -> int:
    """Play *steps* on the plain path and inline; assert the client saw the same; the count served inline."""
    count = InlineCount()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_polling, "_serve_now", count)
        plain = await observe(steps, protocols, inline=False)
        assert count.served == 0, "the plain path served a request from the read callback"
        inline = await observe(steps, protocols, inline=True)
    assert inline.responses == plain.responses
    assert inline.messages == plain.messages
    assert inline.closes == plain.closes
    return count.served


# The property -----------------------------------------------------------------------------------------

def weighted(*branches: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.sampled_from(branches).flatmap(lambda branch: branch)


sessions = st.integers(0, MAX_SESSIONS - 1)  # which of the open sessions
# The read callback serves a request whose header set the connection sent before (content-length
# included): short packets of one size are the common case.
packet = weighted(
    st.sampled_from(["ab", "cd", "ef"]),
    st.sampled_from(["ab", "cd", "ef"]),
    st.sampled_from(["", "hé€ ok", "x" * 1100]),
    st.sampled_from([b"\x00\xff", b"\x01\x02"]),
    st.sampled_from([b"", bytes(range(256)) * 5]),
)
poll = st.builds(Poll, session=sessions, b64=st.booleans(), gzip=st.booleans())
post_one = st.builds(Post, session=sessions, packets=packet.map(lambda p: (p,)), xhr2=st.booleans())
post_many = st.builds(
    Post, session=sessions, packets=st.lists(packet, min_size=2, max_size=4).map(tuple), xhr2=st.booleans()
)
# Polls and POSTs of one packet are what the read callback serves, and the rest ends sessions or
# connections: most requests are the former, most steps a request or a few. (Weights by repetition in
# sampled_from: one_of would merge equal branches.)
request: st.SearchStrategy[Request] = weighted(
    *[poll] * 6,
    *[post_one] * 6,
    *[post_many] * 2,
    st.builds(Handshake, session=st.just(0), protocol=st.sampled_from([3, 4])),
    st.builds(Poll, session=sessions, b64=st.booleans(), gzip=st.booleans(), overlap=st.just(True)),
    st.builds(BadPost, session=sessions, choice=st.integers(0, 2)),
    st.builds(UnknownSid, method=st.sampled_from(["GET", "POST"])),
    st.builds(Options, session=sessions),
    st.builds(NotPolling, session=sessions),
)
slots = st.integers(0, SLOTS - 1)
cuts = st.lists(st.integers(1, 999), min_size=1, max_size=3).map(tuple)
action: st.SearchStrategy[Send | Leave] = weighted(
    *[st.builds(Send, slot=slots, requests=request.map(lambda r: (r,)))] * 6,
    *[st.builds(Send, slot=slots, requests=st.lists(request, min_size=2, max_size=4).map(tuple))] * 2,
    *[st.builds(Send, slot=slots, requests=st.lists(request, min_size=1, max_size=2).map(tuple), cuts=cuts)] * 2,
    st.builds(Leave, slot=slots),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(protocols=st.lists(st.sampled_from([3, 4]), min_size=1, max_size=2), actions=st.lists(action, min_size=4, max_size=24))
async def test_a_script_of_polling_requests_sees_the_same_served_inline_or_not(
    protocols: list[int], actions: list[Send | Leave]
) -> None:
    served = await compare(*plan(protocols, actions))
    event(f"requests served inline: {min(served, 5)}{'+' if served >= 5 else ''}")


async def test_the_scripts_reach_the_read_callback() -> None:
    # A poll answered by a POST on another connection, a pipelined POST and poll, a POST cut apart, and a
    # client leaving with a poll held: after each connection's first request, the callback serves them.
    actions: list[Send | Leave] = [
        Send(1, (Poll(0, b64=False, gzip=False),)),
        Send(2, (Post(0, ("a",), xhr2=False),)),
        Send(1, (Poll(0, b64=False, gzip=False),)),
        Send(2, (Post(0, ("b",), xhr2=False),)),
        Send(2, (Post(0, ("c",), xhr2=False), Poll(0, b64=True, gzip=True)), cuts=(300,)),
        Send(2, (Poll(0, b64=False, gzip=False),)),
        Leave(2),
    ]
    served = await compare(*plan([4], actions))
    assert served >= 3
