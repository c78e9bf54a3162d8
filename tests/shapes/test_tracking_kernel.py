"""The outline tracker's compiled loops (tracking_kernel.py) against what they replace: scipy's k-d tree and
Gaussian filter, and the numpy formulation of the ICP step, the local shifts and the projection, on every call the
tracker makes on real DAVIS mattes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d
from scipy.spatial import cKDTree

from roto_core.shapes import outline_track, portable, tracking
from roto_core.shapes.contours import find_regions
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.outline_track import Loop, OutlineTrack
from roto_core.shapes.trace import _reference_frame
from roto_core.shapes.tracking import EdgeField
from roto_core.shapes.tracking_kernel import nearest_agreeing, nearest_k, sample_boxes, wrapped_gaussian

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"


def _brute_k(points: np.ndarray, samples: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest by sorting all squared distances, ties to the earlier sample."""
    squared = ((points[:, None, :] - samples[None, :, :]) ** 2).sum(axis=2)
    order = np.argsort(squared, axis=1, kind="stable")[:, :k]
    return np.sqrt(np.take_along_axis(squared, order, axis=1)), order


@pytest.mark.parametrize("k", [1, 3, 8])
def test_nearest_samples_are_exact_with_ties_to_the_earlier(k: int) -> None:
    rng = np.random.default_rng(k)
    angles = np.sort(rng.uniform(0, 2 * np.pi, 700))
    outline = np.stack((300 + 150 * np.cos(angles), 200 + 90 * np.sin(3 * angles)), axis=1)
    grid = np.stack(np.meshgrid(np.arange(40.0), np.arange(30.0)), axis=-1).reshape(-1, 2)
    for samples in (outline, grid, rng.uniform(0, 50, (37, 2))):
        points = np.concatenate((samples + rng.normal(0, 3, samples.shape), rng.uniform(-200, 800, (50, 2))))
        # Half-integer points on the grid are as far from two to four samples: the ties.
        points = np.concatenate((points, grid[:60] + 0.5))
        dist, idx = nearest_k(points, samples, sample_boxes(samples), k)
        want_dist, want_idx = _brute_k(points, samples, k)
        np.testing.assert_array_equal(idx, want_idx)
        np.testing.assert_allclose(dist, want_dist, rtol=0, atol=1e-12)
        tree_dist, _ = cKDTree(samples).query(points, k=k)
        np.testing.assert_allclose(dist, tree_dist.reshape(len(points), k), rtol=0, atol=1e-12)


@pytest.mark.parametrize("k", [1, 2])
def test_a_tie_with_a_group_searched_later_goes_to_the_earlier_sample(k: int) -> None:
    """Samples 0-299 along a line: groups of GROUP blocks of BLOCK samples, the first group ending at sample 127.
    The second point starts its search in the block of the first's nearest (sample 130) and finds sample 128 at
    squared distance 0.5; sample 127, the earlier of the tie, lies in the first group, whose box is exactly that
    far: the group and its last block are still searched."""
    samples = np.stack((np.arange(300.0), np.zeros(300)), axis=1)
    points = np.array([[130.0, 1.0], [127.5, 0.5]])
    dist, idx = nearest_k(points, samples, sample_boxes(samples), k)
    want_dist, want_idx = _brute_k(points, samples, k)
    assert want_idx[1, 0] == 127
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_array_equal(dist, want_dist)


@pytest.mark.parametrize("k", [1, 4, 8])
def test_the_nearest_agreeing_sample_is_the_first_of_the_k_nearest_whose_normal_agrees(k: int) -> None:
    """nearest_agreeing searches the k nearest only where the nearest disagrees: the answer is the same as
    reading down the brute-force k nearest, the nearest of all (not agreed) where none of them agrees."""
    rng = np.random.default_rng(k)
    grid = np.stack(np.meshgrid(np.arange(40.0), np.arange(30.0)), axis=-1).reshape(-1, 2)
    angles = rng.uniform(0, 2 * np.pi, len(grid))
    sample_normals = np.stack((np.cos(angles), np.sin(angles)), axis=1)
    points = np.concatenate((grid[::7] + rng.normal(0, 2, (len(grid[::7]), 2)), grid[:60] + 0.5))
    turn = rng.uniform(0, 2 * np.pi, len(points))
    normals = np.stack((np.cos(turn), np.sin(turn)), axis=1)
    best, gap, agreed = nearest_agreeing(points, normals, grid, sample_normals, sample_boxes(grid), k)
    want_dist, want_idx = _brute_k(points, grid, k)
    agrees = (sample_normals[want_idx] * normals[:, None, :]).sum(axis=2) > 0.0
    first = np.where(agrees.any(axis=1), agrees.argmax(axis=1), 0)
    rows = np.arange(len(points))
    np.testing.assert_array_equal(agreed, agrees.any(axis=1))
    np.testing.assert_array_equal(best, want_idx[rows, first])
    np.testing.assert_allclose(gap, want_dist[rows, first], rtol=0, atol=1e-12)
    assert 0 < agreed.sum() < len(points) and ((first > 0).any() or k == 1)


