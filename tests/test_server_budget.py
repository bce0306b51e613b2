"""Token budgets (chars / 4) of what every agent session pays for: tool definitions, the server's
instructions, the capabilities that make Claude Code add tools of its own, and a default list.

Run with `pytest -s` to see the figures.
"""

from __future__ import annotations

import json
import random

import pytest
from mcp import MCPError

from tests.server_support import McpServer, server_env

DEFINITIONS_BUDGET = 5_000
INSTRUCTIONS_LIMIT = 2_000  # Claude Code cuts a server's instructions at 2 KB
SESSION_BUDGET = 5_500  # tool definitions plus instructions
FIVE_CALLS = ("task_list", "task_add", "task_claim", "task_annotate", "task_done")
LIST_OF_50_BUDGET = 3_000

VERBS = ["Fix", "Add", "Refactor", "Document", "Investigate", "Remove", "Speed up", "Test"]
THINGS = ["login redirect loop", "session cookie expiry", "search result paging", "CSV export of invoices",
          "rate limiter for the public API", "flaky checkout test", "dark mode toggle", "webhook retries",
          "onboarding email copy", "database migration for tags"]
PROJECTS = ["web", "web.auth", "api", "billing", "docs", "infra"]
TAGS = ["bug", "feature", "perf", "ui", "security", "tech-debt", "docs", "test"]


def typical_tasks(n: int = 50, seed: int = 4) -> list[dict]:
    """`n` tasks shaped like a real backlog: projects, tags, priorities, due dates, a few dependencies."""
    rnd = random.Random(seed)
    tasks = []
    for k in range(n):
        task = {"uuid": f"00000000-0000-4000-8000-{k:012d}",
                "description": f"{rnd.choice(VERBS)} {rnd.choice(THINGS)}", "project": rnd.choice(PROJECTS)}
        if rnd.random() < 0.8:
            task["tags"] = rnd.sample(TAGS, rnd.randint(1, 3))
        if rnd.random() < 0.6:
            task["priority"] = rnd.choice("HML")
        if rnd.random() < 0.5:
            task["due"] = f"2027-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}T17:00:00Z"
        if k > 5 and rnd.random() < 0.2:
            task["depends"] = [tasks[rnd.randrange(k)]["uuid"]]
        if rnd.random() < 0.1:
            task["annotations"] = [{"entry": "2026-11-20T09:00:00Z", "description": "see the linked issue"}]
        tasks.append(task)
    return tasks


@pytest.fixture(scope="module")
def mcp_client(tmp_path_factory):
    with McpServer(server_env(tmp_path_factory.mktemp("budget"))) as server:
        yield server


def definition_chars(tool) -> int:
    """name + description + input schema as JSON (default `json.dumps`: spaces, ASCII escapes)."""
    return len(tool.name) + len(tool.description) + len(json.dumps(tool.input_schema))


def test_all_tool_definitions_fit_the_budget(mcp_client):
    tools = mcp_client.list_tools()
    sizes = sorted(((definition_chars(t) / 4, t.name) for t in tools), reverse=True)
    total = sum(size for size, _ in sizes)
    print(f"\n[budget] {len(tools)} tool definitions: {total:.0f} tokens (limit {DEFINITIONS_BUDGET}); "
          "largest: " + ", ".join(f"{name} {size:.0f}" for size, name in sizes[:5]))
    assert len(tools) == 27
    assert total <= DEFINITIONS_BUDGET


def test_instructions_fit_2000_chars_and_teach_the_five_calls_and_filters(mcp_client):
    text = mcp_client.client.instructions or ""
    print(f"\n[budget] instructions: {len(text)} chars, {len(text) / 4:.0f} tokens (limit {INSTRUCTIONS_LIMIT} chars)")
    assert len(text) <= INSTRUCTIONS_LIMIT
    assert "persistent" in text and "session" in text and "agent" in text
    for name in FIVE_CALLS:
        assert f"{name}(" in text
    for term in ("+READY", "project:", "priority:H", " or "):
        assert term in text


def test_tool_definitions_plus_instructions_fit_the_session_budget(mcp_client):
    tools = [t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in mcp_client.list_tools()]
    tools_chars = len(json.dumps(tools, separators=(",", ":"), ensure_ascii=False))
    instructions_chars = len(mcp_client.client.instructions or "")
    total = (tools_chars + instructions_chars) / 4
    print(f"\n[budget] tools/list as sent {tools_chars / 4:.0f} + instructions {instructions_chars / 4:.0f} "
          f"= {total:.0f} tokens (limit {SESSION_BUDGET})")
    assert total <= SESSION_BUDGET


def test_only_the_tools_capability_is_declared_and_resources_are_not_served(mcp_client):
    declared = mcp_client.client.server_capabilities.model_dump(exclude_none=True)
    assert set(declared) == {"tools"}, "a declared resources capability makes Claude Code add resource tools"
    for method in ("list_resources", "list_prompts"):
        with pytest.raises(MCPError, match="[Mm]ethod not found"):
            mcp_client.run(getattr(mcp_client.client, method)())


def test_a_default_list_of_50_typical_tasks_fits_the_budget(mcp_client):
    assert len(mcp_client.ok("task_import", {"tasks": json.dumps(typical_tasks())})["ids"]) == 50
    result = mcp_client.call("task_list", {"filter": ""})
    text = result.content[0].text
    assert len(result.structured_content["tasks"]) == 50
    tokens = len(text) / 4
    print(f"\n[budget] default task_list of 50 typical tasks: {tokens:.0f} tokens (limit {LIST_OF_50_BUDGET}), "
          f"{len(text) / 50:.0f} chars per row")
    assert tokens <= LIST_OF_50_BUDGET
