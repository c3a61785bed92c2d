"""The wire fuzzer: valid Engine.IO / Socket.IO frames, mutated, over WebSocket and polling, against a real
server; after every burst a healthy client's echo must still be answered, every session, actor, task and
descriptor the burst made must be gone, and nothing may have been logged at ERROR or with a traceback.

    python -m tests.soak.fuzz_wire --duration 60 --backend trio [--seed N]

Seeds are the packets of the protocol documents (handshake, heartbeats, upgrade probes, CONNECT with and
without auth, events, acks, binary events with their attachments, other namespaces); mutations truncate,
splice, repeat past ``max_payload``, swap the type digit, announce the wrong number of attachments, use
unknown namespaces and absurd ack ids, nest JSON past any decoder's depth, break UTF-8, and write WebSocket
frames no client library would (unmasked, reserved bits, bad opcodes, lying lengths). A failure prints the
seed; the same seed replays the same bursts.
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import dataclass, field

import anyio
from websockets.exceptions import InvalidState, ProtocolError
from websockets.frames import Opcode

from ._clients import GONE, POLLING_PATH, WsClient, http, polling_open, request, status_and_body
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


async def burst(served: Served, rng: random.Random, tally: Tally, connections: int) -> None:
    """*connections* fuzzing clients at once, half WebSocket and half polling."""
    async with anyio.create_task_group() as tg:
        for index in range(connections):
            fuzz = fuzz_websocket if index % 2 == 0 else fuzz_polling
            tg.start_soon(fuzz, served.port, random.Random(rng.random()), tally)
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


async def fuzz(duration: float, seed: int, *, connections: int = 8) -> Tally:
    """Fuzz bursts for *duration* seconds (at least one); the tally, failures included."""
    rng = random.Random(seed)
    tally = Tally()
    with watching_errors() as errors:
        async with serving() as served:
            stop_at = time.monotonic() + duration
            while not tally.bursts or time.monotonic() < stop_at:
                await burst(served, rng, tally, connections)
                await check_healthy(served, tally)
                if tally.failures:
                    break
    tally.failures += [f"logged: {line}" for line in errors.lines()]
    return tally


async def main(options: argparse.Namespace) -> list[str]:
    tally = await fuzz(options.duration, options.seed, connections=options.connections)
    print(
        f"seed {options.seed} on {options.backend}: {tally.bursts} bursts, {tally.connections} connections, "
        f"{tally.frames} fuzzed packets, {tally.closed_by_server} closed or refused by the server, "
        f"slowest healthy echo {tally.slowest_echo * 1000:.1f} ms"
    )
    return tally.failures


if __name__ == "__main__":
    parser = arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=8, help="fuzzing clients per burst (%(default)s)")
    run_main(main, parser)
