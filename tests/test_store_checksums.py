"""Every single-bit flip in any file the store reads is detected (one line naming the file
and `backlog doctor`) or harmless (the reader sees exactly what was written); never a
silent wrong read. Also: a record whose newline is damaged is kept and its line ended."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from backlog.engine.backlog import Backlog
from backlog.errors import StoreError
from backlog.store.store import Store
from tests.conftest import NOW


def build(root: Path, journal_files: int = 16) -> None:
    """A store with every file kind: snapshot, previous snapshot, several generations, a segment, docs.

    With `journal_files=2` generation 1 is merged into generation 0, the history file.
    """
    ticks = iter(range(1000))
    backlog = Backlog(Store.open(root, compact_every=4, journal_files=journal_files), tz=ZoneInfo("UTC"),
                      clock=lambda: NOW + timedelta(minutes=next(ticks)), agent="user", channel="cli")
    for n in range(1, 7):
        backlog.add(f"task {n}", project="p")
    backlog.doc_write(1, "# one\n\nbody\n")
    backlog.annotate(2, "a note")
    backlog.done(3)
    backlog.archive(0)
    backlog.modify("4", priority="H")
    backlog.undo()
    backlog.start(5)  # two records in the current generation
    backlog.annotate(5, "started")
    backlog.store.close()
    assert len(list((root / "journal").glob("*.jsonl"))) == (4 if journal_files > 2 else 3)


def read_all(root: Path) -> dict:
    """Everything any read path returns: state, docs, archive, history, undo chain."""
    store = Store.open(root)
    archived = {u: t for name in store.segments() for u, t in store.segment(name).items()}
    return {"tasks": store.tasks, "next_id": store.next_id, "seq": store.seq,
            "docs": {u: store.doc(u) for u in store.docs}, "archive": archived,
            "history": {u: store.history(u) for u in sorted([*store.tasks, *archived])},
            "records": list(store.records_newest_first())}


KINDS = {
    "snapshot": lambda root: root / "tasks.json",
    "previous snapshot": lambda root: root / "tasks.prev.json",
    "current journal": lambda root: max((root / "journal").glob("*.jsonl")),
    "old journal": lambda root: sorted((root / "journal").glob("*.jsonl"))[1],
    "archive segment": lambda root: next((root / "archive").glob("*.json")),
    "doc body": lambda root: next((root / "docs").glob("*.md")),
    "format file": lambda root: root / "format.json",
    "history file": lambda root: root / "journal" / "000000.jsonl",  # with generation 1 merged into it
    "head": lambda root: root / "head",
}
NOT_READ = {"previous snapshot", "head"}  # read by doctor's rebuild; a damaged head means "unknown" (test_store_cut)


def build_for(root: Path, kind: str) -> None:
    build(root, 2 if kind == "history file" else 16)


@pytest.mark.parametrize("kind", KINDS)
def test_every_bit_flip_is_detected_or_harmless(tmp_path, kind):
    root = tmp_path / "data"
    build_for(root, kind)
    path = KINDS[kind](root)
    original = path.read_bytes()
    truth = read_all(root)
    outcomes = {"detected": 0, "harmless": 0}

    @settings(max_examples=200, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.integers(0, len(original) * 8 - 1))
    def flip(bit: int) -> None:
        data = bytearray(original)
        data[bit // 8] ^= 1 << (bit % 8)
        path.write_bytes(bytes(data))
        try:
            seen = read_all(root)
        except StoreError as err:
            message = str(err)
            assert "\n" not in message and path.name in message and "backlog doctor" in message, message
            outcomes["detected"] += 1
        else:
            assert seen == truth, f"bit {bit} of {path.name} changed what a reader sees"
            outcomes["harmless"] += 1
        finally:
            path.write_bytes(original)

    flip()
    print(kind, outcomes)
    assert outcomes["detected"] + outcomes["harmless"] > 0
    if kind not in NOT_READ:
        assert outcomes["detected"] > 0


def test_a_record_whose_newline_is_damaged_is_kept_and_its_line_ended(tmp_path):
    root = tmp_path / "data"
    build(root)
    path = max((root / "journal").glob("*.jsonl"))
    original = path.read_bytes()
    truth = read_all(root)
    path.write_bytes(original[:-1] + b"\x0b")
    assert read_all(root) == truth
    backlog = Backlog(Store.open(root, compact_every=100), tz=ZoneInfo("UTC"), clock=lambda: NOW,
                      agent="user", channel="cli")
    backlog.add("after the damaged newline")
    text = path.read_bytes()
    assert text.startswith(original) and text.count(b"\n") == original.count(b"\n") + 1 and text.endswith(b"\n")
    assert len(Store.open(root).tasks) == len(truth["tasks"]) + 1


def test_a_checksum_invalid_tail_is_a_torn_write(tmp_path):
    root = tmp_path / "data"
    build(root)
    path = max((root / "journal").glob("*.jsonl"))
    original = path.read_bytes()
    truth = read_all(root)
    path.write_bytes(original + original[-60:-1])  # half a record, no newline: never acknowledged
    assert read_all(root) == truth


@pytest.mark.parametrize("kind", KINDS)
def test_every_truncation_is_detected_or_harmless(tmp_path, kind):
    """Cutting a file short is caught by its checksum, by the sequence of transactions or,
    for the current journal, by `head` (a crash only tears a line nobody was told about)."""
    root = tmp_path / "data"
    build_for(root, kind)
    path = KINDS[kind](root)
    original = path.read_bytes()
    truth = read_all(root)

    @settings(max_examples=100, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.integers(0, len(original) - 1))
    def cut(size: int) -> None:
        path.write_bytes(original[:size])
        try:
            seen = read_all(root)
        except StoreError as err:
            message = str(err)
            assert "\n" not in message and path.name in message and "backlog doctor" in message, message
        else:
            assert seen == truth, f"{path.name} cut to {size} bytes changed what a reader sees"
        finally:
            path.write_bytes(original)

    cut()


def test_task_history_alone_never_answers_from_a_journal_with_lines_cut_away(tmp_path):
    """history() parses only the lines naming its task, yet sees every line's sequence number."""
    root = tmp_path / "data"
    build(root, 2)
    uuids = list(Store.open(root).tasks)
    for path in sorted((root / "journal").glob("*.jsonl"))[:-1]:  # the history file, the closed generation
        original = path.read_bytes()
        ends = [n + 1 for n, byte in enumerate(original) if byte == ord("\n")]
        for size in [0, *ends[:-1]]:
            path.write_bytes(original[:size])
            store = Store.open(root)
            for uuid in uuids:
                with pytest.raises(StoreError, match="are missing from .*" + path.name):
                    store.history(uuid)
        path.write_bytes(original)
