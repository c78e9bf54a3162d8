"""Synthetic mask sequences with exact ground truth: outlines moved by known similarity transforms; and real
masks slid through the frame border, as a pan moves them.

Used by the shapes tests and bench/shapes.py to measure IoU, point count, keys and boil against motion we
know (rigid, rotation, scaling, leaving and re-entering the frame, a donut). Masks are sampled at pixel
centres, the same rule as model.rasterise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from roto_core.shapes.model import fill_polygon

Motion = Callable[[int], tuple[float, float, float, float]]


def ellipse(rx: float, ry: float, samples: int = 720) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, samples, endpoint=False)
    return np.stack([rx * np.cos(t), ry * np.sin(t)], axis=1)


def rounded_box(half_w: float, half_h: float, radius: float, samples_per_corner: int = 90) -> np.ndarray:
    pts = []
    centres = [
        (half_w - radius, half_h - radius),
        (-half_w + radius, half_h - radius),
        (-half_w + radius, -half_h + radius),
        (half_w - radius, -half_h + radius),
    ]
    for k, (cx, cy) in enumerate(centres):
        t = np.linspace(k * np.pi / 2, (k + 1) * np.pi / 2, samples_per_corner)
        pts.append(np.stack([cx + radius * np.cos(t), cy + radius * np.sin(t)], axis=1))
    return np.concatenate(pts)


def star(outer: float, inner: float, tips: int = 5) -> np.ndarray:
    """A star with ``2 * tips`` corners."""
    t = np.arange(2 * tips) * np.pi / tips - np.pi / 2
    r = np.where(np.arange(2 * tips) % 2 == 0, outer, inner)
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


def transform(points: np.ndarray, motion: tuple[float, float, float, float]) -> np.ndarray:
    """Apply (tx, ty, angle in radians, scale) to outline points given about their own origin."""
    tx, ty, angle, scale = motion
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]]) * scale
    x, y = points[:, 0], points[:, 1]
    return np.stack((x * rot[0, 0] + y * rot[0, 1] + tx, x * rot[1, 0] + y * rot[1, 1] + ty), axis=1)


@dataclass
class SyntheticObject:
    """An outline (plus optional hole outlines) moved by ``motion(frame)``."""

    outline: np.ndarray
    motion: Motion
    holes: tuple[np.ndarray, ...] = ()

    def mask(self, frame: int, size: tuple[int, int]) -> np.ndarray:
        out = np.zeros(size, bool)
        pose = self.motion(frame)
        fill_polygon(out, transform(self.outline, pose), True)
        for hole in self.holes:
            fill_polygon(out, transform(hole, pose), False)
        return out


def sequence(
    objects: dict[str, SyntheticObject], frames: range, size: tuple[int, int]
) -> dict[int, dict[str, np.ndarray]]:
    """``{frame: {object: bool mask}}`` for an InMemoryMasks source."""
    return {f: {name: obj.mask(f, size) for name, obj in objects.items()} for f in frames}


def slid_through_border(masks: list[np.ndarray], entering: bool) -> list[np.ndarray]:
    """Real masks moved as a camera pan moves them: slid out through the left border over the clip, or in through
    the right one when ``entering`` (the object fully outside at the far end). Used by the border tests and
    bench/shapes_transformed.py."""
    width = masks[0].shape[1]
    cols = np.nonzero(masks[-1 if entering else 0].any(axis=0))[0]
    span = width - int(cols.min()) + 5 if entering else int(cols.max()) + 5
    out = []
    for i, mask in enumerate(masks):
        dx = int(span * ((len(masks) - 1 - i) if entering else i) / max(len(masks) - 1, 1))
        moved = np.zeros_like(mask)
        if entering:
            moved[:, dx:] = mask[:, : width - dx]
        else:
            moved[:, : width - dx] = mask[:, dx:]
        out.append(moved)
    return out
