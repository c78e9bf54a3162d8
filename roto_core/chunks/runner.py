"""One farm task: a chunk of a shot's frames, from plate to mask EXRs, state for the next chunk and a report.

The runner owns everything around the model: frame reading and scaling, prompt checks and scaling, seeding
from prompts or from the previous chunk's state, writing masks at plate resolution (and mattes when matting is
on), and the ``ChunkResult``. Frames are streamed one at a time, and every file goes through a temporary name,
so a killed task leaves nothing half-written and a rerun writes the same bytes.
"""

from __future__ import annotations

import resource
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from roto_core.atomic import TMP_MARK, remove_stale_temps
from roto_core.backends.base import Matter, ObjectMasks, SegmentationBackend, TextBoxer
from roto_core.backends.confidence import rekey_frames
from roto_core.backends.mask_prompt import check_mask_prompt
from roto_core.chunks.backfill import backfill, first_keys
from roto_core.chunks.state import load_state, save_state
from roto_core.contracts import ChunkResult, JobManifest, PipelineSettings, Prompt
from roto_core.errors import InputError
from roto_core.frames import FrameSource
from roto_core.jobfolder import JobFolder
from roto_core.maskio import write_mask_exr

ProgressFn = Callable[[int, int], None]


@dataclass
class Models:
    """The loaded models a worker keeps between chunks; text and matting models are built on first use."""

    backend: SegmentationBackend
    device: str
    make_boxer: Callable[[], TextBoxer] | None = None
    make_matter: Callable[[], Matter] | None = None
    _boxer: TextBoxer | None = field(default=None, repr=False)
    _matter: Matter | None = field(default=None, repr=False)

    def boxer(self) -> TextBoxer:
        if self._boxer is None:
            if self.make_boxer is None:
                raise InputError("a text prompt needs the text-to-box model, which this run has not configured")
            self._boxer = self.make_boxer()
        return self._boxer

    def matter(self) -> Matter:
        if self._matter is None:
            if self.make_matter is None:
                raise InputError("matting is on, but this run has no matting model configured")
            self._matter = self.make_matter()
        return self._matter

    def close(self) -> None:
        self.backend.close()


def chunk_ranges(first: int, last: int, size: int) -> list[tuple[int, int]]:
    """Consecutive, disjoint ``(a, b)`` ranges of at most ``size`` frames covering ``first..last``."""
    return [(a, min(a + size - 1, last)) for a in range(first, last + 1, size)]


