"""Benchmark: shapes traced from real mattes (DAVIS 2016 dev set), measured from the exported files.

For each sequence of ``../shared/data/davis2016-dev`` (854x480, real ground-truth mattes nobody on this project
made): the masks go through the same path as ``rotofarm shapes`` (trace, then .json/.nk/.fxs rendered in memory);
the .fxs and the .nk are read back with our readers and rasterised by our own rasteriser (pixel centres, adds
minus subtracts), and compared per frame with the real matte:
IoU median and 10th percentile (of the .fxs; the .nk's median beside it), matte edge pixels within 2 px of the
shape edge, shapes, points max (and whether every shape keeps one point count), keys per 100 frames of
lifetime (worst shape), boil (RMS of each point's residual against its neighbourhood's steady motion:
``qa.local_boil``; over all points, and over the points where the matte moves rigidly, rigidity.py, with their
share), local motion (the plain frame-to-frame residual after the neighbourhood's similarity transform,
which also counts real bending: ``qa.local_motion``), the share of shape-frames crossing themselves in a loop of a
pixel or more (``qa.curl_frames``), and CPU seconds per 100 frames per object (trace + exports,
one core).

``--source roto`` first runs ``rotofarm roto`` (classical backend, a box prompt from the first ground-truth
matte) on the JPEG frames and traces its masks (noisy segmenter output) with the shape settings the farm uses for
them (configs/pipeline.yaml); the shapes are then measured against those masks, which is what the shapes stage has
to reproduce; each roto row is followed by the same shapes' IoU median and edge against the ground truth (what an
artist gets of the real object; not in the table). Ground-truth mattes are traced with ShapeSettings' defaults, as
``rotofarm shapes`` traces any masks.
Run: ``nice -n 10 .venv/bin/python bench/shapes_real.py [--frames N] [--source gt|roto|both] [--roto-cache DIR]
[--write] [SEQ ...]``;
``--write`` replaces this benchmark's section in bench/RESULTS.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from run_all import cpu_name

from roto_core.config import load_config
from roto_core.contracts import PipelineSettings, ShapeSettings
from roto_core.exporters import fxs_text, nk_text, read_fxs, read_nk, shapes_json_text
from roto_core.shapes.kernels import warm
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import ShapeDocument, rasterise
from roto_core.shapes.motion import KEYS_PER_100_MAX, keys_limit, mask_centroid, motion_per_frame
from roto_core.shapes.qa import RigidParts, curl_frames, edge_recall, local_motion
from roto_core.shapes.trace import MaskSource, trace_shapes

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "davis2016-dev"
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Shapes on real mattes (bench/shapes_real.py)"


@dataclass
class Row:
    sequence: str
    source: str
    frames: int
    iou_median: float
    iou_p10: float
    iou_median_nk: float
    edge: float
    shapes: int
    points_max: int
    points_constant: bool
    keys_per_100: float
    keys_per_100_all: float
    boil: float
    boil_rigid: float
    rigid_share: float
    motion: float
    crossing: float
    seconds_per_100: float
    # The shapes against the ground truth where they were traced from other masks (roto rows).
    truth_iou_median: float | None = None
    truth_edge: float | None = None
    # What the worst shape's keys are held to: 30 per 100 frames on slow motion, else 50 (roto_core.shapes.motion).
    keys_limit: float = KEYS_PER_100_MAX

    def keys_cell(self) -> str:
        slow = f" (slow: ≤ {self.keys_limit:.0f})" if self.keys_limit < KEYS_PER_100_MAX else ""
        return f"{self.keys_per_100:.0f}{slow}"

    def markdown(self) -> str:
        return (
            f"| {self.sequence} | {self.source} | {self.frames} | {self.iou_median:.3f} | {self.iou_p10:.3f} | "
            f"{self.iou_median_nk:.3f} | {self.edge:.3f} | {self.shapes} | {self.points_max}"
            f"{'' if self.points_constant else ' (varies)'} | {self.keys_cell()} | {self.keys_per_100_all:.0f} | "
            f"{self.boil:.2f} | {self.boil_rigid:.2f} | {100 * self.rigid_share:.0f} | "
            f"{self.motion:.2f} | {100 * self.crossing:.1f} | {self.seconds_per_100:.2f} |"
        )


NOTE = (
    "DAVIS 2016 dev set (whole sequences unless `frames` says otherwise), max 24 points; masks: gt = the real "
    "ground-truth mattes (ShapeSettings defaults: tolerance 1.5 px), roto = `rotofarm roto` classical backend with a "
    "box prompt from the first ground-truth matte, traced with the farm's settings for segmenter masks "
    "(configs/pipeline.yaml: tolerance {farm_tolerance:g} px) and measured against those masks, which they were "
    "traced from ("
    'their own distance to the ground truth is the segmentation\'s figure, in "Real footage" below). Measured '
    "from the exported .fxs (and .nk) read back and rasterised. Keys per 100 frames of lifetime: the worst shape "
    "and all shapes together. Boil: RMS residual of each point against its neighbourhood's steady motion "
    "(`qa.local_boil`), over all points and over the points on rigid parts (where the ground-truth matte moves by "
    "one rotation and translation around the point and its neighbours from the frame before and to the frame "
    "after, or straight from the one before to the one after, within 0.75 px, half a hand-drawn matte's "
    "tolerance, the frame between no further than the whole 1.5 px from either, and not where the picture's "
    "border cuts the object nor at a point more than 12 px off the "
    "matte's edge, on a segmenter's stray blob: `rigidity.py`; the object's rigid parts for both kinds of "
    "masks; rigid %: their share of the points); local motion: the plain "
    "frame-to-frame residual after the neighbourhood's similarity "
    "(`qa.local_motion`, counts real bending too). Crossing: the share of shape-frames on which a shape crosses "
    "itself in a loop of a pixel or more (`qa.curl_frames`). Targets: IoU median ≥ 0.95, p10 ≥ 0.90, edge ≥ 0.90, ≤ 24 "
    "points, ≤ 50 keys/100 f on any shape (≤ 30 on slow motion: the object's centroid travels at most 1 % of its "
    "size a frame over 5 frames, `roto_core.shapes.motion`, measured on the masks the row is measured against; "
    "marked 'slow'), boil on rigid parts ≤ 0.5 px, ≤ 2 CPU s/100 f per object. CPU seconds "
    "on a 2-core machine, one benchmark process at a time ({cpu} for the rows the last run wrote), after the "
    "compiled kernels are loaded ({load:.2f} s, once per process, as the imports are; before, the first row of "
    "each run paid it)."
)


def table_header(second: str) -> str:
    """The table's header, ``second`` naming the column after the sequence (masks, or a variant)."""
    names = (
        f"sequence | {second} | frames | IoU median | IoU p10 | IoU median (.nk) | edge ≤ 2 px | shapes | points max | "
        "keys/100 f worst shape | keys/100 f all | boil px | boil px, rigid parts | rigid % | "
        "local motion px | crossing % | CPU s/100 f"
    )
    return f"| {names} |\n|" + "---|" * len(names.split(" | "))


