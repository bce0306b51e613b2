"""Differential test: our filters and urgency against the real Taskwarrior 2.6.2.

The fixture (tests/fixtures/tw_fixture.json, made by tw_fixture_gen.py) is imported into
Taskwarrior (`task import`, temp TASKDATA/TASKRC, frozen clock via libfaketime, TZ pinned)
and into our store through the engine's import (`ours()` below).
Each filter then runs as `task <rc> <filter> export` and as `compile_filter(...).select`,
and the uuid sets must be equal, in UTC and in America/New_York.

Status: `task <filter> export` adds no status filter, so our side compiles with
`default_status=False` and every row states its statuses itself. Rows that test our
default (`default_status=True`) spell the equivalent status terms out for Taskwarrior.

Taskwarrior settings beyond the brief: `rc.recurrence=off` (no instances generated behind
our back) and `rc.search.case.sensitive=no` (SPEC §6: bare words are case-insensitive).
Where we differ on purpose, DIVERGENCES names the SPEC line, checks our answer against an
independent oracle, and checks that Taskwarrior still answers differently (a stale row fails).
Under CI=true a missing `task` or libfaketime fails the module; elsewhere it is skipped. Taskwarrior
runs under its own libfaketime at conftest's NOW, whatever clock the test run itself is under.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

import pytest

from backlog.core.dates import start_of_day
from backlog.engine.backlog import Backlog
from backlog.core.filter import compile_filter
from backlog.store.view import Context
from backlog.core.model import format_utc
from backlog.store.store import Store
from backlog.core.urgency import urgencies
from tests.conftest import NOW, require_tool, stopped_at

FIXTURE = Path(__file__).parent / "fixtures" / "tw_fixture.json"
ZONES = ("UTC", "America/New_York")
RC = (
    "rc.gc=off", "rc.confirmation=off", "rc.verbose=nothing", "rc.json.array=on", "rc.hooks=off",
    "rc.weekstart=monday", "rc.recurrence=off", "rc.search.case.sensitive=no",
)
RAW = json.loads(FIXTURE.read_text())
UUID_5 = RAW[4]["uuid"]
UUID_9 = RAW[8]["uuid"]
UUID_12 = RAW[11]["uuid"]


def ours(raw: list[dict], now: datetime = NOW) -> dict[str, dict]:
    """Our store after the engine's task_import of Taskwarrior export `raw` (ids 1… in file order)."""
    with tempfile.TemporaryDirectory() as root:
        backlog = Backlog(Store.open(root), tz=timezone.utc, clock=lambda: now)
        backlog.import_tasks(json.dumps(raw))
        tasks = dict(backlog.store.tasks)
        backlog.store.close()
    assert [t["id"] for t in tasks.values()] == list(range(1, len(raw) + 1))
    return tasks


TASKS = ours(RAW)


def zone(name: str):
    return timezone.utc if name == "UTC" else ZoneInfo(name)


@dataclass(frozen=True)
class Row:
    ours: str
    tw: str | None = None  # the Taskwarrior spelling when it differs
    default_status: bool = False

    def __str__(self) -> str:
        return self.ours + (" [default status]" if self.default_status else "")


