"""Failures answer isError with exactly one line `<param>: <what was wrong>; <fix>`, and never stop the server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backlog.errors import BacklogError, StoreError
from backlog.engine.render import OUTPUT_FIELDS
from backlog.mcp.lines import compact_schema, failure_line, validation_line
from backlog.core.sort import SORT_FIELDS
from tests.server_support import McpServer, server_env

ALPHA, TWIN1, TWIN2 = ("11111111-1111-4111-8111-111111111111", "22222222-0000-4000-8000-000000000001",
                       "22222222-0000-4000-8000-000000000002")
SEED = [  # imported into a fresh store, so the ids are 1..5 in this order
    {"uuid": ALPHA, "description": "alpha", "project": "web"},
    {"uuid": TWIN1, "description": "twin one"},
    {"uuid": TWIN2, "description": "twin two"},  # shares the 8-hex prefix 22222222 with task 2
    {"uuid": "44444444-4444-4444-8444-444444444444", "description": "finished", "status": "completed",
     "end": "2026-11-01T00:00:00Z"},
    {"uuid": "55555555-5555-4555-8555-555555555555", "description": "after alpha", "depends": [ALPHA]},
]
ID_FIX = "use a number like 12, a full uuid or a uuid prefix of 8+ hex digits"


@pytest.fixture(scope="module")
def mcp_client(tmp_path_factory):
    """A server on a store holding SEED."""
    with McpServer(server_env(tmp_path_factory.mktemp("errors"))) as server:
        assert server.ok("task_import", {"tasks": json.dumps(SEED)})["ids"] == [1, 2, 3, 4, 5]
        yield server


@pytest.mark.parametrize("tool, arguments, line", [
    # unknown and malformed ids
    ("task_info", {"id": 999}, "id: no task 999; list ids with task_list"),
    ("task_info", {"id": "1abc"}, f"id: '1abc' is not a task id; {ID_FIX}"),
    ("task_info", {"id": " 2"}, f"id: ' 2' is not a task id; {ID_FIX}"),
    ("task_done", {"id": "22222222"}, "id: uuid prefix 22222222 matches tasks 2, 3; give more characters or the short id"),
    # refused changes
    ("task_modify", {"filter": "  ", "priority": "H"},
     "filter: is blank; name the tasks to change, e.g. '12' or 'project:web +bug'"),
    ("task_add", {"description": "x", "due": "nxt week"}, "due: cannot read 'nxt week'; try 'next week', 'in 2 weeks' or 'tomorrow'"),
    ("task_add", {"description": "x", "priority": "Z"}, "priority: 'Z' is not a priority; use H, M or L ('' clears it)"),
    ("task_modify", {"filter": "1", "depends": "5"}, "depends: would create a cycle 1 -> 5 -> 1; remove one of these dependencies"),
    ("task_purge", {"id": 1}, "id: task 1 is pending, not deleted; delete it with task_delete first"),
    ("task_done", {"id": 4},
     "id: task 4 is already completed; nothing to do; task_undo reverts the last change if it was a mistake"),
    ("task_archive_load", {"segment": "2020-Q1"}, "segment: no archive segment '2020-Q1'; use one of none: nothing is archived yet"),
    ("task_archive_load", {"segment": "../../etc"}, "segment: no archive segment '../../etc'; use one of none: nothing is archived yet"),
    ("task_stop", {"id": 1}, "id: task 1 is not active; start it with task_start first"),
    ("task_doc_read", {"id": 1}, "id: task 1 has no doc; write one with task_doc_write"),
    ("task_claim", {"agent": "a", "id": 5}, "id: task 5 is not ready: it depends on unfinished task 1; claim a +READY task instead"),
    ("task_claim", {"agent": "a", "filter": "project:nothing"},
     "filter: nothing to claim: no READY task without a live lease matches 'project:nothing'; "
     "widen the filter, or list tasks with task_list filter '+READY -CLAIMED'"),
    ("task_search", {"query": " "}, "query: is empty; give words to look for, e.g. 'login redirect'"),
    # import
    ("task_import", {"tasks": "[{"},
     "tasks: is not valid JSON (unexpected end of data: line 1 column 3 (char 2)); pass a JSON array of task objects"),
    ("task_import", {"tasks": '[{"description": "x", "Colour": "red"}]'},  # not a UDA name
     "tasks[0].Colour: is not a task field; remove it; known keys: agent, annotations, depends, description, due, end, "
     "entry, id, imask, last, mask, modified, origin, parent, priority, project, recur, rtype, scheduled, start, status, "
     "tags, template, until, urgency, uuid, wait; UDA names match [a-z][a-z0-9_]*"),
    # sizes and names
    ("task_doc_write", {"id": 1, "content": "x" * ((1 << 20) + 1)},
     "content: is 1048577 bytes, the limit is 1048576 (1 MiB); shorten it or split it over tasks"),
    ("task_list", {"sort": "urgancy-"},
     f"sort: unknown field 'urgancy'; did you mean 'urgency'? use one of {', '.join(SORT_FIELDS)}"),
    ("task_list", {"fields": "colour"}, f"fields: unknown field 'colour'; use 'all' or any of {', '.join(OUTPUT_FIELDS)}"),
    # argument validation by the SDK, rewritten by our one handler
    ("task_list", {"limit": "abc"}, "limit: expected an integer, got 'abc'; pass a whole number like 20"),
    ("task_list", {"limit": 2.5}, "limit: expected an integer, got 2.5; pass a whole number like 20"),
    ("task_add", {}, "description: is required; pass a value for description"),
    ("task_annotate", {"id": 1}, "text: is required; pass a value for text"),
    ("task_add", {"description": None}, "description: expected text, got null; pass a string"),
    ("task_add", {"description": 7}, "description: expected text, got 7; pass a string"),
    ("task_info", {"id": [1]}, "id: expected text or an integer, got an array; pass a number like 12 or a string like '12'"),
    ("task_info", {"id": {"id": 1}},
     "id: expected text or an integer, got an object; pass a number like 12 or a string like '12'"),
    ("task_add", {"description": "x", "tags": {"a": 1}},
     "tags: expected text or an array, got an object; pass a comma list like 'a,b' or a JSON array of strings"),
    ("task_archive", {"older_than_days": "soon"}, "older_than_days: expected an integer, got 'soon'; pass a whole number like 20"),
    ("task_add", {"description": 1, "priority": []},
     "description: expected text, got 1; pass a string (also check priority)"),
    # parameters the tool does not take, and tools that do not exist
    ("task_add", {"description": "x", "tag": "a"},
     "tag: is not a parameter of task_add; use description, project, tags, priority, due, depends, wait, scheduled, "
     "recur, until, agent, extra"),
    ("task_undo", {"force": True}, "force: is not a parameter of task_undo; use agent, scope"),
    ("task_undo", {"scope": "all"}, "scope: input should be 'mine' or 'any', got 'all'; check the tool's input schema"),
])
def test_failure_is_one_line_with_the_fix(mcp_client, tool, arguments, line):
    assert mcp_client.fail(tool, arguments) == line


def test_an_unknown_tool_is_one_line(mcp_client):
    assert mcp_client.fail("task_frobnicate", {}).startswith("name: no tool 'task_frobnicate'; use one of task_list, ")


def test_a_refused_change_changes_nothing(mcp_client):
    before = mcp_client.ok("task_list", {"filter": "", "limit": 0})
    mcp_client.fail("task_modify", {"filter": "1", "depends": "5"})
    assert mcp_client.ok("task_list", {"filter": "", "limit": 0}) == before


WEIRD = [None, True, -1, 2.5, 10**30, "", " ", "(((", "\x00", "💥" * 3, "x" * 200_000, [], [None], {}, {"a": [1]}]


def test_no_argument_crashes_the_server(tmp_path):
    """Every tool, every parameter, a range of wrong values: a result or one error line each time."""
    with McpServer(server_env(tmp_path)) as server:
        server.ok("task_import", {"tasks": json.dumps(SEED)})
        fuzz(server)
        assert server.ok("task_count", {"filter": "twin"}) == {"count": 2}


def fuzz(mcp_client: McpServer) -> None:
    for spec in mcp_client.list_tools():
        required = {name: "1" for name in spec.input_schema.get("required", [])}
        for param in spec.input_schema["properties"]:
            for value in WEIRD:
                result = mcp_client.call(spec.name, {**required, param: value})
                texts = [block.text for block in result.content]
                assert len(texts) == 1, (spec.name, param, value)
                if result.is_error:
                    assert "\n" not in texts[0] and ": " in texts[0], (spec.name, param, value, texts)
                    assert not texts[0].startswith(("Error executing", "internal:")), (spec.name, param, value, texts)
                else:
                    assert json.loads(texts[0]) == result.structured_content


# -- failures of the store itself ------------------------------------------------------------

def test_nothing_to_undo_on_a_fresh_store(tmp_path):
    with McpServer(server_env(tmp_path)) as server:
        assert server.fail("task_undo") == (
            "undo: nothing to undo: your changes in the undo window are already undone; "
            "the window is the last 200 changes; task_undo scope 'any' reaches other writers' changes")


def test_bad_settings_still_start_and_every_tool_names_the_variable(tmp_path):
    line = "BACKLOG_BACKEND: 'ftp' is not available in this build; unset it or set it to 'files' or 's3'"
    with McpServer(server_env(tmp_path, BACKLOG_BACKEND="ftp")) as server:
        assert len(server.list_tools()) == 27
        assert server.fail("task_list", {}) == line
        assert server.fail("task_add", {"description": "x"}) == line
        assert server.fail("task_undo") == line


def test_a_damaged_store_is_reported_and_a_repaired_one_used_without_restart(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "tasks.json").write_text("{not json")
    with McpServer(server_env(tmp_path)) as server:
        line = server.fail("task_count", {})
        assert line.startswith(f"store: {data / 'tasks.json'} is damaged (")
        assert "`backlog doctor`" in line
        assert server.fail("task_add", {"description": "x"}) == line
        assert (data / "tasks.json").read_text() == "{not json"  # never overwritten
        (data / "tasks.json").unlink()
        assert server.ok("task_count", {}) == {"count": 0}


def test_a_data_dir_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "data").write_text("a file, not a dir")
    with McpServer(server_env(tmp_path)) as server:
        line = server.fail("task_add", {"description": "x"})
        assert line.startswith("store: ") and "TASKDATA" in line


def test_an_unexpected_exception_is_one_line_and_the_server_goes_on(tmp_path):
    with McpServer(server_env(tmp_path)) as server:
        server.ok("task_add", {"description": "with a doc"})
        server.ok("task_doc_write", {"id": 1, "content": "plain text"})
        for blob in Path(tmp_path / "data" / "docs").iterdir():
            blob.write_bytes(b"\xff\xfe\xfd")  # not UTF-8
        line = server.fail("task_doc_read", {"id": 1})
        assert line.startswith(("internal: UnicodeDecodeError: ", "store: ")), line
        assert server.ok("task_count", {}) == {"count": 1}


# -- the pure parts of the handler ---------------------------------------------------------------

@pytest.mark.parametrize("exc, line", [
    (BacklogError("id", "no task 4", "list ids with task_list"), "id: no task 4; list ids with task_list"),
    (StoreError("/d/tasks.json is damaged (x)\n; run `backlog doctor`"), "store: /d/tasks.json is damaged (x) ; run `backlog doctor`"),
    (PermissionError(13, "Permission denied", "/d/.lock"),
     "store: cannot use /d/.lock (Permission denied); check its permissions or set TASKDATA to a writable directory"),
    (ZeroDivisionError("division by zero"), "internal: ZeroDivisionError: division by zero; please report this"),
    (KeyError("x" * 400), "internal: KeyError: '" + "x" * 299 + "; please report this"),
])
def test_failure_line(exc, line):
    assert failure_line(exc) == line


def test_validation_line_names_the_first_parameter_and_the_others():
    errors = [{"type": "missing", "loc": ("description",), "msg": "Field required"},
              {"type": "int_parsing", "loc": ("limit",), "msg": "bad"}]
    assert validation_line(errors, {"limit": "x"}) == "description: is required; pass a value for description (also check limit)"


def test_compact_schema_drops_titles_and_null_arms_but_keeps_unions():
    schema = {"title": "fArguments", "type": "object", "required": ["id"], "properties": {
        "title": {"title": "Title", "anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "id": {"title": "Id", "anyOf": [{"type": "string"}, {"type": "integer"}], "description": "d"},
        "days": {"title": "Days", "type": "integer", "default": 90}}}
    assert compact_schema(schema) == {"type": "object", "required": ["id"], "properties": {
        "title": {"type": "string"},
        "id": {"anyOf": [{"type": "string"}, {"type": "integer"}], "description": "d"},
        "days": {"type": "integer", "default": 90}}}

