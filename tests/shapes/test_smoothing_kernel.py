"""The smoothing's compiled loops (smoothing_kernel.py) against the numpy formulation they replace: neighbourhood
similarities, the Gaussian over time in the neighbourhoods' frames and the slide along the outline, on random
controls and on every call the tracer makes on a real DAVIS matte."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes import smoothing, steadying
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import LEFT, POINT, RIGHT
from roto_core.shapes.trace import trace_shapes

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"


def _numpy_similarity(source: np.ndarray, target: np.ndarray, around: np.ndarray) -> tuple:
    src, dst = source[..., around], target[..., around]
    src_mean, dst_mean = src.mean(axis=-1), dst.mean(axis=-1)
    src, dst = src - src_mean[..., None], dst - dst_mean[..., None]
    norm = np.sum(np.abs(src) ** 2, axis=-1)
    turn = np.where(norm > 1e-12, np.sum(np.conj(src) * dst, axis=-1) / np.maximum(norm, 1e-12), 1.0)
    return turn, src_mean, dst_mean


def _numpy_smooth(ctrl: np.ndarray, smoothing_: float) -> np.ndarray:
    sigma = smoothing.MAX_SMOOTHING_SIGMA_FRAMES * smoothing_
    count, points = ctrl.shape[:2]
    side = min(smoothing.NEIGHBOURS, (points - 1) // 2)
    around = (np.arange(points)[:, None] + np.arange(-side, side + 1)) % points
    z = ctrl[..., 0] + 1j * ctrl[..., 1]
    total, summed = np.zeros((count, 1, 1)), np.zeros_like(z)
    reach = int(np.ceil(smoothing.REACH_SIGMAS * sigma))
    for d in range(-reach, reach + 1):
        lo, hi = max(0, -d), min(count, count - d)
        if hi <= lo:
            continue
        other, here = z[lo + d : hi + d], z[lo:hi]
        turn, src_mean, dst_mean = _numpy_similarity(other[:, :, POINT], here[:, :, POINT], around)
        carried = turn[..., None] * other
        carried[:, :, POINT] = turn * (other[:, :, POINT] - src_mean) + dst_mean
        weight = np.exp(-0.5 * (d / sigma) ** 2)
        summed[lo:hi] += weight * carried
        total[lo:hi] += weight
    summed /= total
    return np.stack((summed.real, summed.imag), axis=-1)


def _numpy_steady_trial(values: np.ndarray, j: int, a: int, b: int, around: np.ndarray, step: float) -> np.ndarray:
    """steady_trial as numpy writes it: key ``j``'s points moved ``step`` of the way towards the neighbourhoods'
    steady place (the middle of ``a`` and ``b``, or where ``b`` to ``a`` carries on to), handles as they were."""
    z = values[[j, a, b], :, POINT, 0] + 1j * values[[j, a, b], :, POINT, 1]
    steady = 0.5 * (z[1] + z[2]) if a < j < b else 2.0 * z[1] - z[2]
    turn, steady_mean, here_mean = _numpy_similarity(steady, z[0], around)
    moved = z[0] + step * (turn * (steady - steady_mean) + here_mean - z[0])
    out = values[j].copy()
    out[:, POINT, 0], out[:, POINT, 1] = moved.real, moved.imag
    return out


def _numpy_slid(ctrl: np.ndarray, smooth: np.ndarray) -> np.ndarray:
    point = ctrl[:, :, POINT]
    tangent = ctrl[:, :, RIGHT] - ctrl[:, :, LEFT]
    chord = np.roll(point, -1, axis=1) - np.roll(point, 1, axis=1)
    flat = np.linalg.norm(tangent, axis=2) < 1e-6
    tangent[flat] = chord[flat]
    tangent /= np.maximum(np.linalg.norm(tangent, axis=2, keepdims=True), 1e-9)
    out = ctrl.copy()
    out[:, :, POINT] = point + np.sum((smooth[:, :, POINT] - point) * tangent, axis=2, keepdims=True) * tangent
    return out


def _controls(rng: np.random.Generator, frames: int, points: int) -> np.ndarray:
    """A wobbling ellipse's controls with handles along it, some at their point (no handle), and noise."""
    angles = np.linspace(0, 2 * np.pi, points, endpoint=False)
    ctrl = np.zeros((frames, points, 3, 2))
    for f in range(frames):
        turn = 0.05 * f
        ctrl[f, :, POINT, 0] = 200 + 80 * np.cos(angles + turn) + 3 * f
        ctrl[f, :, POINT, 1] = 150 + 50 * np.sin(angles + turn)
    tangent = np.stack((-np.sin(angles), np.cos(angles)), axis=1) * 10
    ctrl[:, :, LEFT] = -tangent
    ctrl[:, :, RIGHT] = tangent
    ctrl += rng.normal(0, 0.7, ctrl.shape)
    ctrl[:, ::5, LEFT] = ctrl[:, ::5, RIGHT] = 0.0
    return ctrl


