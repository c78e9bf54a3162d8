"""A test Deadline worker: takes tasks from the fake Web Service and runs them through the AIRoto plugin.

It does what a Deadline worker does with a task: reads the job's plugin info and environment, its own GPU affinity
and concurrent-task thread, runs the plugin (stand-in API), reports progress, and marks the task completed or
errored with the plugin's FailRender message. A Simple plugin runs one process per task; an Advanced one stays
loaded while the worker keeps taking tasks of the same job, and is ended and reloaded when it moves to another
job, after a failed task, and when the worker goes idle.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field

from tests.farm.deadline_plugin_api import TaskContext
from tests.farm.deadline_plugin_runner import AdvancedJob, TaskResult, load_airoto, run_simple_task, uses_advanced
from tests.farm.fake_deadline import FakeDeadline, parse_frames


@dataclass
class FarmWorker:
    fake: FakeDeadline
    name: str
    plugin_config: dict[str, str]
    thread: int = 0
    results: list[TaskResult] = field(default_factory=list)
    module: types.ModuleType = field(default_factory=load_airoto)
    loaded: AdvancedJob | None = None
    unloaded: list[AdvancedJob] = field(default_factory=list)

    def run_one(self) -> TaskResult | None:
        picked = self.fake.dequeue(self.name)
        if picked is None:
            self.unload()
            return None
        job, task = picked
        frames = parse_frames(task["Frames"])
        settings = self.fake.workers[self.name]["Settings"]
        ctx = TaskContext(
            job_id=job["_id"],
            start=frames[0],
            end=frames[-1],
            plugin_info={k: str(v) for k, v in job["Props"]["PlugInfo"].items()},
            plugin_config=dict(self.plugin_config),
            job_environment=dict(job["Props"]["Env"]),
            thread=self.thread,
            override_gpu_affinity=bool(settings["OverrideGpuAffinity"]),
            gpu_affinity=list(settings["GpuAffinity"]),
        )
        if uses_advanced(self.module, ctx):
            if self.loaded is not None and self.loaded.job_id != ctx.job_id:
                self.unload()
            if self.loaded is None:
                self.loaded = AdvancedJob(self.module, ctx)
            result = self.loaded.render(ctx)
            if not result.ok:
                self.unload()
        else:
            self.unload()
            result = run_simple_task(self.module, ctx)
        for percent in result.plugin.progress:
            self.fake.report_progress(job["_id"], task["TaskID"], percent)
        self.fake.finish_task(
            job["_id"], task["TaskID"], ok=result.ok, error=result.error, log="\n".join(result.output)
        )
        self.results.append(result)
        return result

    def unload(self) -> None:
        if self.loaded is not None:
            self.loaded.close()
            self.unloaded.append(self.loaded)
            self.loaded = None

    def run_until_idle(self, limit: int = 1000) -> list[TaskResult]:
        done = []
        for _ in range(limit):
            result = self.run_one()
            if result is None:
                break
            done.append(result)
        return done
