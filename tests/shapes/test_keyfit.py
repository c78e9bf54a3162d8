"""The key fit's arithmetic: the banded solve, the spline's least squares, its robustness to a slipped point."""

from __future__ import annotations

import numpy as np

from roto_core.shapes.keyfit import KEY_POP_WEIGHT, Spline, _banded_solve, _first_knots


def test_banded_solve_matches_a_dense_solve_for_every_column() -> None:
    rng = np.random.default_rng(3)
    count, columns = 9, 4
    bands = [rng.uniform(0.0, 0.3, (count - d, columns)) for d in range(3)]
    bands[0] += 2.0  # diagonally dominant, so positive definite
    right = rng.normal(size=(count, columns, 6))
    got = _banded_solve(bands, right)
    for c in range(columns):
        dense = np.diag(bands[0][:, c])
        for d in (1, 2):
            dense += np.diag(bands[d][:, c], d) + np.diag(bands[d][:, c], -d)
        np.testing.assert_allclose(got[:, c], np.linalg.solve(dense, right[:, c]), atol=1e-10)


def test_key_pop_bands_are_the_normal_matrix_of_each_inner_keys_change_of_velocity() -> None:
    knots = [0, 2, 3, 7, 8, 12, 20]
    spline = Spline(knots, 21)
    relaxed = {7: 0.25}
    bands = spline._pop_bands(2, relaxed)
    rows = np.zeros((len(knots) - 2, len(knots)))
    for k in range(1, len(knots) - 1):
        before, after = 1.0 / (knots[k] - knots[k - 1]), 1.0 / (knots[k + 1] - knots[k])
        factor = min(relaxed.get(knots[j], 1.0) for j in (k - 1, k, k + 1))
        rows[k - 1, k - 1 : k + 2] = np.sqrt(KEY_POP_WEIGHT * factor) * np.array([before, -(before + after), after])
    normal = rows.T @ rows
    for d in range(3):
        for column in range(2):
            np.testing.assert_allclose(bands[d][:, column], np.diag(normal, d), atol=1e-12)


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
    spline = Spline([0, 19], 20)
    values = spline.fit(target)
    np.testing.assert_allclose(spline.at(values), target, atol=1e-9)
    held = Spline([5, 12], 20)
    at = held.at(target[[5, 12]])
    np.testing.assert_allclose(at[:5], np.repeat(target[5:6], 5, axis=0))
    np.testing.assert_allclose(at[13:], np.repeat(target[12:13], 7, axis=0))


def test_a_point_that_slipped_on_one_frame_does_not_drag_the_fit() -> None:
    target = _trajectory(13)
    slipped = target.copy()
    slipped[6, 1, 2:4] += [25.0, -10.0]
    spline = Spline([0, 12], 13)
    fitted = spline.at(spline.fit(slipped))
    plain = np.linalg.lstsq(np.stack((spline.early, spline.late), axis=1), slipped[:, 1, 2], rcond=None)[0]
    plain_miss = np.abs(np.stack((spline.early, spline.late), axis=1) @ plain - target[:, 1, 2]).max()
    robust_miss = np.abs(fitted[:, 1, 2] - target[:, 1, 2]).max()
    assert robust_miss < 0.5 * plain_miss, (robust_miss, plain_miss)


def test_first_keys_are_sparse_on_steady_motion_and_dense_on_a_jerk() -> None:
    steady = _trajectory(60)
    assert _first_knots(steady, 1.5) == [0, 24, 48, 59]
    jerky = steady.copy()
    jerky[30:, :, 2] += 8.0 * np.arange(30)[:, None] ** 1.5 / 10.0
    knots = _first_knots(jerky, 1.5)
    assert len(knots) > 6 and knots[:2] == [0, 24]
