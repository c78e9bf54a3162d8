"""How an object moves across the frame, read off its masks: what decides how sparse its shapes' keys can be.

Issue 11 holds every shape to at most 50 keys per 100 frames, and to 30 on slow motion: an object that barely
moves is keyed every few frames by an artist, and a tracer that keys it every other frame has keyed the mask's
jitter. Two figures per object, both from the mask's centroid:
- ``fast_motion_share``: the frames accelerating beyond what keys two frames apart can follow (the verdict
  says so beside a keys figure over its limit: a hand re-key would not make such a shot sparser);
- ``motion_per_frame``: how far the object travels a frame, as a share of its own size; at most
  SLOW_MOTION_MAX is slow motion, whose keys are held to KEYS_PER_100_SLOW_MAX (``keys_limit``).
"""

from __future__ import annotations

import cv2
import numpy as np

from roto_core.shapes.portable import length

KEYS_PER_100_MAX = 50.0
KEYS_PER_100_SLOW_MAX = 30.0
# Slow motion: the object's centroid travels at most this share of its size (the square root of its area) a frame.
# Measured over MOTION_WINDOW_FRAMES so a mask's jitter, which does not add up over frames as travel does, is a
# fifth of what it is frame to frame. DAVIS 2016 dev set, median over each sequence, ground truth / rotofarm roto's
# masks: car-roundabout 0.47 / 0.74 %, cows 0.60 / 0.67 %, camel 0.64 / 0.73 % (a car at roundabout speed,
# walking animals); every other sequence 1.91 / 2.13 % (soapbox) to 9.65 / 11.18 % (drift-straight), horsejump-
# high's segmenter masks, which lose most of the horse, 1.48 %. Frame to frame instead, the segmenter's jitter
# took car-roundabout to 1.34 %. As a share of the object's size the rule reads the same on a 4K plate as on
# DAVIS's 854x480.
SLOW_MOTION_MAX = 0.01
MOTION_WINDOW_FRAMES = 5


def mask_centroid(mask: np.ndarray) -> np.ndarray:
    """Centroid (x, y) of a non-empty boolean mask."""
    m = cv2.moments(mask.view(np.uint8), binaryImage=True)
    return np.array([m["m10"] / m["m00"], m["m01"] / m["m00"]])


def fast_motion_share(centroids: dict[int, np.ndarray], tolerance: float | None) -> float | None:
    """Share of the frames with the object on both neighbouring frames whose mask centroid accelerates by more
    than twice ``tolerance`` (px per frame²). A straight blend of keys either side misses such a frame by half the
    acceleration, beyond the tolerance, so a shape following the object needs a key there (camera shake, a
    running animal). None when no frame has both neighbours or the tolerance is unknown."""
    inner = [f for f in centroids if f - 1 in centroids and f + 1 in centroids]
    if not inner or tolerance is None:
        return None
    acceleration = [length(centroids[f - 1] - 2 * centroids[f] + centroids[f + 1]) for f in inner]
    return float(np.mean(np.array(acceleration) > 2.0 * tolerance))


def motion_per_frame(
    centroids: dict[int, np.ndarray], areas: dict[int, float], window: int = MOTION_WINDOW_FRAMES
) -> float | None:
    """The median distance the centroid travels a frame, as a share of the object's size (the square root of its
    area where the travel starts), over ``window`` frames at a time (fewer on a shorter clip). None where the object
    is on no two frames that far apart."""
    frames = sorted(centroids)
    if len(frames) < 2:
        return None
    span = min(window, frames[-1] - frames[0])
    travel = [
        length(centroids[f + span] - centroids[f]) / span / np.sqrt(areas[f]) for f in frames if f + span in centroids
    ]
    return float(np.median(travel)) if travel else None


def is_slow(motion: float | None) -> bool:
    """Whether ``motion_per_frame`` is slow motion (unknown is not)."""
    return motion is not None and motion <= SLOW_MOTION_MAX


def keys_limit(motion: float | None) -> float:
    """The most keys per 100 frames a shape of an object moving ``motion_per_frame`` may have."""
    return KEYS_PER_100_SLOW_MAX if is_slow(motion) else KEYS_PER_100_MAX
