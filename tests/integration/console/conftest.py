from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.apitools import World


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    w = World(db_url)
    yield w
    w.close()
