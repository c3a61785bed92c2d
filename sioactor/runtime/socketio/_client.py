"""The Socket.IO side of one Engine.IO session (``Client``) and the ``EngineListener`` that routes sessions'
messages to them.

Everything here runs in the engine session's task through the listener's plain calls, so it never awaits:
packets are decoded, ACKs resolved on the spot (never behind a handler, see ``actors/socketio/_acks.py``),
and everything else is told to the socket actor of its namespace.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl

from sioactor._errors import ProtocolError, SendError
from sioactor.actors._trace import TraceKind
from sioactor.actors.engineio._api import EngineConnection
from sioactor.actors.socketio import Connect, event_received
from sioactor.protocol._reasons import DisconnectReason, EngineCloseReason
from sioactor.protocol.socketio import Packet, PacketType, Parser
from sioactor.runtime.socketio._socket import Socket

if TYPE_CHECKING:
    from sioactor.runtime.socketio._config import SocketIoConfig
    from sioactor.runtime.socketio._connect_timeouts import ConnectTimeouts
    from sioactor.runtime.socketio._namespace import Namespace

__all__ = ("Client", "ClientHost", "SocketIoListener")

logger = logging.getLogger("sioactor.socketio")


class ClientHost(Protocol):
    """What the clients need from their server (``SocketIo``)."""

    @property
    def config(self) -> SocketIoConfig:
        """The server's options."""

    @property
    def running(self) -> bool:
        """Whether the server accepts connections."""

    @property
    def _parser(self) -> Parser:
        """The packet parser."""

    @property
    def _connect_timeouts(self) -> ConnectTimeouts:
        """The connect timeout of every client."""

    def _namespace_for(self, path: str) -> Namespace | None:
        """The live namespace *path* (made for a dynamic pattern), or ``None``."""

    def _new_sid(self) -> str:
        """A fresh socket id."""

    def _trace(self, kind: TraceKind, actor: str, **details: Any) -> None:
        """Report to the tracer, if one listens."""


