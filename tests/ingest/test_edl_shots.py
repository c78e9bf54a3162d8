"""CMX 3600 EDLs → shots: frame ranges, timecodes, retimes, transitions, tracks, gaps, repeats."""

import pytest

from otio_ingest import IngestOptions, ingest_file


def _by_name(shotlist):
    return {s.name: s for s in shotlist.shots}


def test_plain_cut_ranges_and_timecodes(fixture_path):
    shots = ingest_file(fixture_path("plain.edl")).shots
    assert [s.name for s in shots] == ["sq010_sh010", "sq010_sh020", "sq010_sh030"]
    cut_frames = [40, 72, 36]
    for shot, cut in zip(shots, cut_frames, strict=True):
        assert shot.first_frame == 1001
        assert shot.handles == 8
        assert shot.last_frame - shot.first_frame + 1 == cut + 2 * 8
        assert shot.metadata["cut_frames"] == cut
        assert shot.fps == 24
        assert shot.folder_path == f"/sq010/{shot.name}"
        assert shot.plate == f"/plates/sq010/{shot.name}/{shot.name}_plate.####.exr"
        assert (shot.width, shot.height) == (1920, 1080)
    assert [s.source_in_tc for s in shots] == ["14:22:05:10", "14:31:40:00", "09:10:00:12"]
    assert [s.record_in_tc for s in shots] == ["01:00:00:00", "01:00:01:16", "01:00:04:16"]
    assert shots[0].metadata["reel"] == "A003C012"
    assert shots[0].metadata["record_out_tc"] == "01:00:01:16"


def test_start_frame_handles_and_templates(fixture_path):
    options = IngestOptions(
        start_frame=1,
        handles=0,
        folder_template="/shots/{sequence}_{shot}",
        plates="/mnt/plates/{reel}/{clip}.%06d.dpx",
        sequence="SQ10",
    )
    shot = ingest_file(fixture_path("plain.edl"), options).shots[1]
    assert (shot.first_frame, shot.last_frame) == (1, 72)
    assert shot.folder_path == "/shots/SQ10_sq010_sh020"
    assert shot.plate == "/mnt/plates/A003C019/sq010_sh020_v001.%06d.dpx"


def test_name_regex_group_picks_the_shot(fixture_path):
    options = IngestOptions(name_regex=r"_(?P<shot>sh\d+)_", sequence_regex=r"nomatch(?P<sequence>x)")
    shotlist = ingest_file(fixture_path("plain.edl"), options)
    assert [s.name for s in shotlist.shots] == ["sh010", "sh020", "sh030"]
    # no sequence in the shot name: the EDL TITLE names it
    assert shotlist.shots[0].folder_path == "/SQ010_EDIT_V004/sh010"


def test_retimes_speed_slow_freeze_reverse(fixture_path):
    shots = _by_name(ingest_file(fixture_path("retimes.edl")))
    fast = shots["sq030_sh010"]
    assert fast.metadata["retime"] == {"kind": "speed", "speed": 2.0, "source_frames": 48, "cut_frames": 24}
    assert fast.last_frame - fast.first_frame + 1 == 48 + 16
    slow = shots["sq030_sh020"]
    assert slow.metadata["retime"]["source_frames"] == 12
    assert slow.last_frame == 1001 + 12 + 16 - 1
    for name in ("sq030_sh030", "sq030_sh040"):  # M2 000.0 and * FREEZE FRAME
        freeze = shots[name]
        assert freeze.metadata["retime"]["kind"] == "freeze"
        assert freeze.last_frame - freeze.first_frame + 1 == 1 + 16
    reverse = shots["sq030_sh050"]
    assert reverse.metadata["retime"]["kind"] == "reverse"
    assert reverse.last_frame - reverse.first_frame + 1 == 24 + 16
    # the event's source span (in 10:40:01:00, out 10:40:00:00) is what it plays, from the top down; the plate is
    # in source order, so it starts at the lower timecode (the same rule as Avid's render of a reversed AAF clip)
    assert reverse.source_in_tc == "10:40:00:00"


def test_marker_on_retimed_clip_goes_through_the_speed(fixture_path):
    fast = _by_name(ingest_file(fixture_path("retimes.edl")))["sq030_sh010"]
    # LOC 6 record frames into a 2x event shows plate frame 12
    assert [(p.object, p.frame, p.text) for p in fast.prompts] == [("hero", 1001 + 8 + 12, "man on the bike")]


def test_dissolve_and_wipe_extend_the_outgoing_shot(fixture_path):
    shots = _by_name(ingest_file(fixture_path("dissolve.edl")))
    assert list(shots) == ["sq040_sh010", "sq040_sh020", "sq040_sh030"]
    out = shots["sq040_sh010"]
    assert out.metadata["transition"] == {"head": 0, "tail": 12}
    assert out.last_frame - out.first_frame + 1 == 48 + 12 + 16
    middle = shots["sq040_sh020"]
    assert middle.metadata["transition"] == {"head": 0, "tail": 10}
    assert middle.last_frame - middle.first_frame + 1 == 72 + 10 + 16
    assert middle.record_in_tc == "01:00:02:00"
    assert "transition" not in shots["sq040_sh030"].metadata


