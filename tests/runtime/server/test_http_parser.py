"""The embedded server's HTTP/1.1 parser and response encoder, sans-IO: what they accept and refuse."""

from __future__ import annotations

import pytest

from sioactor.runtime._server._parser import END_OF_BODY, HttpError, Request, RequestParser
from sioactor.runtime._server._response import ResponseEncoder


def parse(data: bytes, max_header_size: int = 16_384) -> tuple[RequestParser, Request | None]:
    parser = RequestParser(max_header_size)
    parser.feed(data)
    return parser, parser.next_request()


def body_of(parser: RequestParser) -> bytes:
    pieces = []
    while (piece := parser.next_body()) is not END_OF_BODY:
        assert isinstance(piece, bytes), "the whole body was fed"
        pieces.append(piece)
    return b"".join(pieces)


def refused(data: bytes, max_header_size: int = 16_384) -> int:
    parser = RequestParser(max_header_size)
    parser.feed(data)
    with pytest.raises(HttpError) as caught:
        _parse_all(parser)
    return caught.value.status


def _parse_all(parser: RequestParser) -> None:
    parser.next_request()
    body_of(parser)


def test_a_request_head_is_parsed_with_lower_cased_names_and_trimmed_values() -> None:
    _, request = parse(b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Thing:  V 1 \t\r\n\r\n")
    assert request == Request(
        method=b"GET",
        target=b"/a?b=1",
        http_version=b"1.1",
        headers=[(b"host", b"x"), (b"x-thing", b"V 1")],
        keep_alive=True,
        expect_continue=False,
    )


def test_a_head_split_anywhere_waits_for_the_rest() -> None:
    data = b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\nabc"
    for cut in range(1, len(data) - 3):
        parser = RequestParser(16_384)
        parser.feed(data[:cut])
        if parser.next_request() is None:
            parser.feed(data[cut:])
            assert parser.next_request() is not None
        else:
            parser.feed(data[cut:])
        assert body_of(parser) == b"abc"


def test_pipelined_requests_come_out_one_by_one() -> None:
    one = b"POST /1 HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\nhi"
    parser, first = parse(one + b"GET /2 HTTP/1.1\r\nhost: x\r\n\r\n")
    assert first is not None
    assert first.target == b"/1"
    assert body_of(parser) == b"hi"
    second = parser.next_request()
    assert second is not None
    assert second.target == b"/2"
    assert parser.next_body() is END_OF_BODY
    assert parser.buffered == 0


def test_a_chunked_body_with_extensions_and_trailers_is_decoded() -> None:
    parser, _ = parse(
        b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: Chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n1\r\n!\r\n0\r\nx-trailer: t\r\n\r\nGET"
    )
    assert body_of(parser) == b"hello!"
    parser.feed(b" /next HTTP/1.1\r\nhost: x\r\n\r\n")  # the next request, begun after the trailers
    following = parser.next_request()
    assert following is not None
    assert following.target == b"/next"


def test_the_bytes_after_an_upgrade_request_are_handed_over_raw() -> None:
    parser, request = parse(
        b"GET /ws HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n\x81\x85"
    )
    assert request is not None
    parser.feed(b"\x00\x01")
    assert parser.take_trailing() == b"\x81\x85\x00\x01"


def test_an_error_after_a_good_request_is_raised_only_when_reached() -> None:
    parser, first = parse(b"GET /1 HTTP/1.1\r\nhost: x\r\n\r\nGET /2 HTTP/1.1\r\nhost: x\r\nhost: y\r\n\r\n")
    assert first is not None
    assert parser.next_body() is END_OF_BODY
    with pytest.raises(HttpError):
        parser.next_request()


def test_a_chunked_body_fed_byte_by_byte_is_decoded() -> None:
    parser, _ = parse(b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n")
    pieces = []
    for byte in b"3\r\nabc\r\n10\r\n" + b"y" * 16 + b"\r\n0\r\n\r\n":
        parser.feed(bytes((byte,)))
        while isinstance(piece := parser.next_body(), bytes):
            pieces.append(piece)
    assert parser.next_body() is END_OF_BODY
    assert b"".join(pieces) == b"abc" + b"y" * 16


def test_keep_alive_follows_the_version_and_connection_header() -> None:
    def keep_alive(head: bytes) -> bool:
        _, request = parse(head + b"\r\n\r\n")
        assert request is not None
        return request.keep_alive

    assert keep_alive(b"GET / HTTP/1.1\r\nhost: x")
    assert not keep_alive(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: keep-alive, Close")
    assert not keep_alive(b"GET / HTTP/1.0")


def test_empty_lines_before_a_request_are_skipped_and_expect_is_noted() -> None:
    _, request = parse(
        b"\r\n\r\nPUT / HTTP/1.1\r\nhost: x\r\nexpect: 100-Continue\r\ncontent-length: 1\r\n\r\n"
    )
    assert request is not None
    assert request.method == b"PUT"
    assert request.expect_continue


SMUGGLING = {
    "content-length and transfer-encoding": b"host: x\r\ncontent-length: 3\r\ntransfer-encoding: chunked",
    "transfer-encoding and content-length": b"host: x\r\ntransfer-encoding: chunked\r\ncontent-length: 3",
    "duplicate content-length": b"host: x\r\ncontent-length: 3\r\ncontent-length: 3",
    "content-length list": b"host: x\r\ncontent-length: 3, 3",
    "signed content-length": b"host: x\r\ncontent-length: +3",
    "duplicate transfer-encoding": b"host: x\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked",
    "space before colon": b"host: x\r\ntransfer-encoding : chunked",
    "obs-fold": b"host: x\r\nx-a: 1\r\n  folded",
    "no host": b"x-a: 1",
    "two hosts": b"host: x\r\nhost: y",
    "control byte in value": b"host: x\r\nx-a: a\x00b",
    "bare CR in value": b"host: x\r\nx-a: a\rb",
    "bare LF line ending": b"host: x\nx-a: 1",
    "header without colon": b"host: x\r\nnonsense",
    "bare LF ending the head": b"host: x\r\nx-a: 1\n",
    "bare LF after the request line": b"\nhost: x",
}


@pytest.mark.parametrize("headers", SMUGGLING.values(), ids=SMUGGLING.keys())
def test_ambiguous_or_malformed_heads_are_refused_with_400(headers: bytes) -> None:
    assert refused(b"POST / HTTP/1.1\r\n" + headers + b"\r\n\r\nabc") == 400


def test_a_request_line_is_split_on_whitespace_as_rfc_9112_allows() -> None:
    # llhttp, like Node, reads extra spaces between the parts as one (RFC 9112 §3 lets a recipient parse on
    # whitespace boundaries); nothing about the body's length depends on it.
    _, request = parse(b"GET  /a  HTTP/1.1\r\nhost: x\r\n\r\n")
    assert request is not None
    assert request.target == b"/a"


@pytest.mark.parametrize(
    "line",
    [
        b"GET / HTTP/1.1 ",
        b"G(T / HTTP/1.1",
        b"GET /\x7f HTTP/1.1",
        b"GET / FTP/1.1",
        b"GET /",
    ],
)
def test_malformed_request_lines_are_refused_with_400(line: bytes) -> None:
    assert refused(line + b"\r\nhost: x\r\n\r\n") == 400


def test_connect_is_refused_with_400() -> None:
    assert refused(b"CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n") == 400


def test_a_head_ending_in_bare_lfs_is_refused_not_waited_for() -> None:
    assert refused(b"GET / HTTP/1.1\nhost: x\n\n") == 400
    assert refused(b"GET / HTTP/1.1\r\nhost: x\r\n\n") == 400


def test_other_versions_and_codings_are_refused_as_unsupported() -> None:
    assert refused(b"GET / HTTP/2.0\r\nhost: x\r\n\r\n") == 505
    assert refused(b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip, chunked\r\n\r\n") == 501
    assert refused(b"POST / HTTP/1.0\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n") == 400


@pytest.mark.parametrize("codings", [b"identity", b"xchunked", b"gzip", b"chunked, gzip", b"chunked,"])
def test_a_transfer_encoding_not_ending_in_chunked_is_refused_with_400(codings: bytes) -> None:
    # RFC 9112 section 6.3: the body's length cannot be determined, so 400 (not 501), as Node answers.
    head = b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: " + codings + b"\r\n\r\n"
    assert refused(head + b"0\r\n\r\n") == 400


@pytest.mark.parametrize(
    "chunks",
    [
        b"x\r\n",
        b"0x3\r\nabc\r\n",
        b"-1\r\n",
        b" 3\r\nabc\r\n",
        b"3\r\nabcX\r\n",
        b"11111111111111111\r\n",
        b"3;\x01\r\n",
    ],
)
def test_bad_chunk_framing_is_refused_with_400(chunks: bytes) -> None:
    assert (
        refused(b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")
        == 400
    )


def test_an_endless_chunk_size_line_is_refused_without_waiting() -> None:
    assert refused(b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n" + b"1" * 2000) == 400


def test_oversized_heads_are_refused_with_431_complete_or_not() -> None:
    big = b"GET / HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 5000
    assert refused(big, max_header_size=4096) == 431
    assert refused(big + b"\r\n\r\n", max_header_size=4096) == 431
    _, request = parse(big + b"\r\n\r\n", max_header_size=8192)
    assert request is not None


def test_a_response_sent_whole_gets_a_content_length() -> None:
    encoder = ResponseEncoder(version=b"1.1", keep_alive=True, is_head=False)
    head = encoder.head(200, [(b"Content-Type", b"text/plain")], 2)
    assert head == b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ncontent-length: 2\r\n\r\n"
    assert encoder.body(b"ok") + encoder.end() == b"ok"
    assert not encoder.close


def test_a_streamed_response_is_chunked_for_http_1_1_and_close_delimited_for_1_0() -> None:
    chunked = ResponseEncoder(version=b"1.1", keep_alive=True, is_head=False)
    assert b"transfer-encoding: chunked\r\n" in chunked.head(200, [], None)
    assert chunked.body(b"abc") + chunked.end() == b"3\r\nabc\r\n0\r\n\r\n"
    plain = ResponseEncoder(version=b"1.0", keep_alive=False, is_head=False)
    assert b"connection: close\r\n" in plain.head(200, [], None)
    assert plain.body(b"abc") + plain.end() == b"abc"
    assert plain.close


def test_head_and_204_responses_carry_no_body() -> None:
    head = ResponseEncoder(version=b"1.1", keep_alive=True, is_head=True)
    head.head(200, [(b"content-length", b"5")], None)
    assert head.body(b"hello") + head.end() == b""
    no_content = ResponseEncoder(version=b"1.1", keep_alive=True, is_head=False)
    assert no_content.head(204, [], 0) == b"HTTP/1.1 204 No Content\r\n\r\n"


def test_app_mistakes_in_a_response_raise() -> None:
    with pytest.raises(RuntimeError):
        ResponseEncoder(version=b"1.1", keep_alive=True, is_head=False).head(
            200, [(b"x-a", b"1\r\nx-b: 2")], 0
        )
    with pytest.raises(RuntimeError):
        ResponseEncoder(version=b"1.1", keep_alive=True, is_head=False).head(200, [(b"x a", b"1")], 0)
    short = ResponseEncoder(version=b"1.1", keep_alive=True, is_head=False)
    short.head(200, [(b"content-length", b"5")], None)
    with pytest.raises(RuntimeError):
        short.body(b"toolong")
    short.body(b"abc")
    with pytest.raises(RuntimeError):
        short.end()


def test_a_repeated_head_is_answered_from_the_connections_recent_heads() -> None:
    parser = RequestParser(16_384)
    post = b"POST /p?sid=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
    get = b"GET /p?sid=1 HTTP/1.1\r\nHost: x\r\n\r\n"
    seen = []
    for raw in (post, get, post, get):
        parser.feed(raw)
        request = parser.next_request()
        assert request is not None
        seen.append(request)
        assert body_of(parser) == (b"abc" if raw is post else b"")  # the body framing is applied again
    assert seen[2] is seen[0]  # parsed once, the result reused
    assert seen[3] is seen[1]
    assert seen[0].method == b"POST"
    parser.feed(b"GET /p?sid=1 HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n")
    with pytest.raises(HttpError):  # a new head is still checked in full
        parser.next_request()


def test_a_head_differing_only_in_its_target_shares_the_checked_header_set() -> None:
    # A polling client's heads differ only in a random `t=`: each is a request of its own (its own target),
    # sharing the memo of the header set; other headers, or a broken one, are checked anew.
    parser = RequestParser(16_384)
    requests = []
    for stamp in (b"a1", b"b2", b"c3"):
        parser.feed(b"GET /p?t=" + stamp + b"&sid=1 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n")
        request = parser.next_request()
        assert request is not None
        assert body_of(parser) == b""
        requests.append(request)
    assert [r.target for r in requests] == [b"/p?t=a1&sid=1", b"/p?t=b2&sid=1", b"/p?t=c3&sid=1"]
    assert requests[0].memo is requests[1].memo is requests[2].memo
    assert requests[0].keep_alive
    assert requests[2].keep_alive
    parser.feed(b"GET /p?t=d4&sid=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    closing = parser.next_request()
    assert closing is not None
    assert not closing.keep_alive
    assert closing.memo is not requests[0].memo
    parser.feed(b"GET /p?t=e5&sid=1 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\nHost: y\r\n\r\n")
    with pytest.raises(HttpError):  # still checked in full
        parser.next_request()


def test_a_long_target_on_a_known_header_set_is_still_held_to_the_head_bound() -> None:
    parser = RequestParser(200)
    parser.feed(b"GET /short HTTP/1.1\r\nHost: x\r\n\r\n")
    assert parser.next_request() is not None
    assert body_of(parser) == b""
    parser.feed(b"GET /" + b"a" * 300 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    with pytest.raises(HttpError) as refused:
        parser.next_request()
    assert refused.value.status == 431
