"""Taskwarrior UDAs (user defined attributes): import, show, filter, set, clear and export them.

A UDA is a key like `jira` or `estimate` that is neither a task field nor Taskwarrior
bookkeeping. It is kept on the task as a JSON string or number; once some task has it,
filters, `extra`, task_modify and the CLI accept it; typos of real fields stay refused.
"""

from __future__ import annotations

from datetime import timezone

import orjson
import pytest

from backlog.engine.backlog import Backlog
from backlog.errors import BacklogError
from backlog.core.model import check_task
from backlog.store.store import Store
from tests.conftest import NOW, error, run_backlog

UUID = "8c2b33a1-5d3e-4a8f-9a7e-0b6c1d2e3f40"
IMPORTED = [
    {"description": "Fix login", "jira": "PROJ-12", "estimate": 3, "wake": "20270101T000000Z"},
    {"description": "Write docs", "estimate": 2.5},
    {"description": "Plain task"},
]


@pytest.fixture
def backlog(store_dir) -> Backlog:
    """An engine on a store holding IMPORTED (tasks 1-3), UTC, the clock at NOW."""
    engine = Backlog(Store.open(store_dir), tz=timezone.utc, clock=lambda: NOW, agent="tester")
    engine.import_tasks(orjson.dumps(IMPORTED).decode())
    return engine




def ids(backlog: Backlog, text: str) -> list[int]:
    return sorted(t["id"] for t in backlog.list(text, limit=0, fields="id")["tasks"])


# -- import --------------------------------------------------------------------------------

def test_import_keeps_udas_as_json_scalars(backlog):
    first = backlog.info(1)["task"]
    assert (first["jira"], first["estimate"], first["wake"]) == ("PROJ-12", 3, "20270101T000000Z")
    assert type(first["estimate"]) is int and backlog.info(2)["task"]["estimate"] == 2.5


@pytest.mark.parametrize("value, kind", [
    ({"a": 1}, "dict"),  # an object
    (["a"], "list"),  # an array
    (True, "bool"),  # a boolean is neither text nor a number
    (None, "NoneType"),  # null
])
def test_import_refuses_a_uda_that_is_not_a_scalar(store_dir, value, kind):
    engine = Backlog(Store.open(store_dir), tz=timezone.utc, clock=lambda: NOW)
    batch = orjson.dumps([{"description": "ok"}, {"description": "bad", "jira": value}]).decode()
    message = error(engine.import_tasks, batch)
    assert message.startswith(f"tasks[1].jira: a UDA holds text or a number, got {kind}")
    assert engine.count("")["count"] == 0


@pytest.mark.parametrize("key", [
    "Jira",  # upper case
    "story-points",  # '-' is not allowed in a UDA name
    "blocked_by",  # a name task_info computes
    "doc",  # the filter's name for has_doc
])
def test_import_refuses_keys_that_cannot_be_udas(store_dir, key):
    engine = Backlog(Store.open(store_dir), tz=timezone.utc, clock=lambda: NOW)
    message = error(engine.import_tasks, orjson.dumps([{"description": "a", key: "x"}]).decode())
    assert message.startswith(f"tasks[0].{key}: is not a task field")


def test_import_ignores_taskwarrior_bookkeeping(store_dir):
    engine = Backlog(Store.open(store_dir), tz=timezone.utc, clock=lambda: NOW)
    raw = {"description": "a", "id": 9, "urgency": 1.5, "modified": "20261101T000000Z", "last": "3",
           "template": UUID, "imask": 0, "mask": "-"}
    engine.import_tasks(orjson.dumps([raw]).decode())
    task = engine.info(1)["task"]
    assert not {"last", "template", "imask", "mask"} & set(task)


def test_reimporting_the_same_udas_changes_nothing(backlog):
    exported = orjson.dumps(backlog.export("")).decode()
    assert backlog.import_tasks(exported)["message"] == "imported 0 tasks, 3 already present"


# -- showing -------------------------------------------------------------------------------

def test_compact_rows_leave_udas_out_and_all_fields_show_them(backlog):
    assert "jira" not in backlog.list("1")["tasks"][0]
    assert {"jira": "PROJ-12", "estimate": 3}.items() <= backlog.list("1", fields="all")["tasks"][0].items()
    assert backlog.list("", fields="id,estimate")["tasks"] == [{"id": 1, "estimate": 3}, {"id": 2, "estimate": 2.5}, {"id": 3}]


def test_fields_names_an_unknown_uda_as_an_error(backlog):
    assert "unknown field 'sprint'" in error(backlog.list, "", fields="id,sprint")


# -- filters -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("jira:PROJ-12", [1]),  # text, case-insensitive like agent
    ("jira:proj-12", [1]),
    ("jira.is:proj-12", []),  # is: exact
    ("jira.startswith:PROJ", [1]),
    ("jira.has:-1", [1]),
    ("jira.none:", [2, 3]),
    ("jira.isnt:PROJ-12", [2, 3]),
    ("estimate:3", [1]),  # numbers compare as numbers
    ("estimate:3.0", [1]),
    ("estimate:2.50", [2]),
    ("estimate.any:", [1, 2]),
    ("estimate.above:2.6", [1]),
    ("estimate.below:3", [2]),
    ("estimate.by:3", [1, 2]),
    ("estimate.above:10", []),  # 3 > 10 is false as numbers ('3' > '10' as text)
    ("wake.after:2026", [1]),  # a date UDA is text: compared as text
    ("est:3", [1]),  # abbreviated like any attribute
])
def test_filters_compare_udas_as_text_or_numbers(backlog, text, expected):
    assert ids(backlog, text) == expected