def test_periodic_gaussian_is_scipys_wrapped_filter_even_when_wider_than_the_loop() -> None:
    rng = np.random.default_rng(0)
    for count, sigma in ((400, 8.0), (32, 8.0), (32, 2.0), (7, 20.0), (50, 0.7)):
        values = rng.normal(size=(count, 6))
        want = gaussian_filter1d(values, sigma, axis=0, mode="wrap")
        got = wrapped_gaussian(values, sigma)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-13)
        np.testing.assert_array_equal(got[: 3 * min(count, 3)], _row_by_row(values, sigma)[: 3 * min(count, 3)])


def _row_by_row(values: np.ndarray, sigma: float) -> np.ndarray:
    """Each row's window summed term by term in the weights' order, in Python floats: the order the kernel keeps."""
    radius = int(4.0 * sigma + 0.5)
    weights = [portable.exp(-0.5 / (sigma * sigma) * t * t) for t in range(-radius, radius + 1)]
    total = sum(weights)
    weights = [w / total for w in weights]
    out = np.zeros(values.shape)
    for i in range(len(values)):
        for c in range(values.shape[1]):
            total = 0.0
            for t in range(-radius, radius + 1):
                total += weights[t + radius] * float(values[(i + t) % len(values), c])
            out[i, c] = total
    return out


