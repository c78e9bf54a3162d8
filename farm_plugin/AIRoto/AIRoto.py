#!/usr/bin/env python3
"""AIRoto: the Deadline 10 plugin that runs rotofarm tasks on a worker.

Installed into the repository's ``custom/plugins/AIRoto/`` (see README.md). It runs inside Deadline's own Python
and imports nothing of rotofarm: it only starts ``rotofarm`` processes, so a worker needs rotofarm installed and
its path in the plugin configuration.

- ``Mode=roto`` with ``PersistentWorker=True`` (the default the submitter writes): an Advanced plugin. StartJob
  starts one ``rotofarm worker MANIFEST --device DEVICE`` per task thread and keeps it, models loaded, for every
  chunk of the job this thread renders; each task writes ``<STARTFRAME>-<ENDFRAME>`` to its stdin and waits for
  ``DONE A-B`` (or ``FAILED A-B: why``, which fails the task with that reason); EndJob closes its input.
- ``Mode=roto`` otherwise: a Simple plugin, one process per task:
  ``rotofarm run-chunk MANIFEST --frames <STARTFRAME>-<ENDFRAME> --device DEVICE``.
- ``Mode=finalize`` (Simple): the job's frames number its steps (``Steps=finalize,publish``): frame 0 runs
  ``rotofarm finalize MANIFEST``, frame 1 ``rotofarm publish MANIFEST --tracker TRACKER``.

GPUs: when the worker overrides its GPU affinity, the task takes its share of those devices (its thread's slice,
or the ones named in ``GPUsSelectDevices``); otherwise task thread ``t`` takes devices ``t*N .. t*N+N-1`` with
``N = GPUsPerTask``. The choice becomes ``CUDA_VISIBLE_DEVICES`` of the process, so a 4-GPU worker can run four
concurrent tasks. A task given GPUs runs with ``--device cuda`` instead of ``auto``: on a worker that lacks those
devices (4 concurrent tasks on a 2-GPU worker give thread 3 ``CUDA_VISIBLE_DEVICES=3``) rotofarm then fails the task
saying so, instead of silently falling back to the CPU; the failure names the devices the task was given. The AYON
server and API key come from this plugin's configuration (readable only by Deadline administrators), never from the
job, whose JobInfo every Monitor user can read.

Deadline 10.3 runs plugins in Python 3 and requires what this file does (see FORMATS.md, "Deadline plugin API"):
``ManagedProcess`` comes from ``FranticX.Processes`` (``Deadline.Plugins`` has DeadlinePlugin and PluginType), both
classes call ``super().__init__()`` before registering callbacks, and the first line is ``#!/usr/bin/env python3``
so that a repository upgraded from 10.1/10.2 does not run the file in Python 2.

Command lines: values from the job (the manifest path, the device, the tracker) are quoted for the worker's OS
(:func:`quote_argument`), so a ``"`` in a project or shot name cannot add arguments. The configured
``ExtraArguments`` are the administrator's own command-line text and are appended as written, on both paths.
"""

from __future__ import annotations

import re
import subprocess
import time

from Deadline.Plugins import DeadlinePlugin, PluginType
from Deadline.Scripting import FileUtils, RepositoryUtils, SystemUtils
from FranticX.Processes import ManagedProcess

ROTO_ARGUMENTS = "run-chunk <MANIFEST> --frames <STARTFRAME>-<ENDFRAME> --device <DEVICE>"
WORKER_ARGUMENTS = "worker <MANIFEST> --device <DEVICE>"
WORKER_RANGE = "<STARTFRAME>-<ENDFRAME>"
WORKER_PROCESS = "rotofarm worker"
STEP_ARGUMENTS = {
    "finalize": "finalize <MANIFEST>",
    "publish": "publish <MANIFEST> --tracker <TRACKER>",
}
PLAIN_ARGUMENT = r"[\w@%+=:,./-]+"
PROGRESS_LINE = r"Progress: (\d+(?:\.\d+)?)%"
ERROR_LINE = r"^error: (.*)$"


def GetDeadlinePlugin():
    return AIRotoPlugin()


def CleanupDeadlinePlugin(deadlinePlugin):
    deadlinePlugin.Cleanup()


