"""Creating and changing tasks: add, log, duplicate, modify, done, delete, start, stop, notes, purge.

Each mutation is one store transaction; a recurrence instance's completion creates its successor."""

from __future__ import annotations

from datetime import datetime, timedelta

from backlog.core.edits import apply_edits, doc_tag_note
from backlog.errors import Action, BacklogError
from backlog.core.model import FAR_FUTURE, check_task, check_text, format_utc, is_uda, new_uuid, sync_doc_tag
from backlog.core.recur import occurrence_on_or_after
from backlog.core.dates import start_of_day
from backlog.store.store import Transaction
from backlog.engine import leases
from backlog.engine.scope import Scope



def add(scope: Scope, description: str, *, extra: str | None = None, origin: str | None = None,
        annotation: str | None = None, **params: str | None) -> dict:
    """Create a pending task (a template plus its first instance when `recur` is given).

    With `origin`, an existing task of that origin is returned unchanged (idempotent hooks).
    A non-blank `annotation` becomes the task's first note, in the same transaction.
    """
    now = scope.clock()
    with scope.transaction("add", now) as tx:
        if origin:
            same = next(iter(scope.store.having("origin", origin)), None)
            if same:
                return scope.answer(f"task {same['id']} already exists for {origin}", same, now)
        edits = scope.edits({"description": description, **params}, extra, now, tx)
        task = new_task(scope, tx, now, edits, status="pending")
        if origin:
            task["origin"] = origin
        if isinstance(annotation, str) and annotation.strip():
            task["annotations"] = [{"entry": format_utc(now), "description": annotation.strip()}]
        message = f"added task {task['id']}"
        if "recur" in task:
            task["status"] = "recurring"
            if "due" not in task:
                raise BacklogError("recur", "needs a due date, the first occurrence", "add due, e.g. due:'friday'")
            first = next_instance(scope, task, None, now, tx)
            message = f"added recurring template {task['id']}" + (
                f"; first instance is task {first['id']}" if first else "; no instance before 'until'")
        store_new(scope, task, tx)
    return scope.answer(message + doc_tag_note(edits), task, now)


def log(scope: Scope, description: str, *, extra: str | None = None, **params: str | None) -> dict:
    """Record a task that is already done."""
    now = scope.clock()
    with scope.transaction("log", now) as tx:
        edits = scope.edits({"description": description, **params}, extra, now, tx)
        if "recur" in edits:
            raise BacklogError("recur", "cannot be used with task_log", ("use ", Action("add"), " for recurring tasks"))
        task = new_task(scope, tx, now, edits, status="completed")
        task["end"] = format_utc(now)
        store_new(scope, task, tx)
    return scope.answer(f"logged task {task['id']}" + doc_tag_note(edits), task, now)


def duplicate(scope: Scope, id: object, *, extra: str | None = None, **params: str | None) -> dict:
    """Copy a task as a new pending one, owner (agent) included; no start, end, parent,
    recurrence, doc or annotations, and the message names the doc and notes left behind."""
    now = scope.clock()
    with scope.transaction("duplicate", now) as tx:
        source = scope.resolve(id)
        base = {k: v for k, v in source.items() if k in (
            "description", "project", "tags", "priority", "due", "wait", "scheduled", "until", "depends", "agent")}
        edits = scope.edits(params, extra, now, tx)
        if "recur" in edits:
            raise BacklogError("recur", "cannot be set on a duplicate", ("use ", Action("add"), " with recur"))
        task = apply_edits(new_task(scope, tx, now, {k: v for k, v in base.items() if v}, status="pending"), edits)
        store_new(scope, task, tx)
    notes = len(source.get("annotations", ()))
    left = ["the doc"] * bool(source.get("has_doc")) + [f"{notes} annotation{'s' * (notes != 1)}"] * bool(notes)
    message = f"duplicated task {source['id']} as task {task['id']}" + (
        f" (not copied: {', '.join(left)})" if left else "")
    return scope.answer(message + doc_tag_note(edits), task, now)


def new_task(scope: Scope, tx: Transaction, now: datetime, edits: dict, status: str) -> dict:
    stamp = format_utc(now)
    base = {"uuid": new_uuid(), "id": tx.new_id(), "status": status, "entry": stamp, "modified": stamp}
    return apply_edits(base, edits)


