"""The compiled skeleton, junctions and chains (skeleton.py) are what the array formulation found, to the bit and
in the same order: on random images (speckle, blobs, a ring of wire) and on real DAVIS paragliding-launch rigging
lines. The reference below is that formulation: numpy's whole-array thinning and scipy's graph search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, shortest_path

from roto_core.contracts import ShapeSettings
from roto_core.shapes import skeleton as compiled
from roto_core.shapes.contours import ThinSplitter
from roto_core.shapes.maskseq import MaskSequence

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"
_NEIGHBOURS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


def _ring(padded: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    ring = [padded[ys + dy, xs + dx] for dy, dx in _NEIGHBOURS]
    runs = sum(((ring[i] == 0) & (ring[(i + 1) % 8] == 1)).astype(np.int32) for i in range(8))
    return ring, runs


def _skeleton(binary: np.ndarray) -> np.ndarray:
    s = np.pad(binary.astype(np.uint8), 1)
    ys, xs = np.nonzero(s)
    while len(ys):
        changed = False
        for step in (0, 1):
            p, turns = _ring(s, ys, xs)
            count = sum(q.astype(np.int32) for q in p)
            north, east, south, west = p[0], p[2], p[4], p[6]
            if step == 0:
                side = (north * east * south == 0) & (east * south * west == 0)
            else:
                side = (north * east * west == 0) & (north * south * west == 0)
            drop = (count >= 2) & (count <= 6) & (turns == 1) & side
            if drop.any():
                s[ys[drop], xs[drop]] = 0
                ys, xs = ys[~drop], xs[~drop]
                changed = True
        if not changed:
            break
    return s[1:-1, 1:-1].astype(bool)


def _junctions(skel: np.ndarray) -> np.ndarray:
    s = np.pad(skel.astype(np.uint8), 1)
    ys, xs = np.nonzero(s)
    _, runs = _ring(s, ys, xs)
    out = np.zeros_like(skel)
    out[ys[runs >= 3] - 1, xs[runs >= 3] - 1] = True
    return out


def _chains(skel: np.ndarray, min_pixels: int) -> list[np.ndarray]:
    ys, xs = np.nonzero(skel)
    n = len(ys)
    if n == 0:
        return []
    index = np.full((skel.shape[0] + 2, skel.shape[1] + 2), -1, np.int32)
    index[ys + 1, xs + 1] = np.arange(n)
    rows, cols = [], []
    for dy, dx in _NEIGHBOURS:
        j = index[ys + 1 + dy, xs + 1 + dx]
        rows.append(np.flatnonzero(j >= 0))
        cols.append(j[j >= 0])
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r)), (r, c)), shape=(n, n)).tocsr()
    _, label = connected_components(graph, directed=False)
    degree = np.diff(graph.indptr)
    ends = np.bincount(label, weights=degree <= 1, minlength=label.max() + 1)
    loops = np.flatnonzero(ends == 0)
    if len(loops):
        opened = np.argmax(label[None, :] == loops[:, None], axis=1)
        keep = ~np.isin(r, opened) & ~np.isin(c, opened)
        graph = coo_matrix((np.ones(int(keep.sum())), (r[keep], c[keep])), shape=(n, n)).tocsr()
        _, label = connected_components(graph, directed=False)
    big = np.flatnonzero(np.bincount(label) >= min_pixels)
    if len(big) == 0:
        return []
    first = np.argmax(label[None, :] == big[:, None], axis=1)
    steps = shortest_path(graph, unweighted=True, indices=first)
    starts = np.argmax(np.where(np.isfinite(steps), steps, -1.0), axis=1)
    depth = shortest_path(graph, unweighted=True, indices=starts)
    pts = np.stack([xs + 0.5, ys + 0.5], axis=1).astype(np.float64)
    ordered = []
    for row, component in enumerate(big):
        members = np.flatnonzero(label == component)
        d = depth[row, members].astype(np.int64)
        sums = np.zeros((d.max() + 1, 2))
        np.add.at(sums, d, pts[members])
        ordered.append(sums / np.bincount(d)[:, None])
    return ordered


def _same(image: np.ndarray) -> None:
    skel = compiled.skeleton(image)
    assert np.array_equal(skel, _skeleton(image))
    cut = compiled.junctions(skel)
    assert np.array_equal(cut, _junctions(skel))
    for part in (skel & ~cut, skel):
        for min_pixels in (1, 2, 3):
            got, want = compiled.chains(part, min_pixels), _chains(part, min_pixels)
            assert len(got) == len(want)
            assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))


def test_random_images_thin_and_chain_as_the_arrays_did() -> None:
    rng = np.random.default_rng(2)
    for _ in range(150):
        height, width = rng.integers(3, 50, 2)
        _same(rng.random((height, width)) < rng.choice([0.1, 0.3, 0.6]))
    ring = np.zeros((20, 20), bool)
    ring[5, 5:15] = ring[14, 5:15] = ring[5:15, 5] = ring[5:15, 14] = True
    _same(ring)
    assert len(compiled.chains(ring, 2)) == 1
    _same(np.zeros((4, 4), bool))


@pytest.mark.skipif(not (DATA / "paragliding-launch").is_dir(), reason="needs ../shared/data/davis2016-dev")
def test_real_rigging_lines_thin_and_chain_as_the_arrays_did() -> None:
    masks = MaskSequence(DATA / "paragliding-launch" / "Annotations" / "#####.png", 0, 79, default_object="matte")
    splitter = ThinSplitter(ShapeSettings().min_area_px)
    chains = 0
    for frame in masks.frames[::8]:
        lines = splitter.lines(masks.read(frame)["matte"])
        if lines is not None:
            _same(lines)
            chains += len(compiled.chains(compiled.skeleton(lines), 2))
    assert chains > 500
