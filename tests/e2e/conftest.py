"""Helpers to run the real ``waihu`` console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

WAIHU = Path(sys.executable).with_name("waihu")


def run_waihu(*args: str, db: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WAIHU_DATABASE_URL": db}
    p = subprocess.run([str(WAIHU), *args], capture_output=True, text=True, env=env, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"waihu {' '.join(args)} failed ({p.returncode}): {p.stderr[-2000:]}")
    return p


def last_json(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            doc: dict[str, Any] = json.loads(line)
            return doc
    raise AssertionError(f"no JSON object in output: {stdout[-500:]}")


@pytest.fixture
def waihu(db_url: str):  # type: ignore[no-untyped-def]
    def call(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run_waihu(*args, db=db_url, check=check)

    return call
