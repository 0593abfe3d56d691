"""docs/api.md documents the one permission table as it is in the code."""

from __future__ import annotations

from pathlib import Path

from waihu.domain.permissions import PERMISSIONS, ROLE_PERMISSIONS, Role

DOC = Path(__file__).parents[3] / "docs" / "api.md"


def test_permission_table_matches_the_code() -> None:
    rows = {line.split("|")[1].strip(" `"): line for line in DOC.read_text(encoding="utf-8").splitlines()
            if line.startswith("| `")}
    roles = list(Role)
    for perm in PERMISSIONS:
        cells = [c.strip() for c in rows[perm].split("|")[3:3 + len(roles)]]
        assert cells == ["✔" if perm in ROLE_PERMISSIONS[r] else "" for r in roles], perm
