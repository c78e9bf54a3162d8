"""Everything a submission can get wrong that is knowable before any farm time is spent, reported at once.

Without these checks a coordinator learned of a missing plate at the first chunk, of a missing tracker folder at
publish after all the compute, and of a matting stage with no model only on the farm. ``problems`` collects every
such fault of a plan's inputs (the pipeline configuration against ``models.yaml``, each shot's plate frames and
size, its prompts, its tracker folder) so ``rotofarm submit`` can refuse the batch in one line naming them all.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from roto_core.backends.checkpoints import load_models_config
from roto_core.contracts import PipelineSettings, Shot, ShotList
from roto_core.errors import RotofarmError
from roto_core.sequences import first_missing, frame_path, has_frame_token, is_movie, probe_size

if TYPE_CHECKING:
    from publish.ayon_tracker import AyonTracker

_LOCAL_CATALOGUE = Path(".rotofarm") / "catalogue.sqlite"
_SHOWN = 12


def pipeline_problems(settings: PipelineSettings, shots: ShotList) -> list[str]:
    """Model keys the pipeline needs for these shots that models.yaml lacks, or has under another family."""
    try:
        models, path = load_models_config()
    except RotofarmError as exc:
        return [exc.format()]
    wanted: list[tuple[str, str | None, str]] = []
    if settings.backend in ("sam2", "cutie"):
        wanted.append(("key_model", settings.key_model, "sam2"))
    if settings.backend == "cutie" or settings.propagation_model:
        wanted.append(("propagation_model", settings.propagation_model or "cutie_base", "cutie"))
    if settings.matting:
        wanted.append(("matting_model", settings.matting_model or None, "vitmatte"))
    if any(p.text for shot in shots.shots for p in shot.prompts):
        wanted.append(("text_model", settings.text_model or None, "grounding_dino"))
    found: list[str] = []
    for option, key, family in wanted:
        spec = models.models.get(key) if key else None
        if not key:
            found.append(f"pipeline.yaml: {option} is empty but the run needs a {family} model")
        elif spec is None:
            known = ", ".join(models.models)
            found.append(f"pipeline.yaml: {option} {key!r} is not a model of {path} (known: {known})")
        elif spec.family != family:
            found.append(f"pipeline.yaml: {option} {key!r} is a {spec.family} model, not {family}")
    return found


def shot_problems(shot: Shot) -> list[str]:
    """The shot's first and last plate frames exist and match its size; it has a prompt to start from."""
    found: list[str] = []
    if not shot.prompts:
        found.append(f"{shot.name}: no prompt (add a roto: LOC marker or a --prompts entry)")
    if not has_frame_token(shot.plate) and not is_movie(shot.plate):
        found.append(f"{shot.name}: plate {shot.plate} has no frame token (####) and is not a movie")
        return found
    ends = [shot.first_frame] if is_movie(shot.plate) else [shot.first_frame, shot.last_frame]
    for frame in ends:
        missing = first_missing(shot.plate, frame, frame)
        if missing is not None:
            found.append(f"{shot.name}: plate frame {frame} is missing ({missing})")
    if found or shot.width is None or shot.height is None:
        return found
    try:
        size = probe_size(shot.plate, shot.first_frame)
    except RotofarmError as exc:
        return [f"{shot.name}: {exc.format()}"]
    if size != (shot.width, shot.height):
        where = frame_path(shot.plate, shot.first_frame) if has_frame_token(shot.plate) else shot.plate
        found.append(f"{shot.name}: plate is {size[0]}x{size[1]}, the cut says {shot.width}x{shot.height} ({where})")
    return found


def local_folder_problems(root: Path, project: str, shots: ShotList) -> list[str]:
    """Shot folders missing from the local tracker at ``root`` (read only: looking creates nothing)."""
    catalogue = root / _LOCAL_CATALOGUE
    if not catalogue.is_file():
        return [f"no local tracker at {root}: create the shot folders there first, or submit with --create-folders"]
    try:
        with sqlite3.connect(f"file:{catalogue}?mode=ro", uri=True) as db:
            paths = {row[0] for row in db.execute("SELECT path FROM folders WHERE project = ?", (project,))}
    except sqlite3.Error as exc:
        return [f"cannot read the local tracker catalogue {catalogue}: {exc}"]
    return [
        f"{shot.name}: folder {shot.folder_path} does not exist in project {project} of the local tracker at {root}"
        " (create it, or submit with --create-folders)"
        for shot in shots.shots
        if shot.folder_path not in paths
    ]


def ayon_folder_problems(project: str, shots: ShotList, tracker: AyonTracker | None = None) -> list[str]:
    """Shot folders missing from the AYON project (read only), asked of the server the publish will use.

    ``tracker`` defaults to the one ``AYON_SERVER_URL``/``AYON_API_KEY`` name; without them (or with a server that
    refuses) the check cannot run, and that is the one problem reported: on the local farm the publish would fail
    the same way, on Deadline the workers may hold their own credentials (a warning)."""
    from publish.ayon_tracker import AyonTracker

    try:
        tracker = tracker or AyonTracker.from_environment()
        tracker.open_project(project)
    except RotofarmError as exc:
        return [f"AYON folders not checked: {exc.message}"]
    problems = []
    for shot in shots.shots:
        try:
            tracker.resolve_folder(project, shot.folder_path, create=False)
        except RotofarmError as exc:
            problems.append(f"{shot.name}: {exc.message} (create it, or submit with --create-folders)")
    return problems


def local_project_exists(root: Path, project: str) -> bool:
    """Whether the local tracker at ``root`` knows ``project`` (read only)."""
    catalogue = root / _LOCAL_CATALOGUE
    if not catalogue.is_file():
        return False
    try:
        with sqlite3.connect(f"file:{catalogue}?mode=ro", uri=True) as db:
            return db.execute("SELECT 1 FROM projects WHERE name = ?", (project,)).fetchone() is not None
    except sqlite3.Error:
        return False


def summary(problems: list[str], lead: str) -> str:
    """The problems as one line: ``lead`` with their count, then each one, the first dozen in full."""
    shown = "; ".join(problems[:_SHOWN])
    more = f"; and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
    return f"{len(problems)} {lead}: {shown}{more}"
