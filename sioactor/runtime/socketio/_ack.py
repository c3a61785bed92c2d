"""Acknowledgements both ways: ``AckStream`` (the server awaits the client's answers) and ``AckSender`` (a
handler answers the client's request).

An ``AckStream`` is resolved by plain calls from the connection's ``on_message`` (it is the ``AckWaiter``
of every socket it was sent to), so it never waits on any socket's mailbox. It owns its deadline: whoever
awaits it gets ``AckTimeout`` for each socket still silent then, and those sockets forget the ack id (a late
answer is then an unknown id, logged and ignored).

Across a cluster the stream also counts answers from other nodes' clients (``expect_nodes``): each node
first says how many of its clients it sent the event to (``node_count``), then forwards each answer
(``resolve_remote``). Those answers carry no socket id on the wire, so they are reported under
``REMOTE_SID``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from typing import Any, Final, final

import anyio

from sioactor._errors import AckDecodeError, AckError, AckTimeout
from sioactor.actors.engineio._api import EngineConnection
from sioactor.actors.socketio import AckTable
from sioactor.protocol.socketio import JSON_PARSER, Parser

__all__ = ("NO_ACK", "NO_DATA", "REMOTE_SID", "AckSender", "AckStream", "from_args", "to_args")

# Bounds what one node's client count may make a stream await (another node's count is untrusted input).
_MAX_REMOTE_CLIENTS = 1_000_000

REMOTE_SID: Final = "(remote)"
"""The socket id under which an ``AckStream`` reports the answer (or silence) of another node's client."""


class _NoData:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_DATA"


NO_DATA: Final = _NoData()
"""The default of every ``data=`` parameter: emit no argument at all."""


def to_args(data: Any) -> tuple[Any, ...]:
    """The seed's rule: a tuple is several arguments, anything else one argument, ``NO_DATA`` none."""
    if data is NO_DATA:
        return ()
    if isinstance(data, tuple):
        return data
    return (data,)


def from_args(args: list[Any]) -> Any:
    """The inverse of ``to_args`` for answers: no argument → ``None``, one → itself, several → a tuple."""
    if not args:
        return None
    if len(args) == 1:
        return args[0]
    return tuple(args)


