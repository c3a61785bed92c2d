"""The parts of the multi-worker server on their own: the hub's frames, the hub with real workers' buses on
real Unix sockets (both backends), session-id owners and the routing of a request head."""

from __future__ import annotations

import selectors
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from sioactor import DecodeError
from sioactor.protocol.cluster._hub_frames import FrameKind, FrameReader, encode_frame
from sioactor.runtime import _random_ids
from sioactor.runtime._server._hub import Hub, _glob
from sioactor.runtime._server._routing import owner_in_head
from sioactor.runtime._worker_context import TAGS, owner_of_sid
from sioactor.runtime.cluster import HubBus

FRAMES = [
    (FrameKind.PUBLISH, [b"socket.io#/#", b"\x00\xff" * 10]),
    (FrameKind.SUBSCRIBE, [b"socket.io-request#/#"]),
    (FrameKind.NUMSUB_REPLY, [b"7", b"3"]),
    (FrameKind.MESSAGE, [b"", b"c", b""]),
]


def test_frames_round_trip_whole_and_byte_by_byte() -> None:
    wire = b"".join(encode_frame(kind, *fields) for kind, fields in FRAMES)
    assert FrameReader().feed(wire) == FRAMES
    reader = FrameReader()
    got = []
    for byte in wire:
        got.extend(reader.feed(bytes([byte])))
    assert got == FRAMES


@pytest.mark.parametrize(
    "garbage",
    [b"\x00\x00\x00\x00", b"\x00\x00\x00\x01\x63", b"\x00\x00\x00\x03\x05\x00\x00", b"\xff\xff\xff\xff"],
    ids=["empty", "unknown-kind", "truncated-field", "oversize"],
)
def test_malformed_frames_raise_decode_error(garbage: bytes) -> None:
    with pytest.raises(DecodeError):
        FrameReader().feed(garbage)


@pytest.mark.parametrize(
    ("pattern", "channel", "matches"),
    [
        ("socket.io#/#*", "socket.io#/#room#", True),
        ("socket.io#/chat#*", "socket.io#/#", False),
        ("a\\*b*", "a*bc", True),
        ("a\\*b*", "axbc", False),
        ("a?c", "abc", True),
    ],
)
def test_hub_patterns_are_redis_globs(pattern: str, channel: str, matches: bool) -> None:
    assert bool(_glob(pattern).match(channel)) is matches


def test_tagged_ids_name_their_owner() -> None:
    try:
        for index in (0, 1, 63):
            _random_ids.tag_ids(TAGS[index])
            sid = _random_ids.random_id()
            assert len(sid) == 20
            assert owner_of_sid(sid) == index
    finally:
        _random_ids.tag_ids("")
    assert owner_of_sid("") is None


