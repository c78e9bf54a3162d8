"""Ending every process a command started, including the ones that outlived their parent.

The local farm's worker environment starts ``rotofarm worker`` and a pipe-holding ``sleep`` in the background of a
shell that exits at once (see :mod:`submitters.openjd_backend`); on Linux such orphans are re-parented to PID 1,
where a Ctrl-C of ``rotofarm demo`` used to leave them running forever. Making this process a *child subreaper*
(``prctl(PR_SET_CHILD_SUBREAPER)``, Linux ≥ 3.4, man 2 prctl) re-parents them to us instead, so one walk of our
process tree (psutil) finds every descendant, whatever session or process group openjd-sessions put it in.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from pathlib import Path

import psutil

from roto_core.atomic import is_temp_name

_PR_SET_CHILD_SUBREAPER = 36


def adopt_orphans() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux); False where the OS has no such thing."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def end_descendants(grace_s: float = 2.0) -> list[int]:
    """Terminate every descendant of this process, kill those still alive after ``grace_s``; their pids."""
    try:
        children = psutil.Process().children(recursive=True)
    except psutil.Error:
        return []
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=grace_s)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()
    psutil.wait_procs(alive, timeout=grace_s)
    return [c.pid for c in children]


def end_pids_in(folder: Path) -> None:
    """Terminate the processes whose pids a worker environment recorded in ``folder/*.pid`` (where the OS
    cannot re-parent orphans to us)."""
    for pid_file in folder.glob("*.pid"):
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pid_file.read_text().strip()), 15)


def remove_temp_files(root: Path) -> int:
    """Delete the hidden write-then-rename temporaries (:mod:`roto_core.atomic`) a killed process left under
    ``root``; the finished files next to them are kept. Returns how many were removed."""
    removed = 0
    if not root.is_dir():
        return 0
    for path in root.rglob(".*"):
        if path.is_file() and is_temp_name(path):
            path.unlink(missing_ok=True)
            removed += 1
    return removed
