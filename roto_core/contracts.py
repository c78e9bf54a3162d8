"""The contracts between packages: pydantic v2 models, stored as JSON.

A farm task sees only the manifest, so everything it needs is here and nothing secret ever is. Field names follow
DESIGN.md exactly; other packages and the Deadline/OpenJD jobs rely on them.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from roto_core.errors import InputError

SCHEMA_VERSION = 1

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def _check_name(value: str, what: str) -> str:
    if not value or not set(value) <= _NAME_CHARS:
        raise ValueError(f"{what} {value!r} must be non-empty and use only letters, digits, '_' and '-'")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str | bytes):
        return cls.model_validate_json(text)

    @classmethod
    def load(cls, path: str | Path):
        """Read and validate a JSON file; a bad file is an InputError naming it."""
        p = Path(path)
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {cls.__name__}: {exc.strerror or exc}", path=p) from None
        try:
            return cls.model_validate_json(data)
        except ValueError as exc:
            first = str(exc).splitlines()
            detail = "; ".join(line.strip() for line in first[1:3]) or str(exc)
            raise InputError(f"not a valid {cls.__name__}: {detail}", path=p) from None

    def save(self, path: str | Path) -> Path:
        from roto_core.atomic import write_text

        return write_text(path, self.to_json() + "\n")


class Prompt(_Model):
    """One user hint for one object on one frame. Pixel coordinates, origin top-left."""

    object: str
    frame: int
    points: list[tuple[float, float, int]] | None = None
    box: tuple[float, float, float, float] | None = None
    mask: str | None = None  # a file of the plate's size, PNG/TIFF/JPEG/EXR (maskio.inside)
    text: str | None = None

    @field_validator("object")
    @classmethod
    def _object_name(cls, v: str) -> str:
        return _check_name(v, "object name")

    @field_validator("points")
    @classmethod
    def _labels(cls, v: list[tuple[float, float, int]] | None) -> list[tuple[float, float, int]] | None:
        if v is not None:
            if not v:
                raise ValueError("points must not be empty")
            for _, _, label in v:
                if label not in (0, 1):
                    raise ValueError(f"point label must be 1 (positive) or 0 (negative), not {label}")
        return v

    @field_validator("box")
    @classmethod
    def _box_order(cls, v: tuple[float, float, float, float] | None) -> tuple[float, float, float, float] | None:
        if v is not None and (v[2] <= v[0] or v[3] <= v[1]):
            raise ValueError(f"box {list(v)} must have x1 > x0 and y1 > y0")
        return v

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> Prompt:
        given = [k for k in ("points", "box", "mask", "text") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a prompt needs exactly one of points/box/mask/text, got {given or 'none'}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("points", "box", "mask", "text") if getattr(self, k) is not None)


class Shot(_Model):
    """A shot to roto: a plate and its frame range (inclusive, handles included)."""

    name: str
    folder_path: str
    plate: str
    first_frame: int
    last_frame: int
    handles: int = 0
    fps: float = 24.0
    width: int | None = None
    height: int | None = None
    pixel_aspect: float = Field(default=1.0, ge=0.1, le=10.0)  # the plate's; .nk format and .fxs x scale use it
    source_in_tc: str | None = None
    record_in_tc: str | None = None
    prompts: list[Prompt] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _shot_name(cls, v: str) -> str:
        return _check_name(v, "shot name")

    @field_validator("folder_path")
    @classmethod
    def _folder(cls, v: str) -> str:
        if not v.startswith("/") or "//" in v or (v.endswith("/") and v != "/"):
            raise ValueError(f"folder_path {v!r} must look like /sq010/sh010")
        return v

    @model_validator(mode="after")
    def _range(self) -> Shot:
        if self.last_frame < self.first_frame:
            raise ValueError(f"last_frame {self.last_frame} is before first_frame {self.first_frame}")
        if self.handles < 0 or 2 * self.handles > self.frame_count:
            raise ValueError(f"handles {self.handles} do not fit in {self.frame_count} frames")
        if self.fps <= 0:
            raise ValueError(f"fps must be positive, not {self.fps}")
        for p in self.prompts:
            if not self.first_frame <= p.frame <= self.last_frame:
                raise ValueError(
                    f"prompt for {p.object!r} on frame {p.frame} is outside {self.first_frame}-{self.last_frame}"
                )
        return self

    @property
    def frame_count(self) -> int:
        return self.last_frame - self.first_frame + 1

    @property
    def objects(self) -> list[str]:
        seen: dict[str, None] = {}
        for p in self.prompts:
            seen.setdefault(p.object, None)
        return list(seen)


class ShotList(_Model):
    """What ``rotofarm ingest FILE --json`` prints: the shots of one cut."""

    source: str
    fps: float
    shots: list[Shot] = Field(default_factory=list)
    # How ingest read the cut: {"format", "track", "skipped": {reason: count}, "warnings": [...]}.
    editorial: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique(self) -> ShotList:
        counts = Counter(s.name for s in self.shots)
        dupes = sorted(n for n, c in counts.items() if c > 1)
        if dupes:
            raise ValueError(f"shot names must be unique, repeated: {', '.join(dupes)}")
        return self


class ShapeSettings(_Model):
    """How masks become bezier shapes (roto_core.shapes)."""

    tolerance_px: float = Field(1.5, gt=0, le=10)
    max_points: int = Field(24, ge=4, le=256)
    min_area_px: int = Field(64, ge=1)
    smoothing: float = Field(0.5, ge=0, le=1)
    fxs_frame_offset: int = 0
    min_lifetime_frames: int = Field(3, ge=1)


class PipelineSettings(_Model):
    """What the GPU job does with a shot."""

    backend: Literal["classical", "sam2", "cutie"] = "classical"
    key_model: str = "sam2.1_hiera_tiny"
    propagation_model: str | None = None
    text_model: str = "grounding_dino_tiny"
    matting: bool = False
    matting_model: str = "vitmatte_small"
    chunk_size: int = Field(50, ge=1)
    overlap: int = Field(0, ge=0)
    max_resolution: int | None = Field(1024, ge=64)
    device: str = "auto"
    shapes: ShapeSettings = Field(default_factory=ShapeSettings)

    @model_validator(mode="after")
    def _overlap(self) -> PipelineSettings:
        if self.overlap >= self.chunk_size:
            raise ValueError(f"overlap {self.overlap} must be smaller than chunk_size {self.chunk_size}")
        return self


class TrackerTarget(_Model):
    """Where the finished shot is published. Credentials never live here: they come from the environment."""

    tracker: Literal["local", "ayon"] = "local"
    project: str
    folder_path: str
    task: str = "roto"
    task_type: str = "Roto"
    shapes_product: str = "rotoMain"
    matte_product: str = "rotoMatteMain"
    local_root: str | None = None
    comment: str = ""
    author: str | None = None


class Submission(_Model):
    """Farm identities of the jobs made for this manifest, recorded after a successful submission."""

    farm: str
    batch_name: str
    submitted_at: str
    job_ids: dict[str, str] = Field(default_factory=dict)


class JobManifest(_Model):
    """Everything one farm task needs for one shot; written to the job folder before submission."""

    schema_version: int = SCHEMA_VERSION
    job_id: str
    shot: Shot
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    output_dir: str
    tracker: TrackerTarget
    submission: Submission | None = None
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @field_validator("job_id")
    @classmethod
    def _job_id(cls, v: str) -> str:
        return _check_name(v, "job_id")


class ChunkResult(_Model):
    """``chunks/A-B/report.json``: what one chunk did, for the next chunk, the finalize job and QA."""

    schema_version: int = SCHEMA_VERSION
    job_id: str | None = None
    first_frame: int
    last_frame: int
    frames: list[int] = Field(default_factory=list)
    objects: list[str] = Field(default_factory=list)
    masks: dict[str, list[str]] = Field(default_factory=dict)
    seeds: dict[str, str] = Field(default_factory=dict)
    state: str | None = None
    timings: dict[str, float] = Field(default_factory=dict)
    peak_rss_mb: float | None = None
    peak_gpu_mb: float | None = None
    backend: str = "classical"
    device: str = "cpu"
    qa: dict[str, Any] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    # The backend's own trust in each mask (object → frame → 0..1) and the frames where an artist should key the
    # object again (roto_core.backends.confidence); finalize copies them into the QA report.
    confidence: dict[str, dict[int, float]] = Field(default_factory=dict)
    rekey_frames: dict[str, list[int]] = Field(default_factory=dict)
