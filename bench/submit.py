"""Submission throughput: plan + Deadline dry run of 1000 shots (budget 5 s), and jobs per second against the
test Deadline Web Service (a real HTTP server on 127.0.0.1).

    .venv/bin/python bench/submit.py [--shots 1000] [--submit-shots 200]

Figures are measured in this run on this machine; the machine may be shared, so compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from roto_core.contracts import PipelineSettings, Prompt, Shot, ShotList  # noqa: E402
from submitters.deadline.client import DeadlineClient  # noqa: E402
from submitters.deadline.jobs import submit_plan, write_dry_run  # noqa: E402
from submitters.farm_config import FarmConfig  # noqa: E402
from submitters.plan import plan_submission, record_submission  # noqa: E402
from tests.farm.fake_deadline import FakeDeadline  # noqa: E402

BUDGET_S = 5.0


def cut(count: int) -> ShotList:
    shots = [
        Shot(
            name=f"sh{i:04d}",
            folder_path=f"/sq{i // 100:03d}/sh{i:04d}",
            plate=f"/plates/sh{i:04d}/sh{i:04d}.####.exr",
            first_frame=1001,
            last_frame=1001 + 80 + i % 120,
            handles=8,
            width=2048,
            height=1152,
            prompts=[Prompt(object="hero", frame=1010, box=(100, 100, 600, 900))],
        )
        for i in range(count)
    ]
    return ShotList(source="/cuts/bench_reel.edl", fps=24.0, shots=shots)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=1000)
    parser.add_argument("--submit-shots", type=int, default=200)
    args = parser.parse_args()
    pipeline = PipelineSettings(chunk_size=50)

    with tempfile.TemporaryDirectory() as tmp:
        config = FarmConfig.load().model_copy(update={"jobs_root": str(Path(tmp) / "jobs")})
        shots = cut(args.shots)
        t0 = time.perf_counter()
        plan = plan_submission(shots, "bench", config, pipeline)
        t1 = time.perf_counter()
        files = write_dry_run(plan, config, Path(tmp) / "dry")
        t2 = time.perf_counter()
    total = t2 - t0
    print(f"plan {args.shots} shots (manifests written): {t1 - t0:.2f} s")
    print(f"dry run ({len(files)} request bodies): {t2 - t1:.2f} s")
    print(
        f"plan + dry run: {total:.2f} s for {args.shots} shots; budget {BUDGET_S:.1f} s; "
        f"ratio {total / BUDGET_S:.2f} of budget ({'within' if total <= BUDGET_S else 'OVER'})"
    )

    with tempfile.TemporaryDirectory() as tmp, FakeDeadline(pools=["none", "roto"], groups=["none", "gpu"]) as fake:
        config = FarmConfig.load().model_copy(update={"jobs_root": str(Path(tmp) / "jobs")})
        plan = plan_submission(cut(args.submit_shots), "bench", config, pipeline)
        client = DeadlineClient(fake.url, user=fake.user, password=fake.password)
        t0 = time.perf_counter()
        result = submit_plan(client, plan, config)
        record_submission(plan, "deadline", result.job_ids)
        elapsed = time.perf_counter() - t0
    jobs = 2 * args.submit_shots
    print(
        f"submit {args.submit_shots} shots ({jobs} jobs) to the test Web Service: {elapsed:.2f} s, "
        f"{jobs / elapsed:.0f} jobs/s, {args.submit_shots / elapsed:.0f} shots/s (validation + ids recorded)"
    )
    print("note: measured on a shared 2-core machine under load from other work; treat as indicative")


if __name__ == "__main__":
    main()
