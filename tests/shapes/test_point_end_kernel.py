"""segment_fits.point_ends and corner_arc, compiled (point_end_kernel.py), give the numpy code they replaced to the
bit: on every point end the tracer finds on a real DAVIS matte (those the compiled point selection finds and
keeps, and the finished pieces', whose corners stay between their neighbours), and on points anywhere round the
outlines (negative parameters, laps on, every role, neighbours near and far, all frames or some)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes import piece_fitter, pieces
from roto_core.shapes.contours import find_regions
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.outline_track import OutlineTrack, Rows
from roto_core.shapes.piece_fitter import Failure, Piece
from roto_core.shapes.point_end_kernel import TANGENT_SHARE
from roto_core.shapes.segment_fits import (
    CORNER,
    CORNER_GAP_PX,
    CORNER_MARGIN_PX,
    CORNER_SEARCH,
    CORNER_SPAN_PX,
    CORNER_TANGENT_PX,
    END,
    KINDS,
    ONE_SIDED_PX,
    SMOOTH,
    START,
    TANGENT_PX,
    End,
    Point,
    corner_arc,
    point_ends,
)
from roto_core.shapes.trace import trace_shapes

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"
_SIDES = {START: (0.0, ONE_SIDED_PX), END: (ONE_SIDED_PX, 0.0)}
_ROLES = {kind: role for role, kind in KINDS.items()}
_OFFSETS = np.array(
    [0.0, -CORNER_GAP_PX - CORNER_TANGENT_PX, -CORNER_GAP_PX, CORNER_GAP_PX, CORNER_GAP_PX + CORNER_TANGENT_PX]
)


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.hypot(v[..., 0], v[..., 1])[..., None]
    return np.divide(v, n, out=np.zeros_like(v), where=n > 1e-12)


def _plain_corner_arc(track: OutlineTrack, u: np.ndarray, rows: Rows, beside: np.ndarray | None) -> np.ndarray:
    """corner_arc as numpy computed it: every candidate's three places in one lookup, the least cosine."""
    u = np.asarray(u, dtype=np.float64)
    flat_u = u.reshape(-1)
    if beside is None:
        base = track.arc_all(flat_u, rows)
        allowed = np.ones((1, 1, len(CORNER_SEARCH)), bool)
    else:
        around = np.asarray(beside, dtype=np.float64).reshape(-1, 2)
        arcs = track.arc_all(np.concatenate((around[:, 0], flat_u, around[:, 1])), rows)
        s_before, base, s_after = arcs.reshape(arcs.shape[0], 3, -1).transpose(1, 0, 2)
        low = 0.5 * (s_before - base)[:, :, None] + CORNER_MARGIN_PX
        high = 0.5 * (s_after - base)[:, :, None] - CORNER_MARGIN_PX
        allowed = ((low <= CORNER_SEARCH) & (high >= CORNER_SEARCH)) | (CORNER_SEARCH == 0.0)
    frames, count = base.shape
    s = base[:, :, None] + CORNER_SEARCH
    flat = s.reshape(frames, -1)
    pts = track.at_all(np.concatenate((flat - CORNER_SPAN_PX, flat, flat + CORNER_SPAN_PX), axis=1), rows)
    before, here, after = pts.reshape(frames, 3, count, len(CORNER_SEARCH), 2).transpose(1, 0, 2, 3, 4)
    a, b = here - before, after - here
    cosine = np.sum(a * b, axis=3) / np.maximum(np.linalg.norm(a, axis=3) * np.linalg.norm(b, axis=3), 1e-9)
    cosine = np.where(allowed, cosine, np.inf)
    best = np.take_along_axis(s, np.argmin(cosine, axis=2)[:, :, None], axis=2)[:, :, 0]
    return best.reshape((frames, *u.shape))


def _lengths(track: OutlineTrack, rows: Rows) -> np.ndarray:
    """The loop lengths of the track's frames ``rows`` picks (all where None)."""
    return track.lengths if rows is None else track.lengths[rows]


