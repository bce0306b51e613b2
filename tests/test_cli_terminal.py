"""The CLI on a terminal and in pipes: confirmation on a pseudo-terminal, Ctrl-C, a closed pipe, hooks' imports."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import orjson
import pytest

from tests.conftest import run_backlog

PROMPT = b"[y/N] "


@pytest.fixture
def env(clean_env, store_dir) -> dict:
    """Five pending tasks, 1 … 5."""
    env = {**clean_env, "TASKDATA": str(store_dir), "COLUMNS": "100"}
    tasks = [{"description": f"Task {n}", "project": "web"} for n in range(1, 6)]
    assert run_backlog(["import"], env, stdin=orjson.dumps(tasks).decode()).returncode == 0
    return env


def on_pty(args: list[str], env: dict, reply: bytes | None = None, interrupt: bool = False) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin, stdout and stderr; at the y/N prompt type `reply`
    or send SIGINT (what Ctrl-C does). Returns (exit code, everything the terminal showed)."""
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "backlog", *args], stdin=slave, stdout=slave, stderr=slave,
                            env=env, start_new_session=True)
    os.close(slave)
    shown = b""
    acted = reply is None and not interrupt
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        if not acted and PROMPT in shown:
            acted = True
            if interrupt:
                proc.send_signal(signal.SIGINT)
            else:
                os.write(master, reply + b"\n")
        if proc.poll() is not None and not ready:
            break
    os.close(master)
    return proc.wait(timeout=60), shown.decode().replace("\r\n", "\n")


def statuses(env: dict) -> list[str]:
    return [t["status"] for t in orjson.loads(run_backlog(["export"], env).stdout)]


def test_a_big_change_asks_and_yes_goes_ahead(env):
    code, shown = on_pty(["project:web", "done"], env, reply=b"y")
    assert code == 0, shown
    assert "complete 5 tasks (1, 2, 3, 4, 5)? [y/N] " in shown and "completed task 5" in shown
    assert statuses(env) == ["completed"] * 5


@pytest.mark.parametrize("reply", [b"n", b"", b"whatever"])
def test_a_big_change_asks_and_anything_but_yes_changes_nothing(env, reply):
    code, shown = on_pty(["delete", "1-5"], env, reply=reply)
    assert code == 1 and "backlog: confirm: not confirmed; nothing was changed" in shown
    assert statuses(env) == ["pending"] * 5


def test_yes_skips_the_question_on_a_terminal(env):
    code, shown = on_pty(["1-5", "modify", "priority:H", "--yes"], env)
    assert (code, shown.strip()) == (0, "modified 5 tasks")


def test_three_tasks_need_no_question(env):
    code, shown = on_pty(["1-3", "start"], env)
    assert (code, shown.splitlines()) == (0, ["started task 1", "started task 2", "started task 3"])


def test_ctrl_c_at_the_question_exits_130_without_a_traceback(env):
    code, shown = on_pty(["1-5", "delete"], env, interrupt=True)
    assert code == 130 and "Traceback" not in shown and shown.rstrip().endswith("backlog: interrupted")
    assert statuses(env) == ["pending"] * 5


def test_import_with_a_terminal_on_stdin_says_how(env):
    code, shown = on_pty(["import"], env)
    assert code == 1
    assert shown.strip() == ("backlog: import: no file given and stdin is a terminal; use backlog import tasks.json, "
                             "or pipe JSON in: task export | backlog import")


def test_a_terminal_gets_an_aligned_table_with_the_chosen_fields(env):
    code, shown = on_pty(["list", "--fields", "id,project,description", "--sort", "id+"], {**env, "NO_COLOR": "1"})
    assert code == 0
    assert shown.splitlines()[:2] == ["ID Project Description", "1  web     Task 1"]


@pytest.fixture
def marked(env) -> dict:
    """Tasks 6 … 10 (at NOW, 2026-11-24): overdue, active, due in 3 days, blocked by 6, waiting."""
    tasks = [{"description": "Late", "due": "20261120T000000Z"},
             {"description": "Going", "start": "20261124T090000Z"},
             {"description": "Soon", "due": "20261127T101453Z"},
             {"description": "Stuck", "depends": "6"},
             {"description": "Later", "wait": "20261201T000000Z", "status": "waiting"}]
    for task in tasks:
        extra = [f"{k}:{v}" for k, v in task.items() if k not in ("description", "start", "status")]
        assert run_backlog(["add", task["description"], *extra], env).returncode == 0
    assert run_backlog(["7", "start"], env).returncode == 0
    return env


ROW_COLOURS = [("6", "overdue", "31"), ("7", "active", "32"), ("8", "due soon", "33"), ("9", "blocked", "35")]


