"""How long a track must live to get shapes, and how regions, holes and lines are followed from frame to frame.

A track of a component, hole or line that lives fewer than ``min_lifetime_frames`` frames is mask flicker, with
the exceptions below: a region too large a share of its object to leave out, a region seen past an occluder, a hole
as large as a silhouette's gap, and a track cut by the first or last frame of the clip (or of its component, for a
hole), which may live on beyond it: how long is not known, and the shot's ends are where a comp shows it. A dog
seen through a chain-link fence (DAVIS dog's real matte cut by 3 px wires every 20 px) comes into new cells of the
fence on every frame; its last frame, whose new cells had no shape, scored IoU 0.706 (tests/shapes/test_clip_ends.py).

Mid-clip, the cells its legs pass through for a frame or two were flicker too, each about 1 % of the dog. A speck
of flicker stands off the object; a part seen past an occluder lies across a gap narrower than itself from the rest
of its object (a post, a wire, a branch in front of it). So a brief region within OCCLUDER_FRACTION of its own size
(the square root of its area) of a lasting region of its object on some frame gets shapes (``seen_past_occluders``).
bench/shapes_transformed.py's ``fence`` (posts 6 px wide every 48 px): horsejump-high's matte edge within 2 px 0.899 ->
0.927, IoU p10 0.904 -> 0.929, dog's p10 0.955 -> 0.968. DAVIS dev set, whole sequences: IoU and edge the same or
higher on every row (rotofarm roto's car-roundabout masks, a blob split off for a frame: edge 0.960 -> 0.966), for
15 more shapes over the ground-truth rows (bench/RESULTS.md, forty-fourth pass).
trace.py asks these rules of every track linking.py and ribbons.link_strands make.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np
from scipy.spatial import cKDTree

from roto_core.shapes.contours import Region
from roto_core.shapes.line_strands import Strand
from roto_core.shapes.linking import Track

# A frame range is not cut below this: a piece that still strays on a few frames is reported by the QA verdict.
# Measured on the DAVIS dev set (bench/RESULTS.md): 5 instead of 10 lifts IoU p10 by up to 0.14 and edge recall
# by up to 0.12 (parkour, dog, horsejump) for about twice the shapes; 3 adds little more for twice as many again.
MIN_SHAPE_FRAMES = 5
# A hole follows on where its centroid, relative to its component's, moved by up to its own size: small holes
# (a wheel's gaps, the light between a rider's arm and body) change shape and place by about that much between
# frames. DAVIS scooter-black (43 frames): linked on the image at linking.MAX_CENTROID_SHIFT, 121 of its 130 hole
# tracks were one frame long and 58 % of the hole area fell in tracks long enough for a shape; on the component
# at this shift, 86 %; with the flicker rule of lasting_hole, edge recall 0.851 -> 0.881 (bench/RESULTS.md).
HOLE_SHIFT = 1.0
# A region this share of its object or more gets shapes however briefly it is seen (under min_lifetime_frames):
# left out, it takes its frames' IoU below 1 - this, the verdict's per-frame floor (qa.IOU_FRAME_MIN 0.90). A
# matte whose neck breaks for a frame as the object turns (DAVIS horsejump-high spun 4 degrees a frame: the lower
# half, 43 % of the object, a region of its own on frame 25 and again on 28-29, which had no shape, IoU 0.55-0.81),
# or the whole object seen for a frame or two (rotofarm roto's masks of drift-straight, frames 47 and 49, as the
# car leaves: IoU 0 and no edge there). Specks beside the object are still flicker.
BRIEF_REGION_SHARE = 0.1
# A brief region this close to a lasting region of its object, as a fraction of its own size, is a part of the object
# seen past an occluder, not flicker: a leg between the posts of a fence, 6 px wide in front of a 30 px leg.
OCCLUDER_FRACTION = 0.5
FLICKER_AREA_FACTOR = 2.0
SILHOUETTE_AREA_FACTOR = 16.0


def _cut_by_the_ends(track: Track, frames: Collection[int]) -> bool:
    """Whether ``track`` runs to the first or last of ``frames`` (the clip's, or its component's)."""
    return track.first == min(frames) or track.last == max(frames)


def lasting_region(track: Track, regions: dict[int, list[Region]], shortest: int) -> bool:
    """Whether a component track gets shapes on its own: it lives ``shortest`` frames, runs to an end of the clip
    (every frame of which has an entry in ``regions``), or on some frame its region is BRIEF_REGION_SHARE of its
    object or more. A brief track may still be a part seen past an occluder (``seen_past_occluders``)."""
    if len(track.members) >= shortest or _cut_by_the_ends(track, regions):
        return True
    members = track.members.items()
    return any(regions[f][i].area >= BRIEF_REGION_SHARE * sum(r.area for r in regions[f]) for f, i in members)


def seen_past_occluders(tracks: list[Track], lasting: list[bool], regions: dict[int, list[Region]]) -> list[bool]:
    """``lasting`` (per track, ``lasting_region``'s answer) with the brief tracks that are parts seen past an
    occluder added: on some frame the region's outline comes within OCCLUDER_FRACTION of its size (the square root
    of its area) of the outline of a lasting track's region, holes included (an island across its hole). Measured
    against lasting regions only, so specks of grain do not vouch for each other."""
    held: dict[int, list[int]] = {}
    for track, keep in zip(tracks, lasting, strict=True):
        if keep:
            for f, i in track.members.items():
                held.setdefault(f, []).append(i)
    trees: dict[int, cKDTree | None] = {}

    def near(f: int, region: Region) -> bool:
        if f not in trees:
            outlines = [o.points for i in held.get(f, []) for o in (regions[f][i].outer, *regions[f][i].holes)]
            trees[f] = cKDTree(np.concatenate(outlines)) if outlines else None
        tree = trees[f]
        if tree is None:
            return False
        gap, _ = tree.query(region.outer.points, distance_upper_bound=OCCLUDER_FRACTION * np.sqrt(region.area))
        return bool(np.isfinite(gap).any())

    return [
        keep or any(near(f, regions[f][i]) for f, i in track.members.items())
        for track, keep in zip(tracks, lasting, strict=True)
    ]


def lasting_line(
    track: Mapping[int, Strand], lines: Mapping[int, list[Strand]], regions: Mapping[int, list[Region]], shortest: int
) -> bool:
    """Whether a line's strand track gets ribbons, as ``lasting_region`` asks of a component: it lives ``shortest``
    frames, runs to an end of the clip, or on some frame it is BRIEF_REGION_SHARE of its object or more (its width
    times its length, against the object's regions and lines together). An object all but hidden behind an
    occluder for a frame leaves slivers a pixel or two wide, which are lines (``rotofarm demo``'s first shot, frame
    1031: two slivers 2 px wide and 28-52 px long, the whole object on that frame, had no shape: IoU 0)."""
    if len(track) >= shortest or min(track) == min(lines) or max(track) == max(lines):
        return True
    for f, strand in track.items():
        lines_area = sum(s.width * s.length for s in lines[f])
        if strand.width * strand.length >= BRIEF_REGION_SHARE * (lines_area + sum(r.area for r in regions[f])):
            return True
    return False


def lasting_hole(track: Track, members: dict[int, Region], shortest: int, min_area: int) -> bool:
    """Whether a hole track gets shapes. A hole as large as SILHOUETTE_AREA_FACTOR times the smallest region does
    however briefly it is open (DAVIS horsejump-high: legs crossing close a 2,200 px gap for one frame, filled by the
    body's shapes at IoU 0.86). Else it lives ``shortest`` frames (or runs to an end of its component's), and one
    shorter-lived than a cut range (MIN_SHAPE_FRAMES) is larger than FLICKER_AREA_FACTOR times the smallest region: a
    gap between a wheel's rims that opens for three frames is flicker (DAVIS car-roundabout: twelve such holes of 40-60
    px, each keyed on every frame); the light between a horse's legs for three frames is part of its silhouette. A speck
    under ``min_area`` (contours.SPECK_AREA_FACTOR) must outlive a cut range: open longer than the shortest range a
    piece is fitted over, it is a gap in the object (a rider's elbow, a bent knee), not flicker; car-roundabout's spoke
    gaps, open five frames as they turn, would each be keyed on every frame."""
    frames = len(track.members)
    area = float(np.median([members[f].holes[i].area for f, i in track.members.items()]))
    if area >= SILHOUETTE_AREA_FACTOR * min_area:
        return True
    if frames < shortest and not _cut_by_the_ends(track, members):
        return False
    if area < min_area:
        return frames > MIN_SHAPE_FRAMES
    return frames >= MIN_SHAPE_FRAMES or area >= FLICKER_AREA_FACTOR * min_area


def body_motion(regions: dict[int, list[Region]]) -> dict[int, np.ndarray]:
    """Per frame, how far the object's body (its regions' centre of mass) moved from the frame before, where the
    body is on both."""
    centres = {
        f: np.sum([r.centroid * r.area for r in rs], axis=0) / sum(r.area for r in rs)
        for f, rs in regions.items()
        if rs
    }
    return {f: c - centres[f - 1] for f, c in centres.items() if f - 1 in centres}
