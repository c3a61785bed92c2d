"""``ServerConfig.workers = N``: N forked processes serving one port, supervised.

The parent binds the address (``SO_REUSEPORT``, not listening), each worker listens on a socket of its own
on it, so that the kernel spreads connections over the workers (by a hash of each connection's addresses),
and a supervisor thread forks the workers and stays with them: it runs the
pub/sub hub that makes the workers a cluster (`_hub.py`), replaces a worker that dies (its clients
reconnect; it keeps its index, so its old session ids route to the new process, which answers them as
unknown), and on a stop sends every worker SIGTERM, under which each runs the embedded server's own
graceful shutdown; a second stop sends another (the workers end their grace at once), and a worker still
alive ``shutdown_timeout`` + 5 s later is killed.

Why a thread forks: ``serve_asgi`` runs inside an event loop, and a child forked from the loop's thread
would inherit that thread's running loop (asyncio and trio both keep it per thread) and could not start
its own. A thread with no loop forks; in the child it is the only thread, hence the main one, where the
worker's loop runs and receives its signals. The child closes what it inherited of the supervisor (the
hub's sockets, the selector, the wake-up pipe, the other workers' process descriptors) and leaves the
parent's loop objects alone; it ends with ``os._exit``, so nothing of the parent runs again in it.

Each worker is in its own process group: a terminal's Ctrl-C reaches the parent alone, which passes it on
once. A worker whose parent is gone (killed with SIGKILL) shuts itself down (`watch_parent`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import anyio

from sioactor._errors import ConfigError, LifespanFailed
from sioactor.runtime._worker_context import TAGS, WorkerSlot, enter_worker

from ._config import ServerConfig
from ._hub import Hub

__all__ = ("Supervisor", "bind_listener", "watch_parent", "worker_listener")

logger = logging.getLogger("sioactor.server")

_RESPAWN_INTERVAL = 1.0  # seconds between two starts of one worker index at least
_FAILED_STARTS = 3  # a worker failing this many times in a row within _RESPAWN_INTERVAL of its start: give up
_KILL_AFTER = 5.0  # seconds past the shutdown timeout before a worker is killed


def bind_listener(config: ServerConfig) -> socket.socket:
    """The parent's hold on the address: bound with ``SO_REUSEPORT`` and not listening, so it takes no
    connection itself; each worker listens on a socket of its own bound to the same address
    (`worker_listener`), and the kernel spreads new connections over the workers."""
    if config.workers > len(TAGS):
        raise ConfigError(f"ServerConfig(workers={config.workers}): at most {len(TAGS)} workers")
    return _reusable_socket(config.host, config.port)


def worker_listener(slot: WorkerSlot, backlog: int) -> socket.socket:
    """A worker's own listening socket on the address its parent holds."""
    host, port = slot.listener.getsockname()[:2]
    sock = _reusable_socket(host, port)
    sock.listen(backlog)
    return sock


def _reusable_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


@dataclass(slots=True)
class _Worker:
    index: int
    pid: int
    pidfd: int
    started: float


