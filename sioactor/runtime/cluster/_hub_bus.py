"""`HubBus`: the ``ClusterBus`` of a worker of a multi-worker embedded server (``ServerConfig.workers``), over
its supervisor's pub/sub hub (``runtime/_server/_hub.py``) instead of Redis.

The cluster adapter runs on it unchanged (``RedisAdapter``'s logic is written against ``ClusterBus``), so the
workers of one machine are a cluster as Redis nodes are: broadcasts, rooms, ``fetch_sockets``,
``server_side_emit`` and acks across workers. As ``RedisLink`` does, it holds one connection whatever its
number of namespaces (the hub counts members by connection), sends everything through one bounded, ordered
queue drained by one task, and hands each message to its handler in arrival order, waiting for it.

If the connection ends (the hub drops a worker that stopped reading), cluster operations fail with
``RedisUnavailable`` while local work goes on, and the bus reconnects and subscribes again; if the hub is
gone for good, so is the parent, and this worker shuts down (``_workers.watch_parent``).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping

import anyio
from anyio.abc import SocketStream, TaskGroup, TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from sioactor._errors import DecodeError, InternalChannelFull, RedisUnavailable
from sioactor.protocol.cluster import DEFAULT_PREFIX
from sioactor.protocol.cluster._hub_frames import FrameKind, FrameReader, encode_frame
from sioactor.runtime._worker_context import offer_cluster_adapter
from sioactor.runtime.cluster._adapter import DEFAULT_REQUESTS_TIMEOUT, RedisAdapterFactory
from sioactor.runtime.cluster._link import OUTBOX_SIZE, ChannelHandler, take_batch

__all__ = ("HubBus", "hub_adapter_factory")

logger = logging.getLogger("sioactor.cluster")

_TIMEOUT = 5.0
_FIRST_DELAY = 0.1
_MAX_DELAY = 2.0
_READ_SIZE = 262_144
_BATCH = 256


class _Count:
    """A NUMSUB awaiting its answer (``count`` stays ``None`` if the hub goes away first)."""

    __slots__ = ("count", "done")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.count: int | None = None


class HubBus:
    """One worker's connection to the hub at *path* (a Unix socket)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.name = f"cluster:unix:{path}"
        self._channels: dict[str, ChannelHandler] = {}
        self._patterns: dict[str, ChannelHandler] = {}
        self._users = 0
        self._lock = anyio.Lock()
        self._scope: anyio.CancelScope | None = None
        self._outbox: MemoryObjectSendStream[bytes] | None = None
        self._counts: dict[int, _Count] = {}
        self._next_id = 0

    @property
    def connected(self) -> bool:
        """True while the hub's connection is up."""
        return self._outbox is not None

    async def start(self, task_group: TaskGroup) -> None:
        """Connect (the first user), or count one more user.

        Raises:
            RedisUnavailable: the hub cannot be reached (the supervisor is gone).
        """
        async with self._lock:
            self._users += 1
            if self._scope is None:
                try:
                    stream = await anyio.connect_unix(self.path)
                except OSError as exc:
                    self._users -= 1
                    raise RedisUnavailable(f"unix:{self.path}", f"the workers' hub: {exc}") from None
                await task_group.start(self._run, stream)

    async def close(self) -> None:
        """One user fewer; the last one disconnects."""
        async with self._lock:
            self._users -= 1
            if self._users <= 0 and self._scope is not None:
                self._scope.cancel()
                self._scope = None
                self._outbox = None  # disconnected from now on, though the connection ends at the next turn

    def _down(self) -> RedisUnavailable:
        return RedisUnavailable(f"unix:{self.path}", "the workers' hub is gone")

    def _send_soon(self, frame: bytes) -> None:
        outbox = self._outbox
        if outbox is None:
            raise self._down()
        try:
            outbox.send_nowait(frame)
        except anyio.WouldBlock:
            raise InternalChannelFull(self.name, frame) from None

    def publish_soon(self, channel: str, payload: bytes) -> None:
        """See ``ClusterBus.publish_soon``."""
        self._send_soon(encode_frame(FrameKind.PUBLISH, channel.encode(), payload))

    async def count_subscribers(self, channel: str) -> int:
        """See ``ClusterBus.count_subscribers``: the workers whose connection subscribes to *channel*."""
        self._next_id += 1
        request = self._next_id
        answer = self._counts[request] = _Count()
        try:
            self._send_soon(encode_frame(FrameKind.NUMSUB, str(request).encode(), channel.encode()))
            with anyio.fail_after(_TIMEOUT):
                await answer.done.wait()
        except TimeoutError:
            raise RedisUnavailable(f"unix:{self.path}", f"no answer within {_TIMEOUT} s") from None
        finally:
            del self._counts[request]
        if answer.count is None:
            raise self._down()
        return answer.count

    async def subscribe(
        self, channels: Mapping[str, ChannelHandler], patterns: Mapping[str, ChannelHandler]
    ) -> None:
        """See ``ClusterBus.subscribe``."""
        self._channels.update(channels)
        self._patterns.update(patterns)
        for channel in channels:
            self._send_soon(encode_frame(FrameKind.SUBSCRIBE, channel.encode()))
        for pattern in patterns:
            self._send_soon(encode_frame(FrameKind.PSUBSCRIBE, pattern.encode()))

    def subscribe_soon(self, channels: Mapping[str, ChannelHandler]) -> None:
        """See ``ClusterBus.subscribe_soon``."""
        self._channels.update(channels)
        for channel in channels:
            self._send_soon(encode_frame(FrameKind.SUBSCRIBE, channel.encode()))

    def unsubscribe_soon(self, channels: Collection[str]) -> None:
        """See ``ClusterBus.unsubscribe_soon``."""
        for channel in channels:
            self._channels.pop(channel, None)
        if self.connected:
            for channel in channels:
                self._send_soon(encode_frame(FrameKind.UNSUBSCRIBE, channel.encode()))

    async def unsubscribe(self, channels: list[str], patterns: list[str]) -> None:
        """See ``ClusterBus.unsubscribe``."""
        for channel in channels:
            self._channels.pop(channel, None)
        for pattern in patterns:
            self._patterns.pop(pattern, None)
        if not self.connected:
            return
        for channel in channels:
            self._send_soon(encode_frame(FrameKind.UNSUBSCRIBE, channel.encode()))
        for pattern in patterns:
            self._send_soon(encode_frame(FrameKind.PUNSUBSCRIBE, pattern.encode()))

    async def _run(
        self, stream: SocketStream, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        # One connection after another until closed: the hub drops a worker that stopped reading, and the
        # worker comes back with its subscriptions, as RedisLink reconnects to a lost Redis.
        scope = self._scope = anyio.CancelScope()
        delay = _FIRST_DELAY
        with scope:
            while True:
                await self._serve(stream, task_status)
                task_status = anyio.TASK_STATUS_IGNORED
                logger.warning("%s: the workers' hub closed the connection; reconnecting", self.name)
                while True:
                    await anyio.sleep(delay)
                    delay = min(delay * 2, _MAX_DELAY)
                    try:
                        stream = await anyio.connect_unix(self.path)
                    except OSError:
                        continue
                    break

    async def _serve(self, stream: SocketStream, task_status: TaskStatus[None]) -> None:
        send, receive = anyio.create_memory_object_stream[bytes](OUTBOX_SIZE)
        with send, receive:
            async with stream, anyio.create_task_group() as tg:
                for channel in self._channels:  # none yet on the first connection
                    send.send_nowait(encode_frame(FrameKind.SUBSCRIBE, channel.encode()))
                for pattern in self._patterns:
                    send.send_nowait(encode_frame(FrameKind.PSUBSCRIBE, pattern.encode()))
                self._outbox = send
                tg.start_soon(self._writer, stream, receive)
                task_status.started()
                try:
                    await self._reader(stream)
                finally:
                    self._outbox = None
                    for answer in self._counts.values():
                        answer.done.set()  # unanswered: count stays None
                    tg.cancel_scope.cancel()

    async def _writer(self, stream: SocketStream, outbox: MemoryObjectReceiveStream[bytes]) -> None:
        async for first in outbox:
            batch = take_batch(first, outbox, _BATCH)
            try:
                await stream.send(b"".join(batch))
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                return

    async def _reader(self, stream: SocketStream) -> None:
        reader = FrameReader()
        while True:
            try:
                data = await stream.receive(_READ_SIZE)
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                return
            try:
                frames = reader.feed(data)
            except DecodeError as exc:
                logger.error("%s: malformed frame from the hub: %s", self.name, exc.reason)  # noqa: TRY400
                return
            for kind, fields in frames:
                await self._dispatch(kind, fields)

    async def _dispatch(self, kind: FrameKind, fields: list[bytes]) -> None:
        if kind == FrameKind.NUMSUB_REPLY and len(fields) == 2:
            answer = self._counts.get(int(fields[0]))
            if answer is not None:
                answer.count = int(fields[1])
                answer.done.set()
            return
        if kind != FrameKind.MESSAGE or len(fields) != 3:
            return
        pattern, channel = fields[0].decode(), fields[1].decode("utf-8", "replace")
        handler = self._patterns.get(pattern) if pattern else self._channels.get(channel)
        if handler is None:
            return
        try:
            await handler(channel, fields[2])
        except DecodeError as exc:
            logger.warning("%s: dropped a malformed message on %r: %s", self.name, channel, exc.reason)
        except Exception:
            logger.exception("%s: a message on %r could not be handled", self.name, channel)


def hub_adapter_factory(path: str) -> RedisAdapterFactory:
    """The cluster adapter factory of a worker whose supervisor's hub listens at *path*."""
    return RedisAdapterFactory(HubBus(path), key=DEFAULT_PREFIX, requests_timeout=DEFAULT_REQUESTS_TIMEOUT)


offer_cluster_adapter(hub_adapter_factory)
