"""The engine's use cases on a real store in a temp dir, with a clock the test moves."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from backlog.engine.backlog import Backlog
from backlog.errors import StoreError
from backlog.store.store import Store
from tests.conftest import NOW, error


class Clock:
    """A clock that stands still until the test moves it."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def backlog(store_dir, clock) -> Backlog:
    """An engine on an empty store, UTC, writing as agent 'tester'."""
    return Backlog(Store.open(store_dir), tz=timezone.utc, clock=clock, agent="tester")


def reopen(backlog: Backlog) -> Backlog:
    return Backlog(Store.open(backlog.store.backend.root), tz=backlog.tz, clock=backlog.clock, agent="other")




# -- add / log / duplicate ------------------------------------------------------------------

def test_add_returns_the_new_task_with_id_and_uuid(backlog):
    result = backlog.add("Write docs", project="web", tags="docs,api", priority="h", due="2026-12-01")
    assert result["message"] == "added task 1"
    task = result["task"]
    assert task["id"] == 1 and len(task["uuid"]) == 36
    assert (task["project"], task["tags"], task["priority"], task["due"]) == ("web", ["docs", "api"], "H", "2026-12-01T00:00:00Z")


def test_add_honours_every_extra_token(backlog):
    task = backlog.add("x", extra='+a +b -a project:web pri:L due:"in 2 days" agent:bot')["task"]
    assert (task["tags"], task["project"], task["priority"], task["agent"]) == (["b"], "web", "L", "bot")
    assert task["due"] == "2026-11-26T10:14:53Z"


@pytest.mark.parametrize("params, expected", [
    ({"priority": "X"}, "priority: 'X' is not a priority; use H, M or L ('' clears it)"),
    ({"due": "nxt week"}, "due: cannot read 'nxt week'"),
    ({"project": "a b"}, "project: 'a b' is not a valid project name"),
    ({"tags": "ACTIVE"}, "tags: 'ACTIVE' is a reserved virtual tag"),
    ({"extra": "project:a", "project": "b"}, "extra: sets project, which the project parameter already sets"),
    ({"extra": "colour:red"}, "extra: cannot use 'colour:red'"),
    ({"recur": "weekly"}, "recur: needs a due date"),
    ({"recur": "fortnightly-ish", "due": "friday"}, "recur: 'fortnightly-ish' is not a recurrence period"),
    ({"depends": "99"}, "depends: no task 99; list ids with task_list"),
])
def test_add_rejects_bad_input_with_one_line(backlog, params, expected):
    assert error(backlog.add, "task", **params).startswith(expected)
    assert backlog.store.tasks == {}


def test_add_rejects_overlong_descriptions(backlog):
    assert error(backlog.add, "x" * 501).startswith("description: is 501 chars, the limit is 500")


def test_ids_are_never_reused_and_survive_restarts(backlog):
    backlog.add("one")
    backlog.delete("1")
    backlog.purge("1")
    assert reopen(backlog).add("two")["task"]["id"] == 2


def test_log_creates_a_completed_task(backlog):
    task = backlog.log("Shipped", project="web")["task"]
    assert task["status"] == "completed"
    assert backlog.store.tasks[task["uuid"]]["end"] == "2026-11-24T10:14:53Z"


def test_duplicate_copies_fields_but_not_state(backlog):
    backlog.add("orig", project="web", tags="a", priority="H")
    backlog.start("1")
    backlog.doc_write("1", "# spec")
    copy = backlog.duplicate("1", priority="L")["task"]
    assert (copy["id"], copy["project"], copy["tags"], copy["priority"]) == (2, "web", ["a"], "L")
    assert "start" not in copy and "has_doc" not in copy


def test_duplicate_keeps_the_owner_but_not_the_claim(backlog):
    backlog.add("orig")
    backlog.claim("worker-1", id="1")
    copy = backlog.duplicate("1")["task"]
    assert copy["agent"] == "worker-1" and "start" not in copy
    assert backlog.duplicate("1", agent="worker-2")["task"]["agent"] == "worker-2"
    assert "agent" not in backlog.duplicate("1", agent="")["task"]


