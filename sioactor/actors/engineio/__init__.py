"""The Engine.IO session: the actor per client connection, its outbox, the scheduler that flushes and
times sessions, and the seam (``EngineConnection`` / ``EngineListener``) the Socket.IO layer talks through.

Layer rule: anyio and ``sioactor.protocol`` only (see ``sioactor/actors/__init__.py``); the transports that
feed a session live in ``sioactor.runtime.engineio``.
"""
