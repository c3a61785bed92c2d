"""The Engine.IO session state machine: transition table, pending-request flags, heartbeat arithmetic."""

from __future__ import annotations

import math

import pytest

from sioactor._errors import ProtocolError
from sioactor.protocol.engineio._state import Due, SessionEvent, SessionState, SessionStateMachine


def machine(*, protocol: int = 4, websocket: bool = False, now: float = 0.0) -> SessionStateMachine:
    return SessionStateMachine(
        protocol=protocol,
        websocket=websocket,
        now=now,
        ping_interval=0.3,
        ping_timeout=0.2,
        upgrade_timeout=10,
    )


def test_upgrade_path_reaches_websocket() -> None:
    m = machine()
    assert m.accepts_polling
    m.websocket_attached(1.0)
    assert m.state is SessionState.UPGRADE_PENDING
    assert m.upgrading
    assert not m.polls_get_noop
    m.handle(SessionEvent.PROBED)
    assert m.polls_get_noop
    assert m.handle(SessionEvent.UPGRADED) is SessionState.WEBSOCKET
    assert not m.accepts_polling


def test_a_repeated_probe_is_answered_again_and_keeps_the_upgrade_timer() -> None:
    # Node's engine.io answers every "2probe" of an upgrading WebSocket with "3probe".
    m = machine()
    m.websocket_attached(1.0)
    m.handle(SessionEvent.PROBED)
    assert m.handle(SessionEvent.PROBED) is SessionState.UPGRADE_PROBED
    assert m.next_deadline() == pytest.approx(0.3)  # the first ping; the upgrade is due at 11.0
    m.ping_sent(0.3)
    m.pong_received(0.35)
    m.ping_sent(10.0)
    m.pong_received(10.1)
    assert m.next_deadline() == pytest.approx(10.4)
    assert m.due(11.0) is Due.UPGRADE_TIMEOUT


@pytest.mark.parametrize(
    ("start", "event"),
    [
        (SessionState.POLLING, SessionEvent.UPGRADED),
        (SessionState.POLLING, SessionEvent.PROBED),
        (SessionState.UPGRADE_PENDING, SessionEvent.UPGRADED),
        (SessionState.UPGRADE_PENDING, SessionEvent.WS_ATTACHED),
        (SessionState.WEBSOCKET, SessionEvent.WS_ATTACHED),
        (SessionState.WEBSOCKET, SessionEvent.PROBED),
        (SessionState.CLOSED, SessionEvent.CLOSED),
    ],
)
def test_illegal_moves_raise_protocol_error(start: SessionState, event: SessionEvent) -> None:
    m = machine()
    m.state = start
    with pytest.raises(ProtocolError, match=event.value):
        m.handle(event)
    assert m.state is start


def test_failed_upgrade_returns_to_polling_and_clears_its_timer() -> None:
    m = machine()
    m.websocket_attached(0.0)
    assert m.next_deadline() == pytest.approx(0.3)
    m.ping_sent(0.3)
    m.pong_received(0.35)
    assert m.next_deadline() == pytest.approx(0.65)
    m.handle(SessionEvent.UPGRADE_FAILED)
    assert m.state is SessionState.POLLING


def test_upgrade_timeout_fires_once() -> None:
    m = SessionStateMachine(
        protocol=4, websocket=False, now=0, ping_interval=100, ping_timeout=100, upgrade_timeout=10
    )
    m.websocket_attached(1.0)
    assert m.next_deadline() == 11.0
    assert m.due(10.9) is Due.NOTHING
    assert m.due(11.0) is Due.UPGRADE_TIMEOUT
    assert m.due(11.0) is Due.NOTHING


def test_v4_heartbeat_pings_then_times_out_without_pong() -> None:
    m = machine(now=10.0)
    assert m.due(10.29) is Due.NOTHING
    assert m.due(10.3) is Due.SEND_PING
    m.ping_sent(10.3)
    assert m.next_deadline() == pytest.approx(10.5)
    assert not m.expired(10.49)
    assert m.due(10.5) is Due.PING_TIMEOUT
    assert m.expired(10.5)


def test_v4_pong_schedules_the_next_ping() -> None:
    m = machine()
    m.ping_sent(0.3)
    m.pong_received(0.4)
    assert m.due(0.6) is Due.NOTHING
    assert m.next_deadline() == pytest.approx(0.7)
    assert m.due(0.7) is Due.SEND_PING


def test_v3_client_pings_keep_the_session_alive() -> None:
    m = machine(protocol=3)
    assert m.next_deadline() == pytest.approx(0.5)
    m.client_pinged(0.4)
    assert m.due(0.8) is Due.NOTHING
    assert m.due(0.9) is Due.PING_TIMEOUT


def test_heartbeat_direction_is_enforced() -> None:
    with pytest.raises(ProtocolError, match="v3"):
        machine(protocol=3).pong_received(0.1)
    with pytest.raises(ProtocolError, match="v4"):
        machine(protocol=4).client_pinged(0.1)


def test_second_poll_and_second_post_are_refused() -> None:
    m = machine()
    assert m.start_poll()
    assert not m.start_poll()
    m.end_poll()
    assert m.start_poll()
    assert m.start_post()
    assert not m.start_post()
    m.end_post()
    assert m.start_post()


def test_closed_session_has_no_deadline() -> None:
    m = machine(websocket=True)
    m.handle(SessionEvent.CLOSED)
    assert m.closed
    assert m.next_deadline() == math.inf
    assert m.due(1e9) is Due.NOTHING


def test_a_late_timer_gives_the_client_no_extra_time() -> None:
    m = machine()
    assert m.expired(0.5)
    m.ping_sent(0.45)
    assert m.next_deadline() == pytest.approx(0.5)
    assert m.due(0.5) is Due.PING_TIMEOUT


def test_a_packet_awaiting_the_pong_moves_its_deadline_once_per_ping() -> None:
    # As Node's engine.io 6: a client whose pong waits behind its own burst is alive; the refresh is once.
    m = machine()
    m.ping_sent(0.3)
    assert m.refresh_due
    m.packet_received(0.45)
    assert not m.refresh_due
    assert m.due(0.5) is Due.NOTHING
    assert not m.expired(0.64)
    assert m.due(0.65) is Due.PING_TIMEOUT
    m = machine()
    m.ping_sent(0.3)
    m.pong_received(0.35)
    assert not m.refresh_due  # no ping awaits a pong: nothing to refresh
    m.ping_sent(0.65)
    m.packet_received(0.7)
    assert m.next_deadline() == pytest.approx(0.9)
