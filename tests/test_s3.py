"""What only the S3 backend does: conditional commits, races between machines, refusing unsafe
servers, lost responses, and one-line errors for its settings (a real moto server on 127.0.0.1)."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import NOW, REPO, missing, run_backlog
from s3_support import BUCKET, CREDENTIALS, Place, Proxy, client, moto_server
from test_hook_imports import NOT_WRITING, imported_modules

from backlog.engine.backlog import Backlog
from backlog.errors import StoreError
from backlog.runtime import open_backlog
from backlog.errors import Conflict
from backlog.store.store import Store

AT = "2026-11-24T10:00:00Z"
TIMEOUT_S = 300


@pytest.fixture
def place(endpoint: str, tmp_path: Path) -> Place:
    """A fresh prefix in the test bucket."""
    return Place("s3", tmp_path, endpoint)


def add(store: Store, uuid: str) -> dict | None:
    with store.transaction(at=AT, agent="t", tool="test") as tx:
        tx.put({"uuid": uuid, "id": tx.new_id(), "description": uuid, "status": "pending"})
    return tx.record


def backlog(store: Store, agent: str) -> Backlog:
    return Backlog(store, tz=timezone.utc, clock=lambda: NOW, agent=agent)


def test_the_second_writer_of_a_sequence_gets_conflict_and_writes_nothing(place):
    first, second = place.open(), place.open()
    add(first, "a")
    with pytest.raises(Conflict):
        with second.transaction(at=AT, agent="t", tool="test") as tx:  # second has caught up: seq 1
            add(first, "b")  # meanwhile another machine commits sequence 2
            tx.put({"uuid": "c", "id": tx.new_id(), "description": "c", "status": "pending"})
    assert (second.seq, sorted(second.tasks)) == (1, ["a"])
    assert add(second, "c")["seq"] == 3  # its next transaction catches up first
    again = place.open()
    assert (again.seq, sorted(again.tasks)) == (3, ["a", "b", "c"])


def test_a_use_case_that_lost_the_race_runs_again_on_the_new_state(place, tmp_path):
    theirs = backlog(place.open(), "theirs")
    with Proxy(place.endpoint, before_txn_put=lambda: theirs.add("intruder")) as proxy:
        mine = backlog(Place("s3", tmp_path, proxy.endpoint).open_at(place.prefix), "mine")
        answer = mine.add("mine")
    assert answer["task"]["id"] == 2 and mine.store.seq == 2
    assert sorted(t["description"] for t in place.open().tasks.values()) == ["intruder", "mine"]


def test_eight_claims_from_separate_machines_on_three_ready_tasks_have_three_winners(place):
    setup = backlog(place.open(), "setup")
    for name in ("a", "b", "c"):
        setup.add(name)
    env = {**os.environ, **place.env, "PYTHONPATH": str(REPO), "BACKLOG_NOW": AT}
    procs = [subprocess.Popen([sys.executable, "-m", "tests.workers.claimer", f"agent{n}"], cwd=REPO, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for n in range(8)]
    for proc in procs:
        assert proc.stdout.readline() == "ready\n", proc.stderr.read()
    for proc in procs:  # all open (each its own store and client): now claim at once
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = [proc.communicate(timeout=TIMEOUT_S)[0].strip() for proc in procs]
    won = sorted(int(r.split()[1]) for r in results if r.startswith("won "))
    assert won == [1, 2, 3], results
    assert sum(r.startswith("lost ") for r in results) == 5
    holders = {t["id"]: t.get("owner") or t.get("lease", {}).get("holder") for t in place.open().tasks.values()}
    assert len(set(holders.values())) == 3


def test_a_server_that_ignores_if_none_match_is_refused(place, tmp_path):
    with Proxy(place.endpoint, strip_if_none_match=True) as proxy:
        unsafe = Place("s3", tmp_path, proxy.endpoint)
        store = unsafe.open()
        with pytest.raises(StoreError, match=r"^s3://.*: the server accepted a second put of the same key with If-None-Match"):
            add(store, "a")
        assert store.seq == 0


def test_a_commit_whose_response_was_lost_is_recognised_as_ours(place, tmp_path):
    lost = iter(["drop-after"])
    with Proxy(place.endpoint, fault=lambda method, path: next(lost, "pass") if "/txn/" in path and method == "PUT"
               else "pass") as proxy:
        record = add(Place("s3", tmp_path, proxy.endpoint).open_at(place.prefix), "a")
        assert proxy.faults == 1
    again = place.open()
    assert record["seq"] == 1 and again.seq == 1 and list(again.tasks) == ["a"]


def test_a_commit_whose_outcome_cannot_be_told_says_so_and_points_at_history(place, tmp_path):
    fates = {"landed": False}

    def cut_off_after_the_commit(method: str, path: str) -> str:  # the put lands, then nothing answers
        if fates["landed"]:
            return "reset"
        if method == "PUT" and "/txn/" in path:
            fates["landed"] = True
            return "drop-after"
        return "pass"

    with Proxy(place.endpoint, fault=cut_off_after_the_commit) as proxy:
        store = Place("s3", tmp_path, proxy.endpoint).open_at(place.prefix)
        with pytest.raises(StoreError) as caught:
            add(store, "a")
    message = str(caught.value)
    assert "\n" not in message and "txn/000000000001: the commit's outcome is unknown" in message
    assert message.endswith("look at task_history before retrying")
    assert list(place.open().tasks) == ["a"]  # it did land: everyone sees it


FATES = ["503", "503-after", "slow", "drop-after", "reset"]


@pytest.mark.clockfree
def test_faults_on_a_schedule_lose_no_acknowledged_write_and_duplicate_none(place, tmp_path):
    count = iter(range(10**6))

    def every_third(method: str, path: str) -> str:  # the 3rd, 6th, … request fails, in turn each way
        n = next(count)
        return FATES[(n // 3) % len(FATES)] if n % 3 == 2 else "pass"

    with Proxy(place.endpoint, fault=every_third) as proxy:
        mine = backlog(Place("s3", tmp_path, proxy.endpoint).open_at(place.prefix, compact_every=4), "mine")
        answers = [mine.add(f"task {n}")["task"]["id"] for n in range(16)]
        mine.doc_write(answers[0], content="# survives faults")
        assert proxy.faults > 16
    again = place.open()
    assert answers == list(range(1, 17)) and again.seq == 17
    assert sorted(t["description"] for t in again.tasks.values()) == sorted(f"task {n}" for n in range(16))
    assert again.doc(again.ids[1]) == "# survives faults"


# -- settings and their one-line errors, through the real CLI ------------------------------
def cli_env(clean_env: dict, **extra: str) -> dict:
    return {**clean_env, **CREDENTIALS, "BACKLOG_BACKEND": "s3", **extra}


def test_a_missing_bucket_variable_is_named(clean_env):
    result = run_backlog(["list"], cli_env(clean_env, BACKLOG_S3_PREFIX="p"))
    assert (result.returncode, result.stderr) == (
        1, "backlog: BACKLOG_S3_BUCKET: is not set but BACKLOG_BACKEND is 's3'; "
           "set it to the bucket that holds the shared backlog\n")


def test_a_missing_prefix_outside_a_repository_names_backlog_s3_prefix(clean_env, tmp_path):
    result = run_backlog(["list"], cli_env(clean_env, BACKLOG_S3_BUCKET=BUCKET), cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.startswith("backlog: BACKLOG_S3_PREFIX: is not set")


def test_a_bucket_that_does_not_exist_answers_one_line(clean_env, endpoint):
    result = run_backlog(["list"], cli_env(clean_env, BACKLOG_S3_BUCKET="no-such-bucket", BACKLOG_S3_PREFIX="p",
                                           BACKLOG_S3_ENDPOINT=endpoint))
    assert (result.returncode, result.stderr) == (  # 2: the store, not the input, is at fault
        2, "backlog: s3://no-such-bucket/p: reading format.json failed (NoSuchBucket); "
           "check BACKLOG_S3_BUCKET (the bucket must exist)\n")


def test_without_boto3_the_answer_says_how_to_install_it(clean_env, tmp_path):
    blocker = tmp_path / "blocker" / "boto3"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('no boto3 here')\n")
    env = cli_env(clean_env, BACKLOG_S3_BUCKET=BUCKET, BACKLOG_S3_PREFIX="p",
                  PYTHONPATH=f"{blocker.parent}{os.pathsep}{clean_env['PYTHONPATH']}")
    result = run_backlog(["list"], env)
    assert (result.returncode, result.stderr) == (
        1, "backlog: BACKLOG_BACKEND: 's3' needs boto3, which is not installed; pip install 'backlog[s3]'\n")


def test_the_cli_adds_and_lists_on_s3(clean_env, place):
    env = {**clean_env, **place.env}
    assert run_backlog(["add", "shared task"], env).returncode == 0
    listed = run_backlog(["list"], env)
    assert listed.returncode == 0 and "shared task" in listed.stdout
    keys = [o["Key"] for o in client(place.endpoint).list_objects_v2(Bucket=BUCKET, Prefix=place.prefix)["Contents"]]
    assert f"{place.prefix}/txn/000000000001" in keys


def test_a_writing_hook_on_s3_imports_neither_boto3_nor_orjson(clean_env, place):
    """TaskCreated on a bucket: s3light signs the requests, the standard library seals the record."""
    env = {**clean_env, **place.env}
    payload = '{"session_id": "s1", "task_id": "1", "task_subject": "Mirrored to the bucket"}'
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "backlog", "hook", "TaskCreated"],
                            input=payload, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Mirrored to the bucket" in run_backlog(["list"], env).stdout
    heavy = (NOT_WRITING | {"boto3", "botocore"}) & imported_modules(result.stderr)
    assert not heavy, sorted(heavy)


def session_start_on_s3(env: dict, at: datetime) -> tuple[str, set[str]]:
    """(SessionStart's text as a fresh process at `at`, the store modules it imported)."""
    payload = '{"session_id": "s1", "source": "startup"}'
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "backlog", "hook", "SessionStart"],
                            input=payload, capture_output=True, text=True, timeout=120,
                            env={**env, "BACKLOG_NOW": at.isoformat().replace("+00:00", "Z")})
    assert result.returncode == 0 and result.stdout, result.stderr[-2000:]
    modules = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    import json

    return (json.loads(result.stdout)["hookSpecificOutput"]["additionalContext"],
            {m for m in modules if m in ("backlog.store.store", "backlog.store.s3", "backlog.store.s3light")})