def test_a_filter_on_an_attribute_no_task_has_names_the_known_ones(backlog):
    message = error(backlog.list, "jria:PROJ-12")
    assert "unknown attribute 'jria'" in message and "did you mean 'jira'?" in message
    assert "estimate" in message and "project" in message
    assert "unknown attribute 'sprint'" in error(backlog.list, "sprint:5")


def test_a_uda_filter_is_an_error_once_no_task_has_it(backlog):
    backlog.modify("1", extra="jira:")
    assert "unknown attribute 'jira'" in error(backlog.list, "jira:PROJ-12")


# -- setting and clearing -------------------------------------------------------------------

def test_modify_sets_and_clears_a_uda_some_task_has(backlog):
    assert backlog.modify("2", extra="jira:PROJ-13")["ids"] == [2]
    assert backlog.info(2)["task"]["jira"] == "PROJ-13"
    backlog.modify("1", extra="jira:")
    assert "jira" not in backlog.info(1)["task"]


def test_a_numeric_uda_takes_numbers_only(backlog):
    backlog.modify("3", extra="estimate:4")
    backlog.modify("2", extra="estimate:0.5")
    assert (backlog.info(3)["task"]["estimate"], backlog.info(2)["task"]["estimate"]) == (4, 0.5)
    assert error(backlog.modify, "3", extra="estimate:lots") == (
        "estimate: 'lots' is not a number; the tasks that have estimate hold numbers, e.g. estimate:3")


def test_add_takes_a_known_uda_in_extra(backlog):
    task = backlog.add("New", extra="+x jira:PROJ-20 estimate:1")["task"]
    assert (backlog.info(task["id"])["task"]["jira"], backlog.info(task["id"])["task"]["estimate"]) == ("PROJ-20", 1)


@pytest.mark.parametrize("extra, start", [
    ("sprint:5", "extra: cannot use 'sprint:5'"),  # no task has a UDA 'sprint'
    ("priorty:H", "extra: cannot use 'priorty:H'; did you mean 'priority'?"),  # a typo of a field
    ("jirra:X", "extra: cannot use 'jirra:X'; did you mean 'jira'?"),  # a typo of a UDA
])
def test_extra_refuses_a_name_no_task_has(backlog, extra, start):
    assert error(backlog.modify, "1", extra=extra).startswith(start)
    assert error(backlog.add, "New", extra=extra).startswith(start)


def test_history_shows_uda_changes(backlog):
    backlog.modify("1", extra="jira:PROJ-99")
    assert backlog.history(1)["entries"][-1]["changes"]["jira"] == ["PROJ-12", "PROJ-99"]


def test_a_recurrence_instance_inherits_the_template_udas(backlog):
    added = backlog.add("Weekly report", due="2026-11-30", recur="weekly", extra="jira:OPS-1")
    instance = backlog.list("jira:OPS-1 +INSTANCE", fields="id")["tasks"]
    assert len(instance) == 1 and instance[0]["id"] != added["task"]["id"]


# -- export and validation ------------------------------------------------------------------

def test_export_gives_udas_back_unchanged(backlog):
    exported = {t["description"]: t for t in backlog.export("")}
    assert (exported["Fix login"]["jira"], exported["Fix login"]["wake"]) == ("PROJ-12", "20270101T000000Z")
    assert type(exported["Fix login"]["estimate"]) is int and exported["Write docs"]["estimate"] == 2.5
    assert "jira" not in exported["Plain task"]


@pytest.mark.parametrize("key, value, problem", [
    ("jira", "", "jira: is empty"),
    ("jira", ["a"], "jira: a UDA holds text or a number, got list"),
    ("estimate", float("nan"), "estimate: a UDA number must be finite"),
    ("estimate", 2**60, "estimate: a UDA number must be finite"),  # beyond a double's exact integers
    ("urgency", 1.0, "urgency: is not a task field"),
])
def test_check_task_validates_uda_values(key, value, problem):
    task = {"uuid": UUID, "description": "a", "status": "pending", key: value}
    with pytest.raises(BacklogError) as caught:
        check_task(task)
    assert str(caught.value).startswith(problem)


# -- the CLI -------------------------------------------------------------------------------

def test_the_cli_sets_filters_and_exports_udas(clean_env, store_dir):
    env = {**clean_env, "TASKDATA": str(store_dir)}

    def ok(*args: str, stdin: str | None = None) -> str:
        result = run_backlog(list(args), env, stdin)
        assert result.returncode == 0, result.stderr
        return result.stdout

    ok("import", stdin=orjson.dumps(IMPORTED).decode())
    assert ok("modify", "2", "jira:DOC-1", "estimate:4") == "modified 1 task\n"
    assert ok("add", "New", "thing", "jira:NEW-1") == "added task 4\n"
    assert [t["id"] for t in orjson.loads(ok("list", "jira.startswith:doc", "--json"))["tasks"]] == [2]
    assert f"{'jira':<11} NEW-1" in ok("info", "4")  # a row of the info card
    exported = {t["id"]: t for t in orjson.loads(ok("export"))}
    assert (exported[2]["jira"], exported[2]["estimate"], exported[4]["description"]) == ("DOC-1", 4, "New thing")
    refused = run_backlog(["modify", "1", "priorty:H"], env)
    assert refused.returncode == 1
    assert refused.stderr.startswith("backlog: extra: cannot use 'priorty:H'; did you mean 'priority'?")
    assert ok("add", "Meet", "at:", "noon") == "added task 5\n"  # a word no attribute is near stays text
