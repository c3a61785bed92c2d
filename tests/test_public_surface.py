"""The public surface: what ``sioactor`` exports, and that examples and the README live on it alone."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

import sioactor
from sioactor import _errors

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").rglob("*.py"))


def private_imports(source: str) -> list[str]:
    """The sioactor modules *source* imports through a private (``_name``) path segment."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        found += [n for n in names if n.split(".")[0] == "sioactor" and re.search(r"(^|\.)_", n)]
    return found


def test_there_are_examples_to_check() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_examples_import_only_public_names(path: Path) -> None:
    assert private_imports(path.read_text()) == []


def test_readme_snippets_import_only_public_names() -> None:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.DOTALL)
    assert blocks
    assert [name for block in blocks for name in private_imports(block)] == []


def test_private_import_checker_catches_one() -> None:
    source = "from sioactor.runtime._server import x\nimport sioactor._errors\nfrom sioactor import _errors\n"
    assert private_imports(source) == [
        "sioactor.runtime._server",
        "sioactor.runtime._server.x",
        "sioactor._errors",
        "sioactor._errors",
    ]
    assert private_imports("from sioactor import SocketIo\nimport _thread\n") == []


def test_public_names_are_exported() -> None:
    assert isinstance(sioactor.__all__, tuple)
    assert len(set(sioactor.__all__)) == len(sioactor.__all__)
    for name in sioactor.__all__:
        assert getattr(sioactor, name) is not None, name


# Raised and handled inside sioactor; a caller never meets it.
INTERNAL_ERRORS = {"PollRefused"}


def test_every_error_is_in_one_tree_and_exported() -> None:
    classes = [
        obj for _, obj in inspect.getmembers(_errors, inspect.isclass) if obj.__module__ == _errors.__name__
    ]
    assert {cls.__name__ for cls in classes} == set(_errors.__all__)
    for cls in classes:
        assert issubclass(cls, sioactor.SioactorError), cls
        assert cls.__name__ in _errors.__doc__, f"{cls.__name__} is missing from the tree drawing"
        if cls.__name__ not in INTERNAL_ERRORS:
            assert getattr(sioactor, cls.__name__, None) is cls, f"sioactor does not export {cls.__name__}"


def test_no_error_class_outside_the_tree() -> None:
    # Every exception sioactor defines lives in sioactor/_errors.py (private control-flow ones aside).
    stray = []
    for path in sorted((ROOT / "sioactor").rglob("*.py")):
        if path.name == "_errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                if any(b.endswith(("Error", "Exception")) or b in set(_errors.__all__) for b in bases):
                    stray.append(f"{path.relative_to(ROOT)}: {node.name}")
    assert stray == []