def test_session_start_on_s3_answers_from_this_machines_summary_for_a_minute_and_says_how_old(clean_env, place):
    env = {**clean_env, **place.env}
    assert run_backlog(["add", "shared task"], {**env, "BACKLOG_NOW": NOW.isoformat()}).returncode == 0
    first, opened = session_start_on_s3(env, NOW)
    assert "#1 shared task" in first and "saw it" not in first and opened  # nothing kept yet: it opened the store
    assert run_backlog(["add", "added by another machine"], {**env, "XDG_CACHE_HOME": str(Path(env["XDG_CACHE_HOME"]) / "other"),
                                                            "BACKLOG_NOW": NOW.isoformat()}).returncode == 0
    cached, opened = session_start_on_s3(env, NOW + timedelta(seconds=30))
    assert not opened, opened  # answered from the summary: no request, no store
    assert "#1 shared task" in cached and "The shared backlog as this machine saw it 30 s ago." in cached
    later, opened = session_start_on_s3(env, NOW + timedelta(seconds=61))
    assert opened and "saw it" not in later and "2 pending" in later  # older than a minute: asked the bucket


# -- the per-machine cache -----------------------------------------------------------------
def test_a_warm_cache_answers_the_immutable_objects(place):
    store = place.open(compact_every=3)
    for name in "abcde":
        add(store, name)
    place.open()  # fills the cache
    warm = place.open()
    assert warm.backend.cache.hits >= 2 and sorted(warm.tasks) == list("abcde")


