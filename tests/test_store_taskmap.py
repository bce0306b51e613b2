"""A store opens without decoding its snapshot's tasks (store/taskmap.py, issue 14).

Property test: after random transactions by two stores on one data dir (undo, archive,
compaction, the other's writes picked up by refresh), a store opened fresh answers every
single-task question (by uuid, by short id, tasks having a member, pending dependents,
blocking) exactly as the fully decoded store does, before anything decodes the rest; then
its decoded tasks equal the writer's, in the same order.
"""

from __future__ import annotations

import tempfile
from datetime import timezone

from hypothesis import given, strategies as st

from backlog.core.filter import compile_filter
from backlog.store.sealed import seal_snapshot, tasks_layout
from backlog.store.store import Store
from backlog.store.taskmap import TaskMap
from backlog.store.view import Context
from tests.conftest import NOW
from tests.test_store_index import RUNS, SLOTS, STEP, UUIDS, run, task

ORIGINS = st.sampled_from([{}, {"origin": "claude:s1:1"}, {"origin": "claude:s1:2"}, {"origin": 'a "quoted" one'},
                           {"parent": UUIDS[3]}])


def answers(store: Store) -> dict:
    """Every single-task answer, asked of a store in the order a CLI call would ask."""
    ctx = Context(store.tasks, NOW, timezone.utc)
    return {
        "by uuid": {u: store.tasks.get(u) for u in [*UUIDS, "x" * 36, "bad\"uuid"]},
        "in": {u: u in store.tasks for u in UUIDS},
        "by id": {i: store.uuid_of(i) for i in range(SLOTS + 2)},
        "having": {k: store.having(k) for k in ("origin", "parent", "depends", "annotations")},
        "having value": {(k, v): store.having(k, v) for k, v in (("origin", "claude:s1:1"), ("origin", "claude:s1:2"),
                                                                 ("origin", 'a "quoted" one'), ("parent", UUIDS[3]))},
        "dependents": {u: ctx.pending_dependents(u) for u in UUIDS},
        "blocking": {u: u in ctx.blocking_uuids for u in UUIDS},
        "named": [t["uuid"] for t in compile_filter(f"2-5,8 {UUIDS[9]} {UUIDS[0]}", NOW, timezone.utc).select(ctx)],
    }


@RUNS
@given(st.lists(STEP, min_size=1, max_size=25), ORIGINS)
def test_a_fresh_store_answers_one_task_without_decoding_the_others(steps, extra):
    with tempfile.TemporaryDirectory() as root:
        stores = [Store.open(root, compact_every=5), Store.open(root, compact_every=5)]
        try:
            for step in steps:
                if step[0] == "put":
                    step = (*step[:2], [{**t, **extra} for t in step[2]])
                run(stores[step[1]], step)
                fresh, truth = Store.open(root), Store.open(root)
                truth.all_tasks()
                lazy = type(fresh.tasks) is TaskMap
                seen = answers(fresh)
                assert not lazy or not fresh.tasks.decoded, "a single-task answer decoded every line"
                assert seen == answers(truth), step
                assert answers(fresh) == seen  # asked again: past SEARCHES the lines are decoded midway
                writer = stores[step[1]]
                assert list(fresh.all_tasks().items()) == list(writer.all_tasks().items())
                fresh.close(), truth.close()
        finally:
            for store in stores:
                store.close()


