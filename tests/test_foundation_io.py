import os

import numpy as np
import pytest

from roto_core import atomic
from roto_core.errors import FrameError
from roto_core.maskio import read_mask_exr, write_mask_exr


def test_atomic_write_leaves_no_temp_on_failure(tmp_path):
    target = tmp_path / "a" / "report.json"
    atomic.write_json(target, {"x": 1})
    assert target.read_text().strip().startswith("{")
    with pytest.raises(RuntimeError), atomic.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text().strip() == '{\n  "x": 1\n}'
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]


def test_remove_stale_temps(tmp_path):
    stale = atomic.temp_path_for(tmp_path / "x.exr")
    stale.write_bytes(b"partial")
    (tmp_path / "keep.exr").write_bytes(b"ok")
    assert atomic.remove_stale_temps(tmp_path) == 1
    assert sorted(os.listdir(tmp_path)) == ["keep.exr"]


def test_mask_exr_round_trip_is_exact_for_binary_and_close_for_soft(tmp_path):
    rng = np.random.default_rng(0)
    hero = rng.random((40, 60)) > 0.5
    soft = rng.random((40, 60)).astype(np.float32)
    path = write_mask_exr(tmp_path / "m.1001.exr", {"hero": hero, "car": soft})
    got = read_mask_exr(path)
    assert set(got) == {"hero", "car", "A"}
    assert np.array_equal(got["hero"] > 0.5, hero)
    assert np.abs(got["car"] - soft).max() < 1e-3
    assert np.allclose(got["A"], np.maximum(hero.astype(np.float32), got["car"]), atol=1e-3)


def test_mask_exr_errors_name_the_file(tmp_path):
    with pytest.raises(FrameError, match="missing"):
        read_mask_exr(tmp_path / "nope.exr")
    bad = tmp_path / "bad.exr"
    bad.write_bytes(b"\x76\x2f\x31\x01truncated")
    with pytest.raises(FrameError, match="unreadable") as err:
        read_mask_exr(bad)
    assert str(bad) in str(err.value)
    with pytest.raises(FrameError, match="differ"):
        write_mask_exr(tmp_path / "x.exr", {"a": np.zeros((2, 2)), "b": np.zeros((3, 3))})
    empty = write_mask_exr(tmp_path / "e.exr", {}, shape=(4, 5))
    assert read_mask_exr(empty)["A"].shape == (4, 5)
