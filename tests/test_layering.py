"""The import rule of the three layers: runtime -> actors -> protocol, never upward, no I/O below runtime."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sioactor"

# Top-level modules each layer must never import (besides the upper sioactor layers).
FORBIDDEN = {
    "protocol": {"anyio", "asyncio", "trio", "socket", "selectors", "ssl", "time", "threading", "sniffio"},
    "actors": {
        "h11",
        "httptools",
        "websockets",
        "wsproto",
        "starlette",
        "uvicorn",
        "hypercorn",
        "http",
        "socket",
    },
}
UPPER = {"protocol": {"sioactor.actors", "sioactor.runtime"}, "actors": {"sioactor.runtime"}}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def violations(layer: str) -> list[str]:
    bad = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for module in imported_modules(path):
            top = module.split(".")[0]
            upper = any(module == u or module.startswith(u + ".") for u in UPPER[layer])
            if top in FORBIDDEN[layer] or upper:
                bad.append(f"{path.relative_to(PACKAGE)} imports {module}")
    return bad


@pytest.mark.parametrize("layer", ["protocol", "actors"])
def test_layer_imports_point_downward(layer: str) -> None:
    assert violations(layer) == []


def test_checker_catches_a_violation(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("import anyio\nfrom sioactor.runtime import x\n")
    assert imported_modules(sample) == {"anyio", "sioactor.runtime"}


def test_public_names_are_exported() -> None:
    import sioactor

    assert isinstance(sioactor.__all__, tuple)
    for name in sioactor.__all__:
        assert getattr(sioactor, name) is not None, name
