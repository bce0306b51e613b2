"""A task's history and whole-transaction undo."""

from __future__ import annotations

from itertools import islice

from backlog.engine import render
from backlog.errors import Action, BacklogError
from backlog.core.model import format_utc
from backlog.engine.scope import Scope
from backlog.store.store import UndoConflict

ANYONE = Action("undo", {"scope": "any"})  # task_undo scope 'any'; backlog undo --any


def history(scope: Scope, id: object) -> dict:
    scope.store.refresh()
    uuid = scope.resolve(id)["uuid"]
    return {"entries": [render.history_entry(rec, uuid) for rec in scope.store.history(uuid)
                        if not rec.get("renewal")]}  # a lease heartbeat is not a change anyone made


def activity(scope: Scope, limit: int = 100) -> dict:
    """The newest `limit` committed changes by every writer, newest first (the board's Activity view)."""
    scope.store.refresh()
    return {"entries": [render.activity_entry(rec) for rec in islice(scope.store.records_newest_first(), limit)]}


def undo(scope: Scope, agent: str | None = None, everyone: bool = False) -> dict:
    """Revert this writer's newest change not yet undone (only `agent`'s when given), or anyone's
    when `everyone`; refused when someone else changed one of its tasks afterwards."""
    now = scope.clock()
    mine = "anyone's" if everyone else "your"
    try:
        rec = scope.store.undo(at=format_utc(now), agent=agent or scope.agent, tool=scope.tool_name("undo"),
                               writer=scope.writer, of_writer=None if everyone else scope.writer,
                               of_agent=agent)
    except UndoConflict as err:
        t, later = err.target, err.later
        raise BacklogError("undo", f"your newest change ({t['tool']} at {t['at']}, {_tasks(t)}) was changed since by "
                           f"{later['agent']} ({later['tool']} at {later['at']}, {_tasks(later)})",
                           ("change it back by hand, or undo the newest change by anyone with ", ANYONE)) from None
    if rec is None:
        raise BacklogError("undo", f"nothing to undo: {mine} changes in the undo window are already undone",
                           (f"the window is the last {scope.store.undo_depth} changes; ", ANYONE,
                            " reaches other writers' changes"))
    ids = _ids(rec)
    what = f"task{'s' * (len(ids) != 1)} {', '.join(map(str, ids))}" if ids else "no tasks"
    return {"message": f"undid {rec['tool']} by {rec['agent']} at {rec['at']} ({what})", "ids": ids}


def _ids(rec: dict) -> list[int]:
    return sorted({(op["n"] or op["o"])["id"] for op in rec["ops"] if op["k"][0] in "ta" and (op["n"] or op["o"])})


def _tasks(rec: dict) -> str:
    ids = _ids(rec)
    return f"task{'s' * (len(ids) != 1)} {', '.join(map(str, ids))}" if ids else "a doc"
