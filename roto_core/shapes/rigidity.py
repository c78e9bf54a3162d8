"""Where a matte moves rigidly: the test that tells a shape's boil on rigid parts from a part changing shape.

``qa.local_boil`` takes each point's residual against its neighbourhood's steady motion. Where the object itself
changes shape over three frames — a gap between a rider's legs closing, a dog's paw unfolding — the matte does
not move rigidly there either, and a shape that follows it shows that change as "boil" however well it is drawn.
The issue's boil target is on rigid parts; this module says which points are on them, from the matte alone.

Around a point, a window of the matte on one frame is compared with the window around the same point on the next
frame: the matte is rigid there when one rotation and translation lays the first onto the second within half the
shapes' tolerance (the area they still disagree on over the length of edge in the window; BAND_FRACTION says
why). The windows are only placed by the shape's points: each is centred on the matte's edge pixel nearest its
point and the two are matched over a few pixels before they are aligned (OpenCV template matching, then ECC), so a
point off its edge or sliding along it — the boil being measured — does not move one window against the other,
and a shape that boils on a rigid part is still counted. A sample of the boil (a point on an inner frame) is on a
rigid part when the matte is rigid around the point and around the neighbours its boil is measured against, from
the frame before and to the frame after, or from the frame before straight to the frame after (a change that comes
back is jitter, which the shapes are to smooth) where the change is within the shapes' tolerance each way
(JITTER_FRACTION says why). A change of shape gentler than the window (25 px), or undone a frame later within the
tolerance, passes as rigid: the boil on rigid parts errs towards counting.

A point further from the matte's edge than its window reaches (RADIUS_PX, either way) is on no part of the
object either: its window, placed at the edge pixel nearest it, does not hold it, and what the test finds there is
about another stretch of outline. Shapes traced from the matte itself keep their points within their tolerance of
its edge; shapes traced from a segmenter's masks follow the segmenter's own edge, which leaves the object where the
segmenter takes in background (DAVIS scooter-black with the classical backend: a wall behind the rider whose
outline changes from frame to frame; judged rigid on 64 % of the samples before the rule and 30 % with it, the
samples it leaves out carrying about 90 % of the squared boil, 2.32 → 0.99 px; bench/RESULTS.md, twenty-fifth
pass).

Where the picture's border cuts the object, the matte's outline is the frame's edge, which stays where it is while
the object moves past it; a point there (and a window reaching it) is on no part of the object, rigid or not, and
is not judged rigid. Without this a point lying on the frame's edge got the window of the object's nearest edge
elsewhere, and the steady motion of its neighbours on the frame's edge against those on the object counted as boil:
DAVIS drift-straight, a car entering across the right border, 12 % of its rigid samples and over half of their
squared boil (bench/RESULTS.md, nineteenth pass).

Checked (bench/RESULTS.md, seventeenth pass): a DAVIS matte moved rigidly and rasterised afresh on every frame,
traced, is rigid on all of its samples, and on 99-100 % with every point of its shapes jittered by 0.5-2 px (the
boil on rigid parts then equals the boil of all points, 0.74-2.9 px).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import cKDTree

from roto_core.shapes.keys import MEAN_FRACTION

# Half the window's side: a neighbourhood of a few points on a 480-line matte (the boil is measured against the
# point and two neighbours either side).
RADIUS_PX = 12
# How far apart (area over edge length) two windows may stay after the best rigid motion and count as one part,
# as a fraction of the shapes' tolerance: the mean distance the shapes keep from the edge (keys.MEAN_FRACTION).
# A matte changing by less than that is what the shapes are to smooth (its jitter counts as boil); one changing
# by more moves the shapes with it, held to the edge, and that is following the matte, not boil. A hand-drawn
# matte's 1.5 px tolerance gives 0.75 px; the farm's 2.25 px for a segmenter's masks, 1.125 px.
BAND_FRACTION = MEAN_FRACTION
# A change that comes back on the next frame is jitter, which the shapes are to smooth, only where it stays within
# this fraction of the shapes' tolerance from the frame before and to the frame after. The shapes are held within
# their tolerance of every frame's matte (keys.EdgeCheck), so a change further out they follow, at least in part:
# a leg swung out for a frame and back, smoothed away, would leave the shapes off that frame's matte. Counted as
# jitter, DAVIS dog's ground truth (a hind leg 8 px forward on frame 8 and 12 px back on 9, real motion on the
# plate) carried 21 % of the row's squared boil on rigid parts in one piece (bench/RESULTS.md, forty-fifth pass).
# With the rule, DAVIS dev set, whole sequences: boil on rigid parts lower on 5 of 12 ground-truth rows (dog 0.52
# -> 0.44, drift-chicane 0.44 -> 0.33, parkour 0.47 -> 0.40) and 9 of 12 segmenter rows (drift-straight 0.55 ->
# 0.56), rigid share 0-2 points lower (forty-sixth pass).
JITTER_FRACTION = 1.0
# How far apart the two windows may be placed and still be found: a shape's point may slide along its edge from
# one frame to the next (the boil being measured) by a few pixels. The windows are first matched over this many
# pixels either way (OpenCV template matching), then aligned finely.
SEARCH_PX = 6
# ECC follows the gradient of its images, which a hard matte has only on its edge pixels: both windows are
# blurred this much for the matching and alignment (not for the band).
ALIGN_BLUR_SIGMA = 1.0
# The windows are already matched to a fraction of a pixel: ECC has only a turn left to find (a few iterations).
ECC_ITERATIONS = 10
ECC_EPSILON = 1e-3
# Matched windows that still disagree by this much more than the limit are not aligned further: a turn of up to
# 10 degrees between frames (a motocross flip) moves the edge of a 25 px window by about a pixel on average. ECC
# is most of the test's cost (DAVIS soapbox: the QA 1.5 s without the rigid parts, 4.2 s with them; paragliding-
# launch, 423 shapes, most of them rigging lines: 4.1 s, 26 s).
ALIGNABLE_PX = 1.5
# The band is read inside this margin of the window, where the warped window has no border to fill.
MARGIN_PX = 3


@dataclass(frozen=True)
class Matte:
    """One frame's matte as the rigidity test reads it: the mask as floats, sharp (for the band) and blurred
    (for the alignment), and its edge pixels."""

    sharp: np.ndarray
    soft: np.ndarray
    edge: cKDTree | None
    # The mask's pixels on the picture's outermost rows and columns: where the frame cuts the object.
    cut: cKDTree | None

    @classmethod
    def of(cls, mask: np.ndarray) -> Matte:
        sharp = np.ascontiguousarray(mask, dtype=np.float32)
        solid = mask.astype(np.uint8)
        edge = np.argwhere(solid ^ cv2.erode(solid, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE))
        rim = np.zeros(mask.shape, bool)
        rim[[0, -1], :] = mask[[0, -1], :]
        rim[:, [0, -1]] = mask[:, [0, -1]]
        cut = np.argwhere(rim)
        soft = cv2.GaussianBlur(sharp, (0, 0), ALIGN_BLUR_SIGMA)
        return cls(
            sharp,
            soft,
            cKDTree(edge[:, ::-1].astype(np.float64)) if len(edge) else None,
            cKDTree(cut[:, ::-1].astype(np.float64)) if len(cut) else None,
        )

    def near_cut(self, points: np.ndarray, radius: int = RADIUS_PX) -> np.ndarray:
        """Per point, whether its window (side ``2 * radius + 1``) reaches where the frame cuts the object."""
        if self.cut is None:
            return np.zeros(len(points), bool)
        return self.cut.query(points, p=np.inf)[0] <= radius + 0.5

    def on_edge(self, points: np.ndarray) -> np.ndarray:
        """Each point moved to the nearest edge pixel: the window is placed by the matte, so a point off its
        edge (the boil being measured) does not shift one window against the other."""
        if self.edge is None:
            return points
        return self.edge.data[self.edge.query(points)[1]]

    def window(self, centre: np.ndarray, radius: int = RADIUS_PX) -> tuple[np.ndarray, np.ndarray]:
        """The sharp and the blurred window of side ``2 * radius + 1`` around ``centre``."""
        side = (2 * radius + 1, 2 * radius + 1)
        at = (float(centre[0]), float(centre[1]))
        return cv2.getRectSubPix(self.sharp, side, at), cv2.getRectSubPix(self.soft, side, at)


def band_px(moved: np.ndarray, target: np.ndarray) -> float:
    """The width of the band on which two windows disagree: their differing area over the length of the target
    window's edge, inside MARGIN_PX (0 where neither holds an edge and both agree)."""
    inner = (slice(MARGIN_PX, -MARGIN_PX),) * 2
    differ = float(np.abs(moved[inner] - target[inner]).sum())
    solid = target[inner] > 0.5
    edge = solid ^ cv2.erode(solid.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if not edge.any():
        return 0.0 if differ < 1.0 else np.inf
    return differ / float(edge.sum())


def _matched(before: Matte, after: Matte, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``before``'s window moved by the shift (up to SEARCH_PX, to a fraction of a pixel) that best matches it to
    ``after``'s at ``b``, and ``after``'s window."""
    target = after.window(b)
    region = before.window(a, RADIUS_PX + SEARCH_PX)[1]
    scores = cv2.matchTemplate(region, target[1], cv2.TM_SQDIFF)
    _, _, best, _ = cv2.minMaxLoc(scores)
    shift = np.array(best, np.float64) - SEARCH_PX + _vertex(scores, best)
    return before.window(a + shift), target


def _vertex(scores: np.ndarray, at: tuple[int, int]) -> np.ndarray:
    """The fraction of a pixel by which a parabola through the best score and its neighbours moves the best
    match, along x and y (none at the border of the search)."""
    x, y = at
    offset = np.zeros(2)
    for axis, (low, mid, high) in enumerate(
        (
            (scores[y, x - 1], scores[y, x], scores[y, x + 1]) if 0 < x < scores.shape[1] - 1 else (0.0, 0.0, 0.0),
            (scores[y - 1, x], scores[y, x], scores[y + 1, x]) if 0 < y < scores.shape[0] - 1 else (0.0, 0.0, 0.0),
        )
    ):
        curve = low - 2.0 * mid + high
        if curve > 1e-12:
            offset[axis] = float(np.clip(0.5 * (low - high) / curve, -0.5, 0.5))
    return offset


def _aligned_band(before: tuple[np.ndarray, np.ndarray], after: tuple[np.ndarray, np.ndarray]) -> float:
    """The band left after the rotation and translation ECC finds laying ``before``'s window onto ``after``'s,
    from where they were matched. Not an affine: its scales and shears bend a window's curve flat, so a bump
    growing on the edge would pass for rigid (a part's own scale change from one frame to the next moves a
    window's rim by a few tenths of a pixel)."""
    warp = np.eye(2, 3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, ECC_ITERATIONS, ECC_EPSILON)
    try:
        _, warp = cv2.findTransformECC(after[1], before[1], warp, cv2.MOTION_EUCLIDEAN, criteria, None, 1)
    except cv2.error:
        # ECC stops with an error where it cannot converge (windows that share no edge to align).
        return np.inf
    moved = cv2.warpAffine(before[0], warp, before[0].shape[::-1], flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    return band_px(moved, after[0])


def rigid_between(
    before: Matte,
    after: Matte,
    points_before: np.ndarray,
    points_after: np.ndarray,
    tolerance: float,
    fraction: float = BAND_FRACTION,
) -> np.ndarray:
    """Per point (``(N, 2)`` positions on each frame): whether the matte around it moves from ``before`` to
    ``after`` by one rotation and translation within ``fraction`` of the shapes' ``tolerance``. Each window is
    centred on the matte's edge pixel nearest the point, the earlier one moved by the shift that matches it best
    to the later; most rigid parts need no alignment beyond that, the others are turned into place by ECC. A
    point whose window, at the point or at that edge pixel, reaches where the frame cuts the object is not
    rigid, nor is a point further from the matte's edge than its window reaches (the module's docstring says
    why)."""
    limit = fraction * tolerance
    rigid = np.zeros(len(points_after), bool)
    centres = (before.on_edge(points_before), after.on_edge(points_after))
    cut = before.near_cut(points_before) | after.near_cut(points_after)
    cut |= before.near_cut(centres[0]) | after.near_cut(centres[1])
    off = _outside_window(points_before, centres[0]) | _outside_window(points_after, centres[1])
    for i, (a, b) in enumerate(zip(*centres, strict=True)):
        if cut[i] or off[i]:
            continue
        first, second = _matched(before, after, a, b)
        matched = band_px(first[0], second[0])
        if matched <= limit:
            rigid[i] = True
        elif matched <= limit + ALIGNABLE_PX:
            rigid[i] = _aligned_band(first, second) <= limit
    return rigid


def jitter_between(
    mattes: tuple[Matte, Matte, Matte], points: tuple[np.ndarray, np.ndarray, np.ndarray], tolerance: float
) -> np.ndarray:
    """Per point (``(N, 2)`` positions on three frames in a row, ``points``, on their ``mattes``): whether the matte
    changes on the middle frame and comes back, a jitter the shapes are to smooth: it moves rigidly from the first
    frame straight to the last, and from the first to the middle and on to the last within JITTER_FRACTION of the
    ``tolerance``."""
    first, middle, last = mattes
    jitter = rigid_between(first, last, points[0], points[2], tolerance)
    if jitter.any():
        at = np.flatnonzero(jitter)
        into = rigid_between(first, middle, points[0][at], points[1][at], tolerance, JITTER_FRACTION)
        out = rigid_between(middle, last, points[1][at], points[2][at], tolerance, JITTER_FRACTION)
        jitter[at] = into & out
    return jitter


def _outside_window(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Per point, whether it lies outside the window placed for it (side ``2 * RADIUS_PX + 1`` around its
    nearest edge pixel): the test then says nothing about where the point is."""
    return np.abs(points - centres).max(axis=1) > RADIUS_PX + 0.5


def rigid_samples(pairs: np.ndarray, skips: np.ndarray, neighbours: int = 2) -> np.ndarray:
    """Rigidity from each frame to the next, ``pairs`` ``(frames - 1, points)``, and from each frame to the one
    after next, ``skips`` ``(frames - 2, points)`` → the inner frames' samples, in ``qa.local_boil``'s order.

    A point on an inner frame is on a rigid part when the matte carries it rigidly from the frame before and to
    the frame after, or straight from the frame before to the frame after within the tolerance each way
    (``jitter_between``): a matte that changes on one frame by no more than that and comes back on the next is
    jitter (a segmenter's mask, a hand-drawn edge redrawn), which the shapes are to smooth, not a change of shape
    they must follow. A point's boil is its residual against its neighbourhood
    (``neighbours`` points either side, as ``local_boil`` takes them), so its sample is on a rigid part when
    every point of that neighbourhood is: one point on a growing bump moves its neighbours' residuals too."""
    count = pairs.shape[1]
    neighbours = min(neighbours, (count - 1) // 2)
    through = (pairs[:-1] & pairs[1:]) | skips
    held = through.copy()
    for offset in range(1, neighbours + 1):
        held &= np.roll(through, offset, axis=1) & np.roll(through, -offset, axis=1)
    return held.ravel()