def expand_tokens(template, start, end, values=None):
    """Replace Deadline's argument tokens (<STARTFRAME>, <ENDFRAME>, <STARTFRAME%N>, <ENDFRAME%N>, <QUOTE>) and
    ``values``' <KEY>s in one pass, so that a value is never itself searched for tokens."""
    values = values or {}

    def replace(match):
        name, pad = match.group(1), match.group(2)
        if name in ("STARTFRAME", "ENDFRAME"):
            frame = start if name == "STARTFRAME" else end
            return str(frame).zfill(int(pad)) if pad else str(frame)
        if name == "QUOTE" and not pad:
            return '"'
        if name in values and not pad:
            return values[name]
        return match.group(0)

    return re.sub(r"<([A-Z]+)(?:%(\d+))?>", replace, template)


def quote_argument(value, windows):
    """One argument as the worker's OS reads it back from a command-line string.

    Windows: the Microsoft C runtime rules (``subprocess.list2cmdline``). Elsewhere: double quotes with ``"`` and
    ``\\`` escaped by a backslash, read back the same by a POSIX shell and by Python's ``shlex``.
    """
    if windows:
        return subprocess.list2cmdline([value])
    if re.fullmatch(PLAIN_ARGUMENT, value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def task_device(device, gpus):
    """The ``--device`` of a task: ``auto`` becomes ``cuda`` when the task was given GPUs, so that a worker
    without them fails the task instead of quietly running on the CPU."""
    if gpus and device.strip().lower() == "auto":
        return "cuda"
    return device


def select_gpus(per_task, thread, override, affinity, select_devices):
    """The CUDA devices of one task, or None to leave the process environment alone (a CPU task)."""
    wanted = [int(x) for x in re.split(r"[,\s]+", select_devices.strip()) if x] if select_devices else []
    if override:
        allowed = sorted(int(g) for g in affinity)
        if wanted:
            chosen = [g for g in wanted if g in allowed]
            if not chosen:
                raise ValueError(f"GPUsSelectDevices {wanted} are outside this worker's GPU affinity {allowed}")
            return chosen
        if per_task <= 0:
            return allowed
        share = allowed[thread * per_task : thread * per_task + per_task]
        return share if len(share) == per_task else allowed[:per_task]
    if wanted:
        return wanted
    if per_task <= 0:
        return None
    return list(range(thread * per_task, thread * per_task + per_task))


class AIRotoPlugin(DeadlinePlugin):
    def __init__(self):
        super().__init__()
        self.InitializeProcessCallback += self.InitializeProcess
        self.RenderExecutableCallback += self.RenderExecutable
        self.RenderArgumentCallback += self.RenderArgument
        self.CheckExitCodeCallback += self.CheckExitCode
        self.StartJobCallback += self.StartJob
        self.RenderTasksCallback += self.RenderTasks
        self.EndJobCallback += self.EndJob
        self.LastError = ""
        self.Worker = None
        self.Gpus = None

    def Cleanup(self):
        for stdoutHandler in self.StdoutHandlers:
            del stdoutHandler.HandleCallback
        del self.InitializeProcessCallback
        del self.RenderExecutableCallback
        del self.RenderArgumentCallback
        del self.CheckExitCodeCallback
        del self.StartJobCallback
        del self.RenderTasksCallback
        del self.EndJobCallback
        if self.Worker is not None:
            self.Worker.Cleanup()
            del self.Worker

    def UsesPersistentWorker(self):
        mode = self.GetPluginInfoEntryWithDefault("Mode", "roto")
        return mode == "roto" and self.GetPluginInfoEntryWithDefault("PersistentWorker", "False").lower() == "true"

    def InitializeProcess(self):
        self.SingleFramesOnly = False
        if self.UsesPersistentWorker():
            self.PluginType = PluginType.Advanced
            return
        self.PluginType = PluginType.Simple
        self.StdoutHandling = True
        self.PopupHandling = False
        self.AddStdoutHandlerCallback(PROGRESS_LINE).HandleCallback += self.HandleProgress
        self.AddStdoutHandlerCallback(ERROR_LINE).HandleCallback += self.HandleError
        self.SetAyonEnvironment()
        self.SetGpuEnvironment()

    def SetAyonEnvironment(self):
        server = self.GetConfigEntryWithDefault("AyonServerUrl", "").strip()
        key = self.GetConfigEntryWithDefault("AyonApiKey", "").strip()
        if server:
            self.SetProcessEnvironmentVariable("AYON_SERVER_URL", server)
        if key:
            self.SetProcessEnvironmentVariable("AYON_API_KEY", key)
        elif self.GetPluginInfoEntryWithDefault("Tracker", "local") == "ayon":
            self.LogWarning("AyonApiKey is empty in the AIRoto plugin configuration; publishing to AYON will fail")

    def SetGpuEnvironment(self):
        per_task = int(self.GetPluginInfoEntryWithDefault("GPUsPerTask", "0") or 0)
        select = self.GetPluginInfoEntryWithDefault("GPUsSelectDevices", "")
        try:
            gpus = select_gpus(per_task, self.GetThreadNumber(), self.OverrideGpuAffinity(), self.GpuAffinity(), select)
        except ValueError as exc:
            self.FailRender(str(exc))
        self.Gpus = gpus
        if gpus is not None:
            value = ",".join(str(g) for g in gpus)
            self.LogInfo(f"CUDA_VISIBLE_DEVICES={value} (thread {self.GetThreadNumber()})")
            self.SetProcessEnvironmentVariable("CUDA_VISIBLE_DEVICES", value)

    def GpuNote(self, detail):
        """Which GPUs the task was given, added to a failure about CUDA ("" otherwise, and for a CPU task)."""
        if not self.Gpus or "cuda" not in detail.lower():
            return ""
        value = ",".join(str(g) for g in self.Gpus)
        return f" (the task was given CUDA_VISIBLE_DEVICES={value} on thread {self.GetThreadNumber()})"

    def QuotedValues(self):
        """The job's values for the argument templates, each quoted for this worker's OS."""
        windows = SystemUtils.IsRunningOnWindows()
        manifest = RepositoryUtils.CheckPathMapping(self.GetPluginInfoEntry("Manifest").strip())
        device = task_device(self.GetPluginInfoEntryWithDefault("Device", "auto"), self.Gpus)
        values = {
            "MANIFEST": manifest,
            "DEVICE": device,
            "TRACKER": self.GetPluginInfoEntryWithDefault("Tracker", "local"),
        }
        return {key: quote_argument(value, windows) for key, value in values.items()}

    def WithExtraArguments(self, arguments):
        extra = self.GetConfigEntryWithDefault("ExtraArguments", "").strip()
        return f"{arguments} {extra}" if extra else arguments

    def RenderExecutable(self):
        candidates = self.GetConfigEntry("RotofarmExecutable")
        executable = FileUtils.SearchFileList(candidates)
        if not executable:
            self.FailRender(
                f"no rotofarm executable found among {candidates!r}: set RotofarmExecutable in the AIRoto "
                "plugin configuration (Configure Plugins in Monitor)"
            )
        return executable

    def RenderArgument(self):
        start, end = self.GetStartFrame(), self.GetEndFrame()
        values = self.QuotedValues()
        mode = self.GetPluginInfoEntryWithDefault("Mode", "roto")
        if mode == "roto":
            template = ROTO_ARGUMENTS
        elif mode == "finalize":
            steps = [s.strip() for s in self.GetPluginInfoEntryWithDefault("Steps", "finalize,publish").split(",")]
            if start != end or not 0 <= start < len(steps) or steps[start] not in STEP_ARGUMENTS:
                self.FailRender(f"finalize tasks run one step each; frame {start} is not a step of {steps}")
            template = STEP_ARGUMENTS[steps[start]]
        else:
            self.FailRender(f"unknown Mode {mode!r} in the job's plugin info (roto or finalize)")
        arguments = expand_tokens(template, start, end, values)
        create_folders = self.GetPluginInfoEntryWithDefault("CreateFolders", "False").lower() == "true"
        if template == STEP_ARGUMENTS["publish"] and create_folders:
            arguments += " --create-folders"
        return self.WithExtraArguments(arguments)

    def StartJob(self):
        self.SetAyonEnvironment()
        self.SetGpuEnvironment()
        start, end = self.GetStartFrame(), self.GetEndFrame()
        arguments = self.WithExtraArguments(expand_tokens(WORKER_ARGUMENTS, start, end, self.QuotedValues()))
        self.Worker = RotofarmWorker(self, self.RenderExecutable(), arguments)
        self.StartMonitoredManagedProcess(WORKER_PROCESS, self.Worker)

    def RenderTasks(self):
        chunk = expand_tokens(WORKER_RANGE, self.GetStartFrame(), self.GetEndFrame())
        self.Worker.Expect(chunk)
        self.WriteStdinToMonitoredManagedProcess(WORKER_PROCESS, chunk)
        while True:
            self.FlushMonitoredManagedProcessStdout(WORKER_PROCESS)
            if self.Worker.Finished:
                break
            if self.IsCanceled():
                self.FailRender("the task was canceled")
            try:
                self.VerifyMonitoredManagedProcess(WORKER_PROCESS)
            except Exception:
                self.Worker.Exited = True
                raise
            time.sleep(0.05)
        if self.Worker.Error:
            self.FailRender(f"rotofarm worker failed {chunk}: {self.Worker.Error}{self.GpuNote(self.Worker.Error)}")

    def EndJob(self):
        if self.Worker is None:
            return
        if not self.Worker.Exited:
            self.WriteStdinToMonitoredManagedProcess(WORKER_PROCESS, "")
            self.WaitForMonitoredManagedProcessToExit(WORKER_PROCESS, 30000)
        self.ShutdownMonitoredManagedProcess(WORKER_PROCESS)

    def HandleProgress(self):
        percent = float(self.GetRegexMatch(1))
        self.SetProgress(percent)
        self.SetStatusMessage(f"{percent:.0f}%")

    def HandleError(self):
        self.LastError = self.GetRegexMatch(1)

    def CheckExitCode(self, exitCode):
        if exitCode != 0:
            detail = self.LastError or "no error line in the output; see the task log"
            self.FailRender(f"rotofarm exited with code {exitCode}: {detail}{self.GpuNote(detail)}")


class RotofarmWorker(ManagedProcess):
    """The ``rotofarm worker`` process of one task thread: reads ``A-B`` lines, answers ``DONE``/``FAILED``."""

    def __init__(self, deadlinePlugin, executable, arguments):
        super().__init__()
        self.deadlinePlugin = deadlinePlugin
        self.Executable = executable
        self.Arguments = arguments
        self.Chunk = ""
        self.Finished = False
        self.Error = ""
        self.Exited = False
        self.InitializeProcessCallback += self.InitializeProcess
        self.RenderExecutableCallback += self.RenderExecutable
        self.RenderArgumentCallback += self.RenderArgument

    def Cleanup(self):
        for stdoutHandler in self.StdoutHandlers:
            del stdoutHandler.HandleCallback
        del self.InitializeProcessCallback
        del self.RenderExecutableCallback
        del self.RenderArgumentCallback

    def InitializeProcess(self):
        self.StdoutHandling = True
        self.PopupHandling = False
        self.AddStdoutHandlerCallback(PROGRESS_LINE).HandleCallback += self.HandleProgress
        self.AddStdoutHandlerCallback(r"^DONE (\S+)$").HandleCallback += self.HandleDone
        self.AddStdoutHandlerCallback(r"^FAILED (\S+): (.*)$").HandleCallback += self.HandleFailed

    def RenderExecutable(self):
        return self.Executable

    def RenderArgument(self):
        return self.Arguments

    def Expect(self, chunk):
        self.Chunk, self.Finished, self.Error = chunk, False, ""

    def HandleProgress(self):
        percent = float(self.GetRegexMatch(1))
        self.deadlinePlugin.SetProgress(percent)
        self.deadlinePlugin.SetStatusMessage(f"{percent:.0f}%")

    def HandleDone(self):
        if self.GetRegexMatch(1) == self.Chunk:
            self.Finished = True

    def HandleFailed(self):
        if self.GetRegexMatch(1) == self.Chunk:
            self.Finished, self.Error = True, self.GetRegexMatch(2)
