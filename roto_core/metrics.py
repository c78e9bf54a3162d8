"""Mask quality the way video-segmentation papers report it (DAVIS), plus the tight tolerance roto QA needs.

J is region similarity (IoU; 1 when both masks are empty). F is the boundary F-measure: boundary pixels of one
mask count as matched when the other's boundary lies within a tolerance — DAVIS uses 0.8 % of the image
diagonal, which at 1080p forgives 18 px, far too loose for roto, so F at a fixed 2 px tolerance is reported too.
Masks are binarised at 0.5. Either side may be mask EXRs or images (PNG, TIFF, JPEG: datasets and other tools
write those), read as mask prompts are (roto_core.backends.mask_prompt, roto_core.maskio.inside).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from roto_core.errors import FrameError, InputError
from roto_core.maskio import COMBINED, read_mask_exr
from roto_core.sequences import frame_path, sequence_frames

DAVIS_BOUNDARY_TOLERANCE = 0.008
QA_BOUNDARY_PX = 2.0


def _binary(mask: np.ndarray) -> np.ndarray:
    arr = np.asarray(mask)
    return arr if arr.dtype == bool else arr >= 0.5


def jaccard(pred: np.ndarray, gt: np.ndarray) -> float:
    """Intersection over union; two empty masks agree perfectly."""
    p, g = _binary(pred), _binary(gt)
    union = np.count_nonzero(p | g)
    if union == 0:
        return 1.0
    return np.count_nonzero(p & g) / union


def boundary_map(mask: np.ndarray) -> np.ndarray:
    """Foreground pixels with a background 4-neighbour. The frame edge is not a boundary: a matte cut by the
    edge of frame has no roto edge there."""
    m = _binary(mask).astype(np.uint8)
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    inner = cv2.erode(m, cross, borderType=cv2.BORDER_REPLICATE)
    return (m > inner).astype(bool)


def _tolerance_px(tolerance: float, shape: tuple[int, int]) -> int:
    """A tolerance below 1 is a fraction of the image diagonal (DAVIS); 1 or more is pixels."""
    if tolerance < 1:
        return max(1, math.ceil(tolerance * math.hypot(*shape)))
    return math.ceil(tolerance)


def boundary_f(pred: np.ndarray, gt: np.ndarray, tolerance: float = DAVIS_BOUNDARY_TOLERANCE) -> float:
    """Boundary F-measure. No boundary in both: 1; a boundary in only one of them: 0."""
    pb = boundary_map(pred)
    gb = boundary_map(gt)
    n_p, n_g = np.count_nonzero(pb), np.count_nonzero(gb)
    if n_p == 0 and n_g == 0:
        return 1.0
    if n_p == 0 or n_g == 0:
        return 0.0
    r = _tolerance_px(tolerance, pb.shape)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    g_dil = cv2.dilate(gb.astype(np.uint8), disk).astype(bool)
    p_dil = cv2.dilate(pb.astype(np.uint8), disk).astype(bool)
    precision = np.count_nonzero(pb & g_dil) / n_p
    recall = np.count_nonzero(gb & p_dil) / n_g
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


@dataclass
class ObjectScores:
    """Per-frame scores of one object; the means are what tables show."""

    j: list[float] = field(default_factory=list)
    f: list[float] = field(default_factory=list)
    f_2px: list[float] = field(default_factory=list)

    def add(self, pred: np.ndarray, gt: np.ndarray) -> None:
        self.j.append(jaccard(pred, gt))
        self.f.append(boundary_f(pred, gt))
        self.f_2px.append(boundary_f(pred, gt, QA_BOUNDARY_PX))

    def summary(self) -> dict[str, float]:
        j, f = float(np.mean(self.j)), float(np.mean(self.f))
        return {"J": j, "F": f, "J&F": (j + f) / 2, "F@2px": float(np.mean(self.f_2px)), "frames": len(self.j)}


@dataclass
class EvalReport:
    """Scores of a predicted mask sequence against ground truth, per object and overall (mean over objects)."""

    frames: list[int]
    objects: dict[str, ObjectScores]

    def table(self) -> dict[str, dict[str, float]]:
        rows = {name: s.summary() for name, s in self.objects.items()}
        if rows:
            keys = ("J", "F", "J&F", "F@2px")
            rows["mean"] = {k: float(np.mean([r[k] for r in rows.values()])) for k in keys}
            rows["mean"]["frames"] = len(self.frames)
        return rows

    @property
    def jf(self) -> float:
        return self.table()["mean"]["J&F"]


def read_masks(path: Path) -> dict[str, np.ndarray]:
    """``{object: mask}`` plus the combined ``A`` of a mask EXR, or ``{"A": mask}`` of a mask image."""
    if path.suffix.lower() == ".exr":
        return read_mask_exr(path)
    from roto_core.backends.mask_prompt import read_mask_prompt

    return {COMBINED: read_mask_prompt(path).astype(np.float32)}


def evaluate_sequences(pred: str | Path, gt: str | Path, frames: Iterable[int] | None = None) -> EvalReport:
    """Score every object of the ground truth (a missing predicted channel counts as an empty mask).

    When either sequence has only the combined ``A`` channel, the combined masks are compared instead.
    """
    wanted = list(frames) if frames is not None else sequence_frames(gt)
    if not wanted:
        raise InputError("no ground-truth frames found", path=str(gt))
    objects: dict[str, ObjectScores] = {}
    for frame in wanted:
        gt_masks = read_masks(frame_path(gt, frame))
        pred_masks = read_masks(frame_path(pred, frame))
        g_shape = gt_masks[COMBINED].shape
        if pred_masks[COMBINED].shape != g_shape:
            raise FrameError(
                f"prediction is {pred_masks[COMBINED].shape[::-1]}, ground truth {g_shape[::-1]}",
                path=frame_path(pred, frame),
            )
        names = [n for n in gt_masks if n != COMBINED]
        pred_names = [n for n in pred_masks if n != COMBINED]
        if not names or not pred_names:
            names = [COMBINED]
        for name in names:
            empty = np.zeros(g_shape, np.float32)
            objects.setdefault(name, ObjectScores()).add(pred_masks.get(name, empty), gt_masks[name])
    return EvalReport(frames=wanted, objects=objects)
