"""Torch plumbing shared by the model backends: device choice, mixed precision, frames as tensors.

Kept apart from the backends so the rules are the same for every model: a device asked for and absent is a
ModelError (a farm task must fail loudly, not fall back to a CPU that would take hours), bf16 autocast only on
CUDA (CPU bf16 is slower and less exact here), and autocast entered per step of a generator, never held across a
``yield`` (a context held open there would leak into the caller's code between frames).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import torch

from roto_core.errors import ModelError

if TYPE_CHECKING:
    from roto_core.backends.checkpoints import ResolvedModel

T = TypeVar("T")


def resolve_device(device: str) -> torch.device:
    """``auto`` | ``cpu`` | ``cuda`` | ``cuda:N`` → a torch device that exists on this machine."""
    name = device.strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ModelError(
                f"CUDA device {device!r} asked for, but torch {torch.__version__} sees no CUDA device here",
                where=f"device {device}",
                hint="use --device cpu, or run on a GPU worker",
            )
        index = 0 if name == "cuda" else _device_index(name, device)
        count = torch.cuda.device_count()
        if index >= count:
            raise ModelError(
                f"CUDA device {device!r} asked for, but only {count} CUDA device(s) are visible",
                where=f"device {device}",
            )
        return torch.device("cuda", index)
    raise ModelError(f"unknown device {device!r} (auto, cpu, cuda or cuda:N)", where=f"device {device}")


def _device_index(name: str, original: str) -> int:
    suffix = name.split(":", 1)[1]
    if not suffix.isdigit():
        raise ModelError(f"unknown device {original!r} (auto, cpu, cuda or cuda:N)", where=f"device {original}")
    return int(suffix)


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA; nothing on CPU."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def stepwise(items: Iterator[T], context: Callable[[], contextlib.AbstractContextManager]) -> Iterator[T]:
    """Advance ``items`` one step at a time inside a fresh ``context()``, leaving it before each yield."""
    while True:
        with context():
            try:
                item = next(items)
            except StopIteration:
                return
        yield item


def frame_tensor(frame: np.ndarray) -> torch.Tensor:
    """H×W×3 float32 (0..1) → 3×H×W float32 tensor on the CPU (no copy when the frame is contiguous)."""
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"a frame must be H×W×3, not {frame.shape}")
    return torch.from_numpy(np.ascontiguousarray(frame, dtype=np.float32)).permute(2, 0, 1)


def release(device: torch.device) -> None:
    """Hand cached GPU memory back to the driver (the worker calls close() when it exits or switches models)."""
    if device.type == "cuda":
        torch.cuda.empty_cache()


def read_checkpoint(model: ResolvedModel, family: str) -> Any:
    """The verified checkpoint file of ``model`` as torch saved it, tensors only (``weights_only``: no pickled code).

    A foreign or damaged file is a ModelError naming the models.yaml entry; torch raises several types for it.
    """
    assert model.weights is not None
    try:
        return torch.load(model.weights, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelError(
            f"cannot read {family} checkpoint {model.weights}: {exc}",
            path=model.config_path,
            where=f"models.{model.key}",
        ) from None
