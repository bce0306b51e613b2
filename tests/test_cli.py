"""The human CLI as a subprocess: commands, table, --json, exit codes, the README's setup."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import orjson
import pytest

from tests.conftest import REPO, run_backlog


@pytest.fixture
def env(clean_env, store_dir) -> dict:
    return {**clean_env, "TASKDATA": str(store_dir), "COLUMNS": "100"}


def ok(args: list[str], env: dict, stdin: str | None = None) -> str:
    result = run_backlog(args, env, stdin)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def test_add_list_done_undo_round(env):
    assert ok(["add", "Fix", "login", "redirect", "project:web", "+bug", "priority:H", "due:2026-12-01"], env) == "added task 1\n"
    assert ok(["add", "Write docs", "+docs"], env) == "added task 2\n"
    table = ok(["list"], env).splitlines()
    assert re.split(r"\s+", table[0]) == ["ID", "P", "Project", "Tags", "Due", "Urg", "Description"]
    assert table[1].split()[:5] == ["1", "H", "web", "bug", "2026-12-01"] and table[1].endswith("Fix login redirect")
    assert ok(["done", "1"], env) == "completed task 1\n"
    assert ok(["list", "+COMPLETED"], env).splitlines()[1].split()[0] == "1"
    assert ok(["undo"], env).startswith("undid cli:done by user")
    assert [t["id"] for t in orjson.loads(ok(["list", "--json"], env))["tasks"]] == [1, 2]


def test_json_prints_the_tool_result_object(env):
    added = orjson.loads(ok(["add", "A", "--json"], env))
    assert added["message"] == "added task 1" and added["task"]["uuid"]
    assert orjson.loads(ok(["list", "--json", "--fields", "id,description"], env)) == {
        "tasks": [{"id": 1, "description": "A"}], "total": 1, "truncated": False}
    assert orjson.loads(ok(["info", "1", "--json"], env))["task"]["description"] == "A"


def test_modify_takes_a_filter_then_changes(env):
    ok(["add", "A", "project:web"], env)
    ok(["add", "B", "project:web"], env)
    assert ok(["modify", "project:web", "priority:L", "+x"], env) == "modified 2 tasks\n"
    assert ok(["modify", "1", "description:Renamed task"], env) == "modified 1 task\n"
    info = orjson.loads(ok(["info", "1", "--json"], env))["task"]
    assert (info["description"], info["priority"], info["tags"]) == ("Renamed task", "L", ["x"])


def test_info_shows_dates_in_the_local_zone(env):
    ok(["import"], env, stdin=orjson.dumps([{
        "description": "A", "entry": "20261124T101453Z", "due": "20270301T120000Z", "scheduled": "20270701T120000Z",
        "annotations": [{"entry": "20261125T031500Z", "description": "late note"}]}]).decode())
    lines = ok(["info", "1", "--absolute"], {**env, "TZ": "America/New_York"}).splitlines()
    assert "Entered     2026-11-24 05:14:53 -0500" in lines
    assert "Due         2027-03-01 07:00:00 -0500" in lines
    assert "Scheduled   2027-07-01 08:00:00 -0400" in lines  # summer time: the offset of that date
    assert "  2026-11-24 22:15:00 -0500  late note" in lines  # the local day before UTC's
    assert orjson.loads(ok(["info", "1", "--json"], env))["task"]["due"] == "2027-03-01T12:00:00Z"  # JSON stays UTC


def test_info_is_a_card(env):
    ok(["import"], env, stdin='[{"description": "Write docs", "gh": "42"}]')
    ok(["add", "Fix login", "project:web", "+bug", "priority:H", "due:2026-11-27", "depends:1"], env)
    ok(["2", "annotate", "called the vendor"], env)
    ok(["2", "doc"], env, stdin="# Plan\n")
    ok(["claim", "1", "--agent", "claude"], env)
    assert ok(["2"], {**env, "TZ": "Europe/Berlin"}).splitlines()[:12] == [
        "Task 2: Fix login",
        "Status      pending (due soon, blocked)",
        "Project     web",
        "Tags        bug doc",
        "Priority    H",
        "Due         2026-11-27 01:00:00 +0100 (in 2d)",
        "Entered     2026-11-24 11:14:53 +0100 (now)",
        "Modified    2026-11-24 11:14:53 +0100 (now)",
        "Urgency     11.3",
        f"UUID        {orjson.loads(ok(['2', '--json'], env))['task']['uuid']}",
        "Depends on  1 Write docs [pending]",
        "Doc         7 bytes (backlog 2 doc --show)",
    ]
    first = ok(["1"], env)
    assert "Status      pending (active)\n" in first and "gh          42\n" in first  # a UDA by its name
    assert "Owner       claude\nLease       claimed by claude until 2026-11-24 10:24:53 +0000 (in 10min)\n" in first
    assert "Blocking    2 Fix login [pending]\n" in first
    assert "\nHistory (newest 2 of 2; backlog 1 history)\n" in first and "cli:claim" in first


def test_user_errors_exit_1_with_one_line(env):
    result = run_backlog(["add", "A", "due:nxt", "week"], env)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("backlog: due: cannot read 'nxt'")
    result = run_backlog(["done", "7"], env)
    assert (result.returncode, result.stderr) == (1, "backlog: id: no task 7; list ids with backlog list\n")


def test_store_problems_exit_2(env, store_dir):
    (store_dir / "tasks.json").write_text("{not json")
    result = run_backlog(["list"], env)
    assert result.returncode == 2 and "tasks.json is damaged" in result.stderr and "backlog doctor" in result.stderr


def test_a_bad_setting_names_the_variable(env):
    result = run_backlog(["list"], {**env, "BACKLOG_BACKEND": "ftp"})
    assert (result.returncode, result.stderr) == (1, "backlog: BACKLOG_BACKEND: 'ftp' is not available in this build; unset it or set it to 'files' or 's3'\n")


def test_backlog_now_is_the_cli_clock(env):
    # 02:30 CEST, the first of the two 02:30s of Berlin's autumn change; "tomorrow" starts at 00:00 CET
    pinned = {**env, "BACKLOG_NOW": "2031-10-26T02:30:00+02:00", "TZ": "Europe/Berlin"}
    ok(["add", "A", "due:tomorrow"], pinned)
    task = orjson.loads(ok(["info", "1", "--json"], pinned))["task"]
    assert (task["entry"], task["due"]) == ("2031-10-26T00:30:00Z", "2031-10-26T23:00:00Z")


def test_a_bad_backlog_now_names_the_variable(env):
    result = run_backlog(["list"], {**env, "BACKLOG_NOW": "2031-10-26 02:30"})
    assert (result.returncode, result.stderr) == (1, "backlog: BACKLOG_NOW: '2031-10-26 02:30' is not an ISO instant "
                                                     "with an offset; use e.g. 2031-10-26T00:30:00Z or "
                                                     "2031-10-26T02:30:00+02:00, or unset it\n")


def test_import_export_through_stdin_and_stdout(env):
    ok(["import"], env, stdin='[{"description": "from json", "tags": ["a"], "due": "20261201T120000Z"}]')
    exported = orjson.loads(ok(["export"], env))
    assert [(t["description"], t["due"], t["tags"]) for t in exported] == [("from json", "20261201T120000Z", ["a"])]


def test_doctor_reports_a_healthy_store(env, store_dir):
    ok(["add", "A"], env)
    assert ok(["doctor"], env).strip() == f"{store_dir}: healthy"
    assert ok(["doctor", "--repair"], env).strip() == f"{store_dir}: healthy, nothing to repair"


def test_doctor_json_says_ok_and_the_problems(env, store_dir):
    ok(["add", "A"], env)
    assert orjson.loads(ok(["doctor", "--json"], env)) == {"ok": True, "problems": []}
    (store_dir / "tasks.json").write_text("{not json")
    result = run_backlog(["doctor", "--json"], env)
    report = orjson.loads(result.stdout)
    assert result.returncode == 2 and report["ok"] is False and "tasks.json" in report["problems"][0]
    repaired = orjson.loads(ok(["doctor", "--repair", "--json"], env))
    assert repaired["ok"] is True and repaired["problems"] == [] and repaired["repaired"]


def test_demo_never_touches_the_users_backlog(env, store_dir):
    out = ok(["demo"], env)
    assert "Fix login redirect loop" in out and "backlog-demo-" in out
    assert list(store_dir.iterdir()) == []


def test_version_matches_the_package(env):
    from backlog import __version__
    assert ok(["--version"], env) == f"backlog {__version__}\n"


@pytest.mark.needs_tools  # pip, from the package index
def test_readme_setup_command_works_from_a_fresh_copy(tmp_path, clean_env):
    """README's first command, run in a copy of the tracked files: installs and shows the demo."""
    readme = (REPO / "README.md").read_text()
    command = re.search(r"temporary data dir, never yours\):\n\n```\n(.+)\n```", readme).group(1)
    assert command.startswith("python3 -m venv .venv")
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    clone = tmp_path / "clone"
    for name in files:
        if (REPO / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, clone / name)
    env = {**clean_env, "PATH": f"{sys.base_prefix}/bin:{clean_env['PATH']}"}
    env.pop("PYTHONPATH")
    result = subprocess.run(["bash", "-c", command], cwd=clone, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Fix login redirect loop" in result.stdout and "backlog-demo-" in result.stdout