def store_new(scope: Scope, task: dict, tx: Transaction) -> None:
    check_task(task)
    tx.put(task)
    scope.check_depends([task], tx)


def next_instance(scope: Scope, template: dict, after_due: str | None, now: datetime, tx: Transaction) -> dict | None:
    """Create the template's next pending instance: no back-fill, none past `until`."""
    anchor = datetime.fromisoformat(template["due"].replace("Z", "+00:00"))
    today = start_of_day(now, scope.tz)
    earliest = max(anchor, today)
    if after_due:
        earliest = max(earliest, datetime.fromisoformat(after_due.replace("Z", "+00:00")) + timedelta(seconds=1))
    due = format_utc(occurrence_on_or_after(anchor, template["recur"], earliest, scope.tz))
    if due > template.get("until", FAR_FUTURE) or any(
            (tx.get(t["uuid"]) or {}).get("status") == "pending" for t in scope.store.having("parent", template["uuid"])):
        return None
    instance = {k: template[k] for k in ("description", "project", "tags", "priority", "agent") if k in template}
    instance.update((k, v) for k, v in template.items() if is_uda(k))
    stamp = format_utc(now)
    instance.update(uuid=new_uuid(), id=tx.new_id(), status="pending", entry=stamp, modified=stamp,
                    due=due, parent=template["uuid"])
    instance = sync_doc_tag(instance)  # the template's doc stays with the template
    tx.put(check_task(instance))
    return instance


def modify(scope: Scope, filter: str, *, extra: str | None = None, **params: str | None) -> dict:
    """Apply the same changes to every matching task, all or nothing."""
    if not isinstance(filter, str) or not filter.strip():
        raise BacklogError("filter", "is blank", "name the tasks to change, e.g. '12' or 'project:web +bug'")
    now = scope.clock()
    with scope.transaction("modify", now) as tx:
        from backlog.store.view import Context  # only here: adding or closing a task needs no view

        targets = scope.select(filter, Context(scope.store.tasks, now, scope.tz, index=scope.index))
        if not targets:
            raise BacklogError("filter", f"no task matches '{filter}'", ("check it with ", Action("list")))
        edits = scope.edits(params, extra, now, tx)
        if not edits:
            raise BacklogError("extra", "no change given", "pass a field such as priority, or extra like '+bug due:friday'")
        changed = []
        for task in sorted(targets, key=lambda t: t["id"]):
            if "recur" in edits and task["status"] != "recurring":
                raise BacklogError("recur", f"task {task['id']} is not a recurrence template",
                                   ("create recurring tasks with ", Action("add"), " and recur"))
            new = apply_edits(task, edits)
            if new != task:
                new["modified"] = format_utc(now)
                tx.put(check_task(new))
                changed.append(new)
        scope.check_depends(changed, tx)
    ids = [t["id"] for t in changed]
    message = f"modified {len(ids)} task{'s' * (len(ids) != 1)}" + (
        f" ({len(targets) - len(ids)} already matched)" if len(ids) < len(targets) else "") + doc_tag_note(edits)
    return {"message": message, "ids": ids}


def done(scope: Scope, id: object, agent: str | None = None) -> dict:
    """Complete a task; `agent` (the caller's name) is refused once its lease was taken over."""
    return finish(scope, id, "completed", "done", agent)


def delete(scope: Scope, id: object) -> dict:
    return finish(scope, id, "deleted", "delete")


def finish(scope: Scope, id: object, status: str, op: str, agent: str | None = None) -> dict:
    now = scope.clock()
    with scope.transaction(op, now, agent=agent) as tx:
        task = scope.resolve(id)
        leases.fence(task, agent)
        if task["status"] == status or (status == "completed" and task["status"] == "deleted"):
            raise BacklogError("id", f"task {task['id']} is already {task['status']}",
                               ("nothing to do; ", Action("undo"), " reverts the last change if it was a mistake"))
        new, message = close_task(scope, task, status, now, tx)
    return scope.answer(message, new, now)


def close_task(scope: Scope, task: dict, status: str, now: datetime, tx: Transaction) -> tuple[dict, str]:
    """Complete or delete `task`; a recurrence instance gets its successor."""
    new = {**leases.without(task), "status": status, "end": format_utc(now), "modified": format_utc(now)}
    new.pop("start", None)
    tx.put(new)
    message = f"{'completed' if status == 'completed' else 'deleted'} task {task['id']}"
    template = tx.get(task["parent"]) if "parent" in task else None
    if template and template["status"] == "recurring":
        nxt = next_instance(scope, template, task.get("due"), now, tx)
        if nxt:
            message += f"; next instance is task {nxt['id']}, due {nxt['due']}"
    return new, message