def test_the_owner_is_read_from_the_request_line_only() -> None:
    sid = "B" + "x" * 19
    head = f"GET /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: h\r\n\r\n".encode()
    assert owner_in_head(head) == 1
    assert owner_in_head(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n\r\n") is None
    assert owner_in_head(b"GET /x?sid=short HTTP/1.1\r\n\r\n") is None
    assert owner_in_head(f"GET /x HTTP/1.1\r\nCookie: sid={sid}\r\n\r\n".encode()) is None


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[str]:
    """A hub on a real Unix socket (1 MiB queued per worker at most), its selector loop in a thread (as the
    supervisor runs it)."""
    path = str(tmp_path / "hub.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()
    selector = selectors.DefaultSelector()
    wake_read, wake_write = socket.socketpair()
    selector.register(wake_read, selectors.EVENT_READ, None)
    the_hub = Hub(listener, selector, lambda index: None, out_limit=1 << 20)
    done = threading.Event()

    def loop() -> None:
        while not done.is_set():
            for key, events in selector.select(1.0):
                if key.data is the_hub:
                    the_hub.ready(key.fileobj, events)  # type: ignore[arg-type]

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        yield path
    finally:
        done.set()
        wake_write.send(b"x")
        thread.join()
        the_hub.close()
        selector.close()
        wake_read.close()
        wake_write.close()


@pytest.mark.anyio
async def test_hub_fans_out_publishes_and_counts_subscribers(hub: str) -> None:
    received: list[tuple[str, str, bytes]] = []
    arrived = anyio.Event()

    def handler(name: str) -> object:
        async def handle(channel: str, payload: bytes) -> None:
            received.append((name, channel, payload))
            if len(received) == 3:
                arrived.set()

        return handle

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            first, second = HubBus(hub), HubBus(hub)
            await first.start(tg)
            await second.start(tg)
            await first.subscribe({"req#/#": handler("first")}, {})  # type: ignore[dict-item]
            await second.subscribe({"req#/#": handler("second")}, {"bc#/#*": handler("second*")})  # type: ignore[dict-item]
            while await first.count_subscribers("req#/#") < 2:  # noqa: ASYNC110 (the hub is another thread)
                await anyio.sleep(0.01)
            first.publish_soon("req#/#", b"ask")
            first.publish_soon("bc#/#room#", b"\x00bin")
            await arrived.wait()
            assert sorted(received) == [
                ("first", "req#/#", b"ask"),
                ("second", "req#/#", b"ask"),
                ("second*", "bc#/#room#", b"\x00bin"),
            ]
            await second.unsubscribe(["req#/#"], [])
            while await first.count_subscribers("req#/#") != 1:  # noqa: ASYNC110 (idem)
                await anyio.sleep(0.01)
            await first.close()
            await second.close()
            assert not first.connected


@pytest.mark.anyio
async def test_a_worker_that_stops_reading_is_dropped_and_the_others_still_served(hub: str) -> None:
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(hub)
    stuck.sendall(encode_frame(FrameKind.SUBSCRIBE, b"c"))
    received = 0

    async def count(channel: str, payload: bytes) -> None:
        nonlocal received
        received += 1

    with stuck, anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            bus = HubBus(hub)
            await bus.start(tg)
            await bus.subscribe({"c": count}, {})
            while await bus.count_subscribers("c") < 2:  # noqa: ASYNC110 (the hub is another thread)
                await anyio.sleep(0.01)
            # 2.5 MiB for a reader that takes nothing: past the hub's 1 MiB bound. One at a time, each
            # received before the next, so the healthy reader never has more than one queued at the hub.
            for sent in range(1, 41):
                bus.publish_soon("c", b"x" * 65_536)
                while received < sent:  # noqa: ASYNC110 (idem)
                    await anyio.sleep(0.005)
            while await bus.count_subscribers("c") != 1:  # noqa: ASYNC110 (idem)
                await anyio.sleep(0.01)
            await bus.close()


@pytest.mark.anyio
async def test_a_bus_the_hub_dropped_reconnects_and_subscribes_again(hub: str) -> None:
    async def ignore(channel: str, payload: bytes) -> None:
        pass

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            watcher, dropped = HubBus(hub), HubBus(hub)
            await watcher.start(tg)
            await dropped.start(tg)
            await dropped.subscribe({"c": ignore}, {})
            while await watcher.count_subscribers("c") != 1:  # noqa: ASYNC110 (the hub is another thread)
                await anyio.sleep(0.01)
            dropped._send_soon(b"\x00\x00\x00\x00")  # a frame the hub refuses: it drops the connection
            while dropped.connected:  # noqa: ASYNC110 (idem)
                await anyio.sleep(0.01)
            while await watcher.count_subscribers("c") != 1 or not dropped.connected:  # noqa: ASYNC110
                await anyio.sleep(0.01)
            await watcher.close()
            await dropped.close()


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["serve", "no_colon"], "expected MODULE:ATTR"),
        (["serve", "no_such_module_here:io"], "No module named"),
        (["serve", "sioactor:__version__x"], "has no attribute"),
        (["serve", "sioactor:__all__"], "neither a SocketIo nor an ASGI app"),
        (["serve", "m:io", "--workers", "0"], "--workers takes 1 to 64"),
    ],
)
def test_sioactor_serve_refuses_what_it_cannot_serve(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from sioactor.__main__ import main

    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert says in capsys.readouterr().err
