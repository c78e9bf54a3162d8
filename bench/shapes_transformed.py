"""Benchmark: shapes traced from real mattes changed the way a camera or an edit changes footage.

The DAVIS dev set has twelve shots, all 854x480, objects mostly in frame. Studio footage is not like that:
objects enter and leave frame, cameras shake, an occluder crosses the object, plates come at other
resolutions. Each variant here is the real ground-truth matte of a DAVIS sequence (first ``--frames`` frames)
moved, cut or resampled as such footage would be, traced with ShapeSettings' defaults (as ``rotofarm shapes``
traces any masks) and measured exactly as bench/shapes_real.py measures (.fxs and .nk written, read back with
our readers and rasterised by our own rasteriser, against the transformed matte):

- ``plain``: the matte as it is;
- ``exits left`` / ``enters right``: the matte slid out through the left border (in through the right one)
  over the clip, so the visible part shrinks (grows) several-fold between frames;
- ``shake``: every frame moved by a random whole-pixel offset of up to 15 px (seeded);
- ``pole``: a 24 px wide vertical bar sweeping across the frame, cutting the matte in two as it passes;
- ``fence``: still vertical posts 6 px wide every 48 px in front of the object (a dog running behind a fence):
  the matte comes in stripes whose number and widths change on every frame;
- ``half size``: area-resampled to 427x240; ``double size``: bilinear to 1708x960 then thresholded after a
  1 px blur (the annotation's own 1 px jitter doubles with it, so this is harder than a native 2x matte);
- ``reversed``: the frames in reverse order;
- ``spin``: the matte turned about its first frame's centroid, 4 degrees further on each frame (a motocross
  jump's flip, a dancer's twirl): resampled linearly and thresholded at one half;
- ``hidden``: the object gone on frames 10-12 (a tree or a passer-by in front of all of it): its shapes end
  before the gap and new ones begin after it, and none may be drawn on the empty frames;
- ``fast``: every third frame of the first three times ``--frames`` (a motocross jump, a breakdancer: three
  times the motion and the change of shape from one frame to the next, at the same length of clip).

IoU and edge are taken over the frames where the object covers at least ``min_area_px`` pixels or a shape is
drawn (a frame the object has left, with no shape on it, is right, not IoU 0).

Run: ``nice -n 10 .venv/bin/python bench/shapes_transformed.py [--frames N] [--variant NAME ...] [--write] [SEQ ...]``;
``--write`` replaces this benchmark's section in bench/RESULTS.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from shapes_real import DATA, Row, measured_row, replace_section, table_header

from roto_core.contracts import ShapeSettings
from roto_core.exporters import fxs_text, nk_text, read_fxs, read_nk
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.synthetic import slid_through_border
from roto_core.shapes.trace import InMemoryMasks, trace_shapes

SECTION = "## Shapes on transformed real mattes (bench/shapes_transformed.py)"
# A small fast car (drift-chicane, about 50 px: a camera shake jumps it by most of its size) and a horse whose
# matte breaks at a thin neck as it turns (horsejump-high) beside the four first chosen.
SEQUENCES = ("car-roundabout", "dog", "camel", "paragliding-launch", "drift-chicane", "horsejump-high")
SHAKE_PX = 15
POLE_PX = 24
FENCE_POST_PX = 6
FENCE_GAP_PX = 48
SPIN_DEG = 4.0
HIDDEN_FRAMES = range(10, 13)
FAST_STEP = 3
Masks = list[np.ndarray]


def _shake(masks: Masks) -> Masks:
    rng = np.random.default_rng(7)
    out = []
    for mask in masks:
        dy, dx = (int(v) for v in rng.integers(-SHAKE_PX, SHAKE_PX + 1, 2))
        moved = np.zeros_like(mask)
        h, w = mask.shape
        moved[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = mask[
            max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
        ]
        out.append(moved)
    return out


def _pole(masks: Masks) -> Masks:
    width = masks[0].shape[1]
    out = []
    for i, mask in enumerate(masks):
        x = int(width * i / max(len(masks) - 1, 1))
        cut = mask.copy()
        cut[:, max(0, x - POLE_PX // 2) : x + POLE_PX // 2] = False
        out.append(cut)
    return out


def _fence(masks: Masks) -> Masks:
    out = []
    for mask in masks:
        cut = mask.copy()
        for x in range(FENCE_GAP_PX // 2, mask.shape[1], FENCE_GAP_PX):
            cut[:, x : x + FENCE_POST_PX] = False
        out.append(cut)
    return out


def _spin(masks: Masks) -> Masks:
    ys, xs = np.nonzero(masks[0])
    centre = (float(xs.mean()), float(ys.mean()))
    h, w = masks[0].shape
    return [
        cv2.warpAffine(m.astype(np.float32), cv2.getRotationMatrix2D(centre, SPIN_DEG * i, 1.0), (w, h)) > 0.5
        for i, m in enumerate(masks)
    ]


def _hidden(masks: Masks) -> Masks:
    return [np.zeros_like(m) if i in HIDDEN_FRAMES else m for i, m in enumerate(masks)]


def _resized(masks: Masks, factor: float) -> Masks:
    h, w = masks[0].shape
    size = (round(w * factor), round(h * factor))
    if factor < 1:
        return [cv2.resize(m.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.5 for m in masks]
    return [
        cv2.GaussianBlur(cv2.resize(m.astype(np.float32), size, interpolation=cv2.INTER_LINEAR), (0, 0), 1.0) > 0.5
        for m in masks
    ]


VARIANTS: dict[str, Callable[[Masks], Masks]] = {
    "plain": lambda m: m,
    "exits left": lambda m: slid_through_border(m, entering=False),
    "enters right": lambda m: slid_through_border(m, entering=True),
    "shake": _shake,
    "pole": _pole,
    "fence": _fence,
    "half size": lambda m: _resized(m, 0.5),
    "double size": lambda m: _resized(m, 2.0),
    "reversed": lambda m: m[::-1],
    "spin": _spin,
    "hidden": _hidden,
    "fast": lambda m: m[::FAST_STEP],
}
# Source frames a variant takes per frame it traces.
SOURCE_FRAMES = {"fast": FAST_STEP}


def measure_variant(sequence: str, frames: int, variant: str) -> Row:
    available = len(list((DATA / sequence / "Annotations").glob("*.png")))
    read = min(available, frames * SOURCE_FRAMES.get(variant, 1))
    truth = MaskSequence(DATA / sequence / "Annotations" / "#####.png", 0, read - 1, default_object="matte")
    masks = VARIANTS[variant]([truth.read(f)["matte"] for f in truth.frames])
    count = len(masks)
    h, w = masks[0].shape
    source = InMemoryMasks({f: {"matte": m} for f, m in enumerate(masks)}, w, h)
    settings = ShapeSettings()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        c0 = time.process_time()
        doc = trace_shapes(source, settings, name=sequence)
        (work / "s.nk").write_text(nk_text(doc, "Roto1", None), encoding="utf-8")
        (work / "s.fxs").write_bytes(fxs_text(doc, frame_offset=settings.fxs_frame_offset))
        cpu = time.process_time() - c0
        fxs = read_fxs(work / "s.fxs", frame_offset=settings.fxs_frame_offset)
        nk, _ = read_nk(work / "s.nk")
    return measured_row(sequence, variant, count, source, fxs, nk, cpu, 1)


def _write(rows: list[Row]) -> None:
    header = table_header("variant")
    note = __doc__.split("\n\n", 1)[1].split("\nRun:")[0].strip()
    replace_section(SECTION, f"{SECTION}\n\n{note}\n\n{header}\n" + "\n".join(r.markdown() for r in rows) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sequences", nargs="*", help=f"DAVIS sequences (default: {', '.join(SEQUENCES)})")
    parser.add_argument("--frames", type=int, default=30, help="first N frames of each sequence (default 30)")
    parser.add_argument("--variant", action="append", choices=list(VARIANTS), help="only these (default: all)")
    parser.add_argument("--write", action="store_true", help="replace this section of bench/RESULTS.md")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    rows = []
    for sequence in args.sequences or SEQUENCES:
        for variant in args.variant or VARIANTS:
            row = measure_variant(sequence, args.frames, variant)
            rows.append(row)
            print(row.markdown(), flush=True)
    if args.write:
        _write(rows)


if __name__ == "__main__":
    main()