class Supervisor:
    """Fork ``config.workers`` workers that run *serve_worker* and keep them running until `stop`.

    `run` blocks (in a thread of its own); `stop` may be called from any thread.
    """

    def __init__(
        self, config: ServerConfig, listener: socket.socket, serve_worker: Callable[[], object]
    ) -> None:
        self._config = config
        self._listener = listener
        self._serve_worker = serve_worker
        self._directory = tempfile.mkdtemp(prefix="sioactor-workers-")
        self._selector = selectors.DefaultSelector()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        self._workers: dict[int, _Worker] = {}
        self._failures = dict.fromkeys(range(config.workers), 0)
        self._due: dict[int, float] = {}  # index -> when to start it again
        self._stops = 0
        self._stops_handled = 0
        self._closed = False
        self._kill_at: float | None = None
        self._hub: Hub | None = None
        self._ready: set[int] = set()
        self._all_ready = threading.Event()
        self.failure: str | None = None

    def wait_ready(self) -> bool:
        """Block until every worker listens (True), or the supervisor has ended (False)."""
        self._all_ready.wait()
        return len(self._ready) == self._config.workers

    def _worker_ready(self, index: int) -> None:
        self._ready.add(index)
        if len(self._ready) == self._config.workers:
            self._all_ready.set()

    def stop(self) -> None:
        """Stop the workers (each further call: another SIGTERM to each, ending their grace)."""
        self._stops += 1
        if not self._closed:
            with contextlib.suppress(OSError):
                os.write(self._wake_write, b"x")

    def run(self) -> None:
        """Fork the workers and supervise them until they all exited after a `stop`."""
        hub_listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            hub_listener.bind(os.path.join(self._directory, "hub.sock"))
            hub_listener.listen(self._config.workers * 2)
            self._hub = Hub(hub_listener, self._selector, self._worker_ready)
            self._selector.register(self._wake_read, selectors.EVENT_READ, None)
            for index in range(self._config.workers):
                self._start(index)
            while self._workers or (self._due and not self._stops):
                self._turn()
        finally:
            for worker in self._workers.values():  # only after a failure here: kill what is left
                with contextlib.suppress(OSError):
                    os.kill(worker.pid, signal.SIGKILL)
                self._reap(worker, block=True)
            if self._hub is not None:
                self._hub.close()
            else:
                hub_listener.close()
            self._selector.close()
            self._closed = True
            os.close(self._wake_read)
            os.close(self._wake_write)
            shutil.rmtree(self._directory, ignore_errors=True)
            self._all_ready.set()

    def _turn(self) -> None:
        now = time.monotonic()
        deadlines = [*self._due.values()] if not self._stops else []
        if self._kill_at is not None:
            deadlines.append(self._kill_at)
        timeout = max(0.0, min(deadlines) - now) if deadlines else None
        for key, events in self._selector.select(timeout):
            if isinstance(key.data, Hub):
                key.data.ready(key.fileobj, events)  # type: ignore[arg-type]
            elif isinstance(key.data, _Worker):
                self._exited(key.data)
            else:
                with contextlib.suppress(OSError):
                    os.read(self._wake_read, 4096)
        if self._stops > self._stops_handled:
            self._stops_handled = self._stops
            self._due.clear()
            self._kill_at = time.monotonic() + self._config.shutdown_timeout + _KILL_AFTER
            self._signal_all(signal.SIGTERM)
        now = time.monotonic()
        if self._kill_at is not None and now >= self._kill_at:
            logger.warning("workers: killing the workers still running after the grace period")
            self._signal_all(signal.SIGKILL)
            self._kill_at = None
        for index, due in list(self._due.items()):
            if due <= now:
                del self._due[index]
                self._start(index)

    def _signal_all(self, signum: int) -> None:
        for worker in self._workers.values():
            with contextlib.suppress(OSError):
                os.kill(worker.pid, signum)

    def _exited(self, worker: _Worker) -> None:
        status = self._reap(worker, block=True)
        del self._workers[worker.index]
        if self._stops:
            return
        now = time.monotonic()
        quick = now - worker.started < _RESPAWN_INTERVAL and status != 0
        self._failures[worker.index] = self._failures[worker.index] + 1 if quick else 0
        if self._failures[worker.index] >= _FAILED_STARTS:
            self.failure = f"worker {worker.index} failed {_FAILED_STARTS} times at start-up (see its log)"
            logger.error("workers: %s; stopping", self.failure)
            self.stop()
            return
        logger.warning(
            "workers: worker %d (pid %d) exited (%s); starting another",
            worker.index,
            worker.pid,
            _describe(status),
        )
        self._due[worker.index] = max(now, worker.started + _RESPAWN_INTERVAL)

    def _reap(self, worker: _Worker, *, block: bool) -> int:
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(worker.pidfd)
        os.close(worker.pidfd)
        try:
            _, status = os.waitpid(worker.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return 0
        return os.waitstatus_to_exitcode(status)

    def _start(self, index: int) -> None:
        slot = WorkerSlot(
            index=index, count=self._config.workers, directory=self._directory, listener=self._listener
        )
        pid = os.fork()
        if pid == 0:
            self._become_worker(slot)  # never returns
        pidfd = os.pidfd_open(pid)
        worker = self._workers[index] = _Worker(index, pid, pidfd, time.monotonic())
        self._selector.register(pidfd, selectors.EVENT_READ, worker)

    def _become_worker(self, slot: WorkerSlot) -> None:
        code = 1
        try:
            os.setpgid(0, 0)
            signal.set_wakeup_fd(-1)
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, signal.SIG_DFL)
            for worker in self._workers.values():
                os.close(worker.pidfd)
            if self._hub is not None:
                for sock in list(self._hub.sockets()):
                    sock.close()
            self._selector.close()
            os.close(self._wake_read)
            os.close(self._wake_write)
            enter_worker(slot)
            self._serve_worker()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)

    def raise_failure(self) -> None:
        """Raise `LifespanFailed` if the workers kept failing at start-up."""
        if self.failure is not None:
            raise LifespanFailed(self.failure)


def _describe(status: int) -> str:
    if status < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-status).name}"
    return f"status {status}"


async def watch_parent(parent: int) -> None:
    """In a worker: shut down (SIGTERM to itself, the graceful way) once the supervisor is gone."""
    while os.getppid() == parent:  # noqa: ASYNC110 (no event tells of a parent's end)
        await anyio.sleep(1.0)
    logger.warning("worker %d: the supervisor is gone; shutting down", os.getpid())
    os.kill(os.getpid(), signal.SIGTERM)
