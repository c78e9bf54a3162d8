"""Text → boxes with Grounding DINO (transformers), so a text prompt can become a SAM 2 box prompt.

The model, its tokenizer and its image preprocessor all come from one local folder in transformers'
``save_pretrained`` layout (pinned in configs/models.yaml); nothing is fetched from a hub. Boxes are returned in
the pixels of the frame they were asked on, best first.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from roto_core.backends._models_torch import autocast
from roto_core.backends._models_transformers import LocalTransformersModel
from roto_core.backends.base import Frame
from roto_core.backends.checkpoints import resolve_model
from roto_core.contracts import PipelineSettings

log = logging.getLogger(__name__)


class GroundingDinoOptions(BaseModel):
    """``options:`` of a grounding_dino entry in models.yaml (the model card's thresholds by default)."""

    model_config = ConfigDict(extra="forbid")

    box_threshold: float = Field(0.35, ge=0, le=1)
    text_threshold: float = Field(0.25, ge=0, le=1)
    max_boxes: int = Field(10, ge=1)


def grounding_text(text: str) -> str:
    """Grounding DINO's expected phrasing: lower case, each phrase ended by a period."""
    phrase = " ".join(text.lower().split())
    return phrase if phrase.endswith(".") else f"{phrase}."


class GroundingDinoBoxer(LocalTransformersModel):
    """Open-vocabulary boxes (the ``TextBoxer`` protocol)."""

    network_class = "GroundingDinoForObjectDetection"
    processor_class = "AutoProcessor"
    options_model = GroundingDinoOptions

    @classmethod
    def from_settings(cls, settings: PipelineSettings, device: str) -> GroundingDinoBoxer:
        return cls.from_model(resolve_model(settings.text_model, "grounding_dino"), device)

    def boxes(self, frame: Frame, text: str) -> list[tuple[float, float, float, float, float]]:
        h, w = frame.shape[:2]
        inputs = self._processor(
            images=np.clip(frame, 0.0, 1.0).astype(np.float32),
            text=grounding_text(text),
            do_rescale=False,
            return_tensors="pt",
        ).to(self.device)
        with torch.inference_mode(), autocast(self.device):
            outputs = self._model(**inputs)
        result = self._processor.post_process_grounded_object_detection(
            outputs,
            inputs["input_ids"],
            threshold=self.options.box_threshold,
            text_threshold=self.options.text_threshold,
            target_sizes=[(h, w)],
        )[0]
        found: list[tuple[float, float, float, float, float]] = []
        for box, score in zip(result["boxes"].float().tolist(), result["scores"].float().tolist(), strict=True):
            x0, y0, x1, y1 = (min(max(v, 0.0), lim) for v, lim in zip(box, (w, h, w, h), strict=True))
            if x1 > x0 and y1 > y0:
                found.append((x0, y0, x1, y1, score))
        found.sort(key=lambda b: b[4], reverse=True)
        return found[: self.options.max_boxes]
