"""Subagents and the backlog (issue 12): who gets work at SubagentStart, and letting go at
SubagentStop and SessionEnd. Every hook is a real `backlog hook <Event>` subprocess fed the
JSON payload Claude Code 2.1.330 sends; setup and inspection go through the engine.
"""

from __future__ import annotations

import json
import re

import pytest

from backlog.hooks.events import HANDLERS
from tests.conftest import REPO
from tests.test_hooks import (SESSION, WORKER, all_tasks, backlog, context, env, finish, hook, session_end,  # noqa: F401 - env is a fixture
                              standalone, start_hook, store_bytes, subagent_start, subagent_stop)

NAME = "backlog:task-worker#a1b2c3"  # WORKER plus the first 6 characters of the default agent_id
PLUGIN = "mcp__plugin_backlog_tasks__"


@pytest.fixture
def ready_work(env) -> dict:
    """Five pending tasks; #2 is the most urgent ready one nobody holds a lease on."""
    b = backlog(env)
    b.add("Held by bob", priority="H", due="-1d")                 # 1 most urgent, but claimed
    b.add("Design the schema", priority="H", project="db")        # 2
    b.add("Write migrations", priority="M")                       # 3
    b.add("Blocked import", priority="H", depends="1")            # 4 blocked
    b.add("Someday", wait="+10d", priority="H")                   # 5 waiting
    b.claim("bob", id="1")
    b.doc_write("2", "## Goal\nA schema")
    return env


def worker_tools() -> set[str]:
    """The tools agents/task-worker.md grants (its front matter's `tools:` line)."""
    text = (REPO / "agents" / "task-worker.md").read_text()
    line = re.search(r"^tools: (.*)$", text, re.M).group(1)
    return {name.strip() for name in line.split(",")}


def leases(env: dict) -> dict[int, dict | None]:
    return {t["id"]: t.get("lease") for t in all_tasks(env)}


# -- SubagentStart: who gets work ------------------------------------------------------------

@pytest.mark.parametrize("agent_type", [WORKER, "task-worker"])  # plugin-qualified, and a project copy
def test_a_worker_is_leased_the_most_urgent_free_task_and_told_its_name(ready_work, agent_type):
    name = f"{agent_type}#a1b2c3"
    text = context(hook("SubagentStart", subagent_start(agent_type), ready_work), "SubagentStart")
    assert text.startswith("Backlog task #2 is assigned to you until 2026-11-24T10:24:53Z: "
                           "Design the schema [H, project db, doc].")
    assert f'Your backlog agent name is "{name}": pass it as agent' in text
    assert f'{PLUGIN}task_claim(agent="{name}", id="2")' in text and f'{PLUGIN}task_doc_read(id="2")' in text
    assert len(text) <= 1500
    tasks = {t["id"]: t for t in all_tasks(ready_work)}
    assert tasks[2]["lease"]["holder"] == name and tasks[2]["lease"]["kind"] == "assigned"
    assert "agent" not in tasks[2] and "start" not in tasks[2], "assigned: leased, not owned, not started"
    claimed = backlog(ready_work).claim(name, id="2")
    assert claimed["task"]["start"] and claimed["message"].startswith(f"task 2 claimed by {name} until ")


def test_the_context_names_only_tools_the_worker_has(ready_work):
    text = context(hook("SubagentStart", subagent_start(), ready_work), "SubagentStart")
    named = set(re.findall(rf"{PLUGIN}\w+", text))
    assert named and named <= worker_tools()
    backlog(ready_work).doc_delete("2")
    text = context(hook("SubagentStart", subagent_start(agent_id="ffffff0"), ready_work), "SubagentStart")
    assert set(re.findall(rf"{PLUGIN}\w+", text)) <= worker_tools()


def test_standalone_subagent_start_names_tools_by_their_bare_names(ready_work):
    text = context(hook("SubagentStart", subagent_start(), standalone(ready_work)), "SubagentStart")
    assert f'task_claim(agent="{NAME}", id="2")' in text and 'task_doc_read(id="2")' in text
    assert "mcp__" not in text


