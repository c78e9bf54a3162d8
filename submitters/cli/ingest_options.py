"""The ingest options shared by ``rotofarm ingest`` and ``rotofarm submit``.

Every alias defaults to None, meaning "as configs/ingest.yaml says", so a studio's config stays the single source of
defaults and a flag overrides only what it names. A command declares the parameters it wants with these aliases and
hands its parameters to :func:`ingest_options_from_params`, which takes those named like IngestOptions fields::

    def submit(cut: Path, track: TrackOpt = None, start_frame: StartFrameOpt = None, ...):
        options = ingest_options_from_params(locals())
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from otio_ingest.options import IngestOptions
from roto_core.errors import InputError

_PANEL = "Ingest"

TrackOpt = Annotated[
    str | None,
    typer.Option(
        "--track",
        help="Video track: V3 or 3 (counted from the bottom) or a name (default: topmost video track with clips).",
        rich_help_panel=_PANEL,
    ),
]
StartFrameOpt = Annotated[
    int | None,
    typer.Option(
        "--start-frame", help="First frame of each shot, handles included (default: 1001).", rich_help_panel=_PANEL
    ),
]
HandlesOpt = Annotated[
    int | None,
    typer.Option("--handles", min=0, help="Handle frames on each side (default: 8).", rich_help_panel=_PANEL),
]
FpsOpt = Annotated[
    float | None,
    typer.Option(
        "--fps",
        help="Override the cut's frame rate (29.97 reads drop-frame timecode) (default: the cut's rate; EDL 24).",
        rich_help_panel=_PANEL,
    ),
]
NameRegexOpt = Annotated[
    str | None,
    typer.Option("--name-regex", help="Regex on the clip name; group 'shot' is the shot name.", rich_help_panel=_PANEL),
]
SequenceOpt = Annotated[
    str | None, typer.Option("--sequence", help="Sequence name for every shot.", rich_help_panel=_PANEL)
]
SequenceRegexOpt = Annotated[
    str | None,
    typer.Option(
        "--sequence-regex", help="Regex on the shot name; group 'sequence' names the sequence.", rich_help_panel=_PANEL
    ),
]
FolderTemplateOpt = Annotated[
    str | None,
    typer.Option(
        "--folder-template", help="Tracker folder path template (default: /{sequence}/{shot}).", rich_help_panel=_PANEL
    ),
]
PlatesOpt = Annotated[
    str | None,
    typer.Option(
        "--plates",
        help="Plate path template, keys {shot} {sequence} {clip} {reel}, frames as ####.",
        rich_help_panel=_PANEL,
    ),
]
PromptsOpt = Annotated[
    Path | None, typer.Option("--prompts", help="Sidecar YAML of prompts per shot and object.", rich_help_panel=_PANEL)
]
MergeRepeatsOpt = Annotated[
    bool | None,
    typer.Option(
        "--merge-repeats/--number-repeats",
        help="A clip used twice is one shot, or two (sh010, sh010_2) (default: two).",
        rich_help_panel=_PANEL,
    ),
]
WidthOpt = Annotated[
    int | None,
    typer.Option("--width", min=1, help="Plate width when no plate frame can be read.", rich_help_panel=_PANEL),
]
HeightOpt = Annotated[
    int | None,
    typer.Option("--height", min=1, help="Plate height when no plate frame can be read.", rich_help_panel=_PANEL),
]


def ingest_options_from_cli(**kw: Any) -> IngestOptions:
    """The config defaults with every option the user gave (not None) on top; a bad value names its flag."""
    base = IngestOptions.from_config()
    given = {key: value for key, value in kw.items() if value is not None}
    for key, value in given.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(f"{value} is not a number", where="--" + key.replace("_", "-"))
    unknown = sorted(set(given) - set(IngestOptions.model_fields))
    if unknown:
        raise TypeError(f"not ingest options: {', '.join(unknown)}")
    try:
        return IngestOptions.model_validate(base.model_dump() | given)
    except ValidationError as exc:
        err = exc.errors()[0]
        flag = "--" + str(err["loc"][0]).replace("_", "-") if err["loc"] else "option"
        raise InputError(f"{err['msg']}", where=flag) from None


def ingest_options_from_params(params: Mapping[str, Any]) -> IngestOptions:
    """:func:`ingest_options_from_cli` over the parameters of a command that declares the aliases above; its other
    parameters (the cut, ``--json``, farm options) are not ingest options and are left out."""
    return ingest_options_from_cli(**{k: v for k, v in params.items() if k in IngestOptions.model_fields})
