"""fitting.fit_segments, compiled (segment_kernel.py), fits every batch to the bit as the numpy code it replaced:
runs of one width, and padded runs of several as each row alone (the padding changes no bit), corners skipped at
either end (one pair for the batch or one per row), straight and degenerate runs, and every batch the tracer fits
on a real DAVIS camel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes import segment_fits
from roto_core.shapes.fitting import NEWTON_STEPS, fit_segments
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.outline_track import OutlineTrack, Rows
from roto_core.shapes.segment_fits import CORNER, CORNER_SLACK_PX, FIT_STEP_PX, End, Fit, Segment
from roto_core.shapes.trace import trace_shapes

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"


def _numpy_fit_segments(
    samples: np.ndarray,
    t_out: np.ndarray,
    t_in: np.ndarray,
    skip: tuple[int, int] | np.ndarray = (0, 0),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """fitting.fit_segments as it was in numpy (before segment_kernel.py) on rows of one count, the reference."""
    width = samples.shape[1]
    column = np.arange(width)
    last = np.broadcast_to(column[None, :] >= width - 1, samples.shape[:2])
    # x and y are kept apart: numpy reduces a length-2 last axis far slower than it multiplies two arrays.
    sx, sy = samples[..., 0], samples[..., 1]
    p0x, p0y, p3x, p3y = sx[:, :1], sy[:, :1], sx[:, -1:], sy[:, -1:]
    tox, toy, tix, tiy = t_out[:, :1], t_out[:, 1:], t_in[:, :1], t_in[:, 1:]
    seglen = np.hypot(sx[:, 1:] - sx[:, :-1], sy[:, 1:] - sy[:, :-1])
    total = np.add.reduce(seglen, axis=1)
    u = np.zeros(samples.shape[:2])
    np.cumsum(seglen, axis=1, out=u[:, 1:])
    u /= np.maximum(total, 1e-9)[:, None]
    u[last] = 1.0
    cos_io = (tox * tix + toy * tiy)[:, 0]
    # Samples relative to the start, and their components along both end tangents: the curve minus its start
    # is e3 (p3 - p0) + b1 a_out t_out - b2 a_in t_in (e3 = b2 + b3), so each step needs only a few products
    # of whole arrays; the rest is per row.
    rx, ry = sx - p0x, sy - p0y
    along_out, along_in = rx * tox + ry * toy, rx * tix + ry * tiy
    jx, jy = p3x - p0x, p3y - p0y
    j_out, j_in = jx * tox + jy * toy, jx * tix + jy * tiy
    for iteration in range(NEWTON_STEPS + 1):
        v = 1.0 - u
        uu, vv = u * u, v * v
        b1, b2 = 3.0 * (vv * u), 3.0 * (v * uu)
        e3 = b2 + uu * u
        c00, c11 = np.add.reduce(b1 * b1, axis=1), np.add.reduce(b2 * b2, axis=1)
        c01 = -np.add.reduce(b1 * b2, axis=1) * cos_io
        x0 = np.add.reduce(b1 * (along_out - e3 * j_out), axis=1)
        x1 = -np.add.reduce(b2 * (along_in - e3 * j_in), axis=1)
        det = c00 * c11 - c01 * c01
        ok = np.abs(det) > 1e-12
        safe = np.where(ok, det, 1.0)
        a_out = np.where(ok, (c11 * x0 - c01 * x1) / safe, -1.0)
        a_in = np.where(ok, (c00 * x1 - c01 * x0) / safe, -1.0)
        bad = (np.minimum(a_out, a_in) < 1e-3 * total) | (np.maximum(a_out, a_in) > 2.0 * total)
        a_out = np.where(bad, total / 3.0, a_out)[:, None]
        a_in = np.where(bad, total / 3.0, a_in)[:, None]
        # Handles relative to their end points (q0 = c1 - p0, q2 = p3 - c2) and the middle leg q1 = c2 - c1.
        q0x, q0y, q2x, q2y = a_out * tox, a_out * toy, a_in * tix, a_in * tiy
        dx = e3 * jx + b1 * q0x - b2 * q2x - rx
        dy = e3 * jy + b1 * q0y - b2 * q2y - ry
        if iteration == NEWTON_STEPS:
            break
        q1x, q1y = jx - q0x - q2x, jy - q0y - q2y
        uv2 = 2.0 * (v * u)
        d1x = 3.0 * (vv * q0x + uv2 * q1x + uu * q2x)
        d1y = 3.0 * (vv * q0y + uv2 * q1y + uu * q2y)
        d2x = v * (6.0 * (q1x - q0x)) + u * (6.0 * (q2x - q1x))
        d2y = v * (6.0 * (q1y - q0y)) + u * (6.0 * (q2y - q1y))
        num = dx * d1x + dy * d1y
        den = d1x * d1x + d1y * d1y + dx * d2x + dy * d2y
        step = np.divide(num, den, out=np.zeros_like(num), where=np.abs(den) > 1e-12)
        u = np.minimum(np.maximum(u - step, 0.0), 1.0)
        u[:, 0] = 0.0
        u[last] = 1.0
    c1x, c1y, c2x, c2y = p0x + q0x, p0y + q0y, p3x - q2x, p3y - q2y
    ctrl = np.stack(
        [np.concatenate((p0x, c1x, c2x, p3x), axis=1), np.concatenate((p0y, c1y, c2y, p3y), axis=1)], axis=2
    )
    err = np.hypot(dx, dy)
    skips = np.broadcast_to(np.asarray(skip), (len(samples), 2))
    real = np.full(len(samples), width)
    held = (skips[:, 0] + skips[:, 1] < real)[:, None]
    err[held & ((column < skips[:, :1]) | (column >= (real - skips[:, 1])[:, None]))] = 0.0
    worst = err.argmax(axis=1)
    return ctrl, err[np.arange(len(err)), worst], worst


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _numpy_fit_each_row(
    samples: np.ndarray, t_out: np.ndarray, t_in: np.ndarray, skips: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Padded rows fitted one by one on their own samples, as numpy fits a batch of one: the padding must change
    no bit of a row's fit."""
    fits = [
        _numpy_fit_segments(samples[r : r + 1, :c], t_out[r : r + 1], t_in[r : r + 1], skips[r : r + 1])
        for r, c in enumerate(counts.tolist())
    ]
    return tuple(np.concatenate([fit[i] for fit in fits]) for i in range(3))  # type: ignore[return-value]


