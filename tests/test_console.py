"""Command lines show progress bars only on a terminal."""

from __future__ import annotations

import io

import datasets
import transformers

from lear.console import no_progress_bars_unless_terminal


def test_progress_bars_go_when_stderr_is_not_a_terminal(monkeypatch):
    monkeypatch.setattr("sys.stderr", io.StringIO())  # a redirected log
    try:
        assert no_progress_bars_unless_terminal()
        assert not transformers.utils.logging.is_progress_bar_enabled()
        assert not datasets.is_progress_bar_enabled()
    finally:
        transformers.utils.logging.enable_progress_bar()
        datasets.enable_progress_bars()


def test_a_terminal_keeps_its_progress_bars(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stderr", Terminal())
    assert not no_progress_bars_unless_terminal()
    assert transformers.utils.logging.is_progress_bar_enabled()
