"""``--farm local``: run a JobPlan on this machine with openjd-sessions, the Open Job Description runtime.

Each shot is one OpenJD job made from the same template as the bundles (:mod:`submitters.openjd_backend`) and runs
in its own session: the Roto step's chunks in order (the plan's chunk boundaries, the same as Deadline's), then
Finalize, then Publish, each only after the previous one succeeded. Shots run one after another or in a small pool.
Task output goes through the session log; ``Progress: NN%`` and ``error: ...`` lines are read from it.

Ctrl-C (KeyboardInterrupt in the main thread) stops the batch within a few seconds: every running action is
cancelled, every process the sessions started is ended (:mod:`submitters.process_tree`; the background
``rotofarm worker`` included), environments are not left gracefully (that would wait for the chunk to finish), and
the temporaries of killed writers are removed, so the job folders hold only finished files.
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from openjd.model import (
    ParameterValue,
    ParameterValueType,
    RevisionExtensions,
    SpecificationRevision,
    Step,
    create_job_with_symbol_tables,
    decode_job_template,
    preprocess_job_parameters,
)
from openjd.sessions import LOG, ActionState, ActionStatus, Session

from roto_core.errors import ConfigError
from submitters.openjd_backend import EXTENSIONS, job_template, parameter_values
from submitters.plan import JobPlan, ShotPlan
from submitters.process_tree import adopt_orphans, end_descendants, end_pids_in, remove_temp_files

PROGRESS = re.compile(r"Progress: (\d+(?:\.\d+)?)%")
ERROR = re.compile(r"^error: (.*)$")


class Reporter(Protocol):
    """What the local farm tells whoever displays it (the CLI's rich progress, or a test)."""

    def shot_started(self, shot: str, total: int) -> None: ...
    def task_started(self, shot: str, label: str) -> None: ...
    def task_progress(self, shot: str, percent: float) -> None: ...
    def task_done(self, shot: str) -> None: ...
    def shot_finished(self, shot: str, ok: bool, message: str) -> None: ...


@dataclass
class ShotOutcome:
    shot: str
    ok: bool
    tasks_run: int
    seconds: float
    failed_task: str = ""
    error: str = ""


class _SessionLog(logging.Handler):
    """Reads one session's task output from openjd-sessions' log."""

    def __init__(self, session_id: str, on_progress: Callable[[float], None]) -> None:
        super().__init__(logging.INFO)
        self.session_id = session_id
        self.on_progress = on_progress
        self.last_error = ""

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "session_id", None) != self.session_id:
            return
        line = record.getMessage().strip()
        if m := PROGRESS.search(line):
            self.on_progress(float(m.group(1)))
        elif m := ERROR.match(line):
            self.last_error = m.group(1)


def _ordered_steps(steps: list[Step]) -> list[Step]:
    """Steps in an order that honours their dependencies."""
    done: list[Step] = []
    names: set[str] = set()
    pending = list(steps)
    while pending:
        ready = [s for s in pending if all(d.dependsOn in names for d in (s.dependencies or []))]
        if not ready:
            raise ValueError("the job template has a dependency cycle")
        for s in ready:
            done.append(s)
            names.add(s.name)
            pending.remove(s)
    return done


class _Stopped(Exception):
    """The batch was interrupted: a shot's thread stops before starting anything else."""


