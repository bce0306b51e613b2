"""Sorting task lists (SPEC §4 task_list `sort`): `due+,priority-`, default `urgency-,id+`.

Every key becomes a number per task (numbers and urgency as they are, priority as its
rank H > M > L, text and dates as their rank among the values present), so one tuple per
task compares in C; the task's position ends each tuple, which keeps the sort stable.
Absent values sort last in both directions. With a small `limit` only the top is found
(heapq). Text compares case-insensitively (ties by exact text); dates as stored strings.
"""

from __future__ import annotations

import heapq
from itertools import compress
from collections.abc import Sequence

from backlog.errors import BacklogError
from backlog.core.model import FIELDS, PRIORITY_RANK

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: hooks start fast
if TYPE_CHECKING:
    from backlog.store.view import Context

DEFAULT_SORT = "urgency-,id+"
SORT_FIELDS = ("id", "urgency", *(f for f in FIELDS if f not in ("id", "annotations", "depends")))
_ABSENT = float("inf")


def parse_sort(text: str | None) -> list[tuple[str, bool]]:
    """`[(field, descending), …]` of a list like `due+,priority-`; BacklogError('sort', …) on unknown fields."""
    if text is None or not text.strip():
        text = DEFAULT_SORT
    keys = []
    for part in text.split(","):
        item = part.strip()
        if not item:
            continue
        descending = item.endswith("-")
        name = item[:-1].strip() if item[-1] in "+-" else item
        if name in FIELDS and name not in SORT_FIELDS:
            raise BacklogError("sort", f"cannot sort by '{name}'", f"use one of {', '.join(SORT_FIELDS)}")
        if name not in SORT_FIELDS:
            import difflib  # only for a mistake: most processes never need it

            close = difflib.get_close_matches(name, SORT_FIELDS, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise BacklogError("sort", f"unknown field '{name}'", f"{hint}use one of {', '.join(SORT_FIELDS)}")
        keys.append((name, descending))
    return keys


def _column(tasks: Sequence[dict], name: str, descending: bool, ctx: Context) -> list[float]:
    """One sortable number per task for key `name` (smaller first; absent = +inf)."""
    sign = -1 if descending else 1
    if name == "urgency":
        return [sign * u for u in ctx.urgencies(tasks)]
    if name == "id":
        return [sign * t["id"] if "id" in t else _ABSENT for t in tasks]
    if name == "priority":
        return [sign * PRIORITY_RANK[t["priority"]] if "priority" in t else _ABSENT for t in tasks]
    if name == "has_doc":
        return [sign * 1 if t.get("has_doc") else _ABSENT for t in tasks]
    values = [_text(t.get(name)) for t in tasks]
    order = sorted({v for v in values if v is not None})
    rank = {v: i for i, v in enumerate(order)}
    return [_ABSENT if v is None else sign * rank[v] for v in values]


def _text(value: object) -> tuple[str, str] | None:
    if value is None or value == "" or value == []:
        return None
    text = ",".join(value) if isinstance(value, list) else str(value)
    return (text.lower(), text)


def _candidates(tasks: list[dict], keys: list[tuple[str, bool]], ctx: Context, limit: int,
                bounds: Sequence[float] | None) -> list[dict]:
    """The tasks that can reach the first `limit` places; all of them unless a cheap bound helps.

    For `urgency-` first: `bounds`, else the view, gives an upper bound of each task's urgency
    (the view's cached per task by the store). Walking the tasks by bound, highest first, a
    chunk at a time, the exact urgencies seen set a floor (the `limit`-th highest); once the next bound is below
    it, no task left can pass it, and a task whose bound is below it cannot make the cut.
    A loose bound (due or age at their largest) scores a few hundred of 7k tasks, not 2k.
    """
    if keys[0] != ("urgency", True) or limit >= len(tasks):
        return tasks
    if bounds is None:
        bounds = ctx.urgency_bounds(tasks)
    order = sorted(range(len(tasks)), key=bounds.__getitem__, reverse=True)
    best: list[float] = []  # the `limit` highest exact urgencies so far (a min-heap)
    start, step = 0, max(limit, 64)
    while start < len(order) and not (len(best) == limit and bounds[order[start]] < best[0]):
        for value in ctx.urgencies([tasks[i] for i in order[start:start + step]]):
            if len(best) < limit:
                heapq.heappush(best, value)
            elif value > best[0]:
                heapq.heapreplace(best, value)
        start += step
    floor = best[0]
    return list(compress(tasks, map(floor.__le__, bounds)))


def sort_tasks(tasks: list[dict], keys: list[tuple[str, bool]], ctx: Context, limit: int | None = None,
               bounds: Sequence[float] | None = None) -> list[dict]:
    """`tasks` ordered by `keys` (stable; absent values last); only the first `limit` when given (0 = all).
    `bounds`: an upper bound of each task's urgency now, when the caller has tighter ones than the view's."""
    if not tasks or not keys:
        return list(tasks[:limit] if limit else tasks)
    if limit:
        tasks = _candidates(tasks, keys, ctx, limit, bounds)
    first = _column(tasks, *keys[0], ctx)
    if limit and limit < len(tasks):
        # Only tasks at or above the limit-th best first key can make the cut.
        cut = heapq.nsmallest(limit, first)[-1]
        picked = [i for i, value in enumerate(first) if value <= cut]
        tasks, first = [tasks[i] for i in picked], [first[i] for i in picked]
    columns = [first, *(_column(tasks, name, descending, ctx) for name, descending in keys[1:])]
    rows = sorted(zip(*columns, range(len(tasks))))
    return [tasks[row[-1]] for row in rows[:limit or None]]