def _numpy_icp(src: np.ndarray, field: EdgeField, init: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """tracking.icp written with numpy and a k-d tree: rows stacked and the normal equations solved."""
    h, w = size
    tree = cKDTree(field.points)
    params = tracking._params(init)
    prior = params[:4].copy()
    radius = np.sqrt(np.mean(np.sum((src - src.mean(axis=0)) ** 2, axis=1)))
    for _ in range(tracking.ICP_ITERATIONS):
        moved = src @ tracking._transform(params)[:, :2].T + params[4:]
        inside = np.flatnonzero(((moved > 1) & (moved < [w - 1.0, h - 1.0])).all(axis=1))
        if len(inside) < 3:
            break
        dist, idx = tree.query(moved[inside])
        ok = dist <= max(3.0 * dist.mean(), 2.0)
        if ok.sum() < 3:
            break
        x, y = src[inside[ok]].T
        one, zero = np.ones_like(x), np.zeros_like(x)
        jx = np.stack((x, -y, x, y, one, zero), axis=1)
        jy = np.stack((y, x, -y, x, zero, one), axis=1)
        q, n = field.points[idx[ok]], field.normals[idx[ok]]
        slide = tracking.SLIDE_WEIGHT
        weight = np.sqrt(ok.sum()) * radius * np.array([tracking.MOTION_PRIOR] * 2 + [tracking.STRETCH_PRIOR] * 2)
        prior_rows = np.pad(np.diag(weight), ((0, 0), (0, 2)))
        rows = np.concatenate((n[:, :1] * jx + n[:, 1:] * jy, slide * jx, slide * jy, prior_rows))
        rhs = np.concatenate(((n * q).sum(axis=1), slide * q[:, 0], slide * q[:, 1], weight * prior))
        new = np.linalg.solve(rows.T @ rows, rows.T @ rhs)
        done = np.all(np.abs(new - params) < tracking.CONVERGED)
        params = new
        if done:
            break
    return tracking._transform(params)


def _numpy_local_shift(
    points: np.ndarray, normals: np.ndarray, field: EdgeField, spacing: float, size: tuple[int, int]
) -> np.ndarray:
    """tracking.local_shift written with numpy, a k-d tree and scipy's Gaussian filter."""
    tree = cKDTree(field.points)
    count = len(points)
    shift = np.zeros_like(points)
    k = min(tracking.LOCAL_CANDIDATES, len(field.points))
    weight = None
    slide = tracking.SLIDE_WEIGHT**2 * np.eye(2)
    for scale in tracking.LOCAL_SCALES_PX:
        sigma = scale / spacing
        for _ in range(tracking.LOCAL_ITERATIONS):
            moved = points + shift
            dist, idx = (a.reshape(count, k) for a in tree.query(moved, k=k))
            agree = np.einsum("mkd,md->mk", field.normals[idx], normals) > 0
            pick = np.argmin(np.where(agree, dist, np.inf), axis=1)
            best, gap = idx[np.arange(count), pick], dist[np.arange(count), pick]
            found = agree.any(axis=1) & ((moved > 1) & (moved < [size[1] - 1.0, size[0] - 1.0])).all(axis=1)
            if weight is None:
                off = np.where(found, np.minimum(gap, scale), 0.0)
                counted = gaussian_filter1d(found * 1.0, sigma, mode="wrap")
                misfit = np.sqrt(gaussian_filter1d(off * off, sigma, mode="wrap") / np.maximum(counted, 1e-9))
                weight = np.clip((misfit - 1.0) / 2.0, 0.0, 1.0)
                if not weight.any():
                    return shift
            limit = max(3.0 * np.median(gap[found]) if found.any() else 0.0, 2.0, scale)
            n = field.normals[best]
            info = ((found & (gap <= limit)) * 1.0)[:, None, None] * (n[:, :, None] * n[:, None, :] + slide)
            pull = np.einsum("mij,mj->mi", info, field.points[best] - moved)
            window = gaussian_filter1d(
                np.concatenate((info.reshape(count, 4), pull), axis=1), sigma, axis=0, mode="wrap"
            )
            step = np.linalg.solve(
                window[:, :4].reshape(count, 2, 2) + tracking.LOCAL_DAMPING * np.eye(2), window[:, 4:, None]
            )[:, :, 0]
            shift += step
            if np.abs(step).max() < tracking.LOCAL_CONVERGED_PX:
                break
    return shift * weight[:, None]


def _numpy_project(loop: Loop, points: np.ndarray, normals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Loop.project with a k-d tree: the nearest agreeing sample, then the nearer of its two segments."""
    k = min(outline_track.CANDIDATES, len(loop.points))
    dist, idx = (a.reshape(len(points), k) for a in cKDTree(loop.points).query(points, k=k))
    agree = np.einsum("nkd,nd->nk", loop.normals[idx], normals) > 0
    best = idx[np.arange(len(points)), np.argmin(np.where(agree, dist, dist + 1e6), axis=1)]
    found = []
    for seg in (best, (best - 1) % len(loop.points)):
        a, d = loop.points[seg], loop.step[seg]
        t = np.clip(((points - a) * d).sum(axis=1) / loop.seglen[seg] ** 2, 0.0, 1.0)
        found.append((loop.cum[seg] + t * loop.seglen[seg], np.hypot(*(a + t[:, None] * d - points).T)))
    pick = found[1][1] < found[0][1]
    return np.where(pick, found[1][0], found[0][0]), np.where(pick, found[1][1], found[0][1])


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
@pytest.mark.parametrize("sequence", ["camel", "car-roundabout"])
def test_every_tracking_step_on_real_mattes_is_the_numpy_formulations(
    sequence: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Camel's legs swing under its body (local shifts at work); car-roundabout's camera shakes and the car
    leaves the picture's edge. Every ICP, local shift and projection of tracking 12 frames gives what the numpy
    formulation gives, within rounding."""
    calls = {"icp": 0, "shift": 0, "project": 0, "shifted": 0}
    compiled_icp, compiled_shift, compiled_project = outline_track.icp, outline_track.local_shift, Loop.project

    def icp(src, field, init, size):
        got = compiled_icp(src, field, init, size)
        np.testing.assert_allclose(got, _numpy_icp(src, field, init, size), rtol=0, atol=1e-7)
        calls["icp"] += 1
        return got

    def local_shift(points, normals, field, spacing, size):
        got = compiled_shift(points, normals, field, spacing, size)
        np.testing.assert_allclose(got, _numpy_local_shift(points, normals, field, spacing, size), rtol=0, atol=1e-7)
        calls["shift"] += 1
        calls["shifted"] += bool(np.abs(got).max() > 0.5)
        return got

    def project(self, points, normals):
        got = compiled_project(self, points, normals)
        for a, b in zip(got, _numpy_project(self, points, normals), strict=True):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
        calls["project"] += 1
        return got

    monkeypatch.setattr(outline_track, "icp", icp)
    monkeypatch.setattr(outline_track, "local_shift", local_shift)
    monkeypatch.setattr(Loop, "project", project)
    masks = MaskSequence(DATA / sequence / "Annotations" / "#####.png", 0, 11, default_object="matte")
    outlines = {f: find_regions(masks.read(f)["matte"], 64)[0].outer for f in masks.frames}
    OutlineTrack(outlines, _reference_frame(outlines), (masks.height, masks.width))
    assert calls["icp"] == calls["shift"] == calls["project"] == 11
    if sequence == "camel":
        assert calls["shifted"] >= 3
