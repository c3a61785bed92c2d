"""The reference server: the contract that the official protocol suites and real clients run against.

    python examples/reference_server.py --host 127.0.0.1 --port 3000 [--parser json|msgpack] [--allow-eio3]

One process serves:

- ``/engine.io/``: a raw Engine.IO v4 echo server (every message sent back unchanged, text as text, binary as
  binary), as the official engine.io-protocol suite expects;
- ``/socket.io/``: a Socket.IO server with namespaces ``/`` and ``/custom`` as the official socket.io-protocol
  suite expects (connectTimeout 1000 ms; on connect it emits ``auth`` with the handshake auth, ``{}`` if none,
  after the CONNECT reply; ``message`` → ``message-back`` with the same arguments; ``message-with-ack`` → ack
  with the same arguments), plus the handlers the interop tests and benchmarks use on ``/`` (``echo``,
  ``echo_ack``, ``echo_async`` -- an ``async def`` that awaits one checkpoint, then emits ``echo_async`` back
  with the same arguments --, ``bcast``, ``join``, ``leave``, ``to_room``, ``server_disconnect``,
  ``ask_client``, ``emit_reserved``, ``local_bcast``, ``handshake`` -- acks ``socket.handshake`` in Node's
  shape --, ``any_count`` -- acks how many events this socket's catch-all listener has seen, itself
  included) and ``/private``, whose middleware refuses a socket unless ``auth.token == "ok"``. Every socket
  of ``/`` has a catch-all listener (``on_any``) and a per-packet middleware that refuses events named
  ``forbidden``; its error handler then emits ``refused`` with the refused event's name to that client.

``--cookie NAME`` sets the handshake cookie (Node's ``cookie`` option) with that name. ``--compress`` turns
WebSocket permessage-deflate on; it is off otherwise, under uvicorn too (hypercorn always offers it).

Polling responses of 1 KiB and more are gzipped (or deflated) when the request accepts it, with no flag
(Node's ``httpCompression`` default); ``--compress`` turns on permessage-deflate on the embedded server's
WebSocket (off by default, as Node's ``perMessageDeflate``; uvicorn and hypercorn negotiate their own).

With ``--workers N`` (embedded server) N processes serve the one port as one cluster, with no Redis; the
handler ``worker`` acks the process id of the worker that owns the socket.

With ``--redis URL`` it joins a cluster of Socket.IO servers (sioactor or Node) through
``@socket.io/redis-adapter``'s classic protocol, or with ``--redis-adapter sharded`` through its
``createShardedAdapter`` (Redis 7 sharded pub/sub; ``--redis-subscription-mode``, default ``dynamic``);
``--redis-key`` is the key prefix, ``--server-id`` names this node, by default ``hostname:pid``. Then ``/``
also has the cluster handlers, each answering through the client's ack:
``who`` (the server id), ``set_data(obj)``, ``server_count``, ``cluster_fetch(room|null)``, ``cluster_rooms``,
``cluster_sse(payload)``, ``cluster_join(room, target|null)``, ``cluster_leave(room, target|null)``,
``cluster_disconnect(target)``, ``cluster_emit_ack(event, payload)``; every server answers a server-side
``sse(payload)`` with ``{server, payload}``. Without ``--redis`` these handlers work on this node alone.

``--server uvicorn --workers N --redis URL`` runs N uvicorn worker processes on the one port, each a node of
the cluster on that Redis with session forwarding on (``RedisAdapter.from_url(url, forward_sessions=True)``):
any worker takes any request of any session, with no sticky sessions (``--redis URL --forward-sessions``
does the same for separate servers, e.g. behind a round-robin balancer). ``worker`` on ``/`` acks the process
id of the worker that owns the socket. (The raw Engine.IO echo server at ``/engine.io/`` is not clustered:
its sessions need every request on the worker that opened them.)

Both use pingInterval 300 ms, pingTimeout 200 ms (``--ping-interval``/``--ping-timeout`` change them),
maxPayload 1000000 and CORS ``*``. It prints ``listening on http://HOST:PORT`` once it accepts connections.
On SIGINT or SIGTERM the embedded server shuts down gracefully (every client is told ``server shutting
down``) and the process exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import importlib.util
import json
import logging
import os
import socket as stdlib_socket
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import anyio.lowlevel

from sioactor import (
    AckError,
    AckSender,
    AdapterFactory,
    Args,
    ASGIApp,
    Auth,
    ConnectRefused,
    CookieConfig,
    CorsConfig,
    EngineCloseReason,
    EngineConfig,
    EngineConnection,
    EngineServer,
    Event,
    LifespanFailed,
    LocalAdapter,
    Receive,
    RedisAdapter,
    RedisShardedAdapter,
    RedisUnavailable,
    ReservedEventError,
    Scope,
    Send,
    ServerConfig,
    SioactorError,
    Socket,
    SocketIo,
    SocketIoConfig,
    SyncRedisEmitter,
    engine_asgi_app,
    serve_asgi,
    serve_lifespan,
)


class EchoListener:
    """Sends every message back to the session that sent it."""

    def on_open(self, conn: EngineConnection) -> None:
        pass

    def on_message(self, conn: EngineConnection, data: str | bytes) -> None:
        conn.send_volatile(data)

    def on_close(self, conn: EngineConnection, reason: EngineCloseReason) -> None:
        pass


def build_engine_echo_server(
    *, ping_interval_ms: int = 300, ping_timeout_ms: int = 200, allow_eio3: bool = False
) -> EngineServer:
    """The raw Engine.IO echo server at ``/engine.io/`` configured as the engine.io-protocol suite expects."""
    config = EngineConfig(
        path="/engine.io",
        ping_interval=ping_interval_ms / 1000,
        ping_timeout=ping_timeout_ms / 1000,
        max_payload=1_000_000,
        cors=CorsConfig(origins="*"),
        allow_eio3=allow_eio3,
    )
    return EngineServer(config, EchoListener())


# --- the Socket.IO half ------------------------------------------------------------------------------------


def build_socketio_server(
    *,
    parser: str = "json",
    allow_eio3: bool = False,
    ping_interval_ms: int = 300,
    ping_timeout_ms: int = 200,
    connect_timeout_ms: int = 1000,
    trace_endpoint: str | None = None,
    per_message_deflate: bool = False,
    cookie: str | None = None,
    redis: str | None = None,
    redis_key: str = "socket.io",
    redis_adapter: str = "classic",
    redis_subscription_mode: str = "dynamic",
    server_id: str | None = None,
    forward_sessions: bool = False,
) -> SocketIo:
    """The Socket.IO server at ``/socket.io/`` with the handlers of the contract (*trace_endpoint*: serve
    the actor trace there, for ``sioactor console`` and the tracing-cost bench; *cookie*: the name of the
    handshake cookie, none when ``None``; *redis*: join the cluster on that Redis, with key prefix
    *redis_key*, as *server_id*, through the *redis_adapter* (``classic`` or ``sharded``, the latter in
    *redis_subscription_mode*); *forward_sessions*: any node of that cluster takes any request)."""
    engine = EngineConfig(
        ping_interval=ping_interval_ms / 1000,
        ping_timeout=ping_timeout_ms / 1000,
        max_payload=1_000_000,
        cors=CorsConfig(origins="*"),
        allow_eio3=allow_eio3,
        per_message_deflate=per_message_deflate,
        cookie=None if cookie is None else CookieConfig(name=cookie),
    )
    config = SocketIoConfig(
        engine=engine,
        connect_timeout=connect_timeout_ms / 1000,
        parser="msgpack" if parser == "msgpack" else "json",
        trace_endpoint=trace_endpoint,
    )
    adapter: AdapterFactory = LocalAdapter
    if redis is not None and redis_adapter == "sharded":
        adapter = RedisShardedAdapter.from_url(
            redis, key=redis_key, subscription_mode=redis_subscription_mode
        )
    elif redis is not None:
        adapter = RedisAdapter.from_url(redis, key=redis_key, forward_sessions=forward_sessions)
    io = SocketIo(config, adapter=adapter)

    def on_connect(socket: Socket, auth: Auth[Any]) -> None:
        socket.emit("auth", {} if auth is None else auth)

    async def bcast(args: Args) -> None:
        await io.emit("bcast", args)

    def on_connect_root(socket: Socket, auth: Auth[Any]) -> None:
        socket.on_any(count_event)
        socket.use(refuse_forbidden)
        socket.on_error(tell_refused)
        on_connect(socket, auth)

    io.ns("/", on_connect_root)
    io.ns("/custom", on_connect)
    io.ns("/private", on_connect, middleware=[require_token])
    for path in ("/", "/custom", "/private"):
        io.on("message", message, namespace=path)
        io.on("message-with-ack", ack_same, namespace=path)
    io.on("echo", echo)
    io.on("echo_ack", ack_same)
    io.on("echo_async", echo_async)
    io.on("join", join)
    io.on("leave", leave)
    io.on("to_room", to_room)
    io.on("server_disconnect", server_disconnect)
    io.on("ask_client", ask_client)
    io.on("bcast", bcast)
    io.on("emit_reserved", emit_reserved)
    io.on("worker", worker)
    io.on("local_bcast", local_bcast)
    io.on("handshake", handshake)
    io.on("any_count", any_count)
    add_cluster_handlers(io, server_id or f"{stdlib_socket.gethostname()}:{os.getpid()}")
    return io


# Handlers that never wait are plain functions: they run at once in the task that read the event (the bench's
# echo and echo_ack take this path); those that await are async def and run in the socket's task.


def message(socket: Socket, args: Args) -> None:
    socket.emit("message-back", args)


def ack_same(args: Args, ack: AckSender) -> None:
    ack.send(args)


def echo(socket: Socket, args: Args) -> None:
    socket.emit("echo", args)


async def echo_async(socket: Socket, args: Args) -> None:
    await anyio.lowlevel.checkpoint()  # an async handler, in the socket's task: after one loop turn
    socket.emit("echo_async", args)


async def join(socket: Socket, args: Args, ack: AckSender) -> None:
    socket.join(str(args[0]) if args else "")
    ack.send(await socket.rooms())


async def leave(socket: Socket, args: Args, ack: AckSender) -> None:
    socket.leave(str(args[0]) if args else "")
    ack.send(await socket.rooms())


async def to_room(socket: Socket, args: Args) -> None:
    if len(args) >= 2:
        await socket.to(str(args[0])).emit(str(args[1]), tuple(args[2:]))


def server_disconnect(socket: Socket) -> None:
    socket.disconnect()


async def ask_client(socket: Socket, args: Args, ack: AckSender) -> None:
    if not args:
        return
    answer = await socket.emit_with_ack(str(args[0]), tuple(args[1:]))
    # The stream folds one answer argument into a value and several into a tuple: unfold it again.
    ack.send(answer if isinstance(answer, tuple) else (answer,))


def worker(ack: AckSender) -> None:
    # The process id of the worker that owns this socket (with --workers N, one of N processes).
    ack.send(os.getpid())


def emit_reserved(socket: Socket, ack: AckSender) -> None:
    # A reserved name is refused at the emit, as in Node: nothing reaches the client, which stays connected.
    try:
        socket.emit("disconnect")
    except ReservedEventError:
        ack.send({"refused": True})
        return
    ack.send({"refused": False})


async def local_bcast(socket: Socket) -> None:
    await socket.local().emit("local_bcast")


def handshake(socket: Socket, ack: AckSender) -> None:
    ack.send(dataclasses.asdict(socket.handshake))


def count_event(socket: Socket) -> None:
    socket.extensions["any_count"] = socket.extensions.get("any_count", 0) + 1


def any_count(socket: Socket, ack: AckSender) -> None:
    ack.send(socket.extensions.get("any_count", 0))


def refuse_forbidden(event: Event) -> None:
    if event == "forbidden":
        raise PermissionError(f"event {event!r} is not allowed")


def tell_refused(socket: Socket, event: Event) -> None:
    socket.emit("refused", event)


# --- the cluster handlers ---------------------------------------------------------------------------------

CLUSTER_TIMEOUT = 2.0


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _arg(args: tuple[Any, ...], index: int) -> Any:
    return args[index] if len(args) > index else None


@contextlib.asynccontextmanager
async def _answer_errors(ack: AckSender) -> AsyncIterator[None]:
    # A cluster operation that failed (Redis away, a node silent) is answered {error: text}, never silence.
    try:
        yield
    except SioactorError as exc:
        ack.send({"error": str(exc)})


def add_cluster_handlers(io: SocketIo, server_id: str) -> None:
    """The handlers through which the cluster tests drive the cluster-wide API from a client."""

    def who(ack: AckSender) -> None:
        ack.send(server_id)

    def set_data(socket: Socket, args: Args, ack: AckSender) -> None:
        socket.data = _arg(args, 0)
        ack.send(True)

    async def server_count(ack: AckSender) -> None:
        async with _answer_errors(ack):
            ack.send(await io.server_count())

    async def cluster_fetch(args: Args, ack: AckSender) -> None:
        room = _arg(args, 0)
        async with _answer_errors(ack):
            found = await (io.of("/") if room is None else io.to(str(room))).fetch_sockets()
            described = []
            for member in found:
                rooms = member.rooms if not isinstance(member, Socket) else await member.rooms()
                described.append({"id": member.id, "rooms": sorted(rooms), "data": member.data})
            ack.send(sorted(described, key=lambda d: d["id"]))

    async def cluster_rooms(ack: AckSender) -> None:
        async with _answer_errors(ack):
            ack.send(sorted(await io.all_rooms()))

    async def cluster_sse(args: Args, ack: AckSender) -> None:
        try:
            answers = await io.server_side_emit_with_ack("sse", _arg(args, 0), ack_timeout=CLUSTER_TIMEOUT)
        except SioactorError as exc:
            ack.send({"error": str(exc)})
            return
        ack.send(sorted(answers, key=_json_text))

    def sse(payload: Any = None, *_rest: Any) -> Any:
        return {"server": server_id, "payload": payload}

    def _targets(target: Any) -> Any:
        return io.of("/") if target is None else io.within(str(target))

    async def cluster_join(args: Args, ack: AckSender) -> None:
        async with _answer_errors(ack):
            await _targets(_arg(args, 1)).join(str(_arg(args, 0)))
            ack.send(True)

    async def cluster_leave(args: Args, ack: AckSender) -> None:
        async with _answer_errors(ack):
            await _targets(_arg(args, 1)).leave(str(_arg(args, 0)))
            ack.send(True)

    async def cluster_disconnect(args: Args, ack: AckSender) -> None:
        ack.send(True)  # first: the asking socket may be one of those disconnected
        await _targets(_arg(args, 0)).disconnect()

    async def cluster_emit_ack(args: Args, ack: AckSender) -> None:
        answers = []
        try:
            stream = await io.timeout(CLUSTER_TIMEOUT).emit_with_ack(str(_arg(args, 0)), _arg(args, 1))
            async for _sid, result in stream:
                if isinstance(result, AckError):
                    raise result
                answers.append(result)
        except SioactorError as exc:
            ack.send({"error": str(exc)})
            return
        ack.send(sorted(answers, key=_json_text))

    for name, handler in {
        "who": who,
        "set_data": set_data,
        "server_count": server_count,
        "cluster_fetch": cluster_fetch,
        "cluster_rooms": cluster_rooms,
        "cluster_sse": cluster_sse,
        "cluster_join": cluster_join,
        "cluster_leave": cluster_leave,
        "cluster_disconnect": cluster_disconnect,
        "cluster_emit_ack": cluster_emit_ack,
    }.items():
        io.on(name, handler)
    io.on_server_side("sse", sse)


def require_token(auth: Auth[Any]) -> None:
    if not isinstance(auth, dict) or auth.get("token") != "ok":
        raise ConnectRefused("not authorized", {"reason": "token"})


def reference_app(io: SocketIo, echo_engine: EngineServer) -> ASGIApp:
    """One ASGI app for both halves; its lifespan starts and stops both."""
    socketio_app = io.asgi()
    engine_app = engine_asgi_app(echo_engine)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await serve_lifespan(scope, receive, send, [engine_app, socketio_app])
        elif echo_engine.handles(scope.get("path", "")):
            await engine_app(scope, receive, send)
        else:
            await socketio_app(scope, receive, send)

    return app


# --- serving -----------------------------------------------------------------------------------------------


def _announce(host: str, port: int) -> None:
    print(f"listening on http://{host}:{port}", flush=True)


async def _serve_embedded(app: Any, host: str, port: int, workers: int = 1) -> None:
    async with anyio.create_task_group() as tg:
        # Thousands of connections: the collector's cadence for a long-running server (opt-in, process-wide).
        # reference_app only dispatches by path, so sioactor's polling handlers may serve inline through it.
        config = ServerConfig(
            host=host, port=port, gc_thresholds=(20_000, 20, 50), workers=workers, inline_requests=True
        )
        bound = await tg.start(serve_asgi, app, config)
        _announce(host, bound)


async def _serve_uvicorn(app: Any, host: str, port: int, *, compress: bool = False) -> None:
    import uvicorn

    # uvicorn negotiates permessage-deflate itself, on by default: off unless --compress, as on the embedded
    # server, so both serve the contract alike (deflating every message costs more CPU than it saves).
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="on", ws_per_message_deflate=compress
    )
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        while not server.started:  # noqa: ASYNC110 (uvicorn exposes a flag, not an event)
            await anyio.sleep(0.01)
        _announce(host, port)


async def _serve_hypercorn(app: Any, host: str, port: int) -> None:
    from hypercorn.config import Config

    if _backend() == "trio":
        from hypercorn.trio import serve
    else:
        from hypercorn.asyncio import serve  # type: ignore[assignment]

    config = Config()
    config.bind = [f"{host}:{port}"]
    config.loglevel = "WARNING"
    # hypercorn listens with a backlog of 100: a burst of clients overflows it, and the kernel drops their
    # connections (the clients retry after a second). A polling client opens a connection per request
    # (Node's client does), so a crowd of them does that at once; uvicorn and the embedded server use 2048.
    config.backlog = 2048
    async with anyio.create_task_group() as tg:
        tg.start_soon(serve, app, config)
        await _wait_port(host, port)
        _announce(host, port)


def _backend() -> str:
    import sniffio

    return sniffio.current_async_library()


async def _wait_port(host: str, port: int) -> None:
    while True:
        try:
            stream = await anyio.connect_tcp(host, port)
        except OSError:
            await anyio.sleep(0.02)
        else:
            await stream.aclose()
            return


SERVERS: dict[str, Callable[[Any, str, int], Any]] = {
    "embedded": _serve_embedded,
    "uvicorn": _serve_uvicorn,
    "hypercorn": _serve_hypercorn,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--ping-interval", type=int, default=300, help="milliseconds")
    parser.add_argument("--ping-timeout", type=int, default=200, help="milliseconds")
    parser.add_argument("--connect-timeout", type=int, default=1000, help="ms to join a namespace")
    parser.add_argument("--allow-eio3", action="store_true", help="also accept Engine.IO v3 clients")
    parser.add_argument("--parser", choices=("json", "msgpack"), default="json", help="the Socket.IO parser")
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    parser.add_argument("--server", choices=tuple(SERVERS), default="embedded")
    parser.add_argument(
        "--trace-endpoint", metavar="ADDR", help="serve the actor trace (HOST:PORT, unix:/PATH)"
    )
    parser.add_argument("--compress", action="store_true", help="WebSocket permessage-deflate on")
    parser.add_argument("--cookie", metavar="NAME", help="set the handshake cookie with this name")
    parser.add_argument("--redis", metavar="URL", help="join a cluster through this Redis")
    parser.add_argument("--redis-adapter", choices=("classic", "sharded"), default="classic")
    parser.add_argument("--redis-key", default="socket.io", help="the cluster's key prefix")
    parser.add_argument(
        "--redis-subscription-mode",
        choices=("dynamic", "dynamic-private", "static"),
        default="dynamic",
        help="the sharded adapter's subscription mode",
    )
    parser.add_argument("--server-id", metavar="ID", help="this node's name (default hostname:pid)")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes serving the port (embedded: one cluster with no Redis; uvicorn: needs --redis)",
    )
    parser.add_argument(
        "--forward-sessions",
        action="store_true",
        help="with --redis: any node of the cluster takes any request (implied by --workers N)",
    )
    return parser


def _build_app(args: argparse.Namespace, *, forward_sessions: bool = False) -> ASGIApp:
    engine = build_engine_echo_server(
        ping_interval_ms=args.ping_interval, ping_timeout_ms=args.ping_timeout, allow_eio3=args.allow_eio3
    )
    io = build_socketio_server(
        parser=args.parser,
        allow_eio3=args.allow_eio3,
        ping_interval_ms=args.ping_interval,
        ping_timeout_ms=args.ping_timeout,
        connect_timeout_ms=args.connect_timeout,
        trace_endpoint=args.trace_endpoint,
        per_message_deflate=args.compress,
        cookie=args.cookie,
        redis=args.redis,
        redis_key=args.redis_key,
        redis_adapter=args.redis_adapter,
        redis_subscription_mode=args.redis_subscription_mode,
        server_id=args.server_id,
        forward_sessions=forward_sessions,
    )
    return reference_app(io, engine)


def main(argv: list[str] | None = None) -> None:
    """Parse the flags and serve until interrupted."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.server == "uvicorn" and args.backend == "trio":
        parser.error("uvicorn runs on asyncio only")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.workers > 1 and args.server != "embedded":
        if args.server != "uvicorn" or args.redis is None:
            parser.error(
                "--workers N runs on the embedded server, or as uvicorn's workers joined through Redis "
                "(--server uvicorn --redis URL)"
            )
        _serve_uvicorn_workers(sys.argv[1:] if argv is None else argv, args)
        return
    app = _build_app(args, forward_sessions=args.forward_sessions)
    try:
        # The embedded server stops gracefully on SIGINT and SIGTERM (clients are told) and returns; a
        # server that cannot start (Redis unreachable) says why in one line and exits with status 1.
        with _exit_on(LifespanFailed):
            serve = SERVERS[args.server]
            if args.server == "uvicorn":
                serve = functools.partial(_serve_uvicorn, compress=args.compress)
            anyio.run(
                serve,
                app,
                args.host,
                args.port,
                *((args.workers,) if args.workers > 1 else ()),
                backend=args.backend,
                backend_options=_backend_options(args.backend),
            )
    except* KeyboardInterrupt:
        pass  # a Ctrl-C before the server watches signals (trio raises it inside an exception group)


