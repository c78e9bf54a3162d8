"""Soft edges with ViTMatte (transformers): alpha refined only in a band around a hard mask's edge.

Matting every pixel of a 4K plate would be slow and would also invent alpha far from any edge. The trimap says
where the model may work: the mask eroded by ``band_px`` is certainly foreground (alpha 1), outside the mask
dilated by ``band_px`` certainly background (alpha 0), and between them the model decides. It runs at plate
resolution on tiles that touch the band (each with a margin of context), so cost follows the edge length, not
the frame area.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from roto_core.backends._models_torch import autocast
from roto_core.backends._models_transformers import LocalTransformersModel
from roto_core.backends.base import Frame, Mask
from roto_core.backends.checkpoints import resolve_model
from roto_core.contracts import PipelineSettings

log = logging.getLogger(__name__)

UNKNOWN = 0.5


class VitMatteOptions(BaseModel):
    """``options:`` of a vitmatte entry in models.yaml."""

    model_config = ConfigDict(extra="forbid")

    band_px: int = Field(12, ge=1, description="half width of the unknown band around the edge, plate pixels")
    tile: int = Field(512, ge=32, description="side of the tiles the band is cut into")
    margin: int = Field(64, ge=0, description="context around each tile that the model sees")


def trimap(mask: Mask, band_px: int) -> np.ndarray:
    """1 where the mask eroded by ``band_px`` is, 0 outside it dilated by ``band_px``, 0.5 in between."""
    hard = (np.asarray(mask) >= 0.5).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band_px + 1, 2 * band_px + 1))
    inner = cv2.erode(hard, kernel, borderType=cv2.BORDER_REPLICATE)
    outer = cv2.dilate(hard, kernel, borderType=cv2.BORDER_REPLICATE)
    tri = np.full(hard.shape, UNKNOWN, np.float32)
    tri[inner > 0] = 1.0
    tri[outer == 0] = 0.0
    return tri


class VitMatteMatter(LocalTransformersModel):
    """ViTMatte on the edge band (the ``Matter`` protocol)."""

    network_class = "VitMatteForImageMatting"
    processor_class = "AutoImageProcessor"
    options_model = VitMatteOptions

    @classmethod
    def from_settings(cls, settings: PipelineSettings, device: str) -> VitMatteMatter:
        return cls.from_model(resolve_model(settings.matting_model, "vitmatte"), device)

    def matte(self, frame: Frame, mask: Mask) -> Mask:
        h, w = frame.shape[:2]
        if mask.shape != (h, w):
            raise ValueError(f"mask {mask.shape} and frame {frame.shape[:2]} differ in size")
        tri = trimap(mask, self.options.band_px)
        alpha = (tri == 1.0).astype(np.float32)
        unknown = tri == UNKNOWN
        t, m = self.options.tile, self.options.margin
        for y0 in range(0, h, t):
            for x0 in range(0, w, t):
                y1, x1 = min(y0 + t, h), min(x0 + t, w)
                band = unknown[y0:y1, x0:x1]
                if not band.any():
                    continue
                wy0, wx0, wy1, wx1 = max(y0 - m, 0), max(x0 - m, 0), min(y1 + m, h), min(x1 + m, w)
                pred = self._alpha(frame[wy0:wy1, wx0:wx1], tri[wy0:wy1, wx0:wx1])
                inner = pred[y0 - wy0 : y1 - wy0, x0 - wx0 : x1 - wx0]
                alpha[y0:y1, x0:x1][band] = inner[band]
        return np.clip(alpha, 0.0, 1.0)

    def _alpha(self, image: np.ndarray, tri: np.ndarray) -> np.ndarray:
        """The model's alpha for one window (the processor pads it; the padding is cut off again)."""
        h, w = tri.shape
        inputs = self._processor(
            images=np.clip(image, 0.0, 1.0).astype(np.float32),
            trimaps=tri,
            do_rescale=False,
            return_tensors="pt",
        ).to(self.device)
        with torch.inference_mode(), autocast(self.device):
            alphas = self._model(**inputs).alphas
        return alphas[0, 0, :h, :w].float().cpu().numpy()