AGREE = [
    # statuses and the virtual tags Taskwarrior defines the same way
    Row("status:completed"), Row("status:deleted"), Row("status:recurring"), Row("status:waiting"),
    Row("+COMPLETED"), Row("+DELETED"), Row("+WAITING"), Row("-WAITING"), Row("+ACTIVE"), Row("+BLOCKED"),
    Row("-BLOCKED"), Row("+UNBLOCKED"), Row("+BLOCKING"), Row("+OVERDUE"), Row("+DUE"), Row("-DUE"), Row("+TODAY"), Row("+TOMORROW"),
    Row("+YESTERDAY"), Row("+WEEK"), Row("+MONTH"), Row("+QUARTER"), Row("+YEAR"), Row("+SCHEDULED"),
    Row("+UNTIL"), Row("+PROJECT"), Row("+PRIORITY"), Row("+TAGGED"), Row("+ANNOTATED"), Row("+TEMPLATE"),
    Row("+PARENT"), Row("+INSTANCE"), Row("+CHILD"), Row("+next"), Row("-next +PROJECT"),
    # project: exact, none/any, text modifiers, abbreviation
    Row("project.is:web"), Row("project.isnt:web"), Row("project.has:ap"), Row("project.startswith:we"),
    Row("project.endswith:ui"), Row("project:"), Row("project.none:"), Row("project.any:"), Row("pro:infra"),
    Row("pro:web.ui"),
    # tags (case-sensitive)
    Row("+bug"), Row("-bug"), Row("+Bug"), Row("tags.has:ur"), Row("tags.none:"), Row("tags.any:"),
    # priority ordering H > M > L > none
    Row("priority:H"), Row("priority.before:M"), Row("priority.after:M"), Row("priority.below:H"),
    Row("priority.above:L"), Row("priority.by:M"), Row("priority:"), Row("priority.none:"), Row("priority.not:H"),
    # description modifiers and bare words (case-insensitive, annotations included)
    Row("description.has:Fix"), Row("description.is:README"), Row("description.startswith:fix"),
    Row("description.endswith:release"), Row("description.word:app"), Row("description.noword:app"),
    Row("description.hasnt:fix"), Row("description.word:Fix"), Row("desc.has:login"), Row("fix"),
    Row("Fix login"), Row("cache review"), Row("Bob"), Row('"login bug"', tw="'login bug'"),
    Row('description.has:"login bug"'), Row("login project:web.ui"),
    # agent (UDA) and recurrence fields
    Row("agent:claude"), Row("agent.is:claude"), Row("agent.isnt:claude"), Row("agent.has:task"),
    Row("agent.startswith:back"), Row("agent.endswith:er"), Row("agent.word:backlog"), Row("agent.none:"),
    Row("recur:weekly"), Row("parent.any:"),
    # dates: calendar days, named dates, ISO forms, date math, every date modifier
    Row("due:today"), Row("due:tomorrow"), Row("due:yesterday"), Row("due.before:today"),
    Row("due.after:tomorrow"), Row("due.by:eod"), Row("due.before:eow"), Row("due.after:eom"),
    Row("due.before:2026-12-01"), Row("due:2026-12-01"), Row("due.is:2026-12-01T05:00:00Z"),
    Row("due.isnt:2026-12-01T05:00:00Z"), Row("due.not:today"), Row("due.none:"), Row("due.any:"), Row("due:"),
    Row("due.before:now"), Row("due.after:now"), Row("due.by:now"), Row("due.before:sow"), Row("due.after:soq"),
    Row("due.before:eoy"), Row("due.after:eoq"), Row("due.before:som"), Row("due.after:soy"),
    Row("due.before:sod"), Row("due.after:monday"), Row("due.before:friday"), Row("due.before:january"),
    Row("due.before:someday"), Row("due.before:2026-11-25T00:00"), Row("due.after:2026-11-24T10:14:53Z"),
    Row("due.before:today+3d"), Row("du.before:eow"), Row("scheduled.before:now"), Row("scheduled.after:today"),
    Row("scheduled.by:now"), Row("wait.after:now"), Row("until.before:eom"), Row("entry.before:2026-01-01"),
    Row("entry.after:now-30d"), Row("end.after:today-7d"), Row("start.before:now-2d"), Row("entry.is:2026-01-01"),
    # ids, ranges, lists, uuids and uuid prefixes
    Row("1"), Row("1,3"), Row("1-5"), Row("1-3,7,150-160"), Row("5 9"), Row("1-10 +bug"), Row(UUID_5[:8]),
    Row(UUID_5), Row(UUID_5[:13]), Row(f"{UUID_5[:8]} {UUID_9}"), Row("1-10 or +next"), Row("id:7"),
    Row("uuid:" + UUID_5[:8]), Row("uuid.is:" + UUID_5),
    # boolean structure, precedence (not > and > xor > or), parentheses glued or spaced
    Row("+bug or +ui"), Row("( +bug or +ui ) pri:H"), Row("+bug and +ui"), Row("+bug xor +ui"),
    Row("+bug or +ui and pri:H"), Row("( +OVERDUE or +ACTIVE )"), Row("(+OVERDUE or +ACTIVE)"),
    Row("project:infra or project:docs"), Row("( project:infra or project:docs ) and ( +bug xor pri:H )"),
    Row("cache or README"), Row("not +bug", tw="-bug"), Row("not ( +bug or +ui )", tw="-bug -ui"),
    Row("+bug xor +ui xor +api"), Row("( +bug or pri:H ) ( +ui or due.before:eow )"),
    # urgency, compared where both sides compute it (pending; Taskwarrior's waiting status)
    Row("urgency.over:10 status:pending", tw="( status:pending or status:waiting ) urgency.over:10"),
    Row("urg.above:15 status:pending", tw="( status:pending or status:waiting ) urgency.above:15"),
    Row("urgency.under:0 status:pending", tw="( status:pending or status:waiting ) urgency.under:0"),
    # our default status rule (SPEC §4), spelled out for Taskwarrior (its pending excludes waiting)
    Row("", tw="status:pending", default_status=True),
    Row("+bug", tw="( status:pending or status:waiting ) +bug", default_status=True),
    Row("due.before:eow pri:H", tw="( status:pending or status:waiting ) due.before:eow pri:H", default_status=True),
    Row("+OVERDUE or +ACTIVE", tw="( status:pending or status:waiting ) ( +OVERDUE or +ACTIVE )", default_status=True),
    Row("-WAITING +bug", tw="-WAITING +bug", default_status=True),
    Row("1-40 +bug", tw="1-40 +bug", default_status=True),  # ids: no implicit status
    Row("+DELETED or +bug", tw="+DELETED or +bug", default_status=True),  # names a status
]


