"""The in-memory roto shape: a closed cubic bezier whose control points are keyed over time.

Every other part of the shapes area speaks this model: the tracker fills it, the exporters write it and their
readers rebuild it, QA rasterises it. Coordinates are pixels with the origin at the top-left corner of the image
and y down; pixel centres sit at +0.5, so a shape's raster matches a mask sampled at pixel centres.

Control points of one key are an array ``(N, 3, 2)``: for each point its left (incoming) tangent offset, its
position, and its right (outgoing) tangent offset. Offsets are relative to the point, as in Nuke's curves knob.
Between keys every coordinate is interpolated linearly; before the first and after the last key it holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np

from roto_core.shapes import bezier_kernel

LEFT, POINT, RIGHT = 0, 1, 2
Mode = Literal["add", "subtract"]


@lru_cache(maxsize=64)
def bernstein(samples: int) -> np.ndarray:
    """Cubic Bernstein weights ``(samples, 4)`` at parameters 0 .. 1 (end excluded).

    Cached (read-only) because the tracker samples every shape with the same few counts on every frame; room for
    64 counts, as the edge check takes any count from 4 to 48 (keys.py) and 16 were evicted hundreds of times a shot.
    """
    u = np.arange(samples, dtype=np.float64) / samples
    v = 1.0 - u
    # Cubes as products: numpy takes ``v**3`` by the C library's pow, built with fused multiply-adds on some CPUs.
    weights = np.stack([v * v * v, 3 * v * v * u, 3 * v * u * u, u * u * u], axis=1)
    weights.flags.writeable = False
    return weights


def segment_controls(ctrl: np.ndarray) -> np.ndarray:
    """``(..., N, 3, 2)`` control points → ``(..., N, 4, 2)`` absolute bezier segments point i → point i+1: the
    layout, in numpy, that the compiled samplers (bezier_kernel, curve_kernel) follow and their tests compare with."""
    succ = np.concatenate((ctrl[..., 1:, :, :], ctrl[..., :1, :, :]), axis=-3)
    seg = np.empty((*ctrl.shape[:-2], 4, 2))
    p = seg[..., 0, :] = ctrl[..., POINT, :]
    seg[..., 1, :] = p + ctrl[..., RIGHT, :]
    seg[..., 2, :] = succ[..., POINT, :] + succ[..., LEFT, :]
    seg[..., 3, :] = succ[..., POINT, :]
    return seg


def bezier_points(weights: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """``weights (S, 4) @ seg (..., 4, 2)`` → ``(..., S, 2)``: each sample's four products summed in control order.
    A matrix product would go to BLAS, whose kernel is chosen for the CPU at run time and fuses products and sums
    (FMA) on one farm worker and not on the next; the same shapes then rasterise and measure a unit in the last
    place apart, enough to trace others (tests/shapes/test_cpu_independence.py)."""
    out = weights[:, 0, None] * seg[..., None, 0, :]
    for k in (1, 2, 3):
        out += weights[:, k, None] * seg[..., None, k, :]
    return out


def sample_outline(ctrl: np.ndarray, per_segment: int = 12) -> np.ndarray:
    """Points along the closed curve, ``(..., N * per_segment, 2)``; linear in ``ctrl``. ``bezier_points`` of
    ``segment_controls`` to the bit, in one compiled loop (bezier_kernel.py)."""
    return _segment_samples(ctrl, per_segment, False).reshape(*np.shape(ctrl)[:-3], -1, 2)


def segment_samples(ctrl: np.ndarray, samples: int) -> np.ndarray:
    """Each segment of the closed curve sampled with both ends, ``(..., N, samples + 1, 2)``."""
    return _segment_samples(ctrl, samples, True)


def _segment_samples(ctrl: np.ndarray, samples: int, with_end: bool) -> np.ndarray:
    keys = np.ascontiguousarray(ctrl, dtype=np.float64)
    out = bezier_kernel.segment_samples(keys.reshape(-1, *keys.shape[-3:]), bernstein(samples), with_end)
    return out.reshape(*keys.shape[:-3], *out.shape[1:])


def signed_area(poly: np.ndarray) -> float:
    """Shoelace area in image coordinates (y down): positive for a clockwise-on-screen loop."""
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * float((x * _next(y)).sum() - (_next(x) * y).sum())


def _next(values: np.ndarray) -> np.ndarray:
    """``np.roll(values, -1, axis=0)`` for a closed loop, without np.roll's per-call overhead."""
    return np.concatenate((values[1:], values[:1]))


