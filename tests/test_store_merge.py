"""Journal files stay bounded: closed generations are appended to the history file, a merge
never rewrites what the history already holds, and history, undo and doctor still see
every record exactly once, also after a merge interrupted between any two of its steps."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from backlog.engine.backlog import Backlog
from backlog.store import doctor
from backlog.store.merge import MAX_FILES, merge_history, plan_merge
from backlog.store.store import Store
from tests.conftest import NOW


def engine(root: Path, journal_files: int = MAX_FILES) -> Backlog:
    ticks = iter(range(10_000))
    return Backlog(Store.open(root, compact_every=2, journal_files=journal_files), tz=ZoneInfo("UTC"),
                   clock=lambda: NOW + timedelta(seconds=next(ticks)), agent="user", channel="cli")


def files(root: Path) -> list[Path]:
    return sorted((root / "journal").glob("*.jsonl"))


def everything(root: Path) -> dict:
    """What every history read path returns."""
    store = Store.open(root)
    return {"tasks": store.tasks, "seq": store.seq, "records": list(store.records_newest_first()),
            "history": {uuid: store.history(uuid) for uuid in store.tasks}}


def test_many_compactions_leave_a_bounded_number_of_journal_files_and_the_whole_history(store_dir):
    backlog = engine(store_dir)
    backlog.add("the long-lived task")
    for n in range(60):
        backlog.annotate(1, f"note {n}")
        assert len(files(store_dir)) <= MAX_FILES + 1
    store = Store.open(store_dir)
    uuid = store.ids[1]
    assert [r["tool"] for r in store.history(uuid)] == ["cli:add"] + ["cli:annotate"] * 60
    records = list(store.records_newest_first())
    assert [r["seq"] for r in records] == list(range(61, 0, -1))
    assert doctor.check(store_dir) == []
    backlog.undo()
    assert len(Store.open(store_dir).tasks[uuid]["annotations"]) == 59


def test_a_merge_appends_to_the_history_file_and_never_rewrites_it(store_dir):
    backlog = engine(store_dir)
    backlog.add("a task")
    backlog.annotate(1, "closes generation 0, the history file")
    history = store_dir / "journal" / "000000.jsonl"
    seen, merges = history.read_bytes(), 0
    inode = history.stat().st_ino
    for n in range(100):
        before = {path.name: path.read_bytes() for path in files(store_dir)}
        backlog.annotate(1, f"note {n}")
        now = history.read_bytes()
        assert now.startswith(seen) and history.stat().st_ino == inode  # only ever appended to
        if now != seen:
            merges += 1
            gone = [name for name in before if not (store_dir / "journal" / name).exists()]
            assert now[len(seen):] == b"".join(before[name] for name in sorted(gone))  # what it merged, no more
        seen = now
    assert merges >= 3
    assert len(Store.open(store_dir).history(Store.open(store_dir).ids[1])) == 102


@pytest.fixture
def unmerged(store_dir: Path) -> Path:
    """A store with more journal files than a merge allows (made with merging turned off)."""
    backlog = engine(store_dir, journal_files=1000)
    backlog.add("a task")
    backlog.add("another task")
    for n in range(2 * MAX_FILES + 6):
        backlog.annotate(1 + n % 2, f"note {n}")
    backlog.store.close()
    assert len(files(store_dir)) > MAX_FILES + 1
    return store_dir


def plan(root: Path):
    store = Store.open(root)
    closed = [gen for gen in store.backend.journal_generations() if gen < store.gen]
    return store, plan_merge(store.backend, store._old_lines, closed)


INTERRUPTIONS = {
    "append cut short": lambda backend, merge: backend.append_at(
        merge.history, merge.data[: len(merge.data) // 2 + 7], merge.offset),
    "appended, nothing deleted": lambda backend, merge: backend.append_at(merge.history, merge.data, merge.offset),
    "appended, half deleted": lambda backend, merge: (
        backend.append_at(merge.history, merge.data, merge.offset),
        [backend.delete_journal(gen) for gen in merge.merged[: len(merge.merged) // 2]]),
}


@pytest.mark.parametrize("interruption", INTERRUPTIONS)
def test_a_merge_interrupted_between_steps_loses_and_repeats_nothing(unmerged, interruption):
    truth = everything(unmerged)
    store, merge = plan(unmerged)
    assert merge is not None and len(merge.merged) > MAX_FILES
    INTERRUPTIONS[interruption](store.backend, merge)
    assert everything(unmerged) == truth
    backlog = engine(unmerged)
    backlog.undo()  # undo reaches back through the files the interrupted merge left
    backlog.annotate(1, "after the crash")
    left = len(files(unmerged))
    for n in range(2 * MAX_FILES):  # compactions: the next merge finishes the job
        backlog.annotate(2, f"again {n}")
        if len(files(unmerged)) < left:
            break
    store = Store.open(unmerged)
    assert len(files(unmerged)) <= MAX_FILES + 1
    assert [r["seq"] for r in store.records_newest_first()] == list(range(store.seq, 0, -1))
    for uuid, records in truth["history"].items():
        assert store.history(uuid)[: len(records)] == records
    assert doctor.check(unmerged) == []


def test_a_merge_after_a_cut_short_append_cuts_the_torn_tail_first(unmerged):
    store, merge = plan(unmerged)
    store.backend.append_at(merge.history, merge.data[:100], merge.offset)
    store, again = plan(unmerged)
    assert again.offset == merge.offset and again.data == merge.data
    assert merge_history(store.backend, store._old_lines,
                         [gen for gen in store.backend.journal_generations() if gen < store.gen])
    size = os.stat(unmerged / "journal" / "000000.jsonl").st_size
    assert size == merge.offset + len(merge.data)
    assert [r["seq"] for r in Store.open(unmerged).records_newest_first()] == list(range(store.seq, 0, -1))
