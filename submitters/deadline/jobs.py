"""A JobPlan as Deadline 10 jobs of the AIRoto plugin, and their submission.

Per shot: the GPU roto job (one task per chunk) and the CPU finalize+publish job that depends on it. The JobInfo
carries only what Monitor users may read: the AYON *context* (project, folder, task) goes into the job environment,
never a key or password; the AYON key is added on the worker from the AIRoto plugin configuration.
"""

from __future__ import annotations

import getpass
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from roto_core.errors import ConfigError
from submitters.deadline.client import (
    DeadlineBadReply,
    DeadlineClient,
    DeadlineError,
    DeadlineServerError,
    DeadlineUncertain,
    DeadlineUnreachable,
    JobRequest,
    is_job_id,
    job_id_time,
)
from submitters.farm_config import FarmConfig, JobSettings
from submitters.plan import FarmJob, JobPlan, ShotPlan, write_unsynced

log = logging.getLogger(__name__)

PLUGIN = "AIRoto"
DEPENDENCY_PLACEHOLDER = "<id of {shot}/1_roto>"
CLOCK_SKEW_S = 600  # how far the Web Service's clock may be behind ours when looking for jobs made by a batch
LOOKUP_CHUNK = 100  # job ids per GET /api/jobs?JobID=... while looking


def _bool(value: bool) -> str:
    return "True" if value else "False"


def _settings_info(job: FarmJob, s: JobSettings) -> dict[str, str]:
    info = {
        "Frames": f"{job.first_frame}-{job.last_frame}",
        "ChunkSize": str(job.chunk_size),
        "Priority": str(s.priority),
        "Pool": s.pool,
        "Group": s.group,
        "Sequential": _bool(job.sequential),
        "MachineLimit": str(1 if job.sequential else s.machine_limit),
        "ConcurrentTasks": str(s.concurrent_tasks),
        "OnTaskTimeout": s.on_task_timeout,
    }
    if s.secondary_pool:
        info["SecondaryPool"] = s.secondary_pool
    if s.limit_groups:
        info["LimitGroups"] = ",".join(s.limit_groups)
    if s.whitelist:
        info["Whitelist"] = ",".join(s.whitelist)
    if s.blacklist:
        info["Blacklist"] = ",".join(s.blacklist)
    if s.task_timeout_minutes:
        info["TaskTimeoutMinutes"] = str(s.task_timeout_minutes)
    if s.task_failure_errors:
        info["OverrideTaskFailureDetection"] = "True"
        info["FailureDetectionTaskErrors"] = str(s.task_failure_errors)
    return info


def job_requests(plan: JobPlan, shot: ShotPlan, config: FarmConfig) -> tuple[JobRequest, JobRequest]:
    """The two requests of one shot; the finalize job's ``JobDependencies`` is filled in at submission."""
    common = {
        "Plugin": PLUGIN,
        "BatchName": plan.batch_name,
        "UserName": config.user or getpass.getuser(),
        "Department": config.department,
        "Comment": config.comment,
        "EnvironmentKeyValue0": f"AYON_PROJECT_NAME={plan.project}",
        "EnvironmentKeyValue1": f"AYON_FOLDER_PATH={shot.folder_path}",
        "EnvironmentKeyValue2": f"AYON_TASK_NAME={config.task_name}",
        "ExtraInfoKeyValue0": f"rotofarm_shot={shot.shot}",
        "ExtraInfoKeyValue1": f"rotofarm_job_folder={shot.job_folder}",
        "ExtraInfoKeyValue2": f"rotofarm_job_id={shot.job_id}",
    }
    roto_info = {
        **common,
        "Name": f"{plan.project} {shot.roto.name}",
        **_settings_info(shot.roto, shot.roto.settings),
        "OutputDirectory0": shot.masks_dir,
        "OutputFilename0": shot.mask_filename,
    }
    roto_plugin = {
        "Mode": "roto",
        "Manifest": shot.manifest_path,
        "Device": shot.roto.settings.device,
        "GPUsPerTask": str(shot.roto.settings.gpus_per_task),
        "GPUsSelectDevices": "",
        "PersistentWorker": str(shot.roto.settings.persistent_worker),
    }
    fin_info = {
        **common,
        "Name": f"{plan.project} {shot.finalize.name}",
        **_settings_info(shot.finalize, shot.finalize.settings),
        "JobDependencies": DEPENDENCY_PLACEHOLDER.format(shot=shot.shot),
    }
    fin_plugin = {
        "Mode": "finalize",
        "Manifest": shot.manifest_path,
        "Steps": "finalize,publish",
        "Tracker": plan.tracker,
        "CreateFolders": str(plan.create_folders),
        "Device": "cpu",
        "GPUsPerTask": "0",
        "GPUsSelectDevices": "",
    }
    return JobRequest(roto_info, roto_plugin), JobRequest(fin_info, fin_plugin)


def write_dry_run(plan: JobPlan, config: FarmConfig, out_dir: str | Path) -> list[Path]:
    """Write each request body to ``DIR/<shot>/<n>_<kind>.json``; nothing touches the network.

    The finalize body's ``JobDependencies`` holds a placeholder (``<id of SHOT/1_roto>``): the real id exists only
    once the roto job is submitted, and :func:`submit_plan` puts it there."""
    written = []
    for shot in plan.shots:
        for n, (kind, req) in enumerate(zip(("roto", "finalize"), job_requests(plan, shot, config), strict=True), 1):
            path = Path(out_dir) / shot.shot / f"{n}_{kind}.json"
            written.append(write_unsynced(path, json.dumps(req.body(id_only=True), indent=2) + "\n"))
    return written