def _peak_rss_mb() -> float:
    """This process's peak resident memory since it started running our program.

    Linux's ``ru_maxrss`` also counts the parent's pages a forked child held before ``exec``, so a worker started
    by a large process would report the parent's size; ``VmHWM`` belongs to the program's own address space.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _check_prompt_inside(prompt: Prompt, shot_name: str, size: tuple[int, int]) -> None:
    w, h = size
    where = f"shot {shot_name}, frame {prompt.frame}, object {prompt.object}"
    coords: list[tuple[float, float]] = []
    if prompt.box is not None:
        coords = [(prompt.box[0], prompt.box[1]), (prompt.box[2], prompt.box[3])]
    elif prompt.points is not None:
        coords = [(x, y) for x, y, _ in prompt.points]
    for x, y in coords:
        if not (0 <= x <= w and 0 <= y <= h):
            raise InputError(f"prompt point ({x:g}, {y:g}) is outside the {w}x{h} image", where=where)
    if prompt.mask is not None:
        check_mask_prompt(prompt, size, where, allow_empty=True)


def _scaled(prompt: Prompt, sx: float, sy: float) -> Prompt:
    if prompt.box is not None:
        x0, y0, x1, y1 = prompt.box
        return prompt.model_copy(update={"box": (x0 * sx, y0 * sy, x1 * sx, y1 * sy)})
    if prompt.points is not None:
        return prompt.model_copy(update={"points": [(x * sx, y * sy, lab) for x, y, lab in prompt.points]})
    return prompt


def _previous_state_dir(job: JobFolder, first: int) -> Path | None:
    """The state folder of the chunk that ends just before ``first`` (chunk sizes may differ between runs)."""
    chunks = job.root / "chunks"
    if not chunks.is_dir():
        return None
    candidates = [p for p in chunks.glob(f"*-{first - 1}") if p.is_dir() and p.name.split("-")[0].isdigit()]
    if not candidates:
        return None
    return max(candidates, key=lambda p: int(p.name.split("-")[0])) / "state"


def _clear_own_temps(job: JobFolder, frames: range) -> None:
    """Temporaries of a killed run of this chunk (and only of this chunk: others may be writing beside it)."""
    for frame in frames:
        for path in (job.mask_path(frame), job.matte_path(frame)):
            for tmp in path.parent.glob(f".{path.stem}{TMP_MARK}*"):
                tmp.unlink(missing_ok=True)


class _Timer:
    def __init__(self) -> None:
        self.totals: dict[str, float] = {}

    def add(self, stage: str, start: float) -> float:
        now = time.perf_counter()
        self.totals[stage] = self.totals.get(stage, 0.0) + now - start
        return now


def run_chunk(
    manifest: JobManifest,
    job: JobFolder,
    first: int,
    last: int,
    models: Models,
    progress: ProgressFn | None = None,
) -> ChunkResult:
    """Run frames ``first..last`` of the manifest's shot and write masks, state and ``report.json``."""
    t_start = time.perf_counter()
    timer = _Timer()
    shot, settings = manifest.shot, manifest.pipeline
    if first > last or first < shot.first_frame or last > shot.last_frame:
        raise InputError(
            f"chunk {first}-{last} is not inside the shot's frames {shot.first_frame}-{shot.last_frame}",
            where=f"shot {shot.name}",
        )
    frames = range(first, last + 1)
    _clear_own_temps(job, frames)
    remove_stale_temps(job.chunk_dir(first, last))
    limit = _working_limit(settings.max_resolution, models.backend)
    objects = shot.objects
    warnings: list[str] = []
    seeds_info: dict[str, str] = {}
    in_chunk = sorted((p for p in shot.prompts if first <= p.frame <= last), key=lambda p: (p.frame, p.object))
    history = _history(job, manifest, first, in_chunk, limit, seeds_info)
    if history is None:  # no state before this chunk (its predecessor failed or runs elsewhere): rebuild from keys
        in_chunk = _nearest_keys(shot.prompts, shot.objects, first, in_chunk, warnings)
        history = []
    start = history[0][0] if history else min([first, *(p.frame for p in in_chunk)])

    t = timer.add("setup", t_start)
    source = FrameSource(shot.plate, start, last, max_size=limit, movie_first_frame=shot.first_frame, prefetch=True)
    plate_source = (
        FrameSource(shot.plate, first, last, movie_first_frame=shot.first_frame) if settings.matting else None
    )
    plate_w, plate_h = source.plate_size
    work_w, work_h = source.size
    recent: deque[tuple[int, dict[str, np.ndarray]]] = deque(maxlen=settings.overlap + 1)
    written: dict[str, list[str]] = {o: [] for o in objects}
    found: set[str] = set()
    confidence: dict[str, dict[int, float]] = {o: {} for o in objects}
    zero = np.zeros((plate_h, plate_w), np.float32)
    try:
        seeds: dict[int, ObjectMasks] = {frame - start: dict(masks) for frame, masks in history}
        t = timer.add("open", t)
        _key_seeds(in_chunk, source, start, models, shot.name, seeds, seeds_info, warnings)
        t = timer.add("key", t)
        carried = {o for _, masks in history for o in masks}
        keys = first_keys(seeds, start, first, carried)
        filled: dict[int, ObjectMasks] = {}
        if keys:
            behind = FrameSource(
                shot.plate, first, max(keys.values()), max_size=limit, movie_first_frame=shot.first_frame
            )
            try:
                filled = backfill(models.backend, behind, keys, seeds, start)
            finally:
                behind.close()
            t = timer.add("backfill", t)
        # Masks are compressed and written on a second thread while the backend works on the next frame; at most
        # two frames wait, so memory stays bounded.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mask-writer") as writer:
            pending: deque[Future] = deque()
            for index, masks in models.backend.propagate(source, seeds):
                t = timer.add("propagate", t)
                frame = start + index
                behind_key = filled.pop(frame, {})
                if behind_key:
                    masks = {**{o: m.astype(np.float32) for o, m in behind_key.items()}, **masks}
                recent.append((frame, {o: np.asarray(m, np.float32) for o, m in masks.items()}))
                if frame < first:
                    continue
                for obj, value in (getattr(models.backend, "frame_confidence", None) or {}).items():
                    confidence.setdefault(obj, {})[frame] = round(float(value), 3)
                full = _plate_masks(masks, objects, (plate_w, plate_h), zero)
                for obj, m in full.items():
                    if m is not zero and (m >= 0.5).any():
                        found.add(obj)
                        written[obj].append(str(job.mask_path(frame).relative_to(job.root)))
                t = timer.add("upscale", t)
                pending.append(writer.submit(write_mask_exr, job.mask_path(frame), full, shape=(plate_h, plate_w)))
                if plate_source is not None:
                    matter = models.matter()
                    plate = plate_source.read(frame)
                    mattes = {o: matter.matte(plate, m) if (m >= 0.5).any() else m for o, m in full.items()}
                    pending.append(
                        writer.submit(write_mask_exr, job.matte_path(frame), mattes, shape=(plate_h, plate_w))
                    )
                    t = timer.add("matting", t)
                while len(pending) > 2:
                    pending.popleft().result()
                t = timer.add("write", t)
                if progress is not None:
                    progress(frame - first + 1, len(frames))
                t = time.perf_counter()
            while pending:
                pending.popleft().result()
            t = timer.add("write", t)
    finally:
        source.close()
        if plate_source is not None:
            plate_source.close()

    for obj in objects:
        if obj not in found:
            warnings.append(f"object {obj}: not found on frames {first}-{last}; its masks are empty")
    state_dir = job.chunk_state(first, last)
    save_state(state_dir, list(recent), objects, (work_w, work_h))
    t = timer.add("state", t)
    # Decoding runs on the frame source's own thread, overlapping "propagate"; it is reported beside it.
    timer.totals["decode"] = source.decode_seconds
    timer.totals["total"] = time.perf_counter() - t_start
    result = ChunkResult(
        job_id=manifest.job_id,
        first_frame=first,
        last_frame=last,
        frames=list(frames),
        objects=objects,
        masks=written,
        seeds=seeds_info,
        state=str(state_dir.relative_to(job.root)),
        timings={k: round(v, 4) for k, v in timer.totals.items()},
        peak_rss_mb=round(_peak_rss_mb(), 1),
        backend=models.backend.name,
        device=models.device,
        qa={"working_size": [work_w, work_h], "plate_size": [plate_w, plate_h]},
        warnings=warnings,
        confidence={o: c for o, c in confidence.items() if c},
        rekey_frames={o: rekey_frames(c) for o, c in confidence.items() if c},
    )
    result.save(job.chunk_report(first, last))
    return result


