"""An independent client: the MCP Inspector CLI (npm @modelcontextprotocol/inspector 2.12.0) drives the server.

Its CLI prints the JSON-RPC result on stdout; it exits 0 on success and 5 when a tool
answers isError (printing the result all the same).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import NOW_ISO, REPO, require_tool
from tests.server_support import TOOLS

pytestmark = pytest.mark.needs_tools  # the MCP Inspector (npm)


@pytest.fixture
def inspect(tmp_path):
    """Run `mcp-inspector --cli … -- python -m backlog serve` on a temp data dir; the completed process."""
    inspector = require_tool("mcp-inspector")
    home = tmp_path / "home"  # the Inspector keeps a catalog and secrets under HOME
    home.mkdir()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}

    def run(*args: str) -> subprocess.CompletedProcess:
        # The default 15 s connect timeout is shorter than a server start on a loaded 2-core machine.
        command = [inspector, "--cli", "--connect-timeout", "120000", "-e", f"TASKDATA={tmp_path / 'data'}", "-e", "TZ=UTC", "-e", f"BACKLOG_NOW={NOW_ISO}", *args,
                   "--", sys.executable, "-m", "backlog", "serve"]
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=180)
    return run


def test_inspector_lists_all_tools_without_portability_problems(inspect):
    done = inspect("--method", "tools/list", "--strict")
    assert done.returncode == 0, done.stderr
    assert {t["name"] for t in json.loads(done.stdout)["tools"]} == TOOLS
    assert "Warning" not in done.stderr and "Error" not in done.stderr


def test_inspector_adds_then_lists_a_task(inspect):
    added = inspect("--method", "tools/call", "--tool-name", "task_add",
                    "--tool-arg", "description=Write the release notes", "--tool-arg", "tags=docs,release")
    assert added.returncode == 0, added.stderr
    result = json.loads(added.stdout)
    assert result["isError"] is False
    assert result["structuredContent"]["message"] == "added task 1"
    assert json.loads(result["content"][0]["text"]) == result["structuredContent"]

    listed = json.loads(inspect("--method", "tools/call", "--tool-name", "task_list").stdout)
    assert listed["structuredContent"]["total"] == 1
    [row] = listed["structuredContent"]["tasks"]
    assert (row["id"], row["description"], row["tags"]) == (1, "Write the release notes", ["docs", "release"])


def test_inspector_sees_an_error_as_one_line(inspect):
    done = inspect("--method", "tools/call", "--tool-name", "task_info", "--tool-arg", "id=42")
    result = json.loads(done.stdout)
    assert result == {"content": [{"type": "text", "text": "id: no task 42; list ids with task_list"}], "isError": True}
