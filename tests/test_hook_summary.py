"""The hooks' summary (hooks/summary.py) tells what a from-scratch computation tells, or is rebuilt.

Real stores in tmp dirs; hooks run in process through `events.main` (stdin bytes, env dict),
one CLI subprocess stands for another process's write; `backlog serve` over stdio keeps it.
SessionStart and SubagentStart also run as processes that report what they loaded or decoded.
"""

from __future__ import annotations

import io
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from backlog.core.dates import local_zone
from backlog.core.model import format_utc, parse_utc
from backlog.engine import claims
from backlog.engine.backlog import Backlog
from backlog.errors import BacklogError
from backlog.hooks import events, summary
from backlog.store.files import FileBackend
from backlog.store.store import Store
from tests.conftest import NOW, run_backlog
from tests.server_support import server_env
from tests.test_server_process import INITIALIZE, INITIALIZED, answer, call, lines, start

ZONES = ("UTC", "Europe/Berlin", "Asia/Kolkata", "America/Los_Angeles")
LATER = (timedelta(minutes=7), timedelta(minutes=59), timedelta(hours=5))  # NOW itself: in the test


def env_for(root: Path, now, zone: str = "UTC") -> dict:
    return {"TASKDATA": str(root), "BACKLOG_NOW": format_utc(now), "TZ": zone}


def hook(event: str, root: Path, now, zone: str = "UTC", **payload: str) -> str:
    """What `backlog hook <event>` prints (its additionalContext, or "")."""
    out = io.StringIO()
    data = json.dumps({"session_id": "s1", "source": "startup", **payload}).encode()
    assert events.main(event, data, env_for(root, now, zone), str(root.parent), out) == 0
    assert not (root / "hooks.log").exists(), (root / "hooks.log").read_text()
    text = out.getvalue()
    return json.loads(text)["hookSpecificOutput"]["additionalContext"] if text else ""


def from_scratch(root: Path, now, zone: str) -> str:
    """SessionStart's text computed the way it was before the summary: engine queries at `now`."""
    tz = local_zone({"TZ": zone})
    backlog = Backlog(Store.open(root), tz=tz, clock=lambda: now, agent="oracle")
    ctx = backlog.context(now)
    counts = {name: len(backlog.select(query, ctx)) for name, query in (
        ("pending", "status:pending"), ("ready", "+READY"), ("active", "+ACTIVE"),
        ("overdue", "+OVERDUE"), ("blocked", "+BLOCKED"), ("waiting", "+WAITING"))}
    active = backlog.list("+ACTIVE", sort="start+", limit=5)
    ready = backlog.list("+READY -ACTIVE", limit=5)["tasks"]
    plain = events.Hook("SessionStart", {"source": "startup"}, {}, str(root))
    return events.brief(plain, counts, active, ready, now, tz)


def test_the_snapshot_token_is_the_backends(busy):
    assert summary.snapshot_token(busy) is FileBackend(busy).snapshot_token() is None
    store = Store.open(busy)
    with store.backend.lock():
        store.compact()
    assert summary.snapshot_token(busy) == list(FileBackend(busy).snapshot_token())


def stamp(hours: int) -> str:
    return format_utc(NOW + timedelta(hours=hours))


# One change to the store: (kind, numbers it uses).
OPS = st.one_of(
    st.tuples(st.just("add"), st.integers(-800, 0), st.sampled_from([None, -200, -30, 0, 1, 40, 400]),
              st.sampled_from([None, -3, 1, 30]), st.sampled_from([None, -5, 1, 20]),
              st.sampled_from(["", "H", "M", "L"]), st.integers(0, 3), st.integers(0, 9)),
    st.tuples(st.sampled_from(["done", "start", "depend"]), st.integers(0, 20), st.integers(0, 20)),
    st.tuples(st.sampled_from(["assign", "claim"]), st.integers(0, 3), st.sampled_from([60, 5])),  # minutes before NOW
    st.tuples(st.sampled_from(["undo", "archive", "other"]), st.integers(0, 3)),
)


