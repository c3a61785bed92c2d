"""Namespaces: the registered pattern (``NamespaceSpec``: static ``/chat`` or dynamic ``/tenant/{id}``, its
connect handler and middleware chain) and the live ``Namespace`` (its sockets, room registry and adapter).

A dynamic pattern creates one live namespace per concrete path a client connects to, as Node's parent
namespaces do; its parameters reach handlers through ``NsParams`` and ``socket.ns_params``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sioactor.actors._trace import TraceKind
from sioactor.actors.socketio import RoomRegistry
from sioactor.protocol._reasons import DisconnectReason
from sioactor.protocol.socketio import Packet, PacketType, Parser
from sioactor.runtime.socketio._ack import AckStream
from sioactor.runtime.socketio._adapter import Adapter, LocalAdapter
from sioactor.runtime.socketio._errors import ConfigError, ConnectRefused
from sioactor.runtime.socketio._handler import SKIPPED, CompiledHandler

if TYPE_CHECKING:
    from sioactor.runtime.socketio._io import SocketIo
    from sioactor.runtime.socketio._socket import Socket

__all__ = ("Namespace", "NamespaceSpec")

logger = logging.getLogger("sioactor.socketio")

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class NamespaceSpec:
    """A registered namespace pattern with its connect handler and middleware chain."""

    __slots__ = ("middleware", "on_connect", "pattern", "regex")

    def __init__(
        self, pattern: str, on_connect: CompiledHandler | None, middleware: Sequence[CompiledHandler]
    ) -> None:
        if not pattern.startswith("/"):
            raise ConfigError(f"a namespace path starts with '/': got {pattern!r}")
        self.pattern = pattern
        self.on_connect = on_connect
        self.middleware = list(middleware)
        self.regex: re.Pattern[str] | None = None
        if _PARAM.search(pattern):
            parts = _PARAM.split(pattern)
            # Even indexes are literal text, odd ones parameter names: "/t/{id}" -> ["/t/", "id", ""].
            source = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/?#]+)" for i, p in enumerate(parts))
            self.regex = re.compile(source + r"\Z")

    @property
    def dynamic(self) -> bool:
        """True for a pattern with ``{param}`` parts."""
        return self.regex is not None

    def match(self, path: str) -> Mapping[str, str] | None:
        """The parameters if *path* matches this pattern, else ``None`` (``{}`` for a static match)."""
        if self.regex is None:
            return {} if path == self.pattern else None
        found = self.regex.match(path)
        return found.groupdict() if found else None


class Namespace:
    """A live namespace: its sockets, room registry, adapter and the ack-id counter of its emits."""

    __slots__ = ("_ack_id", "adapter", "io", "params", "parser", "path", "registry", "sockets", "spec")

    def __init__(self, io: SocketIo, path: str, params: Mapping[str, str], spec: NamespaceSpec) -> None:
        self.io = io
        self.path = path
        self.params = params
        self.spec = spec
        self.parser: Parser = io.parser
        self.registry = RoomRegistry()
        self.sockets: dict[str, Socket] = {}
        self.adapter: Adapter = LocalAdapter(self)
        self._ack_id = 0

    def next_ack_id(self) -> int:
        """A fresh ack id: one counter per namespace (as Node), as a broadcast shares its id."""
        ack_id = self._ack_id
        self._ack_id += 1
        return ack_id

    def ack_stream(self, timeout: float | None, convert: Callable[[Any], Any] | None) -> AckStream:
        """A stream for one emit's answers (*timeout* ``None``: the server's ``ack_timeout``)."""
        return AckStream(
            timeout=self.io.config.ack_timeout if timeout is None else timeout,
            convert=convert,
            on_timeout=self._ack_timed_out,
        )

    def _ack_timed_out(self, sid: str) -> None:
        logger.debug("%s: socket %s did not answer an ack in time", self.path, sid)
        self.io.trace(TraceKind.ACK_TIMEOUT, f"socket:{self.path}:{sid}")

    async def connect(self, socket: Socket, auth: Any) -> None:
        """Run the middleware chain, then accept (CONNECT reply, connect handler) or refuse the socket."""
        socket.auth = auth
        ctx = socket._context()
        for middleware in self.spec.middleware:
            refusal = await self._run_middleware(middleware, ctx)
            if refusal is not None:
                self._refuse(socket, *refusal)
                return
        self._accept(socket)
        if self.spec.on_connect is not None:
            await self.spec.on_connect(ctx)

    async def _run_middleware(self, middleware: CompiledHandler, ctx: Any) -> tuple[str, Any] | None:
        try:
            result = await middleware(ctx)
        except ConnectRefused as exc:
            return exc.message, exc.data
        except Exception as exc:
            logger.warning("%s: connect middleware %s failed", self.path, middleware.name, exc_info=exc)
            return str(exc) or type(exc).__name__, None
        if result is SKIPPED:
            return "Invalid auth payload", None
        return None

    def _accept(self, socket: Socket) -> None:
        self.sockets[socket.id] = socket
        self.registry.join(socket.id, (socket.id,))
        socket._accept()
        socket._client.accepted(socket)
        data = {"sid": socket.id} if socket.conn.protocol == 4 else None
        socket.conn.send(self.parser.encode(Packet(type=PacketType.CONNECT, nsp=self.path, data=data)))

    def _refuse(self, socket: Socket, message: str, data: Any) -> None:
        if socket.conn.protocol == 4:
            payload: Any = {"message": message} if data is None else {"message": message, "data": data}
        else:
            payload = message
        packet = Packet(type=PacketType.CONNECT_ERROR, nsp=self.path, data=payload)
        socket.conn.send_volatile(self.parser.encode(packet))
        socket._close(DisconnectReason.SERVER_NS_DISCONNECT, notify=False)

    def detach(self, socket: Socket) -> None:
        """Take *socket* out of every selection (it is disconnecting); its rooms stay readable."""
        if self.sockets.get(socket.id) is socket:
            del self.sockets[socket.id]

    def remove(self, socket: Socket) -> None:
        """Forget *socket*'s rooms (after its disconnect handler)."""
        self.detach(socket)
        self.registry.remove_socket(socket.id)
        self.io.socket_removed()