@pytest.mark.parametrize("doc, notes, message", [
    (False, 0, "duplicated task 1 as task 2"),
    (True, 0, "duplicated task 1 as task 2 (not copied: the doc)"),
    (False, 1, "duplicated task 1 as task 2 (not copied: 1 annotation)"),
    (True, 2, "duplicated task 1 as task 2 (not copied: the doc, 2 annotations)"),
])
def test_duplicate_says_what_it_did_not_copy(backlog, doc, notes, message):
    backlog.add("orig")
    if doc:
        backlog.doc_write("1", "# spec")
    for n in range(notes):
        backlog.annotate("1", f"note {n}")
    assert backlog.duplicate("1")["message"] == message


# -- modify -------------------------------------------------------------------------------

def test_modify_changes_every_match_in_one_undo_step(backlog):
    for n in range(3):
        backlog.add(f"t{n}", project="web", tags="old")
    result = backlog.modify("project:web", tags="+new,-old", priority="M")
    assert result == {"message": "modified 3 tasks", "ids": [1, 2, 3]}
    assert all(t["tags"] == ["new"] and t["priority"] == "M" for t in backlog.store.tasks.values())
    assert backlog.undo()["ids"] == [1, 2, 3]
    assert all(t["tags"] == ["old"] and "priority" not in t for t in backlog.store.tasks.values())


def test_modify_is_all_or_nothing(backlog):
    backlog.add("a")
    backlog.add("b", depends="1")
    message = error(backlog.modify, "1,2", depends="2")
    assert message.startswith("depends: ")
    assert [t.get("depends") for t in backlog.store.tasks.values()] == [None, [backlog.store.ids[1]]]


def test_modify_clears_fields_with_empty_strings(backlog):
    backlog.add("a", project="web", due="friday", tags="x")
    backlog.modify("1", project="", due="", tags="")
    task = backlog.store.tasks[backlog.store.ids[1]]
    assert not {"project", "due", "tags"} & set(task)


@pytest.mark.parametrize("value, expected", [
    ("c", ["a", "b", "c"]),  # a plain name adds (as the original documents)
    ("c,a", ["a", "b", "c"]),  # adding one already there changes nothing for it
    ('["c", "d"]', ["a", "b", "c", "d"]),  # a JSON array adds too
    ("+c", ["a", "b", "c"]),  # +name adds
    ("-a", ["b"]),  # -name removes
    ("c,-a", ["b", "c"]),  # both at once
    ("=c,d", ["c", "d"]),  # = replaces the whole set
    ('=["c"]', ["c"]),
    ("=", None),  # = with nothing clears
    ("", None),  # "" clears
])
def test_modify_tags_add_remove_replace_clear(backlog, value, expected):
    backlog.add("t", tags="a,b")
    backlog.modify("1", tags=value)
    assert backlog.store.tasks[backlog.store.ids[1]].get("tags") == expected


@pytest.mark.parametrize("value, expected", [
    ("3", [1, 2, 3]),  # a plain id adds (as Taskwarrior's depends:3)
    ("-1", [2]),  # -id removes
    ("3,-1", [2, 3]),
    ("=3", [3]),  # = replaces
    ("", None),  # "" clears
])
def test_modify_depends_follows_the_tags_rule(backlog, value, expected):
    for name in "abc":
        backlog.add(name)
    backlog.add("d", depends="1,2")
    backlog.modify("4", depends=value)
    task = backlog.store.tasks[backlog.store.ids[4]]
    assert ([backlog.store.tasks[u]["id"] for u in task.get("depends", ())] or None) == expected


@pytest.mark.parametrize("value, expected", [
    ("=a,-b", "tags: '=' replaces the set with plain names, got '-b'; drop the + and - or leave out the ="),
    ("=a,+b", "tags: '=' replaces the set with plain names, got '+b'; drop the + and - or leave out the ="),
])
def test_modify_replace_takes_plain_names_only(backlog, value, expected):
    backlog.add("t")
    assert error(backlog.modify, "1", tags=value) == expected


def test_modify_refuses_a_blank_filter_and_no_match(backlog):
    assert error(backlog.modify, "  ", priority="H").startswith("filter: is blank")
    assert error(backlog.modify, "project:none", priority="H") == "filter: no task matches 'project:none'; check it with task_list"


def test_dependency_cycles_are_refused(backlog):
    backlog.add("a")
    backlog.add("b", depends="1")
    backlog.add("c", depends="2")
    assert error(backlog.modify, "1", depends="3") == "depends: would create a cycle 1 -> 3 -> 2 -> 1; remove one of these dependencies"


