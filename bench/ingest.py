"""Ingest benchmark: a generated 1000-event EDL → ShotList (+ its JSON), against a 2 s budget, and its scaling.

Run: ``.venv/bin/python bench/ingest.py [--events N] [--scale K]``. Prints the seconds of one ingest and the ratio
to the budget (goal: <= 1.0); then ingests the same kind of EDL with K times the events (default 100: a
100,000-event cut), and the same long EDL with one bad event at its end (the time to name its line), each in a
fresh process so its peak memory is its own. Linear ingest costs about K times the small run: the printed
"scaling ratio" is (long seconds / small seconds) / K, goal <= 1.5.

The EDL mixes plain cuts, M2 retimes, freezes, dissolves and roto LOC markers, so the timing covers every path of
the reader.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_S = 2.0
SCALING_GOAL = 1.5
RATE = 24
REPO = Path(__file__).resolve().parents[1]


def _tc(frames: int) -> str:
    return f"{frames // 86400 % 24:02d}:{frames // 1440 % 60:02d}:{frames // 24 % 60:02d}:{frames % 24:02d}"


def _event(n: int, reel: str, edit: str, src: int, src_out: int, rec: int, rec_out: int) -> str:
    return f"{n:03d}  {reel} V     {edit:<8} {_tc(src)} {_tc(src_out)} {_tc(rec)} {_tc(rec_out)}"


def generate_edl(events: int) -> str:
    """A plausible long cut: every 7th event a 2x retime, every 11th a freeze, every 13th a dissolve in.

    Events are 8-27 frames long (17.5 on average) so that 100,000 of them still fit the 24 hours of record
    timecode from 01:00:00:00; longer ones would wrap past 23:59:59:23 and make the long EDL invalid.
    """
    lines = ["TITLE: BENCH CUT", "FCM: NON-DROP FRAME", ""]
    record = 3600 * RATE
    for n in range(1, events + 1):
        cut = 8 + (n * 37) % 20
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
    if record > 24 * 3600 * RATE:
        raise ValueError(f"{events} events do not fit in 24 hours of record timecode")
    return "\n".join(lines) + "\n"


def with_bad_last_event(text: str) -> str:
    """The same EDL with the last plain cut's source out before its source in."""
    lines = text.splitlines()
    at = max(i for i, line in enumerate(lines) if line[:1].isdigit() and " C " in line and "D " not in line)
    fields = lines[at].split()
    lines[at] = lines[at].replace(f"{fields[-4]} {fields[-3]}", f"{fields[-3]} {fields[-4]}")
    return "\n".join(lines) + "\n"


def run_one(events: int, bad: bool) -> dict[str, object]:
    """Ingest one generated EDL in this process; seconds, shots and this process's peak memory."""
    from otio_ingest import EditorialError, IngestOptions, ingest_file

    with tempfile.TemporaryDirectory() as tmp:
        text = generate_edl(events)
        edl = Path(tmp) / "bench.edl"
        edl.write_text(with_bad_last_event(text) if bad else text)
        options = IngestOptions(plates=str(Path(tmp) / "{shot}" / "{shot}.####.exr"))
        start = time.perf_counter()
        try:
            shotlist = ingest_file(edl, options)
            json_bytes = len(shotlist.to_json())
            outcome = f"{len(shotlist.shots)} shots, {sum(len(s.prompts) for s in shotlist.shots)} prompts"
        except EditorialError as exc:
            json_bytes = 0
            outcome = f"error at line {exc.line} of {len(edl.read_text().splitlines())}"
        seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"events": events, "seconds": seconds, "outcome": outcome, "json_bytes": json_bytes, "peak_mb": peak_mb}


def measure(events: int, bad: bool = False) -> dict[str, object]:
    """:func:`run_one` in a fresh interpreter (peak memory of that run alone)."""
    code = f"import json; from bench.ingest import run_one; print(json.dumps(run_one({events}, {bad})))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--scale", type=int, default=100, help="the long run has events × scale (1: skip it)")
    args = parser.parse_args()
    small = measure(args.events)
    seconds = float(small["seconds"])
    print(f"ingest {args.events}-event EDL -> {small['outcome']}, {small['json_bytes']} JSON bytes")
    print(f"seconds: {seconds:.3f}  peak memory: {small['peak_mb']:.0f} MB")
    print(f"ratio to {BUDGET_S:g} s budget: {seconds / BUDGET_S:.2f} (goal <= 1.0)")
    if args.scale <= 1:
        return
    long_events = args.events * args.scale
    big = measure(long_events)
    bad = measure(long_events, bad=True)
    scaling = float(big["seconds"]) / seconds / args.scale
    print(f"ingest {long_events}-event EDL -> {big['outcome']}: {big['seconds']:.1f} s, peak {big['peak_mb']:.0f} MB")
    print(
        f"scaling ratio (time x{args.scale} / {args.scale}, {big['seconds']:.1f} s against {seconds:.2f} s): "
        f"{scaling:.2f} (goal <= {SCALING_GOAL}: linear)"
    )
    print(
        f"locate one bad event at the end of {long_events} events -> {bad['outcome']}: {bad['seconds']:.1f} s, "
        f"{float(bad['seconds']) / float(big['seconds']):.2f} x a clean ingest, peak {bad['peak_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
