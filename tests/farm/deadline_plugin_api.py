"""A stand-in for the part of Deadline 10.3's plugin API that AIRoto uses, laid out and behaving like the real one.

Deadline cannot run here, so the plugin is loaded and run through this. It follows what Deadline 10.3 does, from
public evidence (FORMATS.md, "Deadline plugin API"):

- Modules: ``Deadline.Plugins`` holds ``DeadlinePlugin`` and ``PluginType``; ``ManagedProcess`` lives in
  ``FranticX.Processes`` (every Thinkbox plugin with a managed process imports it from there — CommandLine,
  MayaBatch, Cinema4DBatch — and so does Epic's UnrealEngine5 plugin, ``from FranticX.Processes import
  ManagedProcess``); ``Deadline.Scripting`` holds ``FileUtils``, ``RepositoryUtils`` and ``SystemUtils``
  (``SystemUtils.IsRunningOnWindows()`` as Thinkbox's plugins use it to pick per-OS paths).
- The base initialiser creates the callbacks: Deadline 10.3 (Python 3) "requires plugin inheriting from
  DeadlinePlugin to call super's __init__ explicitly" (ynput/OpenPype PR 5480, confirmed on 10.3.x by a reviewer;
  ayon-deadline's Ayon plugin calls it; Thinkbox's note "Deadline 10.3.0.9 Custom Plugins based of Python version
  less than 3.10 will break"). Here a ``DeadlinePlugin`` or ``ManagedProcess`` has no ``XCallback`` attribute
  until ``super().__init__()`` ran, so a subclass that skips it fails on its first ``+=``.
- Python 3 only with the shebang: a repository upgraded from 10.1/10.2 runs a plugin file in Python 2 unless its
  first line is ``#!/usr/bin/env python3`` (Thinkbox's "Python upgrade" page of the 10.1 manual, as quoted in
  ynput/OpenPype issue 4395; fixed by that shebang in PR 4518). The runner's ``load_airoto`` refuses a file
  without it (``check_python3_shebang``, :mod:`tests.farm.deadline_plugin_runner`), since on such a repository
  f-strings are a SyntaxError.
- Callbacks are events: ``self.XCallback += f`` registers, ``del self.XCallback`` unregisters, and ``Cleanup()``
  must delete every callback it registered (:meth:`_CallbackOwner.leaked_callbacks` reports any left).
- ``AddStdoutHandlerCallback(regex)`` returns a handler whose ``HandleCallback`` runs for each output line the regex
  matches (searched anywhere in the line); ``GetRegexMatch(n)`` reads the current match.
- ``FailRender(message)`` raises: the task stops there and errors with that message.
- A Simple plugin's task: InitializeProcess, RenderExecutable, RenderArgument (one command-line string, split the
  way the worker's OS splits it: :func:`split_command_line`), the process runs with the job's environment plus
  what the plugin set, stdout and stderr lines go through the handlers, then CheckExitCode (default: a non-zero
  exit fails the task).
- An Advanced plugin stays loaded for the tasks of one job on one worker thread: StartJob once, RenderTasks per
  task, EndJob, then Cleanup. Its monitored managed process (``StartMonitoredManagedProcess``) keeps running
  between tasks; the plugin writes to its stdin, ``FlushMonitoredManagedProcessStdout`` runs the process's stdout
  handlers on the lines it printed so far, ``VerifyMonitoredManagedProcess`` fails the task if it has exited.
- ``GetPluginInfoEntry`` raises on a missing key, ``...WithDefault`` does not; ``FileUtils.SearchFileList`` returns
  the first existing path of a ``;``-separated list, or "".

What it cannot do: run the plugin inside Deadline's own embedded Python (it runs in this CPython).
"""

from __future__ import annotations

import os
import queue
import re
import shlex
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "farm_plugin" / "AIRoto"
PYTHON3_SHEBANG = re.compile(r"#!/usr/bin/env python3[ \t]*")
WORKER_OS = {"windows": False}


class RenderFailure(Exception):
    """What FailRender raises inside Deadline: the task errors with this message."""


class PluginLoadError(Exception):
    """Deadline could not load the plugin file (the worker reports an error before any task runs)."""


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


class PluginType:
    Simple = "Simple"
    Advanced = "Advanced"


