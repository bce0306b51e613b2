"""Every CLI command through the real CLI subprocess, in Taskwarrior's order and in ours, on a seeded backlog."""

from __future__ import annotations

import os
import shutil

import orjson
import pytest

from tests.conftest import NOW_ISO, REPO, run_backlog

UUIDS = [f"{n:08x}-0000-4000-8000-000000000000" for n in range(1, 8)]
SEED = [  # ids follow the order: 1 … 7
    {"uuid": UUIDS[0], "description": "Fix login redirect", "project": "web", "tags": ["bug"], "priority": "H",
     "due": "20261201T000000Z"},
    {"uuid": UUIDS[1], "description": "Write docs", "project": "docs", "tags": ["docs"],
     "annotations": [{"entry": "20261120T000000Z", "description": "ask Ann"}]},
    {"uuid": UUIDS[2], "description": "Deploy web", "project": "web", "depends": UUIDS[0]},  # blocked by 1
    {"uuid": UUIDS[3], "description": "Renew domain", "wait": "20271201T000000Z"},  # waiting
    {"uuid": UUIDS[4], "description": "Review PR", "start": "20261123T000000Z"},  # active
    {"uuid": UUIDS[5], "description": "Old chore", "status": "completed", "end": "20261001T000000Z"},
    {"uuid": UUIDS[6], "description": "Mistake", "status": "deleted", "end": "20261110T000000Z"},
]


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory) -> str:
    """A data dir holding SEED, imported once per module (clean_env is per test, so the env is built here)."""
    data = tmp_path_factory.mktemp("seeded")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASKDATA", "BACKLOG_", "CLAUDE_"))}
    env.update(TASKDATA=str(data), PYTHONPATH=str(REPO), TZ="UTC", BACKLOG_NOW=NOW_ISO)
    result = run_backlog(["import"], env, stdin=orjson.dumps(SEED).decode())
    assert result.returncode == 0, result.stderr
    return str(data)


@pytest.fixture
def env(clean_env, tmp_path, seeded_template) -> dict:
    """A fresh copy of the seeded backlog (7 tasks, see SEED)."""
    data = tmp_path / "seeded"
    shutil.copytree(seeded_template, data)
    return {**clean_env, "TASKDATA": str(data), "COLUMNS": "100"}


def tasks(env: dict) -> dict:
    """Every task by id, as export prints it."""
    result = run_backlog(["export"], env)
    return {t["id"] or t["description"]: t for t in orjson.loads(result.stdout)}


# (Taskwarrior's order, ours, a line the output holds)
BOTH = [
    (["1", "info"], ["info", "1"], "Task 1: Fix login redirect"),
    (["1,2", "info"], ["info", "1", "2"], "Task 2: Write docs"),
    (["project:web", "list"], ["list", "project:web"], "Fix login redirect"),
    (["+bug", "next"], ["next", "+bug"], "Fix login redirect"),
    (["project:web", "ready"], ["ready", "project:web"], "Fix login redirect"),
    (["project:web", "blocked"], ["blocked", "project:web"], "Deploy web"),
    (["+ACTIVE", "active"], ["active"], "Review PR"),
    (["project:", "waiting"], ["waiting"], "Renew domain"),
    (["6", "completed"], ["completed"], "Old chore"),
    (["project:web", "count"], ["count", "project:web"], "2"),
    (["project:docs", "export"], ["export", "project:docs"], '"description": "Write docs"'),
    (["2", "done"], ["done", "2"], "completed task 2"),
    (["1,2", "delete"], ["delete", "1", "2"], "deleted task 2"),
    (["1-2", "start"], ["start", "1-2"], "started task 2"),
    (["5", "stop"], ["stop", "5"], "stopped task 5"),
    (["7", "purge"], ["purge", "7"], "purged task 7"),
    (["1", "modify", "priority:L", "-bug"], ["modify", "1", "priority:L", "-bug"], "modified 1 task"),
    (["project:web", "modify", "+x"], ["modify", "project:web", "+x"], "modified 2 tasks"),
    (["1", "annotate", "called", "Bob"], ["annotate", "1", "called", "Bob"], "annotated task 1"),
    (["2", "denotate", "ask", "Ann"], ["denotate", "2", "ask", "Ann"], "removed the annotation from task 2"),
    (["1", "duplicate", "due:"], ["duplicate", "1", "due:"], "duplicated task 1 as task 8"),
    (["2", "history"], ["history", "2"], "user cli:import: id – → 2"),
    (["2", "claim", "--agent", "ann"], ["claim", "2", "--agent", "ann"], "task 2 claimed by ann"),
    (["project:docs", "claim"], ["claim", "project:docs"], "task 2 claimed by user"),
]


