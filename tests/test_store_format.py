"""Format versions: a format-1 store (main before checksums) opens and is upgraded by its
first writer; a store of a newer format is refused in one line, never called damaged."""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from backlog.engine.backlog import Backlog
from backlog.errors import FormatError, StoreError
from backlog.store import doctor
from backlog.store.sealed import FORMAT, format_info, is_sealed, seal
from backlog.store.store import Store
from tests.conftest import NOW, run_backlog

FIXTURE = Path(__file__).parent / "fixtures" / "format1_store"


@pytest.fixture
def old_store(store_dir: Path) -> Path:
    """A copy of the format-1 fixture store (written by main before format 2)."""
    shutil.copytree(FIXTURE, store_dir, dirs_exist_ok=True)
    return store_dir


def backlog(root: Path) -> Backlog:
    return Backlog(Store.open(root), tz=ZoneInfo("UTC"), clock=lambda: NOW + timedelta(days=1),
                   agent="user", channel="cli")


def contents(root: Path) -> dict:
    """Everything a reader can see: tasks, docs, archive and every history entry."""
    store = Store.open(root)
    archived = {u: t for name in store.segments() for u, t in store.segment(name).items()}
    return {"tasks": store.tasks, "next_id": store.next_id,
            "docs": {u: store.doc(u) for u in store.docs}, "archive": archived,
            "history": {u: store.history(u) for u in [*store.tasks, *archived]}}


def test_a_format_1_store_opens_with_every_task_doc_and_history_entry(old_store):
    seen = contents(old_store)
    assert sorted(t["description"] for t in seen["tasks"].values()) == [
        f"fixture task {n}" for n in (1, 2, 3, 4, 7, 8)]
    assert sorted(t["description"] for t in seen["archive"].values()) == ["fixture task 5", "fixture task 6"]
    assert seen["docs"] == {seen_uuid(seen, 1): "# Doc of task 1\n\nbody text\n",
                            seen_uuid(seen, 3): "# Doc of task 3, rewritten\n"}
    assert [a["description"] for a in task(seen, 1)["annotations"]] == ["first note"]
    tools = [rec["tool"] for rec in seen["history"][seen_uuid(seen, 4)]]
    assert tools == ["cli:add", "cli:modify", "cli:undo"]
    assert len(Store.open(old_store).backend.journal_generations()) == 6


def seen_uuid(seen: dict, short: int) -> str:
    return task(seen, short)["uuid"]


def task(seen: dict, short: int) -> dict:
    return next(t for t in seen["tasks"].values() if t["id"] == short)


def test_the_first_write_upgrades_a_format_1_store_and_keeps_everything(old_store):
    before = contents(old_store)
    assert (old_store / "format.json").exists() is False
    backlog(old_store).add("after the upgrade")
    version, since = format_info((old_store / "format.json").read_bytes(), str(old_store))
    assert version == FORMAT and since == 6
    after = contents(old_store)
    added = next(u for u, t in after["tasks"].items() if t["description"] == "after the upgrade")
    assert {u: t for u, t in after["tasks"].items() if u != added} == before["tasks"]
    assert after["docs"] == before["docs"] and after["archive"] == before["archive"]
    assert {u: h for u, h in after["history"].items() if u != added} == before["history"]
    assert is_sealed((old_store / "tasks.json").read_bytes())
    assert is_sealed((old_store / "archive" / "2026-Q4.json").read_bytes())
    assert all(is_sealed(line) for line in (old_store / "journal" / "000006.jsonl").read_bytes().splitlines())
    assert run_backlog_ok(["doctor"], old_store).strip().endswith("healthy")


