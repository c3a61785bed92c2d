"""The actor-trace stream: the hub a server traces into, and its sinks (subscribers, a JSON-lines recorder,
the local endpoint a ``sioactor console`` attaches to).

Layer rule: runtime code; it may import ``sioactor.actors`` and ``sioactor.protocol``. It reads the wall
clock (records are stamped here, not in the actors).
"""

from sioactor.runtime.trace._endpoint import TraceEndpoint
from sioactor.runtime.trace._hub import PAYLOAD_FIELDS, SECRET_FIELDS, TraceHub, TraceSubscription
from sioactor.runtime.trace._record import TraceRecord, decode_line, encode_control, encode_record
from sioactor.runtime.trace._recorder import record_trace, run_recorder
from sioactor.runtime.trace._sinks import endpoint_at, run_trace_sinks

__all__ = (
    "PAYLOAD_FIELDS",
    "SECRET_FIELDS",
    "TraceEndpoint",
    "TraceHub",
    "TraceRecord",
    "TraceSubscription",
    "decode_line",
    "encode_control",
    "encode_record",
    "endpoint_at",
    "record_trace",
    "run_recorder",
    "run_trace_sinks",
)