# -- lifecycle ------------------------------------------------------------------------------

def test_done_clears_start_and_refuses_twice(backlog):
    backlog.add("a")
    backlog.start("1")
    task = backlog.done("1")["task"]
    assert task["status"] == "completed" and "start" not in task
    assert error(backlog.done, 1).startswith("id: task 1 is already completed")


def test_start_twice_says_so_and_stop_needs_an_active_task(backlog):
    backlog.add("a")
    backlog.start("1")
    assert backlog.start("1")["message"].endswith("no change")
    backlog.stop("1")
    assert error(backlog.stop, "1") == "id: task 1 is not active; start it with task_start first"


@pytest.mark.parametrize("ref, expected", [
    ("1abc", "id: '1abc' is not a task id; use a number like 12, a full uuid or a uuid prefix of 8+ hex digits"),
    (" 2", "id: ' 2' is not a task id; use a number like 12, a full uuid or a uuid prefix of 8+ hex digits"),
    ("42", "id: no task 42; list ids with task_list"),
    (True, "id: expected a task id, got bool; pass a number like 12 or a uuid"),
])
def test_bad_ids_are_one_line_errors(backlog, ref, expected):
    backlog.add("a")
    assert error(backlog.done, ref) == expected


def test_uuid_prefixes_resolve_when_unique(backlog):
    uuids = ["abcdef12-0000-4000-8000-000000000001", "abcdef12-0000-4000-8000-000000000002"]
    backlog.import_tasks(orjson.dumps([{"uuid": u, "description": u[-1]} for u in uuids]).decode())
    assert error(backlog.info, "abcdef12") == "id: uuid prefix abcdef12 matches tasks 1, 2; give more characters or the short id"
    assert backlog.info(uuids[1])["task"]["id"] == 2


def test_annotate_and_denotate(backlog):
    backlog.add("a")
    backlog.annotate("1", "first note")
    backlog.annotate("1", "second")
    assert error(backlog.denotate, "1", "third").startswith("text: task 1 has no annotation 'third'; pass the exact text of one of: 'first note'; 'second'")
    backlog.denotate("1", "first note")
    assert [n["description"] for n in backlog.store.tasks[backlog.store.ids[1]]["annotations"]] == ["second"]


def test_purge_needs_a_deleted_task_and_removes_doc_and_references(backlog):
    backlog.add("a")
    backlog.add("b", depends="1")
    backlog.doc_write("1", "notes")
    assert error(backlog.purge, "1") == "id: task 1 is pending, not deleted; delete it with task_delete first"
    backlog.delete("1")
    backlog.purge("1")
    assert list(backlog.store.ids) == [2] and "depends" not in backlog.store.tasks[backlog.store.ids[2]]
    assert backlog.store.docs == {}
    backlog.undo()
    assert backlog.doc_read("1") == {"content": "notes"}


def test_undo_with_nothing_to_undo_is_an_error(backlog):
    assert error(backlog.undo).startswith("undo: nothing to undo")


def test_undo_names_what_it_undid(backlog):
    backlog.add("a")
    assert backlog.undo() == {"message": "undid task_add by tester at 2026-11-24T10:14:53Z (task 1)", "ids": [1]}


# -- claim / assign ---------------------------------------------------------------------

def test_claim_takes_the_most_urgent_ready_task_without_a_live_lease(backlog):
    backlog.add("low")
    backlog.add("high", priority="H")
    backlog.add("held", priority="H", due="2026-11-30")
    backlog.add("blocked", priority="H", depends="3")
    backlog.add("owned but not leased", agent="other")
    backlog.claim("other", id="3")
    task = backlog.claim("me")["task"]
    assert (task["id"], task["agent"], "start" in task) == (2, "me", True)
    assert [backlog.claim("me")["task"]["id"] for _ in range(2)] == [1, 5]
    assert error(backlog.claim, "me").startswith("filter: nothing to claim: no READY task without a live lease matches ''")


def test_claim_by_id_of_a_task_leased_to_another_agent_is_refused(backlog):
    backlog.add("a")
    backlog.claim("other", id="1")
    assert error(backlog.claim, "me", id="1") == (
        "id: task 1 is claimed to other until 2026-11-24T10:24:53Z; claim another task, or ask that agent")