class StdoutHandler:
    def __init__(self, regex: str) -> None:
        self.regex = re.compile(regex)
        self.HandleCallback = _Event()


class _CallbackOwner:
    """What Deadline's plugins and managed processes share: callbacks made by the initialiser, stdout handlers and
    the current regex match."""

    CALLBACKS: tuple[str, ...] = ()

    def __init__(self) -> None:
        for name in self.CALLBACKS:
            setattr(self, name, _Event())
        self._stdout_handlers: list[StdoutHandler] = []
        self._match: re.Match[str] | None = None

    def AddStdoutHandlerCallback(self, regex: str) -> StdoutHandler:
        handler = StdoutHandler(regex)
        self._stdout_handlers.append(handler)
        return handler

    @property
    def StdoutHandlers(self) -> list[StdoutHandler]:
        return self._stdout_handlers

    def GetRegexMatch(self, index: int) -> str:
        assert self._match is not None, "GetRegexMatch outside a stdout handler"
        return self._match.group(index)

    def handle_line(self, line: str) -> None:
        for handler in list(self._stdout_handlers):
            match = handler.regex.search(line)
            if match and hasattr(handler, "HandleCallback"):
                self._match = match
                handler.HandleCallback()

    def callback(self, name: str) -> _Event:
        """The event ``name`` as Deadline calls it: one the plugin deleted is no longer called."""
        return self.__dict__.get(name) or _Event()

    def leaked_callbacks(self) -> list[str]:
        """Callbacks registered and not deleted (Deadline leaks the plugin object when Cleanup misses one)."""
        left = [n for n in self.CALLBACKS if isinstance(self.__dict__.get(n), _Event) and self.__dict__[n].handlers]
        for i, h in enumerate(self._stdout_handlers):
            if isinstance(h.__dict__.get("HandleCallback"), _Event) and h.HandleCallback.handlers:
                left.append(f"StdoutHandlers[{i}]")
        return left


def split_command_line(text: str, windows: bool) -> list[str]:
    """A command-line string as the worker's OS splits it into argv.

    POSIX: shell-like words (``shlex``). Windows: the Microsoft C runtime rules ("Parsing C++ command-line
    arguments"): whitespace separates arguments outside double quotes; ``2n`` backslashes before a ``"`` give ``n``
    backslashes and the quote toggles quoting, ``2n+1`` give ``n`` and a literal ``"``; other backslashes are
    literal.
    """
    if not windows:
        return shlex.split(text)
    args: list[str] = []
    current: list[str] = []
    started = quoted = False
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            n = len(text[i:]) - len(text[i:].lstrip("\\"))
            i += n
            if i < len(text) and text[i] == '"':
                current.append("\\" * (n // 2))
                if n % 2:
                    current.append('"')
                    i += 1
            else:
                current.append("\\" * n)
            started = True
            continue
        if c == '"':
            quoted, started = not quoted, True
        elif c in " \t" and not quoted:
            if started:
                args.append("".join(current))
                current, started = [], False
        else:
            current.append(c)
            started = True
        i += 1
    if started:
        args.append("".join(current))
    return args


class ManagedProcess(_CallbackOwner):
    """``FranticX.Processes.ManagedProcess``: a process an Advanced plugin starts and keeps."""

    CALLBACKS = (
        "InitializeProcessCallback",
        "RenderExecutableCallback",
        "RenderArgumentCallback",
        "StartupDirectoryCallback",
        "CheckExitCodeCallback",
    )


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
    windows: bool = False


class DeadlinePlugin(_CallbackOwner):
    """``Deadline.Plugins.DeadlinePlugin``."""

    CALLBACKS = (
        "StartJobCallback",
        "RenderTasksCallback",
        "EndJobCallback",
        "InitializeProcessCallback",
        "RenderExecutableCallback",
        "RenderArgumentCallback",
        "StartupDirectoryCallback",
        "PreRenderTasksCallback",
        "PostRenderTasksCallback",
        "CheckExitCodeCallback",
    )

    def bind(self, ctx: TaskContext) -> None:
        self._ctx = ctx
        WORKER_OS["windows"] = ctx.windows
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
        process.callback("InitializeProcessCallback")()
        arguments = process.callback("RenderArgumentCallback")()
        argv = [process.callback("RenderExecutableCallback")(), *split_command_line(arguments, self._ctx.windows)]
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
