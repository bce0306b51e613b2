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

from backlog.core.limits import MAX_IMPORT_TASKS, check_instant
from backlog.errors import BacklogError
from backlog.core.model import (
    DATE_FIELDS, FIELD_SET, FIELDS, TASKWARRIOR_BOOKKEEPING, TEXT_FIELDS, check_uda, format_utc, is_uda,
)

IGNORED_KEYS = TASKWARRIOR_BOOKKEEPING - {"rtype"}
LIVE_KEYS = frozenset({"lease"})  # who may work on a task now: never exported, dropped on import
_IMPORT_KEYS = FIELD_SET - {"id", "modified", "has_doc"} - LIVE_KEYS
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
        moment = moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise BacklogError(field, f"cannot read date '{value[:40]}'", "use ISO-8601 or YYYYMMDDTHHMMSSZ") from None
    return format_utc(check_instant(field, moment, value[:40]))


def _check_type(field: str, key: str, value: object) -> None:
    """BacklogError unless `value` has the JSON type Taskwarrior export gives `key`."""
    if key in TEXT_FIELDS or key in ("uuid", "parent"):
        if not isinstance(value, str):
            raise BacklogError(field, f"expected a string, got {_json_type(value)}", "pass text")
    elif key in ("tags", "depends"):
        if not isinstance(value, (str, list)) or (isinstance(value, list) and not all(isinstance(x, str) for x in value)):
            raise BacklogError(field, f"expected an array of strings, got {_json_type(value)}", 'use ["a","b"] or "a,b"')
    elif key == "annotations" and not isinstance(value, list):
        raise BacklogError(field, f"expected an array of annotations, got {_json_type(value)}",
                           'use [{"entry": "…", "description": "…"}]')


def _json_type(value: object) -> str:
    """The JSON name of a decoded value's type."""
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array",
             dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _tw_date(stored: str) -> str:
    return stored.replace("-", "").replace(":", "")


def from_taskwarrior(raw: object, position: int = 0) -> dict:
    """Our task dict (no id, no modified) from the `position`-th imported object; BacklogError on bad keys or types.

    A position past MAX_IMPORT_TASKS (core.limits) is refused: the batch is too large.
    """
    if position >= MAX_IMPORT_TASKS:
        raise BacklogError("tasks", f"holds more than {MAX_IMPORT_TASKS:,} tasks",
                           f"import them in batches of at most {MAX_IMPORT_TASKS:,}")
    where = f"tasks[{position}]"
    if not isinstance(raw, dict):
        raise BacklogError(where, f"expected an object, got {type(raw).__name__}", "pass a JSON array of task objects")
    task: dict = {}
    for key, value in raw.items():
        if key in IGNORED_KEYS or key in LIVE_KEYS:
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
        if value is None or value == "" or value == []:
            continue
        _check_type(f"{where}.{key}", key, value)
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
            value = [_annotation(where, note) for note in value]
        task[key] = value
    return task


def _annotation(where: str, note: object) -> dict:
    text = note.get("description") if isinstance(note, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise BacklogError(f"{where}.annotations", "each needs 'entry' and a 'description' string", "fix the annotation")
    entry = read_date(f"{where}.annotations.entry", note.get("entry", "19700101T000000Z"))
    return {"entry": entry, "description": note["description"]}


def to_taskwarrior(task: dict, urgency: float | None = None) -> dict:
    """Taskwarrior 2.6 export shape of one task (dates compact, `has_doc` and the lease dropped, UDAs as stored)."""
    out: dict = {}
    for key in FIELDS:
        if key not in task or key == "has_doc" or key in LIVE_KEYS:
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
