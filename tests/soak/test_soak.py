"""The soak scenarios' fast modes, on both backends: a few seconds each, so that a regression shows in the
normal suite. Their long modes are commands (tests/README.md, "Soak and fuzz")."""

from __future__ import annotations

import pytest

from . import fuzz_wire, http_corpus
from ._kit import serving, watching_errors

pytestmark = pytest.mark.anyio


async def test_wire_fuzz_bursts_leave_the_server_serving_and_holding_nothing() -> None:
    tally = await fuzz_wire.fuzz(duration=1.0, seed=16)
    assert tally.failures == []
    assert tally.bursts >= 2


async def test_the_http_corpus_gets_its_answers_and_the_server_serves_on() -> None:
    tally = http_corpus.Tally()
    with watching_errors() as errors:
        async with serving() as served:
            await http_corpus.run_corpus(served, tally)
            settled = await served.settled(within=http_corpus.ENDS_WITHIN)
    assert tally.failures == []
    assert tally.sent == len(http_corpus.CASES)
    assert settled.excess_over(served.baseline) == {}
    assert errors.lines() == []