def apply(backlog: Backlog, other: Backlog, op: tuple, clock: list) -> None:
    kind, *args = op
    ids = sorted(t["id"] for t in backlog.store.tasks.values())
    try:
        if kind == "add":
            entry, due, wait, scheduled, priority, ntags, dep = args
            clock[0] = NOW + timedelta(hours=entry)
            params = {"priority": priority or None, "tags": ",".join(["next", "bug", "ui"][:ntags]) or None,
                      "due": stamp(due) if due is not None else None, "wait": stamp(wait) if wait is not None else None,
                      "scheduled": stamp(scheduled) if scheduled is not None else None,
                      "depends": str(ids[dep % len(ids)]) if ids and dep < 3 else None}
            backlog.add(f"task {len(ids)}", **{k: v for k, v in params.items() if v})
        elif kind in ("done", "start") and ids:
            getattr(backlog, kind)(str(ids[args[0] % len(ids)]))
        elif kind == "depend" and len(ids) > 1:
            backlog.modify(str(ids[args[0] % len(ids)]), depends=str(ids[args[1] % len(ids)]))
        elif kind in ("assign", "claim"):
            clock[0] = NOW - timedelta(minutes=args[1])  # 5: a lease still live at NOW, ending before HORIZON
            getattr(backlog, kind)(f"worker#{args[0]}")
        elif kind == "undo":
            backlog.undo()
        elif kind == "archive":
            backlog.archive(0)
        elif kind == "other":  # another writer, with its own Store over the same files
            other.add(f"other {args[0]}", priority="H", due=stamp(-args[0]))
    except BacklogError:
        pass  # a refused change (a cycle, nothing to undo …) changes nothing
    finally:
        clock[0] = NOW - timedelta(hours=1)


def assignees(root: Path, now, zone: str) -> list[dict]:
    """What SubagentStarts assign at `now`, one after another, computed from scratch: the first
    ASSIGN_AHEAD +READY -CLAIMED tasks."""
    backlog = Backlog(Store.open(root), tz=local_zone({"TZ": zone}), clock=lambda: now)
    return backlog.list("+READY -CLAIMED", limit=summary.ASSIGN_AHEAD, fields="uuid,id")["tasks"]


def assignee(root: Path, now, zone: str) -> dict | None:
    """What SubagentStart assigns at `now`, computed from scratch: the first +READY -CLAIMED task."""
    return next(iter(assignees(root, now, zone)), None)


def instants(made: dict, fractions: list[float]) -> list:
    """`at`, the last second before `until` and the instants `fractions` of the way between."""
    at, until = parse_utc(made["at"]), parse_utc(made["until"])
    return [at, until - timedelta(seconds=1), *(at + (until - at) * f for f in fractions)]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPS, min_size=1, max_size=14), st.lists(st.floats(0, 1, exclude_max=True), max_size=3))
def test_the_summary_answers_as_a_from_scratch_computation(ops, fractions):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        root.mkdir()  # (a summary is saved only into a data dir that exists)
        clock = [NOW - timedelta(hours=1)]
        store = Store.open(root, compact_every=4)  # compaction (a new snapshot) happens along the way
        backlog = Backlog(store, tz=local_zone({"TZ": "UTC"}), clock=lambda: clock[0], agent="a",
                          session="s1", writer="w1")
        other = Backlog(Store.open(root, compact_every=4), tz=local_zone({"TZ": "UTC"}), clock=lambda: clock[0],
                        agent="b", writer="w2")
        for op in ops:
            apply(backlog, other, op, clock)
        for zone in ZONES:
            (root / summary.FILE).unlink(missing_ok=True)
            assert hook("SessionStart", root, NOW, zone) == from_scratch(root, NOW, zone)  # and saves one
            saved = (root / summary.FILE).read_bytes()
            made = summary.read(root)
            assert made is not None and made["zone"] == f"TZ={zone}"
            # each zone's own instant is answered from the summary (unless a date falls on it: then it holds for none)
            assert summary.fresh(made, root, NOW, f"TZ={zone}") == (made["until"] > made["at"])
            for later in LATER:
                (root / summary.FILE).write_bytes(saved)
                now = NOW + later
                assert hook("SessionStart", root, now, zone) == from_scratch(root, now, zone)
            unclaimed = Backlog(Store.open(root), tz=local_zone({"TZ": zone}), clock=lambda: NOW).count("+READY -CLAIMED")["count"]
            assert made["unclaimed"] == unclaimed
            # the task to assign holds at every instant the summary is fresh (and only the store's position is asked)
            for now in [*instants(made, fractions), *(NOW + later for later in LATER)]:
                if summary.fresh(made, root, now, f"TZ={zone}"):
                    assert [{"uuid": p["uuid"], "id": p["id"]} for p in made["assign"]] == assignees(root, now, zone), now
                    assert summary.pick(made, Store.open(root), now) == next((t["uuid"] for t in made["assign"]), None)
        leases = [t["lease"] for t in Store.open(root).tasks.values() if "lease" in t]
        assert made["holders"] == sorted({lease["holder"] for lease in leases})
        assert made["sessions"] == sorted({lease["session"] for lease in leases if "session" in lease})


