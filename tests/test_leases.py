"""Leases in the engine (issue 12): claim, expiry, takeover, fencing, renewal, release.

Each backlog here is a separate `Backlog` (own writer key) on one data dir, as separate
server processes are; the clock is a movable fake shared by all of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import timedelta, timezone

import pytest

from backlog.engine.backlog import Backlog
from backlog.engine.leases import parse_duration
from backlog.store.store import Store
from tests.conftest import NOW, REPO, error
from tests.server_support import McpServer, server_env
from tests.test_server_process import INITIALIZE, INITIALIZED, answer, call, lines, start
from tests.test_engine import Clock

LEASE = timedelta(minutes=5)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def server(store_dir, clock, writer: str, session: str | None = None) -> Backlog:
    return Backlog(Store.open(store_dir), tz=timezone.utc, clock=clock, agent="user", writer=writer,
                   session=session, lease=LEASE)


@pytest.fixture
def one(store_dir, clock) -> Backlog:
    return server(store_dir, clock, "mcp:one", "s-one")


@pytest.fixture
def two(store_dir, clock) -> Backlog:
    return server(store_dir, clock, "mcp:two", "s-two")


def lease(backlog: Backlog, id: int = 1) -> dict | None:
    return backlog.info(id)["task"].get("lease")


def test_claim_leases_the_task_to_the_claimant_and_info_shows_it(one):
    one.add("a")
    message = one.claim("w1")["message"]
    assert message == "task 1 claimed by w1 until 2026-11-24T10:19:53Z"
    assert lease(one) == {"holder": "w1", "kind": "claimed", "expires": "2026-11-24T10:19:53Z",
                          "by": "mcp:one", "session": "s-one"}
    assert [t["id"] for t in one.list("+CLAIMED")["tasks"]] == [1]


def test_a_live_lease_keeps_the_task_from_other_claims_and_an_expired_one_does_not(one, two, clock):
    one.add("a")
    one.claim("w1")
    assert error(two.claim, "w2").startswith("filter: nothing to claim")
    clock.advance(minutes=5)
    assert one.list("+CLAIMED")["tasks"] == []
    message = two.claim("w2")["message"]
    assert message == ("task 1 claimed by w2 until 2026-11-24T10:24:53Z "
                       "(took it over from w1, whose lease expired at 2026-11-24T10:19:53Z)")


def test_the_takeover_is_in_the_history(one, two, clock):
    one.add("a")
    one.claim("w1")
    clock.advance(minutes=6)
    two.claim("w2", id=1)
    last = two.history(1)["entries"][-1]
    assert last["agent"] == "w2" and last["tool"] == "task_claim"
    assert "took_over" in str(last)


@pytest.mark.parametrize("call", ["done", "start", "stop"])
def test_the_former_holder_is_fenced_after_a_takeover(one, two, clock, call):
    one.add("a")
    one.claim("w1")
    clock.advance(minutes=6)
    two.claim("w2")
    assert error(getattr(one, call), 1, agent="w1") == (
        "id: your lease on #1 expired at 2026-11-24T10:19:53Z; w2 took it over; claim another task with task_claim")


def test_the_former_holders_annotation_is_kept_and_marked_late(one, two, clock):
    one.add("a")
    one.claim("w1")
    clock.advance(minutes=6)
    two.claim("w2")
    assert one.annotate(1, "found it", agent="w1")["message"].endswith("(marked late: your lease was taken over)")
    assert one.info(1)["task"]["annotations"][-1]["description"] == "(late) found it"
    assert lease(one)["holder"] == "w2"


def test_writes_by_the_holder_renew_its_lease(one, clock):
    one.add("a")
    one.claim("w1")
    clock.advance(minutes=4)
    one.annotate(1, "progress", agent="w1")
    assert lease(one)["expires"] == "2026-11-24T10:23:53Z"
    clock.advance(minutes=4)
    one.annotate(1, "someone else's note", agent="w9")
    assert lease(one)["expires"] == "2026-11-24T10:23:53Z"


def test_the_heartbeat_renews_only_the_leases_its_writer_took(one, two, clock):
    one.add("a")
    one.add("b")
    one.claim("w1", id=1)
    two.claim("w2", id=2)
    clock.advance(minutes=3)
    assert one.renew_leases() == 1
    assert (lease(one, 1)["expires"], lease(one, 2)["expires"]) == ("2026-11-24T10:22:53Z", "2026-11-24T10:19:53Z")
    assert one.renew_leases() == 0  # same clock: nothing to write
    assert [e["tool"] for e in one.history(1)["entries"]] == ["task_add", "task_claim"], "heartbeats are not history"


def test_heartbeats_are_not_undone_and_do_not_count_as_changes_to_undo(one, clock):
    one.add("a")
    one.claim("w1")
    clock.advance(minutes=3)
    one.renew_leases()
    assert one.undo()["message"].startswith("undid task_claim by w1")


def test_done_and_stop_release_the_lease_and_the_owner_stays(one):
    one.add("a")
    one.add("b")
    one.claim("w1", id=1)
    one.claim("w1", id=2)
    one.done(1, agent="w1")
    one.stop(2, agent="w1")
    assert [(t.get("lease"), t["agent"]) for t in (one.info(1)["task"], one.info(2)["task"])] == [
        (None, "w1"), (None, "w1")]


def test_duplicate_and_recurrence_copy_the_owner_but_never_the_lease(one):
    one.add("weekly", recur="weekly", due="2026-11-25")
    one.claim("w1", id=2)
    copy = one.duplicate(2)["task"]
    assert copy["agent"] == "w1" and "lease" not in one.info(copy["id"])["task"]
    nxt = one.done(2, agent="w1")["message"].split("next instance is task ")[1].split(",")[0]
    assert "lease" not in one.info(int(nxt))["task"]


def test_export_leaves_the_lease_out_and_import_drops_it(one):
    one.add("a")
    one.claim("w1")
    exported = one.export("")
    assert "lease" not in exported[0] and exported[0]["agent"] == "w1"
    imported = one.import_tasks(json.dumps([{**exported[0], "uuid": "11111111-1111-4111-8111-111111111111",
                                             "lease": {"holder": "w1", "kind": "claimed", "expires": "x"}}]))
    assert "lease" not in one.info(imported["ids"][0])["task"]


def test_release_ends_an_assignment_and_annotates_an_abandoned_claim(one):
    one.add("a", priority="H")
    one.add("b")
    one.assign("task-worker#aaaaaa")
    assert one.release("task-worker#aaaaaa", "bye") and lease(one, 1) is None
    one.claim("task-worker#bbbbbb", id=2)
    released = one.release("task-worker#bbbbbb", "Ran out of ideas")
    task = one.info(2)["task"]
    assert [t["id"] for t in released] == [2] and "start" not in task and "lease" not in task
    assert task["annotations"][-1]["description"] == "stopped by task-worker#bbbbbb without finishing: Ran out of ideas"
    assert one.claim("w2")["task"]["id"] == 1


def test_release_session_lets_go_of_that_sessions_leases_only(one, two):
    one.add("a")
    one.add("b")
    one.claim("w1", id=1)
    two.claim("w2", id=2)
    assert [t["id"] for t in one.release_session("s-one", "session ended")] == [1]
    assert lease(one, 1) is None and lease(one, 2)["holder"] == "w2"


@pytest.mark.parametrize("text, seconds", [("1s", 1), ("90", 90), ("10m", 600), ("2h", 7200), (" 1D ", 86400)])
def test_lease_durations(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["0s", "", "5 min", "-1s", "1.5h"])
def test_bad_lease_durations_are_one_line_errors(text):
    assert error(parse_duration, text) == f"BACKLOG_LEASE: '{text}' is not a duration; use e.g. 1s, 90s, 10m or 2h"


# -- through the real server processes -----------------------------------------------------------

def later(minutes: int) -> str:
    return (NOW + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_expiry_takeover_fencing_and_history_across_servers(tmp_path):
    """BACKLOG_NOW pins each server's clock: the holder's server runs at NOW (its heartbeat
    cannot extend the lease past NOW + 1m), the others later."""
    env = server_env(tmp_path, BACKLOG_LEASE="1m")
    holder = McpServer(env)
    holder.ok("task_add", {"description": "contested"})
    assert holder.ok("task_claim", {"agent": "w1"})["message"] == "task 1 claimed by w1 until 2026-11-24T10:15:53Z"
    with holder:  # alive throughout: a server that exits cleanly releases its leases
        with McpServer({**env, "BACKLOG_NOW": later(0)}) as early:
            assert early.fail("task_claim", {"agent": "w2", "id": 1}) == (
                "id: task 1 is claimed to w1 until 2026-11-24T10:15:53Z; claim another task, or ask that agent")
        with McpServer({**env, "BACKLOG_NOW": later(2)}) as taker, McpServer({**env, "BACKLOG_NOW": later(3)}) as former:
            assert taker.ok("task_claim", {"agent": "w2"})["message"] == (
                "task 1 claimed by w2 until 2026-11-24T10:17:53Z "
                "(took it over from w1, whose lease expired at 2026-11-24T10:15:53Z)")
            for tool in ("task_done", "task_start", "task_stop"):
                assert former.fail(tool, {"id": 1, "agent": "w1"}) == (
                    "id: your lease on #1 expired at 2026-11-24T10:15:53Z; w2 took it over; claim another task with task_claim")
            former.ok("task_annotate", {"id": 1, "text": "my findings", "agent": "w1"})
            entries = taker.ok("task_history", {"id": 1})["entries"]
            assert [e["agent"] for e in entries][1:] == ["w1", "w2", "w1"]
            assert taker.ok("task_done", {"id": 1, "agent": "w2"})["message"] == "completed task 1"
            task = taker.ok("task_info", {"id": 1})["task"]
            assert "lease" not in task and task["annotations"][0]["description"] == "(late) my findings"


@pytest.mark.wallclock
def test_a_live_server_keeps_its_lease_past_twice_the_lease_and_a_killed_one_lets_it_expire(tmp_path):
    """The real clock and a 2 s lease: the heartbeat (every 2/3 s) keeps the claim alive while
    the server runs; after it is killed, another agent's claim succeeds within a bounded wait
    (a server that exits cleanly releases its leases instead: tests/test_server_writer.py)."""
    env = {k: v for k, v in server_env(tmp_path, BACKLOG_LEASE="2s").items() if k != "BACKLOG_NOW"}

    def cli(*words: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "backlog", *words], env=env, cwd=REPO,
                              capture_output=True, text=True, timeout=60)

    holder = start(env)
    try:
        holder.stdin.write(lines(INITIALIZE, INITIALIZED, call(1, "task_add", description="kept alive"),
                                 call(2, "task_claim", agent="w1")))
        holder.stdin.flush()
        assert [answer(holder)["id"] for _ in range(3)] == [0, 1, 2]
        claimed_at = time.monotonic()
        while time.monotonic() - claimed_at < 5:  # more than twice the lease
            time.sleep(0.5)
        refused = cli("claim", "--agent", "w2")
        assert refused.returncode == 1 and "nothing to claim" in refused.stderr, refused
    finally:
        holder.kill()
        holder.wait(timeout=60)
        holder.stdin.close()
    deadline = time.monotonic() + 60  # a generous bound on a loaded machine: expiry itself takes 2 s
    while (taken := cli("claim", "--agent", "w2")).returncode != 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert "took it over from w1" in taken.stdout, taken
