"""Property-based checks of the API against its own OpenAPI schema: generated requests (valid and
invalid: schemathesis' default modes), each sent with a tenant admin's, an agent's and the
platform operator's token, never get a 5xx, and every documented response matches the schema.

The world is built when the module loads (schemathesis needs the schema to collect tests), on
a SQLite file in a temporary directory removed at the end."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from tests.apitools import World

MAX_EXAMPLES = 8
_dir = Path(tempfile.mkdtemp(prefix="waihu-st-"))
_world = World(f"sqlite:///{_dir / 'waihu.db'}", rate_limit_per_minute=10**9, rate_limit_burst=10**9)
_tokens = _world.tenant("fuzz").tokens
# the broadest tenant role, the narrowest (an agent: own calls only, numbers masked) and the
# platform operator (no tenant data at all): each must get answers that keep to the schema
ROLES = ("tenant_admin", "agent", "platform_admin")
schema = schemathesis.openapi.from_asgi("/openapi.json", _world.app)


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    _world.close()
    shutil.rmtree(_dir, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_schema_holds(case: schemathesis.Case) -> None:
    for role in ROLES:
        case.call_and_validate(headers={"Authorization": f"Bearer {_tokens[role]}"},
                               checks=[checks.not_a_server_error, checks.response_schema_conformance])
