"""The soak scenarios' fast modes, on both backends: a few seconds each, so that a regression shows in the
normal suite. Their long modes are commands (tests/README.md, "Soak and fuzz")."""

from __future__ import annotations

import pytest

from . import churn, exhaustion, fuzz_wire, http_corpus, slow_consumer
from ._kit import serving, watching_errors

pytestmark = pytest.mark.anyio


async def test_wire_fuzz_bursts_leave_the_server_serving_and_holding_nothing() -> None:
    tally = await fuzz_wire.fuzz(duration=1.0, seed=16)
    assert tally.failures == []
    assert tally.bursts >= 1


async def test_msgpack_wire_fuzz_bursts_get_the_protocols_answers_and_leave_the_server_serving() -> None:
    tally = await fuzz_wire.fuzz(duration=2.0, seed=16, parser="msgpack")
    assert tally.failures == []
    assert tally.bursts >= 1
    assert tally.refusals_checked == tally.bursts


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


async def test_churn_leaves_no_session_actor_task_or_descriptor_behind() -> None:
    tally = await churn.run(cycles=150, duration=20.0)
    assert tally.failures == []
    assert tally.total >= 150
    assert set(tally.cycles) == {cycle.__name__ for cycle in churn.CYCLES}


@pytest.mark.parametrize("policy", slow_consumer.POLICIES)
async def test_each_slow_consumer_policy_does_as_documented_and_spares_the_others(
    policy: slow_consumer.Policy,
) -> None:
    rounds, failures = await slow_consumer.run((policy,), duration=0.0)
    assert failures == []
    assert rounds == 1


async def test_connections_that_hold_resources_are_closed_in_time_and_new_clients_served() -> None:
    tally = await exhaustion.run(duration=0.0, per_kind=15)
    assert tally.failures == []
    assert tally.held == 15 * len(exhaustion.KINDS)
    assert tally.healthy >= 1
