"""How a task looks to a person (pure): its states, their colours, relative dates, display widths.

A state is shown as a word in the table (never only as a colour): `active`, `overdue`,
`due soon` (due within DUE_SOON, Taskwarrior's rc.due=7), `blocked`, `waiting`. A row takes
the colour of its first state in STATES order. Widths count East Asian wide characters as
two columns and combining marks as none, so CJK text stays aligned.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from backlog.core.model import parse_utc
from backlog.errors import BacklogError

DUE_SOON = timedelta(days=7)
# state → ANSI SGR parameters of its row, in order of precedence
STATES = {"overdue": "31", "active": "32", "due soon": "33", "blocked": "35", "waiting": "2"}
HEADER = "1;4"
COLOR_CHOICES = ("auto", "always", "never")
_UNITS = ((365 * 86400, "y"), (30 * 86400, "mo"), (7 * 86400, "w"), (86400, "d"), (3600, "h"), (60, "min"))


def use_color(choice: object, env: Mapping[str, str], tty: bool) -> bool:
    """Whether to colour: `--color=always|never` decide; `auto` (the default) colours a terminal
    unless NO_COLOR is set (non-empty) or TERM is `dumb`. BacklogError for another choice."""
    choice = "auto" if choice is None else choice
    if choice not in COLOR_CHOICES:
        raise BacklogError("--color", f"'{choice}' is not a choice", "use --color=auto, --color=always or --color=never")
    if choice != "auto":
        return choice == "always"
    return tty and not env.get("NO_COLOR") and env.get("TERM") != "dumb"


def paint(text: str, sgr: str | None) -> str:
    """`text` wrapped in the ANSI colour `sgr` (unchanged for None)."""
    return text if not sgr else f"\x1b[{sgr}m{text}\x1b[0m"


def states(task: Mapping, now: datetime, blocked: Callable[[Mapping], bool]) -> list[str]:
    """The STATES of a task row, in precedence order; `blocked(task)` says whether it waits on open tasks."""
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


def width(text: str) -> int:
    """Columns `text` takes on a terminal: wide (W, F) characters two, combining and format characters none."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf")
               else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def fit(text: str, columns: int) -> str:
    """`text` padded with spaces to `columns`, or cut to `columns - 1` and ended with `…`."""
    size = width(text)
    if size <= columns:
        return text + " " * (columns - size)
    out, used = [], 0
    for c in text:
        w = width(c)
        if used + w > columns - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…" + " " * (columns - 1 - used)
