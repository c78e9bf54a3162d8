"""Which backend runs a job, built from its pipeline settings.

The model backends live behind lazy imports: a workstation or farm node without the ``models`` extra still runs
the classical backend, and asking for a model it cannot import is a ModelError that says what to install rather
than an ImportError from deep inside torch.
"""

from __future__ import annotations

import importlib
import re

from roto_core.backends.base import Matter, SegmentationBackend, TextBoxer
from roto_core.contracts import PipelineSettings
from roto_core.errors import ModelError

_MODELS_EXTRA_HINT = "pip install 'rotofarm[models]'"
_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def _cuda_count() -> int:
    try:
        import torch
    except ImportError:
        return 0
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def resolve_device(device: str) -> str:
    """``auto`` → ``cuda:0`` when a GPU is visible, else ``cpu``; ``cuda[:N]`` must exist."""
    name = device.strip().lower()
    if not _DEVICE.match(name):
        raise ModelError(f"unknown device {device!r} (auto, cpu, cuda or cuda:N)", where=f"device {device}")
    if name == "cpu":
        return "cpu"
    count = _cuda_count()
    if name == "auto":
        return "cuda:0" if count else "cpu"
    index = int(name.split(":")[1]) if ":" in name else 0
    if index >= count:
        raise ModelError(
            f"CUDA device {name} asked for, but {count} CUDA device(s) are visible here",
            where=f"device {device}",
            hint="use --device cpu, or run on a GPU worker",
        )
    return f"cuda:{index}"


def _load(module: str, attr: str, what: str):
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise ModelError(
            f"{what} needs a package that is not installed ({exc.name or exc})",
            where=module,
            hint=_MODELS_EXTRA_HINT,
        ) from None
    return getattr(mod, attr)


def create_backend(settings: PipelineSettings, device: str) -> SegmentationBackend:
    """The segmentation backend of ``settings.backend`` on ``device`` (already resolved or ``auto``)."""
    resolved = resolve_device(device)
    if settings.backend == "classical":
        from roto_core.backends.classical import ClassicalBackend

        return ClassicalBackend()
    if settings.backend == "sam2":
        cls = _load("roto_core.backends.sam2_backend", "Sam2Backend", "the sam2 backend")
    else:
        cls = _load("roto_core.backends.cutie_backend", "CutieBackend", "the cutie backend")
    return cls.from_settings(settings, resolved)


def create_text_boxer(settings: PipelineSettings, device: str) -> TextBoxer:
    """Grounding DINO for text prompts; built only when a shot has one."""
    cls = _load("roto_core.backends.text_boxes", "GroundingDinoBoxer", "text prompts (Grounding DINO)")
    return cls.from_settings(settings, resolve_device(device))


def create_matter(settings: PipelineSettings, device: str) -> Matter:
    """ViTMatte for soft mattes; built only when matting is on."""
    cls = _load("roto_core.backends.matting", "VitMatteMatter", "matting (ViTMatte)")
    return cls.from_settings(settings, resolve_device(device))


__all__ = ["create_backend", "create_matter", "create_text_boxer", "resolve_device"]