def _working_limit(settings_limit: int | None, backend: SegmentationBackend) -> int | None:
    """The long edge frames are scaled to: the pipeline's limit, lowered by the backend's own if it has one."""
    own = getattr(backend, "max_resolution", None)
    if own is None:
        return settings_limit
    return own if settings_limit is None else min(settings_limit, own)


def _history(
    job: JobFolder,
    manifest: JobManifest,
    first: int,
    in_chunk: list[Prompt],
    limit: int | None,
    seeds_info: dict[str, str],
) -> list[tuple[int, dict[str, np.ndarray]]] | None:
    """The previous chunk's last masks (as memory), unless this chunk starts the shot or prompts every object on
    its first frame; None when no chunk ending just before it has left its state."""
    shot = manifest.shot
    prompted_at_first = {p.object for p in in_chunk if p.frame == first}
    if first == shot.first_frame or set(shot.objects) <= prompted_at_first:
        return []
    state_dir = _previous_state_dir(job, first)
    if state_dir is None:
        return None
    probe = FrameSource(shot.plate, first, first, max_size=limit, movie_first_frame=shot.first_frame)
    history = load_state(state_dir, probe.size)
    probe.close()
    for obj in sorted({o for _, masks in history for o in masks}):
        seeds_info[obj] = f"state {state_dir.parent.name}"
    return history


