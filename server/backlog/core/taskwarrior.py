"""Conversion between Taskwarrior's `task export` JSON and our task dicts (pure).

Import honours what SPEC §4 task_import lists; Taskwarrior's `id`, `urgency`, `mask`,
`imask`, `modified`, `last` and `template` are bookkeeping we recompute and are ignored, as
is `rtype` when it is `periodic` (the only kind we have; export writes it back for every
recurring task). Any other key is a UDA (`model.is_uda`), kept as its JSON string or number,
or an error naming it. Project and tag names are read in Unicode NFC. Export writes
Taskwarrior 2.6's shape, UDAs unchanged, so `task import` takes it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone

from backlog.errors import BacklogError
from backlog.core.model import DATE_FIELDS, FIELD_SET, FIELDS, TASKWARRIOR_BOOKKEEPING, check_uda, format_utc, is_uda

IGNORED_KEYS = TASKWARRIOR_BOOKKEEPING - {"rtype"}
_IMPORT_KEYS = FIELD_SET - {"id", "modified", "has_doc"}
_TW_DATE = re.compile(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z")


def read_date(field: str, value: object) -> str:
    """A stored UTC date from Taskwarrior's `YYYYMMDDTHHMMSSZ` or any ISO-8601 form."""
    if not isinstance(value, str):
        raise BacklogError(field, f"expected a date string, got {value!r}", "use ISO-8601 or YYYYMMDDTHHMMSSZ")
    match = _TW_DATE.fullmatch(value)
    try:
        if match:
            moment = datetime(*map(int, match.groups()), tzinfo=timezone.utc)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
    except ValueError:
        raise BacklogError(field, f"cannot read date '{value}'", "use ISO-8601 or YYYYMMDDTHHMMSSZ") from None
    return format_utc(moment)


def _tw_date(stored: str) -> str:
    return stored.replace("-", "").replace(":", "")


def from_taskwarrior(raw: object, position: int = 0) -> dict:
    """Our task dict (no id, no modified) from one imported object; BacklogError on bad keys."""
    where = f"tasks[{position}]"
    if not isinstance(raw, dict):
        raise BacklogError(where, f"expected an object, got {type(raw).__name__}", "pass a JSON array of task objects")
    task: dict = {}
    for key, value in raw.items():
        if key in IGNORED_KEYS:
            continue
        if key == "rtype":
            if value != "periodic":
                raise BacklogError(f"{where}.rtype", f"'{value}' recurrence is not supported", "use periodic recurrence")
            continue
        if key not in _IMPORT_KEYS:
            if not is_uda(key):
                raise BacklogError(
                    f"{where}.{key}", "is not a task field",
                    "remove it; known keys: " + ", ".join(sorted(_IMPORT_KEYS | IGNORED_KEYS | {"rtype"}))
                    + "; UDA names match [a-z][a-z0-9_]*",
                )
            if value != "":
                try:
                    task[key] = check_uda(key, value)
                except BacklogError as err:
                    raise BacklogError(f"{where}.{key}", err.problem, err.fix) from None
            continue
        if value in (None, "", []):
            continue
        if key in DATE_FIELDS:
            value = read_date(f"{where}.{key}", value)
        elif key == "status" and value == "waiting":
            value = "pending"
        elif key == "depends" and isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        elif key == "tags" and isinstance(value, str):
            value = [unicodedata.normalize("NFC", part.strip()) for part in value.split(",") if part.strip()]
        elif key == "tags" and isinstance(value, list):
            value = [unicodedata.normalize("NFC", tag) if isinstance(tag, str) else tag for tag in value]
        elif key == "project" and isinstance(value, str):
            value = unicodedata.normalize("NFC", value)
        elif key == "annotations":
            value = [_annotation(where, note) for note in value] if isinstance(value, list) else value
        task[key] = value
    return task


def _annotation(where: str, note: object) -> dict:
    if not isinstance(note, dict) or "description" not in note:
        raise BacklogError(f"{where}.annotations", "each needs 'entry' and 'description'", "fix the annotation")
    entry = read_date(f"{where}.annotations.entry", note.get("entry", "19700101T000000Z"))
    return {"entry": entry, "description": note["description"]}


def to_taskwarrior(task: dict, urgency: float | None = None) -> dict:
    """Taskwarrior 2.6 export shape of one task (dates compact, `has_doc` dropped, UDAs as stored)."""
    out: dict = {}
    for key in FIELDS:
        if key not in task or key == "has_doc":
            continue
        value = task[key]
        if key in DATE_FIELDS:
            value = _tw_date(value)
        elif key == "annotations":
            value = [{"entry": _tw_date(n["entry"]), "description": n["description"]} for n in value]
        out[key] = value
    out.update((key, task[key]) for key in sorted(task.keys() - FIELD_SET))
    if "recur" in task:
        out["rtype"] = "periodic"
    if urgency is not None:
        out["urgency"] = urgency
    return out
