"""Sans-IO codecs and state machines for Engine.IO v3/v4 and Socket.IO v4/v5.

Layer rule: this package imports only the standard library, ``msgpack`` and ``orjson``. No anyio, asyncio,
trio or sockets, no clock (callers pass times in), and nothing from ``sioactor.actors`` or
``sioactor.runtime``. ``tests/test_layering.py`` enforces it.
"""

from sioactor._errors import DecodeError, PayloadTooLarge, ProtocolError, SioactorError

__all__ = ("DecodeError", "PayloadTooLarge", "ProtocolError", "SioactorError")
