"""Headless Chromium for the browser tests: its command line, and a page's one result awaited with the
browser running."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_argv(url: str, profile: Path) -> list[str]:
    """Headless Chromium opening *url*, with a fresh profile in *profile*."""
    assert CHROMIUM is not None, "the test is skipped without chromium"
    flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    return [CHROMIUM, *flags, f"--user-data-dir={profile}", url]


async def page_result(
    url: str, profile: Path, results: MemoryObjectReceiveStream[dict[str, Any]]
) -> dict[str, Any]:
    """Open *url* in headless Chromium and wait (30 s at most) for the one result its page reports."""
    quiet = subprocess.DEVNULL
    async with await anyio.open_process(chromium_argv(url, profile), stdout=quiet, stderr=quiet) as browser:
        try:
            with anyio.fail_after(30):
                return await results.receive()
        finally:
            browser.kill()