HEADER = table_header("masks")


def _roto_masks(sequence: str, frames: int, work: Path, cache: Path | None = None) -> str:
    """``rotofarm roto`` (classical) on the JPEG frames with a box around the first ground-truth matte; with
    ``cache``, kept under ``cache/<sequence>-<frames>`` and reused (the masks do not depend on the shapes code)."""
    if cache is not None:
        work = cache / f"{sequence}-{frames}"
        found = sorted((work / "roto" / "masks").glob("*.exr"))
        if found:
            return _pattern(found[0])
    first = cv2.imread(str(DATA / sequence / "Annotations" / "00000.png"), cv2.IMREAD_GRAYSCALE) > 0
    ys, xs = np.nonzero(first)
    box = f"obj@0={xs.min()},{ys.min()},{xs.max() + 1},{ys.max() + 1}"
    plate = str(DATA / sequence / "JPEGImages" / "#####.jpg")
    out = work / "roto"
    cmd = [sys.executable, "-m", "submitters.cli", "roto", plate, "--frames", f"0-{frames - 1}"]
    cmd += ["--out", str(out), "--box", box, "--backend", "classical"]
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
    found = sorted((out / "masks").glob("*.exr"))
    if not found:
        raise RuntimeError(f"rotofarm roto wrote no masks for {sequence}")
    return _pattern(found[0])


def _pattern(mask: Path) -> str:
    """``name.00012.exr`` → ``name.#####.exr`` beside it."""
    digits = mask.name.split(".")[-2]
    return str(mask.parent / (mask.name[: -len(digits) - 4] + "#" * len(digits) + ".exr"))


def measure_sequence(
    sequence: str, frames: int | None, source: str, settings: ShapeSettings, cache: Path | None = None
) -> Row:
    count = len(list((DATA / sequence / "Annotations").glob("*.png")))
    count = min(count, frames) if frames else count
    truth = MaskSequence(DATA / sequence / "Annotations" / "#####.png", 0, count - 1, default_object="matte")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pattern = str(truth.pattern) if source == "gt" else _roto_masks(sequence, count, work, cache)
        masks = MaskSequence(pattern, 0, count - 1, default_object="matte")
        c0 = time.process_time()
        doc = trace_shapes(masks, settings, name=sequence)
        files = {
            "s.json": shapes_json_text(doc).encode(),
            "s.nk": nk_text(doc, "Roto1", None).encode(),
            "s.fxs": fxs_text(doc, frame_offset=settings.fxs_frame_offset),
        }
        cpu = time.process_time() - c0
        for name, data in files.items():
            (work / name).write_bytes(data)
        fxs = read_fxs(work / "s.fxs", frame_offset=settings.fxs_frame_offset)
        nk, _ = read_nk(work / "s.nk")
        # Shapes are held to the masks they were traced from: the ground truth, or rotofarm roto's masks (whose
        # own distance to the ground truth is the segmentation's figure, not the shapes').
        reference = truth if source == "gt" else MaskSequence(pattern, 0, count - 1, default_object="matte")
        objects = len(doc.objects) or 1
        row = measured_row(sequence, source, count, reference, fxs, nk, cpu, objects, settings.min_area_px, truth)
    return row


