"""The compiled edge measurement (nearest.py, edge_measure.py) gives, to the bit, what the plain numpy computation
gives: every pair of point and sample compared, the pieces either side of the nearest sample measured, the error
summed up with numpy's quantile arithmetic, maximum and mean on the samples repeated by their weights. On random
outlines (chords, ties, outlines long enough for the block search to skip) and on every measurement the tracer
takes on a real DAVIS dog."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes import keys
from roto_core.shapes.curve_kernel import sampled_by_length
from roto_core.shapes.edge_measure import _weighted_summed, pairwise_sum
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import POINT
from roto_core.shapes.nearest import BLOCK, polyline_distances
from roto_core.shapes.pieces import CORNER_SLACK_PX
from roto_core.shapes.trace import trace_shapes

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"


def _plain_distances(points: np.ndarray, line: np.ndarray, linked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair compared; the nearest sample (first of ties); the pieces after and before it where linked."""
    dx = points[:, 0, None] - line[None, :, 0]
    dy = points[:, 1, None] - line[None, :, 1]
    squared = dx * dx + dy * dy
    nearest = squared.argmin(axis=1)
    best = np.sqrt(squared[np.arange(len(points)), nearest])
    step = np.roll(line, -1, axis=0) - line
    length = np.maximum(step[:, 0] * step[:, 0] + step[:, 1] * step[:, 1], 1e-12)
    for piece in (nearest, nearest - 1):
        x, y = points[:, 0] - line[piece, 0], points[:, 1] - line[piece, 1]
        t = np.clip((x * step[piece, 0] + y * step[piece, 1]) / length[piece], 0.0, 1.0)
        along = np.hypot(x - t * step[piece, 0], y - t * step[piece, 1])
        best = np.where(linked[piece], np.minimum(best, along), best)
    return best, nearest


def _outline(rng: np.random.Generator, count: int, radius: float) -> np.ndarray:
    turn = np.sort(rng.uniform(0.0, 2.0 * np.pi, count))
    r = radius * (1.0 + 0.2 * np.sin(3.0 * turn))
    return np.stack((500.0 + r * np.cos(turn), 400.0 + r * np.sin(turn)), axis=1)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("count", [1, 3, BLOCK, 60, 700])
def test_polyline_distances_equal_every_pair_compared(seed: int, count: int) -> None:
    rng = np.random.default_rng(seed)
    line = _outline(rng, count, 40.0 + count / 2.0)
    linked = rng.random(count) > 0.1  # runs joined by chords, as a piece's edge is
    if count > 2:
        line[count // 2] = line[count // 3]  # two samples at one place: ties go to the first
    points = line[rng.integers(0, count, 300)] + rng.normal(0.0, 3.0, (300, 2))
    points[:5] = rng.uniform(0.0, 1000.0, (5, 2))  # far off the line, in no order
    points[5:8] = line[count // 3]  # exactly on the tied samples
    got, got_nearest = polyline_distances(points, line, linked)
    want, want_nearest = _plain_distances(points, line, linked)
    np.testing.assert_array_equal(got_nearest, want_nearest)
    np.testing.assert_array_equal(got, want)


def test_a_point_on_a_linked_piece_is_on_the_line_and_one_across_a_chord_is_not() -> None:
    line = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]])
    linked = np.array([True, False, True, True])
    distance, nearest = polyline_distances(np.array([[4.0, 0.0], [10.0, 6.0]]), line, linked)
    assert distance[0] == 0.0 and nearest[0] == 0
    assert distance[1] == 4.0 and nearest[1] == 2  # the piece from sample 1 to 2 is a chord: no line there


@pytest.mark.parametrize("count", [1, 7, 8, 9, 127, 128, 129, 255, 256, 257, 1000, 4099])
def test_the_mean_is_numpyspairwise_sum_to_the_bit(count: int) -> None:
    values = np.random.default_rng(count).uniform(0.0, 3.0, count)
    assert pairwise_sum(values) == values.sum()


def _plain_quantile(values: np.ndarray, weights: np.ndarray, quantile: float) -> float:
    """numpy's linear quantile of ``values`` repeated by their ``weights``, place by place: the values from the
    largest down, each covering ``weight`` places below the total weight, the place read being the first one
    reached (in Python floats, the weights taken off the total in that order)."""
    order = np.argsort(-values, kind="stable").tolist()
    total = 0.0
    for w in weights.tolist():
        total += w
    virtual = (total - 1.0) * quantile
    below = math.floor(virtual)

    def at(place: float) -> float:
        reach = total
        for i in order:
            reach -= float(weights[i])
            if reach <= place:
                return float(values[i])
        return float(values[order[-1]])

    a = at(below)
    b = at(below + 1) if below + 1 < total else a
    gamma = virtual - below
    return b - (b - a) * (1 - gamma) if gamma >= 0.5 else a + (b - a) * gamma


