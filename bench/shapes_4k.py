"""Benchmark: shapes of a farm job on a 4K plate, at the tolerance the job's settings give them.

The models see a plate of at most ``max_resolution`` on its long edge (configs/pipeline.yaml: 1024 px) and the
chunk runner upscales their masks linearly to the plate (``roto_core.chunks.runner._plate_masks``), so on a
3840x2160 plate a mask's jitter is several plate pixels. Here ``rotofarm roto``'s masks of each DAVIS dev sequence
(classical backend, bench/shapes_real.py's box prompt; first ``--frames`` frames; 854x480) are upscaled to
3840x2160 by the runner's own code, cut at one half as ``rotofarm finalize`` reads them, and traced at two
tolerances: the farm's 2.25 px as it stands for a plate the models see whole, and what ``jobs.masks_tolerance``
gives on this plate (grown by 3840 / 1024). Measured from the shapes against those masks and against the real
matte upscaled the same way (linear, cut at one half): IoU median, shapes, keys per 100 frames (worst shape and
all shapes), boil on the matte's rigid parts (bench/shapes_real.py's rule in 4K pixels: its 0.75 px band grown by
3840 / 854, while rigidity.py's 12 px window and 6 px search stay in pixels, so a part counts as rigid over a
smaller share of the object than on the 854 px plate; the two tolerances are judged alike) and CPU seconds per 100
frames (trace only).

Run: ``nice -n 10 .venv/bin/python bench/shapes_4k.py [--frames N] [--roto-cache DIR] [--write] [SEQ ...]``;
``--write`` replaces this benchmark's section in bench/RESULTS.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from shapes_real import DATA, _roto_masks, chosen_sequences, write_table

from roto_core.chunks.runner import _plate_masks
from roto_core.config import load_config
from roto_core.contracts import PipelineSettings, ShapeSettings
from roto_core.shapes.jobs import masks_tolerance
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import rasterise
from roto_core.shapes.qa import RigidParts
from roto_core.shapes.trace import InMemoryMasks, trace_shapes

PLATE = (3840, 2160)
SECTION = "## Shapes on 4K plates (bench/shapes_4k.py)"


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def _upscaled(mask: np.ndarray) -> np.ndarray:
    """A mask of the DAVIS plate as the runner writes it on the 4K plate, cut at one half."""
    plate = _plate_masks({"m": mask.astype(np.float32)}, ["m"], PLATE, np.zeros(PLATE[::-1], np.float32))
    return plate["m"] >= 0.5


def _row(sequence: str, frames: int, tolerance: float, masks: dict, truth: dict, settings: ShapeSettings) -> str:
    st = settings.model_copy(update={"tolerance_px": tolerance})
    c0 = time.process_time()
    doc = trace_shapes(InMemoryMasks(masks, *PLATE), st)
    cpu = time.process_time() - c0
    scale = PLATE[0] / 854
    rigid = RigidParts(doc.shapes, ShapeSettings().tolerance_px * scale)
    ious, truth_ious = [], []
    for f in sorted(masks):
        drawn = rasterise(doc.shapes, f, PLATE[::-1])
        ious.append(_iou(drawn, masks[f]["matte"]))
        truth_ious.append(_iou(drawn, truth[f]))
        rigid.read(f, truth[f] if truth[f].sum() >= st.min_area_px else None)
    boil, on_rigid = rigid.boil()
    keys = [100.0 * len(s.key_frames) / (s.last_frame - s.first_frame + 1) for s in doc.shapes]
    lifetime = sum(s.last_frame - s.first_frame + 1 for s in doc.shapes)
    rms = float(np.sqrt(np.mean(boil[on_rigid] ** 2))) if on_rigid.any() else 0.0
    return (
        f"| {sequence} | {frames} | {tolerance:.2f} | {len(doc.shapes)} | {max(keys, default=0):.0f} | "
        f"{100 * sum(len(s.key_frames) for s in doc.shapes) / max(lifetime, 1):.0f} | {np.median(ious):.3f} | "
        f"{np.median(truth_ious):.3f} | {rms:.2f} | {100 * cpu / frames:.1f} |"
    )


def measure(sequence: str, frames: int, cache: Path | None) -> list[str]:
    total = len(list((DATA / sequence / "Annotations").glob("*.png")))
    count = min(total, frames)
    pipeline = load_config(PipelineSettings, "pipeline.yaml")
    settings = pipeline.shapes
    with tempfile.TemporaryDirectory() as tmp:
        # The whole sequence's masks (bench/shapes_real.py's, cached under the same name), their first frames.
        pattern = _roto_masks(sequence, total, Path(tmp), cache)
        roto = MaskSequence(pattern, 0, count - 1, default_object="matte")
        masks = {f: {"matte": _upscaled(next(iter(roto.read(f).values())))} for f in roto.frames}
    truth = {}
    for f in masks:
        matte = cv2.imread(str(DATA / sequence / "Annotations" / f"{f:05d}.png"), cv2.IMREAD_GRAYSCALE) > 127
        truth[f] = _upscaled(matte)
    shipped = masks_tolerance(settings.tolerance_px, PLATE, pipeline.max_resolution, PLATE[0])
    return [_row(sequence, count, t, masks, truth, settings) for t in (settings.tolerance_px, shipped)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--roto-cache", type=Path, default=None, help="keep rotofarm roto's masks here and reuse them")
    parser.add_argument("--write", action="store_true", help="replace this benchmark's section in bench/RESULTS.md")
    parser.add_argument("sequences", nargs="*")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    rows = []
    for sequence in chosen_sequences(args.sequences):
        for row in measure(sequence, args.frames, args.roto_cache):
            print(row, flush=True)
            rows.append(row)
    header = [
        "| sequence | frames | tolerance (4K px) | shapes | keys/100 f worst shape | keys/100 f all | IoU median vs "
        "the masks | IoU median vs the real matte | boil px, rigid parts (4K px) | CPU s/100 f |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    if args.write:
        write_table(SECTION, __doc__, header, rows)


if __name__ == "__main__":
    main()
