"""`doctor --repair` keeps every readable transaction, drops only what is damaged, names
what it dropped, keeps copies of what it replaces, and a second run finds nothing."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from backlog.engine.backlog import Backlog
from backlog.store import doctor
from backlog.store.sealed import seal
from backlog.store.store import Store
from tests.conftest import NOW
from tests.test_store_checksums import build


def state(root: Path) -> dict:
    store = Store.open(root)
    return {"tasks": store.tasks, "docs": {u: store.doc(u) for u in store.docs},
            "archive": {u: t for name in store.segments() for u, t in store.segment(name).items()}}


def journal(root: Path, index: int) -> Path:
    return sorted((root / "journal").glob("*.jsonl"))[index]


def repaired(root: Path) -> str:
    """Repair, then assert a second check and a second repair find nothing; the first report."""
    report = doctor.repair(root, NOW + timedelta(days=1))
    assert doctor.check(root) == []
    before = files(root)
    assert doctor.repair(root, NOW + timedelta(days=2)) == []
    assert files(root) == before  # the second run changed no byte
    return "\n".join(report)


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_symlink() and p.name != ".lock"}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    build(path)
    assert doctor.check(path) == []
    return path


def test_a_deleted_old_generation_loses_only_its_history(root):
    truth = state(root)
    journal(root, 1).unlink()
    assert doctor.check(root) == [f"transactions #5–#8 are missing before {journal(root, 1)} "
                                  "(a deleted generation or lost lines)"]
    report = repaired(root)
    assert "recorded transactions #5–#8 as lost in journal/000001.jsonl" in report
    assert state(root) == truth
    assert [r["tool"] for r in Store.open(root).records_newest_first()].count("doctor:lost") == 4


def test_a_duplicated_line_is_removed_and_every_transaction_kept(root):
    truth = state(root)
    path = journal(root, -1)
    first, second = path.read_bytes().splitlines()
    path.write_bytes(first + b"\n" + first + b"\n" + second + b"\n")
    assert doctor.check(root) == [f"{path} line 2 repeats transaction #13"]
    report = repaired(root)
    assert "removed journal/000003.jsonl line 2, a copy of transaction #13" in report
    assert f"kept the original journal/000003.jsonl as journal/000003.jsonl.damaged-20261125T101453Z" in report
    assert (root / "journal" / "000003.jsonl.damaged-20261125T101453Z").read_bytes() == first + b"\n" + first + b"\n" + second + b"\n"
    assert state(root) == truth


def test_a_damaged_middle_line_drops_only_its_transaction_and_names_its_task(root):
    truth = state(root)
    path = journal(root, -1)
    first, second = path.read_bytes().splitlines()
    path.write_bytes(first[:40] + b"#" + first[41:] + b"\n" + second + b"\n")
    assert doctor.check(root) == [f"{path} line 1 is damaged (checksum mismatch)"]
    report = repaired(root)
    task5 = next(u for u, t in truth["tasks"].items() if t["id"] == 5)
    assert f"dropped transaction #13 (journal/000003.jsonl line 1, {len(first)} unreadable bytes); " \
           f"it touched task 5 'task 5' ({task5})" in report
    assert state(root) == truth  # the later record carries task 5 whole
    assert [r["tool"] for r in Store.open(root).records_newest_first()][:2] == ["cli:annotate", "doctor:lost"]


def test_a_damaged_line_in_an_old_generation_keeps_the_state(root):
    truth = state(root)
    path = journal(root, 1)
    lines = path.read_bytes().splitlines()
    lines[1] = b"\x00" * len(lines[1])
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = repaired(root)
    assert "dropped transaction #6 (journal/000001.jsonl line 2" in report
    assert state(root) == truth


def test_a_deleted_segment_is_rebuilt_from_the_journal(root):
    truth = state(root)
    segment = next((root / "archive").glob("*.json"))
    segment.unlink()
    assert doctor.check(root) == [f"{segment} is missing (1 archived tasks in the journal)"]
    report = repaired(root)
    assert f"rebuilt archive/{segment.stem}.json from the journal (1 tasks)" in report
    assert state(root) == truth


def rewind_next_id(root: Path, to: int) -> None:
    path = root / "tasks.json"
    snap = orjson.loads(path.read_bytes())
    del snap["crc"]
    path.write_bytes(seal({**snap, "next_id": to}))


def test_a_rewound_next_id_is_moved_past_every_id(root):
    truth = state(root)
    rewind_next_id(root, 2)
    assert doctor.check(root) == ["next_id 2 is not above the largest id 6"]
    assert "set next_id to 7" in repaired(root)
    assert state(root) == truth and Store.open(root).next_id == 7


def test_a_task_that_got_a_used_id_is_renumbered_and_named(root):
    rewind_next_id(root, 2)
    backlog = Backlog(Store.open(root), tz=ZoneInfo("UTC"), clock=lambda: NOW + timedelta(days=1),
                      agent="user", channel="cli")
    twin = backlog.add("the twin")
    assert twin["task"]["id"] == 2
    problems = doctor.check(root)
    assert problems[0].startswith("id 2 is used by 2 tasks") and problems[1] == "next_id 3 is not above the largest id 6"
    report = repaired(root)
    store = Store.open(root)
    uuid = next(u for u, t in store.tasks.items() if t["description"] == "the twin")
    assert f"task 'the twin' ({uuid}) shared id 2: it is now id 7" in report
    assert store.tasks[uuid]["id"] == 7 and store.next_id == 8
    assert sorted(t["id"] for t in store.tasks.values()) == [1, 2, 4, 5, 6, 7]


def test_a_damaged_newline_on_the_last_record_is_mended(root):
    truth = state(root)
    path = journal(root, -1)
    original = path.read_bytes()
    path.write_bytes(original[:-1] + b"\x0b")
    assert doctor.check(root) == [f"{path}: its last record lacks its newline (the record is intact)"]
    assert "ended the line of the last record of journal/000003.jsonl (kept)" in repaired(root)
    assert path.read_bytes() == original
    assert state(root) == truth


def test_a_stray_temp_file_is_reported_and_removed(root):
    stray = root / ".data-tasks.json.4242.tmp"
    stray.write_bytes(b'{"gen": 9')
    assert doctor.check(root) == [f"{stray} is a temp file left by an interrupted write (the next write removes it)"]
    assert "removed .data-tasks.json.4242.tmp, a temp file left by an interrupted write" in repaired(root)
    assert not stray.exists()


def test_a_damaged_format_file_is_rewritten(root):
    truth = state(root)
    path = root / "format.json"
    original = path.read_bytes()
    path.write_bytes(original[:-3] + b"!" + original[-2:])
    assert doctor.check(root) == [f"{path} is damaged (checksum mismatch)"]
    assert "rewrote the damaged format.json (format 2, checksums from generation 0)" in repaired(root)
    assert path.read_bytes() == original and state(root) == truth


def make_bad_lock(root: Path, make: str) -> Path:
    lock = root / ".lock"
    lock.unlink(missing_ok=True)
    if make == "directory":
        lock.mkdir()
        (lock / "left by someone").write_text("keep me")
    elif make == "symlink":
        lock.symlink_to(root.parent / "elsewhere")
    else:
        os.mkfifo(lock)
    return lock


BAD_LOCKS = ["directory", "symlink", "fifo"]


@pytest.mark.parametrize("make", BAD_LOCKS)
def test_doctor_reports_a_lock_file_older_versions_cannot_take(root, make):
    lock = make_bad_lock(root, make)
    (problem,) = doctor.check(root)
    assert problem.startswith(f"{lock} is ") and problem.count("\n") == 0
    assert problem.endswith("`backlog doctor --repair` replaces it")


@pytest.mark.parametrize("make", BAD_LOCKS)
def test_writers_work_beside_a_bad_lock_file_and_never_open_it(root, make):
    lock = make_bad_lock(root, make)
    backlog = Backlog(Store.open(root), tz=ZoneInfo("UTC"), clock=lambda: NOW, agent="user", channel="cli")
    backlog.add("written beside a bad lock file")
    backlog.undo()
    backlog.add("again")
    assert not (root.parent / "elsewhere").exists()  # the symlink was not followed
    assert make == "directory" or not lock.is_dir()
    assert sum(t["description"] == "again" for t in Store.open(root).tasks.values()) == 1


@pytest.mark.parametrize("make", BAD_LOCKS)
def test_repair_replaces_a_bad_lock_file_and_keeps_it_aside(root, make):
    truth = state(root)
    make_bad_lock(root, make)
    stamp = (NOW + timedelta(days=1)).strftime("%Y%m%dT%H%M%SZ")
    assert f"moved the lock file no writer could take to .lock.damaged-{stamp} and made a new one" in repaired(root)
    lock = root / ".lock"
    assert lock.is_file() and not lock.is_symlink() and lock.stat().st_size == 0
    aside = root / f".lock.damaged-{stamp}"
    assert aside.is_symlink() if make == "symlink" else aside.exists()
    if make == "directory":
        assert (aside / "left by someone").read_text() == "keep me"
    assert state(root) == truth
    Backlog(Store.open(root), tz=ZoneInfo("UTC"), clock=lambda: NOW, agent="user", channel="cli").add("after")
