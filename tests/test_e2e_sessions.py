"""The plugin in the real Claude Code CLI across sessions: a version bump, and SessionStart per source.

Offline like tests/test_e2e_claude.py (its Home and Session, the fake model API). The plugin is
installed as a user does (`claude plugin marketplace add` + `claude plugin install`, fresh HOME)
and its environment is built from the wheelhouse `.ci/run` fills (BACKLOG_CI_WHEELHOUSE) with no
package index at all, so only the true cold start in test_e2e_claude.py waits on the index.

SessionStart's briefing must reach the model for every source: startup and resume (`-p
--resume`) in print mode, clear and compact in an interactive session driven through tmux
(print mode cannot trigger them). A user hook in the test's HOME records each SessionStart's
`source`; a task added just before each event shows the briefing is fresh, not carried over.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import backlog
from tests.conftest import missing, require_tool
from tests.server_support import TOOLS
from tests.test_e2e_claude import (FAKE_API, INSTALL_TIMEOUT, PREFIX, REPO, SERVER_WAIT_MS, Home, Session, claude_cli,
                                   env_ready, flatten, install_plugin, installed_data, offered_names, plugin_copy,
                                   set_version, wait_for)
from tests.test_launcher import env_version

pytestmark = pytest.mark.needs_tools  # the Claude Code CLI
SCREEN_WAIT = 120  # bounded wait for the interactive CLI (a screen, a request, a hook)


@pytest.fixture(scope="module")
def claude() -> str:
    return require_tool("claude")


@pytest.fixture(scope="module")
def wheelhouse() -> Path:
    """The wheels of the plugin's pinned requirements (runtime and build), as .ci/run builds them."""
    path = os.environ.get("BACKLOG_CI_WHEELHOUSE", "")
    if not path or not (Path(path) / ".complete").exists():
        missing("BACKLOG_CI_WHEELHOUSE names no complete wheelhouse; bash .ci/run builds one")
    return Path(path)


def offline_home(base: Path, wheelhouse: Path) -> Home:
    """A fresh user's machine, default Claude Code settings, pip and uv allowed only the wheelhouse."""
    home = Home(base)
    del home.env["ENABLE_TOOL_SEARCH"]
    for name in [k for k in home.env if k.startswith(("PIP_", "UV_"))]:
        del home.env[name]
    home.env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheelhouse),
                    UV_NO_CONFIG="1", UV_NO_INDEX="1", UV_FIND_LINKS=str(wheelhouse))
    return home


def next_version(version: str) -> str:
    """0.1.0 -> 0.1.1: a version Claude Code and pip both take as newer."""
    head, last = re.fullmatch(r"(.*?)(\d+)", version).groups()
    return f"{head}{int(last) + 1}"


def cold_session_lists(claude: str, home: Home, tmp: Path) -> None:
    """A `claude -p` session on an installed plugin whose environment does not exist yet (default
    settings): all 27 names in its first request, and its first call (after ToolSearch) answers."""
    steps = [{"tool": "ToolSearch", "input": {"query": f"select:{PREFIX}task_list", "max_results": 1}},
             {"tool": PREFIX + "task_list", "input": {"filter": "+READY"}}]
    cold = Session(claude, home, steps, [PREFIX + "task_list"], tmp, wait_for_server=False, plugin=None,
                   timeout=INSTALL_TIMEOUT)
    (line,) = cold.contexts("SessionStart")
    assert "is setting up" in line, "the environment of this version did not exist yet"
    assert {PREFIX + name for name in TOOLS} <= offered_names(cold.requests[0]), "as tools or deferred names"
    _, text = cold.tool_result(PREFIX + "task_list")
    assert [t["description"] for t in json.loads(text)["tasks"]] == ["Ship the bump"]


def test_the_first_session_after_install_and_after_a_bump_has_the_tools_and_answers(claude, wheelhouse, tmp_path):
    home = offline_home(tmp_path, wheelhouse)
    source = plugin_copy(tmp_path / "source")
    old, new = backlog.__version__, next_version(backlog.__version__)
    install_plugin(claude, home, source)
    home.backlog().add("Ship the bump", priority="H")
    cold_session_lists(claude, home, tmp_path / "installed")  # the first session after the install
    data = installed_data(home)
    wait_for(lambda: env_ready(data, old), INSTALL_TIMEOUT, f"the environment of {old}")

    set_version(source, new)
    claude_cli(claude, home, "plugin", "marketplace", "update", "backlog")
    claude_cli(claude, home, "plugin", "update", "backlog@backlog")
    cold_session_lists(claude, home, tmp_path / "bumped")  # the first session after the bump
    assert env_version(data / f"venv-{new}") == new and (data / f"venv-{old}" / ".ready").exists()
    build = (data / "install.log").read_text().split(f"installing backlog {new} ")[1]
    assert f"Looking in links: {wheelhouse}" in build and "Looking in indexes" not in build, build[-3000:]