def test_a_damaged_cache_is_discarded_and_refetched_never_reported(place, tmp_path):
    store = place.open(compact_every=3)
    for name in "abcde":
        add(store, name)
    place.open()
    files = list((tmp_path / "cache").rglob("*-*.*"))
    assert files
    for path in files:
        path.write_bytes(path.read_bytes()[:-5] + b"XXXXX")
    again = place.open()
    assert sorted(again.tasks) == list("abcde") and again.backend.cache.hits == 0
    assert place.open().backend.cache.hits >= 2  # fetched again and kept


# -- server time -----------------------------------------------------------------------------
@pytest.mark.wallclock
def test_leases_expire_by_the_servers_clock_not_the_writers(tmp_path, monkeypatch):
    found = sorted(glob.glob("/usr/lib*/faketime/libfaketime.so.1") + glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    if not found:
        missing("libfaketime is not installed; bash .ci/run installs it (package faketime)")
    with moto_server({"LD_PRELOAD": found[0], "FAKETIME": "+3h"}) as ahead:  # the server's clock runs 3 h ahead
        place = Place("s3", tmp_path, ahead)
        for key, value in CREDENTIALS.items():
            monkeypatch.setenv(key, value)  # boto3 reads them from the process environment
        env = {k: v for k, v in os.environ.items() if k != "BACKLOG_NOW"} | place.env | {"BACKLOG_LEASE": "10m"}
        team = open_backlog(env, str(tmp_path), channel="cli", agent="a")
        team.add("shared")
        team.claim("a")
        expires = next(iter(team.store.tasks.values()))["lease"]["expires"]
    expected = datetime.now(timezone.utc) + timedelta(hours=3, minutes=10)
    assert abs(datetime.fromisoformat(expires.replace("Z", "+00:00")) - expected) < timedelta(minutes=2)


def test_a_backlog_moves_from_disk_to_the_bucket_with_export_and_import(clean_env, place, tmp_path):
    disk = {**clean_env, "TASKDATA": str(tmp_path / "data")}
    for name in ("first", "second +bug"):
        assert run_backlog(["add", *name.split()], disk).returncode == 0
    exported = run_backlog(["export"], disk)
    bucket = {**clean_env, **place.env}
    imported = run_backlog(["import"], bucket, stdin=exported.stdout)
    assert imported.returncode == 0, imported.stderr
    moved = sorted((t["description"], t.get("tags", [])) for t in place.open().tasks.values())
    assert moved == [("first", []), ("second", ["bug"])]


def test_migrate_moves_a_backlog_with_its_history_and_docs_to_the_bucket_and_back(clean_env, place, tmp_path):
    source = backlog(Store.open(tmp_path / "data", compact_every=2), "me")
    for name in ("first", "second", "third"):
        source.add(name)
    source.doc_write(1, content="# notes that move")
    source.done(2)
    truth = ({u: t for u, t in source.store.tasks.items()}, source.history(1), source.history(2))
    disk = {**clean_env, **place.env, "TASKDATA": str(tmp_path / "data")}
    disk.pop("BACKLOG_BACKEND")
    moved = run_backlog(["migrate", "--to", "s3"], disk)
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.startswith("copied 3 tasks, 5 transactions, 1 doc bodies and 0 archive segments from ")
    bucket = backlog(place.open(), "me")
    assert (bucket.store.tasks, bucket.history(1), bucket.history(2)) == truth
    assert bucket.doc_read(1)["content"] == "# notes that move"
    bucket.undo()  # the done, made on disk, undone on the bucket
    assert bucket.info(2)["task"]["status"] == "pending"
    again = run_backlog(["migrate", "--to", "s3"], disk)
    assert (again.returncode, again.stderr) == (2, f"backlog: s3://{BUCKET}/{place.prefix}: is not empty; migrate "
                                                   "into a new, empty place (another BACKLOG_S3_PREFIX or TASKDATA), "
                                                   "or remove what is there first\n")
    back = run_backlog(["migrate", "--to", "files"], {**disk, **place.env, "TASKDATA": str(tmp_path / "back")})
    assert back.returncode == 0, back.stderr
    home = backlog(Store.open(tmp_path / "back"), "me")
    assert home.store.tasks == bucket.store.tasks and len(home.history(2)["entries"]) == len(truth[2]["entries"]) + 1


def test_migrate_needs_to_name_the_other_backend(clean_env, tmp_path):
    result = run_backlog(["migrate"], {**clean_env, "TASKDATA": str(tmp_path / "data")})
    assert (result.returncode, result.stderr) == (
        1, "backlog: --to: '' is not where this backlog can go from 'files'; use --to s3\n")


def test_two_machines_see_each_others_writes_on_their_next_call(clean_env, place, tmp_path):
    machines = [{**clean_env, **place.env, "HOME": str(tmp_path / name), "XDG_CACHE_HOME": str(tmp_path / name / "cache")}
                for name in ("laptop", "server")]  # separate homes, separate caches, one bucket
    laptop, server = machines
    assert run_backlog(["add", "from the laptop"], laptop).returncode == 0
    assert "from the laptop" in run_backlog(["list"], server).stdout
    assert run_backlog(["1", "start"], server).returncode == 0
    assert "from the laptop" in run_backlog(["list", "+ACTIVE"], laptop).stdout


@pytest.mark.parametrize("kind", ["s3", "s3-light"])
def test_every_object_is_encrypted_as_backlog_s3_sse_says(endpoint, tmp_path, kind):
    place = Place(kind, tmp_path, endpoint)
    place.env["BACKLOG_S3_SSE"] = "AES256"
    store = place.open()
    add(store, "a")
    with store.transaction(at=AT, agent="t", tool="test") as tx:
        tx.write_doc("a", "# secret")
    s3 = client(endpoint)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=place.prefix + "/")["Contents"]]
    assert {k.split("/")[2] for k in keys} >= {"txn", "docs", "format.json"}
    for key in keys:
        assert s3.head_object(Bucket=BUCKET, Key=key).get("ServerSideEncryption") == "AES256", key


