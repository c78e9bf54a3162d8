"""``shotlist_from_tracker``: Shot folders under the given paths, their attributes and latest plate."""

from __future__ import annotations

from pathlib import Path

import pytest

from publish import PublishError, shotlist_from_tracker
from publish.ayon_tracker import AyonTracker
from publish.local_tracker import LocalTracker
from roto_core.errors import InputError
from tests.publish.ayon_standin import AyonStandIn
from tests.publish.conftest import PLATE, SHOT_ATTRIB


def test_local_shots_under_a_sequence_with_frame_range_handles_and_plate(publish_root: Path) -> None:
    tracker = LocalTracker(publish_root)
    tracker.register_shot("demo", "/sq010/sh010", SHOT_ATTRIB, plate=PLATE)
    tracker.register_shot(
        "demo",
        "/sq010/sh020",
        {**SHOT_ATTRIB, "frameStart": 1010, "frameEnd": 1030, "handleStart": 4, "handleEnd": 4, "fps": 25.0},
        plate="/plates/sh020/sh020.%04d.exr",
    )
    tracker.register_shot("demo", "/sq020/sh050", SHOT_ATTRIB, plate=PLATE)
    tracker.register_shot("demo", "/sq010/sh010", SHOT_ATTRIB, plate="/plates/sh010/sh010_plate_v2.####.exr")

    shots = shotlist_from_tracker("local", "demo", ["/sq010"], local_root=publish_root).shots
    assert [s.folder_path for s in shots] == ["/sq010/sh010", "/sq010/sh020"]
    sh010, sh020 = shots
    assert (sh010.first_frame, sh010.last_frame, sh010.handles, sh010.width, sh010.height) == (1001, 1004, 1, 32, 24)
    assert sh010.plate == "/plates/sh010/sh010_plate_v2.####.exr"  # the latest plate version
    assert (sh020.first_frame, sh020.last_frame, sh020.handles, sh020.fps) == (1006, 1034, 4, 25.0)
    assert sh020.plate == "/plates/sh020/sh020.####.exr"

    both = shotlist_from_tracker(tracker, "demo", ["/sq020/sh050", "/sq010/sh020"])
    assert [s.name for s in both.shots] == ["sh050", "sh020"]


def test_unknown_path_and_shot_without_plate_are_errors(publish_root: Path) -> None:
    tracker = LocalTracker(publish_root)
    tracker.register_shot("demo", "/sq010/sh010", SHOT_ATTRIB)
    with pytest.raises(PublishError, match="folder /sq099 does not exist"):
        shotlist_from_tracker(tracker, "demo", ["/sq099"])
    with pytest.raises(InputError, match="no plate") as err:
        shotlist_from_tracker(tracker, "demo", ["/sq010"])
    assert err.value.where == "/sq010/sh010"


def test_ayon_shots_with_plate_sequence_from_representation(server: AyonStandIn) -> None:
    server.add_plate("/sq010/sh010", 1001, 1004)
    server.add_folder("/sq010/sh020", attrib={"frameStart": 1, "frameEnd": 10, "fps": 24.0})
    shotlist = shotlist_from_tracker(AyonTracker(server), "demo", ["/sq010/sh010"])
    (shot,) = shotlist.shots
    assert shot.plate == f"{server.root}/demo/plates/sh010_plate.####.exr"
    assert (shot.first_frame, shot.last_frame, shot.handles, shot.fps) == (1001, 1004, 1, 24.0)
    with pytest.raises(InputError, match="no plate"):
        shotlist_from_tracker(AyonTracker(server), "demo", ["/sq010"])
