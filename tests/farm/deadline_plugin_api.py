"""A stand-in for the part of Deadline's plugin API that AIRoto uses, behaving like the real one.

What it keeps from Deadline (Thinkbox's plugin scripting reference and its shipped Simple plugins):
- callbacks are events: ``self.XCallback += f`` registers, ``del self.XCallback`` unregisters, and a plugin must
  delete every callback it registered in ``Cleanup()`` (:meth:`DeadlinePlugin.leaked_callbacks` reports any left);
- ``AddStdoutHandlerCallback(regex)`` returns a handler whose ``HandleCallback`` runs for each output line the regex
  matches (searched anywhere in the line); ``GetRegexMatch(n)`` reads the current match;
- ``FailRender(message)`` raises: the task stops there and errors with that message;
- a Simple plugin's task: InitializeProcess, RenderExecutable, RenderArgument (a command-line string, split the way
  Deadline splits it), the process runs with the job's environment plus what the plugin set, stdout and stderr lines
  go through the handlers, then CheckExitCode (default: a non-zero exit fails the task);
- an Advanced plugin stays loaded for the tasks of one job on one worker thread: StartJob once, RenderTasks per
  task, EndJob, then Cleanup. Its monitored managed process (``StartMonitoredManagedProcess``) keeps running
  between tasks; the plugin writes to its stdin, ``FlushMonitoredManagedProcessStdout`` runs the process's stdout
  handlers on the lines it printed so far, ``VerifyMonitoredManagedProcess`` fails the task if it has exited;
- ``GetPluginInfoEntry`` raises on a missing key, ``...WithDefault`` does not; ``FileUtils.SearchFileList`` returns
  the first existing path of a ``;``-separated list, or "".
"""

from __future__ import annotations

import importlib.util
import os
import queue
import re
import shlex
import subprocess
import sys
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "farm_plugin" / "AIRoto"


class RenderFailure(Exception):
    """What FailRender raises inside Deadline: the task errors with this message."""


class _Event:
    def __init__(self) -> None:
        self.handlers: list[Callable[..., Any]] = []

    def __iadd__(self, handler: Callable[..., Any]) -> _Event:
        self.handlers.append(handler)
        return self

    def __call__(self, *args: Any) -> Any:
        result = None
        for handler in self.handlers:
            result = handler(*args)
        return result


class _EventSlot:
    """A class attribute that gives each instance its own event, deletable like Deadline's .NET events."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = f"_event_{name}"

    def __get__(self, obj: Any, owner: type | None = None) -> _Event:
        if obj is None:
            return self  # type: ignore[return-value]
        events = obj.__dict__.setdefault("_events", {})
        if self.key not in events:
            events[self.key] = _Event()
        return events[self.key]

    def __set__(self, obj: Any, value: _Event) -> None:
        obj.__dict__.setdefault("_events", {})[self.key] = value

    def __delete__(self, obj: Any) -> None:
        obj.__dict__.setdefault("_events", {})[self.key] = _Event()
        obj.__dict__.setdefault("_deleted", set()).add(self.key)


class PluginType:
    Simple = "Simple"
    Advanced = "Advanced"


class StdoutHandler:
    HandleCallback = _EventSlot()

    def __init__(self, regex: str) -> None:
        self.regex = re.compile(regex)


class _HandlesStdout:
    """What Deadline's plugins and managed processes share: stdout handlers and the current regex match."""

    def AddStdoutHandlerCallback(self, regex: str) -> StdoutHandler:
        handler = StdoutHandler(regex)
        self.StdoutHandlers.append(handler)
        return handler

    @property
    def StdoutHandlers(self) -> list[StdoutHandler]:
        return self.__dict__.setdefault("_stdout_handlers", [])

    def GetRegexMatch(self, index: int) -> str:
        match = self.__dict__.get("_match")
        assert match is not None, "GetRegexMatch outside a stdout handler"
        return match.group(index)

    def handle_line(self, line: str) -> None:
        for handler in list(self.StdoutHandlers):
            match = handler.regex.search(line)
            if match:
                self.__dict__["_match"] = match
                handler.HandleCallback()


class ManagedProcess(_HandlesStdout):
    InitializeProcessCallback = _EventSlot()
    RenderExecutableCallback = _EventSlot()
    RenderArgumentCallback = _EventSlot()

    def leaked_callbacks(self) -> list[str]:
        return _leaked(self)


