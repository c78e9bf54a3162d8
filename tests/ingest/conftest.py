"""Fixtures of the ingest tests: the committed editorial files and default options."""

from pathlib import Path

import pytest

from otio_ingest import IngestOptions

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixture_path():
    return lambda name: FIXTURES / name


@pytest.fixture
def options():
    return IngestOptions()
