"""Fixtures shared by the test modules: the repo, a data dir, subprocess environments, a frozen clock.

Every subprocess of the tests runs at NOW: `clean_env` sets BACKLOG_NOW for our entry points,
and `taskwarrior_at` runs Taskwarrior under `faketime` at the same instant.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 24, 10, 14, 53, tzinfo=timezone.utc)
NOW_ISO = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")  # NOW as BACKLOG_NOW takes it


def tool_path(name: str) -> str | None:
    """A command from PATH or from the pinned npm tools under .tools (installed by .ci/run)."""
    local = REPO / ".tools" / "node_modules" / ".bin" / name
    return shutil.which(name) or (str(local) if local.exists() else None)


def require_tool(name: str) -> str:
    """The tool's path; skip when it is missing, but fail under CI=true (CI installs it)."""
    path = tool_path(name)
    if path is None:
        message = f"'{name}' is not installed; bash .ci/run installs it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    """An empty data dir."""
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def clean_env(tmp_path: Path) -> dict:
    """The environment for a subprocess: no backlog settings leak in from the caller."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TASKDATA", "BACKLOG_", "CLAUDE_")) and k not in ("XDG_DATA_HOME", "TZ")}
    env.update(HOME=str(tmp_path / "home"), PYTHONPATH=str(REPO), TZ="UTC", BACKLOG_NOW=NOW_ISO)
    return env


def without_faketime(env: Mapping[str, str]) -> dict:
    """`env` minus libfaketime (LD_PRELOAD, FAKETIME*): `faketime` cannot start under libfaketime."""
    return {k: v for k, v in env.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}


def taskwarrior_at(args: list[str], tz: str = "UTC", now: datetime = NOW) -> list[str]:
    """The command running `task args` with its clock stopped at `now` (`faketime -f` takes local wall time in `tz`).

    Run it with `without_faketime(env)` and TZ=`tz`; skips (fails under CI) without task or faketime.
    """
    wall = now.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S")
    return [require_tool("faketime"), "-f", wall, require_tool("task"), *args]


def run_backlog(args: list[str], env: dict, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real `backlog` CLI as a subprocess (python -m backlog, the same entry point)."""
    return subprocess.run([sys.executable, "-m", "backlog", *args], input=stdin, capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)
