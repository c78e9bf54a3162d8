"""How good the exported shapes are, measured against the masks they came from (``qa.json``).

Per object (``objects``) and overall (``summary``):
- ``shape_iou_median`` / ``shape_iou_min``: IoU of the rasterised shapes (adds minus subtracts, at pixel
  centres) with the mask, over the frames where the object is present — i.e. has at least ``min_area_px``
  pixels, the same rule that decides which components get shapes;
- ``edge_within_2px``: the share of the mask's edge pixels within 2 px of the shapes' edge (mean over frames);
- ``points_per_shape_max``; ``keys_per_100_frames`` (keys per 100 frames of shape lifetime, all shapes),
  ``keys_per_100_frames_worst_shape`` and ``keys_worst_shape`` (its name, keys and frames, which the verdict names);
- ``boil_px_rms``: how far each point is from where its neighbourhood's steady motion puts it (``local_boil``):
  the shivering, sliding and popping at keys an artist sees as boil, without the real bending of a part;
  ``boil_rigid_px_rms``, the same over the points where the matte itself moves rigidly from the frame before to
  the frame after, or straight across when it changes for one frame only, within the tolerance (jitter, which
  counts; rigidity.py; ``rigid_share``, their share): a part changing shape (a gap closing, a paw unfolding)
  moves its points against their neighbours however well they follow it, so the verdict's boil is this one;
- ``self_crossing_share``: the share of shape-frames on which a shape crosses itself (a loop of at least a
  pixel), and per object ``frames_self_crossing``, those frames;
- per object, ``fast_motion_share``: the share of frames whose mask centroid accelerates by more than twice the
  tolerance, which need a key whatever the shapes: the verdict says so beside a keys figure above its limit, so
  a coordinator knows a hand re-key would not make the shot sparser; ``motion_per_frame``, how far the object
  travels a frame as a share of its size, and ``keys_limit``, the keys per 100 frames its worst shape is held to
  (30 on slow motion, else 50: motion.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from roto_core.contracts import ShapeSettings
from roto_core.shapes import contours
from roto_core.shapes.model import LEFT, POINT, RIGHT, Shape, ShapeDocument, rasterise, sample_outline
from roto_core.shapes.motion import (
    KEYS_PER_100_MAX,
    fast_motion_share,
    is_slow,
    keys_limit,
    mask_centroid,
    motion_per_frame,
)
from roto_core.shapes.rigidity import Matte, jitter_between, rigid_between, rigid_samples
from roto_core.shapes.untangle import crossing_loops

QA_SCHEMA = "rotofarm.shapes.qa"
QA_VERSION = 1
# A shape crossing itself in a loop smaller than a pixel changes no pixel of the render; the check samples each
# segment this many times.
CURL_MIN_PX2 = 1.0
CURL_SAMPLES = 8


def curl_frames(shape: Shape) -> list[int]:
    """The frames on which ``shape`` crosses itself in a loop of at least CURL_MIN_PX2: a knot an artist has
    to undo (untangle.py takes out those beside a point, on the keys)."""
    return [
        f
        for f in range(shape.first_frame, shape.last_frame + 1)
        if (crossing_loops(sample_outline(shape.at(f), CURL_SAMPLES)) >= CURL_MIN_PX2).any()
    ]


class RigidParts:
    """Which points of one object's ``shapes`` its matte carries rigidly from each frame to the next and to the one
    after next (rigidity.py, within the band shapes held to ``tolerance`` smooth), filled as the frames' masks are
    read in order (a long shot's masks are never all held, only the last two), and the shapes' boil on those
    parts."""

    def __init__(self, shapes: list[Shape], tolerance: float) -> None:
        self.shapes = shapes
        self.tolerance = tolerance
        # Per shape, (lifetime - 1, points): whether the matte carries each point rigidly to the next frame.
        self.pairs = {id(s): np.zeros((s.last_frame - s.first_frame, s.point_count), bool) for s in shapes}
        # Per shape, (lifetime - 2, points): whether the matte carries each point rigidly over two frames, changing
        # on the one between by no more than the tolerance (rigidity.jitter_between).
        self.skips = {id(s): np.zeros((max(s.last_frame - s.first_frame - 1, 0), s.point_count), bool) for s in shapes}
        self._previous: tuple[int, Matte] | None = None
        self._earlier: tuple[int, Matte] | None = None

    def read(self, frame: int, mask: np.ndarray | None) -> None:
        """The object's mask on ``frame`` (None where it is absent: nothing is carried rigidly across that)."""
        if mask is None:
            self._previous = self._earlier = None
            return
        matte = Matte.of(mask)
        if self._previous is not None and self._previous[0] == frame - 1:
            before = self._previous[1]
            for s in self.shapes:
                if s.first_frame < frame <= s.last_frame:
                    points = (s.at(frame - 1)[:, POINT], s.at(frame)[:, POINT])
                    self.pairs[id(s)][frame - 1 - s.first_frame] = rigid_between(before, matte, *points, self.tolerance)
        if self._earlier is not None and self._earlier[0] == frame - 2 and self._previous is not None:
            mattes = (self._earlier[1], self._previous[1], matte)
            for s in self.shapes:
                if s.first_frame < frame - 1 and frame <= s.last_frame:
                    # Only where the frame in between is not carried rigidly both ways does a jitter matter.
                    index = frame - 2 - s.first_frame
                    needed = ~(self.pairs[id(s)][index] & self.pairs[id(s)][index + 1])
                    if needed.any():
                        points = tuple(s.at(f)[needed, POINT] for f in (frame - 2, frame - 1, frame))
                        self.skips[id(s)][index, needed] = jitter_between(mattes, points, self.tolerance)
        self._earlier = self._previous
        self._previous = (frame, matte)

    def boil(self) -> tuple[np.ndarray, np.ndarray]:
        """The shapes' boil samples (``local_boil``'s, shape after shape) and, per sample, whether it lies on a
        rigid part (rigidity.rigid_samples)."""
        boils, rigid = [np.zeros(0)], [np.zeros(0, bool)]
        for s in self.shapes:
            boil = local_boil(s)
            boils.append(boil)
            rigid.append(rigid_samples(self.pairs[id(s)], self.skips[id(s)]) if boil.size else np.zeros(0, bool))
        return np.concatenate(boils), np.concatenate(rigid)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _keys_per_100(shape: Shape) -> float:
    return 100.0 * len(shape.key_frames) / (shape.last_frame - shape.first_frame + 1)


def _summary(
    ious: list[float],
    edges: list[float],
    shapes: list[Shape],
    curls: dict[int, list[int]],
    boil: np.ndarray,
    on_rigid: np.ndarray,
) -> dict[str, Any]:
    lifetime = sum(s.last_frame - s.first_frame + 1 for s in shapes)
    crossing = sum(len(curls[id(s)]) for s in shapes)
    keys = sum(len(s.key_frames) for s in shapes)
    worst = max(shapes, key=_keys_per_100, default=None)
    return {
        "shape_iou_median": float(np.median(ious)) if ious else None,
        "shape_iou_min": float(np.min(ious)) if ious else None,
        "edge_within_2px": float(np.mean(edges)) if edges else None,
        "points_per_shape_max": max((s.point_count for s in shapes), default=0),
        "keys_per_100_frames": 100.0 * keys / lifetime if lifetime else 0.0,
        "keys_per_100_frames_worst_shape": _keys_per_100(worst) if worst is not None else 0.0,
        # Which shape that is, so the verdict can name it: a shape living a frame or two has a key on each.
        "keys_worst_shape": None
        if worst is None
        else {"name": worst.name, "keys": len(worst.key_frames), "frames": worst.last_frame - worst.first_frame + 1},
        "boil_px_rms": float(np.sqrt(np.mean(boil**2))) if boil.size else 0.0,
        "boil_rigid_px_rms": float(np.sqrt(np.mean(boil[on_rigid] ** 2))) if on_rigid.any() else 0.0,
        "rigid_share": float(on_rigid.mean()) if on_rigid.size else None,
        "self_crossing_share": crossing / lifetime if lifetime else 0.0,
        "shapes": len(shapes),
        "frames_measured": len(ious),
    }


def measure(
    doc: ShapeDocument,
    read_masks: Callable[[int], dict[str, np.ndarray]],
    min_area_px: int,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """QA report of ``doc`` against ``read_masks(frame)`` → ``{object: bool mask}`` for each frame."""
    frames = list(range(doc.first_frame, doc.last_frame + 1))
    size = (doc.height, doc.width)
    per_object: dict[str, dict[str, Any]] = {}
    ious_all: list[float] = []
    edges_all: list[float] = []
    edges: dict[str, list[float]] = {}
    by_object: dict[str, list[tuple[int, float]]] = {}
    stray: dict[str, int] = {}
    centroids: dict[str, dict[int, np.ndarray]] = {}
    areas: dict[str, dict[int, float]] = {}
    tolerance = doc.tolerance_px if doc.tolerance_px is not None else ShapeSettings().tolerance_px
    rigid = {obj: RigidParts(doc.shapes_of(obj), tolerance) for obj in doc.objects}
    for done, frame in enumerate(frames, start=1):
        masks = read_masks(frame)
        for obj in sorted(set(masks) | set(doc.objects)):
            mask = masks.get(obj)
            shapes = doc.shapes_of(obj)
            raster = rasterise(shapes, frame, size) if shapes else np.zeros(size, bool)
            area = int(mask.sum()) if mask is not None else 0
            present = area >= min_area_px
            if obj in rigid:
                rigid[obj].read(frame, mask if present else None)
            if not present:
                if raster.any():
                    stray[obj] = stray.get(obj, 0) + 1
                continue
            union = int((raster | mask).sum())
            iou = float((raster & mask).sum()) / union
            by_object.setdefault(obj, []).append((frame, iou))
            ious_all.append(iou)
            centroids.setdefault(obj, {})[frame] = mask_centroid(mask)
            areas.setdefault(obj, {})[frame] = float(area)
            edges.setdefault(obj, []).append(edge_recall(raster, mask))
            edges_all.append(edges[obj][-1])
        if progress is not None:
            progress(done, len(frames))
    curls = {id(s): curl_frames(s) for s in doc.shapes}
    boils = {obj: parts.boil() for obj, parts in rigid.items()}
    none = (np.zeros(0), np.zeros(0, bool))
    for obj in sorted(set(by_object) | set(doc.objects)):
        pairs = by_object.get(obj, [])
        summary = _summary(
            [iou for _, iou in pairs], edges.get(obj, []), doc.shapes_of(obj), curls, *boils.get(obj, none)
        )
        summary["frames_self_crossing"] = sorted({f for s in doc.shapes_of(obj) for f in curls[id(s)]})
        summary["frames_with_shape_but_no_object"] = stray.get(obj, 0)
        summary["iou_by_frame"] = {str(f): round(iou, 5) for f, iou in pairs}
        summary["fast_motion_share"] = fast_motion_share(centroids.get(obj, {}), doc.tolerance_px)
        summary["motion_per_frame"] = motion_per_frame(centroids.get(obj, {}), areas.get(obj, {}))
        summary["keys_limit"] = keys_limit(summary["motion_per_frame"])
        summary["left_out"] = {str(f): what for f, what in sorted(doc.left_out.get(obj, {}).items())}
        per_object[obj] = summary
    every = [np.concatenate([none[i], *(b[i] for b in boils.values())]) for i in range(2)]
    overall = _summary(ious_all, edges_all, doc.shapes, curls, *every)
    overall["frames_with_shape_but_no_object"] = sum(stray.values())
    return {
        "schema": QA_SCHEMA,
        "version": QA_VERSION,
        "first_frame": doc.first_frame,
        "last_frame": doc.last_frame,
        "width": doc.width,
        "height": doc.height,
        "tolerance_px": doc.tolerance_px,
        "min_area_px": min_area_px,
        "summary": overall,
        "objects": per_object,
    }


# Thresholds of the verdict: the targets for shapes an artist can take over without redrawing them.
IOU_MEDIAN_MIN = 0.95
IOU_FRAME_MIN = 0.90
EDGE_MIN = 0.90
BOIL_MAX_PX = 0.5


def verdict(qa: dict[str, Any], max_points: int) -> dict[str, Any]:
    """``qa["verdict"]``: "pass" or "review", one line for people, and per object the frames whose IoU is
    below IOU_FRAME_MIN. Review when any of the issue's targets fails — IoU per frame and median, matte edge
    within 2 px, points per shape, keys per 100 frames on the worst shape, boil, a shape crossing itself — or
    when the segmentation flagged frames to re-key (``qa["segmentation"]``)."""
    frames_below: dict[str, list[int]] = {}
    problems: list[str] = []
    for obj, summary in qa["objects"].items():
        below = sorted(int(f) for f, iou in summary["iou_by_frame"].items() if iou < IOU_FRAME_MIN)
        if below:
            frames_below[obj] = below
            problems.append(f"{obj}: IoU < {IOU_FRAME_MIN:.2f} on {len(below)} frame(s) from {below[0]}")
        median = summary["shape_iou_median"]
        if median is not None and median < IOU_MEDIAN_MIN:
            problems.append(f"{obj}: IoU median {median:.3f} < {IOU_MEDIAN_MIN:.2f}")
        if summary["points_per_shape_max"] > max_points:
            problems.append(f"{obj}: {summary['points_per_shape_max']} points on a shape > {max_points}")
        keys = summary.get("keys_per_100_frames_worst_shape", summary["keys_per_100_frames"])
        # A qa.json written before slow motion was told apart holds every object to KEYS_PER_100_MAX.
        limit = summary.get("keys_limit", KEYS_PER_100_MAX)
        if keys > limit:
            fast = summary.get("fast_motion_share")
            why = f" (fast motion: {fast:.0%} of frames need a key whatever the shapes)" if fast and fast >= 0.5 else ""
            if is_slow(summary.get("motion_per_frame")):
                why = f" (slow motion: {summary['motion_per_frame']:.1%} of its size a frame)"
            shape = summary.get("keys_worst_shape")
            which = (
                f" ({shape['name']}: {_count(shape['keys'], 'key')} over {_count(shape['frames'], 'frame')})"
                if shape
                else ""
            )
            problems.append(f"{obj}: {keys:.0f} keys/100 frames on a shape > {limit:.0f}{which}{why}")
        edge = summary.get("edge_within_2px")
        if edge is not None and edge < EDGE_MIN:
            problems.append(f"{obj}: {100 * edge:.0f}% of the matte edge within 2 px < {100 * EDGE_MIN:.0f}%")
        # A qa.json written before the rigid parts were told apart carries the boil of all points.
        boil, where = (
            (summary["boil_rigid_px_rms"], "boil on rigid parts")
            if "boil_rigid_px_rms" in summary
            else (summary.get("boil_px_rms", 0.0), "boil")
        )
        if boil > BOIL_MAX_PX:
            problems.append(f"{obj}: {where} {boil:.2f} px > {BOIL_MAX_PX}")
        crossing = summary.get("frames_self_crossing") or []
        if crossing:
            problems.append(f"{obj}: a shape crosses itself on {len(crossing)} frame(s) from {crossing[0]}")
        left_out = summary.get("left_out") or {}
        if left_out:
            kinds = " / ".join(sorted({k for what in left_out.values() for k in what}))
            problems.append(
                f"{obj}: only the largest {contours.MAX_REGIONS:,} {kinds} traced on {len(left_out)} frame(s) from "
                f"{min(int(f) for f in left_out)} (speckle?)"
            )
        if summary["frames_with_shape_but_no_object"]:
            problems.append(f"{obj}: shape on {summary['frames_with_shape_but_no_object']} frame(s) without object")
    rekey = (qa.get("segmentation") or {}).get("rekey_frames") or {}
    flagged = {obj: frames for obj, frames in rekey.items() if frames}
    for obj, frames in flagged.items():
        problems.append(f"{obj}: segmentation asks to re-key {len(frames)} frame(s)")
    s = qa["summary"]
    figures = (
        f"IoU median {s['shape_iou_median']:.3f}, {s['shapes']} shapes"
        if s["shape_iou_median"] is not None
        else f"{s['shapes']} shapes, no frame measured"
    )
    status = "review" if problems else "pass"
    line = f"{status.upper()}: {figures}" + (f"; {'; '.join(problems)}" if problems else "")
    return {"status": status, "line": line, "frames_below": frames_below}


def edge_recall(raster: np.ndarray, mask: np.ndarray, within_px: float = 2.0) -> float:
    """Share of the mask's edge pixels that lie within ``within_px`` of the raster's edge (1.0 for no edge)."""

    def edge(m: np.ndarray) -> np.ndarray:
        u8 = m.astype(np.uint8)
        return (u8 - cv2.erode(u8, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)).astype(bool)

    mask_edge = edge(mask)
    if not mask_edge.any():
        return 1.0
    shape_edge = edge(raster)
    if not shape_edge.any():
        return 0.0
    distance = cv2.distanceTransform((~shape_edge).astype(np.uint8), cv2.DIST_L2, 5)
    return float((distance[mask_edge] <= within_px).mean())


def local_motion(shape: Shape, neighbours: int = 2) -> np.ndarray:
    """Frame-to-frame residual of each point after the similarity transform of its own neighbourhood (the point
    and ``neighbours`` points either side): what is left once a part's rigid motion is taken out — the boil of
    a rigid part, but also a part's real bending (a leg swinging about its knee)."""
    return np.abs(local_residuals(shape, neighbours, jitter=False))


def local_boil(shape: Shape, neighbours: int = 2) -> np.ndarray:
    """Boil of rigid parts: how far each point is from where its neighbourhood's steady motion puts it.

    On each inner frame the neighbourhood (the point and ``neighbours`` either side) at the midpoint of the
    previous and next frames is laid onto this frame by a similarity transform, and the point's residual taken.
    A part moving rigidly — at any speed, shaken by the camera or not — and a part bending steadily leave
    nothing; a point that shivers, slides back and forth or pops at a key does. ``local_motion`` gives the
    plain frame-to-frame residual, which also counts real bending.
    """
    return np.abs(local_residuals(shape, neighbours, jitter=True))


def boil_along_across(shape: Shape, neighbours: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """``local_boil`` split at each point into its part along the outline (the point sliding on its edge, which
    changes no pixel of the render) and across it (the outline moving against its neighbourhood, which does):
    the first can be smoothed away without leaving the matte, the second only as far as the matte's own edge
    allows. The outline's direction at a point is its handles' (the chord to its neighbours where it has none)."""
    residual = local_residuals(shape, neighbours, jitter=True)
    if residual.size == 0:
        return np.zeros(0), np.zeros(0)
    ctrl = np.stack([shape.at(f) for f in range(shape.first_frame + 1, shape.last_frame)])
    tangent = ctrl[:, :, RIGHT] - ctrl[:, :, LEFT]
    chord = np.roll(ctrl[:, :, POINT], -1, axis=1) - np.roll(ctrl[:, :, POINT], 1, axis=1)
    flat = np.hypot(tangent[..., 0], tangent[..., 1]) < 1e-6
    tangent[flat] = chord[flat]
    direction = (tangent[..., 0] + 1j * tangent[..., 1]).ravel()
    turned = residual * np.conj(direction) / np.maximum(np.abs(direction), 1e-9)
    return np.abs(turned.real), np.abs(turned.imag)


def local_residuals(shape: Shape, neighbours: int, jitter: bool) -> np.ndarray:
    """Each point's residual (complex x + iy) against its neighbourhood's similarity, per inner frame."""
    neighbours = min(neighbours, (shape.point_count - 1) // 2)
    if shape.last_frame - shape.first_frame < (2 if jitter else 1) or neighbours < 1:
        return np.zeros(0, complex)
    idx = (np.arange(shape.point_count)[:, None] + np.arange(-neighbours, neighbours + 1)) % shape.point_count
    points = np.stack([shape.at(f)[:, POINT] for f in range(shape.first_frame, shape.last_frame + 1)])
    if jitter:
        sources, targets = 0.5 * (points[:-2] + points[2:]), points[1:-1]
    else:
        sources, targets = points[:-1], points[1:]
    # Every neighbourhood of every frame at once: (frames, points, 2 * neighbours + 1), x and y apart. The complex
    # products are written out in real arithmetic: numpy's complex multiply fuses them (FMA) on CPUs that have it
    # and not on others, so the same shape would measure (and tears.py cut it) a unit in the last place apart.
    sx, sy = (sources[:, idx, c] for c in (0, 1))
    dx, dy = (targets[:, idx, c] for c in (0, 1))
    sx, sy = sx - sx.mean(axis=2, keepdims=True), sy - sy.mean(axis=2, keepdims=True)
    dx, dy = dx - dx.mean(axis=2, keepdims=True), dy - dy.mean(axis=2, keepdims=True)
    denom = np.sum(sx * sx + sy * sy, axis=2)
    safe = np.maximum(denom, 1e-12)
    held = denom > 1e-12
    # conj(s) * d summed over the neighbourhood, over its spread: the turn and scale from source to target.
    fx = np.where(held, np.sum(sx * dx + sy * dy, axis=2) / safe, 1.0)[..., None]
    fy = np.where(held, np.sum(sx * dy - sy * dx, axis=2) / safe, 0.0)[..., None]
    rx = (dx - (fx * sx - fy * sy))[:, :, neighbours].ravel()
    ry = (dy - (fx * sy + fy * sx))[:, :, neighbours].ravel()
    return rx + 1j * ry