def test_loc_markers_land_on_record_frames(fixture_path):
    shots = _by_name(ingest_file(fixture_path("markers.edl")))
    first = shots["sq050_sh010"]
    assert [(p.object, p.frame, p.kind) for p in first.prompts] == [("hero", 1009, "text"), ("umbrella", 1045, "box")]
    assert first.prompts[1].box == (812, 440, 1290, 760)
    # the note marker (VFX NOTE) is not a prompt
    assert len(first.prompts) == 2
    # second event starts at record 01:00:03:00; LOC 01:00:04:23 is 47 frames in
    assert [(p.object, p.frame) for p in shots["sq050_sh020"].prompts] == [("dog", 1001 + 8 + 47)]


def test_drop_frame_edl_counts_dropped_frames(fixture_path):
    shotlist = ingest_file(fixture_path("dropframe.edl"))
    assert shotlist.fps == pytest.approx(30000 / 1001)
    first, second = shotlist.shots
    # 00:00:59:20 → 00:01:00:10 is 18 frames in drop-frame (20 if read as non-drop)
    assert first.last_frame - first.first_frame + 1 == 18 + 16
    assert second.last_frame - second.first_frame + 1 == 50 + 16
    assert first.record_in_tc == "00:00:59;20"
    assert second.record_in_tc == "00:01:00;10"
    assert first.source_in_tc == "01:00:59;20"


def test_fps_override_reads_semicolon_timecodes(tmp_path):
    edl = tmp_path / "df.edl"
    edl.write_text(
        "TITLE: DF\n\n001  AX V     C        00:00:59;28 00:01:00;04 00:00:59;28 00:01:00;04\n* FROM CLIP NAME: sh010\n"
    )
    shot = ingest_file(edl, IngestOptions(fps=29.97)).shots[0]
    assert shot.last_frame - shot.first_frame + 1 == 4 + 16
    assert shot.record_in_tc == "00:00:59;28"


def test_repeated_clip_is_numbered_or_merged(fixture_path):
    numbered = ingest_file(fixture_path("repeat.edl"))
    assert [s.name for s in numbered.shots] == ["sq070_sh010", "sq070_sh020", "sq070_sh010_2"]
    assert numbered.shots[2].record_in_tc == "01:00:02:00"
    merged = _by_name(ingest_file(fixture_path("repeat.edl"), IngestOptions(merge_repeats=True)))
    assert list(merged) == ["sq070_sh010", "sq070_sh020"]
    both = merged["sq070_sh010"]
    # source 16:00:00:00 - 16:00:03:00 covers both uses
    assert both.last_frame - both.first_frame + 1 == 72 + 16
    assert [u["record_in_tc"] for u in both.metadata["uses"]] == ["01:00:00:00", "01:00:02:00"]
    # the second use's LOC is 4 frames in, its source starts 48 frames after the first's
    assert [p.frame for p in both.prompts] == [1001 + 8 + 10, 1001 + 8 + 48 + 4]


def test_gaps_and_black_are_not_shots(fixture_path):
    shots = ingest_file(fixture_path("gaps.edl")).shots
    assert [s.name for s in shots] == ["sq080_sh010", "sq080_sh020"]
    assert shots[1].record_in_tc == "01:00:03:00"


def test_top_video_track_or_named_track(fixture_path):
    top = ingest_file(fixture_path("two_tracks.edl"))
    assert [s.name for s in top.shots] == ["sq090_sh010"]
    assert top.shots[0].record_in_tc == "01:00:00:12"
    lower = ingest_file(fixture_path("two_tracks.edl"), IngestOptions(track="V"))
    assert [s.name for s in lower.shots] == ["sq090_bg010", "sq090_bg020"]
    assert lower.shots[1].metadata["editorial"]["track"] == "V1 'V'"


def test_plate_size_comes_from_the_first_plate_frame(fixture_path, tmp_path):
    cv2 = pytest.importorskip("cv2")
    import numpy as np

    plates = tmp_path / "{shot}" / "{shot}.####.png"
    folder = tmp_path / "sq010_sh020"
    folder.mkdir()
    cv2.imwrite(str(folder / "sq010_sh020.1001.png"), np.zeros((54, 96, 3), np.uint8))
    shots = _by_name(ingest_file(fixture_path("plain.edl"), IngestOptions(plates=str(plates), width=640, height=360)))
    assert (shots["sq010_sh020"].width, shots["sq010_sh020"].height) == (96, 54)
    # no plate on disk yet: the configured size
    assert (shots["sq010_sh010"].width, shots["sq010_sh010"].height) == (640, 360)


def test_loc_prompt_in_a_drop_frame_edl_lands_on_its_frame(fixture_path, tmp_path):
    """The adapter skips a LOC whose timecode it cannot read; in a drop-frame EDL every LOC is written with ';'."""
    text = fixture_path("dropframe.edl").read_text()
    loc = "* LOC: 00:01:01:00 RED     roto: hero: the cyclist\n"
    edl = tmp_path / "df.edl"
    edl.write_text(text.replace("* FROM CLIP NAME: sq060_sh020\n", "* FROM CLIP NAME: sq060_sh020\n" + loc))
    shot = ingest_file(edl).shots[1]
    # record in 00:01:00;10 is frame 1808, the LOC 00:01:01;00 frame 1828 (frames ;00 and ;01 of minute 1 dropped)
    assert [(p.object, p.frame) for p in shot.prompts] == [("hero", 1001 + 8 + 20)]