def test_a_held_call_outlives_claude_codes_idle_limit_for_tool_calls(claude, wheelhouse, tmp_path):
    """Claude Code abandons a stdio tool call idle for CLAUDE_CODE_MCP_TOOL_IDLE_TIMEOUT (30 min by
    default; 5 s here). The build takes longer than that (the launcher's python sleeps 8 s before
    it installs), and the first call, held by the stand-in meanwhile, still answers."""
    home = offline_home(tmp_path, wheelhouse)
    home.env["ENABLE_TOOL_SEARCH"] = "false"
    slow = tmp_path / "slow-python"
    slow.write_text(f'#!/bin/sh\n[ "$1" = - ] && sleep 8  # the install script comes on stdin\nexec {sys.executable} "$@"\n')
    slow.chmod(0o755)
    home.env.update(BACKLOG_PYTHON=str(slow), CLAUDE_CODE_MCP_TOOL_IDLE_TIMEOUT="5000")
    home.backlog().add("Outlast the idle limit", priority="H")
    held = Session(claude, home, [{"tool": PREFIX + "task_list", "input": {"filter": "+READY"}}],
                   [PREFIX + "task_list"], tmp_path / "held", wait_for_server=False, timeout=INSTALL_TIMEOUT)
    (line,) = held.contexts("SessionStart")
    assert "is setting up" in line, "the call was made while the environment was being built"
    _, text = held.tool_result(PREFIX + "task_list")
    assert [t["description"] for t in json.loads(text)["tasks"]] == ["Outlast the idle limit"], text


# -- SessionStart for every source: startup, resume, clear, compact -----------------------------

SOURCES_HOOK = "sources.jsonl"  # a user hook in home that records each SessionStart's input


@pytest.fixture(scope="module")
def built(tmp_path_factory, wheelhouse) -> Path:
    """The plugin's data dir with its environment built from the wheelhouse, once for the module."""
    home = offline_home(tmp_path_factory.mktemp("built"), wheelhouse)
    home.prepare()
    return home.plugin_data


def prepared_home(base: Path, wheelhouse: Path, built: Path) -> Home:
    """A fresh home whose plugin data dir is the built one (a symlink: the launcher only stats it)."""
    home = offline_home(base, wheelhouse)
    home.plugin_data.parent.mkdir(parents=True)
    home.plugin_data.symlink_to(built)
    return home


@pytest.fixture
def briefed(tmp_path, wheelhouse, built) -> Home:
    """A prepared plugin, one urgent task, and a user hook logging SessionStart sources."""
    home = prepared_home(tmp_path, wheelhouse, built)
    home.backlog().add("Keep the briefing after compaction", priority="H")
    record = f"(cat; echo) >> '{home.config / SOURCES_HOOK}'"
    settings = {"hooks": {"SessionStart": [{"hooks": [{"type": "command", "command": record}]}]}}
    (home.config / "settings.json").write_text(json.dumps(settings))
    return home


