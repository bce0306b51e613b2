"""Several server processes and the CLI on one data dir: nothing lost, one winner per task, fresh reads."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import run_backlog
from tests.server_support import McpServer, server_env

COMPACTION = pytest.mark.parametrize("compact_every", ["1000", "4"], ids=["no-compaction", "compact-every-4"])


def cli_adds(env: dict, name: str, count: int) -> list[str]:
    for n in range(count):
        done = run_backlog(["add", f"{name} {n}"], env)
        assert done.returncode == 0, done.stderr
    return [f"{name} {n}" for n in range(count)]


def server_adds(server: McpServer, name: str, count: int) -> list[str]:
    for n in range(count):
        server.ok("task_add", {"description": f"{name} {n}", "tags": name})
    return [f"{name} {n}" for n in range(count)]


@COMPACTION
def test_two_servers_and_the_cli_writing_at_once_lose_nothing(tmp_path, compact_every):
    env = server_env(tmp_path, BACKLOG_COMPACT_EVERY=compact_every)
    with McpServer(env) as one, McpServer(env) as two, ThreadPoolExecutor(6) as pool:
        jobs = [pool.submit(server_adds, one, "one", 30), pool.submit(server_adds, two, "two", 30),
                pool.submit(server_adds, one, "uno", 30),  # a second caller on the same server
                pool.submit(cli_adds, env, "cli-a", 6), pool.submit(cli_adds, env, "cli-b", 6)]
        expected = sorted(d for job in jobs for d in job.result())
        for server in (one, two):
            rows = server.ok("task_list", {"filter": "", "limit": 0, "fields": "id,description"})["tasks"]
            assert sorted(r["description"] for r in rows) == expected
            ids = [r["id"] for r in rows]
            assert sorted(ids) == list(range(1, len(expected) + 1))  # unique, none skipped


def test_eight_claims_over_two_servers_make_three_distinct_winners(tmp_path):
    env = server_env(tmp_path)
    ready = [{"description": f"ready {n}", "project": "race"} for n in range(3)]
    blocked = {"uuid": "99999999-9999-4999-8999-999999999999", "description": "blocker", "project": "other"}
    unready = [{"description": "blocked", "project": "race", "depends": [blocked["uuid"]]},
               {"description": "waiting", "project": "race", "wait": "2099-01-01T00:00:00Z"}]
    with McpServer(env) as one, McpServer(env) as two:
        ids = one.ok("task_import", {"tasks": json.dumps([*ready, blocked, *unready])})["ids"]
        start = threading.Barrier(8)

        def claim(server: McpServer, agent: str):
            start.wait()
            return agent, server.call("task_claim", {"agent": agent, "filter": "project:race"})

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda k: claim((one, two)[k % 2], f"agent-{k}"), range(8)))
        won = {agent: r.structured_content["task"]["id"] for agent, r in results if not r.is_error}
        refused = [r.content[0].text for _, r in results if r.is_error]
        assert sorted(won.values()) == ids[:3]
        assert refused == ["filter: nothing to claim: no READY task without a live lease matches 'project:race'; "
                           "widen the filter, or list tasks with task_list filter '+READY -CLAIMED'"] * 5
        rows = two.ok("task_list", {"filter": "project:race +ACTIVE", "fields": "id,agent"})["tasks"]
        assert {r["agent"]: r["id"] for r in rows} == won


def test_a_cli_write_is_visible_on_the_next_call(tmp_path):
    env = server_env(tmp_path)
    with McpServer(env) as server:
        assert server.ok("task_count", {}) == {"count": 0}
        assert run_backlog(["add", "from the cli", "priority:L"], env).returncode == 0
        assert server.ok("task_count", {}) == {"count": 1}
        assert run_backlog(["modify", "1", "priority:H"], env).returncode == 0
        assert server.ok("task_info", {"id": 1})["task"]["priority"] == "H"
        assert run_backlog(["done", "1"], env).returncode == 0
        assert server.ok("task_count", {}) == {"count": 0}
        assert [e["tool"] for e in server.ok("task_history", {"id": 1})["entries"]] == ["cli:add", "cli:modify", "cli:done"]


def test_a_write_by_one_server_is_visible_to_another(tmp_path):
    env = server_env(tmp_path)
    with McpServer(env) as one, McpServer(env) as two:
        two.ok("task_count", {})
        task = one.ok("task_add", {"description": "shared"})["task"]
        assert two.ok("task_info", {"id": task["id"]})["task"]["uuid"] == task["uuid"]
        two.ok("task_undo", {"scope": "any"})  # another server's change: only with scope any
        assert one.fail("task_info", {"id": task["id"]}) == f"id: no task {task['id']}; list ids with task_list"
