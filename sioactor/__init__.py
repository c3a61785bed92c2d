"""sioactor: a Socket.IO server for Python, built on anyio as an actor system."""

from sioactor.actors import Closed, InternalChannelFull, SendError
from sioactor.protocol import ProtocolError, SioactorError

__all__ = ("Closed", "InternalChannelFull", "ProtocolError", "SendError", "SioactorError")
