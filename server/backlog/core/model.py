"""The task: field names, value rules and their one-line errors, in one place.

A task is a plain dict shaped exactly like its JSON form (SPEC §3): absent fields are
missing keys, never None; datetimes are UTC strings `YYYY-MM-DDTHH:MM:SSZ`, which sort
and compare correctly as strings; `depends` and `parent` hold uuids; Taskwarrior UDAs are
more flat keys (`jira`, `estimate`), as in `task export`, holding a string or a number.
Keeping tasks as dicts makes loading a 10k-task store one `orjson.loads` and filtering a
dict lookup.
"""

from __future__ import annotations

import math
import os
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timezone

from backlog.core.limits import EARLIEST_STAMP, LATEST_STAMP
from backlog.core.patterns import Pattern
from backlog.errors import Action, BacklogError

STATUSES = ("pending", "completed", "deleted", "recurring")
PRIORITIES = ("H", "M", "L")
PRIORITY_RANK = {"H": 3, "M": 2, "L": 1}  # for sorting and priority.before/after
DATE_FIELDS = ("entry", "modified", "start", "end", "due", "wait", "scheduled", "until")
LIST_FIELDS = ("tags", "depends", "annotations")
TEXT_FIELDS = ("description", "project", "priority", "recur", "agent", "origin", "status")

# Every stored field, in output order.
FIELDS = (
    "id", "uuid", "description", "status", "project", "tags", "priority",
    "due", "scheduled", "wait", "until", "recur", "start", "end", "entry", "modified",
    "agent", "lease", "depends", "parent", "annotations", "has_doc", "origin",
)
# The default field set of list output (SPEC §4 task_list).
COMPACT_FIELDS = (
    "id", "description", "status", "project", "tags", "priority", "due", "scheduled",
    "wait", "start", "agent", "depends", "has_doc", "urgency",
)
# Fields a caller may set directly on add/modify.
SETTABLE_FIELDS = (
    "description", "project", "tags", "priority", "due", "depends", "wait", "scheduled",
    "recur", "until", "agent",
)

FIELD_SET = frozenset(FIELDS)
# Taskwarrior 2.6 export keys that are bookkeeping, not task data (`task _columns`).
TASKWARRIOR_BOOKKEEPING = frozenset({"id", "urgency", "mask", "imask", "modified", "rtype", "last", "template"})
# Names that can never be UDAs: our fields, Taskwarrior's bookkeeping, what output computes.
RESERVED_NAMES = FIELD_SET | TASKWARRIOR_BOOKKEEPING | {"doc", "blocked_by", "blocking", "doc_size", "archived"}
MAX_UDA_NUMBER = 2**53  # a double's exact integers: what Taskwarrior's numeric UDAs hold

VIRTUAL_TAGS = frozenset(
    """PENDING COMPLETED DELETED RECURRING WAITING ACTIVE BLOCKED UNBLOCKED BLOCKING READY
    OVERDUE DUE TODAY TOMORROW YESTERDAY WEEK MONTH QUARTER YEAR SCHEDULED UNTIL PROJECT
    PRIORITY TAGGED ANNOTATED DOC CLAIMED TEMPLATE INSTANCE PARENT CHILD LATEST""".split()
)

# The derived tag: present exactly when the task has a doc (has_doc); never set by hand.
DOC_TAG = "doc"

MAX_DESCRIPTION = 500
MAX_ID = 9_999_999
FAR_FUTURE = LATEST_STAMP  # `later`

