"""Fixtures shared by the test modules: the repo, a data dir, an engine on it, a frozen clock."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 24, 10, 14, 53, tzinfo=timezone.utc)


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
    env.update(HOME=str(tmp_path / "home"), PYTHONPATH=str(REPO), TZ="UTC")
    return env


def run_backlog(args: list[str], env: dict, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real `backlog` CLI as a subprocess (python -m backlog, the same entry point)."""
    return subprocess.run([sys.executable, "-m", "backlog", *args], input=stdin, capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)
