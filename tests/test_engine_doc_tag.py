"""The tag `doc` is derived from has_doc: only task_doc_write adds it, only task_doc_delete
removes it, and no sequence of use cases makes `+doc` and has_doc disagree."""

from __future__ import annotations

import itertools
from datetime import timedelta, timezone

import orjson
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from backlog.engine.backlog import Backlog
from backlog.errors import BacklogError
from backlog.store.store import Store
from tests.conftest import NOW, error

IGNORED = "; ignored tag doc: task_doc_write adds it with a doc"
REFUSED = "tags: 'doc' follows the task's doc and cannot be removed by hand; delete the doc with task_doc_delete"


@pytest.fixture
def backlog(store_dir) -> Backlog:
    return Backlog(Store.open(store_dir), tz=timezone.utc, clock=lambda: NOW, agent="tester")




@pytest.mark.parametrize("call, kwargs", [
    ("add", {"tags": "x,doc"}),
    ("add", {"tags": '["doc", "x"]'}),
    ("add", {"extra": "+x +doc"}),
    ("log", {"tags": "doc,x"}),
    ("log", {"extra": "+doc +x"}),
])
def test_creating_with_the_doc_tag_ignores_it_and_says_so(backlog, call, kwargs):
    result = getattr(backlog, call)("a", **kwargs)
    assert result["task"]["tags"] == ["x"] and "has_doc" not in result["task"]
    assert result["message"].endswith(IGNORED)


def test_duplicate_with_the_doc_tag_ignores_it_and_says_so(backlog):
    backlog.add("a", tags="x")
    result = backlog.duplicate("1", extra="+doc +y")
    assert result["task"]["tags"] == ["x", "y"]  # the source's tags plus the added one
    assert IGNORED in result["message"]


def test_modify_adding_the_doc_tag_changes_nothing_and_says_so(backlog):
    backlog.add("a", tags="x")
    result = backlog.modify("1", tags="+doc")
    assert result == {"message": "modified 0 tasks (1 already matched)" + IGNORED, "ids": []}
    assert backlog.info("1")["task"]["tags"] == ["x"]


@pytest.mark.parametrize("kwargs", [{"tags": "-doc"}, {"tags": "+y,-doc"}, {"extra": "-doc"}])
def test_removing_the_doc_tag_by_hand_is_refused(backlog, kwargs):
    backlog.add("a")
    backlog.doc_write("1", "# Plan")
    assert error(backlog.modify, "1", **kwargs) == REFUSED
    assert backlog.info("1")["task"]["tags"] == ["doc"]


def test_removing_the_doc_tag_on_add_is_refused(backlog):
    assert error(backlog.add, "a", extra="-doc") == REFUSED


def test_clearing_tags_keeps_the_doc_tag_of_a_task_with_a_doc(backlog):
    backlog.add("a", tags="x,y")
    backlog.add("b", tags="x")
    backlog.doc_write("1", "# Plan")
    assert backlog.modify("1,2", tags="")["ids"] == [1, 2]
    assert backlog.info("1")["task"]["tags"] == ["doc"] and backlog.info("1")["task"]["has_doc"] is True
    assert "tags" not in backlog.info("2")["task"]


def test_import_drops_a_user_doc_tag_and_says_so(backlog):
    tasks = [{"description": "a", "tags": ["doc", "x"]}, {"description": "b", "tags": "doc"}, {"description": "c"}]
    result = backlog.import_tasks(orjson.dumps(tasks).decode())
    assert result["message"] == "imported 3 tasks; dropped tag doc from tasks 1, 2 (task_doc_write adds it with a doc)"
    assert backlog.info("1")["task"]["tags"] == ["x"] and "tags" not in backlog.info("2")["task"]


def test_import_of_malformed_tags_is_still_a_one_line_error(backlog):
    assert error(backlog.import_tasks, '[{"description": "a", "tags": 5}]') == (
        "tasks[0].tags: expected an array of strings, got a number; use [\"a\",\"b\"] or \"a,b\"")


def test_reimporting_an_export_keeps_the_doc_tag_of_a_task_that_has_its_doc(backlog):
    backlog.add("a", tags="x")
    backlog.doc_write("1", "# Plan")
    result = backlog.import_tasks(orjson.dumps(backlog.export()).decode())
    assert result == {"message": "imported 0 tasks, 1 already present", "ids": []}
    assert backlog.info("1")["task"]["tags"] == ["x", "doc"]


# -- has_doc and +doc never disagree -----------------------------------------------------------

ids = st.integers(min_value=1, max_value=5).map(str)
tag_values = st.sampled_from(["doc", "x,doc", "+doc", "-doc", "", "+x,-y", "y", "=doc,y"])
use_case = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(["a", "b"]), st.fixed_dictionaries({"tags": tag_values})),
    st.tuples(st.just("add"), st.just("c"), st.fixed_dictionaries({"extra": st.sampled_from(["+doc", "-doc +x"])})),
    st.tuples(st.just("log"), st.just("d"), st.fixed_dictionaries({"tags": tag_values})),
    st.tuples(st.just("modify"), ids, st.fixed_dictionaries({"tags": tag_values})),
    st.tuples(st.just("modify"), ids, st.fixed_dictionaries({"extra": st.sampled_from(["+doc", "-doc", "+z"])})),
    st.tuples(st.just("duplicate"), ids, st.sampled_from([{}, {"tags": "+doc"}, {"tags": ""}])),
    st.tuples(st.just("doc_write"), ids, st.just("# doc")), st.tuples(st.just("doc_delete"), ids),
    st.tuples(st.just("done"), ids), st.tuples(st.just("undo")),
    st.tuples(st.just("import_tasks"), st.just('[{"description": "imported", "tags": ["doc", "x"]}]')),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=st.lists(use_case, min_size=1, max_size=12))
def test_has_doc_and_the_doc_tag_never_disagree(tmp_path_factory, cases):
    ticks = itertools.count()
    backlog = Backlog(Store.open(tmp_path_factory.mktemp("data")), tz=timezone.utc,
                      clock=lambda: NOW + timedelta(minutes=next(ticks)))
    for name, *args in cases:
        kwargs = args.pop() if args and isinstance(args[-1], dict) else {}
        try:
            getattr(backlog, name)(*args, **kwargs)
        except BacklogError:
            pass
        for task in backlog.store.tasks.values():
            assert ("doc" in task.get("tags", ())) == (task.get("has_doc") is True) == (task["uuid"] in backlog.store.docs)
