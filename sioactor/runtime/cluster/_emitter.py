"""An emitter for processes that run no Socket.IO server: ``@socket.io/redis-emitter`` 5.x, in Python.

A Celery task, a Django view or a cron job publishes into a cluster of Socket.IO servers (Node or sioactor)
that share a Redis through the classic adapter. It publishes exactly the bytes Node's emitter publishes
(uid ``"emitter"``): broadcasts as msgpack on ``P#N#`` / ``P#N#<room>#``, the rest as JSON requests on
``P-request#N#``. Nothing is answered and nothing is waited for beyond Redis taking the message: pub/sub
delivers at most once, to the servers subscribed at that moment.

The operators (``to``, ``except_``, ``volatile``, ``of``...) are one immutable class whose terminal
methods hand ``(channel, payload)`` to a publisher. ``RedisEmitter`` publishes from async code (asyncio
or trio, through coredis): ``await emitter.to("room").emit(...)``. ``SyncRedisEmitter`` publishes from
plain synchronous code by running the same async publisher in a worker thread's event loop (an anyio
blocking portal): ``emitter.to("room").emit(...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar, final

import anyio
from anyio.from_thread import BlockingPortal, start_blocking_portal

from sioactor._errors import RedisUnavailable
from sioactor.protocol.cluster import (
    DEFAULT_PREFIX,
    EMITTER_UID,
    Broadcast,
    ClassicChannels,
    DisconnectSockets,
    Recipients,
    ServerSideEmit,
    SocketsJoin,
    SocketsLeave,
    encode_classic_request,
    encode_emitter_broadcast,
)
from sioactor.protocol.socketio import RESERVED_EVENTS
from sioactor.runtime.cluster._redis import open_redis, public_url, redis_errors

if TYPE_CHECKING:
    import coredis

__all__ = ("EmitterOperators", "RedisEmitter", "SyncRedisEmitter")

R = TypeVar("R")
DEFAULT_TIMEOUT = 5.0


def _rooms(rooms: str | Iterable[str]) -> tuple[str, ...]:
    return (rooms,) if isinstance(rooms, str) else tuple(rooms)


class EmitterOperators(Generic[R]):
    """The sockets an emitter reaches, chosen step by step; each step returns a new selection.

    The terminal methods return what the emitter's publisher returns: an awaitable for ``RedisEmitter``,
    ``None`` for ``SyncRedisEmitter``.
    """

    __slots__ = ("_channels", "_except", "_flags", "_publish", "_rooms")

    def __init__(self, publish: Callable[[str, bytes], R], channels: ClassicChannels) -> None:
        self._publish = publish
        self._channels = channels
        self._rooms: tuple[str, ...] = ()
        self._except: tuple[str, ...] = ()
        self._flags: dict[str, Any] = {}

    def _with(self, **changes: Any) -> EmitterOperators[R]:
        copy = EmitterOperators(self._publish, self._channels)
        copy._rooms, copy._except, copy._flags = self._rooms, self._except, self._flags
        for name, value in changes.items():
            setattr(copy, name, value)
        return copy

    def of(self, nsp: str) -> EmitterOperators[R]:
        """Every socket of namespace *nsp* (rooms and flags chosen so far are dropped)."""
        if not nsp.startswith("/"):
            raise ValueError(f"namespace {nsp!r} must start with '/'")
        return EmitterOperators(self._publish, ClassicChannels(nsp, self._channels.prefix))

    def to(self, *rooms: str) -> EmitterOperators[R]:
        """Only the sockets in any of *rooms* (added to the rooms chosen so far)."""
        return self._with(_rooms=tuple(dict.fromkeys(self._rooms + rooms)))

    def in_(self, *rooms: str) -> EmitterOperators[R]:
        """The same as ``to``."""
        return self.to(*rooms)

    def except_(self, *rooms: str) -> EmitterOperators[R]:
        """Minus the sockets in any of *rooms*."""
        return self._with(_except=tuple(dict.fromkeys(self._except + rooms)))

    @property
    def volatile(self) -> EmitterOperators[R]:
        """Servers may drop the event for a client that cannot take it now."""
        return self._with(_flags={**self._flags, "volatile": True})

    def compress(self, compress: bool) -> EmitterOperators[R]:
        """Whether servers may compress the event."""
        return self._with(_flags={**self._flags, "compress": compress})

    def _recipients(self) -> Recipients:
        return Recipients(rooms=self._rooms, except_rooms=self._except, flags=self._flags)

    def emit(self, event: str, *args: Any) -> R:
        """Broadcast *event* with *args* to the selected sockets; ``bytes`` travel intact.

        Raises:
            ValueError: *event* is reserved (``connect``, ``disconnect``...).
            TypeError: an argument msgpack cannot carry.
        """
        if event in RESERVED_EVENTS:
            raise ValueError(f"{event!r} is a reserved event name")
        recipients = self._recipients()
        data = [event, *args]
        message = Broadcast(uid=EMITTER_UID, nsp=self._channels.nsp, data=data, recipients=recipients)
        return self._publish(self._channels.broadcast_target(recipients), encode_emitter_broadcast(message))

    def server_side_emit(self, event: str, *args: Any) -> R:
        """Send *event* to the servers themselves (their ``server_side`` handlers); no acks.

        The classic adapter carries this as JSON, so ``bytes`` arrive as Node's ``{"type": "Buffer", ...}``.
        """
        message = ServerSideEmit(uid=EMITTER_UID, nsp=self._channels.nsp, data=[event, *args])
        return self._publish(self._channels.request, encode_classic_request(message))

    def sockets_join(self, rooms: str | Iterable[str]) -> R:
        """Make the selected sockets join *rooms*."""
        message = SocketsJoin(
            uid=None, nsp=self._channels.nsp, recipients=self._recipients(), rooms=_rooms(rooms)
        )
        return self._publish(self._channels.request, encode_classic_request(message))

    def sockets_leave(self, rooms: str | Iterable[str]) -> R:
        """Make the selected sockets leave *rooms*."""
        message = SocketsLeave(
            uid=None, nsp=self._channels.nsp, recipients=self._recipients(), rooms=_rooms(rooms)
        )
        return self._publish(self._channels.request, encode_classic_request(message))

    def disconnect_sockets(self, close: bool = False) -> R:
        """Disconnect the selected sockets; with *close*, close their connections too."""
        recipients = self._recipients()
        message = DisconnectSockets(uid=None, nsp=self._channels.nsp, recipients=recipients, close=close)
        return self._publish(self._channels.request, encode_classic_request(message))


@final
class RedisEmitter(EmitterOperators[Coroutine[Any, Any, None]]):
    """Emit into a Socket.IO cluster from async code (asyncio or trio); use it as an async context manager.

        async with RedisEmitter("redis://localhost:6379") as emitter:
            await emitter.to("room1").emit("news", {"id": 1})
            await emitter.of("/admin").server_side_emit("refresh")

    Args:
        url: the Redis URL (``redis://``, ``rediss://``, ``unix://``).
        key: the cluster's key prefix (the adapters' ``key`` option).
        timeout: seconds allowed to connect, and for each publish.

    Raises (on entering, or from a publish):
        RedisUnavailable: Redis is unreachable or did not answer within *timeout*.
    """

    __slots__ = ("_client", "_connection", "_timeout", "_url")

    def __init__(self, url: str, *, key: str = DEFAULT_PREFIX, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(self._send, ClassicChannels("/", key))
        self._url = url
        self._timeout = timeout
        self._client: coredis.Redis[bytes] | None = None
        self._connection: AbstractAsyncContextManager[coredis.Redis[bytes]] | None = None

    async def __aenter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError("this RedisEmitter is already open")
        connection = open_redis(self._url, connect_timeout=self._timeout)
        self._client = await connection.__aenter__()
        self._connection = connection
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        connection, self._connection, self._client = self._connection, None, None
        if connection is not None:
            await connection.__aexit__(exc_type, exc, tb)

    async def _send(self, channel: str, payload: bytes) -> None:
        client = self._client
        if client is None:
            raise RuntimeError("use the RedisEmitter inside 'async with' (it is not open)")
        with redis_errors(self._url):
            try:
                with anyio.fail_after(self._timeout):
                    await client.publish(channel, payload)
            except TimeoutError:
                reason = f"no answer to PUBLISH within {self._timeout} s"
                raise RedisUnavailable(public_url(self._url), reason) from None


@final
class SyncRedisEmitter(EmitterOperators[None]):
    """Emit into a Socket.IO cluster from synchronous code; use it as a context manager (or ``close()``).

        with SyncRedisEmitter("redis://localhost:6379") as emitter:
            emitter.to("room1").emit("news", {"id": 1})

    It runs a ``RedisEmitter`` on an event loop in a worker thread, so each call blocks until Redis took
    the message. Do not call it from inside an event loop: use ``RedisEmitter`` there.

    Args and errors: as ``RedisEmitter``.
    """

    __slots__ = ("_emitter", "_entered", "_portal", "_portal_cm")

    def __init__(self, url: str, *, key: str = DEFAULT_PREFIX, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(self._send, ClassicChannels("/", key))
        self._emitter = RedisEmitter(url, key=key, timeout=timeout)
        self._portal_cm: AbstractContextManager[BlockingPortal] | None = None
        self._portal: BlockingPortal | None = None
        self._entered: AbstractContextManager[RedisEmitter] | None = None

    def __enter__(self) -> Self:
        if self._portal is not None:
            raise RuntimeError("this SyncRedisEmitter is already open")
        self._portal_cm = start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        entered = self._portal.wrap_async_context_manager(self._emitter)
        try:
            entered.__enter__()
        except BaseException:
            self.close()
            raise
        self._entered = entered
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the Redis connection and stop the worker thread; a closed emitter cannot emit."""
        entered, portal_cm = self._entered, self._portal_cm
        self._entered = self._portal_cm = self._portal = None
        try:
            if entered is not None:
                entered.__exit__(None, None, None)
        finally:
            if portal_cm is not None:
                portal_cm.__exit__(None, None, None)

    def _send(self, channel: str, payload: bytes) -> None:
        portal = self._portal
        if portal is None:
            raise RuntimeError("use the SyncRedisEmitter inside 'with' (it is not open)")
        portal.call(self._emitter._send, channel, payload)