def _assert_same(args: tuple, skip=(0, 0), counts=None) -> None:
    got = fit_segments(*args, skip, counts)
    if counts is None:
        want = _numpy_fit_segments(*args, skip)
    else:
        want = _numpy_fit_each_row(*args, np.broadcast_to(np.asarray(skip), (len(counts), 2)), counts)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("width", [1, 2, 3, 8, 9, 30, 140])
def test_a_batch_fits_as_numpy_fitted_it(seed: int, width: int) -> None:
    rng = np.random.default_rng(seed)
    rows = 12
    turn = np.linspace(0.0, rng.uniform(0.2, 2.5), width)[None, :] + rng.uniform(0, 6, (rows, 1))
    radius = rng.uniform(5.0, 200.0, (rows, 1))
    samples = np.stack((radius * np.cos(turn), radius * np.sin(turn)), axis=2) + rng.normal(0.0, 0.4, (rows, width, 2))
    samples[0] = samples[0, :1]  # every sample at one place: a degenerate fit
    t_out = _unit(rng.normal(size=(rows, 2)))
    t_in = _unit(rng.normal(size=(rows, 2)))
    _assert_same((samples, t_out, t_in))
    _assert_same((samples, t_out, t_in), (1, 2))
    counts = rng.integers(1, width + 1, rows)
    padded = samples.copy()
    for r, c in enumerate(counts):
        padded[r, c:] = padded[r, c - 1]  # as segment_fits pads a run: its last sample repeated
    skips = rng.integers(0, 3, (rows, 2))
    _assert_same((padded, t_out, t_in), skips, counts)


