"""Undo is exact: for any sequence of transactions, undoing them one by one restores every
task, doc and archive segment of each earlier state, on disk, also across compactions."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from backlog.store.store import UNDO_SCAN, Store

AT = "2026-11-24T10:00:00Z"
UUIDS = [f"00000000-0000-4000-8000-{n:012d}" for n in range(6)]
SEGMENTS = ["2026-Q1", "2026-Q3"]

op = st.one_of(
    st.tuples(st.just("put"), st.sampled_from(UUIDS), st.text("abc ", min_size=1, max_size=5),
              st.lists(st.sampled_from(["x", "y", "z"]), unique=True, max_size=2)),
    st.tuples(st.just("remove"), st.sampled_from(UUIDS)),
    st.tuples(st.just("doc"), st.sampled_from(UUIDS), st.sampled_from(["# a", "# b\nbody", "ü"])),
    st.tuples(st.just("undoc"), st.sampled_from(UUIDS)),
    st.tuples(st.just("archive"), st.sampled_from(UUIDS), st.sampled_from(SEGMENTS)),
)


def apply(store: Store, ops: list[tuple]) -> dict | None:
    """Run `ops` as one transaction; returns the committed record (None if nothing changed)."""
    with store.transaction(at=AT, agent="prop", tool="test") as tx:
        for kind, uuid, *args in ops:
            task = tx.get(uuid)
            if kind == "put":
                new = {"uuid": uuid, "id": task["id"] if task else tx.new_id(), "description": args[0].strip() or "t",
                       "status": "pending", **({"tags": args[1]} if args[1] else {})}
                tx.put(new)
            elif kind == "remove" and task:
                tx.remove(uuid)
            elif kind == "doc" and task:
                tx.write_doc(uuid, args[0])
            elif kind == "undoc" and tx.doc_digest(uuid):
                tx.delete_doc(uuid)
            elif kind == "archive" and task:
                tx.archive(task, args[0])
    return tx.record


def state(root: Path) -> dict:
    """Everything a user can read back, from a store opened afresh from disk."""
    store = Store.open(root)
    docs = {uuid: store.doc(uuid) for uuid in store.docs}
    segments = {name: store.segment(name) for name in store.segments()}
    store.close()
    return copy.deepcopy({"tasks": store.tasks, "docs": docs,
                          "segments": {k: v for k, v in segments.items() if v}})


@pytest.mark.parametrize("compact_every", [1000, 3], ids=["no-compaction", "compact-every-3"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(transactions=st.lists(st.lists(op, min_size=1, max_size=4), min_size=1, max_size=12))
def test_undoing_every_transaction_restores_each_earlier_state(tmp_path_factory, compact_every, transactions):
    root = tmp_path_factory.mktemp("store")
    store = Store.open(root, compact_every=compact_every)
    states = [state(root)]
    for ops in transactions:
        record = apply(store, ops)
        if record and record["ops"]:  # a record that only used up an id has nothing to undo
            states.append(state(root))
    for expected in reversed(states[:-1]):
        assert store.undo(at=AT, agent="prop") is not None
        assert state(root) == expected
    assert store.undo(at=AT, agent="prop") is None
    assert sorted(p.stem for p in (root / "archive").glob("*.json")) == []
    store.close()


def test_undo_never_redoes_and_id_counter_only_grows(tmp_path):
    store = Store.open(tmp_path)
    apply(store, [("put", UUIDS[0], "one", [])])
    apply(store, [("put", UUIDS[1], "two", [])])
    assert store.undo(at=AT, agent="a")["seq"] == 2
    assert store.undo(at=AT, agent="a")["seq"] == 1
    assert store.undo(at=AT, agent="a") is None
    assert store.tasks == {} and store.next_id == 3


def test_undo_survives_restart_and_compaction_for_over_100_steps(tmp_path):
    store = Store.open(tmp_path, compact_every=7)
    for n in range(120):
        apply(store, [("put", UUIDS[n % 6], f"v{n}", [])])
    store.close()
    store = Store.open(tmp_path, compact_every=7)
    for _ in range(120):
        assert store.undo(at=AT, agent="a") is not None
    assert store.tasks == {}
    assert store.undo(at=AT, agent="a") is None


def test_docs_leave_the_disk_once_outside_the_undo_window(tmp_path):
    store = Store.open(tmp_path, compact_every=2, undo_depth=3)
    apply(store, [("put", UUIDS[0], "t", []), ("doc", UUIDS[0], "first")])
    apply(store, [("doc", UUIDS[0], "second")])
    for n in range(UNDO_SCAN * 3 + 2):  # past every writer's undo scan (and the next compaction)
        apply(store, [("put", UUIDS[1], f"v{n}", [])])
    assert len(list((tmp_path / "docs").glob("*.md"))) == 1
    assert store.doc(UUIDS[0]) == "second"
