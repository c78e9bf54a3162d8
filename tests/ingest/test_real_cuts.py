"""Real cuts from the OpenTimelineIO projects' sample data (fixtures/real, see its README): items 1-11 of the
editorial issue. Expected answers come from the files themselves or from Avid's reference render."""

from functools import cache
from pathlib import Path

import pytest

from otio_ingest import EditorialError, IngestOptions, ingest_file
from otio_ingest.events import clip_uses
from otio_ingest.reader import read_cut
from otio_ingest.tracks import pick_track
from tests.hostile.harness import run_rotofarm

REAL = Path(__file__).parent / "fixtures" / "real"


@cache
def _shots(name: str, track: str | None = None):
    return ingest_file(REAL / name, IngestOptions(track=track))


def _uses(name: str):
    cut = read_cut(REAL / name, IngestOptions())
    warnings: list[str] = []
    return clip_uses(cut, pick_track(cut, None, warnings), warnings, {})


# 1. reversed clips: the source range covers the frames played


def test_reverse_clip_plays_its_source_range_down_as_avid_renders_it():
    uses = _uses("misc_speed_effects.aaf")
    frame_9 = uses[8]
    assert frame_9.speed == -1.0
    # Avid's render of the cut plays source 86431 down to 86424
    played = [frame_9.plate_source_first + frame_9.plate_offset(k) for k in range(frame_9.cut_frames)]
    assert played == list(range(86431, 86423, -1))
    shot = _shots("misc_speed_effects.aaf").shots[8]
    assert shot.source_in_tc == "01:00:01:00"  # 86424 at 24 fps
    assert shot.metadata["retime"]["kind"] == "reverse"


def test_no_reverse_clip_starts_before_its_media():
    reverses = [u for u in _uses("time_warp_test.avid_media_composer.aaf") if u.reverse]
    assert len(reverses) == 10
    for use in reverses:
        media = use.clip.media_reference.available_range
        assert use.plate_source_first >= media.start_time.value
        assert use.plate_source_first == use.source_in  # no transition: the plate is the clip's source range


# 2. the topmost video track with clips, named in table and JSON


@pytest.mark.parametrize(
    ("name", "track", "shots"),
    [("effects.otio", "V5 'Video 5'", 4), ("multiple_markers.aaf", "V4 'Sequence'", 12)],
)
def test_empty_top_tracks_are_passed_over_and_named(name, track, shots):
    shotlist = _shots(name)
    assert shotlist.editorial["track"] == track
    assert len(shotlist.shots) == shots
    assert "passed over" in shotlist.editorial["warnings"][0]


def test_nested_sequence_keeps_the_record_time_of_what_follows():
    """empty_name_tags.xml: V2 holds an (empty) nested sequence; every clip after it stays where OTIO puts it."""
    import opentimelineio as otio

    shotlist = _shots("empty_name_tags.xml")
    assert shotlist.editorial["track"] == "V2 ''"
    track = otio.adapters.read_from_file(str(REAL / "empty_name_tags.xml")).video_tracks()[1]
    expected = [
        c.range_in_parent().start_time.to_timecode() for c in track if isinstance(c, otio.schema.Clip) and c.enabled
    ]
    assert [s.record_in_tc for s in shotlist.shots] == expected
    assert len(expected) == 22
    assert len(_shots("empty_name_tags.xml", "V1").shots) == 33


# 3. --track by number, video only


def test_track_by_number_among_tracks_that_share_one_name():
    assert [s.name for s in _shots("premiere_enable_property.xml", "V1").shots] == ["source", "source3"]
    assert [s.name for s in _shots("premiere_enable_property.xml", "2").shots] == ["source"]
    with pytest.raises(EditorialError, match="3 video tracks are named ''"):
        _shots("premiere_enable_property.xml", "")
    with pytest.raises(EditorialError, match="no video track V9"):
        _shots("premiere_enable_property.xml", "V9")


def test_track_never_picks_an_audio_track(tmp_path):
    event = "{n}  A001 {kind}     C        01:00:00:00 01:00:01:00 01:00:00:00 01:00:01:00\n* FROM CLIP NAME: sh010\n"
    edl = tmp_path / "av.edl"
    edl.write_text("TITLE: AV\n\n" + event.format(n="001", kind="V") + event.format(n="002", kind="A"))
    with pytest.raises(EditorialError, match="track 'A1' is an Audio track; --track picks a video track"):
        ingest_file(edl, IngestOptions(track="A1"))


# 4. disabled clips and tracks are skipped and counted


