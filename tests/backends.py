"""The anyio backends a test directory runs on, asyncio on uvloop included (as the reference server runs
when uvloop is installed: uvloop's transports are not asyncio's classes)."""

from __future__ import annotations

import importlib.util

import pytest

_NO_UVLOOP = importlib.util.find_spec("uvloop") is None

WITH_UVLOOP = [
    pytest.param("asyncio", id="asyncio"),
    pytest.param(
        ("asyncio", {"use_uvloop": True}),
        id="uvloop",
        marks=pytest.mark.skipif(_NO_UVLOOP, reason="uvloop is not installed"),
    ),
    pytest.param("trio", id="trio"),
]
