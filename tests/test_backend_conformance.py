"""One conformance suite, run against every store backend: the data dir and S3 (a real moto server).

Each test gets `place`, where one fresh store lives, for `files`, `s3` (boto3) and `s3-light`
(the standard-library client hooks use); what it asserts holds for all. S3-only behaviour (conditional puts, the probe) is in test_s3.py.
"""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import REPO
from s3_support import Place

from backlog.errors import FormatError, StoreError
from backlog.store.sealed import seal
from backlog.store.store import Store

AT = "2026-11-24T10:00:00Z"
UUIDS = [f"00000000-0000-4000-8000-{n:012d}" for n in range(4)]
WORKER_TIMEOUT_S = 300


@pytest.fixture(params=["files", "s3", "s3-light"])
def places(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Place]:
    """Makes fresh places for stores, of each backend in turn."""
    endpoint = request.getfixturevalue("endpoint") if request.param.startswith("s3") else None
    return lambda: Place(request.param, tmp_path_factory.mktemp("place"), endpoint)


@pytest.fixture
def place(places: Callable[[], Place]) -> Place:
    """Where one fresh store lives."""
    return places()


def put(store: Store, *names: str, doc: str | None = None, archive: str | None = None) -> dict | None:
    """One transaction creating (or replacing) tasks UUIDS[0..] named `names`."""
    with store.transaction(at=AT, agent="t", tool="test") as tx:
        for uuid, name in zip(UUIDS, names):
            old = tx.get(uuid)
            task = {"uuid": uuid, "id": old["id"] if old else tx.new_id(), "description": name, "status": "pending"}
            tx.put(task)
            if doc is not None:
                tx.write_doc(uuid, doc)
            if archive is not None:
                tx.archive(task, archive)
    return tx.record


def view(store: Store) -> dict:
    """Everything a reader sees: tasks, doc bodies, archive segments."""
    return copy.deepcopy({"tasks": store.tasks, "docs": {u: store.doc(u) for u in store.docs},
                          "segments": {n: s for n in store.segments() if (s := store.segment(n))}})


# -- atomicity -----------------------------------------------------------------------------
def test_a_transaction_that_raises_writes_nothing(place):
    store = place.open()
    put(store, "kept")
    with pytest.raises(RuntimeError), store.transaction(at=AT, agent="t", tool="test") as tx:
        tx.put({"uuid": UUIDS[1], "id": tx.new_id(), "description": "lost", "status": "pending"})
        raise RuntimeError("body failed")
    again = place.open()
    assert [t["description"] for t in again.tasks.values()] == ["kept"] and again.seq == 1


def test_every_opener_of_a_new_store_commits(place):
    stores = [place.open() for _ in range(3)]  # all opened before anything was written
    for n, store in enumerate(stores):
        assert put(store, *"abc"[: n + 1])["seq"] == n + 1  # each sees the others' tasks and adds one
    assert sorted(t["description"] for t in place.open().tasks.values()) == ["a", "b", "c"]


def test_another_opener_sees_a_transaction_whole(place):
    store, other = place.open(), place.open()
    put(store, "a", "b", "c", doc="# body")
    other.refresh()
    assert sorted(t["description"] for t in other.tasks.values()) == ["a", "b", "c"]
    assert {other.doc(u) for u in UUIDS[:3]} == {"# body"}


# -- undo ----------------------------------------------------------------------------------
op = st.tuples(st.sampled_from(["put", "doc", "archive"]), st.sampled_from(UUIDS[:3]), st.sampled_from(["x", "y"]))


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(transactions=st.lists(op, min_size=1, max_size=8))
def test_undo_restores_each_earlier_state(places, transactions):
    place = places()
    store = place.open(compact_every=3)
    states = [view(place.open())]
    for kind, uuid, name in transactions:
        with store.transaction(at=AT, agent="t", tool="test") as tx:
            task = tx.get(uuid) or {"uuid": uuid, "id": tx.new_id(), "description": "new", "status": "pending"}
            if kind == "put":
                tx.put({**task, "description": name})
            elif kind == "doc":
                tx.put(task)
                tx.write_doc(uuid, f"# {name}")
            else:
                tx.archive(task, "2026-Q1" if name == "x" else "2026-Q3")
        states.append(view(place.open()))
    for expected in reversed(states[:-1]):
        assert store.undo(at=AT, agent="t") is not None
        assert view(place.open()) == expected
    assert store.undo(at=AT, agent="t") is None


