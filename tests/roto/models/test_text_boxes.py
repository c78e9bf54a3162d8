"""Grounding DINO through transformers, loaded from a local folder with an offline tokenizer built here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.backends.text_boxes import GroundingDinoBoxer, grounding_text
from roto_core.contracts import PipelineSettings
from roto_core.errors import ModelError
from tests.roto.models.tiny import save_tiny_grounding_dino, sha256_of, textured_frames, write_models_yaml

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("gd") / "grounding-dino-tiny"
    save_tiny_grounding_dino(folder)
    return folder


def _pin(config_dir: Path, folder: Path, **options) -> None:
    write_models_yaml(
        config_dir,
        {
            "gd": {
                "family": "grounding_dino",
                "checkpoint": str(folder),
                "weights_file": "model.safetensors",
                "sha256": sha256_of(folder / "model.safetensors"),
                "options": options,
            }
        },
    )


def test_prompt_text_follows_grounding_dino_phrasing():
    assert grounding_text("  A Red   Square ") == "a red square."
    assert grounding_text("person.") == "person."


def test_boxes_are_in_frame_pixels_best_first(tiny_folder: Path, config_dir: Path):
    _pin(config_dir, tiny_folder, box_threshold=0.0, text_threshold=0.0, max_boxes=5)
    boxer = GroundingDinoBoxer.from_settings(PipelineSettings(text_model="gd"), "cpu")
    frame = textured_frames(1, h=90, w=150)[0]
    boxes = boxer.boxes(frame, "a red square")
    assert 1 <= len(boxes) <= 5
    scores = [b[4] for b in boxes]
    assert scores == sorted(scores, reverse=True)
    for x0, y0, x1, y1, score in boxes:
        assert 0 <= x0 < x1 <= 150 and 0 <= y0 < y1 <= 90
        assert 0.0 <= score <= 1.0
    assert boxer.boxes(frame, "a red square") == boxes
    boxer.close()


def test_threshold_above_every_score_gives_no_boxes(tiny_folder: Path, config_dir: Path):
    _pin(config_dir, tiny_folder, box_threshold=1.0)
    boxer = GroundingDinoBoxer.from_settings(PipelineSettings(text_model="gd"), "cpu")
    assert boxer.boxes(textured_frames(1)[0], "person") == []


def test_random_weights_read_architecture_and_processor_from_the_folder(tiny_folder: Path, config_dir: Path):
    write_models_yaml(
        config_dir,
        {
            "gd": {
                "family": "grounding_dino",
                "checkpoint": str(tiny_folder),
                "random_weights": True,
                "options": {"box_threshold": 0.0},
            }
        },
    )
    boxer = GroundingDinoBoxer.from_settings(PipelineSettings(text_model="gd"), "cpu")
    assert boxer.boxes(textured_frames(1)[0], "car")


def test_folder_without_a_model_is_a_model_error(config_dir: Path, tmp_path: Path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"junk")
    _pin(config_dir, folder)
    with pytest.raises(ModelError, match="cannot load model 'gd'"):
        GroundingDinoBoxer.from_settings(PipelineSettings(text_model="gd"), "cpu")


def test_missing_shipped_model_names_its_folder(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("ROTOFARM_CONFIG_DIR", raising=False)
    monkeypatch.setenv("ROTOFARM_MODELS", str(tmp_path))
    with pytest.raises(ModelError) as err:
        GroundingDinoBoxer.from_settings(PipelineSettings(), "cpu")
    assert "grounding_dino_tiny" in str(err.value)
    assert str(tmp_path / "grounding-dino-tiny") in str(err.value)


def test_boxes_run_on_frames_of_any_aspect(tiny_folder: Path, config_dir: Path):
    _pin(config_dir, tiny_folder, box_threshold=0.0, text_threshold=0.0)
    boxer = GroundingDinoBoxer.from_settings(PipelineSettings(text_model="gd"), "cpu")
    tall = np.ascontiguousarray(textured_frames(1, h=160, w=60)[0])
    boxes = boxer.boxes(tall, "a square")
    assert boxes
    for x0, y0, x1, y1, _ in boxes:
        assert 0 <= x0 < x1 <= 60 and 0 <= y0 < y1 <= 160
