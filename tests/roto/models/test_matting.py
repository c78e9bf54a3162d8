"""ViTMatte on the edge band: trimap geometry, alpha outside the band exact, model output inside it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.backends.matting import UNKNOWN, VitMatteMatter, trimap
from roto_core.contracts import PipelineSettings
from roto_core.errors import ModelError
from tests.roto.models.tiny import save_tiny_vitmatte, sha256_of, textured_frames, write_models_yaml

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("vm") / "vitmatte-small"
    save_tiny_vitmatte(folder)
    return folder


def _matter(config_dir: Path, folder: Path, **options) -> VitMatteMatter:
    write_models_yaml(
        config_dir,
        {
            "vm": {
                "family": "vitmatte",
                "checkpoint": str(folder),
                "weights_file": "model.safetensors",
                "sha256": sha256_of(folder / "model.safetensors"),
                "options": options,
            }
        },
    )
    return VitMatteMatter.from_settings(PipelineSettings(matting=True, matting_model="vm"), "cpu")


def disc(h: int, w: int, r: float) -> np.ndarray:
    yy, xx = np.mgrid[:h, :w]
    return ((yy - h / 2) ** 2 + (xx - w / 2) ** 2 <= r * r).astype(np.float32)


def test_trimap_band_is_band_px_either_side_of_the_edge():
    mask = disc(101, 101, 30)
    tri = trimap(mask, band_px=5)
    assert set(np.unique(tri)) == {0.0, UNKNOWN, 1.0}
    yy, xx = np.mgrid[:101, :101]
    dist = np.hypot(yy - 50.5, xx - 50.5)
    assert (tri[dist < 30 - 6.5] == 1.0).all()
    assert (tri[dist > 30 + 6.5] == 0.0).all()
    assert (tri[np.abs(dist - 30) < 3.5] == UNKNOWN).all()


def test_alpha_is_exact_outside_the_band_and_the_models_inside(tiny_folder: Path, config_dir: Path):
    matter = _matter(config_dir, tiny_folder, band_px=4, tile=512, margin=16)
    frame = textured_frames(1, h=80, w=120)[0]
    mask = disc(80, 120, 25)
    alpha = matter.matte(frame, mask)
    tri = trimap(mask, 4)
    assert alpha.shape == (80, 120) and alpha.dtype == np.float32
    assert (alpha[tri == 1.0] == 1.0).all() and (alpha[tri == 0.0] == 0.0).all()
    band = alpha[tri == UNKNOWN]
    assert ((band >= 0.0) & (band <= 1.0)).all()
    expected = matter._alpha(frame, tri)
    np.testing.assert_allclose(band, expected[tri == UNKNOWN], atol=1e-6)


def test_only_tiles_touching_the_band_run_the_model(tiny_folder: Path, config_dir: Path):
    matter = _matter(config_dir, tiny_folder, band_px=3, tile=32, margin=8)
    calls: list[tuple[int, ...]] = []
    hook = matter._model.register_forward_hook(
        lambda _m, _a, kwargs, _o: calls.append(tuple(kwargs["pixel_values"].shape)), with_kwargs=True
    )
    try:
        frame = textured_frames(1, h=128, w=128)[0]
        mask = np.zeros((128, 128), np.float32)
        mask[10:22, 10:22] = 1.0  # edge band inside the top-left 32-px tile only
        alpha = matter.matte(frame, mask)
        assert calls == [(1, 4, 64, 64)]  # the 32-px tile plus an 8-px margin (clipped at 0), padded to 32
        assert alpha[64:, 64:].max() == 0.0
        calls.clear()
        assert (matter.matte(frame, np.zeros_like(mask)) == 0).all()
        assert (matter.matte(frame, np.ones_like(mask)) == 1).all()
        assert calls == []
    finally:
        hook.remove()


def test_mask_and_frame_must_agree_in_size(tiny_folder: Path, config_dir: Path):
    matter = _matter(config_dir, tiny_folder)
    with pytest.raises(ValueError, match="differ in size"):
        matter.matte(textured_frames(1)[0], np.zeros((10, 10), np.float32))


def test_missing_shipped_model_names_its_folder(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("ROTOFARM_CONFIG_DIR", raising=False)
    monkeypatch.setenv("ROTOFARM_MODELS", str(tmp_path))
    with pytest.raises(ModelError) as err:
        VitMatteMatter.from_settings(PipelineSettings(matting=True), "cpu")
    assert "vitmatte_small" in str(err.value)
    assert str(tmp_path / "vitmatte-small-composition-1k") in str(err.value)
