"""Who works on what: claim (SPEC §4 task_claim), and the hooks' assign and mirror-completion."""

from __future__ import annotations

from backlog.errors import Action, BacklogError
from backlog.core.filter import compile_filter
from backlog.core.model import check_agent, format_utc
from backlog.core.sort import parse_sort, sort_tasks
from backlog.store.view import Context
from backlog.engine.scope import Scope
from backlog.engine.tasks import close_task



def claim(scope: Scope, agent: str, id: object = None, filter: str | None = None) -> dict:
    """Atomically give `agent` a READY task (that one, or the most urgent free match) and start it."""
    if not isinstance(agent, str) or not agent.strip():
        raise BacklogError("agent", "is missing", "pass your agent name, e.g. 'claude'")
    agent = check_agent(agent.strip())
    now = scope.clock()
    with scope.transaction("claim", now, agent=agent) as tx:
        ctx = Context(scope.store.tasks, now, scope.tz, index=scope.index)
        if id is not None:
            task = scope.resolve(id)
            holder = task.get("agent")
            if holder and holder != agent:
                raise BacklogError("id", f"task {task['id']} is held by {holder}", "claim another task or ask that agent")
            if holder == agent and "start" in task:
                return scope.answer(f"task {task['id']} is already claimed by {agent}; no change", task, now)
            if not ctx.is_ready(task):
                raise BacklogError("id", f"task {task['id']} is not ready: {why_not_ready(scope, task, ctx)}",
                                   "claim a +READY task instead")
        else:
            found = compile_filter(filter or "", now, scope.tz, udas=lambda: ctx.udas).select(ctx)
            free = [t for t in found if "agent" not in t and ctx.is_ready(t)]
            if not free:
                raise BacklogError("filter", f"nothing to claim: no READY task without an agent matches '{filter or ''}'",
                                   ("widen the filter, or list tasks with ", Action("list", {"filter": "+READY"})))
            task = sort_tasks(free, parse_sort(None), ctx, 1)[0]
        new = {**task, "agent": agent, "start": format_utc(now), "modified": format_utc(now)}
        tx.put(new)
    return scope.answer(f"task {task['id']} claimed by {agent}", new, now)


def why_not_ready(scope: Scope, task: dict, ctx: Context) -> str:
    if task["status"] != "pending":
        return f"it is {task['status']}"
    if ctx.is_waiting(task):
        return f"it waits until {task['wait']}"
    if ctx.is_blocked(task):
        ids = [dep["id"] for dep in ctx.blockers(task)]
        return "it depends on unfinished task" + "s" * (len(ids) > 1) + " " + ", ".join(map(str, ids))
    return f"it is scheduled for {task.get('scheduled')}"


def assign(scope: Scope, agent: str, everything: bool = False) -> list[dict]:
    """Give `agent` the most urgent READY unassigned task (or every unassigned pending one)."""
    agent = check_agent(agent)
    now = scope.clock()
    with scope.transaction("assign", now, agent=agent) as tx:
        ctx = Context(scope.store.tasks, now, scope.tz, index=scope.index)
        free = [t for t in scope.store.tasks.values()
                if t["status"] == "pending" and "agent" not in t and (everything or ctx.is_ready(t))]
        chosen = sort_tasks(free, parse_sort(None), ctx, None if everything else 1)
        assigned = [{**t, "agent": agent, "modified": format_utc(now)} for t in chosen]
        for task in assigned:
            tx.put(task)
    return assigned


def complete_external(scope: Scope, origin: str, subject: str) -> dict | None:
    """Complete the task mirrored from Claude's list: by origin, else the one pending task titled `subject`."""
    now = scope.clock()
    with scope.transaction("done", now) as tx:
        mirrored = [t for t in scope.store.tasks.values() if origin and t.get("origin") == origin]
        title = subject.strip() if isinstance(subject, str) else ""
        found = [t for t in mirrored or scope.store.tasks.values() if t["status"] == "pending"
                 and (mirrored or (title and t["description"] == title))]
        if len(found) != 1:
            return None
        task, _ = close_task(scope, found[0], "completed", now, tx)
    return task