@dataclass(frozen=True)
class World:
    """What an oracle may look at: the fixture as we hold it, `now`, Taskwarrior's urgencies."""

    tasks: dict[str, dict]
    urgency: dict[str, float]
    tz: str

    def local(self, wall: str) -> str:
        """The stored form of local wall time `wall` (YYYY-MM-DDTHH:MM:SS) in this zone."""
        return format_utc(datetime.fromisoformat(wall).replace(tzinfo=zone(self.tz)))

    def blocked(self, t: dict) -> bool:
        deps = (self.tasks.get(u) for u in t.get("depends", ()))
        return t["status"] == "pending" and any(d and d["status"] in ("pending", "recurring") for d in deps)


NOW_S = format_utc(NOW)
Oracle = Callable[[dict, World], bool]


def _subproject(t: dict) -> bool:
    return t.get("project", "").lower() == "web" or t.get("project", "").lower().startswith("web.")


# (our filter, Taskwarrior's spelling or None, SPEC line, why, oracle for our answer)
DIVERGENCES: list[tuple[str, str | None, str, str, Oracle]] = [
    ("status:pending", None, "§3 'waiting is derived (pending with wait > now)'",
     "Taskwarrior's status:pending excludes waiting tasks", lambda t, w: t["status"] == "pending"),
    ("+PENDING", None, "§6 'PENDING … status is that value'", "Taskwarrior excludes waiting tasks",
     lambda t, w: t["status"] == "pending"),
    ("stat:pending", None, "§3 + §6 abbreviations", "abbreviated status:pending, same as above",
     lambda t, w: t["status"] == "pending"),
    ("status:pending +bug", None, "§3", "waiting tasks are pending",
     lambda t, w: t["status"] == "pending" and "bug" in t.get("tags", ())),
    ("status.not:pending", None, "§3", "waiting tasks are pending", lambda t, w: t["status"] != "pending"),
    ("+UNBLOCKED +PENDING", None, "§3", "waiting tasks are pending",
     lambda t, w: t["status"] == "pending" and not w.blocked(t)),
    ("-ACTIVE -BLOCKED +PENDING", None, "§3", "waiting tasks are pending",
     lambda t, w: t["status"] == "pending" and "start" not in t and not w.blocked(t)),
    ("+RECURRING", None, "§6 'RECURRING … status is that value'", "Taskwarrior 2.6.2 matches no template here",
     lambda t, w: t["status"] == "recurring"),
    ("+READY", None, "§6 READY 'scheduled absent or ≤ now'", "Taskwarrior needs scheduled < now",
     lambda t, w: t["status"] == "pending" and not t.get("wait", "") > NOW_S and not w.blocked(t)
     and t.get("scheduled", "") <= NOW_S),
    ("+LATEST", None, "§3 ids 'completed/deleted tasks keep it' + §6 LATEST 'the highest id'",
     "Taskwarrior numbers only pending tasks", lambda t, w: t["id"] == len(w.tasks)),
    ("1-3,7,190-200", None, "§3 completed/deleted tasks keep their id", "Taskwarrior gives them id 0",
     lambda t, w: t["id"] in {1, 2, 3, 7, *range(190, 201)}),
    ("id.after:190", None, "§3", "Taskwarrior gives completed tasks id 0", lambda t, w: t["id"] > 190),
    ("id.before:5", None, "§3", "Taskwarrior gives completed tasks id 0", lambda t, w: t["id"] < 5),
    (f"{UUID_5[:8]},{UUID_9}", None, "§6 'id lists … UUID prefixes'", "Taskwarrior drops uuid prefixes in lists",
     lambda t, w: t["uuid"].startswith((UUID_5[:8], UUID_9))),
    ("( 1 or 2 )", None, "§6 'ids … combine freely'", "Taskwarrior cannot evaluate ids under or",
     lambda t, w: t["id"] in (1, 2)),
    ("! +bug", None, "§6 'not (and !)'", "Taskwarrior ignores '!'", lambda t, w: "bug" not in t.get("tags", ())),
    ("not +bug", None, "§6 'not'", "Taskwarrior has no 'not'; it searches for the word",
     lambda t, w: "bug" not in t.get("tags", ())),
    ("project:web", None, "§6 'project:web also matches web.ui, not webapp'; text case-insensitive",
     "Taskwarrior left-matches (webapp) case-sensitively", lambda t, w: _subproject(t)),
    ("project:Web", None, "§6", "Taskwarrior left-matches case-sensitively", lambda t, w: _subproject(t)),
    ("project.not:web", None, "§6 'not: negation of the no-modifier match'", "see project:web",
     lambda t, w: not _subproject(t)),
    ("pri:h", None, "§6 'Text: case-insensitive equality'", "Taskwarrior compares case-sensitively",
     lambda t, w: t.get("priority") == "H"),
    ("agent:CLAUDE", None, "§6 'Text: case-insensitive equality'", "Taskwarrior compares case-sensitively",
     lambda t, w: t.get("agent", "").lower() == "claude"),
    ("description:fix", None, "§6 'description:x = contains x'", "Taskwarrior left-matches case-sensitively",
     lambda t, w: "fix" in t["description"].lower()),
    ("description.before:F", None, "§6 text is case-insensitive", "Taskwarrior compares bytes ('d' > 'F')",
     lambda t, w: t["description"].lower() < "f"),
    ("tags:bug", None, "§6 'tags:x = has tag x (exact)'", "Taskwarrior left-matches the joined tag list",
     lambda t, w: "bug" in t.get("tags", ())),
    ("tags.is:bug", None, "§6 is = exact, per tag", "Taskwarrior compares the whole joined list",
     lambda t, w: "bug" in t.get("tags", ())),
    ("tags.isnt:bug", None, "§6 isnt = not exact, per tag", "Taskwarrior compares the whole joined list",
     lambda t, w: "bug" not in t.get("tags", ())),
    ("tags.not:bug", None, "§6 not = negated no-modifier match", "see tags:bug",
     lambda t, w: "bug" not in t.get("tags", ())),
    ("tags.startswith:re", None, "§6 'on lists: some element'", "Taskwarrior tests the joined list",
     lambda t, w: any(x.lower().startswith("re") for x in t.get("tags", ()))),
    ("tags.endswith:ug", None, "§6 'on lists: some element'", "Taskwarrior tests the joined list",
     lambda t, w: any(x.lower().endswith("ug") for x in t.get("tags", ()))),
    ("depends:12", None, "§6 'depends:x = depends on task x (id or uuid)'", "Taskwarrior left-matches uuid text",
     lambda t, w: UUID_12 in t.get("depends", ())),
    ("depends.has:12", None, "§6 (silent on has): the task, not uuid text", "Taskwarrior searches uuid text",
     lambda t, w: UUID_12 in t.get("depends", ())),
    ("annotations:bob", None, "§6 'every task field'", "Taskwarrior has no annotations attribute",
     lambda t, w: any("bob" in a["description"].lower() for a in t.get("annotations", ()))),
    ("annotations.none:", None, "§6 'every task field'", "Taskwarrior has no annotations attribute",
     lambda t, w: not t.get("annotations")),
    ("urgency.below:2.5", None, "§9 'computed for pending tasks only (others 0)'",
     "Taskwarrior scores completed, deleted and template tasks too",
     lambda t, w: (w.urgency[t["uuid"]] if t["status"] == "pending" else 0.0) < 2.5),
]


