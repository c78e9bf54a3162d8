"""The compiled crossing tests (crossing_kernel.py) answer what the numpy computation answered: every pair of
segments built as arrays and tested with ``untangle.segments_cross``. On random keys and polylines (curls, small
shapes of two and three points, touching and parallel segments) and on every call the tracer makes on real DAVIS
mattes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes import chords, necks, untangle
from roto_core.shapes.crossing_kernel import (
    chord_crossed,
    chord_crosses_outline,
    cross,
    knot_marks,
    near_crossings,
    self_crossings,
)
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import LEFT, POINT, RIGHT
from roto_core.shapes.trace import trace_shapes
from roto_core.shapes.untangle import REACH, SAMPLES, segment_polylines, segments_cross

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"


def _plain_knot_marks(lines: np.ndarray, reach: int) -> np.ndarray:
    """untangle.knots as numpy computed it: each segment's sub-segments against those REACH segments on, all
    pairs at once, the pairs sharing an end left out, the points between crossing segments marked."""
    count = lines.shape[-3]
    start, end = lines[..., :-1, :], lines[..., 1:, :]
    a0, a1 = start[..., :, :, None, :], end[..., :, :, None, :]
    k, m = np.indices((SAMPLES, SAMPLES))
    marked = np.zeros(lines.shape[:-2], bool)
    for d in range(min(reach, count - 1) + 1):
        b0 = np.roll(start, -d, axis=-3)[..., :, None, :, :]
        b1 = np.roll(end, -d, axis=-3)[..., :, None, :, :]
        hit = segments_cross(a0, a1, b0, b1)
        if d == 0:
            hit &= m > k + 1
        if d == 1:
            hit &= ~((k == SAMPLES - 1) & (m == 0))
        if d == count - 1:
            hit &= ~((k == 0) & (m == SAMPLES - 1))
        crossed = hit.any(axis=(-2, -1))
        for j in range(0, 2) if d == 0 else range(1, d + 1):
            marked |= np.roll(crossed, j, axis=-1)
    return marked


def _plain_self_crossings(poly: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """untangle.crossing_loops' pairs as numpy found them: every piece against every piece two or more on."""
    start, end = poly, np.concatenate((poly[1:], poly[:1]))
    hit = segments_cross(start[:, None, :], end[:, None, :], start[None, :, :], end[None, :, :])
    i, j = np.nonzero(np.triu(hit, 2))
    keep = ~((i == 0) & (j == len(poly) - 1))
    return i[keep], j[keep]


def _plain_chord_crosses(a, b, ends_along, row, start, end, along, lengths, seglen, end_px) -> bool:
    """necks.NeckFinder._crosses' outline test as numpy computed it: the segments within the chord's box on their
    frame, less those beside its ends, tested all at once."""
    low, high = np.minimum(start, end), np.maximum(start, end)
    box_low, box_high = np.minimum(a, b)[row], np.maximum(a, b)[row]
    near = np.flatnonzero(
        (high[:, 0] >= box_low[:, 0])
        & (low[:, 0] <= box_high[:, 0])
        & (high[:, 1] >= box_low[:, 1])
        & (low[:, 1] <= box_high[:, 1])
    )
    r, length, seg, at = row[near], lengths[row[near]], seglen[near], along[near]
    beside = np.zeros(len(near), bool)
    for end_at in ends_along.T:
        ahead = np.mod(at - end_at[r], length)
        behind = np.mod(end_at[r] - at - seg, length)
        beside |= (ahead < end_px) | (behind < end_px) | (np.mod(end_at[r] - at, length) <= seg)
    return bool(segments_cross(a[r], b[r], start[near], end[near])[~beside].any())


def _plain_chord_crossed(a: np.ndarray, b: np.ndarray, lines: np.ndarray, chord: int) -> bool:
    """chords._bow's test as numpy computed it: the chord against every sub-segment of the rest of the outline."""
    count = len(lines)
    rest = lines[[(chord + 1 + k) % count for k in range(count - 1)]]
    return bool(segments_cross(a, b, rest[:, :-1], rest[:, 1:]).any())


def _plain_near_crossings(lines: np.ndarray, d: int) -> np.ndarray:
    """untangle._local_crossing's pairs as numpy found them: each segment's sub-segments against those of the
    segment ``d`` on, all at once, the pair sharing a sample left out, listed by np.nonzero."""
    start, end = lines[:, :-1], lines[:, 1:]
    k, m = np.indices((SAMPLES, SAMPLES))
    b0, b1 = np.roll(start, -d, axis=0), np.roll(end, -d, axis=0)
    hit = segments_cross(start[:, :, None], end[:, :, None], b0[:, None], b1[:, None])
    if d == 1:
        hit &= ~((k == SAMPLES - 1) & (m == 0))
    return np.stack(np.nonzero(hit), axis=1)