@pytest.fixture
def busy(tmp_path) -> Path:
    """A data dir with a few tasks, one due in 30 minutes, and a summary made at NOW in UTC."""
    root = tmp_path / "data"
    backlog = Backlog(Store.open(root), tz=local_zone({"TZ": "UTC"}), clock=lambda: NOW, agent="a")
    backlog.add("Fix the login", priority="H", due=format_utc(NOW + timedelta(minutes=30)))
    backlog.add("Write the docs", project="web")
    assert "Fix the login" in hook("SessionStart", root, NOW)
    assert summary.read(root) is not None
    return root


def test_a_summary_is_fresh_until_its_next_change(busy):
    made = summary.read(busy)
    assert made["until"] == format_utc(NOW + timedelta(minutes=30))  # the due date's crossing
    assert summary.fresh(made, busy, NOW + timedelta(minutes=29), "TZ=UTC")
    assert not summary.fresh(made, busy, NOW + timedelta(minutes=30), "TZ=UTC")


@pytest.mark.parametrize("stale", [
    "past its next change",  # the due date was crossed: the task is overdue now
    "before it was made",  # a reader whose clock is behind the writer's
    "other zone",
    "garbage bytes",
    "another version",
    "another process wrote",
])
def test_a_stale_summary_is_rebuilt_and_answers_right(busy, stale, clean_env):
    now, zone = NOW, "UTC"
    if stale == "past its next change":
        now = NOW + timedelta(minutes=45)
    elif stale == "before it was made":
        now = NOW - timedelta(days=2)
    elif stale == "other zone":
        zone = "Pacific/Auckland"
    elif stale == "garbage bytes":
        (busy / summary.FILE).write_bytes(b"\x00{not json at all")
    elif stale == "another version":
        summary.save(busy, {**summary.read(busy), "version": 0})
    else:
        env = {**clean_env, **env_for(busy, NOW)}
        assert run_backlog(["add", "Ship", "it", "priority:M"], env).returncode == 0
    assert not summary.fresh(summary.read(busy) or {}, busy, now, f"TZ={zone}")
    assert hook("SessionStart", busy, now, zone) == from_scratch(busy, now, zone)
    assert summary.fresh(summary.read(busy), busy, now, f"TZ={zone}")  # rebuilt for the next hook


def test_a_damaged_store_still_exits_0_with_a_fresh_looking_summary_gone(busy):
    (busy / summary.FILE).write_bytes(b"garbage")
    (busy / "tasks.json").write_bytes(b"{broken")
    out = io.StringIO()
    assert events.main("SessionStart", b'{"session_id": "s1"}', env_for(busy, NOW), str(busy.parent), out) == 0
    assert out.getvalue() == ""
    assert "damaged" in (busy / "hooks.log").read_text()


def test_subagent_stop_releases_a_lease_taken_after_the_summary(busy):
    backlog = Backlog(Store.open(busy), tz=local_zone({"TZ": "UTC"}), clock=lambda: NOW, agent="a", session="s1")
    backlog.assign("task-worker#abc123")  # after the summary: only the journal's tail names it
    made = summary.read(busy)
    assert "task-worker#abc123" not in made["holders"]
    assert not summary.untouched(made, busy, "holder", "task-worker#abc123")
    assert summary.untouched(made, busy, "holder", "task-worker#zzz999")  # others still need not open the store
    assert summary.untouched(made, busy, "session", "s2")
    assert not summary.untouched(made, busy, "session", "s1")
    hook("SubagentStop", busy, NOW, agent_type="task-worker", agent_id="abc123xyz")
    assert not any("lease" in t for t in Store.open(busy).tasks.values())


