"""Fuzzing the EDL path: whatever the text, ingest returns shots or raises our EditorialError, nothing else.

Inputs start as well-formed EDLs (so the fuzz reaches the shot builder, markers and retimes) and are then mutated
line- and character-wise (so it also reaches every adapter failure).
"""

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otio_ingest import EditorialError, ingest_file
from roto_core.contracts import ShotList

RATE = 24


def _tc(frames: int) -> str:
    frames = max(frames, 0)
    return f"{frames // 86400 % 24:02d}:{frames // 1440 % 60:02d}:{frames // 24 % 60:02d}:{frames % 24:02d}"


_comment = st.one_of(
    st.builds(
        "* LOC: {} RED     {}".format,
        st.integers(86390, 86500).map(_tc),
        st.sampled_from(
            [
                "roto: hero: a man",
                "roto-box: car: 1 2 30 40",
                "roto: x",
                "roto-box: c: 4 3 2 1",
                "VFX note",
                "rotoscope later",
            ]
        ),
    ),
    st.builds(
        "M2   R1       {}                00:00:00:00".format,
        st.sampled_from(["048.0", "000.0", "-024.0", "012.0", "x"]),
    ),
    st.sampled_from(["* FREEZE FRAME", "* TO CLIP NAME: sh999", "FCM: DROP FRAME", "* ASC_SOP (1 1 1)(0 0 0)(1 1 1)"]),
)


@st.composite
def _well_formed(draw) -> list[str]:
    lines = ["TITLE: FUZZ", "FCM: NON-DROP FRAME", ""]
    record = 86400
    for number in range(1, draw(st.integers(0, 6)) + 1):
        duration = draw(st.integers(0, 60))
        source = draw(st.integers(0, 200000))
        record += draw(st.sampled_from([0, 0, 5, -3]))
        channel = draw(st.sampled_from(["V", "V", "V2", "A", "B"]))
        edit = draw(st.sampled_from(["C        ", "C        ", "D    008 ", "W001 004 "]))
        lines.append(
            f"{number:03d}  R{number}       {channel}     {edit}{_tc(source)} {_tc(source + duration)} "
            f"{_tc(record)} {_tc(record + duration)}"
        )
        lines.append(f"* FROM CLIP NAME: {draw(st.sampled_from(['sh010', 'sq1_sh020', 'sh010', 'a b', 'X']))}")
        lines += draw(st.lists(_comment, max_size=2))
        record += duration
    return lines


@st.composite
def _mutated(draw) -> str:
    lines = draw(_well_formed())
    for _ in range(draw(st.integers(0, 3))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["delete", "duplicate", "chars", "token"]))
        if kind == "delete":
            del lines[at]
        elif kind == "duplicate":
            lines.insert(at, lines[at])
        elif kind == "chars":
            col = draw(st.integers(0, len(lines[at])))
            lines[at] = lines[at][:col] + draw(st.text(max_size=5)) + lines[at][col + draw(st.integers(0, 4)) :]
        else:
            tokens = lines[at].split()
            if tokens:
                tokens[draw(st.integers(0, len(tokens) - 1))] = draw(
                    st.sampled_from(["99:99:99:99", "00:00:00;00", "", "-1", "D", "007", "K", "00:00:00:30"])
                )
                lines[at] = "  ".join(tokens)
    return "\n".join(lines) + "\n"


def _check(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        result = ingest_file(path)
    except EditorialError as exc:
        assert exc.path is not None or exc.where
        assert "\n" not in exc.format()
    else:
        assert isinstance(result, ShotList)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_mutated())
def test_edl_reader_only_raises_editorial_errors(tmp_path, text):
    _check(tmp_path / "fuzz.edl", text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200))
def test_binary_garbage(tmp_path, data):
    path = tmp_path / "garbage.edl"
    path.write_bytes(data)
    try:
        ingest_file(path)
    except EditorialError as exc:
        assert exc.path == str(path)