def test_a_terminal_shows_states_as_words_and_colours(marked):
    code, shown = on_pty(["list", "--sort", "id+"], marked)
    assert code == 0, shown
    lines = shown.splitlines()
    assert lines[0].startswith("\x1b[1;4mID State")
    for id, state, sgr in ROW_COLOURS:
        row = next(line for line in lines if line.startswith(f"\x1b[{sgr}m{id} "))
        assert state in row and row.endswith("\x1b[0m")
    assert "in 3d" in shown and "4d ago" in shown  # relative due dates
    code, shown = on_pty(["list", "+WAITING", "--absolute"], marked)
    assert "\x1b[2m10 waiting" in shown and "2026-12-01" not in shown  # absolute: wait is not a default column
    code, shown = on_pty(["6", "list", "--absolute", "--color=never"], marked)
    assert "2026-11-20" in shown and "\x1b[" not in shown


@pytest.mark.parametrize("env_extra, args", [
    ({"NO_COLOR": "1"}, []),          # the NO_COLOR convention
    ({"TERM": "dumb"}, []),           # a terminal that shows no colour
    ({}, ["--color=never"]),          # asked for none
])
def test_no_colour_on_request_but_states_as_words(marked, env_extra, args):
    code, shown = on_pty(["list", *args], {**marked, **env_extra})
    assert code == 0 and "\x1b[" not in shown
    assert all(state in shown for _, state, _ in ROW_COLOURS)


def test_piped_output_has_no_colour_unless_always(marked):
    piped = run_backlog(["list", "--sort", "id+"], marked).stdout
    assert "\x1b[" not in piped and "State" not in piped and "2026-11-20" in piped
    painted = run_backlog(["list", "--sort", "id+", "--color=always"], marked).stdout.splitlines()
    assert painted[0] == "\x1b[1;4mID\tState\tProject\tDue\tUrg\tDescription\x1b[0m"
    assert painted[6].startswith("\x1b[31m6\toverdue\t\t2026-11-20")


def test_a_bad_colour_choice_is_one_line(env):
    result = run_backlog(["list", "--color=sometimes"], env)
    assert (result.returncode, result.stderr) == (
        1, "backlog: --color: 'sometimes' is not a choice; use --color=auto, --color=always or --color=never\n")


def test_wide_characters_stay_aligned_on_a_terminal(env):
    for words in (["修复登录", "project:网站"], ["Plain", "project:ab"]):
        assert run_backlog(["add", *words], env).returncode == 0
    code, shown = on_pty(["list", "+UNBLOCKED", "project.not:web", "--fields", "id,project,description", "--sort", "id+"],
                         {**env, "NO_COLOR": "1"})
    assert code == 0, shown
    assert shown.splitlines() == ["ID Project Description", "6  网站    修复登录", "7  ab      Plain"]


def test_a_closed_pipe_ends_quietly(env):
    tasks = [{"description": f"Task number {n} " + "x" * 80} for n in range(3000)]  # far more than a pipe holds
    assert run_backlog(["import"], env, stdin=orjson.dumps(tasks).decode()).returncode == 0
    script = f"{sys.executable} -m backlog list --limit 0 | head -1; echo \"exit=${{PIPESTATUS[0]}}\""
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.stdout.splitlines() == ["ID\tProject\tUrg\tDescription", "exit=0"]
    assert result.stderr == ""


def test_the_hook_fast_path_imports_no_cli_module(env):
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "backlog", "hook", "SessionStart"],
                            input="{}", capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "backlog.hooks.events" in imported
    assert imported & {"argparse", "backlog.cli.grammar", "backlog.cli.commands", "backlog.cli.table"} == set()


def test_doc_on_a_terminal_opens_the_editor_on_the_current_doc(env, tmp_path):
    editor = tmp_path / "editor"
    editor.write_text('#!/bin/sh\nfor f; do :; done\ncp "$f" "$0.seen"\nprintf "# Plan\\n\\nShip it.\\n" > "$f"\n')
    editor.chmod(0o755)
    code, shown = on_pty(["2", "doc"], {**env, "EDITOR": str(editor)})
    assert (code, shown) == (0, "wrote the doc of task 2 (17 bytes)\n")
    assert (tmp_path / "editor.seen").read_text() == "", "a task without a doc opens an empty file"
    code, shown = on_pty(["2", "doc"], {**env, "EDITOR": str(editor), "VISUAL": f"{editor} --visual-wins"})
    assert (code, shown) == (0, "the doc of task 2 is unchanged\n")
    assert (tmp_path / "editor.seen").read_text() == "# Plan\n\nShip it.\n"
    failing = tmp_path / "failing"
    failing.write_text("#!/bin/sh\nexit 3\n")
    failing.chmod(0o755)
    code, shown = on_pty(["2", "doc"], {**env, "EDITOR": str(failing)})
    assert (code, shown) == (1, f"backlog: doc: the editor {failing} failed; nothing was changed; fix $EDITOR or use --show\n")
