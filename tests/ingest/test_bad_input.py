"""Bad editorial input: one typed EditorialError naming the file, and the line/event for an EDL."""

import pytest

from otio_ingest import EditorialError, IngestOptions, ingest_file
from roto_core.errors import InputError

HEADER = "TITLE: BAD\nFCM: NON-DROP FRAME\n\n"
GOOD_EVENT = "001  A001 V     C        01:00:00:00 01:00:01:00 01:00:00:00 01:00:01:00\n* FROM CLIP NAME: sh010\n"


def _edl(tmp_path, body: str, name: str = "bad.edl"):
    path = tmp_path / name
    path.write_text(HEADER + body)
    return path


def _error(path, options=None) -> EditorialError:
    with pytest.raises(EditorialError) as info:
        ingest_file(path, options)
    assert isinstance(info.value, InputError)
    assert "\n" not in info.value.format()
    return info.value


def test_unknown_extension(tmp_path):
    path = tmp_path / "cut.fcpxml"
    path.write_text("<fcpxml/>")
    err = _error(path)
    assert err.path == str(path)
    assert "unknown editorial format '.fcpxml'" in err.message


def test_missing_file(tmp_path):
    err = _error(tmp_path / "nowhere.edl")
    assert err.message == "file not found"


def test_source_out_before_in_names_line_and_event(tmp_path):
    body = GOOD_EVENT + (
        "002  A002 V     C        01:00:10:00 01:00:09:00 01:00:01:00 01:00:02:00\n* FROM CLIP NAME: sh020\n"
    )
    err = _error(_edl(tmp_path, body))
    assert (err.line, err.where) == (6, "event 002")
    assert err.message == "source out 01:00:09:00 is before source in 01:00:10:00"


def test_backwards_source_is_caught_even_with_an_m2_line(tmp_path):
    body = GOOD_EVENT + (
        "002  A002 V     C        01:00:10:00 01:00:09:00 01:00:01:00 01:00:02:00\n"
        "* FROM CLIP NAME: sh020\nM2   A002       048.0                01:00:10:00\n"
    )
    err = _error(_edl(tmp_path, body))
    assert (err.line, err.where) == (6, "event 002")


def test_record_out_before_in(tmp_path):
    body = "001  A001 V     C        01:00:00:00 01:00:01:00 01:00:02:00 01:00:01:00\n"
    err = _error(_edl(tmp_path, body))
    assert err.line == 4
    assert err.message == "record out 01:00:01:00 is before record in 01:00:02:00"


def test_malformed_event_line(tmp_path):
    body = GOOD_EVENT + "002  A002 V     C        01:00:10:00\n"
    err = _error(_edl(tmp_path, body))
    assert (err.line, err.where) == (6, "event 002")
    assert "incorrect number of fields" in err.message


def test_garbage_before_any_event_names_its_line(tmp_path):
    err = _error(_edl(tmp_path, "this is not an edl\n" + GOOD_EVENT))
    assert err.line == 4
    assert "not a valid CMX 3600 EDL" in err.message


def test_durations_that_disagree(tmp_path):
    body = GOOD_EVENT + (
        "002  A002 V     C        01:00:10:00 01:00:12:00 01:00:01:00 01:00:02:00\n* FROM CLIP NAME: sh020\n"
    )
    err = _error(_edl(tmp_path, body))
    assert (err.line, err.where) == (6, "event 002")
    assert "don't match" in err.message


def test_roto_marker_with_unknown_syntax_names_the_marker(tmp_path):
    body = GOOD_EVENT + (
        "002  A002 V     C        01:00:10:00 01:00:11:00 01:00:01:00 01:00:02:00\n"
        "* FROM CLIP NAME: sh020\n* LOC: 01:00:01:05 RED     roto hero the man\n"
    )
    err = _error(_edl(tmp_path, body))
    assert (err.line, err.where.split(":")[0]) == (6, "event 002")
    assert "marker 'roto hero the man'" in err.where
    assert "reads like a roto prompt" in err.message


def test_roto_box_needs_four_numbers(tmp_path):
    body = GOOD_EVENT.replace("sh010\n", "sh010\n* LOC: 01:00:00:05 RED     roto-box: car: 1 2 3\n")
    err = _error(_edl(tmp_path, body))
    assert err.line == 4
    assert "four numbers" in err.message


def test_loc_outside_its_event(tmp_path):
    body = GOOD_EVENT.replace("sh010\n", "sh010\n* LOC: 01:00:05:00 RED     roto: hero: the man\n")
    err = _error(_edl(tmp_path, body))
    assert err.line == 4
    assert "outside its clip" in err.message


def test_notes_are_not_errors(tmp_path):
    body = GOOD_EVENT.replace("sh010\n", "sh010\n* LOC: 01:00:00:05 RED     rotoscope the rig later\n")
    assert ingest_file(_edl(tmp_path, body)).shots[0].prompts == []


@pytest.mark.parametrize(
    ("option", "template", "key"),
    [("plates", "/plates/{shto}/x.####.exr", "{shto}"), ("folder_template", "/{seq}/{shot}", "{seq}")],
)
def test_template_with_unknown_key(fixture_path, option, template, key):
    err = _error(fixture_path("plain.edl"), IngestOptions(**{option: template}))
    assert err.where == "--" + option.replace("_", "-")
    assert f"unknown key {key}" in err.message


def test_unknown_track(fixture_path):
    err = _error(fixture_path("two_tracks.edl"), IngestOptions(track="V7"))
    assert err.where == "--track"
    assert "'V2'" in err.message


def test_drop_frame_header_at_a_non_ntsc_rate(fixture_path):
    err = _error(fixture_path("dropframe.edl"), IngestOptions(fps=25))
    assert "DROP FRAME" in err.message


def test_unreadable_otio(tmp_path):
    path = tmp_path / "cut.otio"
    path.write_text("{ not json")
    err = _error(path)
    assert err.path == str(path)
    assert "otio_json adapter" in err.message


def test_clip_name_that_is_no_shot_name_becomes_a_safe_name(tmp_path):
    body = GOOD_EVENT.replace("sh010", "my clip (v2).mov")
    shot = ingest_file(_edl(tmp_path, body), IngestOptions(name_regex="nomatch")).shots[0]
    assert shot.name == "my_clip_v2"
    assert shot.metadata["clip"] == "my clip (v2).mov"


@pytest.mark.parametrize("kind", ["source out before in", "marker outside its clip"])
def test_bad_event_deep_in_a_long_edl_is_located(tmp_path, kind):
    """Past one window of events the locator reads windows, then checks its answer against the whole EDL."""
    from bench.ingest import generate_edl

    lines = generate_edl(1200).splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("1100 "))
    fields = lines[at].split()
    if kind == "source out before in":
        lines[at] = lines[at].replace(f"{fields[-4]} {fields[-3]}", f"{fields[-3]} {fields[-4]}")
    else:
        lines.insert(at + 2, "* LOC: 23:00:00:00 RED     roto: hero: far away")
    path = tmp_path / "long.edl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(EditorialError) as info:
        ingest_file(path)
    assert (info.value.line, info.value.where.split(":")[0]) == (at + 1, "event 1100")
