"""Hooks keep their fast path: a hook process never imports the SDK or the CLI's parser."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import run_backlog

HEAVY = {"mcp", "pydantic", "anyio", "starlette", "argparse", "dateutil", "boto3",
         "subprocess"}  # not in the list: ~1-3 ms a hook, needed only by doctor and the CLI's editor


def imported_modules(stderr: str) -> set[str]:
    """Top-level names of every module `python -X importtime` reported."""
    return {line.rsplit("|", 1)[-1].strip().split(".")[0]
            for line in stderr.splitlines() if line.startswith("import time:") and "|" in line}


def test_session_start_imports_no_heavy_module(tmp_path, clean_env):
    env = {**clean_env, "TASKDATA": str(tmp_path / "data")}
    assert run_backlog(["add", "Keep", "hooks", "fast", "priority:H"], env).returncode == 0
    payload = json.dumps({"session_id": "s1", "hook_event_name": "SessionStart", "source": "startup",
                          "cwd": str(tmp_path)})
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "backlog", "hook", "SessionStart"],
                            input=payload, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0
    assert "Keep hooks fast" in result.stdout  # the hook did its real work
    modules = imported_modules(result.stderr)
    assert "backlog" in modules
    assert not HEAVY & modules, f"a hook imported {sorted(HEAVY & modules)}"


def test_a_writing_hook_imports_no_lock_package(tmp_path, clean_env):
    """TaskCreated writes under the store's own flock: no filelock (its import was ~35 ms)."""
    env = {**clean_env, "TASKDATA": str(tmp_path / "data")}
    payload = json.dumps({"session_id": "s1", "hook_event_name": "TaskCreated", "task_id": "1",
                          "task_subject": "Mirror me", "cwd": str(tmp_path)})
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "backlog", "hook", "TaskCreated"],
                            input=payload, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0
    assert "Mirror me" in run_backlog(["list"], env).stdout  # the hook wrote
    modules = imported_modules(result.stderr)
    assert not ({"filelock"} | HEAVY) & modules, sorted(({"filelock"} | HEAVY) & modules)
