"""Urgency (SPEC §9), term by term; coefficients and curve as Taskwarrior 2.6.2 computes them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from backlog.store.view import Context
from backlog.core.model import format_utc
from backlog.core.urgency import scorer, urgencies, urgency

NOW = datetime(2026, 11, 24, 10, 14, 53, tzinfo=timezone.utc)
UTC = timezone.utc
OTHER = "00000000-0000-4000-8000-0000000000ff"


def at(**delta: float) -> str:
    return format_utc(NOW + timedelta(**delta))


def score(extra_tasks: tuple[dict, ...] = (), **fields) -> float:
    """Urgency of one task created now (age 0) with `fields`, next to `extra_tasks`."""
    task = {"id": 1, "uuid": "00000000-0000-4000-8000-000000000001", "description": "t", "status": "pending",
            "entry": format_utc(NOW), **fields}
    store = {t["uuid"]: t for t in (task, *extra_tasks)}
    return urgency(task, Context(store, NOW, UTC))


PENDING_OTHER = {"id": 2, "uuid": OTHER, "description": "o", "status": "pending", "entry": format_utc(NOW)}


@pytest.mark.parametrize("fields, expected", [
    ({}, 0.0),  # nothing set, age 0
    ({"project": "web"}, 1.0),  # project 1
    ({"tags": ["a"]}, 0.8),  # tags 1 × 0.8
    ({"tags": ["a", "b"]}, 0.9),  # tags 1 × 0.9
    ({"tags": ["a", "b", "c"]}, 1.0),  # tags 1 × 1.0
    ({"tags": ["a", "b", "c", "d"]}, 1.0),  # capped
    ({"tags": ["next"]}, 15.8),  # next 15 + one tag
    ({"annotations": [{"entry": format_utc(NOW), "description": "x"}]}, 0.8),  # annotations 1 × 0.8
    ({"annotations": [{"entry": format_utc(NOW), "description": "x"}] * 2}, 0.9),
    ({"annotations": [{"entry": format_utc(NOW), "description": "x"}] * 5}, 1.0),
    ({"priority": "H"}, 6.0),
    ({"priority": "M"}, 3.9),
    ({"priority": "L"}, 1.8),
    ({"start": at(hours=-1)}, 4.0),  # active 4
    ({"scheduled": at(seconds=-1)}, 5.0),  # scheduled in the past 5
    ({"scheduled": at()}, 0.0),  # scheduled == now: Taskwarrior needs < now
    ({"scheduled": at(days=1)}, 0.0),  # scheduled later: nothing
    ({"wait": at(days=1)}, -3.0),  # waiting -3
    ({"wait": at(days=-1)}, 0.0),  # wait passed: not waiting
    ({"wait": at(days=1), "start": at(hours=-1)}, 1.0),  # active counts while waiting
    ({"due": at(days=30)}, 2.4),  # far ahead: 0.2 × 12
    ({"due": at(days=14)}, 2.4),  # 14 days ahead: 0.2 × 12
    ({"due": at(days=7)}, 5.6),  # (7 × 0.8 / 21 + 0.2) × 12
    ({"due": at()}, 8.8),  # due now: (14 × 0.8 / 21 + 0.2) × 12
    ({"due": at(days=-3.5)}, 10.4),  # (17.5 × 0.8 / 21 + 0.2) × 12
    ({"due": at(days=-7)}, 12.0),  # 7 days overdue: 1.0 × 12
    ({"due": at(days=-100)}, 12.0),  # capped
    ({"due": at(days=3.25)}, 7.3143),  # checked against `task export`
    ({"entry": at(days=-10.5)}, 0.0548),  # whole days: 2 × 10 / 365 (Taskwarrior truncates)
    ({"entry": at(days=-10.4)}, 0.0548),
    ({"entry": at(days=-365)}, 2.0),  # one year: the cap
    ({"entry": at(days=-400)}, 2.0),
    ({"entry": at(days=-364, hours=-23)}, 2 * 364 / 365),
    ({"entry": at(days=10)}, -0.0548),  # entry in the future: negative age, as Taskwarrior
    ({"entry": at(days=10, hours=1)}, -0.0548),  # ... truncated towards zero (-10.04 days → -10)
    ({"entry": at(hours=20)}, 0.0),  # less than a day ahead: 0
    ({"depends": [OTHER]}, -5.0),  # blocked -5 (blocked by a pending task)
])
def test_urgency_term(fields, expected):
    assert score((PENDING_OTHER,), **fields) == pytest.approx(expected, abs=1e-4)


def test_missing_entry_counts_as_old():
    task = {"id": 1, "uuid": OTHER, "description": "t", "status": "pending"}
    assert urgency(task, Context({OTHER: task}, NOW, UTC)) == 2.0  # Taskwarrior: age factor 1.0


def test_blocking_adds_eight():
    blocker = {"id": 2, "uuid": OTHER, "description": "o", "status": "pending", "entry": format_utc(NOW)}
    dependent = {"id": 3, "uuid": "00000000-0000-4000-8000-000000000003", "description": "d",
                 "status": "pending", "entry": format_utc(NOW), "depends": [OTHER]}
    ctx = Context({t["uuid"]: t for t in (blocker, dependent)}, NOW, UTC)
    assert urgency(blocker, ctx) == 8.0
    assert urgency(dependent, ctx) == -5.0


@pytest.mark.parametrize("status", ["completed", "deleted"])
def test_closed_dependencies_neither_block_nor_make_blocking(status):
    closed = {**PENDING_OTHER, "status": status, "end": format_utc(NOW)}
    assert score((closed,), depends=[OTHER]) == 0.0
    assert score(({**PENDING_OTHER, "depends": ["00000000-0000-4000-8000-000000000001"], "status": status},)) == 0.0


def test_archived_dependency_is_resolved():
    assert score(depends=["00000000-0000-4000-8000-00000000dead"]) == 0.0


def test_recurring_dependency_blocks():
    template = {**PENDING_OTHER, "status": "recurring", "recur": "weekly", "due": at(days=3)}
    assert score((template,), depends=[OTHER]) == -5.0


@pytest.mark.parametrize("status", ["completed", "deleted", "recurring"])
def test_only_pending_tasks_have_urgency(status):
    assert score(status=status, priority="H", tags=["next"], due=at(days=-10), project="x") == 0.0


def test_terms_add_up_like_taskwarrior():
    # the `task export` value of "waiting started blocked": wait -3 + active 4 + blocked -5
    assert score((PENDING_OTHER,), wait=at(days=26), start=at(), depends=[OTHER]) == pytest.approx(-4.0)
    everything = score(
        (PENDING_OTHER,), project="p", tags=["next", "b"], priority="H", due=at(days=-7), entry=at(days=-400),
        start=at(hours=-1), scheduled=at(days=-1), annotations=[{"entry": format_utc(NOW), "description": "n"}] * 3,
    )
    assert everything == pytest.approx(1 + 0.9 + 15 + 6 + 12 + 2 + 4 + 5 + 1)


def test_urgency_rises_monotonically_with_overdueness():
    values = [score(due=at(hours=hours)) for hours in range(30 * 24, -30 * 24, -5)]
    assert values == sorted(values)
    assert values[0] == pytest.approx(2.4) and values[-1] == pytest.approx(12.0)


def test_loop_closure_and_single_task_forms_agree():
    tasks = [
        {"id": i, "uuid": f"00000000-0000-4000-8000-{i:012x}", "description": "t", "status": "pending",
         "entry": at(days=-i * 7.3), "due": at(days=20 - i * 1.7), **({"tags": ["next"]} if i % 3 == 0 else {})}
        for i in range(1, 30)
    ]
    ctx = Context({t["uuid"]: t for t in tasks}, NOW, UTC)
    one = scorer(ctx)
    assert urgencies(tasks, ctx) == [one(t) for t in tasks] == [urgency(t, ctx) for t in tasks]


def test_a_view_scores_each_task_object_once_and_a_changed_task_again():
    tasks = {u: {"uuid": u, "id": i, "status": "pending", "entry": at(days=-10), "description": u}
             for i, u in enumerate(("a", "b"), 1)}
    ctx = Context(tasks, NOW, timezone.utc)
    first = ctx.urgencies(list(tasks.values()))
    assert first == urgencies(list(tasks.values()), ctx)
    assert ctx.urgencies([tasks["b"], tasks["a"]]) == first[::-1]
    tasks["a"] = {**tasks["a"], "priority": "H"}  # the store replaces a changed task's object
    again = ctx.urgencies(list(tasks.values()))
    assert again[0] > first[0] and again[0] == urgency(tasks["a"], ctx) and again[1] == first[1]