def test_subagent_start_says_when_the_task_has_no_doc(ready_work):
    backlog(ready_work).doc_delete("2")
    text = context(hook("SubagentStart", subagent_start(), ready_work), "SubagentStart")
    assert "[H, project db]." in text and "no doc" in text and "task_doc_read" not in text


def test_parallel_workers_of_one_type_get_different_tasks_and_names(env):
    b = backlog(env)
    for n in range(5):
        b.add(f"Task {n + 1}", priority="HML"[n % 3])
    procs = [start_hook("SubagentStart", subagent_start(agent_id=f"agent{n}-xyz"), env) for n in range(3)]
    texts = [context(finish(p), "SubagentStart") for p in procs]
    said = {int(re.match(r"Backlog task #(\d+) ", t).group(1)): re.search(r'name is "([^"]+)"', t).group(1)
            for t in texts}
    held = {i: lease["holder"] for i, lease in leases(env).items() if lease}
    assert len(said) == 3 and said == held
    assert sorted(held.values()) == [f"{WORKER}#agent{n}" for n in range(3)]


@pytest.mark.parametrize("agent_type", ["Explore", "Plan", "statusline-setup", "claude-code-guide",
                                        "output-style-setup", "backlog:task-planner", "task-planner"])
@pytest.mark.parametrize("setting", ["", "all", "*"])
def test_read_only_built_ins_and_the_planner_never_get_work(ready_work, store_dir, agent_type, setting):
    before = store_bytes(store_dir)
    env = {**ready_work, "BACKLOG_SUBAGENT_ASSIGN": setting}
    assert hook("SubagentStart", subagent_start(agent_type), env) is None
    assert store_bytes(store_dir) == before


def test_two_explore_searches_leave_the_most_urgent_task_to_the_next_claim(env):
    """The reported bug: throwaway Explore subagents took #1 and #2 and kept them."""
    b = backlog(env)
    b.add("Most urgent", priority="H", due="-1d")
    b.add("Second", priority="H")
    b.add("Third")
    for agent_id in ("e1e1e1e1", "e2e2e2e2"):
        assert hook("SubagentStart", subagent_start("Explore", agent_id), env) is None
    assert backlog(env).claim("claude")["task"]["id"] == 1


@pytest.mark.parametrize("setting, agent_type, assigned", [
    ("", "general-purpose", False),                 # by default only the worker gets work
    ("general-purpose", "general-purpose", True),   # a listed type
    ("my-*", "my-coder", True),                     # a glob
    ("my-*", "backlog:my-coder", True),             # globs match the bare name of a plugin agent too
    ("all", "general-purpose", True),               # every type but the deny-list
    ("my-*", "general-purpose", False),             # not listed
    ("general-purpose", WORKER, True),              # the worker always gets work
    ("off", WORKER, False),                         # unless assignment is off
    ("OFF", WORKER, False),
    ("none", WORKER, False),
])
def test_subagent_assign_names_who_else_gets_work(ready_work, setting, agent_type, assigned):
    env = {**ready_work, "BACKLOG_SUBAGENT_ASSIGN": setting}
    answer = hook("SubagentStart", subagent_start(agent_type), env)
    assert (answer is not None) == assigned
    assert (leases(env)[2] is not None) == assigned


def test_subagent_deny_extends_the_built_in_deny_list(ready_work):
    env = {**ready_work, "BACKLOG_SUBAGENT_ASSIGN": "all", "BACKLOG_SUBAGENT_DENY": "reviewer, doc-*"}
    for agent_type in ("reviewer", "doc-writer", "backlog:doc-writer"):
        assert hook("SubagentStart", subagent_start(agent_type), env) is None
    assert hook("SubagentStart", subagent_start("coder"), env) is not None


def test_the_old_all_tasks_to_one_subagent_mode_is_gone(ready_work):
    env = {**ready_work, "BACKLOG_SUBAGENT_ASSIGN": "all"}
    hook("SubagentStart", subagent_start("coder"), env)
    assert [i for i, lease in leases(env).items() if lease and lease["holder"].startswith("coder#")] == [2]


