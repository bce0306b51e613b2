"""Taskwarrior-compatible import and export."""

from __future__ import annotations

from backlog.errors import BacklogError
from backlog.core.filter import compile_filter
from backlog.core.model import DOC_TAG, check_description, check_task, format_utc, is_uuid, new_uuid, sync_doc_tag
from backlog.core.recur import check_period
from backlog.core.taskwarrior import from_taskwarrior, to_taskwarrior
from backlog.core.urgency import urgency

from backlog.engine.scope import Scope

def read_json_tasks(text: object) -> list:
    """A JSON array, a single object, or one object per line (`task export` with json.array=off)."""
    if not isinstance(text, str) or not text.strip():
        raise BacklogError("tasks", "is empty", "pass a JSON array of task objects")
    import orjson  # here: every CLI command imports this module, few import tasks

    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as err:
        try:
            data = [orjson.loads(line) for line in text.splitlines() if line.strip()]
        except orjson.JSONDecodeError:
            raise BacklogError("tasks", f"is not valid JSON ({err})", "pass a JSON array of task objects") from None
    return data if isinstance(data, list) else [data]


def archived_twin(scope: Scope, uuid: str, where: str) -> BacklogError:
    """The refusal for importing the uuid of an archived task: uuids are unique across hot store and archive."""
    segment = next(name for name in scope.store.segments() if uuid in scope.store.segment(name))
    return BacklogError(f"{where}.uuid", f"archived task {scope.store.archived_ids()[uuid]} already has uuid {uuid}",
                        f"see it with task_archive_load(segment='{segment}'), or leave the uuid out to import a copy")


def import_tasks(scope: Scope, tasks: str) -> dict:
    """Add or verify a batch of tasks atomically; re-importing identical tasks changes nothing."""
    raws = read_json_tasks(tasks)
    now = scope.clock()
    stamp = format_utc(now)
    with scope.transaction("import", now) as tx:
        batch: dict[str, dict] = {}
        dropped: set[str] = set()  # uuids that came with a tag doc but have no doc
        for n, raw in enumerate(raws):
            task = from_taskwarrior(raw, n)
            where = f"tasks[{n}]"
            uuid = task.setdefault("uuid", new_uuid())
            if not isinstance(uuid, str) or not is_uuid(uuid):
                raise BacklogError(f"{where}.uuid", f"'{uuid}' is not a UUID", "use a lower-case UUID or leave it out")
            if uuid in batch:
                raise BacklogError(f"{where}.uuid", f"{uuid} appears twice in the batch", "import each task once")
            if "description" not in task:
                raise BacklogError(f"{where}.description", "is missing or empty", "give every task a short description")
            task["description"] = check_description(task["description"], f"{where}.description")
            task.setdefault("status", "pending")
            had_entry = "entry" in task
            task.setdefault("entry", stamp)
            if task["status"] in ("completed", "deleted"):
                task.setdefault("end", task["entry"])
            if "recur" in task:
                task["recur"] = check_period(task["recur"])
            existing = scope.store.tasks.get(uuid)
            if existing is None and uuid in scope.store.archived_ids():
                raise archived_twin(scope, uuid, where)
            if isinstance(task.get("tags"), list) and DOC_TAG in task["tags"] and not (existing or {}).get("has_doc"):
                task = sync_doc_tag(task)
                dropped.add(uuid)
            elif existing is not None and existing.get("has_doc"):
                task["has_doc"] = True  # its doc stays; the export it came from leaves has_doc out
            if existing is not None:
                ignore = {"id", "modified"} | (set() if had_entry else {"entry"})
                differ = sorted(k for k in set(existing) | set(task)
                                if k not in ignore and existing.get(k) != task.get(k))
                if differ:
                    raise BacklogError(f"{where}.uuid", f"task {existing['id']} has this uuid with other {', '.join(differ)}",
                                       "remove it from the batch or modify the task instead")
                continue
            task["id"], task["modified"] = tx.new_id(), stamp
            batch[uuid] = task
        for n, task in enumerate(batch.values()):
            for dep in task.get("depends", ()):
                if dep not in batch and dep not in scope.store.tasks:
                    raise BacklogError(f"tasks[{n}].depends", f"no task with uuid {dep}", "import it in the same batch or drop it")
            try:
                tx.put(check_task(task))
            except BacklogError as err:
                raise BacklogError(f"tasks[{n}].{err.param}", err.problem, err.fix) from None
        scope.check_depends(batch.values(), tx)
    ids = [t["id"] for t in batch.values()]
    skipped = len(raws) - len(ids)
    untagged = [t["id"] for u, t in batch.items() if u in dropped]
    return {"message": f"imported {len(ids)} task{'s' * (len(ids) != 1)}" + (f", {skipped} already present" if skipped else "")
            + (f"; dropped tag doc from task{'s' * (len(untagged) != 1)} {', '.join(map(str, untagged))}"
               " (task_doc_write adds it with a doc)" if untagged else ""),
            "ids": ids}


def export(scope: Scope, filter: str = "") -> list[dict]:
    """Taskwarrior-compatible JSON objects of the matching tasks (all statuses by default)."""
    ctx = scope.context()
    found = compile_filter(filter or "", ctx.now, scope.tz, default_status=False, udas=lambda: ctx.udas).select(ctx)
    return [to_taskwarrior(t, round(urgency(t, ctx), 4)) for t in sorted(found, key=lambda t: t["id"])]
