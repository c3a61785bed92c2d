"""Extractors: each one, each kind of T, conversion failures, and the signature errors that teach the fix."""

from __future__ import annotations

import dataclasses
import enum
import logging
from collections.abc import Mapping
from typing import Any, Literal, TypedDict

import anyio
import attrs
import pytest

from sioactor._errors import DataError, HandlerSignatureError
from sioactor.actors.engineio._api import RequestInfo
from sioactor.protocol._reasons import DisconnectReason
from sioactor.runtime.socketio._extract import (
    Args,
    Auth,
    Data,
    Event,
    NsParams,
    ProtocolVersion,
    Request,
    State,
    TransportType,
    TryData,
)
from sioactor.runtime.socketio._handler import (
    SKIPPED,
    CallContext,
    CompiledHandler,
    compile_handler,
    register_context_type,
)


class FakeSocket:
    """Stands in for the Socket handle class (registered like the real one registers itself)."""


class FakeAck:
    """Stands in for AckSender."""


class FakeIo:
    """Stands in for SocketIo."""


register_context_type(FakeSocket, "socket")
register_context_type(FakeIo, "io")
register_context_type(FakeAck, "ack", ("event",))


@attrs.frozen
class AttrsMsg:
    text: str
    n: int = 0


@dataclasses.dataclass(frozen=True)
class DcMsg:
    text: str
    tags: list[str]


class TdMsg(TypedDict):
    room: str
    count: int


class Color(enum.Enum):
    RED = "red"


class Db:
    """An app state object."""


async def call(handler: CompiledHandler, **fields: Any) -> Any:
    with anyio.fail_after(5):
        return await handler(CallContext(**fields))


def event(fn: Any) -> CompiledHandler:
    return compile_handler(fn, kind="event")


# --- context extractors ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_context_extractors_receive_their_fields() -> None:
    sock, io, ack, db = FakeSocket(), FakeIo(), FakeAck(), Db()
    request = RequestInfo(path="/socket.io/", query={"EIO": "4"})

    async def handler(
        s: FakeSocket,
        a: FakeAck,
        i: FakeIo,
        e: Event,
        st: State[Db],
        t: TransportType,
        p: ProtocolVersion,
        r: Request,
        n: NsParams,
        args: Args,
    ) -> tuple[Any, ...]:
        return s, a, i, e, st, t, p, r, n, args

    got = await call(
        event(handler),
        socket=sock,
        ack=ack,
        io=io,
        event="chat",
        state={Db: db},
        transport=TransportType.WEBSOCKET,
        protocol=ProtocolVersion.V4,
        request=request,
        ns_params={"id": "7"},
        args=(1, "2", b"3"),
    )
    assert got == (
        sock,
        ack,
        io,
        "chat",
        db,
        TransportType.WEBSOCKET,
        ProtocolVersion.V4,
        request,
        {"id": "7"},
        (1, "2", b"3"),
    )


@pytest.mark.anyio
async def test_disconnect_reason_in_disconnect_handler() -> None:
    async def bye(s: FakeSocket, reason: DisconnectReason) -> DisconnectReason:
        return reason

    handler = compile_handler(bye, kind="disconnect")
    assert await call(handler, reason=DisconnectReason.TRANSPORT_CLOSE) is DisconnectReason.TRANSPORT_CLOSE


@pytest.mark.anyio
async def test_parameters_are_matched_by_annotation_not_name_or_order() -> None:
    async def handler(ack: FakeIo, *, io: FakeSocket, data: Data[int]) -> tuple[Any, ...]:
        return ack, io, data

    sock, io = FakeSocket(), FakeIo()
    assert await call(event(handler), socket=sock, io=io, args=(5,)) == (io, sock, 5)


@pytest.mark.anyio
async def test_handler_without_parameters_and_its_result() -> None:
    async def ping() -> str:
        return "pong"

    handler = event(ping)
    assert handler.name.endswith("ping")
    assert await call(handler) == "pong"


# --- Data conversion, per kind of T ---------------------------------------------------------------------

