"""keys.EdgeCheck's edge samples, compiled (edge_sample_kernel.py), are the numpy code they replaced to the bit: on
every edge check the tracer builds on a real DAVIS matte whose object runs off the picture (paragliding-launch: its
canopy is cut by the top of the frame on every frame), and on pieces anywhere round a real outline (negative
parameters, laps on, closed, runs of a sample or two, a piece wholly outside the picture)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes import trace
from roto_core.shapes.contours import find_regions
from roto_core.shapes.keys import BORDER_PX, EDGE_STEP_PX, RUN_END_MIN_SAMPLES, EdgeCheck
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.outline_track import OutlineTrack
from roto_core.shapes.piece_fitter import Piece
from roto_core.shapes.trace import trace_shapes

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"


def _plain_edges(track: OutlineTrack, piece: Piece, size: tuple[int, int]) -> list[tuple]:
    """Per frame, EdgeCheck's (kept indices, kept points, polyline samples, linked) as numpy built them."""
    h, w = size
    low, high = np.array([BORDER_PX, BORDER_PX]), np.array([w - BORDER_PX, h - BORDER_PX])
    out = []
    for f in track.frames:
        loop = track.loops[f]
        parts = []
        for start, end in piece.runs:
            sa, sb = (float(x) for x in track.arc(f, np.array([start, end])))
            parts.append(loop.samples(sa, sb, EDGE_STEP_PX))
        edge = np.concatenate(parts)
        linked = np.ones(len(edge), bool)
        linked[np.cumsum([len(p) for p in parts]) - 1] = piece.closed
        inside = np.all((edge > low) & (edge < high), axis=1)
        if not piece.closed:
            ends = np.zeros(len(edge), bool)
            start = 0
            for part in parts:
                if len(part) > RUN_END_MIN_SAMPLES:
                    ends[[start, start + len(part) - 1]] = True
                start += len(part)
            inside = inside & ~ends
        kept = np.flatnonzero(inside) if inside.sum() >= 2 else np.arange(len(edge))
        out.append((kept, edge[kept], edge, linked))
    return out


def _assert_same(check: EdgeCheck, track: OutlineTrack, pieces: list[Piece], size: tuple[int, int]) -> None:
    for number, piece in enumerate(pieces):
        want = _plain_edges(track, piece, size)
        assert len(check.edges[number]) == len(want)
        for (kept, kept_points, polyline), (plain_kept, plain_points, edge, linked) in zip(
            check.edges[number], want, strict=True
        ):
            np.testing.assert_array_equal(kept, plain_kept)
            np.testing.assert_array_equal(kept_points, plain_points)
            np.testing.assert_array_equal(polyline.line, edge)
            np.testing.assert_array_equal(polyline.linked, linked)


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_every_edge_check_on_a_real_matte_cut_by_the_frame_is_numpys(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[tuple[OutlineTrack, list[Piece], tuple[int, int]]] = []

    class Checked(EdgeCheck):
        def __init__(self, track, pieces, size, mean_fraction=None):
            super().__init__(track, pieces, size, mean_fraction)
            _assert_same(self, track, list(pieces), size)
            built.append((track, list(pieces), size))

    monkeypatch.setattr(trace, "EdgeCheck", Checked)
    masks = MaskSequence(DATA / "paragliding-launch" / "Annotations" / "#####.png", 0, 11, default_object="matte")
    trace_shapes(masks, ShapeSettings(), name="paragliding-launch")
    assert len(built) >= 3 and sum(len(pieces) * len(track.frames) for track, pieces, _ in built) > 100
    assert any(not p.closed for _, pieces, _ in built for p in pieces)
    # Some check left samples out: the picture's border or a run's ends.
    assert any(
        len(kept) < len(polyline.line)
        for track, pieces, size in built
        for per_frame in EdgeCheck(track, pieces, size).edges
        for kept, _, polyline in per_frame
    )


def test_pieces_anywhere_round_a_real_outline_are_numpys() -> None:
    """Runs at negative parameters and a loop on, a closed piece, runs a sample or two long, a piece whose runs lie
    along the picture's border (all samples outside: every sample kept) and one half outside."""
    mask = np.zeros((120, 160), bool)
    mask[:70, 30:130] = True  # cut by the top of the picture
    mask[60:110, 50:90] = True
    moved = np.roll(mask, 3, axis=1)
    outlines = {0: find_regions(mask, 64)[0].outer, 1: find_regions(moved, 64)[0].outer}
    track = OutlineTrack(outlines, 0, (120, 160))
    m = float(track.count)
    pieces = [
        Piece([(0.0, m)], True, [[(k * m / 4, "smooth") for k in range(4)]]),
        Piece([(-0.3 * m, 0.2 * m)], False),
        Piece([(1.1 * m, 1.4 * m), (2.5 * m, 2.6 * m)], False),
        Piece([(5.0, 5.2), (9.0, 9.01)], False),
        Piece([(0.5 * m, 0.9 * m), (-0.05 * m, 0.05 * m)], False),
    ]
    check = EdgeCheck(track, pieces, (120, 160))
    _assert_same(check, track, pieces, (120, 160))
    lens = {len(polyline.line) for per_frame in check.edges for _, _, polyline in per_frame}
    assert min(lens) <= RUN_END_MIN_SAMPLES + 2
    # Short pieces all round: some lie along the top border, fewer than two samples inside, and keep them all.
    # Some have one sample inside: it is not kept alone either.
    outside_kept = one_inside = 0
    rng = np.random.default_rng(7)
    # Random starts and lengths, then two or three samples at every place round the outline.
    starts = np.concatenate((rng.uniform(0.0, m, 150), np.linspace(0.0, m, 300, endpoint=False)))
    lengths = np.concatenate((rng.uniform(0.003, 0.03, 150) * m, np.full(300, 0.4)))
    for start, length in zip(starts, lengths, strict=True):
        piece = Piece([(float(start), float(start + length))], False)
        short = EdgeCheck(track, [piece], (120, 160))
        _assert_same(short, track, [piece], (120, 160))
        for kept, _, polyline in short.edges[0]:
            line = polyline.line
            inside = int(((line > BORDER_PX) & (line < np.array([160, 120]) - BORDER_PX)).all(axis=1).sum())
            outside_kept += len(kept) == len(line) and inside < len(line)
            one_inside += inside == 1 and len(line) <= RUN_END_MIN_SAMPLES
    assert outside_kept > 0 and one_inside > 0
