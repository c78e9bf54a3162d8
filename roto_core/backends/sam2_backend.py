"""SAM 2.1 (PyPI ``sam2`` 1.1.0) as a segmentation backend, fed from frames in memory.

sam2's video predictor reads a JPEG folder or an MP4; our plates are EXR/DPX decoded by roto_core.frames, and
writing a lossy JPEG copy of every chunk would cost disk, time and colour. So the inference state is built here
exactly as ``SAM2VideoPredictor.init_state`` builds it (pinned to sam2 1.1.0), with ``images`` a lazy view that
normalises a frame when the model first asks for it. Key masks use a one-frame state of the same predictor: the
image predictor would need torchvision, which does not load beside the CPU torch of test machines.

Propagation runs segment by segment between seed frames: seeds on a frame are added as conditioning masks and
tracking continues from there, so an object seeded late is never tracked before its seed and a later seed of a
tracked object replaces its mask (a correction). Per-frame outputs older than the model's memory window are
dropped as tracking moves on, so a long chunk holds a bounded state.
"""

from __future__ import annotations

import itertools
import logging
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field

from roto_core.backends._models_hydra import config_module
from roto_core.backends._models_masks import check_prompt_inside, load_mask_prompt, seed_mask
from roto_core.backends._models_torch import autocast, frame_tensor, read_checkpoint, release, resolve_device, stepwise
from roto_core.backends.base import Frame, Mask, ObjectMasks
from roto_core.backends.checkpoints import ResolvedModel, resolve_model
from roto_core.contracts import PipelineSettings, Prompt
from roto_core.errors import ModelError

log = logging.getLogger(__name__)

_MEAN = torch.tensor([0.485, 0.456, 0.406], dtype=torch.float32)[:, None, None]
_STD = torch.tensor([0.229, 0.224, 0.225], dtype=torch.float32)[:, None, None]


class Sam2Options(BaseModel):
    """``options:`` of a sam2 entry in models.yaml."""

    model_config = ConfigDict(extra="forbid")

    image_size: int | None = Field(None, ge=64, description="the model's square input size; None keeps 1024")
    offload_video_to_cpu: bool = False
    offload_state_to_cpu: bool = False
    frame_cache: int = Field(2, ge=1, description="normalised frames kept ready (the current one and the last)")


class _LazyFrames:
    """``inference_state["images"]``: frame i resized to the model's square input and normalised, on demand.

    Resizing runs on the model's device (a 4K frame is one upload, then a GPU resize); with
    ``offload_video_to_cpu`` the result is kept in host memory, as sam2's own loader does. Only the last few are
    kept, so a chunk never sits in host or GPU memory whole (sam2 re-reads a frame only for the memory encoder of
    the frame it is on).
    """

    def __init__(
        self, frames: Sequence[Frame], image_size: int, device: torch.device, offload: bool, cache: int
    ) -> None:
        self._frames = frames
        self._size = image_size
        self._compute = device
        self._storage = torch.device("cpu") if offload else device
        self._mean, self._std = _MEAN.to(device), _STD.to(device)
        self._cache: OrderedDict[int, torch.Tensor] = OrderedDict()
        self._cache_len = cache

    def __len__(self) -> int:
        return len(self._frames)

    def __getitem__(self, index: int) -> torch.Tensor:
        if index in self._cache:
            self._cache.move_to_end(index)
            return self._cache[index]
        img = frame_tensor(self._frames[index])[None].to(self._compute)
        img = F.interpolate(img, size=(self._size, self._size), mode="bilinear", align_corners=False, antialias=True)
        img = ((img[0] - self._mean) / self._std).to(self._storage)
        self._cache[index] = img
        while len(self._cache) > self._cache_len:
            self._cache.popitem(last=False)
        return img