@dataclass
class Shape:
    """One closed bezier of one object, alive from ``first_frame`` to ``last_frame`` inclusive.

    ``mode`` "subtract" cuts a hole out of the object's shapes drawn before it (a document lists them in drawing
    order, bottom first). ``corners[i]`` marks a cusp (tangents not collinear) so editors keep it sharp.
    """

    name: str
    object: str
    mode: Mode
    first_frame: int
    last_frame: int
    key_frames: np.ndarray
    keys: np.ndarray
    corners: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def __post_init__(self) -> None:
        self.key_frames = np.asarray(self.key_frames, dtype=np.int64)
        self.keys = np.asarray(self.keys, dtype=np.float64)
        if self.corners.size == 0:
            self.corners = np.zeros(self.point_count, bool)
        if self.keys.ndim != 4 or self.keys.shape[2:] != (3, 2) or len(self.keys) != len(self.key_frames):
            raise ValueError(f"shape {self.name}: keys must be (K, N, 3, 2) with one frame per key")

    @property
    def point_count(self) -> int:
        return int(self.keys.shape[1])

    def alive(self, frame: int) -> bool:
        return self.first_frame <= frame <= self.last_frame

    def at(self, frame: float) -> np.ndarray:
        """Control points ``(N, 3, 2)`` at ``frame`` by linear interpolation between keys."""
        kf = self.key_frames
        if frame <= kf[0]:
            return self.keys[0].copy()
        if frame >= kf[-1]:
            return self.keys[-1].copy()
        i = int(np.searchsorted(kf, frame, side="right")) - 1
        w = (frame - kf[i]) / float(kf[i + 1] - kf[i])
        return (1.0 - w) * self.keys[i] + w * self.keys[i + 1]

    def clipped(self, first: int, last: int) -> Shape | None:
        """This shape alive over ``first``..``last`` only (None where it is not alive there), drawn as before on
        every frame it keeps: keyed at its new ends with its values there, its keys between them kept."""
        start, end = max(self.first_frame, first), min(self.last_frame, last)
        if start > end:
            return None
        frames = sorted({start, end, *(int(k) for k in self.key_frames if start < k < end)})
        keys = np.stack([self.at(f) for f in frames])
        return Shape(self.name, self.object, self.mode, start, end, np.asarray(frames), keys, self.corners.copy())


@dataclass
class ShapeDocument:
    """All shapes of one shot or mask sequence, with the image size they live in; ``shapes`` in drawing order,
    bottom first (``rasterise``). ``left_out``: per object and frame, what the tracer left untraced there (more
    components, holes or line pieces than it keeps, contours.MAX_REGIONS and the like), for the QA to report."""

    width: int
    height: int
    first_frame: int
    last_frame: int
    shapes: list[Shape] = field(default_factory=list)
    source: str | None = None
    tolerance_px: float | None = None
    pixel_aspect: float = 1.0
    left_out: dict[str, dict[int, list[str]]] = field(default_factory=dict)

    @property
    def objects(self) -> list[str]:
        seen: dict[str, None] = {}
        for s in self.shapes:
            seen.setdefault(s.object, None)
        return list(seen)

    def shapes_of(self, obj: str) -> list[Shape]:
        return [s for s in self.shapes if s.object == obj]

    def scaled(self, width: int, height: int) -> ShapeDocument:
        """The same shapes in an image of another size (masks computed below plate resolution)."""
        factor = np.array([width / self.width, height / self.height])
        shapes = [
            Shape(
                s.name,
                s.object,
                s.mode,
                s.first_frame,
                s.last_frame,
                s.key_frames.copy(),
                s.keys * factor,
                s.corners.copy(),
            )
            for s in self.shapes
        ]
        tol = None if self.tolerance_px is None else self.tolerance_px * float(factor.mean())
        return ShapeDocument(
            width, height, self.first_frame, self.last_frame, shapes, self.source, tol, self.pixel_aspect, self.left_out
        )


