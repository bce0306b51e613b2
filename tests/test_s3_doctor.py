"""`backlog doctor` on a bucket (a real moto server on 127.0.0.1): the data dir's checks through
the backend seam; repair keeps every readable transaction, keeps copies of what it replaces
under `damaged/<time>/`, and a second run finds nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from conftest import NOW, run_backlog
from s3_support import BUCKET, Bucket, client

from backlog.store import doctor
from backlog.store.store import Store

AT = "2026-11-24T10:00:00Z"
UUIDS = [f"00000000-0000-4000-8000-{n:012d}" for n in range(6)]



@pytest.fixture
def place(endpoint: str, tmp_path: Path, s3: object) -> Bucket:
    """A bucket prefix holding 7 transactions over 3 generations (snapshots after #3 and #6),
    a doc and an archived task."""
    place = Bucket(endpoint, tmp_path, s3)
    store = place.open(compact_every=3)
    for n, uuid in enumerate(UUIDS[:5]):
        with store.transaction(at=AT, agent="t", tool="test") as tx:
            tx.put({"uuid": uuid, "id": tx.new_id(), "description": f"task {n + 1}", "status": "pending"})
            if n == 1:
                tx.write_doc(uuid, "# the doc of task 2")
    with store.transaction(at=AT, agent="t", tool="test") as tx:
        tx.archive({**tx.get(UUIDS[0]), "status": "completed"}, "2026-Q3")
    with store.transaction(at=AT, agent="t", tool="test") as tx:
        tx.put({**tx.get(UUIDS[4]), "description": "task 5, renamed"})
    assert doctor.check(place.backend()) == []
    return place


def state(store: Store) -> dict:
    return {"tasks": store.tasks, "docs": {u: store.doc(u) for u in store.docs},
            "archive": {u: t for name in store.segments() for u, t in store.segment(name).items()}}


def keys(place: Bucket, sub: str) -> list[str]:
    listed = client(place.endpoint).list_objects_v2(Bucket=BUCKET, Prefix=f"{place.prefix}/{sub}")
    return [o["Key"][len(place.prefix) + 1:] for o in listed.get("Contents", ())]


def remove(place: Bucket, name: str) -> None:
    client(place.endpoint).delete_object(Bucket=BUCKET, Key=f"{place.prefix}/{name}")


def repaired(place: Bucket) -> str:
    """Repair, then assert a second check and a second repair find nothing; the first report."""
    report = doctor.repair(place.backend(), NOW + timedelta(days=1))
    assert doctor.check(place.backend()) == []
    assert doctor.repair(place.backend(), NOW + timedelta(days=2)) == []
    return "\n".join(report)


def test_a_damaged_transaction_drops_only_itself_and_a_copy_is_kept(place):
    truth = state(place.open())
    damaged = place.read("txn/000000000005").replace(b"task 5", b"task X")
    place.write("txn/000000000005", damaged)
    root = f"s3://{BUCKET}/{place.prefix}"
    assert doctor.check(place.backend()) == [f"{root}/txn/000000000005 is damaged (checksum mismatch)"]
    report = repaired(place)
    assert f"dropped transaction #5 (txn/000000000005, {len(damaged)} unreadable bytes)" in report
    assert f"it touched task 5 'task 5, renamed' ({UUIDS[4]})" in report
    (kept,) = keys(place, "damaged/")
    assert kept.startswith("damaged/20261125T") and damaged in place.read(kept)
    again = place.open()
    assert state(again) == truth  # the later record carries task 5 whole
    assert [r["tool"] for r in again.records_newest_first()][-5] == "doctor:lost"


def test_a_deleted_transaction_is_recorded_as_lost(place):
    truth = state(place.open())
    remove(place, "txn/000000000002")
    assert doctor.check(place.backend())[0].startswith("transactions #2–#2 are missing before")
    assert "recorded transactions #2–#2 as lost" in repaired(place)
    assert state(place.open()) == truth and orjson.loads(place.read("txn/000000000002"))["tool"] == "doctor:lost"


def test_a_damaged_snapshot_is_set_aside_and_its_transactions_continue_the_one_before(place):
    truth = state(place.open())
    place.write("snap/000002.json", place.read("snap/000002.json").replace(b"task 2", b"task !"))
    (problem,) = doctor.check(place.backend())
    assert problem == f"s3://{BUCKET}/{place.prefix}/snap/000002.json is damaged (checksum mismatch)"
    report = repaired(place)
    assert "set aside snap/000002.json" in report
    assert state(place.open()) == truth
    assert any(k.endswith("/snap/000002.json") for k in keys(place, "damaged/"))


def test_a_missing_doc_body_drops_the_doc_and_keeps_the_task(place):
    digest = place.open().docs[UUIDS[1]]
    remove(place, f"docs/{digest}.md")
    assert doctor.check(place.backend()) == [
        f"s3://{BUCKET}/{place.prefix}/docs/{digest}.md (doc of {UUIDS[1]}) is missing or damaged"]
    assert "dropped the doc of task 2 'task 2'" in repaired(place)
    store = place.open()
    assert UUIDS[1] in store.tasks and UUIDS[1] not in store.docs


def test_a_damaged_archive_segment_is_rebuilt_from_the_transactions(place):
    truth = state(place.open())
    place.write("archive/2026-Q3.json", b"{not json")
    (problem,) = doctor.check(place.backend())
    assert problem.startswith(f"s3://{BUCKET}/{place.prefix}/archive/2026-Q3.json is damaged")
    assert "rebuilt archive/2026-Q3.json from the journal (1 tasks)" in repaired(place)
    assert state(place.open()) == truth


def test_the_cli_doctor_checks_and_repairs_the_bucket(clean_env, place):
    env = {**clean_env, **place.env}
    healthy = run_backlog(["doctor"], env)
    assert (healthy.returncode, healthy.stdout) == (0, f"s3://{BUCKET}/{place.prefix}: healthy\n")
    remove(place, "txn/000000000003")
    found = run_backlog(["doctor", "--json"], env)
    assert found.returncode == 2 and orjson.loads(found.stdout)["ok"] is False
    fixed = run_backlog(["doctor", "--repair", "--json"], env)
    answer = orjson.loads(fixed.stdout)
    assert fixed.returncode == 0 and answer["ok"] is True and answer["problems"] == []
    assert any("as lost" in line for line in answer["repaired"])
