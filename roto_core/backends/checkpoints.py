"""Which weights a model key means, where they live, and proof they are the ones the studio pinned.

Farm workers never download: every checkpoint is a file (or a transformers folder) under one model root that the
studio fills once. A missing file or a wrong hash stops the job with an error naming the ``configs/models.yaml``
key, the exact path to fill and the expected sha256, because a worker that quietly fetched or substituted weights
would make masks nobody can reproduce. Untrained weights are only built when the config asks for them by name.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from roto_core.config import default_config_path, load_config
from roto_core.errors import ConfigError, ModelError

log = logging.getLogger(__name__)

MODELS_ROOT_ENV = "ROTOFARM_MODELS"
DEFAULT_MODELS_ROOT = Path("~/.local/share/rotofarm/models")

Family = Literal["sam2", "cutie", "grounding_dino", "vitmatte"]
_HEX = set("0123456789abcdef")


class ModelSpec(BaseModel):
    """One entry of ``models:`` in configs/models.yaml."""

    model_config = ConfigDict(extra="forbid")

    family: Family
    checkpoint: str
    sha256: str | None = None
    weights_file: str | None = None
    config: str | None = None
    source: str | None = None
    random_weights: bool = False
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("sha256")
    @classmethod
    def _hex_digest(cls, v: str | None) -> str | None:
        if v is not None:
            v = v.strip().lower()
            if len(v) != 64 or not set(v) <= _HEX:
                raise ValueError("sha256 must be 64 hexadecimal digits")
        return v


class ModelsConfig(BaseModel):
    """configs/models.yaml."""

    model_config = ConfigDict(extra="forbid")

    root: str | None = None
    models: dict[str, ModelSpec] = Field(default_factory=dict)


@dataclass(frozen=True)
class ResolvedModel:
    """A model key made concrete: its spec, the config file it came from and its verified weights on disk.

    ``path`` is the checkpoint file or folder; ``weights`` the file whose hash was checked (the same file for a
    single-file checkpoint), None when the spec asks for random weights (a transformers model then still reads
    its architecture and processor from the folder at ``path``).
    """

    key: str
    spec: ModelSpec
    config_path: Path
    path: Path
    weights: Path | None

    @property
    def random_weights(self) -> bool:
        return self.weights is None

    def options(self, model: type[BaseModel]) -> Any:
        """The spec's ``options`` validated against a backend's option model (unknown keys are errors)."""
        try:
            return model.model_validate(self.spec.options)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(x) for x in err["loc"]) or "(options)"
            raise ConfigError(
                f"{err['msg']}", path=self.config_path, where=f"models.{self.key}.options.{loc}"
            ) from None


def load_models_config(path: str | Path | None = None) -> tuple[ModelsConfig, Path]:
    """The models config (the studio's copy in $ROTOFARM_CONFIG_DIR, else the shipped one) and its path."""
    p = Path(path) if path is not None else default_config_path("models.yaml")
    return load_config(ModelsConfig, "models.yaml", path=p), p


def models_root(config: ModelsConfig) -> Path:
    """$ROTOFARM_MODELS, else the config's ``root``, else ~/.local/share/rotofarm/models."""
    env = os.environ.get(MODELS_ROOT_ENV)
    if env:
        return Path(env).expanduser()
    if config.root:
        return Path(config.root).expanduser()
    return DEFAULT_MODELS_ROOT.expanduser()


def sha256_file(path: Path, block: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(block):
            digest.update(chunk)
    return digest.hexdigest()


_verified: dict[tuple[str, int, int], str] = {}


def _cached_sha256(path: Path) -> str:
    """Hash once per process per file version: a persistent worker rebuilding a model should not rehash 1 GB."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _verified:
        _verified[key] = sha256_file(path)
    return _verified[key]


def resolve_model(key: str, family: Family, config_path: str | Path | None = None) -> ResolvedModel:
    """Look ``key`` up, check it is a ``family`` model, and verify its checkpoint (unless random weights)."""
    config, cfg_path = load_models_config(config_path)
    spec = config.models.get(key)
    if spec is None:
        known = ", ".join(sorted(config.models)) or "none"
        raise ConfigError(f"no model {key!r} in models.yaml (known: {known})", path=cfg_path, where=f"models.{key}")
    if spec.family != family:
        raise ConfigError(
            f"model {key!r} is a {spec.family} model, but a {family} model is needed here",
            path=cfg_path,
            where=f"models.{key}.family",
        )
    checkpoint = Path(spec.checkpoint).expanduser()
    if not checkpoint.is_absolute():
        checkpoint = models_root(config) / checkpoint
    if spec.random_weights:
        log.warning("model %s: building %s with RANDOM weights (random_weights: true in %s)", key, family, cfg_path)
        return ResolvedModel(key, spec, cfg_path, checkpoint, None)
    weights = checkpoint / spec.weights_file if spec.weights_file else checkpoint
    expected = f"sha256 {spec.sha256}" if spec.sha256 else "then pin its sha256 in models.yaml"
    where = f"models.{key}.checkpoint"
    if not weights.is_file():
        what = "folder" if spec.weights_file else "file"
        source = f" from {spec.source}" if spec.source else ""
        raise ModelError(
            f"checkpoint of model {key!r} is missing: put the {what}{source} at {checkpoint}"
            + (f" (with {spec.weights_file} inside)" if spec.weights_file else "")
            + f" ({expected}); set ${MODELS_ROOT_ENV} or `root:` to use another model root",
            path=cfg_path,
            where=where,
        )
    actual = _cached_sha256(weights)
    if spec.sha256 is None:
        raise ModelError(
            f"sha256 of model {key!r} is not pinned: {weights} has sha256 {actual}; check it against the "
            f"publisher's and set models.{key}.sha256 to it",
            path=cfg_path,
            where=f"models.{key}.sha256",
        )
    if actual != spec.sha256:
        raise ModelError(
            f"checkpoint of model {key!r} at {weights} has sha256 {actual}, expected {spec.sha256} "
            "(a different or damaged file: copy the right one there)",
            path=cfg_path,
            where=where,
        )
    return ResolvedModel(key, spec, cfg_path, checkpoint, weights)
