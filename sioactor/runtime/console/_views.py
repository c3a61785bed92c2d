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

from sioactor.runtime.console._cluster import ClusterState
from sioactor.runtime.console._filters import LogFilter
from sioactor.runtime.console._model import ActorState, ConsoleModel, ErrorGroup, LogEntry, SocketState

__all__ = (
    "ViewState",
    "actor_tree",
    "cluster_lines",
    "gauge",
    "message_log",
    "screen",
    "socket_detail",
    "summary_bar",
)

_GAUGE_WIDTH = 10
_CLUSTER_ERRORS = 2  # the latest error groups shown under each cluster link


@dataclass(slots=True)
class ViewState:
    """What the user chose: the selected socket, drill-down, filter, pause, and the source's status line.

    ``selected`` is the cursor's position among the live sockets; ``focus`` the actor name of the socket it
    is on, which the app keeps the cursor on as sockets come and go, and which the drill-down shows (also
    once it disconnected).
    """

    selected: int = 0
    focus: str | None = None
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


def actor_tree(model: ConsoleModel, selected: int = -1, *, rows: int | None = None) -> Tree:
    """server → namespaces → rooms → sockets (engine sessions beside their sockets), then other actors. With
    *rows* (the sockets that fit), only a window of the sockets around *selected* is drawn, with a line
    saying how many are above and below it: the tree scrolls with the cursor.
    """
    tree = Tree(Text("server", style="bold"))
    first, last = _window(len(model.live_sockets()), selected, rows)
    index = 0
    for namespace, sockets in model.namespaces().items():
        node = tree.add(Text(f"namespace {namespace}  ({len(sockets)} sockets)", style="bold cyan"))
        rooms = model.rooms(namespace)
        if rooms and first == 0:
            room_node = node.add(Text("rooms", style="dim"))
            for room, sids in rooms.items():
                room_node.add(Text(f"room {room} ({len(sids)}): " + " ".join(s[:8] for s in sids)))
        start, end = index, index + len(sockets)  # this namespace's sockets among all
        above, below = max(0, min(first, end) - start), max(0, end - max(last, start))
        if above:
            node.add(Text(f"↑ {above} more sockets", style="dim"))
        for socket in sockets:
            if first <= index < last:
                node.add(_socket_line(model, socket, index == selected))
            index += 1
        if below:
            node.add(Text(f"↓ {below} more sockets", style="dim"))
    attached = {s.engine for s in model.live_sockets()}
    loose = [a for a in model.engine_sessions() if a.name not in attached]
    if loose:
        node = tree.add(Text("engine sessions without a socket", style="dim"))
        for actor in loose:
            node.add(_actor_line(f"engine {actor.name}", actor, model.now))
    for actor in model.other_actors():
        tree.add(_actor_line(f"{actor.kind} {actor.name}", actor, model.now))
    return tree


