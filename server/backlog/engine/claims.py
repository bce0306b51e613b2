"""Who works on what: claim (SPEC §4 task_claim), and the hooks' assign and mirror-completion."""

from __future__ import annotations

from collections.abc import Callable

from backlog.engine import leases
from backlog.errors import Action, BacklogError
from backlog.core.model import check_agent, format_utc
from backlog.engine.scope import Scope
from backlog.engine.tasks import close_task

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: hooks start fast
if TYPE_CHECKING:
    from datetime import datetime

    from backlog.store.store import Store
    from backlog.store.view import Context


def claim(scope: Scope, agent: str, id: object = None, filter: str | None = None) -> dict:
    """Atomically give `agent` a READY task (that one, or the most urgent match nobody holds a
    live lease on), start it and lease it to `agent`; an expired lease is taken over."""
    if not isinstance(agent, str) or not agent.strip():
        raise BacklogError("agent", "is missing", "pass your agent name, e.g. 'claude'")
    from backlog.core.sort import parse_sort, sort_tasks  # here and in assign: completing a mirror needs neither
    from backlog.store.view import Context

    agent = check_agent(agent.strip())
    now = scope.clock()
    with scope.transaction("claim", now, agent=agent) as tx:
        ctx = Context(scope.store.tasks, now, scope.tz, index=scope.index)
        if id is not None:
            task = scope.resolve(id)
            lease = leases.live(task, now)
            if lease and lease["holder"] != agent:
                raise BacklogError("id", f"task {task['id']} is {lease['kind']} to {lease['holder']} until {lease['expires']}",
                                   "claim another task, or ask that agent")
            if lease and lease["kind"] == "claimed" and "start" in task:
                new = leases.renewed(task, agent, now, scope.lease)
                tx.put(new)
                return scope.answer(f"task {task['id']} is already claimed by {agent}; no change", new, now)
            if not ctx.is_ready(task):
                raise BacklogError("id", f"task {task['id']} is not ready: {why_not_ready(scope, task, ctx)}",
                                   "claim a +READY task instead")
        else:
            found = scope.select(filter, ctx)
            free = [t for t in found if not leases.live(t, now) and ctx.is_ready(t)]
            if not free:
                raise BacklogError("filter", f"nothing to claim: no READY task without a live lease matches '{filter or ''}'",
                                   ("widen the filter, or list tasks with ", Action("list", {"filter": "+READY -CLAIMED"})))
            task = sort_tasks(free, parse_sort(None), ctx, 1)[0]
        new = {**task, "agent": agent, "start": format_utc(now), "modified": format_utc(now)}
        new = leases.grant(new, agent, "claimed", now, scope.lease, scope.writer, scope.session)
        tx.put(new)
    return scope.answer(f"task {task['id']} claimed by {agent} until {new['lease']['expires']}"
                        + leases.takeover_note(new), new, now)


def why_not_ready(scope: Scope, task: dict, ctx: Context) -> str:
    if task["status"] != "pending":
        return f"it is {task['status']}"
    if ctx.is_waiting(task):
        return f"it waits until {task['wait']}"
    if ctx.is_blocked(task):
        ids = [dep["id"] for dep in ctx.blockers(task)]
        return "it depends on unfinished task" + "s" * (len(ids) > 1) + " " + ", ".join(map(str, ids))
    return f"it is scheduled for {task.get('scheduled')}"


def assign(scope: Scope, holder: str, pick: Callable[[Store, datetime], str | None] | None = None) -> dict | None:
    """Lease the most urgent READY task nobody holds a live lease on to `holder` (kind assigned).

    `pick`, asked under the write lock with the store caught up, may name that task's uuid
    (the hooks' summary, proven for this position and instant); when it answers None the
    task is found by walking every task."""
    holder = check_agent(holder)
    now = scope.clock()
    with scope.transaction("assign", now, agent=holder) as tx:
        uuid = pick(scope.store, now) if pick is not None else None
        found = scope.store.tasks[uuid] if uuid is not None else _most_urgent_free(scope, now)
        if found is None:
            return None
        task = leases.grant(found, holder, "assigned", now, scope.lease, scope.writer, scope.session)
        tx.put({**task, "modified": format_utc(now)})
    return task


