"""The message log's filters, parsed from ``key=value`` words (``sid=ab ns=/chat room=lobby errors``).

A live server sends per-message records only for the actors a console asks for, so a filter also says which
actors those are (``actor_patterns``): the sockets and sessions it narrows the log to, plus any ``trace=GLOB``
words (which ask without filtering: ``trace=*`` shows every message, at a cost to the server).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from sioactor._errors import FilterError
from sioactor.runtime.console._model import ConsoleModel, LogEntry

__all__ = ("LogFilter",)

_KEYS = {"sid": "sid", "ns": "namespace", "namespace": "namespace", "room": "room", "event": "event"}
_KEYS |= {"kind": "actor_kind", "actor_kind": "actor_kind", "trace": "trace"}


@dataclass(frozen=True, slots=True, kw_only=True)
class LogFilter:
    """Which log entries to show; unset fields match everything.

    Attributes:
        sid: a socket or engine-session id, or a prefix of one.
        namespace: a namespace path, exactly.
        room: a room name: entries of sockets currently in it.
        event: an event name, exactly.
        actor_kind: ``socket``, ``engine_session``, ...
        errors_only: failures, full mailboxes, timeouts, protocol errors only.
        trace: ask a live server for the per-message records of the actors this glob selects (not a filter).
    """

    sid: str | None = None
    namespace: str | None = None
    room: str | None = None
    event: str | None = None
    actor_kind: str | None = None
    errors_only: bool = False
    trace: str | None = None

    @classmethod
    def parse(cls, text: str) -> LogFilter:
        """Parse ``key=value`` words and the word ``errors``; an empty text clears every filter.

        Raises:
            FilterError: an unknown key or word.
        """
        values: dict[str, object] = {}
        for word in text.split():
            if word in ("errors", "errors_only"):
                values["errors_only"] = True
                continue
            key, sep, value = word.partition("=")
            if not sep or key not in _KEYS or not value:
                known = ", ".join(f"{k}=..." for k in _KEYS)
                raise FilterError(f"filter {word!r} not understood; use {known} or 'errors'")
            values[_KEYS[key]] = value
        return replace(cls(), **values)  # type: ignore[arg-type]

    def __str__(self) -> str:
        words = [f"{f.name}={getattr(self, f.name)}" for f in fields(self) if f.name != "errors_only"]
        shown = [w for w in words if not w.endswith("=None")]
        return " ".join([*shown, "errors"] if self.errors_only else shown) or "none"

    def matches(self, entry: LogEntry, model: ConsoleModel) -> bool:
        """Whether *entry* passes every filter that is set."""
        if self.errors_only and not entry.error:
            return False
        if self.sid is not None and not (entry.sid or "").startswith(self.sid):
            return False
        if self.namespace is not None and entry.namespace != self.namespace:
            return False
        if self.event is not None and entry.event != self.event:
            return False
        if self.actor_kind is not None and entry.actor_kind != self.actor_kind:
            return False
        if self.room is not None:
            socket = model.sockets.get(entry.actor)
            return socket is not None and self.room in socket.rooms
        return True

    def actor_patterns(self, model: ConsoleModel) -> tuple[str, ...]:
        """The actors whose per-message records this filter shows (see ``_stats.py`` for the patterns):
        the narrowest filter set decides; errors only, or no filter, asks for none.
        """
        asked = () if self.trace is None else (self.trace,)
        if self.errors_only:
            return asked
        if self.sid is not None:
            return (*asked, f"socket:*:{self.sid}*", f"{self.sid}*")
        if self.room is not None:
            members = (s for s in model.live_sockets() if self.room in s.rooms)
            return (*asked, *sorted(s.name for s in members))
        if self.namespace is not None:
            return (*asked, f"socket:{self.namespace}:*")
        if self.actor_kind is not None:
            return (*asked, f"kind:{self.actor_kind}")
        if self.event is not None:
            return (*asked, "kind:socket")  # events are socket messages
        return asked
