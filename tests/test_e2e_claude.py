"""The plugin inside the real Claude Code CLI, offline: hooks, MCP server and launcher together.

`../shared/e2e/fake_anthropic.py` (beside the repo, as in CI) stands in for the model API on 127.0.0.1 and logs every request;
`claude -p` (the npm package .ci/run installs) loads the plugin from this repository with
`--plugin-dir`, so its hooks and MCP server run through `hooks/launch` from the environment
the launcher built under CLAUDE_PLUGIN_DATA (`$CLAUDE_CONFIG_DIR/plugins/data/backlog-inline`).
Backlogs live under TASKDATA_ROOT, so the project's slug decides the data dir exactly as it
does for a user: the hooks, the server and the test resolve it on their own.

One prepared environment serves the scripted session whose results the first tests read;
the cold-start test installs the plugin through its marketplace and builds its environment from
nothing (a pip install from the package index, ~15 s).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import backlog
from backlog.runtime import open_backlog
from tests.conftest import NOW_ISO, REPO, require_tool
from tests.server_support import TOOLS
from tests.test_launcher import SKIP_COPY, installer_idle

pytestmark = pytest.mark.needs_tools  # the Claude Code CLI
FAKE_API = REPO.parent / "shared" / "e2e" / "fake_anthropic.py"
PREFIX = "mcp__plugin_backlog_tasks__"
WORKER = "backlog:task-worker"  # the agent_type Claude Code gives the plugin's task-worker
INSTALL_TIMEOUT = 600
SESSION_TIMEOUT = 180
# `-p` sends its first request after ~2-3 s even if a server is still starting; on a loaded
# 2-core machine importing the MCP SDK alone takes longer. Sessions on a ready environment
# therefore wait for the server (bounded); the cold session does not.
SERVER_WAIT_MS = "30000"


class Home:
    """A user's machine in a temp dir: Claude Code's home, the plugin's data, a project, its backlog."""

    def __init__(self, base: Path) -> None:
        self.home = base / "home"
        self.config = self.home / ".claude"
        self.plugin_data = self.config / "plugins" / "data" / "backlog-inline"
        self.project = (base / "project").resolve()
        self.backlogs = base / "backlogs"
        for folder in (self.config, self.project):
            folder.mkdir(parents=True)
        keep = {k: v for k, v in os.environ.items()
                if not k.startswith(("CLAUDE", "ANTHROPIC_", "TASKDATA", "BACKLOG_")) and k not in ("XDG_DATA_HOME", "TZ")}
        self.env = {**keep, "HOME": str(self.home), "CLAUDE_CONFIG_DIR": str(self.config),
                    "TASKDATA_ROOT": str(self.backlogs), "TZ": "UTC", "BACKLOG_NOW": NOW_ISO,
                    "ANTHROPIC_API_KEY": "sk-ant-test",
                    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1",
                    "ENABLE_TOOL_SEARCH": "false"}

    def backlog(self):
        """The project's backlog as the CLI in the project dir finds it (no CLAUDE_PROJECT_DIR)."""
        return open_backlog(self.env, str(self.project), channel="cli", agent="tester")

    def prepare(self) -> Path:
        """Build the plugin's environment the way the launcher does on first use."""
        env = {**self.env, "CLAUDE_PLUGIN_ROOT": str(REPO), "CLAUDE_PLUGIN_DATA": str(self.plugin_data)}
        run = subprocess.run([str(REPO / "hooks" / "launch"), "--prepare"], capture_output=True, text=True,
                             env=env, timeout=INSTALL_TIMEOUT)
        assert run.returncode == 0, run.stderr + self.install_log()
        return Path(run.stdout.strip())

    def install_log(self) -> str:
        log = self.plugin_data / "install.log"
        return log.read_text() if log.exists() else ""


