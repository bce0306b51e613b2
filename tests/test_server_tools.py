"""Every MCP tool's happy path through the real server over stdio (SPEC §4 result shapes).

One server per module on a fresh store; each test creates the tasks it needs and uses
the ids it gets back, so the tests do not depend on their order.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import NOW_ISO, REPO
from tests.server_support import TOOLS, McpServer, server_env

READ_ONLY = {"task_list", "task_count", "task_info", "task_projects", "task_tags", "task_doc_read",
             "task_archive_list", "task_archive_load", "task_search", "task_history"}
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def mcp_client(tmp_path_factory):
    """A server on a fresh store, connected with the legacy initialize handshake."""
    with McpServer(server_env(tmp_path_factory.mktemp("tools"))) as server:
        yield server


def add(client: McpServer, description: str, **fields) -> dict:
    return client.ok("task_add", {"description": description, **fields})["task"]


# -- the catalogue ----------------------------------------------------------------------

def test_lists_the_27_tools_with_descriptions_and_hints(mcp_client):
    tools = {t.name: t for t in mcp_client.list_tools()}
    assert set(tools) == TOOLS
    for name, spec in tools.items():
        assert "Example" in spec.description or name in {"task_projects", "task_tags", "task_undo",
                                                         "task_archive_list"}, name
        assert spec.annotations.open_world_hint is False
        assert spec.annotations.read_only_hint is (name in READ_ONLY), name
        assert spec.output_schema is None
        for param in spec.input_schema["properties"].values():
            assert param.get("description"), name


def test_legacy_handshake_identifies_the_server(mcp_client):
    assert mcp_client.client.server_info.name == "backlog"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", mcp_client.client.protocol_version)


def test_a_raw_initialize_like_claude_code_gets_answers(tmp_path):
    """Claude Code speaks newline-delimited JSON-RPC and starts with an `initialize` handshake."""
    proc = subprocess.Popen([sys.executable, "-m", "backlog", "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            env=server_env(tmp_path), cwd=REPO, text=True)

    def send(message: dict) -> dict | None:
        proc.stdin.write(json.dumps(message) + "\n")
        proc.stdin.flush()
        return json.loads(proc.stdout.readline()) if "id" in message else None

    try:
        hello = send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "claude-code", "version": "2"}}})
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        listed = send({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}})
        counted = send({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                        "params": {"name": "task_count", "arguments": {}}})
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    assert hello["result"]["protocolVersion"] == "2025-06-18"
    assert hello["result"]["serverInfo"]["name"] == "backlog"
    assert {t["name"] for t in listed["result"]["tools"]} == TOOLS
    assert counted["result"] == {"content": [{"type": "text", "text": '{"count":0}'}],
                                 "structuredContent": {"count": 0}, "isError": False}
    assert proc.returncode == 0


def test_the_auto_mode_client_works_too(tmp_path):
    with McpServer(server_env(tmp_path), mode="auto") as server:
        assert server.ok("task_add", {"description": "modern"})["task"]["id"] == 1


# -- reading ------------------------------------------------------------------------------

def test_list_answers_compact_rows_total_and_truncated(mcp_client):
    project = "listing"
    ids = [add(mcp_client, f"row {n}", project=project, priority="H" if n == 0 else None)["id"] for n in range(3)]
    full = mcp_client.ok("task_list", {"filter": f"project:{project}"})
    assert full["total"] == 3 and full["truncated"] is False
    assert [row["id"] for row in full["tasks"]][0] == ids[0]  # most urgent first
    assert full["tasks"][0] == {"id": ids[0], "description": "row 0", "status": "pending", "project": project,
                                "priority": "H", "urgency": full["tasks"][0]["urgency"]}
    cut = mcp_client.ok("task_list", {"filter": f"project:{project}", "sort": "id-", "limit": 2})
    assert [row["id"] for row in cut["tasks"]] == [ids[2], ids[1]]
    assert cut["total"] == 3 and cut["truncated"] is True


def test_list_fields_choose_the_columns(mcp_client):
    task = add(mcp_client, "fielded", project="fields")
    rows = mcp_client.ok("task_list", {"filter": "project:fields", "fields": "id,uuid,entry"})["tasks"]
    assert rows == [{"id": task["id"], "uuid": task["uuid"], "entry": rows[0]["entry"]}]
    assert rows[0]["entry"] == NOW_ISO  # the server's clock is BACKLOG_NOW


def test_count_answers_the_number(mcp_client):
    for n in range(2):
        add(mcp_client, f"counted {n}", project="counting")
    assert mcp_client.ok("task_count", {"filter": "project:counting"}) == {"count": 2}


def test_info_shows_every_field_with_dependencies(mcp_client):
    first = add(mcp_client, "first step", project="info")
    second = add(mcp_client, "second step", project="info", depends=str(first["id"]), due="2030-01-02")
    mcp_client.ok("task_annotate", {"id": second["id"], "text": "a note"})
    task = mcp_client.ok("task_info", {"id": second["id"]})["task"]
    assert task["uuid"] == second["uuid"] and task["depends"] == [first["id"]]
    assert task["blocked_by"] == [first["id"]] and task["due"] == "2030-01-02T00:00:00Z"
    assert [n["description"] for n in task["annotations"]] == ["a note"]
    assert STAMP.fullmatch(task["entry"]) and STAMP.fullmatch(task["modified"])
    assert mcp_client.ok("task_info", {"id": str(first["id"])})["task"]["blocking"] == [second["id"]]


@pytest.mark.parametrize("ref", [
    lambda t: t["id"],             # JSON integer
    lambda t: str(t["id"]),        # digits as a string
    lambda t: t["uuid"],           # full uuid
    lambda t: t["uuid"][:13],      # unique prefix of 8+ hex digits (with the dash)
])
def test_id_parameters_take_ints_strings_uuids_and_prefixes(mcp_client, ref):
    task = add(mcp_client, "addressable")
    assert mcp_client.ok("task_info", {"id": ref(task)})["task"]["uuid"] == task["uuid"]


def test_projects_and_tags_count_pending_tasks_by_name(mcp_client):
    add(mcp_client, "p1", project="zz.named", tags="zz-tag")
    add(mcp_client, "p2", project="zz.named", tags=["zz-tag", "zz-other"])
    projects = mcp_client.ok("task_projects")["items"]
    tags = mcp_client.ok("task_tags")["items"]
    assert {"name": "zz.named", "pending": 2} in projects
    assert [i["name"] for i in projects] == sorted(i["name"] for i in projects)
    assert {"name": "zz-tag", "pending": 2} in tags and {"name": "zz-other", "pending": 1} in tags


def test_search_ranks_matches_with_score_and_snippet(mcp_client):
    weak = add(mcp_client, "Tidy the flamingo drawer")
    strong = add(mcp_client, "Flamingo flamingo migration plan")
    mcp_client.ok("task_annotate", {"id": weak["id"], "text": "unrelated words"})
    results = mcp_client.ok("task_search", {"query": "FLAMINGO"})["results"]
    assert [r["id"] for r in results] == [strong["id"], weak["id"]]
    assert results[0]["score"] > results[1]["score"] > 0
    assert results[0]["score"] == round(results[0]["score"], 2)
    assert results[1]["snippet"] == "Tidy the flamingo drawer"
    assert mcp_client.ok("task_search", {"query": "flamingo", "limit": 1})["results"][0]["id"] == strong["id"]


def test_search_finds_words_in_docs_and_any_status(mcp_client):
    task = add(mcp_client, "plain title")
    mcp_client.ok("task_doc_write", {"id": task["id"], "content": "# Notes\n\nThe quokka cache must be warmed first."})
    mcp_client.ok("task_done", {"id": task["id"]})
    [hit] = mcp_client.ok("task_search", {"query": "quokka"})["results"]
    assert hit["id"] == task["id"] and hit["status"] == "completed"
    assert "quokka" in hit["snippet"] and len(hit["snippet"]) <= 80


def test_history_lists_every_change_with_old_and_new(mcp_client):
    task = add(mcp_client, "tracked")
    mcp_client.ok("task_modify", {"filter": str(task["id"]), "priority": "M"})
    entries = mcp_client.ok("task_history", {"id": task["id"]})["entries"]
    assert [e["tool"] for e in entries] == ["task_add", "task_modify"]
    assert entries[1]["changes"] == {"priority": [None, "M"]}
    assert re.fullmatch(r"mcp#[0-9a-f]{6}", entries[1]["agent"]) and STAMP.fullmatch(entries[1]["at"])


# -- creating -------------------------------------------------------------------------------

def test_add_answers_message_and_compact_task_with_uuid(mcp_client):
    result = mcp_client.ok("task_add", {"description": "Fix login redirect", "project": "web", "tags": "bug,auth",
                                        "priority": "H", "due": "2030-01-01"})
    task = result["task"]
    assert result["message"] == f"added task {task['id']}"
    assert UUID.fullmatch(task["uuid"])
    assert {k: v for k, v in task.items() if k not in ("id", "uuid", "urgency")} == {
        "description": "Fix login redirect", "status": "pending", "project": "web", "tags": ["bug", "auth"],
        "priority": "H", "due": "2030-01-01T00:00:00Z"}


def test_add_takes_extra_tokens_and_json_array_tags(mcp_client):
    task = add(mcp_client, "tokens", tags='["x1","x2"]', extra="project:extra priority:L")
    assert task["tags"] == ["x1", "x2"] and task["project"] == "extra" and task["priority"] == "L"
    assert add(mcp_client, "more tokens", extra="+x3 -x4 due:2030-01-01")["tags"] == ["x3"]


def test_add_recurring_answers_the_template_and_names_the_first_instance(mcp_client):
    result = mcp_client.ok("task_add", {"description": "Weekly sync", "recur": "weekly", "due": "2030-01-07"})
    template = result["task"]
    assert template["status"] == "recurring"
    first = int(re.search(r"first instance is task (\d+)", result["message"]).group(1))
    instance = mcp_client.ok("task_info", {"id": first})["task"]
    assert instance["parent"] == template["uuid"] and instance["status"] == "pending"


def test_log_records_a_completed_task(mcp_client):
    result = mcp_client.ok("task_log", {"description": "Reviewed PR 42", "project": "web"})
    assert result["message"] == f"logged task {result['task']['id']}"
    assert result["task"]["status"] == "completed"


def test_duplicate_copies_with_changes(mcp_client):
    source = add(mcp_client, "original", project="dup", tags="t")
    result = mcp_client.ok("task_duplicate", {"id": source["id"], "priority": "L"})
    copy = result["task"]
    assert copy["id"] != source["id"] and copy["uuid"] != source["uuid"]
    assert (copy["description"], copy["project"], copy["tags"], copy["priority"]) == ("original", "dup", ["t"], "L")
    assert result["message"] == f"duplicated task {source['id']} as task {copy['id']}"


def test_duplicate_keeps_the_owner_and_names_what_it_left(mcp_client):
    source = add(mcp_client, "owned", agent="worker-1")
    mcp_client.ok("task_start", {"id": source["id"]})
    mcp_client.ok("task_annotate", {"id": source["id"], "text": "a finding"})
    result = mcp_client.ok("task_duplicate", {"id": source["id"]})
    assert result["task"]["agent"] == "worker-1" and "start" not in result["task"]
    assert result["message"].endswith("(not copied: 1 annotation)")


def test_import_adds_all_and_answers_ids(mcp_client):
    tasks = [{"description": "imported one", "project": "imp"}, {"description": "imported two", "tags": ["a"]}]
    result = mcp_client.ok("task_import", {"tasks": json.dumps(tasks)})
    assert result["message"] == "imported 2 tasks" and len(result["ids"]) == 2
    assert mcp_client.ok("task_count", {"filter": " or ".join(map(str, result["ids"]))}) == {"count": 2}


# -- changing ----------------------------------------------------------------------------------

def test_modify_changes_every_match_and_answers_ids(mcp_client):
    ids = [add(mcp_client, f"bulk {n}", project="bulk")["id"] for n in range(2)]
    result = mcp_client.ok("task_modify", {"filter": "project:bulk", "tags": "+swept", "priority": "M"})
    assert result == {"message": "modified 2 tasks", "ids": ids}
    rows = mcp_client.ok("task_list", {"filter": "project:bulk"})["tasks"]
    assert all(r["tags"] == ["swept"] and r["priority"] == "M" for r in rows)


def test_modify_tags_add_by_default_and_replace_with_equals(mcp_client):
    task = add(mcp_client, "tagged", tags="keep,old")
    mcp_client.ok("task_modify", {"filter": str(task["id"]), "tags": ["new"]})
    mcp_client.ok("task_modify", {"filter": str(task["id"]), "tags": "-old"})
    assert mcp_client.ok("task_info", {"id": task["id"]})["task"]["tags"] == ["keep", "new"]
    mcp_client.ok("task_modify", {"filter": str(task["id"]), "tags": "=only"})
    assert mcp_client.ok("task_info", {"id": task["id"]})["task"]["tags"] == ["only"]


@pytest.mark.parametrize("tool, status, message", [
    ("task_done", "completed", "completed task {id}"),
    ("task_delete", "deleted", "deleted task {id}"),
    ("task_start", "pending", "started task {id}"),
])
def test_single_task_mutations_answer_message_and_task(mcp_client, tool, status, message):
    task = add(mcp_client, f"via {tool}")
    result = mcp_client.ok(tool, {"id": task["id"]})
    assert result["message"] == message.format(id=task["id"])
    assert result["task"]["status"] == status and result["task"]["uuid"] == task["uuid"]


def test_start_then_stop_sets_and_clears_start(mcp_client):
    task = add(mcp_client, "active work")
    assert STAMP.fullmatch(mcp_client.ok("task_start", {"id": task["id"]})["task"]["start"])
    again = mcp_client.ok("task_start", {"id": task["id"]})
    assert again["message"].endswith("no change")
    stopped = mcp_client.ok("task_stop", {"id": task["id"]})
    assert stopped["message"] == f"stopped task {task['id']}" and "start" not in stopped["task"]


def test_claim_takes_a_ready_task_for_the_agent(mcp_client):
    task = add(mcp_client, "claimable", project="claims")
    result = mcp_client.ok("task_claim", {"agent": "worker-1", "filter": "project:claims"})
    assert result["message"] == f"task {task['id']} claimed by worker-1 until 2026-11-24T10:24:53Z"  # BACKLOG_NOW + 10 min
    assert result["task"]["agent"] == "worker-1" and STAMP.fullmatch(result["task"]["start"])
    same = mcp_client.ok("task_claim", {"agent": "worker-1", "id": task["id"]})
    assert same["message"].endswith("no change")


def test_annotate_then_denotate(mcp_client):
    task = add(mcp_client, "noted")
    result = mcp_client.ok("task_annotate", {"id": task["id"], "text": "found the cause"})
    assert result["message"] == f"annotated task {task['id']}"
    removed = mcp_client.ok("task_denotate", {"id": task["id"], "text": "found the cause"})
    assert removed["message"] == f"removed the annotation from task {task['id']}"
    assert "annotations" not in mcp_client.ok("task_info", {"id": task["id"]})["task"]


def test_undo_reverts_the_newest_change(mcp_client):
    task = add(mcp_client, "regretted")
    result = mcp_client.ok("task_undo")
    assert result["ids"] == [task["id"]] and "task_add" in result["message"]
    assert mcp_client.fail("task_info", {"id": task["id"]}) == f"id: no task {task['id']}; list ids with task_list"


def test_purge_answers_the_task_as_it_was(mcp_client):
    task = add(mcp_client, "doomed")
    mcp_client.ok("task_delete", {"id": task["id"]})
    result = mcp_client.ok("task_purge", {"id": task["id"]})
    assert result["message"] == f"purged task {task['id']}"
    assert result["task"]["uuid"] == task["uuid"] and result["task"]["status"] == "deleted"


# -- docs and archive ------------------------------------------------------------------------------

def test_doc_write_read_delete(mcp_client):
    task = add(mcp_client, "documented", tags="spec")
    written = mcp_client.ok("task_doc_write", {"id": task["id"], "content": "# Plan\n\nStep one."})
    assert written["task"]["has_doc"] is True and written["task"]["tags"] == ["spec", "doc"]
    assert mcp_client.ok("task_doc_read", {"id": task["id"]}) == {"content": "# Plan\n\nStep one."}
    deleted = mcp_client.ok("task_doc_delete", {"id": task["id"]})
    assert deleted["message"] == f"deleted the doc of task {task['id']}"
    assert "has_doc" not in deleted["task"] and deleted["task"]["tags"] == ["spec"]


def test_the_doc_tag_follows_the_doc_only(mcp_client):
    task = add(mcp_client, "derived tag", tags="spec,doc")
    assert task["tags"] == ["spec"]
    mcp_client.ok("task_doc_write", {"id": task["id"], "content": "# Plan"})
    assert mcp_client.fail("task_modify", {"filter": str(task["id"]), "extra": "-doc"}) == (
        "tags: 'doc' follows the task's doc and cannot be removed by hand; delete the doc with task_doc_delete")
    mcp_client.ok("task_modify", {"filter": str(task["id"]), "tags": ""})
    assert mcp_client.ok("task_info", {"id": task["id"]})["task"]["tags"] == ["doc"]


def test_a_dependency_on_an_archived_task_still_shows(tmp_path):
    with McpServer(server_env(tmp_path)) as server:
        old = add(server, "old")
        waits = add(server, "waits", depends=str(old["id"]))
        server.ok("task_done", {"id": old["id"]})
        server.ok("task_archive", {"older_than_days": 0})
        [row] = server.ok("task_list", {"filter": str(waits["id"])})["tasks"]
        assert (row["depends"], row["archived"]) == ([old["id"]], [old["id"]])
        assert server.ok("task_info", {"id": waits["id"]})["task"]["archived"] == [old["id"]]


def test_archive_moves_old_finished_tasks_into_quarter_segments(mcp_client):
    old = {"description": "shipped long ago", "status": "completed", "entry": "2025-07-01T10:00:00Z",
           "end": "2025-08-15T10:00:00Z"}
    [task_id] = mcp_client.ok("task_import", {"tasks": json.dumps([old])})["ids"]
    result = mcp_client.ok("task_archive", {"older_than_days": 90})
    assert task_id in result["ids"] and "2025-Q3" in result["message"]
    assert {"segment": "2025-Q3", "count": 1} in mcp_client.ok("task_archive_list")["items"]
    loaded = mcp_client.ok("task_archive_load", {"segment": "2025-Q3"})["tasks"]
    assert [t["description"] for t in loaded] == ["shipped long ago"]
