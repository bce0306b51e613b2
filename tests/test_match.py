"""What filters match (SPEC §6): every modifier and synonym, every virtual tag, ids, words,
time zones and a DST change, on a small hand-made store with a fixed `now`."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterator, Mapping
from zoneinfo import ZoneInfo

import pytest

from backlog.core.filter import compile_filter
from backlog.core.virtual import VIRTUAL
from backlog.store.view import Context
from backlog.core.urgency import urgency

NOW = datetime(2026, 11, 24, 10, 14, 53, tzinfo=timezone.utc)  # a Tuesday
UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")


def uid(n: int) -> str:
    return f"{n:08x}-0000-4000-8000-{n:012x}"


def make(n: int, description: str, **fields) -> dict:
    return {"id": n, "uuid": uid(n), "description": description, "status": "pending",
            "entry": "2026-11-01T00:00:00Z", **fields}


TASKS = [
    make(1, "Fix login bug", project="web", tags=["bug", "ui"], priority="H", due="2026-11-24T15:00:00Z",
         agent="claude", start="2026-11-24T09:00:00Z",
         lease={"holder": "claude", "kind": "claimed", "expires": "2026-11-24T10:20:00Z"},
         annotations=[{"entry": "2026-11-02T00:00:00Z", "description": "waiting on Bob"}]),
    make(2, "Write API docs", project="web.ui", tags=["Bug"], priority="M", due="2026-11-25T09:00:00Z",
         scheduled="2026-11-26T00:00:00Z"),
    make(3, "Deploy web app", project="webapp", priority="L", due="2026-11-20T12:00:00Z",
         agent="backlog:task-planner",
         lease={"holder": "backlog:task-planner", "kind": "assigned", "expires": "2026-11-24T10:14:53Z"}),
    make(4, "Refactor auth module", project="Web.API", wait="2026-11-30T00:00:00Z", until="2026-12-31T00:00:00Z"),
    make(5, "login page polish", tags=["next"], due="2026-12-05T00:00:00Z", has_doc=True,
         scheduled="2026-11-20T00:00:00Z"),
    make(6, "Fix logout", status="completed", project="web", end="2026-11-23T00:00:00Z", tags=["bug"]),
    make(7, "Old idea", status="deleted", end="2026-11-22T00:00:00Z"),
    make(8, "Blocked work", depends=[uid(1)], priority="L"),
    make(9, "Weekly sync", status="recurring", recur="weekly", due="2026-11-27T00:00:00Z", project="ops"),
    make(10, "Weekly sync", parent=uid(9), recur="weekly", due="2026-11-27T00:00:00Z", project="ops",
         depends=[uid(6), "ffffffff-0000-4000-8000-00000000ffff"]),  # completed + archived: resolved
    make(11, "Needs template", depends=[uid(9)], due="2027-01-15T00:00:00Z"),
    make(12, "Tomorrowish", due="2026-11-26T00:00:00Z", origin="claude:s1:t1"),
    make(13, "Yesterday thing", due="2026-11-23T12:00:00Z", entry="2026-11-23T00:00:00Z"),
]
STORE = {t["uuid"]: t for t in TASKS}
ALL = set(range(1, 14))


def ids(text: str, tz=UTC, now: datetime = NOW, store: Mapping[str, dict] = STORE, default_status=False) -> list[int]:
    found = compile_filter(text, now, tz, default_status=default_status).select(Context(store, now, tz))
    return sorted(t["id"] for t in found)


def but(*excluded: int) -> list[int]:
    return sorted(ALL - set(excluded))


@pytest.mark.parametrize("tag, expected", [
    ("PENDING", [1, 2, 3, 4, 5, 8, 10, 11, 12, 13]),  # waiting tasks are pending
    ("COMPLETED", [6]),
    ("DELETED", [7]),
    ("RECURRING", [9]),
    ("WAITING", [4]),  # pending, wait in the future
    ("ACTIVE", [1]),
    ("BLOCKED", [8, 11]),  # on a pending task, on a recurring template
    ("UNBLOCKED", but(8, 11)),  # 10 depends on a completed and an archived task
    ("BLOCKING", [1, 9]),  # 6 is depended on but completed
    ("READY", [1, 3, 5, 10, 12, 13]),  # 2 scheduled later, 4 waiting, 8/11 blocked
    ("OVERDUE", [3, 13]),
    ("DUE", [1, 2, 9, 10, 12]),  # today 00:00 ≤ due < today + 7×86400 s; templates count, 13 (yesterday) not
    ("TODAY", [1]),
    ("TOMORROW", [2]),
    ("YESTERDAY", [13]),
    ("WEEK", [1, 2, 9, 10, 12, 13]),  # Mon 23 – Sun 29 Nov; templates count
    ("MONTH", [1, 2, 3, 9, 10, 12, 13]),
    ("QUARTER", [1, 2, 3, 5, 9, 10, 12, 13]),
    ("YEAR", [1, 2, 3, 5, 9, 10, 12, 13]),  # 11 is due next year
    ("SCHEDULED", [2, 5]),
    ("UNTIL", [4]),
    ("PROJECT", [1, 2, 3, 4, 6, 9, 10]),
    ("PRIORITY", [1, 2, 3, 8]),
    ("TAGGED", [1, 2, 5, 6]),
    ("ANNOTATED", [1]),
    ("DOC", [5]),
    ("CLAIMED", [1]),  # pending with a live lease (3's expired at NOW exactly)
    ("TEMPLATE", [9]),
    ("PARENT", [9]),  # alias
    ("INSTANCE", [10]),
    ("CHILD", [10]),  # alias
    ("LATEST", [13]),  # highest id
])
def test_virtual_tag(tag, expected):
    assert ids(f"+{tag}") == expected
    assert ids(f"-{tag}") == but(*expected)


def test_every_virtual_tag_is_tested_and_known_to_the_model():
    from backlog.core.model import VIRTUAL_TAGS

    assert set(VIRTUAL) == VIRTUAL_TAGS


@pytest.mark.parametrize("tz", [UTC, NEW_YORK])
def test_has_virtual_tag_is_the_filter_definition(tz):
    ctx = Context(STORE, NOW, tz)
    for name in VIRTUAL:
        by_filter = ids(f"+{name}", tz)
        assert sorted(t["id"] for t in TASKS if ctx.has_virtual_tag(t, name)) == by_filter, name


def test_context_shortcuts_answer_like_the_tags():
    ctx = Context(STORE, NOW, UTC)
    by_id = {t["id"]: t for t in TASKS}
    assert [n for n in by_id if ctx.is_blocked(by_id[n])] == [8, 11]
    assert [n for n in by_id if ctx.is_blocking(by_id[n])] == [1, 9]
    assert [n for n in by_id if ctx.is_waiting(by_id[n])] == [4]
    assert [n for n in by_id if ctx.is_ready(by_id[n])] == [1, 3, 5, 10, 12, 13]
    assert ctx.virtual_tags(by_id[1]) == [
        "PENDING", "ACTIVE", "UNBLOCKED", "BLOCKING", "READY", "DUE", "TODAY", "WEEK", "MONTH", "QUARTER",
        "YEAR", "PROJECT", "PRIORITY", "TAGGED", "ANNOTATED", "CLAIMED",
    ]


class Untouchable(Mapping):
    """A store that fails on any access: building a Context must not read it."""

    def __getitem__(self, key):
        raise AssertionError("read")

    def __iter__(self) -> Iterator:
        raise AssertionError("iterated")

    def __len__(self) -> int:
        raise AssertionError("measured")


def test_context_construction_reads_nothing_and_caches_indexes():
    Context(Untouchable(), NOW, UTC)
    ctx = Context(STORE, NOW, UTC)
    assert ctx.by_id is ctx.by_id and ctx.blocking_uuids is ctx.blocking_uuids and ctx.max_id == 13
    assert ctx.resolve_refs(["1", uid(9)[:8], uid(6), "99"]) == {uid(1), uid(9), uid(6)}


@pytest.mark.parametrize("text, expected", [
    # project: hierarchy and case-insensitive without modifier
    ("project:web", [1, 2, 4, 6]),  # web, web.ui, Web.API; not webapp
    ("project:WEB", [1, 2, 4, 6]),  # case-insensitive
    ("project:web.ui", [2]),  # a sub-project alone
    ("project.is:web", [1, 6]),  # exact, case-sensitive
    ("project.equals:Web.API", [4]),  # synonym
    ("project.isnt:web", but(1, 6)),  # not exact; no project counts
    ("project.not:web", [3, 5, 7, 8, 9, 10, 11, 12, 13]),  # negated hierarchy match
    ("project.has:APP", [3]),  # substring, case-insensitive
    ("project.contains:eb", [1, 2, 3, 4, 6]),  # synonym
    ("project.hasnt:eb", [5, 7, 8, 9, 10, 11, 12, 13]),
    ("project.startswith:web.", [2, 4]),
    ("project.left:WEB", [1, 2, 3, 4, 6]),  # synonym
    ("project.endswith:api", [4]),
    ("project.right:UI", [2]),  # synonym
    ("project.word:ui", [2]),  # '.' separates words
    ("project.noword:ui", but(2)),
    ("project.before:w", [9, 10]),  # 'ops' < 'w' (lower-cased text)
    ("project.below:w", [9, 10]),  # synonym
    ("project.after:web", [2, 3, 4]),
    ("project.by:web", [1, 6, 9, 10]),
    ("project:", [5, 7, 8, 11, 12, 13]),  # empty value = none
    ("project.is:", [5, 7, 8, 11, 12, 13]),  # empty value = none
    ("project.not:", [1, 2, 3, 4, 6, 9, 10]),  # empty value negated = any
    ("project.none:", [5, 7, 8, 11, 12, 13]),
    ("project.any:", [1, 2, 3, 4, 6, 9, 10]),
    # description: contains without modifier
    ("description:fix", [1, 6]),
    ('description.is:"Fix logout"', [6]),
    ('description.is:"fix logout"', []),  # exact is case-sensitive
    ("description.has:LOG", [1, 5, 6]),
    ("description.hasnt:fix", but(1, 6)),
    ("description.startswith:fix", [1, 6]),
    ("description.endswith:BUG", [1]),
    ("description.word:log", []),  # part of login/logout only
    ("description.word:login", [1, 5]),
    ("description.noword:login", but(1, 5)),
    # tags: exact and case-sensitive as elements; text modifiers on some element
    ("tags:bug", [1, 6]),
    ("tags:Bug", [2]),
    ("tags.is:bug", [1, 6]),
    ("tags.isnt:bug", but(1, 6)),
    ("tags.not:bug", but(1, 6)),
    ("tags.has:BU", [1, 2, 6]),
    ("tags.hasnt:bu", but(1, 2, 6)),
    ("tags.startswith:n", [5]),
    ("tags.endswith:I", [1]),
    ("tags.word:bug", [1, 2, 6]),
    ("tags.noword:bug", but(1, 2, 6)),
    ("tags.none:", [3, 4, 7, 8, 9, 10, 11, 12, 13]),
    ("tags.any:", [1, 2, 5, 6]),
    ("+bug", [1, 6]),
    ("-bug", but(1, 6)),
    ("+Bug", [2]),
    # priority: H > M > L > none
    ("priority:H", [1]),
    ("priority:h", [1]),  # case-insensitive
    ("priority.is:M", [2]),
    ("priority.before:M", but(1, 2)),  # L and none
    ("priority.below:H", but(1)),
    ("priority.under:L", but(1, 2, 3, 8)),  # none only
    ("priority.after:M", [1]),
    ("priority.above:L", [1, 2]),
    ("priority.over:L", [1, 2]),
    ("priority.by:M", but(1)),
    ("priority.not:H", but(1)),
    ("priority.isnt:H", but(1)),
    ("priority:", [4, 5, 6, 7, 9, 10, 11, 12, 13]),
    ("priority.any:", [1, 2, 3, 8]),
    # dates: same local day without modifier; by time with before/after/by
    ("due:today", [1]),
    ("due:tomorrow", [2]),
    ("due:2026-11-24", [1]),
    ("due:2026-11-24T23:00", [1]),  # the day, not the instant
    ("due.before:today", [3, 13]),
    ("due.after:today", [1, 2, 5, 9, 10, 11, 12]),
    ("due.before:now", [3, 13]),
    ("due.after:now", [1, 2, 5, 9, 10, 11, 12]),
    ("due.before:2026-11-24T15:00:00Z", [3, 13]),
    ("due.by:2026-11-24T15:00:00Z", [1, 3, 13]),  # by includes the instant
    ("due.under:2026-11-24T15:00:00Z", [3, 13]),
    ("due.over:eow", [5, 11]),  # after Sun 29 Nov 23:59:59
    ("due.is:2026-11-24T15:00:00Z", [1]),  # exact instant
    ("due.equals:2026-11-24T16:00:00+01:00", [1]),  # same instant, another offset
    ("due.isnt:2026-11-24T15:00:00Z", but(1)),
    ("due.not:today", but(1)),
    ("due:", [4, 6, 7, 8]),
    ("due.none:", [4, 6, 7, 8]),
    ("due.any:", [1, 2, 3, 5, 9, 10, 11, 12, 13]),
    ("due.before:someday", [1, 2, 3, 5, 9, 10, 11, 12, 13]),
    ("due.before:next week", [1, 2, 3, 9, 10, 12, 13]),  # Mon 30 Nov 00:00
    ("due:in 2 days", [12]),  # Thu 26 Nov
    ("end.after:2026-11-22T12:00:00Z", [6]),
    ("end.any:", [6, 7]),
    ("start.any:", [1]),
    ("scheduled.before:now", [5]),
    ("wait.after:now", [4]),
    ("until.before:2027-01-01", [4]),
    ("entry.after:2026-11-22", [13]),
    ("entry.before:2026-11-02", but(13)),
    # ids, uuids and uuid prefixes (every status)
    ("1", [1]),
    ("1,3", [1, 3]),
    ("2-4", [2, 3, 4]),
    ("1,3-4", [1, 3, 4]),
    ("6 7", [6, 7]),
    ("6 7 +bug", [6]),
    (uid(5)[:8], [5]),
    (uid(5)[:13], [5]),
    (uid(5), [5]),
    (f"3,{uid(5)[:8]}", [3, 5]),
    ("( 1 or 2 ) or 3", [1, 2, 3]),
    ("id:3", [3]),
    ("id.before:3", [1, 2]),
    ("id.after:11", [12, 13]),
    ("id.by:2", [1, 2]),
    ("id.not:3", but(3)),
    ("uuid:" + uid(5)[:8], [5]),
    ("uuid.is:" + uid(5), [5]),
    # depends: by id, uuid or prefix
    ("depends:1", [8]),
    ("depends:" + uid(1), [8]),
    ("depends:" + uid(1)[:8], [8]),
    ("depends:9", [11]),
    ("depends:6", [10]),  # a completed dependency is still a dependency
    ("depends:99", []),  # no such task
    ("depends:1,9", [8, 11]),  # any of them
    ("depends.has:1", [8]),
    ("depends.not:1", but(8)),
    ("depends.isnt:1", but(8)),
    ("depends.hasnt:1", but(8)),
    ("depends.none:", but(8, 10, 11)),
    ("depends.any:", [8, 10, 11]),
    # other text fields
    ("agent:claude", [1]),
    ("agent:CLAUDE", [1]),  # case-insensitive equality
    ("agent.is:Claude", []),  # exact is case-sensitive
    ("agent.startswith:backlog", [3]),
    ("agent.word:task", [3]),  # ':' and '-' separate words
    ("agent.none:", but(1, 3)),
    ("recur:WEEKLY", [9, 10]),
    ("parent.any:", [10]),
    ("parent:" + uid(9)[:8], [10]),  # uuid attributes take prefixes
    ("origin.startswith:claude:", [12]),
    ("status:pending", [1, 2, 3, 4, 5, 8, 10, 11, 12, 13]),  # includes waiting
    ("status:waiting", [4]),  # = +WAITING
    ("status:Completed", [6]),
    ("status.is:deleted", [7]),
    ("status:recurring", [9]),
    ("status.not:pending", [6, 7, 9]),
    ("status.not:waiting", but(4)),
    ("status.isnt:waiting", but(4)),
    # annotations as a field
    ("annotations:bob", [1]),
    ("annotations.has:WAITING", [1]),
    ('annotations.is:"waiting on Bob"', [1]),
    ('annotations.is:"waiting on bob"', []),
    ("annotations.startswith:wait", [1]),
    ("annotations.word:on", [1]),
    ("annotations.none:", but(1)),
    ("annotations.any:", [1]),
    # docs
    ("has_doc:yes", [5]),
    ("doc:true", [5]),
    ("has_doc:1", [5]),
    ("has_doc:no", but(5)),
    ("has_doc:0", but(5)),
    ("has_doc:False", but(5)),
    ("has_doc.not:yes", but(5)),
    ("has_doc.none:", but(5)),
    ("has_doc.any:", [5]),
    # bare words: description and annotations, case-insensitive, all must match
    ("login", [1, 5]),
    ("bob", [1]),  # found in an annotation
    ("fix login", [1]),
    ('"fix login"', [1]),
    ("LOGIN polish", [5]),
    ("auth project:Web.API", [4]),
    ("zzz", []),
    # boolean structure
    ("( +OVERDUE or +ACTIVE )", [1, 3, 13]),
    ("(+OVERDUE or +ACTIVE)", [1, 3, 13]),
    ("not +PENDING", [6, 7, 9]),
    ("+bug xor +PROJECT", [2, 3, 4, 9, 10]),
    ("login or +DOC", [1, 5]),
    ("+bug or +Bug and priority:M", [1, 2, 6]),
    ("( +bug or +Bug ) and priority:M", [2]),
    ("! ( +bug or +Bug )", but(1, 2, 6)),
])
def test_filter_matches(text, expected):
    assert ids(text) == expected


@pytest.mark.parametrize("text, utc, new_york", [
    ("due:today", [1], [1]),  # 15:00Z is 10:00 in New York
    ("due:tomorrow", [2], [2, 12]),  # 26 Nov 00:00Z is 25 Nov 19:00 in New York
    ("due:2026-11-26", [12], [9, 10]),  # 27 Nov 00:00Z is 26 Nov in New York
    ("+TOMORROW", [2], [2, 12]),
    ("+YESTERDAY", [13], [13]),
    ("due.before:tomorrow", [1, 3, 13], [1, 3, 13]),
    ("due.before:2026-11-26", [1, 2, 3, 13], [1, 2, 3, 12, 13]),  # local midnight
    ("due.after:2026-11-26T19:00", [5, 9, 10, 11], [5, 11]),  # 19:00 local is 00:00Z next day
])
def test_dates_are_local_calendar_days(text, utc, new_york):
    assert ids(text, UTC) == utc
    assert ids(text, NEW_YORK) == new_york


# Around the end of daylight saving time in New York (Sun 1 Nov 2026 02:00 EDT → 01:00 EST):
# the local day 1 Nov is 25 hours long, and the week Mon 26 Oct – Sun 1 Nov ends at 05:00Z.
DST_NOW = datetime(2026, 10, 30, 16, 0, 0, tzinfo=UTC)  # Friday
DST_STORE = {t["uuid"]: t for t in (
    make(1, "midnight EDT", due="2026-11-01T04:00:00Z"),  # 1 Nov 00:00 EDT
    make(2, "late EST", due="2026-11-02T04:59:59Z"),  # 1 Nov 23:59:59 EST
    make(3, "next day", due="2026-11-02T05:00:00Z"),  # 2 Nov 00:00 EST
    make(4, "day before", due="2026-11-01T03:59:59Z"),  # 31 Oct 23:59:59 EDT
)}


@pytest.mark.parametrize("text, new_york, utc", [
    ("due:2026-11-01", [1, 2], [1, 4]),  # the 25-hour day
    ("+WEEK", [1, 2, 4], [1, 4]),  # the week ends Sun 1 Nov 24:00 local
    ("due.by:eow", [1, 2, 4], [1, 4]),  # eow = 1 Nov 23:59:59 local
    ("due.before:2026-11-02", [1, 2, 4], [1, 4]),
    ("due:sunday", [1, 2], [1, 4]),
])
def test_dates_across_a_dst_change(text, new_york, utc):
    assert ids(text, NEW_YORK, DST_NOW, DST_STORE) == new_york
    assert ids(text, UTC, DST_NOW, DST_STORE) == utc


@pytest.mark.parametrize("text", ["urgency.over:5", "urgency.under:1", "urgency.by:0", "urg.above:10"])
def test_urgency_filters_compare_the_computed_urgency(text):
    ctx = Context(STORE, NOW, UTC)
    limit = float(text.split(":")[1])
    compare = {"over": limit.__lt__, "under": limit.__gt__, "by": limit.__ge__, "above": limit.__lt__}
    op = compare[text.split(":")[0].split(".")[1]]
    expected = sorted(t["id"] for t in TASKS if op(urgency(t, ctx)))
    assert ids(text) == expected
    assert expected and expected != sorted(ALL)  # the case really discriminates


def test_urgency_without_modifier_matches_to_one_decimal():
    ctx = Context(STORE, NOW, UTC)
    target = round(urgency(STORE[uid(1)], ctx), 1)
    assert 1 in ids(f"urgency:{target}")


def test_latest_is_the_highest_id_even_when_ids_are_sparse():
    store = {t["uuid"]: t for t in (make(3, "a"), make(40, "b", status="completed"), make(7, "c"))}
    assert ids("+LATEST", store=store) == [40]
    assert ids("+LATEST", store=store, default_status=True) == []


def test_default_view_hides_waiting_and_closed_tasks():
    assert ids("", default_status=True) == [1, 2, 3, 5, 8, 10, 11, 12, 13]
    assert ids("+bug", default_status=True) == [1]
    assert ids("+bug or +COMPLETED", default_status=True) == [1, 6]
    assert ids("6", default_status=True) == [6]


@pytest.mark.parametrize("due, overdue, due_soon", [
    ("2026-11-23T23:59:59Z", True, False),  # yesterday: overdue, not due
    ("2026-11-24T00:00:00Z", True, True),  # start of today: overdue and due (Taskwarrior 2.6)
    ("2026-11-24T10:14:52Z", True, True),  # one second ago: overdue, still due today
    ("2026-11-24T10:14:53Z", False, True),  # exactly now: due, not overdue
    ("2026-11-30T23:59:59Z", False, True),  # the last second of the 7th day
    ("2026-12-01T00:00:00Z", False, False),  # start of today + 7 × 86,400 s: not yet
])
def test_overdue_and_due_boundaries(due, overdue, due_soon):
    store = {uid(1): make(1, "edge", due=due)}
    assert ids("+OVERDUE", store=store) == ([1] if overdue else [])
    assert ids("+DUE", store=store) == ([1] if due_soon else [])


@pytest.mark.parametrize("due, due_soon", [
    ("2026-10-19T21:59:59Z", False),  # 23:59:59 CEST the day before
    ("2026-10-19T22:00:00Z", True),  # local midnight today, 00:00 CEST
    ("2026-10-26T21:59:59Z", True),  # local midnight + 7 × 86,400 s - 1 s (22:59:59 CET)
    ("2026-10-26T22:00:00Z", False),  # + 7 × 86,400 s: 23:00 CET, an hour before local midnight
])
def test_due_horizon_is_plain_seconds_across_a_dst_change(due, due_soon):
    """Taskwarrior adds 7 × 86,400 s to local midnight; Berlin falls back on 25 Oct 2026."""
    now = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)  # 10:00 CEST on a Tuesday
    store = {uid(1): make(1, "edge", due=due)}
    assert ids("+DUE", ZoneInfo("Europe/Berlin"), now, store) == ([1] if due_soon else [])


@pytest.mark.parametrize("status, due_soon", [
    ("pending", True), ("recurring", True), ("completed", False), ("deleted", False),
])
def test_due_counts_every_task_not_completed_or_deleted(status, due_soon):
    store = {uid(1): make(1, "edge", status=status, due="2026-11-25T00:00:00Z")}
    assert ids("+DUE", store=store) == ([1] if due_soon else [])


@pytest.mark.parametrize("field, value, ready", [
    ("scheduled", "2026-11-24T10:14:53Z", True),  # scheduled == now is ready (SPEC: ≤ now)
    ("scheduled", "2026-11-24T10:14:54Z", False),
    ("wait", "2026-11-24T10:14:53Z", True),  # wait == now: no longer waiting
    ("wait", "2026-11-24T10:14:54Z", False),
])
def test_ready_boundaries(field, value, ready):
    store = {uid(1): make(1, "edge", **{field: value})}
    assert ids("+READY", store=store) == ([1] if ready else [])


def test_yesterday_after_a_23_hour_day():
    # DST starts Sun 14 Mar 2027 in New York (a 23-hour day); on Monday, yesterday is all of the 14th
    now = datetime(2027, 3, 15, 14, 0, 0, tzinfo=UTC)
    store = {t["uuid"]: t for t in (
        make(1, "early on the 14th", due="2027-03-14T05:00:00Z"),  # 14 Mar 00:00 EST
        make(2, "late on the 13th", due="2027-03-14T04:59:59Z"),  # 13 Mar 23:59:59 EST
        make(3, "late on the 14th", due="2027-03-15T03:59:59Z"),  # 14 Mar 23:59:59 EDT
    )}
    assert ids("+YESTERDAY", NEW_YORK, now, store) == [1, 3]
    assert ids("due:yesterday", NEW_YORK, now, store) == [1, 3]