@pytest.mark.parametrize("setup, expected", [
    ({"wait": "2026-12-01"}, "id: task 1 is not ready: it waits until 2026-12-01T00:00:00Z; claim a +READY task instead"),
    ({"scheduled": "2026-12-01"}, "id: task 1 is not ready: it is scheduled for 2026-12-01T00:00:00Z; claim a +READY task instead"),
])
def test_claim_by_id_says_why_it_refuses(backlog, setup, expected):
    backlog.add("a", **setup)
    assert error(backlog.claim, "me", id="1") == expected


def test_claim_of_an_assigned_task_by_its_agent_starts_it(backlog):
    backlog.add("a")
    assert backlog.assign("task-worker#a1b2c3")["id"] == 1
    task = backlog.claim("task-worker#a1b2c3", id=1)["task"]
    assert "start" in task
    assert backlog.claim("task-worker#a1b2c3", id=1)["message"].endswith("no change")


def test_complete_external_matches_origin_then_subject(backlog):
    backlog.add("Write docs", origin="claude:s1:1")
    backlog.add("Write docs", origin="claude:s1:2")
    backlog.add("Unique title")
    assert backlog.complete_external("claude:s1:2", "Write docs")["id"] == 2
    assert backlog.complete_external("claude:s1:2", "Write docs") is None  # replay: already completed
    assert backlog.complete_external("claude:s9:9", "Unique title")["id"] == 3
    assert backlog.complete_external("claude:s9:8", "Write docs")["id"] == 1


def test_add_with_an_origin_is_idempotent(backlog):
    first = backlog.add("From Claude", origin="claude:s:1")["task"]["id"]
    again = backlog.add("From Claude", origin="claude:s:1")
    assert again["task"]["id"] == first and "already exists" in again["message"]
    assert len(backlog.store.tasks) == 1


# -- recurrence -------------------------------------------------------------------------

def test_recurring_add_creates_a_template_and_one_instance(backlog):
    result = backlog.add("Standup notes", recur="weekly", due="2026-11-02T09:00:00Z")
    assert result["task"]["status"] == "recurring"
    instances = [t for t in backlog.store.tasks.values() if t.get("parent")]
    assert [t["due"] for t in instances] == ["2026-11-30T09:00:00Z"]  # first on/after today, no back-fill


def test_done_on_an_instance_creates_the_next_one_only(backlog, clock):
    backlog.add("Pay rent", recur="monthly", due="2026-01-31", until="2027-03-01")
    assert backlog.done("2")["message"] == "completed task 2; next instance is task 3, due 2026-12-31T00:00:00Z"
    clock.advance(days=90)
    backlog.done("3")
    pending = [t for t in backlog.store.tasks.values() if t["status"] == "pending"]
    assert [t["due"] for t in pending] == ["2027-02-28T00:00:00Z"]
    backlog.done(str(pending[0]["id"]))
    assert [t for t in backlog.store.tasks.values() if t["status"] == "pending"] == []  # past until


def test_deleting_the_template_stops_generation(backlog):
    backlog.add("Water plants", recur="daily", due="2026-11-24")
    backlog.delete("1")
    backlog.done("2")
    assert [t["id"] for t in backlog.store.tasks.values() if t["status"] == "pending"] == []


# -- import / export --------------------------------------------------------------------

TW_TASK = {
    "id": 3, "uuid": "6a6d4f76-22a8-4d57-a2d5-0b6d7a9a7c55", "description": "Imported", "status": "pending",
    "entry": "20261101T080000Z", "modified": "20261102T080000Z", "due": "20261130T170000Z", "project": "web",
    "tags": ["bug"], "priority": "M", "urgency": 9.1, "annotations": [{"entry": "20261101T090000Z", "description": "n"}],
}


def test_import_reads_taskwarrior_export_and_is_idempotent(backlog):
    assert backlog.import_tasks(orjson.dumps([TW_TASK]).decode())["message"] == "imported 1 task"
    task = backlog.store.tasks[TW_TASK["uuid"]]
    assert (task["entry"], task["due"], task["annotations"][0]["entry"]) == (
        "2026-11-01T08:00:00Z", "2026-11-30T17:00:00Z", "2026-11-01T09:00:00Z")
    assert backlog.import_tasks(orjson.dumps([TW_TASK]).decode()) == {"message": "imported 0 tasks, 1 already present", "ids": []}
    changed = {**TW_TASK, "project": "api"}
    assert error(backlog.import_tasks, orjson.dumps([changed]).decode()) == (
        "tasks[0].uuid: task 1 has this uuid with other project; remove it from the batch or modify the task instead")