def measured_row(
    sequence: str,
    source: str,
    count: int,
    truth: MaskSource,
    fxs: ShapeDocument,
    nk: ShapeDocument,
    cpu: float,
    objects: int,
    min_area: float = ShapeSettings().min_area_px,
    rigid_from: MaskSource | None = None,
) -> Row:
    """The table's figures for shapes read back from the exports, against the masks of ``truth``, over the
    frames where the object is present (at least ``min_area`` pixels) or a shape is drawn. Boil on rigid parts
    where the masks of ``rigid_from`` (by default ``truth``), hand-drawn mattes, move rigidly (rigidity.py, the
    band of a hand-drawn matte's tolerance): the object's rigid parts, also for shapes traced from a segmenter's
    masks, whose jitter there is boil the shapes were to smooth."""
    size = (truth.height, truth.width)
    ious, ious_nk, edges, truth_ious, truth_edges = [], [], [], [], []
    centroids: dict[int, np.ndarray] = {}
    areas: dict[int, float] = {}
    rigid = RigidParts(fxs.shapes, ShapeSettings().tolerance_px)
    for f in truth.frames:
        mask = next(iter(truth.read(f).values()), np.zeros(size, bool))
        hand_drawn = mask if rigid_from is None else next(iter(rigid_from.read(f).values()), np.zeros(size, bool))
        rigid.read(f, hand_drawn if hand_drawn.sum() >= min_area else None)
        raster = rasterise(fxs.shapes, f, size)
        area = float(mask.sum())
        if area < min_area and not raster.any():
            # As in qa.measure: the object is absent (or smaller than min_area_px) and no shape claims it.
            continue
        if area >= min_area:
            centroids[f], areas[f] = mask_centroid(mask), area
        raster_nk = rasterise(nk.shapes, f, size)
        union = max(int((raster | mask).sum()), 1)
        ious.append(float((raster & mask).sum()) / union)
        ious_nk.append(float((raster_nk & mask).sum()) / max(int((raster_nk | mask).sum()), 1))
        edges.append(edge_recall(raster, mask))
        if rigid_from is not None and rigid_from is not truth:
            truth_ious.append(float((raster & hand_drawn).sum()) / max(int((raster | hand_drawn).sum()), 1))
            truth_edges.append(edge_recall(raster, hand_drawn))
    keys = [100.0 * len(s.key_frames) / (s.last_frame - s.first_frame + 1) for s in fxs.shapes]
    lifetime = sum(s.last_frame - s.first_frame + 1 for s in fxs.shapes)
    boil, on_rigid = rigid.boil()
    motion = np.concatenate([np.zeros(0), *(local_motion(s) for s in fxs.shapes)])
    return Row(
        sequence,
        source,
        count,
        float(np.median(ious)),
        float(np.percentile(ious, 10)),
        float(np.median(ious_nk)),
        float(np.mean(edges)),
        len(fxs.shapes),
        max((s.point_count for s in fxs.shapes), default=0),
        all(s.keys.shape[1] == s.point_count for s in fxs.shapes),
        max(keys, default=0.0),
        100.0 * sum(len(s.key_frames) for s in fxs.shapes) / max(lifetime, 1),
        float(np.sqrt(np.mean(boil**2))) if boil.size else 0.0,
        float(np.sqrt(np.mean(boil[on_rigid] ** 2))) if on_rigid.any() else 0.0,
        float(on_rigid.mean()) if on_rigid.size else 0.0,
        float(np.sqrt(np.mean(motion**2))) if motion.size else 0.0,
        sum(len(curl_frames(s)) for s in fxs.shapes) / max(lifetime, 1),
        100.0 * cpu / count / objects,
        float(np.median(truth_ious)) if truth_ious else None,
        float(np.mean(truth_edges)) if truth_edges else None,
        keys_limit(motion_per_frame(centroids, areas)),
    )


