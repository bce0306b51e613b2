"""The Claude Code hooks as Claude Code runs them: `backlog hook <Event>`, JSON on stdin.

Every hook runs as a fresh subprocess with a payload shaped like Claude Code's (fields seen
with @anthropic-ai/claude-code 2.1.330). Setup and inspection go through the engine in
process, on the same data dir.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from backlog.hooks.events import agent_name, subagent_name, Hook
from backlog.paths import slug
from backlog.runtime import open_backlog
from tests.conftest import NOW_ISO, REPO, run_backlog

EVENTS = ("SessionStart", "TaskCreated", "TaskCompleted", "SubagentStart", "SubagentStop", "SessionEnd")
WORKER = "backlog:task-worker"  # the agent_type Claude Code sends for the plugin's task-worker
SESSION = "3f2c1a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"


# -- helpers ---------------------------------------------------------------------------------

@pytest.fixture
def env(clean_env, store_dir) -> dict:
    """A plugin hook's environment (CLAUDE_PLUGIN_ROOT set) whose backlog is `store_dir` (TASKDATA)."""
    return {**clean_env, "TASKDATA": str(store_dir), "CLAUDE_PLUGIN_ROOT": str(REPO)}


def standalone(env: dict) -> dict:
    """The same environment as a standalone install sees it: no CLAUDE_PLUGIN_ROOT."""
    return {k: v for k, v in env.items() if k != "CLAUDE_PLUGIN_ROOT"}


def payload(event: str, cwd: Path | str = "/tmp", **fields: object) -> dict:
    """What Claude Code sends on stdin: the common fields plus the event's own."""
    return {"session_id": SESSION, "transcript_path": f"/home/u/.claude/projects/p/{SESSION}.jsonl",
            "cwd": str(cwd), "hook_event_name": event, **fields}


def task_created(task_id: str, subject: str, description: str | None = None, **fields: object) -> dict:
    extra = {"task_description": description} if description is not None else {}
    return payload("TaskCreated", prompt_id="p-1", task_id=task_id, task_subject=subject, **extra, **fields)


def task_completed(task_id: str, subject: str, **fields: object) -> dict:
    return payload("TaskCompleted", prompt_id="p-1", task_id=task_id, task_subject=subject, **fields)


def subagent_start(agent_type: str = WORKER, agent_id: str = "a1b2c3d4e5f6a7b8c") -> dict:
    return payload("SubagentStart", agent_id=agent_id, agent_type=agent_type)


def subagent_stop(agent_type: str = WORKER, agent_id: str = "a1b2c3d4e5f6a7b8c",
                  last: str = "I could not finish.") -> dict:
    """SubagentStop as Claude Code 2.1.330 sends it (its schema in the CLI bundle)."""
    return payload("SubagentStop", agent_id=agent_id, agent_type=agent_type, stop_hook_active=False,
                   agent_transcript_path=f"/home/u/.claude/projects/p/{SESSION}/subagents/agent-{agent_id}.jsonl",
                   last_assistant_message=last)


def session_end(reason: str = "prompt_input_exit") -> dict:
    return payload("SessionEnd", reason=reason)


def start_hook(event: str, stdin: dict | bytes, env: dict, cwd: Path | None = None) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "backlog", "hook", event], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd or REPO)
    proc.stdin.write(stdin if isinstance(stdin, bytes) else json.dumps(stdin).encode())
    proc.stdin.close()
    return proc


def finish(proc: subprocess.Popen) -> dict | None:
    """The hook's additionalContext answer (None when it printed nothing); exit 0 and a clean stderr."""
    out, err = proc.stdout.read(), proc.stderr.read()
    assert proc.wait(timeout=60) == 0
    assert err == b""
    return json.loads(out) if out else None


def hook(event: str, stdin: dict | bytes, env: dict, cwd: Path | None = None) -> dict | None:
    return finish(start_hook(event, stdin, env, cwd))


