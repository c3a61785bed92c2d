"""``EngineServer``: the session registry, the handshake, and the ASGI entry point for one Engine.IO path."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Literal

import anyio
import anyio.abc

from sioactor._lowlevel import current_backend
from sioactor.actors._trace import Tracer
from sioactor.actors.engineio._api import EngineConnection, EngineListener, RequestInfo, TransportName
from sioactor.actors.engineio._request import RawHeaders, RawQuery
from sioactor.actors.engineio._scheduler import EngineScheduler
from sioactor.actors.engineio._session import EngineSession
from sioactor.protocol._reasons import EngineCloseReason
from sioactor.protocol.engineio import Handshake, encode_open
from sioactor.runtime._random_ids import random_id
from sioactor.runtime._server._direct import DIRECT_WEBSOCKET
from sioactor.runtime.engineio._config import EngineConfig, session_config
from sioactor.runtime.engineio._direct import handle_direct_websocket
from sioactor.runtime.engineio._http import EngineError, Receive, Scope, Send
from sioactor.runtime.engineio._locator import SessionLocator
from sioactor.runtime.engineio._polling import handle_http
from sioactor.runtime.engineio._refusals import ConnectionErrorListener, RefusalListeners, RequestRefused
from sioactor.runtime.engineio._websocket import handle_websocket

__all__ = ("EngineServer", "new_sid")

logger = logging.getLogger("sioactor.engineio")


def new_sid() -> str:
    """A fresh session id: 20 characters of the URL-safe base64 alphabet (15 random bytes), as Node's."""
    return random_id()


