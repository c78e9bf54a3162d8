"""The balance plan on the seeded farm, and --apply against the fake Web Service: requests, refusals, limits."""

from __future__ import annotations

from submitters.admin.apply import apply_plan
from submitters.admin.balance import BalanceRules, plan_balance
from submitters.admin.deadline_state import read_queue, read_workers
from submitters.admin.models import Plan
from tests.admin.conftest import Farm


def plan(farm: Farm, **kw) -> Plan:
    jobs = [j for b in read_queue(farm.client).batches for j in b.jobs]
    return plan_balance(read_workers(farm.client), jobs, pool="roto", **kw)


def kinds(p: Plan) -> list[tuple[str, str]]:
    return [(c.kind, c.target.split(" (")[0]) for c in p.changes]


def test_plan_finds_idle_gpu_workers_outside_the_roto_pool_and_group(farm: Farm) -> None:
    found = [k for k in kinds(plan(farm)) if k[0] in ("add_pool", "add_group")]
    # sh020 (starving, sequential) needs one worker, sh040 (independent chunks) three: both idle GPU workers,
    # the 2-GPU one first; the CPU-only worker is never recruited
    assert found == [("add_pool", "gpu-a02"), ("add_group", "gpu-a02"), ("add_pool", "gpu-a01")]


def test_recruiting_stops_at_what_the_waiting_jobs_can_use(farm: Farm) -> None:
    farm.fake.jobs[farm.jobs["sh040"]]["Stat"] = 2  # suspended: only the sequential sh020 still waits
    found = [k for k in kinds(plan(farm)) if k[0] in ("add_pool", "add_group")]
    assert found == [("add_pool", "gpu-a02"), ("add_group", "gpu-a02")]


def test_plan_finds_the_four_gpu_worker_at_one_concurrent_task(farm: Farm) -> None:
    (change,) = [c for c in plan(farm).changes if c.kind == "gpu_per_task"]
    assert change.target == "gpu-quad"
    assert (change.concurrent_tasks, change.gpu_affinity) == (4, [0, 1, 2, 3])
    assert "4 GPUs but 1 concurrent task" in change.reason and "Worker instance per GPU" in change.reason


def test_plan_finds_the_starving_job_and_only_it(farm: Farm) -> None:
    (change,) = [c for c in plan(farm).changes if c.kind == "priority"]
    assert change.job_id == farm.jobs["sh020"]
    assert (change.before, change.after, change.priority) == ("50", "70", 70)
    assert "waiting 2h00m" in change.reason
    relaxed = plan(farm, rules=BalanceRules(starving_after_s=3 * 3600))
    assert not [c for c in relaxed.changes if c.kind == "priority"]


def test_a_balanced_farm_gets_an_empty_plan(farm: Farm) -> None:
    farm.fake.workers["gpu-quad"]["Settings"]["Conc"] = 4
    for job in ("sh020", "sh040"):
        farm.fake.jobs[farm.jobs[job]]["Stat"] = 2
    assert plan(farm).changes == []


def test_apply_sends_the_documented_requests_and_the_farm_changes(farm: Farm) -> None:
    farm.fake.jobs[farm.jobs["comp"]]["Stat"] = 2  # the comp job is suspended: nothing else for gpu-a01 to take
    assert farm.fake.dequeue("gpu-a01") is None  # before: the idle GPU worker cannot take roto tasks
    results = apply_plan(farm.client, plan(farm).changes)
    assert [r.outcome for r in results] == ["applied"] * 5

    pools = [r.body for r in farm.fake.requests_to("PUT", "/api/pools")]
    assert pools == [
        {"Slave": ["gpu-a02"], "Pool": ["roto"], "OverWrite": False},
        {"Slave": ["gpu-a01"], "Pool": ["roto"], "OverWrite": False},
    ]
    assert [r.body for r in farm.fake.requests_to("PUT", "/api/groups")] == [
        {"Slave": ["gpu-a02"], "Group": ["gpu"], "OverWrite": False}
    ]
    (settings,) = [r.body for r in farm.fake.requests_to("PUT", "/api/slaves")]
    assert settings["Command"] == "savesettings"
    sent = settings["SlaveSettings"]
    assert (sent["Name"], sent["Conc"], sent["GpuAffinity"], sent["OverrideGpuAffinity"]) == (
        "gpu-quad",
        4,
        [0, 1, 2, 3],
        True,
    )
    assert sent["Pools"] == ["roto"] and sent["Grps"] == ["gpu"]  # the rest of the document is sent back unchanged
    (save,) = [r.body for r in farm.fake.requests_to("PUT", "/api/jobs")]
    assert save["Command"] == "save" and save["Job"]["_id"] == farm.jobs["sh020"] and save["Job"]["Props"]["Pri"] == 70

    job, _task = farm.fake.dequeue("gpu-a01")  # after: it takes the waiting roto job's task
    assert job["Plug"] == "AIRoto" and job["Props"]["Pool"] == "roto"
    assert farm.fake.jobs[farm.jobs["sh020"]]["Props"]["Pri"] == 70
    again = kinds(plan(farm))
    assert not [k for k in again if k[0] in ("add_pool", "add_group", "gpu_per_task")]