def _runner(home: Path, now: datetime = NOW) -> Callable[..., subprocess.CompletedProcess]:
    """Run `task` with its own TASKRC/TASKDATA under `home` at the frozen `now` in a given zone."""
    task = require_tool("task")
    (home / "taskrc").write_text("uda.agent.type=string\nuda.agent.label=Agent\n")
    (home / "data").mkdir()

    def run(args: list[str], tz: str = "UTC") -> subprocess.CompletedProcess:
        env = stopped_at({**os.environ, "TASKRC": str(home / "taskrc"), "TASKDATA": str(home / "data")}, tz, now)
        return subprocess.run([task, *RC, *args], env=env, capture_output=True, text=True, timeout=60)

    return run


@pytest.fixture(scope="module")
def taskwarrior(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., subprocess.CompletedProcess]:
    """Taskwarrior with the fixture imported."""
    run = _runner(tmp_path_factory.mktemp("taskwarrior"))
    imported = run(["import", str(FIXTURE)])
    assert imported.returncode == 0, imported.stderr
    return run


@pytest.fixture(scope="module")
def tw_export(taskwarrior) -> list[dict]:
    return json.loads(taskwarrior(["export"]).stdout)


def _answers(taskwarrior, filters: list[str], tz: str) -> dict[str, set[str] | str]:
    """Taskwarrior's uuid set (or its error text) for each filter."""
    def one(text: str) -> set[str] | str:
        done = taskwarrior([*shlex.split(text), "export"], tz)
        if done.returncode != 0 or done.stderr.strip():
            return done.stderr.strip() or f"exit {done.returncode}"
        return {t["uuid"] for t in json.loads(done.stdout)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(filters, pool.map(one, filters)))


