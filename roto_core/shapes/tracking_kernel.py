"""The outline tracker's inner loops, compiled: nearest edge samples, the ICP solve, the local shifts and the
markers' projection onto the new edge (tracking.py and outline_track.py say what each computes and why).

Each tracking step made some two hundred numpy and k-d tree calls on a hundred-odd markers, and their cost was
the calls' own, not the arithmetic: the tracker took 13 % of a DAVIS trace and most of the 1080p synthetic shot's
(bench/RESULTS.md, forty-eighth pass). Here each is one compiled call.

Nearest samples are exact, as the k-d tree's were: an outline's samples come in order along it, so blocks of
BLOCK consecutive samples have small bounding boxes, and a block further than the k-th nearest found so far is
skipped (nearest.py does the same for one nearest). Ties go to the earlier sample. The sums are taken in loops
where numpy handed products to BLAS and the Gaussian windows are periodic sums where scipy's ``gaussian_filter1d``
(``mode="wrap"``, truncated at four sigma) folded the symmetric weights, so figures differ from the numpy code in
the last bits; bench/RESULTS.md (forty-ninth pass) has the dev-set table before and after.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from roto_core.shapes.nearest import BLOCK, block_boxes, box_gaps, scan_block
from roto_core.shapes.portable import exp

# scipy.ndimage.gaussian_filter1d's default: the window reaches this many sigmas either side.
TRUNCATE = 4.0
# Blocks of samples per group: the tracker's outlines of 1,300-1,500 samples have some 80-90 blocks, and measuring
# every block's box for every point cost more than the scans (bench/RESULTS.md, fifty-seventh pass).
GROUP = 8


@njit(cache=True)
def sample_boxes(samples: np.ndarray) -> tuple:
    """The bounding boxes of each BLOCK samples (nearest.block_boxes) and of each GROUP of those blocks, for
    ``nearest_k``."""
    blocks = block_boxes(samples)
    left, top, right, bottom = blocks
    count = (left.shape[0] + GROUP - 1) // GROUP
    group_left, group_top = np.full(count, np.inf), np.full(count, np.inf)
    group_right, group_bottom = np.full(count, -np.inf), np.full(count, -np.inf)
    for b in range(left.shape[0]):
        g = b // GROUP
        group_left[g], group_top[g] = min(group_left[g], left[b]), min(group_top[g], top[b])
        group_right[g], group_bottom[g] = max(group_right[g], right[b]), max(group_bottom[g], bottom[b])
    return blocks, (group_left, group_top, group_right, group_bottom)


@njit(cache=True, inline="always")
def _box_gap(x: float, y: float, boxes: tuple, b: int) -> float:
    """The squared distance from (x, y) to box ``b`` of ``boxes``, as nearest.box_gaps takes it."""
    left, top, right, bottom = boxes
    gx = max(left[b] - x, x - right[b], 0.0)
    gy = max(top[b] - y, y - bottom[b], 0.0)
    return gx * gx + gy * gy


@njit(cache=True)
def _before(d: float, j: int, other_d: float, other_j: int) -> bool:
    """Whether sample ``j`` at squared distance ``d`` ranks before ``other_j`` at ``other_d`` (ties: the earlier)."""
    return d < other_d or (d == other_d and j < other_j)


@njit(cache=True)
def _offer(d: float, j: int, dist: np.ndarray, idx: np.ndarray, k: int) -> None:
    """Put sample ``j`` at squared distance ``d`` into the ranked ``dist``/``idx`` lists of the k nearest."""
    if not _before(d, j, dist[k - 1], idx[k - 1]):
        return
    at = k - 1
    while at > 0 and _before(d, j, dist[at - 1], idx[at - 1]):
        dist[at] = dist[at - 1]
        idx[at] = idx[at - 1]
        at -= 1
    dist[at] = d
    idx[at] = j


@njit(cache=True)
def _scan_k(x: float, y: float, samples: np.ndarray, b: int, dist: np.ndarray, idx: np.ndarray, k: int) -> None:
    """Offer block ``b``'s samples to the ranked lists of the k nearest; the one nearest as nearest.scan_block
    keeps it (the same ranking, without the lists' shifting)."""
    if k == 1:
        dist[0], idx[0] = scan_block(x, y, samples, b, dist[0], idx[0])
        return
    for j in range(b * BLOCK, min(samples.shape[0], (b + 1) * BLOCK)):
        dx, dy = x - samples[j, 0], y - samples[j, 1]
        _offer(dx * dx + dy * dy, j, dist, idx, k)


@njit(cache=True)
def nearest_k(points: np.ndarray, samples: np.ndarray, boxes: tuple, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest of ``samples`` to each point, nearest first: distances ``(N, k)`` and indices ``(N, k)``.
    The search starts at the block of the previous point's nearest (the points come along a curve); then each
    group of blocks whose box is not beyond the k-th nearest so far has its blocks' boxes measured, and each
    block not beyond it is scanned. A block's box lies in its group's, so every block the one-level search
    (nearest.py) scans is scanned here, in the same order, and the answer is the same."""
    blocks, groups = boxes
    count = blocks[0].shape[0]
    gaps = np.empty(groups[0].shape[0])
    out_dist = np.empty((points.shape[0], k))
    out_idx = np.empty((points.shape[0], k), np.int64)
    dist = np.empty(k)
    idx = np.empty(k, np.int64)
    first = 0
    for p in range(points.shape[0]):
        x, y = points[p, 0], points[p, 1]
        dist[:] = np.inf
        idx[:] = samples.shape[0]
        box_gaps(x, y, groups, gaps)
        _scan_k(x, y, samples, first, dist, idx, k)
        for g in range(gaps.shape[0]):
            if gaps[g] > dist[k - 1]:
                continue
            for b in range(g * GROUP, min(count, (g + 1) * GROUP)):
                if b != first and _box_gap(x, y, blocks, b) <= dist[k - 1]:
                    _scan_k(x, y, samples, b, dist, idx, k)
        first = idx[0] // BLOCK
        for i in range(k):
            out_dist[p, i] = math.sqrt(dist[i])
            out_idx[p, i] = idx[i]
    return out_dist, out_idx


@njit(cache=True)
def nearest_agreeing(
    points: np.ndarray, normals: np.ndarray, samples: np.ndarray, sample_normals: np.ndarray, boxes: tuple, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Of each point's ``k`` nearest samples, the nearest whose normal agrees with the point's (positive dot
    product), or the nearest of all where none does: its index, its distance, and whether one agreed.

    Mostly the nearest agrees, so each point's nearest is found first (the cheaper search) and the ``k`` nearest
    only for the points whose nearest does not: the k nearest begin with that same nearest."""
    dist, idx = nearest_k(points, samples, boxes, 1)
    best = idx[:, 0].copy()
    gap = dist[:, 0].copy()
    agreed = np.zeros(points.shape[0], np.bool_)
    for p in range(points.shape[0]):
        j = best[p]
        agreed[p] = sample_normals[j, 0] * normals[p, 0] + sample_normals[j, 1] * normals[p, 1] > 0.0
    rest = np.flatnonzero(~agreed)
    if k == 1 or len(rest) == 0:
        return best, gap, agreed
    dist, idx = nearest_k(points[rest], samples, boxes, k)
    for r in range(rest.shape[0]):
        p = rest[r]
        for i in range(1, k):
            j = idx[r, i]
            if sample_normals[j, 0] * normals[p, 0] + sample_normals[j, 1] * normals[p, 1] > 0.0:
                best[p], gap[p], agreed[p] = j, dist[r, i], True
                break
    return best, gap, agreed


@njit(cache=True)
def _moved(params: np.ndarray, x: float, y: float) -> tuple[float, float]:
    """(x, y) under tracking._transform(params)."""
    a, b, c, d, tx, ty = params[0], params[1], params[2], params[3], params[4], params[5]
    return (a + c) * x + (d - b) * y + tx, (b + d) * x + (a - c) * y + ty


@njit(cache=True)
def _add_rows(
    system: np.ndarray, jx: np.ndarray, jy: np.ndarray, nx: float, ny: float, qx: float, qy: float, slide2: float
) -> None:
    """One sample's share of the 6x7 system [normal matrix | right-hand side]: its point-to-plane row and its
    point-to-point rows weighed by ``slide2``."""
    plane = nx * qx + ny * qy
    for i in range(6):
        ri = nx * jx[i] + ny * jy[i]
        for j in range(6):
            system[i, j] += ri * (nx * jx[j] + ny * jy[j]) + slide2 * (jx[i] * jx[j] + jy[i] * jy[j])
        system[i, 6] += ri * plane + slide2 * (jx[i] * qx + jy[i] * qy)


@njit(cache=True)
def solved(system: np.ndarray) -> np.ndarray:
    """The solution of the square system ``[A | b]`` ``(n, n + 1)``: Gaussian elimination with partial pivoting (the
    first largest pivot of each column), each product and sum in a fixed order. LAPACK's solve would run on the
    BLAS kernel chosen for the CPU at run time, which fuses products and sums (FMA) on one farm worker and not on
    the next, so the same shot tracked differently by a few units in the last place, enough to trace other shapes
    (tests/shapes/test_cpu_independence.py)."""
    n = system.shape[0]
    work = system.copy()
    for col in range(n):
        pivot = col
        for row in range(col + 1, n):
            if abs(work[row, col]) > abs(work[pivot, col]):
                pivot = row
        if pivot != col:
            for k in range(col, n + 1):
                work[col, k], work[pivot, k] = work[pivot, k], work[col, k]
        for row in range(col + 1, n):
            factor = work[row, col] / work[col, col]
            for k in range(col, n + 1):
                work[row, k] = work[row, k] - factor * work[col, k]
    out = np.empty(n)
    for row in range(n - 1, -1, -1):
        total = work[row, n]
        for k in range(row + 1, n):
            total = total - work[row, k] * out[k]
        out[row] = total / work[row, row]
    return out


@njit(cache=True)
def icp_params(
    src: np.ndarray,
    params: np.ndarray,
    edge: np.ndarray,
    edge_normals: np.ndarray,
    boxes: tuple,
    upper: np.ndarray,
    iterations: int,
    converged: np.ndarray,
    slide2: float,
    prior_weights: np.ndarray,
) -> np.ndarray:
    """tracking.icp's iterations on the parameters (a, b, c, d, tx, ty): each lays the samples inside the picture
    onto their nearest edge samples (those within three times the mean distance, and 2 px), solves the normal
    equations with the prior toward the starting linear part, and stops once no parameter moves by more than
    ``converged``."""
    count = src.shape[0]
    prior = params[:4].copy()
    cx, cy = 0.0, 0.0
    for i in range(count):
        cx += src[i, 0]
        cy += src[i, 1]
    cx, cy = cx / count, cy / count
    spread = 0.0
    for i in range(count):
        spread += (src[i, 0] - cx) ** 2 + (src[i, 1] - cy) ** 2
    radius = math.sqrt(spread / count)
    moved = np.empty((count, 2))
    rows = np.empty(count, np.int64)
    jx = np.empty(6)
    jy = np.empty(6)
    for _ in range(iterations):
        inside = 0
        for i in range(count):
            x, y = _moved(params, src[i, 0], src[i, 1])
            if 1.0 < x < upper[0] and 1.0 < y < upper[1]:
                moved[inside, 0], moved[inside, 1] = x, y
                rows[inside] = i
                inside += 1
        if inside < 3:
            break
        dist, idx = nearest_k(moved[:inside], edge, boxes, 1)
        limit = max(3.0 * (dist[:, 0].sum() / inside), 2.0)
        system = np.zeros((6, 7))
        used = 0
        for m in range(inside):
            if dist[m, 0] > limit:
                continue
            used += 1
            x, y = src[rows[m], 0], src[rows[m], 1]
            jx[0], jx[1], jx[2], jx[3], jx[4], jx[5] = x, -y, x, y, 1.0, 0.0
            jy[0], jy[1], jy[2], jy[3], jy[4], jy[5] = y, x, -y, x, 0.0, 1.0
            j = idx[m, 0]
            _add_rows(system, jx, jy, edge_normals[j, 0], edge_normals[j, 1], edge[j, 0], edge[j, 1], slide2)
        if used < 3:
            break
        for i in range(4):
            weight = math.sqrt(used) * radius * prior_weights[i]
            system[i, i] += weight * weight
            system[i, 6] += weight * weight * prior[i]
        new = solved(system)
        done = True
        for i in range(6):
            if not abs(new[i] - params[i]) < converged[i]:
                done = False
        params = new
        if done:
            break
    return params


@njit(cache=True)
def wrapped_gaussian(values: np.ndarray, sigma: float) -> np.ndarray:
    """Each column of ``values (M, C)`` smoothed around the loop: scipy's ``gaussian_filter1d(values, sigma,
    axis=0, mode="wrap")`` (its weights, truncated at TRUNCATE sigma, wrapping as often as the window needs).

    Each weight in turn is added over all rows at once: the rows shifted round by its offset are two contiguous
    stretches of the flat array, so the loops carry no index arithmetic per row (a modulo per row and weight
    was most of the cost). Each value still sums its terms in the weights' order, so the result is the same to
    the bit."""
    radius = int(TRUNCATE * sigma + 0.5)
    weights = np.empty(2 * radius + 1)
    for t in range(-radius, radius + 1):
        weights[t + radius] = exp(-0.5 / (sigma * sigma) * t * t)
    weights /= weights.sum()
    count, columns = values.shape
    flat = np.ascontiguousarray(values).reshape(-1)
    total = count * columns
    out = np.zeros(total)
    for t in range(-radius, radius + 1):
        w = weights[t + radius]
        shift = (t % count) * columns
        head = total - shift
        for k in range(head):
            out[k] += w * flat[k + shift]
        for k in range(head, total):
            out[k] += w * flat[k - head]
    return out.reshape(count, columns)


@njit(cache=True)
def local_shifts(
    points: np.ndarray,
    normals: np.ndarray,
    edge: np.ndarray,
    edge_normals: np.ndarray,
    boxes: tuple,
    spacing: float,
    upper: np.ndarray,
    scales: np.ndarray,
    iterations: int,
    k: int,
    misfit_px: np.ndarray,
    slide2: float,
    damping: float,
    converged_px: float,
) -> np.ndarray:
    """tracking.local_shift's shifts: per scale, coarse to fine, damped point-to-plane steps of each window's
    translation, weighed by the misfit before the first step."""
    count = points.shape[0]
    shift = np.zeros_like(points)
    weight_of = np.zeros(0)
    moved = np.empty_like(points)
    terms = np.empty((count, 6))
    for scale in scales:
        sigma = scale / spacing
        for _ in range(iterations):
            moved[:] = points + shift
            best, gap, agreed = nearest_agreeing(moved, normals, edge, edge_normals, boxes, k)
            found = np.empty(count, np.bool_)
            for m in range(count):
                x, y = moved[m, 0], moved[m, 1]
                found[m] = agreed[m] and 1.0 < x < upper[0] and 1.0 < y < upper[1]
            if weight_of.shape[0] == 0:
                misfit = np.empty((count, 2))
                for m in range(count):
                    off = min(gap[m], scale) if found[m] else 0.0
                    misfit[m, 0] = 1.0 if found[m] else 0.0
                    misfit[m, 1] = off * off
                window = wrapped_gaussian(misfit, sigma)
                weight_of = np.empty(count)
                for m in range(count):
                    rms = math.sqrt(window[m, 1] / max(window[m, 0], 1e-9))
                    weight_of[m] = min(max((rms - misfit_px[0]) / (misfit_px[1] - misfit_px[0]), 0.0), 1.0)
                if not np.any(weight_of):
                    return shift
            limit = max(3.0 * np.median(gap[found]) if found.any() else 0.0, 2.0, scale)
            for m in range(count):
                use = 1.0 if found[m] and gap[m] <= limit else 0.0
                nx, ny = edge_normals[best[m], 0], edge_normals[best[m], 1]
                i00, i01, i11 = use * (nx * nx + slide2), use * (nx * ny), use * (ny * ny + slide2)
                dx, dy = edge[best[m], 0] - moved[m, 0], edge[best[m], 1] - moved[m, 1]
                terms[m, 0], terms[m, 1], terms[m, 2], terms[m, 3] = i00, i01, i01, i11
                terms[m, 4], terms[m, 5] = i00 * dx + i01 * dy, i01 * dx + i11 * dy
            window = wrapped_gaussian(terms, sigma)
            largest = 0.0
            for m in range(count):
                a, b, d = window[m, 0] + damping, window[m, 1], window[m, 3] + damping
                p, q = window[m, 4], window[m, 5]
                det = a * d - b * b
                sx, sy = (d * p - b * q) / det, (a * q - b * p) / det
                shift[m, 0] += sx
                shift[m, 1] += sy
                largest = max(largest, abs(sx), abs(sy))
            if largest < converged_px:
                break
    for m in range(count):
        shift[m, 0] *= weight_of[m]
        shift[m, 1] *= weight_of[m]
    return shift


@njit(cache=True)
def projected(
    points: np.ndarray,
    normals: np.ndarray,
    loop: np.ndarray,
    loop_normals: np.ndarray,
    step: np.ndarray,
    seglen: np.ndarray,
    cum: np.ndarray,
    boxes: tuple,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """outline_track.Loop.project: each point's nearest loop sample whose normal agrees (of the ``k`` nearest),
    then its nearest place on the segment out of that sample or the one into it: arc length and distance."""
    best, _, _ = nearest_agreeing(points, normals, loop, loop_normals, boxes, k)
    count = loop.shape[0]
    arcs = np.empty(points.shape[0])
    dists = np.empty(points.shape[0])
    for p in range(points.shape[0]):
        x, y = points[p, 0], points[p, 1]
        for side in range(2):
            seg = best[p] if side == 0 else (best[p] - 1) % count
            ax, ay = loop[seg, 0], loop[seg, 1]
            dx, dy = step[seg, 0], step[seg, 1]
            t = ((x - ax) * dx + (y - ay) * dy) / (seglen[seg] * seglen[seg])
            t = min(max(t, 0.0), 1.0)
            d = math.hypot(ax + t * dx - x, ay + t * dy - y)
            if side == 0 or d < dists[p]:
                arcs[p] = cum[seg] + t * seglen[seg]
                dists[p] = d
    return arcs, dists
