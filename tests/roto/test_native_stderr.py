"""A Ctrl-C that lands as ``capture_about`` points fd 2 at its file must not leave stderr there.

A fresh-clone CI run under load (2026-12-05) saw ``rotofarm shapes`` interrupted exit 130 with an empty stderr: no
``kept:`` line, no ``error: interrupted``. The only code that points fd 2 elsewhere is ``native_stderr.capture_about``
(around each frame read), and a KeyboardInterrupt raised as its swap call returns comes before its ``try``, so
nothing put stderr back. Here that interrupt is made to happen on purpose."""

from __future__ import annotations

import os
import sys

import pytest

from roto_core import native_stderr


def _fd2_identity() -> tuple[int, int]:
    st = os.fstat(2)
    return st.st_dev, st.st_ino


def test_an_interrupt_in_the_swap_leaves_stderr_for_the_cli_to_put_back(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    before = _fd2_identity()
    real_dup2 = os.dup2
    calls: list[int] = []

    def dup2_then_interrupted(fd: int, fd2: int) -> int:
        real_dup2(fd, fd2)
        calls.append(fd2)
        if len(calls) == 1:
            raise KeyboardInterrupt  # Ctrl-C delivered as the swap returns
        return fd2

    monkeypatch.setattr(native_stderr.os, "dup2", dup2_then_interrupted)
    with pytest.raises(KeyboardInterrupt), native_stderr.capture_about("plate.1001.exr"):
        pass
    monkeypatch.undo()
    assert _fd2_identity() != before  # stderr is still the capture's file
    native_stderr.restore_stderr()
    assert _fd2_identity() == before
    print("error: interrupted", file=sys.stderr, flush=True)
    assert "error: interrupted" in capfd.readouterr().err
    native_stderr.restore_stderr()  # nothing left to put back: a no-op
    assert _fd2_identity() == before


def test_a_finished_capture_leaves_nothing_to_put_back() -> None:
    before = _fd2_identity()
    with native_stderr.capture_about("plate.1001.exr") as found:
        os.write(2, b"plate.1001.exr: bad chunk\n")
    assert found == ["plate.1001.exr: bad chunk"]
    assert native_stderr._SAVED is None and _fd2_identity() == before
