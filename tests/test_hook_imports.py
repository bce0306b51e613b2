"""Hooks keep their fast path: a hook process never imports the SDK or the CLI's parser."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_backlog

HEAVY = {"mcp", "pydantic", "anyio", "starlette", "argparse", "dateutil", "boto3",
         "subprocess"}  # not in the list: ~1-3 ms a hook, needed only by doctor and the CLI's editor
# What a process that writes small records never needs: orjson with what it pulls in (~20 ms;
# sealed.plain_dumps writes them), uuid with platform (~4 ms; core.model.new_uuid), filelock.
NOT_WRITING = {"orjson", "dataclasses", "inspect", "uuid", "platform", "filelock"}


# What a writing hook never needs: the json package's pure-Python parts with the re and enum they
# load (core/cjson.py uses its C accelerators), pathlib (with urllib.parse and ipaddress: paths are
# os.path strings), zoneinfo (core.dates.LazyZone), threading, importlib (~15 ms of a hook's start).
NOT_IN_A_WRITING_HOOK = {"json", "re", "enum", "pathlib", "urllib", "zoneinfo", "threading", "importlib"}
# The installed `backlog` script (`python -m backlog` would load runpy, and importlib with it).
BACKLOG = str(Path(sys.executable).with_name("backlog"))
# What a mutation that prints only its message never needs: the brief (a view, urgency, virtual tags).
NO_BRIEF = {"backlog.store.view", "backlog.engine.render", "backlog.core.urgency", "backlog.core.filter"}


def imported_names(stderr: str) -> set[str]:
    """Full names of every module `python -X importtime` reported."""
    return {line.rsplit("|", 1)[-1].strip()
            for line in stderr.splitlines() if line.startswith("import time:") and "|" in line}


def imported_modules(stderr: str) -> set[str]:
    """Top-level names of every module `python -X importtime` reported."""
    return {name.split(".")[0] for name in imported_names(stderr)}


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


def test_writing_hooks_import_no_lock_package_nor_orjson_nor_a_view(tmp_path, clean_env):
    """TaskCreated and TaskCompleted write under the store's own flock (no filelock, ~35 ms), seal
    their record with the standard library (no orjson), make no brief (no view, no urgency) and
    load none of NOT_IN_A_WRITING_HOOK."""
    env = {**clean_env, "TASKDATA": str(tmp_path / "data")}
    for event, seen in (("TaskCreated", "Mirror me"), ("TaskCompleted", "")):
        payload = json.dumps({"session_id": "s1", "hook_event_name": event, "task_id": "1",
                              "task_subject": "Mirror me", "cwd": str(tmp_path)})
        result = subprocess.run([sys.executable, "-X", "importtime", BACKLOG, "hook", event],
                                input=payload, capture_output=True, text=True, env=env, timeout=60)
        assert result.returncode == 0
        assert seen in run_backlog(["list"], env).stdout and ("Mirror me" in run_backlog(["completed"], env).stdout
                                                               or event == "TaskCreated")  # the hook wrote
        modules = imported_modules(result.stderr)
        assert not (NOT_WRITING | HEAVY | NOT_IN_A_WRITING_HOOK) & modules, (
            event, sorted((NOT_WRITING | HEAVY | NOT_IN_A_WRITING_HOOK) & modules))
        assert not NO_BRIEF & imported_names(result.stderr), (event, sorted(NO_BRIEF & imported_names(result.stderr)))
    assert not (tmp_path / "data" / "hooks.log").exists()


@pytest.mark.parametrize("words", [["add", "Ship", "it", "project:web", "+naïve"],
                                   ["2", "annotate", "noted", "--json"], ["1,2", "done", "--json"],
                                   ["add", "answer", "in", "JSON", "--json"]])
def test_a_writing_command_imports_no_orjson(tmp_path, clean_env, words):
    env = {**clean_env, "TASKDATA": str(tmp_path / "data")}
    for description in ("first", "second"):
        assert run_backlog(["add", description], env).returncode == 0
    journal = tmp_path / "data" / "journal" / "000000.jsonl"
    size = journal.stat().st_size
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "backlog", *words],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert journal.stat().st_size > size  # it wrote
    assert not NOT_WRITING & imported_modules(result.stderr), sorted(NOT_WRITING & imported_modules(result.stderr))
    if words[0] == "add" and "--json" not in words:  # its answer is its message: no brief is made
        assert not NO_BRIEF & imported_names(result.stderr), sorted(NO_BRIEF & imported_names(result.stderr))
