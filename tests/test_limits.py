"""The documented input limits (core.limits): each answered with one line, each bound linear.

Costs are asserted as operation counts (edges followed, tokens), never as times.
"""

from __future__ import annotations

from datetime import timezone
from zoneinfo import ZoneInfo

import orjson
import pytest

from backlog.core.edits import find_cycles, parse_extra
from backlog.core.filter import compile_filter
from backlog.core.limits import MAX_EXTRA_BYTES, MAX_FILTER_CHARS, MAX_FILTER_NESTING, MAX_FILTER_TERMS, MAX_IMPORT_TASKS
from backlog.core.model import check_stored_date
from backlog.engine.backlog import Backlog
from backlog.store.store import Store
from tests.conftest import NOW, error

UTC = timezone.utc
EDGE_ZONES = ("Pacific/Kiritimati", "Etc/GMT+12")  # UTC+14 and UTC−12


@pytest.fixture
def backlog(store_dir) -> Backlog:
    return Backlog(Store.open(store_dir), tz=UTC, clock=lambda: NOW, agent="tester")




def filter_error(text: str) -> str:
    return error(compile_filter, text, NOW, UTC)


# -- filters ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "a" * MAX_FILTER_CHARS,  # longest text
    " ".join(f"w{i}" for i in range(MAX_FILTER_TERMS)),  # most terms
    "(" * MAX_FILTER_NESTING + "a" + ")" * MAX_FILTER_NESTING,  # deepest parentheses
    "not " * MAX_FILTER_NESTING + "a",  # longest not chain
    " xor ".join(["a"] * (MAX_FILTER_NESTING + 1)),  # longest xor chain
    "( not a xor " * (MAX_FILTER_NESTING // 3) + "b" + " )" * (MAX_FILTER_NESTING // 3),  # mixed, at the bound
])
def test_filter_at_each_limit_compiles(text):
    compile_filter(text, NOW, UTC)


@pytest.mark.parametrize("text, fragment", [
    ("a" * (MAX_FILTER_CHARS + 1), "filter: is 10,001 chars, the limit is 10,000;"),
    (" ".join(["w"] * (MAX_FILTER_TERMS + 1)), "filter: is 1,001 terms, the limit is 1,000;"),
    ("(" * 65 + "a" + ")" * 65, "filter: nests deeper than 64 levels at '(' at 65;"),
    ("(" * 4000 + "a" + ")" * 4000, "filter: nests deeper than 64 levels at '(' at 65;"),  # was a RecursionError
    ("not " * 2000 + "a", "filter: nests deeper than 64 levels at 'not' at 257;"),
    ("! " * 100 + "a", "filter: nests deeper than 64 levels at '!' at 129;"),
    (" xor ".join(["a"] * 66), "filter: nests deeper than 64 levels at 'xor'"),
    ("due:9999-12-31", "filter: cannot read date '9999-12-31' in 'due:9999-12-31' at 1 (out of range)"),
    ("due.before:0999-12-31", "(out of range)"),
])
def test_filter_past_a_limit_is_one_line(text, fragment):
    assert fragment in filter_error(text)


def test_filter_program_grows_linearly_with_terms():
    """The generated program (what compile and evaluation work through) is linear in the terms."""
    sizes = [len(compile_filter(" or ".join(f"project:p{i} +t{i}" for i in range(n)), NOW, UTC).source)
             for n in (100, 200, 400)]
    assert sizes[2] - sizes[1] == 2 * (sizes[1] - sizes[0])


# -- dates at the ends of the range ---------------------------------------------------------

@pytest.mark.parametrize("value", ["9999-12-30T00:00:01Z", "0999-12-31T23:59:59Z", "2026-02-30T00:00:00Z"])
def test_stored_date_outside_the_range_is_refused(value):
    assert error(check_stored_date, "due", value).startswith(f"due: '{value}' is ")


@pytest.mark.parametrize("value", ["9999-12-31", "+8000y"])
def test_date_past_later_is_refused_on_add(backlog, value):
    assert "out of range" in error(backlog.add, "x", due=value)


