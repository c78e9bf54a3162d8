"""Masks of a frame range → a ShapeDocument: every object's components and holes as keyed beziers.

The masks are read once and reduced to edge outlines straight away, so a long shot never holds its full-size
masks in memory. Per component track the shape is fitted on its reference frame (the largest frame where it does
not touch the image border, so a component entering the frame is drawn whole), then carried forward and
backward, smoothed, and reduced to keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from roto_core.contracts import ShapeSettings
from roto_core.shapes.contours import Outline, Region, find_regions
from roto_core.shapes.fitting import fit_outline
from roto_core.shapes.keys import reduce_keys, smooth_trajectories
from roto_core.shapes.linking import Blob, link
from roto_core.shapes.model import Mode, Shape, ShapeDocument
from roto_core.shapes.tracking import EdgeField, carry, identity, snap

Progress = Callable[[int, int], None]

FIT_FRACTION = 0.6
KEY_FRACTION = 0.75


class MaskSource(Protocol):
    """Per-frame object masks: ``read(frame)`` gives ``{object: bool H×W}`` for each frame of ``frames``."""

    width: int
    height: int
    frames: list[int]

    def read(self, frame: int) -> dict[str, np.ndarray]: ...


@dataclass
class InMemoryMasks:
    """A MaskSource over arrays already in memory (tests, benchmarks, the chunk runner)."""

    masks: Mapping[int, Mapping[str, np.ndarray]]
    width: int
    height: int

    @property
    def frames(self) -> list[int]:
        return sorted(self.masks)

    def read(self, frame: int) -> dict[str, np.ndarray]:
        return {
            k: v if v.dtype == bool else v > 0 for k, v in ((k, np.asarray(v)) for k, v in self.masks[frame].items())
        }


def shape_prefix(obj: str) -> str:
    """Object name made safe for every exporter's shape names (Nuke curvegroups are Tcl words)."""
    safe = re.sub(r"[^A-Za-z0-9_]", "_", obj) or "object"
    return safe if safe[0].isalpha() else f"o{safe}"


def snap_limit(settings: ShapeSettings) -> float:
    """How far a point may be pulled along its normal onto the edge in one frame."""
    return max(4.0, 4.0 * settings.tolerance_px)


def _reference_frame(outlines: dict[int, Outline]) -> int:
    whole = [f for f, o in outlines.items() if not o.on_border.any()]
    candidates = whole or list(outlines)
    return max(candidates, key=lambda f: (outlines[f].area, -f))


def _init_transform(previous: np.ndarray, before: Outline, after: Outline) -> np.ndarray:
    """Last step's motion, re-centred on the new centroid when both outlines are whole."""
    if before.on_border.any() or after.on_border.any():
        return previous
    lin = previous[:, :2]
    shift = after.centroid - lin @ before.centroid
    return np.concatenate([lin, shift[:, None]], axis=1)


def trace_outlines(
    outlines: dict[int, Outline], settings: ShapeSettings, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One component over consecutive frames → (key frames, keys ``(K, N, 3, 2)``, corner flags)."""
    frames = sorted(outlines)
    ref = _reference_frame(outlines)
    fitted = fit_outline(outlines[ref].points, FIT_FRACTION * settings.tolerance_px, settings.max_points)
    fields = {f: EdgeField(outlines[f]) for f in frames}
    per_frame: dict[int, np.ndarray] = {ref: fitted.ctrl}
    limit = snap_limit(settings)
    for direction in (1, -1):
        motion = identity()
        f = ref + direction
        while f in outlines:
            init = _init_transform(motion, outlines[f - direction], outlines[f])
            per_frame[f], motion = carry(
                per_frame[f - direction], fitted.corners, fields[f], init, size, limit, settings.tolerance_px
            )
            f += direction
    ctrl = np.stack([per_frame[f] for f in frames])
    ctrl = smooth_trajectories(ctrl, settings.smoothing)
    deadband = 0.25 * settings.tolerance_px
    ctrl = np.stack(
        [
            snap(c, fitted.corners, fields[f], settings.tolerance_px * 2, deadband)
            for c, f in zip(ctrl, frames, strict=True)
        ]
    )
    keys = reduce_keys(ctrl, KEY_FRACTION * settings.tolerance_px)
    return np.asarray(frames)[keys], ctrl[keys], fitted.corners


def _shape(
    name: str, obj: str, mode: Mode, outlines: dict[int, Outline], settings: ShapeSettings, size: tuple[int, int]
) -> Shape:
    key_frames, keys, corners = trace_outlines(outlines, settings, size)
    return Shape(name, obj, mode, min(outlines), max(outlines), key_frames, keys, corners)


def _object_shapes(
    obj: str, regions: dict[int, list[Region]], settings: ShapeSettings, size: tuple[int, int]
) -> list[Shape]:
    blobs = {f: [Blob(r.centroid, r.area) for r in rs] for f, rs in regions.items()}
    shortest = min(settings.min_lifetime_frames, len(regions))
    tracks = sorted(
        (t for t in link(blobs) if len(t.members) >= shortest),
        key=lambda t: (t.first, -regions[t.first][t.members[t.first]].area),
    )
    shapes: list[Shape] = []
    for number, track in enumerate(tracks, start=1):
        members = {f: regions[f][i] for f, i in track.members.items()}
        name = f"{shape_prefix(obj)}_{number}"
        shapes.append(_shape(name, obj, "add", {f: r.outer for f, r in members.items()}, settings, size))
        hole_blobs = {f: [Blob(h.centroid, h.area) for h in r.holes] for f, r in members.items()}
        hole_tracks = sorted((t for t in link(hole_blobs) if len(t.members) >= shortest), key=lambda t: t.first)
        for hole_number, hole in enumerate(hole_tracks, start=1):
            outlines = {f: members[f].holes[i] for f, i in hole.members.items()}
            shapes.append(_shape(f"{name}_hole{hole_number}", obj, "subtract", outlines, settings, size))
    return shapes


def trace_shapes(
    source: MaskSource,
    settings: ShapeSettings | None = None,
    *,
    name: str | None = None,
    progress: Progress | None = None,
) -> ShapeDocument:
    """Fit, carry and key the shapes of every object in ``source`` over its frames."""
    settings = settings or ShapeSettings()
    frames = list(source.frames)
    size = (source.height, source.width)
    regions: dict[str, dict[int, list[Region]]] = {}
    for done, frame in enumerate(frames, start=1):
        for obj, mask in source.read(frame).items():
            regions.setdefault(obj, {f: [] for f in frames})[frame] = find_regions(mask, settings.min_area_px)
        if progress is not None:
            progress(done, len(frames))
    shapes: list[Shape] = []
    for obj, per_frame in regions.items():
        shapes.extend(_object_shapes(obj, per_frame, settings, size))
    return ShapeDocument(source.width, source.height, frames[0], frames[-1], shapes, name, settings.tolerance_px)
