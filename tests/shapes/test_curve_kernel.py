"""The compiled curve sampling (curve_kernel.py) sums each sample in one fixed order, so it is the same on every
CPU, and it is numpy's batched product within the last bits: on random keys with chords, and on every curve the
edge check samples on a real DAVIS matte."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes import keys
from roto_core.shapes.curve_kernel import (
    outline_areas,
    sampled_by_length,
    sampled_curve,
    segment_samples,
    segment_worst,
)
from roto_core.shapes.keys import CURVE_STEP_PX, MAX_CURVE_SAMPLES, MIN_CURVE_SAMPLES, EdgeCheck
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import LEFT, POINT, RIGHT, bernstein, sample_outline, segment_controls, signed_area
from roto_core.shapes.nearest import polyline_distances
from roto_core.shapes.trace import trace_shapes

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"


def _numpy_curve(ctrl: np.ndarray, chords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The curve as numpy sampled it: segment controls, the longest control polygon, one batched product, each
    run's end point added where a chord follows."""
    seg = segment_controls(ctrl)[~chords]
    hull = seg[:, 1:] - seg[:, :-1]
    reach = float(np.max(np.hypot(hull[..., 0], hull[..., 1]).sum(axis=1)))
    count = min(max(math.ceil(reach / CURVE_STEP_PX), MIN_CURVE_SAMPLES), MAX_CURVE_SAMPLES)
    links = EdgeCheck._curve_links(chords)
    samples = np.matmul(bernstein(count), seg)
    full = np.concatenate((samples, seg[:, 3:4]), axis=1)
    present = np.ones((len(seg), count + 1), bool)
    present[:, -1] = ~links
    linked = np.ones((len(seg), count + 1), bool)
    linked[:, -1] = False
    return full[present], linked[present]


