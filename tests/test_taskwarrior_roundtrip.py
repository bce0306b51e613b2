"""A real `task export` from Taskwarrior 2.6.2 goes through `backlog import` and
`backlog export` and back into Taskwarrior, keeping every field Taskwarrior has.

Taskwarrior's bookkeeping that SPEC §4 task_import says we ignore and recompute (`id`,
`urgency`, `mask`, `imask`, `modified`) is left out of the comparison. Taskwarrior runs
under libfaketime at conftest's NOW, our CLI at BACKLOG_NOW=NOW.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from tests.conftest import require_tool, run_backlog, stopped_at

RECOMPUTED = {"id", "urgency", "mask", "imask", "modified"}
UDAS = "uda.jira.type=string\nuda.estimate.type=numeric\n"  # Taskwarrior UDAs we know nothing of
TASKS = [
    'add "Fix login" project:web.auth +bug +ui priority:H due:2026-12-01T15:30:00 agent:claude',
    'add "Write docs" depends:1 scheduled:2026-11-25 wait:2026-11-30 until:2027-01-01 priority:L',
    "add Shipped thing project:ops",
    "add Dropped idea",
    "add Water plants due:2026-11-30 recur:weekly",
    'add "Quoted \\"text\\" with ünïcode" +next',
    "1 annotate first note",
    "1 annotate second note",
    "1 start",
    "3 done",
    "4 delete",
    "1 modify jira:PROJ-12 estimate:3",  # UDAs, declared in UDAS
    '2 modify jira:"PROJ 7" estimate:2.5',
    "list",  # a report makes Taskwarrior create the recurring task's first instance
]


def taskwarrior(home: Path) -> Callable[..., str]:
    """`task ARGS` on a fresh data dir under `home` at NOW, with the `agent` UDA and UDAS, no prompts or hooks."""
    rc = home / "taskrc"
    rc.write_text(f"data.location={home}\nuda.agent.type=string\nuda.agent.label=Agent\n{UDAS}")
    cmd = [require_tool("task"), f"rc:{rc}", "rc.confirmation=off", "rc.verbose=nothing", "rc.hooks=off",
           "rc.gc=off", "rc.json.array=on"]
    env = stopped_at({"PATH": "/usr/bin:/bin", "HOME": str(home)})

    def run(args: str, stdin: str | None = None) -> str:
        """Its stdout; the command must succeed."""
        result = subprocess.run(cmd + shlex.split(args), input=stdin, capture_output=True, text=True, env=env,
                                timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    return run


def by_uuid(tasks: list[dict]) -> dict[str, dict]:
    return {t["uuid"]: {k: v for k, v in t.items() if k not in RECOMPUTED} for t in tasks}


@pytest.fixture
def tw_export(tmp_path) -> list[dict]:
    home = tmp_path / "tw"
    home.mkdir()
    tw = taskwarrior(home)
    for line in TASKS:
        tw(line)
    exported = orjson.loads(tw("rc.recurrence=off export"))
    assert len(exported) == 7  # 6 tasks + the first instance of the recurring one
    assert {t.get("estimate") for t in exported} == {3, 2.5, None}  # numbers, as Taskwarrior writes them
    return exported


def test_taskwarrior_export_survives_import_and_export(tw_export, tmp_path, clean_env):
    env = {**clean_env, "TASKDATA": str(tmp_path / "ours")}
    imported = run_backlog(["import"], env, stdin=orjson.dumps(tw_export).decode())
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "imported 7 tasks"
    again = run_backlog(["import"], env, stdin=orjson.dumps(tw_export).decode())
    assert again.stdout.strip() == "imported 0 tasks, 7 already present"
    ours = orjson.loads(run_backlog(["export"], env).stdout)
    assert by_uuid(ours) == by_uuid(tw_export)


def test_our_export_imports_back_into_taskwarrior(tw_export, tmp_path, clean_env):
    env = {**clean_env, "TASKDATA": str(tmp_path / "ours")}
    run_backlog(["import"], env, stdin=orjson.dumps(tw_export).decode())
    ours = run_backlog(["export"], env).stdout
    home = tmp_path / "tw2"
    home.mkdir()
    tw = taskwarrior(home)
    tw("rc.recurrence=off import -", stdin=ours)
    assert by_uuid(orjson.loads(tw("rc.recurrence=off export"))) == by_uuid(tw_export)
