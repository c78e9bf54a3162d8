"""The job folder layout on shared storage (DESIGN.md § Job folder), in one place.

The GPU job writes masks and chunk state here, the finalize job reads them and writes shapes and exports, and
publish copies from here. Keeping every path in this class is what keeps those three in agreement.

Masks and mattes keep the plate's frame padding (``clip.#####.jpg`` → ``clip_mask.#####.exr``), so they line up
with the plate in a file browser and in Nuke's Read node. The padding is read from the job's manifest (the plate
pattern is there), so every job and tool that opens the folder names the same files without being told.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PADDING = 4
_TOKEN = re.compile(r"(#+)|%0(\d+)d")


def plate_padding(plate: str) -> int:
    """Digits of the plate's frame token: ``####`` → 4, ``%05d`` → 5; a movie or ``%d`` → 4."""
    tokens = list(_TOKEN.finditer(plate))
    if not tokens:
        return DEFAULT_PADDING
    last = tokens[-1]
    return len(last.group(1)) if last.group(1) else max(1, int(last.group(2)))


@dataclass(frozen=True)
class JobFolder:
    root: Path
    shot: str
    padding: int | None = None  # None: the manifest's plate decides (DEFAULT_PADDING without a manifest)

    @classmethod
    def for_job(cls, jobs_root: str | Path, project: str, shot: str, job_id: str) -> JobFolder:
        return cls(Path(jobs_root) / project / shot / job_id, shot)

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    def chunk_dir(self, first: int, last: int) -> Path:
        return self.root / "chunks" / f"{first}-{last}"

    def chunk_report(self, first: int, last: int) -> Path:
        return self.chunk_dir(first, last) / "report.json"

    def chunk_state(self, first: int, last: int) -> Path:
        return self.chunk_dir(first, last) / "state"

    @property
    def masks_dir(self) -> Path:
        return self.root / "masks"

    @property
    def digits(self) -> int:
        """Frame padding of mask and matte files: ``padding`` if given, else the manifest plate's."""
        if self.padding is not None:
            return self.padding
        cached = self.__dict__.get("_digits")
        if cached is not None:
            return cached
        try:
            plate = json.loads(self.manifest.read_text(encoding="utf-8"))["shot"]["plate"]
        except (OSError, ValueError, KeyError, TypeError):
            return DEFAULT_PADDING  # no manifest yet: not cached, so a manifest written later still counts
        found = plate_padding(str(plate))
        object.__setattr__(self, "_digits", found)
        return found

    def mask_path(self, frame: int) -> Path:
        return self.masks_dir / f"{self.shot}_mask.{frame:0{self.digits}d}.exr"

    @property
    def mask_pattern(self) -> Path:
        return self.masks_dir / f"{self.shot}_mask.{'#' * self.digits}.exr"

    @property
    def mattes_dir(self) -> Path:
        return self.root / "mattes"

    def matte_path(self, frame: int) -> Path:
        return self.mattes_dir / f"{self.shot}_matte.{frame:0{self.digits}d}.exr"

    @property
    def matte_pattern(self) -> Path:
        return self.mattes_dir / f"{self.shot}_matte.{'#' * self.digits}.exr"

    @property
    def shapes_json(self) -> Path:
        return self.root / "shapes" / f"{self.shot}_shapes.json"

    @property
    def nk(self) -> Path:
        return self.root / "exports" / f"{self.shot}.nk"

    @property
    def fxs(self) -> Path:
        return self.root / "exports" / f"{self.shot}.fxs"

    @property
    def qa_report(self) -> Path:
        return self.root / "qa" / "report.json"

    @property
    def thumbnail(self) -> Path:
        return self.root / "qa" / "thumbnail.jpg"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"
