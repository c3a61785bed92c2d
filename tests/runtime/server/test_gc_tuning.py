"""The embedded server's collector settings: off unless asked for; applied while serving, restored by the last
server to stop; a freeze the host application made is never undone."""

from __future__ import annotations

import gc
import weakref

import pytest

from sioactor.runtime._server import ServerConfig
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


def test_the_collector_is_left_alone_unless_the_config_asks() -> None:
    assert ServerConfig().gc_thresholds is None


def test_a_freeze_the_host_made_is_never_undone() -> None:
    # gc.unfreeze() would empty the permanent generation; frozen objects that die leave it one by one.
    gc.freeze()  # the host application's own
    frozen = gc.get_freeze_count()
    with tuned_gc((20_000, 20, 50)):
        pass
    assert gc.get_freeze_count() > frozen // 2
    with tuned_gc((20_000, 20, 50)):
        gc.freeze()  # and again, while a server runs
        frozen = gc.get_freeze_count()
    assert gc.get_freeze_count() > frozen // 2


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
