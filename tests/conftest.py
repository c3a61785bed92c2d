"""Shared fixtures: every ``@pytest.mark.anyio`` test runs on both anyio backends, asyncio and trio."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def backend_name(anyio_backend: str | tuple[str, dict[str, object]]) -> str:
    """The anyio backend's name, also when the backend comes with options (asyncio on uvloop)."""
    return anyio_backend if isinstance(anyio_backend, str) else anyio_backend[0]
