"""Where a piece that needs more points than it may have is cut: its narrowest neck that stays inside the matte on
every frame of the track (a swan's neck, a rider's leg), the way a roto artist draws a limb as its own shape. The
two pieces share the chord and are fitted again (piece_fitter.py).

A chord that leaves the matte on some frame closes the gap it crosses there: the piece on the other side turns
over (upright.py drops it on those frames) and the piece across fills the gap as a wedge, which the area guard
then blames on frames where the range can no longer be cut. Checked on 12 sampled frames with the reference frame
alone as the fallback, such necks made half of DAVIS camel's CPU go to ranges traced and thrown away (the front
legs' gap closed by a chord inside the matte on the reference frame only); on every frame, camel's IoU p10 rose
0.945 -> 0.968, and 9 of the 12 dev sequences have fewer shapes (bench/RESULTS.md, eleventh pass). A chord may
still have one of its samples outside on some frame, but only where no chord wholly inside is found: a chord that
dips into the gap between two legs leaves their edge poking past it, a shape crossing itself (goat: 6.9 -> 3.2 % of
the shape-frames, matte edge within 2 px 0.903 -> 0.915; bench/RESULTS.md, fourteenth pass).

Nine samples do not see everything a long chord passes: across DAVIS scooter-black's body a 123 px chord's samples
lie 12 px apart, and the notch a few pixels wide between the wheel and the body lay between two of them, so the
piece drew a bow tie over the notch (frames 21-42 of the whole sequence). Of the chords inside the matte, the
narrowest that crosses neither the outline (away from its own ends) nor the piece's other chords on any frame is
taken; the narrowest as before only where every one crosses. DAVIS ground truth, each component cut as far as its
necks go (tests/shapes/test_necks.py): scooter-black frames 30-42, 6 of 48 necks crossed (1 of 56 after, where none
is clear); dog frames 0-15, 7 of 13 (4 of 16 after). Whole sequences, shape-frames crossing themselves:
horsejump-high 4.4 -> 2.6 %, scooter-black 3.8 -> 2.5 %, dog 1.4 -> 0.7 %, the segmenter's drift-straight 2.8 -> 1.1
% (13 of the 24 rows lower, 4 higher); IoU p10 higher on 11 rows, lower on 5; boil on rigid parts as before in sum,
but parkour's ground truth 0.40 -> 0.51, from one piece whose points scramble where the arm meets the body
(bench/RESULTS.md, thirty-sixth pass).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from roto_core.shapes.crossing_kernel import chord_crosses_outline
from roto_core.shapes.neck_kernel import chord_pixels, fewest_inside, pair_ratios, scan_tables
from roto_core.shapes.outline_track import OutlineTrack
from roto_core.shapes.piece_fitter import Piece
from roto_core.shapes.untangle import segments_cross

MIN_PART = 0.12
CHORD_CANDIDATES = 60
CHORD_SAMPLES = np.linspace(0.1, 0.9, 9)
MAX_CANDIDATE_MARKERS = 160
# A piece cut again must keep this many points free beyond its run ends and one point per run.
MIN_FREE_POINTS = 6
# A chord meets the outline at its own ends: crossings of the outline within this many pixels of them (along the
# outline) are where it leaves the edge, not where it passes through it.
END_PX = 2.0


class NeckFinder:
    """Cuts pieces of one track; keeps every frame's matte (its outline's crossings per pixel row)."""

    def __init__(self, track: OutlineTrack, max_points: int, size: tuple[int, int]) -> None:
        self.track = track
        self.max_points = max_points
        self.size = size

    @cached_property
    def _mattes(self) -> tuple:
        """Every frame's matte, the pixels its outline fills as the exporters' rasteriser fills them
        (neck_kernel.scan_tables)."""
        track = self.track
        return scan_tables(track.all_points, np.append(track.first_sample, len(track.all_points)))

    def _inside(self, chords: np.ndarray) -> np.ndarray:
        """Per chord ``(ua, ub)`` of ``chords (C, 2)``: how many of its samples are inside the matte on the worst
        frame of the track, all chords and frames looked up at once."""
        if len(chords) == 0:
            return np.zeros(0, np.int64)
        h, w = self.size
        ends = self.track.at_all(self.track.arc_all(chords.reshape(-1))).reshape(len(self.track.frames), -1, 2, 2)
        x, y = chord_pixels(ends, CHORD_SAMPLES, w, h)
        return fewest_inside(x, y, self._mattes)

    def split(self, piece: Piece) -> tuple[Piece, Piece] | None:
        """Cut ``piece`` along its narrowest neck that stays inside the matte on every frame; None if there is
        none (the piece keeps more outline than its points may follow, or its frame range is cut). A neck whose
        every sample is inside comes first; one with a sample outside on some frame (the gap between two legs
        reaching up to it) only where there is no such neck; and of them, the first that crosses nothing
        (``_crosses``) where there is one."""
        if 3 * (len(piece.runs) + 1) > self.max_points - MIN_FREE_POINTS:
            return None
        track = self.track
        ref = track.ref
        chords = 0.0
        if not piece.closed:
            starts = track.points(ref, np.array([a for a, _ in piece.runs]))
            ends = track.points(ref, np.array([b for _, b in piece.runs]))
            chords = float(np.linalg.norm(ends - np.roll(starts, -1, axis=0), axis=1).sum())
        arcs = [float(np.diff(track.arc(ref, np.array(r)))[0]) for r in piece.runs]
        perimeter = sum(arcs) + chords
        best: list[tuple[float, float, float, int]] = []
        rows = np.arange(len(track.frames))
        for r, (start, end) in enumerate(piece.runs):
            cand = np.arange(np.ceil(start + 1.0), np.floor(end - 1.0) + 1.0)
            if len(cand) > MAX_CANDIDATE_MARKERS:
                cand = cand[:: int(np.ceil(len(cand) / MAX_CANDIDATE_MARKERS))]
            if len(cand) < 2:
                continue
            ref_along = track.arc(ref, cand)
            ref_along = ref_along[None, :] - ref_along[:, None]
            pairs = np.nonzero(np.minimum(ref_along, perimeter - ref_along) >= MIN_PART * perimeter)
            # numpy gives the two index arrays as strided views; contiguous ones keep pair_ratios to one compiled type.
            first, second = (np.ascontiguousarray(x) for x in pairs)
            ratio, i, j = _narrowest(track, cand, rows, perimeter, first, second)
            best.extend((float(q), float(cand[a]), float(cand[b]), r) for q, a, b in zip(ratio, i, j, strict=True))
        candidates = sorted(best)[:CHORD_CANDIDATES]
        chords_u = np.array([(c[1], c[2]) for c in candidates]).reshape(-1, 2)
        counts = self._inside(chords_u)
        full = len(CHORD_SAMPLES)
        inside = [c for c, n in zip(candidates, counts, strict=True) if n == full]
        inside += [c for c, n in zip(candidates, counts, strict=True) if n == full - 1]
        clear = next((c for c in inside if not self._crosses(piece, c[1], c[2])), None)
        if clear is not None:
            inside = [clear]
        for _, ua, ub, r in inside:
            start, end = piece.runs[r]
            if piece.closed:
                return Piece([(ua, ub)], False), Piece([(ub, ua + track.count)], False)
            rest = [*piece.runs[:r], (start, ua), (ub, end), *piece.runs[r + 1 :]]
            return Piece([(ua, ub)], False), Piece(rest, False)
        return None

    @cached_property
    def _outline_segments(self) -> tuple[np.ndarray, ...]:
        """Every frame's outline as segments, all frames in one array: each segment's frame (row of the track), its
        ends and where it starts along its frame's outline."""
        track = self.track
        row = np.repeat(np.arange(len(track.frames)), track.last_sample - track.first_sample + 1)
        start, end = track.all_points, track.all_points + track.all_step
        return row, start, end, track.all_cum - track.base[row]

    def _crosses(self, piece: Piece, ua: float, ub: float) -> bool:
        """Whether the chord from ``ua`` to ``ub`` crosses the outline away from its own ends, or one of
        ``piece``'s chords, on some frame of the track: either way one of the two pieces it makes crosses itself
        there (a sliver of edge poking past the chord where it passes a gap between its samples inside the matte,
        a bow tie where two chords cross)."""
        track = self.track
        row, start, end, along = self._outline_segments
        s = track.arc_all(np.array([ua, ub]))
        ends = track.at_all(s)
        a, b = np.ascontiguousarray(ends[:, 0]), np.ascontiguousarray(ends[:, 1])
        if chord_crosses_outline(a, b, s, row, start, end, along, track.lengths, track.all_seglen, END_PX):
            return True
        if piece.closed:
            return False
        chords = np.array([(e, piece.runs[(k + 1) % len(piece.runs)][0]) for k, (_, e) in enumerate(piece.runs)])
        others = track.at_all(track.arc_all(chords.reshape(-1))).reshape(len(track.frames), -1, 2, 2)
        return bool(segments_cross(a[:, None], b[:, None], others[:, :, 0], others[:, :, 1]).any())


