"""``sioactor`` / ``python -m sioactor``: the command line. ``sioactor serve MODULE:ATTR`` serves a
``SocketIo`` (or any ASGI app) on the embedded server, ``--workers N`` in N processes on the one port.
``sioactor console`` attaches the actor-trace console to a server's trace endpoint (``--connect ADDR
--token T``) or replays a recorded trace (``--replay trace.jsonl``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import anyio
from rich.console import Console

from sioactor.runtime.console import (
    ConsoleApp,
    FilterError,
    LogFilter,
    ReplayControl,
    Source,
    TokenRefused,
    live_source,
    replay_source,
)
from sioactor.runtime.console._sources import check_address, check_replay

__all__ = ("main",)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sioactor", description="sioactor tools")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a SocketIo or ASGI app on the embedded server")
    serve.add_argument("app", metavar="MODULE:ATTR", help="e.g. chat.server:io (imported from the cwd)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--workers", type=int, default=1, help="processes serving the port (default 1)")
    serve.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    console = commands.add_parser("console", help="the actor-trace console")
    source = console.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--connect",
        metavar="ADDR",
        action="append",
        help="trace endpoint: HOST:PORT or unix:/PATH; a multi-worker server's first worker's shows them all "
        "(repeatable, for workers that serve on free ports)",
    )
    source.add_argument("--replay", metavar="FILE", help="a trace recorded as JSON lines")
    console.add_argument("--token", help="the token the server printed (with --connect)")
    console.add_argument("--speed", type=float, default=1.0, help="replay speed; 0 steps (with --replay)")
    console.add_argument("--filter", default="", help="initial log filter, e.g. 'ns=/chat errors'")
    console.add_argument(
        "--messages",
        metavar="PATTERN",
        action="append",
        default=[],
        help="also show every message of the actors matching PATTERN (a glob on actor names, 'kind:socket' "
        "or '*'); repeatable. Without it, a live console shows per-actor counts and asks for messages only "
        "of the socket it drills into or the log filter names",
    )
    console.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(parser, args)
    if args.connect and not args.token:
        parser.error("--connect needs --token (the server prints it at start-up)")
    try:
        log_filter = LogFilter.parse(args.filter)
    except FilterError as exc:
        parser.error(str(exc))
    problems = [check_address(a) for a in args.connect] if args.connect else [check_replay(args.replay)]
    for problem in problems:
        if problem is not None:
            parser.error(problem)
    control = ReplayControl(args.speed) if args.replay else None
    app = ConsoleApp(Console(), replay=control, log_filter=log_filter, messages=tuple(args.messages))
    if control is not None:
        source = replay_source(args.replay, control)
    else:
        source = live_source(args.connect, args.token)
    try:
        return _run(app, source, args.backend)
    except KeyboardInterrupt:
        return 130


def _serve(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from sioactor import ServerConfig, SocketIo, serve_asgi  # the public API, above this module's console

    if not 1 <= args.workers <= 64:
        parser.error("--workers takes 1 to 64")
    module_name, _, attr = args.app.partition(":")
    if not module_name or not attr:
        parser.error(f"{args.app!r}: expected MODULE:ATTR, e.g. chat.server:io")
    sys.path.insert(0, os.getcwd())
    try:
        target: Any = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        parser.error(f"{args.app}: {exc}")
    app = target.asgi() if isinstance(target, SocketIo) else target
    if not callable(app):
        parser.error(f"{args.app} is neither a SocketIo nor an ASGI app")
    config = ServerConfig(host=args.host, port=args.port, workers=args.workers)
    if isinstance(target, SocketIo):  # as io.serve(): a WebSocket message is bounded by max_payload
        config = replace(config, ws_max_message_size=target.config.engine.max_payload)

    async def serve() -> None:
        async with anyio.create_task_group() as tg:
            port = await tg.start(serve_asgi, app, config)
            workers = f" ({config.workers} workers)" if config.workers > 1 else ""
            print(f"sioactor: serving {args.app} on http://{config.host}:{port}{workers}", flush=True)

    try:
        anyio.run(serve, backend=args.backend)
    except KeyboardInterrupt:
        return 130
    return 0


def _run(app: ConsoleApp, source: Source, backend: str) -> int:
    refused: list[TokenRefused] = []
    try:
        anyio.run(app.run, source, backend=backend)
    except* TokenRefused as group:
        refused.extend(_leaves(group))
    if refused:
        print(f"sioactor console: {refused[0]}", file=sys.stderr)
        return 2
    return 0


def _leaves(group: BaseExceptionGroup[TokenRefused]) -> list[TokenRefused]:
    # except* keeps the task groups' nesting: the refusal is a leaf, the groups around it say nothing.
    found: list[TokenRefused] = []
    for exc in group.exceptions:
        found.extend(_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return found


if __name__ == "__main__":
    sys.exit(main())
