"""The harness itself: a missing editorial file ends as one error line, exit 2."""

from tests.hostile.harness import assert_one_error, run_rotofarm


def test_missing_cut_is_one_error_line(tmp_path):
    ended = run_rotofarm(["ingest", str(tmp_path / "nowhere.edl")], cwd=tmp_path)
    assert_one_error(ended, contains="nowhere.edl")
