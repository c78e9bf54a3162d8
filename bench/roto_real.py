"""Benchmark: segmentation on real footage (DAVIS 2016 dev set) — classical backend vs plain flow warping.

For every sequence of ``../shared/data/davis2016-dev`` (JPEG frames, PNG ground truth, one object):

- **mask prompt**: the classical backend keyed with the first frame's ground-truth mask;
- **box prompt**: the same, keyed with the bounding box of that mask (what an artist drags);
- **flow-warp baseline**: the first mask carried frame to frame by Farneback optical flow and nothing else
  (the floor the issue sets: the backend must never be worse than warping the key);
- **flags**: frames the backend lists as needing a new key (its own confidence below the re-key threshold) against
  the frames where its mask prompt run scores J < 0.5: precision and recall;
- **fps**: the backend's own rate on decoded frames (mask prompt run, CPU time of the process, so other work on
  a shared machine does not count), and ``rotofarm roto`` end to end (JPEG in, EXR out, a real child process, wall
  time) on one sequence.

Scores follow DAVIS: J (IoU) and F (boundary, 0.8 % of the diagonal) at 854×480, first and last frame excluded.
Run: ``nice -n 10 .venv/bin/python bench/roto_real.py [--sequences a,b] [--max-frames N] [--write]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from roto_core.backends.classical import ClassicalBackend
from roto_core.backends.confidence import REKEY_BELOW
from roto_core.contracts import Prompt
from roto_core.frames import FrameSource
from roto_core.metrics import boundary_f, jaccard

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "davis2016-dev"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
BEGIN, END = "<!-- roto_real:begin -->", "<!-- roto_real:end -->"
BAD_J = 0.5


@dataclass
class Run:
    """Per-frame scores of one method on one sequence (index 0 is the key frame)."""

    j: list[float] = field(default_factory=list)
    f: list[float] = field(default_factory=list)
    confidence: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def mean(self, values: list[float]) -> float:
        inner = values[1:-1] if len(values) > 2 else values  # DAVIS: first and last frame excluded
        return float(np.mean(inner))

    @property
    def jm(self) -> float:
        return self.mean(self.j)

    @property
    def fm(self) -> float:
        return self.mean(self.f)


def gt_masks(seq: Path, count: int) -> list[np.ndarray]:
    files = sorted((seq / "Annotations").glob("*.png"))[:count]
    return [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) >= 128 for p in files]


def frame_count(seq: Path, max_frames: int | None) -> int:
    n = len(list((seq / "JPEGImages").glob("*.jpg")))
    return min(n, max_frames) if max_frames else n


def score(run: Run, pred: np.ndarray, gt: np.ndarray) -> None:
    run.j.append(jaccard(pred, gt))
    run.f.append(boundary_f(pred, gt))


def run_backend(seq: Path, count: int, prompt_kind: str, gts: list[np.ndarray]) -> Run:
    """The classical backend as the runner drives it: working resolution in, masks upscaled to the plate.

    ``seconds`` is the CPU time of this process inside the backend (key mask and propagation): on a machine shared
    with other work, wall time measures the neighbours as much as the backend.
    """
    source = FrameSource(str(seq / "JPEGImages" / "#####.jpg"), 0, count - 1, max_size=ClassicalBackend.max_resolution)
    plate_w, plate_h = source.plate_size
    sx = source.size[0] / plate_w
    frames = [source[i] for i in range(count)]  # decoded up front: the backend's own time is measured
    source.close()
    first = gts[0]
    backend = ClassicalBackend()
    with tempfile.TemporaryDirectory() as tmp:
        if prompt_kind == "mask":
            path = Path(tmp) / "key.png"
            cv2.imwrite(str(path), first.astype(np.uint8) * 255)
            prompt = Prompt(object="obj", frame=0, mask=str(path))
        else:
            ys, xs = np.nonzero(first)
            box = (xs.min() * sx, ys.min() * sx, (xs.max() + 1) * sx, (ys.max() + 1) * sx)
            prompt = Prompt(object="obj", frame=0, box=box)
        started = time.process_time()
        key = backend.key_mask(frames[0], prompt)
    run = Run()
    steps = backend.propagate(frames, {0: {"obj": key}})
    for index in range(count):
        _, masks = next(steps)
        run.seconds += time.process_time() - started
        m = cv2.resize(masks["obj"].astype(np.float32), (plate_w, plate_h), interpolation=cv2.INTER_LINEAR) >= 0.5
        run.confidence.append(backend.frame_confidence.get("obj", 1.0))
        score(run, m, gts[index])
        started = time.process_time()
    return run


def run_flow_warp(seq: Path, count: int, gts: list[np.ndarray]) -> Run:
    """Farneback flow warping of the first mask, frame to frame, at full resolution: nothing else."""
    files = sorted((seq / "JPEGImages").glob("*.jpg"))[:count]
    run = Run()
    started = time.perf_counter()
    mask = gts[0].astype(np.float32)
    prev = cv2.cvtColor(cv2.imread(str(files[0])), cv2.COLOR_BGR2GRAY)
    score(run, mask >= 0.5, gts[0])
    h, w = prev.shape
    grid_y, grid_x = np.indices((h, w), dtype=np.float32)
    for i in range(1, count):
        gray = cv2.cvtColor(cv2.imread(str(files[i])), cv2.COLOR_BGR2GRAY)
        back = cv2.calcOpticalFlowFarneback(gray, prev, None, 0.5, 3, 15, 3, 5, 1.2, 0)
        mask = cv2.remap(mask, grid_x + back[..., 0], grid_y + back[..., 1], cv2.INTER_LINEAR, borderValue=0.0)
        score(run, mask >= 0.5, gts[i])
        prev = gray
    run.seconds = time.perf_counter() - started
    return run


def flags(run: Run, bad_of: Run) -> tuple[int, int, int]:
    """(flagged, flagged and bad, bad) over the frames after the key."""
    flagged = {i for i, c in enumerate(run.confidence) if i > 0 and c < REKEY_BELOW}
    bad = {i for i, j in enumerate(bad_of.j) if i > 0 and j < BAD_J}
    return len(flagged), len(flagged & bad), len(bad)


def end_to_end_fps(seq: Path, count: int) -> float:
    """``rotofarm roto`` in a child process: JPEG frames in, mask EXRs out, process start-up included."""
    gt = cv2.imread(str(sorted((seq / "Annotations").glob("*.png"))[0]), cv2.IMREAD_GRAYSCALE)
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "key.png"
        cv2.imwrite(str(key), gt)
        cmd = [sys.executable, "-m", "submitters.cli", "roto", str(seq / "JPEGImages" / "#####.jpg")]
        cmd += ["--frames", f"0-{count - 1}", "--out", str(Path(tmp) / "out"), "--mask", f"obj@0={key}"]
        started = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(Path.cwd())})
        return count / (time.perf_counter() - started)


def hd_backend_fps(frames: int = 40) -> tuple[float, float]:
    """The 1080p figure of bench/pipeline.py (synthetic 1920x1080 shot, working 640x360, two objects), as
    (wall-clock fps, CPU-time fps): the second is what a shared machine cannot disturb."""
    from roto_core.synthetic import make_shot

    with tempfile.TemporaryDirectory() as tmp:
        shot = make_shot(Path(tmp), frames=frames, width=1920, height=1080, seed=5)
        source = FrameSource(shot.plate, shot.first_frame, shot.last_frame, max_size=ClassicalBackend.max_resolution)
        decoded = [source[i] for i in range(len(source))]
        source.close()
    backend = ClassicalBackend()
    seeds: dict[int, dict[str, np.ndarray]] = {0: {}}
    for p in shot.prompts:
        assert p.box is not None
        scaled = p.model_copy(update={"box": tuple(v * source.scale for v in p.box)})
        seeds[0][p.object] = backend.key_mask(decoded[0], scaled)
    wall, cpu = time.perf_counter(), time.process_time()
    n = sum(1 for _ in backend.propagate(decoded, seeds))
    return n / (time.perf_counter() - wall), n / (time.process_time() - cpu)


def ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--sequences", default="", help="comma-separated names (default: all)")
    parser.add_argument("--max-frames", type=int, default=None, help="only the first N frames of each sequence")
    parser.add_argument("--no-box", action="store_true", help="skip the box prompt runs")
    parser.add_argument("--no-warp", action="store_true", help="skip the flow-warp baseline (iterating only)")
    parser.add_argument("--hd", action="store_true", help="also the 1080p synthetic backend figure")
    parser.add_argument("--no-e2e", action="store_true", help="skip the rotofarm roto end-to-end timing")
    parser.add_argument("--dump", type=Path, default=None, help="per-frame J and confidence as JSON (analysis)")
    parser.add_argument("--write", action="store_true", help="record the table in bench/RESULTS.md")
    args = parser.parse_args()
    names = args.sequences.split(",") if args.sequences else sorted(p.name for p in args.data.iterdir() if p.is_dir())
    lines = [
        "| sequence | frames | mask J | mask F | mask J&F | box J | box F | box J&F | flow-warp J | "
        "flagged | flag precision | flag recall | backend fps (CPU) |",
        "|---" * 13 + "|",
    ]
    totals = {"mask": [], "maskf": [], "box": [], "boxf": [], "warp": [], "below": []}
    flag_sum = [0, 0, 0]
    dump: dict[str, dict[str, list[float]]] = {}
    frames_sum, seconds_sum = 0, 0.0
    for name in names:
        seq = args.data / name
        count = frame_count(seq, args.max_frames)
        gts = gt_masks(seq, count)
        mask_run = run_backend(seq, count, "mask", gts)
        box_run = None if args.no_box else run_backend(seq, count, "box", gts)
        warp = Run(j=[float("nan")] * 3) if args.no_warp else run_flow_warp(seq, count, gts)
        n_flag, n_hit, n_bad = flags(mask_run, mask_run)
        dump[name] = {"j": mask_run.j, "confidence": mask_run.confidence, "warp_j": warp.j}
        flag_sum = [flag_sum[0] + n_flag, flag_sum[1] + n_hit, flag_sum[2] + n_bad]
        fps = count / mask_run.seconds
        frames_sum, seconds_sum = frames_sum + count, seconds_sum + mask_run.seconds
        totals["mask"].append(mask_run.jm)
        totals["maskf"].append(mask_run.fm)
        totals["warp"].append(warp.jm)
        totals["below"].append(mask_run.jm < warp.jm)
        bj = bf = float("nan")
        if box_run is not None:
            bj, bf = box_run.jm, box_run.fm
            totals["box"].append(bj)
            totals["boxf"].append(bf)
        row = (
            f"| {name} | {count} | {mask_run.jm:.3f} | {mask_run.fm:.3f} | {(mask_run.jm + mask_run.fm) / 2:.3f} "
            f"| {bj:.3f} | {bf:.3f} | {(bj + bf) / 2:.3f} | {warp.jm:.3f} | {n_flag} "
            f"| {ratio(n_hit, n_flag)} | {ratio(n_hit, n_bad)} | {fps:.1f} |"
        )
        lines.append(row)
        print(row, flush=True)
    mj, mf = float(np.mean(totals["mask"])), float(np.mean(totals["maskf"]))
    bj = float(np.mean(totals["box"])) if totals["box"] else float("nan")
    bf = float(np.mean(totals["boxf"])) if totals["boxf"] else float("nan")
    lines.append(
        f"| **mean** | {frames_sum} | {mj:.3f} | {mf:.3f} | {(mj + mf) / 2:.3f} | {bj:.3f} | {bf:.3f} "
        f"| {(bj + bf) / 2:.3f} | {np.mean(totals['warp']):.3f} | {flag_sum[0]} | {ratio(flag_sum[1], flag_sum[0])} "
        f"| {ratio(flag_sum[1], flag_sum[2])} | {frames_sum / seconds_sum:.1f} |"
    )
    print(lines[-1])
    print(f"mask-prompt mean J {mj:.3f}: ratio to the 0.65 goal: {mj / 0.65:.2f}")
    if totals["box"]:
        print(f"box-prompt mean J {bj:.3f}: ratio to the 0.55 goal: {bj / 0.55:.2f}")
    if args.dump is not None:
        args.dump.write_text(json.dumps(dump))
    print(f"sequences below the flow-warp baseline: {sum(totals['below'])} of {len(names)}")
    e2e = None
    if not args.no_e2e:
        e2e = end_to_end_fps(args.data / names[0], frame_count(args.data / names[0], args.max_frames))
        print(
            f"rotofarm roto end to end on {names[0]} (854x480 JPEG in, EXR out): {e2e:.1f} fps; "
            f"ratio to the 5 fps goal: {e2e / 5:.2f}"
        )
    hd = None
    if args.hd:
        hd = hd_backend_fps()
        print(
            f"backend fps at 1920x1080 (working 640x360, synthetic): {hd[0]:.1f} wall, {hd[1]:.1f} CPU time; "
            f"ratio to the 10 fps goal: {hd[1] / 10:.2f}"
        )
    if args.write:
        write(lines, e2e, names[0], args)


def write(lines: list[str], e2e: float | None, e2e_name: str, args: argparse.Namespace) -> None:
    load = os.getloadavg()[0]
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    head = [
        BEGIN,
        f"Latest `bench/roto_real.py`: {when}, load avg {load:.1f} at the end, "
        f"frames per sequence: {args.max_frames or 'all'}.",
        "",
    ]
    tail = [""]
    if e2e is not None:
        tail.append(
            f"`rotofarm roto` end to end on {e2e_name} (854x480 JPEG in, EXR masks out, process start "
            f"included): **{e2e:.1f} fps**."
        )
    block = "\n".join(head + lines + tail + [END])
    text = RESULTS.read_text()
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip() + "\n\n## Real footage (`bench/roto_real.py`, DAVIS 2016 dev set)\n\n" + block + "\n"
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
