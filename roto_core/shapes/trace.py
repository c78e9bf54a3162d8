"""Masks of a frame range → a ShapeDocument: every object's components and holes as keyed beziers.

The masks are read once and reduced to edge outlines straight away, so a long shot never holds its full-size
masks in memory. Components and holes are linked over time (linking.py); per track the outline gets a shared
parameter over its frames (outline_track.py), the outline is cut into articulated pieces whose fixed points hold
the edge on every frame (pieces.py) — a piece that cannot, over part of the frames, with its own lifetime, while
the others keep theirs — and the pieces are smoothed and keyed under the matte constraint (keys.py),
with curls beside a point taken out of the keys (untangle.py) and a piece's lifetime kept to the frames on which
it is not turned over (upright.py).
Parts of a matte a pixel or two wide (contours.ThinSplitter) become ribbons along their centre lines
(ribbons.py), and a range whose shapes fill their component badly on some frame is cut there (area_guard.py).
Which tracks live long enough for shapes is lifetimes.py's rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Protocol

import numpy as np

from roto_core.contracts import ShapeSettings
from roto_core.maskio import inside
from roto_core.shapes.area_guard import PieceGuard, cut_at
from roto_core.shapes.budgets import CLEAN_MATTE_TOLERANCE_PX, Budget, component_budget
from roto_core.shapes.chords import bowed
from roto_core.shapes.contours import Outline, Region, ThinSplitter, find_regions
from roto_core.shapes.keyfit import fit_keys
from roto_core.shapes.keys import EdgeCheck
from roto_core.shapes.lifetimes import (
    HOLE_SHIFT,
    MIN_SHAPE_FRAMES,
    body_motion,
    lasting_hole,
    lasting_line,
    lasting_region,
    seen_past_occluders,
)
from roto_core.shapes.line_strands import Strand, strands
from roto_core.shapes.linking import Blob, link
from roto_core.shapes.model import Mode, Shape, ShapeDocument
from roto_core.shapes.naming import named_apart, shape_prefix
from roto_core.shapes.outline_track import OutlineTrack
from roto_core.shapes.pieces import Piece, build_pieces, chord_mask, corner_flags, piece_controls
from roto_core.shapes.ribbons import link_strands, ribbon_shapes
from roto_core.shapes.smoothing import smoothed_within
from roto_core.shapes.steadying import steadied
from roto_core.shapes.tears import untorn
from roto_core.shapes.untangle import untangle
from roto_core.shapes.upright import upright

Progress = Callable[[int, int], None]

FIT_FRACTION = 0.7
MAX_PIECES = 16
# Pieces a piece the area guard blames may become on its part of the range.
REPLACED_ROOM = 4
# A range where more than this share of the pieces do not hold is cut as a whole, its parts traced afresh:
# fitting the failing pieces again one by one would mostly end in that cut anyway, after the work (DAVIS goat:
# its matte's error spread over many pieces; bench/RESULTS.md, tenth pass).
GIVE_UP = 0.5
# Where the area guard cuts a range as a whole, the part of it on which the range's shapes fill the component
# within this fraction of the tolerance (of a clean matte's, where it is loosened) keeps them, and only the other
# part is traced again: fitted afresh, that part would fit little better. DAVIS dev set, whole sequences: CPU
# soapbox 11.4 -> 10.2 s, drift-chicane 3.4 -> 3.0 s, quality the same or better (soapbox edge 0.946 -> 0.948,
# boil 0.69 -> 0.64 px). Kept at any band within the tolerance, the segmenter's masks of drift-straight kept
# frames whose band was 1.9 px at its loosened 2.5 px: IoU 0.89-0.95 there instead of 0.95-0.98 traced afresh,
# p10 0.920 -> 0.888 (bench/RESULTS.md, sixteenth pass).
KEEP_FRACTION = 0.75
# A segment further than this many tolerances from its edge is drawn straight (see pieces.piece_controls).
STRAIGHT_BEYOND = 3.0
# Pieces are keyed on their own; each reaches this far past its chords into the next (see _overlapping).
OVERLAP_PX = 3.0


class MaskSource(Protocol):
    """Per-frame object masks: ``read(frame)`` gives ``{object: bool H×W}`` for each frame of ``frames``."""

    width: int
    height: int
    frames: list[int]

    def read(self, frame: int) -> dict[str, np.ndarray]: ...


@dataclass
class InMemoryMasks:
    """A MaskSource over arrays already in memory (tests, benchmarks, the chunk runner), read as mask files are
    (roto_core.maskio.inside: float data and 8/16-bit mattes inside from half way up, label images wherever
    non-zero)."""

    masks: Mapping[int, Mapping[str, np.ndarray]]
    width: int
    height: int

    @property
    def frames(self) -> list[int]:
        return sorted(self.masks)

    def read(self, frame: int) -> dict[str, np.ndarray]:
        return {k: inside(v) for k, v in self.masks[frame].items()}


def _reference_frame(outlines: dict[int, Outline]) -> int:
    whole = [f for f, o in outlines.items() if not o.on_border.any()]
    candidates = whole or list(outlines)
    return max(candidates, key=lambda f: (outlines[f].area, -f))


@dataclass
class _Placed:
    """A piece and the frames it is fitted over (``track``, the component's track or part of it)."""

    piece: Piece
    track: OutlineTrack
    label: str


def _shapes_of_track(
    name: str,
    obj: str,
    mode: Mode,
    outlines: dict[int, Outline],
    budget: Budget,
    size: tuple[int, int],
    parent: OutlineTrack | None = None,
) -> list[Shape]:
    """One component (or hole) over its frames → its pieces, each keyed on its own frames.

    A piece whose outline changes too much for ``max_points`` points to follow it (a leg crossing the other,
    an occluder) lives over part of the range: it is fitted again on each half of its frames while the pieces
    around it keep the whole range (_placed); so is a piece the area guard blames for filling the component
    badly on some frame (area_guard.PieceGuard). Where most pieces fail (GIVE_UP), the range is cut in two as a
    whole and each part traced afresh; so it is where a failing frame has no piece to blame that can still be cut,
    but a part the range's shapes already fill well (KEEP_FRACTION) keeps them.
    """
    frames = sorted(outlines)
    settings = budget.settings
    track = OutlineTrack(outlines, _reference_frame(outlines), size, parent)
    tolerance = FIT_FRACTION * settings.tolerance_px
    placed = _placed(track, None, [name], tolerance, settings, size, MAX_PIECES, GIVE_UP)
    if placed is None:
        return _cut(name, obj, mode, outlines, frames[len(frames) // 2], budget, size, track)
    # Where the shapes fill the component badly, the pieces to blame live over less of the range; where no piece
    # can be blamed, the range is cut as a whole.
    keyed = _keyed(placed, obj, mode, budget, size)
    guard = PieceGuard(outlines, settings.tolerance_px)
    changed: set[int] | None = None
    while cuts := guard.cuts(keyed, changed):
        changed = set()
        for index, at in sorted(cuts, reverse=True):
            piece = placed[index]
            changed.update(piece.track.frames)
            halves = [[f for f in piece.track.frames if f < at], [f for f in piece.track.frames if f >= at]]
            again = []
            for suffix, part in zip("ab", halves, strict=True):
                sub, start = _retracked(piece.track, part, piece.piece, size)
                again += _placed(sub, [start], [piece.label + suffix], tolerance, settings, size, REPLACED_ROOM)
            placed[index : index + 1] = again
            keyed[index : index + 1] = _keyed(again, obj, mode, budget, size)
    shapes = [s for group in keyed for s in group]
    # The guard's bands are those of ``shapes``: it measured them again on every frame whose shapes changed.
    at = cut_at(guard.bands, settings.tolerance_px) if guard.stuck else None
    if at is None:
        return shapes
    limit = KEEP_FRACTION * min(settings.tolerance_px, CLEAN_MATTE_TOLERANCE_PX)
    for kept, again in ((frames[:at], frames[at:]), (frames[at:], frames[:at])):
        if max(guard.bands[f] for f in kept) <= limit:
            rest = {f: outlines[f] for f in again}
            clipped = [c for s in shapes if (c := s.clipped(kept[0], kept[-1])) is not None]
            # "r": no other name of this range has it, so the clipped shapes keep theirs without a clash.
            return clipped + _shapes_of_track(f"{name}r", obj, mode, rest, budget, size, track)
    return _cut(name, obj, mode, outlines, frames[at], budget, size, track)


def _retracked(
    track: OutlineTrack, frames: list[int], piece: Piece, size: tuple[int, int]
) -> tuple[OutlineTrack, Piece]:
    """A track over ``frames`` (some of ``track``'s), tracked afresh from its own reference frame unless it keeps
    ``track``'s, and ``piece`` on it without points: its runs mapped through the reference frame, where both
    tracks' markers lie on the same outline. Markers carried from a reference far outside the part fit its
    frames worse (DAVIS camel: IoU p10 0.950 on the same markers, bench/RESULTS.md tenth pass); one track serves
    every piece fitted again over the same frames."""
    key = tuple(frames)
    if key not in track.parts:
        outlines = {f: track.loops[f].outline for f in frames}
        track.parts[key] = OutlineTrack(
            outlines, track.ref if track.ref in outlines else _reference_frame(outlines), size, track
        )
    sub = track.parts[key]
    if sub.ref == track.ref:
        return sub, _fresh(piece)
    ref = sub.ref
    runs = []
    for a, b in piece.runs:
        ua = sub.param(ref, float(track.arc(ref, a)))
        ub = ua + sub.count if piece.closed else ua + (sub.param(ref, float(track.arc(ref, b))) - ua) % sub.count
        runs.append((ua, ub))
    return sub, Piece(runs, piece.closed)


def _fresh(piece: Piece) -> Piece:
    """``piece``'s runs without its points, to be fitted again."""
    return Piece(list(piece.runs), piece.closed)


def _keyed(placed: list[_Placed], obj: str, mode: Mode, budget: Budget, size: tuple[int, int]) -> list[list[Shape]]:
    """Each placed piece's shapes (one, or one per run of frames on which it is upright, cut where it tears):
    fitted on each of its frames, smoothed and keyed under the matte constraint (the component's budget), keys on
    consecutive frames steadied (steadying.py), chords bowed round the notches that reach across them
    (chords.py), pieces over the same frames checked together."""
    settings = budget.settings
    groups: dict[int, list[int]] = {}
    for i, p in enumerate(placed):
        groups.setdefault(id(p.track), []).append(i)
    out: list[list[Shape]] = [[] for _ in placed]
    for members in groups.values():
        part = placed[members[0]].track
        pieces = [_overlapping(placed[i].piece, part) for i in members]
        raw = [piece_controls(p, part, STRAIGHT_BEYOND * settings.tolerance_px) for p in pieces]
        check = EdgeCheck(part, pieces, size, budget.mean_fractions(part.frames))
        per_frame, own = smoothed_within(check, raw, settings.smoothing, settings.tolerance_px)
        for number, (i, ctrl) in enumerate(zip(members, per_frame, strict=True)):
            keys, (values,) = fit_keys(check, [ctrl], settings.tolerance_px, [number], own[:, number : number + 1])
            values = steadied(check, number, keys, values, settings.tolerance_px)
            key_frames = np.asarray(part.frames)[keys]
            first, last = part.frames[0], part.frames[-1]
            corners = corner_flags(placed[i].piece)
            values = bowed(untangle(values), chord_mask(pieces[number]))
            shape = Shape(placed[i].label, obj, mode, first, last, key_frames, values, corners)
            out[i] = [cut for s in upright(shape, settings.tolerance_px) for cut in untorn(s, settings.tolerance_px)]
    return out


def _placed(
    track: OutlineTrack,
    starts: list[Piece] | None,
    labels: list[str],
    tolerance: float,
    settings: ShapeSettings,
    size: tuple[int, int],
    room: int,
    give_up: float | None = None,
) -> list[_Placed] | None:
    """The pieces of ``starts`` (the whole outline when None; named ``labels``) over ``track``'s frames, at most
    ``room`` at a time. Pieces that do not hold are fitted again on each half of the frames, down to
    MIN_SHAPE_FRAMES, while the pieces that hold keep the whole range: like an artist who keeps the body's shape
    over the shot and redraws a leg where it parts from the other."""
    frames = track.frames
    can_cut = len(frames) >= 2 * MIN_SHAPE_FRAMES
    clean = settings.tolerance_px <= CLEAN_MATTE_TOLERANCE_PX
    built = build_pieces(track, tolerance, settings.max_points, room, size, starts, can_cut, clean)
    several = {k: sum(1 for _, _, o in built if o == k) > 1 for k in range(len(labels))}
    numbers = dict.fromkeys(range(len(labels)), 0)
    out: list[_Placed] = []
    failing: list[tuple[Piece, str]] = []
    for piece, holds, origin in built:
        numbers[origin] += 1
        own = f"{labels[origin]}p{numbers[origin]}" if several[origin] else labels[origin]
        if holds or not can_cut:
            out.append(_Placed(piece, track, own))
        else:
            failing.append((piece, own))
    if give_up is not None and len(failing) > give_up * len(built):
        return None
    if failing:
        middle = len(frames) // 2
        left = room - (len(built) - len(failing))
        for suffix, part in (("a", frames[:middle]), ("b", frames[middle:])):
            again = [_retracked(track, part, piece, size) for piece, _ in failing]
            names = [own + suffix for _, own in failing]
            out.extend(_placed(again[0][0], [p for _, p in again], names, tolerance, settings, size, left))
    return out


def _cut(
    name: str,
    obj: str,
    mode: Mode,
    outlines: dict[int, Outline],
    middle: int,
    budget: Budget,
    size: tuple[int, int],
    track: OutlineTrack,
) -> list[Shape]:
    """The shapes of the frames before ``middle`` and of the rest, each traced on its own (on ``track``'s loops,
    and where a part keeps its reference frame, its markers)."""
    early = {f: o for f, o in outlines.items() if f < middle}
    late = {f: o for f, o in outlines.items() if f >= middle}
    return _shapes_of_track(f"{name}a", obj, mode, early, budget, size, track) + _shapes_of_track(
        f"{name}b", obj, mode, late, budget, size, track
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
    blobs = {f: [Blob(r.centroid, r.area, r.touches_border, _box(r.outer)) for r in rs] for f, rs in regions.items()}
    shortest = min(settings.min_lifetime_frames, len(regions))
    # Shapes are drawn in list order, each add filling and each hole clearing what is below it: a component lying
    # in another's hole (at any frame) comes after that component's holes, or the hole would clear it.
    linked = link(blobs)
    lasting = seen_past_occluders(linked, [lasting_region(t, regions, shortest) for t in linked], regions)
    tracks = sorted(
        (t for t, keep in zip(linked, lasting, strict=True) if keep),
        key=lambda t: (
            max(regions[f][i].depth for f, i in t.members.items()),
            t.first,
            -regions[t.first][t.members[t.first]].area,
        ),
    )
    shapes: list[Shape] = []
    for number, track in enumerate(tracks, start=1):
        members = {f: regions[f][i] for f, i in track.members.items()}
        name = f"{shape_prefix(obj)}_{number}"
        outers = {f: r.outer for f, r in members.items()}
        budget = component_budget(settings, members)
        shapes.extend(_shapes_of_track(name, obj, "add", outers, budget, size))
        # A hole rides on its component: it is followed where it sits on the component, not on the image.
        hole_blobs = {f: [Blob(h.centroid - r.centroid, h.area) for h in r.holes] for f, r in members.items()}
        # Held to HOLE_SHIFT even where a hole is the only one: on the component, no camera shake moves it.
        hole_links = link(hole_blobs, HOLE_SHIFT, HOLE_SHIFT)
        hole_tracks = sorted(
            (t for t in hole_links if lasting_hole(t, members, shortest, settings.min_area_px)),
            key=lambda t: t.first,
        )
        for hole_number, hole in enumerate(hole_tracks, start=1):
            outlines = {f: members[f].holes[i] for f, i in hole.members.items()}
            hole_name = f"{name}_hole{hole_number}"
            shapes.extend(_shapes_of_track(hole_name, obj, "subtract", outlines, budget, size))
    return shapes


def _box(outline: Outline) -> np.ndarray:
    """An outline's box (x0, y0, x1, y1), column by column (numpy reduces an (N, 2) array along its first axis ten
    times slower)."""
    x, y = outline.points[:, 0], outline.points[:, 1]
    return np.array([x.min(), y.min(), x.max(), y.max()])


def _line_shapes(
    obj: str, lines: dict[int, list[Strand]], settings: ShapeSettings, regions: dict[int, list[Region]]
) -> list[Shape]:
    """The ribbons of an object's thin parts (``regions``: its bulk): for each strand track that lasts
    (lifetimes.lasting_line), one (or one per run of vertices along a line that bends more than a ribbon holds)."""
    shortest = min(settings.min_lifetime_frames, len(lines))
    tracks = sorted(
        (t for t in link_strands(lines, body_motion(regions)) if lasting_line(t, lines, regions, shortest)),
        key=lambda t: (min(t), -max(t)),
    )
    return [s for n, t in enumerate(tracks, start=1) for s in ribbon_shapes(f"{shape_prefix(obj)}_thin{n}", obj, t)]


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
    left_out: dict[str, dict[int, list[str]]] = {}
    splitters: dict[str, ThinSplitter] = {}
    for done, frame in enumerate(frames, start=1):
        for obj, mask in source.read(frame).items():
            told = partial(_note, left_out, obj, frame)
            lines = splitters.setdefault(obj, ThinSplitter(settings.min_area_px)).lines(mask)
            bulk = mask if lines is None else mask & ~lines
            regions.setdefault(obj, {f: [] for f in frames})[frame] = find_regions(bulk, settings.min_area_px, told)
            thin.setdefault(obj, {f: [] for f in frames})[frame] = [] if lines is None else strands(lines, told)
        if progress is not None:
            progress(done, len(frames))
    traced: dict[str, list[Shape]] = {}
    for obj, per_frame in regions.items():
        own = _object_shapes(obj, per_frame, settings, size)
        if any(thin[obj].values()):
            own.extend(_line_shapes(obj, thin[obj], settings, per_frame))
        if own:
            traced[obj] = own
    shapes = named_apart(traced)
    doc = ShapeDocument(source.width, source.height, frames[0], frames[-1], shapes, name, settings.tolerance_px)
    doc.left_out = left_out
    return doc


def _note(left_out: dict[str, dict[int, list[str]]], obj: str, frame: int, what: str) -> None:
    """Record that the tracer left some of ``what`` out of ``obj`` on ``frame`` (once per kind)."""
    kinds = left_out.setdefault(obj, {}).setdefault(frame, [])
    if what not in kinds:
        kinds.append(what)
