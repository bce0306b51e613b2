"""Urgency (SPEC §9): Taskwarrior 2.6's default formula, for pending tasks (others 0).

Terms, checked one by one against `task export` of Taskwarrior 2.6.2:
- next tag 15; due 12 × (0.2 at ≥ 14 days ahead, rising linearly to 1.0 at ≥ 7 days
  overdue; days = (now − due) / 86400 exactly); blocking 8; priority H 6, M 3.9, L 1.8;
  scheduled 5 when scheduled < now; active 4 (start set, also while waiting); age 2 ×
  min(days, 365) / 365 with whole days, truncated (Taskwarrior's `int age`; an entry in
  the future gives a negative age; no entry counts as old); annotations 1 and tags 1 ×
  0.8 / 0.9 / 1.0 for 1 / 2 / ≥ 3; project 1; waiting −3; blocked −5.
- WAITING, BLOCKED and BLOCKING are the virtual-tag expressions of `backlog.core.virtual`.

Speed: the per-task code (`_BODY`) is generated once at import into a loop (`urgencies`)
and a closure (`scorer`); `own_bounds` bounds tasks' urgencies from above from the task
alone, for top-n selection (the store caches it per task). Dates are compared as strings; only
due dates inside the 21-day ramp and entries younger than a year are converted, through
per-call caches keyed by day.
"""

from __future__ import annotations

from datetime import timedelta
from types import MappingProxyType
from collections.abc import Callable, Container, Iterable, Mapping

from backlog.core.model import format_utc
from backlog.core.virtual import PENDING_AND, VIRTUAL, needs

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: hooks start fast
if TYPE_CHECKING:
    from backlog.store.view import Context

COEFFICIENTS: Mapping[str, float] = MappingProxyType({
    "next": 15.0, "due": 12.0, "blocking": 8.0, "priority.H": 6.0, "priority.M": 3.9,
    "priority.L": 1.8, "scheduled": 5.0, "active": 4.0, "age": 2.0, "annotations": 1.0,
    "tags": 1.0, "project": 1.0, "waiting": -3.0, "blocked": -5.0,
})
AGE_MAX_DAYS = 365
AGE_MAX = COEFFICIENTS["age"]  # the largest age term

_SETUP = """\
{setup}
    days, times, ages = {}, {}, {}
    now_day, now_time, now_epoch = c.day_number(now_s), now_s[10:], c.epoch(now_s)
    overdue_s = format_utc(c.now - timedelta(days=7))
    far_s = format_utc(c.now + timedelta(days=14))
    old_s = format_utc(c.now - timedelta(days=AGE_DAYS))
"""
# One task `t` → `u`; {skip} leaves a non-pending task at 0, {emit} hands `u` over.
_BODY = """\
        if t['status'] != 'pending':
            {skip}
        u = 0.0
        tags = t.get('tags')
        if tags:
            n = len(tags)
            u += TAGS_TERM[n] if n < 3 else C_TAGS
            if 'next' in tags:
                u += C_NEXT
        if 'annotations' in t:
            n = len(t['annotations'])
            u += NOTES_TERM[n] if n < 3 else C_ANNOTATIONS
        if 'project' in t:
            u += C_PROJECT
        if 'priority' in t:
            u += PRIORITY.get(t['priority'], 0.0)
        if 'due' in t:
            due = t['due']
            if due <= overdue_s:
                u += C_DUE
            elif due > far_s:
                u += C_DUE * 0.2
            else:
                # seconds overdue = now - due, from the due day (cached) and its time of day
                day = days.get(due[:10])
                if day is None:
                    day = days[due[:10]] = (now_day - c.day_number(due)) * 86400 + now_epoch % 86400
                tod = times.get(due[11:])
                if tod is None:
                    tod = times[due[11:]] = int(due[11:13]) * 3600 + int(due[14:16]) * 60 + int(due[17:19])
                u += C_DUE * (((day - tod) / 86400.0 + 14.0) * 0.8 / 21.0 + 0.2)
        entry = t.get('entry', '')
        if entry > now_s:
            u -= C_AGE * ((c.epoch(entry) - now_epoch) // 86400) / AGE_DAYS
{age}
        if 'start' in t:
            u += C_ACTIVE
        if 'scheduled' in t and t['scheduled'] < now_s:
            u += C_SCHEDULED
        if {WAITING}:
            u += C_WAITING
        if {BLOCKED}:
            u += C_BLOCKED
        if {BLOCKING}:
            u += C_BLOCKING
        {emit}
"""
# The age term of a task entered at or before now (whole days, as Taskwarrior).
_AGE = """\
        elif entry <= old_s:
            u += C_AGE
        else:
            # per entry day: (that day at now's time of day, age term before it, after it)
            hit = ages.get(entry[:10])
            if hit is None:
                whole = now_day - c.day_number(entry)
                hit = ages[entry[:10]] = (
                    entry[:10] + now_time, C_AGE * whole / AGE_DAYS, C_AGE * (whole - 1) / AGE_DAYS,
                )
            u += hit[2] if entry > hit[0] else hit[1]"""


