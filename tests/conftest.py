"""Shared test setup: no network, no hub downloads, deterministic CPU."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "2")
for _secret in ("AYON_API_KEY",):
    # Integration tests read these on purpose; unit tests must never see a real key.
    if not os.environ.get("ROTOFARM_INTEGRATION"):
        os.environ.pop(_secret, None)
