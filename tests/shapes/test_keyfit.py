"""The key fit's arithmetic: the banded solve, the key-pop penalty, the spline's least squares (the compiled fit
against the numpy and LAPACK code it replaced, on random and on real DAVIS per-frame fits), its robustness to a
slipped point."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.linalg import solveh_banded

from roto_core.contracts import ShapeSettings
from roto_core.shapes import keyfit
from roto_core.shapes.keyfit import (
    KEY_POP_WEIGHT,
    PLAINLY_OFF,
    ROBUST_PX,
    ROBUST_ROUNDS,
    START_SPAN_FRAMES,
    _first_knots,
    _plainly_needed,
    fitted,
)
from roto_core.shapes.keyfit_kernel import band_solve, control_shifts, pop_bands, spline_tables
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.trace import trace_shapes

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"


def test_banded_solve_matches_a_dense_solve_for_every_column() -> None:
    rng = np.random.default_rng(3)
    for count in (1, 2, 3, 9):
        bands = [rng.uniform(0.0, 0.3, count) for _ in range(3)]
        bands[0] += 2.0  # diagonally dominant, so positive definite
        right = rng.normal(size=(count, 6))
        dense = np.diag(bands[0])
        for d in range(1, min(count, 3)):
            dense += np.diag(bands[d][: count - d], d) + np.diag(bands[d][: count - d], -d)
        np.testing.assert_allclose(band_solve(*bands, right), np.linalg.solve(dense, right), atol=1e-12)


def test_key_pop_bands_are_the_normal_matrix_of_each_inner_keys_change_of_velocity() -> None:
    knots = np.array([0, 2, 3, 7, 8, 12, 20])
    relaxed = {7: 0.25}
    bands = pop_bands(knots, np.array([relaxed.get(int(k), 1.0) for k in knots]), KEY_POP_WEIGHT)
    rows = np.zeros((len(knots) - 2, len(knots)))
    for k in range(1, len(knots) - 1):
        before, after = 1.0 / (knots[k] - knots[k - 1]), 1.0 / (knots[k + 1] - knots[k])
        factor = min(relaxed.get(int(knots[j]), 1.0) for j in (k - 1, k, k + 1))
        rows[k - 1, k - 1 : k + 2] = np.sqrt(KEY_POP_WEIGHT * factor) * np.array([before, -(before + after), after])
    normal = rows.T @ rows
    for d in range(3):
        np.testing.assert_allclose(bands[d][: len(knots) - d], np.diag(normal, d), atol=1e-12)


class _Blend:
    """Per frame, the keys around it and how far it is between them (keyfit_kernel.spline_tables), and the blend
    of key values they give, in numpy."""

    def __init__(self, knots: np.ndarray, count: int) -> None:
        self.span, self.next, self.late = spline_tables(np.asarray(knots, np.int64), count)
        self.early = 1.0 - self.late

    def at(self, values: np.ndarray) -> np.ndarray:
        shape = (-1,) + (1,) * (values.ndim - 1)
        return self.early.reshape(shape) * values[self.span] + self.late.reshape(shape) * values[self.next]


def _numpy_fit(knots: np.ndarray, target: np.ndarray, relaxed: dict[int, float]) -> np.ndarray:
    """keyfit.fitted's key values as numpy and LAPACK computed them before it was compiled: frame-to-key sums as
    products with 0/1 matrices, the pop penalty's bands, all points' systems stacked into one banded matrix for
    scipy's ``solveh_banded``, the Huber weights from each point's miss."""
    count, points, channels = target.shape
    spline = _Blend(knots, count)
    keys, frames = len(knots), np.arange(count)
    to_span, to_next = np.zeros((keys, count)), np.zeros((keys, count))
    to_span[spline.span, frames] = 1.0
    to_next[spline.next, frames] = 1.0
    pop = pop_bands(np.asarray(knots, np.int64), np.array([relaxed.get(int(k), 1.0) for k in knots]), KEY_POP_WEIGHT)
    weights = np.ones((count, points))
    for _ in range(ROBUST_ROUNDS):
        early, late = weights * spline.early[:, None], weights * spline.late[:, None]
        diag = pop[0][:, None] + to_span @ (early * spline.early[:, None]) + to_next @ (late * spline.late[:, None])
        first = pop[1][: keys - 1, None] + to_span[:-1] @ (early * spline.late[:, None])
        second = np.repeat(pop[2][: max(keys - 2, 0), None], points, axis=1)
        flat = target.reshape(count, -1)
        right = to_span @ (early.repeat(channels, axis=1) * flat) + to_next @ (late.repeat(channels, axis=1) * flat)
        lower = np.zeros((3, points, keys))
        lower[0], lower[1, :, : keys - 1], lower[2, :, : max(keys - 2, 0)] = diag.T, first.T, second.T
        stacked = right.reshape(keys, points, channels).transpose(1, 0, 2).reshape(points * keys, -1)
        x = solveh_banded(lower.reshape(3, points * keys), stacked, lower=True)
        values = x.reshape(points, keys, channels).transpose(1, 0, 2)
        miss = np.linalg.norm((spline.at(values) - target)[..., 2:4], axis=2)
        weights = ROBUST_PX / np.maximum(miss, ROBUST_PX)
    return values


def test_the_compiled_fit_is_the_numpy_fit_on_random_trajectories_and_relaxed_keys() -> None:
    rng = np.random.default_rng(5)
    for count, knots in ((1, [0]), (2, [0, 1]), (7, [3]), (13, [0, 12]), (30, [0, 4, 5, 11, 20, 29])):
        target = _trajectory(count, 4) + rng.normal(0.0, 2.0, (count, 4, 6))
        target[count // 2, 1, 2:4] += 30.0  # one slipped point, so the second round reweighs
        relaxed = {int(knots[-1]): 0.25} if len(knots) > 2 else {}
        want = _numpy_fit(np.array(knots), target, relaxed)
        got = fitted(np.array(knots), target, relaxed)[0]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_every_fit_on_a_real_camel_is_the_numpy_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """DAVIS camel's real matte, 10 frames: every fit the key search makes (first keys, halved spans, key removals,
    relaxed pops) gives the numpy fit's key values within 1e-9 px."""
    compiled = keyfit.fitted
    seen: list[tuple[int, bool]] = []

    def both_ways(knots, target, relaxed):
        values, at = compiled(knots, target, relaxed)
        np.testing.assert_allclose(values, _numpy_fit(knots, target, relaxed), rtol=0, atol=1e-9)
        np.testing.assert_array_equal(at, _Blend(knots, len(target)).at(values))
        seen.append((len(knots), bool(relaxed)))
        return values, at

    monkeypatch.setattr(keyfit, "fitted", both_ways)
    masks = MaskSequence(DATA / "camel" / "Annotations" / "#####.png", 0, 9, default_object="matte")
    trace_shapes(masks, ShapeSettings(), name="camel")
    assert len(seen) > 100
    assert {k for k, _ in seen} >= {1, 2, 3, 8} and any(r for _, r in seen)