@pytest.mark.parametrize(("frames", "points", "amount"), [(12, 24, 1.0), (3, 5, 0.5), (9, 3, 1.0), (40, 17, 0.25)])
def test_random_controls_are_smoothed_and_slid_as_numpy_does(frames: int, points: int, amount: float) -> None:
    ctrl = _controls(np.random.default_rng(points), frames, points)
    smooth = smoothing.smooth_local(ctrl, amount)
    np.testing.assert_allclose(smooth, _numpy_smooth(ctrl, amount), rtol=0, atol=1e-10)
    np.testing.assert_allclose(smoothing.slid_along(ctrl, smooth), _numpy_slid(ctrl, smooth), rtol=0, atol=1e-10)
    # A neighbourhood collapsed onto one place has no turn: it is carried by its shift alone.
    flat = np.zeros(points, np.complex128) + (3 + 4j)
    around = (np.arange(points)[:, None] + np.arange(-1, 2)) % points
    turn, src_mean, dst_mean = smoothing.neighbourhood_similarity(flat, flat + 2, around)
    assert np.array_equal(turn, np.ones(points)) and np.allclose(dst_mean - src_mean, 2)


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_every_smoothing_call_on_a_real_dog_is_numpys(monkeypatch: pytest.MonkeyPatch) -> None:
    """DAVIS dog (8 frames): the smoothing before the key fit and the steadying of keys after it."""
    calls = {"smooth": 0, "slid": 0, "steady": 0}
    smooth_local, slid_along, steady_trial = smoothing.smooth_local, smoothing.slid_along, steadying.steady_trial

    def smooth(ctrl, amount):
        got = smooth_local(ctrl, amount)
        np.testing.assert_allclose(got, _numpy_smooth(ctrl, amount), rtol=0, atol=1e-9)
        calls["smooth"] += 1
        return got

    def slid(ctrl, target):
        got = slid_along(ctrl, target)
        np.testing.assert_allclose(got, _numpy_slid(ctrl, target), rtol=0, atol=1e-9)
        calls["slid"] += 1
        return got

    def steady(values, j, a, b, around, step):
        got = steady_trial(values, j, a, b, around, step)
        np.testing.assert_allclose(got, _numpy_steady_trial(values, j, a, b, around, step), rtol=0, atol=1e-9)
        calls["steady"] += 1
        return got

    monkeypatch.setattr(smoothing, "smooth_local", smooth)
    monkeypatch.setattr(smoothing, "slid_along", slid)
    monkeypatch.setattr(steadying, "slid_along", slid)
    monkeypatch.setattr(steadying, "steady_trial", steady)
    masks = MaskSequence(DATA / "dog" / "Annotations" / "#####.png", 0, 7, default_object="matte")
    trace_shapes(masks, ShapeSettings(), name="dog")
    assert min(calls.values()) >= 10
