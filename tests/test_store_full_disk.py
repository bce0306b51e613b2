"""A full disk never makes a write lie: on a small tmpfs and a small loop-mounted ext4.

Each case fills the file system to a few KB, then asserts: the write that did not fit is
an error (StoreError, one line), every acknowledged write is still there after reopening,
no file in place is truncated, and no temp file is left. Mounting needs root: outside CI
the tests skip without it; under CI=true they fail.
"""

from __future__ import annotations

import os
import subprocess
from datetime import timezone
from pathlib import Path

import orjson
import pytest

from backlog.engine.backlog import Backlog
from backlog.errors import StoreError
from backlog.store import doctor
from backlog.store.sealed import is_sealed
from backlog.store.store import Store
from backlog.store.files import write_atomic
from tests.conftest import NOW

MOUNT_BYTES = 4 << 20


def cannot_mount(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"cannot mount a small file system under CI: {reason}")
    pytest.skip(f"cannot mount a small file system: {reason}")


def mount(kind: str, point: Path, image: Path) -> None:
    if kind == "tmpfs":
        command = ["mount", "-t", "tmpfs", "-o", f"size={MOUNT_BYTES}", "tmpfs", str(point)]
    else:
        with open(image, "wb") as f:
            f.truncate(MOUNT_BYTES)
        made = subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)], capture_output=True, text=True)
        if made.returncode:
            cannot_mount(made.stderr.strip() or "mkfs.ext4 failed")
        command = ["mount", "-o", "loop", str(image), str(point)]
    try:
        done = subprocess.run(command, capture_output=True, text=True)
    except FileNotFoundError as err:
        cannot_mount(str(err))
    if done.returncode:
        cannot_mount(done.stderr.strip())


@pytest.fixture(params=["tmpfs", "ext4"])
def small_disk(request, tmp_path) -> Path:
    """A mounted 4 MiB file system of the kind named by the parameter; unmounted afterwards."""
    point = tmp_path / "mnt"
    point.mkdir()
    mount(request.param, point, tmp_path / "ext4.img")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Fill `disk` up, then free `leave` bytes; returns the filler file (delete it to free the rest)."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for chunk in (b"\0" * (256 << 10), b"\0" * (4 << 10), b"\0" * 512):
            try:
                while os.write(fd, chunk):
                    pass
            except OSError:  # full: what statvfs calls free is not exact on ext4
                pass
        os.ftruncate(fd, max(os.fstat(fd).st_size - leave, 0))
        os.fsync(fd)
    finally:
        os.close(fd)
    return filler


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".tmp")]


def engine(root: Path, **options: int) -> Backlog:
    return Backlog(Store.open(root, **options), tz=timezone.utc, clock=lambda: NOW)


def test_doc_write_that_does_not_fit_is_an_error(small_disk):
    root = small_disk / "data"
    backlog = engine(root)
    backlog.add("with doc")
    backlog.doc_write(1, "small doc")
    fill(small_disk, 40_000)
    with pytest.raises(StoreError) as caught:
        backlog.doc_write(1, "x" * 100_010)
    assert "\n" not in str(caught.value) and "nothing was saved" in str(caught.value)
    assert engine(root).doc_read(1) == {"content": "small doc"}
    assert all(p.stat().st_size < 100_000 for p in (root / "docs").iterdir())  # no truncated body in place
    assert temp_files(root) == []


def test_add_on_a_full_disk_is_an_error_and_loses_nothing(small_disk):
    root = small_disk / "data"
    backlog = engine(root)
    fill(small_disk, 128 << 10)
    acknowledged = []
    with pytest.raises(StoreError):
        for n in range(10_000):
            backlog.add(f"task {n} " + "pad" * 100)
            acknowledged.append(f"task {n} " + "pad" * 100)
    assert len(acknowledged) > 10
    assert sorted(t["description"] for t in engine(root).list("", limit=0)["tasks"]) == sorted(acknowledged)
    assert temp_files(root) == []


