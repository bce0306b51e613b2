"""The use cases every entry point calls: each mutation is one store transaction.

`Backlog` is built by an entry point with the store, the time zone, a clock and who is
writing; every method takes plain parameters and returns the result object of SPEC §4,
or raises BacklogError (bad input, refused operation) / StoreError (the store itself).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime, timedelta, tzinfo
from collections.abc import Callable, Iterator

from backlog.engine import render
from backlog.core.edits import apply_edits, doc_tag_note, find_cycle, merge_params, parse_edits
from backlog.errors import BacklogError
from backlog.engine.exchange import ExchangeCases
from backlog.engine.search import SearchCases
from backlog.core.filter import compile_filter
from backlog.core.model import FAR_FUTURE, check_agent, check_task, format_utc, is_uda, is_uuid, new_uuid, sync_doc_tag
from backlog.core.recur import occurrence_on_or_after
from backlog.core.dates import start_of_day
from backlog.core.sort import parse_sort, sort_tasks
from backlog.store.store import Store, Transaction
from backlog.store.view import Context

_ID = re.compile(r"[0-9]{1,7}")
_UUID_PREFIX = re.compile(r"[0-9a-f-]+")
MAX_DOC_BYTES = 1 << 20
DEFAULT_LIMIT = 100


class Backlog(ExchangeCases, SearchCases):
    """One backlog as seen by one writer (agent) through one channel (mcp, cli, hook:<Event>)."""

    def __init__(self, store: Store, *, tz: tzinfo, clock: Callable[[], datetime],
                 agent: str = "user", channel: str = "mcp") -> None:
        self.store, self.tz, self.clock, self.agent, self.channel = store, tz, clock, agent, channel

    # -- plumbing --------------------------------------------------------------------
    def tool_name(self, op: str) -> str:
        if self.channel == "mcp":
            return "task_" + op
        return self.channel if self.channel.startswith("hook:") else f"{self.channel}:{op}"

    def context(self, now: datetime | None = None) -> Context:
        """A fresh view of the hot tasks for one call."""
        self.store.refresh()
        return Context(self.store.tasks, now or self.clock(), self.tz, self.store.archived_ids)

    @contextmanager
    def transaction(self, op: str, now: datetime, agent: str | None = None) -> Iterator[Transaction]:
        with self.store.transaction(at=format_utc(now), agent=agent or self.agent, tool=self.tool_name(op)) as tx:
            yield tx

    def resolve(self, ref: object, param: str = "id") -> dict:
        """The hot task an id parameter names: short id, full uuid or unique uuid prefix (≥ 8 hex)."""
        if isinstance(ref, int) and not isinstance(ref, bool):
            ref = str(ref)
        if not isinstance(ref, str):
            raise BacklogError(param, f"expected a task id, got {type(ref).__name__}", "pass a number like 12 or a uuid")
        fix = "list ids with task_list"
        if _ID.fullmatch(ref):
            uuid = self.store.ids.get(int(ref))
            if uuid is None:
                raise BacklogError(param, f"no task {ref}", fix)
            return self.store.tasks[uuid]
        if is_uuid(ref):
            if ref not in self.store.tasks:
                raise BacklogError(param, f"no task with uuid {ref}", fix)
            return self.store.tasks[ref]
        if _UUID_PREFIX.fullmatch(ref) and len(ref.replace("-", "")) >= 8:
            found = [t for u, t in self.store.tasks.items() if u.startswith(ref)]
            if len(found) == 1:
                return found[0]
            if not found:
                raise BacklogError(param, f"no task with uuid prefix {ref}", fix)
            ids = ", ".join(str(t["id"]) for t in sorted(found, key=lambda t: t["id"])[:5])
            raise BacklogError(param, f"uuid prefix {ref} matches tasks {ids}", "give more characters or the short id")
        raise BacklogError(param, f"'{ref}' is not a task id", "use a number like 12, a full uuid or a uuid prefix of 8+ hex digits")

    def _resolve_dep(self, tx: Transaction) -> Callable[[str], str]:
        def resolve(ref: str) -> str:
            if is_uuid(ref) and tx.get(ref) is not None:
                return ref
            return self.resolve(ref, "depends")["uuid"]
        return resolve

    def _edits(self, params: dict, extra: str | None, now: datetime, tx: Transaction) -> dict:
        ctx = Context(self.store.tasks, now, self.tz)
        return parse_edits(merge_params(params, extra, lambda: ctx.udas), now, self.tz, self._resolve_dep(tx),
                           lambda: ctx.udas)

    def _check_depends(self, task: dict, tx: Transaction) -> None:
        if task.get("depends"):
            cycle = find_cycle(task["uuid"], lambda u: (tx.get(u) or {}).get("depends", []))
            if cycle:
                ids = " -> ".join(str((tx.get(u) or {}).get("id", u)) for u in cycle)
                raise BacklogError("depends", f"would create a cycle {ids}", "remove one of these dependencies")

    def _answer(self, message: str, task: dict, now: datetime) -> dict:
        return {"message": message, "task": render.brief(task, self.context(now))}

    # -- queries -------------------------------------------------------------------------
    def select(self, filter: str, ctx: Context) -> list[dict]:
        return compile_filter(filter or "", ctx.now, self.tz, udas=lambda: ctx.udas).select(ctx)

    def list(self, filter: str = "", sort: str | None = None, limit: int | None = DEFAULT_LIMIT,
             fields: str | None = None) -> dict:
        ctx = self.context()
        shown = render.parse_fields(fields, lambda: ctx.udas)
        keys = parse_sort(sort)
        if limit is None:
            limit = DEFAULT_LIMIT
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise BacklogError("limit", f"'{limit}' is not a count", "use a whole number ≥ 1, or 0 for all")
        found = self.select(filter, ctx)
        chosen = sort_tasks(found, keys, ctx, limit or None)
        return {"tasks": render.rows(chosen, ctx, shown), "total": len(found),
                "truncated": len(chosen) < len(found)}

    def udas(self) -> dict[str, str]:
        """UDA name → `number` or `text`, for the UDAs some hot task has."""
        return dict(self.context().udas)

    def count(self, filter: str = "") -> dict:
        return {"count": len(self.select(filter, self.context()))}

    def info(self, id: object) -> dict:
        ctx = self.context()
        task = self.resolve(id)
        return {"task": render.details(task, ctx, self.store.doc_size(task["uuid"]))}

    def _names(self, field: str) -> dict:
        self.store.refresh()
        counts: dict[str, int] = {}
        for task in self.store.tasks.values():
            if task["status"] in ("pending", "recurring"):
                value = task.get(field)
                for name in value if isinstance(value, list) else [value] if value else []:
                    counts[name] = counts.get(name, 0) + (task["status"] == "pending")
        return {"items": [{"name": n, "pending": counts[n]} for n in sorted(counts)]}

    def projects(self) -> dict:
        return self._names("project")

    def tags(self) -> dict:
        return self._names("tags")

    def history(self, id: object) -> dict:
        self.store.refresh()
        uuid = self.resolve(id)["uuid"]
        return {"entries": [render.history_entry(rec, uuid) for rec in self.store.history(uuid)]}

    def doc_read(self, id: object) -> dict:
        self.store.refresh()
        task = self.resolve(id)
        content = self.store.doc(task["uuid"])
        if content is None:
            raise BacklogError("id", f"task {task['id']} has no doc", "write one with task_doc_write")
        return {"content": content}

    # -- creating --------------------------------------------------------------------------
    def add(self, description: str, *, extra: str | None = None, origin: str | None = None,
            annotation: str | None = None, **params: str | None) -> dict:
        """Create a pending task (a template plus its first instance when `recur` is given).

        With `origin`, an existing task of that origin is returned unchanged (idempotent hooks).
        A non-blank `annotation` becomes the task's first note, in the same transaction.
        """
        now = self.clock()
        with self.transaction("add", now) as tx:
            if origin:
                same = next((t for t in self.store.tasks.values() if t.get("origin") == origin), None)
                if same:
                    return self._answer(f"task {same['id']} already exists for {origin}", same, now)
            edits = self._edits({"description": description, **params}, extra, now, tx)
            task = self._new_task(tx, now, edits, status="pending")
            if origin:
                task["origin"] = origin
            if isinstance(annotation, str) and annotation.strip():
                task["annotations"] = [{"entry": format_utc(now), "description": annotation.strip()}]
            message = f"added task {task['id']}"
            if "recur" in task:
                task["status"] = "recurring"
                if "due" not in task:
                    raise BacklogError("recur", "needs a due date, the first occurrence", "add due, e.g. due:'friday'")
                first = self._next_instance(task, None, now, tx)
                message = f"added recurring template {task['id']}" + (
                    f"; first instance is task {first['id']}" if first else "; no instance before 'until'")
            self._store_new(task, tx)
        return self._answer(message + doc_tag_note(edits), task, now)

    def log(self, description: str, *, extra: str | None = None, **params: str | None) -> dict:
        """Record a task that is already done."""
        now = self.clock()
        with self.transaction("log", now) as tx:
            edits = self._edits({"description": description, **params}, extra, now, tx)
            if "recur" in edits:
                raise BacklogError("recur", "cannot be used with task_log", "use task_add for recurring tasks")
            task = self._new_task(tx, now, edits, status="completed")
            task["end"] = format_utc(now)
            self._store_new(task, tx)
        return self._answer(f"logged task {task['id']}" + doc_tag_note(edits), task, now)

    def duplicate(self, id: object, *, extra: str | None = None, **params: str | None) -> dict:
        """Copy a task as a new pending one, owner (agent) included; no start, end, parent,
        recurrence, doc or annotations, and the message names the doc and notes left behind."""
        now = self.clock()
        with self.transaction("duplicate", now) as tx:
            source = self.resolve(id)
            base = {k: v for k, v in source.items() if k in (
                "description", "project", "tags", "priority", "due", "wait", "scheduled", "until", "depends", "agent")}
            edits = self._edits(params, extra, now, tx)
            if "recur" in edits:
                raise BacklogError("recur", "cannot be set on a duplicate", "use task_add with recur")
            task = apply_edits(self._new_task(tx, now, {k: v for k, v in base.items() if v}, status="pending"), edits)
            self._store_new(task, tx)
        notes = len(source.get("annotations", ()))
        left = ["the doc"] * bool(source.get("has_doc")) + [f"{notes} annotation{'s' * (notes != 1)}"] * bool(notes)
        message = f"duplicated task {source['id']} as task {task['id']}" + (
            f" (not copied: {', '.join(left)})" if left else "")
        return self._answer(message + doc_tag_note(edits), task, now)

    def _new_task(self, tx: Transaction, now: datetime, edits: dict, status: str) -> dict:
        stamp = format_utc(now)
        base = {"uuid": new_uuid(), "id": tx.new_id(), "status": status, "entry": stamp, "modified": stamp}
        return apply_edits(base, edits)

    def _store_new(self, task: dict, tx: Transaction) -> None:
        check_task(task)
        tx.put(task)
        self._check_depends(task, tx)

    def _next_instance(self, template: dict, after_due: str | None, now: datetime, tx: Transaction) -> dict | None:
        """Create the template's next pending instance: no back-fill, none past `until`."""
        anchor = datetime.fromisoformat(template["due"].replace("Z", "+00:00"))
        today = start_of_day(now, self.tz)
        earliest = max(anchor, today)
        if after_due:
            earliest = max(earliest, datetime.fromisoformat(after_due.replace("Z", "+00:00")) + timedelta(seconds=1))
        due = format_utc(occurrence_on_or_after(anchor, template["recur"], earliest, self.tz))
        if due > template.get("until", FAR_FUTURE) or any(
                t.get("parent") == template["uuid"] and (tx.get(u) or {}).get("status") == "pending"
                for u, t in self.store.tasks.items()):
            return None
        instance = {k: template[k] for k in ("description", "project", "tags", "priority", "agent") if k in template}
        instance.update((k, v) for k, v in template.items() if is_uda(k))
        stamp = format_utc(now)
        instance.update(uuid=new_uuid(), id=tx.new_id(), status="pending", entry=stamp, modified=stamp,
                        due=due, parent=template["uuid"])
        instance = sync_doc_tag(instance)  # the template's doc stays with the template
        tx.put(check_task(instance))
        return instance

    # -- changing --------------------------------------------------------------------------
    def modify(self, filter: str, *, extra: str | None = None, **params: str | None) -> dict:
        """Apply the same changes to every matching task, all or nothing."""
        if not isinstance(filter, str) or not filter.strip():
            raise BacklogError("filter", "is blank", "name the tasks to change, e.g. '12' or 'project:web +bug'")
        now = self.clock()
        with self.transaction("modify", now) as tx:
            ctx = Context(self.store.tasks, now, self.tz)
            targets = compile_filter(filter, now, self.tz, udas=lambda: ctx.udas).select(ctx)
            if not targets:
                raise BacklogError("filter", f"no task matches '{filter}'", "check it with task_list")
            edits = self._edits(params, extra, now, tx)
            if not edits:
                raise BacklogError("extra", "no change given", "pass a field such as priority, or extra like '+bug due:friday'")
            changed = []
            for task in sorted(targets, key=lambda t: t["id"]):
                if "recur" in edits and task["status"] != "recurring":
                    raise BacklogError("recur", f"task {task['id']} is not a recurrence template",
                                       "create recurring tasks with task_add and recur")
                new = apply_edits(task, edits)
                if new != task:
                    new["modified"] = format_utc(now)
                    tx.put(check_task(new))
                    changed.append(new)
            for task in changed:
                self._check_depends(task, tx)
        ids = [t["id"] for t in changed]
        message = f"modified {len(ids)} task{'s' * (len(ids) != 1)}" + (
            f" ({len(targets) - len(ids)} already matched)" if len(ids) < len(targets) else "") + doc_tag_note(edits)
        return {"message": message, "ids": ids}

    def done(self, id: object) -> dict:
        return self._finish(id, "completed", "done")

    def delete(self, id: object) -> dict:
        return self._finish(id, "deleted", "delete")

    def _finish(self, id: object, status: str, op: str) -> dict:
        now = self.clock()
        with self.transaction(op, now) as tx:
            task = self.resolve(id)
            if task["status"] == status or (status == "completed" and task["status"] == "deleted"):
                raise BacklogError("id", f"task {task['id']} is already {task['status']}",
                                   "nothing to do; task_undo reverts the last change if it was a mistake")
            new, message = self._close(task, status, now, tx)
        return self._answer(message, new, now)

    def _close(self, task: dict, status: str, now: datetime, tx: Transaction) -> tuple[dict, str]:
        """Complete or delete `task`; a recurrence instance gets its successor."""
        new = {**task, "status": status, "end": format_utc(now), "modified": format_utc(now)}
        new.pop("start", None)
        tx.put(new)
        message = f"{'completed' if status == 'completed' else 'deleted'} task {task['id']}"
        template = tx.get(task["parent"]) if "parent" in task else None
        if template and template["status"] == "recurring":
            nxt = self._next_instance(template, task.get("due"), now, tx)
            if nxt:
                message += f"; next instance is task {nxt['id']}, due {nxt['due']}"
        return new, message

    def start(self, id: object) -> dict:
        now = self.clock()
        with self.transaction("start", now) as tx:
            task = self.resolve(id)
            if task["status"] != "pending":
                raise BacklogError("id", f"task {task['id']} is {task['status']}", "only pending tasks can be started")
            if "start" in task:
                return self._answer(f"task {task['id']} is already active since {task['start']}; no change", task, now)
            new = {**task, "start": format_utc(now), "modified": format_utc(now)}
            tx.put(new)
        return self._answer(f"started task {task['id']}", new, now)

    def stop(self, id: object) -> dict:
        now = self.clock()
        with self.transaction("stop", now) as tx:
            task = self.resolve(id)
            if "start" not in task:
                raise BacklogError("id", f"task {task['id']} is not active", "start it with task_start first")
            new = {k: v for k, v in task.items() if k != "start"}
            new["modified"] = format_utc(now)
            tx.put(new)
        return self._answer(f"stopped task {task['id']}", new, now)

    def claim(self, agent: str, id: object = None, filter: str | None = None) -> dict:
        """Atomically give `agent` a READY task (that one, or the most urgent free match) and start it."""
        if not isinstance(agent, str) or not agent.strip():
            raise BacklogError("agent", "is missing", "pass your agent name, e.g. 'claude'")
        agent = check_agent(agent.strip())
        now = self.clock()
        with self.transaction("claim", now, agent=agent) as tx:
            ctx = Context(self.store.tasks, now, self.tz)
            if id is not None:
                task = self.resolve(id)
                holder = task.get("agent")
                if holder and holder != agent:
                    raise BacklogError("id", f"task {task['id']} is held by {holder}", "claim another task or ask that agent")
                if holder == agent and "start" in task:
                    return self._answer(f"task {task['id']} is already claimed by {agent}; no change", task, now)
                if not ctx.is_ready(task):
                    raise BacklogError("id", f"task {task['id']} is not ready: {self._why_not_ready(task, ctx)}",
                                       "claim a +READY task instead")
            else:
                found = compile_filter(filter or "", now, self.tz, udas=lambda: ctx.udas).select(ctx)
                free = [t for t in found if "agent" not in t and ctx.is_ready(t)]
                if not free:
                    raise BacklogError("filter", f"nothing to claim: no READY task without an agent matches '{filter or ''}'",
                                       "widen the filter, or list tasks with task_list filter '+READY'")
                task = sort_tasks(free, parse_sort(None), ctx, 1)[0]
            new = {**task, "agent": agent, "start": format_utc(now), "modified": format_utc(now)}
            tx.put(new)
        return self._answer(f"task {task['id']} claimed by {agent}", new, now)

    def _why_not_ready(self, task: dict, ctx: Context) -> str:
        if task["status"] != "pending":
            return f"it is {task['status']}"
        if ctx.is_waiting(task):
            return f"it waits until {task['wait']}"
        if ctx.is_blocked(task):
            ids = [dep["id"] for dep in ctx.blockers(task)]
            return "it depends on unfinished task" + "s" * (len(ids) > 1) + " " + ", ".join(map(str, ids))
        return f"it is scheduled for {task.get('scheduled')}"

    def annotate(self, id: object, text: str) -> dict:
        if not isinstance(text, str) or not text.strip():
            raise BacklogError("text", "is empty", "give the note to add")
        now = self.clock()
        with self.transaction("annotate", now) as tx:
            task = self.resolve(id)
            note = {"entry": format_utc(now), "description": text.strip()}
            new = {**task, "annotations": [*task.get("annotations", ()), note], "modified": format_utc(now)}
            tx.put(new)
        return self._answer(f"annotated task {task['id']}", new, now)

    def denotate(self, id: object, text: str) -> dict:
        now = self.clock()
        with self.transaction("denotate", now) as tx:
            task = self.resolve(id)
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
        return self._answer(f"removed the annotation from task {task['id']}", new, now)

    def undo(self) -> dict:
        now = self.clock()
        rec = self.store.undo(at=format_utc(now), agent=self.agent, tool=self.tool_name("undo"))
        if rec is None:
            raise BacklogError("undo", "nothing to undo",
                               f"every change in the undo window (the last {self.store.undo_depth}) is already undone")
        ids = sorted({(op["n"] or op["o"])["id"] for op in rec["ops"] if op["k"][0] in "ta" and (op["n"] or op["o"])})
        what = f"task{'s' * (len(ids) != 1)} {', '.join(map(str, ids))}" if ids else "no tasks"
        return {"message": f"undid {rec['tool']} by {rec['agent']} at {rec['at']} ({what})", "ids": ids}

    def purge(self, id: object) -> dict:
        """Remove a deleted task, its doc and references to it, for good (undoable until it leaves the window)."""
        now = self.clock()
        with self.transaction("purge", now) as tx:
            task = self.resolve(id)
            if task["status"] != "deleted":
                raise BacklogError("id", f"task {task['id']} is {task['status']}, not deleted", "delete it with task_delete first")
            tx.remove(task["uuid"])
            if tx.doc_digest(task["uuid"]):
                tx.delete_doc(task["uuid"])
            for other in self.store.tasks.values():
                if task["uuid"] in other.get("depends", ()):
                    kept = [u for u in other["depends"] if u != task["uuid"]]
                    tx.put({**{k: v for k, v in other.items() if k != "depends"}, **({"depends": kept} if kept else {})})
        return {"message": f"purged task {task['id']}", "task": render.brief(task, self.context(now))}

    # -- docs --------------------------------------------------------------------------------
    def doc_write(self, id: object, content: str) -> dict:
        if not isinstance(content, str) or not content.strip():
            raise BacklogError("content", "is empty", "pass the markdown to attach; task_doc_delete removes a doc")
        size = len(content.encode())
        if size > MAX_DOC_BYTES:
            raise BacklogError("content", f"is {size} bytes, the limit is {MAX_DOC_BYTES} (1 MiB)", "shorten it or split it over tasks")
        now = self.clock()
        with self.transaction("doc_write", now) as tx:
            task = self.resolve(id)
            tx.write_doc(task["uuid"], content)
            new = sync_doc_tag({**task, "has_doc": True, "modified": format_utc(now)})
            tx.put(new)
        return self._answer(f"wrote the doc of task {task['id']} ({size} bytes)", new, now)

    def doc_delete(self, id: object) -> dict:
        now = self.clock()
        with self.transaction("doc_delete", now) as tx:
            task = self.resolve(id)
            if not tx.doc_digest(task["uuid"]):
                raise BacklogError("id", f"task {task['id']} has no doc", "nothing to delete")
            tx.delete_doc(task["uuid"])
            new = sync_doc_tag({**{k: v for k, v in task.items() if k != "has_doc"}, "modified": format_utc(now)})
            tx.put(new)
        return self._answer(f"deleted the doc of task {task['id']}", new, now)

    # -- Claude Code's own task list (hooks) ----------------------------------------------
    def assign(self, agent: str, everything: bool = False) -> list[dict]:
        """Give `agent` the most urgent READY unassigned task (or every unassigned pending one)."""
        agent = check_agent(agent)
        now = self.clock()
        with self.transaction("assign", now, agent=agent) as tx:
            ctx = Context(self.store.tasks, now, self.tz)
            free = [t for t in self.store.tasks.values()
                    if t["status"] == "pending" and "agent" not in t and (everything or ctx.is_ready(t))]
            chosen = sort_tasks(free, parse_sort(None), ctx, None if everything else 1)
            assigned = [{**t, "agent": agent, "modified": format_utc(now)} for t in chosen]
            for task in assigned:
                tx.put(task)
        return assigned

    def complete_external(self, origin: str, subject: str) -> dict | None:
        """Complete the task mirrored from Claude's list: by origin, else the one pending task titled `subject`."""
        now = self.clock()
        with self.transaction("done", now) as tx:
            mirrored = [t for t in self.store.tasks.values() if origin and t.get("origin") == origin]
            title = subject.strip() if isinstance(subject, str) else ""
            found = [t for t in mirrored or self.store.tasks.values() if t["status"] == "pending"
                     and (mirrored or (title and t["description"] == title))]
            if len(found) != 1:
                return None
            task, _ = self._close(found[0], "completed", now, tx)
        return task
