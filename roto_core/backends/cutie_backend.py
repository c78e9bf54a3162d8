"""Cutie (PyPI ``rf-cutie``) as a propagation backend: key masks in, tracked masks out.

Cutie only propagates; it cannot turn a click or a box into a mask. Mask prompts are read as they are; clicks and
boxes go to a key-mask backend: the settings' ``key_model`` (SAM 2), built on the first such prompt so chunks
seeded from the previous chunk's state never load it, or whichever backend the caller hands in (e.g. the
classical one). Its network is built
with the ResNet backbones untrained: Cutie's constructor would otherwise fetch ImageNet weights from the internet,
and those are overwritten by the checkpoint anyway. Its Hydra config is composed with sam2's global Hydra state
set aside (roto_core.backends._models_hydra).

Each ``propagate`` call starts a fresh Cutie memory; a chunk's state for the next chunk is its last masks, which
the runner hands back as seeds. Seeds become Cutie's index mask (later objects paint over earlier ones where they
overlap, as Cutie's objects are mutually exclusive); outputs are Cutie's per-pixel argmax, one 0/1 mask per object.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from roto_core.backends._models_hydra import config_module
from roto_core.backends._models_masks import load_mask_prompt, seed_mask
from roto_core.backends._models_torch import autocast, frame_tensor, read_checkpoint, release, resolve_device
from roto_core.backends.base import Frame, Mask, ObjectMasks, SegmentationBackend
from roto_core.backends.checkpoints import ResolvedModel, resolve_model
from roto_core.contracts import PipelineSettings, Prompt
from roto_core.errors import ConfigError, ModelError

log = logging.getLogger(__name__)

DEFAULT_CUTIE_MODEL = "cutie_base"


class CutieOptions(BaseModel):
    """``options:`` of a cutie entry in models.yaml (names follow Cutie's eval config)."""

    model_config = ConfigDict(extra="forbid")

    max_internal_size: int = Field(480, description="short side Cutie works at; -1 keeps the frame's size")
    mem_every: int = Field(5, ge=1)
    use_long_term: bool = True
    max_mem_frames: int = Field(5, ge=2)
    top_k: int = Field(30, ge=1)


@contextlib.contextmanager
def _untrained_resnets() -> Iterator[None]:
    """Build Cutie's ResNets without their ImageNet download (its constructor hard-codes ``pretrained=True``)."""
    from cutie.model.utils import resnet

    originals = resnet.resnet18, resnet.resnet50

    def untrained(build: Any) -> Any:
        def make(pretrained: bool = True, **kwargs: Any) -> Any:
            return build(pretrained=False, **kwargs)

        return make

    resnet.resnet18, resnet.resnet50 = untrained(originals[0]), untrained(originals[1])
    try:
        yield
    finally:
        resnet.resnet18, resnet.resnet50 = originals


class CutieBackend:
    """Cutie propagation (``backend: cutie``)."""

    name = "cutie"

    def __init__(
        self,
        network: Any,
        cfg: Any,
        device: torch.device,
        model_key: str,
        make_keyer: Callable[[], SegmentationBackend] | None = None,
    ) -> None:
        self.frame_confidence: dict[str, float] = {}  # per object, of the last yielded frame (see _certainty)
        self._network = network
        self._cfg = cfg
        self.device = device
        self.model_key = model_key
        self._make_keyer = make_keyer
        self._keyer: SegmentationBackend | None = None

    @classmethod
    def from_settings(cls, settings: PipelineSettings, device: str) -> CutieBackend:
        """The propagation model of ``settings`` (``cutie_base`` when none is named), with key masks from
        ``settings.key_model`` (SAM 2)."""
        from roto_core.backends.sam2_backend import Sam2Backend

        model = resolve_model(settings.propagation_model or DEFAULT_CUTIE_MODEL, "cutie")
        return cls.from_model(model, device, make_keyer=lambda: Sam2Backend.from_settings(settings, device))

    @classmethod
    def from_model(
        cls, model: ResolvedModel, device: str, make_keyer: Callable[[], SegmentationBackend] | None = None
    ) -> CutieBackend:
        from cutie.inference.utils.args_utils import get_dataset_cfg
        from cutie.model.cutie import CUTIE
        from hydra import compose
        from omegaconf import open_dict

        torch_device = resolve_device(device)
        options = model.options(CutieOptions)
        variant = model.spec.config or "base"
        try:
            with config_module("cutie.config", version_base="1.3.2"):
                cfg = compose(config_name="eval_config", overrides=[f"model={variant}"])
        except Exception as exc:  # Hydra's errors for an unknown model config
            raise ConfigError(
                f"no Cutie model config {variant!r} (base or small): {exc}",
                path=model.config_path,
                where=f"models.{model.key}.config",
            ) from None
        with open_dict(cfg):
            cfg.dataset = "generic"
            cfg.mem_every = options.mem_every
            cfg.use_long_term = options.use_long_term
            cfg.max_mem_frames = options.max_mem_frames
            cfg.top_k = options.top_k
            cfg.max_internal_size = options.max_internal_size
            get_dataset_cfg(cfg)
        with _untrained_resnets():
            network = CUTIE(cfg)
        if model.weights is not None:
            _load_cutie_weights(network, model)
        network = network.to(torch_device).eval()
        log.info("cutie model %s (%s) on %s", model.key, variant, torch_device)
        return cls(network, cfg, torch_device, model.key, make_keyer)

    def key_mask(self, frame: Frame, prompt: Prompt) -> Mask:
        if prompt.kind == "mask":
            return load_mask_prompt(prompt, frame.shape[:2])
        if self._keyer is None:
            if self._make_keyer is None:
                raise ModelError(
                    f"Cutie cannot make a key mask from a {prompt.kind} prompt and has no key-mask backend "
                    "(SAM 2 or classical)",
                    where=f"prompt {prompt.object}@{prompt.frame}",
                )
            self._keyer = self._make_keyer()
        return self._keyer.key_mask(frame, prompt)

    def propagate(self, frames: Sequence[Frame], seeds: Mapping[int, ObjectMasks]) -> Iterator[tuple[int, ObjectMasks]]:
        from cutie.inference.inference_core import InferenceCore

        n = len(frames)
        for i in seeds:
            if not 0 <= i < n:
                raise ValueError(f"seed at index {i} is outside the {n} frames of this chunk")
        self.frame_confidence = {}
        core = InferenceCore(self._network, cfg=self._cfg)
        ids: dict[str, int] = {}
        for i in range(n):
            seed = seeds.get(i) or {}
            if not ids and not seed:
                yield i, {}
                continue
            frame = frames[i]
            shape = frame.shape[:2]
            with torch.inference_mode(), autocast(self.device):
                image = frame_tensor(frame).to(self.device)
                end = i == n - 1
                if seed:
                    for obj in seed:
                        ids.setdefault(obj, len(ids) + 1)
                    index_mask = np.zeros(shape, np.int64)
                    for obj, mask in seed.items():
                        index_mask[seed_mask(mask, shape, obj, i) > 0] = ids[obj]
                    prob = core.step(
                        image,
                        torch.from_numpy(index_mask).to(self.device),
                        sorted(ids[obj] for obj in seed),
                        idx_mask=True,
                        end=end,
                    )
                else:
                    prob = core.step(image, end=end)
                labels = torch.argmax(prob.float(), dim=0)
                tmp_of = core.object_manager.get_tmp_to_obj_mapping()
                self.frame_confidence = {obj: _certainty(prob, labels, tmp_of[oid]) for obj, oid in ids.items()}
                labels = labels.cpu().numpy()
            yield i, {obj: (labels == tmp_of[oid]).astype(np.float32) for obj, oid in ids.items()}

    def close(self) -> None:
        if self._keyer is not None:
            self._keyer.close()
            self._keyer = None
        self._network = None
        release(self.device)


def _certainty(prob: torch.Tensor, labels: torch.Tensor, channel: int) -> float:
    """Cutie's confidence in one object: its mean probability over the pixels it won (0 when it won none). Cutie
    has no separate presence score; a fading object loses pixels and probability together."""
    won = labels == channel
    if not bool(won.any()):
        return 0.0
    return float(prob[channel].float()[won].mean())


def _load_cutie_weights(network: torch.nn.Module, model: ResolvedModel) -> None:
    """Load a verified checkpoint; Cutie's own loader ignores missing weights, so they are checked here."""
    where = f"models.{model.key}"
    state = read_checkpoint(model, "Cutie")
    if not isinstance(state, dict):
        raise ModelError(f"{model.weights} is not a Cutie checkpoint", path=model.config_path, where=where)
    variant = model.spec.config or "base"
    try:
        network.load_weights(state)
    except RuntimeError as exc:  # torch's size-mismatch report
        raise ModelError(
            f"checkpoint {model.weights} does not fit Cutie config {variant!r}: {str(exc).splitlines()[-1].strip()}",
            path=model.config_path,
            where=f"{where}.config",
        ) from None
    missing = sorted(set(network.state_dict()) - set(state))
    if missing:
        raise ModelError(
            f"checkpoint {model.weights} does not fit Cutie config {variant!r}: "
            f"{len(missing)} weights missing (first: {missing[0]})",
            path=model.config_path,
            where=f"{where}.config",
        )