def used_names(settings: Iterable[JobSettings]) -> dict[str, set[str]]:
    used: dict[str, set[str]] = {"pool": set(), "group": set(), "limit": set()}
    for s in settings:
        used["pool"].update(p for p in (s.pool, s.secondary_pool) if p)
        used["group"].add(s.group)
        used["limit"].update(s.limit_groups)
    return used


def plan_settings(plan: JobPlan) -> list[JobSettings]:
    return [job.settings for shot in plan.shots for job in shot.jobs]


def validate_names(client: DeadlineClient, settings: Iterable[JobSettings]) -> None:
    """Refuse, before anything is submitted, pools/groups/limits the repository does not have."""
    used = used_names(settings)
    known = {
        "pool": set(client.pool_names()) | {"none"},
        "group": set(client.group_names()) | {"none"},
        "limit": set(client.limit_names()),
    }
    problems = []
    for kind, names in used.items():
        unknown = sorted(n for n in names if n not in known[kind] and n.lower() not in known[kind])
        if unknown:
            valid = ", ".join(sorted(known[kind])) or "(none defined)"
            problems.append(f"unknown {kind}{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} (valid: {valid})")
    if problems:
        raise ConfigError("; ".join(problems), where=client.url, hint="fix roto_job/finalize_job in farm.yaml")


@dataclass
class SubmitResult:
    job_ids: list[dict[str, str]]


def submit_plan(
    client: DeadlineClient,
    plan: JobPlan,
    config: FarmConfig,
    *,
    validate: bool = True,
    progress: Callable[[int], None] | None = None,
) -> SubmitResult:
    """Submit every shot's two jobs; all or nothing: a failure deletes what this batch already submitted."""
    if validate:
        validate_names(client, plan_settings(plan))
    started = time.time()
    submitted: list[str] = []
    ids: list[dict[str, str]] = []
    try:
        for shot in plan.shots:
            roto, finalize = job_requests(plan, shot, config)
            roto_id = client.submit_job(roto)
            submitted.append(roto_id)
            finalize.job_info["JobDependencies"] = roto_id
            fin_id = client.submit_job(finalize)
            submitted.append(fin_id)
            ids.append({"roto": roto_id, "finalize": fin_id})
            if progress is not None:
                progress(1)
    except DeadlineError as exc:
        found, note = [], ""
        if isinstance(exc, DeadlineUncertain | DeadlineServerError | DeadlineBadReply):  # it may have made a job
            found, note = _created_unknowingly(client, plan, submitted, started)
        submitted += found
        left = _rollback(client, submitted)
        note = f"batch rolled back: deleted {len(submitted) - len(left)} of {len(submitted)} submitted jobs{note}"
        if left:
            note += f"; could not delete {', '.join(left)} (delete them in Monitor)"
        exc.message = f"{exc.message}; {note}"
        exc.args = (exc.format(),)
        raise
    return SubmitResult(job_ids=ids)


def _created_unknowingly(
    client: DeadlineClient, plan: JobPlan, known: list[str], since: float
) -> tuple[list[str], str]:
    """Jobs of this batch the service created without our hearing of it (an answer lost on the way back).

    The Web Service filters jobs only by id and state, so this lists the ids alone (``IdOnly``), keeps those created
    since the batch started (an ObjectId starts with its creation time; :data:`CLOCK_SKEW_S` allows for the
    server's clock), reads just those, and takes the ones carrying this batch's name and a rotofarm job id of it.
    """
    ours = {shot.job_id for shot in plan.shots}
    try:
        recent = [
            i for i in client.job_ids() if is_job_id(i) and i not in known and job_id_time(i) >= since - CLOCK_SKEW_S
        ]
        jobs = [j for n in range(0, len(recent), LOOKUP_CHUNK) for j in client.get_jobs(recent[n : n + LOOKUP_CHUNK])]
    except DeadlineError:
        return [], " (could not list the queue to look for jobs whose answer was lost)"
    found = []
    for job in jobs:
        props = job.get("Props") if isinstance(job.get("Props"), dict) else {}
        extra = props.get("ExDic") if isinstance(props.get("ExDic"), dict) else {}
        if props.get("Batch") == plan.batch_name and extra.get("rotofarm_job_id") in ours and is_job_id(job["_id"]):
            found.append(job["_id"])
    return found, ""


def _rollback(client: DeadlineClient, job_ids: list[str]) -> list[str]:
    """Delete ``job_ids``; returns those left. Once the service stops answering, the rest is not tried."""
    pending = list(reversed(job_ids))
    left = []
    while pending:
        job_id = pending.pop(0)
        try:
            client.delete_job(job_id)
        except DeadlineUnreachable as exc:
            log.error("the Web Service stopped answering while rolling back: %s", exc)
            return [*left, job_id, *pending]
        except DeadlineError as exc:
            log.error("could not delete job %s while rolling back: %s", job_id, exc)
            left.append(job_id)
    return left


def client_from_config(config: FarmConfig) -> DeadlineClient:
    d = config.deadline
    return DeadlineClient(
        d.url,
        user=d.user,
        password=d.password(),
        verify=d.tls_verify(),
        timeout=(d.connect_timeout_s, d.read_timeout_s),
        retries=d.retries,
        backoff_s=d.backoff_s,
    )
