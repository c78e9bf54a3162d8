"""A JobPlan as Open Job Description: one job template for every shot, and per-shot parameter values.

The template (``jobtemplate-2023-09`` with ``TASK_CHUNKING``) has three steps: ``Roto`` (one task per contiguous
chunk of frames, ``rotofarm run-chunk``), ``Finalize`` after it and ``Publish`` after that. A shot is one job
(its manifest, frames, chunk size as job parameters), which is what AWS Deadline Cloud takes as a job bundle:
``DIR/<shot>/template.yaml`` + ``parameter_values.yaml``. The same template runs here through openjd-sessions
(:mod:`submitters.local_farm`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from roto_core.atomic import write_text
from submitters.plan import JobPlan, ShotPlan

EXTENSIONS = ["TASK_CHUNKING"]


def _run(*args: str) -> dict[str, Any]:
    return {"actions": {"onRun": {"command": "{{Param.Rotofarm}}", "args": list(args)}}}


def job_template(create_folders: bool = False) -> dict[str, Any]:
    """The template shared by every shot of a plan (its text does not depend on the shot)."""
    return {
        "specificationVersion": "jobtemplate-2023-09",
        "extensions": list(EXTENSIONS),
        "name": "{{Param.JobName}}",
        "description": "rotofarm: AI roto of one shot (run-chunk per chunk), then finalize and publish.",
        "parameterDefinitions": [
            {"name": "JobName", "type": "STRING", "minLength": 1},
            {"name": "Rotofarm", "type": "STRING", "default": "rotofarm",
             "description": "The rotofarm executable on the workers."},
            {"name": "Manifest", "type": "PATH", "objectType": "FILE", "dataFlow": "IN",
             "description": "The shot's manifest.json in its job folder on shared storage."},
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
                "script": _run("run-chunk", "{{Param.Manifest}}", "--frames", "{{Task.Param.Frames}}",
                               "--device", "{{Param.Device}}"),
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
                    "publish", "{{Param.Manifest}}", "--tracker", "{{Param.Tracker}}",
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
