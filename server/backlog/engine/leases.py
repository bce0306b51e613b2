"""Leases: who may work on a task right now, and for how long (issue 12).

A pending task's `lease` is `{holder, kind, expires}` plus `by` (the writer key that took it,
whose server renews it), `session` (the Claude session, for SessionEnd) and, after a
takeover, `took_over` `{holder, expired}`. `agent` stays the owner; a lease is never copied.
A lease is live while `expires` is later than the committing process's clock. These are pure
functions of a task; the use cases in `claims` and `tasks` call them inside a transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from backlog.core.model import format_utc
from backlog.core.patterns import Pattern
from backlog.errors import BacklogError

# Ten minutes: a dead holder's task is back in the pool within that, and a server holding
# leases writes one renewal line per lease/3 (200 s), which keeps the journal quiet.
DEFAULT_LEASE = timedelta(minutes=10)
_DURATION = Pattern(r"([0-9]+)([smhd]?)")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, param: str = "BACKLOG_LEASE") -> timedelta:
    """`90`, `45s`, `10m`, `2h` or `1d` as a timedelta of at least one second."""
    found = _DURATION.fullmatch(text.strip().lower())
    if not found or int(found[1]) < 1:
        raise BacklogError(param, f"'{text}' is not a duration", "use e.g. 1s, 90s, 10m or 2h")
    return timedelta(seconds=int(found[1]) * _UNIT[found[2]])


def live(task: dict, now: datetime) -> dict | None:
    """The task's lease while it is live (pending task, not expired), else None."""
    lease = task.get("lease")
    if lease and task["status"] == "pending" and lease["expires"] > format_utc(now):
        return lease
    return None


def grant(task: dict, holder: str, kind: str, now: datetime, duration: timedelta,
          by: str, session: str | None) -> dict:
    """The task leased to `holder`; a different holder's expired lease becomes `took_over`."""
    old = task.get("lease")
    lease = {"holder": holder, "kind": kind, "expires": format_utc(now + duration), "by": by}
    if session:
        lease["session"] = session
    if old and old["holder"] != holder:
        lease["took_over"] = {"holder": old["holder"], "expired": old["expires"]}
    elif old and "took_over" in old:
        lease["took_over"] = old["took_over"]
    return {**task, "lease": lease}


def without(task: dict) -> dict:
    """The task with no lease."""
    return {k: v for k, v in task.items() if k != "lease"}


def renewed(task: dict, agent: str | None, now: datetime, duration: timedelta) -> dict:
    """The task with the lease of `agent` (its holder) extended from now; others unchanged."""
    lease = task.get("lease")
    if not agent or not lease or lease["holder"] != agent:
        return task
    expires = max(lease["expires"], format_utc(now + duration))
    return {**task, "lease": {**lease, "expires": expires}}


def fenced(task: dict, agent: str | None) -> bool:
    """True when `agent` held this task's lease before another agent took it over."""
    lease = task.get("lease")
    prior = (lease or {}).get("took_over")
    return bool(agent and prior and prior["holder"] == agent and lease["holder"] != agent)


def fence(task: dict, agent: str | None) -> None:
    """Refuse a status change by the holder whose lease was taken over (a takeover's fencing)."""
    if fenced(task, agent):
        lease = task["lease"]
        raise BacklogError("id", f"your lease on #{task['id']} expired at {lease['took_over']['expired']}",
                           f"{lease['holder']} took it over; claim another task with task_claim")


def takeover_note(task: dict) -> str:
    """` (took it over from X, whose lease expired at T)` when the new lease is a takeover."""
    prior = task.get("lease", {}).get("took_over")
    return f" (took it over from {prior['holder']}, whose lease expired at {prior['expired']})" if prior else ""
