"""Smoothing the per-frame fits over time in the frame of each point's neighbourhood (smoothing.py): a rigid part
keeps its motion at any speed and loses its jitter; a part bending steadily keeps its bend; a slide along the
outline moves no point across it."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from roto_core.shapes.model import LEFT, POINT, RIGHT, Shape
from roto_core.shapes.qa import local_boil
from roto_core.shapes.smoothing import MAX_SMOOTHING_SIGMA_FRAMES, slid_along, smooth_local

FRAMES = 24
SMOOTHING = 0.5


def _controls(points: np.ndarray) -> np.ndarray:
    """``(F, N, 2)`` points of closed outlines → ``(F, N, 3, 2)`` controls, handles a third of the way to the
    neighbours along the chord between them."""
    chord = np.roll(points, -1, axis=1) - np.roll(points, 1, axis=1)
    ctrl = np.zeros((*points.shape[:2], 3, 2))
    ctrl[:, :, POINT] = points
    ctrl[:, :, LEFT] = -chord / 6.0
    ctrl[:, :, RIGHT] = chord / 6.0
    return ctrl


def _rigid_outlines() -> np.ndarray:
    """A 14-point blob 60-90 px across, thrown across the frame: it speeds up, turns faster and faster and is
    shaken sideways (the camera), every frame a different motion."""
    angles = np.linspace(0.0, 2.0 * np.pi, 14, endpoint=False)
    radius = 40.0 + 8.0 * np.cos(3.0 * angles)
    shape = np.stack((radius * np.cos(angles), 0.7 * radius * np.sin(angles)), axis=1)
    frames = []
    for f in range(FRAMES):
        turn = 0.004 * f * f
        rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
        shift = np.array([200.0 + 0.6 * f * f, 150.0 + 6.0 * np.sin(1.9 * f)])
        frames.append(shape @ rotation.T + shift)
    return np.array(frames)


def _boil(ctrl: np.ndarray) -> float:
    shape = Shape("s", "o", "add", 0, len(ctrl) - 1, np.arange(len(ctrl)), ctrl, np.zeros(ctrl.shape[1], bool))
    return float(np.sqrt(np.mean(local_boil(shape) ** 2)))


def test_a_rigid_part_keeps_its_motion_at_any_speed() -> None:
    ctrl = _controls(_rigid_outlines())
    smoothed = smooth_local(ctrl, SMOOTHING)
    assert np.abs(smoothed - ctrl).max() < 1e-6
    # A plain average of positions over the same frames pulls the accelerating, shaken blob off its place.
    plain = gaussian_filter1d(ctrl, MAX_SMOOTHING_SIGMA_FRAMES * SMOOTHING, axis=0, mode="nearest")
    assert np.abs(plain - ctrl)[2:-2].max() > 3.0


def test_jitter_on_a_rigid_part_is_taken_out() -> None:
    truth = _controls(_rigid_outlines())
    rng = np.random.default_rng(3)
    noisy = truth.copy()
    noisy[:, :, POINT] += rng.normal(0.0, 0.5, noisy[:, :, POINT].shape)
    smoothed = smooth_local(noisy, SMOOTHING)
    before = np.sqrt(np.mean(np.sum((noisy - truth)[:, :, POINT] ** 2, axis=2)))
    after = np.sqrt(np.mean(np.sum((smoothed - truth)[:, :, POINT] ** 2, axis=2)))
    # Measured: 0.70 -> 0.47 px from the truth (each point's own jitter moves the similarity it is carried by a
    # little); boil, against each neighbourhood's steady motion, 0.77 -> 0.17 px.
    assert after < 0.75 * before
    assert _boil(smoothed) < 0.3 * _boil(noisy)


def test_a_part_bending_steadily_keeps_its_bend() -> None:
    """A strip 120 px long curling up, its curvature growing every frame (a tail or an arm swinging up): the
    neighbourhoods are carried with its bend, so the smoothed outline stays on it."""
    frames = []
    along = np.linspace(-60.0, 60.0, 12)
    for f in range(FRAMES):
        curl = 0.002 + 0.0006 * f
        centre = np.stack((np.sin(curl * along) / curl, (1.0 - np.cos(curl * along)) / curl), axis=1)
        normal = np.stack((-np.sin(curl * along), np.cos(curl * along)), axis=1)
        outline = np.concatenate((centre - 6.0 * normal, (centre + 6.0 * normal)[::-1])) + np.array([300.0, 200.0])
        frames.append(outline)
    ctrl = _controls(np.array(frames))
    smoothed = smooth_local(ctrl, SMOOTHING)
    # Measured: at most 0.04 px off.
    assert np.linalg.norm((smoothed - ctrl)[:, :, POINT], axis=2).max() < 0.1


def test_a_slide_moves_points_only_along_the_outline() -> None:
    truth = _controls(_rigid_outlines())
    rng = np.random.default_rng(5)
    noisy = truth.copy()
    noisy[:, :, POINT] += rng.normal(0.0, 0.8, noisy[:, :, POINT].shape)
    slid = slid_along(noisy, smooth_local(noisy, SMOOTHING))
    tangent = noisy[:, :, RIGHT] - noisy[:, :, LEFT]
    tangent /= np.linalg.norm(tangent, axis=2, keepdims=True)
    moved = (slid - noisy)[:, :, POINT]
    across = moved[..., 0] * tangent[..., 1] - moved[..., 1] * tangent[..., 0]
    assert np.abs(across).max() < 1e-9
    assert np.abs(moved).max() > 0.1
    assert np.array_equal(slid[:, :, [LEFT, RIGHT]], noisy[:, :, [LEFT, RIGHT]])