class EngineServer:
    """An Engine.IO server for one path: answers handshakes, keeps one session actor per client.

    Sessions have no tasks of their own: ``run`` runs the server's ``EngineScheduler`` (every session's
    heartbeat, direct WebSocket writes and closes, in one task); handshakes arriving before it started, or
    after ``close``, are refused (Engine.IO's error answer, ``Server is not running``; a WebSocket is closed).
    Serve it with ``engine_asgi_app`` (which runs ``run`` under the ASGI lifespan) or mount ``__call__``
    yourself while ``run`` is running.

    Attributes:
        config: the configuration.
        sessions: the live sessions by sid (a read-only view).
        locator: asked to have another node serve a request whose sid is unknown here (``None``: refuse it).
    """

    def __init__(
        self, config: EngineConfig, listener: EngineListener, *, tracer: Tracer | None = None
    ) -> None:
        self.config = config
        self._listener = listener
        self._tracer = tracer
        self._sessions: dict[str, EngineSession] = {}
        self._forget_session = self._forget  # one bound method for every session's on_done
        self.sessions: Mapping[str, EngineConnection] = MappingProxyType(self._sessions)
        self._path = (config.path or "/engine.io").rstrip("/")
        self._session_config = session_config(config)
        self._scheduler = EngineScheduler()
        self._clock: Callable[[], float] = anyio.current_time  # the loop's own clock once running
        self._task_group: anyio.abc.TaskGroup | None = None
        self._stop = anyio.Event()
        self._stopped = anyio.Event()
        self._emptied = anyio.Event()
        self._refusal_listeners = RefusalListeners()
        # Consulted for a request naming a sid unknown here (set by a cluster that forwards sessions).
        self.locator: SessionLocator | None = None

    def handles(self, path: str) -> bool:
        """Whether a request for *path* belongs to this server (its path, with or without what follows)."""
        return path == self._path or path.startswith(self._path + "/")

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Serve sessions until cancelled or ``close()``; every session actor lives and dies inside it."""
        try:
            async with anyio.create_task_group() as tg:
                backend = current_backend()
                self._clock = backend.clock
                await tg.start(self._scheduler.run, backend.call_soon)
                self._task_group = tg
                task_status.started()
                await self._stop.wait()
                await self._close_sessions()
                tg.cancel_scope.cancel()
        finally:
            self._task_group = None
            # Cancelled from outside (or the flush ran out of time): every session still ends, once.
            for session in list(self._sessions.values()):
                session.abandon()
            self._stopped.set()

    async def close(self) -> None:
        """Close every session with ``SERVER_SHUTTING_DOWN`` (flushing their outboxes), stop, and return."""
        self._stop.set()
        if self._task_group is not None:
            await self._stopped.wait()

    async def _close_sessions(self) -> None:
        for session in list(self._sessions.values()):
            session.close(EngineCloseReason.SERVER_SHUTTING_DOWN)
        if self._sessions:
            self._emptied = anyio.Event()
            with anyio.move_on_after(self.config.flush_timeout + 1, shield=True):
                await self._emptied.wait()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI application for this server's path (``http`` and ``websocket`` scopes)."""
        if scope["type"] == "http":
            await handle_http(self, scope, receive, send)
        elif scope["type"] == "websocket":
            offer = scope.get("extensions", {}).get(DIRECT_WEBSOCKET)
            if offer is not None:
                await handle_direct_websocket(self, scope, receive, send, offer)
            else:
                await handle_websocket(self, scope, receive, send)

    def on_connection_error(self, listener: ConnectionErrorListener) -> ConnectionErrorListener:
        """Call *listener* (a plain function) with a ``RequestRefused`` for every request the engine refuses
        before it reaches a session (Node's ``io.engine.on("connection_error")``), for logging or metrics;
        usable as a decorator. A listener that raises is logged; the request is refused all the same.
        """
        self._refusal_listeners.add(listener)
        return listener

    # -- what the transports call -------------------------------------------------------------------------

    def refused(self, scope: Scope, code: EngineError, message: str = "", /, **context: Any) -> None:
        """Tell the ``connection_error`` listeners that the request of *scope* is refused with *code* (and
        *message*, when not Node's text for the code); *context* says why, with Node's keys."""
        if self._refusal_listeners:
            refusal = RequestRefused(
                request=self.request_info(scope),
                code=code,
                message=message or code.message,
                context=MappingProxyType(context),
            )
            self._refusal_listeners.tell(refusal)

    def lookup_upgrade(self, sid: str, scope: Scope) -> EngineSession | None:
        """``lookup`` for a WebSocket upgrade; an unknown *sid* is reported (see ``refused``)."""
        session = self.lookup(sid)
        if session is None:
            self.refused(scope, EngineError.UNKNOWN_SID, sid=sid)
        return session

    @property
    def running(self) -> bool:
        """``run`` is serving and ``close`` has not been called."""
        return self._task_group is not None and not self._stop.is_set()

    def lookup(self, sid: str) -> EngineSession | None:
        """The session *sid*, or ``None``; a session past its heartbeat deadline is closed first."""
        session = self._sessions.get(sid)
        if session is not None:
            session.expired()
        return session

    def check_handshake(self, query: Mapping[str, str], method: str) -> EngineError | None:
        """Why a handshake (a request without sid) must be refused, or ``None``."""
        if method != "GET":
            return EngineError.BAD_HANDSHAKE_METHOD
        if self.protocol_of(query) is None:
            return EngineError.UNSUPPORTED_PROTOCOL_VERSION
        return None

    def protocol_of(self, query: Mapping[str, str]) -> Literal[3, 4] | None:
        """The Engine.IO revision the request asks for, if this server accepts it."""
        eio = query.get("EIO")
        if eio == "4":
            return 4
        if eio == "3" and self.config.allow_eio3:
            return 3
        return None

    def transport_known(self, transport: str | None) -> bool:
        """Whether *transport* is one this server offers."""
        return transport in self.config.transports

    async def allowed(self, request: RequestInfo) -> str | None:
        """Ask ``allow_request``; the refusal message, or ``None`` when the handshake may proceed."""
        hook = self.config.allow_request
        if hook is None:
            return None
        verdict = await hook(request)
        if verdict is True:
            return None
        return verdict if isinstance(verdict, str) and verdict else EngineError.FORBIDDEN.message

    def request_info(self, scope: Scope) -> RequestInfo:
        """The handshake request as the layers above see it (headers and query decoded when read)."""
        client = scope.get("client")
        return RequestInfo(
            path=scope.get("path", ""),
            query=RawQuery(scope.get("query_string", b"")),
            headers=RawHeaders.of(scope.get("headers", ())),
            remote_address=(str(client[0]), int(client[1])) if client else None,
            secure=scope.get("scheme") in ("https", "wss"),
        )

    async def open_session(
        self, protocol: Literal[3, 4], transport: TransportName, request: RequestInfo
    ) -> EngineSession:
        """Create a session, register it and open it (``listener.on_open``); its heartbeat starts."""
        assert self._task_group is not None
        session = EngineSession(
            sid=new_sid(),
            protocol=protocol,
            transport=transport,
            request=request,
            config=self._session_config,
            listener=self._listener,
            scheduler=self._scheduler,
            clock=self._clock,
            on_done=self._forget_session,
            tracer=self._tracer,
            logger=logger,
        )
        self._sessions[session.sid] = session
        session.open()
        return session

    def handshake_headers(self, session: EngineSession) -> list[tuple[bytes, bytes]]:
        """The extra headers of the answer that opens *session*: the ``cookie`` option's, if set."""
        cookie = self.config.cookie
        return [] if cookie is None else [cookie.header(session.sid)]

    def open_packet(self, session: EngineSession) -> str:
        """The OPEN packet text (``0{...}``) for *session*."""
        upgrades = (
            ("websocket",) if session.transport == "polling" and "websocket" in self.config.transports else ()
        )
        handshake = Handshake(
            sid=session.sid,
            upgrades=upgrades,
            ping_interval=round(self.config.ping_interval * 1000),
            ping_timeout=round(self.config.ping_timeout * 1000),
            max_payload=self.config.max_payload,
        )
        return encode_open(handshake, protocol=session.protocol)

    def _forget(self, session: EngineSession) -> None:
        if self._sessions.get(session.sid) is session:
            del self._sessions[session.sid]
        if not self._sessions:
            self._emptied.set()
