"""``SessionLocator``: where the engine turns when a request names a session it does not know.

Behind a balancer without sticky sessions (or under ``uvicorn --workers N``) a request of a session may land
on a process that does not own it. Before answering "Session ID unknown", the transports ask the engine's
locator, if it has one, to have the request served by the node that owns the session; the cluster package
provides one (``runtime/cluster/_forward.py``). It is consulted only for unknown sids, so a known session's
requests pay nothing for it.
"""

from __future__ import annotations

from typing import Protocol

from sioactor.runtime.engineio._http import Receive, Scope, Send

__all__ = ("FORWARDED", "SessionLocator", "well_formed_sid")

FORWARDED = "sioactor.forwarded"
"""The scope key that marks a request the owner serves for another node: never forwarded again."""

_SID_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def well_formed_sid(sid: str) -> bool:
    """Whether *sid* looks like an Engine.IO session id (20 URL-safe base64 characters, as Node's)."""
    return len(sid) == 20 and _SID_ALPHABET.issuperset(sid)


class SessionLocator(Protocol):
    """Serves a request of a session that another node of the cluster may own."""

    async def forward(self, sid: str, scope: Scope, receive: Receive, send: Send) -> bool:
        """Have the owner of *sid* serve this request (an HTTP request, or a WebSocket whose
        ``websocket.connect`` was already received), answering the client through *send*.

        Returns:
            True once the request was served (answered, or its client gone); False when no node owns *sid*
            (within the locator's bounded wait): the caller answers "Session ID unknown" as usual.
        """
