"""Benchmark: where the boil and the CPU of bench/shapes_real.py come from, per sequence of the DAVIS dev set.

bench/shapes_real.py gives the figures; this says what makes them, so the next change aims at the right part:
- boil (``qa.local_boil``, RMS px) split along the outline (points sliding on their edge, ``qa.boil_along_across``)
  and across it (the outline moving against its neighbourhood); the share of the squared boil in shapes keyed on
  80 % of their frames or more, and in shapes living under 12 frames;
- CPU seconds per 100 frames per object, and the share of them spent on frame ranges that were traced, then
  thrown away and traced again as two halves (``trace._cut``): because most of their pieces did not hold
  (``trace.GIVE_UP``) or because the area guard blamed a piece it could no longer cut (``PieceGuard.stuck``).
  Measured by wrapping ``trace._shapes_of_track``, ``trace._placed`` and ``trace._cut``: the time of a range up to
  its cut, its nested ranges not counted.

Masks as in bench/shapes_real.py (``--source gt``: the real mattes, ShapeSettings defaults; ``roto``: ``rotofarm
roto``'s classical masks with the farm's settings, ``--roto-cache`` to reuse them).
Run: ``nice -n 10 .venv/bin/python bench/shapes_anatomy.py [--source gt|roto|both] [--roto-cache DIR] [--write]
[SEQ ...]``; ``--write`` replaces this benchmark's section of bench/RESULTS.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from shapes_real import DATA, _roto_masks, replace_section

import roto_core.shapes.trace as trace
from roto_core.config import load_config
from roto_core.contracts import PipelineSettings, ShapeSettings
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import ShapeDocument
from roto_core.shapes.qa import boil_along_across, local_boil

SECTION = "## Where boil and CPU come from (bench/shapes_anatomy.py)"
DENSE_KEYS = 0.8
SHORT_LIFE = 12
HEADER = (
    "| sequence | masks | boil px | along px | across px | boil² in shapes keyed ≥ 80 % | boil² in shapes < 12 f | "
    "shapes keyed ≥ 80 % | CPU s/100 f | CPU in ranges cut whole: most pieces failed | guard stuck |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)
NOTE = (
    "DAVIS 2016 dev set, whole sequences. Boil as in bench/shapes_real.py, split along the outline at each point "
    "(sliding: changes no pixel) and across it. Squared boil's share in the shapes keyed on 80 % of their frames "
    "or more, and in the shapes living under 12 frames. CPU: one process, the share spent on frame ranges traced "
    "and then thrown away and traced again as two halves, by reason (most of their pieces failed, "
    "`trace.GIVE_UP`; the area guard blamed a piece too short to cut, `PieceGuard.stuck`)."
)


@dataclass
class _Ranges:
    """Own CPU time of each frame range traced, and why the ones cut whole were cut."""

    stack: list[dict[str, Any]] = field(default_factory=list)
    wasted: dict[str, float] = field(default_factory=lambda: {"give up": 0.0, "stuck": 0.0})

    def _pause(self) -> None:
        if self.stack:
            now = time.process_time()
            self.stack[-1]["own"] += now - self.stack[-1]["since"]
            self.stack[-1]["since"] = now

    def _resume(self) -> None:
        if self.stack:
            self.stack[-1]["since"] = time.process_time()

    def wrap(self) -> Callable[[], None]:
        """Wrap the tracer's range functions; the returned call puts them back."""
        shapes_of_track, placed, cut = trace._shapes_of_track, trace._placed, trace._cut

        def timed_shapes_of_track(*args: Any, **kwargs: Any) -> Any:
            self._pause()
            self.stack.append({"own": 0.0, "since": time.process_time(), "cut": None, "gave_up": False})
            out = shapes_of_track(*args, **kwargs)
            self._pause()
            done = self.stack.pop()
            if done["cut"] is not None:
                self.wasted["give up" if done["gave_up"] else "stuck"] += done["cut"]
            self._resume()
            return out

        def noted_placed(*args: Any, **kwargs: Any) -> Any:
            out = placed(*args, **kwargs)
            whole_range = (args[7] if len(args) > 7 else kwargs.get("give_up")) is not None
            if whole_range and self.stack:
                self.stack[-1]["gave_up"] = out is None
            return out

        def timed_cut(*args: Any, **kwargs: Any) -> Any:
            self._pause()
            self.stack[-1]["cut"] = self.stack[-1]["own"]
            return cut(*args, **kwargs)

        trace._shapes_of_track, trace._placed, trace._cut = timed_shapes_of_track, noted_placed, timed_cut

        def restore() -> None:
            trace._shapes_of_track, trace._placed, trace._cut = shapes_of_track, placed, cut

        return restore


