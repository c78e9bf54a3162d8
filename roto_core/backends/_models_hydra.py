"""Hydra's one global config search path, shared by sam2 and Cutie without either seeing the other's.

sam2 initialises Hydra's global state for its own package when imported, and Cutie composes its config through
the same global; two models in one worker would otherwise find each other's configs (or fail with "already
initialised"). Each build composes inside ``config_module(...)``, and the previous global state comes back after.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from hydra import initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.initialize import get_gh_backup, restore_gh_from_backup


@contextlib.contextmanager
def config_module(module: str, version_base: str) -> Iterator[None]:
    """Make ``module`` Hydra's only config source for the duration of the block."""
    saved = get_gh_backup()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(module, version_base=version_base):
            yield
    finally:
        restore_gh_from_backup(saved)