def _plain_error(check: keys.EdgeCheck, piece: int, frame: int, ctrl: np.ndarray, bound: float, allowance) -> float:
    """keys.EdgeCheck.error in plain numpy: the curve sampled segment by segment by each one's length
    (curve_kernel.sampled_by_length, checked against numpy in test_curve_kernel.py), both halves measured pair by
    pair, the weighted quantile, half the worst and the weighted mean over the mean allowed."""
    if len(check.kept[piece]) == 0:
        return 0.0
    curve, curve_linked, weight = sampled_by_length(
        np.ascontiguousarray(ctrl, dtype=np.float64),
        check.kept[piece],
        check.links[piece],
        keys._CURVE_WEIGHTS,
        keys.CURVE_STEP_PX,
        keys.MIN_CURVE_SAMPLES,
    )
    kept, kept_points, edge = check.edges[piece][frame]
    inside = np.all((curve > check.low) & (curve < check.high), axis=1)
    if not inside.any():
        return 0.0
    rows = np.flatnonzero(inside)
    tips = ctrl[check.tips[piece], POINT]
    if len(tips):
        dx, dy = curve[rows, 0:1] - tips[:, 0], curve[rows, 1:2] - tips[:, 1]
        rows = rows[(dx * dx + dy * dy).min(axis=1) > CORNER_SLACK_PX**2]
    out, nearest = _plain_distances(curve[rows], edge.line, edge.linked) if len(rows) else (np.zeros(1), [0])
    if allowance is not None:
        out = out / allowance[nearest]
    if out.max() > bound * keys.OUTLIER_FACTOR:
        return out.max() / keys.OUTLIER_FACTOR
    back = _plain_distances(kept_points, curve, curve_linked)[0]
    if allowance is not None:
        back = back / allowance[kept]
    values = np.concatenate((out, back))
    weights = np.concatenate((weight[rows] if len(rows) else np.ones(1), np.ones(len(back))))
    total = summed = 0.0
    for w, v in zip(weights.tolist(), values.tolist(), strict=True):
        total += w
        summed += w * v
    quantile = _plain_quantile(values, weights, keys.HOLD_QUANTILE)
    return max(quantile, values.max() / keys.OUTLIER_FACTOR, summed / total / check.mean_fraction[frame])


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_every_error_the_tracer_measures_on_a_real_dog_is_the_plain_computations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DAVIS dog's real matte, 8 frames: pieces with corners, chords, run ends and allowances; smoothing, key fit
    and steadying all measure. Each measurement is taken again in plain numpy: the same error to the bit."""
    taken: list[tuple[float, float]] = []
    compiled = keys.EdgeCheck.error

    def both_ways(self, piece, frame, ctrl, bound=np.inf, allowance=None):
        got = compiled(self, piece, frame, ctrl, bound, allowance)
        taken.append((got, _plain_error(self, piece, frame, ctrl, bound, allowance)))
        return got

    monkeypatch.setattr(keys.EdgeCheck, "error", both_ways)
    masks = MaskSequence(DATA / "dog" / "Annotations" / "#####.png", 0, 7, default_object="matte")
    trace_shapes(masks, ShapeSettings(), name="dog")
    got, want = np.array(taken).T
    assert len(taken) > 500
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("count", [1, 2, 3, 20, 21, 400, 1201])
@pytest.mark.parametrize("quantile", [0.0, 0.5, 0.95, 0.999, 1.0])
def test_the_weighted_error_is_numpys_quantile_worst_and_mean_of_the_values_repeated_by_their_weights(
    count: int, quantile: float
) -> None:
    """edge_measure._weighted_summed keeps only the largest values as they pass: with whole weights, the same
    quantile and worst as numpy's on the values repeated by their weights, to the bit, with ties (distances repeat
    where samples lie on the same pixel grid), and the same mean but for the order of the sum."""
    rng = np.random.default_rng(count)
    values = np.round(rng.exponential(1.0, count), 1)
    weights = rng.integers(1, 5, count).astype(np.float64)
    out, back = values[: count // 3], values[count // 3 :]
    weights[count // 3 :] = 1.0
    weight = weights[: count // 3]
    repeated = np.repeat(values, weights.astype(int))
    assert _weighted_summed(out, weight, back, quantile, np.inf, np.inf) == np.quantile(repeated, quantile)
    assert _weighted_summed(out, weight, back, 0.0, 1.0, np.inf) == repeated.max()
    assert math.isclose(_weighted_summed(out, weight, back, 0.0, np.inf, 1.0), repeated.mean(), rel_tol=1e-13)
    assert _weighted_summed(out, weight, back, quantile, 2.0, np.inf) == max(
        np.quantile(repeated, quantile), repeated.max() / 2.0
    )


def test_a_heavy_sample_moves_the_quantile_as_its_repeats_would() -> None:
    """One curve sample standing for five (a short segment's, sampled by its own length) among nineteen light
    ones: numpy's 95 % quantile of the values repeated by their weights, where unweighted it reads another."""
    out = np.array([3.0, *np.linspace(0.1, 1.9, 19)])
    weight = np.array([5.0, *np.ones(19)])
    got = _weighted_summed(out, weight, np.zeros(0), 0.95, np.inf, np.inf)
    assert got == np.quantile(np.repeat(out, weight.astype(int)), 0.95) == 3.0
    assert _weighted_summed(out, np.ones(20), np.zeros(0), 0.95, np.inf, np.inf) == np.quantile(out, 0.95) < 3.0
