"""Bounded fuzzing of filters, dates, `extra`, import and every tool's arguments.

Each case asserts: a result or one error line `<param>: …` (never `internal:`), and work
linear in the input, counted as tokens, AST nodes or generated program size, never timed.
Hypothesis runs a fixed number of examples with no deadline, so the runs are repeatable.
"""

from __future__ import annotations

import json
import shlex
from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from backlog.core.dates import parse_date
from backlog.core.edits import parse_extra, split_words
from backlog.core.filter import compile_filter, parse_filter
from backlog.core.limits import EARLIEST, LATEST
from backlog.store.view import Context
from backlog.engine.backlog import Backlog
from backlog.errors import BacklogError
from backlog.mcp.lines import failure_line
from backlog.store.store import Store
from tests.conftest import NOW
from tests.server_support import McpServer, server_env

FUZZ = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ZONES = [timezone.utc, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Etc/GMT+12")]
WORDS = [
    "(", ")", "and", "or", "xor", "not", "!", "+bug", "-bug", "+OVERDUE", "-WAITING", "+WEEK", "+YEAR", "+DUE",
    "project:web", "project.not:", "due:9999-12-30", "due.before:eoy", "due.after:later", "due:9999-12-31",
    "due.before:1000-01-01", "due:0001-01-01", "due.by:+10000y", "scheduled.after:now-3d", "urgency.over:3",
    "description.has:a", "3", "1-5", "deadbeef", "uuid:1111", "id:2", "'quoted'", '"', "'", "status:pending",
    "tags.any:", "jira:x", "next", "week", "in", "3", "days", "+", "<", "😀", "\x00", "a" * 50, "due:",
]
TASKS = [  # a small store's worth, with dates at both ends of the storable range
    {"uuid": "11111111-1111-4111-8111-111111111111", "id": 1, "description": "a far", "status": "pending",
     "entry": "2026-01-01T00:00:00Z", "due": "9999-12-30T00:00:00Z", "tags": ["bug"], "project": "web"},
    {"uuid": "22222222-2222-4222-8222-222222222222", "id": 2, "description": "early", "status": "pending",
     "entry": "1000-01-01T00:00:00Z", "due": "1000-01-01T00:00:00Z", "scheduled": "9999-12-30T00:00:00Z",
     "depends": ["11111111-1111-4111-8111-111111111111"]},
    {"uuid": "33333333-3333-4333-8333-333333333333", "id": 3, "description": "done", "status": "completed",
     "entry": "2026-01-01T00:00:00Z", "end": "9999-12-30T00:00:00Z", "wait": "9999-12-30T00:00:00Z"},
]


def one_line(error: BacklogError) -> str:
    """The line the server answers for `error` (failure_line folds blanks and control line breaks)."""
    line = failure_line(error)
    assert "\n" not in line and not line.startswith("internal:")
    return line


def count_nodes(node) -> int:
    """The AST's node count, by its printed form (each node prints one opening parenthesis)."""
    return str(node).count("(")


@FUZZ
@given(st.lists(st.sampled_from(WORDS), max_size=40), st.sampled_from(ZONES))
def test_any_filter_compiles_and_runs_or_is_one_filter_line(words, zone):
    text = " ".join(words)
    ctx = Context({t["uuid"]: t for t in TASKS}, NOW, zone, frozenset())
    try:
        found = compile_filter(text, NOW, zone, udas=lambda: {"jira"})
    except BacklogError as error:
        assert one_line(error).startswith("filter: ")
        return
    found.select(ctx)
    assert count_nodes(found.ast) <= 2 * len(words) + 3  # AST linear in the tokens
    assert len(found.source) <= 1_000 * (len(words) + 2)  # the program compile and select run through


@FUZZ
@given(st.text(alphabet="ab()!:+- \"'\\xyz.", max_size=120))
def test_any_text_is_a_filter_or_one_filter_line(text):
    try:
        ast = parse_filter(text)
    except BacklogError as error:
        assert one_line(error).startswith("filter: ")
        return
    assert count_nodes(ast) <= 2 * len(text) + 2


@FUZZ
@given(st.text(alphabet="ab '\"\\\t\n:+-", max_size=60))
def test_extra_splits_as_shlex_does(text):
    try:
        expected = shlex.split(text)
    except ValueError:
        with pytest.raises(ValueError):
            split_words(text)
        return
    assert split_words(text) == expected


@FUZZ
@given(st.text(max_size=80))
def test_any_extra_is_read_or_one_extra_line(text):
    try:
        parse_extra(text, lambda: {"jira": "text"})
    except BacklogError as error:
        assert one_line(error).startswith(("extra: ", "tags: ", "depends: "))


@FUZZ
@given(st.one_of(st.sampled_from(["later", "9999-12-30", "9999-12-31", "later+1d", "1000-01-01", "eoy", "now+8000y",
                                  "0999-12-31T23:59:59Z", "9999-12-29T23:00-14:00", "-3000y"]),
                 st.text(alphabet="0123456789-+:TZ dywmhlater", max_size=30)),
       st.sampled_from(ZONES), st.integers(min_value=-374_000, max_value=2_911_000))  # now within the storable range
def test_any_date_is_storable_or_one_line(text, zone, days):
    now = NOW + timedelta(days=days)
    try:
        moment = parse_date(text, now, zone, "due")
    except BacklogError as error:
        assert one_line(error).startswith("due: ")
        return
    assert EARLIEST <= moment <= LATEST


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12),
              st.sampled_from(["9999-12-31T00:00:00Z", "99991231T000000Z", "0001-01-01T00:00:00+14:00", "later",
                               "11111111-1111-4111-8111-111111111111", "periodic", "weekly", "pending", "H"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6,
)
FIELDS = ["description", "uuid", "status", "project", "tags", "priority", "due", "scheduled", "wait", "until", "recur",
          "start", "end", "entry", "agent", "depends", "parent", "annotations", "origin", "rtype", "jira", "id"]


@settings(FUZZ, max_examples=100)
@given(st.lists(st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=6), min_size=1, max_size=3))
def test_any_import_is_taken_or_one_line(store_dir, tasks):
    backlog = Backlog(Store.open(store_dir), tz=ZoneInfo("Pacific/Kiritimati"), clock=lambda: NOW)
    for task in tasks:
        task.setdefault("description", "fuzzed")
    try:
        backlog.import_tasks(json.dumps(tasks))
    except BacklogError as error:
        one_line(error)  # most name tasks[n].field; a bad recur still says just 'recur' (engine/exchange.py)
        return
    backlog.list("status:pending or status:completed or status:deleted or status:recurring", fields="all")
    backlog.export()