def _crossings(poly: np.ndarray, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the scan rows ``first..last`` (pixel centres at ``row + 0.5``) cross ``poly``'s edges: rows and
    x positions, sorted by row, then x. An edge crosses a row when its lower end is at or below the centre line
    and its upper end above it (half-open), so a closed polygon crosses every row an even number of times.
    The work is in proportion to the crossings, not rows x edges: each edge's scan rows are over-estimated by one
    either side, then kept by the exact half-open test."""
    x0, y0 = poly[:, 0], poly[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    lo, hi = np.minimum(y0, y1), np.maximum(y0, y1)
    k0 = np.clip(np.floor(lo - 0.5).astype(np.int64), first, last + 1)
    k1 = np.clip(np.ceil(hi - 0.5).astype(np.int64) + 1, first, last + 1)
    spans = np.maximum(k1 - k0, 0)
    edge = np.repeat(np.arange(len(poly)), spans)
    row = np.arange(len(edge)) - np.repeat(np.cumsum(spans) - spans, spans) + k0[edge]
    yc = row + 0.5
    keep = (lo[edge] <= yc) & (yc < hi[edge])
    edge, row, yc = edge[keep], row[keep], yc[keep]
    xs = x0[edge] + (yc - y0[edge]) / (y1[edge] - y0[edge]) * (x1[edge] - x0[edge])
    order = np.lexsort((xs, row))
    return row[order], xs[order]


def _scan_rows(poly: np.ndarray) -> tuple[int, int]:
    """The first and last pixel rows whose centres can lie inside ``poly``."""
    return int(np.ceil(poly[:, 1].min() - 0.5)), int(np.floor(poly[:, 1].max() - 0.5))


def fill_polygon(out: np.ndarray, poly: np.ndarray, value: bool) -> None:
    """Set the pixels of ``out`` whose centres lie inside ``poly`` (even-odd rule) to ``value``.

    Written out instead of ``cv2.fillPoly`` because OpenCV rounds edge crossings to whole pixels, which grows
    every shape by half a pixel and biases the IoU we report.
    """
    h, w = out.shape
    first, last = _scan_rows(poly)
    first, last = max(0, first), min(h - 1, last)
    if last < first:
        return
    row, xs = _crossings(poly, first, last)
    if len(row) < 2:
        return
    # Crossings pair up within a row: (1st, 2nd), (3rd, 4th), ...
    row_start = np.searchsorted(row, row, side="left")
    rank = np.arange(len(row)) - row_start
    opening = np.flatnonzero((rank % 2 == 0)[:-1] & (row[1:] == row[:-1]))
    rows = row[opening]
    starts = np.clip(np.ceil(xs[opening] - 0.5), 0, w).astype(np.int64)
    ends = np.clip(np.ceil(xs[opening + 1] - 0.5), 0, w).astype(np.int64)
    ok = ends > starts
    diff = np.zeros((last - first + 1, w + 1), np.int32)
    np.add.at(diff, (rows[ok] - first, starts[ok]), 1)
    np.add.at(diff, (rows[ok] - first, ends[ok]), -1)
    inside = np.cumsum(diff[:, :w], axis=1) > 0
    out[first : last + 1][inside] = value


def rasterise(shapes: list[Shape], frame: int, size: tuple[int, int]) -> np.ndarray:
    """Bool mask ``(H, W)`` of ``shapes`` alive at ``frame``, drawn in list order (bottom first), as a Nuke or
    Silhouette layer composites its shapes: an add shape fills, a subtract shape clears what is drawn below it, and
    an add shape after a hole fills it again (an island in the hole)."""
    out = np.zeros(size, bool)
    for s in shapes:
        if s.alive(frame):
            fill_polygon(out, sample_outline(s.at(frame)), s.mode == "add")
    return out