def _numpy_curve_by_length(ctrl: np.ndarray, chords: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The curve sampled segment by segment by each one's control polygon, in numpy: one product per segment, each
    sample weighing the longest segment's count over its own, a run's end point (weighing one) where a chord
    follows."""
    seg = segment_controls(ctrl)[~chords]
    hull = seg[:, 1:] - seg[:, :-1]
    own = np.hypot(hull[..., 0], hull[..., 1]).sum(axis=1)
    counts = [min(max(math.ceil(length / CURVE_STEP_PX), MIN_CURVE_SAMPLES), MAX_CURVE_SAMPLES) for length in own]
    links = EdgeCheck._curve_links(chords)
    points, linked, weight = [], [], []
    for k, count in enumerate(counts):
        points.append(np.matmul(bernstein(count), seg[k]))
        linked.append(np.ones(count, bool))
        weight.append(np.full(count, max(counts) / count))
        if not links[k]:
            points.append(seg[k, 3:4])
            linked.append(np.zeros(1, bool))
            weight.append(np.ones(1))
    return np.concatenate(points), np.concatenate(linked), np.concatenate(weight)


def _in_order(weights: np.ndarray, controls: np.ndarray) -> np.ndarray:
    """Each sample summed control by control in Python floats: the order the kernel promises."""
    out = np.empty((len(weights), 2))
    for s, w in enumerate(weights.tolist()):
        for c in range(2):
            p = controls[:, c].tolist()
            out[s, c] = w[0] * p[0] + w[1] * p[1] + w[2] * p[2] + w[3] * p[3]
    return out


def _key(rng: np.random.Generator, count: int, radius: float) -> np.ndarray:
    turn = np.sort(rng.uniform(0.0, 2.0 * np.pi, count))
    ctrl = np.zeros((count, 3, 2))
    ctrl[:, POINT] = np.stack((600.0 + radius * np.cos(turn), 400.0 + radius * np.sin(turn)), axis=1)
    ctrl[:, RIGHT] = rng.normal(0.0, radius / count, (count, 2))
    ctrl[:, LEFT] = -ctrl[:, RIGHT] * rng.uniform(0.5, 1.5, (count, 1))
    return ctrl


def _piece(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A random key of 2-24 points, 3 to 400 px across, and its chords (about a third of its segments, not all)."""
    rng = np.random.default_rng(seed)
    count = int(rng.integers(2, 25))
    ctrl = _key(rng, count, float(rng.uniform(3.0, 400.0)))
    chords = rng.random(count) < 0.3
    chords[int(rng.integers(0, count))] = False
    return ctrl, chords


@pytest.mark.parametrize("seed", range(8))
def test_the_sampled_curve_is_numpys_within_the_last_bits_and_summed_in_one_order(seed: int) -> None:
    ctrl, chords = _piece(seed)
    kept = np.flatnonzero(~chords)
    tables = keys._CURVE_WEIGHTS
    curve, linked = sampled_curve(ctrl, kept, EdgeCheck._curve_links(chords), tables, CURVE_STEP_PX, MIN_CURVE_SAMPLES)
    want, want_linked = _numpy_curve(ctrl, chords)
    np.testing.assert_array_equal(linked, want_linked)
    np.testing.assert_allclose(curve, want, rtol=1e-14, atol=1e-10)
    per = (len(curve) - int((~linked).sum())) // len(kept)
    first = np.asarray(segment_controls(ctrl)[kept[0]])
    np.testing.assert_array_equal(curve[:per], _in_order(tables[per, :per], first))


def test_a_long_segment_is_sampled_at_most_max_curve_samples_and_a_short_one_at_least_the_fewest() -> None:
    ctrl = _key(np.random.default_rng(1), 3, 900.0)
    chords = np.zeros(3, bool)
    links = EdgeCheck._curve_links(chords)
    long, _ = sampled_curve(ctrl, np.arange(3), links, keys._CURVE_WEIGHTS, CURVE_STEP_PX, MIN_CURVE_SAMPLES)
    assert len(long) == 3 * MAX_CURVE_SAMPLES
    tiny = ctrl * 0.001
    short, _ = sampled_curve(tiny, np.arange(3), links, keys._CURVE_WEIGHTS, CURVE_STEP_PX, MIN_CURVE_SAMPLES)
    assert len(short) == 3 * MIN_CURVE_SAMPLES


@pytest.mark.parametrize("seed", range(8))
def test_each_segment_is_sampled_by_its_own_length_and_weighs_what_the_longest_ones_sampling_gave_it(
    seed: int,
) -> None:
    """sampled_by_length: each segment's own control polygon sets its count (within the fewest and the most), its
    samples are its Bernstein samples at that count, and each weighs the longest segment's count over its own, so
    every segment weighs what it weighed sampled as densely as the longest (sampled_curve); a run's end point is
    added where a chord follows, weighing one and joining nothing."""
    ctrl, chords = _piece(seed)
    kept = np.flatnonzero(~chords)
    links = EdgeCheck._curve_links(chords)
    tables = keys._CURVE_WEIGHTS
    curve, linked, weight = sampled_by_length(ctrl, kept, links, tables, CURVE_STEP_PX, MIN_CURVE_SAMPLES)
    dense, dense_linked = sampled_curve(ctrl, kept, links, tables, CURVE_STEP_PX, MIN_CURVE_SAMPLES)
    seg = segment_controls(ctrl)[kept]
    hull = seg[:, 1:] - seg[:, :-1]
    own = np.hypot(hull[..., 0], hull[..., 1]).sum(axis=1)
    counts = np.clip(np.ceil(own / CURVE_STEP_PX).astype(int), MIN_CURVE_SAMPLES, MAX_CURVE_SAMPLES)
    most = int(counts.max())
    at = 0
    for k, n in enumerate(counts.tolist()):
        np.testing.assert_array_equal(curve[at : at + n], _in_order(tables[n, :n], np.asarray(seg[k])))
        np.testing.assert_array_equal(weight[at : at + n], most / n)
        assert linked[at : at + n].all()
        at += n
        if not links[k]:
            np.testing.assert_array_equal(curve[at], seg[k, 3])
            assert weight[at] == 1.0 and not linked[at]
            at += 1
    assert at == len(curve) == len(linked) == len(weight)
    # The weights add up to the dense sampling's count; the ends where chords follow are the same points.
    assert math.isclose(weight.sum(), len(dense), rel_tol=1e-12)
    np.testing.assert_array_equal(curve[~linked], dense[~dense_linked])


def test_segment_samples_are_each_segments_samples_in_order() -> None:
    ctrl = _key(np.random.default_rng(2), 9, 120.0)
    kept = np.array([0, 3, 4, 8])
    weights = bernstein(keys.SEGMENT_SAMPLES)
    got = segment_samples(ctrl, kept, weights)
    seg = segment_controls(ctrl)[kept]
    np.testing.assert_allclose(got, np.matmul(weights, seg).reshape(-1, 2), rtol=1e-14, atol=1e-10)
    for k in range(len(kept)):
        rows = slice(k * len(weights), (k + 1) * len(weights))
        np.testing.assert_array_equal(got[rows], _in_order(weights, seg[k]))


def _plain_segment_errors(check: EdgeCheck, piece: int, frame: int, ctrl: np.ndarray) -> np.ndarray:
    """Each segment's worst distance from the edge as numpy computed it from the segments' samples: the samples
    inside the picture measured to the edge, each segment's worst taken with ``np.maximum.at``."""
    kept = np.flatnonzero(~check.chords[piece])
    out = np.zeros(len(ctrl))
    if not len(kept):
        return out
    curve = segment_samples(np.ascontiguousarray(ctrl), kept, bernstein(keys.SEGMENT_SAMPLES))
    edge = check.edges[piece][frame][2]
    inside = np.all((curve > check.low) & (curve < check.high), axis=1)
    distance = np.zeros(len(curve))
    if inside.any():
        distance[inside] = polyline_distances(curve[inside], edge.line, edge.linked)[0]
    np.maximum.at(out, kept[np.arange(len(curve)) // keys.SEGMENT_SAMPLES], distance)
    return out


def plain_mixed_weights(
    segment_errors: Callable[[np.ndarray], np.ndarray],
    towards: np.ndarray,
    start: np.ndarray,
    limit: float,
    rounds: int,
    step: float,
    strayed: list[float] | None = None,
) -> np.ndarray:
    """EdgeCheck.mixed_weights as numpy computed it, round by round, each segment's worst distance taken by
    ``segment_errors`` (and its largest noted in ``strayed``)."""
    weight = np.ones(len(towards))
    for _ in range(rounds):
        worst = segment_errors(start + weight[:, None, None] * (towards - start))
        if strayed is not None:
            strayed.append(float(worst.max()))
        astray = worst > limit
        if not astray.any():
            break
        beside = astray | np.roll(astray, 1)
        weight[beside] = np.maximum(weight[beside] - step, 0.0)
        if not weight.any():
            break
    return weight


def test_segment_worst_leaves_chords_and_samples_outside_the_picture_at_zero() -> None:
    """A square's edge; a key of straight segments whose right side runs on 3 px below it, out of the picture
    (below y = 12) for its last sample, and whose bottom lies outside the picture; its left side is a chord."""
    square = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]])
    ctrl = np.zeros((4, 3, 2))
    ctrl[:, POINT] = [[0.0, 0.0], [10.0, 0.0], [10.0, 13.0], [0.0, 13.0]]
    low, high = np.array([-1.0, -1.0]), np.array([100.0, 12.0])
    kept, linked = np.array([0, 1, 2]), np.ones(4, bool)
    worst = np.full(4, 7.0)
    segment_worst(ctrl, kept, bernstein(12), low, high, square, linked, np.ones(4, bool), worst)
    # Without handles a segment's samples bunch towards its ends (3 u^2 - 2 u^3 of the way at u): the right side's
    # last sample inside the picture is its tenth, u = 9 / 12, 27 / 32 of 13 px down, 0.96875 px past (10, 10).
    np.testing.assert_allclose(worst, [0.0, 13.0 * 27.0 / 32.0 - 10.0, 0.0, 0.0], atol=1e-12)
    # Measured alone, the right side reads the same; the segments not asked for keep what they held.
    alone = np.full(4, 7.0)
    segment_worst(ctrl, kept, bernstein(12), low, high, square, linked, np.array([False, True, False, True]), alone)
    np.testing.assert_array_equal(alone, [7.0, worst[1], 7.0, 0.0])


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_every_curve_the_edge_check_samples_on_a_real_camel_is_numpys(monkeypatch: pytest.MonkeyPatch) -> None:
    """DAVIS camel's real matte, 6 frames: pieces with chords and run ends, keys from every stage; the weights the
    smoothing mixes back with, round by round from each segment's worst distance, are numpy's to the bit."""
    compiled = EdgeCheck.error
    seen: list[int] = []

    def both_ways(self, piece, frame, ctrl, bound=np.inf, allowance=None):
        # Each curve the check measures, sampled by length as edge_measure.curve_error samples it
        # (tests/shapes/test_edge_measure.py measures those samples and gets the same error to the bit), and as
        # densely as its longest segment, as EdgeCheck._sampled samples it for sample_errors.
        if len(self.kept[piece]):
            contiguous = np.ascontiguousarray(ctrl, dtype=np.float64)
            links = self.links[piece]
            curve, linked, weight = sampled_by_length(
                contiguous, self.kept[piece], links, keys._CURVE_WEIGHTS, CURVE_STEP_PX, MIN_CURVE_SAMPLES
            )
            want, want_linked, want_weight = _numpy_curve_by_length(ctrl, self.chords[piece])
            np.testing.assert_array_equal(linked, want_linked)
            np.testing.assert_array_equal(weight, want_weight)
            np.testing.assert_allclose(curve, want, rtol=1e-14, atol=1e-10)
            dense, dense_linked = self._sampled(piece, ctrl)
            want, want_linked = _numpy_curve(ctrl, self.chords[piece])
            np.testing.assert_array_equal(dense_linked, want_linked)
            np.testing.assert_allclose(dense, want, rtol=1e-14, atol=1e-10)
            seen.append(int((~linked).sum()))
        return compiled(self, piece, frame, ctrl, bound, allowance)

    compiled_weights = EdgeCheck.mixed_weights
    strayed: list[float] = []
    weighed: list[np.ndarray] = []

    def weights_both_ways(self, piece, frame, towards, start, limit, rounds, step):
        got = compiled_weights(self, piece, frame, towards, start, limit, rounds, step)
        errors = partial(_plain_segment_errors, self, piece, frame)
        want = plain_mixed_weights(errors, towards, start, limit, rounds, step, strayed)
        np.testing.assert_array_equal(got, want)
        weighed.append(got)
        return got

    monkeypatch.setattr(EdgeCheck, "error", both_ways)
    monkeypatch.setattr(EdgeCheck, "mixed_weights", weights_both_ways)
    masks = MaskSequence(DATA / "camel" / "Annotations" / "#####.png", 0, 5, default_object="matte")
    trace_shapes(masks, ShapeSettings(), name="camel")
    assert len(seen) > 200
    assert len(strayed) > 50 and max(strayed) > 1.0
    # Points mixed part of the way back, and points all the way back beside points that keep some of the move.
    assert any(0 < w.min() < 1 for w in weighed) and any(w.min() == 0 and w.any() for w in weighed)
    assert any(seen) and not all(seen)  # curves with runs' end points and curves of closed pieces


def test_outline_areas_are_the_shoelace_of_the_sampled_outline_for_every_key() -> None:
    """One compiled call for all keys: each key's area as model.signed_area reads it off model.sample_outline,
    within the last bits; a key turned over (its points in reverse order) encloses minus that."""
    rng = np.random.default_rng(11)
    keys_ = np.stack([_key(rng, 9, 80.0 + 10.0 * k) for k in range(6)])
    weights = bernstein(8)
    areas = outline_areas(keys_, weights)
    expected = [signed_area(sample_outline(key, 8)) for key in keys_]
    np.testing.assert_allclose(areas, expected, rtol=1e-12)
    assert (areas > 0).all()
    turned = keys_[:, ::-1][:, :, ::-1].copy()
    np.testing.assert_allclose(outline_areas(turned, weights), -areas, rtol=1e-9)
    square = np.zeros((1, 4, 3, 2))
    square[0, :, POINT] = [[10.0, 10.0], [30.0, 10.0], [30.0, 30.0], [10.0, 30.0]]
    assert outline_areas(square, weights)[0] == pytest.approx(400.0)
