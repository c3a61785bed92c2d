"""Random ids from the pooled kernel randomness: format, uniqueness across refills, and no ids shared with a
forked child."""

from __future__ import annotations

import base64
import os
import re

from sioactor.runtime._random_ids import random_id

_ID = re.compile(r"[A-Za-z0-9_-]{20}")


def test_ids_are_20_url_safe_characters_of_15_bytes_and_unique_across_pool_refills() -> None:
    ids = [random_id() for _ in range(2_000)]  # several pools' worth
    assert all(_ID.fullmatch(i) for i in ids)
    assert all(len(base64.urlsafe_b64decode(i)) == 15 for i in ids)
    assert len(set(ids)) == len(ids)


def test_a_forked_child_does_not_hand_out_the_parents_next_ids() -> None:
    random_id()  # the pool is filled and partly used
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ids and leave at once
        os.close(read_end)
        os.write(write_end, " ".join(random_id() for _ in range(5)).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        child_ids = set(pipe.read().split())
    os.waitpid(pid, 0)
    parent_ids = {random_id() for _ in range(5)}
    assert len(child_ids) == 5
    assert not child_ids & parent_ids