def _most_urgent_free(scope: Scope, now: datetime) -> dict | None:
    """The most urgent READY task without a live lease at `now` (default sort), or None."""
    from backlog.core.sort import parse_sort, sort_tasks
    from backlog.store.view import Context

    ctx = Context(scope.store.tasks, now, scope.tz, index=scope.index)
    free = [t for t in scope.store.tasks.values() if ctx.is_ready(t) and not leases.live(t, now)]
    return sort_tasks(free, parse_sort(None), ctx, 1)[0] if free else None


def release(scope: Scope, holder: str, why: str) -> list[dict]:
    """Let go of every lease `holder` has, live or expired: an assignment just ends; a claimed task left
    active is annotated `stopped by <holder> without finishing: <why>`, stopped and released."""
    return _release(scope, lambda task: task["lease"]["holder"] == holder, why, holder)


def release_session(scope: Scope, session: str, why: str) -> list[dict]:
    """Let go of every lease taken in Claude session `session` (SessionEnd)."""
    return _release(scope, lambda task: task["lease"].get("session") == session, why, None)


def release_writer(scope: Scope, why: str) -> list[dict]:
    """Let go of every lease this writer took (a server ending cleanly; a killed one's expire)."""
    return _release(scope, lambda task: task["lease"].get("by") == scope.writer, why, None)


def release_task(scope: Scope, id: object, why: str) -> dict:
    """Let go of the lease on one task (a person at the board), as `release` does for a holder."""
    task = scope.resolve(id)
    if "lease" not in task:
        raise BacklogError("id", f"task {task['id']} has no lease", "nothing to release")
    released = _release(scope, lambda t: t["uuid"] == task["uuid"], why, None)
    if not released:
        raise BacklogError("id", f"task {task['id']} is {task['status']}", "only a pending task's lease can be released")
    return scope.answer(f"released the lease on task {task['id']}", released[0], scope.clock())


def _release(scope: Scope, mine: Callable[[dict], bool], why: str, holder: str | None) -> list[dict]:
    """Release the pending tasks with a lease that `mine` picks (it is handed the task)."""
    now = scope.clock()
    stamp = format_utc(now)
    with scope.transaction("release", now, agent=holder) as tx:
        held = [t for t in scope.store.tasks.values() if t["status"] == "pending" and "lease" in t and mine(t)]
        released = []
        for task in sorted(held, key=lambda t: t["id"]):
            new = {**leases.without(task), "modified": stamp}
            if task["lease"]["kind"] == "claimed" and "start" in task:
                note = f"stopped by {task['lease']['holder']} without finishing: {why}".strip()
                new["annotations"] = [*task.get("annotations", ()), {"entry": stamp, "description": note}]
                new.pop("start")
            tx.put(new)
            released.append(new)
    return released


def renew_leases(scope: Scope) -> int:
    """Extend every claimed lease this writer took (the server's heartbeat); how many changed."""
    now = scope.clock()
    with scope.transaction("renew", now, renewal=True) as tx:
        for task in scope.store.tasks.values():
            lease = task.get("lease")
            if task["status"] == "pending" and lease and lease["kind"] == "claimed" and lease.get("by") == scope.writer:
                tx.put(leases.renewed(task, lease["holder"], now, scope.lease))
    return len(tx.record["ops"]) if tx.record else 0


def complete_external(scope: Scope, origin: str, subject: str) -> dict | None:
    """Complete the task mirrored from Claude's list: by origin, else the one pending task titled `subject`."""
    now = scope.clock()
    with scope.transaction("done", now) as tx:
        mirrored = scope.store.having("origin", origin) if origin else []
        title = subject.strip() if isinstance(subject, str) else ""
        found = [t for t in mirrored or scope.store.tasks.values() if t["status"] == "pending"
                 and (mirrored or (title and t["description"] == title))]
        if len(found) != 1:
            return None
        task, _ = close_task(scope, found[0], "completed", now, tx)
    return task