CONVERSIONS = [
    (AttrsMsg, ({"text": "hi", "n": 2},), AttrsMsg("hi", 2)),
    (DcMsg, ({"text": "hi", "tags": ["a"]},), DcMsg("hi", ["a"])),
    (TdMsg, ({"room": "r", "count": 3},), {"room": "r", "count": 3}),
    (str, ("hi", "ignored"), "hi"),
    (int, (7,), 7),
    (float, (7,), 7.0),
    (bool, (True,), True),
    (bytes, (bytearray(b"\x01\x02"),), b"\x01\x02"),
    (dict[str, Any], ({"a": [1, None]},), {"a": [1, None]}),
    (list[int], ([1, 2],), [1, 2]),
    (Any, ({"x": object},), {"x": object}),
    (Color, ("red",), Color.RED),
    (Literal["a", "b"], ("b",), "b"),
    (AttrsMsg | None, (), None),
    (AttrsMsg | None, ({"text": "t"},), AttrsMsg("t")),
    (Any, (), None),
    (tuple[str, int], ("a", 1), ("a", 1)),
    (tuple[int, ...], (1, 2, 3), (1, 2, 3)),
    (tuple[AttrsMsg, bytes], ({"text": "x"}, b"\x00"), (AttrsMsg("x"), b"\x00")),
    (tuple[()], (), ()),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("target", "args", "expected"), CONVERSIONS)
async def test_data_converts(target: Any, args: tuple[Any, ...], expected: Any) -> None:
    async def handler(data: Data[target]) -> Any:  # type: ignore[valid-type]
        return data

    handler.__annotations__["data"] = Data[target]
    got = await call(event(handler), args=args)
    assert got == expected
    assert type(got) is type(expected)


FAILURES = [
    (AttrsMsg, ({"n": 1},)),
    (AttrsMsg, ("not a dict",)),
    (DcMsg, ({"text": "hi", "tags": "ab"},)),
    (TdMsg, ({"room": "r"},)),
    (str, (5,)),
    (int, ("5",)),
    (int, (True,)),
    (float, ("1.5",)),
    (bytes, ("text",)),
    (list[int], ([1, "2"],)),
    (list[str], ("ab",)),
    (list[int], ({"a": 1},)),
    (Color, ("blue",)),
    (AttrsMsg, ()),
    (str, ()),
    (tuple[str, int], ("a", "b")),
    (tuple[str, int], ("a",)),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("target", "args"), FAILURES)
async def test_data_failure_skips_the_handler_and_logs(
    target: Any, args: tuple[Any, ...], caplog: pytest.LogCaptureFixture
) -> None:
    called: list[Any] = []
    reported: list[DataError] = []

    async def handler(data: Data[Any]) -> None:
        called.append(data)

    handler.__annotations__["data"] = Data[target]
    compiled = compile_handler(handler, kind="event", on_skip=lambda h, err: reported.append(err))
    with caplog.at_level(logging.INFO, logger="sioactor.socketio"):
        assert await call(compiled, args=args) is SKIPPED
    assert called == []
    assert len(reported) == 1
    assert reported[0].target == target
    assert "skipped" in caplog.text
    assert "handler" in caplog.records[0].getMessage()


@pytest.mark.anyio
@pytest.mark.parametrize(("target", "args"), FAILURES)
async def test_try_data_receives_the_error(target: Any, args: tuple[Any, ...]) -> None:
    async def handler(data: TryData[Any]) -> Any:
        return data

    handler.__annotations__["data"] = TryData[target]
    got = await call(event(handler), args=args)
    assert isinstance(got, DataError)
    assert got.target == target
    assert "cannot convert" in str(got)


@pytest.mark.anyio
async def test_try_data_receives_the_value_when_it_converts() -> None:
    async def handler(data: TryData[AttrsMsg | None]) -> Any:
        return data

    compiled = event(handler)
    assert await call(compiled, args=({"text": "a"},)) == AttrsMsg("a")
    assert await call(compiled, args=()) is None


@pytest.mark.anyio
async def test_data_error_explains_the_field() -> None:
    async def handler(data: TryData[AttrsMsg]) -> Any:
        return data

    got = await call(event(handler), args=({"text": 3},))
    assert isinstance(got, DataError)
    assert "text" in str(got)
    assert got.payload == {"text": 3}


@pytest.mark.anyio
async def test_args_are_unconverted() -> None:
    async def handler(args: Args, first: Data[Mapping[str, Any]]) -> Any:
        return args, first

    payload = ({"a": 1}, [2], b"3")
    got_args, first = await call(event(handler), args=payload)
    assert got_args is payload
    assert first == {"a": 1}


