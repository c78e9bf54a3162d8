"""Before a submission with ``tracker: ayon``: the shot folders are looked up on the AYON server, read only."""

from __future__ import annotations

from roto_core.contracts import Shot, ShotList
from submitters.preflight import ayon_folder_problems
from tests.publish.ayon_standin import AyonStandIn


def _shots(*paths: str) -> ShotList:
    shots = [
        Shot(name=p.rsplit("/", 1)[1], folder_path=p, plate="/plates/p.####.exr", first_frame=1001, last_frame=1010)
        for p in paths
    ]
    return ShotList(source="cut.edl", fps=24.0, shots=shots)


def test_missing_ayon_folders_are_named_and_nothing_is_created(server: AyonStandIn) -> None:
    from publish.ayon_tracker import AyonTracker

    before = server.get_folder_by_path("demo", "/sq010/sh099")
    problems = ayon_folder_problems("demo", _shots("/sq010/sh010", "/sq010/sh099"), AyonTracker(server))
    assert before is None and server.get_folder_by_path("demo", "/sq010/sh099") is None
    assert len(problems) == 1
    assert problems[0].startswith("sh099: folder /sq010/sh099 does not exist in AYON project demo")


def test_without_ayon_credentials_the_check_says_it_could_not_run(monkeypatch) -> None:
    monkeypatch.delenv("AYON_SERVER_URL", raising=False)
    monkeypatch.delenv("AYON_API_KEY", raising=False)
    problems = ayon_folder_problems("demo", _shots("/sq010/sh010"))
    assert problems == ["AYON folders not checked: AYON_SERVER_URL and AYON_API_KEY must be set to publish to AYON"]
