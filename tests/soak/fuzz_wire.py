"""The wire fuzzer: valid Engine.IO / Socket.IO frames, mutated, over WebSocket and polling, against a real
server; after every burst a healthy client's echo must still be answered, every session, actor, task and
descriptor the burst made must be gone, and nothing may have been logged at ERROR or with a traceback.

    python -m tests.soak.fuzz_wire --duration 60 --backend trio [--seed N] [--parser json|msgpack]

Seeds are the packets of the protocol documents (handshake, heartbeats, upgrade probes, CONNECT with and
without auth, events, acks, binary events with their attachments, other namespaces); mutations truncate,
splice, repeat past ``max_payload``, swap the type digit, announce the wrong number of attachments, use
unknown namespaces and absurd ack ids, nest JSON past any decoder's depth, break UTF-8, and write WebSocket
frames no client library would (unmasked, reserved bits, bad opcodes, lying lengths). A failure prints the
seed; the same seed replays the same bursts.

``--parser msgpack`` fuzzes a server of the msgpack parser (Engine.IO v3 allowed, its trace recorded to a
temporary file with payloads, so a hostile argument reaches the trace encoder too) with the messages of
``_msgpack_cases`` in binary WebSocket frames and in polling bodies (v4's ``b`` + base64, v3's ``b4`` +
base64 and XHR2 binary payloads); its ``ask`` handler's ``emit_with_ack`` is answered with odd data, and in
each burst one client checks the protocol's answers: a CONNECT to an unknown namespace gets ``Invalid
namespace``, and a packet the protocol always refuses closes the WebSocket, or gets its POST a 400 and ends
the polling session.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from typing import Any

import anyio
import msgpack
from websockets.exceptions import InvalidState, ProtocolError
from websockets.frames import Frame, Opcode

from sioactor import AckError, Args, SendError, Socket

from . import _msgpack_cases as mp
from ._clients import (
    GONE,
    POLLING_PATH,
    POLLING_PATH_V3,
    WS_PATH,
    WsClient,
    http,
    polling_open,
    request,
    status_and_body,
)
from ._kit import ENGINE, Served, arguments, describe, run_main, serving, watching_errors

TEXT_SEEDS = (
    "2", "3", "5", "6", "2probe", "3probe", "1", "4hello",
    "40", '40{"token":"abc"}', "40/nsp,", '40/nsp,{"a":1}', "41", "41/nsp,",
    '42["echo","hi"]', '42["echo",1,2.5,{"a":[true,null]}]', '421["ack","x"]', '42/nsp,7["echo"]',
    '42["join","room"]', '43["x"]', '431["x"]', '44{"message":"x"}',
    '451-["echo",{"_placeholder":true,"num":0}]', '452-3["ack",{"_placeholder":true,"num":0},'
    '{"_placeholder":true,"num":1}]', '461-/nsp,1[{"_placeholder":true,"num":0}]',
)  # fmt: skip
INSERTS = ("[", "]", "{", "}", '"', ",", "-", "/", ":", "0", "9", "\x00", "\x1e", "\ufffd", "é", "\\")
BAD_WS_FRAMES = (
    b"\x81\x05hello",  # unmasked client frame
    b"\xf1\x80\x00\x00\x00\x00",  # reserved bits
    b"\x83\x80\x00\x00\x00\x00",  # reserved opcode
    b"\x81\xff" + b"\x7f" * 8 + b"\x00" * 4,  # a 2^63-byte length
    b"\x09\x80\x00\x00\x00\x00" * 3,  # fragmented ping
    b"\x01\x81\x00\x00\x00\x00a\x81\x81\x00\x00\x00\x00b",  # a new message inside a fragmented one
    b"\x88\x82\x00\x00\x00\x00\x03\xe7",  # close with code 999, which no one may send
    b"\x88\x81\x00\x00\x00\x00\x03",  # close with a 1-byte payload
)


def mutate(rng: random.Random, text: str) -> str:
    """One mutation of *text* (which may already be a mutant)."""
    kind = rng.randrange(11)
    at = rng.randrange(len(text) + 1)
    if kind == 0:
        return text[:at]
    if kind == 1:
        return text[:at] + rng.choice(INSERTS) + text[at:]
    if kind == 2:
        return text[:at] + text[rng.randrange(at, len(text) + 1) :]
    if kind == 3:
        return rng.choice("0123456789xb") + text[1:]
    if kind == 4:
        return text[:at] + text[at:] * rng.randrange(2, 6)
    if kind == 5:
        return text + rng.choice(TEXT_SEEDS)[at % 3 :]
    if kind == 6:
        return "42" + "9" * rng.randrange(10, 40) + '["echo"]'
    if kind == 7:
        count = rng.choice(("0", "11", "999999999999", "-1", ""))
        return f'45{count}-["echo",{{"_placeholder":true,"num":{rng.randrange(-1, 12)}}}]'
    if kind == 8:
        return "4" + rng.choice("0123") + "/" + "".join(rng.choices("ab/?,#%é\x00", k=rng.randrange(9))) + ","
    if kind == 9:
        depth = rng.choice((10, 1_500, 50_000))
        return '42["echo",' + "[" * depth + "]" * depth + "]"
    return "42" + rng.choice(('{"a":1}', "[1]", "[]", '"s"', "[null]", '["echo"', "nul", "[1e99999]"))


def mutant(rng: random.Random) -> str:
    text = rng.choice(TEXT_SEEDS)
    for _ in range(rng.randrange(1, 4)):
        text = mutate(rng, text)
    return text


def oversize(rng: random.Random) -> str:
    return '42["echo","' + "x" * (ENGINE.max_payload + rng.randrange(1, 1000)) + '"]'


@dataclass
class Tally:
    """What the fuzzer did, for the summary."""

    bursts: int = 0
    connections: int = 0
    frames: int = 0
    closed_by_server: int = 0
    refusals_checked: int = 0
    asks_answered: int = 0
    slowest_echo: float = 0.0
    failures: list[str] = field(default_factory=list)


async def fuzz_websocket(port: int, rng: random.Random, tally: Tally) -> None:
    """A WebSocket that speaks garbage: mutated text and binary frames, maybe CONNECTed first."""
    async with WsClient.opened(port) as client:
        try:
            await client.next_text()  # the open packet
            if rng.random() < 0.6:
                await client.send_text("40")
            for _ in range(rng.randrange(1, 9)):
                roll = rng.random()
                if roll < 0.08:
                    await client.send_raw(rng.choice(BAD_WS_FRAMES))
                elif roll < 0.12:
                    client.protocol.send_text(b'42["echo","\xff\xfe"]')  # invalid UTF-8
                    await client.flush()
                elif roll < 0.2:
                    client.protocol.send_binary(rng.randbytes(rng.randrange(0, 64)))
                    await client.flush()
                elif roll < 0.22:
                    await client.send_text(oversize(rng))
                else:
                    await client.send_text(mutant(rng))
                tally.frames += 1
            frames = await client.drain(0.05)
            if frames and frames[-1].opcode is Opcode.CLOSE:
                tally.closed_by_server += 1
        except (*GONE, anyio.EndOfStream, InvalidState, ProtocolError):
            tally.closed_by_server += 1
        if rng.random() < 0.5:
            await _close_quietly(client)


async def _close_quietly(client: WsClient) -> None:
    """A close frame if the connection is still open (the block's end then closes TCP either way)."""
    try:
        client.protocol.send_close()
        await client.flush()
    except (*GONE, InvalidState):
        pass


async def fuzz_polling(port: int, rng: random.Random, tally: Tally) -> None:
    """A polling session that POSTs mutated payloads (and a few requests that are wrong as requests)."""
    sid = await polling_open(port)
    target = f"{POLLING_PATH}&sid={sid}"
    if rng.random() < 0.6:
        await http(port, request("POST", target, b"40"))
    for _ in range(rng.randrange(1, 4)):
        packets = [mutant(rng) for _ in range(rng.randrange(1, 6))]
        body = "\x1e".join(packets).encode("utf-8", "surrogatepass")
        roll = rng.random()
        if roll < 0.1:
            body = body.replace(b"e", b"\xff")  # invalid UTF-8
        elif roll < 0.15:
            body = oversize(rng).encode()
        elif roll < 0.2:
            body = b"b" + rng.randbytes(12)  # a base64 binary packet that is not base64
        elif roll < 0.25:
            target = f"{POLLING_PATH}&sid={sid[::-1]}"
        elif roll < 0.3:
            target = f"/socket.io/?EIO={rng.choice('0359x')}&transport=polling&sid={sid}"
        tally.frames += len(packets)
        status, _ = status_and_body(await http(port, request("POST", target, body)))
        if status != 200:
            tally.closed_by_server += 1
            break
    if rng.random() < 0.5:
        await http(port, request("GET", target), within=0.05)  # a poll, cut before its answer


# --- the msgpack parser -------------------------------------------------------------------------------------


async def fuzz_websocket_msgpack(port: int, rng: random.Random, tally: Tally) -> None:
    """A WebSocket (Engine.IO v4, or v3 whose binary messages start with the type byte 4) that speaks
    malformed msgpack packets in binary frames, a text frame or a bad frame now and then."""
    v3 = rng.random() < 0.25
    wrap = mp.v3_ws_message if v3 else bytes
    async with WsClient.opened(port, WS_PATH.replace("EIO=4", "EIO=3") if v3 else WS_PATH) as client:
        try:
            await client.next_text()  # the open packet
            if rng.random() < 0.8 and not v3:  # v3 joins "/" by itself
                await client.send_msgpack({"type": 0, "nsp": "/"})
            for _ in range(rng.randrange(1, 9)):
                roll = rng.random()
                if roll < 0.05:
                    await client.send_raw(rng.choice(BAD_WS_FRAMES))
                elif roll < 0.1:
                    await client.send_text(rng.choice(("2", "3", "6", "2probe", "4hello", "40", mutant(rng))))
                elif roll < 0.12:
                    client.protocol.send_binary(wrap(mp.oversize(rng, ENGINE.max_payload)))
                elif roll < 0.15 and v3:
                    client.protocol.send_binary(rng.choice((b"", b"\x00", b"\x05", b"\x44")) + mp.mutant(rng))
                elif roll < 0.5:
                    client.protocol.send_binary(wrap(mp.odd_event(rng)))  # reaches the handlers
                else:
                    client.protocol.send_binary(wrap(mp.mutant(rng)))
                await client.flush()
                tally.frames += 1
            frames = await client.drain(0.05)
            if not v3 and (asked := [ask for frame in frames if (ask := _ask_id(frame)) is not None]):
                for ack_id in asked:  # the server's emit_with_ack ("ask"), answered with odd data
                    client.protocol.send_binary(mp.odd_answer(rng, ack_id))
                    tally.frames += 1
                    tally.asks_answered += 1
                await client.flush()
                frames = await client.drain(0.05)
            if frames and frames[-1].opcode is Opcode.CLOSE:
                tally.closed_by_server += 1
        except (*GONE, anyio.EndOfStream, InvalidState, ProtocolError):
            tally.closed_by_server += 1
        if rng.random() < 0.5:
            await _close_quietly(client)


def _ask_id(frame: Frame) -> int | None:
    """The ack id of the server's ``ask`` event in *frame*, if it is one."""
    if frame.opcode is not Opcode.BINARY:
        return None
    packet = msgpack.unpackb(frame.data, strict_map_key=False)
    asks = isinstance(packet, dict) and packet.get("type") == 2 and (packet.get("data") or [None])[0] == "ask"
    return packet.get("id") if asks else None


async def ask(socket: Socket, args: Args) -> None:
    """Asks the client for an acknowledgement of *args*, and emits the answer (what the fuzzer sends)."""
    try:
        answer = await socket.emit_with_ack("ask", list(args), timeout=0.5)
    except (AckError, SendError):
        return
    socket.emit("answer", answer)


def _polling_body_msgpack(rng: random.Random, v3: bool) -> bytes:
    messages = [mp.mutant(rng) for _ in range(rng.randrange(1, 6))]
    roll = rng.random()
    if roll < 0.05:
        messages = [mp.oversize(rng, ENGINE.max_payload)]
    if v3 and roll < 0.5:
        return mp.v3_binary_payload(rng, messages)
    texts = ["b" + base64.b64encode(message).decode() for message in messages]
    if roll < 0.15:
        texts[rng.randrange(len(texts))] = rng.choice(("b", "b!!", "b" + "A" * 5, "4hello", "40", "2", "6"))
    if v3:
        return "".join(f"{len(text) + 1}:{text[0]}4{text[1:]}" for text in texts).encode()
    return "\x1e".join(texts).encode()


async def fuzz_polling_msgpack(port: int, rng: random.Random, tally: Tally) -> None:
    """A polling session (v4 with ``b``+base64 messages; v3 with ``b4``+base64 or XHR2 binary payloads)
    that POSTs malformed msgpack packets."""
    v3 = rng.random() < 0.3
    path = POLLING_PATH_V3 if v3 else POLLING_PATH
    sid = await polling_open(port, path)
    target = f"{path}&sid={sid}"
    if rng.random() < 0.6 and not v3:
        await http(port, request("POST", target, b"b" + base64.b64encode(mp.packb({"type": 0, "nsp": "/"}))))
    for _ in range(rng.randrange(1, 4)):
        body = _polling_body_msgpack(rng, v3)
        tally.frames += 1
        status, _ = status_and_body(await http(port, request("POST", target, body)))
        if status != 200:
            tally.closed_by_server += 1
            break
    roll = rng.random()
    if roll < 0.4:
        await http(port, request("GET", target), within=0.05)  # a poll, cut before its answer
    elif roll < 0.7:  # a poll read to its end: the answers (XHR2 binary for v3) are encoded and sent
        await http(port, request("GET", target), within=1.0)


async def refusal_checked(port: int, rng: random.Random, tally: Tally) -> None:
    """A client connected to ``/`` sends a packet the protocol always refuses: over WebSocket the server
    must close the connection, over polling answer the POST 400 and end the session; a CONNECT to an
    unknown namespace must be answered ``Invalid namespace``."""
    data = mp.always_refused(rng)
    if rng.random() < 0.5:
        async with WsClient.connected_msgpack(port) as client:
            await client.send_msgpack({"type": 0, "nsp": "/unknown"})
            answer = await client.next_msgpack()
            if answer != {"type": 4, "nsp": "/unknown", "data": {"message": "Invalid namespace"}}:
                tally.failures.append(f"CONNECT to an unknown namespace was answered {answer!r}")
            client.protocol.send_binary(data)
            await client.flush()
            frames = await client.drain(2.0)
            if not frames or frames[-1].opcode is not Opcode.CLOSE:
                tally.failures.append(f"WebSocket: {data[:40]!r} was not answered by a close: {frames}")
    else:
        sid = await polling_open(port)
        target = f"{POLLING_PATH}&sid={sid}"
        connect = b"b" + base64.b64encode(mp.packb({"type": 0, "nsp": "/"}))
        answers = [status_and_body(await http(port, request("POST", target, connect)))[0]]
        answers.append(status_and_body(await http(port, request("GET", target)))[0])
        answers.append(
            status_and_body(await http(port, request("POST", target, b"b" + base64.b64encode(data))))[0]
        )
        answers.append(status_and_body(await http(port, request("GET", target)))[0])
        if answers != [200, 200, 400, 400]:
            tally.failures.append(f"polling: {data[:40]!r}: POST, GET, POST, GET answered {answers}")
    tally.refusals_checked += 1


Fuzzer = Callable[[int, random.Random, Tally], Coroutine[Any, Any, None]]
CLIENTS: dict[str, tuple[Fuzzer, ...]] = {
    "json": (fuzz_websocket, fuzz_polling),
    "msgpack": (fuzz_websocket_msgpack, fuzz_polling_msgpack),
}


async def burst(
    served: Served, rng: random.Random, tally: Tally, connections: int, parser: str = "json"
) -> None:
    """*connections* fuzzing clients at once, half WebSocket and half polling (and, for msgpack, one client
    whose refused packet must get the protocol's answer)."""
    clients = CLIENTS[parser]
    async with anyio.create_task_group() as tg:
        for index in range(connections):
            tg.start_soon(clients[index % 2], served.port, random.Random(rng.random()), tally)
        if parser == "msgpack":
            tg.start_soon(refusal_checked, served.port, random.Random(rng.random()), tally)
    tally.connections += connections
    tally.bursts += 1


async def check_healthy(served: Served, tally: Tally) -> None:
    """The server answers a healthy client and holds nothing the burst made."""
    try:
        tally.slowest_echo = max(tally.slowest_echo, await served.echo_seconds())
    except Exception as exc:  # reported as the fuzzer's finding
        tally.failures.append(f"burst {tally.bursts}: a healthy client's echo failed: {describe(exc)}")
    settled = await served.settled(within=3.0)
    if excess := settled.excess_over(served.baseline):
        tally.failures.append(f"burst {tally.bursts}: still held after 3 s: {excess}")


async def fuzz(duration: float, seed: int, *, connections: int = 8, parser: str = "json") -> Tally:
    """Fuzz bursts for *duration* seconds (at least one) against a server of *parser* (``json``, or
    ``msgpack``, whose server also takes Engine.IO v3, asks for acks and records its trace with payloads,
    so that what a msgpack client may send reaches the trace encoder too); the tally, failures included."""
    rng = random.Random(seed)
    tally = Tally()
    with watching_errors() as errors, tempfile.TemporaryDirectory() as tmp:
        options: dict[str, Any] = {}
        if parser == "msgpack":
            options = {
                "engine": replace(ENGINE, allow_eio3=True),
                "setup": lambda io: io.on("ask", ask),
                "trace_file": os.path.join(tmp, "trace.jsonl"),
                "trace_payloads": True,
            }
        async with serving(parser=parser, **options) as served:
            stop_at = time.monotonic() + duration
            while not tally.bursts or time.monotonic() < stop_at:
                await burst(served, rng, tally, connections, parser)
                await check_healthy(served, tally)
                if tally.failures:
                    break
    tally.failures += [f"logged: {line}" for line in errors.lines()]
    return tally


async def main(options: argparse.Namespace) -> list[str]:
    tally = await fuzz(options.duration, options.seed, connections=options.connections, parser=options.parser)
    print(
        f"seed {options.seed} on {options.backend} ({options.parser}): {tally.bursts} bursts, "
        f"{tally.connections} connections, {tally.frames} fuzzed packets or bodies, "
        f"{tally.closed_by_server} closed or refused by the server, "
        f"{tally.refusals_checked} refusals checked, {tally.asks_answered} server acks answered, "
        f"slowest healthy echo {tally.slowest_echo * 1000:.1f} ms"
    )
    return tally.failures


if __name__ == "__main__":
    parser = arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--parser", choices=tuple(CLIENTS), default="json", help="the server's (%(default)s)")
    parser.add_argument("--connections", type=int, default=8, help="fuzzing clients per burst (%(default)s)")
    run_main(main, parser)
