"""The handshake request kept raw: it reads, compares and looks up exactly as the decoded form would."""

from __future__ import annotations

from sioactor.actors.engineio._api import RequestInfo
from sioactor.actors.engineio._request import RawHeaders, RawQuery

SCOPE_HEADERS = [(b"Host", b"127.0.0.1:1"), (b"X-Name", b"caf\xe9"), (b"x-name", b""), (b"Cookie", b"a=1; b")]
DECODED = [("host", "127.0.0.1:1"), ("x-name", "café"), ("x-name", ""), ("cookie", "a=1; b")]


def test_raw_headers_read_as_the_decoded_pairs() -> None:
    headers = RawHeaders.of(SCOPE_HEADERS)
    assert isinstance(headers, RawHeaders)
    assert list(headers) == DECODED
    assert len(headers) == 4
    assert headers[1] == ("x-name", "café")
    assert headers[-1] == ("cookie", "a=1; b")
    assert headers == DECODED
    assert repr(headers) == repr(DECODED)


def test_no_headers_and_a_nul_byte_fall_back_cleanly() -> None:
    empty = RawHeaders.of([])
    assert len(empty) == 0
    assert list(empty) == []
    odd = RawHeaders.of([(b"x-a", b"1\x002")])
    assert not isinstance(odd, RawHeaders)
    assert list(odd) == [("x-a", "1\x002")]


def test_raw_query_reads_as_the_decoded_dict_last_value_wins() -> None:
    query = RawQuery(b"EIO=4&transport=websocket&x=1&x=2&empty=&q=a%20b")
    expected = {"EIO": "4", "transport": "websocket", "x": "2", "empty": "", "q": "a b"}
    assert query == expected
    assert expected == query
    assert query["EIO"] == "4"
    assert query.get("missing") is None
    assert len(query) == 5
    assert dict(query) == expected


def test_request_info_behaves_the_same_raw_or_decoded() -> None:
    raw = RequestInfo(path="/p", query=RawQuery(b"a=1"), headers=RawHeaders.of(SCOPE_HEADERS))
    decoded = RequestInfo(path="/p", query={"a": "1"}, headers=DECODED)
    assert raw == decoded
    assert raw.header("X-Name") == decoded.header("X-Name") == ""
    assert raw.header("host") == "127.0.0.1:1"
    assert raw.header("absent") is None
