"""SAM 2.1 backend plumbing with a random-weight tiny model at 256 px: shapes, seeds, corrections, hand-off.

Random weights say nothing about quality; what is checked is what the pipeline relies on: masks of the right
size and range, seeds reproduced on their frame, objects absent before their first seed, a later seed replacing
the tracked mask, the last masks of one call seeding the next, lazy frame reads, bounded state, determinism.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from roto_core.backends.base import SegmentationBackend
from roto_core.backends.checkpoints import resolve_model
from roto_core.backends.sam2_backend import Sam2Backend
from roto_core.contracts import PipelineSettings, Prompt
from roto_core.errors import InputError, ModelError
from roto_core.maskio import write_mask_exr
from tests.roto.models.tiny import SAM2_TINY, iou, sha256_of, square_mask, textured_frames, write_models_yaml

pytestmark = pytest.mark.models

TINY = {
    "family": "sam2",
    "config": SAM2_TINY,
    "checkpoint": "sam2/tiny.pt",
    "random_weights": True,
    "options": {"image_size": 256},
}


@pytest.fixture(scope="module")
def sam2(tmp_path_factory) -> Sam2Backend:
    cfg = write_models_yaml(tmp_path_factory.mktemp("cfg"), {"tiny": TINY})
    torch.manual_seed(0)
    return Sam2Backend.from_model(resolve_model("tiny", "sam2", cfg), "cpu")


class CountingFrames(Sequence):
    """A chunk read one frame at a time, recording which frames were read and when."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        self.frames = frames
        self.reads: list[int] = []

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i):
        self.reads.append(i)
        return self.frames[i]


def test_in_memory_state_matches_what_sam2_init_state_builds(sam2: Sam2Backend, tmp_path: Path):
    yy, xx = np.mgrid[:96, :128].astype(np.float32)
    frame = np.stack([xx / 128, yy / 96, np.full_like(xx, 0.2)], axis=-1)
    frame[30:70, 20:60] = (0.9, 0.4, 0.2)  # smooth but for one edge: resamplers agree, a channel swap would not
    cv2.imwrite(
        str(tmp_path / "0.jpg"), (frame[..., ::-1] * 255).round().astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 100]
    )
    theirs = sam2._predictor.init_state(str(tmp_path))
    ours = sam2._new_state([frame])
    assert set(ours) == set(theirs)
    for key in ("num_frames", "video_height", "video_width", "device", "storage_device", "offload_video_to_cpu"):
        assert ours[key] == theirs[key], key
    assert ours["images"][0].shape == theirs["images"][0].shape == (3, 256, 256)
    assert float((ours["images"][0] - theirs["images"][0].float()).abs().mean()) < 0.05  # JPEG + resampler


def test_is_a_segmentation_backend_at_the_asked_size(sam2: Sam2Backend):
    assert isinstance(sam2, SegmentationBackend)
    assert sam2.name == "sam2" and sam2.image_size == 256 and sam2.device.type == "cpu"


@pytest.mark.parametrize(
    "prompt",
    [
        Prompt(object="hero", frame=0, box=(20, 30, 60, 70)),
        Prompt(object="hero", frame=0, points=[(40, 50, 1), (100, 10, 0)]),
    ],
)
def test_key_mask_from_box_or_points_is_a_binary_frame_sized_mask(sam2: Sam2Backend, prompt: Prompt):
    frame = textured_frames(1)[0]
    mask = sam2.key_mask(frame, prompt)
    assert mask.shape == (96, 128) and mask.dtype == np.float32
    assert set(np.unique(mask)) <= {0.0, 1.0}
    np.testing.assert_array_equal(mask, sam2.key_mask(frame, prompt))


def test_key_mask_from_a_mask_prompt_reads_exr_and_png_at_frame_size(sam2: Sam2Backend, tmp_path: Path):
    frame = textured_frames(1)[0]
    painted = np.zeros((192, 256), np.float32)
    painted[60:140, 40:120] = 1.0
    exr = write_mask_exr(tmp_path / "key.exr", {"hero": painted, "other": np.zeros_like(painted)})
    png = tmp_path / "key.png"
    cv2.imwrite(str(png), (painted * 65535).astype(np.uint16))
    expected = square_mask(x=20)[:, :] * 0
    expected[30:70, 20:60] = 1.0
    for path in (exr, png):
        mask = sam2.key_mask(frame, Prompt(object="hero", frame=0, mask=str(path)))
        assert mask.shape == (96, 128)
        np.testing.assert_array_equal(mask, expected)


