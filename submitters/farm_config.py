"""``configs/farm.yaml``: where jobs go, how they are scheduled, and how to reach the Deadline Web Service."""

from __future__ import annotations

import os
import shutil
import sys
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from roto_core.config import load_config
from roto_core.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JobSettings(_Strict):
    """Scheduling of one kind of farm job (Deadline JobInfo keys; OpenJD and local use what applies)."""

    pool: str = "none"
    secondary_pool: str | None = None
    group: str = "none"
    priority: int = Field(50, ge=0, le=100)
    limit_groups: list[str] = Field(default_factory=list)
    machine_limit: int = Field(0, ge=0)
    concurrent_tasks: int = Field(1, ge=1, le=16)
    whitelist: list[str] = Field(default_factory=list)
    blacklist: list[str] = Field(default_factory=list)
    task_timeout_minutes: int = Field(0, ge=0)
    on_task_timeout: Literal["Error", "Notify", "ErrorAndNotify", "Complete"] = "Error"
    task_failure_errors: int = Field(0, ge=0)
    gpus_per_task: int = Field(0, ge=0, le=16)
    device: str = "auto"
    persistent_worker: bool = False

    @model_validator(mode="after")
    def _one_list(self) -> JobSettings:
        if self.whitelist and self.blacklist:
            raise ValueError("give a whitelist or a blacklist, not both (Deadline keeps one machine list)")
        return self


class DeadlineSettings(_Strict):
    url: str = "http://localhost:8082"
    user: str | None = None
    password_env: str = "ROTOFARM_DEADLINE_PASSWORD"
    verify: bool = True
    ca_bundle: str | None = None
    connect_timeout_s: float = Field(5, gt=0)
    read_timeout_s: float = Field(60, gt=0)
    retries: int = Field(3, ge=0, le=10)
    backoff_s: float = Field(0.5, ge=0)
    validate_names: bool = True

    def tls_verify(self) -> bool | str:
        """What ``requests`` takes: the CA bundle path when one is set, else the flag."""
        return str(Path(self.ca_bundle).expanduser()) if self.ca_bundle else self.verify

    def password(self) -> str | None:
        return os.environ.get(self.password_env) or None


class LocalSettings(_Strict):
    max_parallel_shots: int = Field(1, ge=1, le=64)
    device: str = "cpu"


class FarmConfig(_Strict):
    farm: Literal["local", "deadline", "openjd-bundle"] = "local"
    jobs_root: str = "~/rotofarm-jobs"
    executable: str = "rotofarm"
    chunk_size: int | None = Field(None, ge=1)
    department: str = "roto"
    comment: str = ""
    user: str | None = None
    batch_name: str = "{cut} {submitted:%Y-%m-%d %H:%M}"
    tracker: Literal["local", "ayon"] = "local"
    task_name: str = "roto"
    create_folders: bool = False
    roto_job: JobSettings = Field(
        default_factory=lambda: JobSettings(pool="roto", group="gpu", gpus_per_task=1, persistent_worker=True)
    )
    finalize_job: JobSettings = Field(default_factory=lambda: JobSettings(device="cpu"))
    deadline: DeadlineSettings = Field(default_factory=DeadlineSettings)
    local: LocalSettings = Field(default_factory=LocalSettings)

    def local_executable(self) -> str:
        """``executable`` as this machine runs it: a bare name not on PATH is taken from beside this interpreter,
        so ``.venv/bin/rotofarm submit`` works without activating the virtualenv."""
        if os.sep in self.executable or shutil.which(self.executable):
            return self.executable
        beside = Path(sys.executable).with_name(self.executable)
        return str(beside) if beside.is_file() else self.executable

    @property
    def jobs_root_path(self) -> Path:
        return Path(self.jobs_root).expanduser()

    @classmethod
    def load(cls, path: str | Path | None = None) -> FarmConfig:
        config = load_config(cls, "farm.yaml", path)
        try:
            config.batch_name.format(cut="cut", submitted=datetime(2000, 1, 1))
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(
                f"batch_name: bad template ({exc}); keys are {{cut}} and {{submitted}}", path=path or "farm.yaml"
            ) from None
        return config
