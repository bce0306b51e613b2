"""Who the server writes as, and what it lets go of when it exits (issue 12 items 4 and 7).

History names the tool call's `agent`, else BACKLOG_AGENT_ID, else the MCP client's
`clientInfo.name` plus the first 6 characters of the session key (`claude-code#1a2b3c`).
A server that ends cleanly (end-of-file, SIGTERM) releases the leases taken through it; a
killed one leaves them to expire. Real server subprocesses; every wait is bounded.
"""

from __future__ import annotations

import re

from tests.server_support import McpServer, server_env

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
