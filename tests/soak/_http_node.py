"""The HTTP corpus as a differential test: each request of ``_http_cases.py`` sent to Node's own http server
(llhttp with Node 20's defaults, a real engine.io attached: ``tests/node/http_corpus_server.js``) and what it
did compared, case by case, with what sioactor's embedded server does.

What is compared is a verdict, what a front end in the path acts on: each final response accepted (below
400) or refused (400 and up; a close with no answer refuses too), and whether the connection was left open
(a server still waiting for bytes framed the request differently). Where one server accepts a request the
other refuses, a Node proxy in front of sioactor (or sioactor in front of a Node app) could be desynchronised:
each such case is either a failure or listed, with the reason, in ``KNOWN_DIFFERENCES``. A different status
for the same verdict (400 against 501, a 100 Continue sent or not) is shown, not judged.

    python -m tests.soak.http_corpus --against-node [--backend trio]
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio

from . import http_corpus
from ._http_cases import CASES, Case

ROOT = Path(__file__).resolve().parents[2]
NODE_SCRIPT = ROOT / "tests" / "node" / "http_corpus_server.js"
# Node answers and closes at once: what is open after this long is kept alive (Node's keep-alive: 30 s).
NODE_ENDS_WITHIN = 1.5

# The cases where Node's verdict differs from sioactor's, and why sioactor's is the one it keeps. In each,
# sioactor refuses and closes where Node accepts (one is the other way round, by engine.io, not llhttp),
# and both frame the request alike: none is a desync, since the refusing side closes the connection and
# reads nothing after the request.
KNOWN_DIFFERENCES: dict[str, str] = {
    "h2c upgrade ignored": (
        "Node's engine.io takes any request on its path with 'connection: upgrade' for a WebSocket handshake "
        "and refuses this one (400, transport=polling); sioactor ignores the h2c upgrade and serves the "
        "poll, as RFC 9110 section 7.8 allows ('a server MAY ignore a received Upgrade header field')"
    ),
    "transfer-encoding: gzip, chunked": (
        "both frame the body as chunked (the last coding), but Node hands the app a body still gzip-encoded "
        "and answers; sioactor decodes no coding but chunked and refuses with 501, as RFC 9112 section 6.1 "
        "says a server SHOULD for a transfer coding it does not understand"
    ),
    "two hosts": (
        "Node serves a request with two Host fields; RFC 9112 section 3.2: a server MUST answer 400 to a "
        "request with more than one Host field line"
    ),
    "HTTP/0.9 request line on the Engine.IO path": (
        "llhttp reads a request line without a version as HTTP/0.9 and Node answers it (with HTTP/1.1, then "
        "closes); RFC 9112 section 3 requires the HTTP-version in a request line, and sioactor refuses with "
        "400 a form no current client sends"
    ),
    "HTTP/2.0 on the Engine.IO path": (
        "llhttp accepts 'HTTP/2.0' in an HTTP/1 request line and Node serves it as HTTP/1.x; HTTP/2 never "
        "uses this framing (RFC 9113 section 3), so sioactor refuses the major version with 505 (RFC 9110 "
        "section 15.6.6)"
    ),
    "2,100 small headers": (
        "Node serves it, silently dropping the fields past its maxHeadersCount (2,000); sioactor refuses a "
        "head of more than its field count with 431 (RFC 6585 section 5) rather than act on part of it"
    ),
    "WebSocket upgrade over HTTP/1.0": (
        "Node's ws upgrades it (101); RFC 6455 section 4.1: the handshake MUST be an HTTP/1.1 or later GET, "
        "so sioactor refuses it with 400"
    ),
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a server did on one connection: its responses' statuses (``None``: not a sequence of HTTP
    responses) and whether it closed the connection."""

    statuses: tuple[int, ...] | None
    closed: bool

    @property
    def verdict(self) -> str:
        if self.statuses is None:
            return "garbled"
        finals = [status for status in self.statuses if status >= 200 or status == 101]
        words = ["refused" if status >= 400 else "accepted" for status in finals]
        if not words:
            words = ["refused" if self.closed else "waiting"]
        return " + ".join(words) + ("" if self.closed else ", left open")

    def __str__(self) -> str:
        shown = "garbled" if self.statuses is None else " ".join(map(str, self.statuses)) or "no answer"
        return f"{shown}, {'closed' if self.closed else 'open'}"