def test_session_end_releases_what_the_session_holds_after_the_summary(busy):
    backlog = Backlog(Store.open(busy), tz=local_zone({"TZ": "UTC"}), clock=lambda: NOW, agent="a",
                      session="s9")
    backlog.assign("task-worker#abc123")
    hook("SessionEnd", busy, NOW, session_id="s1", reason="other")  # another session: nothing to release
    assert any("lease" in t for t in Store.open(busy).tasks.values())
    hook("SessionEnd", busy, NOW, session_id="s9", reason="other")
    assert not any("lease" in t for t in Store.open(busy).tasks.values())


def test_subagent_start_assigns_a_task_added_after_the_summary(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    assert "empty so far" in hook("SessionStart", root, NOW)
    assert summary.read(root)["unclaimed"] == 0
    assert "No backlog task is ready" in hook("SubagentStart", root, NOW, agent_type="task-worker", agent_id="w1")
    Backlog(Store.open(root), tz=local_zone({"TZ": "UTC"}), clock=lambda: NOW).add("Fresh work")
    assert "Fresh work" in hook("SubagentStart", root, NOW, agent_type="task-worker", agent_id="w1")


@pytest.fixture
def overtaken(tmp_path) -> Path:
    """Two active tasks nobody holds (no READY -ACTIVE row guards them): task 2's coming due date
    draws it level with task 1 10 minutes after NOW, past it after; a summary made at NOW."""
    root = tmp_path / "data"
    backlog = Backlog(Store.open(root), tz=local_zone({"TZ": "UTC"}), clock=lambda: NOW - timedelta(hours=2), agent="a")
    backlog.add("Steady", priority="H")  # urgency 6 + 4 (active)
    backlog.add("Coming due", due=format_utc(NOW + timedelta(days=6, hours=3, minutes=10)))  # 6 then, + 0.457 a day
    for task in ("1", "2"):
        backlog.start(task)
    hook("SessionStart", root, NOW)
    assert summary.read(root)["assign"][0]["id"] == 1 and assignee(root, NOW + timedelta(minutes=20), "UTC")["id"] == 2
    return root


def test_the_task_to_assign_bounds_until_on_its_own(overtaken):
    assert NOW < parse_utc(summary.read(overtaken)["until"]) <= NOW + timedelta(minutes=10)


def test_assign_past_the_summarys_until_computes_the_task_afresh(overtaken):
    made, later = summary.read(overtaken), NOW + timedelta(minutes=20)
    backlog = Backlog(Store.open(overtaken), tz=local_zone({"TZ": "UTC"}), clock=lambda: later, agent="a")
    assert backlog.assign("task-worker#abc123", pick=lambda store, now: summary.pick(made, store, now))["id"] == 2


@pytest.fixture
def queue(tmp_path) -> Path:
    """A data dir of ready tasks in a sealed snapshot (a store opens it lazily) and one journal
    line after it, with a summary made at NOW in UTC."""
    root = tmp_path / "data"
    backlog = Backlog(Store.open(root), tz=local_zone({"TZ": "UTC"}), clock=lambda: NOW - timedelta(hours=2), agent="a")
    backlog.add("Fix the login", priority="H", project="web", due=stamp(30))
    backlog.add("Write the docs", priority="M")
    backlog.add("Tidy the tests")
    with backlog.store.backend.lock():
        backlog.store.compact()
    backlog.add("Answer the mail", priority="L")
    hook("SessionStart", root, NOW)
    return root


# `backlog hook SubagentStart` in a process that reports, on stderr, what summary.pick answered
# and whether the store it was handed still had its snapshot lines undecoded at the end.
WATCHED_SUBAGENT_START = """
import json, sys
from backlog.cli.main import main
from backlog.hooks import summary
seen = {}
def watch(frame, event, arg):
    if event == "return" and frame.f_code is summary.pick.__code__:
        seen.update(pick=arg, store=frame.f_locals["store"])
sys.setprofile(watch)
main(["hook", "SubagentStart"])
sys.setprofile(None)
store = seen.pop("store", None)
seen["lazy"] = store is not None and type(store.tasks).__name__ == "TaskMap" and not store.tasks.decoded
seen["zoneinfo"] = "zoneinfo" in sys.modules  # (the due day it prints is the summary's)
print(json.dumps(seen), file=sys.stderr)
"""


def subagent_start_process(root: Path, env: dict, agent_id: str = "abc123xyz") -> tuple[str, dict]:
    """(what SubagentStart for a task-worker adds as a fresh process over `root`, what it reported)."""
    payload = json.dumps({"session_id": "s1", "agent_type": "task-worker", "agent_id": agent_id})
    result = subprocess.run([sys.executable, "-c", WATCHED_SUBAGENT_START], input=payload, capture_output=True,
                            text=True, env={**env, **env_for(root, NOW)}, timeout=60)
    assert result.returncode == 0 and not (root / "hooks.log").exists(), result.stderr[-2000:]
    return json.loads(result.stdout)["hookSpecificOutput"]["additionalContext"], json.loads(result.stderr)


def leased(root: Path) -> list[str]:
    return [t["uuid"] for t in Store.open(root).tasks.values() if "lease" in t]


def test_subagent_start_assigns_the_summarys_pick_without_decoding_the_store(queue, tmp_path, clean_env):
    bare = tmp_path / "bare"
    shutil.copytree(queue, bare)
    (bare / summary.FILE).unlink()
    made = summary.read(queue)
    assert [p["id"] for p in made["assign"]] == [t["id"] for t in assignees(queue, NOW, "UTC")] and made["assign"][0]["id"] == 1
    text, seen = subagent_start_process(queue, clean_env)
    assert seen == {"pick": made["assign"][0]["uuid"], "lazy": True, "zoneinfo": False}
    bare_text, bare_seen = subagent_start_process(bare, clean_env)
    assert bare_seen == {"lazy": False, "zoneinfo": True}  # no summary: every task walked
    assert text == bare_text and "Backlog task #1 is assigned to you until 2026-11-24T10:24:53Z" in text
    assert leased(queue) == leased(bare) == [made["assign"][0]["uuid"]]


def test_subagents_started_one_after_another_take_the_summarys_picks_in_order(queue, clean_env):
    """Each assignment is a commit, so the summary's position is behind; the commits since are
    the leases of its first picks, so the next pick still holds, the store still undecoded."""
    made = summary.read(queue)
    assert [t["id"] for t in made["assign"]] == [1, 2, 4, 3]  # (priority L counts, none does not)
    for n, agent_id in enumerate(("aaa111", "bbb222", "ccc333")):
        expected = assignee(queue, NOW, "UTC")
        text, seen = subagent_start_process(queue, clean_env, agent_id)
        assert expected["uuid"] == made["assign"][n]["uuid"] and seen["pick"] == expected["uuid"] and seen["lazy"]
        assert f"Backlog task #{expected['id']} is assigned to you" in text
    assert summary.read(queue) == made  # (the hooks never rewrote it)
    holders = {t["id"]: t["lease"]["holder"] for t in Store.open(queue).tasks.values() if "lease" in t}
    assert holders == {1: "task-worker#aaa111", 2: "task-worker#bbb222", 4: "task-worker#ccc333"}


@pytest.mark.parametrize("change", ["a more urgent task", "a lease taken", "the pick done"])
def test_subagent_start_assigns_afresh_after_a_commit_between_its_look_and_its_lock(queue, change):
    """Another writer commits after the hook found the summary fresh, before it takes the lock."""
    made = summary.read(queue)
    other = Backlog(Store.open(queue), tz=local_zone({"TZ": "UTC"}), clock=lambda: NOW, agent="b", writer="w2")
    expected = []

    def commit_at_assign(frame, event, arg) -> None:
        if event == "call" and frame.f_code is claims.assign.__code__ and not expected:
            if change == "a more urgent task":
                other.add("Stop the outage", priority="H", due=stamp(-48))
            elif change == "a lease taken":
                other.assign("task-worker#other")
            else:
                other.done(str(made["assign"][0]["id"]))
            expected.append(assignee(queue, NOW, "UTC"))

    sys.setprofile(commit_at_assign)
    try:
        text = hook("SubagentStart", queue, NOW, agent_type="task-worker", agent_id="abc123xyz")
    finally:
        sys.setprofile(None)
    assert expected[0]["uuid"] != made["assign"][0]["uuid"]
    assert f"Backlog task #{expected[0]['id']} is assigned to you" in text
    assert Store.open(queue).tasks[expected[0]["uuid"]]["lease"]["holder"] == "task-worker#abc123"


def session_start_process(env: dict) -> tuple[str, set[str]]:
    """(what SessionStart as a fresh process adds to the context, the heavy modules it imported:
    any of the store, the engine, core.dates, orjson, typing, dataclasses, uuid)."""
    payload = json.dumps({"session_id": "s1", "source": "startup"})
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "backlog", "hook", "SessionStart"],
                            input=payload, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    modules = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    loaded = {m for m in modules if m.startswith(("backlog.store", "backlog.engine", "backlog.core.dates"))}
    heavy = {"orjson", "typing", "dataclasses", "uuid"} & modules
    return json.loads(result.stdout)["hookSpecificOutput"]["additionalContext"], loaded | heavy