def _trajectory(frames: int, points: int = 3) -> np.ndarray:
    """``(F, points, 6)`` controls moving at constant speed: tangents fixed, positions sliding."""
    t = np.arange(frames, dtype=np.float64)[:, None]
    target = np.zeros((frames, points, 6))
    target[:, :, 0:2] = [-3.0, 1.0]
    target[:, :, 4:6] = [3.0, -1.0]
    target[:, :, 2] = 100.0 + 4.0 * t + 10.0 * np.arange(points)
    target[:, :, 3] = 50.0 - 1.5 * t
    return target


def test_a_steady_motion_is_fitted_exactly_by_its_end_keys_and_held_beyond_them() -> None:
    target = _trajectory(20)
    _, at = fitted(np.array([0, 19]), target, {})
    np.testing.assert_allclose(at, target, atol=1e-9)
    at = _Blend(np.array([5, 12]), 20).at(target[[5, 12]])
    np.testing.assert_allclose(at[:5], np.repeat(target[5:6], 5, axis=0))
    np.testing.assert_allclose(at[13:], np.repeat(target[12:13], 7, axis=0))


def test_a_point_that_slipped_on_one_frame_does_not_drag_the_fit() -> None:
    target = _trajectory(13)
    slipped = target.copy()
    slipped[6, 1, 2:4] += [25.0, -10.0]
    spline = _Blend(np.array([0, 12]), 13)
    _, fit = fitted(np.array([0, 12]), slipped, {})
    plain = np.linalg.lstsq(np.stack((spline.early, spline.late), axis=1), slipped[:, 1, 2], rcond=None)[0]
    plain_miss = np.abs(np.stack((spline.early, spline.late), axis=1) @ plain - target[:, 1, 2]).max()
    robust_miss = np.abs(fit[:, 1, 2] - target[:, 1, 2]).max()
    assert robust_miss < 0.5 * plain_miss, (robust_miss, plain_miss)


