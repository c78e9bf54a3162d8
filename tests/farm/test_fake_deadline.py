"""The test Web Service behaves like Deadline where the farm tests (and the farm-admin tests) rely on it."""

from __future__ import annotations

import pytest

from submitters.admin.deadline_state import failure_reason
from submitters.deadline.client import DeadlineClient, DeadlineRequestError
from tests.farm.fake_deadline import JOB_STAT, TASK_STAT, WORKER_STAT, FakeDeadline, seconds_ago


def test_seeded_farm_reads_back_through_the_client(deadline: FakeDeadline, client: DeadlineClient) -> None:
    deadline.add_worker("comp07", pools=["comp"], groups=["gpu"], gpus=2, state="Idle")
    deadline.add_worker("gpu4x", pools=["roto"], groups=["gpu"], gpus=4, concurrent_tasks=1, gpu_memory_mb=24564)
    starving = deadline.add_job(
        {
            "Plugin": "AIRoto",
            "Name": "sh090 roto",
            "BatchName": "reel2",
            "Frames": "1-100",
            "ChunkSize": "25",
            "Pool": "roto",
            "Group": "gpu",
            "Priority": "40",
        },
        submitted_at=seconds_ago(6 * 3600),
    )
    deadline.set_task(starving, 0, "Rendering", worker="gpu4x", started=seconds_ago(120), progress=40)
    deadline.set_task(starving, 1, "Completed", worker="gpu4x", started=seconds_ago(900), completed=seconds_ago(300))

    workers = {w["Info"]["Name"]: w for w in client.workers()}
    assert workers["gpu4x"]["Info"]["Stat"] == WORKER_STAT["Rendering"]
    assert workers["gpu4x"]["Info"]["JobId"] == starving and workers["gpu4x"]["Settings"]["Conc"] == 1
    assert workers["gpu4x"]["Info"]["VideoCard"].count(",") == 3 and workers["gpu4x"]["Info"]["GpuMemMB"] == 24564
    assert workers["comp07"]["Info"]["Stat"] == WORKER_STAT["Idle"] and workers["comp07"]["Settings"]["Pools"] == [
        "comp"
    ]
    (job,) = client.get_jobs(states=["Active"])
    assert job["Date"].startswith(seconds_ago(6 * 3600).strftime("%Y-%m-%dT%H"))
    assert (job["RenderingChunks"], job["CompletedChunks"], job["QueuedChunks"]) == (1, 1, 2)
    tasks = client.get_tasks(starving)
    assert tasks[0]["Prog"] == "40 %" and tasks[1]["Comp"] != "0001-01-01T00:00:00Z"


def test_scheduler_honours_pools_sequential_order_machine_limit_and_dependencies(deadline: FakeDeadline) -> None:
    deadline.add_worker("a", pools=["roto"], groups=["gpu"])
    deadline.add_worker("b", pools=["roto"], groups=["gpu"])
    deadline.add_worker("c", pools=["comp"], groups=["gpu"])
    roto = deadline.add_job(
        {
            "Plugin": "AIRoto",
            "Frames": "1-4",
            "ChunkSize": "2",
            "Pool": "roto",
            "Group": "gpu",
            "Sequential": "True",
            "MachineLimit": "1",
        }
    )
    fin = deadline.add_job({"Plugin": "AIRoto", "Frames": "0-1", "ChunkSize": "1"}, depends_on=[roto])
    assert deadline.jobs[fin]["Stat"] == JOB_STAT["Pending"]
    assert deadline.dequeue("c") is None  # wrong pool
    job, task = deadline.dequeue("a")
    assert (job["_id"], task["TaskID"]) == (roto, 0)
    assert deadline.dequeue("b") is None  # machine limit 1: a second machine waits
    deadline.finish_task(roto, 0, ok=True)
    assert deadline.dequeue("b")[1]["TaskID"] == 1  # the limit counts machines rendering now, as Deadline does
    assert deadline.dequeue("a") is None
    deadline.finish_task(roto, 1, ok=True)
    assert deadline.jobs[roto]["Stat"] == JOB_STAT["Completed"]
    assert deadline.jobs[fin]["Stat"] == JOB_STAT["Active"]
    assert deadline.dequeue("c")[0]["_id"] == fin  # pool "none" runs anywhere


def test_errors_requeue_until_the_failure_limit(deadline: FakeDeadline, client: DeadlineClient) -> None:
    deadline.add_worker("a", pools=["roto"])
    job = deadline.add_job(
        {
            "Plugin": "AIRoto",
            "Frames": "1",
            "Pool": "roto",
            "OverrideTaskFailureDetection": "True",
            "FailureDetectionTaskErrors": "2",
        }
    )
    for attempt in (1, 2):
        deadline.dequeue("a")
        deadline.finish_task(job, 0, ok=False, error=f"error #{attempt}")
    assert deadline.tasks[job][0]["Stat"] == TASK_STAT["Failed"] and deadline.jobs[job]["Stat"] == JOB_STAT["Failed"]
    contents = client.job_reports(job, "allerrorcontents")
    assert [failure_reason([text]) for text in contents] == ["error #1", "error #2"]
    assert [r["Type"] for r in client.job_reports(job, "all")] == ["error", "log", "error", "log"]
    assert client.task_reports(job, 0, "alllogcontents")[-1].startswith("0: INFO:")
    client.resume_failed_job(job)
    assert client.get_tasks(job)[0]["Stat"] == TASK_STAT["Queued"]


def test_admin_writes_pools_groups_limits_and_refuses_unknown_names(
    deadline: FakeDeadline, client: DeadlineClient
) -> None:
    deadline.add_worker("comp07", pools=["comp"])
    client.add_groups_to_workers(["comp07"], ["gpu"])
    assert client.workers_in_groups(["gpu"]) == ["comp07"]
    client.set_limit("roto_gpu", 12)
    assert client.limits(["roto_gpu"])[0]["Limit"] == 12
    job = deadline.add_job({"Plugin": "AIRoto", "Frames": "1-10", "Priority": "30"})
    doc = client.get_job(job)
    doc["Props"]["Pri"] = 80
    client.save_job(doc)
    assert client.get_job(job)["Props"]["Pri"] == 80
    with pytest.raises(DeadlineRequestError, match="HTTP 400"):
        client.add_pools_to_workers(["comp07"], ["no_such_pool"])


def test_sequential_orders_dequeueing_but_does_not_wait_for_an_earlier_task(deadline: FakeDeadline) -> None:
    """Deadline documents that Sequential renders tasks in order, not that a later task waits for an earlier one
    rendering elsewhere or requeued: a second thread of the same machine takes the next chunk at once."""
    deadline.add_worker("a", pools=["roto"], concurrent_tasks=2)
    job = deadline.add_job({"Plugin": "AIRoto", "Frames": "1-6", "ChunkSize": "2", "Pool": "roto", "Sequential": "1"})
    assert [deadline.dequeue("a")[1]["TaskID"] for _ in range(2)] == [0, 1]  # 1 starts while 0 renders
    deadline.finish_task(job, 1, ok=True)
    deadline.finish_task(job, 0, ok=False, error="boom")  # requeued below the error limit
    assert deadline.dequeue("a")[1]["TaskID"] == 0  # the lowest queued task first
    assert deadline.dequeue("a")[1]["TaskID"] == 2  # and the next one without waiting for it