def context(answer: dict | None, event: str) -> str:
    """The additionalContext of an answer that must have exactly the shape SPEC §10 allows."""
    assert answer is not None, "the hook printed nothing"
    assert list(answer) == ["hookSpecificOutput"]
    assert set(answer["hookSpecificOutput"]) == {"hookEventName", "additionalContext"}
    assert answer["hookSpecificOutput"]["hookEventName"] == event
    text = answer["hookSpecificOutput"]["additionalContext"]
    assert isinstance(text, str) and text
    return text


def backlog(env: dict, cwd: Path = REPO, agent: str = "tester"):
    """A fresh engine on the environment's backlog, as the CLI would open it."""
    return open_backlog(env, str(cwd), channel="cli", agent=agent)


def all_tasks(env: dict) -> list[dict]:
    return backlog(env).list("status:pending or status:completed or status:deleted", sort="id+", limit=0,
                             fields="all")["tasks"]


def store_bytes(root: Path) -> dict[str, bytes]:
    """Every file of a data dir but the hook log, by relative path."""
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "hooks.log"}


def log_lines(root: Path) -> list[str]:
    log = root / "hooks.log"
    return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def three_tasks(env) -> dict:
    """A backlog with three pending tasks, so that a no-op is visible as one."""
    b = backlog(env)
    for text in ("Fix login redirect loop", "Write API reference", "Profile slow search"):
        b.add(text)
    return env


# -- input that is not an event --------------------------------------------------------------

BAD_STDIN = [
    pytest.param(b"", id="empty"),
    pytest.param(b"  \n", id="blank"),
    pytest.param(b'{"session_id": "s", "cwd": ', id="truncated-json"),
    pytest.param(b"[1, 2]", id="json-array"),
    pytest.param(b'"SessionStart"', id="json-string"),
    pytest.param(b"null", id="json-null"),
    pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
]


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("stdin", BAD_STDIN)
def test_bad_stdin_prints_nothing_and_changes_nothing(three_tasks, store_dir, event, stdin):
    before = store_bytes(store_dir)
    assert hook(event, stdin, three_tasks) is None
    assert store_bytes(store_dir) == before
    lines = log_lines(store_dir)
    if stdin.strip():
        assert len(lines) == 1 and f" {event} ignored: stdin is " in lines[0]
    else:
        assert lines == [], "an empty stdin is not an event and is not logged"


@pytest.mark.parametrize("event, stdin, logged", [
    ("TaskCreated", payload("TaskCreated"), "no task_subject"),
    ("TaskCreated", task_created("9", "   "), "no task_subject"),                 # blank subject
    ("TaskCreated", task_created("9", ["not", "text"]), "no task_subject"),       # not text
    ("TaskCompleted", payload("TaskCompleted", session_id=None), "neither session_id"),
    ("SubagentStart", payload("SubagentStart", agent_id="a1"), "no agent_type"),
    ("SubagentStart", payload("SubagentStart", agent_type=WORKER), "no agent_id"),
    ("SubagentStop", payload("SubagentStop", agent_id="a1"), "no agent_type"),
    ("SessionEnd", payload("SessionEnd", session_id=None, reason="other"), "no session_id"),
])
def test_payloads_missing_their_fields_change_nothing_and_are_logged(three_tasks, store_dir, event, stdin, logged):
    before = store_bytes(store_dir)
    assert hook(event, stdin, three_tasks) is None
    assert store_bytes(store_dir) == before
    lines = log_lines(store_dir)
    assert len(lines) == 1 and logged in lines[0]


def test_unknown_event_exits_0_and_is_logged(three_tasks, store_dir):
    before = store_bytes(store_dir)
    assert hook("PreToolUse", payload("PreToolUse", tool_name="Bash"), three_tasks) is None
    assert store_bytes(store_dir) == before
    (line,) = log_lines(store_dir)
    assert re.fullmatch(rf"{NOW_ISO} PreToolUse ignored: unknown event 'PreToolUse'; .*", line)  # BACKLOG_NOW