def test_a_loop_of_lookups_decodes_the_lines_once_and_loses_no_change():
    from backlog.store.taskmap import SEARCHES

    with tempfile.TemporaryDirectory() as root:
        writer = Store.open(root)
        run(writer, ("put", 0, [task(slot, "pending", None, [], [], {}) for slot in range(SLOTS)]))
        with writer.backend.lock():
            writer.compact()
        store = Store.open(root)
        assert type(store.tasks) is TaskMap
        for n in range(SEARCHES - 1):
            assert store.tasks.get(f"{n:08x}-ffff-4000-8000-000000000000") is None  # each one a search
        assert store.tasks[UUIDS[5]]["description"] == "task 5" and not store.tasks.decoded  # the last search
        run(writer, ("remove", 0, 5))  # (a change that only pops)
        store.refresh()  # the record's replay decodes the lines first, then applies it
        assert store.all_tasks() == Store.open(root).all_tasks() == writer.all_tasks()
        assert UUIDS[5] not in store.tasks
        run(store, ("put", 0, [{**store.tasks[UUIDS[6]], "description": "changed here"}]))  # decoded: a dict
        assert Store.open(root).all_tasks()[UUIDS[6]]["description"] == "changed here"
        writer.close(), store.close()


def test_a_snapshot_with_plain_uuids_is_laid_out_one_task_per_line():
    tasks = [{"description": "a", "uuid": UUIDS[0], "id": 1}, {"uuid": UUIDS[1], "id": 2, "status": "pending"}]
    data = seal_snapshot({"gen": 1, "seq": 2, "next_id": 3, "docs": {}}, tasks)
    head, start, end = tasks_layout(data)
    assert data[start:end].split(b",\n") == [b'{"uuid":"%s","id":1,"description":"a"}' % UUIDS[0].encode(),
                                   b'{"uuid":"%s","id":2,"status":"pending"}' % UUIDS[1].encode()]
    assert b'"lines":2' in head
    for odd in ({"uuid": "short", "id": 1}, {"uuid": "é" * 36, "id": 1}, {"uuid": UUIDS[2], "id": "1"}):
        data = seal_snapshot({"gen": 1, "seq": 2, "next_id": 3, "docs": {}}, [tasks[0], odd])
        assert b'"lines"' not in data  # read whole, as any snapshot of an earlier version


# -- history of a task named by a large record (an import) -------------------------------

TEXT = st.lists(st.sampled_from(['a', 'é', '"', '\\', ']', ',', '{', '}', ':', '\n', '{"k":"t:', '],"', UUIDS[0]]),
                max_size=8).map("".join)  # pieces a record's structure is searched for
OP_VALUE = st.none() | st.fixed_dictionaries(
    {"uuid": st.sampled_from(UUIDS[:4]), "description": TEXT},
    optional={"depends": st.lists(st.sampled_from(UUIDS[:4]), max_size=2), "tags": st.lists(TEXT, max_size=2),
              "annotations": st.lists(st.fixed_dictionaries({"entry": TEXT, "description": TEXT}), max_size=2)})
OP = st.builds(lambda kind, u, o, n: {"k": f"{kind}{u}", "o": o, "n": n},
               st.sampled_from(["t:", "d:", "a:2026-Q4:"]), st.sampled_from(UUIDS[:4]), OP_VALUE, OP_VALUE)
EXTRA = st.fixed_dictionaries({}, optional={"next_id": st.integers(1, 99), "writer": TEXT, "undoes": st.integers(1, 9),
                                            "renewal": st.just(True)})


@RUNS
@given(st.lists(OP, max_size=8), EXTRA, st.sampled_from(UUIDS[:4]))
def test_a_large_record_gives_the_ops_naming_a_task_as_parsing_it_whole(ops, extra, uuid):
    from backlog.store import store as module
    from backlog.store.sealed import seal

    line = seal({"seq": 3, "at": "2026-11-24T10:00:00Z", "agent": "a", "tool": "task_import", "ops": ops, **extra})
    whole = {"seq": 3, "at": "2026-11-24T10:00:00Z", "agent": "a", "tool": "task_import", **extra,
             "ops": [op for op in ops if op["k"].endswith(uuid)]}
    def whole_parse(*args: object) -> dict:
        raise AssertionError("the record was parsed whole")

    before = module.BIG_RECORD, module.parse_record
    module.BIG_RECORD, module.parse_record = 0, whole_parse  # every line counts as large
    try:
        assert module.record_naming(line, uuid, "journal line 1", True) == whole
    finally:
        module.BIG_RECORD, module.parse_record = before
