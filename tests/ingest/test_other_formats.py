"""OTIO JSON, otioz, otiod and FCP 7 XML (written by OpenTimelineIO's writers) give the same shots; ALE, AAF."""

import opentimelineio as otio
import pytest

from otio_ingest import EditorialError, IngestOptions, ingest_file


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


def test_ale_clip_list_gives_one_shot_per_clip(fixture_path):
    shotlist = ingest_file(fixture_path("clips.ale"))
    assert shotlist.fps == 25
    assert [s.name for s in shotlist.shots] == ["sq020_sh010", "sq020_sh020", "sq020_sh030"]
    assert [s.last_frame - s.first_frame + 1 for s in shotlist.shots] == [50 + 16, 40 + 16, 30 + 16]
    assert shotlist.shots[1].source_in_tc == "00:01:20:00"


def test_otiod_bundle_written_by_otio(fixture_path, tmp_path):
    timeline = otio.adapters.read_from_file(str(fixture_path("cut.otio")))
    bundle = tmp_path / "cut.otiod"
    otio.adapters.write_to_file(
        timeline,
        str(bundle),
        adapter_name="otiod",
        media_policy=otio.adapters.file_bundle_utils.MediaReferencePolicy.AllMissing,
    )
    assert [s.name for s in ingest_file(bundle).shots] == ["sq020_sh010", "sq020_sh020", "sq020_sh030"]


def test_corrupt_aaf_is_a_typed_error(tmp_path):
    path = tmp_path / "cut.aaf"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(EditorialError) as info:
        ingest_file(path)
    assert info.value.path == str(path)
    assert "AAF adapter" in info.value.message


def _otio_with_effect(tmp_path, effect):
    rate = 24
    clip = otio.schema.Clip(
        name="sh010",
        source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(100, rate), otio.opentime.RationalTime(20, rate)
        ),
        effects=[effect],
    )
    timeline = otio.schema.Timeline(name="FX", tracks=[otio.schema.Track(children=[clip])])
    path = tmp_path / "fx.otio"
    otio.adapters.write_to_file(timeline, str(path))
    return path


def test_linear_time_warp_in_otio(tmp_path):
    shot = ingest_file(_otio_with_effect(tmp_path, otio.schema.LinearTimeWarp(time_scalar=0.5))).shots[0]
    assert shot.metadata["retime"] == {"kind": "speed", "speed": 0.5, "source_frames": 10, "cut_frames": 20}
    assert shot.last_frame - shot.first_frame + 1 == 10 + 16


def test_time_effect_we_cannot_map_names_the_clip(tmp_path):
    path = _otio_with_effect(tmp_path, otio.schema.TimeEffect(name="curve", effect_name="SpeedRamp"))
    with pytest.raises(EditorialError) as info:
        ingest_file(path)
    assert info.value.where == "clip 'sh010'"
    assert "'SpeedRamp' cannot be mapped" in info.value.message