_PROJECT = Pattern(r"[A-Za-z0-9_.-]+")
_TAG = Pattern(r"[A-Za-z0-9_.:-]+")
AGENT_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:@/#-")
LEASE_KINDS = ("assigned", "claimed")
_UDA = Pattern(r"[a-z][a-z0-9_]*")
_NUMBER = Pattern(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
UUID_SHAPE = "ffffffff-ffff-ffff-ffff-ffffffffffff"
STORED_DATE_SHAPE = "9999-99-99T99:99:99Z"
_DIGITS, _HEX = frozenset("0123456789"), frozenset("0123456789abcdef")
UUID_CHARS = _HEX | {"-"}
_SHAPE_CHARS = {"f": _HEX, "9": _DIGITS}


def new_uuid() -> str:
    """A fresh random UUID v4 in canonical lower-case form, as `str(uuid.uuid4())` makes it
    (16 bytes of os.urandom, version and variant bits set) without the uuid module, whose
    import (platform …) costs a writing process ~4 ms."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def format_utc(moment: datetime) -> str:
    """`2026-11-24T10:14:53Z` for an aware datetime (seconds, UTC)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str) -> datetime:
    """The aware UTC datetime of a stored date string (`YYYY-MM-DDTHH:MM:SSZ`); ValueError otherwise.

    Through `fromisoformat` on the checked shape: `strptime` costs ~10 ms at its first call
    (it imports `_strptime`, `calendar` and `locale`), a tenth of a CLI command's budget.
    """
    if not has_shape(text, STORED_DATE_SHAPE):
        raise ValueError(f"'{text}' is not YYYY-MM-DDTHH:MM:SSZ")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=timezone.utc)


def is_uuid(text: str) -> bool:
    return has_shape(text, UUID_SHAPE)


def is_short_id(text: str) -> bool:
    """True for `1`…`9999999` as typed: 1 to 7 ASCII digits (`[0-9]{1,7}`)."""
    return 0 < len(text) <= 7 and _DIGITS.issuperset(text)


def is_uuid_prefix(text: str) -> bool:
    """True for 8 lowercase hex digits and up to 28 more of hex and `-` (`[0-9a-f]{8}[0-9a-f-]{0,28}`)."""
    return 8 <= len(text) <= 36 and _HEX.issuperset(text[:8]) and UUID_CHARS.issuperset(text[8:])


def has_shape(text: str, shape: str) -> bool:
    """True when `text` is as long as `shape` and has, where `shape` has `9`, an ASCII digit, where
    `f` a lowercase hex digit, and elsewhere `shape`'s own character (no regular expression: hooks
    check uuids and dates without importing `re`)."""
    return len(text) == len(shape) and all(
        ch in _SHAPE_CHARS[want] if want in _SHAPE_CHARS else ch == want for ch, want in zip(text, shape))


def sync_doc_tag(task: dict) -> dict:
    """`task` (a new dict when it changes) with tag `doc` present exactly when has_doc is."""
    tags = task.get("tags", ())
    if (DOC_TAG in tags) == (task.get("has_doc") is True):
        return task
    kept = [t for t in tags if t != DOC_TAG] + ([DOC_TAG] if task.get("has_doc") is True else [])
    new = {k: v for k, v in task.items() if k != "tags"}
    if kept:
        new["tags"] = kept
    return new


def is_uda(key: str) -> bool:
    """True when `key` names a UDA: `[a-z][a-z0-9_]*` and none of RESERVED_NAMES."""
    return key not in RESERVED_NAMES and _UDA.fullmatch(key) is not None


