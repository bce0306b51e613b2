"""What keeps a bucket small, on a real moto server: old transaction objects packed (store/s3pack.py;
history, undo, doctor and readers that listed before the packing read them) and doc bodies no
longer referenced collected once they are old enough by the server's clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from s3_support import BUCKET, Bucket, client

from backlog.store import doctor
from backlog.store.store import Store

AT = "2026-11-24T10:00:00Z"
UUIDS = [f"00000000-0000-4000-8000-{n:012d}" for n in range(3)]
OPTIONS = {"compact_every": 3, "undo_depth": 1}  # the undo window: 5 records (UNDO_SCAN × undo_depth)


@pytest.fixture
def place(endpoint: str, tmp_path: Path, s3: object) -> Bucket:
    return Bucket(endpoint, tmp_path, s3)


def keys(place: Bucket, sub: str) -> list[str]:
    listed = client(place.endpoint).list_objects_v2(Bucket=BUCKET, Prefix=f"{place.prefix}/{sub}")
    return [o["Key"][len(place.prefix) + 1:] for o in listed.get("Contents", ())]


def commit(store: Store, n: int) -> None:
    with store.transaction(at=AT, agent="t", tool="test") as tx:
        uuid = UUIDS[n % 3]
        old = tx.get(uuid)
        tx.put({"uuid": uuid, "id": old["id"] if old else tx.new_id(), "description": f"edit {n}", "status": "pending"})


def test_old_transactions_are_packed_and_every_record_stays_readable(place):
    store = place.open(**OPTIONS)
    for n in range(30):
        commit(store, n)
    txns, packs = keys(place, "txn/"), keys(place, "hist/")
    assert packs and len(txns) < 15  # 30 transactions: the newest generations and the undo window stay
    assert packs[0] == "hist/000000000001-000000000003"
    fresh = place.open(**OPTIONS)
    assert [r["seq"] for r in fresh.records_newest_first()] == list(range(30, 0, -1))
    assert [r["seq"] for r in fresh.history(UUIDS[0])] == list(range(1, 31, 3))
    assert doctor.check(place.backend()) == []


def test_a_reader_that_listed_before_the_packing_reads_the_pack(place):
    store = place.open(**OPTIONS)
    for n in range(9):
        commit(store, n)
    reader = place.backend()
    expected = [reader.read_journal(gen) for gen in reader.journal_generations()]
    for n in range(9, 30):
        commit(store, n)
    assert keys(place, "hist/")
    assert reader.read_journal(0) == expected[0]  # its listing still names txn/…1–3, gone now


def test_undo_after_packing_restores_the_earlier_states(place):
    store = place.open(compact_every=3, undo_depth=3)  # the undo window: 15 records
    states = []
    for n in range(30):
        commit(store, n)
        states.append(store.tasks)
    assert keys(place, "hist/")
    for back in range(3):
        assert store.undo(at=AT, agent="t")["seq"] == 30 - back
        assert place.open().tasks == states[-2 - back]


def test_doctor_repairs_a_damaged_pack_into_transaction_objects_again(place):
    store = place.open(**OPTIONS)
    for n in range(30):
        commit(store, n)
    truth = place.open().tasks
    pack = keys(place, "hist/")[0]
    lines = place.read(pack).split(b"\n")
    lines[1] = lines[1].replace(b"edit 1", b"edit !")
    place.write(pack, b"\n".join(lines))
    (problem,) = doctor.check(place.backend())
    assert problem.endswith(f"/{pack} line 2 is damaged (checksum mismatch)")
    report = "\n".join(doctor.repair(place.backend(), store.backend.server_now()))
    assert "dropped transaction #2" in report and doctor.check(place.backend()) == []
    assert pack not in keys(place, "hist/") and "txn/000000000002" in keys(place, "txn/")
    assert place.open().tasks == truth


def unreferenced_body(place: Bucket, grace: timedelta | None) -> list[str]:
    """Write a doc, delete it, commit past the undo window; the doc keys left."""
    store = place.open(**OPTIONS)
    if grace is not None:
        store.backend.blob_grace = grace
    commit(store, 0)
    with store.transaction(at=AT, agent="t", tool="test") as tx:
        tx.write_doc(UUIDS[0], "# a body nobody will refer to")
    with store.transaction(at=AT, agent="t", tool="test") as tx:
        tx.delete_doc(UUIDS[0])
    assert len(keys(place, "docs/")) == 1
    for n in range(10):
        commit(store, n)
    return keys(place, "docs/")


def test_a_doc_body_no_longer_referenced_is_collected_once_old_enough(place):
    assert unreferenced_body(place, timedelta(0)) == []


def test_a_young_unreferenced_doc_body_is_kept_it_may_be_a_commit_in_flight(place):
    assert len(unreferenced_body(place, None)) == 1  # younger than an hour by the server's clock


def test_two_machines_packing_while_they_write_lose_nothing(place):
    import threading

    from backlog.errors import Conflict

    stores = [place.open(**OPTIONS), place.open(**OPTIONS)]  # two backends: two machines, each packing
    failures: list[BaseException] = []

    def write(store: Store, offset: int) -> None:
        try:
            for n in range(offset, 40, 2):
                while True:
                    try:
                        commit(store, n)
                        break
                    except Conflict:
                        continue  # the other machine took the sequence number: run again on the new state
        except BaseException as err:  # noqa: BLE001 - reported by the main thread
            failures.append(err)

    threads = [threading.Thread(target=write, args=(store, k)) for k, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures
    fresh = place.open(**OPTIONS)
    assert fresh.seq == 40 and [r["seq"] for r in fresh.records_newest_first()] == list(range(40, 0, -1))
    assert keys(place, "hist/") and doctor.check(place.backend()) == []


def test_a_running_reader_sees_the_transactions_of_a_pack_doctor_unpacked(place):
    store = place.open(**OPTIONS)
    for n in range(30):
        commit(store, n)
    reader = place.open(**OPTIONS)
    assert len(list(reader.records_newest_first())) == 30  # it knows the packs
    pack = keys(place, "hist/")[0]
    place.write(pack, place.read(pack).replace(b"edit 1", b"edit !"))
    doctor.repair(place.backend(), store.backend.server_now())
    assert pack not in keys(place, "hist/")
    assert [r["seq"] for r in reader.records_newest_first()][-3:] == [3, 2, 1]
