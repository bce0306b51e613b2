"""Journal files stay bounded: closed generations merge into one history file, and
history, undo and doctor still see every record exactly once (also after a merge that
was interrupted before it deleted the merged files)."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from backlog.engine.backlog import Backlog
from backlog.store import doctor
from backlog.store.merge import MAX_FILES
from backlog.store.store import Store
from tests.conftest import NOW


def engine(root: Path) -> Backlog:
    ticks = iter(range(10_000))
    return Backlog(Store.open(root, compact_every=2), tz=ZoneInfo("UTC"),
                   clock=lambda: NOW + timedelta(seconds=next(ticks)), agent="user", channel="cli")


def files(root: Path) -> list[Path]:
    return sorted((root / "journal").glob("*.jsonl"))


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


def test_a_merge_interrupted_before_its_deletions_repeats_nothing(store_dir, tmp_path):
    backlog = engine(store_dir)
    backlog.add("a task")
    for n in range(2 * MAX_FILES - 4):  # just below the merge
        backlog.annotate(1, f"note {n}")
    backup = tmp_path / "before-merge"
    shutil.copytree(store_dir / "journal", backup)
    for n in range(6):
        backlog.annotate(1, f"more {n}")
    merged = len(files(store_dir))
    for old in backup.glob("*.jsonl"):  # the files a crash would have left undeleted
        if not (store_dir / "journal" / old.name).exists():
            shutil.copy(old, store_dir / "journal" / old.name)
    assert len(files(store_dir)) > merged
    store = Store.open(store_dir)
    seqs = [r["seq"] for r in store.records_newest_first()]
    assert seqs == sorted(set(seqs), reverse=True) and seqs[-1] == 1 and len(seqs) == store.seq
    uuid = store.ids[1]
    assert len(store.history(uuid)) == store.seq
    backlog.annotate(1, "after")
    for n in range(2 * MAX_FILES):  # the next merge drops the leftovers
        backlog.annotate(1, f"again {n}")
    store = Store.open(store_dir)
    assert len(store.history(uuid)) == store.seq and len(files(store_dir)) <= MAX_FILES + 1
