"""One publisher process for the concurrency and kill tests.

usage: publisher_proc.py MANIFEST [--tracker local|ayon] [--wait-for FILE] [--kill-at STEP[:N]]

``--wait-for`` holds the start until FILE exists, so several processes race for the same version number;
``--kill-at`` SIGKILLs this process at the N-th (default first) ``STEP`` event of the publish, which no
``finally`` survives — the state a farm worker losing power leaves behind.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from publish import publish_manifest
from roto_core.contracts import JobManifest


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("manifest")
    parser.add_argument("--tracker", default="local", choices=["local", "ayon"])
    parser.add_argument("--wait-for")
    parser.add_argument("--kill-at")
    parser.add_argument("--trace", action="store_true", help="print every publish event on stderr")
    args = parser.parse_args()
    manifest = JobManifest.load(args.manifest)
    step, _, nth = (args.kill_at or "").partition(":")
    remaining = {"count": int(nth or 1)}
    taken: list[str] = []

    def observe(event: str, detail: str) -> None:
        if args.trace:
            print(event, detail, file=sys.stderr)
        if event == "taken":
            taken.append(detail)
        if event == step:
            remaining["count"] -= 1
            if remaining["count"] == 0:
                os.kill(os.getpid(), signal.SIGKILL)

    if args.wait_for:
        deadline = time.monotonic() + 60
        while not Path(args.wait_for).exists() and time.monotonic() < deadline:
            time.sleep(0.005)
    result = publish_manifest(manifest, args.tracker, observer=observe)
    print(" ".join(f"{v.product}=v{v.version}" for v in result.versions), f"taken={len(taken)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
