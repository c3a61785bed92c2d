"""``RoomRegistry.observer``: the changes Node's in-memory adapter reports, in its order; the state is the
same without one."""

from __future__ import annotations

from sioactor.actors.socketio import RoomChange, RoomRegistry


def observed() -> tuple[RoomRegistry, list[tuple[str, str, str | None]]]:
    registry = RoomRegistry()
    changes: list[tuple[str, str, str | None]] = []
    registry.observer = lambda change, room, sid: changes.append((change.value, room, sid))
    return registry, changes


def test_joins_and_leaves_report_real_changes_only() -> None:
    registry, changes = observed()
    registry.add_socket("a")
    registry.add_socket("b")
    registry.join("a", ["r", "r", "s"])
    registry.join("b", ["r"])
    registry.join("a", ["r"])
    registry.leave("a", ["r", "nowhere"])
    registry.leave("b", ["r", "r"])
    assert changes == [
        ("create-room", "r", None),
        ("join-room", "r", "a"),
        ("create-room", "s", None),
        ("join-room", "s", "a"),
        ("join-room", "r", "b"),
        ("leave-room", "r", "a"),
        ("leave-room", "r", "b"),
        ("delete-room", "r", None),
    ]
    assert registry.rooms() == ["s"]


def test_removing_a_socket_leaves_each_of_its_rooms() -> None:
    registry, changes = observed()
    registry.join("a", ["a", "r"])
    registry.join("b", ["r"])
    changes.clear()
    assert registry.remove_socket("a") == frozenset({"a", "r"})
    assert changes == [("leave-room", "a", "a"), ("delete-room", "a", None), ("leave-room", "r", "a")]


def test_without_an_observer_the_state_is_the_same() -> None:
    plain, (watched, _) = RoomRegistry(), observed()
    for registry in (plain, watched):
        registry.join("a", ["r", "s", "r"])
        registry.join("b", ["s"])
        registry.leave("a", ["s"])
        registry.remove_socket("b")
    assert plain.rooms() == watched.rooms() == ["r"]
    assert plain.rooms_of("a") == watched.rooms_of("a") == ["r"]
    assert [change.value for change in RoomChange] == [
        "create-room",
        "delete-room",
        "join-room",
        "leave-room",
    ]