@final
class AckStream:
    """The answers to one emit: await it for the first answer, or ``async for sid, result in stream`` for
    each receiver's. A result is the answer (see ``from_args``), or an ``AckError`` instance when that socket
    timed out (``AckTimeout``), answered something *convert* refused (``AckDecodeError``) or left
    (``AckClosed``). Awaiting raises that error instead of returning it.

    Created by ``emit_with_ack``; not constructed directly.
    """

    __slots__ = (
        "_convert",
        "_deadline",
        "_on_expect",
        "_on_timeout",
        "_remote_acks",
        "_remote_nodes",
        "_results",
        "_tickets",
        "_timeout",
        "_wake",
    )

    def __init__(
        self,
        *,
        timeout: float,
        convert: Callable[[Any], Any] | None,
        on_timeout: Callable[[str, int], None] | None = None,
        on_expect: Callable[[str, int], None] | None = None,
    ) -> None:
        self._timeout = timeout
        self._convert = convert
        self._on_timeout = on_timeout  # (sid, ack id): log and trace a silent client
        self._on_expect = on_expect  # (sid, ack id): the trace's ACK_REQUESTED, when a tracer listens
        self._deadline = anyio.current_time() + timeout
        self._results: deque[tuple[str, Any]] = deque()
        self._tickets: dict[str, tuple[AckTable, int]] = {}
        self._remote_nodes = 0  # other nodes that have not said yet how many answers to expect
        self._remote_acks = 0  # answers still expected from other nodes' clients
        self._wake = anyio.Event()

    def __len__(self) -> int:
        """How many results are still to come (received but not consumed, or awaited)."""
        return len(self._results) + len(self._tickets) + self._remote_nodes + self._remote_acks

    @property
    def timeout(self) -> float:
        """Seconds the stream awaits answers, from the emit."""
        return self._timeout

    def _awaiting(self) -> bool:
        return bool(self._tickets or self._remote_nodes or self._remote_acks)

    def expect_nodes(self, count: int) -> None:
        """Await the client counts of *count* other nodes (internal: called by a cluster adapter)."""
        self._remote_nodes += count

    def node_count(self, clients: int) -> None:
        """One other node sent the event to *clients* of its sockets: await that many remote answers."""
        if self._remote_nodes > 0:
            self._remote_nodes -= 1
            self._remote_acks += min(max(clients, 0), _MAX_REMOTE_CLIENTS)
            self._wake.set()

    def drop_remote(self) -> None:
        """Await no more answers from other nodes (internal: the cluster could not be told)."""
        self._remote_nodes = self._remote_acks = 0
        self._wake.set()

    def resolve_remote(self, value: Any) -> None:
        """A client of another node answered *value* (the first argument of its answer)."""
        if self._remote_acks <= 0:
            return
        self._remote_acks -= 1
        if self._convert is not None:
            try:
                value = self._convert(value)
            except Exception as exc:
                value = AckDecodeError(REMOTE_SID, value, str(exc))
        self._push(REMOTE_SID, value)

    def expect(self, table: AckTable, ack_id: int) -> None:
        """Await socket ``table.sid``'s answer to *ack_id* (internal: called by the emitter)."""
        self._tickets[table.sid] = (table, ack_id)
        table.register(ack_id, self)
        if self._on_expect is not None:
            self._on_expect(table.sid, ack_id)

    def abandon(self, sid: str) -> None:
        """Stop awaiting socket *sid* (internal: its emit failed, so it will never answer)."""
        ticket = self._tickets.pop(sid, None)
        if ticket is not None:
            ticket[0].discard(ticket[1])

    def resolve(self, sid: str, args: list[Any]) -> None:
        """``AckWaiter``: socket *sid* answered."""
        if self._tickets.pop(sid, None) is None:
            return
        value = from_args(args)
        if self._convert is not None:
            try:
                value = self._convert(value)
            except Exception as exc:
                value = AckDecodeError(sid, value, str(exc))
        self._push(sid, value)

    def fail(self, sid: str, error: Exception) -> None:
        """``AckWaiter``: socket *sid* can no longer answer."""
        if self._tickets.pop(sid, None) is not None:
            self._push(sid, error)

    def __aiter__(self) -> AckStream:
        return self

    async def __anext__(self) -> tuple[str, Any]:
        while not self._results and self._awaiting():
            await self._wait()
        if not self._results:
            raise StopAsyncIteration
        return self._results.popleft()

    def __await__(self) -> Generator[Any, None, Any]:
        return self._first().__await__()

    async def _first(self) -> Any:
        if not self:
            raise AckError("-", "the emit reached no socket, so no answer can come")
        _sid, result = await self.__anext__()
        for sid in list(self._tickets):
            self.abandon(sid)
        self._remote_nodes = self._remote_acks = 0
        if isinstance(result, AckError):
            raise result
        return result

    async def _wait(self) -> None:
        self._wake = anyio.Event()
        with anyio.CancelScope(deadline=self._deadline):
            await self._wake.wait()
            return
        for sid, (table, ack_id) in self._tickets.items():
            table.discard(ack_id)
            self._results.append((sid, AckTimeout(sid, self._timeout)))
            if self._on_timeout is not None:
                self._on_timeout(sid, ack_id)
        self._tickets.clear()
        # Other nodes' silent clients (or whole nodes that never said how many to expect), one error each.
        for _ in range(self._remote_acks + self._remote_nodes):
            self._results.append((REMOTE_SID, AckTimeout(REMOTE_SID, self._timeout)))
        self._remote_nodes = self._remote_acks = 0

    def _push(self, sid: str, result: Any) -> None:
        self._results.append((sid, result))
        self._wake.set()


@final
class AckSender:
    """What a handler uses to answer the client's ack request. A no-op when the client asked for none;
    only the first ``send`` is sent (an ack id is answered once).
    """

    __slots__ = ("_ack_id", "_conn", "_nsp", "_on_sent", "_parser", "_sent")

    def __init__(
        self,
        conn: EngineConnection | None,
        parser: Parser,
        nsp: str,
        ack_id: int | None,
        on_sent: Callable[[int], None] | None = None,
    ) -> None:
        self._conn = conn
        self._parser = parser
        self._nsp = nsp
        self._ack_id = ack_id
        self._sent = False
        self._on_sent = on_sent  # the trace's ACK_SENT, when a tracer listens

    @property
    def requested(self) -> bool:
        """True when the client awaits an answer that was not sent yet."""
        return self._ack_id is not None and not self._sent

    def send(self, data: Any = NO_DATA) -> None:
        """Answer with *data* (a tuple is several arguments); never waits.

        Raises:
            InternalChannelFull: the connection's outbox is full.
            Closed: the connection is gone.
        """
        ack_id = self._ack_id
        if ack_id is None or self._sent:
            return
        self._sent = True
        assert self._conn is not None, "an AckSender with an ack id has a connection"
        self._conn.send(self._parser.encode_ack(self._nsp, ack_id, to_args(data)))
        if self._on_sent is not None:
            self._on_sent(ack_id)


NO_ACK: Final = AckSender(None, JSON_PARSER, "/", None)
"""The ``AckSender`` of every event sent without an ack request: ``send`` does nothing, so one instance
serves them all (no allocation per event)."""