def _plain_fit_group(
    track: OutlineTrack,
    segments: list[Segment],
    rows: Rows,
    start: np.ndarray,
    extent: np.ndarray,
    counts: np.ndarray,
    ends: list[tuple[End, End]],
) -> list[Fit]:
    """segment_fits._fit_group as numpy computed it (before segment_kernel.span_fits): every segment's samples
    in one lookup, corner tips put in, one fit_segments batch (itself as numpy fitted it)."""
    slack = int(np.ceil(CORNER_SLACK_PX / FIT_STEP_PX)) + 1
    n = len(segments)
    width = int(counts.max())
    frames = len(start)
    fraction = np.minimum(np.arange(width)[None, :] * (1.0 / (counts[:, None] - 1)), 1.0)
    fraction[np.arange(width)[None, :] >= counts[:, None] - 1] = 1.0
    s = start.T[:, :, None] + extent.T[:, :, None] * fraction[:, None, :]
    batch = track.at_all(s, rows)
    skips = np.zeros((n, 2), np.int64)
    for k, (((_, ra), (_, rb)), ((tip_a, _, _), (tip_b, _, _))) in enumerate(zip(segments, ends, strict=True)):
        if tip_a is not None:
            batch[k, :, 0] = tip_a
        if tip_b is not None:
            batch[k, :, counts[k] - 1 :] = tip_b[:, None]
        skips[k] = (slack if ra == CORNER else 0, slack if rb == CORNER else 0)
    ctrl, err, worst = _numpy_fit_each_row(
        batch.reshape(n * frames, width, 2),
        np.concatenate([a[2] for a, _ in ends]),
        np.concatenate([b[1] for _, b in ends]),
        np.repeat(skips, frames, axis=0),
        np.repeat(counts, frames),
    )
    ctrl = ctrl.reshape(n, frames, 4, 2)
    err = err.reshape(n, frames)
    ua = np.array([a for (a, _), _ in segments])
    ub = np.array([b for _, (b, _) in segments])
    worst_u = ua[:, None] + (ub - ua)[:, None] * worst.reshape(n, frames) / (counts[:, None] - 1)
    out_handle, in_handle = ctrl[:, :, 1] - ctrl[:, :, 0], ctrl[:, :, 2] - ctrl[:, :, 3]
    return [(out_handle[k], in_handle[k], err[k], worst_u[k]) for k in range(n)]


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_every_batch_the_tracer_fits_on_a_real_camel_is_numpys_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """DAVIS camel's real matte, 6 frames: each batch of segments the finished pieces fit (segment_kernel.span_fits:
    samples looked up along the edge, corner tips put in, fitted), fitted again as numpy did it, and the same
    segments on some frames only (as the point selection fits them, a segment at a time: selection_kernel.py);
    the batches hold corners at either end, padded rows, some frames and all."""
    compiled = segment_fits._fit_group
    seen = {"batches": 0, "corners": 0, "padded": 0, "some rows": 0}
    fitted: list[tuple[OutlineTrack, list[Segment]]] = []

    def both_ways(track, segments, rows, start, extent, counts, ends):
        got = compiled(track, segments, rows, start, extent, counts, ends)
        want = _plain_fit_group(track, segments, rows, start, extent, counts, ends)
        for fit, plain in zip(got, want, strict=True):
            for a, b in zip(fit, plain, strict=True):
                np.testing.assert_array_equal(a, b)
        seen["batches"] += 1
        seen["corners"] += sum(a[1] == CORNER or b[1] == CORNER for a, b in segments)
        seen["padded"] += int(counts.min() < counts.max())
        seen["some rows"] += int(rows is not None)
        fitted.append((track, segments))
        return got

    monkeypatch.setattr(segment_fits, "_fit_group", both_ways)
    masks = MaskSequence(DATA / "camel" / "Annotations" / "#####.png", 0, 5, default_object="matte")
    trace_shapes(masks, ShapeSettings(), name="camel")
    for track, segments in fitted[:6]:
        for rows in (np.arange(len(track.frames))[::2], np.array([len(track.frames) - 1])):
            segment_fits.fit_runs(track, segments, rows)
            for segment in segments[:3]:
                segment_fits.fit_runs(track, [segment], rows)
    assert seen["batches"] > 50 and min(seen.values()) > 5, seen
