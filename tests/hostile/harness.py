"""Runs ``rotofarm`` as a real subprocess on hostile input and checks how it ended.

Every hostile-input module (one per area: editorial, frames, chunks, shapes, publish, Deadline, config) uses
these helpers so that "ended right" means one thing everywhere: either exit 2 with exactly one ``error:`` line
on stderr and no traceback, or success with the expected files; always inside a time bound, never a file
written outside the roots the test allows, never a secret in any output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROTOFARM = [sys.executable, "-m", "submitters.cli"]
REPO = Path(__file__).resolve().parents[2]
DEFAULT_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Ended:
    """How one run ended: exit code, and what it printed."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def run_rotofarm(
    args: list[str],
    *,
    cwd: Path,
    timeout: float = DEFAULT_TIMEOUT_S,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
) -> Ended:
    """Run ``rotofarm ARGS`` in ``cwd`` with HOME inside ``cwd`` (nothing lands in the real home)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AYON_")}
    full_env.update({"HOME": str(cwd / "home"), "PYTHONPATH": str(REPO), "COLUMNS": "200"})
    full_env.update(env or {})
    (cwd / "home").mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [*ROTOFARM, *args],
        cwd=cwd,
        env=full_env,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
    )
    return Ended(tuple(args), proc.returncode, proc.stdout, proc.stderr)


def assert_one_error(ended: Ended, *, contains: str | None = None) -> str:
    """Exit 2, exactly one non-empty stderr line starting ``error:``, no traceback; returns the line.

    ``warning:`` lines printed before the error (preflight findings that do not stop the command by themselves)
    are allowed; anything else on stderr is not.
    """
    lines = [line for line in ended.error_lines if not line.startswith("warning: ")]
    assert ended.code == 2, f"exit {ended.code} for {ended.args}: {ended.stderr[-2000:]}"
    assert "Traceback" not in ended.stderr, ended.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("error: "), f"not one error line: {lines[:10]}"
    if contains is not None:
        assert contains.lower() in lines[0].lower(), lines[0]
    return lines[0]


def assert_no_traceback(ended: Ended) -> None:
    assert "Traceback" not in ended.stderr + ended.stdout, (ended.stderr + ended.stdout)[-2000:]


def snapshot(root: Path) -> set[Path]:
    """Every file below ``root`` (to find what a run wrote where it should not)."""
    return {p for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def written_outside(root: Path, before: set[Path], allowed: list[Path]) -> list[Path]:
    """Files that appeared below ``root`` since ``before`` and lie under none of ``allowed``."""
    new = snapshot(root) - before
    return sorted(p for p in new if not any(p.is_relative_to(a) for a in allowed))


def assert_no_secret(ended: Ended, secrets: list[str], files_root: Path | None = None) -> None:
    """No secret in stdout/stderr, nor in any text file below ``files_root``."""
    for secret in secrets:
        assert secret not in ended.stdout and secret not in ended.stderr, f"secret printed by {ended.args}"
        if files_root is not None:
            for path in snapshot(files_root):
                if path.is_file() and path.stat().st_size < 5_000_000:
                    assert secret.encode() not in path.read_bytes(), f"secret written into {path}"