def test_a_fresh_summary_answers_without_the_store_the_engine_or_orjson(busy, clean_env):
    text, heavy = session_start_process({**clean_env, **env_for(busy, NOW)})
    assert "Fix the login" in text
    assert not heavy, sorted(heavy)


def test_a_sessions_own_commits_do_not_make_session_end_open_the_store(busy):
    hook("TaskCreated", busy, NOW, task_id="1", task_subject="Mirror me")  # writes as claude:s1
    ending = events.Hook("SessionEnd", {"session_id": "s1"}, env_for(busy, NOW), str(busy.parent))
    assert ending.holds_nothing("session", "s1")  # "s1" is in the tail, but in no lease


# -- kept by the MCP server (mcp/opening.py) -------------------------------------------------

def serve_and_commit(tmp_path: Path) -> tuple[subprocess.Popen, dict]:
    """A server over stdio that has added two tasks and claimed one (answers read)."""
    env = server_env(tmp_path)
    server = start(env)
    server.stdin.write(lines(INITIALIZE, INITIALIZED,
                             call(1, "task_add", description="Fix the login", priority="H", due="2026-11-25T09:00:00Z"),
                             call(2, "task_add", description="Write the docs", project="web")))
    server.stdin.flush()
    # calls run concurrently and may be answered in any order: the claim goes once task 2 exists
    assert sorted(answer(server)["id"] for _ in range(3)) == [0, 1, 2]
    server.stdin.write(lines(call(3, "task_claim", agent="w1", id=2)))
    server.stdin.flush()
    claimed = answer(server)
    assert claimed["id"] == 3 and not claimed["result"].get("isError"), claimed
    return server, env


