"""A matte's thin lines (rigging lines, wires, antennas) as strands: centre lines with a width, one per line.

A line one or two pixels wide is drawn as a ribbon along its middle (ribbons.py); this finds the middles. Each
thin part is thinned to its skeleton (Zhang & Suen's two-pass thinning, skeleton.py), cut at its junctions into
strands (a fan of lines meeting at a harness is several lines), and the pieces of a line the matte broke, down to
dashes of two pixels, are joined into one. The smoothed skeleton is moved across onto the middle of the line's own
pixels, and each strand gets the width that covers the most of its line's pixels for the fewest others
(line_widths.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np
from scipy.spatial import cKDTree

from roto_core.shapes.line_widths import fitted_widths, pixel_count_widths
from roto_core.shapes.portable import gaussian_filtered
from roto_core.shapes.skeleton import chains, junctions, skeleton
from roto_core.shapes.strand_joins import joined_lines
from roto_core.shapes.strand_kernel import arc_lengths, end_headings, points_along

# Strands shorter than this are the stubs thinning leaves across a line's width, not lines.
MIN_STRAND_PX = 8.0
# A line a pixel wide that runs a little off the pixel grid comes in a matte as dashes: runs of a few pixels that
# touch neither diagonally nor side by side (DAVIS paragliding-launch: most of its rigging lines, dashes of 4-7
# pixels). Chains of skeleton down to this many pixels are joined into lines (_joined) before MIN_STRAND_PX is
# asked of what they make. Dropped first as stubs, such lines had no ribbon: paragliding-launch's matte edge within
# 2 px 0.834 -> 0.915, IoU median 0.868 -> 0.889 (bench/RESULTS.md, twentieth pass).
MIN_PIECE_PX = 2
# A frame's chains are kept up to this many, longest first. A fan of lines comes in 136 dashes a frame, at most 244
# (DAVIS paragliding-launch, ground truth); a matte of speckle (grain keyed into it) comes in thousands, whose
# joining (_joined, each join measured against every strand) took 20 s a frame at 480x270 (30 % random pixels);
# 4.5 s now. What is left out shows in the QA's IoU and edge figures of those frames, which the verdict lists.
MAX_PIECES = 1000
# Staircase of a pixel line smoothed away along the strand (pixels of arc).
CENTRE_SMOOTHING_PX = 2.0
# The centre line moved across onto the middle of the line's own pixels (_mass_centred): those within this of each
# centre point (at most MASS_NEIGHBOURS of them, more than a 3 px wide line has there), their mean offset along
# its normal smoothed along the line by MASS_SMOOTHING_PX (pixels of arc). DAVIS paragliding-launch, IoU median /
# p10 / edge within 2 px / shapes: 0.891 / 0.849 / 0.918 / 476 before; 0.896 / 0.859 / 0.925 / 446 now (with
# VERTEX_FIT_PX 0.2); the offsets unsmoothed (vertex fit 0.15 px) 0.901 / 0.867 / 0.925 / 676 (bench/RESULTS.md,
# twenty-fourth pass). Nearer than 2 px, and a hair under it: a straight row's centre lies on its pixels' row, and
# its neighbours two pixels along sit at 2 px to the last bit of the smoothed centre, which differs between
# machines: on an AMD EPYC some of them came in and a two-pixel row's strand ran 0.068 px off its middle, where
# tests/shapes/test_thin_parts.py asks under 0.05 and an Intel Xeon had passed it.
MASS_ALONG_PX = 2.0 - 1e-6
MASS_NEIGHBOURS = 24
MASS_SMOOTHING_PX = 2.0
# scipy's gaussian_filter1d default: its window reaches this many sigmas either side.
GAUSSIAN_TRUNCATE = 4.0
# Points along a strand where it is measured against another (linking, lifetimes).
SAMPLES = 16
# A ribbon's width (line_widths.py) is held between a diagonal pixel line's and a wide riser's.
MIN_WIDTH_PX = 0.7
MAX_WIDTH_PX = 3.0
# Pieces of one line broken by the matte are joined where one goes on from the other's end: across a gap of at
# most JOIN_GAP_PX, heading the same way within JOIN_ANGLE_DEG, off its line by at most JOIN_OFFSET_PX. With the
# length ratio below, measured on paragliding-launch frames 40-59 (lines' pixels taken by ribbons living 3
# frames or more): gap 12 px and ratio 0.4, 0.789; ratio 0.3, 0.804; gap 24 px, 0.803; both, 0.817. Over the
# whole shot, where its first frames break the lines into dashes (contours.LINE_SHARE), gaps of 24 / 48 / 96 /
# 128 px: IoU median 0.865 / 0.870 / 0.869 / 0.869, p10 0.820 / 0.827 / 0.831 / 0.834, edge 0.790 / 0.819 /
# 0.835 / 0.837, 461 / 441 / 423 / 416 shapes; the heading and the offset keep neighbouring lines of a fan apart
# (bench/RESULTS.md, fifteenth pass).
JOIN_GAP_PX = 96.0
JOIN_ANGLE_DEG = 12.0
JOIN_OFFSET_PX = 1.5
# The heading at an end is taken over this much of the line.
HEADING_PX = 8.0
_FACING_COS = float(np.cos(np.radians(JOIN_ANGLE_DEG)))


@dataclass
class Strand:
    """One line of a frame: its centre line from one end to the other (pixels, centres at +0.5) and width."""

    centre: np.ndarray
    width: float

    @cached_property
    def arc(self) -> np.ndarray:
        return arc_lengths(np.ascontiguousarray(self.centre, dtype=np.float64))

    @property
    def length(self) -> float:
        return float(self.arc[-1])

    def at(self, fractions: np.ndarray) -> np.ndarray:
        """Points at ``fractions`` (0 = first end, 1 = last) of the length along the centre line."""
        centre = np.ascontiguousarray(self.centre, dtype=np.float64)
        return points_along(centre, self.arc, np.asarray(fractions, dtype=np.float64) * self.length)

    def reversed(self) -> Strand:
        return Strand(self.centre[::-1].copy(), self.width)

    @cached_property
    def ends(self) -> tuple[np.ndarray, np.ndarray]:
        """Its two end points (first, last) and the unit headings out of them, taken over HEADING_PX."""
        return end_headings(np.ascontiguousarray(self.centre, dtype=np.float64), self.arc, HEADING_PX)

    @cached_property
    def samples(self) -> np.ndarray:
        return self.at(np.linspace(0.0, 1.0, SAMPLES))

    @cached_property
    def box(self) -> tuple[np.ndarray, np.ndarray]:
        """Its centre line's box (x, y lowest; x, y highest), column by column (numpy reduces an (N, 2) array along
        its first axis ten times slower)."""
        x, y = self.centre[:, 0], self.centre[:, 1]
        return np.array([x.min(), y.min()]), np.array([x.max(), y.max()])


def _joined(found: list[Strand]) -> list[Strand]:
    """Pieces of one line that the matte broke, joined end to end (see JOIN_GAP_PX), nearest gap first (ties in
    list order, a joined strand going to the end of the list). A fan of lines comes in a few hundred dashes per
    frame: the possible joins are found once, and after each join only the joined strand's are added
    (strand_joins.joined_lines, compiled)."""
    if not found:
        return []
    centres = [np.asarray(s.centre, dtype=np.float64) for s in found]
    points, ends, widths = joined_lines(
        np.concatenate(centres),
        np.cumsum([len(c) for c in centres]),
        np.array([s.width for s in found], dtype=np.float64),
        HEADING_PX,
        JOIN_GAP_PX,
        _FACING_COS,
        JOIN_OFFSET_PX,
    )
    return [Strand(c, w) for c, w in zip(np.split(points, ends[:-1]), widths.tolist(), strict=True)]


def strands(lines: np.ndarray, left_out: Callable[[str], None] | None = None) -> list[Strand]:
    """The thin parts of one frame (``contours.thin_parts``) as strands, cut at junctions. ``left_out`` is told
    ("line pieces") where MAX_PIECES leaves some out."""
    ys, xs = np.nonzero(lines)
    if len(ys) == 0:
        return []
    y0, x0 = max(int(ys.min()) - 1, 0), max(int(xs.min()) - 1, 0)
    crop = lines[y0 : int(ys.max()) + 2, x0 : int(xs.max()) + 2]
    skel = skeleton(crop)
    cut = cv2.dilate(junctions(skel).view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
    _, parts = cv2.connectedComponents(crop.view(np.uint8), connectivity=8)
    every_chain = chains(skel & ~cut, MIN_PIECE_PX)
    if len(every_chain) > MAX_PIECES and left_out is not None:
        left_out("line pieces")
    found_chains = _longest(every_chain, MAX_PIECES)
    pieces = [(int(parts[int(c[0, 1]), int(c[0, 0])]), c + np.array([x0, y0])) for c in found_chains]
    py, px = np.nonzero(crop)
    pixels = np.stack([px + x0 + 0.5, py + y0 + 0.5], axis=1)
    smooth = _smoothed_each([centre for _, centre in pieces], CENTRE_SMOOTHING_PX)
    owners = np.array([part for part, _ in pieces], dtype=np.int64)
    # Roughly, a line's width is its pixels over the length of its centre lines (line_widths.py): enough to
    # centre the strands on their pixels; the ribbons' widths are then fitted to the pixels they cover.
    rough = np.clip(pixel_count_widths(parts, owners, [c for _, c in pieces]), MIN_WIDTH_PX, MAX_WIDTH_PX)
    centred = _mass_centred(smooth, rough, owners, pixels, parts[py, px])
    widths = np.clip(fitted_widths(centred, crop, (x0, y0), rough), MIN_WIDTH_PX, MAX_WIDTH_PX)
    found = [Strand(centre, float(width)) for centre, width in zip(centred, widths, strict=True)]
    return [s for s in _joined(found) if s.length >= MIN_STRAND_PX]


def _longest(found: list[np.ndarray], count: int) -> list[np.ndarray]:
    """The ``count`` longest of ``found`` in their own order (the order joins break ties in)."""
    if len(found) <= count:
        return found
    kept = np.sort(np.argsort([-len(c) for c in found], kind="stable")[:count])
    return [found[i] for i in kept]


def _mass_centred(
    centres: list[np.ndarray], widths: np.ndarray, parts: np.ndarray, pixels: np.ndarray, owner: np.ndarray
) -> list[np.ndarray]:
    """Each of ``centres`` (the strands' smoothed skeletons, of lines ``parts`` and ``widths``) moved along its
    normals onto the middle of its line's pixels (``pixels``: centres of all thin pixels of the frame; ``owner``:
    their component). Thinning leaves the skeleton of a line two pixels wide on one of its two rows, half a pixel off
    its middle, and smoothing along a pixel line's staircase leaves it off where the steps are longer than the
    smoothing: a ribbon half a pixel off a line one or two pixels wide misses a quarter to a half of it and draws as
    much beside it. All strands of a frame are measured in one query (paragliding-launch: 11,000 strands over 80
    frames)."""
    if not centres:
        return centres
    points = np.concatenate(centres)
    counts = [len(c) for c in centres]
    tangent = _gradients(points, np.cumsum(counts))
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-9)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    k = min(MASS_NEIGHBOURS, len(pixels))
    distance, near = (
        a.reshape(len(points), -1) for a in cKDTree(pixels).query(points, k, distance_upper_bound=MASS_ALONG_PX)
    )
    found = np.isfinite(distance)
    near = np.where(found, near, 0)
    # x and y apart: the same products and sum as einsum's, without its generic loop.
    across = (pixels[near, 0] - points[:, 0, None]) * normal[:, 0, None] + (
        pixels[near, 1] - points[:, 1, None]
    ) * normal[:, 1, None]
    band = np.repeat(0.5 * widths + 1.0, counts)[:, None]
    counted = found & (owner[near] == np.repeat(parts, counts)[:, None]) & (np.abs(across) <= band)
    offset = np.where(counted, across, 0.0).sum(axis=1) / np.maximum(counted.sum(axis=1), 1)
    cuts = np.cumsum(counts)[:-1]
    along = _smoothed_each(np.split(offset, cuts), MASS_SMOOTHING_PX)
    return [c + a[:, None] * n for c, a, n in zip(centres, along, np.split(normal, cuts), strict=True)]


def _gradients(points: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``np.gradient(line, axis=0)`` of each line of two points or more laid end to end in ``points`` (``ends``:
    where each ends), in one pass: central differences halved inside a line, one-sided at its ends, as numpy
    takes them."""
    out = np.empty_like(points)
    out[1:-1] = (points[2:] - points[:-2]) / 2.0
    last = ends - 1
    first = np.r_[0, ends[:-1]]
    out[first] = points[first + 1] - points[first]
    out[last] = points[last] - points[last - 1]
    return out