@pytest.mark.parametrize("zone", EDGE_ZONES)
def test_latest_dates_read_in_every_zone(store_dir, zone):
    """A task at the last storable instant lists, filters, sorts, shows and exports east and west of UTC."""
    writer = Backlog(Store.open(store_dir), tz=UTC, clock=lambda: NOW)
    writer.add("far", due="later", scheduled="later", wait="later")
    writer.import_tasks('[{"description": "edge", "due": "9999-12-30T00:00:00Z", "until": "9999-12-30T00:00:00Z"}]')
    writer.add("early", due="1000-01-01T00:00:00Z")
    reader = Backlog(Store.open(store_dir), tz=ZoneInfo(zone), clock=lambda: NOW)
    for text in ("+WEEK", "due.before:eoy", "due:later", "+YEAR or +QUARTER or +MONTH", "+OVERDUE", "+WAITING",
                 "due.after:9999-12-29", "+TODAY or +TOMORROW or +YESTERDAY", "status:pending"):
        reader.list(text, sort="due+,scheduled-,until+", fields="all")
    assert [t["id"] for t in reader.list("status:pending", sort="due-")["tasks"]] == [1, 2, 3]
    for task_id in (1, 2, 3):
        reader.info(task_id)
    assert len(reader.export()) == 3


# -- import -----------------------------------------------------------------------------------

@pytest.mark.parametrize("task, fragment", [
    ({"project": 5}, "tasks[0].project: expected a string, got a number;"),
    ({"depends": {"a": 1}}, "tasks[0].depends: expected an array of strings, got an object;"),
    ({"tags": [{}]}, "tasks[0].tags: expected an array of strings, got an array;"),
    ({"origin": 3}, "tasks[0].origin: expected a string, got a number;"),
    ({"agent": 5}, "tasks[0].agent: expected a string, got a number;"),
    ({"recur": 5}, "tasks[0].recur: expected a string, got a number;"),
    ({"parent": True}, "tasks[0].parent: expected a string, got a boolean;"),
    ({"status": ["pending"]}, "tasks[0].status: expected a string, got an array;"),
    ({"annotations": "x"}, "tasks[0].annotations: expected an array of annotations, got a string;"),
    ({"annotations": [{"description": 5}]}, "tasks[0].annotations: each needs 'entry' and a 'description' string;"),
    ({"due": "0001-01-01T00:00:00+14:00"}, "tasks[0].due: cannot read date"),  # was an OverflowError
    ({"due": "9999-12-31T23:00:00Z"}, "tasks[0].due: '9999-12-31T23:00:00Z' is out of range;"),
    ({"entry": "20261301T000000Z"}, "tasks[0].entry: cannot read date"),
])
def test_import_field_of_the_wrong_type_is_one_line(backlog, task, fragment):
    assert fragment in error(backlog.import_tasks, orjson.dumps([{"description": "a", **task}]).decode())


def test_import_past_the_task_limit_is_refused(backlog):
    text = orjson.dumps([{"description": f"t{i}"} for i in range(MAX_IMPORT_TASKS + 1)]).decode()
    assert error(backlog.import_tasks, text) == "tasks: holds more than 10,000 tasks; import them in batches of at most 10,000"
    assert backlog.count("status:pending")["count"] == 0


# -- extra --------------------------------------------------------------------------------------

def test_extra_at_the_limit_is_read(backlog):
    tags = " ".join(f"+t{i}" for i in range(MAX_EXTRA_BYTES // 8))
    backlog.add("x", extra=tags + " " * (MAX_EXTRA_BYTES - len(tags)))


def test_extra_past_the_limit_is_one_line():
    assert parse_extra_error("+a" + " " * MAX_EXTRA_BYTES) == (
        "extra: is 65,538 bytes, the limit is 65,536; put long text in the doc (task_doc_write) or split the change")


def parse_extra_error(text: str) -> str:
    return error(parse_extra, text)


# -- dependency cycles -------------------------------------------------------------------------

def counting(graph: dict[str, list[str]]):
    """`depends_of` over `graph` and the list of nodes it was asked for."""
    asked: list[str] = []

    def depends_of(node: str) -> list[str]:
        asked.append(node)
        return graph.get(node, [])
    return depends_of, asked


def test_cycle_check_of_a_batch_visits_each_task_once():
    n = 10_000
    chain = {f"t{i}": [f"t{i + 1}"] for i in range(n - 1)}
    depends_of, asked = counting(chain)
    assert find_cycles(list(chain), depends_of) is None
    assert len(asked) == n


def test_cycle_check_names_the_cycle():
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}
    depends_of, asked = counting(graph)
    assert find_cycles(["d"], depends_of) == ["a", "b", "c", "a"]
    assert len(asked) == 4
