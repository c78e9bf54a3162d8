"""The QA's motion figures (roto_core.shapes.motion), read off the real DAVIS 2016 mattes (30 frames each):
``fast_motion_share``, frames whose object accelerates so much that a linear in-between of any shape misses them by
more than the tolerance (a running dog, not a car on a roundabout); ``motion_per_frame``, the travel a frame as a
share of the object's size, which holds slow motion (the car, a walking camel, not the dog nor a soapbox racer) to
30 keys per 100 frames. The verdict's use of them is tested with the other verdict tests (test_cli.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.motion import (
    KEYS_PER_100_MAX,
    KEYS_PER_100_SLOW_MAX,
    fast_motion_share,
    keys_limit,
    mask_centroid,
    motion_per_frame,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"
FRAMES = 30


def _masks(sequence: str) -> list[np.ndarray]:
    masks = MaskSequence(DATA / sequence / "Annotations" / "#####.png", 0, FRAMES - 1, default_object="m")
    return [masks.read(f)["m"] for f in range(FRAMES)]


def _centroids(sequence: str) -> dict[int, np.ndarray]:
    return {f: mask_centroid(m) for f, m in enumerate(_masks(sequence))}


def _motion(sequence: str) -> float | None:
    masks = _masks(sequence)
    return motion_per_frame(
        {f: mask_centroid(m) for f, m in enumerate(masks)}, {f: float(m.sum()) for f, m in enumerate(masks)}
    )


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_a_running_dog_needs_keys_where_a_turning_car_does_not() -> None:
    dog = fast_motion_share(_centroids("dog"), 1.5)
    car = fast_motion_share(_centroids("car-roundabout"), 1.5)
    assert dog is not None and dog >= 0.6, dog
    assert car is not None and car <= 0.05, car
    assert fast_motion_share(_centroids("dog"), 10.0) < dog


def test_share_counts_only_frames_with_both_neighbours() -> None:
    steady = {f: np.array([3.0 * f, 0.0]) for f in range(10)}
    assert fast_motion_share(steady, 1.5) == 0.0
    shaken = {f: np.array([3.0 * f + (4.0 if f % 2 else 0.0), 0.0]) for f in range(10)}
    assert fast_motion_share(shaken, 1.5) == 1.0
    assert fast_motion_share({0: np.zeros(2), 2: np.ones(2)}, 1.5) is None
    assert fast_motion_share(steady, None) is None


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_a_turning_car_and_a_walking_camel_are_slow_motion_a_running_dog_is_not() -> None:
    slow = {s: _motion(s) for s in ("car-roundabout", "camel")}
    fast = {s: _motion(s) for s in ("dog", "soapbox")}
    assert all(m is not None and m <= 0.008 for m in slow.values()), slow
    assert all(m is not None and m >= 0.015 for m in fast.values()), fast
    assert {keys_limit(m) for m in slow.values()} == {KEYS_PER_100_SLOW_MAX}
    assert {keys_limit(m) for m in fast.values()} == {KEYS_PER_100_MAX}


def test_travel_is_taken_over_several_frames_so_jitter_does_not_read_as_motion() -> None:
    """An object of 200 px (area 40,000) drifting 1 px a frame (0.5 % of its size) whose mask's centroid jitters
    by up to 2.5 px either way (a segmenter's masks): frame to frame that reads as fast, over five frames as the
    slow drift it is."""
    rng = np.random.default_rng(3)
    areas = {f: 40_000.0 for f in range(40)}
    jittery = {f: np.array([1.0 * f, 0.0]) + rng.uniform(-2.5, 2.5, 2) for f in range(40)}
    frame_to_frame = motion_per_frame(jittery, areas, window=1)
    assert frame_to_frame is not None and frame_to_frame > 0.01
    slow = motion_per_frame(jittery, areas)
    assert slow is not None and abs(slow - 0.005) <= 0.002 and keys_limit(slow) == KEYS_PER_100_SLOW_MAX
    # A short clip is measured over what it has; an object on one frame has no travel.
    assert motion_per_frame({0: np.zeros(2), 2: np.array([3.0, 4.0])}, {0: 100.0, 2: 100.0}) == pytest.approx(0.25)
    assert motion_per_frame({0: np.zeros(2)}, {0: 100.0}) is None
    assert keys_limit(None) == KEYS_PER_100_MAX
