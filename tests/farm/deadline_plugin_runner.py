"""Loading and running AIRoto through the plugin API stand-in (:mod:`tests.farm.deadline_plugin_api`), as a Deadline
10.3 worker does.

Kept apart from the API itself: that module is what the plugin sees (its classes and callbacks), this one is what
the worker does with the plugin file — checks its first line (Python 3 only with ``#!/usr/bin/env python3``),
installs ``Deadline.Plugins``, ``Deadline.Scripting`` and ``FranticX.Processes``, imports the file, and runs a Simple
plugin's task or an Advanced plugin's job (StartJob once, RenderTasks per task, EndJob, Cleanup). The evidence for
each step is in :mod:`tests.farm.deadline_plugin_api`'s docstring.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import types
from dataclasses import dataclass
from pathlib import Path

from tests.farm.deadline_plugin_api import (
    PLUGIN_DIR,
    PYTHON3_SHEBANG,
    WORKER_OS,
    DeadlinePlugin,
    ManagedProcess,
    PluginLoadError,
    PluginType,
    RenderFailure,
    TaskContext,
    split_command_line,
)


def search_file_list(candidates: str) -> str:
    for path in (p.strip() for p in candidates.split(";")):
        if path and Path(path).is_file():
            return path
    return ""


def _install_deadline_modules() -> None:
    """``Deadline.Plugins``, ``Deadline.Scripting`` and ``FranticX.Processes``, laid out as in Deadline 10.3."""
    deadline = types.ModuleType("Deadline")
    plugins = types.ModuleType("Deadline.Plugins")
    scripting = types.ModuleType("Deadline.Scripting")
    frantic = types.ModuleType("FranticX")
    processes = types.ModuleType("FranticX.Processes")
    plugins.DeadlinePlugin = DeadlinePlugin
    plugins.PluginType = PluginType
    processes.ManagedProcess = ManagedProcess
    scripting.FileUtils = types.SimpleNamespace(SearchFileList=search_file_list)
    scripting.RepositoryUtils = types.SimpleNamespace(CheckPathMapping=lambda path: path)
    scripting.SystemUtils = types.SimpleNamespace(IsRunningOnWindows=lambda: WORKER_OS["windows"])
    deadline.Plugins, deadline.Scripting, frantic.Processes = plugins, scripting, processes
    sys.modules.update(
        {
            "Deadline": deadline,
            "Deadline.Plugins": plugins,
            "Deadline.Scripting": scripting,
            "FranticX": frantic,
            "FranticX.Processes": processes,
        }
    )


def check_python3_shebang(path: Path) -> None:
    """Refuse a plugin file whose first line is not ``#!/usr/bin/env python3``: an upgraded repository would run it
    under Python 2."""
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    if not PYTHON3_SHEBANG.fullmatch(first):
        raise PluginLoadError(
            f"{path.name}: first line is {first[:60]!r}, not '#!/usr/bin/env python3'; a repository upgraded from "
            "Deadline 10.1/10.2 runs this file in Python 2"
        )


def load_airoto(path: Path | None = None) -> types.ModuleType:
    """Import farm_plugin/AIRoto/AIRoto.py the way Deadline 10.3 does: as a file, in Python 3 only when its first
    line asks for it, with its API modules present."""
    path = path or PLUGIN_DIR / "AIRoto.py"
    check_python3_shebang(path)
    _install_deadline_modules()
    spec = importlib.util.spec_from_file_location("AIRoto", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class TaskResult:
    ok: bool
    error: str
    exit_code: int | None
    argv: list[str]
    plugin: DeadlinePlugin
    output: list[str]
    leaked: list[str]


def run_simple_task(module: types.ModuleType, ctx: TaskContext, timeout: float = 600) -> TaskResult:
    """Run one task of a Simple plugin as a Deadline worker does, then clean the plugin up."""
    plugin = module.GetDeadlinePlugin()
    plugin.bind(ctx)
    argv: list[str] = []
    output: list[str] = []
    exit_code: int | None = None
    error = ""
    try:
        plugin.callback("InitializeProcessCallback")()
        plugin.callback("PreRenderTasksCallback")()
        executable = plugin.callback("RenderExecutableCallback")()
        argv = [executable, *split_command_line(plugin.callback("RenderArgumentCallback")(), ctx.windows)]
        env = {**os.environ, **ctx.job_environment, **plugin.process_env}
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            output.append(line)
            plugin.handle_line(line)
        exit_code = proc.wait(timeout=timeout)
        if plugin.callback("CheckExitCodeCallback").handlers:
            plugin.callback("CheckExitCodeCallback")(exit_code)
        elif exit_code != 0:
            raise RenderFailure(f"Error: Renderer returned non-zero error code, {exit_code}")
        plugin.callback("PostRenderTasksCallback")()
    except RenderFailure as exc:
        error = str(exc)
    finally:
        module.CleanupDeadlinePlugin(plugin)
    return TaskResult(not error, error, exit_code, argv, plugin, output, plugin.leaked_callbacks())


class AdvancedJob:
    """An Advanced plugin loaded for one job on one worker thread: StartJob, then RenderTasks per task, then
    EndJob and Cleanup when the worker leaves the job (or after a failed task, when Deadline reloads it)."""

    def __init__(self, module: types.ModuleType, ctx: TaskContext) -> None:
        self.module = module
        self.job_id = ctx.job_id
        self.plugin = module.GetDeadlinePlugin()
        self.plugin.bind(ctx)
        self.plugin.callback("InitializeProcessCallback")()
        assert self.plugin.PluginType == PluginType.Advanced
        self.started = False
        self.leaked: list[str] = []
        self.processes_left: list[str] = []

    def render(self, ctx: TaskContext) -> TaskResult:
        self.plugin.next_task(ctx)
        error = ""
        try:
            if not self.started:
                self.started = True
                self.plugin.callback("StartJobCallback")()
            self.plugin.callback("RenderTasksCallback")()
        except RenderFailure as exc:
            error = str(exc)
        argv = next((mon.argv for _, mon in self.plugin._monitored.values()), [])
        return TaskResult(not error, error, None, argv, self.plugin, list(self.plugin.output), [])

    def close(self) -> None:
        try:
            if self.started:
                self.plugin.callback("EndJobCallback")()
        finally:
            self.processes_left = self.plugin.running_processes()
            for name in list(self.plugin._monitored):
                self.plugin.ShutdownMonitoredManagedProcess(name)
            self.module.CleanupDeadlinePlugin(self.plugin)
            self.leaked = self.plugin.leaked_callbacks()


def uses_advanced(module: types.ModuleType, ctx: TaskContext) -> bool:
    """Whether the plugin would load as Advanced for this job (it decides in InitializeProcess)."""
    probe = module.GetDeadlinePlugin()
    probe.bind(ctx)
    probe.callback("InitializeProcessCallback")()
    advanced = probe.PluginType == PluginType.Advanced
    module.CleanupDeadlinePlugin(probe)
    return advanced