def _boil_row(doc: ShapeDocument) -> tuple[float, float, float, float, float, int]:
    total = along = across = dense = short = 0.0
    count, dense_shapes = 0, 0
    for shape in doc.shapes:
        boil = local_boil(shape)
        a, c = boil_along_across(shape)
        life = shape.last_frame - shape.first_frame + 1
        squared = float(np.sum(boil**2))
        total += squared
        along += float(np.sum(a**2))
        across += float(np.sum(c**2))
        count += boil.size
        if len(shape.key_frames) >= DENSE_KEYS * life:
            dense += squared
            dense_shapes += 1
        if life < SHORT_LIFE:
            short += squared
    n = max(count, 1)
    return (
        float(np.sqrt(total / n)),
        float(np.sqrt(along / n)),
        float(np.sqrt(across / n)),
        dense / max(total, 1e-12),
        short / max(total, 1e-12),
        dense_shapes,
    )


def measure(sequence: str, source: str, settings: ShapeSettings, cache: Path | None) -> str:
    count = len(list((DATA / sequence / "Annotations").glob("*.png")))
    with tempfile.TemporaryDirectory() as tmp:
        if source == "gt":
            pattern = str(DATA / sequence / "Annotations" / "#####.png")
        else:
            pattern = _roto_masks(sequence, count, Path(tmp), cache)
        masks = MaskSequence(pattern, 0, count - 1, default_object="matte")
        ranges = _Ranges()
        restore = ranges.wrap()
        try:
            c0 = time.process_time()
            doc = trace.trace_shapes(masks, settings, name=sequence)
            cpu = time.process_time() - c0
        finally:
            restore()
    boil, along, across, dense, short, dense_shapes = _boil_row(doc)
    objects = len(doc.objects) or 1
    return (
        f"| {sequence} | {source} | {boil:.2f} | {along:.2f} | {across:.2f} | {100 * dense:.0f} % | "
        f"{100 * short:.0f} % | {dense_shapes} of {len(doc.shapes)} | {100 * cpu / count / objects:.2f} | "
        f"{100 * ranges.wasted['give up'] / cpu:.0f} % | {100 * ranges.wasted['stuck'] / cpu:.0f} % |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sequences", nargs="*", help="DAVIS sequences (default: all of the dev set)")
    parser.add_argument("--source", choices=("gt", "roto", "both"), default="both")
    parser.add_argument("--roto-cache", type=Path, default=None, help="keep rotofarm roto's masks here and reuse them")
    parser.add_argument("--write", action="store_true", help="replace this section of bench/RESULTS.md")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    sequences = args.sequences or sorted(p.name for p in DATA.iterdir() if p.is_dir())
    settings = {"gt": ShapeSettings(), "roto": load_config(PipelineSettings, "pipeline.yaml").shapes}
    sources = ("gt", "roto") if args.source == "both" else (args.source,)
    print(HEADER)
    rows = []
    for source in sources:
        for sequence in sequences:
            rows.append(measure(sequence, source, settings[source], args.roto_cache))
            print(rows[-1], flush=True)
    if args.write:
        replace_section(SECTION, f"{SECTION}\n\n{NOTE}\n\n{HEADER}\n" + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
