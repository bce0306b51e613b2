"""Many agents on one backlog inside the real Claude Code (issue 12): one response starts an
`Explore` subagent and two `task-worker` subagents at once; the worker that claims its task
abandons it, the other does nothing.

The fake API is `tests/e2e/fake_anthropic_multi.py` (several tool calls per response, steps
meant for one subagent by its prompt, the subagent's backlog name and task id captured from
its SubagentStart context). One session; the tests read its stream and the backlog after it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.test_e2e_claude import PREFIX, WORKER, Home, Session, flatten

pytestmark = pytest.mark.needs_tools  # the Claude Code CLI
FAKE = Path(__file__).resolve().parent / "e2e" / "fake_anthropic_multi.py"
NAME = r'Your backlog agent name is "([^"]+)"'
ASSIGNED = r"Backlog task #(\d+) is assigned to you"


def agent(kind: str, prompt: str) -> dict:
    return {"tool": "Agent", "input": {"description": prompt.lower(), "prompt": prompt, "subagent_type": kind}}


SCRIPT = [
    {"gather": True, "tools": [agent("Explore", "EXPLORE-ME look around the code"),
               agent(WORKER, "WORKER-CLAIMS do the next task"),
               agent(WORKER, "WORKER-IDLES do the next task")]},
    {"first": "WORKER-CLAIMS", "tool": PREFIX + "task_claim", "input": {"agent": "{name}", "id": "{id}"},
     "capture": {"name": NAME, "id": ASSIGNED}},
]


@pytest.fixture(scope="module")
def claude() -> str:
    return require_tool("claude")


@pytest.fixture(scope="module")
def run(claude, tmp_path_factory) -> tuple[Home, Session]:
    home = Home(tmp_path_factory.mktemp("e2e-agents"))
    home.prepare()
    tasks = home.backlog()
    tasks.add("Fix login redirect loop", priority="H")
    tasks.add("Write API reference", priority="M")
    tasks.add("Tidy the changelog", priority="L")
    session = Session(claude, home, SCRIPT, ["Agent", PREFIX + "task_claim"], tmp_path_factory.mktemp("e2e-agents-run"),
                      fake=FAKE)
    return home, session


def workers(session: Session) -> dict[str, tuple[str, int]]:
    """Prompt marker -> (backlog name, assigned task id) of each worker, from its own first request."""
    found = {}
    for marker in ("WORKER-CLAIMS", "WORKER-IDLES"):
        first = next(r for r in session.requests if marker in flatten(r["messages"][:1]))
        text = flatten(first["messages"])
        found[marker] = (re.search(NAME, text).group(1), int(re.search(ASSIGNED, text).group(1)))
    return found


def test_the_three_subagents_ran_at_once(run):
    _, session = run
    kinds = [e for e in session.events if e.get("subtype") == "hook_response"
             and e.get("hook_event") in ("SubagentStart", "SubagentStop")]
    order = [e["hook_event"] for e in kinds]
    assert order.count("SubagentStart") == 3 and order.count("SubagentStop") == 3, order
    assert order[:3] == ["SubagentStart"] * 3, f"the subagents did not overlap: {order}"


def test_explore_gets_nothing(run):
    home, session = run
    explore = next(r for r in session.requests if "EXPLORE-ME" in flatten(r["messages"][:1]))
    assert "assigned to you" not in flatten(explore["messages"]) and "backlog agent name" not in flatten(explore["messages"])
    holders = {e["agent"] for id in (1, 2, 3) for e in home.backlog().history(id)["entries"]}
    assert not any(h.startswith("Explore") for h in holders), holders


def test_the_two_workers_get_the_two_most_urgent_tasks(run):
    _, session = run
    found = workers(session)
    names = {name for name, _ in found.values()}
    assert len(names) == 2 and all(re.fullmatch(rf"{WORKER}#[0-9a-z]{{6}}", n) for n in names), names
    assert sorted(task for _, task in found.values()) == [1, 2]


def test_an_unclaimed_assignment_is_released_at_subagent_stop(run):
    home, session = run
    name, task = workers(session)["WORKER-IDLES"]
    info = home.backlog().info(task)["task"]
    assert "lease" not in info and "start" not in info and not info.get("annotations")
    tools = [(e["tool"], e["agent"]) for e in home.backlog().history(task)["entries"]]
    assert tools[-2:] == [("hook:SubagentStart", name), ("hook:SubagentStop", name)]


def test_a_claimed_and_abandoned_task_is_annotated_and_claimable_afterwards(run):
    home, session = run
    name, task = workers(session)["WORKER-CLAIMS"]
    entries = home.backlog().history(task)["entries"]
    assert [(e["tool"], e["agent"]) for e in entries][1:] == [
        ("hook:SubagentStart", name), ("task_claim", name), ("hook:SubagentStop", name)]
    info = home.backlog().info(task)["task"]
    assert "lease" not in info and "start" not in info
    assert [a["description"] for a in info["annotations"]] == [f"stopped by {name} without finishing: FAKE-REPLY"]
    taken = home.backlog().claim("later-agent", id=task)
    assert taken["message"].startswith(f"task {task} claimed by later-agent")
