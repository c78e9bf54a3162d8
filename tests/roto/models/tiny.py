"""Helpers for the model-backend tests: tiny configs on disk, synthetic frames, mask comparisons."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
import yaml

from roto_core.backends._models_transformers import prepare_transformers

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


VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "a", "red", "square", "person", "in", "car"]


def save_tiny_grounding_dino(folder: Path) -> None:
    """A ~0.2 M-parameter Grounding DINO, its processor and a BERT tokenizer over a 12-word vocabulary."""
    prepare_transformers()
    from transformers import (
        BertConfig,
        BertTokenizer,
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessorPil,
        GroundingDinoProcessor,
        SwinConfig,
    )

    tokenizer = BertTokenizer(vocab={w: i for i, w in enumerate(VOCAB)})
    images = GroundingDinoImageProcessorPil(size={"shortest_edge": 96, "longest_edge": 128})
    GroundingDinoProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(folder)
    config = GroundingDinoConfig(
        backbone_config=SwinConfig(
            embed_dim=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1], window_size=4, out_indices=[2, 3, 4]
        ),
        text_config=BertConfig(
            vocab_size=len(VOCAB),
            hidden_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
            max_position_embeddings=32,
        ),
        d_model=32,
        encoder_layers=1,
        decoder_layers=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        num_queries=12,
        max_text_len=16,
        encoder_n_points=2,
        decoder_n_points=2,
    )
    torch.manual_seed(0)
    GroundingDinoForObjectDetection(config).save_pretrained(folder)


def save_tiny_vitmatte(folder: Path) -> None:
    """A ViTMatte small enough for CPU tests, saved in transformers' layout with its image processor."""
    prepare_transformers()
    from transformers import VitDetConfig, VitMatteConfig, VitMatteForImageMatting, VitMatteImageProcessorPil

    backbone = VitDetConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        mlp_ratio=2,
        image_size=64,
        pretrain_image_size=64,
        patch_size=16,
        num_channels=4,
        out_features=["stage1"],
    )
    config = VitMatteConfig(
        backbone_config=backbone,
        hidden_size=32,
        convstream_hidden_sizes=[8, 16, 32],
        fusion_hidden_sizes=[32, 16, 8, 8],
    )
    torch.manual_seed(0)
    VitMatteForImageMatting(config).save_pretrained(folder)
    VitMatteImageProcessorPil().save_pretrained(folder)
