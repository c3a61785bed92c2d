"""One process's Redis link, shared by every namespace's adapter, kept up by a reconnect loop.

Node counts members with ``PUBSUB NUMSUB P-request#N#`` (sharded: ``SHARDNUMSUB P#N#``), which counts
*connections*: a process holds one subscriber connection, whatever its namespaces (CLUSTER-NOTES §0.1).

A sharded link (``sharded=True``) speaks Redis 7's SPUBLISH, SSUBSCRIBE, SHARDNUMSUB to one Redis (raw
commands on its subscriber: coredis has SSUBSCRIBE on its cluster client only; no slot routing).

The adapters see the link through ``ClusterBus`` only, so their logic also runs on an in-memory bus (tests)
and on the workers' hub (``_hub_bus.py``). The subscriber hands each message to its channel's handler in
arrival order and waits for it (a join published before a broadcast must be applied before it), so handlers
never wait on Redis (they publish through ``publish_soon``, a bounded queue drained in order by one task) and
run whatever may take long (a user's server-side handler) in tasks of their own.

The connection counts as lost at the first sign: the subscriber's end of stream or any failed command (a
publish, a count, the health check's PING); an operation that raced the loss fails with
``RedisUnavailable`` too. Local work goes on: cluster operations fail at once while the loop reconnects
(0.1 s doubling to 5 s) and subscribes again; each loss and return is logged and traced. Pub/sub delivers
at most once: what was published while a node was away is lost for it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import anyio
from anyio.abc import TaskGroup, TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from sioactor._errors import DecodeError, InternalChannelFull, RedisUnavailable
from sioactor.actors._trace import TraceEvent, TraceKind, Tracer
from sioactor.runtime.cluster._redis import open_redis, public_url, redis_errors, send_soon, shard_subscribe

if TYPE_CHECKING:
    import coredis

__all__ = ("ChannelHandler", "ClusterBus", "RedisLink", "channel_kind", "take_batch")

T = TypeVar("T")

logger = logging.getLogger("sioactor.cluster")

ChannelHandler = Callable[[str, bytes], Awaitable[None]]
"""Called with ``(channel, payload)`` for each message of a subscribed channel (or pattern)."""

_FIRST_DELAY = 0.1
_MAX_DELAY = 5.0
_HEALTH_INTERVAL = 1.0
_BATCH = 256  # messages per pipeline at most
_REPORT_INTERVAL = 2.0
OUTBOX_SIZE = 10_000
_CHANNEL_KINDS = frozenset({"request", "response", "forward"})


class ClusterBus(Protocol):
    """What an adapter needs of its cluster's message bus."""

    @property
    def connected(self) -> bool:
        """True while publishing and subscribing work."""

    async def start(self, task_group: TaskGroup) -> None:
        """Connect, for one more user (an adapter); background work runs in *task_group*.

        Raises:
            RedisUnavailable: the bus cannot be reached now.
        """

    async def close(self) -> None:
        """One user fewer; the last one disconnects."""

    def publish_soon(self, channel: str, payload: bytes) -> None:
        """Queue *payload* for *channel*, in order with everything queued before; never waits.

        Raises:
            RedisUnavailable: the bus is not connected.
            InternalChannelFull: the queue is full.
        """

    async def count_subscribers(self, channel: str) -> int:
        """How many connections subscribe to *channel* (``PUBSUB NUMSUB``)."""

    async def subscribe(
        self, channels: Mapping[str, ChannelHandler], patterns: Mapping[str, ChannelHandler]
    ) -> None:
        """Route *channels* and *patterns* to their handlers, now and after every reconnection."""

    async def unsubscribe(self, channels: list[str], patterns: list[str]) -> None:
        """Stop routing *channels* and *patterns*."""

    def subscribe_soon(self, channels: Mapping[str, ChannelHandler]) -> None:
        """Route *channels* from now on, without waiting for Redis to confirm (a room's channel, subscribed
        while a join is handled); never raises: a subscription a lost connection missed is renewed."""

    def unsubscribe_soon(self, channels: Collection[str]) -> None:
        """Stop routing *channels*, without waiting; never raises."""