def test_a_damaged_snapshot_is_refused_with_its_key(place):
    store = place.open(compact_every=2)
    for name in "abc":
        add(store, name)
    data = place.read("snap/000001.json")
    place.write("snap/000001.json", data.replace(b'"a"', b'"A"', 1))
    with pytest.raises(StoreError, match=r"^s3://\S+/snap/000001\.json is damaged \(checksum mismatch\)"):
        place.open()


def test_the_server_starts_while_s3_is_unreachable_and_uses_it_once_it_answers(tmp_path):
    from s3_support import free_port
    from tests.server_support import McpServer, server_env

    port = free_port()  # nothing listens here yet
    env = server_env(tmp_path, BACKLOG_BACKEND="s3", BACKLOG_S3_BUCKET=BUCKET, BACKLOG_S3_PREFIX="team",
                     BACKLOG_S3_ENDPOINT=f"http://127.0.0.1:{port}", **CREDENTIALS)
    with McpServer(env) as server:
        assert len(server.list_tools()) == 27
        line = server.fail("task_list", {})
        assert line.startswith(f"store: s3://{BUCKET}/team: reading format.json failed (") and "\n" not in line
        assert "check BACKLOG_S3_ENDPOINT or the network and retry" in line
        with moto_server(port=port):
            assert server.ok("task_add", {"description": "now it answers"})["task"]["id"] == 1


