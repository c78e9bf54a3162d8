"""`rotofarm roto` with the model backends on tiny random-weight models: masks and report, chunk hand-off.

The models.yaml in $ROTOFARM_CONFIG_DIR replaces the shipped keys (sam2.1_hiera_tiny, cutie_base,
grounding_dino_tiny) with random-weight models, so the CLI runs its default settings exactly as a studio would,
minus the trained weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from roto_core.maskio import read_mask_exr
from submitters.cli.app import main
from tests.roto.models.tiny import (
    SAM2_TINY,
    save_tiny_grounding_dino,
    sha256_of,
    textured_frames,
    write_models_yaml,
)

pytestmark = [pytest.mark.models, pytest.mark.slow]

FIRST, LAST = 1001, 1006


@pytest.fixture
def studio(config_dir: Path, tmp_path: Path) -> Path:
    """Random-weight stand-ins under the shipped model keys, and a 6-frame PNG plate."""
    gd = tmp_path / "models" / "grounding-dino-tiny"
    save_tiny_grounding_dino(gd)
    write_models_yaml(
        config_dir,
        {
            "sam2.1_hiera_tiny": {
                "family": "sam2",
                "config": SAM2_TINY,
                "checkpoint": "sam2/sam2.1_hiera_tiny.pt",
                "random_weights": True,
                "options": {"image_size": 256},
            },
            "cutie_base": {
                "family": "cutie",
                "config": "small",
                "checkpoint": "cutie/cutie-base-mega.pth",
                "random_weights": True,
                "options": {"max_internal_size": -1},
            },
            "grounding_dino_tiny": {
                "family": "grounding_dino",
                "checkpoint": "grounding-dino-tiny",
                "weights_file": "model.safetensors",
                "sha256": sha256_of(gd / "model.safetensors"),
                "options": {"box_threshold": 0.0, "text_threshold": 0.0},
            },
        },
    )
    plate = tmp_path / "plate"
    plate.mkdir()
    for i, frame in enumerate(textured_frames(LAST - FIRST + 1)):
        cv2.imwrite(str(plate / f"sh010_plate.{FIRST + i:04d}.png"), (frame[..., ::-1] * 255).round().astype(np.uint8))
    return plate / "sh010_plate.####.png"


@pytest.mark.parametrize("backend", ["sam2", "cutie"])
def test_roto_writes_masks_and_report_through_the_model_backend(studio: Path, tmp_path: Path, backend: str, capsys):
    out = tmp_path / f"out-{backend}"
    code = main(
        [
            "roto", str(studio), "--frames", f"{FIRST}-{LAST}", "--out", str(out), "--backend", backend,
            "--chunk-size", "3", "--device", "cpu",
            "--box", f"hero@{FIRST}=20,30,60,70",
            "--point", f"side@{FIRST + 1}=90,50",
            "--text", f"thing@{FIRST}=a red square",
        ]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    assert report["backend"] == backend and report["device"] == "cpu"
    assert [(c["first_frame"], c["last_frame"]) for c in report["chunks"]] == [(1001, 1003), (1004, 1006)]
    first, second = report["chunks"]
    assert first["seeds"] == {
        "hero": "box prompt on frame 1001",
        "side": "points prompt on frame 1002",
        "thing": "text prompt on frame 1001",
    }
    assert set(second["seeds"].values()) == {"state 1001-1003"}
    assert set(second["objects"]) == {"hero", "side", "thing"}
    files = sorted((out / "masks").glob("sh010_plate_mask.*.exr"))
    assert [f.name for f in files] == [f"sh010_plate_mask.{f:04d}.exr" for f in range(FIRST, LAST + 1)]
    for path in files:
        channels = read_mask_exr(path)
        assert {"hero", "A"} <= set(channels)
        for mask in channels.values():
            assert mask.shape == (96, 128) and mask.min() >= 0.0 and mask.max() <= 1.0
        assert np.array_equal(channels["A"], np.maximum.reduce([m for k, m in channels.items() if k != "A"]))