def test_a_bad_backlog_now_is_logged_with_the_real_time(three_tasks, store_dir):
    before = store_bytes(store_dir)
    assert hook("TaskCreated", task_created("1", "New"), {**three_tasks, "BACKLOG_NOW": "soon"}) is None
    assert store_bytes(store_dir) == before
    (line,) = log_lines(store_dir)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ TaskCreated ignored: BACKLOG_NOW: 'soon' is not an ISO .*", line)


def test_unknown_fields_are_ignored(three_tasks):
    stdin = payload("SessionStart", source="resume", model="claude-x", agent_type=None, extra={"deep": [1]})
    assert "Fix login redirect loop" in context(hook("SessionStart", stdin, three_tasks), "SessionStart")


def test_a_damaged_store_is_logged_and_left_alone(three_tasks, store_dir):
    (store_dir / "tasks.json").write_bytes(b"{damaged")
    before = store_bytes(store_dir)
    for event, stdin in (("SessionStart", payload("SessionStart")), ("TaskCreated", task_created("1", "New"))):
        assert hook(event, stdin, three_tasks) is None
    assert store_bytes(store_dir) == before
    lines = log_lines(store_dir)
    assert len(lines) == 2 and all("tasks.json is damaged" in line and " error: StoreError: " in line for line in lines)


def test_an_unresolvable_data_dir_logs_nowhere(three_tasks, store_dir):
    bad = {**three_tasks, "BACKLOG_NAMESPACE": "../escape"}
    before = {p for p in store_dir.parent.rglob("*")}
    assert hook("TaskCreated", task_created("1", "New"), bad) is None
    assert {p for p in store_dir.parent.rglob("*")} == before


# -- SessionStart ------------------------------------------------------------------------------

EMPTY_LINE = ("This project's persistent task list is backlog (empty so far): add work with "
              "mcp__plugin_backlog_tasks__task_add or plan bigger work with /backlog:plan.")


def test_session_start_on_an_empty_backlog_says_so_in_one_line_and_creates_nothing(env, store_dir):
    store_dir.rmdir()
    text = context(hook("SessionStart", payload("SessionStart", source="startup"), env), "SessionStart")
    assert text == EMPTY_LINE and len(text) <= 200
    assert not store_dir.exists()


def test_session_start_without_pending_tasks_is_the_empty_line(env):
    b = backlog(env)
    b.log("Shipped already")
    b.delete(b.add("Dropped")["task"]["id"])
    assert context(hook("SessionStart", payload("SessionStart", source="startup"), env), "SessionStart") == EMPTY_LINE


def test_standalone_empty_line_names_the_bare_tool_and_no_skill(env):
    text = context(hook("SessionStart", payload("SessionStart"), standalone(env)), "SessionStart")
    assert text == "This project's persistent task list is backlog (empty so far): add work with task_add."


@pytest.fixture
def mixed(env) -> dict:
    """Ten pending tasks of every kind, plus one completed (ids in the comments)."""
    b = backlog(env)
    b.add("Renew TLS cert", priority="H", due="-3d")          # 1 overdue, the most urgent
    b.add("Fix login redirect", priority="H", due="+30d")     # 2
    b.add("Profile slow search", priority="M")                # 3
    b.add("Write API reference", priority="L")                # 4
    for n in (5, 6, 7):
        b.add(f"Plain task {n}")                              # 5, 6, 7
    b.add("Rotate keys")                                      # 8, claimed below: active
    b.add("Blocked migration", depends="8")                   # 9 blocked by the active task
    b.add("Later idea", wait="+3d")                           # 10 waiting
    b.log("Old finished work")                                # 11 completed
    b.claim("alice", id="8")
    return env


