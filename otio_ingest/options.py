"""What a coordinator can change about how a cut becomes shots.

The defaults live in ``configs/ingest.yaml`` (a studio copies it into ``$ROTOFARM_CONFIG_DIR``); the command line
overrides single values. One model serves both, so an unknown key in a studio's file is an error, not a silent no-op.
"""

from __future__ import annotations

from pathlib import Path

import regex
from pydantic import BaseModel, ConfigDict, Field, field_validator

from otio_ingest.bounds import compile_user_regex
from roto_core.config import load_config

CONFIG_NAME = "ingest.yaml"


def _check_regex(value: str | None) -> str | None:
    if value is not None:
        try:
            compile_user_regex(value)
        except regex.error as exc:
            raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
    return value


class IngestOptions(BaseModel):
    """Options of ``rotofarm ingest`` / ``rotofarm submit`` and of :func:`otio_ingest.ingest_file`."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    track: str | None = Field(
        None, description="video track to read: V3 or 3 (from the bottom) or its name; default the topmost with clips"
    )
    start_frame: int = Field(1001, description="first frame of every shot, handles included")
    handles: int = Field(8, ge=0, description="frames added before and after the cut range")
    fps: float | None = Field(
        None,
        gt=0,
        le=1000,
        allow_inf_nan=False,
        description="override the cut's rate (EDL: the rate its timecodes use)",
    )
    edl_rate: float = Field(
        24.0, gt=0, le=1000, allow_inf_nan=False, description="rate of an EDL's timecodes when --fps is not given"
    )
    name_regex: str = Field(
        r"(?P<shot>(?:(?<![A-Za-z])[A-Za-z]++\d++_)?[Ss][Hh]\d++[A-Za-z]?)",
        description="searched in the clip name; group 'shot' (else the whole match) is the shot name; a clip name "
        "it does not match becomes a folder-safe name (other characters → '_'). Possessive quantifiers and the "
        "look-behind keep the default linear in the name's length",
    )
    sequence: str | None = Field(None, description="sequence name for every shot")
    sequence_regex: str = Field(
        r"^(?P<sequence>[A-Za-z]+\d+)_",
        description="applied to the shot name; group 'sequence' (else the whole match) names the sequence",
    )
    folder_template: str = Field("/{sequence}/{shot}", description="AYON folder path; keys {sequence} {shot}")
    plates: str = Field(
        "/plates/{sequence}/{shot}/{shot}_plate.####.exr",
        description="plate sequence; keys {sequence} {shot} {clip} {reel}, frames as #### or %04d",
    )
    prompts: Path | None = Field(None, description="sidecar YAML of prompts per shot and object")
    merge_repeats: bool = Field(False, description="one shot per clip used several times (else sh010, sh010_2)")
    width: int = Field(1920, gt=0, description="plate width when the first plate frame cannot be read")
    height: int = Field(1080, gt=0, description="plate height when the first plate frame cannot be read")

    _regex = field_validator("name_regex", "sequence_regex")(_check_regex)

    @classmethod
    def from_config(cls, path: str | Path | None = None) -> IngestOptions:
        """The studio's defaults: ``configs/ingest.yaml`` (or ``$ROTOFARM_CONFIG_DIR/ingest.yaml``, or ``path``)."""
        return load_config(cls, CONFIG_NAME, path=path)