class Sam2Backend:
    """SAM 2.1 key masks and propagation (``backend: sam2``)."""

    name = "sam2"

    def __init__(self, predictor: Any, device: torch.device, options: Sam2Options, model_key: str) -> None:
        self.frame_confidence: dict[str, float] = {}  # SAM 2's object score of the last yielded frame
        self._predictor = predictor
        self.device = device
        self.options = options
        self.model_key = model_key

    @classmethod
    def from_settings(cls, settings: PipelineSettings, device: str) -> Sam2Backend:
        """The key model of ``settings`` (SAM 2 does both key masks and propagation with one model)."""
        return cls.from_model(resolve_model(settings.key_model, "sam2"), device)

    @classmethod
    def from_model(cls, model: ResolvedModel, device: str) -> Sam2Backend:
        from sam2.build_sam import build_sam2_video_predictor

        torch_device = resolve_device(device)
        options = model.options(Sam2Options)
        if not model.spec.config:
            raise ModelError(
                f"model {model.key!r} names no sam2 config (e.g. configs/sam2.1/sam2.1_hiera_t.yaml)",
                path=model.config_path,
                where=f"models.{model.key}.config",
            )
        overrides = [f"++model.image_size={options.image_size}"] if options.image_size else []
        try:
            with config_module("sam2", version_base="1.2"):
                predictor = build_sam2_video_predictor(
                    model.spec.config,
                    ckpt_path=None,
                    device="cpu",
                    hydra_overrides_extra=overrides,
                )
        except Exception as exc:  # Hydra raises MissingConfigException and friends for a bad config name
            raise ModelError(
                f"cannot build sam2 model {model.key!r} from config {model.spec.config!r}: {exc}",
                path=model.config_path,
                where=f"models.{model.key}.config",
            ) from None
        if model.weights is not None:
            _load_sam2_weights(predictor, model)
        if not _has_sam2_extension():
            # Hole filling needs sam2's compiled extension (absent from SAM2_BUILD_CUDA=0 installs): switch it
            # off rather than have sam2 warn and skip it on every frame.
            predictor.fill_hole_area = 0
        predictor = predictor.to(torch_device).eval()
        log.info("sam2 model %s on %s (image size %d)", model.key, torch_device, predictor.image_size)
        return cls(predictor, torch_device, options, model.key)

    @property
    def image_size(self) -> int:
        return int(self._predictor.image_size)

    def _new_state(self, frames: Sequence[Frame], probe: int = 0) -> dict[str, Any]:
        """The dict ``SAM2VideoPredictor.init_state`` (sam2 1.1.0) returns, over lazily normalised frames; the
        frame size is read from ``frames[probe]`` (a frame the caller is about to use anyway)."""
        if len(frames) == 0:
            raise ValueError("no frames to segment")
        h, w = frames[probe].shape[:2]
        opts = self.options
        storage = torch.device("cpu") if opts.offload_state_to_cpu else self.device
        return {
            "images": _LazyFrames(frames, self.image_size, self.device, opts.offload_video_to_cpu, opts.frame_cache),
            "num_frames": len(frames),
            "offload_video_to_cpu": opts.offload_video_to_cpu,
            "offload_state_to_cpu": opts.offload_state_to_cpu,
            "video_height": h,
            "video_width": w,
            "device": self.device,
            "storage_device": storage,
            "point_inputs_per_obj": {},
            "mask_inputs_per_obj": {},
            "cached_features": {},
            "constants": {},
            "obj_id_to_idx": OrderedDict(),
            "obj_idx_to_id": OrderedDict(),
            "obj_ids": [],
            "output_dict_per_obj": {},
            "temp_output_dict_per_obj": {},
            "frames_tracked_per_obj": {},
        }

    def key_mask(self, frame: Frame, prompt: Prompt) -> Mask:
        shape = frame.shape[:2]
        if prompt.kind == "mask":
            return load_mask_prompt(prompt, shape)
        if prompt.kind == "text":
            raise ModelError(
                "a text prompt must be turned into a box by the text model before SAM 2 sees it",
                where=f"prompt {prompt.object}@{prompt.frame}",
            )
        check_prompt_inside(prompt, shape)
        state = self._new_state([frame])
        points = labels = None
        if prompt.points is not None:
            points = np.array([[x, y] for x, y, _ in prompt.points], dtype=np.float32)
            labels = np.array([label for _, _, label in prompt.points], dtype=np.int32)
        box = np.array(prompt.box, dtype=np.float32) if prompt.box is not None else None
        with torch.inference_mode(), autocast(self.device):
            _, _, logits = self._predictor.add_new_points_or_box(
                state, frame_idx=0, obj_id=prompt.object, points=points, labels=labels, box=box
            )
        return _binary(logits[0, 0])

    def propagate(self, frames: Sequence[Frame], seeds: Mapping[int, ObjectMasks]) -> Iterator[tuple[int, ObjectMasks]]:
        n = len(frames)
        seed_frames = sorted(i for i in seeds if seeds[i])
        for i in seed_frames:
            if not 0 <= i < n:
                raise ValueError(f"seed at index {i} is outside the {n} frames of this chunk")
        self.frame_confidence = {}
        if not seed_frames:
            for i in range(n):
                yield i, {}
            return
        for i in range(seed_frames[0]):
            yield i, {}
        state = self._new_state(frames, probe=seed_frames[0])
        shape = (state["video_height"], state["video_width"])
        bounds = [*seed_frames, n]
        for start, stop in itertools.pairwise(bounds):
            with torch.inference_mode(), autocast(self.device):
                for obj, mask in seeds[start].items():
                    self._predictor.add_new_mask(state, start, obj, seed_mask(mask, shape, obj, start))
            track = self._predictor.propagate_in_video(
                state, start_frame_idx=start, max_frame_num_to_track=stop - 1 - start
            )
            for idx, obj_ids, logits in stepwise(iter(track), lambda: autocast(self.device)):
                masks = {obj: _binary(logits[k, 0]) for k, obj in enumerate(obj_ids)}
                self.frame_confidence = {obj: _object_score(state, obj, idx) for obj in obj_ids}
                self._forget_before(state, idx)
                yield idx, masks

    def _forget_before(self, state: dict[str, Any], idx: int) -> None:
        """Drop per-frame outputs no later frame can read: memories reach back ``num_maskmem`` frames (times the
        temporal stride) and object pointers ``max_obj_ptrs_in_encoder`` frames; conditioning frames stay."""
        p = self._predictor
        reach = max(p.num_maskmem * p.memory_temporal_stride_for_eval, p.max_obj_ptrs_in_encoder) + 1
        horizon = idx - reach
        for out in state["output_dict_per_obj"].values():
            stale = [t for t in out["non_cond_frame_outputs"] if t < horizon]
            for t in stale:
                del out["non_cond_frame_outputs"][t]

    def close(self) -> None:
        self._predictor = None
        release(self.device)


