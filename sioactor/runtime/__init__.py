"""The edges: public API, handler dispatch, ASGI app, embedded server, adapters, tracing sinks, config.

Layer rule: the only layer that touches ASGI, listening sockets, clocks and logging set-up. It imports
``sioactor.actors`` and ``sioactor.protocol``; nothing imports it but ``sioactor/__init__.py``.
"""
