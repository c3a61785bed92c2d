"""The trace sinks a ``SocketIo`` starts from its options (``trace_endpoint``, ``trace_file``): what
``io.serve()`` / the ASGI lifespan run beside the server, so tracing is one option away.
"""

from __future__ import annotations

import logging
from functools import partial

import anyio
import anyio.abc

from sioactor._errors import ConfigError
from sioactor.runtime.trace._endpoint import TraceEndpoint
from sioactor.runtime.trace._hub import TraceHub
from sioactor.runtime.trace._recorder import run_recorder

__all__ = ("endpoint_at", "run_trace_sinks")

logger = logging.getLogger("sioactor.trace")


def endpoint_at(hub: TraceHub, address: str, *, token: str | None = None) -> TraceEndpoint:
    """A ``TraceEndpoint`` for *address*: ``HOST:PORT`` (loopback; port 0 picks a free one), ``PORT`` (on
    127.0.0.1) or ``unix:/PATH``; consoles attach with *token* (a random one when ``None``).

    Raises:
        ConfigError: *address* is none of those, or names a non-loopback host.
    """
    if address.startswith("unix:"):
        path = address[len("unix:") :]
        if not path:
            raise ConfigError("trace_endpoint 'unix:' needs a path, e.g. 'unix:/tmp/sioactor-trace.sock'")
        return TraceEndpoint(hub, unix_path=path, token=token)
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        raise ConfigError(
            f"trace_endpoint {address!r} is not HOST:PORT, PORT or unix:/PATH (e.g. '127.0.0.1:0')"
        )
    return TraceEndpoint(hub, host=host.strip("[]") or "127.0.0.1", port=int(port), token=token)


async def run_trace_sinks(
    endpoint: TraceEndpoint | None,
    hub: TraceHub,
    path: str | None,
    *,
    record_summaries: bool = False,
    task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve *endpoint* and record to *path* (either may be absent) until cancelled; ``started`` once both
    listen / write, having logged how to attach a console. *record_summaries*: the file gets per-actor
    message counters rather than every per-message record (see ``run_recorder``).
    """
    async with anyio.create_task_group() as tg:
        if path is not None:
            await tg.start(partial(run_recorder, hub, path, summaries=record_summaries))
            logger.warning(
                "recording the actor trace to %s (replay: sioactor console --replay %s)", path, path
            )
        if endpoint is not None:
            await tg.start(endpoint.serve)
            # A warning, so that it shows with logging unconfigured: the command holds the token to attach.
            logger.warning("actor trace endpoint listening; attach with: %s", endpoint.console_command)
        task_status.started()
