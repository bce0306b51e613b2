"""Opening a store cheaply (issue 14 item 3): what is built late equals what is built at once.

The id map and each family of index postings are made on first use; the collector is paused
(and, for a large snapshot, frozen) while a snapshot is parsed. For random transaction
sequences, a family first asked for after any of them equals a from-scratch rebuild, and
the families asked for early are kept right by the rest.
"""

from __future__ import annotations

import gc
import tempfile

from hypothesis import HealthCheck, given, settings, strategies as st

from backlog.store.index import Index
from backlog.store.store import Store, bulk
from tests.test_store_index import STEP, run, task

RUNS = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
FAMILIES = ["status", "project", "tags", "sorted", "order", "dependents", "blocking"]


@RUNS
@given(st.lists(STEP, min_size=1, max_size=20), st.lists(st.tuples(st.integers(0, 19), st.sampled_from(FAMILIES))))
def test_families_and_ids_built_late_equal_a_rebuild(steps, asks):
    with tempfile.TemporaryDirectory() as root:
        stores = [Store.open(root, compact_every=7), Store.open(root, compact_every=7)]
        try:
            index = stores[0].index()
            for n, step in enumerate(steps):
                for at, family in asks:
                    if at == n and stores[0].index() is index:
                        getattr(index, family)  # built now, then kept by every later op
                run(stores[step[1]], step)
                index = stores[0].index()
            stores[0].refresh()
            ids = dict(stores[0].ids)
            fresh = Store.open(root)
            assert ids == {t["id"]: u for u, t in fresh.tasks.items()}
            assert stores[0].index().state() == Index(fresh.tasks, fresh.ids).state()
            fresh.close()
        finally:
            for store in stores:
                store.close()


def test_a_bulk_load_restores_the_collector_as_it_found_it():
    frozen = gc.get_freeze_count()
    try:
        with bulk(freeze=False):
            assert not gc.isenabled()
        assert gc.isenabled() and gc.get_freeze_count() == frozen
        gc.disable()
        with bulk(freeze=True):
            kept = [[n] for n in range(100)]  # tracked objects: they leave the generations
        assert not gc.isenabled() and gc.get_freeze_count() >= frozen + len(kept)
    finally:
        gc.enable()
        gc.unfreeze()


def test_families_made_after_a_reopen_follow_later_changes():
    with tempfile.TemporaryDirectory() as root:
        first = Store.open(root)
        with first.transaction(at="2026-11-24T10:00:00Z", agent="t", tool="t") as tx:
            for slot in range(4):
                tx.put(task(slot, "pending", "web", ["bug"], [slot - 1] if slot else [], {}))
        first.close()
        store = Store.open(root)  # the index starts over tasks already there
        index = store.index()
        assert index.order and index.blocking  # built now, over the tasks already there
        with store.transaction(at="2026-11-24T10:00:00Z", agent="t", tool="t") as tx:
            tx.put(task(1, "completed", "api", [], [0], {}))
            tx.put(task(5, "pending", None, ["ui"], [3], {}))
        assert index.state()["order"] == list(store.tasks)
        assert index.state() == Index(store.tasks, store.ids).state()
        store.close()
