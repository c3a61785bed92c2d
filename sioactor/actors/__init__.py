"""The actor system: actors with bounded mailboxes, their refs, the supervisor, and sioactor's actors.

Layer rule: this package may import anyio and ``sioactor.protocol``; never ``sioactor.runtime``, ASGI, HTTP or
WebSocket libraries. ``tests/test_layering.py`` enforces it.
"""

from sioactor._errors import Closed, InternalChannelFull, SendError

__all__ = ("Closed", "InternalChannelFull", "SendError")
