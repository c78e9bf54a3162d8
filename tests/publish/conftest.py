"""Fixtures for publish tests: a finished job folder with real files, a local tracker, an AYON stand-in."""

from __future__ import annotations

from pathlib import Path

import pytest

from publish.local_tracker import LocalTracker
from roto_core.contracts import JobManifest
from tests.publish.ayon_standin import AyonStandIn
from tests.publish.jobkit import make_manifest

SHOT_ATTRIB = {
    "frameStart": 1002,
    "frameEnd": 1003,
    "handleStart": 1,
    "handleEnd": 1,
    "fps": 24.0,
    "resolutionWidth": 32,
    "resolutionHeight": 24,
    "pixelAspect": 1.0,
}
PLATE = "/plates/sh010/sh010_plate.####.exr"


@pytest.fixture
def jobs_root(tmp_path: Path) -> Path:
    return tmp_path / "jobs"


@pytest.fixture
def publish_root(tmp_path: Path) -> Path:
    return tmp_path / "publish"


@pytest.fixture
def manifest(jobs_root: Path, publish_root: Path) -> JobManifest:
    return make_manifest(jobs_root, publish_root)


@pytest.fixture
def local(publish_root: Path) -> LocalTracker:
    tracker = LocalTracker(publish_root)
    tracker.register_shot("demo", "/sq010/sh010", SHOT_ATTRIB, plate=PLATE)
    return tracker


@pytest.fixture
def server(tmp_path: Path) -> AyonStandIn:
    standin = AyonStandIn(tmp_path / "ayon-root")
    standin.add_folder("/sq010/sh010", attrib=SHOT_ATTRIB)
    return standin
