"""OTIO JSON, otioz and FCP 7 XML (written once by OpenTimelineIO's writers) give the same shots."""

import pytest

from otio_ingest import IngestOptions, ingest_file


@pytest.mark.parametrize("name", ["cut.otio", "cut.otioz", "cut_fcp7.xml"])
def test_same_cut_in_three_containers(fixture_path, name):
    shotlist = ingest_file(fixture_path(name))
    assert shotlist.fps == 25
    assert [s.name for s in shotlist.shots] == ["sq020_sh010", "sq020_sh020", "sq020_sh030"]
    first, second, third = shotlist.shots
    # a 6-frame dissolve, 3 frames each side of the cut point
    assert first.metadata["transition"] == {"head": 0, "tail": 3}
    assert first.last_frame - first.first_frame + 1 == 50 + 3 + 16
    assert second.metadata["transition"] == {"head": 3, "tail": 0}
    assert second.last_frame - second.first_frame + 1 == 40 + 3 + 16
    assert second.record_in_tc == "01:00:01:22"  # the dissolve starts 3 frames before the cut at 01:00:02:00
    assert second.source_in_tc == "00:01:19:22"  # source frame 2000 - 3
    # after a 10-frame gap
    assert third.record_in_tc == "01:00:04:00"
    # a clip marker is relative to the clip's media: 10 frames after its source in
    assert [(p.object, p.frame, p.text) for p in first.prompts] == [("hero", 1001 + 8 + 10, "woman with umbrella")]


def test_named_track_in_otio(fixture_path):
    shots = ingest_file(fixture_path("cut.otio"), IngestOptions(track="ref")).shots
    assert [s.name for s in shots] == ["reference_edit"]


def test_fps_override_relabels_timecodes(fixture_path):
    shotlist = ingest_file(fixture_path("cut.otio"), IngestOptions(fps=24))
    assert shotlist.fps == 24
    first = shotlist.shots[0]
    assert first.last_frame - first.first_frame + 1 == 50 + 3 + 16  # frame counts are the file's
    assert first.record_in_tc == "01:02:30:00"  # 90000 frames at 24 fps
