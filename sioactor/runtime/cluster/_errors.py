"""The cluster's own error: Redis cannot be reached (or stopped answering)."""

from __future__ import annotations

from sioactor.protocol import SioactorError

__all__ = ("RedisUnavailable",)


class RedisUnavailable(SioactorError):
    """Redis at ``url`` could not be reached, refused the connection, or did not answer in time.

    Check the URL, that the server runs and accepts this client (password, TLS), and the network between.

    Attributes:
        url: the Redis URL, without its password.
        reason: what went wrong, from the Redis client.
    """

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"Redis at {url} is unavailable: {reason}")
        self.url = url
        self.reason = reason