@pytest.mark.parametrize("taskwarrior, ours, expected", BOTH, ids=[" ".join(o) for _, o, _ in BOTH])
def test_both_grammars_do_the_same(env, tmp_path, seeded_template, taskwarrior, ours, expected):
    first = run_backlog(taskwarrior, env)
    assert first.returncode == 0 and first.stderr == "", first.stderr
    assert expected in first.stdout
    env["TASKDATA"] = str(tmp_path / "again")
    shutil.copytree(seeded_template, tmp_path / "again")
    second = run_backlog(ours, env)
    assert (second.returncode, second.stdout, second.stderr) == (0, first.stdout, "")


# commands that take no filter: (argv, a text the output holds)
ONE_ORDER = [
    (["add", "Buy", "list", "paper", "+home"], "added task 8"),        # `list` after the command is a word
    (["log", "Called", "vendor"], "logged task 8"),
    (["undo"], "undid cli:import by user"),
    (["projects"], "web\t2"),
    (["tags"], "bug\t1"),
    (["search", "login"], "Fix login redirect"),
    (["archive", "--older-than-days", "30"], "archived 1 task into 2026-Q4"),
    (["import"], "imported"),
    (["doctor", "--json"], '{"ok":true,"problems":[]}'),
    (["version"], "backlog "),
    (["--help"], "usage: backlog [FILTER] COMMAND"),
    ([], "Fix login redirect"),                                          # next
    (["1"], "Task 1: Fix login redirect"),                                # info
]


@pytest.mark.parametrize("argv, expected", ONE_ORDER, ids=[" ".join(a) or "(nothing)" for a, _ in ONE_ORDER])
def test_commands_without_a_filter(env, argv, expected):
    stdin = '[{"description": "from stdin"}]' if argv == ["import"] else None
    result = run_backlog(argv, env, stdin=stdin)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert expected in result.stdout


def test_next_is_ready_by_urgency_then_id(env):
    for n in range(3):
        assert run_backlog(["add", f"Same {n}"], env).returncode == 0
    lines = run_backlog(["next", "--fields", "id"], env).stdout.split()
    assert lines == ["ID", "1", "5", "2", "8", "9", "10"]  # 3 is blocked, 4 waits; 8-10 tie on urgency


# Changes that must not happen: (argv, the start of stderr)
REFUSED = [
    (["modify", "project:docs", "status:completed"], "backlog: extra: cannot use 'status:completed'"),
    (["modify", "1", "start:now"], "backlog: extra: cannot use 'start:now'"),
    (["modify", "1", "end:now"], "backlog: extra: cannot use 'end:now'"),
    (["modify", "1", "uuid:x"], "backlog: extra: cannot use 'uuid:x'"),
    (["modify", "1", "urgency:5"], "backlog: extra: cannot use 'urgency:5'"),
    (["1", "modify", "foo:bar"], "backlog: extra: cannot use 'foo:bar'"),
    (["1", "modify", "Renamed"], "backlog: modify: 'Renamed' is not a change; to replace the description write description:"),
    (["add", "x", "priorty:H"], "backlog: extra: cannot use 'priorty:H'; did you mean 'priority'?"),
    (["modify", "status:pending", "priority:L"], "backlog: --yes: this would change 5 tasks (1, 2, 3, 4, 5)"),  # not a terminal
    (["1-5", "done"], "backlog: --yes: this would complete 5 tasks (1, 2, 3, 4, 5); pass --yes to go ahead"),
    (["delete", "1", "2", "3", "4"], "backlog: --yes: this would delete 4 tasks"),
    (["list", "--limit", "abc"], "backlog: --limit: 'abc' is not a count"),
    (["list", "--bogus"], "backlog: --bogus: is not an option"),
    (["9", "done"], "backlog: id: no task 9;"),
]


