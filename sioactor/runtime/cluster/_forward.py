"""``SessionForwarder``: any node of a Redis cluster takes any request of any session, without sticky
sessions (``uvicorn --workers N``, or machines behind a round-robin balancer).

An Engine.IO session lives on the node that answered its handshake (its *owner*); the client's later
requests (long-poll GETs, POSTs, the WebSocket upgrade) may reach any node. A node that gets a request
naming a well-formed sid it does not know (the engine asks its ``SessionLocator`` only then, so known
sessions pay nothing) publishes the request on the cluster's forwarding channel and waits, at most
``response_timeout`` (1 s, ``@socket.io/cluster-engine``'s ``responseTimeout``), for an owner to take it.
Only the owner answers (``Taken``); no answer means no owner (it is gone, or the session ended), and the
client gets the usual "Session ID unknown" and reconnects.

What is forwarded is the request itself, as ASGI messages (``protocol/cluster/_forwarding.py``): the owner
rebuilds the scope, serves it with its own engine exactly as if the client had connected there (its poll,
POST and upgrade code, its back-pressure and limits), and every message its engine sends goes back to the
entry node, which sends it to the client. So a long-poll GET is held by the owner's session until it has
something to send, a POST's packets are handled by the owner as its own, and an upgrading WebSocket stays
on the node it reached while its probe and frames are relayed both ways (the owner's held poll is released
with a noop at the probe, as on a local upgrade). This is cluster-engine's "no takeover" path; cluster-engine
can also move a freshly opened session to the WebSocket's node, which this forwarder does not do.

Bounds: at most ``MAX_EXCHANGES`` requests forwarded from, and as many served on, one node at a time (beyond,
a request is refused as unknown, logged). A relayed WebSocket's frames flow under credit each way
(``_forward_flow.py``), so a fast sender is pushed back as on a local socket; each direction's queue holds at
most ``RELAY_QUEUE`` messages, which only a peer ignoring its credit fills (the connection is then cut off,
logged). An entry whose owner falls silent for longer than a heartbeat ends its client's WebSocket. A
message on the channels that does not decode is dropped with a log line (the link's ``DecodeError``
handling); one for an exchange that ended is ignored.
The bus is Redis pub/sub: at most once. A lost message is a request that times out or a connection that
ends, and the client reconnects.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, MutableMapping
from itertools import count
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup, TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from sioactor._errors import InternalChannelFull, RedisUnavailable
from sioactor.protocol.cluster._forwarding import (
    AsgiMessage,
    Credit,
    FinishedMessage,
    ForwardingChannels,
    ForwardMessage,
    ForwardRequest,
    FromClient,
    RequestHead,
    Taken,
    ToClient,
    asgi_subset,
    decode_forward_message,
    encode_forward_message,
)
from sioactor.runtime.cluster._forward_entry import (
    RELAY_QUEUE,
    Exchange,
    ToOwner,
    relay_http,
    relay_websocket,
    request_body,
)
from sioactor.runtime.cluster._forward_flow import CreditWindow, TakenFrames
from sioactor.runtime.cluster._link import ClusterBus
from sioactor.runtime.engineio._http import Receive, Scope, Send
from sioactor.runtime.engineio._locator import FORWARDED, well_formed_sid

if TYPE_CHECKING:
    from sioactor.runtime.engineio import EngineServer

__all__ = ("DEFAULT_RESPONSE_TIMEOUT", "MAX_EXCHANGES", "SessionForwarder")

logger = logging.getLogger("sioactor.cluster")

DEFAULT_RESPONSE_TIMEOUT = 1.0
MAX_EXCHANGES = 10_000


class SessionForwarder:
    """The engine's ``SessionLocator`` in a cluster: forwards requests of unknown sessions to their owner,
    and serves the requests the other nodes forward for sessions of this node.

    Args:
        bus: the cluster's bus (one ``RedisLink`` per process, shared with the adapters).
        key: the cluster's key prefix; the channels are ``<key>-forward#`` and ``<key>-forward#<node>#``.
        response_timeout: seconds to wait for the owner to take a request.
    """

    def __init__(
        self, bus: ClusterBus, *, key: str, response_timeout: float = DEFAULT_RESPONSE_TIMEOUT
    ) -> None:
        self.node = secrets.token_hex(4)
        self.response_timeout = response_timeout
        self._bus = bus
        self._channels = ForwardingChannels(key)
        self._own_channel = self._channels.node(self.node)
        self._engine: EngineServer | None = None
        self._ids = count(1)
        self._forwarded: dict[int, Exchange] = {}  # requests of this node's clients, by exchange id
        self._served: dict[tuple[str, int], _Served] = {}  # requests served for other nodes
        self._users = 0
        self._task_group: TaskGroup | None = None
        self._scope: anyio.CancelScope | None = None

    def attach(self, engine: EngineServer) -> None:
        """Become *engine*'s locator (once: a forwarder serves one engine)."""
        if self._engine is not None and self._engine is not engine:
            raise RuntimeError("an adapter factory with forward_sessions serves one SocketIo only")
        self._engine = engine
        engine.locator = self

    # --- life cycle ---------------------------------------------------------------------------------------

    async def start(self, task_group: TaskGroup) -> None:
        """Subscribe to the forwarding channels (the first caller; later ones only count)."""
        self._users += 1
        if self._users > 1:
            return
        await self._bus.start(task_group)
        try:
            await task_group.start(self._run)
            handlers = {self._channels.requests: self._on_request, self._own_channel: self._on_direct}
            await self._bus.subscribe(handlers, {})
        except BaseException:
            self._users -= 1
            with anyio.CancelScope(shield=True):
                await self._bus.close()
            raise

    async def close(self) -> None:
        """One user fewer; the last one unsubscribes and ends every exchange in progress."""
        self._users -= 1
        if self._users > 0:
            return
        if self._scope is not None:
            self._scope.cancel()  # the requests served for other nodes end (their entries answer an error)
        for exchange in self._forwarded.values():
            exchange.finish()  # no answer can come now: the entry answers an error, the client reconnects
        try:
            await self._bus.unsubscribe([self._channels.requests, self._own_channel], [])
        finally:
            await self._bus.close()

    async def _run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        # Hosts the tasks that serve other nodes' requests, until close().
        with anyio.CancelScope() as self._scope:
            async with anyio.create_task_group() as tg:
                self._task_group = tg
                task_status.started()
                await anyio.sleep_forever()
        self._task_group = None

    # --- the entry: this node's client, another node's session --------------------------------------------

    async def forward(self, sid: str, scope: Scope, receive: Receive, send: Send) -> bool:
        """See ``SessionLocator.forward``."""
        engine = self._engine
        if (
            engine is None
            or FORWARDED in scope
            or not well_formed_sid(sid)
            or not self._bus.connected
            or len(self._forwarded) >= MAX_EXCHANGES
        ):
            return False
        kind = scope["type"]
        body = b""
        if kind == "http":
            read = await request_body(receive, engine.config.max_payload)
            if read is None:
                return True  # the client left; nobody to answer
            body = read
        exchange = Exchange(next(self._ids))
        self._forwarded[exchange.id] = exchange
        try:
            request = ForwardRequest(
                entry=self.node, exchange=exchange.id, sid=sid, head=_head(scope), body=body
            )
            if not self._publish(self._channels.requests, request):
                return False
            with anyio.move_on_after(self.response_timeout):
                await exchange.taken.wait()
            if exchange.owner is None:
                return False
            to_owner = self._to_owner(exchange)
            config = engine.config
            if kind == "http":
                bound = (
                    config.ping_interval + config.ping_timeout + config.flush_timeout + self.response_timeout
                )
                await relay_http(exchange, receive, send, to_owner, bound)
            else:
                idle = config.ping_interval + config.ping_timeout + self.response_timeout
                credit = self._credit(exchange.owner, self.node, exchange.id)
                await relay_websocket(exchange, receive, send, to_owner, credit, idle)
            return True
        finally:
            del self._forwarded[exchange.id]
            exchange.close()

    def _to_owner(self, exchange: Exchange) -> ToOwner:
        channel = self._channels.node(exchange.owner or "")

        def to_owner(message: AsgiMessage) -> None:
            payload = FromClient(entry=self.node, exchange=exchange.id, message=message)
            self._bus.publish_soon(channel, encode_forward_message(payload))

        return to_owner

    def _credit(self, node: str, entry: str, exchange_id: int) -> Callable[[int], bool]:
        # Returns credit for the frames of the exchange (entry, exchange_id) to *node*, the other side.
        channel = self._channels.node(node)
        return lambda frames: self._publish(channel, Credit(entry=entry, exchange=exchange_id, frames=frames))

    # --- the bus ------------------------------------------------------------------------------------------

    async def _on_request(self, channel: str, payload: bytes) -> None:
        # Every node hears every forwarded request; only the owner of its session takes it.
        message = decode_forward_message(payload)
        if not isinstance(message, ForwardRequest) or message.entry == self.node:
            return
        engine, task_group = self._engine, self._task_group
        if engine is None or task_group is None or message.sid not in engine.sessions:
            return
        if len(self._served) >= MAX_EXCHANGES:
            logger.warning("forwarding: %d requests served for other nodes; one more refused", MAX_EXCHANGES)
            return
        served = _Served(message, self._credit(message.entry, message.entry, message.exchange))
        self._served[served.key] = served
        if not self._publish(
            self._channels.node(message.entry), Taken(exchange=message.exchange, owner=self.node)
        ):
            del self._served[served.key]
            return
        task_group.start_soon(self._serve, engine, served)

    async def _on_direct(self, channel: str, payload: bytes) -> None:
        # Messages addressed to this node: answers to its forwarded requests, and its clients' frames' echo.
        message = decode_forward_message(payload)
        match message:
            case Taken(exchange=exchange_id, owner=owner):
                if (exchange := self._forwarded.get(exchange_id)) is not None:
                    exchange.take(owner)
            case ToClient(exchange=exchange_id, message=asgi):
                if (exchange := self._forwarded.get(exchange_id)) is not None:
                    exchange.deliver(asgi)
            case FinishedMessage(exchange=exchange_id):
                if (exchange := self._forwarded.get(exchange_id)) is not None:
                    exchange.finish()
            case FromClient(entry=entry, exchange=exchange_id, message=asgi):
                if (served := self._served.get((entry, exchange_id))) is not None:
                    served.deliver(asgi)
            case Credit(entry=entry, exchange=exchange_id, frames=frames):
                # For an exchange of this node's client (it is the entry), or one it serves.
                target: Exchange | _Served | None = (
                    self._forwarded.get(exchange_id)
                    if entry == self.node
                    else self._served.get((entry, exchange_id))
                )
                if target is not None:
                    target.window.grant(frames)
            case ForwardRequest():
                pass  # requests travel on the shared channel only

    def _publish(self, channel: str, message: ForwardMessage) -> bool:
        try:
            self._bus.publish_soon(channel, encode_forward_message(message))
        except (RedisUnavailable, InternalChannelFull) as exc:
            logger.info("forwarding: cannot publish (%s)", exc)
            return False
        return True

    # --- the owner: this node's session, another node's client --------------------------------------------

    async def _serve(self, engine: EngineServer, served: _Served) -> None:
        # The request runs through this node's engine as if its client had connected here.
        request = served.request
        reply = self._channels.node(request.entry)

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "websocket.send":
                await served.window.spend()  # the entry's client has room for it
            payload = encode_forward_message(
                ToClient(exchange=request.exchange, message=asgi_subset(message))
            )
            try:
                self._bus.publish_soon(reply, payload)
            except (RedisUnavailable, InternalChannelFull) as exc:
                raise OSError(f"forwarded request: cannot reach the client's node ({exc})") from None

        try:
            await engine(_scope(request), served.receive, send)
        except OSError as exc:
            logger.info("forwarded request of session %s ended: %s", request.sid, exc)
        finally:
            del self._served[served.key]
            served.close()
            self._publish(reply, FinishedMessage(exchange=request.exchange))