def check_uda(key: str, value: object) -> str | int | float:
    """A UDA value: non-empty text or a finite number; BacklogError naming `key` otherwise."""
    if isinstance(value, str):
        if not value:
            raise BacklogError(key, "is empty", f"leave {key} out to clear it")
        return check_text(value, key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BacklogError(key, f"a UDA holds text or a number, got {type(value).__name__}",
                           "use a JSON string or number")
    if not (math.isfinite(value) and abs(value) <= MAX_UDA_NUMBER):
        raise BacklogError(key, f"a UDA number must be finite, within ±2**53, got {value}", "use a smaller number")
    return value


def read_number(text: str) -> int | float | None:
    """The number `text` spells (`4`, `-0.5`, `1e3`; an int when it has no point or exponent), else None."""
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        return None
    return int(text) if text.lstrip("+-").isdigit() else float(text)


def uda_kinds(tasks: Iterable[dict]) -> dict[str, str]:
    """UDA name → `number` when every task that has it holds a number, else `text`."""
    tasks = list(tasks)
    names = set().union(*tasks) - RESERVED_NAMES  # stored tasks hold only fields and UDAs
    return {name: "number" if all(isinstance(t[name], (int, float)) for t in tasks if name in t) else "text"
            for name in sorted(names)}


def check_text(value: str, field: str) -> str:
    """`value`, when every character in it can be stored: a lone surrogate (a byte that was not
    UTF-8, kept by the OS as U+DC80–U+DCFF, or half of a surrogate pair) is not a character."""
    try:
        value.encode()
    except UnicodeEncodeError as err:
        raise BacklogError(field, f"holds U+{ord(value[err.start]):04X} at character {err.start + 1}, which is not a "
                                  "character (a byte that was not UTF-8, or half of a surrogate pair)",
                           "send the text as UTF-8") from None
    return value


def check_description(value: object, field: str = "description") -> str:
    """The trimmed description; raises BacklogError when empty, too long or not text."""
    if not isinstance(value, str):
        raise BacklogError(field, f"expected text, got {type(value).__name__}", "pass a string")
    text = check_text(value, field).strip()
    if not text:
        raise BacklogError(field, "is empty", "give a short summary of the task")
    if len(text) > MAX_DESCRIPTION:
        raise BacklogError(
            field, f"is {len(text)} chars, the limit is {MAX_DESCRIPTION}",
            ("shorten it and put the details in the doc (", Action("doc_write"), ")"),
        )
    return text


def _is_name(value: str, ascii_name: Pattern, punctuation: str) -> bool:
    """True for letters, combining marks and digits of any script, plus `punctuation`."""
    if value.isascii():
        return ascii_name.fullmatch(value) is not None
    return bool(value) and all(ch in punctuation or unicodedata.category(ch)[0] in "LMN" for ch in value)


def is_tag_name(value: str) -> bool:
    """True when `value` (NFC) may be a tag: letters and digits of any script and `_ . : -`."""
    return _is_name(value, _TAG, "_.:-")


def check_project(value: str) -> str:
    """The project name in NFC; BacklogError unless letters and digits of any script and `_ - .`."""
    value = unicodedata.normalize("NFC", value)
    if not _is_name(value, _PROJECT, "_.-") or value.startswith(".") or value.endswith("."):
        raise BacklogError(
            "project", f"'{value}' is not a valid project name",
            "use letters and digits (any script), '_', '-' and '.' for sub-projects, e.g. 'web.ui'",
        )
    return value


def check_tag(value: str) -> str:
    """The tag in NFC; BacklogError unless letters and digits of any script and `_ . : -`."""
    value = unicodedata.normalize("NFC", value)
    if not is_tag_name(value):
        raise BacklogError(
            "tags", f"'{value}' is not a valid tag",
            "use letters and digits (any script) and '_', '.', ':', '-', e.g. 'bug' or 'area:api'",
        )
    if value.isupper() and value in VIRTUAL_TAGS:
        raise BacklogError(
            "tags", f"'{value}' is a reserved virtual tag",
            f"use another name, e.g. '{value.lower()}'",
        )
    return value


def check_priority(value: str) -> str:
    upper = value.upper()
    if upper not in PRIORITIES:
        raise BacklogError("priority", f"'{value}' is not a priority", "use H, M or L ('' clears it)")
    return upper


def check_agent(value: str) -> str:
    if not value or not AGENT_CHARS.issuperset(value):
        raise BacklogError(
            "agent", f"'{value}' is not a valid agent name",
            "use letters, digits and '_', '.', ':', '@', '/', '#', '-', e.g. 'backlog:task-worker#a1b2c3'",
        )
    return value


def check_lease(lease: object) -> dict:
    """A task's lease `{holder, kind, expires}` (+ `by`, `session`, `took_over`), as stored."""
    if (not isinstance(lease, dict) or not isinstance(lease.get("holder"), str)
            or lease.get("kind") not in LEASE_KINDS or not isinstance(lease.get("expires"), str)):
        raise BacklogError("lease", f"'{lease}' is not a lease",
                           "use {holder, kind: assigned|claimed, expires}; task_claim sets it")
    check_agent(lease["holder"])
    check_stored_date("lease", lease["expires"])
    return lease


def check_status(value: str) -> str:
    if value not in STATUSES:
        raise BacklogError("status", f"'{value}' is not a status", "use " + ", ".join(STATUSES))
    return value


def check_stored_date(field: str, value: object) -> str:
    """`value` when it is a real UTC date within the storable range (core.limits)."""
    if not isinstance(value, str) or not has_shape(value, STORED_DATE_SHAPE):
        raise BacklogError(field, f"'{value}' is not a UTC date", "use YYYY-MM-DDTHH:MM:SSZ")
    try:
        parse_utc(value)
    except ValueError:
        raise BacklogError(field, f"'{value}' is not a UTC date", "use YYYY-MM-DDTHH:MM:SSZ") from None
    if not EARLIEST_STAMP <= value <= LATEST_STAMP:
        raise BacklogError(field, f"'{value}' is out of range", f"use a date from {EARLIEST_STAMP} to {LATEST_STAMP}")
    return value


def check_task(task: dict) -> dict:
    """Raise BacklogError naming the first field of `task` that breaks SPEC §3; else return it."""
    for name in sorted(task.keys() - FIELD_SET):
        if not is_uda(name):
            raise BacklogError(name, "is not a task field",
                               "use one of " + ", ".join(FIELDS) + ", or a UDA name like 'jira' ([a-z][a-z0-9_]*)")
        check_uda(name, task[name])
    if not is_uuid(task.get("uuid", "")):
        raise BacklogError("uuid", f"'{task.get('uuid')}' is not a UUID", "use a UUID v4")
    task_id = task.get("id")
    if task_id is not None and (type(task_id) is not int or not 1 <= task_id <= MAX_ID):
        raise BacklogError("id", f"'{task_id}' is not a short id", "ids are integers from 1")
    if check_description(task.get("description")) != task["description"]:
        raise BacklogError("description", "has leading or trailing blanks", "trim it")
    check_status(task.get("status", ""))
    for field in DATE_FIELDS:
        if field in task:
            check_stored_date(field, task[field])
    if "project" in task and check_project(task["project"]) != task["project"]:
        raise BacklogError("project", "is not in Unicode NFC form", "store the NFC form of the name")
    if "priority" in task and task["priority"] not in PRIORITIES:
        check_priority(str(task["priority"]))
        raise BacklogError("priority", "must be upper-case", "use H, M or L")
    if "agent" in task:
        check_agent(task["agent"])
    if "lease" in task:
        check_lease(task["lease"])
    tags = task.get("tags", [])
    if not isinstance(tags, list) or len(set(tags)) != len(tags):
        raise BacklogError("tags", "must be a list of unique tags", "remove the repeated tag")
    for tag in tags:
        if check_tag(tag) != tag:
            raise BacklogError("tags", f"'{tag}' is not in Unicode NFC form", "store the NFC form of the name")
    if (DOC_TAG in tags) != (task.get("has_doc") is True):
        raise BacklogError("tags", "'doc' is there exactly when the task has a doc", ("attach one with ", Action("doc_write")))
    for dep in task.get("depends", []):
        if not is_uuid(dep) or dep == task["uuid"]:
            raise BacklogError("depends", f"'{dep}' is not another task's uuid", "depend on other tasks only")
    for note in task.get("annotations", []):
        if set(note) != {"entry", "description"} or not str(note["description"]).strip():
            raise BacklogError("annotations", "each needs 'entry' and non-empty 'description'", "fix the annotation")
        check_stored_date("annotations", note["entry"])
    if "has_doc" in task and task["has_doc"] is not True:
        raise BacklogError("has_doc", "is only stored when true", "omit it")
    if "parent" in task and not is_uuid(task["parent"]):
        raise BacklogError("parent", f"'{task['parent']}' is not a UUID", "use the template's uuid")
    return task
