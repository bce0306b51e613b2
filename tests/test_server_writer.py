"""Who the server writes as, and what it lets go of when it exits (issue 12 items 4 and 7).

History names the tool call's `agent`, else BACKLOG_AGENT_ID, else the MCP client's
`clientInfo.name` plus the first 6 characters of the session key (`claude-code#1a2b3c`).
A server that ends cleanly (end-of-file, SIGTERM) releases the leases taken through it; a
killed one leaves them to expire. Real server subprocesses; every wait is bounded.
"""

from __future__ import annotations

import re
import signal
import subprocess
from datetime import timezone
from pathlib import Path

import pytest

from backlog.engine.backlog import Backlog
from backlog.store.store import Store
from tests.conftest import NOW
from tests.server_support import McpServer, server_env
from tests.test_server_process import EXIT_TIMEOUT_S, INITIALIZE, INITIALIZED, answer, call, lines, start, text

SESSION = "5e55104a-0000-4000-8000-000000000001"


def writers(server: McpServer, id: int = 1) -> list[str]:
    return [entry["agent"] for entry in server.ok("task_history", {"id": id})["entries"]]


def test_history_names_the_mcp_client_and_the_session_key(tmp_path):
    with McpServer(server_env(tmp_path, CLAUDE_CODE_SESSION_ID=SESSION), client="claude-code") as server:
        server.ok("task_add", {"description": "named"})
        server.ok("task_annotate", {"id": 1, "text": "by a worker", "agent": "worker-1"})
        assert writers(server) == ["claude-code#5e5510", "worker-1"]


def test_without_a_claude_session_the_key_is_the_server_processs_own(tmp_path):
    with McpServer(server_env(tmp_path), client="inspector") as first, \
         McpServer(server_env(tmp_path), client="inspector") as second:
        first.ok("task_add", {"description": "one"})
        second.ok("task_modify", {"filter": "1", "priority": "H"})
        names = writers(first)
    assert all(re.fullmatch(r"inspector#[0-9a-f]{6}", name) for name in names), names
    assert names[0] != names[1]


def test_backlog_agent_id_wins_over_the_client_name(tmp_path):
    with McpServer(server_env(tmp_path, BACKLOG_AGENT_ID="ci-bot"), client="claude-code") as server:
        server.ok("task_add", {"description": "named"})
        assert writers(server) == ["ci-bot"]


def other_server(data: Path) -> Backlog:
    return Backlog(Store.open(data), tz=timezone.utc, clock=lambda: NOW, writer="mcp:other")


def claim_through_a_piped_server(tmp_path: Path) -> subprocess.Popen:
    """Tasks 1 and 2; another server claims 1 for w0, then a piped server claims 2 for w1."""
    other = other_server(tmp_path / "data")
    other.add("held elsewhere")
    other.add("held here")
    other.claim("w0", id=1)
    proc = start(server_env(tmp_path))
    proc.stdin.write(lines(INITIALIZE, INITIALIZED, call(1, "task_claim", agent="w1")))
    proc.stdin.flush()
    assert answer(proc)["id"] == 0
    assert text(answer(proc))["message"] == "task 2 claimed by w1 until 2026-11-24T10:24:53Z"
    return proc


@pytest.mark.parametrize("end", ["end-of-file", "SIGTERM", "SIGINT"])
def test_a_clean_exit_releases_the_servers_own_leases_and_annotates_its_started_tasks(tmp_path, end):
    proc = claim_through_a_piped_server(tmp_path)
    if end == "end-of-file":
        proc.stdin.close()
    else:
        proc.send_signal(getattr(signal, end))
    assert proc.wait(timeout=EXIT_TIMEOUT_S) == 0
    assert proc.stderr.read() == b""
    tasks = other_server(tmp_path / "data").store.tasks.values()
    here = next(t for t in tasks if t["id"] == 2)
    assert "lease" not in here and "start" not in here
    assert [a["description"] for a in here["annotations"]] == ["stopped by w1 without finishing: its server exited"]
    elsewhere = next(t for t in tasks if t["id"] == 1)
    assert elsewhere["lease"]["holder"] == "w0", "another server's lease was released"


def test_a_killed_server_leaves_its_lease_to_expire(tmp_path):
    proc = claim_through_a_piped_server(tmp_path)
    proc.kill()
    proc.wait(timeout=EXIT_TIMEOUT_S)
    proc.stdin.close()
    here = next(t for t in other_server(tmp_path / "data").store.tasks.values() if t["id"] == 2)
    assert here["lease"]["holder"] == "w1" and here["lease"]["expires"] == "2026-11-24T10:24:53Z"
