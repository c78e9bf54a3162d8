"""marker_order.in_loop_order, compiled, puts a frame's markers in loop order as the Python code it replaced did,
to the bit: on every frame the tracker orders tracing real DAVIS mattes (markers that swapped included), and on
markers scrambled at random (runs left out at the wrap, ties, duplicates, gaps to widen)."""

from __future__ import annotations

from bisect import bisect_left
from pathlib import Path

import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes import outline_track
from roto_core.shapes.marker_order import MIN_GAP, in_loop_order, increasing_subsequence
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.trace import trace_shapes

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"


def _plain_increasing_subsequence(values: np.ndarray) -> np.ndarray:
    """The longest strictly increasing subsequence as Python found it (patience sorting with bisect)."""
    if np.all(values[1:] > values[:-1]):
        return np.arange(len(values))
    tails: list[float] = []
    tail_index: list[int] = []
    parent = [-1] * len(values)
    for i, v in enumerate(values):
        j = bisect_left(tails, v)
        if j == len(tails):
            tails.append(v)
            tail_index.append(i)
        else:
            tails[j] = v
            tail_index[j] = i
        parent[i] = tail_index[j - 1] if j else -1
    out = []
    i = tail_index[-1] if tail_index else -1
    while i != -1:
        out.append(i)
        i = parent[i]
    return np.array(out[::-1], dtype=np.int64)


def _plain_in_loop_order(s: np.ndarray, residual: np.ndarray, length: float, previous_gaps: np.ndarray) -> np.ndarray:
    """in_loop_order as numpy computed it (before marker_order.py)."""
    count = len(s)
    r = int(np.argmin(residual))
    order = (r + np.arange(count)) % count
    d = np.mod(s[order] - s[r], length)
    rest = _plain_increasing_subsequence(d[1:]) + 1
    kept = np.concatenate(([0], rest[d[rest] > 0]))
    fixed = np.empty(count)
    fixed[kept] = d[kept]
    gaps = previous_gaps[order]
    ends = np.append(kept, count)
    for at in np.flatnonzero(np.diff(ends) >= 2):
        a, b = int(ends[at]), int(ends[at + 1])
        db = length if b == count else fixed[b]
        share = np.cumsum(gaps[a : b - 1])
        total = share[-1] + gaps[b - 1]
        fixed[a + 1 : b] = fixed[a] + (db - fixed[a]) * share / max(total, 1e-9)
    limit = length - MIN_GAP
    if not np.all(fixed[1:] >= fixed[:-1] + MIN_GAP):
        for i in range(1, count):
            fixed[i] = max(fixed[i], fixed[i - 1] + MIN_GAP)
    fixed = np.minimum(fixed, limit - MIN_GAP * (count - 1 - np.arange(count)))
    out = np.empty(count)
    out[order] = s[r] + fixed
    out[:r] -= length
    return out - np.floor(out[0] / length) * length


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_every_frame_the_tracker_orders_on_real_mattes_is_ordered_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"all": 0, "reordered": 0}

    def both_ways(s, residual, length, previous_gaps):
        got = in_loop_order(s, residual, length, previous_gaps)
        np.testing.assert_array_equal(got, _plain_in_loop_order(s, residual, length, previous_gaps))
        r = int(np.argmin(residual))
        d = np.mod(np.roll(s, -r) - s[r], length)
        calls["all"] += 1
        calls["reordered"] += int(not np.all(d[2:] > d[1:-1]))
        return got

    monkeypatch.setattr(outline_track, "in_loop_order", both_ways)
    for name in ("goat", "parkour"):
        masks = MaskSequence(DATA / name / "Annotations" / "#####.png", 0, 11, default_object="matte")
        trace_shapes(masks, ShapeSettings(), name=name)
    assert calls["all"] > 50 and calls["reordered"] > 3, calls


@pytest.mark.parametrize("seed", range(40))
def test_scrambled_markers_are_ordered_as_before(seed: int) -> None:
    rng = np.random.default_rng(seed)
    count = int(rng.integers(1, 80))
    length = float(rng.uniform(50.0, 900.0))
    gaps = rng.uniform(0.0, 2.0, count) * length / count
    s = np.cumsum(gaps) + rng.uniform(-length, length)
    swaps = rng.integers(0, count, (int(rng.integers(0, 6)), 2))
    for a, b in swaps:
        s[[a, b]] = s[[b, a]]
    s[rng.random(count) < 0.05] += length * rng.integers(-2, 3)  # laps on
    if count > 3 and seed % 4 == 0:
        s[1] = s[2]  # two markers on one place: widened to MIN_GAP
    residual = rng.uniform(0.0, 3.0, count)
    if seed % 5 == 0:
        residual[:] = 1.0  # all tie: the first is the start
    if count > 3 and seed % 3 == 1:
        residual[0] = -1.0
        s[count // 2] = s[0]  # a marker on the start's place: placed between its neighbours
    np.testing.assert_array_equal(increasing_subsequence(s), _plain_increasing_subsequence(s))
    got = in_loop_order(s, residual, length, gaps)
    np.testing.assert_array_equal(got, _plain_in_loop_order(s, residual, length, gaps))
    assert np.all(np.diff(got) >= MIN_GAP * (1 - 1e-9)) and 0.0 <= got[0] < length