# -- concurrency and crashes (processes through the entry points' runtime) ------------------
def worker(place: Place, name: str, count: int) -> subprocess.Popen:
    env = {**os.environ, **place.env, "PYTHONPATH": str(REPO), "BACKLOG_COMPACT_EVERY": "25",
           "WORKER_CHANNEL": "hook:conformance" if place.kind == "s3-light" else "cli"}
    return subprocess.Popen([sys.executable, "-m", "tests.workers.adder", name, str(count)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def acks(out: str) -> dict[str, int]:
    """uuid → id of every acknowledged add in a worker's output."""
    return {line.split()[1]: int(line.split()[2]) for line in out.splitlines() if line.startswith("ack ")}


@pytest.mark.clockfree
def test_concurrent_writers_lose_nothing_and_share_no_id(place):
    per = 100 if place.kind == "s3" else 50  # the 4 x 100 on S3 through boto3
    procs = [worker(place, f"w{n}", per) for n in range(4)]
    acked: dict[str, int] = {}
    for proc in procs:
        out, err = proc.communicate(timeout=WORKER_TIMEOUT_S)
        assert proc.returncode == 0, err
        acked.update(acks(out))
    store = place.open()
    assert len(acked) == per * len(procs)
    assert {u: store.tasks[u]["id"] for u in acked} == acked
    assert len(set(acked.values())) == len(acked)


@pytest.mark.clockfree
def test_every_acknowledged_add_survives_sigkill(place):
    acked: dict[str, int] = {}
    for round_ in range(10):
        proc = worker(place, f"k{round_}", 0)
        seen = 0
        for line in proc.stdout:
            if line.startswith("ack "):
                acked.update(acks(line))
                seen += 1
                if seen == 3 + round_ % 4:
                    break
        os.kill(proc.pid, signal.SIGKILL)  # mid-write, or between writes
        proc.communicate(timeout=WORKER_TIMEOUT_S)
    store = place.open()
    assert {u: store.tasks[u]["id"] for u in acked} == acked


# -- damage is loud ------------------------------------------------------------------------
def test_a_damaged_record_is_refused_with_its_place(place):
    put(place.open(), "a")
    put(place.open(), "b")
    name = place.first_record()
    data = place.read(name)
    place.write(name, data.replace(b'"a"', b'"A"', 1))
    with pytest.raises(StoreError, match=r"is damaged \(checksum mismatch\).*backlog doctor"):
        place.open()


# -- archive and docs ----------------------------------------------------------------------
def test_archived_tasks_survive_reopening_and_compaction(place):
    store = place.open(compact_every=2)
    put(store, "a", "b")
    put(store, "a", archive="2026-Q2")
    put(store, "a", "b", "c")
    put(store, "d")
    again = place.open()
    assert again.segments() == ["2026-Q2"] and list(again.segment("2026-Q2")) == [UUIDS[0]]
    assert again.archived_ids() == {UUIDS[0]: 1}


def test_doc_bodies_are_shared_and_content_addressed(place):
    store = place.open()
    put(store, "a", "b", doc="same body ü")
    other = place.open()
    assert other.doc(UUIDS[0]) == other.doc(UUIDS[1]) == "same body ü"
    assert len(set(other.docs.values())) == 1 and other.doc_size(UUIDS[0]) == len("same body ü".encode())


# -- format version ------------------------------------------------------------------------
def test_a_new_store_is_written_in_the_current_format(place):
    put(place.open(), "a")
    assert place.open().format == 2


def test_a_store_of_a_newer_format_is_refused(place):
    put(place.open(), "a")
    place.write("format.json", seal({"format": 3, "since": 0, "by": "9.0"}))
    with pytest.raises(FormatError, match="format 3"):
        place.open()
