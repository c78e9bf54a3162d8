"""The job folder layout on shared storage (DESIGN.md § Job folder), in one place.

The GPU job writes masks and chunk state here, the finalize job reads them and writes shapes and exports, and
publish copies from here. Keeping every path in this class is what keeps those three in agreement.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class JobFolder:
    root: Path
    shot: str

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

    def mask_path(self, frame: int) -> Path:
        return self.masks_dir / f"{self.shot}_mask.{frame:04d}.exr"

    @property
    def mask_pattern(self) -> Path:
        return self.masks_dir / f"{self.shot}_mask.####.exr"

    @property
    def mattes_dir(self) -> Path:
        return self.root / "mattes"

    def matte_path(self, frame: int) -> Path:
        return self.mattes_dir / f"{self.shot}_matte.{frame:04d}.exr"

    @property
    def matte_pattern(self) -> Path:
        return self.mattes_dir / f"{self.shot}_matte.####.exr"

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