def test_session_start_brief_has_counts_active_top_ready_and_the_hint(mixed):
    text = context(hook("SessionStart", payload("SessionStart", source="startup"), mixed), "SessionStart")
    assert len(text) <= 1500
    assert "10 pending, 8 ready, 1 active, 1 overdue, 1 blocked, 1 waiting" in text
    assert text.startswith("Backlog is this project's persistent task list") and "not a list in your context" in text
    assert "#8 Rotate keys (alice)" in text
    lines = text.splitlines()
    listed = [int(m.group(1)) for line in lines[lines.index("Next ready, most urgent first:") + 1:]
              if (m := re.match(r"#(\d+) ", line))]
    assert listed == [1, 2, 3, 4, 5], "top 5 ready by urgency; active, blocked, waiting and done left out"
    assert re.search(r"^#1 Renew TLS cert \[H, due \d{4}-\d\d-\d\d \(overdue\)\]$", text, re.M)
    assert re.search(r"^#2 Fix login redirect \[H, due \d{4}-\d\d-\d\d\]$", text, re.M)
    assert "/backlog:tasks" in lines[-1]
    for absent in ("Plain task 6", "Blocked migration", "Later idea", "Old finished work"):
        assert absent not in text


@pytest.mark.parametrize("source, label", [
    ("startup", "Active: "),
    ("resume", "Active (continue these): "),
    ("clear", "Active (still in progress): "),
    ("compact", "Active before the context was compacted (continue these): "),
    (None, "Active: "),  # an older Claude Code without the field
])
def test_session_start_briefs_every_source_and_labels_the_active_tasks(mixed, source, label):
    fields = {"source": source} if source else {}
    text = context(hook("SessionStart", payload("SessionStart", **fields), mixed), "SessionStart")
    assert f"{label}#8 Rotate keys (alice)" in text
    assert "Next ready, most urgent first:" in text


def test_session_start_output_is_one_json_line_and_nothing_else(mixed):
    proc = subprocess.run([sys.executable, "-m", "backlog", "hook", "SessionStart"], capture_output=True,
                          input=json.dumps(payload("SessionStart")).encode(), env=mixed, timeout=60)
    assert (proc.returncode, proc.stderr) == (0, b"")
    assert proc.stdout.count(b"\n") == 1 and proc.stdout.endswith(b"\n")
    context(json.loads(proc.stdout), "SessionStart")


def test_standalone_session_start_names_tools_by_their_bare_names_and_no_skills(mixed):
    text = context(hook("SessionStart", payload("SessionStart", source="startup"), standalone(mixed)), "SessionStart")
    assert "task_list" in text and "mcp__" not in text and "/backlog:" not in text


def test_session_start_stays_within_1500_chars_on_a_big_backlog(env):
    b = backlog(env)
    b.import_tasks(json.dumps([{"description": f"{i} " + "long words " * 45, "priority": "H", "project": "p" * 40,
                                "due": "2026-01-01T00:00:00Z", "start": "2026-01-02T00:00:00Z", "agent": "a" * 60}
                               for i in range(30)] + [{"description": f"ready {i} " + "x" * 480} for i in range(30)]))
    text = context(hook("SessionStart", payload("SessionStart"), env), "SessionStart")
    assert len(text) <= 1500
    assert text.startswith("Backlog is this project's persistent task list") and "60 pending" in text
    assert "/backlog:tasks" in text


# -- TaskCreated -------------------------------------------------------------------------------

def test_task_created_mirrors_subject_description_teammate_and_origin(env):
    stdin = task_created("7", "  Write docs ", "Document the hook events", teammate_name="researcher", team_name="t")
    assert hook("TaskCreated", stdin, env) is None
    (task,) = all_tasks(env)
    assert (task["description"], task["status"], task["agent"], task["origin"]) == (
        "Write docs", "pending", "researcher", f"claude:{SESSION}:7")
    assert [n["description"] for n in task["annotations"]] == ["Document the hook events"]
    (entry,) = backlog(env).history(task["id"])["entries"]
    assert (entry["tool"], entry["agent"]) == ("hook:TaskCreated", "researcher")


