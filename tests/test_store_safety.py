"""Store guarantees under real processes: concurrent writers, SIGKILL, damaged files."""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from backlog.errors import StoreError
from backlog.store import doctor
from backlog.store.files import FileBackend
from backlog.store.store import Store
from tests.conftest import NOW, NOW_ISO, REPO, run_backlog
from tests.workers.writer import group_uuid

COMPACTION = pytest.mark.parametrize("compact_every", [1000, 4], ids=["no-compaction", "compact-every-4"])


def writer(root: Path, name: str, mode: str, count: int, compact_every: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.workers.writer", str(root), name, mode, str(count), str(compact_every)],
        cwd=REPO, env={**os.environ, "BACKLOG_NOW": NOW_ISO}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)


@pytest.mark.clockfree
@COMPACTION
def test_four_processes_writing_at_once_lose_nothing(store_dir, compact_every):
    procs = [writer(store_dir, f"w{k}", "mixed", 250, compact_every) for k in range(4)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert out.count("ack") == 250
    tasks = list(Store.open(store_dir).tasks.values())
    assert len(tasks) == 4 * 125
    ids = [t["id"] for t in tasks]
    assert len(set(ids)) == len(ids) == 500
    for k in range(4):
        mine = sorted((t for t in tasks if t["tags"][0] == f"w{k}"), key=lambda t: int(t["description"].split()[-1]))
        assert [t["description"] for t in mine] == [f"w{k} task {n}" for n in range(0, 250, 2)]
        assert [t["tags"] for t in mine] == [[f"w{k}", f"m{n + 1}"] for n in range(0, 250, 2)]


@pytest.mark.clockfree
@COMPACTION
def test_deleting_the_lock_file_while_writers_run_loses_nothing(store_dir, compact_every):
    procs = [writer(store_dir, f"w{k}", "mixed", 150, compact_every) for k in range(4)]
    stop, deleted = threading.Event(), []

    def delete_the_lock_file() -> None:
        while not stop.is_set():
            try:
                (store_dir / ".lock").unlink()
                deleted.append(1)
            except FileNotFoundError:
                pass
            time.sleep(0.001)

    deleter = threading.Thread(target=delete_the_lock_file)
    deleter.start()
    try:
        results = [proc.communicate(timeout=300) for proc in procs]
    finally:
        stop.set()
        deleter.join()
    for proc, (out, err) in zip(procs, results):
        assert proc.returncode == 0, err
        assert out.count("ack") == 150
    assert deleted
    tasks = list(Store.open(store_dir).tasks.values())
    ids = [t["id"] for t in tasks]
    assert len(set(ids)) == len(ids) == 4 * 75
    for k in range(4):
        mine = sorted((t for t in tasks if t["tags"][0] == f"w{k}"), key=lambda t: int(t["description"].split()[-1]))
        assert [t["tags"] for t in mine] == [[f"w{k}", f"m{n + 1}"] for n in range(0, 150, 2)]


@pytest.mark.clockfree
@COMPACTION
def test_a_writer_killed_at_any_instant_leaves_every_acknowledged_change(store_dir, compact_every):
    rng = random.Random(7)
    acked: dict[str, int] = {}
    for run in range(50):
        name = f"r{run}"
        proc = writer(store_dir, name, "groups", 0, compact_every)
        assert proc.stdout.readline() == "ready\n", proc.stderr.read()  # kill it while it writes, not while it imports
        time.sleep(rng.uniform(0.25, 0.9))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        acked[name] = out.count("ack ")
        store = Store.open(store_dir, compact_every=compact_every)
        for who, done in acked.items():
            for n in range(done + 2):
                group = [store.tasks.get(group_uuid(who, n, k)) for k in range(3)]
                present = [t for t in group if t]
                assert len(present) in (0, 3), f"{who} round {n}: a partial import is visible"
                assert len({t.get("priority") for t in present}) <= 1, f"{who} round {n}: a partial modify"
                if n < done:
                    assert all(t and t.get("priority") == "H" for t in group), f"{who} round {n} was acknowledged"
        ids = [t["id"] for t in store.tasks.values()]
        assert len(set(ids)) == len(ids)
        store.close()
    assert sum(acked.values()) > 0
    print("acknowledged rounds per killed writer:", sorted(acked.values()))


@pytest.mark.parametrize("bad", ["directory", "symlink"])
def test_writers_beside_a_bad_lock_file_exclude_each_other_by_the_data_dir(store_dir, bad):
    store_dir.mkdir(parents=True, exist_ok=True)
    if bad == "directory":
        (store_dir / ".lock").mkdir()
    else:
        (store_dir / ".lock").symlink_to(store_dir.parent / "elsewhere")
    procs = [writer(store_dir, f"w{k}", "mixed", 100, 8) for k in range(3)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert out.count("ack") == 100
    tasks = list(Store.open(store_dir).tasks.values())
    ids = [t["id"] for t in tasks]
    assert len(set(ids)) == len(ids) == 3 * 50
    for k in range(3):
        mine = sorted((t for t in tasks if t["tags"][0] == f"w{k}"), key=lambda t: int(t["description"].split()[-1]))
        assert [t["tags"] for t in mine] == [[f"w{k}", f"m{n + 1}"] for n in range(0, 100, 2)]
    assert not (store_dir.parent / "elsewhere").exists()


@pytest.mark.parametrize("holder", ["older version's filelock", "data dir flock"])
def test_a_writer_waits_for_a_held_lock_then_gives_up_with_one_line(store_dir, holder):
    """`.lock` held as earlier versions held it (the filelock package), or the data dir held as
    this version's writers hold it: a writer waits its timeout, then says so, and writes once free."""
    from filelock import FileLock

    store_dir.mkdir(parents=True, exist_ok=True)
    backend = FileBackend(store_dir, lock_timeout=1.0)
    with contextlib.ExitStack() as held:
        if holder.endswith("filelock"):
            held.enter_context(FileLock(str(store_dir / ".lock")))
        else:
            fd = os.open(store_dir, os.O_RDONLY | os.O_DIRECTORY)
            held.callback(os.close, fd)
            fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(StoreError) as caught:
            with backend.lock():
                pass
    assert str(caught.value) == (f"{store_dir}: could not take the write lock within 1s; "
                                 "another backlog process is holding it, retry when it is done")
    with backend.lock(), backend.lock():  # free again, and reentrant
        assert backend._lock_fd is not None and backend._dir_fd is not None
    assert backend._lock_fd is None and backend._dir_fd is None


def test_a_journal_cut_between_concurrent_writers_stops_them_all_and_repair_names_the_cut(store_dir):
    procs = [writer(store_dir, f"w{k}", "mixed", 400, 5000) for k in range(3)]  # no compaction
    path = store_dir / "journal" / "000000.jsonl"
    deadline = time.monotonic() + 120
    while not (path.exists() and path.read_bytes().count(b"\n") >= 60):
        dead = [proc.communicate()[1] for proc in procs if proc.poll() is not None]
        assert time.monotonic() < deadline and not dead, f"the writers did not get going: {dead}"
        time.sleep(0.01)
    with FileBackend(store_dir).lock():  # between two writers' commits, as an operator's cut may land
        assert [p.name for p in (store_dir / "journal").glob("*.jsonl")] == [path.name]  # no compaction yet
        lines = path.read_bytes().split(b"\n")[:-1]
        path.write_bytes(b"".join(line + b"\n" for line in lines[:-5]))
    results = [proc.communicate(timeout=300) for proc in procs]
    for proc, (_out, err) in zip(procs, results):
        assert proc.returncode != 0 and "backlog doctor" in err.strip().splitlines()[-1], err
    acked = sum(out.count("ack") for out, _err in results)
    # nothing was acknowledged after the cut; a writer whose commit landed just before it may
    # have failed while reading back its answer (one unacknowledged durable line per writer)
    assert len(lines) - len(procs) <= acked <= len(lines)
    assert path.read_bytes().count(b"\n") == len(lines) - 5  # nobody wrote into the cut file
    report = "\n".join(doctor.repair(store_dir, NOW))
    assert f"recorded transactions #{len(lines) - 4}–#{len(lines)} as lost" in report
    assert Store.open(store_dir).seq == len(lines) and doctor.check(store_dir) == []


def test_history_read_while_another_process_merges_it_is_whole(store_dir):
    first = writer(store_dir, "w0", "mixed", 2, 2)
    first.communicate(timeout=120)
    proc = writer(store_dir, "w1", "mixed", 600, 2)  # a compaction every 2 commits: a merge every ~14
    store, reads = Store.open(store_dir), 0
    uuid = next(iter(store.tasks))
    while proc.poll() is None:
        store.refresh()
        assert [r["tool"] for r in store.history(uuid)] == ["task_add", "task_modify"]
        reads += 1
    assert proc.returncode == 0 and reads > 0


def journal(root: Path) -> Path:
    return max((root / "journal").glob("*.jsonl"))


def fill(root: Path, env: dict, count: int = 5) -> None:
    for n in range(count):
        assert run_backlog(["add", f"task {n}"], env).returncode == 0


@pytest.fixture
def cli_env(clean_env, store_dir):
    return {**clean_env, "TASKDATA": str(store_dir)}


@COMPACTION
def test_a_damaged_middle_line_is_a_clear_error_and_nothing_is_overwritten(store_dir, cli_env, compact_every):
    cli_env["BACKLOG_COMPACT_EVERY"] = str(compact_every)
    fill(store_dir, cli_env, 6 if compact_every > 6 else 7)
    path = journal(store_dir)
    lines = path.read_bytes().split(b"\n")
    assert len(lines) >= 3
    lines[0] = lines[0][: len(lines[0]) // 2]
    path.write_bytes(b"\n".join(lines))
    before = {p: p.read_bytes() for p in store_dir.rglob("*") if p.is_file()}
    for args in (["list"], ["add", "one more"]):
        result = run_backlog(args, cli_env)
        assert result.returncode == 2
        message = result.stderr.strip()
        assert len(message.splitlines()) == 1
        assert str(path) in message and "line 1" in message and "backlog doctor" in message
    after = {p: p.read_bytes() for p in store_dir.rglob("*") if p.is_file() and p.name != ".lock"}
    assert after == {p: b for p, b in before.items() if p.name != ".lock"}
    with pytest.raises(StoreError):
        Store.open(store_dir)


@COMPACTION
def test_a_torn_final_line_is_ignored_and_cut_on_the_next_commit(store_dir, cli_env, compact_every):
    cli_env["BACKLOG_COMPACT_EVERY"] = str(compact_every)
    fill(store_dir, cli_env, 3)
    path = journal(store_dir)
    good = path.read_bytes()
    path.write_bytes(good + b'{"seq": 99, "at": "2026')
    assert len(Store.open(store_dir).tasks) == 3
    assert run_backlog(["add", "after the tear"], cli_env).returncode == 0
    text = journal(store_dir).read_bytes()
    assert b'"seq": 99' not in text and b"2026\n" not in text and text.endswith(b"\n")
    assert len(Store.open(store_dir).tasks) == 4


@COMPACTION
def test_doctor_repair_recovers_a_damaged_journal(store_dir, cli_env, compact_every):
    cli_env["BACKLOG_COMPACT_EVERY"] = str(compact_every)
    fill(store_dir, cli_env, 6)
    path = journal(store_dir)
    lines = path.read_bytes().split(b"\n")
    victim = lines[0]
    lines[0] = b"\x00\x00not json"
    path.write_bytes(b"\n".join(lines))
    check = run_backlog(["doctor"], cli_env)
    assert check.returncode == 2 and "damaged" in check.stdout
    repaired = run_backlog(["doctor", "--repair"], cli_env)
    assert repaired.returncode == 0, repaired.stderr
    assert "dropped transaction" in repaired.stdout and ".damaged-20261124T101453Z" in repaired.stdout  # BACKLOG_NOW
    assert run_backlog(["doctor"], cli_env).returncode == 0
    store = Store.open(store_dir)
    lost = next(op["n"]["description"] for op in __import__("orjson").loads(victim)["ops"]) if victim.startswith(b"{") else None
    remaining = sorted(t["description"] for t in store.tasks.values())
    assert len(remaining) == 5 and lost not in remaining
    assert run_backlog(["add", "after repair"], cli_env).returncode == 0


def test_doctor_repair_rebuilds_a_damaged_snapshot_from_the_journal(store_dir, cli_env):
    cli_env["BACKLOG_COMPACT_EVERY"] = "3"
    fill(store_dir, cli_env, 7)
    (store_dir / "tasks.json").write_bytes(b'{"gen": 2, "seq": 6, "tas')
    assert run_backlog(["list"], cli_env).returncode == 2
    repaired = run_backlog(["doctor", "--repair"], cli_env)
    assert repaired.returncode == 0, repaired.stderr
    assert "rebuilt the state" in repaired.stdout
    assert sorted(t["description"] for t in Store.open(store_dir).tasks.values()) == [f"task {n}" for n in range(7)]