# --- Auth, State ----------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_auth_converts_the_connect_payload() -> None:
    async def on_connect(s: FakeSocket, auth: Auth[TdMsg]) -> Any:
        return auth

    handler = compile_handler(on_connect, kind="connect")
    assert await call(handler, auth={"room": "x", "count": 1}) == {"room": "x", "count": 1}
    assert await call(handler, auth=None) is SKIPPED


@pytest.mark.anyio
async def test_optional_auth_accepts_none() -> None:
    async def middleware(auth: Auth[dict[str, str] | None]) -> Any:
        return auth

    handler = compile_handler(middleware, kind="middleware")
    assert await call(handler, auth=None) is None
    assert await call(handler, auth={"token": "1"}) == {"token": "1"}


@pytest.mark.anyio
async def test_state_missing_at_call_time_says_how_to_fix() -> None:
    async def handler(db: State[Db]) -> Any:
        return db

    with pytest.raises(LookupError, match=r"SocketIo\(state=\.\.\.\)"):
        await call(event(handler), state={})


def test_state_checked_at_registration_when_types_known() -> None:
    async def handler(db: State[Db]) -> None:
        pass

    compile_handler(handler, kind="event", state_types={Db})
    with pytest.raises(HandlerSignatureError, match=r"State\[Db\].*holds: AttrsMsg"):
        compile_handler(handler, kind="event", state_types={AttrsMsg})


@pytest.mark.anyio
async def test_a_handler_defined_per_connection_calls_its_own_closure() -> None:
    def connect(tag: str) -> CompiledHandler:
        async def handler(msg: Data[str], name: Event) -> str:
            return f"{tag}:{name}:{msg}"

        return event(handler)

    first, second = connect("a"), connect("b")
    assert first.fn is not second.fn
    assert await call(first, event="chat", args=["hi"]) == "a:chat:hi"
    assert await call(second, event="chat", args=["yo"]) == "b:chat:yo"


async def _module_level_echo(msg: Data[str]) -> str:
    return msg


def test_a_module_level_handler_is_compiled_once_per_server_and_a_closure_per_registration() -> None:
    from sioactor import SocketIo

    io = SocketIo()
    shared = io.event_handler(_module_level_echo, False)
    assert io.event_handler(_module_level_echo, False) is shared  # every socket holds the same entry
    concurrent = io.event_handler(_module_level_echo, True)
    assert concurrent[1] is True
    assert shared[1] is False
    assert io.event_handler(_module_level_echo, True) is concurrent

    def per_connection(tag: str) -> tuple[CompiledHandler, bool]:
        async def handler(msg: Data[str]) -> str:
            return f"{tag}:{msg}"

        return io.event_handler(handler, False)

    first, second = per_connection("a"), per_connection("b")
    assert first[0].fn is not second[0].fn  # each closure keeps its own captured values


# --- signature errors -----------------------------------------------------------------------------------


def test_unknown_annotation_teaches_the_fix() -> None:
    async def chat(msg: dict[str, int] | None) -> None:
        pass

    with pytest.raises(HandlerSignatureError) as info:
        event(chat)
    text = str(info.value)
    assert "chat()" in text
    assert "parameter 'msg' is annotated dict[str, int] | None, which no extractor understands" in text
    assert "use Data[T]" in text


def test_missing_annotation() -> None:
    async def chat(socket) -> None:  # type: ignore[no-untyped-def]
        pass

    with pytest.raises(HandlerSignatureError, match=r"chat\(\): parameter 'socket' has no annotation"):
        event(chat)


@pytest.mark.anyio
async def test_the_declaration_says_whether_a_handler_is_awaited() -> None:
    class Handlers:
        def method(self, msg: Data[str]) -> str:
            return f"method:{msg}"

        async def awaited(self, msg: Data[str]) -> str:
            return f"awaited method:{msg}"

    def plain(msg: Data[str]) -> str:
        return f"plain:{msg}"

    async def awaited(msg: Data[str]) -> str:
        return f"awaited:{msg}"

    cases: list[tuple[Any, bool, str]] = [
        (plain, True, "plain:hi"),
        (Handlers().method, True, "method:hi"),
        (awaited, False, "awaited:hi"),
        (Handlers().awaited, False, "awaited method:hi"),
    ]
    for fn, synchronous, answer in cases:
        compiled = event(fn)
        assert compiled.synchronous is synchronous, fn
        assert await call(compiled, event="chat", args=["hi"]) == answer
    assert event(plain).call_now(CallContext(event="chat", args=("now",))) == "plain:now"


