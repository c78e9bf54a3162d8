"""The QA's ``fast_motion_share``: frames whose object accelerates so much that a linear in-between of any shape
misses them by more than the tolerance, read off the real DAVIS 2016 mattes (a running dog and a car on a
roundabout, 30 frames each). The verdict's use of it is tested with the other verdict tests (test_cli.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.qa import fast_motion_share, mask_centroid

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"
FRAMES = 30


def _centroids(sequence: str) -> dict[int, np.ndarray]:
    masks = MaskSequence(DATA / sequence / "Annotations" / "#####.png", 0, FRAMES - 1, default_object="m")
    return {f: mask_centroid(masks.read(f)["m"]) for f in range(FRAMES)}


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