def test_disabled_clips_and_tracks_are_skipped_and_counted():
    top = _shots("premiere_enable_property.xml")
    assert top.editorial["track"] == "V2 ''"  # V3 is disabled in the XML
    assert "V3 '' (disabled)" in top.editorial["warnings"][0]
    v1 = _shots("premiere_enable_property.xml", "V1")
    assert v1.editorial["skipped"] == {"disabled": 2}
    with pytest.raises(EditorialError, match="disabled"):
        _shots("premiere_enable_property.xml", "V3")


def test_a_cut_whose_only_clip_is_muted_says_so():
    with pytest.raises(
        EditorialError, match=r"no video track has enabled picture clips \(1 clips: 0 generators, 1 dis"
    ):
        _shots("test_muted_clip.aaf")


# 5. the sequence's rate, not the first clip's


def test_sequence_rate_not_a_clip_rate():
    shotlist = _shots("premiere_example.xml")
    assert shotlist.fps == pytest.approx(30)
    assert [s.name for s in shotlist.shots] == ["sh030", "sc01_sh010"]


# 6. a transition into media that starts at frame 0


def test_transition_into_frame_zero_is_clamped_and_reported():
    shotlist = _shots("transition_test.otio")
    assert [s.name for s in shotlist.shots] == ["A", "B", "C"]
    assert all(s.source_in_tc == "00:00:00:00" for s in shotlist.shots)
    assert any("clip 'A': transition overlap" in w for w in shotlist.editorial["warnings"])


# 7. 29.97 non-drop AAF stays non-drop


def test_aaf_timecode_keeps_its_drop_flag():
    assert _shots("2997fps.aaf").shots[1].source_in_tc == "00:00:00:24"
    assert _shots("2997fps-DFTC.aaf").shots[0].record_in_tc == "05:00:00;00"


# 8. adapter chatter is ours: --json stdout is only JSON


@pytest.mark.parametrize("name", ["2997fps-DFTC.aaf", "multiple_top_level_mobs.aaf"])
def test_json_stdout_is_only_json(name, tmp_path):
    ended = run_rotofarm(["ingest", str(REAL / name), "--json"], cwd=tmp_path, timeout=120)
    lines = ended.error_lines
    assert all(line.startswith(("warning: ", "error: ")) for line in lines), lines
    if ended.code == 0:
        import json

        assert json.loads(ended.stdout)["shots"]
        assert any("(7 times)" in line for line in lines)
    else:
        assert ended.stdout == ""


# 9. errors that say what to do


def test_25fps_edl_is_read_at_25_and_an_explicit_24_is_refused():
    shotlist = _shots("25fps.edl")
    assert shotlist.fps == 25
    assert shotlist.shots[3].metadata["cut_frames"] == 49  # 00:00:17:22 → 00:00:19:21 at 25 fps
    with pytest.raises(EditorialError, match="at least 25 fps") as info:
        ingest_file(REAL / "25fps.edl", IngestOptions(fps=24))
    assert info.value.where == "--fps"


def test_two_top_level_sequences_are_named():
    with pytest.raises(EditorialError, match="2 top-level sequences"):
        _shots("multiple_top_level_mobs.aaf")


def test_malformed_repeat_line_is_pointed_at():
    with pytest.raises(EditorialError) as info:
        _shots("dissolve_test_fail.edl")
    assert info.value.line == 5


# 10. shot names from any clip name


@pytest.mark.parametrize(
    ("name", "index", "shot", "clip"),
    [
        ("cdl.edl", 0, "ZZ100_501_LAY3", "ZZ100_501 (LAY3)"),
        ("misc_speed_effects.aaf", 0, "Frame_Debugger_0h", "Frame Debugger 0h.mov"),
        ("hiero_xml_export.xml", 1, "clip004", "/"),
    ],
)
def test_safe_shot_name_from_any_clip_name(name, index, shot, clip):
    made = _shots(name).shots[index]
    assert (made.name, made.metadata["clip"]) == (shot, clip)


# 11. retimed plates: the EDL's own span; ramps; merged uses


def test_retimed_plate_is_the_edls_own_source_span():
    shot = next(s for s in _shots("speed_effects.edl").shots if s.record_in_tc == "01:17:20:04")  # event 000474
    assert shot.metadata["plate_frames"] == 15  # 01:00:15:13 → 01:00:16:04; round(6 × 68/24) would be 17


def test_flattened_speed_ramp_is_warned():
    warnings = _shots("misc_speed_effects.aaf").editorial["warnings"]
    assert [w for w in warnings if "speed ramp" in w] == [
        "clip 'Frame Debugger 1h.mov': a keyframed timewarp (speed ramp) arrives from the AAF adapter as one "
        "constant speed (100%); check its plate frames against the cut"
    ]


def test_merged_uses_end_at_the_last_use(fixture_path):
    shot = ingest_file(fixture_path("repeat.edl"), IngestOptions(merge_repeats=True)).shots[0]
    assert shot.metadata["record_out_tc"] == "01:00:03:00"