def _nearest_keys(
    prompts: list[Prompt], objects: list[str], first: int, in_chunk: list[Prompt], warnings: list[str]
) -> list[Prompt]:
    """``in_chunk`` plus, for each object not prompted on ``first``, its prompts on its latest key frame before
    ``first``: the chunk then propagates forward from those keys (writing from ``first`` on) instead of failing,
    so a task whose predecessor has not left its state does not burn its error count on the farm."""
    keyed_at_first = {p.object for p in in_chunk if p.frame == first}
    added: list[Prompt] = []
    for obj in objects:
        earlier = [p.frame for p in prompts if p.object == obj and p.frame < first]
        if obj not in keyed_at_first and earlier:
            added += [p for p in prompts if p.object == obj and p.frame == max(earlier)]
    frames = sorted({p.frame for p in added})
    warnings.append(
        f"no state from a chunk ending at frame {first - 1}: rebuilt from the keys on frames {frames or 'in the chunk'}"
    )
    return sorted([*added, *in_chunk], key=lambda p: (p.frame, p.object))


def _key_seeds(
    in_chunk: list[Prompt],
    source: FrameSource,
    start: int,
    models: Models,
    shot_name: str,
    seeds: dict[int, ObjectMasks],
    seeds_info: dict[str, str],
    warnings: list[str],
) -> None:
    """Key masks of the chunk's prompts added to ``seeds`` (several prompts of one object on a frame: union)."""
    plate_w, plate_h = source.plate_size
    sx, sy = source.size[0] / plate_w, source.size[1] / plate_h
    for given in in_chunk:
        _check_prompt_inside(given, shot_name, (plate_w, plate_h))
    for given in in_chunk:
        if given.text is not None:
            prompt = _text_to_box(given, source.read(given.frame), models, warnings)
            if prompt is None:
                continue
        else:
            prompt = _scaled(given, sx, sy)
        mask = np.asarray(models.backend.key_mask(source.read(prompt.frame), prompt), dtype=np.float32)
        slot = seeds.setdefault(prompt.frame - start, {})
        slot[prompt.object] = np.maximum(slot[prompt.object], mask) if prompt.object in slot else mask
        seeds_info[given.object] = f"{given.kind} prompt on frame {given.frame}"
        if not (mask >= 0.5).any():
            warnings.append(f"object {given.object}: the {given.kind} prompt on frame {given.frame} found nothing")


def _plate_masks(
    masks: ObjectMasks, objects: list[str], plate_size: tuple[int, int], zero: np.ndarray
) -> dict[str, np.ndarray]:
    """Every object's mask at plate resolution (linear upscaling keeps a soft, sub-pixel edge); absent → zero."""
    full: dict[str, np.ndarray] = {}
    for obj in objects:
        m = masks.get(obj)
        if m is None:
            full[obj] = zero
        elif (m.shape[1], m.shape[0]) == plate_size:
            full[obj] = np.clip(m, 0.0, 1.0)
        else:
            full[obj] = np.clip(cv2.resize(m, plate_size, interpolation=cv2.INTER_LINEAR), 0.0, 1.0)
    return full


def _text_to_box(prompt: Prompt, frame: np.ndarray, models: Models, warnings: list[str]) -> Prompt | None:
    """The best box Grounding DINO finds for a text prompt (in working pixels), or None with a warning."""
    assert prompt.text is not None
    boxes = models.boxer().boxes(frame, prompt.text)
    if not boxes:
        warnings.append(f"object {prompt.object}: nothing matches {prompt.text!r} on frame {prompt.frame}")
        return None
    x0, y0, x1, y1, _score = boxes[0]  # already in working pixels: the boxer saw the working frame
    return Prompt(object=prompt.object, frame=prompt.frame, box=(x0, y0, x1, y1))


def load_models(settings: PipelineSettings, device: str) -> Models:
    """The backend of ``settings`` on ``device``, with the text and matting models ready to build on first use."""
    from roto_core.backends import create_backend, create_matter, create_text_boxer, resolve_device

    resolved = resolve_device(device)
    return Models(
        backend=create_backend(settings, resolved),
        device=resolved,
        make_boxer=lambda: create_text_boxer(settings, resolved),
        make_matter=lambda: create_matter(settings, resolved),
    )
