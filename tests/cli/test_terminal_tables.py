"""Tables: drawn with rich on a terminal, plain aligned text for pipes and files."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest

from etl.report.summary import render_table, use_terminal_tables


@pytest.fixture
def terminal():
    use_terminal_tables(100)
    yield
    use_terminal_tables(None)


def test_plain_tables_by_default():
    out = render_table(["地区", "站点"], [["阜阳市", "1,234"], ["东海县", "5"]], right={1})
    assert out.splitlines() == ["地区     站点", "------  -----", "阜阳市  1,234", "东海县      5"]


def test_terminal_tables_keep_values_and_never_read_them_as_markup(terminal):
    out = render_table(["地区", "note [x]"], [["阜阳市", "[bold]1,234"]], right={1})
    lines = out.splitlines()
    assert "\x1b[1m" in lines[0] and "note [x]" in lines[0]  # bold header, brackets kept
    assert set(lines[1]) == {"─"}
    assert lines[2].startswith("阜阳市") and lines[2].endswith("[bold]1,234")


def _run(stdout_is_tty: bool) -> str:
    cmd = [sys.executable, "-m", "etl.cli", "indicators", "--list"]
    env = dict(os.environ, COLUMNS="120", TERM="xterm")
    if not stdout_is_tty:
        return subprocess.run(cmd, capture_output=True, text=True, env=env, check=True, timeout=60).stdout
    leader, follower = pty.openpty()
    proc = subprocess.Popen(cmd, stdout=follower, stderr=subprocess.DEVNULL, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    return b"".join(chunks).decode("utf-8")


def test_the_cli_draws_for_a_terminal_and_prints_plain_text_into_a_pipe():
    tty = _run(True)
    piped = _run(False)
    assert "─" in tty and "\x1b[" in tty
    assert "─" not in piped and "\x1b[" not in piped and "--------" in piped
    for text in (tty, piped):
        assert "social_work_stations" in text and "社工站数量" in text
