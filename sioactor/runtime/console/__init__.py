"""The actor-trace console (``sioactor console``): a live or replayed view of a server's actors, mailboxes
and messages, drawn with rich.

Layer rule: the console reads the trace stream only: of sioactor it imports the stream's record format
(``runtime.trace._record``), the trace vocabulary (``actors._trace``) and the errors; never a server part.

The model (``_model.py`` with ``_entries.py`` and ``_cluster.py``; ``_filters.py``) is pure data;
``_views.py`` renders it; ``_app.py``, ``_sources.py`` and ``_keys.py`` do the I/O.
"""

from sioactor._errors import FilterError, TokenRefused
from sioactor.runtime.console._app import ConsoleApp, Source, live_source, replay_source
from sioactor.runtime.console._filters import LogFilter
from sioactor.runtime.console._model import ConsoleModel
from sioactor.runtime.console._sources import ReplayControl, follow_endpoint, replay_file
from sioactor.runtime.console._views import ViewState, screen

__all__ = (
    "ConsoleApp",
    "ConsoleModel",
    "FilterError",
    "LogFilter",
    "ReplayControl",
    "Source",
    "TokenRefused",
    "ViewState",
    "follow_endpoint",
    "live_source",
    "replay_file",
    "replay_source",
    "screen",
)
