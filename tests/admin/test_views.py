"""Workers and queue as read from the fake Web Service: the numbers an admin acts on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from roto_core.errors import InputError
from submitters.admin.balance import BalanceRules, plan_balance
from submitters.admin.deadline_state import (
    check_pool,
    failure_reason,
    frame_count,
    job_view,
    read_queue,
    read_workers,
)
from tests.admin.conftest import Farm
from tests.farm.fake_deadline import error_report_text


def test_workers_show_gpus_settings_membership_and_current_task(farm: Farm) -> None:
    workers = {w.name: w for w in read_workers(farm.client)}
    assert sorted(workers) == ["cpu-01", "gpu-a01", "gpu-a02", "gpu-quad", "gpu-r01"]
    a01 = workers["gpu-a01"]
    assert (a01.state, a01.gpu_count) == ("Idle", 1)
    assert (a01.gpus[0].model, a01.gpus[0].memory_mb) == ("NVIDIA RTX A5000", 24564)
    quad = workers["gpu-quad"]
    assert (quad.gpu_count, quad.concurrent_tasks, quad.pools, quad.groups) == (4, 1, ["roto"], ["gpu"])
    assert quad.state == "Rendering" and quad.job_id == farm.jobs["sh010"] and quad.task_id == "1"
    assert quad.job_name == "reel1 sh010 roto" and quad.job_plugin == "AIRoto"
    assert workers["cpu-01"].gpus == [] and not workers["cpu-01"].override_gpu_affinity


def test_workers_of_one_pool_and_an_unknown_pool(farm: Farm) -> None:
    assert [w.name for w in read_workers(farm.client, "roto")] == ["gpu-quad", "gpu-r01"]
    assert check_pool(farm.client, "ROTO") == "roto"
    with pytest.raises(InputError) as err:
        check_pool(farm.client, "rotoo")
    assert "unknown pool 'rotoo'" in str(err.value) and "comp, none, roto" in str(err.value)


def test_queue_groups_roto_jobs_by_batch_and_leaves_other_plugins_out(farm: Farm) -> None:
    view = read_queue(farm.client)
    assert [b.name for b in view.batches] == ["reel1", "reel2"]
    names = [j.name for b in view.batches for j in b.jobs]
    assert sorted(names) == ["reel1 sh010 roto", "reel1 sh020 roto", "reel1 sh040 roto", "reel2 sh030 roto"]


def test_progress_and_eta_come_from_the_measured_chunks(farm: Farm) -> None:
    jobs = {j.name: j for b in read_queue(farm.client).batches for j in b.jobs}
    sh010 = jobs["reel1 sh010 roto"]
    # chunk 0 (25 frames) took 100 s; chunk 1 is 40 % through: 35 of 100 frames done, 65 left at 4 s/frame
    assert (sh010.tasks_total, sh010.tasks_done, sh010.tasks_rendering, sh010.tasks_queued) == (4, 1, 1, 2)
    assert sh010.frames_done == pytest.approx(35.0)
    assert sh010.seconds_per_frame == pytest.approx(4.0, rel=0.02)
    assert sh010.eta_seconds == pytest.approx(260.0, rel=0.02)
    assert jobs["reel1 sh020 roto"].eta_seconds is None  # nothing measured yet: no invented ETA
    reel1 = read_queue(farm.client).batches[0]
    assert reel1.eta_seconds is None and reel1.frames_total == 275


def test_failed_tasks_carry_the_last_line_of_their_error(farm: Farm) -> None:
    sh030 = next(j for b in read_queue(farm.client).batches for j in b.jobs if j.name == "reel2 sh030 roto")
    assert sh030.state == "Failed" and sh030.tasks_failed == 1
    (failed,) = sh030.failed
    assert (failed.task_id, failed.frames, failed.worker, failed.errors) == (0, "1001-1025", "gpu-r01", 1)
    assert failed.last_error == "rotofarm exited with code 2: /plates/sh030.1003.exr: frame 1003: plate missing"


def test_parallel_chunks_divide_the_eta_between_rendering_tasks() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def iso(t: datetime) -> str:
        return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    tasks = [
        {"TaskID": 0, "Frames": "1-10", "Stat": 5, "StartRen": iso(start), "Comp": iso(start + timedelta(seconds=20))},
        {"TaskID": 1, "Frames": "11-20", "Stat": 4, "Prog": "0 %"},
        {"TaskID": 2, "Frames": "21-30", "Stat": 4, "Prog": "50 %"},
        {"TaskID": 3, "Frames": "31-40", "Stat": 2},
    ]
    job = {"_id": "j", "Stat": 1, "Date": iso(start), "Props": {"Name": "n", "Seq": False}}
    view = job_view(job, tasks)
    assert view.seconds_per_frame == pytest.approx(2.0)
    assert view.eta_seconds == pytest.approx((40 - 15) * 2.0 / 2)
    sequential = job_view({**job, "Props": {"Name": "n", "Seq": True}}, tasks)
    assert sequential.eta_seconds == pytest.approx((40 - 15) * 2.0)


@pytest.mark.parametrize(("frames", "count"), [("1001-1025", 25), ("1001", 1), ("1,3,5", 3), ("1-9x2", 5), ("", 0)])
def test_frame_count(frames: str, count: int) -> None:
    assert frame_count(frames) == count


def test_a_worker_reporting_no_gpu_field_has_an_unknown_gpu_count(farm: Farm) -> None:
    """No public evidence names the GPU fields of ``Data=info``: with none of the plausible ones, the count is
    unknown (None), not 0, and balance proposes nothing for that worker."""
    farm.fake.add_worker("mystery", pools=["roto"], groups=["gpu"], gpus=2, concurrent_tasks=1, report_gpus=False)
    counted = farm.fake.add_worker("counted", pools=["roto"], groups=["gpu"], report_gpus=False)
    counted["Info"]["GpuCount"] = 2
    workers = {w.name: w for w in read_workers(farm.client)}
    assert (workers["mystery"].gpu_count, workers["mystery"].gpus_known) == (None, False)
    assert workers["counted"].gpu_count == 2 and workers["cpu-01"].gpu_count == 0
    plan = plan_balance(list(workers.values()), [], pool="roto", rules=BalanceRules(), now=datetime.now(UTC))
    assert "mystery" not in {c.target for c in plan.changes}


def test_the_failure_reason_comes_from_the_error_section_not_the_log() -> None:
    report = error_report_text("rotofarm exited with code 2: frame 1003: plate missing", "error: x\nlast log line")
    assert failure_reason([report]) == "rotofarm exited with code 2: frame 1003: plate missing"
    assert failure_reason([error_report_text("Renderer crashed", "log")]) == "Renderer crashed"
    assert failure_reason("No error reports for the Job Task") == ""
    assert failure_reason(["no sections here", 5, None]) == ""
