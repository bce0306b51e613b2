"""A task's history and whole-transaction undo."""

from __future__ import annotations

from itertools import islice

from backlog.engine import render
from backlog.errors import BacklogError
from backlog.core.model import format_utc
from backlog.engine.scope import Scope



def history(scope: Scope, id: object) -> dict:
    scope.store.refresh()
    uuid = scope.resolve(id)["uuid"]
    return {"entries": [render.history_entry(rec, uuid) for rec in scope.store.history(uuid)]}


def activity(scope: Scope, limit: int = 100) -> dict:
    """The newest `limit` committed changes by every writer, newest first (the board's Activity view)."""
    scope.store.refresh()
    return {"entries": [render.activity_entry(rec) for rec in islice(scope.store.records_newest_first(), limit)]}


def undo(scope: Scope) -> dict:
    now = scope.clock()
    rec = scope.store.undo(at=format_utc(now), agent=scope.agent, tool=scope.tool_name("undo"))
    if rec is None:
        raise BacklogError("undo", "nothing to undo",
                           f"every change in the undo window (the last {scope.store.undo_depth}) is already undone")
    ids = sorted({(op["n"] or op["o"])["id"] for op in rec["ops"] if op["k"][0] in "ta" and (op["n"] or op["o"])})
    what = f"task{'s' * (len(ids) != 1)} {', '.join(map(str, ids))}" if ids else "no tasks"
    return {"message": f"undid {rec['tool']} by {rec['agent']} at {rec['at']} ({what})", "ids": ids}
