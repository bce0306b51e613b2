"""`+READY` from the index's ranking (store/ready.py) and cached rows (engine/render.py): same answers.

Property tests: after random transactions by two stores on one data dir (refresh, undo,
archive, compaction), at instants inside and past the bounds' horizon, the ranked top-n
equals the full scan and sort, the READY count equals the filter's, and the ranking equals
one built from scratch. Work is shown by counting the tasks a `+READY` list examined.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta, timezone

from hypothesis import HealthCheck, given, settings, strategies as st

from backlog.core.filter import compile_filter
from backlog.core.sort import parse_sort, sort_tasks
from backlog.engine import render
from backlog.engine.backlog import Backlog
from backlog.store.index import Index
from backlog.store.store import Store
from backlog.store.view import Context
from tests.conftest import NOW
from tests.test_store_index import STEP, run

RUNS = settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
LATER = (timedelta(0), timedelta(minutes=59), timedelta(hours=3), timedelta(days=40), timedelta(days=-3))


def scratch(store: Store, ctx: Context) -> dict:
    """The ranking a new index over the same tasks makes at the same instant, to the same horizon."""
    index = Index(store.tasks, store.ids)
    index.horizon = store.index().horizon
    fresh = Context(store.tasks, ctx.now, ctx.tz, index=lambda: index)
    fresh.ready_top(1)
    return index.ready.state()


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
                    found, total = ctx.ready_top(limit)
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
    backlog.list("+READY", limit=5)  # builds the ranking
    ctx = backlog.context()
    found, total = ctx.ready_top(5)
    assert total == 300
    assert ctx.examined < 100  # one chunk or two of the ranking, not all 300
    assert backlog.list("+READY", limit=5) == backlog.list("+READY status:pending", limit=5)


def test_ready_follows_blocking_waiting_and_scheduled_changes(tmp_path):
    backlog = Backlog(Store.open(tmp_path), tz=timezone.utc, clock=lambda: NOW)
    for i in range(6):
        backlog.add(f"task {i}")
    ids = lambda: [t["id"] for t in backlog.list("+READY", limit=3, sort="urgency-,id+")["tasks"]]  # noqa: E731

    def same() -> bool:
        """The ranked answer is the scan's, and the ranking kept so far is the one made afresh."""
        ranked = backlog.list("+READY", limit=3)
        ctx = backlog.context()
        kept = backlog.store.index().ready.state() == scratch(backlog.store, ctx)
        return kept and ranked == backlog.list("+READY status:pending", limit=3)

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

