"""Sorting task lists (SPEC §4 task_list `sort`)."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from backlog.errors import BacklogError
from backlog.store.view import Context
from backlog.core.sort import SORT_FIELDS, parse_sort, sort_tasks
from backlog.core.urgency import urgency

NOW = datetime(2026, 11, 24, 10, 14, 53, tzinfo=timezone.utc)
UTC = timezone.utc


def make(n: int, **fields) -> dict:
    return {"id": n, "uuid": f"00000000-0000-4000-8000-{n:012x}", "description": f"task {n}",
            "status": "pending", "entry": "2026-11-01T00:00:00Z", **fields}


def order(tasks: list[dict], sort: str | None, limit: int | None = None) -> list[int]:
    ctx = Context({t["uuid"]: t for t in tasks}, NOW, UTC)
    return [t["id"] for t in sort_tasks(tasks, parse_sort(sort), ctx, limit)]


@pytest.mark.parametrize("text, keys", [
    (None, [("urgency", True), ("id", False)]),  # default urgency-,id+
    ("", [("urgency", True), ("id", False)]),  # blank = default
    ("due+,priority-", [("due", False), ("priority", True)]),
    ("due", [("due", False)]),  # no suffix: ascending
    (" due + , id - ", [("due", False), ("id", True)]),  # blanks tolerated
    ("urgency-", [("urgency", True)]),
    ("project+,", [("project", False)]),  # trailing comma
])
def test_parse_sort(text, keys):
    assert parse_sort(text) == keys


@pytest.mark.parametrize("text, message", [
    ("prio-", "sort: unknown field 'prio'; did you mean 'priority'? use one of " + ", ".join(SORT_FIELDS)),
    ("annotations", "sort: cannot sort by 'annotations'; use one of " + ", ".join(SORT_FIELDS)),
    ("zzz", "sort: unknown field 'zzz'; use one of " + ", ".join(SORT_FIELDS)),
])
def test_parse_sort_rejects_unknown_fields(text, message):
    with pytest.raises(BacklogError) as raised:
        parse_sort(text)
    assert str(raised.value) == message


DATED = [make(1, due="2026-12-01T00:00:00Z"), make(2), make(3, due="2026-11-25T00:00:00Z"),
         make(4, due="2026-12-01T00:00:00Z"), make(5)]


@pytest.mark.parametrize("tasks, sort, expected", [
    (DATED, "due+", [3, 1, 4, 2, 5]),  # absent last, ties keep input order
    (DATED, "due-", [1, 4, 3, 2, 5]),  # absent last in descending order too
    (DATED, "due+,id-", [3, 4, 1, 5, 2]),  # second key breaks ties
    ([make(1, priority="L"), make(2), make(3, priority="H"), make(4, priority="M")], "priority-", [3, 4, 1, 2]),
    ([make(1, priority="L"), make(2), make(3, priority="H"), make(4, priority="M")], "priority+", [1, 4, 3, 2]),
    ([make(1, project="web.ui"), make(2, project="Api"), make(3), make(4, project="web"), make(5, project="api")],
     "project+", [2, 5, 4, 1, 3]),  # case-insensitive, exact text breaks ties, absent last
    ([make(9), make(10), make(2)], "id+", [2, 9, 10]),  # numbers, not text
    ([make(9), make(10), make(2)], "id-", [10, 9, 2]),
    ([make(1, tags=["b"]), make(2, tags=["a", "z"]), make(3)], "tags+", [2, 1, 3]),
    ([make(1), make(2, has_doc=True)], "has_doc-", [2, 1]),
    ([make(1), make(2, priority="H"), make(3, tags=["next"]), make(4, priority="H")], None, [3, 2, 4, 1]),
])
def test_sort_tasks(tasks, sort, expected):
    assert order(tasks, sort) == expected


def test_urgency_sort_uses_urgency():
    tasks = [make(n, due=f"2026-11-{n + 10:02d}T00:00:00Z", priority="HML"[n % 3]) for n in range(1, 15)]
    ctx = Context({t["uuid"]: t for t in tasks}, NOW, UTC)
    expected = sorted(tasks, key=lambda t: (-urgency(t, ctx), t["id"]))
    assert order(tasks, "urgency-,id+") == [t["id"] for t in expected]


@pytest.mark.parametrize("seed", range(25))
def test_limited_sort_is_the_prefix_of_the_full_sort(seed):
    rng = random.Random(seed)
    tasks = [
        make(n, **{k: v for k, v in (
            ("priority", rng.choice(["H", "M", "L", None])),
            ("due", rng.choice([None, "2026-11-20T00:00:00Z", "2026-11-30T00:00:00Z", "2027-01-01T00:00:00Z"])),
            ("project", rng.choice([None, "a", "B", "c"])),
            ("tags", rng.choice([None, ["next"], ["x", "y"]])),
        ) if v is not None})
        for n in rng.sample(range(1, 500), 120)
    ]
    sort = rng.choice(["urgency-,id+", "priority-,due+", "project+,id-", "due-", "tags+,urgency+"])
    limit = rng.choice([1, 5, 20, 29])
    assert order(tasks, sort, limit) == order(tasks, sort)[:limit]


def test_limit_zero_or_large_returns_everything():
    tasks = [make(n) for n in range(1, 6)]
    assert order(tasks, "id-", 0) == [5, 4, 3, 2, 1]
    assert order(tasks, "id-", 50) == [5, 4, 3, 2, 1]
    assert order([], "id-", 5) == []


def test_top_n_accounts_for_age_when_cutting():
    # without age, 1 leads (1.8 vs 1.0); with age, 2 wins (1.0 + 2.0) and must not be cut early
    tasks = [make(1, priority="L", entry="2026-11-24T10:14:53Z"), make(2, project="p", entry="2025-01-01T00:00:00Z")]
    tasks += [make(n, entry="2026-11-24T10:14:53Z") for n in range(3, 40)]
    assert order(tasks, None, 1) == [2]
    assert order(tasks, None, 2) == [2, 1]


@pytest.mark.parametrize("seed", range(10))
def test_top_n_by_urgency_equals_full_sort_with_varied_ages(seed):
    rng = random.Random(seed)
    tasks = [
        make(n, entry=f"20{rng.choice(['25', '26'])}-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}T"
                      f"{rng.randint(0, 23):02d}:00:00Z",
             **({"priority": rng.choice("HML")} if rng.random() < 0.5 else {}),
             **({"tags": [rng.choice(["a", "b"])]} if rng.random() < 0.5 else {}))
        for n in range(1, 200)
    ]
    for limit in (1, 3, 10, 40):
        assert order(tasks, None, limit) == order(tasks, None)[:limit]
