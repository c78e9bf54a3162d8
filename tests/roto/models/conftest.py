"""Fixtures for the model-backend tests: a studio config folder and model root per test.

Each test that reads configs writes its own models.yaml into a temporary $ROTOFARM_CONFIG_DIR, so the lookup,
hashing and loading code runs exactly as on a farm worker.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

if importlib.util.find_spec("torch") is None:
    # An install without the 'models' extra: these backends cannot exist there, so there is nothing to test.
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A studio config folder ($ROTOFARM_CONFIG_DIR) and an empty model root ($ROTOFARM_MODELS)."""
    cfg = tmp_path / "configs"
    cfg.mkdir()
    root = tmp_path / "models"
    root.mkdir()
    monkeypatch.setenv("ROTOFARM_CONFIG_DIR", str(cfg))
    monkeypatch.setenv("ROTOFARM_MODELS", str(root))
    return cfg