@pytest.mark.parametrize("payload, expected", [
    ('[{"description": "a", "Colour": "red"}]', "tasks[0].Colour: is not a task field"),  # not a UDA name
    ('[{"description": "a"}, {"description": ""}]', "tasks[1].description: is missing or empty"),
    ('[{"description": "a", "due": "soon"}]', "tasks[0].due: cannot read date 'soon'"),
    ("[{]", "tasks: is not valid JSON"),
    ('[{"description": "a", "depends": ["6a6d4f76-22a8-4d57-a2d5-0b6d7a9a7c00"]}]', "tasks[0].depends: no task with uuid"),
])
def test_import_is_atomic_and_names_the_bad_key(backlog, payload, expected):
    assert error(backlog.import_tasks, payload).startswith(expected)
    assert backlog.store.tasks == {}


def test_import_defaults_missing_fields(backlog):
    backlog.import_tasks('[{"description": "a", "status": "completed"}]')
    task = next(iter(backlog.store.tasks.values()))
    assert task["entry"] == task["end"] == task["modified"] == "2026-11-24T10:14:53Z"


def test_export_round_trips_through_import(backlog, store_dir, tmp_path):
    backlog.import_tasks(orjson.dumps([TW_TASK]).decode())
    exported = backlog.export()
    other = Backlog(Store.open(tmp_path / "other"), tz=timezone.utc, clock=backlog.clock)
    other.import_tasks(orjson.dumps(exported).decode())
    assert other.export() == exported


# -- docs, archive, queries ---------------------------------------------------------------

def test_docs_set_has_doc_and_the_doc_tag(backlog):
    backlog.add("a", tags="x")
    task = backlog.doc_write("1", "# Plan\nsteps")["task"]
    assert task["has_doc"] is True and task["tags"] == ["x", "doc"]
    assert backlog.info("1")["task"]["doc_size"] == 12
    task = backlog.doc_delete("1")["task"]
    assert "has_doc" not in task and task["tags"] == ["x"]
    assert error(backlog.doc_read, "1") == "id: task 1 has no doc; write one with task_doc_write"
    assert error(backlog.doc_write, "1", "x" * (1 << 20 + 1)).startswith("content: is 2097152 bytes, the limit is 1048576")


def test_archive_segments_by_end_quarter_and_resolves_dependencies(backlog, clock):
    backlog.add("old")
    backlog.add("waits on old", depends="1")
    clock.now = NOW.replace(month=5)
    backlog.done("1")
    clock.now = NOW
    assert backlog.list("+BLOCKED")["total"] == 0
    assert backlog.archive() == {"message": "archived 1 task into 2026-Q2", "ids": [1]}
    assert backlog.archive_list() == {"items": [{"segment": "2026-Q2", "count": 1}]}
    assert [t["id"] for t in backlog.archive_load("2026-Q2")["tasks"]] == [1]
    assert backlog.list("+READY")["tasks"][0]["id"] == 2
    assert error(backlog.archive_load, "2026-Q1") == "segment: no archive segment '2026-Q1'; use one of 2026-Q2"
    backlog.undo()
    assert backlog.archive_list() == {"items": []} and 1 in backlog.store.ids


def test_archive_zero_days_takes_every_closed_task_even_one_ended_this_second(backlog, clock):
    backlog.add("ended a day ago")
    backlog.add("ended now")
    backlog.add("deleted now")
    backlog.add("still open")
    clock.advance(days=-1)
    backlog.done("1")
    clock.now = NOW
    backlog.done("2")
    backlog.delete("3")
    assert backlog.archive(0) == {"message": "archived 3 tasks into 2026-Q4", "ids": [1, 2, 3]}
    assert list(backlog.store.ids) == [4]


def test_import_refuses_the_uuid_of_an_archived_task(backlog):
    uuid = backlog.add("archived soon")["task"]["uuid"]
    backlog.done("1")
    backlog.archive(0)
    twin = orjson.dumps([{"uuid": uuid, "description": "a twin"}]).decode()
    assert error(backlog.import_tasks, twin) == (
        f"tasks[0].uuid: archived task 1 already has uuid {uuid}; "
        "see it with task_archive_load(segment='2026-Q4'), or leave the uuid out to import a copy")
    assert backlog.store.tasks == {} and backlog.archive_list() == {"items": [{"segment": "2026-Q4", "count": 1}]}