def test_a_plain_def_returning_an_awaitable_fails_clearly_and_leaves_nothing_unawaited() -> None:
    async def inner(msg: Data[str]) -> None:
        pass

    def wrapper(msg: Data[str]) -> Any:  # a decorator that forgot to be async
        return inner(msg)

    compiled = event(wrapper)
    with pytest.raises(TypeError, match=r"wrapper\(\) is a plain def but returned an awaitable.*async def"):
        compiled.call_now(CallContext(event="chat", args=("hi",)))


def test_a_non_callable_is_refused() -> None:
    with pytest.raises(HandlerSignatureError, match="not callable"):
        event(42)


def test_variadic_parameters_are_refused() -> None:
    async def chat(*args: Any) -> None:
        pass

    with pytest.raises(HandlerSignatureError, match=r"'args' is variadic.*Args"):
        event(chat)


def test_unconvertible_data_type_is_refused_at_registration() -> None:
    async def chat(msg: Data[int | str]) -> None:
        pass

    with pytest.raises(HandlerSignatureError, match=r"Data\[int \| str\], which cannot be converted"):
        event(chat)


def test_unresolvable_annotation() -> None:
    async def chat(msg: Data[Missing]) -> None:  # type: ignore[name-defined]  # noqa: F821
        pass

    with pytest.raises(HandlerSignatureError, match=r"cannot be resolved.*NameError.*module level"):
        event(chat)


@pytest.mark.parametrize(
    ("annotation", "kind", "needle"),
    [
        ("DisconnectReason", "event", "only disconnect handlers"),
        ("Event", "connect", "only event handlers have an event name"),
        ("FakeAck", "disconnect", "uses FakeAck"),
        ("Data[int]", "connect", "use Auth[T]"),
        ("TryData[int]", "middleware", "use Auth[T]"),
        ("Args", "disconnect", "only events carry arguments"),
    ],
)
def test_extractor_not_valid_for_kind(annotation: str, kind: Any, needle: str) -> None:
    async def handler(x: Any) -> None:
        pass

    handler.__annotations__["x"] = annotation
    with pytest.raises(HandlerSignatureError, match="which " + kind + " handlers do not provide") as info:
        compile_handler(handler, kind=kind)
    assert needle in str(info.value)


def test_signature_error_is_a_sioactor_error() -> None:
    from sioactor.protocol import SioactorError

    assert issubclass(HandlerSignatureError, SioactorError)
    assert issubclass(DataError, SioactorError)


def test_register_context_type_rejects_unknown_field() -> None:
    with pytest.raises(ValueError, match="no field"):
        register_context_type(Db, "nope")


# --- call_now's short paths (up to two positional parameters) read what the general path reads ----------


def _none() -> tuple[Any, ...]:
    return ()


def _one(s: FakeSocket) -> tuple[Any, ...]:
    return (s,)


def _two(s: FakeSocket, name: Event) -> tuple[Any, ...]:
    return (s, name)


def _three(s: FakeSocket, name: Event, rest: Args) -> tuple[Any, ...]:
    return (s, name, rest)


def _four(s: FakeSocket, name: Event, rest: Args, io: FakeIo) -> tuple[Any, ...]:
    return (s, name, rest, io)


@pytest.mark.parametrize("fn", [_none, _one, _two, _three, _four])
def test_call_now_passes_the_same_values_whatever_the_parameter_count(fn: Any) -> None:
    sock, io = FakeSocket(), FakeIo()
    ctx = CallContext(socket=sock, io=io, event="ev", args=(1, "two"))
    expected = (sock, "ev", (1, "two"), io)
    result = event(fn).call_now(ctx)
    assert result == expected[: len(result)]
    assert len(result) == fn.__code__.co_argcount


def test_call_now_passes_keyword_only_parameters() -> None:
    sock = FakeSocket()

    def handler(s: FakeSocket, *, name: Event, rest: Args) -> tuple[Any, ...]:
        return (s, name, rest)

    ctx = CallContext(socket=sock, event="ev", args=(3,))
    assert event(handler).call_now(ctx) == (sock, "ev", (3,))


def test_call_now_skips_a_two_parameter_handler_whose_data_does_not_convert() -> None:
    def handler(s: FakeSocket, d: Data[int]) -> str:
        return "called"

    ctx = CallContext(socket=FakeSocket(), event="ev", args=("not a number",))
    assert event(handler).call_now(ctx) is SKIPPED
