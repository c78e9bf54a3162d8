"""The hostile-input suites run one ``rotofarm`` subprocess per input (300+ of them, about 1–3 s each): they are in
the slow selection, which CI runs after the README's test command (``.ci/run``)."""

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = __file__.rsplit("/", 1)[0]
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.slow)
