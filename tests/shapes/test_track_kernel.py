"""OutlineTrack.at_all, a compiled loop (track_kernel.py), gives numpy's whole-array computation to the bit: on
every lookup the tracer makes on a real DAVIS matte, and on arc lengths anywhere round the outlines (negative,
several laps on, exactly at samples), for all frames or some, in batches of any shape."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.outline_track import Loop, OutlineTrack
from roto_core.shapes.trace import trace_shapes

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"


def _plain_at_all(track: OutlineTrack, s: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """at_all as numpy computed it: wrap round each frame's outline, offset into the packed outlines, search,
    clamp to the frame's samples, interpolate along the sample's step."""
    rows = slice(None) if rows is None else rows
    g = np.mod(np.asarray(s, dtype=np.float64), track.lengths[rows, None])
    g = track.base[rows, None] + g
    i = track.all_cum.searchsorted(g, side="right") - 1
    i = np.minimum(np.maximum(i, track.first_sample[rows, None]), track.last_sample[rows, None])
    t = (g - track.all_cum[i]) / track.all_seglen[i]
    return track.all_step[i] * t[..., None] + track.all_points[i]


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_every_lookup_on_a_real_parkour_matte_and_arcs_anywhere_are_numpys(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = OutlineTrack.at_all
    tracks: list[OutlineTrack] = []
    looked_up = []

    def both_ways(self, s, rows=None):
        got = compiled(self, s, rows)
        np.testing.assert_array_equal(got, _plain_at_all(self, s, rows))
        tracks.append(self)
        looked_up.append(got.size // 2)
        return got

    monkeypatch.setattr(OutlineTrack, "at_all", both_ways)
    masks = MaskSequence(DATA / "parkour" / "Annotations" / "#####.png", 0, 5, default_object="matte")
    trace_shapes(masks, ShapeSettings(), name="parkour")
    # Thousands of points, every one on every frame of its track (7,934 on these six frames).
    assert sum(looked_up) > 5000
    track = tracks[0]
    frames = len(track.frames)
    rng = np.random.default_rng(0)
    longest = float(track.lengths.max())
    s = rng.uniform(-3.0 * longest, 3.0 * longest, (frames, 40))
    s[0, :5] = track.all_cum[:5] - track.base[0]  # exactly at the first frame's samples
    s[:, 5] = -0.0
    for rows in (None, np.arange(frames)[::-2], np.arange(frames) % 2 == 0):
        picked = s[: len(track.every_row[rows])] if rows is not None else s
        np.testing.assert_array_equal(compiled(track, picked, rows), _plain_at_all(track, picked, rows))
    batch = s[None].repeat(3, axis=0) + np.arange(3)[:, None, None]
    np.testing.assert_array_equal(compiled(track, batch), _plain_at_all(track, batch, None))
    same = s[:1, :7]  # the same arc lengths on every frame, broadcast over them
    np.testing.assert_array_equal(compiled(track, same), _plain_at_all(track, same, None))
    assert compiled(track, same).shape == (frames, 7, 2)


def _plain_arc_all(track: OutlineTrack, u: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """arc_all as numpy computed it: the marker before each parameter, the fraction towards the next, and laps."""
    rows = slice(None) if rows is None else rows
    u = np.asarray(u, dtype=np.float64)
    whole = np.floor(u)
    k = whole.astype(np.int64)
    laps = np.floor_divide(k, track.count)
    k = k - laps * track.count
    start = track.marks[rows][:, k]
    lengths = track.lengths[rows].reshape((-1,) + (1,) * u.ndim)
    return start + (u - whole) * (track.marks_next[rows][:, k] - start) + laps * lengths


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_every_arc_on_a_real_goat_matte_and_parameters_anywhere_are_numpys(monkeypatch: pytest.MonkeyPatch) -> None:
    """OutlineTrack.arc_all (track_kernel.arcs_at) to the bit: every call tracing DAVIS goat (necks, segment fits),
    then parameters negative, several laps on and exactly at markers, for all frames, some, or a boolean mask."""
    compiled = OutlineTrack.arc_all
    tracks: list[OutlineTrack] = []

    def both_ways(self, u, rows=None):
        got = compiled(self, u, rows)
        np.testing.assert_array_equal(got, _plain_arc_all(self, u, rows))
        tracks.append(self)
        return got

    monkeypatch.setattr(OutlineTrack, "arc_all", both_ways)
    masks = MaskSequence(DATA / "goat" / "Annotations" / "#####.png", 0, 5, default_object="matte")
    trace_shapes(masks, ShapeSettings(), name="goat")
    assert len(tracks) > 100
    track = tracks[0]
    frames = len(track.frames)
    u = np.random.default_rng(1).uniform(-3.0 * track.count, 3.0 * track.count, (4, 9))
    u[0, :4] = [0.0, -0.0, float(track.count), float(-track.count - 1)]
    for rows in (None, np.arange(frames)[::-2], np.arange(frames) % 2 == 0, np.array([1])):
        np.testing.assert_array_equal(compiled(track, u, rows), _plain_arc_all(track, u, rows))
    np.testing.assert_array_equal(compiled(track, u[0, 5]), _plain_arc_all(track, u[0, 5], None))


def _plain_loop_at(loop: Loop, s: np.ndarray) -> np.ndarray:
    """Loop.at as numpy computed it: wrap round the outline, search, clamp to its samples, interpolate."""
    g = np.mod(np.asarray(s, dtype=np.float64), loop.length)
    i = np.clip(np.searchsorted(loop.cum, g, side="right") - 1, 0, len(loop.points) - 1)
    t = (g - loop.cum[i]) / loop.seglen[i]
    return loop.points[i] + t[..., None] * loop.step[i]


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_every_point_looked_up_along_a_real_camel_outline_and_anywhere_round_it_is_numpys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Loop.at (track_kernel.loop_points) on every lookup the tracer makes on DAVIS camel's first frames, and at arc
    lengths negative, laps on, exactly at samples, the loop's length itself and a hair under zero, as scalars and
    in batches of any shape."""
    compiled = Loop.at
    loops: list[Loop] = []

    def both_ways(self, s):
        got = compiled(self, s)
        np.testing.assert_array_equal(got, _plain_loop_at(self, s))
        loops.append(self)
        return got

    monkeypatch.setattr(Loop, "at", both_ways)
    masks = MaskSequence(DATA / "camel" / "Annotations" / "#####.png", 0, 5, default_object="matte")
    trace_shapes(masks, ShapeSettings(), name="camel")
    assert len(loops) > 20
    loop = loops[0]
    rng = np.random.default_rng(0)
    s = rng.uniform(-3.0 * loop.length, 3.0 * loop.length, (4, 5, 6))
    s[0, 0] = loop.cum[:6]
    s[1, 0, :3] = (loop.length, -1e-20, -0.0)
    for batch in (s, s[0], s[0, 0], s[0, 0, 1], float(loop.length)):
        got = compiled(loop, batch)
        assert got.shape == (*np.shape(batch), 2)
        np.testing.assert_array_equal(got, _plain_loop_at(loop, batch))
