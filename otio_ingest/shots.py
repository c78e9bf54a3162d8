"""Clip uses → shots: names, frame ranges, timecodes, paths, size and prompts.

Frame layout of every shot (``h`` handles)::

    first_frame ... first_frame+h-1 | plate frames (transition overlap + cut, retimed) | h handles ... last_frame

so ``last_frame - first_frame + 1 == plate_frames + 2 * h``, and for a plain cut ``plate_frames == cut_frames``.
A retime makes the plate span ``round(visible_frames * |speed|)`` source frames (a freeze: one), in source order.
``record_in_tc`` is the record timecode of the first plate frame shown in the cut (a transition's start where one
leads in), ``source_in_tc`` the source timecode of the plate's first frame.

Prompts land on shot frames: an EDL LOC timecode is a record timecode, so it maps to
``first_frame + h + (LOC - record_in)`` (through the retime, when there is one); other formats' markers are
relative to the clip's media, as OpenTimelineIO defines them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import opentimelineio as otio
from pydantic import ValidationError

from otio_ingest.edl_events import first_failing_event
from otio_ingest.errors import ClipError, EditorialError
from otio_ingest.events import ClipUse, clip_uses
from otio_ingest.markers import prompt_from_marker
from otio_ingest.naming import (
    as_name,
    check_template,
    fill_template,
    is_name,
    numbered_repeats,
    pick,
    shot_name_from_clip,
)
from otio_ingest.options import IngestOptions
from otio_ingest.reader import Cut, read_cut, read_edl_text
from otio_ingest.sidecar import read_sidecar
from otio_ingest.timecode import frames_to_timecode, is_timecode_rate, timecode_rate
from otio_ingest.tracks import PickedTrack, pick_track
from roto_core.contracts import Prompt, Shot, ShotList
from roto_core.sequences import frame_path, has_frame_token, is_movie, probe_pixel_aspect, probe_size


@dataclass
class _ShotPlan:
    """One shot to make: its clip uses (several when repeats merge) and the source span they cover together."""

    name: str
    uses: list[ClipUse]
    union_first: int
    plate_frames: int


def shotlist_from_file(path: Path, options: IngestOptions) -> ShotList:
    """The whole ingest: read, build shots, add sidecar prompts, validate as a ShotList.

    ``ShotList.editorial`` says which track was read, how many clips were skipped and why, and every warning.
    """
    check_template(options.folder_template, "--folder-template")
    check_template(options.plates, "--plates")
    cut = read_cut(path, options)
    skipped: dict[str, int] = {}
    try:
        shots, picked = build_shots(cut, options, skipped)
    except ClipError as exc:
        raise _located(cut, options, exc) from None
    if options.prompts is not None:
        shots = with_sidecar_prompts(shots, options.prompts)
    editorial = {"format": cut.adapter, "track": picked.label, "skipped": skipped, "warnings": cut.warnings}
    try:
        return ShotList(source=str(path), fps=_cut_rate(cut, options), shots=shots, editorial=editorial)
    except ValidationError as exc:
        raise EditorialError(f"shots are inconsistent: {exc.errors()[0]['msg']}", path=path) from None


def build_shots(cut: Cut, options: IngestOptions, skipped: dict[str, int]) -> tuple[list[Shot], PickedTrack]:
    picked = pick_track(cut, options.track, cut.warnings)
    uses = clip_uses(cut, picked, cut.warnings, skipped)
    bases = [_shot_base_name(cut, use, options) for use in uses]
    plans = _plans(uses, bases, options.merge_repeats)
    fps = _cut_rate(cut, options)
    sequence_fallback = as_name(cut.timeline.name or "") or as_name(cut.path.stem) or "cut"
    return [_shot(cut, plan, options, fps, sequence_fallback, picked) for plan in plans], picked


def _cut_rate(cut: Cut, options: IngestOptions) -> float:
    """--fps, else the cut's own rate (an EDL's read rate, the timeline's rate)."""
    return timecode_rate(options.fps) if options.fps else cut.rate


