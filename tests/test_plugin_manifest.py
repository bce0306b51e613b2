"""The plugin's manifests: valid for Claude Code, versions in step, hooks through the launcher."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import backlog
from tests.conftest import require_tool

REPO = Path(__file__).resolve().parent.parent
LAUNCHER = "${CLAUDE_PLUGIN_ROOT}/hooks/launch"
EVENTS = ("SessionStart", "TaskCreated", "TaskCompleted", "SubagentStart", "SubagentStop", "SessionEnd")
SKILLS = ("tasks", "plan", "standup", "refine", "spec", "implement", "handoff")


def read_json(rel):
    return json.loads((REPO / rel).read_text(encoding="utf-8"))


def pyproject_version():
    """The [project] table's version, by regex (tomllib is 3.11+)."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    table = re.search(r"^\[project\][ \t]*\n(.*?)(?=^\[|\Z)", text, re.M | re.S)
    assert table, "pyproject.toml has no [project] table"
    version = re.search(r'^version\s*=\s*"([^"]+)"', table.group(1), re.M)
    assert version, "[project] has no literal version"
    return version.group(1)


@pytest.fixture(scope="module")
def claude():
    """The Claude Code CLI (.ci/run installs it; a missing one fails under CI=true)."""
    return require_tool("claude")


@pytest.fixture(scope="module")
def quiet_home(tmp_path_factory):
    """An environment that keeps the CLI off the network and out of the user's config."""
    home = tmp_path_factory.mktemp("home")
    return {**os.environ, "HOME": str(home), "CLAUDE_CONFIG_DIR": str(home / ".claude"),
            "DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}


@pytest.mark.parametrize("target", [
    ".",                                  # marketplace + plugin dir: skills, agents, hooks
    ".claude-plugin/plugin.json",         # the plugin manifest on its own
])
@pytest.mark.needs_tools
def test_claude_plugin_validate_strict_passes(claude, quiet_home, target):
    run = subprocess.run([claude, "plugin", "validate", "--strict", str(REPO / target)],
                         capture_output=True, text=True, timeout=180, env=quiet_home)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Validation passed" in run.stdout


@pytest.mark.needs_tools
def test_claude_finds_every_skill_agent_hook_and_the_server(claude, quiet_home):
    run = subprocess.run([claude, "plugin", "validate", "--strict", str(REPO)],
                         capture_output=True, text=True, timeout=180, env=quiet_home)
    provides = run.stdout
    for skill in SKILLS:
        assert f"skills: backlog:{skill}\n" in provides
    assert "agents: backlog:task-planner\n" in provides
    for event in EVENTS:
        assert f"hooks: {event} command" in provides
    assert "mcpServers: tasks stdio" in provides


def test_versions_agree():
    version = pyproject_version()
    assert read_json(".claude-plugin/plugin.json")["version"] == version
    assert backlog.__version__ == version
    entry, = read_json(".claude-plugin/marketplace.json")["plugins"]
    assert entry.get("version", version) == version


def test_cli_version_is_the_plugin_version():
    run = subprocess.run([sys.executable, "-m", "backlog", "--version"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert pyproject_version() in run.stdout.split()[-1]


def test_marketplace_offers_this_repo_as_the_backlog_plugin():
    market = read_json(".claude-plugin/marketplace.json")
    assert re.fullmatch(r"[a-z][a-z0-9-]*", market["name"])
    assert market["owner"]["name"]
    entry, = market["plugins"]
    plugin = read_json(".claude-plugin/plugin.json")
    assert entry["name"] == plugin["name"] == "backlog"
    assert entry["source"] == "./"
    assert entry["description"]


def test_mcp_server_is_backlog_serve_through_the_launcher():
    server = read_json(".claude-plugin/plugin.json")["mcpServers"]["tasks"]
    assert server["command"] == LAUNCHER
    assert server["args"] == ["serve"]
    # Claude Code sets these itself and passes "${CLAUDE_PLUGIN_DATA}" in env through literally.
    for value in server.get("env", {}).values():
        assert "${CLAUDE_PLUGIN_DATA}" not in value and "${CLAUDE_PLUGIN_ROOT}" not in value


def test_hooks_run_every_event_through_the_launcher():
    hooks = read_json("hooks/hooks.json")["hooks"]
    assert sorted(hooks) == sorted(EVENTS)
    for event, groups in hooks.items():
        group, = groups
        assert group.get("matcher", "") in ("", "*"), f"{event} must fire for every source/agent"
        hook, = group["hooks"]
        assert hook["type"] == "command"
        assert hook["command"] == f'"{LAUNCHER}" hook {event}'
        assert 1 <= hook["timeout"] <= 30


def test_launcher_is_an_executable_shell_script():
    launcher = REPO / "hooks" / "launch"
    assert os.access(launcher, os.X_OK), "git must record hooks/launch as mode 100755"
    assert launcher.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
