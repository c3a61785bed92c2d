"""`query_of`: the hand split for plain queries gives exactly what `parse_qsl` gives."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sioactor.runtime.engineio._http import query_of


def expected(raw: bytes) -> dict[str, str]:
    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"a",
        b"a=",
        b"=x",
        b"a=b=c",
        b"&",
        b"a=1&&b=2",
        b"a=1&a=2",
        b"a;b=1",
        b"x=\xe9",
        b"a=%41",
        b"a+b=c+d",
    ],
)
def test_edge_cases_match_parse_qsl(raw: bytes) -> None:
    assert query_of({"query_string": raw}) == expected(raw)


def test_an_engine_io_query() -> None:
    raw = b"EIO=4&transport=polling&t=PQx1a2b&sid=AbCd-_12"
    assert query_of({"query_string": raw}) == {
        "EIO": "4",
        "transport": "polling",
        "t": "PQx1a2b",
        "sid": "AbCd-_12",
    }


@given(st.binary(max_size=40).map(lambda b: bytes(c for c in b if c not in b"%+") + b"&=x"))
def test_any_plain_query_matches_parse_qsl(raw: bytes) -> None:
    assert query_of({"query_string": raw}) == expected(raw)


@given(st.text(alphabet="ab=&%+41", max_size=20))
def test_queries_with_escapes_match_parse_qsl(text: str) -> None:
    raw = text.encode()
    assert query_of({"query_string": raw}) == expected(raw)