def test_bad_prompts_are_typed_errors(sam2: Sam2Backend, tmp_path: Path):
    frame = textured_frames(1)[0]
    with pytest.raises(InputError, match="outside the 128×96 frame"):
        sam2.key_mask(frame, Prompt(object="hero", frame=3, points=[(500, 10, 1)]))
    with pytest.raises(InputError, match="box"):
        sam2.key_mask(frame, Prompt(object="hero", frame=3, box=(200, 200, 300, 300)))
    with pytest.raises(ModelError, match="text model"):
        sam2.key_mask(frame, Prompt(object="hero", frame=3, text="a red square"))
    with pytest.raises(InputError, match="not found") as err:
        sam2.key_mask(frame, Prompt(object="hero", frame=3, mask=str(tmp_path / "nope.png")))
    assert err.value.where == "prompt hero@3"


@pytest.mark.slow
def test_propagate_seeds_late_objects_and_takes_corrections(sam2: Sam2Backend):
    frames = textured_frames(6)
    a, b = square_mask(x=24), square_mask(x=36)
    out = list(sam2.propagate(frames, {1: {"a": a}, 3: {"b": b, "a": np.zeros_like(a)}}))
    assert [i for i, _ in out] == list(range(6))
    assert out[0][1] == {}
    assert set(out[1][1]) == {"a"} and set(out[2][1]) == {"a"}
    assert all(set(masks) == {"a", "b"} for _, masks in out[3:])
    for _, masks in out:
        for m in masks.values():
            assert m.shape == (96, 128) and m.dtype == np.float32 and set(np.unique(m)) <= {0.0, 1.0}
    assert iou(out[1][1]["a"], a) > 0.95
    assert iou(out[3][1]["b"], b) > 0.95
    assert out[3][1]["a"].sum() == 0


def test_frame_confidence_is_the_object_score_of_each_yielded_frame(sam2: Sam2Backend):
    frames = textured_frames(5)
    a = square_mask(x=24)
    seen = []
    for _i, masks in sam2.propagate(frames, {0: {"a": a, "gone": np.zeros_like(a)}}):
        seen.append(dict(sam2.frame_confidence))
        assert set(sam2.frame_confidence) == set(masks)
    assert all(0.0 <= c <= 1.0 for frame in seen for c in frame.values())
    # A mask seed says "here" (SAM 2 sets a high object score for it); an empty seed says "not visible".
    assert seen[0]["a"] > 0.9 and seen[0]["gone"] < 0.1


@pytest.mark.slow
def test_last_masks_of_one_chunk_seed_the_next(sam2: Sam2Backend):
    frames = textured_frames(7)
    first = list(sam2.propagate(frames[:4], {0: {"a": square_mask(x=20)}}))
    handoff = first[-1][1]
    second = list(sam2.propagate(frames[3:], {0: handoff}))
    assert [i for i, _ in second] == [0, 1, 2, 3]
    assert all(set(masks) == {"a"} for _, masks in second)
    assert iou(second[0][1]["a"], handoff["a"]) > 0.95


def test_no_seed_yields_empty_frames_and_bad_seed_index_is_refused(sam2: Sam2Backend):
    frames = textured_frames(3)
    assert list(sam2.propagate(frames, {})) == [(0, {}), (1, {}), (2, {})]
    with pytest.raises(ValueError, match="outside the 3 frames"):
        list(sam2.propagate(frames, {5: {"a": square_mask()}}))


@pytest.mark.slow
def test_frames_are_read_lazily_and_runs_are_deterministic(sam2: Sam2Backend):
    frames = CountingFrames(textured_frames(5))
    gen = sam2.propagate(frames, {0: {"a": square_mask(x=20)}})
    next(gen)
    assert max(frames.reads) <= 1
    rest = list(gen)
    assert max(frames.reads) == 4
    again = list(sam2.propagate(textured_frames(5), {0: {"a": square_mask(x=20)}}))
    for (i, m1), (j, m2) in zip(rest, again[1:], strict=True):
        assert i == j
        np.testing.assert_array_equal(m1["a"], m2["a"])