class RedisLink:
    """The ``ClusterBus`` of one Redis URL: started by the first adapter that needs it, closed by the last.

    Args:
        url: the Redis URL.
        timeout: seconds to connect, and for each command.
        tracer: receives ``CLUSTER_*`` events.
        sharded: speak sharded pub/sub (SPUBLISH, SSUBSCRIBE, SHARDNUMSUB; Redis >= 7) instead of the
            classic commands; no patterns then.
    """

    def __init__(
        self, url: str, *, timeout: float = 5.0, tracer: Tracer | None = None, sharded: bool = False
    ) -> None:
        self.url = url
        self.sharded = sharded
        self.name = f"cluster:{public_url(url)}"
        self.tracer = tracer
        self._timeout = timeout
        self._channels: dict[str, ChannelHandler] = {}
        self._patterns: dict[str, ChannelHandler] = {}
        self._client: coredis.Redis[bytes] | None = None
        self._pubsub: Any = None
        self._users = 0
        self._scope: anyio.CancelScope | None = None
        self._lock = anyio.Lock()
        self._outbox: MemoryObjectSendStream[tuple[str, bytes]] | None = None
        self._serving: anyio.CancelScope | None = None  # the current connection's work
        self._loss: str | None = None  # why a command gave the current connection up
        self.messages_in = 0
        self.messages_out = 0
        self.dropped = 0
        self.received: Counter[str] = Counter()  # messages by channel kind (see ``channel_kind``)
        self.sent: Counter[str] = Counter()
        # For the trace's figures: the channel whose subscribers are the members (the first namespace's
        # request channel), and how many requests each adapter awaits answers to.
        self.members_channel: str | None = None
        self.pending_counts: list[Callable[[], int]] = []

    @property
    def connected(self) -> bool:
        """True while the subscriber and the command client are up."""
        return self._pubsub is not None

    async def start(self, task_group: TaskGroup) -> None:
        """Connect and subscribe (the first caller), or only count one more user.

        Raises:
            RedisUnavailable: Redis cannot be reached now (only the first start; later losses are retried).
        """
        async with self._lock:
            self._users += 1
            if self._scope is None:
                try:
                    await task_group.start(self._run)
                except BaseException:
                    self._users -= 1
                    self._scope = None  # not running: the next start tries again
                    raise

    async def close(self) -> None:
        """One user fewer; the last one closes the connections."""
        async with self._lock:
            self._users -= 1
            if self._users <= 0 and self._scope is not None:
                self._scope.cancel()
                self._scope = None

    # --- the bus ------------------------------------------------------------------------------------------

    def _down(self) -> RedisUnavailable:
        return RedisUnavailable(public_url(self.url), "the connection was lost; reconnecting")

    async def _command(self, call: Callable[[coredis.Redis[bytes]], Awaitable[Any]]) -> Any:
        # One command on the command client. Its failure marks the link down at once, before the next
        # operation, whatever the subscriber has noticed yet; an error raised because the connection was
        # torn down under the call (coredis's pool exits) is the same loss, never a bare error.
        client = self._client
        if client is None or self._pubsub is None:
            raise self._down()
        try:
            with redis_errors(self.url):
                try:
                    with anyio.fail_after(self._timeout):
                        return await call(client)
                except TimeoutError:
                    reason = f"no answer within {self._timeout} s"
                    raise RedisUnavailable(public_url(self.url), reason) from None
        except RedisUnavailable as exc:
            self._lost(client, exc.reason)
            raise
        except Exception as exc:
            if self._client is client:
                raise  # a bug, not a lost connection
            raise self._down() from exc

    def _lost(self, client: coredis.Redis[bytes], reason: str) -> None:
        # The connection of *client* failed: cluster operations fail from now on and the reconnect loop
        # takes over (the subscriber may notice later, or never, when Redis vanished without a word).
        if self._client is not client:
            return
        self._client = self._pubsub = None
        self._loss = reason
        if self._serving is not None:
            self._serving.cancel()

    async def _publish_now(self, batch: list[tuple[str, bytes]]) -> None:
        # One PUBLISH, or a pipeline of them (one write, one read) when several were queued meanwhile.
        async def publish(client: coredis.Redis[bytes]) -> None:
            if len(batch) == 1:
                await (client.spublish if self.sharded else client.publish)(*batch[0])
                return
            async with client.pipeline(transaction=False) as pipe:
                for channel, payload in batch:
                    (pipe.spublish if self.sharded else pipe.publish)(channel, payload)

        await self._command(publish)
        self.messages_out += len(batch)
        for channel, _ in batch:
            self.sent[channel_kind(channel)] += 1

    def publish_soon(self, channel: str, payload: bytes) -> None:
        """See ``ClusterBus.publish_soon``."""
        outbox = self._outbox
        if self._pubsub is None or outbox is None:
            raise self._down()
        try:
            outbox.send_nowait((channel, payload))
        except anyio.WouldBlock:
            raise InternalChannelFull(self.name, payload) from None

    async def count_subscribers(self, channel: str) -> int:
        """See ``ClusterBus.count_subscribers``."""
        if self.sharded:
            counts = await self._command(lambda client: client.pubsub_shardnumsub(channel))
        else:
            counts = await self._command(lambda client: client.pubsub_numsub(channel))
        return int(next(iter(counts.values()), 0))

    async def subscribe(
        self, channels: Mapping[str, ChannelHandler], patterns: Mapping[str, ChannelHandler]
    ) -> None:
        """See ``ClusterBus.subscribe``."""
        if patterns and self.sharded:
            raise ValueError("sharded pub/sub has no patterns")
        self._channels.update(channels)
        self._patterns.update(patterns)
        pubsub = self._pubsub
        if pubsub is None:
            return  # the reconnect loop subscribes to everything registered
        with redis_errors(self.url), anyio.fail_after(self._timeout):
            if channels and self.sharded:
                await shard_subscribe(self.url, pubsub, channels)
            elif channels:
                await pubsub.subscribe(*channels)
            if patterns:
                await pubsub.psubscribe(*patterns)

    def subscribe_soon(self, channels: Mapping[str, ChannelHandler]) -> None:
        """See ``ClusterBus.subscribe_soon``."""
        self._channels.update(channels)
        self._send_soon(b"SSUBSCRIBE" if self.sharded else b"SUBSCRIBE", channels)

    def unsubscribe_soon(self, channels: Collection[str]) -> None:
        """See ``ClusterBus.unsubscribe_soon``."""
        for channel in channels:
            self._channels.pop(channel, None)
        self._send_soon(b"SUNSUBSCRIBE" if self.sharded else b"UNSUBSCRIBE", channels)

    def _send_soon(self, command: bytes, channels: Collection[str]) -> None:
        pubsub = self._pubsub
        if pubsub is None:
            return  # the reconnect loop subscribes to what is registered then
        try:
            send_soon(pubsub, command, channels)
        except Exception as exc:  # a connection going down: the reconnect loop renews the subscriptions
            logger.debug("%s: %s not sent: %r", self.name, command.decode(), exc)

    async def unsubscribe(self, channels: list[str], patterns: list[str]) -> None:
        """See ``ClusterBus.unsubscribe``."""
        for channel in channels:
            self._channels.pop(channel, None)
        for pattern in patterns:
            self._patterns.pop(pattern, None)
        pubsub = self._pubsub
        if pubsub is None:
            return
        if self.sharded:
            self._send_soon(b"SUNSUBSCRIBE", channels)
            return
        try:  # their messages are no longer routed already: a failure here costs nothing
            with redis_errors(self.url), anyio.move_on_after(self._timeout):
                if channels:
                    await pubsub.unsubscribe(*channels)
                if patterns:
                    await pubsub.punsubscribe(*patterns)
        except RedisUnavailable as exc:
            logger.debug("%s: unsubscribing failed: %s", self.name, exc.reason)

    # --- the connection's life ----------------------------------------------------------------------------

    async def _run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        scope = self._scope = anyio.CancelScope()
        started = False
        delay = _FIRST_DELAY
        send, outbox = anyio.create_memory_object_stream[tuple[str, bytes]](OUTBOX_SIZE)
        self._outbox = send
        with scope, send, outbox:
            while True:
                try:
                    async with self._connection() as pubsub:
                        if started:
                            logger.warning(
                                "%s: connection to Redis restored, subscriptions renewed", self.name
                            )
                            self._trace(TraceKind.CLUSTER_CONNECTED, "subscriptions renewed")
                        else:
                            started = True
                            self._trace(TraceKind.CLUSTER_CONNECTED, "connected")
                            task_status.started()
                        delay = _FIRST_DELAY
                        await self._serve(pubsub, outbox)
                    reason = self._loss or "the subscriber connection ended"
                except BaseException as exc:
                    if scope.cancel_called:
                        return  # closing: what the client raises while it tears down ends here
                    if not started or not isinstance(exc, Exception):
                        raise
                    reason = self._why(exc)
                logger.warning(
                    "%s: connection to Redis lost (%s); cluster operations fail until it is back; "
                    "reconnecting in %.1f s",
                    self.name,
                    reason,
                    delay,
                )
                self._trace(TraceKind.CLUSTER_DISCONNECTED, reason)
                await anyio.sleep(delay)
                delay = min(delay * 2, _MAX_DELAY)

    def _why(self, exc: Exception) -> str:
        # What ended the connection: Redis's fault (a reason), or a bug here or in the client (logged whole);
        # either way the loop reconnects rather than let the server die.
        leaf: BaseException = exc
        while isinstance(leaf, BaseExceptionGroup) and len(leaf.exceptions) == 1:
            leaf = leaf.exceptions[0]
        if isinstance(leaf, RedisUnavailable):
            return leaf.reason
        logger.error("%s: the subscriber failed", self.name, exc_info=exc)
        return repr(leaf)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        # The command client and its subscriber, opened and closed together; the link's state follows them.
        from coredis.retry import NoRetryPolicy

        async with open_redis(self.url, connect_timeout=self._timeout, retry=False) as client:
            classic = not self.sharded
            pubsub_cm = client.pubsub(
                channels=list(self._channels) if classic else None,
                patterns=list(self._patterns) if classic else None,
                ignore_subscribe_messages=True,
                retry_policy=NoRetryPolicy(),
            )
            async with pubsub_cm as pubsub:
                if self.sharded and self._channels:
                    with anyio.fail_after(self._timeout):
                        await shard_subscribe(self.url, pubsub, list(self._channels))
                self._client, self._pubsub = client, pubsub
                try:
                    yield pubsub
                finally:
                    self._client = self._pubsub = None

    async def _serve(self, pubsub: Any, outbox: MemoryObjectReceiveStream[tuple[str, bytes]]) -> None:
        # Until the connection fails: the publisher, a health check, and the messages in arrival order.
        with redis_errors(self.url):
            async with anyio.create_task_group() as tg:
                self._serving, self._loss = tg.cancel_scope, None
                tg.start_soon(self._publisher, outbox)
                tg.start_soon(self._check_health)
                if self.tracer is not None:
                    tg.start_soon(self._report, outbox)
                while True:
                    message = await pubsub.get_message()
                    if message is not None:
                        await self._dispatch(message)

    async def _check_health(self) -> None:
        # A closed subscriber connection may end quietly inside the client: a PING every second on the
        # command connection notices a lost Redis within about a second, and ends the connection's life.
        while True:
            await anyio.sleep(_HEALTH_INTERVAL)
            if self._client is None:
                return
            try:
                await self._command(lambda client: client.ping())
            except RedisUnavailable:
                return  # the link is marked down; the reconnect loop takes over

    async def _report(self, outbox: MemoryObjectReceiveStream[tuple[str, bytes]]) -> None:
        # The trace's view of the cluster: CLUSTER_STATS every few seconds while connected.
        while True:
            members = None
            if self.members_channel is not None:
                try:
                    members = await self.count_subscribers(self.members_channel)
                except RedisUnavailable:
                    return  # the link is marked down; the reconnect loop takes over
            pending = sum(count() for count in self.pending_counts)
            queued = outbox.statistics().current_buffer_used
            detail = (
                f"{members} members, {pending} requests in flight, "
                f"{self.messages_in} in, {self.messages_out} out, {self.dropped} dropped"
            )
            kinds = sorted(self.received.keys() | self.sent.keys())
            channels = {kind: {"in": self.received[kind], "out": self.sent[kind]} for kind in kinds}
            fields = {"members": members, "pending": pending, "channels": channels}
            self._trace(TraceKind.CLUSTER_STATS, detail, fields, depth=queued)
            await anyio.sleep(_REPORT_INTERVAL)

    async def _publisher(self, outbox: MemoryObjectReceiveStream[tuple[str, bytes]]) -> None:
        async for first in outbox:
            batch = take_batch(first, outbox)
            try:
                await self._publish_now(batch)
            except RedisUnavailable as exc:
                logger.warning("%s: %d message(s) lost: %s", self.name, len(batch), exc.reason)
                return  # the link is marked down; the reconnect loop takes over

    async def _dispatch(self, message: Any) -> None:
        kind = message["type"]
        if kind == "pmessage":
            pattern = _text(message["pattern"])
            handler = self._patterns.get(pattern)
        elif kind == "message":
            handler = self._channels.get(_text(message["channel"]))
        else:
            return
        if handler is None:
            return
        channel = _text(message["channel"])
        data = message["data"]
        payload = data if isinstance(data, bytes) else str(data).encode()
        self.messages_in += 1
        self.received[channel_kind(channel)] += 1
        try:
            await handler(channel, payload)
        except DecodeError as exc:
            self.dropped += 1
            logger.warning("%s: dropped a malformed message on %r: %s", self.name, channel, exc.reason)
            self._trace(TraceKind.CLUSTER_DROPPED, f"{channel}: {exc.reason}")
        except Exception:
            self.dropped += 1
            logger.exception("%s: a message on %r could not be handled", self.name, channel)
            self._trace(TraceKind.CLUSTER_DROPPED, f"{channel}: handler failed")

    def _trace(
        self, kind: TraceKind, detail: str, extra: dict[str, Any] | None = None, *, depth: int | None = None
    ) -> None:
        if self.tracer is None:
            return
        fields = {"in": self.messages_in, "out": self.messages_out, "dropped": self.dropped, **(extra or {})}
        self.tracer.record(
            TraceEvent(
                kind=kind,
                actor=self.name,
                actor_kind="cluster",
                detail=detail,
                fields=fields,
                depth=depth,
                capacity=OUTBOX_SIZE if depth is not None else None,
            )
        )


def channel_kind(channel: str) -> str:
    """``request``, ``response`` or ``forward`` for the channels named ``<key>-<kind>#...``, else
    ``broadcast`` (a namespace's or a room's channel; the sharded adapter's requests and answers share those):
    the trace counts messages by kind, a handful of keys, never by channel, whose names are unbounded."""
    _, dash, kind = channel.partition("#")[0].rpartition("-")
    return kind if dash and kind in _CHANNEL_KINDS else "broadcast"


def take_batch(first: T, queue: MemoryObjectReceiveStream[T], limit: int = _BATCH) -> list[T]:
    """*first* and what else *queue* holds now, up to *limit* items: one write (or pipeline) for them all."""
    batch = [first]
    while len(batch) < limit:
        try:
            batch.append(queue.receive_nowait())
        except anyio.WouldBlock:
            break
    return batch


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
