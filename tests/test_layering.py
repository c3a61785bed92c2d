"""The import rules of sioactor's layers, checked by walking every module's imports.

    sioactor/__init__.py       the public names
    runtime/socketio   →  runtime/engineio  →  runtime/_server (the embedded server)
    runtime/trace      (the trace stream)   ←  runtime/console (reads the stream's records only)
    actors/            anyio, no HTTP or ASGI
    _lowlevel/         the per-backend primitives, below actors/ and runtime/
    protocol/          sans-IO: stdlib, msgpack, orjson
    _errors.py         the error tree, imports no other sioactor module

Imports point downward only, and the modules of one package import each other without a cycle. The cycle
check counts every module-level import, those under ``if TYPE_CHECKING:`` included (an annotation's import is
a dependency all the same); imports inside functions are not counted (a backend loaded on demand).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sioactor"
LOWLEVEL_EXISTS = (PACKAGE / "_lowlevel").is_dir()

# Top-level modules each layer must never import (stdlib and third-party).
FORBIDDEN_LIBRARIES = {
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

# For each part of the package (a directory, or a module file), the sioactor modules it must not import
# (the module itself and everything under it).
FORBIDDEN_SIOACTOR = {
    "_errors.py": {"sioactor.protocol", "sioactor.actors", "sioactor.runtime", "sioactor._lowlevel"},
    "protocol": {"sioactor.actors", "sioactor.runtime", "sioactor._lowlevel"},
    "_lowlevel": {"sioactor.actors", "sioactor.runtime"},
    "actors": {"sioactor.runtime"},
    "runtime/_server": {
        "sioactor.runtime.engineio",
        "sioactor.runtime.socketio",
        "sioactor.runtime.trace",
        "sioactor.runtime.console",
    },
    "runtime/engineio": {"sioactor.runtime.socketio", "sioactor.runtime.console"},
    "runtime/trace": {
        "sioactor.runtime.socketio",
        "sioactor.runtime.engineio",
        "sioactor.runtime._server",
        "sioactor.runtime.console",
    },
}

# The console reads the trace stream and nothing else of a server: these (and its own modules) only.
CONSOLE_MAY_IMPORT = {
    "sioactor._errors",
    "sioactor.actors._trace",  # the trace vocabulary (TraceKind)
    "sioactor.runtime.trace._record",  # the stream's record format
    "sioactor.runtime.console",
}


def _import_nodes(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The module-level imports, under ``if`` (``TYPE_CHECKING`` too) and ``try``; none inside functions."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            yield from _import_nodes(node.body)
            yield from _import_nodes(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _import_nodes(block)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, *, module_level: bool = False) -> set[str]:
    """Every module *path* imports (absolute names; ``from m import x`` yields ``m`` and ``m.x``).

    *module_level*: only the imports at module level (see ``_import_nodes``); otherwise all.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = _import_nodes(tree.body) if module_level else ast.walk(tree)
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                own = module_name(path).split(".")
                package = own if path.name == "__init__.py" else own[:-1]
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _under(module: str, prefixes: set[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _files(part: str) -> list[Path]:
    target = PACKAGE / part
    if target.suffix == ".py":
        return [target] if target.exists() else []
    return sorted(target.rglob("*.py"))


def violations(part: str) -> list[str]:
    libraries = FORBIDDEN_LIBRARIES.get(part, set())
    bad = []
    for path in _files(part):
        for module in sorted(imported_modules(path)):
            if module.split(".")[0] in libraries or _under(module, FORBIDDEN_SIOACTOR[part]):
                bad.append(f"{path.relative_to(PACKAGE)} imports {module}")
    return bad


@pytest.mark.parametrize("part", sorted(FORBIDDEN_SIOACTOR))
def test_imports_point_downward(part: str) -> None:
    assert violations(part) == []


@pytest.mark.xfail(
    not LOWLEVEL_EXISTS,
    reason="until sioactor/_lowlevel/ exists, the embedded server imports backend primitives from actors/",
    strict=True,
)
def test_the_embedded_server_imports_no_actors() -> None:
    bad = [
        f"{path.relative_to(PACKAGE)} imports {module}"
        for path in _files("runtime/_server")
        for module in sorted(imported_modules(path))
        if _under(module, {"sioactor.actors"})
    ]
    assert bad == []


def test_the_console_reads_only_the_trace_stream() -> None:
    bad = [
        f"{path.relative_to(PACKAGE)} imports {module}"
        for path in _files("runtime/console")
        for module in sorted(imported_modules(path))
        if module.startswith("sioactor") and not _under(module, CONSOLE_MAY_IMPORT)
    ]
    assert bad == []


def import_cycles() -> list[list[str]]:
    """The cycles among the modules of each package (its ``__init__`` included), by module-level imports."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {
        name: {m for m in imported_modules(path, module_level=True) if m in modules and m != name}
        for name, path in modules.items()
    }
    cycles = []
    for package in {name for name, path in modules.items() if path.name == "__init__.py"}:
        members = {n for n in modules if n == package or n.rpartition(".")[0] == package}
        members = {n for n in members if modules[n].name != "__init__.py" or n == package}
        local = {n: graph[n] & members for n in members}
        cycles.extend(sorted(c) for c in _strongly_connected(local) if len(c) > 1)
    return sorted(cycles)


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    # Tarjan's algorithm, iterative over each node's successors.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


# The one cycle left, on purpose. ``Socket.to()`` returns a ``BroadcastOperators`` whose ``sockets()`` returns
# ``Socket``s; the ``Adapter`` interface returns ``Socket``s too and is built from the ``Namespace`` that
# holds them all. These public types name each other in their signatures: ordering their modules one way
# would need a protocol in place of one of them in a public signature (users would lose the exact type), or
# one module holding them all. Everything else of the package is layered above them.
SOCKET_HANDLES = [
    "sioactor.runtime.socketio._adapter",
    "sioactor.runtime.socketio._namespace",
    "sioactor.runtime.socketio._operators",
    "sioactor.runtime.socketio._remote",  # fetch_sockets returns Socket | RemoteSocket (another node's)
    "sioactor.runtime.socketio._socket",
]


# A namespace class (python-socketio's habit) is a public base class whose ``io`` is the public ``SocketIo``,
# and ``SocketIo.register_namespace`` takes one: the two name each other in their signatures for the same
# reason.
NAMESPACE_CLASSES = ["sioactor.runtime.socketio._io", "sioactor.runtime.socketio._namespace_class"]


def test_no_import_cycle_within_a_package() -> None:
    assert sorted(import_cycles()) == sorted([SOCKET_HANDLES, NAMESPACE_CLASSES])


def test_checker_catches_a_violation(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("import anyio\nfrom sioactor.runtime import x\n")
    assert imported_modules(sample) == {"anyio", "sioactor.runtime", "sioactor.runtime.x"}


def test_checker_counts_type_checking_imports_not_function_ones(tmp_path: Path) -> None:
    sample = tmp_path / "typed.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import anyio\nelse:\n    import trio\n"
        "def f() -> None:\n    import sniffio\n"
    )
    assert imported_modules(sample, module_level=True) == {"typing", "typing.TYPE_CHECKING", "anyio", "trio"}
    assert "sniffio" in imported_modules(sample)


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert sorted(sorted(c) for c in _strongly_connected(graph) if len(c) > 1) == [["a", "b", "c"]]