def _shot_base_name(cut: Cut, use: ClipUse, options: IngestOptions) -> str:
    """The ``name_regex`` pick from the clip name, else a folder-safe name made from the whole clip name.

    Editors' clip names are free text (``ZZ100_501 (LAY3)``, ``Frame Debugger 0h.mov``, ``/``); the shot name
    must be a folder name, so anything else becomes ``_`` and a media extension is dropped. The original clip name
    stays in the shot's metadata (``clip``).
    """
    picked = pick(options.name_regex, use.clip.name, "shot", "--name-regex")
    if picked and is_name(picked):
        return picked
    return shot_name_from_clip(picked or use.clip.name, fallback=f"clip{use.index + 1:03d}")


def _plans(uses: list[ClipUse], bases: list[str], merge: bool) -> list[_ShotPlan]:
    if merge:
        groups: dict[str, list[ClipUse]] = {}
        for base, use in zip(bases, uses, strict=True):
            groups.setdefault(base, []).append(use)
        named = list(groups.items())
    else:
        named = [(name, [use]) for name, use in zip(numbered_repeats(bases), uses, strict=True)]
    plans = []
    for name, group in named:
        first = min(u.plate_source_first for u in group)
        last = max(u.plate_source_first + u.plate_frames for u in group)
        plans.append(_ShotPlan(name, group, first, last - first))
    return plans


def _shot(
    cut: Cut, plan: _ShotPlan, options: IngestOptions, fps: float, sequence_fallback: str, picked: PickedTrack
) -> Shot:
    lead, last = plan.uses[0], plan.uses[-1]
    clip = lead.clip
    where = f"clip {clip.name!r}"
    reel = str(clip.metadata.get("cmx_3600", {}).get("reel", ""))
    sequence = (
        options.sequence or pick(options.sequence_regex, plan.name, "sequence", "--sequence-regex") or sequence_fallback
    )
    values = {"shot": plan.name, "sequence": as_name(sequence) or sequence_fallback, "clip": clip.name, "reel": reel}
    first = options.start_frame
    h = options.handles
    plate = fill_template(options.plates, values, "--plates")
    width, height, pixel_aspect = _plate_size(plate, first, options)
    prompts = [p for use in plan.uses for p in _marker_prompts(cut, plan, use, first, h)]

    def timecode(frames: int, rate: float = fps) -> str:
        try:
            return frames_to_timecode(frames, rate, cut.drop_frame)
        except EditorialError as exc:
            raise ClipError(exc.message, path=cut.path, where=where) from None

    metadata: dict[str, object] = {
        "clip": clip.name,
        "cut_frames": sum(u.cut_frames for u in plan.uses),
        "plate_frames": plan.plate_frames,
        "record_out_tc": timecode(last.record_in + last.cut_frames + last.tail),
        "editorial": {"format": cut.adapter, "track": picked.label},
    }
    if reel:
        metadata["reel"] = reel
    if lead.head or lead.tail:
        metadata["transition"] = {"head": lead.head, "tail": lead.tail}
    if lead.retime:
        metadata["retime"] = lead.retime | {"source_frames": lead.plate_frames, "cut_frames": lead.cut_frames}
    if len(plan.uses) > 1:
        metadata["uses"] = [
            {"record_in_tc": timecode(u.visible_record_in), "cut_frames": u.cut_frames} for u in plan.uses
        ]
    try:
        return Shot(
            name=plan.name,
            folder_path=fill_template(options.folder_template, values, "--folder-template"),
            plate=plate,
            first_frame=first,
            last_frame=first + plan.plate_frames + 2 * h - 1,
            handles=h,
            fps=fps,
            width=width,
            height=height,
            pixel_aspect=pixel_aspect,
            source_in_tc=_source_timecode(plan, fps, timecode),
            record_in_tc=timecode(lead.visible_record_in),
            prompts=prompts,
            metadata=metadata,
        )
    except ValidationError as exc:
        raise ClipError(
            f"cannot make shot {plan.name!r}: {exc.errors()[0]['msg']}", path=cut.path, where=f"clip {clip.name!r}"
        ) from None


def _source_timecode(plan: _ShotPlan, fps: float, timecode: Callable[..., str]) -> str:
    """The plate's first source frame as the media's own timecode: at the clip's rate where that rate has SMPTE
    timecode and differs from the cut's (a 25 fps clip in a 24 fps sequence), else at the cut's rate."""
    source_rate = plan.uses[0].source_rate
    if source_rate and abs(source_rate - fps) > 1e-6 and is_timecode_rate(source_rate):
        seconds = plan.union_first / fps
        return timecode(round(seconds * source_rate), timecode_rate(source_rate))
    return timecode(plan.union_first)


