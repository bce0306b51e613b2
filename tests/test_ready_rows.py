"""What the store keeps for big answers gives the same answers: `+READY` from the index's ranking
(store/ready.py), urgencies kept across calls (store/scores.py), cached rows (engine/render.py).

Property tests: after random transactions by two stores on one data dir (refresh, undo,
archive, compaction), at instants inside and past the bounds' horizon, the ranked top-n
equals the full scan and sort, the READY count equals the filter's, and the ranking equals
one built from scratch; at instants forward and back, on the steps of age, due, scheduled
and wait, kept urgencies equal fresh ones. Work is shown by counting the tasks a `+READY`
list examined.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings, strategies as st

from backlog.core.filter import compile_filter
from backlog.core.sort import parse_sort, sort_tasks
from backlog.core.urgency import urgencies
from backlog.engine import render
from backlog.engine.backlog import Backlog
from backlog.store.index import Index
from backlog.store.store import Store
from backlog.store.view import Context
from tests.conftest import NOW
from tests.test_store_index import STEP, run, store_with, task

RUNS = settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
LATER = (timedelta(0), timedelta(minutes=59), timedelta(hours=3), timedelta(days=40), timedelta(days=-3))


def scratch(store: Store, ctx: Context) -> dict:
    """The ranking a new index over the same tasks makes at the same instant, to the same horizon."""
    index = Index(store.tasks, store.ids)
    index.horizon = store.index().horizon
    fresh = Context(store.tasks, ctx.now, ctx.tz, index=lambda: index)
    ranked(fresh, 1)
    return index.ready.state()


def ranked(ctx: Context, limit: int) -> tuple[list[dict], int]:
    """`ctx.ready_top(limit)`, asked twice when it is the index's first (which answers None)."""
    return ctx.ready_top(limit) or ctx.ready_top(limit)


@RUNS
@given(st.lists(STEP, min_size=1, max_size=20), st.integers(1, 4), st.integers(0, len(LATER) - 1))
def test_the_ranked_ready_top_equals_the_full_scan_after_any_transactions(steps, limit, later):
    keys = parse_sort("urgency-,id+")
    with tempfile.TemporaryDirectory() as root:
        stores = [Store.open(root, compact_every=7), Store.open(root, compact_every=7)]
        try:
            for step in steps:
                for store in stores:  # keep both rankings live: every op goes the incremental way
                    Context(store.tasks, NOW, timezone.utc, index=store.index).ready_top(limit)
                run(stores[step[1]], step)
                for store in stores:
                    now = NOW + LATER[later]
                    ctx = Context(store.tasks, now, timezone.utc, index=store.index)
                    found, total = ranked(ctx, limit)
                    scan = Context(store.tasks, now, timezone.utc)
                    every = compile_filter("+READY", now, timezone.utc).select(scan)
                    assert total == len(every), step
                    assert sort_tasks(found, keys, ctx, limit) == sort_tasks(every, keys, scan)[:limit], step
                    assert store.index().ready.state() == scratch(store, ctx), step
        finally:
            for store in stores:
                store.close()


def test_a_ready_list_examines_only_the_tasks_that_can_reach_the_top(tmp_path):
    backlog = Backlog(Store.open(tmp_path), tz=timezone.utc, clock=lambda: NOW)
    for i in range(300):
        backlog.add(f"task {i}", project="web" if i % 3 else None, priority="H" if i % 50 == 0 else None)
    backlog.list("+READY", limit=5)  # a full scan: the next +READY list builds the ranking
    ctx = backlog.context()
    found, total = ranked(ctx, 5)
    assert total == 300
    assert ctx.examined < 100  # one chunk or two of the ranking, not all 300
    assert backlog.list("+READY", limit=5) == backlog.list("+READY status:pending", limit=5)


def test_ready_follows_blocking_waiting_and_scheduled_changes(tmp_path):
    backlog = Backlog(Store.open(tmp_path), tz=timezone.utc, clock=lambda: NOW)
    for i in range(6):
        backlog.add(f"task {i}")
    ids = lambda: [t["id"] for t in backlog.list("+READY", limit=3, sort="urgency-,id+")["tasks"]]  # noqa: E731

    def same() -> bool:
        """The ranked answer is the scan's, the ranking and urgencies kept so far are those made afresh."""
        ranked = backlog.list("+READY", limit=3)
        ctx, every = backlog.context(), list(backlog.store.tasks.values())
        kept = backlog.store.index().ready.state() == scratch(backlog.store, ctx)
        scored = ctx.urgencies(every) == urgencies(every, Context(backlog.store.tasks, NOW, timezone.utc))
        return kept and scored and ranked == backlog.list("+READY status:pending", limit=3)

    assert ids() == [1, 2, 3] and same()
    backlog.modify("2", depends="6")  # 6 now blocks 2: 6 gains the blocking term, 2 is not READY
    assert ids() == [6, 1, 3] and same()
    backlog.done("6")
    assert ids() == [1, 2, 3] and same()
    backlog.modify("1", wait="+2d")
    backlog.modify("3", scheduled="+1h")
    assert ids() == [2, 4, 5] and same()
    assert backlog.list("+READY")["total"] == 3


