"""Mask → connected regions with sub-pixel edge outlines (outer boundary and holes).

OpenCV traces the centres of the boundary pixels. The real edge of a mask sampled at pixel centres lies between
those centres and the outside neighbours' centres, i.e. half a grid step further out along the normal; we smooth
the staircase a little and move it there, so a bezier fitted to the outline rasterises back onto the same pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from roto_core.shapes.model import signed_area
from roto_core.shapes.portable import gaussian_filtered

EDGE_SMOOTHING_PX = 1.0
# Structures this wide or less are thin (see thin_parts): a 3x3 opening removes them.
THIN_WIDTH_PX = 2
# Where lines make LINE_SHARE of a matte or more (rigging, not a wisp of a body's outline), the pieces the matte
# broke them into go with them down to FRAGMENT_AREA_FACTOR of ``min_area``, and so do the bits under
# ``min_area`` the split leaves of them (where lines touch or run side by side): left in the bulk, they were
# dropped or ran as spikes off its outline. DAVIS paragliding-launch (18 % lines): IoU median 0.807 -> 0.832 ->
# 0.841; the pieces taken on horsejump-high too (a tail, under 1 %), its tail's wisps left the body's outline
# and edge recall fell 0.889 -> 0.882 (bench/RESULTS.md, ninth pass). The share counts every piece of line down
# to FRAGMENT_AREA_FACTOR of ``min_area``: counted from ``min_area`` only, a fan of lines the matte broke into short
# dashes was no rigging (paragliding-launch frames 0-17: 3 % of the matte in pieces of 64 px or more, 11 % in all),
# and the dashes stayed on the bulk as spikes and specks: IoU median 0.847 -> 0.865, edge 0.753 -> 0.790
# (bench/RESULTS.md, fifteenth pass).
LINE_SHARE = 0.05
FRAGMENT_AREA_FACTOR = 0.25
# A matte that was rigging on the frame before stays rigging down to this share of LINE_SHARE: its lines' share
# dips where they turn across the pixel grid and come in short dashes (pieces under FRAGMENT_AREA_FACTOR of
# ``min_area`` are not counted), and decided frame by frame the lines on those frames stayed on the bulk as spikes
# and specks between frames where they were ribbons. DAVIS paragliding-launch, ground truth: the share 0.031 and
# 0.043 on frames 17-18 between 0.082 and 0.092, edge within 2 px there 0.826 / 0.801 -> 0.928 / 0.945; turned 4
# degrees a frame (bench/shapes_transformed.py `spin`: 0.036-0.045 on frames 6-19) IoU median 0.859 -> 0.871, p10
# 0.834 -> 0.844, edge 0.761 -> 0.824 (bench/RESULTS.md, forty-fifth pass). Entered only at the full share, so a
# matte that is not rigging is split as before.
RIGGING_HOLD = 0.5
# Among rigging, a line drawn three or four pixels wide survives the opening, and where it does not touch the
# body it is left as a component of its own: a strip too narrow for an outline at the tolerance, and one that comes
# and goes with the line's width from frame to frame, so its track was mostly too brief for shapes. A component
# besides the largest that is nowhere deeper than this (its pixels' distance to the background: at most four
# pixels wide) goes with the lines. DAVIS paragliding-launch, whole sequence, ground truth: 1.5 % of the matte;
# IoU median 0.899 -> 0.899, p10 0.857 -> 0.862, edge within 2 px 0.936 -> 0.950 alone, and with the ribbons'
# fitted widths (line_widths.py) 0.905, 0.867 and 0.952 (bench/RESULTS.md, twenty-ninth pass).
SKINNY_DEPTH_PX = 2.0
# Holes are found down to this fraction of ``min_area``: the gaps between a rider's arm and body or a wheel's rims
# are often under ``min_area`` in a matte this size, and whether such a speck lasts long enough for a shape is
# lifetimes.py's decision (``lasting_hole``), taken over its whole track, not frame by frame.
SPECK_AREA_FACTOR = 0.25
# A frame's components and a component's holes are kept up to these counts, largest first. Real mattes hold fewer:
# DAVIS 2016 dev, ground truth and rotofarm roto's masks: at most 6 components a frame and 20 holes in one; its dog
# seen through a chain-link fence (tests/shapes/test_clip_ends.py) 130 components a frame. A matte of speckle (grain
# keyed into it, a checkerboard of 4 px holes: 3,894 in one component of a 480x270 frame) was still tracing after
# five minutes for five frames; now 68 s. What is left out shows in the QA's IoU and edge figures of those frames,
# which the verdict lists.
MAX_REGIONS = 1000
MAX_HOLES = 1000
_THIN_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (THIN_WIDTH_PX + 1, THIN_WIDTH_PX + 1))


@dataclass
class Outline:
    """A closed sub-pixel edge loop, clockwise on screen, with outward unit normals and image-border flags."""

    points: np.ndarray
    on_border: np.ndarray
    normals: np.ndarray

    @cached_property
    def area(self) -> float:
        return abs(signed_area(self.points))

    @cached_property
    def length(self) -> float:
        """Perimeter of the closed loop."""
        return float(np.hypot(*np.diff(self.points, axis=0, append=self.points[:1]).T).sum())

    @cached_property
    def centroid(self) -> np.ndarray:
        return polygon_centroid(self.points)


@dataclass
class Region:
    """One connected component: its outer outline, its holes, and cheap statistics used to match over time.
    ``depth``: how many holes of other components it sits in (0 for a component on its own; 1 for an island in a
    hole, such as a wheel's hub inside the gap around it), which decides the order shapes are drawn in."""

    outer: Outline
    holes: list[Outline]
    area: float
    centroid: np.ndarray
    touches_border: bool
    depth: int = 0


def _edge_outline(contour: np.ndarray, size: tuple[int, int], away_from_mask: float) -> Outline:
    """Pixel-centre contour → smoothed edge loop pushed half a grid step away from the mask pixels.

    ``away_from_mask`` is +1 when the mask lies inside the loop (outer boundary), -1 when it lies outside (hole).
    """
    h, w = size
    pts = contour.reshape(-1, 2).astype(np.float64) + 0.5
    off_interior = (pts < 1.0) | (pts > np.array([w - 1.0, h - 1.0]))
    on_border = off_interior[:, 0] | off_interior[:, 1]
    if len(pts) >= 3:
        pts = gaussian_filtered(pts, EDGE_SMOOTHING_PX, "wrap")
    if signed_area(pts) < 0:
        pts, on_border = pts[::-1].copy(), on_border[::-1].copy()
    outward = np.zeros_like(pts)
    if len(pts) >= 3:
        # Central differences around the loop; slices instead of np.roll, which costs more than the arithmetic
        # on a few thousand points.
        tangent = np.empty_like(pts)
        tangent[1:-1] = pts[2:] - pts[:-2]
        tangent[0] = pts[1] - pts[-1]
        tangent[-1] = pts[0] - pts[-2]
        length = np.hypot(tangent[:, 0], tangent[:, 1])[:, None]
        tangent = np.divide(tangent, length, out=np.zeros_like(tangent), where=length > 0)
        outward[:, 0] = tangent[:, 1]
        outward[:, 1] = -tangent[:, 0]
        step = 0.5 * np.maximum(np.abs(outward[:, :1]), np.abs(outward[:, 1:]))
        pts = pts + away_from_mask * step * outward
    return Outline(pts, on_border, outward)


def _occupied_box(binary: np.ndarray) -> tuple[int, int, int, int] | None:
    """Rows ``y0:y1`` and columns ``x0:x1`` holding every set pixel of a 0/1 image, padded by one empty pixel
    where the image allows; None for an empty mask.

    An object covers a small part of a full-HD frame, and findContours scans every pixel it is given: tracing a
    padded crop with an offset gives the same contours in the same order for a fraction of the cost. OpenCV's
    row and column sums find the box faster than numpy reductions over a uint8 image.
    """
    h, w = binary.shape
    rows = np.flatnonzero(cv2.reduce(binary, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S))
    if len(rows) == 0:
        return None
    y0, y1 = int(rows[0]), int(rows[-1]) + 1
    cols = np.flatnonzero(cv2.reduce(binary[y0:y1], 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S))
    x0, x1 = int(cols[0]), int(cols[-1]) + 1
    return max(y0 - 1, 0), min(y1 + 1, h), max(x0 - 1, 0), min(x1 + 1, w)


def find_regions(mask: np.ndarray, min_area: float, left_out: Callable[[str], None] | None = None) -> list[Region]:
    """Connected components of a bool mask whose area is at least ``min_area`` pixels, largest first, with their
    holes of at least SPECK_AREA_FACTOR times that and their depth (the whole contour tree is read: a component
    at an even level of it is an outline, its children are its holes, and their children islands in them).
    ``left_out`` is told ("components" or "holes") where MAX_REGIONS or MAX_HOLES leaves some out."""
    contiguous = np.ascontiguousarray(mask)
    binary = contiguous.view(np.uint8) if contiguous.dtype == bool else (contiguous != 0).view(np.uint8)
    box = _occupied_box(binary)
    if box is None:
        return []
    y0, y1, x0, x1 = box
    contours, hierarchy = cv2.findContours(binary[y0:y1, x0:x1], cv2.RETR_TREE, cv2.CHAIN_APPROX_NONE, offset=(x0, y0))
    if hierarchy is None:
        return []
    size = binary.shape
    h, w = size
    regions: list[Region] = []
    links = hierarchy[0]
    for idx, contour in enumerate(contours):
        level, parent = 0, links[idx][3]
        while parent != -1:
            level, parent = level + 1, links[parent][3]
        if level % 2:
            continue
        moments = cv2.moments(contour)
        area = moments["m00"] + 0.5 * cv2.arcLength(contour, True) + 1.0
        if area < min_area:
            continue
        found: list[tuple[float, int]] = []
        child = links[idx][2]
        while child != -1:
            hole_area = cv2.contourArea(contours[child]) + 0.5 * cv2.arcLength(contours[child], True)
            if hole_area >= SPECK_AREA_FACTOR * min_area:
                found.append((hole_area, child))
            child = links[child][0]
        area -= sum(hole_area for hole_area, _ in found)
        if len(found) > MAX_HOLES and left_out is not None:
            left_out("holes")
        kept = sorted(sorted(found, key=lambda h: -h[0])[:MAX_HOLES], key=lambda h: h[1])
        holes = [_edge_outline(contours[child], size, -1.0) for _, child in kept]
        outer = _edge_outline(contour, size, 1.0)
        x, y, bw, bh = cv2.boundingRect(contour)
        touches = x == 0 or y == 0 or x + bw == w or y + bh == h
        m00 = max(moments["m00"], 1e-9)
        centroid = np.array([moments["m10"] / m00 + 0.5, moments["m01"] / m00 + 0.5])
        # The half-perimeter corrections can over-subtract for a thin ring; a region still covers a pixel.
        regions.append(Region(outer, holes, max(float(area), 1.0), centroid, bool(touches), level // 2))
    regions.sort(key=lambda r: -r.area)
    if len(regions) > MAX_REGIONS and left_out is not None:
        left_out("components")
    return regions[:MAX_REGIONS]


def thin_parts(mask: np.ndarray, min_area: float) -> np.ndarray | None:
    """The parts of ``mask`` at most THIN_WIDTH_PX wide (rigging lines, wires, antennas) that cover at least
    ``min_area`` pixels each, or None where there are none.

    Traced with the bulk, a line a pixel or two wide makes the outline run up and down it: the shared outline
    parameter then maps one line onto another from frame to frame and the pieces fill the wedges between lines.
    Split off, the bulk keeps a clean outline and each line becomes a ribbon (ribbons.py). Only where some part
    survives ``min_area`` is anything split off, so a mask without such lines is traced exactly as before. Among
    rigging, the lines' bits under ``min_area`` and the skinny strips the opening leaves of wider lines
    (SKINNY_DEPTH_PX) go with them. This frame alone decides whether its matte is rigging; over a shot,
    ThinSplitter decides it.
    """
    return _thin(mask, min_area, LINE_SHARE, False)[0]


class ThinSplitter:
    """``thin_parts`` over one object's frames in order, a matte that was rigging on the frame before staying rigging
    down to RIGGING_HOLD of LINE_SHARE (see there). An empty frame leaves the decision as it was."""

    def __init__(self, min_area: float) -> None:
        self.min_area = min_area
        self.rigging = False

    def lines(self, mask: np.ndarray) -> np.ndarray | None:
        """This frame's thin parts (``thin_parts``), with the rigging decision carried from the frame before."""
        share = LINE_SHARE * (RIGGING_HOLD if self.rigging else 1.0)
        lines, self.rigging = _thin(mask, self.min_area, share, self.rigging)
        return lines


def _thin(mask: np.ndarray, min_area: float, share: float, rigging_before: bool) -> tuple[np.ndarray | None, bool]:
    """``thin_parts`` with its matte rigging where lines make ``share`` of it or more, and whether it was (where the
    mask is empty, ``rigging_before``)."""
    contiguous = np.ascontiguousarray(mask)
    binary = contiguous.view(np.uint8) if contiguous.dtype == bool else (contiguous != 0).view(np.uint8)
    box = _occupied_box(binary)
    if box is None:
        return None, rigging_before
    # Worked on the object's box (one empty pixel around it, as find_regions does): at 1920x1080 the opening
    # and the labelling of the whole frame cost more than tracing the object.
    y0, y1, x0, x1 = box
    crop = binary[y0:y1, x0:x1]
    residue = cv2.subtract(crop, cv2.morphologyEx(crop, cv2.MORPH_OPEN, _THIN_KERNEL))
    if cv2.countNonZero(residue) < min_area:
        return None, False
    _, labels, stats, _ = cv2.connectedComponentsWithStats(residue, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    if not (areas >= min_area).any():
        return None, False
    rigging = int(areas[areas >= FRAGMENT_AREA_FACTOR * min_area].sum()) >= share * cv2.countNonZero(crop)
    # Label by label through a table: np.isin sorts the whole crop's labels.
    kept = np.r_[False, areas >= (FRAGMENT_AREA_FACTOR * min_area if rigging else min_area)]
    found = kept[labels]
    if rigging:
        # What the split leaves of the lines where they touch or run side by side: bits under ``min_area``
        # that the bulk would drop.
        _, rest, rest_stats, _ = cv2.connectedComponentsWithStats(crop & ~found.view(np.uint8), connectivity=8)
        found |= np.r_[False, rest_stats[1:, cv2.CC_STAT_AREA] < min_area][rest]
        found |= _skinny(crop & ~found.view(np.uint8))
    lines = np.zeros(binary.shape, bool)
    lines[y0:y1, x0:x1] = found
    return lines, rigging


def _skinny(body: np.ndarray) -> np.ndarray:
    """The components of ``body`` (uint8) besides its largest that are nowhere deeper than SKINNY_DEPTH_PX: none of
    their pixels survives an erosion by a disc of that radius."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(body, connectivity=8)
    if count <= 2:
        return np.zeros(body.shape, bool)
    side = 2 * int(SKINNY_DEPTH_PX) + 1
    deep = cv2.erode(body, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))).view(bool)
    skinny = np.ones(count, bool)
    skinny[labels[deep]] = False
    skinny[0] = False
    skinny[1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))] = False
    return skinny[labels]


def polygon_centroid(poly: np.ndarray) -> np.ndarray:
    """Area centroid of a closed polygon (falls back to the vertex mean for a degenerate one)."""
    x, y = poly[:, 0], poly[:, 1]
    xn, yn = np.concatenate([x[1:], x[:1]]), np.concatenate([y[1:], y[:1]])
    cross = x * yn - xn * y
    a = cross.sum() / 2.0
    if abs(a) < 1e-9:
        return poly.mean(axis=0)
    return np.array([((x + xn) * cross).sum(), ((y + yn) * cross).sum()]) / (6.0 * a)
