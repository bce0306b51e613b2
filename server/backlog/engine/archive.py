"""Archive: completed/deleted tasks moved into quarter segments, listed and loaded back for reading."""

from __future__ import annotations

import re
from datetime import timedelta

from backlog.engine import render
from backlog.errors import BacklogError
from backlog.core.model import format_utc, parse_utc
from backlog.engine.scope import Scope


_SEGMENT = re.compile(r"\d{4}-Q[1-4]")
ARCHIVE_FIELDS = ("id", "uuid", "description", "status", "project", "tags", "priority", "due", "end", "agent")


def archive(scope: Scope, older_than_days: object = 90) -> dict:
    """Move completed/deleted tasks that ended more than N days ago into quarter segments.

    0 days takes every completed/deleted task, including one that ended this second.
    """
    if isinstance(older_than_days, bool) or not isinstance(older_than_days, int) or older_than_days < 0:
        raise BacklogError("older_than_days", f"'{older_than_days}' is not a day count", "use a whole number ≥ 0, e.g. 90")
    now = scope.clock()
    cutoff = format_utc(now - timedelta(days=min(older_than_days, 700_000)))  # no date is that old
    with scope.transaction("archive", now) as tx:
        moved = sorted((t for t in scope.store.tasks.values()
                        if t["status"] in ("completed", "deleted")
                        and (older_than_days == 0 or t.get("end", "") < cutoff)),
                       key=lambda t: t["id"])
        segments = set()
        for task in moved:
            segment = quarter(scope, task["end"])
            segments.add(segment)
            tx.archive(task, segment)
    if not moved:
        days = f"{older_than_days} day{'s' * (older_than_days != 1)}"
        return {"message": f"nothing ended more than {days} ago" if older_than_days else "nothing to archive",
                "ids": []}
    return {"message": f"archived {len(moved)} task{'s' * (len(moved) != 1)} into {', '.join(sorted(segments))}",
            "ids": [t["id"] for t in moved]}


def quarter(scope: Scope, stamp: str) -> str:
    """`2026-Q3` for a stored date, by its local calendar date."""
    local = parse_utc(stamp).astimezone(scope.tz)
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def archive_list(scope: Scope) -> dict:
    scope.store.refresh()
    items = [{"segment": name, "count": len(scope.store.segment(name))} for name in scope.store.segments()]
    return {"items": [item for item in items if item["count"]]}


def archive_load(scope: Scope, segment: str) -> dict:
    ctx = scope.context()
    found = scope.store.segment(segment) if isinstance(segment, str) and _SEGMENT.fullmatch(segment) else {}
    if not found:
        names = [item["segment"] for item in archive_list(scope)["items"]]
        raise BacklogError("segment", f"no archive segment '{segment}'",
                           "use one of " + (", ".join(names) if names else "none: nothing is archived yet"))
    return {"tasks": render.rows(sorted(found.values(), key=lambda t: t["id"]), ctx, ARCHIVE_FIELDS)}