def run_backlog_ok(args: list[str], root: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASKDATA", "BACKLOG_"))}
    result = run_backlog(args, {**env, "TASKDATA": str(root), "BACKLOG_NOW": "2026-11-25T00:00:00Z"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_new_store_is_format_2_from_its_first_write(store_dir):
    backlog(store_dir).add("first")
    assert format_info((store_dir / "format.json").read_bytes(), str(store_dir)) == (FORMAT, 0)
    line = (store_dir / "journal" / "000000.jsonl").read_bytes()
    assert line.endswith(b'"}\n') and is_sealed(line[:-1])


def newer(root: Path) -> None:
    (root / "format.json").write_bytes(seal({"format": FORMAT + 1, "since": 0, "by": "9.0.0"}))


REFUSAL = "was written by backlog format 3 (backlog ≥ 9.0.0); update the plugin"


@pytest.mark.parametrize("args", [["list"], ["add", "more"], ["doctor"], ["doctor", "--repair"], ["doctor", "--json"]])
def test_a_newer_format_is_refused_in_one_line_and_never_touched(old_store, clean_env, args):
    newer(old_store)
    before = {p: p.read_bytes() for p in old_store.rglob("*") if p.is_file()}
    result = run_backlog(args, {**clean_env, "TASKDATA": str(old_store)})
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.strip().endswith(f"store {old_store} {REFUSAL}"), result.stderr
    assert "damaged" not in result.stdout + result.stderr
    assert {p: p.read_bytes() for p in old_store.rglob("*") if p.is_file() and p.name != ".lock"} == before


def test_a_newer_format_is_its_own_error_kind(old_store):
    newer(old_store)
    with pytest.raises(FormatError) as caught:
        Store.open(old_store)
    assert str(caught.value) == f"store {old_store} {REFUSAL}"


def test_a_damaged_format_file_is_damage_not_a_newer_format(old_store):
    data = bytearray(seal({"format": FORMAT, "since": 0, "by": "0.1.0"}))
    data[data.index(b"2")] ^= 1  # "format": 2 → 3, caught by the checksum
    (old_store / "format.json").write_bytes(bytes(data))
    with pytest.raises(StoreError) as caught:
        Store.open(old_store)
    assert not isinstance(caught.value, FormatError)
    assert "format.json is damaged" in str(caught.value) and "backlog doctor" in str(caught.value)


def test_records_keep_fields_they_do_not_know(store_dir):
    backlog(store_dir).add("first")
    path = store_dir / "journal" / "000000.jsonl"
    rec = orjson.loads(path.read_bytes())
    del rec["crc"]
    path.write_bytes(seal({**rec, "writer": "agent-7"}) + b"\n")
    assert Store.open(store_dir).records_newest_first().__next__()["writer"] == "agent-7"


FORMAT2 = Path(__file__).parent / "fixtures" / "format2_store"


def test_a_format_2_store_written_by_main_before_head_opens_and_merges_on(store_dir):
    """format2_store: written by main at 09234ea (history merged by rewriting, no `head`)."""
    shutil.copytree(FORMAT2, store_dir, dirs_exist_ok=True)
    seen = contents(store_dir)
    assert sorted(t["description"] for t in seen["tasks"].values()) == [
        f"fixture task {n}" for n in (1, 2, 3, 4, 6)]
    assert [t["description"] for t in seen["archive"].values()] == ["fixture task 5"]
    assert seen["docs"] == {seen_uuid(seen, 1): "# Doc of task 1\n"}
    tools = [rec["tool"] for rec in seen["history"][seen_uuid(seen, 1)]]
    assert tools == ["cli:add", "cli:doc_write"] + ["cli:annotate"] * 20
    store = Store.open(store_dir)
    assert [r["seq"] for r in store.records_newest_first()] == list(range(store.seq, 0, -1))
    assert doctor.check(store_dir) == []
    history = store_dir / "journal" / "000032.jsonl"  # the old merge's file is now the history file
    old = history.read_bytes()
    writer = Backlog(Store.open(store_dir, compact_every=2), tz=ZoneInfo("UTC"), clock=lambda: NOW + timedelta(days=1),
                     agent="user", channel="cli")
    for n in range(40):
        writer.annotate(1, f"later {n}")
    assert history.read_bytes().startswith(old) and len(history.read_bytes()) > len(old)
    assert len(list((store_dir / "journal").glob("*.jsonl"))) <= 17
    store = Store.open(store_dir)
    assert [r["seq"] for r in store.records_newest_first()] == list(range(store.seq, 0, -1))
    assert len(store.history(seen_uuid(seen, 1))) == 22 + 40
    assert doctor.check(store_dir) == []
    others = [{u: t for u, t in tasks.items() if t["id"] != 1} for tasks in (store.tasks, seen["tasks"])]
    assert others[0] == others[1]


def test_a_writer_that_opened_a_new_store_before_another_upgraded_it_does_not_upgrade_again(store_dir):
    first, second = Store.open(store_dir), Store.open(store_dir)  # both see no format.json
    for store, name in ((first, "first"), (second, "second")):
        with store.transaction(at=NOW.strftime("%Y-%m-%dT%H:%M:%SZ"), agent="user", tool="t") as tx:
            tx.put({"uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, name)), "id": tx.new_id(), "description": name})
    assert not (store_dir / "tasks.json").exists()  # no compaction: the second writer found format.json
    assert [p.name for p in (store_dir / "journal").iterdir()] == ["000000.jsonl"]
    assert Store.open(store_dir).seq == 2
