"""A Deadline farm in a realistic muddle, served by the farm tests' fake Web Service.

- ``gpu-a01`` (1 GPU) and ``gpu-a02`` (2 GPUs) sit idle in the comp pool while roto tasks wait; ``gpu-a02`` is
  not even in the gpu group. ``cpu-01`` is idle too but has no GPU.
- ``gpu-quad`` has 4 GPUs and renders roto at 1 concurrent task; ``gpu-r01`` (1 GPU) renders comp.
- reel1: ``sh010`` renders (1 chunk done in 100 s = 4 s/frame, the next at 40 %); ``sh020`` has waited 2 hours
  with nothing rendering (starving); ``sh040`` (independent chunks) was submitted 5 minutes ago.
  reel2: ``sh030`` failed on its first chunk. A Nuke comp job shares the farm.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from submitters.deadline.client import DeadlineClient
from tests.farm.fake_deadline import FakeDeadline, seconds_ago

PASSWORD_ENV = "ROTOFARM_TEST_DEADLINE_PW"


def roto_info(name: str, batch: str, *, frames: str = "1001-1100", sequential: bool = True, **extra: str) -> dict:
    info = {
        "Plugin": "AIRoto",
        "Name": name,
        "BatchName": batch,
        "Frames": frames,
        "ChunkSize": "25",
        "Pool": "roto",
        "Group": "gpu",
        "Priority": "50",
        "Sequential": str(sequential),
        "MachineLimit": "1" if sequential else "0",
        "OverrideTaskFailureDetection": "True",
        "FailureDetectionTaskErrors": "1",
    }
    return {**info, **extra}


@dataclass
class Farm:
    fake: FakeDeadline
    client: DeadlineClient
    jobs: dict[str, str]


def seed(fake: FakeDeadline) -> dict[str, str]:
    fake.add_worker(
        "gpu-a01", pools=["comp"], groups=["gpu"], gpus=1, gpu_model="NVIDIA RTX A5000", gpu_memory_mb=24564
    )
    fake.add_worker("gpu-a02", pools=["comp"], groups=["cpu"], gpus=2, concurrent_tasks=2)
    fake.add_worker("cpu-01", pools=["comp"], groups=["cpu"])
    fake.add_worker("gpu-quad", pools=["roto"], groups=["gpu"], gpus=4, concurrent_tasks=1)
    fake.add_worker("gpu-r01", pools=["comp", "roto"], groups=["gpu"], gpus=1)
    jobs = {
        "sh010": fake.add_job(roto_info("reel1 sh010 roto", "reel1"), submitted_at=seconds_ago(600)),
        "sh020": fake.add_job(roto_info("reel1 sh020 roto", "reel1"), submitted_at=seconds_ago(7200)),
        "sh040": fake.add_job(
            roto_info("reel1 sh040 roto", "reel1", frames="1001-1075", sequential=False, ConcurrentTasks="4"),
            submitted_at=seconds_ago(300),
        ),
        "sh030": fake.add_job(
            roto_info("reel2 sh030 roto", "reel2", frames="1001-1050"), submitted_at=seconds_ago(900)
        ),
        "comp": fake.add_job(
            {"Plugin": "Nuke", "Name": "sh010 comp", "Frames": "1-10", "Pool": "comp"}, submitted_at=seconds_ago(60)
        ),
    }
    fake.set_task(
        jobs["sh010"], 0, "Completed", worker="gpu-quad", started=seconds_ago(300), completed=seconds_ago(200)
    )
    fake.set_task(jobs["sh010"], 1, "Rendering", worker="gpu-quad", started=seconds_ago(150), progress=40)
    fake.set_task(jobs["sh030"], 0, "Rendering", worker="gpu-r01", started=seconds_ago(800))
    fake.finish_task(
        jobs["sh030"],
        0,
        ok=False,
        error="rotofarm exited with code 2: /plates/sh030.1003.exr: frame 1003: plate missing",
        log="Progress: 10%\nerror: /plates/sh030.1003.exr: frame 1003: plate missing\nLast line of the log",
    )
    fake.set_task(jobs["comp"], 0, "Rendering", worker="gpu-r01", started=seconds_ago(30))
    return jobs


@pytest.fixture
def farm() -> Iterator[Farm]:
    fake = FakeDeadline(pools=["none", "roto", "comp"], groups=["none", "gpu", "cpu"])
    with fake:
        jobs = seed(fake)
        client = DeadlineClient(fake.url, user=fake.user, password=fake.password, retries=1, backoff_s=0.01)
        yield Farm(fake, client, jobs)


@pytest.fixture
def farm_yaml(farm: Farm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A farm.yaml pointing at the fake service; the password comes from the environment as in production."""
    monkeypatch.setenv(PASSWORD_ENV, farm.fake.password)
    path = tmp_path / "farm.yaml"
    path.write_text(
        "farm: deadline\n"
        f"jobs_root: {tmp_path / 'jobs'}\n"
        "deadline:\n"
        f"  url: {farm.fake.url}\n"
        f"  user: {farm.fake.user}\n"
        f"  password_env: {PASSWORD_ENV}\n"
        "  retries: 1\n"
        "  backoff_s: 0.01\n"
    )
    return path