def _source() -> str:
    """The two generated functions, both around `_BODY`."""
    body = _BODY
    for name in ("WAITING", "BLOCKED", "BLOCKING"):  # the body only sees pending tasks
        body = body.replace("{" + name + "}", VIRTUAL[name].removeprefix(PENDING_AND))
    setup = _SETUP.replace("{setup}", "\n".join(f"    {line}" for line in needs(body + _AGE + _SETUP)))
    loop = body.replace("{skip}", "append(0.0)\n            continue").replace("{emit}", "append(u)")
    one = body.replace("{skip}", "return 0.0").replace("{emit}", "return u")
    return "\n".join((
        f"def urgencies(tasks, c):\n{setup}    out = []\n    append = out.append\n"
        f"    for t in tasks:\n{loop.replace('{age}', _AGE)}    return out\n",
        f"def scorer(c):\n{setup}    def one(t):\n{one.replace('{age}', _AGE)}    return one\n",
    ))


def _build() -> dict:
    namespace: dict = {
        "format_utc": format_utc, "timedelta": timedelta, "AGE_DAYS": AGE_MAX_DAYS,
        "TAGS_TERM": tuple(COEFFICIENTS["tags"] * f for f in (0.0, 0.8, 0.9)),
        "NOTES_TERM": tuple(COEFFICIENTS["annotations"] * f for f in (0.0, 0.8, 0.9)),
        "PRIORITY": {level: COEFFICIENTS[f"priority.{level}"] for level in "HML"},
        **{f"C_{key.upper()}": value for key, value in COEFFICIENTS.items() if "." not in key},
    }
    exec(compile(_source(), "<urgency>", "exec"), namespace)  # noqa: S102 - our own text
    return namespace


_GENERATED = _build()
urgencies: Callable[[Iterable[dict], Context], list[float]] = _GENERATED["urgencies"]
urgencies.__doc__ = "Urgency of each task, in order, in one pass (SPEC §9)."
scorer: Callable[[Context], Callable[[dict], float]] = _GENERATED["scorer"]
scorer.__doc__ = "A function task → urgency for this call's Context (setup done once)."


_C = COEFFICIENTS
_TAGS_TERM = (0.0, _C["tags"] * 0.8, _C["tags"] * 0.9)
_NOTES_TERM = (0.0, _C["annotations"] * 0.8, _C["annotations"] * 0.9)
_PRIORITY = {level: _C[f"priority.{level}"] for level in "HML"}
BOUND_MARGIN = 1e-6  # float sums in another order may differ in the last bits


def own_bounds(tasks: Iterable[dict], blocking: Container[str]) -> list[float]:
    """An upper bound of each task's urgency at any time, in order; `blocking`: the uuids that
    get the blocking term.

    The rest reads each task alone (no clock, no other task), so a store may cache it per task
    until the task changes: the time terms count at their largest (due 12, scheduled 5, age
    AGE_MAX), waiting and blocked at 0; non-pending tasks 0. One loop, no call per task: a
    fresh `backlog list` bounds 7k tasks.
    """
    c, tags_term, notes_term, priority = _C, _TAGS_TERM, _NOTES_TERM, _PRIORITY
    c_tags, c_next, c_notes, c_project = c["tags"], c["next"], c["annotations"], c["project"]
    c_due, c_active, c_scheduled, c_blocking = c["due"], c["active"], c["scheduled"], c["blocking"]
    out: list[float] = []
    append = out.append
    for t in tasks:
        u = 0.0
        if t["status"] == "pending":
            u = AGE_MAX + BOUND_MARGIN
            tags = t.get("tags")
            if tags:
                n = len(tags)
                u += tags_term[n] if n < 3 else c_tags
                if "next" in tags:
                    u += c_next
            if "annotations" in t:
                n = len(t["annotations"])
                u += notes_term[n] if n < 3 else c_notes
            if "project" in t:
                u += c_project
            if "priority" in t:
                u += priority.get(t["priority"], 0.0)
            if "due" in t:
                u += c_due
            if "start" in t:
                u += c_active
            if "scheduled" in t:
                u += c_scheduled
        if t["uuid"] in blocking:
            u += c_blocking
        append(u)
    return out


def urgency(task: dict, ctx: Context) -> float:
    """Urgency of one task (0.0 unless pending)."""
    return urgencies((task,), ctx)[0]
