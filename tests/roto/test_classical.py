"""The classical backend on synthetic shots with exact ground truth: quality, prompts, determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.backends import create_backend, resolve_device
from roto_core.backends.classical import ClassicalBackend
from roto_core.contracts import PipelineSettings, Prompt
from roto_core.errors import ModelError
from roto_core.frames import FrameSource
from roto_core.maskio import read_mask_exr
from roto_core.metrics import ObjectScores, jaccard
from roto_core.sequences import frame_path
from roto_core.synthetic import make_shot


def _track(shot, backend: ClassicalBackend) -> dict[str, list[np.ndarray]]:
    src = FrameSource(shot.plate, shot.first_frame, shot.last_frame)
    seeds = {0: {p.object: backend.key_mask(src[0], p) for p in shot.prompts}}
    out: dict[str, list[np.ndarray]] = {o: [] for o in shot.objects}
    for _, masks in backend.propagate(src, seeds):
        for o in shot.objects:
            out[o].append(masks[o])
    return out


@pytest.mark.parametrize("seed", [1, 4])
def test_jf_at_least_0_90_on_synthetic_shots(tmp_path: Path, small_shot, seed: int) -> None:
    shot = small_shot if seed == 1 else make_shot(tmp_path, frames=40, width=256, height=144, seed=seed)
    masks = _track(shot, ClassicalBackend())
    for obj in shot.objects:
        scores = ObjectScores()
        for i, f in enumerate(shot.frames):
            scores.add(masks[obj][i], read_mask_exr(frame_path(shot.gt, f))[obj])
        assert scores.summary()["J&F"] >= 0.90, (obj, scores.summary())


def test_point_prompts_positive_and_negative(small_shot) -> None:
    backend = ClassicalBackend()
    frame = FrameSource(small_shot.plate, small_shot.first_frame, small_shot.first_frame)[0]
    gt = read_mask_exr(frame_path(small_shot.gt, small_shot.first_frame))["obj2"] >= 0.5
    ys, xs = np.nonzero(gt)
    inside = (float(np.median(xs)), float(np.median(ys)), 1)
    got = backend.key_mask(frame, Prompt(object="obj2", frame=small_shot.first_frame, points=[inside]))
    assert jaccard(got, gt) > 0.85
    only_negative = Prompt(object="obj2", frame=small_shot.first_frame, points=[(inside[0], inside[1], 0)])
    assert not backend.key_mask(frame, only_negative).any()


def test_cpu_runs_are_deterministic(small_shot) -> None:
    a = _track(small_shot, ClassicalBackend())
    b = _track(small_shot, ClassicalBackend(threads=2))
    for obj in small_shot.objects:
        assert all(np.array_equal(x, y) for x, y in zip(a[obj], b[obj], strict=True))


def test_registry_and_devices() -> None:
    assert isinstance(create_backend(PipelineSettings(backend="classical"), "cpu"), ClassicalBackend)
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") in {"cpu", "cuda:0"}
    with pytest.raises(ModelError, match="unknown device"):
        resolve_device("tpu")


def test_cuda_asked_for_but_absent() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ModelError, match="CUDA device cuda:0 asked for"):
        create_backend(PipelineSettings(backend="classical"), "cuda:0")
