"""Side by side with Taskwarrior 2.6.2: the same imported data, the same tasks in the same order.

Our `backlog list FILTER` (whole CLI processes) against `task FILTER export` sorted by urgency
(ties by id), and our `backlog next FILTER` against `task +READY FILTER export` sorted
`urgency-,id+`. Our list adds SPEC §4's status rule (an empty filter is `status:pending
-WAITING`, a filter naming no status is `status:pending …`), so Taskwarrior gets it spelled out.
Only pending tasks are compared by order: Taskwarrior scores other statuses, we give them 0
(test_taskwarrior_diff names that divergence). `next` leaves out the tasks scheduled exactly at
NOW: READY takes `scheduled ≤ now` (SPEC §6), Taskwarrior `scheduled < now` (a DIVERGENCES row there). Taskwarrior runs as in test_taskwarrior_diff
(libfaketime at conftest's NOW, its own TASKRC); under CI=true a missing `task` fails.
"""

from __future__ import annotations

import json
import shlex

import pytest

from tests.conftest import NOW, run_backlog
from tests.test_taskwarrior_diff import FIXTURE, RAW, _runner

ZONES = ("UTC", "America/New_York")
# our filter words: 14 filters over the fixture's 192 pending tasks (Taskwarrior's spelling: `theirs`)
FILTERS = [
    "",
    "project:infra",
    "+bug",
    "-bug priority:H",
    "( +ui or +docs ) -api",
    "due.before:eow",
    "+OVERDUE",
    "+BLOCKED",
    "+BLOCKING",
    "+ACTIVE",
    "agent:alice",
    "scheduled.after:now",
    "+WAITING",
    "status:pending +TAGGED depends.any:",
]


SCHEDULED_AT_NOW = {t["uuid"] for t in RAW if t.get("scheduled") == NOW.strftime("%Y%m%dT%H%M%SZ")}


def theirs(ours: str) -> str:
    """Our filter with SPEC §4's status rule spelled out for Taskwarrior, whose stored status of a
    task with a future wait is `waiting` (ours stays pending: waiting is the virtual tag +WAITING)."""
    if not ours:
        return "status:pending -WAITING"
    return ours if "status:" in ours else f"( status:pending or status:waiting ) {ours}"


@pytest.fixture(scope="module")
def taskwarrior(tmp_path_factory):
    run = _runner(tmp_path_factory.mktemp("tw-side-by-side"))
    imported = run(["import", str(FIXTURE)])
    assert imported.returncode == 0, imported.stderr
    return run


@pytest.fixture(scope="module")
def ours_env(tmp_path_factory) -> dict:
    """Our store with the same fixture imported through the CLI (env as conftest's clean_env)."""
    from tests.conftest import NOW_ISO, REPO
    import os

    home = tmp_path_factory.mktemp("ours-side-by-side")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASKDATA", "BACKLOG_", "CLAUDE_", "FAKETIME"))}
    env.update(HOME=str(home), TASKDATA=str(home / "data"), PYTHONPATH=str(REPO), BACKLOG_NOW=NOW_ISO, TZ="UTC")
    env.pop("LD_PRELOAD", None)
    result = run_backlog(["import", str(FIXTURE)], env)
    assert result.returncode == 0, result.stderr
    return env


def tw_order(taskwarrior, words: str, tz: str) -> list[str]:
    """Taskwarrior's pending (and waiting) matches as uuids, most urgent first, ties by id."""
    done = taskwarrior([*shlex.split(words), "export"], tz)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    tasks = [t for t in json.loads(done.stdout) if t["status"] in ("pending", "waiting")]
    return [t["uuid"] for t in sorted(tasks, key=lambda t: (-t["urgency"], t["id"]))]


def our_order(env: dict, command: str, words: str, tz: str) -> list[str]:
    result = run_backlog([command, *shlex.split(words), "--json", "--limit", "0", "--fields", "uuid,status"],
                         {**env, "TZ": tz})
    assert result.returncode == 0, result.stderr
    return [t["uuid"] for t in json.loads(result.stdout)["tasks"] if t["status"] == "pending"]


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("ours", FILTERS, ids=[o or "(none)" for o in FILTERS])
def test_list_matches_taskwarrior_export_by_urgency(taskwarrior, ours_env, ours, tz):
    expected = tw_order(taskwarrior, theirs(ours), tz)
    assert our_order(ours_env, "list", ours, tz) == expected


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("ours", FILTERS[:12], ids=[o or "(none)" for o in FILTERS[:12]])
def test_next_matches_taskwarrior_ready(taskwarrior, ours_env, ours, tz):
    expected = tw_order(taskwarrior, f"+READY {ours}", tz)
    assert [u for u in our_order(ours_env, "next", ours, tz) if u not in SCHEDULED_AT_NOW] == expected


def test_the_comparison_is_not_empty(taskwarrior, ours_env):
    """Most filters match several tasks, and next differs from list (a stale fixture would pass vacuously)."""
    sizes = [len(tw_order(taskwarrior, theirs(ours), "UTC")) for ours in FILTERS]
    assert sum(size >= 3 for size in sizes) >= 10, sizes
    assert len(tw_order(taskwarrior, "+READY", "UTC")) < sizes[0]
    assert len(SCHEDULED_AT_NOW) == 2  # the tasks left out of `next`, on the READY edge
