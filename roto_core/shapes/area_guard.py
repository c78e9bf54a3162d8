"""The area a track's shapes fill, checked against the component on every frame.

The fit holds each piece's outline to the matte's edge, which does not see a piece whose outline runs along
edges but encloses the wrong side of them: the gap between two legs, between two lines, filled as a wedge whose
sides all lie on edges. A frame range short enough that it may no longer be cut for an edge failure
(``lifetimes.MIN_SHAPE_FRAMES``) still ends up with such wedges where the legs close and open within a few frames
(DAVIS camel, frames 63-69 and 83-84: IoU 0.86 on a body whose other frames score 0.97). Filled and compared
with the component's own outline, those frames show; the caller cuts the range there, down to a few frames.

A frame fails when the pixels wrongly filled or left out, spread along the outline, make a band wider than the
edge tolerance: the same measure for a body and for a hoof, where an IoU threshold would cut small parts for a
few pixels and let a wedge on a large body through. ``PieceGuard`` names the pieces to blame, so only their
lifetimes are cut and the pieces around them keep theirs.

Spread along a whole outline, one part left out makes a thin band: a leg's pixels over the length of the whole
horse's outline. Where motion is fast the ranges are cut down to GUARD_MIN_FRAMES, and such a frame kept
its hole (DAVIS horsejump-high at every third frame: forelegs with no shape on 8 of 17 frames, IoU median 0.929).
So a frame's band is also the depth of its deepest blob of wrong pixels (half its width) where that is more than
LOST_DEPTH tolerances: a part left out or drawn where there is none, not an edge a little off. It counts as a frame
whose shapes lost the object does (SEVERE): the pieces to blame, or the range, are cut down to that frame. After:
2 such frames of 17, IoU median 0.951 (tests/shapes/test_area_guard.py). DAVIS dev set, whole sequences: IoU p10
higher on 12 of the 24 rows and lower on one, matte edge within 2 px higher on 14 and lower on 2, parkour's boil
on rigid parts 0.51 -> 0.47, for 2-30 % more shapes on 16 rows; the segmenter's scooter-black crosses itself on
7.0 % of its shape-frames (2.5 % before) (bench/RESULTS.md, thirty-seventh pass).

A crack between pieces is neither: pieces fitted again over part of a range are tracked afresh, their chords' ends
drift from their neighbours', and a band of the object a few pixels wide runs through it undrawn (DAVIS
paragliding-launch's ground truth, frames 35-39: 520-806 px through the pilot's body). Spread along the outline it
is a thin band and half its width is under LOST_DEPTH tolerances, yet an artist sees a hole in the matte. So a frame
also fails (a band of CRACK_BAND tolerances: the pieces charged with it are cut, not down to single frames) where a
blob of more than CRACK_AREA tolerances squared is left undrawn further than CRACK_INSIDE tolerances inside the
component, where no edge a little off reaches (the fit lets an edge stray up to two tolerances). DAVIS dev set, whole
sequences: undrawn pixels more than 3 px inside the matte on paragliding-launch 0.40 -> 0.05 % of the union, its IoU
median 0.897 -> 0.906; IoU p10 higher on 10 of 24 rows and lower on none (the segmenter's goat 0.960 -> 0.970),
edge within 2 px higher on 9 and lower on 3 (camel's ground truth 0.973 -> 0.980), for 4-7 % more shapes, boil on
rigid parts higher on 5 rows (parkour's ground truth 0.42 -> 0.47) and lower on 4, and camel's ground truth 6.4 -> 10.7
CPU s per 100 frames (bench/RESULTS.md, forty-second pass).

Such a blob is a few hundred pixels, far under the share of the whole outline's band that names a piece to blame
(BLAME_SHARE, LEAST_SHARE), so no piece was blamed and every crack cut its whole range, all of it traced again: 18 of
the 35 whole-range cuts on the DAVIS dev set's ground truth. Where the band names no piece, the crack's own pixels
are charged, each to the piece whose outline passes nearest, and the pieces charged CRACK_SHARE of them are to
blame. Most such blobs are a piece whose outline cuts inside its edge (a leg's piece across a notch), more than
pieces whose chords drifted apart. DAVIS dev set, whole sequences: shapes fewer on 7 of 24 rows and more on 3
(camel's ground truth 146 -> 137, its CPU 10.7 -> 9.6 s per 100 frames; drift-straight's 67 -> 58; the segmenter's
parkour 121 -> 129), IoU and edge within 0.003 (bench/RESULTS.md, forty-third pass).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from scipy.spatial import cKDTree

from roto_core.shapes.contours import Outline
from roto_core.shapes.model import Shape, sample_outline

# The parts left on either side of a cut have at least this many frames.
GUARD_MIN_FRAMES = 3
# A band this many tolerances wide means the shapes lost the object on that frame: cut down to single frames.
SEVERE = 3.0
# A blob of wrong pixels more than this many tolerances deep (half its width) is a part the shapes lost. At 3
# (SEVERE) the same dev rows gained as much, for more shapes: DAVIS paragliding-launch at double size, first 10
# frames, 85 -> 176 shapes (123 at 4); horsejump-high at every third frame, 61 -> 92 (79 at 4).
LOST_DEPTH = 4.0
# A blob undrawn deeper than CRACK_INSIDE tolerances inside the component and larger than CRACK_AREA tolerances
# squared is a crack between pieces (about 100 px at a clean matte's 1.5 px); the frame then reads CRACK_BAND
# tolerances, failing but not SEVERE.
CRACK_INSIDE = 2.0
CRACK_AREA = 44.0
CRACK_BAND = 1.5
# Polygon vertices to 1/16 px for OpenCV's filler.
_SHIFT = 4


def frame_bands(
    shapes: list[Shape],
    outlines: dict[int, Outline],
    tolerance: float | None = None,
    cracks: dict[int, np.ndarray] | None = None,
) -> dict[int, float]:
    """Per frame, the pixels where the union of ``shapes`` and the area inside that frame's outline differ,
    divided by the outline's length: the mean width of the error band along the edge, in pixels. With
    ``tolerance``, the depth of the deepest blob of those pixels instead where that is larger and more than
    LOST_DEPTH tolerances (a part lost, see the module).

    Both are filled by OpenCV, which is several times faster than the exporters' exact rasteriser
    (model.fill_polygon) and grows every polygon by about half a pixel: the outline and the shapes alike, so
    the difference between them keeps its size."""
    bands: dict[int, float] = {}
    for frame, outline in outlines.items():
        polys = [sample_outline(s.at(frame)) for s in shapes if s.alive(frame)]
        low, size = _box([outline.points, *polys])
        inside = _filled(size, outline.points - low)
        drawn = np.zeros(size, np.uint8)
        for poly in polys:
            _fill(drawn, poly - low)
        wrong = inside ^ drawn
        bands[frame] = float(cv2.countNonZero(wrong)) / max(outline.length, 1.0)
        if tolerance is not None and bands[frame] > 0.0:
            if (depth := _depth_over(wrong, LOST_DEPTH * tolerance)) is not None:
                bands[frame] = max(bands[frame], depth)
            elif (crack := _crack(inside, drawn, tolerance)) is not None:
                bands[frame] = max(bands[frame], CRACK_BAND * tolerance)
                if cracks is not None:
                    cracks[frame] = crack + low + 0.5
    return bands


def _depth_over(wrong: np.ndarray, limit: float) -> float | None:
    """The depth of the deepest pixel of ``wrong`` (its largest distance to an unset pixel, as OpenCV's 3x3 L2
    distance transform takes it) where that is more than ``limit``; None where it is not.

    The guard asks on every frame of every range, and the wrong pixels are mostly a band a pixel or two wide, so
    an erosion by a square, several times cheaper than the transform, answers first: the transform steps a pixel
    across for 0.955 and diagonally for 1.3693 (OpenCV's documentation of distanceTransform, DIST_L2 with
    DIST_MASK_3), so an unset pixel within ``m`` rows and columns is at most ``m`` diagonal steps, ``m * 1.3693 <=
    m * sqrt(2)``, away. A pixel deeper than ``limit`` then keeps every pixel within ``limit / sqrt(2)`` rows and
    columns set and survives the erosion; where none survives, the transform could only find ``limit`` or less."""
    reach = int(limit / math.sqrt(2.0))
    if reach > 0:
        square = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * reach + 1, 2 * reach + 1))
        if not cv2.countNonZero(cv2.erode(wrong, square)):
            return None
    depth = float(cv2.distanceTransform(wrong, cv2.DIST_L2, 3).max())
    return depth if depth > limit else None


def _crack(inside: np.ndarray, drawn: np.ndarray, tolerance: float) -> np.ndarray | None:
    """The pixels (x, y; None when there are none) of each blob of more than CRACK_AREA tolerances squared that the
    shapes leave undrawn further than CRACK_INSIDE tolerances inside the component: no edge a little off, a crack
    between pieces or a piece cutting inside its edge. The guard asks on every frame of every range, so the cheap
    tests come first: too few pixels undrawn, then too few of them two pixels inside (an erosion by a disk of 2 px
    keeps every pixel further than 2.33 px from the outside, as the distance transform below measures it), and
    only then the distances and the blobs."""
    area = CRACK_AREA * tolerance**2
    missed = inside & (drawn == 0)
    if cv2.countNonZero(missed) <= area:
        return None
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    if cv2.countNonZero(cv2.erode(inside, disk, borderType=cv2.BORDER_CONSTANT, borderValue=0) & missed) <= area:
        return None
    # Padded: the component may touch the image's last row or column, beyond which OpenCV sees no edge.
    padded = cv2.copyMakeBorder(inside, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    interior = cv2.distanceTransform(padded, cv2.DIST_L2, 3)[1:-1, 1:-1] > CRACK_INSIDE * tolerance
    deep = (interior & (missed > 0)).astype(np.uint8)
    if cv2.countNonZero(deep) <= area:
        return None
    _, labels, stats, _ = cv2.connectedComponentsWithStats(deep)
    # Label 0 is the background.
    large = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] > area) + 1
    if not len(large):
        return None
    return np.argwhere(np.isin(labels, large))[:, ::-1]


def _box(polys: list[np.ndarray]) -> tuple[np.ndarray, tuple[int, int]]:
    """The corner and size (rows, columns) of an image holding ``polys`` with a pixel to spare."""
    # Column by column: numpy reduces an (N, 2) array along its first axis ten times slower.
    every = np.concatenate(polys)
    x, y = every[:, 0], every[:, 1]
    low = np.floor([x.min(), y.min()]).astype(int) - 1
    high = np.ceil([x.max(), y.max()]).astype(int) + 1
    return low, (int(high[1] - low[1]), int(high[0] - low[0]))


def _filled(size: tuple[int, int], poly: np.ndarray) -> np.ndarray:
    """0/1 image of ``size`` with ``poly`` (pixel centres at +0.5, as everywhere in the shapes) filled."""
    out = np.zeros(size, np.uint8)
    _fill(out, poly)
    return out


def _fill(out: np.ndarray, poly: np.ndarray) -> None:
    """``poly`` filled with 1 into the 0/1 image ``out``, over what it holds: several polygons filled into one
    image are their union, without an image and an OR per polygon."""
    vertices = np.round((poly - 0.5) * (1 << _SHIFT)).astype(np.int32)
    cv2.fillPoly(out, [vertices], 1, cv2.LINE_8, _SHIFT)


def cut_at(bands: dict[int, float], tolerance: float) -> int | None:
    """Index into the sorted frames of ``bands`` (each frame's error band, ``frame_bands``) where the range
    should be cut, or None when every band is within ``tolerance`` or the range is too short to cut: at the start
    of the first run of failing frames, else just after that run, at least GUARD_MIN_FRAMES from either end — or
    a single frame where some frame's band is SEVERE times the tolerance (shapes that lost the object: a
    one-frame shape that holds beats that)."""
    frames = sorted(bands)
    if len(frames) < 2:
        return None
    failing = [i for i, f in enumerate(frames) if bands[f] > tolerance]
    if not failing:
        return None
    least = 1 if max(bands.values()) > SEVERE * tolerance else GUARD_MIN_FRAMES
    if len(frames) < 2 * least:
        return None
    cut = failing[0]
    if cut < least:
        while cut < len(frames) and bands[frames[cut]] > tolerance:
            cut += 1
    return min(max(cut, least), len(frames) - least)


# A piece is to blame for a failing frame when the wrong pixels charged to it alone make a band this share of
# the tolerance.
BLAME_SHARE = 0.5
# Where the error is spread, the piece charged most is to blame if its share is at least this.
LEAST_SHARE = 0.2
# A crack that no piece is to blame for by the band is blamed on each piece charged this share of its pixels.
CRACK_SHARE = 0.25


class PieceGuard:
    """The guard for a range whose pieces live over different frames (trace._placed): instead of cutting the
    whole range, it names the pieces to blame for each failing frame, and each is cut (fitted again over the
    two parts of its frames) while the pieces around it keep theirs. Bands are kept per frame and measured
    again only on the frames whose shapes changed."""

    def __init__(self, outlines: dict[int, Outline], tolerance: float) -> None:
        self.outlines = outlines
        self.tolerance = tolerance
        self.bands: dict[int, float] = {}
        self.cracks: dict[int, np.ndarray] = {}
        # Set by ``cuts``: some failing frame has no piece to blame that may be cut.
        self.stuck = False

    def cuts(self, pieces: list[list[Shape]], changed: set[int] | None = None) -> list[tuple[int, int]]:
        """``(piece index, first frame of its second part)`` for each piece to blame (``pieces``: each piece's
        shapes), none when every frame holds; ``changed``: the frames whose shapes changed since the last call.

        On each failing frame every wrong pixel is charged to a piece: one it fills outside the component to the
        piece that fills it (a wedge across a gap), one left out to the piece whose outline passes nearest. A
        piece charged a band of BLAME_SHARE of the tolerance on a frame is to blame there (where none is, the
        piece charged most, from LEAST_SHARE; where none is on a frame failing by a crack, the pieces charged
        CRACK_SHARE of the crack's own pixels); it is cut at the first of its frames it is to blame for, or just
        after them when they open its range, keeping GUARD_MIN_FRAMES (one frame where a band is SEVERE) on
        either side. Where a failing frame has no piece to blame, or one too short to cut, ``stuck`` is set and
        nothing is returned: the caller cuts the whole range instead (``cut_at``), keeping the shapes on a part
        of it they fill well (``bands``)."""
        shapes = [s for group in pieces for s in group]
        again = self.outlines if changed is None else {f: self.outlines[f] for f in changed if f in self.outlines}
        for frame in again:
            self.cracks.pop(frame, None)
        self.bands.update(frame_bands(shapes, again, self.tolerance, self.cracks))
        blamed: dict[int, list[int]] = {}
        self.stuck = False
        for frame in sorted(f for f, band in self.bands.items() if band > self.tolerance):
            outline = self.outlines[frame]
            charge = _charges(pieces, outline, frame)
            band = self.tolerance * max(outline.length, 1.0)
            to_blame = np.flatnonzero(charge >= BLAME_SHARE * band)
            if len(to_blame) == 0 and charge.max() >= LEAST_SHARE * band:
                to_blame = np.array([int(np.argmax(charge))])
            if len(to_blame) == 0 and frame in self.cracks:
                crack = _crack_charges(pieces, self.cracks[frame], frame)
                to_blame = np.flatnonzero(crack >= CRACK_SHARE * crack.sum())
            self.stuck |= len(to_blame) == 0
            for index in to_blame:
                blamed.setdefault(int(index), []).append(frame)
        out = []
        for index, frames in blamed.items():
            alive = sorted({f for s in pieces[index] for f in range(s.first_frame, s.last_frame + 1)})
            least = 1 if max(self.bands[f] for f in frames) > SEVERE * self.tolerance else GUARD_MIN_FRAMES
            if len(alive) < 2 * least:
                self.stuck = True
                continue
            cut = alive.index(frames[0])
            if cut < least:
                while cut < len(alive) and alive[cut] in frames:
                    cut += 1
            out.append((index, alive[min(max(cut, least), len(alive) - least)]))
        return [] if self.stuck else out


def _charges(pieces: list[list[Shape]], outline: Outline, frame: int) -> np.ndarray:
    """Wrong pixels of ``frame`` charged to each piece (see ``PieceGuard.cuts``)."""
    polys = [[sample_outline(s.at(frame)) for s in shapes if s.alive(frame)] for shapes in pieces]
    low, size = _box([outline.points, *(p for ps in polys for p in ps)])
    inside = _filled(size, outline.points - low).view(bool)
    drawn = np.zeros(size, bool)
    out = np.zeros(len(pieces))
    for i, ps in enumerate(polys):
        mine = np.zeros(size, np.uint8)
        for poly in ps:
            _fill(mine, poly - low)
        out[i] += np.count_nonzero(mine.view(bool) & ~inside)
        drawn |= mine.view(bool)
    missing = np.argwhere(inside & ~drawn)[:, ::-1] + 0.5
    owners = _owners(polys)
    if len(missing) and len(owners):
        edge = np.concatenate([p for ps in polys for p in ps]) - low
        _, nearest = cKDTree(edge).query(missing)
        out += np.bincount(owners[nearest], minlength=len(pieces))
    return out


def _owners(polys: list[list[np.ndarray]]) -> np.ndarray:
    """Per sample of every piece's outlines laid end to end, the piece it belongs to."""
    return np.repeat(np.arange(len(polys)), [sum(len(p) for p in ps) for ps in polys])


def _crack_charges(pieces: list[list[Shape]], crack: np.ndarray, frame: int) -> np.ndarray:
    """A crack's pixels (centres, all left undrawn) charged each to the piece whose outline passes nearest."""
    polys = [[sample_outline(s.at(frame)) for s in shapes if s.alive(frame)] for shapes in pieces]
    owners = _owners(polys)
    if not len(owners):
        return np.zeros(len(pieces))
    _, nearest = cKDTree(np.concatenate([p for ps in polys for p in ps])).query(crack)
    return np.bincount(owners[nearest], minlength=len(pieces)).astype(float)
