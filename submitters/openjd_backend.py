"""A JobPlan as Open Job Description: one job template for every shot, and per-shot parameter values.

The template (``jobtemplate-2023-09`` with ``TASK_CHUNKING``) has three steps: ``Roto`` (one task per contiguous
chunk of frames), ``Finalize`` after it and ``Publish`` after that. A shot is one job (its manifest, frames, chunk
size as job parameters), which is what AWS Deadline Cloud takes as a job bundle: ``DIR/<shot>/template.yaml`` +
``parameter_values.yaml``. The same template runs here through openjd-sessions (:mod:`submitters.local_farm`).

The Roto step's environment starts one ``rotofarm worker`` per session and keeps it, with its models loaded,
across the chunks that session runs: entering starts it on a named pipe, each task writes its range ``A-B`` to the
pipe and follows the worker's output to ``DONE A-B`` (or ``FAILED A-B: why``, which fails the task with that
reason), relaying ``Progress: NN%`` also as ``openjd_progress``; leaving closes the pipe and waits for the worker.
The scripts are POSIX shell (Linux and macOS workers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from roto_core.atomic import write_text
from submitters.plan import JobPlan, ShotPlan

EXTENSIONS = ["TASK_CHUNKING"]


WORKER_DIR = "{{Session.WorkingDirectory}}/rotofarm-worker"

START_WORKER = """set -eu
d="@DIR@"
mkdir -p "$d"
rm -f "$d/in"
mkfifo "$d/in"
: > "$d/out"
# A writer that never writes holds the pipe open, so the worker sees no end of input between tasks.
nohup sleep 2147483647 > "$d/in" 2>/dev/null &
echo $! > "$d/holder.pid"
nohup "{{Param.Rotofarm}}" worker "{{Param.Manifest}}" --device "{{Param.Device}}" < "$d/in" > "$d/out" 2>&1 &
echo $! > "$d/worker.pid"
echo "rotofarm worker started (pid $(cat "$d/worker.pid"))"
""".replace("@DIR@", WORKER_DIR)

STOP_WORKER = """d="@DIR@"
kill "$(cat "$d/holder.pid")" 2>/dev/null || true
pid="$(cat "$d/worker.pid")"
i=0
while kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid" | cut -c1)" != Z ] && [ $i -lt 600 ]; do
  sleep 0.1; i=$((i + 1))
done
kill "$pid" 2>/dev/null || true
echo "rotofarm worker stopped"
""".replace("@DIR@", WORKER_DIR)

RUN_CHUNK = """set -u
d="@DIR@"
alive() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" | cut -c1)" != Z ]; }
range="{{Task.Param.Frames}}"
case "$range" in *-*) ;; *) range="$range-$range" ;; esac
pid="$(cat "$d/worker.pid")"
seen=$(wc -l < "$d/out")
echo "$range" > "$d/in"
while :; do
  total=$(wc -l < "$d/out")
  if [ "$total" -gt "$seen" ]; then
    seen=$((seen + 1))
    line=$(sed -n "${seen}p" "$d/out")
    echo "$line"
    case "$line" in
      "Progress: "*) pct=${line#Progress: }; echo "openjd_progress: ${pct%%%*}" ;;
      "DONE $range") exit 0 ;;
      "FAILED $range: "*) echo "error: ${line#FAILED $range: }"; exit 1 ;;
    esac
  elif ! alive "$pid"; then
    echo "error: the rotofarm worker exited before finishing $range; its output is in $d/out"
    exit 1
  else
    sleep 0.05
  fi