class Client:
    """One Engine.IO session's Socket.IO state: its packet decoder and its socket per namespace."""

    __slots__ = ("__weakref__", "_decoder", "_io", "_name", "conn", "connected", "sockets")

    def __init__(self, io: ClientHost, conn: EngineConnection) -> None:
        self._io = io
        self.conn = conn
        self._name = f"client:{conn.sid}"
        config = io.config
        self._decoder = io._parser.decoder(
            max_attachments=config.max_attachments, max_size=config.engine.max_payload
        )
        self.sockets: dict[str, Socket] = {}
        # The connect timeout no longer applies: a namespace was joined, or the session ended.
        self.connected = False

    def start(self) -> None:
        """Arm the connect timeout; an Engine.IO v3 client is connected to ``/`` implicitly."""
        self._io._connect_timeouts.arm(self)
        if self.conn.protocol == 3:
            self._connect("/", None)

    def connect_timed_out(self) -> None:
        """No namespace joined within the connect timeout: close the session."""
        logger.info("%s: no namespace joined within the connect timeout; closing", self._name)
        self.conn.close(EngineCloseReason.FORCED_CLOSE)

    def accepted(self, socket: Socket) -> None:
        """A socket of this client joined its namespace: the connect timeout no longer applies."""
        self.connected = True  # the connect timeout no longer applies

    def forget(self, socket: Socket) -> None:
        """Socket *socket* left; a new CONNECT to its namespace may follow."""
        if self.sockets.get(socket.ns) is socket:
            del self.sockets[socket.ns]

    def on_message(self, data: str | bytes) -> None:
        """One Engine.IO message from the client (a packet, or an attachment of one)."""
        try:
            packet = self._decoder.feed(data)
        except ProtocolError as exc:
            self._protocol_error(exc.reason)
            return
        if packet is None:
            return
        kind = packet.type
        if kind is PacketType.EVENT:
            self._event(packet)
        elif kind is PacketType.ACK:
            self._ack(packet)
        elif kind is PacketType.CONNECT:
            # A v4 client (Engine.IO v3) has no auth payload; its credentials travel in the namespace query.
            auth = dict(parse_qsl(packet.query)) if packet.query is not None else packet.data
            self._connect(packet.nsp, auth)
        elif kind is PacketType.DISCONNECT:
            self._disconnect(packet.nsp)
        else:
            self._protocol_error(f"a client may not send {kind.name}")

    def on_close(self, reason: EngineCloseReason) -> None:
        """The session ended: every socket of it disconnects with the matching reason."""
        self.connected = True  # the connect timeout no longer applies
        disconnect_reason = DisconnectReason.from_engine(reason)
        for socket in list(self.sockets.values()):
            socket._close(disconnect_reason, notify=False)

    def _event(self, packet: Packet) -> None:
        socket = self.sockets.get(packet.nsp)
        data = packet.data
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            self._protocol_error(f"EVENT payload must be a list starting with the event name, got {data!r}")
            return
        if socket is None:
            self._ignore(f"event {data[0]!r} for namespace {packet.nsp!r}, which this client has not joined")
            return
        try:
            socket._tell(event_received(data[0], tuple(data[1:]), packet.id))
        except SendError as exc:  # the actor's ref traced MAILBOX_FULL (or CLOSED) already
            logger.warning("%s: event %r dropped: %s", socket._name, data[0], exc)

    def _ack(self, packet: Packet) -> None:
        socket = self.sockets.get(packet.nsp)
        args = packet.data if isinstance(packet.data, list) else [packet.data]
        if socket is None or packet.id is None or not socket.acks.resolve(packet.id, args):
            self._ignore(f"ACK with unknown id {packet.id!r} on namespace {packet.nsp!r}")
            return
        self._io._trace(TraceKind.ACK_RECEIVED, socket._name, detail=str(packet.id))

    def _connect(self, nsp: str, auth: Any) -> None:
        if nsp in self.sockets:
            self._ignore(f"second CONNECT to namespace {nsp!r}")
            return
        if not self._io.running:  # closing or closed: end the session rather than leave the client waiting
            self._ignore(f"CONNECT to {nsp!r} while the server is not running")
            self.conn.close(EngineCloseReason.SERVER_SHUTTING_DOWN)
            return
        ns = self._io._namespace_for(nsp)
        if ns is None:
            message = "Invalid namespace"
            payload: Any = {"message": message} if self.conn.protocol == 4 else message
            self._send(Packet(type=PacketType.CONNECT_ERROR, nsp=nsp, data=payload))
            return
        socket = Socket(self, ns, self._io._new_sid())
        self.sockets[nsp] = socket
        socket._tell(Connect(auth=auth))

    def _disconnect(self, nsp: str) -> None:
        socket = self.sockets.get(nsp)
        if socket is not None:
            socket._close(DisconnectReason.CLIENT_NS_DISCONNECT, notify=False)

    def _send(self, packet: Packet) -> None:
        try:
            self.conn.send(self._io._parser.encode(packet))
        except SendError as exc:
            logger.info("%s: could not answer %s: %s", self._name, packet.type.name, exc)

    def _ignore(self, what: str) -> None:
        logger.info("%s: ignored %s", self._name, what)
        self._io._trace(TraceKind.DROPPED, self._name, detail=what)

    def _protocol_error(self, reason: str) -> None:
        logger.warning("%s: protocol error, closing the connection: %s", self._name, reason)
        self._io._trace(TraceKind.PROTOCOL_ERROR, self._name, detail=reason)
        self.conn.close(EngineCloseReason.PARSE_ERROR)


class SocketIoListener:
    """The ``EngineListener`` of a ``SocketIo`` server: one ``Client`` per Engine.IO session."""

    __slots__ = ("_clients", "_io")

    def __init__(self, io: ClientHost) -> None:
        self._io = io
        self._clients: dict[str, Client] = {}

    def __len__(self) -> int:
        return len(self._clients)

    def on_open(self, conn: EngineConnection) -> None:
        """A session finished its handshake (closed at once if it slipped in while the server closes)."""
        if not self._io.running:
            conn.close(EngineCloseReason.SERVER_SHUTTING_DOWN)
            return
        client = Client(self._io, conn)
        self._clients[conn.sid] = client
        client.start()

    def on_message(self, conn: EngineConnection, data: str | bytes) -> None:
        """One message of a session."""
        client = self._clients.get(conn.sid)
        if client is not None:
            client.on_message(data)

    def on_close(self, conn: EngineConnection, reason: EngineCloseReason) -> None:
        """A session ended."""
        client = self._clients.pop(conn.sid, None)
        if client is not None:
            client.on_close(reason)
