"""The persistent worker: chunk ranges in on stdin, results out on stdout, models loaded once.

Deadline's advanced plugin and OpenJD step environments keep one process per GPU for a whole job, so model
start-up (seconds for SAM 2) is paid once, not per task. The protocol is line based and deliberately dumb:
``A-B`` in; ``Progress: NN%`` lines then exactly ``DONE A-B`` or ``FAILED A-B: <one line>`` out; EOF or an empty
line ends it. A failed chunk does not end the worker: the farm decides whether to retry. Each chunk is rendered
holding its lock (roto_core.chunks.lock): a chunk another process renders answers ``FAILED`` (busy) at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TextIO

from roto_core.chunks.lock import ChunkLock
from roto_core.chunks.runner import Models, run_chunk
from roto_core.contracts import JobManifest
from roto_core.errors import RotofarmError, one_line
from roto_core.jobfolder import JobFolder
from roto_core.sequences import check_frame_count

_RANGE = re.compile(r"^\s*(-?\d+)\s*-\s*(-?\d+)\s*$")


def parse_range(text: str) -> tuple[int, int]:
    """``"1001-1050"`` → (1001, 1050); a single frame ``"1001"`` is allowed too. A range of more than
    ``MAX_FRAMES`` frames is a ``LimitError`` (roto_core.sequences), so no caller ever lists it."""
    m = _RANGE.match(text)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
    elif text.strip().lstrip("-").isdigit():
        a = b = int(text.strip())
    else:
        raise ValueError(f"not a frame range: {text.strip()!r} (expected A-B)")
    if b < a:
        raise ValueError(f"frame range {a}-{b} ends before it starts")
    check_frame_count(a, b, where="--frames")
    return a, b


def progress_printer(out: TextIO) -> Callable[[int, int], None]:
    """``Progress: NN%`` lines (only when the percentage changes), flushed for the farm's log parser."""
    last = [-1]

    def report(done: int, total: int) -> None:
        pct = int(100 * done / max(total, 1))
        if pct != last[0]:
            last[0] = pct
            out.write(f"Progress: {pct}%\n")
            out.flush()

    return report


def serve(manifest: JobManifest, job: JobFolder, models: Models, stdin: TextIO, stdout: TextIO) -> int:
    """Run chunks until EOF or an empty line; returns how many failed."""
    failures = 0
    for raw in stdin:
        line = raw.strip()
        if not line:
            break
        try:
            first, last = parse_range(line)
        except (ValueError, RotofarmError) as exc:
            stdout.write(f"FAILED {line}: {exc}\n")
            stdout.flush()
            failures += 1
            continue
        try:
            with ChunkLock(job.chunk_dir(first, last)):
                run_chunk(manifest, job, first, last, models, progress_printer(stdout))
        except RotofarmError as exc:
            failures += 1
            stdout.write(f"FAILED {first}-{last}: {exc.format()}\n")
        except Exception as exc:  # a worker must answer every line; the farm retries or fails the task
            failures += 1
            stdout.write(f"FAILED {first}-{last}: {type(exc).__name__}: {one_line(str(exc))}\n")
        else:
            stdout.write(f"DONE {first}-{last}\n")
        stdout.flush()
    return failures