def test_task_created_without_teammate_or_description_sets_neither(env):
    assert hook("TaskCreated", task_created("1", "Bare task", ""), env) is None
    (task,) = all_tasks(env)
    assert "agent" not in task and "annotations" not in task
    assert backlog(env).history(task["id"])["entries"][0]["agent"] == "user"


def test_replayed_task_created_creates_nothing_new(env, store_dir):
    stdin = task_created("3", "Write docs", "Once")
    hook("TaskCreated", stdin, env)
    after_first = store_bytes(store_dir)
    hook("TaskCreated", stdin, env)
    assert store_bytes(store_dir) == after_first
    hook("TaskCreated", {**stdin, "session_id": "another-session"}, env)
    assert [t["origin"] for t in all_tasks(env)] == [f"claude:{SESSION}:3", "claude:another-session:3"]


def test_a_numeric_task_id_names_the_same_origin_as_its_digits(env):
    hook("TaskCreated", task_created(12, "Numbered"), env)
    hook("TaskCreated", task_created("12", "Numbered"), env)
    assert [t["origin"] for t in all_tasks(env)] == [f"claude:{SESSION}:12"]


def test_task_created_with_an_over_long_subject_keeps_500_chars(env):
    hook("TaskCreated", task_created("1", "x" * 700), env)
    (task,) = all_tasks(env)
    assert len(task["description"]) == 500 and task["description"].endswith("…")


# -- TaskCompleted -----------------------------------------------------------------------------

def test_task_completed_finds_the_mirror_by_origin(env):
    hook("TaskCreated", task_created("4", "Same title"), env)
    backlog(env).add("Same title")  # a namesake: by subject alone this would be ambiguous
    assert hook("TaskCompleted", task_completed("4", "Same title"), env) is None
    assert [(t["status"], "origin" in t) for t in all_tasks(env)] == [("completed", True), ("pending", False)]
    assert backlog(env).history(1)["entries"][-1]["tool"] == "hook:TaskCompleted"


def test_task_completed_falls_back_to_the_one_pending_task_with_that_subject(env):
    b = backlog(env)
    b.add("Ship it")
    b.add("ship it")      # case differs: not a match
    b.add("Ship it now")  # longer: not a match
    hook("TaskCompleted", task_completed("99", "  Ship it "), env)
    assert [t["status"] for t in all_tasks(env)] == ["completed", "pending", "pending"]


@pytest.mark.parametrize("subject, titles", [
    ("Dup", ["Dup", "Dup"]),          # ambiguous
    ("Nope", ["Dup", "Other"]),       # no such task
])
def test_task_completed_without_a_single_match_changes_nothing_and_logs(env, store_dir, subject, titles):
    for title in titles:
        backlog(env).add(title)
    before = store_bytes(store_dir)
    assert hook("TaskCompleted", task_completed("5", subject), env) is None
    assert store_bytes(store_dir) == before
    (line,) = log_lines(store_dir)
    assert f"TaskCompleted ignored: no single pending task has origin claude:{SESSION}:5 or description '{subject}'" in line


def test_task_completed_twice_completes_once(env, store_dir):
    hook("TaskCreated", task_created("6", "Once"), env)
    hook("TaskCompleted", task_completed("6", "Once"), env)
    done = store_bytes(store_dir)
    hook("TaskCompleted", task_completed("6", "Once"), env)
    assert store_bytes(store_dir) == done
    assert [t["status"] for t in all_tasks(env)] == ["completed"]


# -- SubagentStart, SubagentStop, SessionEnd: tests/test_hooks_agents.py ------------------------

# -- concurrency ---------------------------------------------------------------------------------

