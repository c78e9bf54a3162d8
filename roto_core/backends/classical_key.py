"""Key masks for the classical backend: a box or clicks become a mask with GrabCut; a mask prompt is read as is.

A box's GrabCut sees only the box and its surroundings (the box plus as much again on each side), not the whole
frame: five colour clusters of a whole street cannot describe the wall right beside a swan, five clusters of the
box's surroundings can. Measured on the first frames of the 12 DAVIS dev sequences (bench/RESULTS.md), this
turned paragliding-launch from J 0.48 into 0.80 for an unchanged mean; holes enclosed by the object are filled
(GrabCut leaves speckle in textured objects; roto shapes are solid unless keyed otherwise).
"""

from __future__ import annotations

import cv2
import numpy as np

from roto_core.backends.base import Frame, Mask
from roto_core.backends.mask_prompt import mask_at
from roto_core.contracts import Prompt

_GRABCUT_ITERATIONS = 5
_CONTEXT = 1.0  # surroundings a box's background model sees, as a share of the box's size


def to_u8(frame: Frame) -> np.ndarray:
    return np.ascontiguousarray(np.clip(frame * 255.0 + 0.5, 0, 255).astype(np.uint8))


def largest_components(mask: np.ndarray, keep_touching: np.ndarray | None = None) -> np.ndarray:
    """Keep the largest connected part, plus any part that touches ``keep_touching`` (e.g. clicked points)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 2:
        return mask.astype(bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = {int(np.argmax(areas)) + 1}
    if keep_touching is not None:
        keep |= {int(v) for v in np.unique(labels[keep_touching]) if v}
    return np.isin(labels, list(keep))


def key_mask(frame: Frame, prompt: Prompt) -> Mask:
    """The object's mask on ``frame`` from a box, points or mask prompt (working pixels)."""
    h, w = frame.shape[:2]
    if prompt.mask is not None:
        return mask_at(prompt, (h, w))
    if prompt.box is not None:
        return _from_box(to_u8(frame), prompt.box).astype(np.float32)
    assert prompt.points is not None
    return _from_points(to_u8(frame), prompt.points).astype(np.float32)


def _from_box(u8: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    h, w = u8.shape[:2]
    x0, y0, x1, y1 = (round(v) for v in box)
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(w - 1, x1), min(h - 1, y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return np.zeros((h, w), bool)
    # GrabCut's background model is fitted to what lies around the box, not to the whole frame: five colour
    # clusters of a whole street cannot describe the wall right beside the swan, five of its surroundings can.
    mx, my = max(8, round(_CONTEXT * (x1 - x0))), max(8, round(_CONTEXT * (y1 - y0)))
    win = slice(max(0, y0 - my), min(h, y1 + my + 1)), slice(max(0, x0 - mx), min(w, x1 + mx + 1))
    gc = np.full((h, w), cv2.GC_BGD, np.uint8)
    gc[y0 : y1 + 1, x0 : x1 + 1] = cv2.GC_PR_FGD
    if (x0, y0, x1, y1) == (0, 0, w - 1, h - 1):
        gc[[0, -1], :] = cv2.GC_PR_BGD
        gc[:, [0, -1]] = cv2.GC_PR_BGD
    crop = np.ascontiguousarray(gc[win])
    cv2.setRNGSeed(0)  # GrabCut's GMM initialisation uses OpenCV's global RNG
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(np.ascontiguousarray(u8[win]), crop, None, bgd, fgd, _GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
    out = np.zeros((h, w), bool)
    out[win] = (crop == cv2.GC_FGD) | (crop == cv2.GC_PR_FGD)
    return _fill_holes(largest_components(out))


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """Background pockets enclosed by the object are taken in: GrabCut leaves speckled holes in textured objects."""
    filled = mask.astype(np.uint8)
    flood = np.pad(1 - filled, 1, constant_values=1)
    cv2.floodFill(flood, None, (0, 0), 2)
    return mask | (flood[1:-1, 1:-1] == 1)


def _from_points(u8: np.ndarray, points: list[tuple[float, float, int]]) -> np.ndarray:
    h, w = u8.shape[:2]
    radius = max(2, round(min(h, w) * 0.01))
    reach = max(radius * 4, round(min(h, w) * 0.15))
    gc = np.full((h, w), cv2.GC_BGD, np.uint8)
    for x, y, label in points:
        if label == 1:
            cv2.circle(gc, (round(x), round(y)), reach, cv2.GC_PR_FGD, -1)
    if not (gc == cv2.GC_PR_FGD).any():
        return np.zeros((h, w), bool)
    ring = cv2.dilate((gc == cv2.GC_PR_FGD).astype(np.uint8), np.ones((3, 3), np.uint8), iterations=reach)
    gc[(ring > 0) & (gc == cv2.GC_BGD)] = cv2.GC_PR_BGD
    clicked = np.zeros((h, w), bool)
    for x, y, label in points:
        value = cv2.GC_FGD if label == 1 else cv2.GC_BGD
        cv2.circle(gc, (round(x), round(y)), radius, value, -1)
        if label == 1:
            clicked[min(h - 1, max(0, round(y))), min(w - 1, max(0, round(x)))] = True
    cv2.setRNGSeed(0)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(u8, gc, None, bgd, fgd, _GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
    return largest_components((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD), clicked)