class _ShotRun:
    def __init__(
        self,
        plan: JobPlan,
        shot: ShotPlan,
        rotofarm: str,
        device: str,
        reporter: Reporter | None,
        stop: threading.Event,
    ) -> None:
        self.plan, self.shot, self.reporter, self.stop = plan, shot, reporter, stop
        self.values = {k: str(v) for k, v in parameter_values(plan, shot, rotofarm, device).items()}
        self._done = threading.Event()
        self._status: ActionStatus | None = None

    def _callback(self, session_id: str, status: ActionStatus) -> None:
        if status.state != ActionState.RUNNING:
            self._status = status
            self._done.set()

    def run(self) -> ShotOutcome:
        started = time.monotonic()
        template = decode_job_template(template=job_template(self.plan.create_folders), supported_extensions=EXTENSIONS)
        params = preprocess_job_parameters(
            job_template=template,
            job_parameter_values=self.values,
            job_template_dir=Path(self.shot.job_folder),
            current_working_dir=Path.cwd(),
        )
        created = create_job_with_symbol_tables(job_template=template, job_parameter_values=params)
        steps = _ordered_steps(list(created.job.steps))
        total = sum(len(self._tasks(step)) for step in steps)
        report = self.reporter
        if report:
            report.shot_started(self.shot.shot, total)
        session_id = f"{self.shot.shot}-{self.shot.job_id}"
        log = _SessionLog(session_id, lambda pct: report.task_progress(self.shot.shot, pct) if report else None)
        LOG.addHandler(log)
        try:
            with Session(
                session_id=session_id,
                job_parameter_values=params,
                job_name=str(created.job.name),
                callback=self._callback,
                revision_extensions=RevisionExtensions(
                    spec_rev=SpecificationRevision.v2023_09, supported_extensions=EXTENSIONS
                ),
            ) as session:
                try:
                    outcome = self._run_steps(session, steps, created.step_symbol_tables, log, started)
                except BaseException:
                    self._abort(session)
                    raise
                if outcome is not None:
                    return outcome
        finally:
            LOG.removeHandler(log)
        if report:
            report.shot_finished(self.shot.shot, True, "published")
        return ShotOutcome(self.shot.shot, True, total, time.monotonic() - started)

    def _abort(self, session: Session) -> None:
        """Interrupted: cancel the running action and end every process the session started, now."""
        self.stop.set()
        with contextlib.suppress(RuntimeError):  # raised when no action is running
            session.cancel_action(time_limit=timedelta(0))
        end_pids_in(session.working_directory / "rotofarm-worker")
        end_descendants()

    def _run_steps(
        self, session: Session, steps: list[Step], symtabs: dict[str, Any], log: _SessionLog, started: float
    ) -> ShotOutcome | None:
        """Each step in order; the failed shot's outcome, or None when every step succeeded."""
        ran = 0
        for step in steps:
            done, failure = self._run_step(session, step, symtabs, log)
            ran += done
            if failure is not None:
                label, error = failure
                if self.reporter:
                    self.reporter.shot_finished(self.shot.shot, False, f"{label}: {error}")
                return ShotOutcome(self.shot.shot, False, ran, time.monotonic() - started, label, error)
        return None

    def _tasks(self, step: Step) -> list[tuple[str, dict[str, ParameterValue]]]:
        """The plan's own chunks for the Roto step (the boundaries Deadline would make), one task otherwise."""
        if step.name != "Roto":
            return [(step.name, {})]
        return [
            (f"Roto {c.frames}", {"Frames": ParameterValue(type=ParameterValueType.CHUNK_INT, value=c.frames)})
            for c in self.shot.roto.chunks()
        ]

    def _run_step(
        self, session: Session, step: Step, symtabs: dict[str, Any], log: _SessionLog
    ) -> tuple[int, tuple[str, str] | None]:
        """Enter the step's environments, run its tasks in order, leave the environments (also after a failure).
        Returns how many tasks ran and, for the first failure, (what failed, why)."""
        entered: list[str] = []
        ran = 0
        graceful = False
        try:
            for env in step.stepEnvironments or []:
                identifier = f"{step.name}/{env.name}"
                entered.append(identifier)
                status = self._wait(
                    session,
                    lambda env=env, identifier=identifier: session.enter_environment(
                        environment=env,
                        identifier=identifier,
                        step_name=step.name,
                        resolved_symtab=symtabs.get(step.name),
                    ),
                )
                if status.state != ActionState.SUCCESS:
                    graceful = True
                    return ran, (f"{step.name} environment {env.name}", self._error(log))
            for label, task_params in self._tasks(step):
                if self.reporter:
                    self.reporter.task_started(self.shot.shot, label)
                status = self._run_task(session, step, task_params, symtabs)
                ran += 1
                if status.state != ActionState.SUCCESS:
                    graceful = True
                    return ran, (label, self._error(log))
                if self.reporter:
                    self.reporter.task_done(self.shot.shot)
            graceful = True
            return ran, None
        finally:
            # After an interrupt, leaving an environment gracefully would wait for the worker to finish its chunk.
            for identifier in reversed(entered) if graceful else []:
                self._wait(
                    session,
                    lambda identifier=identifier: session.exit_environment(
                        identifier=identifier, keep_session_running=True, resolved_symtab=symtabs.get(step.name)
                    ),
                )

    def _error(self, log: _SessionLog) -> str:
        status = self._status
        assert status is not None
        return log.last_error or status.fail_message or f"exit code {status.exit_code}"

    def _wait(self, session: Session, start: Callable[[], object]) -> ActionStatus:
        """Start one action and wait for its end; an interrupted batch starts nothing and cancels what runs."""
        if self.stop.is_set():
            raise _Stopped(self.shot.shot)
        self._done.clear()
        self._status = None
        start()
        while not self._done.wait(0.2):
            if self.stop.is_set():
                raise _Stopped(self.shot.shot)
        assert self._status is not None
        return self._status

    def _run_task(
        self, session: Session, step: Step, task_params: dict[str, ParameterValue], symtabs: dict[str, Any]
    ) -> ActionStatus:
        return self._wait(
            session,
            lambda: session.run_task(
                step_script=step.script,
                task_parameter_values=task_params,
                step_name=step.name,
                resolved_symtab=symtabs.get(step.name),
            ),
        )


def resolve_executable(name: str) -> str:
    """The rotofarm to run: ``name`` on PATH or as a path, else the one installed beside this Python (the same
    virtualenv, which need not be activated)."""
    found = shutil.which(name)
    if found:
        return found
    sibling = Path(sys.executable).parent / Path(name).name
    if sibling.is_file():
        return str(sibling)
    raise ConfigError(
        f"executable {name!r} is neither on PATH nor beside {sys.executable}",
        where="farm.yaml: executable",
        hint="set executable to the full path of rotofarm",
    )


def run_plan_locally(
    plan: JobPlan,
    *,
    rotofarm: str,
    device: str = "cpu",
    max_parallel_shots: int = 1,
    reporter: Reporter | None = None,
) -> list[ShotOutcome]:
    """Run every shot of ``plan``; a failed shot stops only itself. Outcomes come back in plan order.

    On KeyboardInterrupt every shot stops, every process started is ended, the temporaries of killed writers are
    removed from the job folders, and the KeyboardInterrupt goes on to the caller."""
    exe = resolve_executable(rotofarm)
    adopt_orphans()
    stop = threading.Event()
    runs = [_ShotRun(plan, shot, exe, device, reporter, stop) for shot in plan.shots]
    pool = ThreadPoolExecutor(max_workers=max(1, min(max_parallel_shots, len(runs))))
    try:
        futures = [pool.submit(r.run) for r in runs]
        return [f.result() for f in futures]
    except BaseException:
        stop.set()
        end_descendants()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if stop.is_set():
            end_descendants()
            for shot in plan.shots:
                remove_temp_files(Path(shot.job_folder))