done
""".replace("@DIR@", WORKER_DIR)


def _run(*args: str) -> dict[str, Any]:
    return {"actions": {"onRun": {"command": "{{Param.Rotofarm}}", "args": list(args)}}}


def _shell(name: str, text: str) -> dict[str, Any]:
    return {"name": name, "type": "TEXT", "data": text}


def job_template(create_folders: bool = False) -> dict[str, Any]:
    """The template shared by every shot of a plan (its text does not depend on the shot)."""
    return {
        "specificationVersion": "jobtemplate-2023-09",
        "extensions": list(EXTENSIONS),
        "name": "{{Param.JobName}}",
        "description": "rotofarm: AI roto of one shot (run-chunk per chunk), then finalize and publish.",
        "parameterDefinitions": [
            {"name": "JobName", "type": "STRING", "minLength": 1},
            {
                "name": "Rotofarm",
                "type": "STRING",
                "default": "rotofarm",
                "description": "The rotofarm executable on the workers.",
            },
            {
                "name": "Manifest",
                "type": "PATH",
                "objectType": "FILE",
                "dataFlow": "IN",
                "description": "The shot's manifest.json in its job folder on shared storage.",
            },
            {"name": "Frames", "type": "STRING", "minLength": 1, "description": "The shot's frames, e.g. 1001-1100."},
            {"name": "ChunkSize", "type": "INT", "minValue": 1, "default": 50},
            {"name": "Device", "type": "STRING", "default": "auto"},
            {"name": "Tracker", "type": "STRING", "allowedValues": ["local", "ayon"], "default": "local"},
        ],
        "steps": [
            {
                "name": "Roto",
                "description": "Chunks that carry state must run in order: give such jobs one worker.",
                "parameterSpace": {
                    "taskParameterDefinitions": [
                        {
                            "name": "Frames",
                            "type": "CHUNK[INT]",
                            "range": "{{Param.Frames}}",
                            "chunks": {"defaultTaskCount": "{{Param.ChunkSize}}", "rangeConstraint": "CONTIGUOUS"},
                        }
                    ]
                },
                "stepEnvironments": [
                    {
                        "name": "RotofarmWorker",
                        "description": "One rotofarm worker per session keeps the models loaded across chunks.",
                        "script": {
                            "actions": {
                                "onEnter": {"command": "sh", "args": ["{{Env.File.Start}}"]},
                                "onExit": {"command": "sh", "args": ["{{Env.File.Stop}}"]},
                            },
                            "embeddedFiles": [_shell("Start", START_WORKER), _shell("Stop", STOP_WORKER)],
                        },
                    }
                ],
                "script": {
                    "actions": {"onRun": {"command": "sh", "args": ["{{Task.File.Chunk}}"]}},
                    "embeddedFiles": [_shell("Chunk", RUN_CHUNK)],
                },
            },
            {
                "name": "Finalize",
                "dependencies": [{"dependsOn": "Roto"}],
                "script": _run("finalize", "{{Param.Manifest}}"),
            },
            {
                "name": "Publish",
                "dependencies": [{"dependsOn": "Finalize"}],
                "script": _run(
                    "publish",
                    "{{Param.Manifest}}",
                    "--tracker",
                    "{{Param.Tracker}}",
                    *(["--create-folders"] if create_folders else []),
                ),
            },
        ],
    }


def parameter_values(plan: JobPlan, shot: ShotPlan, rotofarm: str, device: str | None = None) -> dict[str, Any]:
    return {
        "JobName": f"{plan.project} {shot.shot} roto ({plan.batch_name})",
        "Rotofarm": rotofarm,
        "Manifest": shot.manifest_path,
        "Frames": f"{shot.roto.first_frame}-{shot.roto.last_frame}",
        "ChunkSize": shot.roto.chunk_size,
        "Device": device or shot.roto.settings.device,
        "Tracker": plan.tracker,
    }


def write_bundles(plan: JobPlan, out_dir: str | Path, rotofarm: str) -> list[Path]:
    """One Deadline Cloud job bundle per shot: ``DIR/<shot>/template.yaml`` and ``parameter_values.yaml``."""
    template_text = yaml.safe_dump(job_template(plan.create_folders), sort_keys=False, width=120)
    bundles = []
    for shot in plan.shots:
        folder = Path(out_dir) / shot.shot
        write_text(folder / "template.yaml", template_text)
        values = parameter_values(plan, shot, rotofarm)
        doc = {"parameterValues": [{"name": k, "value": v} for k, v in values.items()]}
        write_text(folder / "parameter_values.yaml", yaml.safe_dump(doc, sort_keys=False, width=120))
        bundles.append(folder)
    return bundles
