"""Any shape document survives JSON, Nuke and Silhouette round trips (property-based)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from roto_core.exporters import read_fxs, read_nk, read_shapes_json, write_fxs, write_nk, write_shapes_json
from roto_core.shapes.model import Shape, ShapeDocument


@st.composite
def documents(draw: st.DrawFn) -> ShapeDocument:
    width = draw(st.integers(64, 4096))
    height = draw(st.integers(64, 2304))
    first = draw(st.integers(-10, 2000))
    last = first + draw(st.integers(0, 200))
    shapes = []
    for i in range(draw(st.integers(1, 4))):
        points = draw(st.integers(3, 12))
        a = draw(st.integers(first, last))
        b = draw(st.integers(a, last))
        frames = sorted(draw(st.sets(st.integers(a, b), min_size=1, max_size=5)))
        seed = draw(st.integers(0, 2**31))
        rng = np.random.default_rng(seed)
        keys = rng.uniform(-0.2, 1.2, (len(frames), points, 3, 2)) * [width, height]
        keys[:, :, (0, 2)] -= keys[:, :, 1:2]
        if draw(st.booleans()):
            keys[:, 0, 0] = 0.0
        obj = draw(st.sampled_from(["hero", "prop", "car_2"]))
        mode = draw(st.sampled_from(["add", "subtract"]))
        shapes.append(Shape(f"{obj}_{i + 1}", obj, mode, a, b, frames, keys, rng.random(points) > 0.5))
    return ShapeDocument(width, height, first, last, shapes)


@settings(max_examples=40, deadline=None)
@given(doc=documents(), offset=st.integers(-5, 5))
def test_round_trips(doc: ShapeDocument, offset: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        js = read_shapes_json(write_shapes_json(doc, folder / "s.json"))
        nk, _ = read_nk(write_nk(doc, folder / "s.nk"))
        fxs = read_fxs(write_fxs(doc, folder / "s.fxs", frame_offset=offset), frame_offset=offset)
    scale = max(doc.width, doc.height)
    want = sorted(doc.shapes, key=lambda s: (s.object, s.name))
    for back, atol in ((js, 1e-4), (nk, 1e-6 * scale * 4), (fxs, 1e-6 * scale * 4)):
        # Silhouette groups shapes by object layer, so compare in object order.
        got = sorted(back.shapes, key=lambda s: (s.object, s.name))
        assert [(s.name, s.object, s.mode, s.first_frame, s.last_frame) for s in got] == [
            (s.name, s.object, s.mode, s.first_frame, s.last_frame) for s in want
        ]
        for a, b in zip(want, got, strict=True):
            assert a.key_frames.tolist() == b.key_frames.tolist()
            np.testing.assert_allclose(b.keys, a.keys, atol=atol + 1e-4)
    assert [s.corners.tolist() for s in js.shapes] == [s.corners.tolist() for s in doc.shapes]