def assert_answered_from_the_summary(root: Path, env: dict) -> None:
    """SessionStart answers from the saved summary (no store opened) what a from-scratch computation tells."""
    assert summary.fresh(summary.read(root) or {}, root, NOW, "TZ=UTC")
    text, heavy = session_start_process(env)
    assert not heavy, sorted(heavy)
    assert text == from_scratch(root, NOW, "UTC")


@pytest.mark.wallclock  # the server's idle wait is a timed one (it never times out under faketime)
def test_a_server_idle_after_its_commits_leaves_a_fresh_summary(tmp_path):
    server, env = serve_and_commit(tmp_path)
    root = Path(env["TASKDATA"])
    try:
        deadline = time.monotonic() + 60  # a generous bound on a loaded machine: the server waits ~1 s
        while not summary.fresh(summary.read(root) or {}, root, NOW, "TZ=UTC") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert_answered_from_the_summary(root, env)
        assert summary.read(root)["holders"] == ["w1"]
    finally:
        server.stdin.close()
        assert server.wait(timeout=60) == 0


@pytest.mark.parametrize("end", ["end of input", "SIGTERM"])
def test_a_server_that_exits_after_its_commits_leaves_a_fresh_summary(tmp_path, end):
    server, env = serve_and_commit(tmp_path)
    root = Path(env["TASKDATA"])
    if end == "SIGTERM":
        server.send_signal(signal.SIGTERM)
    server.stdin.close()
    assert server.wait(timeout=60) == 0, server.stderr.read().decode()[-2000:]
    server.stderr.close()
    server.stdout.close()
    assert_answered_from_the_summary(root, env)
    assert summary.read(root)["holders"] == []  # saved after the exit released the claim
