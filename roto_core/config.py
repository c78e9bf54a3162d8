"""Loading the YAML defaults in ``configs/`` (and a studio's override files) into pydantic models.

Defaults ship inside the package so a fresh install runs with no file of its own; a studio points at its own YAML
with ``--config`` or ``ROTOFARM_CONFIG_DIR``. Unknown keys are errors, so a typo never silently does nothing.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from roto_core.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

CONFIG_DIR_ENV = "ROTOFARM_CONFIG_DIR"


def default_config_path(name: str) -> Path:
    """The shipped default for ``name`` (e.g. ``"pipeline.yaml"``), or the studio's copy in $ROTOFARM_CONFIG_DIR."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        candidate = Path(override) / name
        if candidate.is_file():
            return candidate
    return Path(str(resources.files("configs").joinpath(name)))


def read_yaml(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror or exc}", path=p) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(f"invalid YAML: {getattr(exc, 'problem', exc)}", path=p, line=line) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("top level must be a mapping", path=p)
    return data


def load_config(model: type[M], name: str, path: str | Path | None = None, section: str | None = None) -> M:
    """Validate ``path`` (or the default file ``name``) against ``model``; ``section`` picks a top-level key."""
    p = Path(path) if path is not None else default_config_path(name)
    data = read_yaml(p)
    if section is not None:
        data = data.get(section, {}) or {}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(x) for x in err["loc"]) or "(top)"
        raise ConfigError(f"{key}: {err['msg']}", path=p) from None
