"""The embedded server's and the engine's tests also run on asyncio with uvloop, as the reference server
does when uvloop is installed: uvloop's transports are not asyncio's classes."""

from __future__ import annotations

import importlib.util

import pytest

_NO_UVLOOP = importlib.util.find_spec("uvloop") is None
BACKENDS = [
    "asyncio",
    pytest.param(("asyncio", {"use_uvloop": True}), marks=pytest.mark.skipif(_NO_UVLOOP, reason="no uvloop")),
    "trio",
]


@pytest.fixture(params=BACKENDS, ids=["asyncio", "uvloop", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> object:
    return request.param
