"""A one-pixel-wide skeleton of a bool image and its pixel chains: what ribbons.py draws a matte's thin lines from.

Zhang & Suen's two-pass thinning, worked on the set pixels only; junctions are skeleton pixels with three or more
runs of set pixels around them; a chain is walked from one of its ends, so its pixel centres come in order along
it.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, shortest_path

_NEIGHBOURS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


def _ring(padded: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The eight neighbours of pixels ``(ys, xs)`` of a padded 0/1 image, clockwise from north, and how many
    runs of set pixels lie around each (one for a line's inner pixel or a staircase step, three at a junction)."""
    ring = [padded[ys + dy, xs + dx] for dy, dx in _NEIGHBOURS]
    runs = sum(((ring[i] == 0) & (ring[(i + 1) % 8] == 1)).astype(np.int32) for i in range(8))
    return ring, runs


def skeleton(binary: np.ndarray) -> np.ndarray:
    """Zhang & Suen thinning of a bool image to one-pixel-wide, 8-connected lines; worked on the set pixels
    only (a frame's lines are a few thousand pixels of a large box)."""
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


def junctions(skel: np.ndarray) -> np.ndarray:
    """Skeleton pixels where three or more lines meet: three or more runs of set pixels around them (a
    staircase step has three neighbours in one run and is not a junction)."""
    s = np.pad(skel.astype(np.uint8), 1)
    ys, xs = np.nonzero(s)
    _, runs = _ring(s, ys, xs)
    out = np.zeros_like(skel)
    out[ys[runs >= 3] - 1, xs[runs >= 3] - 1] = True
    return out


def chains(skel: np.ndarray, min_pixels: int) -> list[np.ndarray]:
    """The pixel chains of a skeleton without junctions, each as its pixel centres in order along it: by steps
    from the pixel furthest (in steps) from an arbitrary one, so the walk starts at an end; pixels the same
    number of steps along are averaged; chains of fewer than ``min_pixels`` pixels are left out. All chains of a
    frame in one graph (a chain at a time cost a frame's index image per chain)."""
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
    # A closed loop (a ring of wire) has no end to walk from: walked from any pixel, its two halves would be
    # averaged into a line across it. It is opened at one pixel.
    degree = np.diff(graph.indptr)
    ends = np.bincount(label, weights=degree <= 1, minlength=label.max() + 1)
    loops = np.flatnonzero(ends == 0)
    if len(loops):
        opened = np.argmax(label[None, :] == loops[:, None], axis=1)
        keep = ~np.isin(r, opened) & ~np.isin(c, opened)
        graph = coo_matrix((np.ones(int(keep.sum())), (r[keep], c[keep])), shape=(n, n)).tocsr()
        _, label = connected_components(graph, directed=False)
    sizes = np.bincount(label)
    big = np.flatnonzero(sizes >= min_pixels)
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
