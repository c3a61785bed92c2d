"""The embedded server's configuration: every bound and timeout, with its default."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerConfig:
    """How `serve_asgi` listens and what it bounds.

    Attributes:
        host: address to bind; loopback by default so nothing is exposed unless asked.
        port: TCP port; ``0`` picks an ephemeral port (reported through ``task_status``).
        backlog: listen backlog (pending, not yet accepted connections).
        root_path: the ASGI ``root_path`` put in every scope (a mount prefix), ``""`` by default.
        max_header_size: bytes allowed for a request line plus headers; beyond → 431 and close.
        max_body_buffer: request body bytes read ahead of the app; reading pauses until it consumes them.
        read_size: the most bytes asked of the socket per read (64 KiB).
        keep_alive_timeout: seconds an idle keep-alive connection waits for its next request, and a request
            head may take to arrive in full (5 s).
        body_timeout: seconds a request body may take to arrive in full, from the app's first read (30 s);
            past it the request is answered 408 (or the app told the client is gone), the connection closed.
        body_read_timeout: seconds each read of a request body waits for its next bytes (5 s), so a body
            must keep coming; also the whole time allowed to skip a body the app answered without reading.
        ws_max_message_size: bytes in one WebSocket message (all its frames); bigger → close 1009 (1 MB,
            Engine.IO's ``maxPayload``; ``io.serve()`` and ``sioactor serve`` use the engine's max_payload).
        ws_inbox_size: WebSocket messages received but not yet taken by the app; reading pauses beyond (64).
        ws_write_buffer: outgoing WebSocket bytes queued for the socket; ``websocket.send`` waits beyond
            (1 MiB), which is how a slow client pushes back on the app.
        ws_close_timeout: seconds to wait for the client's half of a close handshake before dropping it (5 s).
        lifespan: run the ASGI lifespan protocol (startup before accepting, shutdown after); apps that
            do not support it are served anyway.
        lifespan_timeout: seconds allowed for startup and for shutdown each (30 s).
        shutdown_timeout: the grace period of a shutdown (a signal, or a cancellation of ``serve_asgi``),
            in seconds (10 s): the app's lifespan shutdown, which tells the clients, then the WebSockets'
            close handshakes; the connections still open after it are closed.
        handle_signals: SIGINT and SIGTERM shut the server down gracefully and ``serve_asgi`` returns (a
            second signal ends the grace period at once); only in the main thread, where signals arrive.
        gc_thresholds: opt-in, process-wide: the garbage collector's thresholds while serving, after
            freezing what the started app holds (see ``_gc.py``); ``(20_000, 20, 50)`` suits a server with
            thousands of connections. ``None`` (the default) leaves the collector as it is.
        workers: processes serving the one port (1). With N > 1 the process binds the port and forks N
            workers (at most 64) that share it and form a cluster through the parent, with no Redis: a
            ``SocketIo`` with the default adapter gets the cluster adapter, and any worker takes any
            request, handing a session's connection to the worker that owns it. A worker that dies is
            replaced; SIGINT or SIGTERM stops them all gracefully (see ``_workers.py``). Linux only.
        inline_requests: serve a keep-alive request that is whole on arrival from the read callback, with no
            task woken, when sioactor's app offers to (polling requests of a known Engine.IO session): the
            app's own handler then stands in for the whole app. ``None`` (the default): only when the served
            app is sioactor's own (``io.asgi()`` without ``serve_client``, ``engine_asgi_app``), so ASGI
            middleware around it always sees every request; ``True``: also under an app of yours that hands
            those requests on unchanged (a path dispatcher); ``False``: never.
    """

    host: str = "127.0.0.1"
    port: int = 3000
    backlog: int = 2048
    root_path: str = ""
    max_header_size: int = 16_384
    max_body_buffer: int = 65_536
    read_size: int = 65_536
    keep_alive_timeout: float = 5.0
    body_timeout: float = 30.0
    body_read_timeout: float = 5.0
    ws_max_message_size: int = 1_000_000
    ws_inbox_size: int = 64
    ws_write_buffer: int = 1_048_576
    ws_close_timeout: float = 5.0
    lifespan: bool = True
    lifespan_timeout: float = 30.0
    shutdown_timeout: float = 10.0
    handle_signals: bool = True
    gc_thresholds: tuple[int, int, int] | None = None
    workers: int = 1
    inline_requests: bool | None = None
