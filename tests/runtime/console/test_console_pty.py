"""End to end: the real ``sioactor console`` in a tmux pseudo-terminal, attached to the traced example server
driven by real python-socketio clients; the test reads the screen.
"""

from __future__ import annotations

import os
import re
import shutil
import socket as socket_module
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE_ARGS = ("--port", "0", "--load", "2", "--interval", "0.1", "--duration", "50")
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.fixture
def traced_server() -> Iterator[tuple[str, str]]:
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "examples/traced_server.py"), *EXAMPLE_ARGS],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        assert server.stdout is not None
        command = ""
        while "attach the console" not in command:
            command = server.stdout.readline()
            assert command, "the example server exited before printing the console command"
        match = re.search(r"--connect (\S+) --token (\S+)", command)
        assert match is not None
        yield match.group(1), match.group(2)
    finally:
        server.terminate()
        server.wait(10)
        assert server.stdout is not None
        server.stdout.close()


def tmux(socket: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, check=True).stdout


def start_console(socket: str, command: str) -> None:
    """The console in a detached 160x45 tmux pane that stays on screen if the console exits, so that a
    console that dies shows its last screen (and traceback) in the failure instead of vanishing."""
    # One tmux command list: the option is set before the console could have exited.
    start = ("new-session", "-d", "-s", "console", "-x", "160", "-y", "45", command)
    tmux(socket, *start, ";", "set-option", "-t", "console", "remain-on-exit", "on")


def wait_for_screen(socket: str, *needles: str | re.Pattern[str], timeout: float = 20) -> str:
    # Plain strings must appear as they are; compiled patterns must match somewhere.
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux(socket, "capture-pane", "-p", "-S", "-200", "-t", "console")
        if all(n in screen if isinstance(n, str) else n.search(screen) for n in needles):
            return screen
        if not console_running(socket):
            raise AssertionError(f"the console exited before showing {needles}:\n{screen}")
        time.sleep(0.2)
    raise AssertionError(f"screen never showed {needles}:\n{screen}")


def test_console_attaches_to_a_live_server_and_shows_its_actors(traced_server: tuple[str, str]) -> None:
    address, token = traced_server
    socket = f"sioactor-test-{os.getpid()}"
    # rich prefers COLUMNS/LINES (pytest may export them) to the terminal's size: let the pty decide.
    command = (
        f"env -u COLUMNS -u LINES {sys.executable} -m sioactor console --connect {address} --token {token}"
    )
    start_console(socket, command)
    try:
        # Everything is polled for until a deadline (a busy machine draws late), never checked once.
        screen = wait_for_screen(
            socket,
            "namespace /  (2 sockets)",
            "room lobby (2)",
            "connections 2",
            "attached to server pid",
            # The message log, whose lines recur (the attach-time spawns scroll away within a second or two).
            re.compile(r"namespace:/ +broadcast 'chat' to lobby"),
            # Message counts arrive as per-actor stats: rates, and handling times of the sockets' handlers.
            re.compile(r"\d+\.\d/s  \d+\.\d\d ms"),
            re.compile(r"in/s (?!0\.0)\d+\.\d"),  # the clients' events, counted as they arrive
            re.compile(r"out/s (?!0\.0)\d+\.\d"),  # packets queued for the clients
            re.compile(r"engine \S{8} websocket"),  # each socket beside its own engine session
        )
        Path(os.environ.get("SIOACTOR_CONSOLE_CAPTURE", os.devnull)).write_text(screen)
        tmux(socket, "send-keys", "-t", "console", "Enter")
        # The drill-down asks the server for this socket's (and its session's) per-message records.
        screen = wait_for_screen(
            socket,
            "pending acks",
            "recent messages",
            "enqueued 'chat' EventReceived",
            re.compile(r"transport +websocket"),  # the clients connect over WebSocket only
            re.compile(r"messages +\d+ in, \d+ handled"),
            "messages of: socket:/:",
        )
        Path(os.environ.get("SIOACTOR_CONSOLE_CAPTURE2", os.devnull)).write_text(screen)
        tmux(socket, "send-keys", "-t", "console", "q")
        deadline = time.monotonic() + 10
        while console_running(socket):
            assert time.monotonic() < deadline, "the console did not quit on 'q'"
            time.sleep(0.1)
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)


def console_running(socket: str) -> bool:
    """Whether the console's process still runs (its pane stays after it exits: see start_console)."""
    listed = subprocess.run(
        ["tmux", "-L", socket, "list-panes", "-t", "console", "-F", "#{pane_dead}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return listed.returncode == 0 and listed.stdout.strip() == "0"


def start_traced_server(*extra: str) -> tuple[subprocess.Popen[str], str]:
    """The example server with *extra* options; returns it and the pid it printed on attaching."""
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "examples/traced_server.py"), *EXAMPLE_ARGS, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    assert server.stdout is not None
    line = ""
    while "attach the console" not in line:
        line = server.stdout.readline()
        assert line, "the example server exited before printing the console command"
    return server, str(server.pid)


def stop_server(server: subprocess.Popen[str]) -> None:
    server.terminate()
    server.wait(10)
    assert server.stdout is not None
    server.stdout.close()


def free_port() -> int:
    with socket_module.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_paused_console_says_so_and_reconnects_when_the_server_restarts() -> None:
    trace_port = str(free_port())
    fixed = ("--trace-port", trace_port, "--trace-token", "a-fixed-token")
    server, pid = start_traced_server(*fixed)
    socket = f"sioactor-test-restart-{os.getpid()}"
    command = (
        f"env -u COLUMNS -u LINES {sys.executable} -m sioactor console "
        f"--connect 127.0.0.1:{trace_port} --token a-fixed-token"
    )
    start_console(socket, command)
    try:
        wait_for_screen(socket, f"attached to server pid {pid}", "connections 2")
        tmux(socket, "send-keys", "-t", "console", "p")
        wait_for_screen(socket, "PAUSED", "p resumes")
        tmux(socket, "send-keys", "-t", "console", "p")
        stop_server(server)
        wait_for_screen(socket, re.compile(r"went away; reconnecting|waiting for 127\.0\.0\.1"))
        server, pid = start_traced_server(*fixed)  # the same address and token: the console comes back
        wait_for_screen(socket, f"attached to server pid {pid}", "connections 2")
        assert console_running(socket)
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
        stop_server(server)
