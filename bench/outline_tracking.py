"""Benchmark: how well the outline's markers keep their place on real mattes (DAVIS 2016 dev set).

Every shape point is a fixed place ``u`` on the tracked outline (roto_core/shapes/outline_track.py), so a marker
that slides or bunches moves every point built on it. Per sequence, the longest-lived component of the real
ground-truth matte (thin parts left out, as the tracer does) is tracked over the whole sequence, once with the
tracker as shipped and once with its local step off (the whole outline's ICP only: ``tracking.local_shift``
replaced by no shift for that run), and measured on the markers themselves:

- marker boil: RMS of each marker's distance from where its neighbourhood's steady motion puts it
  (``qa.local_boil`` on the markers as one shape keyed every frame), and its 95th percentile;
- spans off: the share of spans between neighbouring markers whose arc length on a frame is 3 times or more
  (or a third or less) what it is on the reference frame — markers crowding onto a few places or spread over new
  edge. Real deformation and edge appearing between two markers count too, so it is never 0 on a walking body;
- CPU milliseconds per frame of the tracking (one core).

Run: ``nice -n 10 .venv/bin/python bench/outline_tracking.py [--frames N] [--write] [SEQ ...]``; ``--write``
replaces this benchmark's section in bench/RESULTS.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager

import cv2
import numpy as np
from shapes_real import DATA, replace_section

import roto_core.shapes.outline_track as outline_track
from roto_core.shapes.contours import Outline, find_regions, thin_parts
from roto_core.shapes.linking import Blob, link
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import Shape
from roto_core.shapes.outline_track import OutlineTrack
from roto_core.shapes.qa import local_boil
from roto_core.shapes.trace import _reference_frame

SECTION = "## Outline tracking on real mattes (bench/outline_tracking.py)"
MIN_AREA = 64.0
HEADER = (
    "| sequence | frames | markers | marker boil px (ICP only → shipped) | boil p95 px | spans off % | "
    "CPU ms/frame |\n|---|---|---|---|---|---|---|"
)
NOTE = (
    "DAVIS 2016 dev set, real ground-truth mattes, whole sequences; per sequence its longest-lived component, "
    "tracked once with the whole outline's ICP only and once as shipped (ICP, then each stretch the ICP leaves "
    "off the edge shifted on its own: `tracking.local_shift`). Marker boil: RMS distance of each marker from "
    "where its neighbourhood's steady motion puts it (`qa.local_boil`); spans off: share of spans between "
    "neighbouring markers 3 times longer or shorter than on the reference frame (counts real deformation and new "
    "edge too). CPU on a shared 2-core machine."
)


def longest_track(masks: MaskSequence) -> dict[int, Outline]:
    """The outer outlines of the longest-lived component, linked as the tracer links them."""
    regions = {}
    for f in masks.frames:
        mask = next(iter(masks.read(f).values()))
        lines = thin_parts(mask, MIN_AREA)
        regions[f] = find_regions(mask if lines is None else mask & ~lines, MIN_AREA)
    blobs = {f: [Blob(r.centroid, r.area, r.touches_border) for r in rs] for f, rs in regions.items()}
    track = max(link(blobs), key=lambda t: len(t.members))
    return {f: regions[f][i].outer for f, i in track.members.items()}


@contextmanager
def icp_only(off: bool) -> Iterator[None]:
    """With ``off``, the tracker's local step moves nothing: the whole outline's ICP alone places the markers."""
    shipped = outline_track.local_shift
    if off:
        outline_track.local_shift = lambda moved, *_: np.zeros_like(moved)
    try:
        yield
    finally:
        outline_track.local_shift = shipped


def measure(outlines: dict[int, Outline], size: tuple[int, int], local: bool) -> tuple[float, float, float, float, int]:
    """Marker boil RMS and 95th percentile, spans-off share, CPU ms per frame, marker count."""
    ref = _reference_frame(outlines)
    start = time.process_time()
    with icp_only(not local):
        track = OutlineTrack(outlines, ref, size)
    cpu = 1000.0 * (time.process_time() - start) / len(outlines)
    u = np.arange(track.count, dtype=np.float64)
    points = np.stack([track.points(f, u) for f in track.frames])
    keys = np.repeat(points[:, :, None, :], 3, axis=2)
    markers = Shape("markers", "matte", "add", track.frames[0], track.frames[-1], np.array(track.frames), keys)
    boil = local_boil(markers)
    spans = []
    for f in track.frames:
        arc = track.arc(f, u)
        spans.append(np.diff(np.append(arc, arc[0] + track.loops[f].length)))
    ratio = np.stack(spans) / np.maximum(spans[track.frames.index(ref)], 1e-6)
    off = float(np.mean((ratio >= 3.0) | (ratio <= 1.0 / 3.0)))
    rms = float(np.sqrt(np.mean(boil**2))) if boil.size else 0.0
    p95 = float(np.percentile(np.abs(boil), 95)) if boil.size else 0.0
    return rms, p95, off, cpu, track.count


def row(sequence: str, frames: int | None) -> str:
    count = len(list((DATA / sequence / "Annotations").glob("*.png")))
    count = min(count, frames) if frames else count
    masks = MaskSequence(DATA / sequence / "Annotations" / "#####.png", 0, count - 1, default_object="matte")
    outlines = longest_track(masks)
    size = (masks.height, masks.width)
    before = measure(outlines, size, local=False)
    after = measure(outlines, size, local=True)
    return (
        f"| {sequence} | {len(outlines)} | {after[4]} | {before[0]:.2f} → {after[0]:.2f} | "
        f"{before[1]:.2f} → {after[1]:.2f} | {100 * before[2]:.1f} → {100 * after[2]:.1f} | "
        f"{before[3]:.1f} → {after[3]:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sequences", nargs="*", help="DAVIS sequences (default: all of the dev set)")
    parser.add_argument("--frames", type=int, default=None, help="cut each sequence to its first N frames")
    parser.add_argument("--write", action="store_true", help="replace this section of bench/RESULTS.md")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    sequences = args.sequences or sorted(p.name for p in DATA.iterdir() if p.is_dir())
    print(HEADER)
    rows = []
    for seq in sequences:
        rows.append(row(seq, args.frames))
        print(rows[-1], flush=True)
    if args.write and rows:
        replace_section(SECTION, f"{SECTION}\n\n{NOTE}\n\n{HEADER}\n" + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