def expected(case: Case) -> Outcome:
    """What sioactor answers to *case*, as the corpus prescribes (then it closes)."""
    return Outcome(case.expect, closed=True)


@contextmanager
def node_server() -> Iterator[int]:
    """Node's server on a free loopback port (yielded), stopped when the block ends."""
    process = subprocess.Popen(
        ["node", str(NODE_SCRIPT)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"{NODE_SCRIPT.name} exited with {process.wait()} before listening")
        yield int(json.loads(line)["port"])
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


async def outcomes(port: int, cases: Iterable[Case], *, within: float) -> dict[str, Outcome]:
    """Each case sent whole on its own connection (twenty at a time) and what the server did, by name."""
    found: dict[str, Outcome] = {}
    limiter = anyio.CapacityLimiter(20)

    async def one(case: Case) -> None:
        async with limiter:
            answer, closed = await http_corpus.exchange(
                port, await http_corpus.filled(port, case), within=within
            )
            got = http_corpus.statuses(answer)
            found[case.name] = Outcome(None if got is None else tuple(got), closed)

    async with anyio.create_task_group() as tg:
        for case in cases:
            tg.start_soon(one, case)
    return found


@dataclass(frozen=True, slots=True)
class Row:
    case: str
    sioactor: Outcome
    node: Outcome

    @property
    def verdicts_differ(self) -> bool:
        return self.sioactor.verdict != self.node.verdict


def compare(sioactor: Mapping[str, Outcome], node: Mapping[str, Outcome]) -> list[Row]:
    """The cases (in corpus order) where the two servers did anything differently."""
    rows = [Row(case.name, sioactor[case.name], node[case.name]) for case in CASES]
    return [row for row in rows if row.sioactor != row.node]


def unexplained(rows: Iterable[Row]) -> list[str]:
    """A failure for each verdict difference not in ``KNOWN_DIFFERENCES``, and for each entry there whose
    case no longer differs (the list must say what is true)."""
    differing = {row.case: row for row in rows if row.verdicts_differ}
    failures = [
        f"{name}: sioactor {row.sioactor.verdict} ({row.sioactor}), Node {row.node.verdict} ({row.node})"
        for name, row in differing.items()
        if name not in KNOWN_DIFFERENCES
    ]
    failures += [
        f"{name}: listed in KNOWN_DIFFERENCES, but both servers' verdicts agree"
        for name in KNOWN_DIFFERENCES
        if name not in differing
    ]
    return failures


def table(rows: Iterable[Row]) -> str:
    """The differences as a plain-text table; ``*`` marks a verdict difference, ``=`` a known one."""
    lines = [f"   {'case':<48} {'sioactor':<20} {'Node':<20} verdicts"]
    for row in rows:
        mark = " " if not row.verdicts_differ else "=" if row.case in KNOWN_DIFFERENCES else "*"
        verdicts = "same" if not row.verdicts_differ else f"{row.sioactor.verdict} / {row.node.verdict}"
        lines.append(f" {mark} {row.case:<48} {row.sioactor!s:<20} {row.node!s:<20} {verdicts}")
    return "\n".join(lines)


async def against_node() -> list[str]:
    """The corpus against both servers, live; print the differences, return the failures (sioactor not
    answering as the corpus prescribes, and unexplained differences)."""
    with node_server() as node_port:
        node = await outcomes(node_port, CASES, within=NODE_ENDS_WITHIN)
    async with http_corpus.serving() as served:
        sioactor = await outcomes(served.port, CASES, within=http_corpus.ENDS_WITHIN)
    failures = [
        f"{case.name}: sioactor answered {sioactor[case.name]}, the corpus expects {expected(case)}"
        for case in CASES
        if sioactor[case.name] != expected(case)
    ]
    rows = compare(sioactor, node)
    print(table(rows))
    print(
        f"{len(CASES)} cases: {len(rows)} answered differently, "
        f"{sum(row.verdicts_differ for row in rows)} with another verdict ({len(KNOWN_DIFFERENCES)} known)"
    )
    return failures + unexplained(rows)
