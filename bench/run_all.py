"""Run every benchmark and print one table of what each measured and its ratio to the goal.

Each benchmark is a standalone script run in its own process (so one's memory or threads never colour another's),
and prints lines that contain ``ratio``; this script collects those. ``--write`` records the table, the date and
the machine in ``bench/RESULTS.md`` between the markers below, leaving the rest of that file (notes, GPU figures)
as it is.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SCRIPTS = ("ingest.py", "pipeline.py", "shapes.py", "submit.py")
BEGIN, END = "<!-- run_all:begin -->", "<!-- run_all:end -->"
# "ratio 0.50 of budget", "ratio to the 2 s budget: 0.58", "ratio 1000/100: 1.05": the number after the colon that
# follows "ratio" when there is one, else the first number after it.
_RATIO = re.compile(r"ratio(?:[^:\n]*:\s*|\D*?)(-?\d+(?:\.\d+)?)")


def cpu_name() -> str:
    """The processor's model name (Linux's /proc/cpuinfo), else what the platform module knows: timings and, on
    some footage, traced figures differ between machines (bench/RESULTS.md, thirtieth pass)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}, load avg {load:.1f} at start"


def run(script: str, timeout: int) -> tuple[int, float, list[str]]:
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, str(BENCH / script)], capture_output=True, text=True, timeout=timeout, check=False
        )
        out, code = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        out, code = f"{exc.stdout or ''}\ntimed out after {timeout} s", 124
    return code, time.perf_counter() - start, [line.strip() for line in out.splitlines() if line.strip()]


def rows_of(script: str, code: int, lines: list[str]) -> list[tuple[str, str, str]]:
    """(benchmark, measured line, ratio) for every line that states a ratio; the last line when it failed."""
    name = script.removesuffix(".py")
    if code != 0:
        return [(name, f"FAILED (exit {code}): {lines[-1] if lines else 'no output'}", "-")]
    found = [(name, line, m.group(1)) for line in lines if (m := _RATIO.search(line))]
    return found or [(name, lines[-1] if lines else "no output", "-")]


def markdown(rows: list[tuple[str, str, str]], where: str) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [BEGIN, f"Latest `bench/run_all.py`: {when} on {where}.", ""]
    out += ["| benchmark | measured | ratio |", "|---|---|---|"]
    out += [f"| {b} | {m.replace('|', '/')} | {r} |" for b, m, r in rows]
    out.append(END)
    return "\n".join(out)


def write_results(block: str) -> Path:
    path = BENCH / "RESULTS.md"
    text = path.read_text() if path.is_file() else "# Benchmark results\n"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    tmp = path.with_name(".RESULTS.md.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=[s.removesuffix(".py") for s in SCRIPTS])
    parser.add_argument("--timeout", type=int, default=900, help="seconds per benchmark")
    parser.add_argument("--write", action="store_true", help="record the table in bench/RESULTS.md")
    args = parser.parse_args()
    where = machine()
    rows: list[tuple[str, str, str]] = []
    failed = 0
    for script in SCRIPTS:
        if args.only and script.removesuffix(".py") not in args.only:
            continue
        print(f"running {script} ...", flush=True)
        code, seconds, lines = run(script, args.timeout)
        failed += code != 0
        rows += rows_of(script, code, lines)
        print(f"  {script}: exit {code} in {seconds:.1f} s", flush=True)
    width = max(len(m) for _, m, _ in rows)
    print(f"\nmachine: {where}")
    print(f"{'benchmark':<10} {'measured':<{width}} ratio")
    for bench, measured, ratio in rows:
        print(f"{bench:<10} {measured:<{width}} {ratio}")
    if args.write:
        print(f"recorded in {write_results(markdown(rows, where))}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
