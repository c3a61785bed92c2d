"""The engine reads a polling request's query again only when it differs from the last one's in more than
its cache-busting ``t=`` (``_polling._Head.for_target``): two queries equal but for that field must read the
same apart from ``t``, which the engine never reads."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sioactor.runtime.engineio._http import query_of
from sioactor.runtime.engineio._polling import _without_cache_buster

query_fields = st.lists(
    st.tuples(
        st.sampled_from(["t", "sid", "EIO", "transport", "b64", "tt", "at", ""]),
        st.text(alphabet="ast=%+0x", max_size=4),
    ).map(lambda kv: f"{kv[0]}={kv[1]}" if kv[0] or kv[1] else ""),
    max_size=6,
)


def read(query: str) -> dict[str, str]:
    fields = dict(query_of({"query_string": query.encode("latin-1")}))
    fields.pop("t", None)
    return fields


@given(query_fields, query_fields)
def test_queries_with_one_key_read_the_same_but_for_t(first: list[str], second: list[str]) -> None:
    one, two = "&".join(first), "&".join(second)
    if _without_cache_buster(one.encode()) == _without_cache_buster(two.encode()):
        assert read(one) == read(two)


@given(query_fields, st.text(alphabet="abcXYZ019-_", max_size=8), st.text(alphabet="abcXYZ019-_", max_size=8))
def test_a_new_t_alone_keeps_the_key(other: list[str], t1: str, t2: str) -> None:
    query = "&".join(["EIO=4", "transport=polling", "t={}", *other, "sid=abc"])
    assert _without_cache_buster(query.format(t1).encode()) == _without_cache_buster(
        query.format(t2).encode()
    )


def test_socket_io_clients_polls_share_a_key_and_another_sid_does_not() -> None:
    poll = b"EIO=4&transport=polling&t=%s&sid=%s"
    assert _without_cache_buster(poll % (b"PaB1", b"one")) == _without_cache_buster(poll % (b"Qz9", b"one"))
    assert _without_cache_buster(poll % (b"PaB1", b"one")) != _without_cache_buster(poll % (b"PaB1", b"two"))
