"""A current journal generation cut underneath backlog (whole acknowledged lines removed,
or the file deleted) is refused with one line pointing at `backlog doctor`, never read as
a crash's torn tail; doctor reports it, repair records exactly the lost transactions, and
a real torn tail (a never-acknowledged partial line) still reads as one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from backlog.engine.backlog import Backlog
from backlog.errors import StoreError
from backlog.store import doctor
from backlog.store.sealed import read_head
from backlog.store.store import Store
from tests.conftest import NOW

ACKED = 7  # transactions; compaction every 4 leaves #5–#7 in the current generation


def engine(root: Path) -> Backlog:
    ticks = iter(range(10_000))
    return Backlog(Store.open(root, compact_every=4), tz=ZoneInfo("UTC"),
                   clock=lambda: NOW + timedelta(seconds=next(ticks)), agent="user", channel="cli")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    backlog = engine(path)
    for n in range(1, ACKED + 1):
        backlog.add(f"task {n}")
    backlog.store.close()
    return path


def current(root: Path) -> Path:
    return max((root / "journal").glob("*.jsonl"))


def boundaries(data: bytes) -> list[int]:
    """Byte lengths of the journal after 0, 1, … of its lines (all but the full file)."""
    ends = [n + 1 for n, byte in enumerate(data) if byte == ord("\n")]
    return [0, *ends[:-1]]


def refused(call) -> str:
    with pytest.raises(StoreError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message and "backlog doctor" in message, message
    return message


@pytest.mark.parametrize("kept", range(ACKED - 4))  # every line boundary but the end
def test_a_cut_at_a_line_boundary_is_refused_and_repair_names_the_lost_transactions(root, kept):
    path = current(root)
    original = path.read_bytes()
    size = boundaries(original)[kept]
    path.write_bytes(original[:size])
    message = refused(lambda: Store.open(root))
    assert path.name in message and f"#{ACKED} was acknowledged" in message
    refused(lambda: engine(root).add("written after the cut"))
    assert path.read_bytes() == original[:size]  # the writer wrote nothing
    first = 4 + kept + 1
    shown = f"#{first}" + (f"–#{ACKED}" if first < ACKED else "")
    assert doctor.check(root) == [f"{path} ends at transaction #{first - 1}, but transactions up to "
                                  f"#{ACKED} were acknowledged (the file was cut or replaced underneath backlog)"]
    report = doctor.repair(root, NOW + timedelta(days=1))
    assert f"recorded transactions {shown} as lost in journal/{path.name}" in "\n".join(report)
    assert doctor.check(root) == [] and doctor.repair(root, NOW + timedelta(days=2)) == []
    store = Store.open(root)
    assert store.seq == ACKED
    assert sorted(t["description"] for t in store.tasks.values()) == [f"task {n}" for n in range(1, first)]
    lost = [r["seq"] for r in store.records_newest_first() if r["tool"] == "doctor:lost"]
    assert sorted(lost) == list(range(first, ACKED + 1))
    engine(root).add("after the repair")
    assert Store.open(root).seq == ACKED + 1


def test_every_cut_inside_the_last_acknowledged_line_is_refused(root):
    path = current(root)
    original = path.read_bytes()
    start = original.rstrip(b"\n").rfind(b"\n") + 1
    for size in range(start + 1, len(original) - 1):  # the last line without at least two bytes
        path.write_bytes(original[:size])
        assert f"#{ACKED} was acknowledged" in refused(lambda: Store.open(root))
    path.write_bytes(original[:-1])  # only the newline cut: the record is intact and kept
    assert Store.open(root).seq == ACKED


def test_a_deleted_current_generation_is_refused_then_repaired_in_its_place(root):
    writer = engine(root)
    path = current(root)
    path.unlink()
    assert f"#{ACKED} was acknowledged" in refused(lambda: Store.open(root))
    refused(lambda: writer.add("after the deletion"))
    report = "\n".join(doctor.repair(root, NOW + timedelta(days=1)))
    assert f"recorded transactions #5–#{ACKED} as lost in journal/{path.name}" in report
    assert "rebuilt the state" not in report  # the snapshot is continued, not set aside
    writer.add("by the writer that was open all along")
    assert len(Store.open(root).tasks) == 5 and doctor.check(root) == []


def test_a_torn_line_that_was_never_acknowledged_is_still_a_crash_tail(root):
    path = current(root)
    original = path.read_bytes()
    path.write_bytes(original + original[-50:-1])  # a partial line after the last acknowledged one
    assert Store.open(root).seq == ACKED and doctor.check(root) == [f"{path} ends in a torn line (49 bytes)"]
    engine(root).add("after the tear")
    assert Store.open(root).seq == ACKED + 1


def test_a_cut_under_a_running_reader_and_writer_is_refused(root):
    path = current(root)
    reader, writer = Store.open(root), engine(root)
    original = path.read_bytes()
    path.write_bytes(original[:boundaries(original)[-1]])
    refused(reader.refresh)
    refused(lambda: writer.add("into the cut file"))
    refused(lambda: engine(root).add("a fresh writer"))
    assert path.read_bytes() == original[:boundaries(original)[-1]]
    path.write_bytes(original)
    writer.store.load()
    writer.add("after the file came back")
    assert Store.open(root).seq == ACKED + 1


def test_a_damaged_head_is_harmless_reported_and_rewritten(root):
    head = root / "head"
    head.write_bytes(head.read_bytes().replace(b"0", b"1", 1))
    assert Store.open(root).seq == ACKED
    assert doctor.check(root) == [f"{head} is damaged, so a cut journal would go unnoticed (the next commit rewrites it)"]
    assert "rewrote the damaged head from the repaired journal" in doctor.repair(root, NOW + timedelta(days=1))
    assert doctor.check(root) == [] and doctor.repair(root, NOW + timedelta(days=2)) == []


def test_every_bit_flip_in_the_head_makes_it_unknown_never_wrong(root):
    data = (root / "head").read_bytes()
    assert read_head(data) == (1, ACKED, current(root).stat().st_size)
    for bit in range(len(data) * 8):
        flipped = bytearray(data)
        flipped[bit // 8] ^= 1 << (bit % 8)
        assert read_head(bytes(flipped)) is None, bit


def test_a_snapshot_replaced_by_an_older_one_is_refused_and_rebuilt(root):
    writer = engine(root)
    for n in range(2):  # a second compaction, then one more commit after it
        writer.add(f"more {n}")
    truth = Store.open(root).tasks
    (root / "tasks.json").write_bytes((root / "tasks.prev.json").read_bytes())  # an operator's "restore"
    assert "tasks.json is older than the journal" in refused(lambda: Store.open(root))
    refused(lambda: engine(root).add("on the older snapshot"))
    (problem,) = doctor.check(root)
    assert "tasks.json is older than the journal" in problem
    assert any("rebuilt the state" in line for line in doctor.repair(root, NOW + timedelta(days=1)))
    assert doctor.check(root) == [] and doctor.repair(root, NOW + timedelta(days=2)) == []
    assert Store.open(root).tasks == truth
