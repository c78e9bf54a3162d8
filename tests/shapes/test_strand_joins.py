"""Which line pieces join (strand_joins.join_candidates, compiled) is what the numpy formulation of the test finds,
in the same order, on random ends; and the compiled joining (strand_joins.joined_lines) joins what a heap of those
tests over Strand objects joined, to the bit: on made dashes and on real DAVIS paragliding-launch mattes, whose
rigging lines come in dashes."""

from __future__ import annotations

import heapq
from pathlib import Path

import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes import line_strands
from roto_core.shapes.contours import thin_parts
from roto_core.shapes.line_strands import Strand
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.strand_joins import join_candidates

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"


def _numpy_candidates(first: np.ndarray, second: np.ndarray, points: np.ndarray, heads: np.ndarray) -> list:
    """Every (end of first, end of second) pair as arrays [i, end i, j, end j], the pairs that pass in argwhere's
    order."""
    ids_a, ids_b = np.asarray(first), np.asarray(second)
    g = points[ids_b][None, None] - points[ids_a][:, :, None, None]
    out_a, out_b = heads[ids_a][:, :, None, None], heads[ids_b][None, None]
    gx, gy, ox, oy = g[..., 0], g[..., 1], out_a[..., 0], out_a[..., 1]
    length = np.sqrt(gx * gx + gy * gy)
    facing = -(ox * out_b[..., 0] + oy * out_b[..., 1])
    ok = (length <= line_strands.JOIN_GAP_PX) & (facing >= np.cos(np.radians(line_strands.JOIN_ANGLE_DEG)))
    ok &= (np.abs(ox * gy - oy * gx) <= line_strands.JOIN_OFFSET_PX) & (ox * gx + oy * gy >= 0)
    ok &= ids_a[:, None, None, None] != ids_b[None, None, :, None]
    return [(float(length[i, a, j, b]), int(ids_a[i]), int(a), int(ids_b[j]), int(b)) for i, a, j, b in np.argwhere(ok)]


def test_random_ends_join_as_numpy_finds() -> None:
    rng = np.random.default_rng(3)
    # Dashes along a few lines: ends on the lines, headings along them (either way), with a little noise.
    lines = rng.uniform(0, 300, (6, 2))
    ways = rng.normal(size=(6, 2))
    ways /= np.linalg.norm(ways, axis=1, keepdims=True)
    line = rng.integers(0, 6, 120)
    along = rng.uniform(0, 200, (120, 2))
    points = lines[line][:, None] + along[..., None] * ways[line][:, None] + rng.normal(0, 0.5, (120, 2, 2))
    sign = np.where(along[:, :1] < along[:, 1:], 1.0, -1.0)
    heads = np.stack((-sign, sign), axis=1) * ways[line][:, None] + rng.normal(0, 0.05, (120, 2, 2))
    heads /= np.linalg.norm(heads, axis=2, keepdims=True)
    every = np.arange(120)
    found = _candidates(every, every, points, heads)
    assert len(found) > 100
    assert found == _numpy_candidates(every, every, points, heads)
    assert _candidates([7], every, points, heads) == _numpy_candidates([7], every, points, heads)


def _candidates(first, second, points: np.ndarray, heads: np.ndarray) -> list:
    gaps, rows = join_candidates(
        np.asarray(first, dtype=np.int64),
        np.asarray(second, dtype=np.int64),
        points,
        heads,
        line_strands.JOIN_GAP_PX,
        np.cos(np.radians(line_strands.JOIN_ANGLE_DEG)),
        line_strands.JOIN_OFFSET_PX,
    )
    return [(g, i, a, j, b) for g, (i, a, j, b) in zip(gaps.tolist(), rows.tolist(), strict=True)]


def _python_joined(found: list[Strand]) -> list[Strand]:
    """The joining as line_strands._joined did it in Python: a heap of candidate tuples, Strand objects joined
    and reversed, the numpy formulation of the test."""
    strands = list(found)
    room = 2 * len(strands)
    alive = np.zeros(room, bool)
    alive[: len(strands)] = True
    points, heads = np.zeros((room, 2, 2)), np.zeros((room, 2, 2))
    for n, s in enumerate(strands):
        points[n], heads[n] = s.ends
    every = np.arange(len(strands))
    heap = _numpy_candidates(every, every, points, heads) if len(strands) > 1 else []
    heapq.heapify(heap)
    while heap:
        _, i, ei, j, ej = heapq.heappop(heap)
        if not (alive[i] and alive[j]):
            continue
        a = strands[i] if ei == 1 else strands[i].reversed()
        b = strands[j] if ej == 0 else strands[j].reversed()
        width = (a.width * a.length + b.width * b.length) / max(a.length + b.length, 1e-9)
        joined = Strand(np.concatenate([a.centre, b.centre]), width)
        alive[i] = alive[j] = False
        new = len(strands)
        strands.append(joined)
        points[new], heads[new] = joined.ends
        others = np.flatnonzero(alive[:new])
        alive[new] = True
        if len(others):
            for candidate in _numpy_candidates([new], others, points, heads) + _numpy_candidates(
                others, [new], points, heads
            ):
                heapq.heappush(heap, candidate)
    return [s for n, s in enumerate(strands) if alive[n]]


@pytest.mark.skipif(not (DATA / "paragliding-launch").is_dir(), reason="needs ../shared/data/davis2016-dev")
def test_real_rigging_lines_join_as_the_python_heap_did(monkeypatch: pytest.MonkeyPatch) -> None:
    pieces: list[list[Strand]] = []
    compiled = line_strands._joined

    def both(found: list[Strand]) -> list[Strand]:
        got = compiled(found)
        want = _python_joined(found)
        assert len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            assert np.array_equal(a.centre, b.centre) and a.width == b.width
        pieces.append(found)
        return got

    monkeypatch.setattr(line_strands, "_joined", both)
    masks = MaskSequence(DATA / "paragliding-launch" / "Annotations" / "#####.png", 0, 2, default_object="matte")
    for frame in masks.frames:
        line_strands.strands(thin_parts(masks.read(frame)["matte"], ShapeSettings().min_area_px))
    assert len(pieces) == 3 and all(len(found) > 100 for found in pieces)
    assert sum(len(found) - len(compiled(found)) for found in pieces) > 100


def test_joining_dashes_of_one_line_and_a_reversed_one() -> None:
    # Three dashes of one row, the middle one drawn the other way round, and a dash far off: one line and the dash.
    dashes = [
        Strand(np.array([[0.5, 10.5], [1.5, 10.5], [2.5, 10.5], [3.5, 10.5]]), 1.0),
        Strand(np.array([[12.5, 10.5], [11.5, 10.5], [10.5, 10.5], [9.5, 10.5]]), 2.0),
        Strand(np.array([[15.5, 10.5], [16.5, 10.5], [17.5, 10.5]]), 1.0),
        Strand(np.array([[0.5, 200.5], [0.5, 201.5], [0.5, 202.5]]), 1.0),
    ]
    got = line_strands._joined(dashes)
    want = _python_joined(dashes)
    assert len(got) == len(want) == 2
    for a, b in zip(got, want, strict=True):
        assert np.array_equal(a.centre, b.centre) and a.width == b.width
    line = max(got, key=lambda s: s.length)
    # The nearer gap (3 px) first: widths weighed by length, 1.6 over the 8 px joined, then with the first dash.
    assert len(line.centre) == 11 and line.width == pytest.approx((1.0 * 3 + 1.6 * 8) / 11)