def _write(rows: list[Row], note: str) -> None:
    """Replace this benchmark's section; rows of other (sequence, masks) pairs already there are kept."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    lines = {(r.sequence, r.source): r.markdown() for r in rows}
    if SECTION in text:
        start = text.index(SECTION)
        nxt = text.find("\n## ", start + len(SECTION))
        for line in text[start : nxt if nxt != -1 else len(text)].splitlines():
            cells = [c.strip() for c in line.strip("|").split("|")]
            if line.startswith("| ") and len(cells) > 2 and cells[1] in ("gt", "roto"):
                lines.setdefault((cells[0], cells[1]), line)
    ordered = [lines[k] for k in sorted(lines, key=lambda k: (k[1] != "gt", k[0]))]
    replace_section(SECTION, f"{SECTION}\n\n{note}\n\n{HEADER}\n" + "\n".join(ordered) + "\n")


def replace_section(section: str, body: str) -> None:
    """``body`` (its first line the heading ``section``, its last ending in a newline) in place of that section of
    bench/RESULTS.md, or at its end; the benchmarks that write their own table share this."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if section in text:
        start = text.index(section)
        nxt = text.find("\n## ", start + len(section))
        text = text[:start] + body + (text[nxt:] if nxt != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + body
    RESULTS.write_text(text, encoding="utf-8")


def table_parser(doc: str | None) -> argparse.ArgumentParser:
    """The command line the benchmarks that write their own table share: DAVIS sequences and ``--write``."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("sequences", nargs="*", help="DAVIS sequences (default: all of the dev set)")
    parser.add_argument("--write", action="store_true", help="replace this section of bench/RESULTS.md")
    return parser


def chosen_sequences(names: list[str]) -> list[str]:
    """``names``, or every sequence of the dev set."""
    return names or sorted(p.name for p in DATA.iterdir() if p.is_dir())


def table_of_sequences(
    section: str, doc: str | None, header: list[str], names: list[str], row: Callable[[str], str], write: bool
) -> None:
    """Print ``header`` and one ``row(sequence)`` per sequence of ``names`` (or the whole dev set) as it is
    measured; with ``write``, the table replaces ``section`` of bench/RESULTS.md (``write_table``)."""
    print("\n".join(header))
    rows = []
    for sequence in chosen_sequences(names):
        rows.append(row(sequence))
        print(rows[-1], flush=True)
    if write:
        write_table(section, doc, header, rows)


def write_table(section: str, doc: str | None, header: list[str], rows: list[str]) -> None:
    """Replace ``section`` of bench/RESULTS.md with a table: the heading, the second paragraph of the writing
    script's docstring ``doc`` (what the table measures) on one line, the header lines and the rows."""
    about = (doc or "").split("\n\n")[1].replace("\n", " ")
    replace_section(section, "\n".join([section, "", about, "", *header, *rows]) + "\n")


def loaded_kernels() -> float:
    """Load the tracer's compiled kernels (numba's cache) and return the CPU seconds it took: a once-per-process
    cost like the imports, which would otherwise land on the first row timed (DAVIS camel's ground truth, the
    first row: 2.97 s/100 f in a fresh process, 2.25-2.37 with the kernels loaded first, the load 0.76 s)."""
    c0 = time.process_time()
    warm()
    load = time.process_time() - c0
    print(f"compiled kernels loaded in {load:.2f} s (not in the CPU column)", flush=True)
    return load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sequences", nargs="*", help="DAVIS sequences (default: all of the dev set)")
    parser.add_argument("--frames", type=int, default=None, help="cut each sequence to its first N frames")
    parser.add_argument("--source", choices=("gt", "roto", "both"), default="gt")
    parser.add_argument("--write", action="store_true", help="replace this section of bench/RESULTS.md")
    parser.add_argument("--roto-cache", type=Path, default=None, help="keep rotofarm roto's masks here and reuse them")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    load = loaded_kernels()
    sequences = args.sequences or sorted(p.name for p in DATA.iterdir() if p.is_dir())
    sources = ("gt", "roto") if args.source == "both" else (args.source,)
    settings = {"gt": ShapeSettings(), "roto": load_config(PipelineSettings, "pipeline.yaml").shapes}
    rows: list[Row] = []
    print(HEADER)
    for source in sources:
        for seq in sequences:
            try:
                row = measure_sequence(seq, args.frames, source, settings[source], args.roto_cache)
            except (subprocess.CalledProcessError, RuntimeError) as exc:
                print(f"| {seq} | {source} | failed: {exc} |", flush=True)
                continue
            rows.append(row)
            print(row.markdown(), flush=True)
            if row.truth_iou_median is not None:
                print(f"  against the ground truth: IoU median {row.truth_iou_median:.3f}, edge {row.truth_edge:.3f}")
    if args.write and rows:
        _write(rows, NOTE.format(farm_tolerance=settings["roto"].tolerance_px, cpu=cpu_name(), load=load))


if __name__ == "__main__":
    main()