def test_compaction_on_a_full_disk_keeps_every_acknowledged_task(small_disk):
    root = small_disk / "data"
    backlog = engine(root, compact_every=5)
    for n in range(20):
        backlog.add(f"early {n}")
    snapshot = (root / "tasks.json").read_bytes()
    filler = fill(small_disk, 64 << 10)
    acknowledged = []
    try:
        for n in range(10_000):
            backlog.add(f"late {n} " + "pad " * 50)
            acknowledged.append(n)
    except StoreError:
        pass
    assert acknowledged, "no add fitted at all"
    in_place = orjson.loads((root / "tasks.json").read_bytes())  # whatever snapshot is in place is whole
    assert in_place["seq"] <= 20 + len(acknowledged) - 5  # compaction failed while adds were acknowledged
    assert temp_files(root) == []
    assert engine(root).count("")["count"] == 20 + len(acknowledged)
    filler.unlink()
    for n in range(5):  # enough commits for the next compaction
        backlog.add(f"after space was freed {n}")
    assert engine(root).count("")["count"] == 25 + len(acknowledged)
    assert (root / "tasks.json").read_bytes() != snapshot


def test_temp_file_of_a_crashed_writer_is_removed_by_the_next_writer(store_dir):
    backlog = engine(store_dir)
    backlog.add("first")
    stray = store_dir / ".docs-abc.md.999999.tmp"
    stray.write_bytes(b"half a doc")
    assert engine(store_dir).count("")["count"] == 1 and stray.exists()  # readers leave it
    backlog.add("second")
    assert not stray.exists()


def test_write_atomic_leaves_no_temp_file_when_it_fails(tmp_path):
    target = tmp_path / "missing-dir" / "file.json"
    with pytest.raises(StoreError):
        write_atomic(target, b"{}", tmp_path)
    assert temp_files(tmp_path) == []


# -- files changed underneath a writer ------------------------------------------------------

@pytest.mark.parametrize("damage", [
    lambda journal: journal.unlink(),  # deleted
    lambda journal: journal.write_bytes(journal.read_bytes()[:10]),  # truncated in place
    lambda journal: journal.rename(journal.with_suffix(".old")) or journal.write_bytes(b""),  # replaced
])
def test_writer_refuses_a_journal_changed_underneath_it(store_dir, damage):
    backlog = engine(store_dir)
    backlog.add("first")
    backlog.add("second")
    damage(store_dir / "journal" / "000000.jsonl")
    with pytest.raises(StoreError) as caught:
        backlog.add("third")
    assert "\n" not in str(caught.value) and "backlog doctor" in str(caught.value)
    assert b"third" not in b"".join(p.read_bytes() for p in (store_dir / "journal").iterdir())


def test_history_merges_on_a_full_disk_lose_nothing_and_leave_no_torn_history(small_disk):
    root = small_disk / "data"
    backlog = engine(root, compact_every=2, journal_files=3)  # a merge at almost every compaction
    for n in range(10):
        backlog.add(f"early {n}")
    filler = fill(small_disk, 48 << 10)
    acknowledged = 10
    with pytest.raises(StoreError):
        for n in range(10_000):
            backlog.add(f"late {n} " + "pad " * 100)
            acknowledged += 1
    history = (root / "journal" / "000000.jsonl").read_bytes()
    assert history.endswith(b"\n") and all(is_sealed(line) for line in history.splitlines())
    assert temp_files(root) == []
    store = Store.open(root)
    assert len(store.tasks) == acknowledged
    assert [r["seq"] for r in store.records_newest_first()] == list(range(store.seq, 0, -1))
    filler.unlink()
    for n in range(6):
        backlog.add(f"after space was freed {n}")
    store = Store.open(root)
    assert len(store.tasks) == acknowledged + 6 and len(list((root / "journal").glob("*.jsonl"))) <= 4
    assert doctor.check(root) == []
