"""Polling requests served from the embedded server's read callback (``ServerConfig.inline_requests``) look
to a client exactly as the plain path's: Hypothesis writes a script of client actions on raw keep-alive
connections (long-polls, POSTs of text and binary packets, v3 and v4 sessions, bodies cut anywhere,
requests pipelined, bad payloads, unknown sessions, OPTIONS and non-polling requests, clients leaving with a
poll held), and the script played against a server with the trick off and one with it on must give the same
responses on each connection, the same messages to the listener and the same close reasons.

A model of the sessions (``polling_script.py``) plans each step and how many responses it answers on which
connection, so the client reads them all before the next step."""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from anyio.abc import SocketStream
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from polling_script import (
    MAX_SESSIONS,
    SLOTS,
    Action,
    Again,
    BadPost,
    Handshake,
    Leave,
    NotPolling,
    Options,
    Poll,
    Post,
    Request,
    Send,
    Step,
    UnknownSid,
    pieces,
    plan,
    render,
)

from sioactor.actors.engineio._api import EngineConnection
from sioactor.protocol._reasons import EngineCloseReason
from sioactor.runtime._server import ServerConfig, serve_asgi
from sioactor.runtime.engineio import CorsConfig, EngineConfig, EngineServer, _polling, engine_asgi_app

pytestmark = pytest.mark.anyio

# No heartbeat within a script: a ping would answer a held poll at a time of its own.
ENGINE = EngineConfig(ping_interval=60, ping_timeout=30, allow_eio3=True, cors=CorsConfig(origins="*"))


# The client -------------------------------------------------------------------------------------------

Response = tuple[bytes, tuple[tuple[bytes, bytes], ...], bytes]


class RecordingListener:
    """Echoes every message, and records it and every close by session id."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str | bytes]] = []
        self.closes: list[tuple[str, EngineCloseReason]] = []
        self.closed = anyio.Event()  # set at the next close

    def on_open(self, conn: EngineConnection) -> None:
        pass

    def on_message(self, conn: EngineConnection, data: str | bytes) -> None:
        self.messages.append((conn.sid, data))
        conn.send(data)

    def on_close(self, conn: EngineConnection, reason: EngineCloseReason) -> None:
        self.closes.append((conn.sid, reason))
        self.closed.set()
        self.closed = anyio.Event()


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
                    await listener.closed.wait()
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
action: st.SearchStrategy[Action] = weighted(
    *[st.builds(Send, slot=slots, requests=request.map(lambda r: (r,)))] * 6,
    *[st.builds(Send, slot=slots, requests=st.lists(request, min_size=2, max_size=4).map(tuple))] * 2,
    *[st.builds(Send, slot=slots, requests=st.lists(request, min_size=1, max_size=2).map(tuple), cuts=cuts)]
    * 2,
    *[st.builds(Again, times=st.integers(1, 4))] * 4,
    st.builds(Leave, slot=slots),
)


@settings(
    max_examples=40,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    protocols=st.lists(st.sampled_from([3, 4]), min_size=1, max_size=2),
    actions=st.lists(action, min_size=4, max_size=24),
)
async def test_a_script_of_polling_requests_sees_the_same_served_inline_or_not(
    protocols: list[int], actions: list[Action]
) -> None:
    served = await compare(*plan(protocols, actions))
    event(f"requests served inline: {min(served, 5)}{'+' if served >= 5 else ''}")


async def test_the_scripts_reach_the_read_callback() -> None:
    # A poll answered by a POST on another connection, a pipelined POST and poll, a POST cut apart, and a
    # client leaving with a poll held: after each connection's first request, the callback serves them.
    actions: list[Action] = [
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