# -- the real server over stdio ------------------------------------------------------------

HOSTILE = [  # sent to every string parameter
    "(" * 5000, "not " * 300 + "a", " xor ".join(["a"] * 300), " ".join(["w"] * 2_000), "x" * 20_000,
    "due:9999-12-31", "due.before:0001-01-01", "9999-12-31", "later+1d", "0001-01-01T00:00:00+14:00",
    '+a "unclosed', "\\", "\u202e\u0000",
    json.dumps([{"description": "a", "project": 5, "tags": [{}], "origin": 3}]),
    json.dumps([{"description": "a", "due": "9999-12-31T23:59:59Z"}]),
]
LARGE = {  # past a limit, sent only where the limit applies
    ("task_list", "filter"): [" ".join(["w"] * 20_000), "x" * 200_000],
    ("task_add", "extra"): ["+" * 70_000, "depends:" + ",".join(["1"] * 40_000)],
    ("task_import", "tasks"): ["[" * 100_000, json.dumps([{"description": f"t{i}"} for i in range(10_001)])],
}


def test_hostile_arguments_never_answer_internal(tmp_path):
    """Every string parameter of every tool, hostile text: a result or one error line, never `internal:`."""
    with McpServer(server_env(tmp_path)) as server:
        server.ok("task_add", {"description": "seed", "due": "later"})
        calls = 0
        for spec in server.list_tools():
            required = {name: "1" for name in spec.input_schema.get("required", [])}
            for param, schema in spec.input_schema["properties"].items():
                if "string" not in json.dumps(schema):
                    continue
                for value in HOSTILE + LARGE.get((spec.name, param), []):
                    result = server.call(spec.name, {**required, param: value})
                    calls += 1
                    texts = [block.text for block in result.content]
                    assert len(texts) == 1, (spec.name, param)
                    if result.is_error:
                        assert "\n" not in texts[0] and ": " in texts[0], (spec.name, param, texts)
                        assert not texts[0].startswith(("Error executing", "internal:")), (spec.name, param, texts)
        assert calls > 100
        assert server.ok("task_info", {"id": 1})["task"]["due"] == "9999-12-30T00:00:00Z"