@pytest.mark.slow
def test_state_holds_only_the_memory_window_on_long_chunks(sam2: Sam2Backend):
    predictor = sam2._predictor
    default_ptrs = predictor.max_obj_ptrs_in_encoder
    predictor.max_obj_ptrs_in_encoder = 8  # sam2's own knob (16 by default): a shorter window, a faster test
    try:
        reach = max(predictor.num_maskmem * predictor.memory_temporal_stride_for_eval, 8)
        n = reach + 4
        gen = sam2.propagate(textured_frames(n, h=48, w=64), {0: {"a": np.ones((48, 64), np.float32)}})
        for _ in range(n):
            next(gen)
        state = gen.gi_frame.f_locals["state"]
    finally:
        predictor.max_obj_ptrs_in_encoder = default_ptrs
    kept = state["output_dict_per_obj"][0]["non_cond_frame_outputs"]
    needed_by_next_frame = set(range(n - reach, n))
    assert needed_by_next_frame <= set(kept)
    assert len(kept) <= reach + 2


@pytest.mark.slow
def test_from_settings_loads_a_pinned_checkpoint_with_identical_results(
    sam2: Sam2Backend, config_dir: Path, tmp_path: Path
):
    ckpt = tmp_path / "models" / "sam2" / "tiny.pt"
    ckpt.parent.mkdir(parents=True)
    torch.save({"model": sam2._predictor.state_dict()}, ckpt)
    spec = {
        **TINY,
        "random_weights": False,
        "sha256": sha256_of(ckpt),
        "options": {"image_size": 256, "offload_video_to_cpu": True, "offload_state_to_cpu": True},
    }
    write_models_yaml(config_dir, {"studio_tiny": spec})
    torch.manual_seed(123)  # a different random init, overwritten by the checkpoint
    loaded = Sam2Backend.from_settings(PipelineSettings(backend="sam2", key_model="studio_tiny"), "cpu")
    assert loaded.options.offload_video_to_cpu and loaded.options.offload_state_to_cpu
    frames = textured_frames(3)
    prompt = Prompt(object="a", frame=0, box=(20, 30, 60, 70))
    np.testing.assert_array_equal(loaded.key_mask(frames[0], prompt), sam2.key_mask(frames[0], prompt))
    seeds = {0: {"a": square_mask(x=20)}}
    for (_, m1), (_, m2) in zip(loaded.propagate(frames, seeds), sam2.propagate(frames, seeds), strict=True):
        np.testing.assert_array_equal(m1["a"], m2["a"])
    loaded.close()


def test_checkpoint_of_another_architecture_and_bad_config_are_model_errors(config_dir: Path, tmp_path: Path):
    ckpt = tmp_path / "models" / "other.pt"
    torch.save({"model": {"image_encoder.not_a_weight": torch.zeros(1)}}, ckpt)
    write_models_yaml(
        config_dir, {"x": {**TINY, "random_weights": False, "checkpoint": "other.pt", "sha256": sha256_of(ckpt)}}
    )
    with pytest.raises(ModelError, match="does not fit config"):
        Sam2Backend.from_settings(PipelineSettings(key_model="x"), "cpu")
    write_models_yaml(config_dir, {"x": {**TINY, "config": "configs/sam2.1/sam2.1_hiera_q.yaml"}})
    with pytest.raises(ModelError, match="cannot build sam2 model 'x'") as err:
        Sam2Backend.from_settings(PipelineSettings(key_model="x"), "cpu")
    assert err.value.where == "models.x.config"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on machines without CUDA")
def test_cuda_asked_for_but_absent_is_a_model_error(config_dir: Path):
    write_models_yaml(config_dir, {"tiny": TINY})
    with pytest.raises(ModelError, match="CUDA device 'cuda:0' asked for") as err:
        Sam2Backend.from_settings(PipelineSettings(key_model="tiny"), "cuda:0")
    assert err.value.where == "device cuda:0"
