"""Connecting to Redis through coredis (the optional ``sioactor[redis]`` extra), bounded and explained.

coredis is anyio-native, so one client serves asyncio and trio alike. It connects lazily and reports a
failure from inside its own task group, so an error may arrive bare or inside an exception group; this
module turns either into ``RedisUnavailable`` naming the URL, and checks the connection with a PING before
anything else is sent, so that a wrong URL fails at start rather than at the first publish.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import anyio

from sioactor.runtime.cluster._errors import RedisUnavailable

if TYPE_CHECKING:
    import coredis

__all__ = ("open_redis", "public_url", "redis_errors")


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


@asynccontextmanager
async def open_redis(url: str, *, connect_timeout: float) -> AsyncIterator[coredis.Redis[bytes]]:
    """A coredis client for *url* (bytes in, bytes out), checked with a PING within *connect_timeout*.

    Raises:
        RedisUnavailable: Redis did not answer the PING in time, or the connection failed, then or later.
        ImportError: coredis is not installed.
    """
    coredis = _import_coredis()
    with redis_errors(url):
        client = coredis.Redis.from_url(url, decode_responses=False, connect_timeout=connect_timeout)
        async with client:
            try:
                with anyio.fail_after(connect_timeout):
                    await client.ping()
            except TimeoutError:
                raise RedisUnavailable(public_url(url), f"no answer within {connect_timeout} s") from None
            yield client
