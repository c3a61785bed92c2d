"""The console's views as rich renderables, computed from a ``ConsoleModel`` (no I/O, no keyboard).

``screen(model, state)`` is the whole frame: the summary bar, the actor tree beside the message log (or the
drill-down of one socket), and a footer with the keys. Each view is also usable alone, which is how the
tests render them into a recording console.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rich.console import Group
from rich.layout import Layout
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from sioactor.runtime.console._filters import LogFilter
from sioactor.runtime.console._model import ActorState, ConsoleModel, SocketState

__all__ = ("ViewState", "actor_tree", "gauge", "message_log", "screen", "socket_detail", "summary_bar")

_GAUGE_WIDTH = 10


@dataclass(slots=True)
class ViewState:
    """What the user chose: the selected socket, drill-down, filter, pause, and the source's status line."""

    selected: int = 0
    drilled: bool = False
    paused: bool = False
    log_filter: LogFilter = field(default_factory=LogFilter)
    status: str = ""
    prompt: str | None = None
    message: str = ""
    messages: str = ""


def gauge(depth: int, capacity: int | None) -> Text:
    """A mailbox fill bar: green under half full, yellow under 90 %, red beyond."""
    if not capacity:
        return Text(f"{'·' * _GAUGE_WIDTH} {depth}/?", style="dim")
    fill = min(depth / capacity, 1.0)
    filled = round(fill * _GAUGE_WIDTH)
    style = "green" if fill < 0.5 else "yellow" if fill < 0.9 else "bold red"
    bar = Text("█" * filled, style=style)
    bar.append("░" * (_GAUGE_WIDTH - filled), style="dim")
    bar.append(f" {depth}/{capacity}")
    return bar


def summary_bar(model: ConsoleModel, state: ViewState) -> Text:
    """Connections, messages/s in and out, full mailboxes, errors, lost records, source status."""
    text = Text()
    pairs = [
        ("connections", str(len(model.live_sockets()))),
        ("sessions", str(len(model.engine_sessions()))),
        ("in/s", f"{model.rate_in.rate(model.now):.1f}"),
        ("out/s", f"{model.rate_out.rate(model.now):.1f}"),
        ("mailbox full", str(model.mailbox_full)),
        ("errors", str(model.errors)),
        ("lost", str(model.lost)),
    ]
    for label, value in pairs:
        text.append(f"{label} ", style="dim")
        style = "bold red" if label in ("errors", "mailbox full", "lost") and value != "0" else "bold"
        text.append(value + "   ", style=style)
    if state.paused:
        text.append("PAUSED ", style="reverse yellow")
    text.append(state.status, style="cyan")
    return text


def _actor_line(label: str, actor: ActorState, now: float) -> Text:
    line = Text(label + " ")
    line.append_text(gauge(actor.depth, actor.capacity))
    if actor.depth_max:
        line.append(f" peak {actor.depth_max}", style="yellow")
    line.append(f"  {actor.rate.rate(now):.1f}/s", style="magenta")
    mean = actor.handling_mean
    if mean is not None:
        line.append(f"  {mean * 1e3:.2f} ms", style="dim")
    if actor.failures:
        line.append(f"  {actor.failures} err", style="red")
    return line


def _socket_line(model: ConsoleModel, socket: SocketState, selected: bool) -> Text:
    line = _actor_line(f"socket {socket.sid}", model.actors[socket.name], model.now)
    engine = model.actors.get(socket.engine) if socket.engine else None
    if engine is not None:
        line.append(f"  │ engine {engine.name[:8]} {model.transport_of(socket)} ", style="blue")
        line.append_text(gauge(engine.depth, engine.capacity))
    if selected:
        line.stylize("reverse")
    return line


def actor_tree(model: ConsoleModel, selected: int = -1) -> Tree:
    """server → namespaces → rooms → sockets (engine sessions beside their sockets), then other actors."""
    tree = Tree(Text("server", style="bold"))
    index = 0
    for namespace, sockets in model.namespaces().items():
        node = tree.add(Text(f"namespace {namespace}  ({len(sockets)} sockets)", style="bold cyan"))
        rooms = model.rooms(namespace)
        if rooms:
            room_node = node.add(Text("rooms", style="dim"))
            for room, sids in rooms.items():
                room_node.add(Text(f"room {room} ({len(sids)}): " + " ".join(s[:8] for s in sids)))
        for socket in sockets:
            node.add(_socket_line(model, socket, index == selected))
            index += 1
    attached = {s.engine for s in model.live_sockets()}
    loose = [a for a in model.engine_sessions() if a.name not in attached]
    if loose:
        node = tree.add(Text("engine sessions without a socket", style="dim"))
        for actor in loose:
            node.add(_actor_line(f"engine {actor.name}", actor, model.now))
    for actor in model.other_actors():
        tree.add(_actor_line(f"{actor.kind} {actor.name}", actor, model.now))
    return tree