def _window(count: int, selected: int, rows: int | None) -> tuple[int, int]:
    # The sockets drawn: all, or *rows* of them with the selected one inside, as near the middle as fits.
    if rows is None or count <= rows:
        return 0, count
    rows = max(rows, 1)
    first = min(max(selected - rows // 2, 0), count - rows)
    return first, first + rows


def message_log(model: ConsoleModel, log_filter: LogFilter, limit: int = 40) -> Table:
    """The newest *limit* log lines that pass *log_filter*, oldest first; a run of identical errors (one
    slow client's ``mailbox_full`` ...) is one line, ``xN in T s``."""
    table = Table(expand=True, box=None, padding=(0, 1), show_header=True, header_style="dim")
    table.add_column("time", no_wrap=True, width=12)
    table.add_column("actor", no_wrap=True, max_width=32)
    table.add_column("what", ratio=1, overflow="ellipsis", no_wrap=True)
    shown: list[ErrorGroup] = []  # newest first; a non-error line is a group of one
    for entry in reversed(model.log):
        if not log_filter.matches(entry, model):
            continue
        previous = shown[-1] if shown else None
        if previous is not None and entry.error and _repeats(previous.entry, entry):
            previous.count += 1
            previous.first = entry.time
            continue
        if len(shown) >= limit:
            break
        shown.append(ErrorGroup(entry, first=entry.time))
    for group in reversed(shown):
        entry = group.entry
        style = "red" if entry.error else ""
        stamp = (
            time.strftime("%H:%M:%S", time.localtime(entry.time)) + f".{int(entry.time * 1000) % 1000:03d}"
        )
        actor = entry.actor if entry.sid is None else f"{entry.actor_kind} {entry.sid}"
        table.add_row(stamp, actor, Text(group.describe(), style=style))
    return table


def _repeats(later: LogEntry, entry: LogEntry) -> bool:
    return later.error and later.actor == entry.actor and later.group == entry.group


def socket_detail(model: ConsoleModel, socket: SocketState) -> Group:
    """One socket: state, transport, protocol, engine session and its outbox, rooms, pending acks, recent
    messages (its engine session's too), errors seen in the trace (identical ones counted on one line)."""
    actor = model.actors[socket.name]
    engine = model.actors.get(socket.engine) if socket.engine else None
    facts = Table.grid(padding=(0, 2))
    facts.add_row("socket", f"{socket.sid} on {socket.namespace}")
    state = (
        Text("connected") if actor.alive else Text(f"disconnected ({actor.stop_reason})", style="bold red")
    )
    facts.add_row("state", state)
    facts.add_row("transport", model.transport_of(socket))
    facts.add_row("protocol", "?" if socket.protocol is None else str(socket.protocol))
    facts.add_row("engine session", socket.engine or "?")
    facts.add_row("mailbox", _fill(actor))
    if engine is not None:
        facts.add_row("outbox", _fill(engine))  # a slow client shows here: its session's outbox fills
    facts.add_row("messages", _message_counts(model, actor))
    facts.add_row("rooms", ", ".join(sorted(socket.rooms)) or "-")
    facts.add_row("pending acks", ", ".join(sorted(socket.pending_acks)) or "-")
    recent = Table(box=None, show_header=False, expand=True)
    recent.add_column("what", overflow="ellipsis", no_wrap=True)
    for entry in list(socket.recent)[-15:]:
        who = "" if entry.actor == socket.name else "engine: "
        recent.add_row(Text(who + entry.text, style="red" if entry.error else ""))
    errors = Table(box=None, show_header=False, expand=True)
    errors.add_column("error", overflow="fold")
    for group in socket.errors.values():
        who = "" if group.entry.actor == socket.name else "engine: "
        errors.add_row(Text(who + group.describe(), style="red"))
    return Group(facts, Panel(recent, title="recent messages"), Panel(errors, title="errors"))


def _fill(actor: ActorState) -> Text:
    line = gauge(actor.depth, actor.capacity)
    if actor.full:
        line.append(f"  full x{actor.full}", style="bold red")
    return line


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


def cluster_lines(model: ConsoleModel) -> list[Text]:
    """Each cluster link: its state and figures on one line, messages by channel kind and the publish queue
    on the next, then its latest errors (identical ones counted on one line); none without a link."""
    lines: list[Text] = []
    for link in model.clusters.values():
        lines += [_cluster_state(model, link), _cluster_traffic(link)]
        for group in list(link.errors.values())[-_CLUSTER_ERRORS:]:
            lines.append(Text("  " + group.describe(), style="red"))
    for line in lines:
        line.no_wrap, line.overflow = True, "ellipsis"
    return lines


def _cluster_state(model: ConsoleModel, link: ClusterState) -> Text:
    line = Text(link.name + " ", style="bold")
    if link.connected is None:
        line.append("state unknown", style="dim")
    elif link.connected:
        line.append("connected", style="green")
    else:
        line.append("DISCONNECTED", style="bold red")
    if link.since is not None:
        stamp = time.strftime("%H:%M:%S", time.localtime(link.since))
        line.append(f" since {stamp} ({model.now - link.since:.0f} s)")
    if link.reason is not None:
        line.append(f": {link.reason}", style="red")
    members = "?" if link.members is None else str(link.members)
    line.append(f"   {members} members   {link.pending} requests in flight")
    line.append(f"   {link.dropped} dropped", style="bold red" if link.dropped else "")
    return line


def _cluster_traffic(link: ClusterState) -> Text:
    line = Text(f"  {link.messages_in} in, {link.messages_out} out")
    if link.channels:
        kinds = ", ".join(f"{kind} {received}/{sent}" for kind, (received, sent) in link.channels.items())
        line.append(f" (in/out: {kinds})", style="dim")
    line.append("   publish queue ")
    line.append_text(gauge(link.depth, link.capacity))
    return line


def _footer(state: ViewState) -> Text:
    if state.prompt is not None:
        return Text(f"filter> {state.prompt}█", style="bold")
    if state.paused:
        return Text("PAUSED: the display holds still (keys still act); p resumes", style="reverse yellow")
    keys = "↑/↓ select  enter drill-down  esc back  / filter  e errors  p pause  q quit"
    text = Text(keys, style="dim")
    text.append(f"   filter: {state.log_filter}", style="yellow")
    if state.messages:
        text.append(f"   messages of: {state.messages}", style="cyan")
    if state.message:
        text.append(f"   {state.message}", style="bold red")
    return text


def screen(
    model: ConsoleModel, state: ViewState, *, log_lines: int = 40, tree_rows: int | None = None
) -> Layout:
    """The whole frame; *tree_rows*: how many sockets the actor tree shows at a time (all by default)."""
    layout = Layout()
    rows = [Layout(Panel(summary_bar(model, state), title="sioactor"), name="summary", size=3)]
    cluster = cluster_lines(model)
    if cluster:
        rows.append(Layout(Panel(Group(*cluster), title="cluster"), name="cluster", size=len(cluster) + 2))
    layout.split_column(*rows, Layout(name="body"), Layout(_footer(state), name="footer", size=1))
    if state.drilled:
        layout["body"].update(_drilled(model, state))
        return layout
    layout["body"].split_row(
        Layout(Panel(actor_tree(model, state.selected, rows=tree_rows), title="actors"), ratio=2),
        Layout(Panel(message_log(model, state.log_filter, log_lines), title="messages"), ratio=3),
    )
    return layout


def _drilled(model: ConsoleModel, state: ViewState) -> Panel:
    # The focused socket, followed by name: when it disconnects the view says so instead of moving on.
    name = state.focus
    if name is None:
        sockets = model.live_sockets()
        name = sockets[min(state.selected, len(sockets) - 1)].name if sockets else None
    socket = None if name is None else model.sockets.get(name)
    if socket is None:
        text = "no socket selected" if name is None else f"{name} disconnected and is no longer tracked"
        return Panel(Text(text + "; esc goes back", style="bold red"), title="socket")
    title = f"socket {socket.sid}"
    if not model.actors[socket.name].alive:
        title += " (disconnected: esc goes back)"
    return Panel(socket_detail(model, socket), title=title)