def _plain_point_ends(
    track: OutlineTrack, points: list[Point], rows: Rows = None, beside: list[tuple[float, float]] | None = None
) -> list[End]:
    """point_ends as numpy computed it: one lookup for the points on the edge, one for the corners."""
    out: list[End] = [(None, np.zeros(0), np.zeros(0))] * len(points)
    smooth = [i for i, (_, role) in enumerate(points) if role != CORNER]
    if smooth:
        sides = np.array([_SIDES.get(points[i][1], (TANGENT_PX, TANGENT_PX)) for i in smooth])
        s = track.arc_all(np.array([points[i][0] for i in smooth]), rows)
        reach = TANGENT_SHARE * _lengths(track, rows)[:, None]
        before, after = np.minimum(sides[:, 0], reach), np.minimum(sides[:, 1], reach)
        pts = track.at_all(np.concatenate((s - before, s + after), axis=1), rows)
        chord = pts[:, len(smooth) :] - pts[:, : len(smooth)]
        norm = np.linalg.norm(chord, axis=-1, keepdims=True)
        t = np.divide(chord, norm, out=np.zeros_like(chord), where=norm > 1e-12)
        for k, i in enumerate(smooth):
            out[i] = (None, t[:, k], t[:, k])
    corners = [i for i, (_, role) in enumerate(points) if role == CORNER]
    if corners:
        around = None if beside is None else np.array([beside[i] for i in corners])
        s = _plain_corner_arc(track, np.array([points[i][0] for i in corners]), rows, around)
        frames, count = s.shape
        scale = np.minimum(1.0, TANGENT_SHARE * _lengths(track, rows) / _OFFSETS[4])[:, None, None]
        pts = track.at_all((s[:, :, None] + scale * _OFFSETS).reshape(frames, -1), rows)
        pts = pts.reshape(frames, count, len(_OFFSETS), 2)
        point, a, b = pts[:, :, 0], pts[:, :, 2], pts[:, :, 3]
        t_in, t_out = _unit(a - pts[:, :, 1]), _unit(pts[:, :, 4] - b)
        cross = t_in[..., 0] * t_out[..., 1] - t_in[..., 1] * t_out[..., 0]
        diff = b - a
        along = (diff[..., 0] * t_out[..., 1] - diff[..., 1] * t_out[..., 0]) / np.where(
            np.abs(cross) < 0.2, 1.0, cross
        )
        tip = a + along[..., None] * t_in
        reach = scale[:, :, 0] * (2 * CORNER_SPAN_PX)
        sharp = (np.abs(cross) >= 0.2) & (np.linalg.norm(tip - point, axis=-1) <= reach)
        tip = np.where(sharp[..., None], tip, point)
        for k, i in enumerate(corners):
            out[i] = (tip[:, k], t_in[:, k], t_out[:, k])
    return out


def _assert_same_ends(got: list[End], want: list[End]) -> None:
    assert len(got) == len(want)
    for (tip, t_in, t_out), (plain_tip, plain_in, plain_out) in zip(got, want, strict=True):
        assert (tip is None) == (plain_tip is None)
        if tip is not None:
            np.testing.assert_array_equal(tip, plain_tip)
        np.testing.assert_array_equal(t_in, plain_in)
        np.testing.assert_array_equal(t_out, plain_out)


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_every_point_end_on_a_real_goat_matte_and_points_anywhere_are_numpys(monkeypatch: pytest.MonkeyPatch) -> None:
    tracks: list[OutlineTrack] = []
    calls = {"selection": 0, "finished": 0}

    def checked(kind: str):
        def both_ways(track, points, rows=None, beside=None):
            got = point_ends(track, points, rows, beside)
            _assert_same_ends(got, _plain_point_ends(track, points, rows, beside))
            tracks.append(track)
            calls[kind] += 1
            return got

        return both_ways

    selected = piece_fitter.PieceFitter.select
    seen: set[tuple] = set()
    fitters: list[piece_fitter.PieceFitter] = []  # kept alive, so no later fitter takes one's id

    def selection_checked(fitter: piece_fitter.PieceFitter, piece: Piece, exact: bool = False) -> Failure:
        # The selection finds its points' ends inside its compiled call (selection_kernel._point_end) and keeps
        # them: each one it kept, found again as numpy did.
        failure = selected(fitter, piece, exact)
        fitters.append(fitter)
        for (u, kind, stage), (tips, t_in, t_out) in fitter.ends.items():
            if (id(fitter), u, kind, stage) in seen:
                continue
            seen.add((id(fitter), u, kind, stage))
            role = _ROLES[kind]
            got = (tips if role == CORNER else None, t_in, t_out)
            _assert_same_ends([got], _plain_point_ends(fitter.track, [(u, role)], fitter.stages[stage], None))
            calls["selection"] += 1
        return failure

    monkeypatch.setattr(piece_fitter.PieceFitter, "select", selection_checked)
    monkeypatch.setattr(pieces, "point_ends", checked("finished"))
    masks = MaskSequence(DATA / "goat" / "Annotations" / "#####.png", 0, 7, default_object="matte")
    trace_shapes(masks, ShapeSettings(), name="goat")
    assert calls["selection"] > 50 and calls["finished"] > 5
    track = max(tracks, key=lambda t: len(t.frames))
    frames = len(track.frames)
    rng = np.random.default_rng(4)
    u = rng.uniform(-2.0 * track.count, 3.0 * track.count, 60)
    u[:4] = np.arange(4.0)  # exactly at markers
    roles = [SMOOTH, START, END, CORNER]
    points = [(float(x), roles[k % 4]) for k, x in enumerate(u)]
    near = rng.uniform(0.05, 0.6, (60, 2))  # neighbours a few pixels away: the search is cut short
    beside = [(x - a, x + b) for x, (a, b) in zip(u, near * np.array([[1.0, 8.0]]), strict=True)]
    for rows in (None, np.arange(frames)[::-2], np.arange(frames) % 3 == 0, np.array([frames - 1])):
        for around in (None, beside):
            _assert_same_ends(point_ends(track, points, rows, around), _plain_point_ends(track, points, rows, around))
        corners = u[:12].reshape(3, 4)
        pairs = np.stack([corners - near[:12, 0].reshape(3, 4), corners + near[:12, 1].reshape(3, 4)], axis=2)
        for around in (None, pairs):
            np.testing.assert_array_equal(
                corner_arc(track, corners, rows, around), _plain_corner_arc(track, corners, rows, around)
            )
    assert corner_arc(track, 3.5).shape == (frames,)
    assert point_ends(track, []) == []