def test_the_plugin_launcher_keeps_an_environment_with_the_s3_extra_apart(tmp_path):
    from tests.test_launcher import fake_env, fake_root, launch

    root = fake_root(tmp_path)
    plain = fake_env(tmp_path / "data", "1.2.3")
    with_s3 = fake_env(tmp_path / "data", "1.2.3-s3")  # what BACKLOG_BACKEND=s3 builds (with boto3)
    assert launch("--prepare", data=tmp_path / "data", root=root).stdout == f"{plain}\n".encode()
    on_s3 = launch("--prepare", data=tmp_path / "data", root=root, BACKLOG_BACKEND="s3")
    assert (on_s3.returncode, on_s3.stdout) == (0, f"{with_s3}\n".encode())


# -- the board on a bucket -------------------------------------------------------------------------
def test_the_board_on_s3_polls_the_bucket_once_a_second_says_so_and_pushes_other_machines_writes(
        clean_env, endpoint, tmp_path):
    import http.client

    from board_support import start_board

    env = cli_env(clean_env, BACKLOG_S3_BUCKET=BUCKET, BACKLOG_S3_PREFIX=f"board-{tmp_path.name}",
                  BACKLOG_S3_ENDPOINT=endpoint, BACKLOG_S3_REGION="us-east-1", XDG_CACHE_HOME=str(tmp_path / "cache"))
    assert run_backlog(["add", "first on the bucket"], env).returncode == 0
    board = start_board(env)
    try:
        status, _, html = board.request("GET", "/")
        assert status == 200 and "first on the bucket" in html
        assert "S3: the server asks the bucket for changes every 1 s" in html
        conn = http.client.HTTPConnection("127.0.0.1", board.port, timeout=60)
        conn.request("GET", "/events", headers={"Host": f"127.0.0.1:{board.port}",
                                                "Cookie": f"backlog_board={board.token}"})
        events = conn.getresponse()

        def next_data() -> int:
            while True:
                line = events.readline().decode()
                assert line, "the event stream ended"
                if line.startswith("data: "):
                    return int(line[6:])

        first = next_data()
        other = {**env, "XDG_CACHE_HOME": str(tmp_path / "other-machine")}  # another machine's cache
        assert run_backlog(["add", "from another machine"], other).returncode == 0
        assert next_data() > first
        conn.close()
        _, _, html = board.request("GET", "/")
        assert "from another machine" in html
    finally:
        board.stop()