def test_a_worker_with_nothing_ready_is_told_its_name_and_nothing_is_written(env, store_dir):
    b = backlog(env)
    b.add("Held")
    b.claim("bob", id="1")
    b.add("Blocked", depends="1")
    before = store_bytes(store_dir)
    text = context(hook("SubagentStart", subagent_start(), env), "SubagentStart")
    assert text.startswith(f'No backlog task is ready for you. Your backlog agent name is "{NAME}"')
    assert store_bytes(store_dir) == before


def test_subagent_start_on_a_project_without_backlog_creates_nothing(env, store_dir):
    store_dir.rmdir()
    hook("SubagentStart", subagent_start(), env)
    assert not store_dir.exists()


def test_hooks_write_under_their_sessions_undo_key(ready_work):
    hook("SubagentStart", subagent_start(), ready_work)
    record = next(backlog(ready_work).store.records_newest_first())
    assert (record["writer"], record["agent"], record["tool"]) == (f"claude:{SESSION}", NAME, "hook:SubagentStart")


# -- SubagentStop: letting go ------------------------------------------------------------------

def test_subagent_stop_releases_an_unclaimed_assignment(ready_work):
    hook("SubagentStart", subagent_start(), ready_work)
    assert hook("SubagentStop", subagent_stop(), ready_work) is None
    task = {t["id"]: t for t in all_tasks(ready_work)}[2]
    assert "lease" not in task and "annotations" not in task
    assert backlog(ready_work).claim("claude")["task"]["id"] == 2


def test_subagent_stop_annotates_and_releases_a_claimed_task_left_active(ready_work):
    hook("SubagentStart", subagent_start(), ready_work)
    backlog(ready_work).claim(NAME, id="2")
    last = "I got halfway: the schema draft is in db/schema.sql. " + "Details. " * 60
    assert hook("SubagentStop", subagent_stop(last=last), ready_work) is None
    task = {t["id"]: t for t in all_tasks(ready_work)}[2]
    note = task["annotations"][-1]["description"]
    assert note.startswith(f"stopped by {NAME} without finishing: I got halfway: the schema draft")
    assert note.endswith("…") and len(note) < 300
    assert "lease" not in task and "start" not in task and task["agent"] == NAME
    assert backlog(ready_work).claim("claude")["task"]["id"] == 2


def test_subagent_stop_after_done_changes_nothing(ready_work, store_dir):
    hook("SubagentStart", subagent_start(), ready_work)
    b = backlog(ready_work)
    b.claim(NAME, id="2")
    b.done("2", agent=NAME)
    before = store_bytes(store_dir)
    assert hook("SubagentStop", subagent_stop(), ready_work) is None
    assert store_bytes(store_dir) == before


def test_subagent_stop_of_another_subagent_leaves_the_lease_alone(ready_work):
    hook("SubagentStart", subagent_start(), ready_work)
    hook("SubagentStop", subagent_stop(agent_id="999999999"), ready_work)
    assert leases(ready_work)[2]["holder"] == NAME


# -- SessionEnd ----------------------------------------------------------------------------------

@pytest.mark.parametrize("reason", ["prompt_input_exit", "logout", "other", "bypass_permissions_disabled"])
def test_session_end_releases_the_sessions_leases_only(ready_work, reason):
    hook("SubagentStart", subagent_start(), ready_work)
    hook("SubagentStart", {**subagent_start(agent_id="b0b0b0b0"), "session_id": "another-session"}, ready_work)
    assert hook("SessionEnd", session_end(reason), ready_work) is None
    held = leases(ready_work)
    assert held[2] is None and held[3]["holder"] == f"{WORKER}#b0b0b0"
    assert held[1]["holder"] == "bob", "a lease taken outside the session is not the session's"


def test_session_end_after_clear_keeps_the_leases(ready_work, store_dir):
    hook("SubagentStart", subagent_start(), ready_work)
    before = store_bytes(store_dir)
    assert hook("SessionEnd", session_end("clear"), ready_work) is None
    assert store_bytes(store_dir) == before


def test_hooks_json_registers_every_handled_event():
    registered = json.loads((REPO / "hooks" / "hooks.json").read_text())["hooks"]
    assert set(registered) == set(HANDLERS)