class Session:
    """One `claude -p` run against the fake API: its stream-json events and the model requests it sent."""

    def __init__(self, claude: str, home: Home, steps: list[dict], allowed: list[str], tmp: Path,
                 wait_for_server: bool = True, timeout: float = SESSION_TIMEOUT, fake: Path = FAKE_API,
                 plugin: Path | None = REPO, extra: tuple[str, ...] = ()) -> None:
        """`plugin` is loaded with --plugin-dir; None runs the plugins installed in home; `fake` is the model API."""
        tmp.mkdir(parents=True, exist_ok=True)
        script, log = tmp / "steps.json", tmp / "requests.jsonl"
        script.write_text(json.dumps(steps))
        api = subprocess.Popen([sys.executable, str(fake), "--script", str(script), "--log", str(log)],
                               stdout=subprocess.PIPE, text=True)
        try:
            port = int(api.stdout.readline().split()[1])
            cmd = [claude, "-p", "go", *extra, *(["--plugin-dir", str(plugin)] if plugin else []),
                   "--output-format", "stream-json", "--verbose",
                   "--include-hook-events"] + (["--allowedTools", " ".join(allowed)] if allowed else [])
            run = subprocess.run(cmd, capture_output=True, text=True, cwd=home.project, timeout=timeout,
                                 env={**home.env, "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}",
                                      **({"CLAUDE_CODE_MCP_STARTUP_WAIT_MS": SERVER_WAIT_MS} if wait_for_server else {})})
        finally:
            api.terminate()
            api.wait(timeout=10)
        assert run.returncode == 0, run.stderr[-2000:]
        self.events = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
        logged = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        self.requests = [r["body"] for r in logged if r["path"].startswith("/v1/messages") and "count_tokens" not in r["path"]]
        self.stderr = run.stderr

    @property
    def init(self) -> dict:
        return next(e for e in self.events if e.get("subtype") == "init")

    def hook_responses(self, event: str) -> list[dict]:
        return [e for e in self.events if e.get("subtype") == "hook_response" and e.get("hook_event") == event]

    def contexts(self, event: str) -> list[str]:
        """The additionalContext each hook of `event` printed."""
        out = []
        for response in self.hook_responses(event):
            assert (response["exit_code"], response["stderr"]) == (0, ""), response
            if response["stdout"].strip():
                answer = json.loads(response["stdout"])["hookSpecificOutput"]
                assert answer["hookEventName"] == event
                out.append(answer["additionalContext"])
        return out

    def tool_result(self, tool: str) -> tuple[str, str]:
        """(tool_use id, result text) of the one call of `tool` in the stream."""
        (use,) = [b for e in self.events if e.get("type") == "assistant"
                  for b in e["message"]["content"] if b.get("type") == "tool_use" and b["name"] == tool]
        (result,) = [b for e in self.events if e.get("type") == "user" and isinstance(e["message"]["content"], list)
                     for b in e["message"]["content"] if b.get("tool_use_id") == use["id"]]
        return use["id"], flatten(result["content"])

    def requests_containing(self, text: str) -> list[dict]:
        return [r for r in self.requests if text in flatten(r.get("messages", []))]


def plugin_copy(dest: Path, version: str | None = None) -> Path:
    """A copy of this plugin's tree, as a marketplace source, at `version` (default: as it is)."""
    shutil.copytree(REPO, dest, ignore=SKIP_COPY)
    if version:
        set_version(dest, version)
    return dest


def set_version(root: Path, version: str) -> None:
    """Bump the version where a release does: pyproject, both manifests, backlog.__version__."""
    edits = {"pyproject.toml": r'^(version\s*=\s*")[^"]+(")', ".claude-plugin/plugin.json": r'^(  "version": ")[^"]+(")',
             ".claude-plugin/marketplace.json": r'^(      "version": ")[^"]+(")',
             "server/backlog/__init__.py": r'^(__version__\s*=\s*")[^"]+(")'}
    for name, pattern in edits.items():
        path = root / name
        text, count = re.subn(pattern, rf"\g<1>{version}\g<2>", path.read_text(), count=1, flags=re.M)
        assert count == 1, f"no version in {name}"
        path.write_text(text)