def _smoothed_each(arrays: list[np.ndarray], sigma: float) -> list[np.ndarray]:
    """Each of ``arrays`` (1-D, or rows of points) of three rows or more smoothed along its rows as
    ``gaussian_filter1d(a, sigma, axis=0, mode="nearest")`` does, the shorter as they are; all in one call: each
    padded with its end rows as far as the window reaches (what "nearest" reads past an end), laid end to end,
    filtered, and its own rows taken back, so each row sums the same values in the same order, to the bit. A
    frame's lines come in a few hundred strands (DAVIS paragliding-launch: 11,000 over 80 frames)."""
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    smoothed = np.flatnonzero(lengths >= 3)
    if not len(smoothed):
        return list(arrays)
    reach = int(GAUSSIAN_TRUNCATE * sigma + 0.5)
    own = lengths[smoothed]
    padded = own + 2 * reach
    which = np.repeat(np.arange(len(smoothed)), padded)
    step = np.arange(int(padded.sum())) - np.repeat(np.cumsum(padded) - padded, padded) - reach
    rows = np.clip(step, 0, own[which] - 1) + np.repeat(np.cumsum(own) - own, padded)
    flat = np.concatenate([arrays[i] for i in smoothed])
    filtered = gaussian_filtered(flat[rows], sigma, "nearest", GAUSSIAN_TRUNCATE)
    out = list(arrays)
    parts = np.split(filtered[(step >= 0) & (step < own[which])], np.cumsum(own)[:-1])
    for i, part in zip(smoothed, parts, strict=True):
        out[i] = part
    return out
