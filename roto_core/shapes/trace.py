"""Masks of a frame range → a ShapeDocument: every object's components and holes as keyed beziers.

The masks are read once and reduced to edge outlines straight away, so a long shot never holds its full-size
masks in memory. Components and holes are linked over time (linking.py); per track the outline gets a shared
parameter over its frames (outline_track.py), the outline is cut into articulated pieces whose fixed points hold
the edge on every frame (pieces.py), and the pieces are smoothed and keyed under the matte constraint (keys.py),
with curls beside a point taken out of the keys (untangle.py) and a piece's lifetime kept to the frames on which
it is not turned over (upright.py).
Parts of a matte a pixel or two wide (contours.thin_parts) become ribbons along their centre lines
(ribbons.py), and a range whose shapes fill their component badly on some frame is cut there (area_guard.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from roto_core.contracts import ShapeSettings
from roto_core.shapes.area_guard import guard_cut
from roto_core.shapes.contours import Outline, Region, find_regions, thin_parts
from roto_core.shapes.keyfit import fit_keys
from roto_core.shapes.keys import EdgeCheck, smoothed_within
from roto_core.shapes.linking import Blob, Track, link
from roto_core.shapes.model import Mode, Shape, ShapeDocument
from roto_core.shapes.outline_track import OutlineTrack
from roto_core.shapes.pieces import Piece, build_pieces, corner_flags, piece_controls
from roto_core.shapes.ribbons import Strand, link_strands, ribbon_shapes, strands
from roto_core.shapes.untangle import untangle
from roto_core.shapes.upright import upright

Progress = Callable[[int, int], None]

FIT_FRACTION = 0.7
MAX_PIECES = 16
# A frame range is not cut below this: a piece that still strays on a few frames is reported by the QA verdict.
# Measured on the DAVIS dev set (bench/RESULTS.md): 5 instead of 10 lifts IoU p10 by up to 0.14 and edge recall
# by up to 0.12 (parkour, dog, horsejump) for about twice the shapes; 3 adds little more for twice as many again.
MIN_SHAPE_FRAMES = 5
# A segment further than this many tolerances from its edge is drawn straight (see pieces.piece_controls).
STRAIGHT_BEYOND = 3.0
# Pieces are keyed on their own; each reaches this far past its chords into the next (see _overlapping).
OVERLAP_PX = 3.0
# A tolerance loosened beyond a clean matte's (the farm's for jittery segmenter masks) is held to this fraction
# of a small object's size (the square root of its area), but never below CLEAN_MATTE_TOLERANCE_PX: a disk
# whose outline is off by half the tolerance on average keeps IoU ~0.95 when the tolerance is 0.028 of its size.
SIZE_FRACTION = 0.028
# A hole follows on where its centroid, relative to its component's, moved by up to its own size: small holes
# (a wheel's gaps, the light between a rider's arm and body) change shape and place by about that much between
# frames. DAVIS scooter-black (43 frames): linked on the image at linking.MAX_CENTROID_SHIFT, 121 of its 130 hole
# tracks were one frame long and 58 % of the hole area fell in tracks long enough for a shape; on the component
# at this shift, 86 %; with the flicker rule of _lasting_hole, edge recall 0.851 -> 0.881 (bench/RESULTS.md).
HOLE_SHIFT = 1.0
FLICKER_AREA_FACTOR = 2.0
SILHOUETTE_AREA_FACTOR = 16.0
CLEAN_MATTE_TOLERANCE_PX: float = ShapeSettings.model_fields["tolerance_px"].default


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


def _reference_frame(outlines: dict[int, Outline]) -> int:
    whole = [f for f, o in outlines.items() if not o.on_border.any()]
    candidates = whole or list(outlines)
    return max(candidates, key=lambda f: (outlines[f].area, -f))


def _shapes_of_track(
    name: str,
    obj: str,
    mode: Mode,
    outlines: dict[int, Outline],
    settings: ShapeSettings,
    size: tuple[int, int],
    parent: OutlineTrack | None = None,
) -> list[Shape]:
    """One component (or hole) over its frames → its pieces, each keyed on its own frames.

    Where the outline changes too much for ``max_points`` points per piece to follow it (legs crossing, an
    occluder), the frame range is cut in two and each part gets its own shapes, with lifetimes; so is a range
    whose shapes fill the component badly on some frame (area_guard.py).
    """
    frames = sorted(outlines)
    track = OutlineTrack(outlines, _reference_frame(outlines), size, parent)
    fit_tolerance = FIT_FRACTION * settings.tolerance_px
    can_cut = len(frames) >= 2 * MIN_SHAPE_FRAMES
    pieces, cut = build_pieces(track, fit_tolerance, settings.max_points, MAX_PIECES, size, stop_at_cut=can_cut)
    if cut is not None and can_cut:
        # Where the outline changed most abruptly, or the middle when that is too close to an end.
        if not MIN_SHAPE_FRAMES <= cut <= len(frames) - MIN_SHAPE_FRAMES:
            cut = len(frames) // 2
        return _cut(name, obj, mode, outlines, frames[cut], settings, size, track)
    if len(pieces) > 1:
        pieces = [_overlapping(p, track) for p in pieces]
    raw = [piece_controls(p, track, STRAIGHT_BEYOND * settings.tolerance_px) for p in pieces]
    check = EdgeCheck(track, pieces, size)
    per_frame, own = smoothed_within(check, raw, settings.smoothing, settings.tolerance_px)
    shapes = []
    for number, (piece, ctrl) in enumerate(zip(pieces, per_frame, strict=True), start=1):
        keys, (values,) = fit_keys(check, [ctrl], settings.tolerance_px, [number - 1], own[:, number - 1 : number])
        label = name if len(pieces) == 1 else f"{name}p{number}"
        key_frames = np.asarray(frames)[keys]
        shape = Shape(label, obj, mode, frames[0], frames[-1], key_frames, untangle(values), corner_flags(piece))
        shapes.extend(upright(shape, settings.tolerance_px) if len(pieces) > 1 else [shape])
    at = guard_cut(shapes, outlines, settings.tolerance_px)
    if at is not None:
        return _cut(name, obj, mode, outlines, frames[at], settings, size, track)
    return shapes


def _cut(
    name: str,
    obj: str,
    mode: Mode,
    outlines: dict[int, Outline],
    middle: int,
    settings: ShapeSettings,
    size: tuple[int, int],
    track: OutlineTrack,
) -> list[Shape]:
    """The shapes of the frames before ``middle`` and of the rest, each traced on its own (on ``track``'s loops,
    and where a part keeps its reference frame, its markers)."""
    early = {f: o for f, o in outlines.items() if f < middle}
    late = {f: o for f, o in outlines.items() if f >= middle}
    return _shapes_of_track(f"{name}a", obj, mode, early, settings, size, track) + _shapes_of_track(
        f"{name}b", obj, mode, late, settings, size, track
    )


def _overlapping(piece: Piece, track: OutlineTrack) -> Piece:
    """``piece`` reaching OVERLAP_PX past each chord into its neighbour, so pieces keyed on their own frames (a
    leg keyed every frame, the body every few) never open a crack along the chord they share."""
    if piece.closed:
        return piece
    reach = OVERLAP_PX * track.count / track.loops[track.ref].length
    return Piece([(a - reach, b + reach) for a, b in piece.runs], False, [list(i) for i in piece.inner])


def _object_shapes(
    obj: str, regions: dict[int, list[Region]], settings: ShapeSettings, size: tuple[int, int]
) -> list[Shape]:
    blobs = {f: [Blob(r.centroid, r.area, r.touches_border) for r in rs] for f, rs in regions.items()}
    shortest = min(settings.min_lifetime_frames, len(regions))
    tracks = sorted(
        (t for t in link(blobs) if len(t.members) >= shortest),
        key=lambda t: (t.first, -regions[t.first][t.members[t.first]].area),
    )
    shapes: list[Shape] = []
    for number, track in enumerate(tracks, start=1):
        members = {f: regions[f][i] for f, i in track.members.items()}
        name = f"{shape_prefix(obj)}_{number}"
        outers = {f: r.outer for f, r in members.items()}
        own = _sized(settings, list(members.values()))
        shapes.extend(_shapes_of_track(name, obj, "add", outers, own, size))
        # A hole rides on its component: it is followed where it sits on the component, not on the image.
        hole_blobs = {f: [Blob(h.centroid - r.centroid, h.area) for h in r.holes] for f, r in members.items()}
        hole_tracks = sorted(
            (t for t in link(hole_blobs, HOLE_SHIFT) if _lasting_hole(t, members, shortest, settings.min_area_px)),
            key=lambda t: t.first,
        )
        for hole_number, hole in enumerate(hole_tracks, start=1):
            outlines = {f: members[f].holes[i] for f, i in hole.members.items()}
            hole_name = f"{name}_hole{hole_number}"
            shapes.extend(_shapes_of_track(hole_name, obj, "subtract", outlines, own, size))
    return shapes


def _line_shapes(obj: str, lines: dict[int, list[Strand]], settings: ShapeSettings) -> list[Shape]:
    """The ribbons of an object's thin parts: for each strand followed ``min_lifetime_frames`` or more, one (or
    one per run of vertices along a line that bends more than a ribbon holds)."""
    shortest = min(settings.min_lifetime_frames, len(lines))
    tracks = sorted((t for t in link_strands(lines) if len(t) >= shortest), key=lambda t: (min(t), -max(t)))
    return [s for n, t in enumerate(tracks, start=1) for s in ribbon_shapes(f"{shape_prefix(obj)}_thin{n}", obj, t)]


def _lasting_hole(track: Track, members: dict[int, Region], shortest: int, min_area: int) -> bool:
    """Whether a hole track gets shapes. A hole as large as SILHOUETTE_AREA_FACTOR times the smallest region
    does however briefly it is open (DAVIS horsejump-high: legs crossing close a 2,200 px gap for one frame,
    filled by the body's shapes at IoU 0.86). Else it lives ``shortest`` frames, and one shorter-lived than a cut
    range (MIN_SHAPE_FRAMES) is larger than FLICKER_AREA_FACTOR times the smallest region: a gap between a
    wheel's rims that opens for three frames is flicker (DAVIS car-roundabout: twelve such holes of 40-60 px,
    each keyed on every frame); the light between a horse's legs for three frames is part of its silhouette."""
    frames = len(track.members)
    area = float(np.median([members[f].holes[i].area for f, i in track.members.items()]))
    if area >= SILHOUETTE_AREA_FACTOR * min_area:
        return True
    if frames < shortest:
        return False
    return frames >= MIN_SHAPE_FRAMES or area >= FLICKER_AREA_FACTOR * min_area


