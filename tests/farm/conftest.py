"""Fixtures for the farm tests: a running fake Deadline Web Service and a client for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from submitters.deadline.client import DeadlineClient
from tests.farm.fake_deadline import FakeDeadline


@pytest.fixture
def deadline() -> Iterator[FakeDeadline]:
    fake = FakeDeadline(pools=["none", "roto", "comp"], groups=["none", "gpu", "cpu"])
    fake.add_limit("roto_gpu", limit=8)
    with fake:
        yield fake


@pytest.fixture
def client(deadline: FakeDeadline) -> DeadlineClient:
    return DeadlineClient(deadline.url, user=deadline.user, password=deadline.password, retries=2, backoff_s=0.01)