@pytest.fixture(scope="module")
def tw_answers(taskwarrior) -> dict[tuple[str, str], set[str] | str]:
    texts = sorted({row.tw if row.tw is not None else row.ours for row in AGREE} | {d[1] or d[0] for d in DIVERGENCES})
    return {(tz, text): answer for tz in ZONES for text, answer in _answers(taskwarrior, texts, tz).items()}


def _select(text: str, tz: str, default_status: bool = False) -> set[str]:
    z = zone(tz)
    found = compile_filter(text, NOW, z, default_status=default_status).select(Context(TASKS, NOW, z))
    return {t["uuid"] for t in found}


def _show(uuids: set[str]) -> list[tuple[int, str, str]]:
    return sorted((TASKS[u]["id"], TASKS[u]["status"], TASKS[u]["description"]) for u in uuids)[:5]


def test_fixture_is_varied_enough():
    statuses = [t["status"] for t in TASKS.values()]
    assert len(TASKS) >= 200
    assert {"pending", "completed", "deleted", "recurring"} <= set(statuses)
    assert any("." in t.get("project", "") for t in TASKS.values())
    assert any("next" in t.get("tags", ()) for t in TASKS.values())
    assert any("start" in t and t["status"] == "pending" for t in TASKS.values())
    assert any("annotations" in t for t in TASKS.values())
    closed = {u for u, t in TASKS.items() if t["status"] in ("completed", "deleted")}
    assert any(closed & set(t.get("depends", ())) for t in TASKS.values())
    for field in ("due", "wait", "scheduled", "until"):
        assert any(t.get(field, "~") < NOW_S for t in TASKS.values()), field
        assert any(t.get(field, "") > NOW_S for t in TASKS.values()), field


def test_ids_line_up_with_taskwarrior(tw_export):
    numbered = {t["uuid"]: t["id"] for t in tw_export if t["id"]}
    assert numbered == {u: t["id"] for u, t in TASKS.items() if t["status"] in ("pending", "recurring")}


def test_enough_filters_are_compared():
    assert len(AGREE) + len(DIVERGENCES) >= 60


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("row", AGREE, ids=str)
def test_filter_agrees_with_taskwarrior(row: Row, tz: str, tw_answers):
    theirs = tw_answers[(tz, row.tw if row.tw is not None else row.ours)]
    assert not isinstance(theirs, str), f"Taskwarrior failed: {theirs}"
    mine = _select(row.ours, tz, row.default_status)
    assert mine == theirs, f"only ours: {_show(mine - theirs)}; only Taskwarrior: {_show(theirs - mine)}"


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("ours_text, tw_text, spec, why, oracle", DIVERGENCES, ids=[d[0] for d in DIVERGENCES])
def test_divergence_follows_spec(ours_text, tw_text, spec, why, oracle, tz, tw_answers, tw_export):
    world = World(TASKS, {t["uuid"]: t["urgency"] for t in tw_export}, tz)
    expected = {u for u, t in TASKS.items() if oracle(t, world)}
    mine = _select(ours_text, tz)
    assert mine == expected, f"{spec}: only ours {_show(mine - expected)}; missing {_show(expected - mine)}"
    theirs = tw_answers[(tz, tw_text or ours_text)]
    assert theirs != mine, f"Taskwarrior now agrees ({why}); move the row to AGREE"


