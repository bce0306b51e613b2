"""Reading tasks: list, count, info, projects and tags (SPEC §4)."""

from __future__ import annotations

from backlog.engine import render
from backlog.errors import BacklogError
from backlog.core.filter import And, Attr, Virtual, compile_filter
from backlog.core.sort import parse_sort, sort_tasks
from backlog.engine.scope import Scope


DEFAULT_LIMIT = 100
READY = And((Attr("status", "", "pending"), Virtual("READY")))  # `+READY`, as compiled


def list_tasks(scope: Scope, filter: str = "", sort: str | None = None, limit: int | None = DEFAULT_LIMIT,
         fields: str | None = None) -> dict:
    ctx = scope.context()
    shown = render.parse_fields(fields, lambda: ctx.udas)
    keys = parse_sort(sort)
    if limit is None:
        limit = DEFAULT_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise BacklogError("limit", f"'{limit}' is not a count", "use a whole number ≥ 1, or 0 for all")
    compiled = compile_filter(filter or "", ctx.now, scope.tz, udas=lambda: ctx.udas)
    ranked = ctx.ready_top(limit) if limit and keys[0] == ("urgency", True) and compiled.ast == READY else None
    if ranked is None:
        found = compiled.select(ctx)
        total = len(found)
    else:  # the READY tasks that can reach the top `limit` places, from the index's ranking
        found, total = ranked
    chosen = sort_tasks(found, keys, ctx, limit or None)
    return {"tasks": render.rows(chosen, ctx, shown), "total": total, "truncated": len(chosen) < total}


def count(scope: Scope, filter: str = "") -> dict:
    return {"count": len(scope.select(filter, scope.context()))}


def info(scope: Scope, id: object) -> dict:
    ctx = scope.context()
    task = scope.resolve(id)
    return {"task": render.details(task, ctx, scope.store.doc_size(task["uuid"]))}


def names(scope: Scope, field: str) -> dict:
    scope.store.refresh()
    counts: dict[str, int] = {}
    for task in scope.store.tasks.values():
        if task["status"] in ("pending", "recurring"):
            value = task.get(field)
            for name in value if isinstance(value, list) else [value] if value else []:
                counts[name] = counts.get(name, 0) + (task["status"] == "pending")
    return {"items": [{"name": n, "pending": counts[n]} for n in sorted(counts)]}


def projects(scope: Scope) -> dict:
    return names(scope, "project")


def tags(scope: Scope) -> dict:
    return names(scope, "tags")