def test_archive_keeps_tasks_that_ended_exactly_n_days_ago(backlog, clock):
    backlog.add("a")
    backlog.done("1")
    clock.advance(days=1)
    assert backlog.archive(1) == {"message": "nothing ended more than 1 day ago", "ids": []}
    clock.advance(seconds=1)
    assert backlog.archive(1)["ids"] == [1]


def archived_dependency(backlog: Backlog) -> None:
    """Task 3 depends on tasks 1 and 2; task 1 is done and archived, task 2 pending."""
    backlog.add("old")
    backlog.add("open")
    backlog.add("waits", depends="1,2")
    backlog.done("1")
    backlog.archive(0)


def test_a_row_shows_an_archived_dependency_in_depends_and_archived(backlog):
    archived_dependency(backlog)
    [row] = backlog.list("3")["tasks"]
    assert (row["depends"], row["archived"]) == ([1, 2], [1])
    assert "archived" not in backlog.list("2")["tasks"][0]


def test_info_says_which_dependencies_are_archived(backlog):
    archived_dependency(backlog)
    task = backlog.info("3")["task"]
    assert (task["depends"], task["archived"], task["blocked_by"]) == ([1, 2], [1], [2])


def test_archived_dependencies_follow_undo_and_other_writers(backlog):
    archived_dependency(backlog)
    other = reopen(backlog)
    assert other.list("3")["tasks"][0]["archived"] == [1]
    backlog.undo()  # the archive
    assert "archived" not in other.list("3")["tasks"][0]
    other.archive(0)
    assert backlog.list("3")["tasks"][0]["archived"] == [1]


def test_rows_without_missing_dependencies_never_read_the_archive(backlog):
    archived_dependency(backlog)
    [segment] = (Path(backlog.store.backend.root) / "archive").iterdir()
    segment.write_text("damaged")
    fresh = reopen(backlog)
    assert fresh.list("1-2 or 4")["total"] == 1  # task 2 alone: no row needs the archive
    with pytest.raises(StoreError):
        fresh.list("3")


def test_list_hides_waiting_by_default_and_limits(backlog):
    for n in range(5):
        backlog.add(f"t{n}")
    backlog.add("later", wait="2026-12-24")
    result = backlog.list(limit=2)
    assert (len(result["tasks"]), result["total"], result["truncated"]) == (2, 5, True)
    assert backlog.list("+WAITING")["tasks"][0]["description"] == "later"
    assert backlog.count("status:pending") == {"count": 6}


def test_list_fields_and_sort(backlog):
    backlog.add("b", due="2026-12-02")
    backlog.add("a", due="2026-12-01")
    rows = backlog.list(sort="due+", fields="id,due")["tasks"]
    assert rows == [{"id": 2, "due": "2026-12-01T00:00:00Z"}, {"id": 1, "due": "2026-12-02T00:00:00Z"}]
    assert error(backlog.list, fields="id,colour").startswith("fields: unknown field 'colour'; use 'all' or any of")


def test_projects_and_tags_count_pending_tasks(backlog):
    backlog.add("a", project="web", tags="x")
    backlog.add("b", project="web.ui", tags="x,y")
    backlog.add("c", project="api")
    backlog.done("3")
    assert backlog.projects() == {"items": [{"name": "web", "pending": 1}, {"name": "web.ui", "pending": 1}]}
    assert backlog.tags() == {"items": [{"name": "x", "pending": 2}, {"name": "y", "pending": 1}]}


def test_history_shows_who_changed_what_through_which_tool(backlog):
    backlog.add("a")
    backlog.modify("1", priority="H")
    entries = backlog.history("1")["entries"]
    assert [e["tool"] for e in entries] == ["task_add", "task_modify"]
    assert entries[1] == {"at": "2026-11-24T10:14:53Z", "agent": "tester", "tool": "task_modify",
                          "changes": {"priority": [None, "H"]}}


def test_dates_follow_the_configured_zone(store_dir, clock):
    berlin = Backlog(Store.open(store_dir), tz=ZoneInfo("Europe/Berlin"), clock=clock)
    assert berlin.add("a", due="2026-12-01")["task"]["due"] == "2026-11-30T23:00:00Z"