def claude_cli(claude: str, home: Home, *args: str) -> None:
    """One `claude plugin ...` command in home; it must succeed."""
    run = subprocess.run([claude, *args], capture_output=True, text=True, cwd=home.project, env=home.env, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def install_plugin(claude: str, home: Home, source: Path) -> None:
    """Install the plugin as a user does: its marketplace from a path, then the plugin."""
    claude_cli(claude, home, "plugin", "marketplace", "add", str(source))
    claude_cli(claude, home, "plugin", "install", "backlog@backlog")


def installed_data(home: Home) -> Path:
    """The data dir Claude Code gives the installed plugin (CLAUDE_PLUGIN_DATA)."""
    (data,) = (home.config / "plugins" / "data").iterdir()
    return data


def env_ready(data: Path, version: str) -> bool:
    """The launcher's environment for `version` is built and no install is running."""
    return (data / f"venv-{version}" / ".ready").exists() and installer_idle(data)


def flatten(content: object) -> str:
    """All text inside a message or content structure, JSON-escaping undone."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(flatten(c) for c in content)
    if isinstance(content, dict):
        return "\n".join(flatten(v) for k, v in content.items() if k in ("content", "text"))
    return ""


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def claude() -> str:
    return require_tool("claude")


# -- a prepared environment, one scripted session --------------------------------------------

SCRIPT = [
    {"tool": "TaskCreate", "input": {"subject": "Write docs", "description": "Document the hook events"}},
    {"tool": "TaskUpdate", "input": {"taskId": "1", "status": "completed"}},
    {"tool": PREFIX + "task_list", "input": {"filter": ""}},
    {"tool": PREFIX + "task_claim", "input": {"agent": "claude", "id": "2"}},
    {"tool": "Agent", "input": {"description": "do the work", "prompt": "Do the next task.", "subagent_type": WORKER}},
]


@pytest.fixture(scope="module")
def scripted(claude, tmp_path_factory) -> tuple[Home, Session]:
    """A prepared plugin, a backlog of two tasks, and one session that fires all four hooks."""
    home = Home(tmp_path_factory.mktemp("e2e"))
    home.prepare()
    tasks = home.backlog()
    tasks.add("Fix login redirect loop", priority="H", project="web")  # 1: the most urgent
    tasks.add("Write API reference", priority="L")                       # 2
    session = Session(claude, home, SCRIPT, ["TaskCreate", "TaskUpdate", "Agent", PREFIX + "task_list", PREFIX + "task_claim"],
                      tmp_path_factory.mktemp("e2e-run"))
    return home, session


def test_every_hook_ran_through_the_launcher_and_exited_0(scripted):
    _, session = scripted
    for event in ("SessionStart", "TaskCreated", "TaskCompleted", "SubagentStart", "SubagentStop"):
        responses = session.hook_responses(event)
        assert responses, f"{event} did not fire"
        assert all((r["exit_code"], r["outcome"], r["stderr"]) == (0, "success", "") for r in responses), responses
    assert {"name": "plugin:backlog:tasks", "status": "connected", "source": "plugin"} in session.init["mcp_servers"]
    assert PREFIX + "task_claim" in session.init["tools"]


def test_session_start_context_reaches_the_model(scripted):
    _, session = scripted
    (brief,) = session.contexts("SessionStart")
    assert "2 pending, 2 ready" in brief and "#1 Fix login redirect loop [H, project web]" in brief
    first = session.requests[0]
    assert "#1 Fix login redirect loop [H, project web]" in flatten(first["messages"])
    assert any(t["name"] == "TaskCreate" for t in first["tools"]), "the main session's first request"


def test_task_create_then_complete_leaves_a_completed_mirror(scripted):
    home, session = scripted
    assert session.contexts("TaskCreated") == [] and session.contexts("TaskCompleted") == []
    (mirror,) = [t for t in home.backlog().list("status:completed", limit=0, fields="all")["tasks"]]
    assert (mirror["description"], mirror["origin"]) == ("Write docs", f"claude:{session.init['session_id']}:1")
    assert [n["description"] for n in mirror["annotations"]] == ["Document the hook events"]


def test_task_list_answers_through_the_launcher(scripted):
    _, session = scripted
    use_id, text = session.tool_result(PREFIX + "task_list")
    result = json.loads(text)
    assert [(t["id"], t["description"]) for t in result["tasks"]] == [
        (1, "Fix login redirect loop"), (2, "Write API reference")]
    sent = [b for r in session.requests for m in r["messages"] if isinstance(m["content"], list)
            for b in m["content"] if b.get("tool_use_id") == use_id]
    assert sent and json.loads(flatten(sent[0]["content"])) == result, "the model saw the same result"


def test_subagent_start_leases_a_task_to_the_worker_and_subagent_stop_releases_it(scripted):
    home, session = scripted
    (brief,) = session.contexts("SubagentStart")
    assert brief.startswith("Backlog task #1 is assigned to you until ") and "Fix login redirect loop" in brief
    (start,) = session.hook_responses("SubagentStart")
    name = re.search(r'Your backlog agent name is "([^"]+)"', brief).group(1)
    assert re.fullmatch(rf"{WORKER}#[0-9a-z]{{6}}", name), name
    (request,) = session.requests_containing("Backlog task #1 is assigned to you")
    assert not any(t["name"] == "TaskCreate" for t in request["tools"]), "the subagent's own request"
    offered = {t["name"] for t in request["tools"]}
    assert set(re.findall(rf"{PREFIX}\w+", brief)) <= offered, "the brief names only tools the worker has"
    tools = [(r["tool"], r["agent"]) for r in home.backlog().history(1)["entries"]]
    assert tools == [("cli:add", "tester"), ("hook:SubagentStart", name), ("hook:SubagentStop", name)]
    assert "lease" not in home.backlog().info(1)["task"], "the unclaimed assignment ended with the subagent"


def test_the_sessions_claim_ends_with_the_print_mode_session(scripted):
    """The main session claimed #2 through its server, which recorded Claude's session id
    (CLAUDE_CODE_SESSION_ID). At the end of `-p` Claude Code closes the server, which lets go of
    its leases on a clean exit, and runs SessionEnd, which releases the session's leases, in no
    fixed order: the claim ends once, noted by whichever came first."""
    home, _ = scripted
    task = home.backlog().info(2)["task"]
    assert "lease" not in task and "start" not in task
    notes = [n["description"] for n in task["annotations"] if n["description"].startswith("stopped by claude")]
    assert notes in (["stopped by claude without finishing: the session ended (other)"],
                     ["stopped by claude without finishing: its server exited"]), notes
    released = [e["tool"] for e in home.backlog().history(2)["entries"] if e["tool"] in ("hook:SessionEnd", "task_release")]
    assert len(released) == 1, released


# -- a cold start --------------------------------------------------------------------------------

def tool_names(request: dict) -> set[str]:
    return {tool["name"] for tool in request.get("tools", [])}


def offered_names(request: dict) -> set[str]:
    """Our tool names a request offers: as tools, or as deferred names in its messages (tool search)."""
    return {name for name in tool_names(request) if name.startswith(PREFIX)} | set(
        re.findall(rf"{PREFIX}\w+", flatten(request["messages"])))


def test_a_cold_start_has_the_tools_in_its_first_request_and_its_first_call_waits_for_the_build(claude, tmp_path):
    """A true cold start as a user has it: a fresh HOME, the plugin installed through its marketplace,
    no environment, which the launcher builds from the package index during the session (the one
    test that waits on the index; tests/test_e2e_sessions.py builds from a local wheelhouse)."""
    home = Home(tmp_path)
    install_plugin(claude, home, plugin_copy(tmp_path / "source"))
    home.backlog().add("Survive the cold start", priority="H")

    cold = Session(claude, home, [{"tool": PREFIX + "task_list", "input": {"filter": "+READY"}}],
                   [PREFIX + "task_list"], tmp_path / "cold", wait_for_server=False, timeout=INSTALL_TIMEOUT,
                   plugin=None)
    (line,) = cold.contexts("SessionStart")
    assert line.startswith("backlog (this project's persistent task list) is setting up") and PREFIX in line
    assert {PREFIX + name for name in TOOLS} <= tool_names(cold.requests[0]), "all 27 tools in the first request"
    assert "backlog is this project's persistent task list" in flatten(cold.requests[0]["messages"]), "instructions"
    assert not {"ListMcpResourcesTool", "ReadMcpResourceTool"} & tool_names(cold.requests[0]), "we serve no resources"
    _, text = cold.tool_result(PREFIX + "task_list")
    assert [t["description"] for t in json.loads(text)["tasks"]] == ["Survive the cold start"]

    # The build is done; the next session starts the real server directly, which answers the
    # handshake before importing the SDK: its tools too are in the first request, with no extra wait.
    data = installed_data(home)
    wait_for(lambda: env_ready(data, backlog.__version__), 60, "the installer to finish")
    warm = Session(claude, home, [], [], tmp_path / "warm", plugin=None, wait_for_server=False)
    assert {PREFIX + name for name in TOOLS} <= tool_names(warm.requests[0]), "all 27 tools in the warm first request"
    (brief,) = warm.contexts("SessionStart")
    assert "#1 Survive the cold start [H]" in brief and warm.requests_containing("#1 Survive the cold start [H]")


def test_a_cold_start_whose_build_fails_lists_the_tools_and_answers_calls_with_the_log(claude, tmp_path):
    """Default settings (tool search on): the names still reach the first request; a call says where the log is."""
    home = Home(tmp_path)
    del home.env["ENABLE_TOOL_SEARCH"]
    home.plugin_data.parent.mkdir(parents=True)
    home.plugin_data.write_text("a file where the plugin's data dir should be: every build fails at once")
    steps = [{"tool": "ToolSearch", "input": {"query": f"select:{PREFIX}task_count", "max_results": 1}},
             {"tool": PREFIX + "task_count", "input": {}}]
    cold = Session(claude, home, steps, [PREFIX + "task_count"], tmp_path / "cold", wait_for_server=False)
    assert {PREFIX + name for name in TOOLS} <= offered_names(cold.requests[0]), "as tools or deferred names"
    _, text = cold.tool_result(PREFIX + "task_count")
    assert "could not set up its Python environment" in text and "install.log" in text