@RUNS
@given(st.lists(STEP, min_size=1, max_size=12))
def test_cached_rows_equal_rows_made_afresh(steps):
    with tempfile.TemporaryDirectory() as root:
        store = Store.open(root, compact_every=5)
        try:
            for step in steps:
                run(store, (*step[:1], 0, *step[2:]))
                ctx = Context(store.tasks, NOW, timezone.utc, index=store.index)
                every = list(store.tasks.values())
                for fields in (render.parse_fields(None), render.parse_fields("all", lambda: ctx.udas)):
                    cached = render.rows(every, ctx, fields)
                    afresh = render.rows(every, Context(store.tasks, NOW, timezone.utc), fields)
                    assert cached == afresh, step
        finally:
            store.close()



def test_the_rows_kept_per_set_of_fields_stop_at_the_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(render, "ROWS_KEPT", 3)  # a 75k-row list would keep ~30 MB of rows
    store = store_with([task(slot, "pending", "p", [], [], {}) for slot in range(6)], str(tmp_path))
    try:
        ctx = Context(store.tasks, NOW, timezone.utc, index=store.index)
        every, fields = list(store.tasks.values()), render.parse_fields(None)
        afresh = render.rows(every, Context(store.tasks, NOW, timezone.utc), fields)
        assert [render.rows(every, ctx, fields) for _ in range(3)] == [afresh] * 3
        assert len(store.index().rows[tuple(f for f in fields if f not in ("depends", "urgency"))]) == 3
    finally:
        store.close()


# Instants on and beside the steps of the tasks of test_store_index (entry 2026-11-01, due
# 2026-11-23 and 2027-03-01, scheduled 2026-12-24, wait 2027-01-01), forward and back.
INSTANTS = [NOW, NOW + timedelta(hours=1, microseconds=500), NOW - timedelta(days=2)] + [
    datetime.fromisoformat(text) for text in (
        "2026-11-24T23:59:59+00:00", "2026-11-25T00:00:00+00:00", "2026-11-30T00:00:00+00:00",
        "2026-11-30T00:00:01+00:00", "2026-12-24T00:00:00+00:00", "2026-12-24T00:00:01+00:00",
        "2027-01-01T00:00:00+00:00", "2027-02-15T00:00:00+00:00", "2027-02-15T07:13:00+00:00",
        "2027-11-01T00:00:00+00:00", "2027-11-02T00:00:00+00:00")]


@RUNS
@given(st.lists(st.tuples(STEP, st.sampled_from(INSTANTS)), min_size=1, max_size=20))
def test_kept_urgencies_equal_fresh_ones_after_any_transactions_at_any_instant(steps):
    with tempfile.TemporaryDirectory() as root:
        stores = [Store.open(root, compact_every=7), Store.open(root, compact_every=7)]
        try:
            for step, now in steps:
                run(stores[step[1]], step)
                for store in stores:
                    every = list(store.tasks.values())
                    fresh = urgencies(every, Context(store.tasks, now, timezone.utc))
                    for _ in range(3):  # the first view of an index keeps nothing, the third finds all kept
                        kept = Context(store.tasks, now, timezone.utc, index=store.index).urgencies(every)
                        assert kept == fresh, (step, now)
        finally:
            for store in stores:
                store.close()


def test_kept_urgencies_follow_time_across_every_step():
    extras = [{}, {"due": "2026-11-23T00:00:00Z"}, {"due": "2027-03-01T00:00:00Z"}, {"due": "2026-12-09T12:00:00Z"},
              {"scheduled": "2026-12-24T00:00:00Z"}, {"wait": "2027-01-01T00:00:00Z"},
              {"entry": "2026-11-24T18:30:00Z"}, {"entry": "2025-11-25T00:00:00Z"}, {"start": "2026-11-20T00:00:00Z"}]
    # entered at 07:13 (unless said): the daily age steps fall between the other steps
    tasks = [task(i, "pending", None, [], [], {"entry": "2026-11-01T07:13:00Z", **extra}) for i, extra in enumerate(extras)]
    with tempfile.TemporaryDirectory() as root:
        store = store_with(tasks, root)
        every = list(store.tasks.values())
        steps = sorted(INSTANTS) + [datetime.fromisoformat(text) for text in (
            "2027-11-01T00:00:00+00:00", "2026-11-25T00:00:00+00:00")]  # and back
        for now in [moment + delta for moment in steps for delta in (timedelta(seconds=-1), timedelta(0))]:
            fresh = urgencies(every, Context(store.tasks, now, timezone.utc))
            assert Context(store.tasks, now, timezone.utc, index=store.index).urgencies(every) == fresh, now
        store.close()
