"""How a task reads to a person (pure; the CLI and the board show the same): its states and
relative and local dates.

A state is a word, never only a colour: `overdue`, `active`, `due soon` (due within DUE_SOON,
Taskwarrior's rc.due=7), `blocked`, `waiting`, in that order of precedence (STATE_NAMES).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, tzinfo

from backlog.core.model import parse_utc

DUE_SOON = timedelta(days=7)
STATE_NAMES = ("overdue", "active", "due soon", "blocked", "waiting")
_UNITS = ((365 * 86400, "y"), (30 * 86400, "mo"), (7 * 86400, "w"), (86400, "d"), (3600, "h"), (60, "min"))


def states(task: Mapping, now: datetime, blocked: Callable[[Mapping], bool]) -> list[str]:
    """The STATE_NAMES of a task row, in precedence order; `blocked(task)` says whether it waits on open tasks."""
    found = []
    done = task.get("status") in ("completed", "deleted")
    due = parse_utc(task["due"]) if isinstance(task.get("due"), str) and not done else None
    if due is not None and due < now:
        found.append("overdue")
    if task.get("start") and not done:
        found.append("active")
    if due is not None and now <= due <= now + DUE_SOON:
        found.append("due soon")
    if not done and task.get("depends") and blocked(task):
        found.append("blocked")
    if task.get("status") == "waiting" or (isinstance(task.get("wait"), str) and not done and parse_utc(task["wait"]) > now):
        found.append("waiting")
    return found


def relative(when: datetime, now: datetime) -> str:
    """`when` as a distance from `now`: `in 3d`, `2h ago`, `now` (under a minute); the largest whole unit."""
    seconds = (when - now).total_seconds()
    size = abs(seconds)
    for unit, name in _UNITS:
        if size >= unit:
            amount = f"{int(size // unit)}{name}"
            return f"in {amount}" if seconds > 0 else f"{amount} ago"
    return "now"


def local_time(stamp: str, tz: tzinfo) -> str:
    """A stored UTC date as local time with its offset, e.g. `2026-11-24 11:14:53 +0100`."""
    return parse_utc(stamp).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %z")
