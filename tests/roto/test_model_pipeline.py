"""The chunk runner with the real model backends (random weights, tiny sizes): plumbing, not quality.

SAM 2 keys and propagates, its last masks go through the chunk state into the next chunk, ViTMatte writes soft
mattes, and a missing checkpoint stops the chunk with the config key named. Weights are random, so only shapes,
files and hand-off are asserted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from roto_core.chunks import load_models, run_chunk
from roto_core.contracts import Prompt
from roto_core.errors import ModelError
from roto_core.maskio import read_mask_exr
from roto_core.synthetic import make_shot
from tests.roto.conftest import make_job, rotofarm
from tests.roto.models.tiny import save_tiny_vitmatte

pytest.importorskip("torch")
pytest.importorskip("sam2")
pytestmark = [pytest.mark.models, pytest.mark.slow]

SAM2_TINY = {
    "family": "sam2",
    "config": "configs/sam2.1/sam2.1_hiera_t.yaml",
    "checkpoint": "sam2/tiny.pt",
    "random_weights": True,
    "options": {"image_size": 256},
}


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A studio config folder whose models.yaml has a random-weight SAM 2 tiny and a tiny ViTMatte."""
    cfg, root = tmp_path / "configs", tmp_path / "models"
    cfg.mkdir()
    root.mkdir()
    save_tiny_vitmatte(root / "vitmatte")
    models = {
        "sam2_tiny": SAM2_TINY,
        "sam2_missing": {**SAM2_TINY, "random_weights": False},
        "vm": {
            "family": "vitmatte",
            "checkpoint": "vitmatte",
            "weights_file": "model.safetensors",
            "random_weights": True,
        },
    }
    (cfg / "models.yaml").write_text(yaml.safe_dump({"root": str(root), "models": models}))
    monkeypatch.setenv("ROTOFARM_CONFIG_DIR", str(cfg))
    monkeypatch.setenv("ROTOFARM_MODELS", str(root))
    return cfg


def test_sam2_chunks_hand_off_state_and_matting_writes_mattes(tmp_path: Path, studio: Path) -> None:
    shot = make_shot(tmp_path / "shot", frames=4, width=128, height=96, seed=2)
    manifest, job, _ = make_job(
        tmp_path, shot, backend="sam2", key_model="sam2_tiny", matting=True, matting_model="vm", chunk_size=2, overlap=1
    )
    models = load_models(manifest.pipeline, "cpu")
    try:
        first = run_chunk(manifest, job, 1001, 1002, models)
        second = run_chunk(manifest, job, 1003, 1004, models)
    finally:
        models.close()
    assert first.backend == "sam2" and first.seeds == {o: "box prompt on frame 1001" for o in shot.objects}
    assert second.seeds == {o: "state 1001-1002" for o in shot.objects}
    for frame in shot.frames:
        masks = read_mask_exr(job.mask_path(frame))
        assert set(masks) == {"obj1", "obj2", "A"}
        assert masks["A"].shape == (96, 128)
        mattes = read_mask_exr(job.matte_path(frame))
        assert set(mattes) == {"obj1", "obj2", "A"} and mattes["A"].shape == (96, 128)
        assert ((mattes["A"] >= 0) & (mattes["A"] <= 1)).all()
    assert np.isfinite(read_mask_exr(job.matte_path(1004))["A"]).all()


def test_missing_checkpoint_names_the_config_key(tmp_path: Path, studio: Path) -> None:
    shot = make_shot(tmp_path / "shot", frames=2, width=64, height=48, seed=0)
    manifest, _, path = make_job(tmp_path, shot, backend="sam2", key_model="sam2_missing")
    with pytest.raises(ModelError) as err:
        load_models(manifest.pipeline, "cpu")
    assert "sam2_missing" in err.value.format()
    proc = rotofarm("run-chunk", str(path), "--frames", "1001-1002", "--device", "cpu")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "sam2_missing" in lines[0]


@pytest.mark.parametrize("threshold", [0.0, 1.0])
def test_text_prompt_goes_through_grounding_dino_to_a_box(tmp_path: Path, studio: Path, threshold: float) -> None:
    from tests.roto.models.tiny import save_tiny_grounding_dino

    save_tiny_grounding_dino(tmp_path / "models" / "gd")
    spec = {
        "family": "grounding_dino",
        "checkpoint": "gd",
        "weights_file": "model.safetensors",
        "random_weights": True,
        "options": {"box_threshold": threshold, "text_threshold": threshold},
    }
    config = yaml.safe_load((studio / "models.yaml").read_text())
    config["models"]["gd"] = spec
    (studio / "models.yaml").write_text(yaml.safe_dump(config))
    shot = make_shot(tmp_path / "shot", frames=2, width=96, height=64, seed=0, objects=1)
    text = Prompt(object="obj1", frame=1001, text="a red ellipse")
    manifest, job, _ = make_job(tmp_path, shot, text_model="gd")
    manifest = manifest.model_copy(update={"shot": shot.to_shot().model_copy(update={"prompts": [text]})})
    result = run_chunk(manifest, job, 1001, 1002, load_models(manifest.pipeline, "cpu"))
    if threshold == 0.0:  # random weights still rank some box first: it becomes the classical key prompt
        assert result.seeds == {"obj1": "text prompt on frame 1001"}
    else:  # nothing clears a threshold of 1: the object is reported, not a crash
        assert result.seeds == {}
        assert any("nothing matches 'a red ellipse' on frame 1001" in w for w in result.warnings)
        assert not read_mask_exr(job.mask_path(1002))["obj1"].any()