# --- uvicorn --workers N: one app per worker process, every worker a node of one Redis cluster -----------

_ARGS_VARIABLE = "SIOACTOR_REFERENCE_ARGS"  # the command line, for the workers' factory
_READY_VARIABLE = "SIOACTOR_REFERENCE_READY"  # where each worker marks itself started


def uvicorn_worker_app() -> ASGIApp:
    """The app of one uvicorn worker (uvicorn imports it by name in each worker process): built from the
    command line the supervising process left in the environment, with session forwarding on, so that
    any worker takes any request of any session."""
    args = _parser().parse_args(json.loads(os.environ[_ARGS_VARIABLE]))
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    return _marking_ready(_build_app(args, forward_sessions=True), os.environ[_READY_VARIABLE])


def _marking_ready(app: ASGIApp, ready_dir: str) -> ASGIApp:
    # The worker's lifespan has started (its Redis link is up): say so with a file named by its pid.
    async def marked(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return

        async def send_marking(message: Any) -> None:
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                await anyio.Path(ready_dir, str(os.getpid())).touch()

        await app(scope, receive, send_marking)

    return marked


def _serve_uvicorn_workers(argv: list[str], args: argparse.Namespace) -> None:
    import tempfile
    import threading

    import uvicorn

    # A worker that cannot join the cluster would be restarted forever: check Redis first, and say why
    # and exit 1 when it does not answer, as a single server does.
    with _exit_on(RedisUnavailable), SyncRedisEmitter(args.redis):
        pass
    with tempfile.TemporaryDirectory() as ready_dir:
        os.environ[_ARGS_VARIABLE] = json.dumps(argv)
        os.environ[_READY_VARIABLE] = ready_dir
        announce = threading.Thread(
            target=_announce_when_ready, args=(ready_dir, args.workers, args.host, args.port), daemon=True
        )
        announce.start()
        uvicorn.run(
            "reference_server:uvicorn_worker_app",
            factory=True,
            app_dir=os.path.dirname(os.path.abspath(__file__)),
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="warning",
            lifespan="on",
            ws_per_message_deflate=args.compress,
        )


def _announce_when_ready(ready_dir: str, workers: int, host: str, port: int) -> None:
    import time

    while len(os.listdir(ready_dir)) < workers:
        time.sleep(0.05)
    _announce(host, port)


@contextlib.contextmanager
def _exit_on(error: type[Exception]) -> Any:
    # A server that cannot start (Redis unreachable) says why in one line and exits with status 1.
    try:
        yield
    except Exception as exc:
        found: BaseException = exc
        while isinstance(found, BaseExceptionGroup) and len(found.exceptions) == 1:
            found = found.exceptions[0]
        if not isinstance(found, error):
            raise
        sys.exit(f"reference_server: {found}")


def _backend_options(backend: str) -> dict[str, Any]:
    # asyncio runs on uvloop when it is installed (the `uvloop` extra), as uvicorn does by default.
    if backend == "asyncio" and importlib.util.find_spec("uvloop") is not None:
        return {"use_uvloop": True}
    return {}


if __name__ == "__main__":
    main()
