"""Every anyio test here also runs on asyncio with uvloop (see tests/backends.py)."""

from __future__ import annotations

import pytest
from backends import WITH_UVLOOP


@pytest.fixture(params=WITH_UVLOOP)
def anyio_backend(request: pytest.FixtureRequest) -> object:
    return request.param