def message_log(model: ConsoleModel, log_filter: LogFilter, limit: int = 40) -> Table:
    """The newest *limit* log entries that pass *log_filter*, oldest first."""
    table = Table(expand=True, box=None, padding=(0, 1), show_header=True, header_style="dim")
    table.add_column("time", no_wrap=True, width=12)
    table.add_column("actor", no_wrap=True, max_width=32)
    table.add_column("what", ratio=1, overflow="ellipsis", no_wrap=True)
    shown = []
    for entry in reversed(model.log):
        if log_filter.matches(entry, model):
            shown.append(entry)
            if len(shown) >= limit:
                break
    for entry in reversed(shown):
        style = "red" if entry.error else ""
        stamp = (
            time.strftime("%H:%M:%S", time.localtime(entry.time)) + f".{int(entry.time * 1000) % 1000:03d}"
        )
        actor = entry.actor if entry.sid is None else f"{entry.actor_kind} {entry.sid}"
        table.add_row(stamp, actor, Text(entry.text, style=style))
    return table


def socket_detail(model: ConsoleModel, socket: SocketState) -> Group:
    """One socket: state, transport, protocol, engine session, rooms, pending acks, recent messages, errors
    seen in the trace."""
    actor = model.actors[socket.name]
    facts = Table.grid(padding=(0, 2))
    facts.add_row("socket", f"{socket.sid} on {socket.namespace}")
    facts.add_row("state", "connected" if actor.alive else f"stopped ({actor.stop_reason})")
    facts.add_row("transport", model.transport_of(socket))
    facts.add_row("protocol", "?" if socket.protocol is None else str(socket.protocol))
    facts.add_row("engine session", socket.engine or "?")
    facts.add_row("mailbox", gauge(actor.depth, actor.capacity))
    facts.add_row("messages", _message_counts(model, actor))
    facts.add_row("rooms", ", ".join(sorted(socket.rooms)) or "-")
    facts.add_row("pending acks", ", ".join(sorted(socket.pending_acks)) or "-")
    recent = Table(box=None, show_header=False, expand=True)
    recent.add_column("what", overflow="ellipsis", no_wrap=True)
    for entry in list(socket.recent)[-15:]:
        recent.add_row(Text(entry.text, style="red" if entry.error else ""))
    errors = Table(box=None, show_header=False, expand=True)
    errors.add_column("error", overflow="fold")
    for entry in socket.errors:
        errors.add_row(Text(entry.text, style="red"))
    return Group(facts, Panel(recent, title="recent messages"), Panel(errors, title="errors"))


def _message_counts(model: ConsoleModel, actor: ActorState) -> str:
    text = f"{actor.enqueued} in, {actor.handled} handled, {actor.rate.rate(model.now):.1f}/s"
    mean = actor.handling_mean
    if mean is not None:
        text += f"; handling {mean * 1e3:.2f} ms mean, {actor.handling_max * 1e3:.2f} ms max"
    if actor.depth_max is not None:
        text += f"; peak depth {actor.depth_max}"
    if actor.last is not None:
        text += f"; last {actor.last}"
    return text


def _footer(state: ViewState) -> Text:
    if state.prompt is not None:
        return Text(f"filter> {state.prompt}█", style="bold")
    keys = "↑/↓ select  enter drill-down  esc back  / filter  e errors  p pause  q quit"
    text = Text(keys, style="dim")
    text.append(f"   filter: {state.log_filter}", style="yellow")
    if state.messages:
        text.append(f"   messages of: {state.messages}", style="cyan")
    if state.message:
        text.append(f"   {state.message}", style="bold red")
    return text


def screen(model: ConsoleModel, state: ViewState, *, log_lines: int = 40) -> Layout:
    """The whole frame."""
    layout = Layout()
    layout.split_column(
        Layout(Panel(summary_bar(model, state), title="sioactor"), name="summary", size=3),
        Layout(name="body"),
        Layout(_footer(state), name="footer", size=1),
    )
    sockets = model.live_sockets()
    if state.drilled and sockets:
        socket = sockets[min(state.selected, len(sockets) - 1)]
        layout["body"].update(Panel(socket_detail(model, socket), title=f"socket {socket.sid}"))
        return layout
    layout["body"].split_row(
        Layout(Panel(actor_tree(model, state.selected), title="actors"), ratio=2),
        Layout(Panel(message_log(model, state.log_filter, log_lines), title="messages"), ratio=3),
    )
    return layout