def _keys(rng: np.random.Generator, keys: int, count: int) -> np.ndarray:
    """Keys of ``count`` points round a circle with handles long enough to curl now and then."""
    turn = np.sort(rng.uniform(0.0, 2.0 * np.pi, (keys, count)), axis=1)
    ctrl = np.zeros((keys, count, 3, 2))
    circle = np.stack((50.0 * np.cos(turn), 50.0 * np.sin(turn)), axis=-1)
    ctrl[:, :, POINT] = circle + rng.normal(0, 4.0, (keys, count, 2))
    ctrl[:, :, RIGHT] = rng.normal(0.0, 25.0, (keys, count, 2))
    ctrl[:, :, LEFT] = -ctrl[:, :, RIGHT] * rng.uniform(0.2, 1.5, (keys, count, 1))
    return ctrl


def test_one_pair_is_segments_cross_including_touching_and_parallel_segments() -> None:
    rng = np.random.default_rng(0)
    ends = rng.integers(0, 6, (4000, 4, 2)).astype(np.float64)  # a grid: many touching, parallel, collinear pairs
    ends[2000:] += rng.normal(0.0, 1.0, (2000, 4, 2))
    want = segments_cross(ends[:, 0], ends[:, 1], ends[:, 2], ends[:, 3])
    got = np.array([cross(*e.reshape(-1)) for e in ends])
    np.testing.assert_array_equal(got, want)
    assert 200 < want.sum() < 3800


@pytest.mark.parametrize("count", [2, 3, 4, 5, 12, 24])
def test_knot_marks_are_the_all_pairs_computation(count: int) -> None:
    ctrl = _keys(np.random.default_rng(count), 300, count)
    lines = segment_polylines(ctrl)
    got = knot_marks(np.ascontiguousarray(lines), REACH)
    want = _plain_knot_marks(lines, REACH)
    np.testing.assert_array_equal(got, want)
    assert 0 < want.sum() < want.size
    np.testing.assert_array_equal(untangle.knots(ctrl[:7]), want[:7])


@pytest.mark.parametrize("count", [4, 5, 12, 24])
def test_chord_and_near_crossings_are_the_all_pairs_computation(count: int) -> None:
    ctrl = _keys(np.random.default_rng(10 + count), 200, count)
    crossed = found = 0
    for key in ctrl:
        lines = segment_polylines(key)
        for chord in (0, count // 2, count - 1):
            a, b = key[chord, POINT], key[(chord + 1) % count, POINT]
            want = _plain_chord_crossed(a, b, lines, chord)
            assert chord_crossed(a, b, lines, chord) == want
            crossed += want
        for d in range(1, min(REACH, count - 3) + 1):
            want = _plain_near_crossings(lines, d)
            np.testing.assert_array_equal(near_crossings(lines, d), want)
            found += len(want) > 0
    assert 0 < crossed < 600 and found > 0


@pytest.mark.parametrize("seed", range(5))
def test_self_crossings_are_every_pair_of_the_polyline(seed: int) -> None:
    rng = np.random.default_rng(seed)
    poly = np.cumsum(rng.normal(0.0, 5.0, (40 + 60 * seed, 2)), axis=0)  # a random walk crosses itself often
    poly[7] = poly[3]  # a repeated sample
    got = self_crossings(poly)
    want = _plain_self_crossings(poly)
    assert len(want[0]) > 0
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert self_crossings(np.array([[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0]]))[0].size == 0


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
@pytest.mark.parametrize("sequence, frames", [("dog", 8), ("goat", 6)])
def test_every_crossing_test_the_tracer_makes_on_real_mattes_is_the_numpy_answer(
    monkeypatch: pytest.MonkeyPatch, sequence: str, frames: int
) -> None:
    """Real DAVIS mattes: every knot, loop and neck test the trace asks, answered again the numpy way."""
    asked: dict[str, list[bool]] = {"knots": [], "loops": [], "necks": [], "chords": [], "near": []}

    def knots_both(lines, reach):
        got = knot_marks(lines, reach)
        assert np.array_equal(got, _plain_knot_marks(lines, reach))
        asked["knots"].append(bool(got.any()))
        return got

    def loops_both(poly):
        got = self_crossings(poly)
        want = _plain_self_crossings(poly)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
        asked["loops"].append(len(got[0]) > 0)
        return got

    def necks_both(*args):
        got = chord_crosses_outline(*args)
        assert got == _plain_chord_crosses(*args)
        asked["necks"].append(got)
        return got

    def chords_both(a, b, lines, chord):
        got = chord_crossed(a, b, lines, chord)
        assert got == _plain_chord_crossed(a, b, lines, chord)
        asked["chords"].append(got)
        return got

    def near_both(lines, d):
        got = near_crossings(lines, d)
        np.testing.assert_array_equal(got, _plain_near_crossings(lines, d))
        asked["near"].append(len(got) > 0)
        return got

    monkeypatch.setattr(chords, "chord_crossed", chords_both)
    monkeypatch.setattr(untangle, "near_crossings", near_both)
    monkeypatch.setattr(untangle, "knot_marks", knots_both)
    monkeypatch.setattr(untangle, "self_crossings", loops_both)
    monkeypatch.setattr(necks, "chord_crosses_outline", necks_both)
    masks = MaskSequence(DATA / sequence / "Annotations" / "#####.png", 0, frames - 1, default_object="matte")
    trace_shapes(masks, ShapeSettings(), name=sequence)
    for name, answers in asked.items():
        assert len(answers) > 5 and any(answers) and not all(answers), name
