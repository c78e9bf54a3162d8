"""Ingest over the OpenTimelineIO projects' own sample data: every editorial file, one ``rotofarm ingest`` each.

Run: ``.venv/bin/python bench/ingest_samples.py [GIT_DIR ...]`` where each GIT_DIR is a clone (a bare git dir
is enough) of OpenTimelineIO or one of its adapters (otio-cmx3600-adapter, otio-aaf-adapter, otio-fcp-adapter,
otio-ale-adapter); default: the mirrors under ``/work/.mirror``. The files under ``tests/sample_data`` of each
repository's HEAD are written to a temporary folder and ingested as a real subprocess with ``--json``, so that
anything an adapter prints, any traceback and the exit code are seen exactly as a coordinator would see them.

Prints a Markdown table (file, shots, skipped, track, warnings, result) and the counts. A file ends right when it
gives shots (stdout is only JSON) or exits 2 with one ``error:`` line; it ends wrong on a silent empty result
(exit 0, no shots), a traceback, an untyped error (exit other than 0/2, or an adapter's own exception type in
the message), or anything besides JSON on stdout / ``warning:``/``error:`` lines on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MIRRORS = Path("/work/.mirror")
DEFAULT_REPOS = (
    "OpenTimelineIO+otio-cmx3600-adapter",
    "OpenTimelineIO+otio-aaf-adapter",
    "OpenTimelineIO+otio-fcp-adapter",
    "OpenTimelineIO+otio-ale-adapter",
    "AcademySoftwareFoundation+OpenTimelineIO",
)
EDITORIAL = (".edl", ".otio", ".otioz", ".xml", ".aaf", ".ale")
TIMEOUT_S = 120


@dataclass
class Outcome:
    file: str
    shots: int
    skipped: int
    track: str
    warnings: int
    result: str
    right: bool
    seconds: float


def _git(git_dir: Path, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], check=True, capture_output=True).stdout


def export_samples(git_dir: Path, dest: Path) -> list[Path]:
    """The editorial files of ``tests/sample_data`` at HEAD, written under ``dest``; absent (LFS) blobs skipped."""
    names = _git(git_dir, "ls-tree", "-r", "--name-only", "HEAD", "tests/sample_data").decode().splitlines()
    out = []
    for name in names:
        if not name.lower().endswith(EDITORIAL):
            continue
        try:
            data = _git(git_dir, "show", f"HEAD:{name}")
        except subprocess.CalledProcessError:
            continue
        path = dest / Path(name).name
        path.write_bytes(data)
        out.append(path)
    return out


def ingest(path: Path, cwd: Path) -> Outcome:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AYON_")} | {"PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "submitters.cli", "ingest", str(path), "--json"],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return Outcome(path.name, 0, 0, "", 0, f"HANG (> {TIMEOUT_S} s)", False, TIMEOUT_S)
    seconds = time.perf_counter() - start
    stderr = proc.stderr.replace(f"{path}: ", "").replace(f"{path}:", "line ")  # the table names the file
    return classify(path.name, proc.returncode, proc.stdout, stderr, seconds)


def classify(name: str, code: int, stdout: str, stderr: str, seconds: float) -> Outcome:
    lines = [line for line in stderr.splitlines() if line.strip()]
    warnings = [line for line in lines if line.startswith("warning: ")]
    errors = [line for line in lines if line.startswith("error: ")]
    stray = [line for line in lines if line not in warnings and line not in errors]
    if "Traceback" in stderr:
        return Outcome(name, 0, 0, "", len(warnings), "TRACEBACK: " + lines[-1][:80], False, seconds)
    if code == 2:
        text = errors[0][len("error: ") :] if errors else "(no error line)"
        right = len(errors) == 1 and not stray and not stdout.strip() and "could not make sense" not in text
        return Outcome(name, 0, 0, "", len(warnings), "error: " + _short(text), right, seconds)
    if code != 0:
        return Outcome(
            name, 0, 0, "", len(warnings), f"UNTYPED exit {code}: {_short(' '.join(lines[-1:]))}", False, seconds
        )
    try:
        data = json.loads(stdout)
    except json.JSONDecodeError:
        return Outcome(name, 0, 0, "", len(warnings), "STDOUT NOT JSON: " + _short(stdout), False, seconds)
    shots = data.get("shots", [])
    editorial = data.get("editorial", {})
    skipped = sum(editorial.get("skipped", {}).values()) if isinstance(editorial.get("skipped"), dict) else 0
    track = str(editorial.get("track", ""))
    if not shots:
        return Outcome(name, 0, skipped, track, len(warnings), "SILENT EMPTY", False, seconds)
    result = "ok" if not stray else "STRAY STDERR: " + _short(stray[0])
    return Outcome(name, len(shots), skipped, track, len(warnings), result, not stray, seconds)


def _short(text: str, width: int = 150) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 1] + "…"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("git_dirs", nargs="*", type=Path)
    args = parser.parse_args()
    git_dirs = args.git_dirs or [MIRRORS / name / "repo" for name in DEFAULT_REPOS]
    outcomes: list[tuple[str, Outcome]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for git_dir in git_dirs:
            repo_name = git_dir.parent.name.split("+")[-1] if git_dir.name == "repo" else git_dir.name
            dest = Path(tmp) / repo_name
            dest.mkdir()
            commit = _git(git_dir, "rev-parse", "HEAD").decode().strip()
            print(f"<!-- {repo_name} at {commit} -->")
            for path in export_samples(git_dir, dest):
                outcomes.append((repo_name, ingest(path, Path(tmp))))
    print("| repository | file | shots | skipped | track | warnings | result | s |")
    print("|---|---|---:|---:|---|---:|---|---:|")
    for repo_name, o in outcomes:
        print(
            f"| {repo_name} | {o.file} | {o.shots} | {o.skipped} | {_short(o.track, 30)} | {o.warnings} "
            f"| {o.result} | {o.seconds:.1f} |"
        )
    with_shots = sum(1 for _, o in outcomes if o.shots)
    typed = sum(1 for _, o in outcomes if o.right and not o.shots)
    wrong = [o.file for _, o in outcomes if not o.right]
    print()
    print(
        f"files: {len(outcomes)}; with shots: {with_shots}; one typed error line: {typed}; "
        f"ended wrong: {len(wrong)}{' (' + ', '.join(wrong) + ')' if wrong else ''}"
    )


if __name__ == "__main__":
    main()
