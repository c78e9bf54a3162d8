"""Small builders shared by the farm tests."""

from __future__ import annotations

from pathlib import Path

from roto_core.contracts import PipelineSettings, Prompt, Shot, ShotList
from submitters.farm_config import FarmConfig


def shot(name: str = "sh010", first: int = 1001, last: int = 1100, prompts: list[Prompt] | None = None) -> Shot:
    return Shot(
        name=name,
        folder_path=f"/sq010/{name}",
        plate=f"/plates/sq010/{name}/{name}_plate.####.exr",
        first_frame=first,
        last_frame=last,
        width=64,
        height=48,
        prompts=prompts if prompts is not None else [Prompt(object="hero", frame=first, box=(10, 10, 30, 30))],
    )


def shotlist(count: int = 2, source: str = "/cuts/reel1_v003.edl") -> ShotList:
    return ShotList(source=source, fps=24.0, shots=[shot(f"sh{10 * (i + 1):03d}") for i in range(count)])


def farm_config(tmp_path: Path, **overrides) -> FarmConfig:
    base = FarmConfig.load()
    return base.model_copy(update={"jobs_root": str(tmp_path / "jobs"), **overrides})


PIPELINE = PipelineSettings(chunk_size=25)