def test_a_square_corner_has_its_tip_where_its_sides_meet() -> None:
    """A square matte's corner (the outline rounds it off by a pixel): the tip is where the tangents along the
    two sides cross, the square's corner; a smooth point on a side reads the side's direction both ways."""
    mask = np.zeros((100, 100), bool)
    mask[20:80, 20:80] = True
    outline = find_regions(mask, 64)[0].outer
    track = OutlineTrack({0: outline, 1: outline}, 0, (100, 100))
    corner_u = float(track.corners[0])
    ends = point_ends(track, [(corner_u, CORNER), (corner_u + 0.5 * track.count / 4, SMOOTH)])
    (tip, t_in, t_out), (none, side_in, side_out) = ends
    assert none is None
    sine = t_in[:, 0] * t_out[:, 1] - t_in[:, 1] * t_out[:, 0]
    np.testing.assert_allclose(np.abs(sine), 1.0, atol=1e-3)
    corners = np.array([[20.0, 20.0], [80.0, 20.0], [80.0, 80.0], [20.0, 80.0]])
    assert np.linalg.norm(corners - tip[0], axis=1).min() < 0.05
    np.testing.assert_array_equal(side_in, side_out)
    np.testing.assert_allclose(np.abs(side_in).max(axis=1), 1.0, atol=1e-3)


# Outlines shorter than this are specks of a pixel or two (a 1.5 px loop round one pixel's corner): no direction.
MIN_LOOP_PX = 4.0


def _small_loops(sequence: str, frame: int) -> list:
    """The hole and component outlines of a real DAVIS matte shorter than eight tangent chords' reach (and no
    speck of a pixel or two: MIN_LOOP_PX)."""
    mask = MaskSequence(DATA / sequence / "Annotations" / "#####.png", frame, frame, default_object="matte")
    regions = find_regions(mask.read(frame)["matte"] > 0.5, 1)
    loops = [o for r in regions for o in (r.outer, *r.holes)]
    return [o for o in loops if MIN_LOOP_PX <= o.length < 8.0 * TANGENT_PX]


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_on_a_small_real_loop_every_tangent_follows_its_own_edge() -> None:
    """The holes of car-roundabout's real matte (frame 0: 5.6-30 px round): a tangent chord 16 px either side
    reached past the far side of such a loop and came back reversed, and the segment fits bent their handles
    round the wrong way (a 30 px hole in the segmenter's drift-chicane drawn with a spike 8 px out into the car).
    Each smooth point's and each run end's tangent agrees with the edge beside it; each corner's tip lies within
    2 px of the edge, where its tangents cross (before: up to 4.8 px off on the 30 px hole)."""
    loops = _small_loops("car-roundabout", 0)
    assert len(loops) >= 3 and min(o.length for o in loops) < 8.0
    for outline in loops:
        track = OutlineTrack({0: outline, 1: outline}, 0, (480, 854))
        u = np.arange(track.count, dtype=np.float64)
        s = track.arc_all(u)[0]
        near = track.at_all(np.concatenate((s - 1.0, s + 1.0))[None], np.array([0]))[0]
        along = _unit(near[track.count :] - near[: track.count])
        for role in (SMOOTH, START, END):
            ends = point_ends(track, [(float(x), role) for x in u])
            # A run end reads 4 px on one side only: on a loop of 5 px radius that chord turns by some 45 degrees.
            least = 0.9 if role == SMOOTH else 0.2
            for k, (_, t_in, t_out) in enumerate(ends):
                assert t_in[0] @ along[k] > least and t_out[0] @ along[k] > least
        ends = point_ends(track, [(float(x), CORNER) for x in u])
        for tip, t_in, t_out in ends:
            assert np.linalg.norm(outline.points - tip[0], axis=1).min() < 2.0
            assert np.isfinite(t_in).all() and np.isfinite(t_out).all()
