"""Shaping tasks for output: compact rows, full details, history entries (no store access)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import repeat

from backlog.errors import BacklogError
from backlog.store.view import ROWS_KEPT, Context
from backlog.core.model import COMPACT_FIELDS, FIELD_SET, FIELDS
from backlog.core.urgency import urgency

OUTPUT_FIELDS = FIELDS + ("urgency",)
_BOOKKEEPING = ("uuid", "modified")


def parse_fields(text: str | None, udas: Callable[[], Iterable[str]] = tuple) -> tuple[str, ...]:
    """The `fields` parameter: a comma list of task fields, `urgency`, UDAs tasks have, or `all` (all of them)."""
    if text is None or not text.strip():
        return COMPACT_FIELDS
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return OUTPUT_FIELDS + tuple(udas())
    known = OUTPUT_FIELDS if set(names) <= set(OUTPUT_FIELDS) else OUTPUT_FIELDS + tuple(udas())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise BacklogError("fields", f"unknown field '{unknown[0]}'", "use 'all' or any of " + ", ".join(known))
    return tuple(dict.fromkeys(names))


def dependency_ids(uuids: Iterable[str], ctx: Context) -> tuple[list[int], list[int]]:
    """Short ids of the tasks among `uuids` (hot or archived; purged ones have none), and of the archived ones.

    The archive is looked up only for a uuid missing from the hot store.
    """
    ids, archived = [], []
    for uuid in uuids:
        task = ctx.tasks.get(uuid)
        if task is not None:
            ids.append(task["id"])
        elif uuid in ctx.archived_ids:
            ids.append(ctx.archived_ids[uuid])
            archived.append(ctx.archived_ids[uuid])
    return ids, archived


def rows(tasks: Iterable[dict], ctx: Context, fields: tuple[str, ...] = COMPACT_FIELDS) -> list[dict]:
    """Each task restricted to `fields`, empty ones left out; urgency to 1 decimal; depends as ids,
    with `archived` beside it listing the dependencies that are archived.

    The plain fields of a hot task's row are made once per task version and kept by the store
    (`Context.made_rows`, at most ROWS_KEPT per set of fields: memory over speed for the biggest
    lists); depends (ids can move to the archive) and urgency (time) are added fresh.
    """
    tasks = list(tasks)
    plain = tuple(f for f in fields if f not in ("depends", "urgency"))
    scores = map(round, ctx.urgencies(tasks), repeat(1)) if "urgency" in fields else repeat(None)
    with_depends = "depends" in fields
    made, hot = ctx.made_rows(plain), ctx.tasks
    out = []
    for task, score in zip(tasks, scores):
        kept = made.get(task["uuid"]) if made is not None else None
        if kept is not None and kept[0] is task:
            shown = kept[1]
        else:
            shown = {name: task[name] for name in plain if name in task}
            if made is not None and hot.get(task["uuid"]) is task and (kept is not None or len(made) < ROWS_KEPT):
                made[task["uuid"]] = (task, shown)
        if with_depends and "depends" in task:
            shown = shown.copy()
            ids, archived = dependency_ids(task["depends"], ctx)
            if ids:
                shown["depends"] = ids
            if archived:
                shown["archived"] = archived
            if score is not None:
                shown["urgency"] = score
        else:
            shown = shown.copy() if score is None else {**shown, "urgency": score}
        out.append(shown)
    return out


def row(task: dict, ctx: Context, fields: tuple[str, ...] = COMPACT_FIELDS) -> dict:
    """`rows` of one task."""
    return rows([task], ctx, fields)[0]


def brief(task: dict, ctx: Context) -> dict:
    """What a single-task mutation answers with: the compact row plus the uuid."""
    out = row(task, ctx)
    out["uuid"] = task["uuid"]
    return out


def details(task: dict, ctx: Context, doc_size: int | None) -> dict:
    """Every field and UDA of one task plus urgency, blocking/blocked-by and archived dependency ids, doc size."""
    out = {name: task[name] for name in FIELDS if name in task}
    out.update((name, task[name]) for name in sorted(task.keys() - FIELD_SET))
    if "depends" in task:
        out["depends"], archived = dependency_ids(task["depends"], ctx)
        if archived:
            out["archived"] = archived
        blocked_by = [dep["id"] for dep in ctx.blockers(task)]
        if blocked_by:
            out["blocked_by"] = blocked_by
    blocking = sorted(t["id"] for t in ctx.pending_dependents(task["uuid"])) if task["uuid"] in ctx.blocking_uuids else []
    if blocking and task["status"] not in ("completed", "deleted"):
        out["blocking"] = blocking
    out["urgency"] = round(urgency(task, ctx), 4)
    if doc_size is not None:
        out["doc_size"] = doc_size
    return out


def history_entry(record: dict, uuid: str) -> dict:
    """One history entry: who, when, through what, and each changed field as [old, new]."""
    changes: dict = {}
    archived = any(op["k"][0] == "a" for op in record["ops"])
    for op in record["ops"]:
        kind, _, rest = op["k"].partition(":")
        old, new = op["o"], op["n"]
        if kind == "d":
            changes["doc"] = [old and old[:12], new and new[:12]]
        elif kind == "a":
            segment = rest.split(":")[0]
            changes["archive"] = [None if old is None else segment, None if new is None else segment]
        elif not archived:
            old, new = old or {}, new or {}
            for name in FIELDS + tuple(sorted((old.keys() | new.keys()) - FIELD_SET)):
                if name not in _BOOKKEEPING and old.get(name) != new.get(name):
                    changes[name] = [old.get(name), new.get(name)]
            if not op["n"]:
                changes["purged"] = [False, True]
    entry = {"at": record["at"], "agent": record["agent"], "tool": record["tool"], "changes": changes}
    if "undoes" in record:
        entry["undoes"] = record["undoes"]
    return entry


def activity_entry(record: dict) -> dict:
    """One change by anyone: who, when, through what, and per task its id, description and changed fields."""
    tasks: dict[str, dict] = {}
    for op in record["ops"]:
        kind, _, uuid = op["k"].partition(":")
        task = op["n"] or op["o"]
        if kind == "t" and task:
            old, new = op["o"] or {}, op["n"] or {}
            fields = sorted(n for n in old.keys() | new.keys() if n not in _BOOKKEEPING and old.get(n) != new.get(n))
            shown = tasks.setdefault(uuid, {"uuid": uuid, "fields": []})
            shown.update(id=task["id"], description=task.get("description", ""))
            shown["fields"] = sorted(set(shown["fields"]) | set(
                fields if op["o"] and op["n"] else ["added" if op["n"] else "purged"]))
        elif kind == "d":
            shown = tasks.setdefault(uuid, {"uuid": uuid, "fields": []})
            shown["fields"] = sorted(set(shown["fields"]) | {"doc"})
    entry = {"at": record["at"], "agent": record["agent"], "tool": record["tool"], "tasks": list(tasks.values())}
    if "undoes" in record:
        entry["undoes"] = record["undoes"]
    return entry