def _narrowest(
    track: OutlineTrack, cand: np.ndarray, rows: np.ndarray, perimeter: float, first: np.ndarray, second: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Of the marker pairs ``(cand[first], cand[second])``, the CHORD_CANDIDATES narrowest over the frames
    ``rows`` (chord over the shorter way round, the worst frame counting): their ratios and indices into
    ``cand``, narrowest first.

    The last row alone bounds each pair's ratio from below, so the pairs are measured on every frame in the order
    of that bound until the rest cannot make the cut (a fraction of all pairs x frames)."""
    if len(first) == 0:
        return np.zeros(0), first, second
    s = track.arc_all(cand, rows)
    p = track.at_all(s, rows)
    around = perimeter * (track.lengths[rows] / track.loops[track.ref].length)[:, None]

    lower = pair_ratios(s, p, around, len(rows) - 1, first, second)
    order = np.argsort(lower, kind="stable")
    take = min(2 * CHORD_CANDIDATES, len(order))
    while True:
        exact = pair_ratios(s, p, around, 0, first[order[:take]], second[order[:take]])
        if take == len(order):
            break
        cutoff = np.partition(exact, CHORD_CANDIDATES - 1)[CHORD_CANDIDATES - 1]
        if lower[order[take]] >= cutoff:
            break
        take = min(max(2 * take, int(np.count_nonzero(lower < cutoff))), len(order))
    pick = np.argsort(exact, kind="stable")[:CHORD_CANDIDATES]
    pick = pick[np.isfinite(exact[pick])]
    return exact[pick], first[order[pick]], second[order[pick]]