@pytest.mark.parametrize("argv, message", REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_destructive_and_bad_input_is_refused_and_changes_nothing(env, argv, message):
    before = tasks(env)
    result = run_backlog(argv, env)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
    assert tasks(env) == before


def test_the_unknown_key_error_lists_valid_keys_and_udas(env):
    assert run_backlog(["import"], env, stdin='[{"description": "U", "jira": "PROJ-1"}]').returncode == 0
    result = run_backlog(["1", "modify", "jirra:X"], env)
    assert result.returncode == 1 and "did you mean 'jira'?" in result.stderr and "tags, jira" in result.stderr
    assert run_backlog(["1", "modify", "jira:PROJ-9"], env).stdout == "modified 1 task\n"


def test_yes_lets_a_big_change_through(env):
    result = run_backlog(["1-5", "done", "--yes"], env)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [f"completed task {n}" for n in range(1, 6)]
    assert result.stderr == ""  # 3's blocker, 1, was completed first


def test_completing_a_blocked_task_warns_but_completes(env):
    result = run_backlog(["3", "done"], env)
    assert (result.returncode, result.stdout) == (0, "completed task 3\n")
    assert result.stderr == "backlog: warning: task 3 was blocked by unfinished task 1\n"


def test_description_changes_only_with_description_key(env):
    assert run_backlog(["1", "modify", "description:New text", "+x"], env).returncode == 0
    assert (tasks(env)[1]["description"], tasks(env)[1]["tags"]) == ("New text", ["bug", "x"])


def test_fields_in_table_mode_and_on_an_id_range(env):
    result = run_backlog(["list", "26-28", "--fields", "wait,status"], env)
    assert (result.returncode, result.stdout) == (0, "no matching tasks\n")
    result = run_backlog(["list", "3-4", "--fields", "wait,status", "--sort", "id+"], env)
    assert result.stdout.splitlines() == ["Wait\tStatus", "\tpending", "2027-12-01\tpending"]


def test_piped_output_is_not_cut(env):
    long = "word " * 60
    assert run_backlog(["add", long.strip()], env).returncode == 0
    assert long.strip() in run_backlog(["list"], env).stdout


def test_id_lists_and_ranges_for_annotate(env):
    assert run_backlog(["1,2", "annotate", "both"], env).stdout == "annotated task 1\nannotated task 2\n"


@pytest.mark.parametrize("words, line", [
    (["9", "start"], "backlog: id: no task 9; list ids with backlog list\n"),
    (["1", "stop"], "backlog: id: task 1 is not active; start it with backlog ID start first\n"),
    (["1", "doc", "--show"], "backlog: id: task 1 has no doc; write one with backlog ID doc\n"),
    (["1", "doc", "--delete"], "backlog: id: task 1 has no doc; nothing to delete\n"),
])
def test_engine_errors_name_cli_commands_where_mcp_names_tools(env, words, line):
    result = run_backlog(words, env)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", line)


def test_doc_from_stdin_then_show_then_delete(env, tmp_path):
    written = run_backlog(["2", "doc"], env, stdin="# Docs plan\n\nStart with the API.\n")
    assert (written.returncode, written.stdout) == (0, "wrote the doc of task 2 (33 bytes)\n"), written.stderr
    shown = run_backlog(["doc", "2", "--show"], env)
    assert shown.stdout == "# Docs plan\n\nStart with the API.\n\n"
    unchanged = run_backlog(["2", "doc"], env, stdin="# Docs plan\n\nStart with the API.\n")
    assert unchanged.stdout == "the doc of task 2 is unchanged\n"
    empty = run_backlog(["2", "doc"], env, stdin="  \n")
    assert (empty.returncode, empty.stderr) == (
        1, "backlog: doc: the new text is empty; nothing was changed; backlog ID doc --delete removes a doc\n")
    assert run_backlog(["2", "doc", "--delete"], env).stdout == "deleted the doc of task 2\n"
    assert "doc" not in tasks(env)[2].get("tags", [])
    two = run_backlog(["1,2", "doc"], env, stdin="x")
    assert (two.returncode, two.stderr) == (1, "backlog: doc: takes one task, got 2; name one, e.g. backlog 12 doc\n")


@pytest.mark.parametrize("words, done", [
    (["done", "1", "2"], "completed"),       # ids as words
    (["1,2", "done"], "completed"),          # an id list
    (["1-2", "delete"], "deleted"),          # a range
])
def test_a_multi_id_write_is_one_transaction_and_one_undo(env, words, done):
    result = run_backlog(words, env)
    assert result.returncode == 0, result.stderr
    assert (tasks(env)[1]["status"], tasks(env)[2]["status"]) == (done, done)
    undo = run_backlog(["undo"], env)
    assert undo.stdout.endswith("(tasks 1, 2)\n"), undo.stdout
    assert (tasks(env)[1]["status"], tasks(env)[2]["status"]) == ("pending", "pending")


@pytest.mark.parametrize("words, error", [
    (["done", "1", "9"], "id: no task 9; list ids with backlog list"),                  # a missing id
    (["1,6", "start"], "id: task 6 is completed; only pending tasks can be started"),  # refused second
    (["1", "5", "1-2", "stop"], "id: task 1 is not active; start it with backlog ID start first"),
])
def test_a_multi_id_write_is_all_or_nothing(env, words, error):
    before = tasks(env)
    result = run_backlog(words, env)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", f"backlog: {error}\n")
    assert tasks(env) == before  # the tasks before the refused one were not changed either


def test_completing_a_blocked_task_with_its_blocker_does_not_warn(env):
    result = run_backlog(["3,1", "done"], env)
    assert (result.returncode, result.stderr) == (0, "")
    assert (tasks(env)[1]["status"], tasks(env)[3]["status"]) == ("completed", "completed")
