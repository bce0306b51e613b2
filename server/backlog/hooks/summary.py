"""A derived summary beside the store, so that read-only hooks need not open it (issue 14).

`<data dir>/summary.json` is one sealed JSON object (store/sealed.py), written by a hook that
opened the whole store and never fsynced: it is no part of the store's format, and a missing,
stale or damaged one is only a reason to open the store and write it again. It holds what
SessionStart prints (counts, active tasks, the ready tasks that can be the most urgent) and
what SubagentStart/SubagentStop/SessionEnd decide from (how many ready tasks nobody holds;
the holders and sessions of all leases).

Fresh means three things (`fresh`):
- the store is where it was: the same snapshot file (`snapshot_token`, one stat) and the same
  length of the same journal generation (one stat) as `Store.position()` when it was made;
- the same zone (local dates, the day windows);
- `at <= now < until`, where `until` is the first instant at which a pending task's due,
  wait or scheduled date or lease expiry is crossed (READY, OVERDUE, WAITING, CLAIMED and the
  "(overdue)" mark change only there), at most `HORIZON` after `at`.
Urgency's age and due terms grow with time, so the top ready tasks are not stored as such:
`ready` keeps every ready task whose urgency at `until` (an upper bound over `[at, until)`,
store/view.py `horizon_bounds`) reaches the READY_SHOWN-th best urgency at `at` (a lower
bound: urgency only grows), and `top_ready` scores those few at the reader's now. Leases do
not depend on time: `untouched` also answers "does anyone hold a lease named X" across
commits made since, by looking for X's bytes in the journal's tail.
Files backend only: on S3 the hooks open the store as before (a summary there would cost
a request of its own).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path

import orjson

from backlog.core.model import format_utc, parse_utc
from backlog.core.urgency import COEFFICIENTS, urgencies
from backlog.store.files import FileBackend
from backlog.store.sealed import seal, unseal
from backlog.store.view import Context

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: hooks start fast
if TYPE_CHECKING:
    from backlog.store.store import Store

FILE = "summary.json"
VERSION = 1
HORIZON = timedelta(hours=1)  # a summary answers for at most this long after it was made
READY_SHOWN = 5
ACTIVE_SHOWN = 5
COUNTS = (("pending", "status:pending"), ("ready", "+READY"), ("active", "+ACTIVE"),
          ("overdue", "+OVERDUE"), ("blocked", "+BLOCKED"), ("waiting", "+WAITING"))
READY = "+READY -ACTIVE"  # what SessionStart offers as next
UNCLAIMED = "+READY -CLAIMED"  # what SubagentStart can assign
MOVING = ("due", "wait", "scheduled")  # the dates of a pending task whose crossing changes a tag


def zone_key(tz: tzinfo) -> str | None:
    """A name that tells zones apart (`zone:Europe/Berlin`, `fixed:0:00:00`); None for others."""
    key = getattr(tz, "key", None)
    if isinstance(key, str):
        return "zone:" + key
    if isinstance(tz, timezone):
        return f"fixed:{tz.utcoffset(None)}"
    return None


def build(store: Store, now: datetime, tz: tzinfo) -> dict:
    """The summary of the loaded `store` at `now` in `tz` (the caller refreshed it)."""
    from backlog.engine.queries import list_tasks
    from backlog.engine.scope import Scope
    from backlog.store.view import horizon_bounds

    scope = Scope(store, tz=tz, clock=lambda: now, channel="hook:summary")
    ctx = scope.context(now)
    holders, sessions, until = set(), set(), format_utc(now + HORIZON)
    for task in store.tasks.values():
        lease = task.get("lease")
        if lease:
            holders.add(lease.get("holder"))
            sessions.add(lease.get("session"))
        if task["status"] == "pending":
            for value in (*(task.get(name) for name in MOVING), (lease or {}).get("expires")):
                if isinstance(value, str) and ctx.now_s <= value < until:
                    until = value
    ready = scope.select(READY, ctx)
    if len(ready) > READY_SHOWN:
        floor = sorted(ctx.urgencies(ready), reverse=True)[READY_SHOWN - 1]
        blocking, term = ctx.blocking_uuids, COEFFICIENTS["blocking"]
        bounds = horizon_bounds(ready, ctx.tasks, parse_utc(until), tz)
        ready = [t for t, bound in zip(ready, bounds) if bound + term * (t["uuid"] in blocking) >= floor]
    active = list_tasks(scope, "+ACTIVE", sort="start+", limit=ACTIVE_SHOWN)
    token, gen, offset = store.position()
    return {
        "version": VERSION, "position": [list(token) if token else None, gen, offset],  # type: ignore[call-overload]
        "zone": zone_key(tz), "at": ctx.now_s, "until": until,
        "counts": {name: len(scope.select(query, ctx)) for name, query in COUNTS},
        "active": {"tasks": [{k: t[k] for k in ("id", "description", "agent") if k in t} for t in active["tasks"]],
                   "total": active["total"]},
        "ready": ready, "blocking": [t["uuid"] for t in ready if t["uuid"] in ctx.blocking_uuids],
        "unclaimed": len(scope.select(UNCLAIMED, ctx)),
        "holders": sorted(h for h in holders if isinstance(h, str)),
        "sessions": sorted(s for s in sessions if isinstance(s, str)),
    }


def save(root: Path, summary: dict) -> None:
    """Replace `<root>/summary.json` (atomically, not durably); an unwritable one is left as it is."""
    tmp = root / f".{root.name}-{FILE}.{os.getpid()}.tmp"  # files.is_temp: a crashed writer's is swept
    try:
        tmp.write_bytes(seal(summary))
        os.replace(tmp, root / FILE)
    except OSError:
        tmp.unlink(missing_ok=True)


def read(root: Path) -> dict | None:
    """The summary saved in `root`; None when there is none or it is damaged or of another version."""
    try:
        summary = unseal((root / FILE).read_bytes(), True)
    except (OSError, ValueError):
        return None
    return summary if summary.get("version") == VERSION else None


def fresh(summary: dict, root: Path, now: datetime, tz: tzinfo) -> bool:
    """True when `summary` still tells the truth about the store in `root` at `now` in `tz`."""
    zone = zone_key(tz)
    try:
        token, gen, offset = summary["position"]
        if zone is None or summary["zone"] != zone or not summary["at"] <= format_utc(now) < summary["until"]:
            return False
        backend = FileBackend(root)
        current = backend.snapshot_token()
        return (list(current) if current else None) == token and backend.journal_size(gen) == offset
    except (KeyError, TypeError, ValueError):
        return False


def untouched(summary: dict, root: Path, text: str) -> bool:
    """True when no commit since `summary` was made can mention `text`: the same snapshot, and
    the journal's tail after the summary's position does not contain it (JSON-encoded)."""
    try:
        token, gen, offset = summary["position"]
        backend = FileBackend(root)
        current = backend.snapshot_token()
        if (list(current) if current else None) != token or backend.journal_size(gen) < offset:
            return False
        return orjson.dumps(text)[1:-1] not in backend.read_journal(gen, offset)
    except (KeyError, TypeError, ValueError, OSError):
        return False


class _Candidates(Context):
    """The view of the ready candidates alone: none blocked, `blocking` the ones that block."""

    def __init__(self, tasks: dict[str, dict], now: datetime, tz: tzinfo, blocking: frozenset[str]) -> None:
        super().__init__(tasks, now, tz)
        self.__dict__["blocking_uuids"] = blocking  # the cached_property's slot, filled in advance


def top_ready(summary: dict, now: datetime, tz: tzinfo) -> list[dict]:
    """The READY_SHOWN most urgent ready tasks at `now` (urgency-, then id+: the default sort)."""
    tasks = {t["uuid"]: t for t in summary["ready"]}
    ctx = _Candidates(tasks, now, tz, frozenset(summary["blocking"]))
    found = list(tasks.values())
    scores = urgencies(found, ctx)
    order = sorted(range(len(found)), key=lambda i: (-scores[i], found[i]["id"]))
    return [found[i] for i in order[:READY_SHOWN]]
