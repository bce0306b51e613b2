"""The one definition of every virtual tag (SPEC §6), as Python expressions over a task `t`.

The filter compiler inlines these expressions into generated code, urgency builds its loop
from them, and the store's evaluation view (`backlog.store.view.Context`) runs the same text
compiled once (`TAG_TESTS`): one definition for all. Each expression reads per-call values
(`now_s`, `blocking_uuids`, …) that `PRELUDE` binds from the view `c`. Stored dates are UTC
strings that compare correctly as strings; absent dates use the sentinels `''` (below every
date) and `'~'` (above every date).
"""

from __future__ import annotations

from types import MappingProxyType
from collections.abc import Callable, Iterator, Mapping

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: hooks start fast
if TYPE_CHECKING:
    from backlog.store.view import Context

DUE_DAYS = 7  # Taskwarrior's rc.due
_OPEN = "t['status'] == 'pending'"
PENDING_AND = _OPEN + " and "  # the prefix of every pending-only tag (urgency strips it)
_NOT_DONE = "t['status'] not in ('completed', 'deleted')"
_WAITING = "'wait' in t and t['wait'] > now_s"
_BLOCKED = "'depends' in t and any_open(t['depends'])"


def _window(name: str) -> str:
    return f"{_NOT_DONE} and {name}_lo <= t.get('due', '') < {name}_hi"


# Virtual tag → Python expression over task `t` and the per-call names of `PRELUDE`.
VIRTUAL: Mapping[str, str] = MappingProxyType({
    "PENDING": "t['status'] == 'pending'",
    "COMPLETED": "t['status'] == 'completed'",
    "DELETED": "t['status'] == 'deleted'",
    "RECURRING": "t['status'] == 'recurring'",
    "WAITING": f"{_OPEN} and {_WAITING}",
    "ACTIVE": f"{_OPEN} and 'start' in t",
    "BLOCKED": f"{_OPEN} and {_BLOCKED}",
    "UNBLOCKED": f"not ({_OPEN} and {_BLOCKED})",
    "BLOCKING": f"t['uuid'] in blocking_uuids and {_NOT_DONE}",
    "READY": f"{_OPEN} and not ({_WAITING}) and not ({_BLOCKED}) and t.get('scheduled', '') <= now_s",
    "OVERDUE": f"{_OPEN} and t.get('due', '~') < now_s",
    "DUE": f"{_NOT_DONE} and today_lo <= t.get('due', '') < due_hi",
    "TODAY": _window("today"),
    "TOMORROW": _window("tomorrow"),
    "YESTERDAY": _window("yesterday"),
    "WEEK": _window("week"),
    "MONTH": _window("month"),
    "QUARTER": _window("quarter"),
    "YEAR": _window("year"),
    "SCHEDULED": "'scheduled' in t",
    "UNTIL": "'until' in t",
    "PROJECT": "'project' in t",
    "PRIORITY": "'priority' in t",
    "TAGGED": "bool(t.get('tags'))",
    "ANNOTATED": "bool(t.get('annotations'))",
    "DOC": "t.get('has_doc') is True",
    "CLAIMED": f"{_OPEN} and t.get('lease', {{}}).get('expires', '') > now_s",
    "TEMPLATE": "t['status'] == 'recurring'",
    "PARENT": "t['status'] == 'recurring'",
    "INSTANCE": "'parent' in t",
    "CHILD": "'parent' in t",
    "LATEST": "t.get('id') == max_id",
})

# Virtual tags that name a status: a filter using one gets no implicit `status:pending`.
STATUS_TAGS = frozenset({"PENDING", "COMPLETED", "DELETED", "RECURRING", "WAITING", "TEMPLATE", "PARENT"})

_WINDOWS = ("today", "tomorrow", "yesterday", "week", "month", "quarter", "year")
# Per-call name → the statement that binds it from Context `c` in generated code.
PRELUDE: Mapping[str, str] = MappingProxyType({
    "now_s": "now_s = c.now_s",
    "due_hi": "due_hi = c.due_hi",
    "any_open": "any_open = c.any_open",
    "blocking_uuids": "blocking_uuids = c.blocking_uuids",
    "max_id": "max_id = c.max_id",
    **{f"{w}_lo": f"{w}_lo, {w}_hi = c.windows[{w!r}]" for w in _WINDOWS},
})


def needs(source: str) -> list[str]:
    """The prelude statements that generated `source` depends on, in a stable order."""
    lines = []
    for name, line in PRELUDE.items():
        if name in source and line not in lines:
            lines.append(line)
    return lines


class _TagTests(Mapping):
    """VIRTUAL's expressions as functions `(task, ctx) → bool`, all compiled in one pass when the
    first is asked for: a process that only filters (the filter inlines the expressions) never
    compiles them, and one `compile` of 30 definitions costs less than 30."""

    def __init__(self) -> None:
        self._tests: dict[str, Callable[[dict, Context], bool]] | None = None

    def _all(self) -> dict[str, Callable[[dict, Context], bool]]:
        if self._tests is None:
            source = "".join(f"def has_{name}(t, c):\n" + "".join(f"    {line}\n" for line in needs(expr))
                             + f"    return bool({expr})\n" for name, expr in VIRTUAL.items())
            namespace: dict = {}
            exec(compile(source, "<virtual>", "exec"), namespace)  # noqa: S102 - our own text
            self._tests = {name: namespace[f"has_{name}"] for name in VIRTUAL}
        return self._tests

    def __getitem__(self, name: str) -> Callable[[dict, Context], bool]:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(VIRTUAL)

    def __len__(self) -> int:
        return len(VIRTUAL)


TAG_TESTS: Mapping[str, Callable[[dict, Context], bool]] = _TagTests()