def test_a_refused_request_is_reported_and_the_others_still_apply(farm: Farm) -> None:
    farm.fake.fail_next(status=400, method="PUT", path="/api/groups")
    farm.fake.fail_next(count=5, status=500, method="PUT", path="/api/jobs")
    results = {(r.change.kind, r.change.target.split(" (")[0]): r for r in apply_plan(farm.client, plan(farm).changes)}
    assert results[("add_group", "gpu-a02")].outcome == "refused"
    assert "HTTP 400" in results[("add_group", "gpu-a02")].detail
    assert results[("priority", "reel1 sh020 roto")].outcome == "refused"
    assert "HTTP 500" in results[("priority", "reel1 sh020 roto")].detail
    assert results[("add_pool", "gpu-a01")].outcome == "applied"
    assert results[("gpu_per_task", "gpu-quad")].outcome == "applied"
    assert farm.fake.workers["gpu-a02"]["Settings"]["Grps"] == ["cpu"]
    assert farm.fake.jobs[farm.jobs["sh020"]]["Props"]["Pri"] == 50


def test_lost_credentials_stop_the_rest_and_say_so(farm: Farm) -> None:
    farm.fake.fail_next(count=1, status=401, method="PUT")
    results = apply_plan(farm.client, plan(farm).changes)
    assert [r.outcome for r in results] == ["refused", "not sent", "not sent", "not sent", "not sent"]
    assert "401" in results[0].detail and "credentials" in results[1].detail
    assert len([r for r in farm.fake.log if r.method == "PUT"]) == 1


def test_worker_settings_without_the_fields_are_not_guessed(farm: Farm) -> None:
    del farm.fake.workers["gpu-quad"]["Settings"]["GpuAffinity"]
    (change,) = [c for c in plan(farm).changes if c.kind == "gpu_per_task"]
    (result,) = apply_plan(farm.client, [change])
    assert result.outcome == "cannot apply" and "no GpuAffinity field" in result.detail and "Monitor" in result.detail
    assert farm.fake.requests_to("PUT", "/api/slaves") == []


def test_an_unreported_concurrency_is_not_assumed(farm: Farm) -> None:
    del farm.fake.workers["gpu-quad"]["Settings"]["Conc"]
    quad = next(w for w in read_workers(farm.client) if w.name == "gpu-quad")
    assert quad.concurrent_tasks is None
    assert not [c for c in plan(farm).changes if c.kind == "gpu_per_task"]


def test_a_service_that_stops_answering_leaves_the_rest_not_sent(farm: Farm) -> None:
    changes = plan(farm).changes
    farm.fake.drop_next(count=2, method="PUT", path="/api/groups")  # the first try and the client's one retry
    results = apply_plan(farm.client, changes)
    assert [r.outcome for r in results] == ["applied", "refused", "not sent", "not sent", "not sent"]
    assert "does not answer" in results[1].detail and "does not answer" in results[2].detail
    assert farm.fake.workers["gpu-a02"]["Settings"]["Pools"] == ["comp", "roto"]
    assert farm.fake.workers["gpu-a01"]["Settings"]["Pools"] == ["comp"]
