"""Benchmark: the classical backend and the chunk pipeline on synthetic shots, measured in one run.

1. Speed at 1920×1080 (goal ≥ 10 fps): a 1080p synthetic EXR plate, two objects. ``backend fps`` times
   ``ClassicalBackend.propagate`` on frames already decoded at its working resolution (the model's own cost);
   ``run-chunk fps`` times the real ``rotofarm run-chunk`` in a child process (EXR decode, working-resolution
   scaling, backend, upscaling to 1080p, mask EXR writes, state, report). Quality (J&F against the exact ground
   truth) is printed beside it so speed is never bought with accuracy silently.
2. Bounded memory (goal: ratio ≤ 1.2): peak RSS of one ``rotofarm worker`` process that runs a 1000-frame shot in
   chunks of 50, against the same for a 100-frame shot, each in a fresh process (the peak is the worker's own
   VmHWM, which each chunk report records). The plate for this part is small (default 320×180) so 1000 frames
   fit the time and disk of a shared 2-core machine; what is measured is growth with shot length, which does not
   depend on frame size.

Run: ``.venv/bin/python bench/pipeline.py [--hd-frames 40] [--rss-size 320x180]``. Prints ratios to the goals.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from roto_core.backends.classical import ClassicalBackend
from roto_core.contracts import JobManifest, PipelineSettings, TrackerTarget
from roto_core.frames import FrameSource
from roto_core.jobfolder import JobFolder
from roto_core.metrics import evaluate_sequences
from roto_core.synthetic import SyntheticShot, make_shot

FPS_GOAL = 10.0
RSS_RATIO_GOAL = 1.2
CHUNK = 50
ROTOFARM = [sys.executable, "-c", "from submitters.cli import entry; entry()"]


def _manifest(root: Path, shot: SyntheticShot, last_frame: int | None = None) -> tuple[Path, JobFolder]:
    s = shot.to_shot()
    if last_frame is not None:
        s = s.model_copy(update={"last_frame": last_frame})
    job = JobFolder(root, s.name)
    manifest = JobManifest(
        job_id="bench",
        shot=s,
        pipeline=PipelineSettings(chunk_size=CHUNK),
        output_dir=str(root),
        tracker=TrackerTarget(project="bench", folder_path="/synthetic/sh010"),
    )
    manifest.save(job.manifest)
    return job.manifest, job


def speed(work: Path, frames: int) -> None:
    print(f"generating a {frames}-frame 1920x1080 synthetic plate ...", flush=True)
    shot = make_shot(work / "hd", frames=frames, width=1920, height=1080, seed=5)
    backend = ClassicalBackend()
    limit = min(backend.max_resolution, PipelineSettings().max_resolution or backend.max_resolution)
    source = FrameSource(shot.plate, shot.first_frame, shot.last_frame, max_size=limit)
    decoded = [source[i] for i in range(len(source))]
    sx = source.scale
    seeds = {0: {}}
    for p in shot.prompts:
        box = p.box
        assert box is not None
        scaled = p.model_copy(update={"box": tuple(v * sx for v in box)})
        seeds[0][p.object] = backend.key_mask(decoded[0], scaled)
    t0 = time.perf_counter()
    n = sum(1 for _ in backend.propagate(decoded, seeds))
    backend_fps = n / (time.perf_counter() - t0)
    print(
        f"backend fps at 1920x1080 (working {source.size[0]}x{source.size[1]}): {backend_fps:.1f}"
        f"  ratio to the {FPS_GOAL:g} fps goal: {backend_fps / FPS_GOAL:.2f}"
    )

    manifest, job = _manifest(work / "hd_job", shot)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [*ROTOFARM, "run-chunk", str(manifest), "--frames", f"{shot.first_frame}-{shot.last_frame}", "--device", "cpu"],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"run-chunk failed: {proc.stderr.strip()}")
    chunk = json.loads(job.chunk_report(shot.first_frame, shot.last_frame).read_text())
    inner_fps = frames / chunk["timings"]["total"]
    print(
        f"run-chunk fps at 1920x1080 (EXR in, EXR masks out): {inner_fps:.1f} inside the task, "
        f"{frames / wall:.1f} with process start-up; ratio to the goal: {inner_fps / FPS_GOAL:.2f}"
    )
    stages = ", ".join(f"{k} {v / frames * 1000:.0f} ms" for k, v in chunk["timings"].items() if k != "total")
    print(f"  per frame: {stages}")
    scores = evaluate_sequences(job.mask_pattern, shot.gt).table()["mean"]
    print(f"  quality: J&F {scores['J&F']:.4f}  J {scores['J']:.4f}  F {scores['F']:.4f}  F@2px {scores['F@2px']:.4f}")


def _worker_peak_rss_mb(manifest: Path, job: JobFolder, first: int, last: int) -> tuple[float, float, float]:
    """Run every chunk of ``first..last`` in one fresh worker; its peak RSS after the first and the last chunk."""
    ranges = [(a, min(a + CHUNK - 1, last)) for a in range(first, last + 1, CHUNK)]
    lines = "".join(f"{a}-{b}\n" for a, b in ranges)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [*ROTOFARM, "worker", str(manifest), "--device", "cpu"],
        input=lines,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or "FAILED" in proc.stdout:
        raise SystemExit(f"worker failed: {proc.stderr.strip() or proc.stdout.strip()}")
    # Each chunk report carries the worker's peak so far (VmHWM: the program's own pages, not the fork's).
    peaks = [json.loads(job.chunk_report(a, b).read_text())["peak_rss_mb"] for a, b in (ranges[0], ranges[-1])]
    return peaks[0], peaks[1], time.perf_counter() - t0


def memory(work: Path, size: tuple[int, int]) -> None:
    w, h = size
    print(f"generating a 1000-frame {w}x{h} synthetic plate ...", flush=True)
    shot = make_shot(work / "long", frames=1000, width=w, height=h, seed=6)
    long_manifest, long_job = _manifest(work / "long_job", shot)
    short_manifest, short_job = _manifest(work / "short_job", shot, last_frame=shot.first_frame + 99)
    s_first, s_peak, s_time = _worker_peak_rss_mb(short_manifest, short_job, shot.first_frame, shot.first_frame + 99)
    l_first, l_peak, l_time = _worker_peak_rss_mb(long_manifest, long_job, shot.first_frame, shot.last_frame)
    print(
        f"peak RSS, one worker process per shot, chunks of {CHUNK}: 100 frames {s_peak:.0f} MB ({s_time:.0f} s), "
        f"1000 frames {l_peak:.0f} MB ({l_time:.0f} s)"
    )
    print(f"  ratio 1000/100: {l_peak / s_peak:.3f} (goal ≤ {RSS_RATIO_GOAL})")
    print(
        f"  after the first chunk: {s_first:.0f} MB and {l_first:.0f} MB (growth over the 1000-frame run: "
        f"{l_peak - l_first:+.0f} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hd-frames", type=int, default=40)
    parser.add_argument("--rss-size", default="320x180", help="WxH of the plate for the memory part")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the generated files here")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.rss_size.lower().split("x"))
    with tempfile.TemporaryDirectory(prefix="rotofarm-bench-") as tmp:
        work = args.workdir or Path(tmp)
        speed(work, args.hd_frames)
        memory(work, (size[0], size[1]))


if __name__ == "__main__":
    main()
