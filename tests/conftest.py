"""Fixtures shared by the test modules: the repo, a data dir, subprocess environments, a frozen clock.

Every subprocess of the tests runs at NOW: `clean_env` sets BACKLOG_NOW for our entry points,
and `stopped_at` gives Taskwarrior libfaketime stopped at the same instant.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

import pytest

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 24, 10, 14, 53, tzinfo=timezone.utc)
NOW_ISO = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")  # NOW as BACKLOG_NOW takes it
LIBFAKETIME = ("/usr/lib*/faketime/libfaketime.so.1",      # Fedora, Arch
               "/usr/lib/*/faketime/libfaketime.so.1",     # Debian, Ubuntu (multiarch)
               "/usr/local/lib*/faketime/libfaketime.so.1")  # built from source


def tool_path(name: str) -> str | None:
    """A command from PATH or from the pinned npm tools under .tools (installed by .ci/run)."""
    local = REPO / ".tools" / "node_modules" / ".bin" / name
    return shutil.which(name) or (str(local) if local.exists() else None)


def missing(message: str) -> NoReturn:
    """Skip the test for a missing tool, but fail it under CI=true (CI installs every tool)."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def require_tool(name: str) -> str:
    """The tool's path; skip when it is missing, but fail under CI=true."""
    path = tool_path(name)
    if path is None:
        missing(f"'{name}' is not installed; bash .ci/run installs it")
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


def stopped_at(env: Mapping[str, str], tz: str = "UTC", now: datetime = NOW) -> dict:
    """`env` for a child whose clock stands at `now` in zone `tz`: libfaketime preloaded, FAKETIME set.

    It replaces the libfaketime a faked test run is under (which cannot nest). The `faketime`
    wrapper is not used: a killed one leaves a semaphore named by its pid that makes a later
    wrapper with the same pid fail (`sem_open: File exists`). Skips (fails under CI) without it.
    """
    found = sorted(path for pattern in LIBFAKETIME for path in glob.glob(pattern))
    if not found:
        missing("libfaketime is not installed; bash .ci/run installs it (package faketime)")
    wall = now.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S")  # FAKETIME reads local wall time
    kept = {k: v for k, v in env.items() if not k.startswith("FAKETIME")}
    return {**kept, "LD_PRELOAD": found[0], "FAKETIME": wall, "TZ": tz}


def run_backlog(args: list[str], env: dict, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real `backlog` CLI as a subprocess (python -m backlog, the same entry point)."""
    return subprocess.run([sys.executable, "-m", "backlog", *args], input=stdin, capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)


def error(call, *args, **kwargs) -> str:
    """The one-line BacklogError message `call(*args, **kwargs)` raises (it must raise one)."""
    from backlog.errors import BacklogError

    with pytest.raises(BacklogError) as caught:
        call(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


# -- a real S3 for the S3 test modules (tests/s3_support.py) -------------------------------
@pytest.fixture(scope="module")
def endpoint():
    """A moto server on 127.0.0.1 for the module's S3 tests (its bucket made), stopped after it."""
    from s3_support import moto_server

    with moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def s3(endpoint: str) -> object:
    """One boto3 client for the module's backends (making one costs ~0.4 s)."""
    from s3_support import client

    return client(endpoint)