def test_first_keys_are_sparse_on_steady_motion_and_dense_on_a_jerk() -> None:
    steady = _trajectory(60)
    assert _first_knots(steady, 1.5) == [0, 24, 48, 59]
    jerky = steady.copy()
    jerky[30:, :, 2] += 8.0 * np.arange(30)[:, None] ** 1.5 / 10.0
    knots = _first_knots(jerky, 1.5)
    assert len(knots) > 6 and knots[:2] == [0, 24]


def test_control_shifts_are_numpys_norms_of_each_moved_control_point_to_the_bit() -> None:
    """The recheck's bound (keyfit._recheck) reads how far any absolute control point moved per frame: the
    compiled shifts equal numpy's (the move of the point, and of the point plus either handle), bit for bit."""
    rng = np.random.default_rng(5)
    before = rng.normal(0.0, 40.0, (30, 14, 6))
    after = before + rng.normal(0.0, 0.3, before.shape) * rng.uniform(0.0, 1.0, (30, 1, 1))
    after[3] = before[3]
    delta = (after - before).reshape(30, 14, 3, 2)
    point = delta[:, :, 1]
    moved = np.stack((point, point + delta[:, :, 0], point + delta[:, :, 2]), axis=2)
    expected = np.linalg.norm(moved, axis=3).max(axis=(1, 2))
    got = control_shifts(before, after)
    assert got.tobytes() == expected.tobytes()
    assert got[3] == 0.0 and (got[np.arange(30) != 3] > 0.0).all()
    # A handle alone moving far moves its control point that far, not the point.
    handle = before.copy()
    handle[0, 2, 4] += 7.0
    assert control_shifts(before, handle)[0] == pytest.approx(7.0)


def _numpy_first_knots(target: np.ndarray, tolerance: float) -> list[int]:
    """The first keys as numpy read them before they were compiled (keyfit_kernel.first_knots)."""
    count = len(target)
    points = target[:, :, 2:4]
    knots = [0]
    while knots[-1] < count - 1:
        start = knots[-1]
        end = start + 1
        for candidate in range(start + 2, min(start + START_SPAN_FRAMES, count - 1) + 1):
            w = (np.arange(start + 1, candidate) - start) / (candidate - start)
            blend = (1.0 - w)[:, None, None] * points[start] + w[:, None, None] * points[candidate]
            if np.linalg.norm(blend - points[start + 1 : candidate], axis=2).max() > tolerance:
                break
            end = candidate
        knots.append(end)
    return knots


def test_compiled_first_keys_and_plain_need_are_numpys_decisions() -> None:
    """On random walks of every pace, at tolerances that put many blends a rounding away from the limit, the
    compiled first keys and the plain-need test decide as numpy did, blend for blend."""
    rng = np.random.default_rng(11)
    for trial in range(60):
        frames, points = int(rng.integers(2, 70)), int(rng.integers(1, 25))
        pace = rng.choice([0.05, 0.5, 3.0])
        target = np.cumsum(rng.normal(0.0, pace, (frames, points, 6)), axis=0) + rng.uniform(0.0, 800.0)
        for tolerance in (0.5, 1.5, 2.25):
            assert _first_knots(target, tolerance) == _numpy_first_knots(target, tolerance), (trial, tolerance)
        if frames < 3:
            continue
        knot = int(rng.integers(1, frames - 1))
        fewer = [0, *sorted(rng.choice(np.arange(1, frames - 1), size=min(3, frames - 2), replace=False)), frames - 1]
        fewer = [k for k in fewer if k != knot]
        before, after = max(k for k in fewer if k < knot), min(k for k in fewer if k > knot)
        w = (knot - before) / (after - before)
        blend = ((1.0 - w) * target[before] + w * target[after])[:, 2:4]
        for tolerance in (0.1, 0.5, 1.5):
            numpy_says = bool(np.linalg.norm(blend - target[knot][:, 2:4], axis=1).max() > PLAINLY_OFF * tolerance)
            assert _plainly_needed(target, target, fewer, knot, tolerance) == numpy_says