def test_parallel_task_created_hooks_beside_cli_writers_lose_nothing(env):
    events = [task_created(str(n), f"Mirrored {n}", f"note {n}") for n in range(20)]
    hooks = [start_hook("TaskCreated", e, env) for e in events]
    hooks += [start_hook("TaskCreated", e, env) for e in events[:5]]  # replays racing their originals
    cli = [subprocess.Popen([sys.executable, "-m", "backlog", "add", f"CLI task {n}", "+cli"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n in range(10)]
    for proc in hooks:
        assert finish(proc) is None
    for proc in cli:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    tasks = all_tasks(env)
    mirrored = sorted(t["description"] for t in tasks if t.get("origin"))
    assert mirrored == sorted(f"Mirrored {n}" for n in range(20))
    assert sorted(t["description"] for t in tasks if "cli" in t.get("tags", ())) == sorted(f"CLI task {n}" for n in range(10))
    assert len(tasks) == 30 and sorted(t["id"] for t in tasks) == list(range(1, 31))


# -- project resolution ----------------------------------------------------------------------------

@pytest.fixture
def projects(clean_env, tmp_path) -> tuple[dict, Path, Path, Path]:
    """TASKDATA_ROOT set, TASKDATA not: the project's slug decides the data dir."""
    root = tmp_path / "root"
    a, b, elsewhere = tmp_path / "alpha", tmp_path / "beta", tmp_path / "elsewhere"
    for folder in (a, b, elsewhere):
        folder.mkdir()
    return {**clean_env, "TASKDATA_ROOT": str(root)}, a.resolve(), b.resolve(), elsewhere


def cli_list(env: dict, cwd: Path) -> str:
    result = run_backlog(["list"], env, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_payload_cwd_picks_the_project_the_cli_there_sees(projects):
    env, alpha, beta, elsewhere = projects
    hook("TaskCreated", task_created("1", "Alpha work", cwd=alpha), env, cwd=elsewhere)
    assert (Path(env["TASKDATA_ROOT"]) / slug(alpha) / "journal").is_dir()
    assert "Alpha work" in cli_list(env, alpha)
    assert "Alpha work" not in cli_list(env, beta)
    brief = context(hook("SessionStart", payload("SessionStart", cwd=alpha), env, cwd=elsewhere), "SessionStart")
    assert "#1 Alpha work" in brief
    empty = context(hook("SessionStart", payload("SessionStart", cwd=beta), env, cwd=elsewhere), "SessionStart")
    assert "persistent task list is backlog (empty so far)" in empty


def test_claude_project_dir_wins_over_the_payload_cwd(projects):
    env, alpha, beta, elsewhere = projects
    hook("TaskCreated", task_created("1", "Beta work", cwd=alpha), {**env, "CLAUDE_PROJECT_DIR": str(beta)}, cwd=alpha)
    assert "Beta work" in cli_list(env, beta)
    assert "Beta work" not in cli_list(env, alpha)
    assert "Beta work" in cli_list({**env, "CLAUDE_PROJECT_DIR": str(beta)}, elsewhere)


def test_a_symlinked_project_dir_is_the_same_project(projects, tmp_path):
    env, alpha, _, elsewhere = projects
    link = tmp_path / "alpha-link"
    link.symlink_to(alpha)
    hook("TaskCreated", task_created("1", "Through the link", cwd=link), env, cwd=elsewhere)
    assert "Through the link" in cli_list(env, alpha)


@given(st.text(st.sampled_from("aZ09_.:@/-# é$\t\n!"), max_size=12), st.text(max_size=8))
def test_claude_names_become_agent_names_as_the_regular_expression_says(name, agent_id):
    assert agent_name(name) == (re.sub(r"[^A-Za-z0-9_.:@/-]+", "-", name).strip("-") or None)
    hook = Hook("SubagentStop", {"agent_type": "task-worker", "agent_id": agent_id}, {}, "/")
    kept = re.sub(r"[^A-Za-z0-9_.:@/-]+", "", agent_id)
    if kept:
        assert subagent_name(hook) == f"task-worker#{kept[:6]}"