def sources(home: Home) -> list[str]:
    """The `source` of every SessionStart so far, in order."""
    path = home.config / SOURCES_HOOK
    return [json.loads(line)["source"] for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def test_a_resumed_session_is_briefed_with_the_backlog_as_it_is_now(claude, briefed, tmp_path):
    first = Session(claude, briefed, [], [], tmp_path / "first")
    briefed.backlog().add("Seen after resume", priority="M")
    resumed = Session(claude, briefed, [], [], tmp_path / "resumed", extra=("--resume", first.init["session_id"]))
    assert sources(briefed) == ["startup", "resume"]
    (brief,) = resumed.contexts("SessionStart")
    assert "#2 Seen after resume [M]" in brief
    assert "#2 Seen after resume [M]" in flatten(resumed.requests[0]["messages"])


def test_an_empty_backlog_gets_one_short_line_that_reaches_the_model(claude, wheelhouse, built, tmp_path):
    home = prepared_home(tmp_path, wheelhouse, built)
    session = Session(claude, home, [], [], tmp_path / "run")
    (line,) = session.contexts("SessionStart")
    assert line.startswith("This project's persistent task list is backlog (empty so far)") and len(line) <= 200
    assert line in flatten(session.requests[0]["messages"])


class Terminal:
    """An interactive `claude` in a tmux session of its own (own socket) against the fake API."""

    def __init__(self, claude: str, home: Home, tmp: Path) -> None:
        self.tmux = [require_tool("tmux"), "-S", str(tmp / "tmux.sock")]
        self.log = tmp / "requests.jsonl"
        self.api = subprocess.Popen([sys.executable, str(FAKE_API), "--log", str(self.log)],
                                    stdout=subprocess.PIPE, text=True)
        port = int(self.api.stdout.readline().split()[1])
        config = home.config / ".claude.json"  # a user past onboarding who trusts the project and the key
        config.write_text(json.dumps({
            "hasCompletedOnboarding": True, "lastOnboardingVersion": "2.1.330", "theme": "dark",
            "customApiKeyResponses": {"approved": [home.env["ANTHROPIC_API_KEY"][-20:]], "rejected": []},
            "projects": {str(home.project): {"hasTrustDialogAccepted": True, "hasCompletedProjectOnboarding": True}}}))
        env = {k: v for k, v in home.env.items() if k != "TMUX"}
        env.update(ANTHROPIC_BASE_URL=f"http://127.0.0.1:{port}", CLAUDE_CODE_MCP_STARTUP_WAIT_MS=SERVER_WAIT_MS)
        subprocess.run([*self.tmux, "new-session", "-d", "-x", "200", "-y", "50", "-c", str(home.project),
                        claude, "--plugin-dir", str(REPO)], env=env, check=True, timeout=30)

    def screen(self) -> str:
        run = subprocess.run([*self.tmux, "capture-pane", "-p"], capture_output=True, text=True, timeout=30)
        return run.stdout

    def requests(self) -> list[dict]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [r["body"] for r in map(json.loads, lines) if "count_tokens" not in r["path"]]

    def type(self, text: str) -> None:
        """Type a line, wait until it shows, press Enter."""
        subprocess.run([*self.tmux, "send-keys", "-l", text], check=True, timeout=30)
        wait_for(lambda: text in self.screen(), SCREEN_WAIT, f"{text!r} on the screen")
        subprocess.run([*self.tmux, "send-keys", "Enter"], check=True, timeout=30)

    def ask(self, text: str) -> dict:
        """Send a prompt (unique in the session); the first model request that carries it."""
        self.type(text)
        wait_for(lambda: any(text in flatten(r["messages"]) for r in self.requests()), SCREEN_WAIT,
                 f"a request with {text!r}")
        return next(r for r in self.requests() if text in flatten(r["messages"]))

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, timeout=30)
        self.api.terminate()
        self.api.wait(timeout=10)


def test_clear_and_compact_brief_the_model_again_in_an_interactive_session(claude, briefed, tmp_path):
    """`-p` cannot /clear or /compact: drive the interactive CLI in tmux and read what reaches the model."""
    terminal = Terminal(claude, briefed, tmp_path)
    try:
        wait_for(lambda: "❯" in terminal.screen(), SCREEN_WAIT, "the prompt")
        first = terminal.ask("question one")
        assert "#1 Keep the briefing after compaction [H]" in flatten(first["messages"])

        briefed.backlog().add("Seen after clear", priority="M")
        terminal.type("/clear")
        wait_for(lambda: sources(briefed)[-1:] == ["clear"], SCREEN_WAIT, "SessionStart with source clear")
        cleared = terminal.ask("question two")
        assert "question one" not in flatten(cleared["messages"]) and "#2 Seen after clear [M]" in flatten(cleared["messages"])

        briefed.backlog().add("Seen after compact", priority="M")
        terminal.type("/compact")
        wait_for(lambda: sources(briefed)[-1:] == ["compact"], SCREEN_WAIT, "SessionStart with source compact")
        wait_for(lambda: "Compacted" in terminal.screen(), SCREEN_WAIT, "the compaction to end")
        compacted = terminal.ask("question three")
        assert "#3 Seen after compact [M]" in flatten(compacted["messages"])
        assert sources(briefed) == ["startup", "clear", "compact"]
    finally:
        terminal.close()


def test_session_end_fires_at_the_end_of_print_mode(claude, wheelhouse, built, tmp_path):
    """SessionEnd runs when `claude -p` ends (a user hook records it, beside the plugin's own)."""
    home = prepared_home(tmp_path, wheelhouse, built)
    ends = home.config / "ends.jsonl"
    record = f"(cat; echo) >> '{ends}'"
    (home.config / "settings.json").write_text(json.dumps({"hooks": {"SessionEnd": [{"hooks": [
        {"type": "command", "command": record}]}]}}))
    session = Session(claude, home, [], [], tmp_path / "run")
    recorded = [json.loads(line) for line in ends.read_text().splitlines() if line.strip()] if ends.exists() else []
    assert [(e["hook_event_name"], e["session_id"]) for e in recorded] == [("SessionEnd", session.init["session_id"])]
