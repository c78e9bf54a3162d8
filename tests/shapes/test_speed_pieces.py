"""The point selection's batching changes no decision: ``build_pieces`` (all waiting pieces selected side by
side, a level of splits fitted ahead, a generation of cuts worked out ahead) gives the same pieces, points and
verdicts (holds or not) as the plain rule written out here — one piece at a time, one point at a time, worst
segment first.

The outline is a star whose arms bend differently on every frame, traced from its masks, with a point budget
small enough that pieces fail and are cut several times, and piece limits that stop the cutting (the paths
where the batching could go wrong).
"""

from __future__ import annotations

import numpy as np
import pytest

from roto_core.shapes.contours import find_regions
from roto_core.shapes.model import fill_polygon
from roto_core.shapes.necks import NeckFinder
from roto_core.shapes.outline_track import OutlineTrack
from roto_core.shapes.piece_fitter import Failure, Piece, PieceFitter
from roto_core.shapes.pieces import build_pieces
from roto_core.shapes.synthetic import transform

SIZE = (240, 320)
FRAMES = range(12)
TOLERANCE = 1.05


def _outline(frame: int) -> np.ndarray:
    """A seven-armed star whose arm lengths and widths wobble from frame to frame (not a rigid motion)."""
    t = np.linspace(0.0, 2.0 * np.pi, 1400, endpoint=False)
    arms = 55.0 + 30.0 * np.cos(7 * t) ** 3 + 6.0 * np.sin(3 * t + 0.4 * frame)
    r = arms * (1.0 + 0.04 * np.sin(t + 0.3 * frame))
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


def _track() -> OutlineTrack:
    outlines = {}
    for f in FRAMES:
        mask = np.zeros(SIZE, bool)
        fill_polygon(mask, transform(_outline(f), (160.0 + 2.0 * f, 120.0 - f, 0.02 * f, 1.0)), True)
        outlines[f] = max(find_regions(mask, 20), key=lambda r: r.area).outer
    return OutlineTrack(outlines, 0, SIZE)


def _one_at_a_time(
    track: OutlineTrack, max_points: int, max_pieces: int, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[Piece, bool]]:
    """build_pieces' rule without its batching: no fits ahead, each piece selected alone when its turn comes."""
    with monkeypatch.context() as patch:
        patch.setattr(PieceFitter, "_prefetch", lambda self, piece, stage: iter(()))
        fitter = PieceFitter(track, TOLERANCE, max_points)
        necks = NeckFinder(track, max_points, SIZE)
        pending = [Piece([(0.0, float(track.count))], True)]
        done: list[tuple[Piece, bool]] = []
        while pending:
            piece = pending.pop()
            failed: Failure = fitter.select_all([piece], exact=True)[0]
            if failed is None:
                done.append((piece, True))
                continue
            halves = None
            if len(done) + len(pending) + 2 <= max_pieces:
                halves = necks.split(Piece(list(piece.runs), piece.closed))
            if halves is None:
                done.append((piece, False))
            else:
                pending.extend(halves)
    return done


def _described(pieces: list[tuple[Piece, bool]]) -> list[tuple]:
    out = []
    for p, holds in pieces:
        us, roles = p.layout()
        out.append((p.closed, tuple(p.runs), tuple(np.round(us, 9)), tuple(roles), holds))
    return out


@pytest.mark.parametrize(("max_points", "max_pieces"), [(24, 16), (24, 4), (14, 16), (16, 6)])
def test_batched_selection_takes_the_same_decisions(
    max_points: int, max_pieces: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    track = _track()
    built = build_pieces(track, TOLERANCE, max_points, max_pieces, SIZE)
    assert {origin for _, _, origin in built} == {0}
    pieces = [(p, holds) for p, holds, _ in built]
    assert _described(pieces) == _described(_one_at_a_time(track, max_points, max_pieces, monkeypatch))
    assert all(p.point_count <= max_points for p, _ in pieces)
    # Pieces fail and are cut (the paths where pieces are selected side by side are exercised).
    assert len(pieces) > 1
