"""The HTTP corpus against Node's http server (``_http_node.py``): where sioactor's answer (as the corpus
prescribes it; ``test_soak.py`` checks that it is) and Node's differ in verdict, one accepting what the
other refuses, the case must be in ``KNOWN_DIFFERENCES`` with its reason, and every entry there must still
differ."""

from __future__ import annotations

import pytest

from ._http_cases import CASES
from ._http_node import (
    KNOWN_DIFFERENCES,
    NODE_ENDS_WITHIN,
    Outcome,
    Row,
    compare,
    expected,
    node_server,
    outcomes,
    unexplained,
)


# Node's answers do not depend on the client's event loop: one backend is enough.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_node_refuses_what_sioactor_refuses_and_accepts_what_it_accepts_but_the_known_cases() -> None:
    with node_server() as port:
        node = await outcomes(port, CASES, within=NODE_ENDS_WITHIN)
    rows = compare({case.name: expected(case) for case in CASES}, node)
    assert unexplained(rows) == []
    assert KNOWN_DIFFERENCES.keys() <= {case.name for case in CASES}


def test_a_verdict_is_per_final_response_and_says_when_the_connection_stays_open() -> None:
    assert Outcome((100, 200), closed=True).verdict == "accepted"
    assert Outcome((200, 400), closed=True).verdict == "accepted + refused"
    assert Outcome((), closed=True).verdict == "refused"
    assert Outcome((), closed=False).verdict == "waiting, left open"
    assert Outcome((101,), closed=False).verdict == "accepted, left open"
    assert Outcome(None, closed=True).verdict == "garbled"


def test_an_unlisted_difference_and_a_stale_entry_are_both_failures() -> None:
    listed = next(iter(KNOWN_DIFFERENCES))
    smuggled = Row("some case", Outcome((400,), closed=True), Outcome((200, 200), closed=False))
    status_only = Row("other", Outcome((501,), closed=True), Outcome((400,), closed=True))
    failures = unexplained([smuggled, status_only])
    assert failures[0].startswith("some case: sioactor refused (400, closed), Node accepted + accepted")
    assert f"{listed}: listed in KNOWN_DIFFERENCES, but both servers' verdicts agree" in failures
    assert len(failures) == len(KNOWN_DIFFERENCES) + 1
