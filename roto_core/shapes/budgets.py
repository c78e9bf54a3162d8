"""How closely one component's shapes are held to its matte: its tolerance, and the mean distance its keyed
in-betweens may keep from the edge.

The tolerance bounds how far a shape strays anywhere; the IoU an artist sees comes from the mean distance along
the whole outline, relative to how thick the object is. A band of mean width ``d`` along an outline of length
``P`` around an area ``A`` costs about ``d * P / A`` of the IoU, so the same 0.75 px that costs a large body 3 %
costs a horse and rider seen small, all legs and tail (DAVIS horsejump-high: area over outline length 7-12 px),
6-10 %. On a clean matte the mean is therefore also held to THICKNESS_FRACTION of the component's thickness (area
over outline length, holes included) on each frame, never below MEAN_FLOOR_FRACTION of the tolerance. A tolerance
loosened for a segmenter's jittery masks is left as it is: there the mask's own jitter is larger than that band,
and holding the shapes to it would key the jitter (bench/RESULTS.md, fifteenth pass).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from roto_core.contracts import ShapeSettings
from roto_core.shapes.contours import Region
from roto_core.shapes.keys import MEAN_FRACTION

CLEAN_MATTE_TOLERANCE_PX: float = ShapeSettings.model_fields["tolerance_px"].default
# A tolerance loosened beyond a clean matte's (the farm's for jittery segmenter masks) is held to this fraction
# of a small object's size (the square root of its area), but never below CLEAN_MATTE_TOLERANCE_PX: a disk
# whose outline is off by half the tolerance on average keeps IoU ~0.95 when the tolerance is 0.028 of its size.
SIZE_FRACTION = 0.028
# The mean distance of a clean matte's in-betweens from the edge, as a fraction of the component's thickness: at most
# about 3 % of its area in the band, which leaves the IoU target (0.95) room for what no mean bounds (a tail's
# strands, the 1.5 px a frame may keep off anywhere). At 4 % the thinnest DAVIS dev object sat on the target with
# nothing to spare: horsejump-high's ground-truth IoU median 0.9501 on one development machine (Intel Xeon) and 0.9494
# on the next (AMD EPYC, a fresh install), where a few fits come out otherwise. At 3 %, DAVIS dev set, ground truth,
# whole sequences (AMD EPYC): horsejump-high 0.949 -> 0.952, parkour 0.963 -> 0.966, drift-chicane 0.970 -> 0.973,
# soapbox and drift-straight p10 0.963 -> 0.966 and 0.978 -> 0.981, the rest the same or up to 0.001 higher; for 1-5
# more keys per 100 frames on the thin ones, boil on rigid parts up to 0.05 px higher (horsejump-high 0.36 -> 0.40,
# drift-chicane 0.33 -> 0.38; horsejump-high spun 4 degrees a frame, bench/shapes_transformed.py, 0.46 -> 0.51) and
# horsejump-high's CPU 5-7 % higher, in runs taken in turn (bench/RESULTS.md, thirtieth pass; earlier figures in the
# fifteenth and eighteenth passes).
THICKNESS_FRACTION = 0.03
MEAN_FLOOR_FRACTION = 0.25


@dataclass(frozen=True)
class Budget:
    """A component's settings (its tolerance sized) and, per frame, its thickness in pixels (empty where the mean
    is not held to it)."""

    settings: ShapeSettings
    thickness: Mapping[int, float]

    def mean_fractions(self, frames: Sequence[int]) -> np.ndarray:
        """Per frame of ``frames``: the mean distance allowed, as a fraction of the tolerance (keys.EdgeCheck)."""
        tolerance = self.settings.tolerance_px
        held = np.array([THICKNESS_FRACTION * self.thickness.get(f, np.inf) / tolerance for f in frames])
        return np.clip(held, MEAN_FLOOR_FRACTION, MEAN_FRACTION)


def component_budget(settings: ShapeSettings, members: Mapping[int, Region]) -> Budget:
    """The budget of one component over its frames (``members``: its region on each)."""
    regions = list(members.values())
    if settings.tolerance_px > CLEAN_MATTE_TOLERANCE_PX:
        return Budget(_sized(settings, regions), {})
    thickness = {f: r.area / (r.outer.length + sum(h.length for h in r.holes)) for f, r in members.items()}
    return Budget(settings, thickness)


def _sized(settings: ShapeSettings, regions: list[Region]) -> ShapeSettings:
    """``settings`` with a loosened tolerance held to SIZE_FRACTION of the component's size (median over its
    frames), so a small object is not traced at a slack meant for large ones (a 30 px car at 2.5 px
    misses a tenth of its width)."""
    extent = float(np.median([np.sqrt(r.area) for r in regions]))
    held = max(min(settings.tolerance_px, SIZE_FRACTION * extent), CLEAN_MATTE_TOLERANCE_PX)
    return settings if held == settings.tolerance_px else settings.model_copy(update={"tolerance_px": held})
