"""Which line pieces join (strand_joins.join_candidates, compiled) is what the numpy formulation of the test finds,
in the same order: on random ends, and on every test the joining makes on real DAVIS paragliding-launch mattes,
whose rigging lines come in dashes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes import line_strands
from roto_core.shapes.contours import thin_parts
from roto_core.shapes.maskseq import MaskSequence

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
    found = line_strands._join_candidates(every, every, points, heads)
    assert len(found) > 100
    assert found == _numpy_candidates(every, every, points, heads)
    assert line_strands._join_candidates([7], every, points, heads) == _numpy_candidates([7], every, points, heads)


@pytest.mark.skipif(not (DATA / "paragliding-launch").is_dir(), reason="needs ../shared/data/davis2016-dev")
def test_every_join_test_on_real_rigging_lines_is_numpys(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = line_strands._join_candidates
    found = []

    def both(first, second, points, heads):
        got = compiled(first, second, points, heads)
        assert got == _numpy_candidates(first, second, points, heads)
        found.append(len(got))
        return got

    monkeypatch.setattr(line_strands, "_join_candidates", both)
    masks = MaskSequence(DATA / "paragliding-launch" / "Annotations" / "#####.png", 0, 2, default_object="matte")
    for frame in masks.frames:
        line_strands.strands(thin_parts(masks.read(frame)["matte"], ShapeSettings().min_area_px))
    assert len(found) > 100 and sum(found) > 100 and found.count(0) > 10
