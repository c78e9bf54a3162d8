"""Benchmark: what the .nk's shapes become if Nuke draws smooth in-betweens through their keys.

DAVIS dev ground-truth mattes, first ``--frames`` frames, traced with ``rotofarm shapes``' defaults, written to
.nk and read back. The keys are fitted for linear in-betweens (as the .fxs says, ``interp="linear"``, and as the
QA draws them), but the .nk's keys do not state theirs, and Nuke's roto keys are held to interpolate smoothly:
Natron's maintainers made "Smooth" their roto default to match Nuke (NatronGitHub/Natron#597, #599). So each
shape is drawn here three ways through the same keys, each control-point coordinate its own curve: linear;
Nuke's SMOOTH, Catmull-Rom slopes clamped so no span leaves its keys' values (nuke.AnimationKey; the clamp here is
zero slope at a turning key and at most three times the smaller neighbouring secant, Fritsch and Carlson's
monotone bound, as Nuke's own rule is not published); and plain Catmull-Rom. Measured against the matte: IoU
(median / 10th percentile), matte edge pixels within 2 px, and how far smooth in-betweens move a point from the
linear ones (95th percentile / most, px).

Run: ``.venv/bin/python bench/nk_inbetweens.py [--frames N] [--write] [SEQUENCE ...]``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from shapes_real import DATA, table_of_sequences, table_parser

from roto_core.contracts import ShapeSettings
from roto_core.exporters.nuke import read_nk, write_nk
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import Shape, rasterise
from roto_core.shapes.qa import edge_recall
from roto_core.shapes.trace import trace_shapes

SECTION = "## If Nuke draws smooth in-betweens (bench/nk_inbetweens.py)"
Slopes = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _secants(times: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.diff(values, axis=0) / np.diff(times).reshape(-1, *([1] * (values.ndim - 1)))


def catmull_rom(times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per key, the slope through its two neighbours (the end keys: towards their one neighbour)."""
    secant = _secants(times, values)
    slopes = np.concatenate((secant[:1], secant[-1:]))
    if len(times) > 2:
        spans = (times[2:] - times[:-2]).reshape(-1, *([1] * (values.ndim - 1)))
        slopes = np.concatenate((secant[:1], (values[2:] - values[:-2]) / spans, secant[-1:]))
    return slopes


def smooth(times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Catmull-Rom slopes clamped so that no span leaves the values of its two keys."""
    slopes = catmull_rom(times, values)
    secant = _secants(times, values)
    before, after = secant[:-1], secant[1:]
    limit = 3.0 * np.minimum(np.abs(before), np.abs(after))
    slopes[1:-1] = np.where(before * after <= 0, 0.0, np.clip(slopes[1:-1], -limit, limit))
    return slopes


def hermite_at(shape: Shape, frame: int, slopes: Slopes) -> np.ndarray:
    """The shape's control points at ``frame`` with cubic Hermite in-betweens of the given key slopes."""
    times, values = shape.key_frames.astype(np.float64), shape.keys
    if len(times) < 2 or frame <= times[0] or frame >= times[-1]:
        return shape.at(frame)
    m = slopes(times, values)
    i = int(np.searchsorted(times, frame, side="right")) - 1
    h = times[i + 1] - times[i]
    u = (frame - times[i]) / h
    return (
        (2 * u**3 - 3 * u**2 + 1) * values[i]
        + (u**3 - 2 * u**2 + u) * h * m[i]
        + (-2 * u**3 + 3 * u**2) * values[i + 1]
        + (u**3 - u**2) * h * m[i + 1]
    )


def _posed(shapes: list[Shape], frame: int, slopes: Slopes) -> list[Shape]:
    """The shapes alive at ``frame`` as one-key shapes posed there."""
    return [
        Shape(s.name, s.object, s.mode, frame, frame, np.array([frame]), hermite_at(s, frame, slopes)[None], s.corners)
        for s in shapes
        if s.alive(frame)
    ]


def measure(sequence: str, frames: int) -> str:
    count = min(frames, len(list((DATA / sequence / "Annotations").glob("*.png"))))
    truth = MaskSequence(DATA / sequence / "Annotations" / "#####.png", 0, count - 1, default_object="matte")
    traced = trace_shapes(truth, ShapeSettings(), name=sequence)
    with tempfile.TemporaryDirectory() as tmp:
        doc, _ = read_nk(write_nk(traced, Path(tmp) / "s.nk"))
    size = (doc.height, doc.width)
    ious: list[list[float]] = []
    edges: list[list[float]] = []
    moved: list[float] = []
    for f in range(count):
        matte = truth.read(f)["matte"]
        drawn = [rasterise(doc.shapes, f, size)] + [
            rasterise(_posed(doc.shapes, f, slopes), f, size) for slopes in (smooth, catmull_rom)
        ]
        ious.append([float((d & matte).sum()) / max(int((d | matte).sum()), 1) for d in drawn])
        edges.append([edge_recall(d, matte) for d in drawn[:2]])
        moved += [float(np.abs(hermite_at(s, f, smooth)[:, 1] - s.at(f)[:, 1]).max()) for s in doc.shapes if s.alive(f)]
    iou, edge = np.array(ious), np.array(edges)
    lives = sum(s.last_frame - s.first_frame + 1 for s in doc.shapes)
    keys = sum(len(s.key_frames) for s in doc.shapes) / max(lives, 1)
    cells = [f"{np.median(iou[:, k]):.3f} / {np.percentile(iou[:, k], 10):.3f}" for k in range(3)]
    return (
        f"| {sequence} | {count} | {len(doc.shapes)} | {100 * keys:.0f} | {' | '.join(cells)} | "
        f"{edge[:, 0].mean():.3f} | {edge[:, 1].mean():.3f} | {np.percentile(moved, 95):.2f} / {max(moved):.2f} |"
    )


def main() -> None:
    parser = table_parser(__doc__)
    parser.add_argument("--frames", type=int, default=40, help="first N frames of each sequence")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    header = [
        f"| sequence (ground truth, first {args.frames} frames) | frames | shapes | keys/100 f, all shapes | linear: "
        "IoU median / p10 | smooth: IoU median / p10 | Catmull-Rom: IoU median / p10 | linear: edge ≤ 2 px | "
        "smooth: edge ≤ 2 px | smooth vs linear: point moved p95 / most px |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    table_of_sequences(
        SECTION, __doc__, header, args.sequences, lambda sequence: measure(sequence, args.frames), args.write
    )


if __name__ == "__main__":
    main()