def _sized(settings: ShapeSettings, members: list[Region]) -> ShapeSettings:
    """``settings`` for one component: a tolerance above a clean matte's is held to SIZE_FRACTION of the
    component's size (median over its frames), so a small object is not traced at a slack meant for large ones
    (a 30 px car at the farm's 2.5 px misses a tenth of its width)."""
    if settings.tolerance_px <= CLEAN_MATTE_TOLERANCE_PX:
        return settings
    extent = float(np.median([np.sqrt(r.area) for r in members]))
    held = max(min(settings.tolerance_px, SIZE_FRACTION * extent), CLEAN_MATTE_TOLERANCE_PX)
    return settings if held == settings.tolerance_px else settings.model_copy(update={"tolerance_px": held})


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
    thin: dict[str, dict[int, list[Strand]]] = {}
    for done, frame in enumerate(frames, start=1):
        for obj, mask in source.read(frame).items():
            lines = thin_parts(mask, settings.min_area_px)
            bulk = mask if lines is None else mask & ~lines
            regions.setdefault(obj, {f: [] for f in frames})[frame] = find_regions(bulk, settings.min_area_px)
            thin.setdefault(obj, {f: [] for f in frames})[frame] = [] if lines is None else strands(lines)
        if progress is not None:
            progress(done, len(frames))
    shapes: list[Shape] = []
    for obj, per_frame in regions.items():
        shapes.extend(_object_shapes(obj, per_frame, settings, size))
        if any(thin[obj].values()):
            shapes.extend(_line_shapes(obj, thin[obj], settings))
    return ShapeDocument(source.width, source.height, frames[0], frames[-1], shapes, name, settings.tolerance_px)
