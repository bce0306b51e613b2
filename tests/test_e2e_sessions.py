"""The plugin in the real Claude Code CLI across sessions: a version bump, and SessionStart per source.

Offline like tests/test_e2e_claude.py (its Home and Session, the fake model API). The plugin is
installed as a user does (`claude plugin marketplace add` + `claude plugin install`, fresh HOME)
and its environment is built from the wheelhouse `.ci/run` fills (BACKLOG_CI_WHEELHOUSE) with no
package index at all, so only the true cold start in test_e2e_claude.py waits on the index.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

import backlog
from tests.conftest import missing, require_tool
from tests.server_support import TOOLS
from tests.test_e2e_claude import (INSTALL_TIMEOUT, PREFIX, Home, Session, claude_cli, env_ready, flatten,
                                   install_plugin, installed_data, plugin_copy, set_version, tool_names, wait_for)
from tests.test_launcher import env_version

pytestmark = pytest.mark.needs_tools  # the Claude Code CLI


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


def test_the_first_session_after_a_version_bump_has_the_tools_and_its_first_call_succeeds(claude, wheelhouse,
                                                                                          tmp_path):
    home = offline_home(tmp_path, wheelhouse)
    source = plugin_copy(tmp_path / "source")
    old, new = backlog.__version__, next_version(backlog.__version__)
    install_plugin(claude, home, source)
    home.backlog().add("Ship the bump", priority="H")
    Session(claude, home, [], [], tmp_path / "first", wait_for_server=False, plugin=None)
    data = installed_data(home)
    wait_for(lambda: env_ready(data, old), INSTALL_TIMEOUT, f"the environment of {old}")

    set_version(source, new)
    claude_cli(claude, home, "plugin", "marketplace", "update", "backlog")
    claude_cli(claude, home, "plugin", "update", "backlog@backlog")
    steps = [{"tool": "ToolSearch", "input": {"query": f"select:{PREFIX}task_list", "max_results": 1}},
             {"tool": PREFIX + "task_list", "input": {"filter": "+READY"}}]
    bumped = Session(claude, home, steps, [PREFIX + "task_list"], tmp_path / "bumped", wait_for_server=False,
                     plugin=None, timeout=INSTALL_TIMEOUT)

    (line,) = bumped.contexts("SessionStart")
    assert "is setting up" in line, "the new version's environment did not exist yet"
    first = bumped.requests[0]
    assert all(PREFIX + name in flatten(first["messages"]) or PREFIX + name in tool_names(first) for name in TOOLS)
    _, text = bumped.tool_result(PREFIX + "task_list")
    assert [t["description"] for t in json.loads(text)["tasks"]] == ["Ship the bump"]
    assert env_version(data / f"venv-{new}") == new and (data / f"venv-{old}" / ".ready").exists()
    build = (data / "install.log").read_text().split(f"installing backlog {new} ")[1]
    assert f"Looking in links: {wheelhouse}" in build and "Looking in indexes" not in build, build[-3000:]
