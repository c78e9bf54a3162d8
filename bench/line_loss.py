"""Benchmark: where the shapes' IoU against real mattes is lost, on thin lines or on the bulk, a pixel off or far.

Each DAVIS dev sequence's real ground-truth matte (first ``--frames`` frames) traced with ``rotofarm shapes``'
defaults, the .fxs written, read back and rasterised by our own rasteriser. Over all frames, as a share of the
matte's area: the lines (``contours.thin_parts``, what the tracer draws as ribbons), the matte the shapes miss and
what they draw beyond it, each split by where it lies (within 3 px of a line, or elsewhere), and the part of each
further than 2.5 px from the other (missed pixels that far from any drawn pixel: a line or a part with no shape;
drawn pixels that far from the matte: a shape astray). Where the missed and extra pixels lie near lines but close
to the drawn ones, ribbons run a pixel off their lines: no line is left out.

Run: ``.venv/bin/python bench/line_loss.py [--frames N] [--write] [SEQ ...]``; ``--write`` replaces this
benchmark's section in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np
from shapes_real import DATA, table_of_sequences

from roto_core.contracts import ShapeSettings
from roto_core.exporters import fxs_text, read_fxs
from roto_core.shapes.contours import thin_parts
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import rasterise
from roto_core.shapes.trace import trace_shapes

SECTION = "## Where the IoU is lost (bench/line_loss.py)"
NEAR_LINE_PX = 3
FAR_PX = 2.5
HEADER = [
    "| sequence | frames | IoU median | lines, % of the matte | missed near lines / elsewhere % | drawn extra near "
    "lines / elsewhere % | missed > 2.5 px from a shape % | drawn > 2.5 px from the matte % |",
    "|---|---|---|---|---|---|---|---|",
]


def _distance_to(region: np.ndarray) -> np.ndarray:
    """Each pixel's distance to the nearest pixel of ``region``."""
    return cv2.distanceTransform((~region).astype(np.uint8), cv2.DIST_L2, 3)


def measure(sequence: str, frames: int) -> str:
    count = min(frames, len(list((DATA / sequence / "Annotations").glob("*.png"))))
    masks = MaskSequence(DATA / sequence / "Annotations" / "#####.png", 0, count - 1, default_object="matte")
    settings = ShapeSettings()
    doc = trace_shapes(masks, settings, name=sequence)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.fxs"
        path.write_bytes(fxs_text(doc, frame_offset=settings.fxs_frame_offset))
        shapes = read_fxs(path, frame_offset=settings.fxs_frame_offset).shapes
    names = ("area", "lines", "miss_line", "miss_rest", "extra_line", "extra_rest", "miss_far", "extra_far")
    totals = dict.fromkeys(names, 0)
    ious = []
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * NEAR_LINE_PX + 1, 2 * NEAR_LINE_PX + 1))
    for f in masks.frames:
        matte = masks.read(f)["matte"]
        drawn = rasterise(shapes, f, matte.shape)
        lines = thin_parts(matte, settings.min_area_px)
        lines = np.zeros_like(matte) if lines is None else lines
        near = cv2.dilate(lines.astype(np.uint8), kernel) > 0
        missed, extra = matte & ~drawn, drawn & ~matte
        totals["area"] += int(matte.sum())
        totals["lines"] += int(lines.sum())
        totals["miss_line"] += int((missed & near).sum())
        totals["miss_rest"] += int((missed & ~near).sum())
        totals["extra_line"] += int((extra & near).sum())
        totals["extra_rest"] += int((extra & ~near).sum())
        totals["miss_far"] += int((missed & (_distance_to(drawn) > FAR_PX)).sum())
        totals["extra_far"] += int((extra & (_distance_to(matte) > FAR_PX)).sum())
        union = int((matte | drawn).sum())
        if union:
            ious.append(float((matte & drawn).sum()) / union)
    share = {k: 100.0 * v / max(totals["area"], 1) for k, v in totals.items()}
    return (
        f"| {sequence} | {count} | {np.median(ious):.3f} | {share['lines']:.1f} | "
        f"{share['miss_line']:.1f} / {share['miss_rest']:.1f} | "
        f"{share['extra_line']:.1f} / {share['extra_rest']:.1f} | "
        f"{share['miss_far']:.1f} | {share['extra_far']:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sequences", nargs="*", help="DAVIS sequences (default: all of the dev set)")
    parser.add_argument("--frames", type=int, default=30, help="first N frames of each sequence (default 30)")
    parser.add_argument("--write", action="store_true", help="replace this benchmark's section in bench/RESULTS.md")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    table_of_sequences(
        SECTION, __doc__, HEADER, args.sequences, lambda sequence: measure(sequence, args.frames), args.write
    )


if __name__ == "__main__":
    main()