def start(scope: Scope, id: object, agent: str | None = None) -> dict:
    """Make a task active; the lease of `agent` on it is renewed, a taken-over one refused."""
    now = scope.clock()
    with scope.transaction("start", now, agent=agent) as tx:
        task = scope.resolve(id)
        leases.fence(task, agent)
        if task["status"] != "pending":
            raise BacklogError("id", f"task {task['id']} is {task['status']}", "only pending tasks can be started")
        if "start" in task:
            new = leases.renewed(task, agent, now, scope.lease)
            tx.put(new)
            return scope.answer(f"task {task['id']} is already active since {task['start']}; no change", new, now)
        new = {**leases.renewed(task, agent, now, scope.lease), "start": format_utc(now), "modified": format_utc(now)}
        tx.put(new)
    return scope.answer(f"started task {task['id']}", new, now)


def stop(scope: Scope, id: object, agent: str | None = None) -> dict:
    """Make an active task inactive and release its claim (a taken-over `agent` is refused)."""
    now = scope.clock()
    with scope.transaction("stop", now, agent=agent) as tx:
        task = scope.resolve(id)
        leases.fence(task, agent)
        if "start" not in task:
            raise BacklogError("id", f"task {task['id']} is not active", ("start it with ", Action("start"), " first"))
        new = {k: v for k, v in task.items() if k != "start"}
        if new.get("lease", {}).get("kind") == "claimed":
            new = leases.without(new)
        new["modified"] = format_utc(now)
        tx.put(new)
    return scope.answer(f"stopped task {task['id']}", new, now)


def annotate(scope: Scope, id: object, text: str, agent: str | None = None) -> dict:
    """Add a note; it renews the lease of `agent`, and is marked late once that lease was taken over."""
    if not isinstance(text, str) or not text.strip():
        raise BacklogError("text", "is empty", "give the note to add")
    check_text(text, "text")
    now = scope.clock()
    with scope.transaction("annotate", now, agent=agent) as tx:
        task = scope.resolve(id)
        late = "(late) " * leases.fenced(task, agent)
        note = {"entry": format_utc(now), "description": late + text.strip()}
        new = {**leases.renewed(task, agent, now, scope.lease), "annotations": [*task.get("annotations", ()), note],
               "modified": format_utc(now)}
        tx.put(new)
    return scope.answer(f"annotated task {task['id']}" + " (marked late: your lease was taken over)" * bool(late), new, now)


def denotate(scope: Scope, id: object, text: str) -> dict:
    now = scope.clock()
    with scope.transaction("denotate", now) as tx:
        task = scope.resolve(id)
        notes = task.get("annotations", [])
        wanted = text.strip() if isinstance(text, str) else text
        keep = [n for n in notes if n["description"] != wanted]
        if len(keep) == len(notes):
            existing = "; ".join(repr(n["description"][:60]) for n in notes[:5]) or "none"
            raise BacklogError("text", f"task {task['id']} has no annotation {text!r}",
                               f"pass the exact text of one of: {existing}")
        new = {**task, "modified": format_utc(now)}
        if keep:
            new["annotations"] = keep
        else:
            new.pop("annotations")
        tx.put(new)
    return scope.answer(f"removed the annotation from task {task['id']}", new, now)


def purge(scope: Scope, id: object) -> dict:
    """Remove a deleted task, its doc and references to it, for good (undoable until it leaves the window)."""
    now = scope.clock()
    with scope.transaction("purge", now) as tx:
        task = scope.resolve(id)
        if task["status"] != "deleted":
            raise BacklogError("id", f"task {task['id']} is {task['status']}, not deleted", ("delete it with ", Action("delete"), " first"))
        tx.remove(task["uuid"])
        if tx.doc_digest(task["uuid"]):
            tx.delete_doc(task["uuid"])
        for other in scope.store.tasks.values():
            if task["uuid"] in other.get("depends", ()):
                kept = [u for u in other["depends"] if u != task["uuid"]]
                tx.put({**{k: v for k, v in other.items() if k != "depends"}, **({"depends": kept} if kept else {})})
    return scope.answer(f"purged task {task['id']}", task, now)
