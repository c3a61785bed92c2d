"""The embedded server's collector settings: applied while serving, restored by the last server to stop."""

from __future__ import annotations

import gc
import weakref

import pytest

from sioactor.runtime._server._gc import tuned_gc


@pytest.fixture(autouse=True)
def restore_gc() -> object:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)
    gc.unfreeze()


def test_thresholds_apply_while_any_server_runs_and_the_previous_ones_come_back() -> None:
    gc.set_threshold(700, 10, 10)
    with tuned_gc((20_000, 20, 50)):
        assert gc.get_threshold() == (20_000, 20, 50)
        assert gc.get_freeze_count() > 0  # what the started app holds is out of every collection
        with tuned_gc((20_000, 20, 50)):
            pass
        assert gc.get_threshold() == (20_000, 20, 50)  # another server still runs
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_none_leaves_the_collector_alone() -> None:
    gc.set_threshold(700, 10, 10)
    with tuned_gc(None):
        assert gc.get_threshold() == (700, 10, 10)
        assert gc.get_freeze_count() == 0


def test_cycles_are_still_collected_while_tuned() -> None:
    class Node:
        other: object = None

    with tuned_gc((20_000, 20, 50)):
        a, b = Node(), Node()
        a.other, b.other = b, a
        alive = weakref.ref(a)
        del a, b
        gc.collect()
        assert alive() is None
