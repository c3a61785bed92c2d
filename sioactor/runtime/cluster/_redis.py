"""Connecting to Redis through coredis (the optional ``sioactor[redis]`` extra), bounded and explained.

coredis is anyio-native, so one client serves asyncio and trio alike. It connects lazily and reports a
failure from inside its own task group, so an error may arrive bare or inside an exception group; this
module turns either into ``RedisUnavailable`` naming the URL, and checks the connection with a PING before
anything else is sent, so that a wrong URL fails at start rather than at the first publish.

Before coredis connects, the address is probed with a plain connect: coredis 6.9 leaves its connection's
memory streams unclosed when the connect itself fails (a ResourceWarning each), so the common failure,
nothing listening there, is caught before coredis ever tries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import anyio
import anyio.abc

from sioactor._errors import RedisUnavailable

if TYPE_CHECKING:
    import coredis

__all__ = ("open_redis", "public_url", "redis_errors", "send_soon", "shard_subscribe")


def public_url(url: str) -> str:
    """*url* with its password masked, fit for an error message or a log line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _redis_failure(exc: BaseException) -> BaseException | None:
    """The Redis or network error in *exc*, when every error it holds is one; else ``None``."""
    if isinstance(exc, BaseExceptionGroup):
        failures = [_redis_failure(inner) for inner in exc.exceptions]
        return failures[0] if failures and all(failures) else None
    from coredis.exceptions import RedisError

    return exc if isinstance(exc, RedisError | OSError | TimeoutError) else None


@contextmanager
def redis_errors(url: str) -> Iterator[None]:
    """Translate coredis's connection errors (bare or grouped) into ``RedisUnavailable`` naming *url*."""
    try:
        yield
    except Exception as exc:  # cancellation is a BaseException and passes through untouched
        failure = _redis_failure(exc)
        if failure is None:
            raise
        reason = str(failure) or type(failure).__name__
        raise RedisUnavailable(public_url(url), reason) from exc


def _import_coredis() -> Any:
    try:
        import coredis
    except ImportError:
        raise ImportError("the Redis features need coredis: pip install 'sioactor[redis]'") from None
    return coredis


def _no_retry() -> Any:
    from coredis.retry import NoRetryPolicy

    return NoRetryPolicy()


async def _probe(url: str) -> None:
    """Open and close a plain connection to where *url* points (TCP, or a Unix socket)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        stream: anyio.abc.ByteStream = await anyio.connect_unix(parts.path)
    else:
        stream = await anyio.connect_tcp(parts.hostname or "localhost", parts.port or 6379)
    await stream.aclose()


@asynccontextmanager
async def open_redis(
    url: str, *, connect_timeout: float, retry: bool = True
) -> AsyncIterator[coredis.Redis[bytes]]:
    """A coredis client for *url* (bytes in, bytes out), checked with a PING within *connect_timeout*.

    With *retry* false, a command whose connection fails is not tried again on a new one: the cluster link
    reconnects by itself, and wants the failure at once.

    Raises:
        RedisUnavailable: Redis did not answer the PING in time, or the connection failed, then or later.
        ImportError: coredis is not installed.
    """
    coredis = _import_coredis()
    try:
        with anyio.fail_after(connect_timeout):
            await _probe(url)
    except (OSError, ValueError) as exc:  # ValueError: a port out of range in the URL
        raise RedisUnavailable(public_url(url), str(exc) or type(exc).__name__) from None
    except TimeoutError:
        raise RedisUnavailable(public_url(url), f"no connection within {connect_timeout} s") from None
    with redis_errors(url):
        options: dict[str, Any] = {} if retry else {"retry_policy": _no_retry()}
        client = coredis.Redis.from_url(
            url, decode_responses=False, connect_timeout=connect_timeout, **options
        )
        async with client:
            try:
                with anyio.fail_after(connect_timeout):
                    await client.ping()
            except TimeoutError:
                raise RedisUnavailable(public_url(url), f"no answer within {connect_timeout} s") from None
            yield client


def send_soon(pubsub: Any, command: bytes, channels: Iterable[str]) -> None:
    """Send *command* (``SSUBSCRIBE``, ``SUNSUBSCRIBE``, ...) for each of *channels* on the subscriber's
    connection, without waiting for Redis (coredis's standalone ``PubSub`` has no sharded commands)."""
    connection = pubsub.connection
    for channel in channels:
        connection.send_command(command, channel)


async def shard_subscribe(url: str, pubsub: Any, channels: Iterable[str]) -> None:
    """``SSUBSCRIBE`` *channels* and wait until Redis took them: a PING follows on the same connection, and
    its answer comes after theirs (or it carries the error of a refused SSUBSCRIBE).

    Raises:
        RedisUnavailable: Redis refused (older than 7.0: no sharded pub/sub), or the connection failed.
    """
    from coredis.exceptions import ResponseError

    send_soon(pubsub, b"SSUBSCRIBE", channels)
    try:
        await pubsub.connection.create_request(b"PING")
    except ResponseError as exc:
        reason = f"SSUBSCRIBE refused ({exc}); the sharded adapter needs Redis 7.0 or later"
        raise RedisUnavailable(public_url(url), reason) from None
