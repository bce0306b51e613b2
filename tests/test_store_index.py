"""The store's incremental indexes and the filter's index plan (issue 14).

Property tests: for random transaction sequences by two stores on one data dir (the other
one's writes arrive by refresh), with undo, archive and compaction, every index equals a
from-scratch rebuild; for random filters, a planned selection returns exactly what a full
scan returns, in the same order. Work is shown by counting the tasks a filter examined.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings, strategies as st

from backlog.core.filter import compile_filter, index_plan, parse_filter
from backlog.core.sort import parse_sort, sort_tasks
from backlog.core.urgency import urgencies
from backlog.engine.backlog import Backlog
from backlog.store import view
from backlog.store.index import Index
from backlog.store.store import Store
from backlog.store.view import Context, horizon_bounds
from tests.conftest import NOW

RUNS = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
SLOTS = 12
UUIDS = [f"{i:08x}-0000-4000-8000-{i * 7919:012x}" for i in range(SLOTS)]
UUIDS[1] = UUIDS[0][:8] + "-1111-4000-8000-000000000001"  # two uuids sharing an 8-char prefix
STATUSES = ["pending", "pending", "completed", "deleted", "recurring"]
PROJECTS = ["web", "web.ui", "Web", "api", "api.v2.x"]
TAGS = ["bug", "ui", "next", "Bug"]


def task(slot: int, status: str, project: str | None, tags: list[str], depends: list[int], extra: dict) -> dict:
    out = {"uuid": UUIDS[slot], "id": slot + 1, "description": f"task {slot}", "status": status,
           "entry": "2026-11-01T00:00:00Z", **extra}
    if project:
        out["project"] = project
    if tags:
        out["tags"] = tags
    deps = [UUIDS[d] for d in dict.fromkeys(depends) if d != slot]
    if deps:
        out["depends"] = deps
    return out


TASK = st.builds(
    task, st.integers(0, SLOTS - 1), st.sampled_from(STATUSES), st.none() | st.sampled_from(PROJECTS),
    st.lists(st.sampled_from(TAGS), max_size=3, unique=True), st.lists(st.integers(0, SLOTS - 1), max_size=3),
    st.sampled_from([{}, {"start": "2026-11-20T00:00:00Z"}, {"wait": "2027-01-01T00:00:00Z"},
                     {"due": "2026-11-23T00:00:00Z"}, {"scheduled": "2026-12-24T00:00:00Z"}, {"priority": "H"},
                     {"priority": "L", "due": "2027-03-01T00:00:00Z"},
                     {"annotations": [{"entry": "2026-11-02T00:00:00Z", "description": "note"}]}]),
)
STEP = st.one_of(
    st.tuples(st.just("put"), st.integers(0, 1), st.lists(TASK, min_size=1, max_size=3)),
    st.tuples(st.just("remove"), st.integers(0, 1), st.integers(0, SLOTS - 1)),
    st.tuples(st.just("archive"), st.integers(0, 1), st.integers(0, SLOTS - 1)),
    st.tuples(st.just("undo"), st.integers(0, 1)),
    st.tuples(st.just("compact"), st.integers(0, 1)),
    st.tuples(st.just("refresh"), st.integers(0, 1)),
)


def rebuilt(store: Store) -> dict:
    return Index(store.tasks, store.ids).state()


def run(store: Store, step: tuple) -> None:
    kind, _, *args = step
    if kind == "refresh":
        store.refresh()
    elif kind == "undo":
        store.undo(at="2026-11-24T10:00:00Z", agent="test")
    elif kind == "compact":
        with store.backend.lock():
            store.refresh()
            store.compact()
    else:
        with store.transaction(at="2026-11-24T10:00:00Z", agent="test", tool=kind) as tx:
            if kind == "put":
                for new in args[0]:
                    tx.put(new)
            elif tx.get(UUIDS[args[0]]) is not None:
                if kind == "remove":
                    tx.remove(UUIDS[args[0]])
                else:
                    tx.archive(tx.get(UUIDS[args[0]]), "2026-Q4")


@RUNS
@given(st.lists(STEP, min_size=1, max_size=25))
def test_indexes_equal_a_rebuild_after_any_transactions(steps):
    with tempfile.TemporaryDirectory() as root:
        stores = [Store.open(root, compact_every=7), Store.open(root, compact_every=7)]
        try:
            for step in steps:
                for store in stores:
                    # keep both live and bounds cached: every op goes the incremental way
                    Context(store.tasks, NOW, timezone.utc, index=store.index).urgency_bounds(list(store.tasks.values()))
                run(stores[step[1]], step)
                for store in stores:
                    index = store.index()
                    assert index.state() == rebuilt(store), step
                    kept = [store.tasks[u] for u in index.bounds]  # none after a reload: a new index
                    assert not kept or list(index.bounds.values()) == horizon_bounds(kept, store.tasks, index.horizon,
                                                                                     timezone.utc)
            stores[0].refresh()
            fresh = Store.open(root)
            assert stores[0].index().state() == rebuilt(fresh)
            fresh.close()
        finally:
            for store in stores:
                store.close()


def test_an_index_follows_the_store_order_and_blocking_counts():
    with tempfile.TemporaryDirectory() as root:
        store = Store.open(root)
        index = store.index()
        with store.transaction(at="2026-11-24T10:00:00Z", agent="t", tool="t") as tx:
            tx.put(task(0, "pending", "web", [], [], {}))
            tx.put(task(2, "pending", "api", ["bug"], [0], {}))
            tx.put(task(3, "completed", None, [], [0], {}))
        assert index.blocking == {UUIDS[0]: 1}
        assert index.dependents == {UUIDS[0]: {UUIDS[2], UUIDS[3]}}
        with store.transaction(at="2026-11-24T10:00:00Z", agent="t", tool="t") as tx:
            tx.put(task(2, "completed", "api", ["bug"], [0], {}))
        assert index.blocking == {}
        assert index.state()["order"] == list(store.tasks)
        store.close()


# -- the index plan ------------------------------------------------------------------------

TERMS = ["status:pending", "status:completed", "status:waiting", "status:deleted", "status.not:pending",
         "project:web", "project:WEB", "project:api.v2", "project.is:web", "project:", "+bug", "-bug", "+Bug",
         "tags:ui", "tags.has:u", "+READY", "+BLOCKED", "+BLOCKING", "+ACTIVE", "+WAITING", "+COMPLETED",
         "+TEMPLATE", "-PENDING", "+OVERDUE", "1", "2,5", "3-6", UUIDS[0][:8], UUIDS[4][:13], "depends:1",
         f"depends:{UUIDS[0][:8]}", "task", "'2'"]
FILTER = st.lists(st.one_of(st.sampled_from(TERMS), st.sampled_from(["or", "not", "and"])), max_size=5)


def store_with(tasks: list[dict], root: str) -> Store:
    store = Store.open(root)
    with store.transaction(at="2026-11-24T10:00:00Z", agent="t", tool="t") as tx:
        for new in tasks:
            tx.put(new)
    return store


@RUNS
@given(st.lists(TASK, min_size=1, max_size=12), FILTER, st.booleans(), st.sampled_from([timezone.utc, ZoneInfo("Asia/Tokyo")]))
def test_a_planned_selection_equals_the_full_scan(tasks, words, default_status, tz):
    text = " ".join(words)
    with tempfile.TemporaryDirectory() as root:
        store = store_with(tasks, root)
        try:
            compiled = compile_filter(text, NOW, tz, default_status=default_status)
        except Exception:  # noqa: BLE001 - a filter error says nothing about the plan
            store.close()
            return
        scan = Context(store.tasks, NOW, tz)
        planned = Context(store.tasks, NOW, tz, index=store.index)
        share, view.PLANNED_SHARE = view.PLANNED_SHARE, 0  # use every plan, however little it narrows
        try:
            assert compiled.select(planned) == compiled.select(scan), (text, compiled.plan)
        finally:
            view.PLANNED_SHARE = share
        assert dict(planned.blocking_uuids).keys() == set(scan.blocking_uuids)
        for uuid in UUIDS:
            assert planned.pending_dependents(uuid) == scan.pending_dependents(uuid)
        refs = ("1", "5", UUIDS[0][:8], UUIDS[7])
        assert planned.resolve_refs(refs) == scan.resolve_refs(refs)
        store.close()


def test_plans_are_the_indexable_conjuncts():
    assert index_plan(parse_filter("project:p3 +bug")) == (("project", "p3"), ("tag", "bug"))
    assert index_plan(parse_filter("+READY 3,5 -docs")) == (("status", "pending"), ("ids", ((3, 3), (5, 5)), ()))
    assert index_plan(parse_filter("project:a or +bug")) == ()
    assert index_plan(parse_filter("not +bug")) == ()
    assert compile_filter("project:p3 +bug", NOW, timezone.utc).plan == (
        ("status", "pending"), ("project", "p3"), ("tag", "bug"))


def test_a_selective_filter_examines_only_what_its_plan_leaves(tmp_path):
    backlog = Backlog(Store.open(tmp_path), tz=timezone.utc, clock=lambda: NOW)
    for i in range(400):
        backlog.add(f"task {i}", project=f"p{i % 8}", tags="bug" if i % 5 == 0 else "ui")
    ctx = backlog.context()
    found = backlog.select("project:p3 +bug", ctx)
    assert len(found) == 10
    assert ctx.examined == 10  # p3 ∩ bug ∩ pending, not 400
    wide = backlog.context()
    assert len(backlog.select("+ui", wide)) == 320
    assert wide.examined == 400  # a plan that leaves most tasks is not worth it: one scan
    by_id = backlog.context()
    assert [t["id"] for t in backlog.select("17", by_id)] == [17] and by_id.examined == 1


@RUNS
@given(st.lists(TASK, min_size=1, max_size=12), st.sampled_from([-400, -30, -1, 0, 2, 9, 40, 400]), st.integers(1, 5),
       st.sampled_from(["urgency-,id+", "urgency-", "urgency-,project+"]))
def test_urgency_bounds_hold_and_top_n_equals_the_full_sort(tasks, days, limit, sort):
    start = NOW + timedelta(days=days, hours=days % 7)
    with tempfile.TemporaryDirectory() as root:
        store = store_with(tasks, root)
        every, keys = list(store.tasks.values()), parse_sort(sort)
        # one index, views at later and earlier instants: within the horizon, past it, before it
        for later in (timedelta(0), timedelta(minutes=59), timedelta(hours=3), timedelta(days=-10), timedelta(days=20)):
            ctx = Context(store.tasks, start + later, timezone.utc, index=store.index)
            for bound, exact in zip(ctx.urgency_bounds(every), urgencies(every, ctx)):
                assert exact <= bound, later
            assert sort_tasks(every, keys, ctx, limit) == sort_tasks(every, keys, ctx)[:limit]
        store.close()


def test_the_bound_holds_for_every_single_term_at_any_time():
    extras = [{}, {"start": "2026-11-20T00:00:00Z"}, {"wait": "2027-01-01T00:00:00Z"}, {"due": "2026-11-23T00:00:00Z"},
              {"scheduled": "2026-12-24T00:00:00Z"}, {"priority": "H"}, {"entry": "2027-06-01T00:00:00Z"},
              {"annotations": [{"entry": "2026-11-02T00:00:00Z", "description": "n"}] * 3}]
    tasks = [task(i, "pending", "web" if i % 2 else None, ["next", "ui", "bug"][: i % 4], [], extra)
             for i, extra in enumerate(extras)]
    tasks.append(task(len(extras), "pending", None, [], [0], {}))  # 0 is blocking, this one blocked
    tasks_by_uuid = {t["uuid"]: t for t in tasks}
    for days in (-400, -30, 0, 3, 30, 60, 400):
        ctx = Context(tasks_by_uuid, NOW + timedelta(days=days), timezone.utc)
        for t, bound, exact in zip(tasks, ctx.urgency_bounds(tasks), urgencies(tasks, ctx)):
            assert exact <= bound, (t, days)


def test_a_view_made_before_a_reload_scans_instead_of_using_the_new_index():
    with tempfile.TemporaryDirectory() as root:
        store, other = store_with([task(0, "pending", "web", ["bug"], [], {})], root), Store.open(root)
        ctx = Context(store.tasks, NOW, timezone.utc, index=store.index)
        with other.backend.lock():
            other.compact()
        store.refresh()  # a new snapshot: the store reloads into new mappings
        assert ctx.index is None
        assert Context(store.tasks, NOW, timezone.utc, index=store.index).index is store.index()
        store.close()
        other.close()
