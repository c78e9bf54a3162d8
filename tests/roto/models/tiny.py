"""Helpers for the model-backend tests: tiny configs on disk, synthetic frames, mask comparisons."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import yaml

SAM2_TINY = "configs/sam2.1/sam2.1_hiera_t.yaml"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_models_yaml(config_dir: Path, models: dict, root: Path | None = None) -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "models.yaml"
    data: dict = {"models": models}
    if root is not None:
        data["root"] = str(root)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def textured_frames(n: int, h: int = 96, w: int = 128, seed: int = 0) -> list[np.ndarray]:
    """A bright square moving right over a noisy background: enough structure for plumbing checks."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n):
        img = rng.random((h, w, 3), dtype=np.float32) * 0.3
        x = 20 + 4 * i
        img[30:70, x : x + 40] = (0.9, 0.4, 0.2)
        frames.append(img)
    return frames


def square_mask(h: int = 96, w: int = 128, x: int = 20) -> np.ndarray:
    m = np.zeros((h, w), np.float32)
    m[30:70, x : x + 40] = 1.0
    return m


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0.5, b > 0.5
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)
