"""Ingest benchmark: a generated 1000-event EDL → ShotList (+ its JSON), against a 2 s budget.

Run: ``.venv/bin/python bench/ingest.py [--events N]``. Prints the seconds of one ingest and the ratio to the
budget (goal: <= 1.0). The EDL mixes plain cuts, M2 retimes, freezes, dissolves and roto LOC markers, so the
timing covers every path of the reader.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from otio_ingest import IngestOptions, ingest_file

BUDGET_S = 2.0
RATE = 24


def _tc(frames: int) -> str:
    return f"{frames // 86400 % 24:02d}:{frames // 1440 % 60:02d}:{frames // 24 % 60:02d}:{frames % 24:02d}"


def _event(n: int, reel: str, edit: str, src: int, src_out: int, rec: int, rec_out: int) -> str:
    return f"{n:03d}  {reel} V     {edit:<8} {_tc(src)} {_tc(src_out)} {_tc(rec)} {_tc(rec_out)}"


def generate_edl(events: int) -> str:
    """A plausible long cut: every 7th event a 2x retime, every 11th a freeze, every 13th a dissolve in."""
    lines = ["TITLE: BENCH CUT", "FCM: NON-DROP FRAME", ""]
    record = 3600 * RATE
    for n in range(1, events + 1):
        cut = 24 + (n * 37) % 72
        source = (10 * 3600 + n * 60) * RATE
        reel = f"A{n % 97:03d}C{n % 13:03d}"
        name = f"sq{10 * (1 + n // 100):03d}_sh{10 * n:04d}"
        if n % 13 == 0:
            lines.append(_event(n, reel, "C", source, source, record, record))
            lines.append(_event(n, reel, "D    008", source, source + cut, record, record + cut))
        elif n % 7 == 0:
            lines.append(_event(n, reel, "C", source, source + 2 * cut, record, record + cut))
            lines.append(f"M2   {reel}       048.0                {_tc(source)}")
        elif n % 11 == 0:
            lines.append(_event(n, reel, "C", source, source + 1, record, record + cut))
            lines.append("* FREEZE FRAME")
        else:
            lines.append(_event(n, reel, "C", source, source + cut, record, record + cut))
        lines.append(f"* FROM CLIP NAME: {name}_plate_v001")
        if n % 3 == 0:
            lines.append(f"* LOC: {_tc(record + cut // 2)} RED     roto: hero: person in the centre")
            lines.append(f"* LOC: {_tc(record + 1)} GREEN   roto-box: car: 100 200 640 480")
        record += cut
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        edl = Path(tmp) / "bench.edl"
        edl.write_text(generate_edl(args.events))
        options = IngestOptions(plates=str(Path(tmp) / "{shot}" / "{shot}.####.exr"))
        start = time.perf_counter()
        shotlist = ingest_file(edl, options)
        text = shotlist.to_json()
        seconds = time.perf_counter() - start
    prompts = sum(len(s.prompts) for s in shotlist.shots)
    print(f"ingest {args.events}-event EDL -> {len(shotlist.shots)} shots, {prompts} prompts, {len(text)} JSON bytes")
    print(f"seconds: {seconds:.3f}")
    print(f"ratio to {BUDGET_S:g} s budget: {seconds / BUDGET_S:.2f} (goal <= 1.0)")


if __name__ == "__main__":
    main()
