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
        if candidate.exists() or candidate.is_symlink():
            return candidate  # a folder or device in its place is an error of read_yaml, not a silent default
    return Path(str(resources.files("configs").joinpath(name)))


MAX_CONFIG_BYTES = 4 * 1024 * 1024  # a config is a few KB; anything this big is the wrong file (or /dev/zero)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A config file's top-level mapping; every way the file can be wrong is a ConfigError naming it."""
    p = Path(path)
    if p.is_dir():
        raise ConfigError("is a folder, not a YAML file", path=p)
    if p.exists() and not p.is_file():
        raise ConfigError("is not a regular file (a pipe or device?)", path=p)
    try:
        if p.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"is larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB: not a config file", path=p)
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror or exc}", path=p) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start}): a binary file?", path=p) from None
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
        message = str(err["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{key}: {message}", path=p) from None