def test_until_passed_keeps_a_task_pending(tmp_path):
    """Divergence (SPEC §8: `until` on a task that does not recur is stored, nothing else follows):
    Taskwarrior deletes a pending task whose `until` has passed."""
    task = {"uuid": "00000000-0000-4000-8000-00000000abcd", "description": "expired", "status": "pending",
            "entry": "20261101T000000Z", "until": "20261120T000000Z"}
    (tmp_path / "one.json").write_text(json.dumps([task]))
    run = _runner(tmp_path)
    assert run(["import", str(tmp_path / "one.json")]).returncode == 0
    assert [t["status"] for t in json.loads(run(["export"]).stdout)] == ["deleted"]
    mine = ours([task])
    found = compile_filter("status:pending", NOW, timezone.utc).select(Context(mine, NOW, timezone.utc))
    assert [t["uuid"] for t in found] == [task["uuid"]]


@pytest.mark.parametrize("now, tz, last_wall_second_is_due", [
    (NOW, "UTC", True),
    (NOW, "America/New_York", True),
    # Berlin falls back on 25 Oct: local midnight + 7 × 86,400 s is 23:00 on the 7th day
    (datetime(2026, 10, 20, 8, 0, tzinfo=timezone.utc), "Europe/Berlin", False),
])
def test_due_window_edges_agree_with_taskwarrior(tmp_path, now, tz, last_wall_second_is_due):
    """+DUE at every edge of [local midnight, local midnight + 7 × 86,400 s), in every status."""
    local_midnight = start_of_day(now, zone(tz))
    wall_8th_day = local_midnight + timedelta(days=7)  # wall-clock arithmetic: local midnight a week on
    midnight = local_midnight.astimezone(timezone.utc)  # plain-seconds arithmetic from here
    moments = [midnight - timedelta(seconds=1), midnight, now - timedelta(seconds=1), now,
               midnight + timedelta(seconds=7 * 86400 - 1), midnight + timedelta(seconds=7 * 86400),
               wall_8th_day - timedelta(seconds=1)]
    tasks = []
    for n, moment in enumerate(moments):
        for status in ("pending", "recurring", "completed", "deleted"):
            due = moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            tasks.append({"uuid": f"00000000-0000-4000-8000-{len(tasks):012x}", "description": f"edge {n}",
                          "status": status, "entry": "20260101T000000Z", "due": due,
                          **({"recur": "weekly"} if status == "recurring" else {}),
                          **({"end": "20260102T000000Z"} if status in ("completed", "deleted") else {})})
    tasks.append({**tasks[4], "uuid": "00000000-0000-4000-8000-0000000000ff", "wait": "20991231T000000Z"})
    (tmp_path / "edges.json").write_text(json.dumps(tasks))
    run = _runner(tmp_path, now)
    assert run(["import", str(tmp_path / "edges.json")], tz).returncode == 0
    theirs = {t["uuid"] for t in json.loads(run(["+DUE", "export"], tz).stdout)}
    found = compile_filter("+DUE", now, zone(tz), default_status=False).select(Context(ours(tasks, now), now, zone(tz)))
    assert {t["uuid"] for t in found} == theirs
    # moments 1-4 (and 6 without a DST change), pending and recurring, and the waiting one
    assert len(theirs) == 2 * (4 + last_wall_second_is_due) + 1


# Urgency: equal within 0.01 for every pending task. Excluded on purpose (SPEC §9 "computed for
# pending tasks only (others 0)"): completed, deleted and recurring templates, which Taskwarrior
# scores and we hold at 0.
def test_urgency_matches_taskwarrior_for_pending_tasks(tw_export):
    ctx = Context(TASKS, NOW, timezone.utc)
    mine = dict(zip(TASKS, urgencies(TASKS.values(), ctx)))
    compared = [t for t in tw_export if TASKS[t["uuid"]]["status"] == "pending"]
    assert len(compared) >= 180
    off = [(TASKS[t["uuid"]]["id"], t["urgency"], round(mine[t["uuid"]], 4)) for t in compared
           if abs(t["urgency"] - mine[t["uuid"]]) > 0.01]
    assert off == []


def test_urgency_of_non_pending_tasks_is_zero_where_taskwarrior_scores_them(tw_export):
    ctx = Context(TASKS, NOW, timezone.utc)
    mine = dict(zip(TASKS, urgencies(TASKS.values(), ctx)))
    excluded = [t for t in tw_export if TASKS[t["uuid"]]["status"] != "pending"]
    assert excluded and all(mine[t["uuid"]] == 0.0 for t in excluded)
    assert any(t["urgency"] != 0 for t in excluded)  # still a real divergence
