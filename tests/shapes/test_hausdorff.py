"""``nearest.hausdorff`` is scipy's symmetric Hausdorff distance (directed_hausdorff both ways) to the bit: the
straight fallback (pieces._straight_is_closer) compares two such distances, and a last-bit difference could flip
which of a curve and a line is kept. On random sets, and on every comparison of DAVIS real mattes' pieces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.distance import directed_hausdorff

from roto_core.contracts import ShapeSettings
from roto_core.shapes import pieces
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.nearest import hausdorff
from roto_core.shapes.trace import trace_shapes

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"


def _scipy(a: np.ndarray, b: np.ndarray) -> float:
    return max(directed_hausdorff(a, b)[0], directed_hausdorff(b, a)[0])


@pytest.mark.parametrize("seed", range(20))
def test_random_sets_measure_as_scipy_does(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.0, 500.0, (int(rng.integers(1, 80)), 2))
    b = a[rng.integers(0, len(a), int(rng.integers(1, 80)))] + rng.normal(0.0, 3.0, (1, 2))
    for x, y in ((a, b), (b, a), (a, a), (a, rng.uniform(0.0, 500.0, (5, 2)))):
        assert hausdorff(x, y) == _scipy(x, y)


def test_a_point_far_off_the_other_set_is_the_distance() -> None:
    line = np.stack((np.arange(11.0), np.zeros(11)), axis=1)
    # The line's points at 2-3 and 7-8 are 2 from the nearest of the three.
    assert hausdorff(line, np.array([[5.0, 0.0], [0.0, 0.0], [10.0, 0.0]])) == 2.0
    assert hausdorff(line, np.array([[5.0, 4.0]])) == np.hypot(5.0, 4.0)


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_every_comparison_on_real_mattes_is_scipys(monkeypatch: pytest.MonkeyPatch) -> None:
    """DAVIS horsejump-high's fast legs and paragliding-launch's pilot: curves that cannot follow their edge,
    where the straight line may be closer."""
    asked: list[float] = []

    def both(a: np.ndarray, b: np.ndarray) -> float:
        got = hausdorff(a, b)
        assert got == _scipy(a, b)
        asked.append(got)
        return got

    monkeypatch.setattr(pieces, "hausdorff", both)
    for name in ("horsejump-high", "paragliding-launch"):
        masks = MaskSequence(DATA / name / "Annotations" / "#####.png", 0, 9, default_object="matte")
        trace_shapes(masks, ShapeSettings(), name=name)
    assert len(asked) > 20 and max(asked) > 10.0
