"""The actor-trace stream: the hub a server traces into, and its sinks (subscribers, a JSON-lines recorder,
the local endpoint a ``sioactor console`` attaches to).

Layer rule: runtime code; it may import ``sioactor.actors`` and ``sioactor.protocol``, never
``runtime.socketio``, ``runtime.engineio``, the embedded server or the console (they trace into it, it
knows none of them). It reads the wall clock (records are stamped here, not in the actors).
"""

from sioactor.runtime.trace._endpoint import TraceEndpoint
from sioactor.runtime.trace._hub import PAYLOAD_FIELDS, SECRET_FIELDS, STATS_INTERVAL, TraceHub
from sioactor.runtime.trace._record import (
    ActorStats,
    StatsRecord,
    TraceItem,
    TraceRecord,
    decode_line,
    encode_control,
    encode_item,
    encode_record,
    encode_stats,
)
from sioactor.runtime.trace._recorder import record_trace, run_recorder
from sioactor.runtime.trace._selection import ALL_MESSAGES, selects
from sioactor.runtime.trace._sinks import endpoint_at, run_trace_sinks
from sioactor.runtime.trace._subscription import TraceSubscription

__all__ = (
    "ALL_MESSAGES",
    "PAYLOAD_FIELDS",
    "SECRET_FIELDS",
    "STATS_INTERVAL",
    "ActorStats",
    "StatsRecord",
    "TraceEndpoint",
    "TraceHub",
    "TraceItem",
    "TraceRecord",
    "TraceSubscription",
    "decode_line",
    "encode_control",
    "encode_item",
    "encode_record",
    "encode_stats",
    "endpoint_at",
    "record_trace",
    "run_recorder",
    "run_trace_sinks",
    "selects",
)
