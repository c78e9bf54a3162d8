"""Loading transformers vision models from a local folder, on machines where torchvision is broken.

transformers imports torchvision whenever the package is installed, even for its PIL image processors. sam2
depends on torchvision, and the registry's torchvision wheel is a CUDA build that fails to import beside the CPU
torch of test and CPU-only machines ("operator torchvision::nms does not exist"), which would take every
transformers vision model down with it. Where that import fails, torchvision is marked absent for this process
(``sys.modules[name] = None``, the documented way to block an import) so transformers takes its PIL paths; where
it works (GPU workers) nothing changes. Loading is always ``local_files_only``: no hub, no download.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

if TYPE_CHECKING:
    import torch

from pydantic import BaseModel

from roto_core.backends._models_torch import release, resolve_device
from roto_core.backends.checkpoints import ResolvedModel
from roto_core.errors import ModelError

log = logging.getLogger(__name__)


def prepare_transformers() -> None:
    """Make ``import transformers`` vision models work whether or not torchvision loads."""
    if "torchvision" in sys.modules:
        return
    try:
        import torchvision  # noqa: F401
    except Exception:  # a CUDA torchvision beside CPU torch raises RuntimeError from its op registrations
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        sys.modules["torchvision"] = None  # type: ignore[assignment]


def from_folder(cls: Any, folder: Path, key: str, config_path: Path, **kwargs: Any) -> Any:
    """``cls.from_pretrained(folder)`` with no network; a folder that is not a model is a ModelError."""
    try:
        return cls.from_pretrained(str(folder), local_files_only=True, **kwargs)
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"cannot load model {key!r} from {folder}: {exc}", path=config_path, where=f"models.{key}.checkpoint"
        ) from None


def load_local_model(
    model: ResolvedModel, network_class: str, processor_class: str, device: str
) -> tuple[Any, Any, torch.device]:
    """Network (eval mode, on ``device``) and processor of ``model``, by transformers class names.

    Names, not classes, because transformers may only be imported after :func:`prepare_transformers`. The network is
    built untrained from the folder's config when models.yaml asks for random weights (tests, GPU speed runs).
    """
    torch_device = resolve_device(device)
    prepare_transformers()
    import transformers

    processor = from_folder(getattr(transformers, processor_class), model.path, model.key, model.config_path)
    network_cls = getattr(transformers, network_class)
    if model.random_weights:
        config = from_folder(transformers.AutoConfig, model.path, model.key, model.config_path)
        network = network_cls(config)
    else:
        network = from_folder(network_cls, model.path, model.key, model.config_path)
    return network.to(torch_device).eval(), processor, torch_device


class LocalTransformersModel:
    """A transformers network and its processor from a local folder, with its typed models.yaml ``options``.

    Subclasses name the transformers classes and their options model; what they add is what the model is for.
    """

    network_class: ClassVar[str]
    processor_class: ClassVar[str]
    options_model: ClassVar[type[BaseModel]]

    def __init__(self, model: Any, processor: Any, device: torch.device, options: Any, model_key: str) -> None:
        self._model = model
        self._processor = processor
        self.device = device
        self.options = options
        self.model_key = model_key

    @classmethod
    def from_model(cls, model: ResolvedModel, device: str) -> Self:
        network, processor, torch_device = load_local_model(model, cls.network_class, cls.processor_class, device)
        log.info("%s model %s on %s", cls.__name__, model.key, torch_device)
        return cls(network, processor, torch_device, model.options(cls.options_model), model.key)

    def close(self) -> None:
        self._model = None
        release(self.device)
