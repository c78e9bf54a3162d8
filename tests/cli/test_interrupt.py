"""Ctrl-C of a real ``rotofarm demo`` process: it stops within seconds, no process it started survives (the
background ``rotofarm worker`` and its pipe-holding ``sleep`` included), no temporary file is left, and it says what
was kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from roto_core.atomic import is_temp_name
from tests.hostile.harness import REPO

pytestmark = pytest.mark.slow


def _as_from_a_terminal() -> None:
    """Child setup: SIGINT handled by default, as in a terminal. A test run started in the background of a
    non-interactive shell has SIGINT ignored, every child inherits that, and Python then never raises
    KeyboardInterrupt: the interrupt these tests send would be lost."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _rotofarm(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    """``rotofarm ARGS`` started as a user would, from ``cwd`` (also its HOME), output piped."""
    env = {**os.environ, "HOME": str(cwd), "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    return subprocess.Popen(
        [sys.executable, "-m", "submitters.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_as_from_a_terminal,
    )


def _descendants(proc: psutil.Process) -> dict[int, float]:
    """pid → create time of every living descendant (the create time tells a reused pid apart)."""
    found: dict[int, float] = {}
    try:
        for child in proc.children(recursive=True):
            try:
                found[child.pid] = child.create_time()
            except psutil.Error:
                continue
    except psutil.Error:
        pass
    return found


def _is_worker(pid: int) -> bool:
    """Whether ``pid`` is a ``rotofarm worker``; a child that ended (or is a zombie not yet reaped) between
    listing and asking is not, and is asked again on the next poll."""
    try:
        return "worker" in psutil.Process(pid).cmdline()
    except psutil.Error:
        return False


def _survivors(seen: dict[int, float]) -> list[str]:
    alive = []
    for pid, created in seen.items():
        try:
            p = psutil.Process(pid)
            if p.create_time() == created and p.status() != psutil.STATUS_ZOMBIE:
                alive.append(" ".join(p.cmdline()))
        except psutil.Error:
            continue
    return alive


def test_ctrl_c_during_the_demo_ends_every_child_and_keeps_only_finished_files(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = _rotofarm(["demo", "--out", str(out)], tmp_path)
    demo = psutil.Process(proc.pid)
    seen: dict[int, float] = {}
    worker_seen = False
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            now = _descendants(demo)
            seen.update(now)
            worker_seen = worker_seen or any(_is_worker(pid) for pid in now)
            if worker_seen and any((out / "jobs").rglob("*.exr")):
                break
            time.sleep(0.2)
        assert worker_seen and proc.poll() is None, "the demo never reached its farm's roto step"
        seen.update(_descendants(demo))
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        _stdout, stderr = proc.communicate(timeout=30)
        stopped_in = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr[-2000:]
    assert stopped_in < 10, f"took {stopped_in:.1f} s to stop"
    time.sleep(0.5)
    assert _survivors(seen) == []
    assert "Traceback" not in stderr
    assert "kept:" in stderr and "chunks finished" in stderr
    assert stderr.strip().splitlines()[-1].startswith("error: interrupted")
    assert [p for p in out.rglob("*") if is_temp_name(p)] == []


def _interrupt_when(args: list[str], cwd: Path, ready: Callable[[str], bool]) -> tuple[int, str, float]:
    """Run ``rotofarm ARGS``, send SIGINT once ``ready(stdout so far)`` holds; exit code, stderr and the seconds it
    took to stop."""
    proc = _rotofarm(args, cwd)
    printed: list[str] = []
    reader = threading.Thread(target=lambda: printed.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while not ready("".join(printed)) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None, "it finished before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        proc.wait(timeout=30)
        took = time.monotonic() - started
        return proc.returncode, proc.stderr.read(), took
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.fixture(scope="module")
def shot(tmp_path_factory: pytest.TempPathFactory):
    from roto_core.synthetic import make_shot

    return make_shot(tmp_path_factory.mktemp("plates"), frames=120, width=320, height=180, objects=1, seed=5)


def test_ctrl_c_during_roto_keeps_whole_masks_and_says_so(shot, tmp_path: Path) -> None:
    out = tmp_path / "roto"
    masks = out / "masks"
    box = "obj1@1001=40,40,200,150"
    args = ["roto", shot.plate, "--frames", "1001-1120", "--out", str(out), "--box", box, "--chunk-size", "10"]
    code, stderr, took = _interrupt_when(args, tmp_path, lambda _: masks.is_dir() and len(list(masks.glob("*"))) > 12)
    assert code == 130 and took < 10, stderr[-2000:]
    assert "Traceback" not in stderr and "kept:" in stderr and "masks in" in stderr
    assert [p for p in out.rglob("*") if is_temp_name(p)] == []
    assert not (out / "report.json").exists()


def test_ctrl_c_during_shapes_writes_nothing(shot, tmp_path: Path) -> None:
    out = tmp_path / "shapes"
    args = ["shapes", shot.gt, "--frames", "1001-1120", "--out", str(out)]
    code, stderr, took = _interrupt_when(args, tmp_path, lambda printed: "Progress: " in printed)
    assert code == 130 and took < 10, stderr[-2000:]
    assert "Traceback" not in stderr and "kept: nothing" in stderr
    assert not out.exists() or list(out.iterdir()) == []