def _plate_size(plate: str, first_frame: int, options: IngestOptions) -> tuple[int, int, float]:
    """Size and pixel aspect of the first plate frame when it is on disk (a plate may not be delivered yet), else
    the config's size and square pixels."""
    on_disk = Path(plate) if is_movie(plate) or not has_frame_token(plate) else frame_path(plate, first_frame)
    if on_disk.is_file():
        return (*probe_size(plate, first_frame), probe_pixel_aspect(plate, first_frame))
    return options.width, options.height, 1.0


def _marker_prompts(cut: Cut, plan: _ShotPlan, use: ClipUse, first: int, h: int) -> list[Prompt]:
    prompts = []
    for marker in use.markers:
        text = marker.name or ""
        where = f"clip {use.clip.name!r}: marker {text!r}"
        try:
            asked = prompt_from_marker(text)
        except ValueError as exc:
            raise ClipError(str(exc), path=cut.path, where=where) from None
        if asked is None:
            continue
        at = _frames(marker.marked_range.start_time, use.rate)
        offset = at - use.visible_record_in if cut.is_edl else at - use.source_in + use.head
        if not 0 <= offset < use.visible_frames:
            span = f"{use.visible_frames} frames"
            raise ClipError(
                f"marker lies outside its clip ({offset} frames from its start, clip is {span})",
                path=cut.path,
                where=where,
            )
        frame = first + h + (use.plate_source_first - plan.union_first) + use.plate_offset(offset)
        prompts.append(Prompt(object=asked.object, frame=frame, text=asked.text, box=asked.box))
    return prompts


def _frames(t: otio.opentime.RationalTime, rate: float) -> int:
    return round(t.value_rescaled_to(rate))


def with_sidecar_prompts(shots: list[Shot], path: Path) -> list[Shot]:
    """``shots`` with the prompts of the sidecar at ``path`` added (also used for shots taken from the tracker)."""
    by_name = {s.name: s for s in shots}
    added: dict[str, list[Prompt]] = {}
    sidecar = read_sidecar(path)
    for name, line in sidecar.shots.items():
        if name not in by_name:
            known = ", ".join(sorted(by_name)) or "none"
            raise EditorialError(
                f"prompts for shot {name!r}, which the cut does not have (shots: {known})", path=path, line=line
            )
    for entry in sidecar.entries:
        shot = by_name[entry.shot]
        p = entry.prompt
        frame = p.shot_frame(shot.first_frame, shot.handles)
        if not shot.first_frame <= frame <= shot.last_frame:
            raise EditorialError(
                f"{entry.shot}/{entry.object}: frame {frame} is outside the shot's "
                f"{shot.first_frame}-{shot.last_frame}",
                path=path,
                line=entry.line,
            )
        try:
            prompt = Prompt(object=entry.object, frame=frame, text=p.text, box=p.box, points=p.points, mask=p.mask)
        except ValidationError as exc:
            raise EditorialError(
                f"{entry.shot}/{entry.object}: {exc.errors()[0]['msg']}", path=path, line=entry.line
            ) from None
        added.setdefault(entry.shot, []).append(prompt)
    return [s.model_copy(update={"prompts": s.prompts + added.get(s.name, [])}) for s in shots]


def _located(cut: Cut, options: IngestOptions, exc: ClipError) -> EditorialError:
    """For an EDL, the same error pointing at the event's line; for other formats, as it is."""
    if cut.edl_text is None:
        return EditorialError(exc.message, path=exc.path, line=exc.line, where=exc.where)

    same_rate = options.model_copy(update={"fps": cut.rate})  # a part of the EDL must not detect another rate

    def fails(prefix: str) -> bool:
        try:
            build_shots(read_edl_text(cut.path, prefix, same_rate), same_rate, {})
        except ClipError:
            return True
        except EditorialError:
            pass  # e.g. the header alone has no video track: not a clip's fault
        return False

    event = first_failing_event(cut.edl_text, fails)
    if event is None:
        return EditorialError(exc.message, path=exc.path, where=exc.where)
    where = f"event {event.number}: {exc.where}" if exc.where else f"event {event.number}"
    return EditorialError(exc.message, path=cut.path, line=event.line, where=where)