def _leaked(obj: Any) -> list[str]:
    deleted = obj.__dict__.get("_deleted", set())
    left = [k for k, ev in obj.__dict__.get("_events", {}).items() if ev.handlers and k not in deleted]
    for i, h in enumerate(obj.StdoutHandlers):
        if h.__dict__.get("_events", {}).get("_event_HandleCallback", _Event()).handlers:
            left.append(f"StdoutHandlers[{i}]")
    return left


class _Monitored:
    """A monitored managed process: the subprocess, and a thread that queues what it prints."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.argv = argv
        self.proc = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))


@dataclass
class Job:
    JobId: str
    environment: dict[str, str] = field(default_factory=dict)

    def GetJobEnvironmentKeyValue(self, key: str) -> str:
        return self.environment.get(key, "")


@dataclass
class TaskContext:
    """What a worker knows when it starts a task."""

    job_id: str
    start: int
    end: int
    plugin_info: dict[str, str]
    plugin_config: dict[str, str]
    job_environment: dict[str, str] = field(default_factory=dict)
    thread: int = 0
    override_gpu_affinity: bool = False
    gpu_affinity: list[int] = field(default_factory=list)


class DeadlinePlugin(_HandlesStdout):
    StartJobCallback = _EventSlot()
    RenderTasksCallback = _EventSlot()
    EndJobCallback = _EventSlot()
    InitializeProcessCallback = _EventSlot()
    RenderExecutableCallback = _EventSlot()
    RenderArgumentCallback = _EventSlot()
    StartupDirectoryCallback = _EventSlot()
    PreRenderTasksCallback = _EventSlot()
    PostRenderTasksCallback = _EventSlot()
    CheckExitCodeCallback = _EventSlot()

    def bind(self, ctx: TaskContext) -> None:
        self._ctx = ctx
        self.process_env: dict[str, str] = {}
        self.log: list[str] = []
        self.progress: list[float] = []
        self.status: list[str] = []
        self.output: list[str] = []
        self._monitored: dict[str, tuple[ManagedProcess, _Monitored]] = {}

    def next_task(self, ctx: TaskContext) -> None:
        """The same loaded plugin takes the next task of its job."""
        self._ctx = ctx
        self.progress, self.output = [], []

    # -- what the plugin reads -------------------------------------------------------------------------------------
    def GetPluginInfoEntry(self, key: str) -> str:
        if key not in self._ctx.plugin_info:
            raise RenderFailure(f"PluginInfo entry {key!r} is missing")
        return self._ctx.plugin_info[key]

    def GetPluginInfoEntryWithDefault(self, key: str, default: str) -> str:
        return self._ctx.plugin_info.get(key, default)

    def GetConfigEntry(self, key: str) -> str:
        if key not in self._ctx.plugin_config:
            raise RenderFailure(f"plugin config entry {key!r} is missing")
        return self._ctx.plugin_config[key]

    def GetConfigEntryWithDefault(self, key: str, default: str) -> str:
        return self._ctx.plugin_config.get(key, default)

    def GetStartFrame(self) -> int:
        return self._ctx.start

    def GetEndFrame(self) -> int:
        return self._ctx.end

    def GetThreadNumber(self) -> int:
        return self._ctx.thread

    def GetJob(self) -> Job:
        return Job(self._ctx.job_id, dict(self._ctx.job_environment))

    def OverrideGpuAffinity(self) -> bool:
        return self._ctx.override_gpu_affinity

    def GpuAffinity(self) -> list[int]:
        return list(self._ctx.gpu_affinity)

    def IsCanceled(self) -> bool:
        return False

    # -- what the plugin does --------------------------------------------------------------------------------------
    def StartMonitoredManagedProcess(self, name: str, process: ManagedProcess) -> None:
        process.InitializeProcessCallback()
        argv = [process.RenderExecutableCallback(), *shlex.split(process.RenderArgumentCallback())]
        env = {**os.environ, **self._ctx.job_environment, **self.process_env}
        self._monitored[name] = (process, _Monitored(argv, env))
        self.log.append(f"INFO: started {name}: {argv}")

    def WriteStdinToMonitoredManagedProcess(self, name: str, text: str) -> None:
        _, mon = self._monitored[name]
        assert mon.proc.stdin is not None
        try:
            mon.proc.stdin.write(text + "\n")
            mon.proc.stdin.flush()
        except BrokenPipeError:
            raise RenderFailure(f'Monitored managed process "{name}" has exited or been terminated.') from None

    def FlushMonitoredManagedProcessStdout(self, name: str) -> None:
        process, mon = self._monitored[name]
        while True:
            try:
                line = mon.lines.get_nowait()
            except queue.Empty:
                return
            self.output.append(line)
            process.handle_line(line)

    def VerifyMonitoredManagedProcess(self, name: str) -> None:
        _, mon = self._monitored[name]
        if mon.proc.poll() is not None:
            raise RenderFailure(f'Monitored managed process "{name}" has exited or been terminated.')

    def WaitForMonitoredManagedProcessToExit(self, name: str, timeout_ms: int) -> bool:
        _, mon = self._monitored[name]
        try:
            mon.proc.wait(timeout=timeout_ms / 1000)
        except subprocess.TimeoutExpired:
            return False
        return True

    def ShutdownMonitoredManagedProcess(self, name: str) -> None:
        _, mon = self._monitored.pop(name)
        if mon.proc.poll() is None:
            mon.proc.terminate()
            mon.proc.wait(timeout=10)
        mon.reader.join(timeout=10)

    def running_processes(self) -> list[str]:
        return [n for n, (_, mon) in self._monitored.items() if mon.proc.poll() is None]

    def SetProcessEnvironmentVariable(self, key: str, value: str) -> None:
        self.process_env[key] = value

    def LogInfo(self, message: str) -> None:
        self.log.append(f"INFO: {message}")

    def LogWarning(self, message: str) -> None:
        self.log.append(f"WARNING: {message}")

    def SetProgress(self, percent: float) -> None:
        self.progress.append(percent)

    def SetStatusMessage(self, message: str) -> None:
        self.status.append(message)

    def FailRender(self, message: str) -> None:
        raise RenderFailure(message)

    # -- stand-in bookkeeping --------------------------------------------------------------------------------------
    def leaked_callbacks(self) -> list[str]:
        """Callbacks registered and not deleted (Deadline leaks the plugin object when Cleanup misses one)."""
        return _leaked(self)


def search_file_list(candidates: str) -> str:
    for path in (p.strip() for p in candidates.split(";")):
        if path and Path(path).is_file():
            return path
    return ""


def _install_deadline_modules() -> None:
    if "Deadline.Plugins" in sys.modules:
        return
    deadline = types.ModuleType("Deadline")
    plugins = types.ModuleType("Deadline.Plugins")
    scripting = types.ModuleType("Deadline.Scripting")
    plugins.DeadlinePlugin = DeadlinePlugin
    plugins.ManagedProcess = ManagedProcess
    plugins.PluginType = PluginType
    scripting.FileUtils = types.SimpleNamespace(SearchFileList=search_file_list)
    scripting.RepositoryUtils = types.SimpleNamespace(CheckPathMapping=lambda path: path)
    deadline.Plugins, deadline.Scripting = plugins, scripting
    sys.modules.update({"Deadline": deadline, "Deadline.Plugins": plugins, "Deadline.Scripting": scripting})


def load_airoto() -> types.ModuleType:
    """Import farm_plugin/AIRoto/AIRoto.py the way Deadline does: as a file, with its API modules present."""
    _install_deadline_modules()
    spec = importlib.util.spec_from_file_location("AIRoto", PLUGIN_DIR / "AIRoto.py")
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
        plugin.InitializeProcessCallback()
        plugin.PreRenderTasksCallback()
        executable = plugin.RenderExecutableCallback()
        argv = [executable, *shlex.split(plugin.RenderArgumentCallback())]
        env = {**os.environ, **ctx.job_environment, **plugin.process_env}
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            output.append(line)
            plugin.handle_line(line)
        exit_code = proc.wait(timeout=timeout)
        if plugin.CheckExitCodeCallback.handlers:
            plugin.CheckExitCodeCallback(exit_code)
        elif exit_code != 0:
            raise RenderFailure(f"Error: Renderer returned non-zero error code, {exit_code}")
        plugin.PostRenderTasksCallback()
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
        self.plugin.InitializeProcessCallback()
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
                self.plugin.StartJobCallback()
            self.plugin.RenderTasksCallback()
        except RenderFailure as exc:
            error = str(exc)
        argv = next((mon.argv for _, mon in self.plugin._monitored.values()), [])
        return TaskResult(not error, error, None, argv, self.plugin, list(self.plugin.output), [])

    def close(self) -> None:
        try:
            if self.started:
                self.plugin.EndJobCallback()
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
    probe.InitializeProcessCallback()
    advanced = probe.PluginType == PluginType.Advanced
    module.CleanupDeadlinePlugin(probe)
    return advanced
