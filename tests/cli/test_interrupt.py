"""Ctrl-C of a real ``rotofarm demo`` process: it stops within seconds, no process it started survives (the
background ``rotofarm worker`` and its pipe-holding ``sleep`` included), no temporary file is left, and it says what
was kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from roto_core.atomic import is_temp_name
from tests.hostile.harness import REPO

pytestmark = pytest.mark.slow


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
    env = {**os.environ, "HOME": str(tmp_path), "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "submitters.cli", "demo", "--out", str(out)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    demo = psutil.Process(proc.pid)
    seen: dict[int, float] = {}
    worker_seen = False
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            now = _descendants(demo)
            seen.update(now)
            worker_seen = worker_seen or any(
                "worker" in psutil.Process(pid).cmdline() for pid in now if psutil.pid_exists(pid)
            )
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
