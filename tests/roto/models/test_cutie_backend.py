"""Cutie backend plumbing with random weights: seeds, late objects, corrections, chunk hand-off, checkpoints.

Also checks that Cutie and SAM 2 build in one process in either order (both compose configs through Hydra's
single global state).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from roto_core.backends.base import SegmentationBackend
from roto_core.backends.checkpoints import resolve_model
from roto_core.backends.cutie_backend import CutieBackend
from roto_core.backends.sam2_backend import Sam2Backend
from roto_core.contracts import PipelineSettings, Prompt
from roto_core.errors import ConfigError, ModelError
from tests.roto.models.tiny import SAM2_TINY, iou, sha256_of, square_mask, textured_frames, write_models_yaml

pytestmark = pytest.mark.models

SMALL = {
    "family": "cutie",
    "config": "small",
    "checkpoint": "cutie/small.pth",
    "random_weights": True,
    "options": {"max_internal_size": -1},
}


@pytest.fixture(scope="module")
def cutie(tmp_path_factory) -> CutieBackend:
    cfg = write_models_yaml(tmp_path_factory.mktemp("cfg"), {"small": SMALL})
    torch.manual_seed(0)
    return CutieBackend.from_model(resolve_model("small", "cutie", cfg), "cpu")


def _check_masks(out):
    for _, masks in out:
        for m in masks.values():
            assert m.shape == (96, 128) and m.dtype == np.float32 and set(np.unique(m)) <= {0.0, 1.0}


def test_is_a_segmentation_backend(cutie: CutieBackend):
    assert isinstance(cutie, SegmentationBackend) and cutie.name == "cutie"


@pytest.mark.slow
def test_seed_frame_reproduces_the_seeds_and_objects_appear_at_their_first_seed(cutie: CutieBackend):
    frames = textured_frames(6)
    a, b = square_mask(x=24), square_mask(x=36)
    out = list(cutie.propagate(frames, {1: {"a": a}, 3: {"b": b}}))
    _check_masks(out)
    assert [i for i, _ in out] == list(range(6))
    assert out[0][1] == {}
    assert set(out[1][1]) == {"a"} and set(out[2][1]) == {"a"}
    assert all(set(m) == {"a", "b"} for _, m in out[3:])
    np.testing.assert_array_equal(out[1][1]["a"], a)
    np.testing.assert_array_equal(out[3][1]["b"], b)
    overlap = np.logical_and(out[3][1]["a"] > 0, out[3][1]["b"] > 0)
    assert not overlap.any()  # Cutie's objects are exclusive: the new seed wins its pixels


def test_a_later_seed_corrects_a_tracked_object(cutie: CutieBackend):
    frames = textured_frames(5)
    fix = square_mask(x=10)
    out = list(cutie.propagate(frames, {0: {"a": square_mask(x=20)}, 2: {"a": fix}}))
    _check_masks(out)
    np.testing.assert_array_equal(out[2][1]["a"], fix)


def test_frame_confidence_is_each_objects_probability_on_its_own_pixels(cutie: CutieBackend):
    frames = textured_frames(4)
    for _i, masks in cutie.propagate(frames, {0: {"a": square_mask(x=20), "b": square_mask(x=70)}}):
        assert set(cutie.frame_confidence) == set(masks)
        for obj, value in cutie.frame_confidence.items():
            assert 0.0 <= value <= 1.0
            assert (value == 0.0) == (not masks[obj].any())  # no pixel won: no confidence
            if masks[obj].any():
                assert value > 1.0 / 3  # the winner of a pixel among background, a and b has at least a third


@pytest.mark.slow
def test_last_masks_of_one_chunk_seed_the_next(cutie: CutieBackend):
    frames = textured_frames(7)
    first = list(cutie.propagate(frames[:4], {0: {"a": square_mask(x=20), "b": square_mask(x=70)[::-1].copy()}}))
    handoff = first[-1][1]
    second = list(cutie.propagate(frames[3:], {0: handoff}))
    _check_masks(second)
    assert all(set(m) == {"a", "b"} for _, m in second)
    for obj in ("a", "b"):
        assert iou(second[0][1][obj], handoff[obj]) == 1.0


def test_runs_are_deterministic(cutie: CutieBackend):
    frames = textured_frames(4)
    seeds = {0: {"a": square_mask(x=20)}}
    for (_, m1), (_, m2) in zip(cutie.propagate(frames, seeds), cutie.propagate(frames, seeds), strict=True):
        np.testing.assert_array_equal(m1["a"], m2["a"])


def test_mask_prompts_are_read_and_clicks_need_a_key_mask_backend(cutie: CutieBackend, tmp_path: Path):
    import cv2

    frame = textured_frames(1)[0]
    with pytest.raises(ModelError, match="no key-mask backend"):
        cutie.key_mask(frame, Prompt(object="a", frame=0, box=(10, 10, 50, 50)))
    png = tmp_path / "a.png"
    cv2.imwrite(str(png), (square_mask(x=20) * 255).astype(np.uint8))
    np.testing.assert_array_equal(cutie.key_mask(frame, Prompt(object="a", frame=0, mask=str(png))), square_mask(x=20))


@pytest.mark.slow
def test_box_prompts_go_to_the_key_model_built_on_first_use(config_dir: Path):
    tiny_sam2 = {
        "family": "sam2",
        "config": SAM2_TINY,
        "checkpoint": "t.pt",
        "random_weights": True,
        "options": {"image_size": 256},
    }
    write_models_yaml(config_dir, {"c": SMALL, "tiny": tiny_sam2})
    settings = PipelineSettings(backend="cutie", key_model="tiny", propagation_model="c")
    backend = CutieBackend.from_settings(settings, "cpu")
    assert backend._keyer is None
    frame, prompt = textured_frames(1)[0], Prompt(object="a", frame=0, box=(20, 30, 60, 70))
    torch.manual_seed(5)
    mask = backend.key_mask(frame, prompt)
    assert isinstance(backend._keyer, Sam2Backend) and backend._keyer.model_key == "tiny"
    torch.manual_seed(5)
    reference = Sam2Backend.from_settings(settings, "cpu")
    np.testing.assert_array_equal(mask, reference.key_mask(frame, prompt))
    backend.close()
    assert backend._keyer is None


def test_the_classical_backend_can_make_the_key_masks(cutie: CutieBackend):
    from roto_core.backends.classical import ClassicalBackend

    keyed = CutieBackend(cutie._network, cutie._cfg, cutie.device, cutie.model_key, make_keyer=ClassicalBackend)
    frame, prompt = textured_frames(1)[0], Prompt(object="a", frame=0, box=(15, 25, 65, 75))
    np.testing.assert_array_equal(keyed.key_mask(frame, prompt), ClassicalBackend().key_mask(frame, prompt))


@pytest.mark.slow
def test_pinned_checkpoint_loads_through_settings_next_to_sam2(cutie: CutieBackend, config_dir: Path, tmp_path: Path):
    ckpt = tmp_path / "models" / "cutie" / "small.pth"
    ckpt.parent.mkdir(parents=True)
    torch.save(cutie._network.state_dict(), ckpt)
    write_models_yaml(
        config_dir,
        {
            "studio_cutie": {**SMALL, "random_weights": False, "sha256": sha256_of(ckpt)},
            "tiny": {
                "family": "sam2",
                "config": SAM2_TINY,
                "checkpoint": "t.pt",
                "random_weights": True,
                "options": {"image_size": 256},
            },
        },
    )
    settings = PipelineSettings(backend="cutie", key_model="tiny", propagation_model="studio_cutie")
    sam2_first = Sam2Backend.from_settings(settings, "cpu")
    torch.manual_seed(7)
    loaded = CutieBackend.from_settings(settings, "cpu")
    sam2_after = Sam2Backend.from_settings(settings, "cpu")
    assert sam2_first.image_size == sam2_after.image_size == 256
    frames = textured_frames(4)
    seeds = {0: {"a": square_mask(x=20)}}
    for (_, m1), (_, m2) in zip(loaded.propagate(frames, seeds), cutie.propagate(frames, seeds), strict=True):
        np.testing.assert_array_equal(m1["a"], m2["a"])
    for backend in (loaded, sam2_first, sam2_after):
        backend.close()


def test_bad_checkpoint_and_config_are_errors(config_dir: Path, tmp_path: Path):
    ckpt = tmp_path / "models" / "half.pth"
    torch.save({"key_proj.key_proj.weight": torch.zeros(1)}, ckpt)
    write_models_yaml(
        config_dir, {"c": {**SMALL, "random_weights": False, "checkpoint": "half.pth", "sha256": sha256_of(ckpt)}}
    )
    with pytest.raises(ModelError, match="does not fit Cutie config 'small': size mismatch"):
        CutieBackend.from_settings(PipelineSettings(backend="cutie", propagation_model="c"), "cpu")
    torch.save({"key_proj.key_proj.bias": torch.zeros(64)}, ckpt)
    write_models_yaml(
        config_dir, {"c": {**SMALL, "random_weights": False, "checkpoint": "half.pth", "sha256": sha256_of(ckpt)}}
    )
    with pytest.raises(ModelError, match="weights missing"):
        CutieBackend.from_settings(PipelineSettings(backend="cutie", propagation_model="c"), "cpu")
    write_models_yaml(config_dir, {"c": {**SMALL, "config": "huge"}})
    with pytest.raises(ConfigError, match="no Cutie model config 'huge'"):
        CutieBackend.from_settings(PipelineSettings(backend="cutie", propagation_model="c"), "cpu")


def test_default_propagation_model_is_cutie_base(config_dir: Path, tmp_path: Path):
    write_models_yaml(config_dir, {"cutie_base": {"family": "cutie", "checkpoint": "cutie/cutie-base-mega.pth"}})
    with pytest.raises(ModelError, match="cutie_base") as err:
        CutieBackend.from_settings(PipelineSettings(backend="cutie"), "cpu")
    assert str(tmp_path / "models" / "cutie" / "cutie-base-mega.pth") in str(err.value)
