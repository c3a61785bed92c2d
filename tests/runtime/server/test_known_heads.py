"""A parser that recognises remembered heads (``_known_heads.py``) yields exactly what llhttp alone yields.

Hypothesis builds streams of requests from a small pool of header blocks (so that heads repeat, as a polling
client's do), with plain and odd targets, valid and malformed heads, bodies that match their length or not,
chunked and upgrade requests, and splits the stream anywhere; both parsers are fed the same pieces and must
give the same requests, bodies, ends and errors, in the same order.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from sioactor.runtime._server._parser import END_OF_BODY, HttpError, Request, RequestParser

HOST = b"host: 127.0.0.1:3000\r\n"
CLIENT_HEADERS = (
    b"user-agent: node\r\naccept: */*\r\naccept-encoding: gzip, deflate\r\n"
    + HOST
    + b"connection: keep-alive\r\n"
)
# Header blocks without their final CRLF; "{n}" is replaced by the body's declared length.
BLOCKS = [
    CLIENT_HEADERS,
    CLIENT_HEADERS + b"content-type: text/plain;charset=UTF-8\r\ncontent-length: {n}\r\n",
    HOST + b"content-length: {n}\r\n",
    HOST,
    HOST + b"connection: close\r\n",
    HOST + b"transfer-encoding: chunked\r\n",
    HOST + b"expect: 100-continue\r\ncontent-length: {n}\r\n",
    HOST + b"upgrade: websocket\r\nconnection: upgrade\r\n",
    HOST + b"content-length: {n}\r\ncontent-length: {n}\r\n",  # refused: repeated
    HOST + b"bad header : x\r\n",  # refused: whitespace before the colon
    b"",  # refused on HTTP/1.1: no host
    HOST + b"x-long: " + b"a" * 600 + b"\r\n",
]
METHODS = [b"GET", b"POST", b"HEAD", b"OPTIONS", b"PUT", b"CONNECT", b"get", b"GE T"]
VERSIONS = [b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.1 "]
ODD_TARGETS = [
    b"",
    b"*",
    b"/a b",
    b"/a#frag",
    b"/\xc3\xa9",
    b"/a\x01",
    b"http://x/y",
    b"/%zz",
    b"//",
    b"/?a=%",
]

plain_targets = st.builds(
    lambda path, t: b"/socket.io/?EIO=4&transport=polling&t=" + t + b"&sid=" + path,
    st.sampled_from([b"abc", b"x-y_z", b"Q1"]),
    st.binary(min_size=0, max_size=8).map(lambda b: b.hex().encode()),
)


@st.composite
def message(draw: st.DrawFn) -> bytes:
    method = draw(st.sampled_from(METHODS[:3]) | st.sampled_from(METHODS))
    target = draw(plain_targets | st.sampled_from(ODD_TARGETS))
    version = draw(st.sampled_from(VERSIONS[:1]) | st.sampled_from(VERSIONS))
    block = draw(st.sampled_from(BLOCKS[:4]) | st.sampled_from(BLOCKS))
    body = draw(st.binary(max_size=12).map(lambda b: b.hex().encode()))
    declared = len(body) + draw(st.sampled_from([0, 0, 0, 1, -1])) if body else len(body)
    head = (
        method
        + b" "
        + target
        + b" "
        + version
        + b"\r\n"
        + block.replace(b"{n}", str(max(declared, 0)).encode())
    )
    if b"chunked" in block:
        return head + b"\r\n" + (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    return head + b"\r\n" + (body if b"{n}" in block else b"")


@st.composite
def polling_run(draw: st.DrawFn) -> list[bytes]:
    """A client repeating one head with new targets (what the remembered path is for), with odd messages
    mixed in now and then."""
    method = draw(st.sampled_from([b"GET", b"POST"]))
    block = draw(st.sampled_from(BLOCKS[:4]))
    run = []
    for _ in range(draw(st.integers(min_value=2, max_value=6))):
        target = draw(plain_targets)
        body = draw(st.binary(max_size=12).map(lambda b: b.hex().encode())) if b"{n}" in block else b""
        head = method + b" " + target + b" HTTP/1.1\r\n" + block.replace(b"{n}", str(len(body)).encode())
        run.append(head + b"\r\n" + body)
    odd = draw(st.lists(message(), max_size=2))
    for piece in odd:
        run.insert(draw(st.integers(min_value=0, max_value=len(run))), piece)
    return run


@dataclass
class Drained:
    """What a parser gave out so far: ("request", fields...), ("body", bytes), ("end",), ("error", status)."""

    seen: list[tuple[object, ...]] = field(default_factory=list)
    in_body: bool = False
    done: bool = False


def drain(parser: RequestParser, out: Drained) -> None:
    while not out.done:
        try:
            if out.in_body:
                piece = parser.next_body()
                if piece is None:
                    return
                if piece is END_OF_BODY:
                    out.seen.append(("end",))
                    out.in_body = False
                else:
                    assert isinstance(piece, bytes)
                    if out.seen and out.seen[-1][0] == "body":
                        previous = out.seen.pop()[1]
                        assert isinstance(previous, bytes)
                        piece = previous + piece
                    out.seen.append(("body", piece))
                continue
            request = parser.next_request()
        except HttpError as error:
            out.seen.append(("error", error.status))
            out.done = True
            return
        if request is None:
            return
        assert isinstance(request, Request)
        fields = (request.method, request.target, request.http_version, tuple(request.headers))
        out.seen.append(("request", *fields, request.keep_alive, request.expect_continue))
        out.in_body = True


@settings(max_examples=400, deadline=None)
@given(
    messages=st.lists(message(), min_size=1, max_size=8) | polling_run(),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=6),
    repeat=st.booleans(),
)
def test_known_heads_yield_what_llhttp_alone_yields(
    messages: list[bytes], cuts: list[int], repeat: bool
) -> None:
    if repeat:  # the first message again at the end: a remembered head in a later read
        messages = [*messages, messages[0]]
    stream = b"".join(messages)
    points = sorted({min(cut, len(stream)) for cut in cuts} | {0, len(stream)})
    # Message boundaries as cut points too, most of the time: the remembered path needs a read that starts
    # between messages, as a polling client's reads do.
    offset = 0
    for piece in messages:
        offset += len(piece)
        points.append(offset)
    points = sorted(set(points))
    with_known, plain = RequestParser(1024), RequestParser(1024, known_heads=False)
    got_known, got_plain = Drained(), Drained()
    for start, end in itertools.pairwise(points):
        with_known.feed(stream[start:end])
        plain.feed(stream[start:end])
        drain(with_known, got_known)
        drain(plain, got_plain)
        assert got_known.seen == got_plain.seen
        if got_plain.done:
            break
        if plain.buffered == 0 and with_known.buffered == 0 and b"upgrade" in stream:
            assert plain.take_trailing() == with_known.take_trailing()
    assert got_known.seen == got_plain.seen


def test_a_polling_client_s_heads_are_recognised_after_the_first() -> None:
    parser = RequestParser(16_384)
    heads = [
        b"GET /socket.io/?EIO=4&transport=polling&t=%d HTTP/1.1\r\n" % i + CLIENT_HEADERS + b"\r\n"
        for i in range(3)
    ]
    requests = []
    for head in heads:
        parser.feed(head)
        request = parser.next_request()
        assert isinstance(request, Request)
        assert parser.next_body() is END_OF_BODY
        requests.append(request)
    assert [r.target for r in requests] == [b"/socket.io/?EIO=4&transport=polling&t=%d" % i for i in range(3)]
    assert requests[1].memo is requests[0].memo is requests[2].memo
    assert parser._known  # remembered: the later heads never reached llhttp
