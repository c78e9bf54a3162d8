"""Benchmark: how many keys a straight blend needs on the real mattes' motion, before any edge is measured.

Issue 11 asks for at most 50 keys per 100 frames on any shape and for every in-between within the tolerance of its
matte. This measures how far apart keys can be at all on the DAVIS dev set's motion: each piece's per-frame fits,
smoothed (what ``trace._keyed`` hands to the key fit), are keyed greedily, each key as far on as the straight
blend from the last keeps every point of every frame between within the tolerance of that frame's fitted point
(the furthest-reach rule is the fewest keys for that test). Two blends: in the image, as Nuke and Silhouette draw
a shape between linear keys, and in a frame that follows the piece (a similarity transform per frame, fitted to
its points: a tracked layer, the points keyed inside it). Points only: a point may slide along its edge without
leaving it, so the shipped key fit, which measures the edge, can key less than this on some pieces; its figure is
beside it. Ground-truth mattes, ShapeSettings' defaults (tolerance 1.5 px).

Run: ``nice -n 10 .venv/bin/python bench/keys_bound.py [--write] [SEQ ...]``; ``--write`` replaces this
benchmark's section in bench/RESULTS.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from collections.abc import Sequence

import cv2
import numpy as np
from shapes_real import DATA, chosen_sequences, table_parser, write_table

import roto_core.shapes.trace as trace
from roto_core.contracts import ShapeSettings
from roto_core.shapes.keys import EdgeCheck
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import POINT

SECTION = "## Keys a straight blend needs (bench/keys_bound.py)"
HALF = 50.0


def _similarity(src: np.ndarray, dst: np.ndarray) -> tuple[complex, complex]:
    """``(a, b)`` with ``dst ≈ a * src + b`` (complex points), least squares."""
    src_mean, dst_mean = src.mean(), dst.mean()
    centred = src - src_mean
    a = np.sum(np.conj(centred) * (dst - dst_mean)) / max(float(np.sum(np.abs(centred) ** 2)), 1e-12)
    return complex(a), complex(dst_mean - a * src_mean)


def greedy_keys(points: np.ndarray, tolerance: float, layer: bool) -> int:
    """Keys for ``points`` ``(F, N)`` (complex) under the furthest-reach rule; in a per-frame similarity frame when
    ``layer``."""
    count = len(points)
    if layer:
        # Each frame carried onto the middle frame's points; a blend there is carried back frame by frame.
        to_layer = [_similarity(points[f], points[count // 2]) for f in range(count)]
        local = np.stack([a * points[f] + b for f, (a, b) in enumerate(to_layer)])
    else:
        local = points
    keys = [0]
    while keys[-1] < count - 1:
        start = keys[-1]
        end = start + 1
        for candidate in range(start + 2, count):
            between = np.arange(start + 1, candidate)
            w = ((between - start) / (candidate - start))[:, None]
            blend = (1.0 - w) * local[start] + w * local[candidate]
            if layer:
                blend = np.stack([(blend[i] - to_layer[f][1]) / to_layer[f][0] for i, f in enumerate(between)])
            if np.abs(blend - points[between]).max() > tolerance:
                break
            end = candidate
        keys.append(end)
    return len(keys)


def _per_100(keys: Sequence[int], lives: Sequence[int]) -> tuple[float, float]:
    """Keys per 100 frames over all pieces, and the share of pieces at most HALF."""
    rate = 100.0 * np.asarray(keys) / np.asarray(lives)
    return 100.0 * sum(keys) / sum(lives), float(np.mean(rate <= HALF))


def measure(sequence: str, settings: ShapeSettings) -> str:
    count = len(list((DATA / sequence / "Annotations").glob("*.png")))
    masks = MaskSequence(DATA / sequence / "Annotations" / "#####.png", 0, count - 1, default_object="matte")
    fits: list[np.ndarray] = []
    shipped = trace.smoothed_within

    def kept(
        check: EdgeCheck, raw: Sequence[np.ndarray], smoothing: float, tolerance: float
    ) -> tuple[list[np.ndarray], np.ndarray]:
        per_frame, own = shipped(check, raw, smoothing, tolerance)
        fits.extend(per_frame)
        return per_frame, own

    trace.smoothed_within = kept
    try:
        doc = trace.trace_shapes(masks, settings, name=sequence)
    finally:
        trace.smoothed_within = shipped
    lives, linear, layer = [], [], []
    for ctrl in fits:
        if len(ctrl) < 2:
            continue
        points = ctrl[:, :, POINT, 0] + 1j * ctrl[:, :, POINT, 1]
        lives.append(len(ctrl))
        linear.append(greedy_keys(points, settings.tolerance_px, False))
        layer.append(greedy_keys(points, settings.tolerance_px, True))
    shipped_keys = (
        100.0 * sum(len(s.key_frames) for s in doc.shapes) / sum(s.last_frame - s.first_frame + 1 for s in doc.shapes)
    )
    (image_all, image_half), (layer_all, layer_half) = _per_100(linear, lives), _per_100(layer, lives)
    return (
        f"| {sequence} | {len(lives)} | {shipped_keys:.0f} | {image_all:.0f} | {layer_all:.0f} | "
        f"{100 * image_half:.0f} | {100 * layer_half:.0f} |"
    )


def main() -> None:
    parser = table_parser(__doc__)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    sequences = chosen_sequences(args.sequences)
    header = [
        "| sequence | pieces | keys/100 f, shipped key fit (all shapes) | keys/100 f, straight blend in the image | "
        "keys/100 f, straight blend in a tracked layer | % of pieces ≤ 50 keys/100 f, in the image | "
        "% of pieces ≤ 50 keys/100 f, in a tracked layer |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = []
    for sequence in sequences:
        rows.append(measure(sequence, ShapeSettings()))
        print(rows[-1], flush=True)
    if args.write:
        write_table(SECTION, __doc__, header, rows)


if __name__ == "__main__":
    main()
