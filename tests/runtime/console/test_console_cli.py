"""The ``sioactor console`` command line: its options reach the console app."""

from __future__ import annotations

import pytest

from sioactor.__main__ import _parser, main


def test_messages_patterns_accumulate() -> None:
    args = _parser().parse_args(
        [
            "console",
            "--connect",
            "127.0.0.1:9",
            "--token",
            "t",
            "--messages",
            "kind:socket",
            "--messages",
            "rooms:*",
        ]
    )
    assert args.messages == ["kind:socket", "rooms:*"]


def test_connect_without_token_is_refused_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["console", "--connect", "127.0.0.1:9"])
    assert exit_info.value.code == 2
    assert "--connect needs --token" in capsys.readouterr().err


def test_a_bad_filter_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["console", "--replay", "nowhere.jsonl", "--filter", "nonsense=1"])
    assert "nonsense" in capsys.readouterr().err