def _has_sam2_extension() -> bool:
    try:
        from sam2 import _C  # noqa: F401
    except ImportError:
        return False
    return True


def _object_score(state: dict[str, Any], obj: str, idx: int) -> float:
    """SAM 2's own belief that ``obj`` is visible on frame ``idx``: the sigmoid of the ``object_score_logits`` its
    mask decoder stores with each frame's output (sam2 1.1.0 ``_run_single_frame_inference``)."""
    out = state["output_dict_per_obj"][state["obj_id_to_idx"][obj]]
    frame_out = out["cond_frame_outputs"].get(idx) or out["non_cond_frame_outputs"].get(idx)
    score = None if frame_out is None else frame_out.get("object_score_logits")
    if score is None:
        return 1.0
    return float(torch.sigmoid(score.float()).max())


def _binary(logits: torch.Tensor) -> np.ndarray:
    return (logits > 0).to(torch.float32).cpu().numpy()


def _load_sam2_weights(predictor: torch.nn.Module, model: ResolvedModel) -> None:
    """Load a verified checkpoint; a checkpoint of another size than the config is a config error, said so."""
    where = f"models.{model.key}"
    payload = read_checkpoint(model, "sam2")
    state = payload.get("model") if isinstance(payload, dict) else None
    if not isinstance(state, dict):
        raise ModelError(
            f"{model.weights} is not a sam2 checkpoint (no 'model' state dict)", path=model.config_path, where=where
        )
    result = predictor.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise ModelError(
            f"checkpoint {model.weights} does not fit config {model.spec.config}: "
            f"{len(result.missing_keys)} missing and {len(result.unexpected_keys)} unexpected weights "
            f"(first: {(result.missing_keys or result.unexpected_keys)[0]})",
            path=model.config_path,
            where=f"{where}.config",
        )
