"""The servers under test: how to start each one pinned to a CPU, wait until it listens, and stop it.

Every process started here is tracked by PID and stopped by PID (SIGTERM, then SIGKILL after a grace
period); nothing is ever killed by name.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
HOST = "127.0.0.1"
READY_TIMEOUT_S = 30.0
STOP_GRACE_S = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSpec:
    """One server under test: a display name, its command line (host and port appended), PYTHONPATH."""

    name: str
    argv: tuple[str, ...]
    pythonpath: Path | None = None


def snapshot_head(dest: Path) -> Path:
    """Extract HEAD's sioactor/ and examples/ into *dest* (replacing it) and return *dest*.

    The bench measures a commit, not the shared working tree, which other engineers edit while it runs.
    """
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD", "sioactor", "examples"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def sioactor_server(backend: str, tree: Path, suffix: str = "") -> ServerSpec:
    """sioactor's reference server from *tree* (a snapshot or the working tree) on *backend*."""
    return ServerSpec(
        name=f"sioactor-{backend}{suffix}",
        pythonpath=tree,
        argv=(
            PYTHON,
            str(tree / "examples" / "reference_server.py"),
            "--backend",
            backend,
            "--server",
            "embedded",
            "--ping-interval",
            "25000",
            "--ping-timeout",
            "20000",
            "--connect-timeout",
            "45000",
        ),
    )


REFERENCE_SERVERS: tuple[ServerSpec, ...] = (
    ServerSpec(name="node", argv=("node", str(BENCH / "servers" / "node_server.js"))),
    ServerSpec(name="python-socketio", argv=(PYTHON, str(BENCH / "servers" / "pysio_server.py"))),
)
SERVER_NAMES = ("node", "python-socketio", "sioactor-asyncio", "sioactor-trio")
BASELINE_SUFFIX = "-base"
BASELINE_NAMES = tuple(f"sioactor-{b}{BASELINE_SUFFIX}" for b in ("asyncio", "trio"))


def all_servers(sioactor_tree: Path, baseline_tree: Path | None = None) -> tuple[ServerSpec, ...]:
    """Every server under test, in the table's column order; with *baseline_tree*, sioactor from that tree
    too (``sioactor-<backend>-base``), interleaved with the others, for a before/after comparison."""
    baseline = (
        ()
        if baseline_tree is None
        else tuple(sioactor_server(b, baseline_tree, BASELINE_SUFFIX) for b in ("asyncio", "trio"))
    )
    return (
        *REFERENCE_SERVERS,
        sioactor_server("asyncio", sioactor_tree),
        sioactor_server("trio", sioactor_tree),
        *baseline,
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def process(argv: list[str], *, ready: str | None = None) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Run *argv* from the repository's root (the bench's own scripts: cluster and worker runs); with
    *ready*, wait up to READY_TIMEOUT_S for a stdout line starting with it and yield that line. Stopped by
    its PID at the end: SIGTERM, then SIGKILL after a grace period."""
    proc = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = ""
        if ready is not None:
            assert proc.stdout is not None
            deadline = time.monotonic() + READY_TIMEOUT_S
            while not line.startswith(ready):
                line = proc.stdout.readline()
                if not line or time.monotonic() > deadline:
                    raise RuntimeError(f"{argv[:3]} did not start")
        yield proc, line.strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_GRACE_S * 4)  # a multi-worker server stops each worker gracefully
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_GRACE_S)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


class RunningServer:
    """A started server: its PID, origin URL and log file. Use as a context manager to stop it."""

    def __init__(self, spec: ServerSpec, cpu: int, log_dir: Path) -> None:
        self.spec = spec
        self.port = free_port()
        self.origin = f"http://{HOST}:{self.port}"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{spec.name}-{self.port}.log"
        argv = ["taskset", "-c", str(cpu), *spec.argv, "--host", HOST, "--port", str(self.port)]
        with self.log_path.open("wb") as log:
            # taskset execs the server, so this PID is the server's own (for /proc CPU and RSS readings).
            self.process = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=self._env()
            )
        self.pid = self.process.pid

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.spec.pythonpath is not None:
            # Ahead of the editable install's path entry, so `import sioactor` finds the snapshot.
            env["PYTHONPATH"] = str(self.spec.pythonpath)
        return env

    def wait_ready(self) -> None:
        """Block until the server printed its readiness line; raises RuntimeError if it died or hung."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if b"listening on http://" in self.log_path.read_bytes():
                return
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"{self.spec.name} exited with {code}: {self.log_tail()}")
            time.sleep(0.05)
        raise RuntimeError(f"{self.spec.name} did not print 'listening on' within {READY_TIMEOUT_S} s")

    def serves_socketio(self) -> bool:
        """True if an Engine.IO v4 polling handshake at /socket.io/ answers `0{...}`."""
        url = f"{self.origin}/socket.io/?EIO=4&transport=polling"
        try:
            with urllib.request.urlopen(url, timeout=5) as reply:
                return bool(reply.status == 200 and reply.read(1) == b"0")
        except OSError:
            return False

    def log_tail(self, size: int = 400) -> str:
        """The last bytes of the server's output, for error messages."""
        return self.log_path.read_bytes()[-size:].decode(errors="replace")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period; idempotent."""
        if self.process.poll() is not None:
            return
        os.kill(self.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_GRACE_S)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