class _Served:
    """A request served for another node: the client's messages, queued for this node's engine."""

    __slots__ = ("_inbound", "_send", "_taken", "disconnect", "key", "request", "window")

    def __init__(self, request: ForwardRequest, credit: Callable[[int], object]) -> None:
        self.request = request
        self.window = CreditWindow()  # frames the owner may send the client before the entry takes them
        self._taken = TakenFrames(credit)
        self.key = (request.entry, request.exchange)
        kind = request.head.kind
        self.disconnect: AsgiMessage = {"type": f"{kind}.disconnect", "code": 1006}
        self._send: MemoryObjectSendStream[AsgiMessage]
        self._inbound: MemoryObjectReceiveStream[AsgiMessage]
        self._send, self._inbound = anyio.create_memory_object_stream[AsgiMessage](RELAY_QUEUE)
        first: AsgiMessage = (
            {"type": "http.request", "body": request.body, "more_body": False}
            if kind == "http"
            else {"type": "websocket.connect"}
        )
        self._send.send_nowait(first)

    def deliver(self, message: AsgiMessage) -> None:
        """Queue one of the client's messages; never waits (a full queue ends the connection, logged)."""
        try:
            self._send.send_nowait(message)
        except anyio.WouldBlock:
            logger.warning(
                "forwarded session %s: %d client messages unread; connection cut off",
                self.request.sid,
                RELAY_QUEUE,
            )
            self._send.close()  # what is queued is still read, then the engine sees a disconnect
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass

    async def receive(self) -> AsgiMessage:
        """The engine's ASGI ``receive``: the client's next message, a disconnect once there is none."""
        try:
            message = await self._inbound.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            return self.disconnect
        if message["type"] == "websocket.receive":
            self._taken.took()
        return message

    def close(self) -> None:
        self._send.close()
        self._inbound.close()


def _head(scope: Scope) -> RequestHead:
    client = scope.get("client")
    return RequestHead(
        kind="http" if scope["type"] == "http" else "websocket",
        method=scope.get("method", "GET"),
        path=scope.get("path", ""),
        query_string=bytes(scope.get("query_string", b"")),
        headers=tuple((bytes(k), bytes(v)) for k, v in scope.get("headers", ())),
        client=None if not client else (str(client[0]), int(client[1])),
        scheme=scope.get("scheme", "http"),
    )


def _scope(request: ForwardRequest) -> dict[str, Any]:
    head = request.head
    return {
        "type": head.kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": head.method,
        "scheme": head.scheme,
        "path": head.path,
        "raw_path": head.path.encode(),
        "root_path": "",
        "query_string": head.query_string,
        "headers": list(head.headers),
        "client": head.client,
        "server": None,
        "extensions": {},
        FORWARDED: request.entry,
    }
